#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Many channels at once: GUESTS guests with one channel each, and one
# xenchan-send of MIB MiB into each, all started together, over the direct
# transport (xenchan's own console backend: a channel hotplugged with
# --create) and over the socket transport (qemu's unix socket channel,
# served by the emulated qemu).  A sink agent in each guest consumes and
# counts what it got.  Per transport: one transfer alone (the baseline),
# then all at once: aggregate MB/s, CPU seconds per GiB, the spread of the
# sends' completion times (slowest / fastest), and whether every send exited
# 0 and every guest counted every byte.  Then all at once again with one
# more guest whose agent never reads: its send cannot complete and ends
# with --max-time (set past the time the others took without it); the
# others' MB/s and spread with it / without.  Not a test: nothing is
# asserted.
#
# CPU counted: "send" is the xenchan-send processes' user + system time
# (bash's `times` in the shell that ran each one), over the bytes they
# delivered; "guests", "qemu" and "hv+xs" are the emulated host's own
# processes over the same window (from /proc/PID/stat, in clock ticks): the
# guests' kernels and agents (xenchan-sim-guest, -hvc), the emulated qemu
# (one per guest), and the hypervisor daemon with xenstored.  A stalled
# run's figures stop when the last other send is done.  A socket send is
# done when qemu has taken every byte (its exit 0); the sinks' counts are
# checked after that.
#
# Sizes: a console ring is 1 KiB, with an event per batch between user-space
# processes of the emulator, and the host moves a few MB/s through all of
# its rings together, whatever the number of guests: 64 guests of 16 MiB
# (1 GiB per run) would take about half an hour on two cores.  Hence a
# default of 1 MiB per guest: the whole script then takes about five
# minutes on two cores, plain or sanitizer build.
#
# The spread is one lucky or unlucky send among 64 on a host of some 200
# busy processes: from run to run it went from 1.2 to 12.9 (one send done
# in 2 s, the others in 16 to 25).  So all at once runs BENCH_RUNS times
# (default 3), and the figures are the medians.
#
# Usage: tests/bench/many.sh [GUESTS] [MIB] [TRANSPORT...]
#        (defaults: 64, 1, direct socket)
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
send=$top_builddir/cmd/xenchan-send
guests=${1:-64}
mib=${2:-1}
transports=("${@:3}")
[ ${#transports[@]} -gt 0 ] || transports=(direct socket)
bytes=$((mib * 1048576))
runs=${BENCH_RUNS:-3}
out=${BENCH_OUT:-$top_builddir/tests/bench/out}
declare -A chan=([direct]=org.example.mdirect.0 [socket]=org.example.msocket.0)
stalled=$((guests + 1)) # the guest whose agents never read

if ! [[ $guests =~ ^[1-9][0-9]*$ && $mib =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: many.sh [GUESTS] [MIB] [TRANSPORT...]" >&2
	exit 2
fi
for t in "${transports[@]}"; do
	if [ -z "${chan[$t]:-}" ]; then
		echo "many.sh: $t: not a transport of this benchmark (direct, socket)" >&2
		exit 2
	fi
done

dir=$(mktemp -d /tmp/xcm.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null || true
	done
	timeout 120 "$sim" stop "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
env -u XENCHAN_SIM_DIR -u LD_PRELOAD timeout 30 "$sim" start "$dir" >/dev/null
eval "$("$sim" env "$dir")"
export XENCHAN_RUNDIR=$dir/run
mkdir -p "$out"
head -c "$bytes" /dev/urandom >"$dir/in"

# wait_for SECONDS CMD...: until CMD succeeds; 1 when it did not in time.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# Guests 1..GUESTS with sinks on both channels, and the stalled one.  Where
# xl drops the first channel entry, a placeholder goes first.
create_guests() {
	local g first=() sock direct
	if "$sim" status | grep -q '^first-channel: dropped'; then
		first=(--channel "name=org.example.placeholder,connection=pty")
	fi
	for ((g = 1; g <= stalled; g++)); do
		sock=sink:$dir/socket.$g direct=sink:$dir/direct.$g
		[ $g -ne $stalled ] || sock=stall direct=stall
		timeout 30 "$sim" create --wait "${first[@]}" \
			--channel "name=${chan[socket]},connection=socket,path=$dir/s$g.sock" \
			--agent "${chan[socket]}=$sock" --agent "${chan[direct]}=$direct" "m$g" \
			>/dev/null 2>"$dir/create.err" || { cat "$dir/create.err" >&2; return 1; }
	done
}

# The count guest $2's sink on transport $1 has published (0 before it has).
sunk() {
	local c
	c=$(cut -d' ' -f1 "$dir/$1.$2" 2>/dev/null) || c=0
	echo "${c:-0}"
}

# counted TRANSPORT GUEST N: that sink has counted N bytes or more.
counted() { [ "$(sunk "$1" "$2")" -ge "$3" ]; }

# CPU seconds so far of this host's processes: "guests qemu hv+xs".
host_cpu() {
	local d
	{
		echo "pid $(cat "$dir/hv.pid") hv"
		echo "pid $(cat "$dir/xenstored.pid") hv"
		for d in "$dir"/dom*/; do
			echo "pid $(cat "$d/qemu.pid" 2>/dev/null) qemu"
			echo "pgrp $(cat "$d/pgid" 2>/dev/null) guests"
		done
		echo end
		cat /proc/[0-9]*/stat 2>/dev/null || true # some are gone by now
	} | awk -v tck="$(getconf CLK_TCK)" '
		!body && $1 == "pid" { bypid[$2] = $3; next }
		!body && $1 == "pgrp" { bypgrp[$2] = $3; next }
		!body { body = 1; next }
		{
			pid = $1
			sub(/^.*\) /, "")  # after the command name: state, ppid, pgrp, ...
			split($0, f, " ")
			c = pid in bypid ? bypid[pid] : f[3] in bypgrp ? bypgrp[f[3]] : ""
			if (c != "") t[c] += f[12] + f[13]
		}
		END { printf "%.2f %.2f %.2f\n", t["guests"] / tck, t["qemu"] / tck, t["hv"] / tck }'
}

now() { echo "${EPOCHREALTIME/,/.}"; }

# start_send I GUEST TRANSPORT [OPTION...]: xenchan-send of $dir/in to GUEST
# in the background, in a process group of its own (pids[I]), once a line
# comes on descriptor 9.  It leaves in $dir/res.I "STATUS END_TIME" and the
# job shell's `times`: its own CPU, then its children's (the send's).
start_send() {
	local i=$1 g=$2 t=$3
	local opts=(-q --no-progress -T "$t")
	shift 3
	[ "$t" = direct ] && opts+=(--create)
	rm -f "$dir/res.$i"
	set -m
	{
		read -r -u 9 _
		st=0
		"$send" "${opts[@]}" "$@" "m$g" "${chan[$t]}" "$dir/in" 9<&- 2>"$dir/err.$i" ||
			st=$?
		{
			echo "$st ${EPOCHREALTIME/,/.}"
			times
		} >"$dir/res.$i"
	} &
	pids[i]=$!
	set +m
}

# result I T0: "STATUS SECONDS CPU" of send I: its exit status, the seconds
# from T0 to its end, its CPU seconds; "- - 0" when it left none.
result() {
	awk -v t0="$2" '
		function secs(s) { split(s, p, "m"); return p[1] * 60 + p[2] }
		NR == 1 { st = $1; end = $2 - t0 }
		NR == 3 { printf "%s %.3f %.3f\n", st, end, secs($1) + secs($2); done = 1 }
		END { if (!done) print "- - 0" }' "$dir/res.$1" 2>/dev/null
}

# run TRANSPORT N [STALL_MAX_TIME]: sends to guests 1..N at once (and one
# to the stalled guest, ending at STALL_MAX_TIME seconds); sets wall, mbs,
# ok, got, cpu_send, cpu_host (guests qemu hv+xs), spread, and for the
# stalled send st_status, st_secs, st_bytes.
run() {
	local t=$1 n=$2 maxt=${3:-} g before=() h0 h1 t0 t1

	pids=()
	for ((g = 1; g <= n; g++)); do
		[ "$t" = socket ] || rm -f "$dir/$t.$g"
		before[g]=$(sunk "$t" "$g")
	done
	rm -f "$dir/go"
	mkfifo "$dir/go"
	exec 9<>"$dir/go"
	for ((g = 1; g <= n; g++)); do
		start_send "$g" "$g" "$t" -t 60s
	done
	[ -z "$maxt" ] || start_send 0 "$stalled" "$t" --max-time "${maxt}s"
	h0=$(host_cpu)
	t0=$(now)
	for ((g = 0; g <= n; g++)); do echo; done >&9
	exec 9>&-
	for ((g = 1; g <= n; g++)); do
		wait "${pids[g]}" || true
		unset 'pids[g]'
	done
	t1=$(now)
	h1=$(host_cpu)
	for ((g = 1; g <= n; g++)); do
		result "$g" "$t0"
	done >"$dir/results"
	while read -r g st; do
		echo "many.sh: $t: send to m$g: exit $st: $(cat "$dir/err.$g")" >&2
	done < <(awk '$1 != "0" { print NR, $1 }' "$dir/results")
	read -r ok cpu_send spread < <(awk '
		{ ok += $1 == "0"; c += $3 }
		$2 != "-" && (lo == "" || $2 < lo) { lo = $2 }
		$2 != "-" && $2 > hi { hi = $2 }
		END { printf "%d %.3f %.2f\n", ok, c, (lo > 0 ? hi / lo : 0) }' "$dir/results")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	mbs=$(awk -v n="$n" -v b="$bytes" -v w="$wall" 'BEGIN { printf "%.2f", n * b / w / 1e6 }')
	cpu_host=$(awk -v a="$h0" -v b="$h1" 'BEGIN { split(a, x, " "); split(b, y, " ");
		printf "%.2f %.2f %.2f", y[1] - x[1], y[2] - x[2], y[3] - x[3] }')
	# A socket send is done once qemu has every byte; the guest's agent may
	# still be reading the last of it.
	got=0
	for ((g = 1; g <= n; g++)); do
		if wait_for 30 counted "$t" "$g" $((before[g] + bytes)) &&
			[ "$(sunk "$t" "$g")" -eq $((before[g] + bytes)) ]; then
			got=$((got + 1))
		else
			echo "many.sh: $t: m$g counted $(($(sunk "$t" "$g") - before[g])) of $bytes bytes" >&2
		fi
	done
	[ -n "$maxt" ] || return 0
	wait_for $((maxt + 30)) test -e "$dir/res.0" ||
		kill -TERM -- "-${pids[0]}" 2>/dev/null || true
	wait "${pids[0]}" || true
	pids=()
	read -r st_status st_secs st_cpu < <(result 0 "$t0")
	st_bytes=$(sed -n 's/.* \([0-9]*\) of [0-9]* bytes delivered.*/\1/p' "$dir/err.0")
}

# row TRANSPORT LABEL N: one line of the table from what run set.
row() {
	awk -v t="$1" -v l="$2" -v n="$3" -v b="$bytes" -v w="$wall" -v m="$mbs" \
		-v c="$cpu_send" -v h="$cpu_host" -v sp="$spread" -v ok="$ok" -v got="$got" 'BEGIN {
		split(h, x, " "); gib = n * b / 1073741824
		printf "%-7s %-14s %7.2f %8.2f %8.2f %8.2f %8.2f %8.2f %7s %6s %6s\n", t, l, w, m,
			c / gib, x[1] / gib, x[2] / gib, x[3] / gib, (n > 1 ? sp : "-"),
			ok "/" n, got "/" n }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

figure() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/summary.tsv"; }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# transport T: one alone, all at once RUNS times (figures: the medians),
# then with the stalled guest.
transport() {
	local t=$1 mbs1 cpu1 mbsn cpun wall_n spread_n maxt i ms=() cs=() ws=() sps=()
	run "$t" 1
	row "$t" "one alone" 1
	mbs1=$mbs cpu1=$cpu_send
	for ((i = 1; i <= runs; i++)); do
		run "$t" "$guests"
		row "$t" "$guests at once" "$guests"
		ms+=("$mbs") cs+=("$cpu_send") ws+=("$wall") sps+=("$spread")
	done
	mbsn=$(median "${ms[@]}") cpun=$(median "${cs[@]}") wall_n=$(median "${ws[@]}")
	spread_n=$(median "${sps[@]}")
	maxt=$(awk -v w="$wall_n" 'BEGIN { printf "%d", w * 1.5 + 3.999 }')
	run "$t" "$guests" "$maxt"
	row "$t" "+ stalled one" "$guests"
	echo "        stalled send: exit $st_status after $st_secs s (--max-time ${maxt}s)," \
		"${st_bytes:-?} bytes delivered, $st_cpu CPU s"
	if awk -v s="$st_secs" -v w="$wall" 'BEGIN { exit !(s == "-" || s < w) }'; then
		echo "        (it ended before the others did: the last of their run went without it)"
	fi
	figures+=("$t" "$(ratio "$mbsn" "$mbs1")" \
		"$(ratio "$cpun" "$(awk -v c="$cpu1" -v n="$guests" 'BEGIN { print c * n }')")" \
		"$spread_n" "$(ratio "$mbs" "$mbsn")" "$spread")
}

create_guests
echo "$guests guests, one xenchan-send of $mib MiB into each, all at once; sink agents;" \
	"$("$sim" status | sed -n 's/^xen-version: /Xen /p') model, $(nproc) CPUs"
echo "CPU s/GiB: send (xenchan-send processes), guests, qemu, hv+xs (the host's)"
printf '%-7s %-14s %7s %8s %8s %8s %8s %8s %7s %6s %6s\n' transp run wall_s MB/s \
	send guests qemu hv+xs spread 'exit 0' 'bytes'
figures=()
for t in "${transports[@]}"; do
	transport "$t"
done

echo
printf '%-7s %10s %10s %8s %12s %12s\n' transp 'MB/s n/1' 'CPU n/1' spread \
	'stall MB/s' 'stall spread'
set -- "${figures[@]}"
while [ $# -gt 0 ]; do
	printf '%-7s %10s %10s %8s %12s %12s\n' "${@:1:6}"
	figure "many $1: spread slowest/fastest, $guests at once" "$4" "<= 2"
	figure "many $1: aggregate MB/s, $guests at once / one alone" "$2" "-"
	figure "many $1: CPU s/GiB, $guests at once / one alone" "$3" "-"
	figure "many $1: others' MB/s with a stalled guest / without" "$5" ">= 0.8"
	shift 6
done
echo "(n/1: $guests at once / one alone; CPU: send CPU s/GiB; stall: with the stalled"
echo " guest / without; spread: slowest / fastest send of the run; $guests at once: the"
echo " median of $runs runs)"
