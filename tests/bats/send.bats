#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-send on the emulated host: delivery into sink agents with equal
# checksums, proofs, a guest that does not read, a guest destroyed mid-way.

load helpers
sim_host_per_file web01_setup

# web01: sink agents on a socket and a pty channel (and on a socket for the
# busy tests), guests that never read on
# two more, and the sink's checksum program.
web01_setup() {
	sim_create --channel "name=org.example.sink.0,connection=socket,path=$SIM_DIR/sink.sock" \
		--channel name=org.example.sinkp.0,connection=pty \
		--channel "name=org.example.stall.0,connection=socket,path=$SIM_DIR/stall.sock" \
		--channel "name=org.example.busy.0,connection=socket,path=$SIM_DIR/busy.sock" \
		--channel name=org.example.stallp.0,connection=pty \
		--agent "org.example.sink.0=sink:$SIM_DIR/sunk" \
		--agent "org.example.sinkp.0=sink:$SIM_DIR/sunkp" \
		--agent "org.example.busy.0=sink:$SIM_DIR/busy.sunk" \
		--agent org.example.stall.0=stall --agent org.example.stallp.0=stall web01
	# The sink agent's checksum, FNV-1a 64, computed here too.
	cat >"$SIM_DIR/fnv.c" <<-'EOF2'
		#include <stdint.h>
		#include <stdio.h>
		int main(void)
		{
			static unsigned char b[1 << 16];
			uint64_t h = 14695981039346656037ULL, n = 0;
			size_t r;
			while ((r = fread(b, 1, sizeof(b), stdin)) > 0)
				for (size_t i = 0; i < r; i++, n++)
					h = (h ^ b[i]) * 1099511628211ULL;
			printf("%llu %016llx\n", (unsigned long long)n, (unsigned long long)h);
			return 0;
		}
	EOF2
	${CC:-cc} -O2 -o "$SIM_DIR/fnv" "$SIM_DIR/fnv.c"
}

# held LOCKFILE: the lock file names a live xenchan-send.
held() {
	local pid
	pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] &&
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = xenchan-send ]
}

# holder CHANNEL: the pid in the channel's lock file, once there is one.
holder() {
	local lock
	if [[ $1 == *p.0 ]]; then
		lock=$XENCHAN_RUNDIR/locks/pty:$(timeout "$T" xenchan-ls -rn -o ENDPOINT -c "$1" web01 | sed 's|/|%2F|g')
	else
		lock=$XENCHAN_RUNDIR/locks/socket:${SIM_DIR//\//%2F}%2F${1#org.example.}
		lock=${lock%.0}.sock
	fi
	wait_until "$T" held "$lock" >&2
	cat "$lock"
}

send_() {
	timeout "$T" xenchan-send "$@"
}

# deliver CHANNEL SINKFILE SIZE: send SIZE random bytes; the sink's count grows
# by SIZE and its checksum over everything sent so far matches ours.
deliver() {
	local ch=$1 sunk=$2 n=$3 all=$SIM_DIR/all.$1 before
	before=$(sink_count "$sunk")
	head -c "$n" /dev/urandom >"$SIM_DIR/part"
	# The emulated ring moves about 1-4 MB/s: allow 64 MiB its time.
	timeout $((T + n / 200000)) xenchan-send web01 "$ch" "$SIM_DIR/part"
	cat "$SIM_DIR/part" >>"$all"
	wait_until "$T" sunk "$sunk" $((before + n))
	[ "$(cat "$sunk")" = "$("$SIM_DIR/fnv" <"$all")" ]
}

@test "socket: 0 B, 1 B, 4095 B, 1 MiB and 64 MiB reach the sink with equal checksums" {
	: >"$SIM_DIR/all.org.example.sink.0"
	local n
	for n in 0 1 4095 1048576 67108864; do
		deliver org.example.sink.0 "$SIM_DIR/sunk" "$n"
	done
}

@test "pty: 0 B, 1 B, 4095 B, 1 MiB and 8 MiB reach the sink with equal checksums" {
	: >"$SIM_DIR/all.org.example.sinkp.0"
	local n
	for n in 0 1 4095 1048576 8388608; do
		deliver org.example.sinkp.0 "$SIM_DIR/sunkp" "$n"
	done
}

# hog SECONDS: spin on a CPU for at most SECONDS.
hog() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do :; done
}

@test "pty: 16 MiB reach the sink whole next to CPU hogs" {
	local i n=$((2 * $(nproc)))
	# Two spinners a CPU (16 at most): the emulated qemu, the guest and
	# xenchan-send all wait for a CPU between the steps of the transfer.
	((n <= 16)) || n=16
	for ((i = 0; i < n; i++)); do
		spawn hog 60
		disown "$!" # killed by the teardown: no "Killed" notice
	done
	# The sink's checksum covers what the test above sent too.
	deliver org.example.sinkp.0 "$SIM_DIR/sunkp" 16777216
}

