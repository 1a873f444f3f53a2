#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Throughput of xenchan-cat through an echo agent over a socket and a pty
# channel, against socat on the same emulated qemu endpoint (the socket, or the
# pty set raw), side by side as ratios; wall time, MB/s and CPU seconds per GiB
# of the copying process.  Not a test: nothing is asserted.
#
# Usage: tests/bench/throughput.sh [MIB]   (default: 16)
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
cat_=$top_builddir/cmd/xenchan-cat
mib=${1:-16}
bytes=$((mib * 1048576))

dir=$(env -u XENCHAN_SIM_DIR -u LD_PRELOAD timeout 30 "$sim" start)
trap 'timeout 30 "$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
eval "$("$sim" env "$dir")"
export XENCHAN_RUNDIR=$dir/run
# Where xl drops the first channel entry, a placeholder goes first.
first=()
if "$sim" status "$dir" | grep -q '^first-channel: dropped'; then
	first=(--channel name=org.example.dummy,connection=pty)
fi
timeout 30 "$sim" create --wait "${first[@]}" \
	--channel "name=org.example.echo.0,connection=socket,path=$dir/echo.sock" \
	--channel name=org.example.echop.0,connection=pty bench1 >/dev/null
tty=$(xenstore-read /local/domain/1/device/console/2/tty)
head -c "$bytes" /dev/urandom >"$dir/in"

# run NAME CMD...: CMD reads $dir/in and writes what comes back to $dir/out;
# prints "seconds cpu-seconds" (CPU of CMD and its children).
run() {
	local t0 t1 cpu label=$1
	shift
	t0=$(date +%s%N)
	cpu=$( { /usr/bin/time -f '%U %S' "$@" <"$dir/in" >"$dir/out"; } 2>&1 | tail -n 1)
	t1=$(date +%s%N)
	cmp -s "$dir/in" "$dir/out" || echo "warning: $label: data differ" >&2
	awk -v ns=$((t1 - t0)) -v cpu="$cpu" 'BEGIN { split(cpu, c, " ");
		printf "%.3f %.3f\n", ns / 1e9, c[1] + c[2] }'
}

# socat stops reading the channel 1 s after its input ends (-t 1); xenchan-cat
# after 1 s of silence (-Q 1s): the same tail on both sides.
row() {
	local name=$1 a b
	a=$(run "xenchan-cat $name" "$cat_" -Q 1s bench1 "$2")
	shift 2
	b=$(run "socat $name" timeout 600 socat -t 1 -b 65536 - "$@")
	awk -v n="$name" -v a="$a" -v b="$b" -v mb="$mib" 'BEGIN {
		split(a, x, " "); split(b, y, " ");
		printf "%-8s %10.2f %10.2f %8.2f %12.2f %12.2f\n", n, mb / x[1] * 1.048576,
			mb / y[1] * 1.048576, y[1] / x[1], x[2] * 1024 / mb, y[2] * 1024 / mb }'
}

echo "$mib MiB through an echo agent and back (1 s idle tail included)"
printf '%-8s %10s %10s %8s %12s %12s\n' transport 'cat MB/s' 'socat MB/s' ratio \
	'cat CPU s/GiB' 'socat CPU s/GiB'
row socket org.example.echo.0 "UNIX-CONNECT:$dir/echo.sock,shut-none"
row pty org.example.echop.0 "$tty,rawer"

# xenchan's own backend: the same echo through a channel hotplugged with
# --create (the guest's echo agent is the default); its baseline is qemu's
# socket path above, same guest, same run.
d=$(run "xenchan-cat direct" "$cat_" -Q 1s --create bench1 org.example.direct.0)
s=$(run "xenchan-cat socket" "$cat_" -Q 1s bench1 org.example.echo.0)
awk -v d="$d" -v s="$s" -v mb="$mib" 'BEGIN { split(d, x, " "); split(s, y, " ");
	printf "direct   %10.2f MB/s, %.2f CPU s/GiB; socket %.2f MB/s: direct/socket %.2f\n",
		mb / x[1] * 1.048576, x[2] * 1024 / mb, mb / y[1] * 1.048576, y[1] / x[1] }'
