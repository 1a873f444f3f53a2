#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-send --follow across a guest's lifecycle on the emulated host: for
# each operation (reboot, save + restore, migrate) and transport (socket, pty,
# direct, vchan), CYCLES transfers of numbered records, each broken by one operation
# while bytes are in flight.  What the guest got is compared with what was
# sent (tests/bench/seqdata): bytes lost and duplicated, against what
# xenchan-send's report said may have happened; the reconnect time is the
# one the report gives.  A failure is a transfer that did not exit 0, or
# whose losses or duplicates exceed what the report allowed.  Not a test:
# nothing is asserted.
#
# Usage: tests/bench/follow.sh [CYCLES [OPERATIONS [TRANSPORTS]]]
#   (defaults: 20, "reboot save migrate", "socket pty direct vchan")
# The vchan endpoint is served by tests/unit/test-vchan append, started in
# the domain before each transfer and again in the new domain after the
# operation, as a guest's agent would be.
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
send=$top_builddir/cmd/xenchan-send
seqdata=$top_builddir/tests/bench/seqdata
cycles=${1:-20}
ops=${2:-reboot save migrate}
transports=${3:-socket pty direct vchan}
tv=$top_builddir/tests/unit/test-vchan
# 192 KiB at 256 KB/s: a transfer of about 0.75 s, broken early.
records=12288
rate=262144

dir=$(env -u XENCHAN_SIM_DIR -u LD_PRELOAD timeout 30 "$sim" start)
trap 'timeout 60 "$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
eval "$("$sim" env "$dir")"
export XENCHAN_RUNDIR=$dir/run
first=()
if "$sim" status "$dir" | grep -q '^first-channel: dropped'; then
	first=(--channel name=org.example.dummy,connection=pty)
fi
"$seqdata" gen "$records" >"$dir/sent"
for t in socket pty direct; do
	agents+=(--agent "org.example.f$t.0=cmd:cat >>$dir/got-$t")
done
timeout 30 "$sim" create --wait "${first[@]}" \
	--channel "name=org.example.fsocket.0,connection=socket,path=$dir/f.sock" \
	--channel name=org.example.fpty.0,connection=pty "${agents[@]}" fbench >/dev/null

# wait_for SECONDS CMD...: until CMD succeeds; 1 when it did not in time.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.02
	done
}
nonempty() { [ -s "$1" ]; }
# One cycle of operation $1 on the domain fbench.
# operate OP: prints the new domid.
operate() {
	case $1 in
	reboot) timeout 60 "$sim" reboot fbench ;;
	save) timeout 60 "$sim" save fbench "$dir/fbench.save" && timeout 60 "$sim" restore "$dir/fbench.save" ;;
	migrate) timeout 60 "$sim" migrate fbench ;;
	esac
}
published() {
	"$top_builddir/cmd/xenchan-ls" -rn -o CHANNEL,STATE -t vchan "id:$1" 2>/dev/null |
		grep -Eqx 'org.example.fvchan.0 (published|in-use)'
}
# vchan_serve DOMID: the vchan endpoint served in DOMID, appending to
# got-vchan; returns once it is published.
vchan_serve() {
	# Not a job of ours: the emulator kills it with the domain.
	(timeout 120 "$sim" exec -D "$1" -- "$tv" append org.example.fvchan.0 "$dir/got-vchan" \
		>/dev/null 2>&1 &)
	wait_for 30 published "$1"
}

