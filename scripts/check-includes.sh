#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The modules of lib/ include each other without a cycle.  A module is x.c
# with x.h, and x-internal.h, its private header for the modules that
# implement parts of it (stream-internal.h); module a depends on module b
# when one of a's files has '#include "b.h"'.  The graph goes through
# tsort(1), which names the modules of any cycle.  A TAP test: make check
# runs it with top_srcdir set.
#
#	scripts/check-includes.sh [DIR]	(default: $top_srcdir/lib)

set -u

# The module a file name ($1: x.c, x.h or x-internal.h) belongs to.
module() {
	m=${1%.?}
	echo "${m%-internal}"
}

# The edges "a b" of the modules in directory $1, one a line.
edges() {
	for f in "$1"/*.c "$1"/*.h; do
		[ -e "$f" ] || continue
		from=$(module "$(basename "$f")")
		# Every module is a node, even one with no edge.
		echo "$from $from"
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"/]*\.h\)".*/\1/p' "$f" |
			while read -r h; do
				# Only modules of this directory; a.c including a.h is no edge.
				to=$(module "$h")
				[ -e "$1/$h" ] && [ "$to" != "$from" ] && echo "$from $to"
			done
	done
}

# Succeeds when the modules of $1 have no cycle; otherwise prints the
# modules tsort names as TAP comments.
acyclic() {
	out=$(edges "$1" | tsort 2>&1 >/dev/null)
	status=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	[ "$status" -eq 0 ] && [ -z "$out" ]
}

dir=${1:-${top_srcdir:-$(dirname "$0")/..}/lib}
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

echo "1..3"

nmod=$(edges "$dir" | awk '{ print $1 }' | sort -u | wc -l)
[ "$nmod" -gt 0 ]
ok $? "$dir holds modules ($nmod)"

acyclic "$dir"
ok $? "no include cycle among the modules of $dir"

# The check itself finds a cycle, through a header and a source file.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf '#include "b.h"\n' >"$tmp/a.h"
printf '#include "a.h"\n#include "c.h"\n' >"$tmp/b.c"
printf '\n' >"$tmp/b.h"
printf '#include "a.h"\n' >"$tmp/c.h"
! acyclic "$tmp" >/dev/null
ok $? "a planted cycle a -> b -> a is found"

exit $failed
