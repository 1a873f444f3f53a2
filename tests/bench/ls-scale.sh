#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Listing at scale: xenchan-ls against `xenstore-ls -f /libxl` (what an admin
# runs today) on the same emulated store, 10, 100 and 1000 domains of four
# channels each.  Prints times, their ratio, and xenstore requests per channel;
# and the time of xenchan-ls --poll's first listing (--existing, ended by
# --count when every channel was printed) against the same baseline.
# Not a test: nothing is asserted.
#
# Usage: tests/bench/ls-scale.sh [N...]   (default: 10 100 1000)
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000)
runs=${BENCH_RUNS:-5}

# Median wall time of $runs runs of a command, in milliseconds.
median_ms() {
	local i t0 t1 times=()
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

# The installed Xen tools, as configure found them (make bench passes them).
XEN_BINDIR=${XEN_BINDIR:-$(sed -n 's/^XEN_BINDIR = //p' "$top_builddir/Makefile" 2>/dev/null)}
xsctl=$XEN_BINDIR/xenstore-control
if [ ! -x "$xsctl" ]; then
	echo "ls-scale.sh: $xsctl not found: configure the build tree first" >&2
	exit 2
fi

# xenstore requests a command makes, from xenstored's trace switched on
# only around it (tracing slows xenstored down), into a file of its own
# (grep over one trace of the whole run took minutes at 1000 domains); less
# those of switching it.  Between counts the trace goes to /dev/null.
count_in() {
	local f=$dir/count.trace n
	rm -f "$f"
	"$xsctl" logfile "$f" >/dev/null
	"$xsctl" log on >/dev/null
	"$@" >/dev/null
	"$xsctl" log off >/dev/null
	"$xsctl" logfile /dev/null >/dev/null
	n=$(grep -c '^IN ' "$f" || true)
	rm -f "$f"
	echo "$n"
}

requests() {
	echo $(($(count_in "$@") - $(count_in true)))
}

printf '%-8s %-9s %12s %14s %8s %14s %16s %8s %10s\n' domains channels xenchan-ls_ms \
	xenstore-ls_ms ratio requests/chan xenstore-ls_req poll_ms poll_ratio
for n in "${sizes[@]}"; do
	dir=$(mktemp -d /tmp/xcb.XXXXXX)
	XENCHAN_SIM_TRACE=1 "$sim" start "$dir" >/dev/null
	eval "$("$sim" env "$dir")"
	"$xsctl" log off >/dev/null
	"$xsctl" logfile /dev/null >/dev/null
	trap '"$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
	# Where the host's xl drops the first channel entry, the configs carry a
	# placeholder first (it becomes the primary console, not a channel).
	first=()
	if "$sim" status | grep -q '^first-channel: dropped'; then
		first=(--channel name=org.example.placeholder,connection=pty)
	fi
	for ((i = 1; i <= n; i++)); do
		"$sim" create --wait "${first[@]}" \
			--channel "name=org.example.a$i.0,connection=socket,path=$dir/a$i.sock" \
			--channel "name=org.example.b$i.0,connection=pty" \
			--channel "name=org.example.c$i.0,connection=socket,path=$dir/c$i.sock" \
			--channel "name=org.example.d$i.0,connection=pty" "bench$i" \
			>/dev/null 2>"$dir/create.err" || { cat "$dir/create.err" >&2; exit 1; }
	done
	chans=$((4 * n))
	rows=$(xenchan-ls -rn | wc -l)
	[ "$rows" -eq "$chans" ] || { echo "xenchan-ls listed $rows of $chans channels" >&2; exit 1; }
	req=$(requests xenchan-ls)
	xreq=$(requests xenstore-ls -f /libxl)
	t_ls=$(median_ms xenchan-ls)
	t_raw=$(median_ms xenstore-ls -f /libxl)
	t_poll=$(median_ms xenchan-ls --poll --existing --count "$chans")
	printf '%-8s %-9s %12s %14s %8s %14s %16s %8s %10s\n' "$n" "$chans" "$t_ls" "$t_raw" \
		"$(awk -v a="$t_ls" -v b="$t_raw" 'BEGIN { printf "%.2f", b ? a / b : 0 }')" \
		"$(awk -v r="$req" -v c="$chans" 'BEGIN { printf "%.1f", r / c }')" \
		"$xreq" "$t_poll" \
		"$(awk -v a="$t_poll" -v b="$t_raw" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
	if [ -n "${BENCH_OUT:-}" ]; then
		mkdir -p "$BENCH_OUT"
		printf 'ls %s domains: requests / (5 per channel + 3 per domain)\t%s\t<= 1\n' "$n" \
			"$(awk -v r="$req" -v c="$chans" -v d="$n" 'BEGIN { printf "%.2f", r / (5 * c + 3 * d) }')" \
			>>"$BENCH_OUT/summary.tsv"
		printf 'ls %s domains: time / xenstore-ls -f /libxl\t%s\t%s\n' "$n" \
			"$(awk -v a="$t_ls" -v b="$t_raw" 'BEGIN { printf "%.2f", b ? a / b : 0 }')" \
			"$([ "$n" -ge 1000 ] && echo '<= 0.25' || echo -)" >>"$BENCH_OUT/summary.tsv"
		printf 'ls --poll %s domains: first listing / xenstore-ls -f /libxl\t%s\t-\n' "$n" \
			"$(awk -v a="$t_poll" -v b="$t_raw" 'BEGIN { printf "%.2f", b ? a / b : 0 }')" \
			>>"$BENCH_OUT/summary.tsv"
	fi
	"$sim" stop "$dir" >/dev/null
	rm -rf "$dir"
	trap - EXIT
done
echo "ratio: xenchan-ls time / xenstore-ls -f /libxl time (median of $runs runs);"
echo "poll_ratio: the same for xenchan-ls --poll --existing --count CHANNELS."
