#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-registry-check at scale: a registry of N names and N/10 xl configs of
# four channels each (one in ten names a typo, so the near-miss search runs),
# as the input doubles.  Prints wall time, peak memory (VmHWM, through
# /usr/bin/time when present, else GNU time's absence is said) and the growth
# ratio of each against the previous size; linear growth is a ratio near 2.
# Not a test: nothing is asserted.
#
# Usage: tests/bench/registry-scale.sh [N...]   (default: 1250 2500 5000 10000)
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
cmd=$top_builddir/cmd/xenchan-registry-check
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1250 2500 5000 10000)
[ -x "$cmd" ] || { echo "registry-scale.sh: $cmd not found: build first" >&2; exit 2; }

dir=$(mktemp -d /tmp/xcr.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# Peak resident memory in KiB of a command, from GNU time when installed.
peak_kib() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M' -o "$dir/mem" "$@" >/dev/null 2>&1 || true
		cat "$dir/mem"
	else
		"$@" >/dev/null 2>&1 || true
		echo "-"
	fi
}

printf '%-8s %-8s %-9s %10s %8s %10s %8s\n' names configs channels time_ms ratio peak_kib ratio
prev_t= prev_m=
for n in "${sizes[@]}"; do
	nc=$((n / 10))
	rm -rf "$dir/cfg" && mkdir "$dir/cfg"
	awk -v n="$n" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "N: org.example%d.agent.%d\nC: Ops <ops%d@example.org>\nD: agent %d\n\n", i, i % 7, i, i
	}' >"$dir/reg"
	awk -v nc="$nc" -v n="$n" -v d="$dir/cfg" 'BEGIN {
		for (c = 1; c <= nc; c++) {
			f = d "/dom" c ".cfg"
			printf "name = \"dom%d\"\nmemory = 512\nchannel = [ \"connection=pty, name=org.example.dummy\",\n", c > f
			for (k = 0; k < 4; k++) {
				i = (c * 4 + k) % n + 1
				name = sprintf("org.example%d.agent.%d", i, i % 7)
				if (k == 3 && c % 10 == 0)
					name = sprintf("org.exmaple%d.agent.%d", i, i % 7)
				printf "  \"connection=socket, name=%s, path=/run/x/%d-%d.sock\"%s\n", name, c, k, k < 3 ? "," : " ]" > f
			}
			close(f)
		}
	}'
	t0=$(date +%s%N)
	"$cmd" --no-default-registry -q -r "$dir/reg" "$dir"/cfg/*.cfg >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	t=$(((t1 - t0) / 1000000))
	m=$(peak_kib "$cmd" --no-default-registry -q -r "$dir/reg" "$dir"/cfg/*.cfg)
	rt=- rm_=-
	[ -n "$prev_t" ] && [ "$prev_t" -gt 0 ] && rt=$(awk -v a="$t" -v b="$prev_t" 'BEGIN { printf "%.2f", a / b }')
	[ -n "$prev_m" ] && [ "$m" != - ] && rm_=$(awk -v a="$m" -v b="$prev_m" 'BEGIN { printf "%.2f", a / b }')
	printf '%-8s %-8s %-9s %10s %8s %10s %8s\n' "$n" "$nc" $((nc * 5)) "$t" "$rt" "$m" "$rm_"
	prev_t=$t
	[ "$m" != - ] && prev_m=$m
done
