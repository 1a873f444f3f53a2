#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vchan throughput on the emulated host, one way, stdin to a ring to stdout,
# side by side at 64 KiB, 256 KiB and 1 MiB rings:
#
#   xenchan   head -c BYTES /dev/zero | xenchan-cat -T vchan   (dom0, client)
#             ring -> xenchan-cat -l -T vchan --buffer-size RING | wc -c (guest)
#   raw       the same with tests/bench/vchan-raw send / recv: a plain loop on
#             libxenvchan through a 64 KiB buffer on each side
#   ceiling   head -c BYTES /dev/zero | cat | wc -c: the pipes alone
#
# Each figure is the median of BENCH_RUNS (default 5).  Before the timed runs,
# 16 MiB of random bytes cross each ring through xenchan and are compared
# (sha256) at the guest: the figures are of a transfer that is byte-exact.
# Usage: tests/bench/vchan.sh [BYTES]   (default 256 MiB)
# Writes BENCH_OUT/vchan.dat (ring KiB, MiB/s of each) and adds its ratios to
# BENCH_OUT/summary.tsv for tests/bench/summary.sh.
set -euo pipefail
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
raw=$top_builddir/tests/bench/vchan-raw
bytes=${1:-268435456}
runs=${BENCH_RUNS:-5}
out=${BENCH_OUT:-$top_builddir/tests/bench/out}
mkdir -p "$out"
dir=$(mktemp -d /tmp/xcb.XXXXXX)
trap '"$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$sim" start "$dir" >/dev/null
eval "$("$sim" env "$dir")"
g=$("$sim" create bench)
name=org.example.bench.0

now() { date +%s%N; }
mibs() { awk -v b="$bytes" -v ns="$1" 'BEGIN { printf "%.0f", b / (ns / 1e9) / 1048576 }'; }

# serve_xenchan RING FILE: the guest's server, its output counted into FILE.
serve_xenchan() {
	"$sim" exec -D "$g" -- sh -c "xenchan-cat -l -T vchan --buffer-size $1 -Q never 0 $name </dev/null | $2" &
	srv=$!
	until xenchan-ls -rn -o STATE -c "$name" bench 2>/dev/null | grep -qx published; do
		sleep 0.02
	done
}

# xenchan_run RING: nanoseconds from the first byte read to the guest's
# count of them; the count must be BYTES.
xenchan_run() {
	local t0 t1
	serve_xenchan "$1" "wc -c >'$dir/count'"
	t0=$(now)
	head -c "$bytes" /dev/zero | xenchan-cat -T vchan -Q 0 bench "$name" >/dev/null
	wait "$srv"
	t1=$(now)
	[ "$(cat "$dir/count")" -eq "$bytes" ] || { echo "vchan.sh: xenchan moved $(cat "$dir/count") of $bytes bytes" >&2; exit 1; }
	echo $((t1 - t0))
}

raw_run() {
	local path=/local/domain/$g/data/vchan/0/rawbench t0 t1
	"$sim" exec -D "$g" -- sh -c "'$raw' recv $path $1 | wc -c >'$dir/count'" &
	srv=$!
	until xenstore-exists "$path/event-channel" 2>/dev/null; do sleep 0.02; done
	t0=$(now)
	head -c "$bytes" /dev/zero | "$raw" send "$g" "$path"
	wait "$srv"
	t1=$(now)
	xenstore-rm "$path" 2>/dev/null || true
	[ "$(cat "$dir/count")" -eq "$bytes" ] || { echo "vchan.sh: raw moved $(cat "$dir/count") of $bytes bytes" >&2; exit 1; }
	echo $((t1 - t0))
}

ceiling_run() {
	local t0 t1 n
	t0=$(now)
	n=$(head -c "$bytes" /dev/zero | cat | wc -c)
	t1=$(now)
	[ "$n" -eq "$bytes" ] || exit 1
	echo $((t1 - t0))
}

# exact RING: random bytes through xenchan arrive unchanged.
exact() {
	head -c 16777216 /dev/urandom >"$dir/in"
	serve_xenchan "$1" "cat >'$dir/got'"
	xenchan-cat -T vchan -Q 0 bench "$name" <"$dir/in" >/dev/null
	wait "$srv"
	cmp -s "$dir/in" "$dir/got" || { echo "vchan.sh: ring $1: the bytes differ" >&2; exit 1; }
}

# median FUNCTION ARGS...: the median of $runs timings (on two cores the
# best of them is a lucky schedule more than a property of the program).
median() {
	local i
	for ((i = 0; i < runs; i++)); do
		"$@"
	done | sort -n | sed -n "$(((runs + 1) / 2))p"
}

: >"$out/vchan.dat"
printf '%-8s %12s %12s %12s %12s %14s\n' ring xenchan_MiB/s raw_MiB/s ceiling_MiB/s xenchan/raw xenchan/ceiling
for ring in 65536 262144 1048576; do
	exact "$ring"
	tx=$(median xenchan_run "$ring")
	tr=$(median raw_run "$ring")
	tc=$(median ceiling_run)
	vr=$(awk -v a="$tr" -v b="$tx" 'BEGIN { printf "%.2f", a / b }')
	vc=$(awk -v a="$tc" -v b="$tx" 'BEGIN { printf "%.2f", a / b }')
	printf '%-8s %12s %12s %12s %12s %14s\n' "$((ring / 1024))K" "$(mibs "$tx")" "$(mibs "$tr")" \
		"$(mibs "$tc")" "$vr" "$vc"
	printf '%s %s %s %s\n' "$((ring / 1024))" "$(mibs "$tx")" "$(mibs "$tr")" "$(mibs "$tc")" \
		>>"$out/vchan.dat"
	printf 'vchan %sK: xenchan / raw libxenvchan\t%s\t>= 1.3\n' "$((ring / 1024))" "$vr" >>"$out/summary.tsv"
	printf 'vchan %sK: xenchan / head|cat|wc\t%s\t>= 0.6\n' "$((ring / 1024))" "$vc" >>"$out/summary.tsv"
done
echo "$bytes bytes one way, median of $runs; byte-exact at each ring (16 MiB of random bytes compared)"
