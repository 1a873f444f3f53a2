#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vchan throughput on the emulated host, side by side: xenchan's vchan
# transport (lib/vchan.c, both ends) against the same echo written straight
# on libxenvchan with the same ring sizes (the library's ceiling), and against
# socat over a unix socket; a ring-size sweep.  An echo: every byte goes to
# the guest and back, so each direction carries BYTES.
# Usage: tests/bench/vchan.sh [BYTES]   (default 256 MiB)
set -euo pipefail
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
tv=$top_builddir/tests/unit/test-vchan
raw=$top_builddir/tests/bench/vchan-raw
bytes=${1:-268435456}
dir=$(mktemp -d /tmp/xcb.XXXXXX)
trap '"$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$sim" start "$dir" >/dev/null
eval "$("$sim" env "$dir")"
g=$("$sim" create bench)

rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1048576 }'; }

xenchan_run() {
	"$sim" exec -D "$g" -- "$tv" serve org.example.bench.0 "$1" &
	local s=$!
	until xenchan-ls -rn -o STATE -c org.example.bench.0 bench 2>/dev/null | grep -qx published; do
		sleep 0.05
	done
	"$tv" echo "$g" org.example.bench.0 "$bytes" nocheck | awk '{ print $3 }'
	wait "$s" || true
}

raw_run() {
	local path=/local/domain/$g/data/vchan/0/rawbench
	"$sim" exec -D "$g" -- "$raw" serve "$path" "$1" &
	local s=$!
	until xenstore-exists "$path/event-channel" 2>/dev/null; do sleep 0.05; done
	"$raw" echo "$g" "$path" "$bytes" | awk '{ print $3 }'
	wait "$s" || true
	xenstore-rm "$path" 2>/dev/null || true
}

socat_run() {
	rm -f "$dir/echo.sock"
	socat UNIX-LISTEN:"$dir/echo.sock" EXEC:cat &
	local s=$!
	until [ -S "$dir/echo.sock" ]; do sleep 0.05; done
	local t0 t1
	t0=$(date +%s%N)
	head -c "$bytes" /dev/zero | socat -b65536 - UNIX-CONNECT:"$dir/echo.sock" |
		head -c "$bytes" >/dev/null
	t1=$(date +%s%N)
	kill "$s" 2>/dev/null || true
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

printf '%-10s %14s %14s %8s\n' ring xenchan_MiB/s raw_MiB/s ratio
for ring in 65536 262144 1048576; do
	tx=$(xenchan_run "$ring")
	tr=$(raw_run "$ring")
	printf '%-10s %14s %14s %8s\n' "$ring" "$(rate "$tx")" "$(rate "$tr")" \
		"$(awk -v a="$tr" -v b="$tx" 'BEGIN { printf "%.2f", a / b }')"
done
ts=$(socat_run)
echo "socat over a unix socket (same echo): $(rate "$ts") MiB/s"
echo "ratio: xenchan / raw libxenvchan throughput, same ring sizes, $bytes bytes each way"