@test "-v says what was proven; stdin and several files" {
	printf 'abc' >"$SIM_DIR/f1"
	printf 'defg' >"$SIM_DIR/f2"
	run send_ -v web01 org.example.sink.0 "$SIM_DIR/f1" - "$SIM_DIR/f2" <<<"xyz"
	assert_success
	assert_line "xenchan-send: web01/org.example.sink.0: socket: the channel's own transport (no bandwidth asked for)"
	assert_line --regexp '^xenchan-send: web01/org\.example\.sink\.0: delivered [0-9]+ bytes: written to the transport$'
	run bash -c "echo hi | timeout $T xenchan-send -v web01 org.example.sinkp.0"
	assert_success
	assert_line --regexp 'delivered [0-9]+ bytes: written to the transport$'
}

@test "a guest that does not read: send blocks without using CPU; -t gives 124" {
	local pid ticks ch
	for ch in org.example.stall.0 org.example.stallp.0; do
		head -c 1048576 /dev/zero >"$SIM_DIR/big"
		timeout "$T" xenchan-send web01 "$ch" "$SIM_DIR/big" &
		pid=$(holder "$ch")
		sleep 2
		ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
		kill -0 "$pid"
		[ "$ticks" -le 2 ]
		kill -TERM "$pid"
		wait_exit "$pid" 2
		run send_ -t 1s web01 "$ch" "$SIM_DIR/big"
		assert_failure 124
		assert_output --regexp "^xenchan-send: web01/$ch: timed out delivering: [0-9]+ of [0-9]+ bytes delivered\$"
	done
}

@test "SIGTERM ends a blocked send cleanly: the channel is free again" {
	local pid rc=0
	timeout "$T" xenchan-send -v web01 org.example.stall.0 "$SIM_DIR/big" 2>"$SIM_DIR/term.err" &
	pid=$(holder org.example.stall.0)
	wait_until "$T" copying "$pid" "$SIM_DIR/stall.sock"
	# Past the open: qemu's acceptance is proven (before it, a signal ends
	# the command without a count, as nothing was written).
	wait_until "$T" grep -q ': accepted by qemu' "$SIM_DIR/term.err"
	kill -TERM "$pid"
	wait_exit "$pid" 2
	run cat "$SIM_DIR/term.err"
	assert_line --regexp 'interrupted: [0-9]+ bytes delivered'
	run send_ -t 300ms web01 org.example.stall.0 "$SIM_DIR/big"
	assert_failure 124
}

@test "the domain destroyed mid-transfer: exit 4 within a second, with the count" {
	local pid rc start ch ep
	head -c 4194304 /dev/urandom >"$SIM_DIR/big4"
	for ch in org.example.d.0 org.example.dp.0; do
		sim_create --channel "name=org.example.d.0,connection=socket,path=$SIM_DIR/d.sock" \
			--channel name=org.example.dp.0,connection=pty \
			--agent org.example.d.0=stall --agent org.example.dp.0=stall doomed1
		ep=$(timeout "$T" xenchan-ls -rn -o ENDPOINT -c "$ch" doomed1)
		timeout "$T" xenchan-send doomed1 "$ch" "$SIM_DIR/big4" 2>"$SIM_DIR/doomed.err" &
		pid=$!
		wait_until "$T" copying "$(command_pid "$pid" xenchan-send)" "$ep"
		start=$(date +%s%N)
		sim destroy doomed1
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 4 ]
		[ $((($(date +%s%N) - start) / 1000000)) -le 1000 ]
		run cat "$SIM_DIR/doomed.err"
		assert_output --regexp "^xenchan-send: doomed1/$ch: peer went away: [0-9]+ of 4194304 bytes delivered\$"
	done
}

@test "two senders on one channel: the second is busy (exit 5, names the holder)" {
	local pid
	timeout "$T" xenchan-send web01 org.example.stall.0 "$SIM_DIR/big" &
	pid=$(holder org.example.stall.0)
	printf 'abc' >"$SIM_DIR/f1"
	run send_ web01 org.example.stall.0 "$SIM_DIR/f1"
	assert_failure 5
	assert_output "xenchan-send: web01/org.example.stall.0: busy: in use by xenchan-send (pid $pid)"
	kill "$pid"
	wait_exit "$pid" 2
}

