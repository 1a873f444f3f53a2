#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-wait on the emulated host: states, timeouts, domains that come and go.

load helpers
sim_host_per_file

wait_() {
	timeout "$T" xenchan-wait "$@"
}

sock_chan() {
	echo "name=$1,connection=socket,path=$SIM_DIR/$1.sock"
}

# seen PID LOG PATH N: xenchan-wait -vv, process PID logging to LOG, has seen
# PATH change N times and, having looked, waits again.
seen() {
	[ "$(grep -cxF "xenchan-wait: watch fired: $3" "$2")" -ge "$4" ] && sleeping "$1"
}

@test "already satisfied: exits 0 at once, --print names the endpoints" {
	sim_create --channel "$(sock_chan org.example.a.0)" \
		--channel name=org.example.p.0,connection=pty ready1
	run wait_ -t 5s ready1 org.example.a.0
	assert_success
	assert_output ''
	run wait_ -t 5s -p ready1
	assert_success
	assert_line --index 0 "$domid"$'\t'"ready1"$'\t'"org.example.a.0"$'\t'"socket"$'\t'"$SIM_DIR/org.example.a.0.sock"
	assert_line --index 1 --regexp "^$domid"$'\t'"ready1"$'\t'"org.example.p.0"$'\t'"pty"$'\t'"/dev/pts/[0-9]+\$"
	run wait_ -t 5s -f exists -p "id:$domid" org.example.p.0
	assert_success
	assert_output --regexp $'\tpty\t/dev/pts/[0-9]+$'
}

@test "timeout: exit 124 with a message, for a domain or a channel that never comes" {
	run wait_ -t 300ms no-such-domain
	assert_failure 124
	assert_output 'xenchan-wait: no-such-domain: timed out waiting for ready'
	run wait_ -q -t 300ms ready1 org.example.never.0
	assert_failure 124
	assert_output ''
}

@test "a domain created after the wait started: found, waited for until ready" {
	local pid
	timeout "$T" xenchan-wait -t 15s -p late1 org.example.late.0 >"$SIM_DIR/late.out" 2>&1 &
	pid=$!
	wait_until "$T" sleeping "$(command_pid "$pid" xenchan-wait)"
	kill -0 "$pid"
	sim_create --channel "$(sock_chan org.example.late.0)" late1
	wait "$pid"
	run cat "$SIM_DIR/late.out"
	assert_output "$domid"$'\t'"late1"$'\t'"org.example.late.0"$'\t'"socket"$'\t'"$SIM_DIR/org.example.late.0.sock"
}

@test "satisfied after a delay: a channel that connects later" {
	local d pid wpid fe be log=$SIM_DIR/lazy.log
	sim_create lazy1
	d=$domid
	timeout "$T" xenchan-wait -vv -t 15s -f connected lazy1 org.example.hot.0 2>"$log" &
	pid=$!
	wpid=$(command_pid "$pid" xenchan-wait)
	wait_until "$T" sleeping "$wpid"
	# A toolstack adds a channel the way libxl would, in steps.
	fe=/local/domain/$d/device/console/1
	be=/local/domain/0/backend/console/$d/1
	timeout "$T" xenstore-write /libxl/$d/device/console/1/name org.example.hot.0 \
		/libxl/$d/device/console/1/connection pty \
		/libxl/$d/device/console/1/frontend "$fe" /libxl/$d/device/console/1/backend "$be"
	timeout "$T" xenstore-write "$fe/state" 1 "$be/state" 1
	wait_until "$T" seen "$wpid" "$log" "$fe/state" 1
	kill -0 "$pid"
	timeout "$T" xenstore-write "$fe/state" 4
	wait_until "$T" seen "$wpid" "$log" "$fe/state" 2
	kill -0 "$pid"
	timeout "$T" xenstore-write "$be/state" 4
	wait "$pid"
}

@test "the domain destroyed while waiting: exit 4 within a second" {
	local pid start rc=0
	sim_create --channel "$(sock_chan org.example.doomed.0)" doomed1
	timeout "$T" xenchan-wait -t 15s doomed1 org.example.missing.0 2>"$SIM_DIR/doomed.err" &
	pid=$!
	wait_until "$T" sleeping "$(command_pid "$pid" xenchan-wait)"
	kill -0 "$pid"
	start=$SECONDS
	sim destroy doomed1
	wait "$pid" || rc=$?
	[ "$rc" -eq 4 ]
	[ $((SECONDS - start)) -le 1 ]
	run cat "$SIM_DIR/doomed.err"
	assert_output 'xenchan-wait: doomed1: domain destroyed before it was ready'
}