# cycle OP TRANSPORT: prints "ok|fail seconds lost dup resent maydup unproven".
cycle() {
	local op=$1 t=$2 got=$dir/got-$t pid st=0 line secs resent maydup unproven d lost dup nd
	local opts=()

	[ "$t" = direct ] && opts=(--create)
	: >"$got"
	if [ "$t" = vchan ]; then
		vchan_serve "$("$sim" list | awk '$2 == "fbench" { print $1 }')" ||
			echo "follow.sh: the vchan endpoint was not published" >&2
	fi
	"$seqdata" gen "$records" "$rate" |
		timeout 120 "$send" --follow=60s -T "$t" "${opts[@]}" fbench "org.example.f$t.0" \
			2>"$dir/err" &
	pid=$!
	if ! wait_for 30 nonempty "$got"; then
		kill "$pid" 2>/dev/null || true
	else
		nd=$(operate "$op") || echo "follow.sh: $op failed" >&2
		[ "$t" != vchan ] || vchan_serve "$nd" ||
			echo "follow.sh: the vchan endpoint was not published again" >&2
	fi
	wait "$pid" || st=$?
	# Where the transfer ends, the agent may still be writing: wait for the
	# file to stop growing.
	wait_for 10 eval '[ "$(stat -c %s "$got")" -ge $((records * 16)) ]' || true
	line=$(grep -m1 ' followed ' "$dir/err" || true)
	secs=$(sed -n 's/.* in \([0-9.]*\) s.*/\1/p' <<<"$line")
	resent=$(sed -n 's/.*resent \([0-9]*\) bytes.*/\1/p' <<<"$line")
	maydup=$(sed -n 's/.*, \([0-9]*\) may have arrived twice.*/\1/p' <<<"$line")
	unproven=$(sed -n 's/.*up to \([0-9]*\) could not be proven.*/\1/p' <<<"$line")
	d=$("$seqdata" diff "$records" "$got")
	lost=$(awk '{ print $6 }' <<<"$d")
	dup=$(awk '{ print $8 }' <<<"$d")
	if [ $st -eq 0 ] && [ -z "$line" ] && [ "$d" = "received $((records * 16)) expected $((records * 16)) lost 0 duplicated 0 junctions 0 bad 0" ]; then
		# Done before the domain went: no break to measure.
		echo "nobreak - 0 0 0 0 0"
		return
	fi
	# A reboot loses what the old boot's kernel took and its agent never
	# read: delivered, to a guest that is gone.
	if [ $st -ne 0 ] || [ -z "$line" ] || [ "$(awk '{ print $12 }' <<<"$d")" != 0 ] ||
		{ [ "$op" != reboot ] && [ "$lost" -gt "${unproven:-0}" ]; } ||
		[ "$dup" -gt "${maydup:-0}" ]; then
		echo "fail ${secs:-0} $lost $dup ${resent:-0} ${maydup:-0} ${unproven:-0}"
		{
			echo "follow.sh: $op/$t: exit $st; $d"
			cat "$dir/err"
		} >&2
	else
		echo "ok $secs $lost $dup $resent $maydup $unproven"
	fi
}

echo "xenchan-send --follow, $cycles cycles per row, $((records * 16 / 1024)) KiB at $((rate / 1024)) KiB/s each"
printf '%-8s %-7s %5s %7s %9s %9s %9s %7s %7s %9s %9s\n' operation transp fails \
	nobreak 'min s' 'median s' 'max s' lost dup 'may dup' unproven
for op in $ops; do
	for t in $transports; do
		for ((i = 0; i < cycles; i++)); do
			cycle "$op" "$t"
		done >"$dir/rows"
		awk -v op="$op" -v t="$t" '
			$1 == "nobreak" { nobreak++; next }
			{ fails += $1 != "ok"; n++; s[n] = $2; lost += $3; dup += $4;
			  maydup += $6; unproven += $7 }
			END {
				# sort the reconnect times for min, median and max
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
					if (s[j] + 0 < s[i] + 0) { x = s[i]; s[i] = s[j]; s[j] = x }
				printf "%-8s %-7s %5d %7d %9.3f %9.3f %9.3f %7d %7d %9d %9d\n", op, t,
					fails, nobreak, s[1], s[int((n + 1) / 2)], s[n], lost, dup,
					maydup, unproven
			}' "$dir/rows"
	done
done
echo "(nobreak: transfers done before the domain went; lost, dup: bytes the guest's"
echo " agent missed or got twice, over all cycles; may dup and unproven: what"
echo " xenchan-send's reports allowed for, summed.  A reboot may lose more than"
echo " unproven: what the old boot's kernel took and its agent never read; so may"
echo " the emulator's save and migrate, whose agents are restarted processes)"