@test "--wait: waits for the channel, then delivers" {
	local pid
	timeout "$T" xenchan-send --wait=10s late1 org.example.sink.0 "$SIM_DIR/f1" &
	pid=$!
	# Waiting for a domain that does not exist yet.
	wait_until "$T" sleeping "$(command_pid "$pid" xenchan-send)"
	sim_create --channel "name=org.example.sink.0,connection=socket,path=$SIM_DIR/late.sock" \
		--agent "org.example.sink.0=sink:$SIM_DIR/late.sunk" late1
	wait "$pid"
	wait_until "$T" sunk "$SIM_DIR/late.sunk" 3
}

@test "errors: a missing file, no such domain or channel, usage" {
	run send_ web01 org.example.sink.0 "$SIM_DIR/nosuch"
	assert_failure 2
	assert_output "xenchan-send: $SIM_DIR/nosuch: No such file or directory"
	run send_ nosuch org.example.sink.0 </dev/null
	assert_failure 3
	run send_ web01 org.example.nosuch.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-send: web01/org.example.nosuch.0: no such channel'
	run send_
	assert_failure 2
	assert_line --index 0 'xenchan-send: no DOMAIN given'
	run send_ web01
	assert_failure 2
	run send_ -t forever web01 org.example.sink.0 </dev/null
	assert_failure 2
	assert_output --partial '--timeout: forever: not a duration'
	run send_ --bogus web01 org.example.sink.0
	assert_failure 2
	assert_line --index 1 "Try 'xenchan-send --help' for more information."
}

@test "--max-time: a guest that does not read ends the send with 124 and the count" {
	local start
	head -c 1048576 /dev/zero >"$SIM_DIR/mt.in"
	start=$(date +%s%N)
	run send_ --max-time 1s web01 org.example.stall.0 "$SIM_DIR/mt.in"
	assert_failure 124
	assert_output --regexp "^xenchan-send: web01/org.example.stall.0: max-time 1s reached: [0-9]+ of 1048576 bytes delivered\$"
	[ $((($(date +%s%N) - start) / 1000000)) -lt 3000 ]
	# Delivered in time: exit 0.
	run send_ --max-time 10s web01 org.example.sink.0 </dev/null
	assert_success
}

@test "-w DURATION as a separate word: refused when it could be DOMAIN too" {
	run send_ -w 1s web01 org.example.sink.0 </dev/null
	assert_failure 2
	assert_line --index 0 'xenchan-send: -w 1s: did you mean --wait=1s? (for the domain 1s: name:1s)'
	assert_line --index 1 "Try 'xenchan-send --help' for more information."
	run send_ web01 org.example.sink.0 --wait 5 </dev/null
	assert_failure 2
	assert_line --index 0 'xenchan-send: --wait 5: did you mean --wait=5? (for the domain 5: id:5)'
	# Attached, it is the wait.
	run send_ --wait=1s web01 org.example.sink.0 </dev/null
	assert_success
	# A domain name after a bare -w.
	run send_ -w web01 org.example.sink.0 </dev/null
	assert_success
}

# ---- a socket channel held by another client of qemu ----

# hold_socket: socat holds web01's busy channel, accepted by qemu; $holder is
# its pid, $before the sink's count.
hold_socket() {
	before=$(sink_count "$SIM_DIR/busy.sunk")
	before=${before:-0}
	spawn socat -u UNIX-CONNECT:"$SIM_DIR/busy.sock" OPEN:/dev/null
	holder=$!
	wait_until "$T" channel_open "$holder" "$SIM_DIR/busy.sock"
}

# marker_arrives N: once the holder is gone, a 3-byte marker sent with --wait
# (queued behind every earlier connection, in order) arrives, and the sink
# then counts exactly N bytes since hold_socket: what was refused earlier
# never follows.
marker_arrives() {
	printf 'xyz' >"$SIM_DIR/marker"
	send_ --wait=10s web01 org.example.busy.0 "$SIM_DIR/marker"
	wait_until "$T" sunk "$SIM_DIR/busy.sunk" $((before + $1))
	# Anything still queued ahead of the marker was taken before it.
	[ "$(sink_count "$SIM_DIR/busy.sunk")" = $((before + $1)) ]
}

@test "socket held by socat: exit 5 at once naming it; the bytes never reach the guest" {
	local holder before start
	hold_socket
	printf 'abc' >"$SIM_DIR/b1"
	start=$(date +%s%N)
	run send_ -t 1s web01 org.example.busy.0 "$SIM_DIR/b1"
	assert_failure 5
	assert_output "xenchan-send: web01/org.example.busy.0: busy: in use by socat (pid $holder)"
	[ $((($(date +%s%N) - start) / 1000000)) -lt 1000 ]
	run send_ -t 1s web01 org.example.busy.0 "$SIM_DIR/b1"
	assert_failure 5
	# Refused without joining qemu's queue: no dead connection in it would
	# take the guest's buffered output when socat leaves.
	[ "$(socket_backlog "$SIM_DIR/busy.sock")" = 0 ]
	kill "$holder"
	marker_arrives 3
}