@test "--for gone: returns once the domain or the channel is gone" {
	local pid
	sim_create --channel "$(sock_chan org.example.g.0)" gone1
	timeout "$T" xenchan-wait -t 15s -f gone gone1 &
	pid=$!
	wait_until "$T" sleeping "$(command_pid "$pid" xenchan-wait)"
	kill -0 "$pid"
	sim destroy gone1
	wait "$pid"
	run wait_ -t 1s -f gone gone1
	assert_success
	run wait_ -t 1s -f gone ready1 org.example.nothere.0
	assert_success
	run wait_ -t 300ms -f gone ready1 org.example.a.0
	assert_failure 124
}

@test "no CPU is used while waiting" {
	local pid ticks
	xenchan-wait -t 20s never1 &
	pid=$!
	sleep 2
	# utime + stime, in clock ticks: a polling loop would show here.
	ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	kill "$pid"
	wait "$pid" || true
	[ "$ticks" -le 1 ]
}

@test "usage errors exit 2" {
	run wait_
	assert_failure 2
	assert_line --index 0 'xenchan-wait: no DOMAIN given'
	run wait_ -t 5parsecs x
	assert_failure 2
	assert_output --partial '--timeout: 5parsecs: not a duration'
	run wait_ -f asleep x
	assert_failure 2
	assert_output --partial 'not one of exists, connected, ready, gone'
	run wait_ -p -f gone x
	assert_failure 2
	run wait_ uuid:xyz
	assert_failure 2
	assert_output 'xenchan-wait: uuid:xyz: not a domain id, name or UUID'
}

# told LOG N PATTERN: LOG has N lines matching PATTERN (grep -E).
told() {
	[ "$(grep -cE "$3" "$1")" -eq "$2" ]
}

@test "-v says what the domain has while a channel it lacks is waited for, once and on change" {
	local d pid wpid log=$SIM_DIR/has.log
	sim_create --channel "$(sock_chan org.example.h.0)" has1
	d=$domid
	timeout "$T" xenchan-wait -v -t 15s has1 org.example.typo.0 2>"$log" &
	pid=$!
	wpid=$(command_pid "$pid" xenchan-wait)
	wait_until "$T" told "$log" 1 '^xenchan-wait: has1 has: org.example.h.0 \(socket, ready\)$'
	wait_until "$T" sleeping "$wpid"
	# A watch that fires with nothing changed says nothing new.
	timeout "$T" xenstore-write "/local/domain/$d/device/console/1/state" 4
	wait_until "$T" sleeping "$wpid"
	# A change is told again; a name the guest side controls is escaped.
	timeout "$T" xenstore-write "/local/domain/0/data/vchan/$d/zz/name" $'org.\e.0'
	wait_until "$T" told "$log" 1 'has: org.example.h.0 \(socket, ready\), org.\\x1b.0 \(vchan client, peer 0, stale\)$'
	kill -0 "$pid"
	run grep -c ' has: ' "$log"
	assert_output 2
	refute_output --partial $'\e'
	kill "$pid"
	wait "$pid" || true
	timeout "$T" xenstore-rm "/local/domain/0/data/vchan/$d"
	# Without -v, nothing is said.
	run wait_ -t 300ms has1 org.example.typo.0
	assert_failure 124
	assert_output 'xenchan-wait: has1: timed out waiting for ready'
	sim destroy has1
}

@test "a direct channel is ready while a xenchan backend serves it, and not once it is killed" {
	local pid wpid
	sim_create direct1
	timeout "$T" xenchan-wait -t 15s -p direct1 org.example.d.0 >"$SIM_DIR/d.out" 2>&1 &
	wpid=$!
	wait_until "$T" sleeping "$(command_pid "$wpid" xenchan-wait)"
	xenchan-cat -l -Q never -t 20s direct1 org.example.d.0 >/dev/null 2>&1 </dev/null &
	pid=$!
	SIM_SPAWNED+=($pid)
	wait "$wpid"
	run cat "$SIM_DIR/d.out"
	assert_output "$domid"$'\t'"direct1"$'\t'"org.example.d.0"$'\t'"direct"$'\t'"-"
	kill -9 "$pid"
	wait "$pid" || true
	# Its nodes still say Connected: connected, but not ready.
	run wait_ -t 5s -f connected direct1 org.example.d.0
	assert_success
	run wait_ -v -t 300ms direct1 org.example.d.0
	assert_failure 124
	assert_line 'xenchan-wait: direct1 has: org.example.d.0 (direct, stale)'
	sim destroy direct1
}