@test "socket held by xenchan-cat: a second sender exits 5 naming xenchan-cat and its pid" {
	local pid
	timeout "$T" xenchan-cat web01 org.example.busy.0 < <(open_input) >/dev/null &
	pid=$(command_pid $! xenchan-cat)
	wait_until "$T" copying "$pid" "$SIM_DIR/busy.sock"
	printf 'abc' >"$SIM_DIR/b1"
	run send_ web01 org.example.busy.0 "$SIM_DIR/b1"
	assert_failure 5
	assert_output "xenchan-send: web01/org.example.busy.0: busy: in use by xenchan-cat (pid $pid)"
	kill "$pid"
	wait_exit "$pid" 2 || true
}

@test "--wait=10s on a held socket: delivers once the holder leaves, exactly once" {
	local holder before pid
	hold_socket
	head -c 1000 /dev/urandom >"$SIM_DIR/b2"
	timeout "$T" xenchan-send -v --wait=10s web01 org.example.busy.0 "$SIM_DIR/b2" \
		2>"$SIM_DIR/wait.err" &
	pid=$!
	wait_until "$T" grep -q "busy.sock: qemu serves socat (pid $holder); waiting for it to leave" \
		"$SIM_DIR/wait.err"
	# Not even queued while socat is served: nothing in qemu's backlog, -v
	# has claimed nothing, and nothing reached the guest.
	[ "$(socket_backlog "$SIM_DIR/busy.sock")" = 0 ]
	run grep -c ": accepted by qemu" "$SIM_DIR/wait.err"
	assert_output 0
	[ "$(sink_count "$SIM_DIR/busy.sunk")" = "$before" ]
	kill "$holder"
	wait "$pid"
	wait_until "$T" sunk "$SIM_DIR/busy.sunk" $((before + 1000))
	run grep -n ": accepted by qemu\|qemu serves" "$SIM_DIR/wait.err"
	assert_line --index 0 --partial "qemu serves socat"
	assert_line --index 1 --partial "busy.sock: accepted by qemu"
	marker_arrives 1003
}

@test "--max-time ends a wait for a busy socket: 124, nothing delivered later" {
	local holder before start
	hold_socket
	printf 'abc' >"$SIM_DIR/b1"
	start=$(date +%s%N)
	run send_ --wait=20s --max-time 1s web01 org.example.busy.0 "$SIM_DIR/b1"
	assert_failure 124
	assert_output "xenchan-send: web01/org.example.busy.0: max-time 1s reached before the channel was open"
	[ $((($(date +%s%N) - start) / 1000000)) -lt 5000 ]
	[ "$(socket_backlog "$SIM_DIR/busy.sock")" = 0 ]
	kill "$holder"
	marker_arrives 3
}

@test "--wait=1s on a socket held throughout: exit 5 after the wait, nothing delivered later" {
	local holder before start
	hold_socket
	printf 'abc' >"$SIM_DIR/b1"
	start=$(date +%s%N)
	run send_ --wait=1s web01 org.example.busy.0 "$SIM_DIR/b1"
	assert_failure 5
	assert_output "xenchan-send: web01/org.example.busy.0: busy: in use by socat (pid $holder), still after waiting 1000 ms"
	[ $((($(date +%s%N) - start) / 1000000)) -ge 1000 ]
	kill "$holder"
	marker_arrives 3
}

@test "--wait=10s behind a xenchan holder: waits for its lock, then delivers" {
	local pid before sp
	before=$(sink_count "$SIM_DIR/busy.sunk")
	timeout "$T" xenchan-cat web01 org.example.busy.0 < <(open_input) >/dev/null &
	pid=$(command_pid $! xenchan-cat)
	wait_until "$T" copying "$pid" "$SIM_DIR/busy.sock"
	printf 'abc' >"$SIM_DIR/b1"
	timeout "$T" xenchan-send --wait=10s web01 org.example.busy.0 "$SIM_DIR/b1" &
	sp=$!
	wait_until "$T" sleeping "$(command_pid "$sp" xenchan-send)"
	[ "$(sink_count "$SIM_DIR/busy.sunk")" = "$before" ]
	kill "$pid"
	wait "$sp"
	wait_until "$T" sunk "$SIM_DIR/busy.sunk" $((before + 3))
}
