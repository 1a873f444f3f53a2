#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-cat and xenchan-send over xenchan's own backend: a channel
# hotplugged with --create into a running guest, used, and removed.

load helpers
sim_host_per_file hot1_setup

# hot1: a guest with a sink agent for the channel send hotplugs.
hot1_setup() {
	sim_create --agent org.example.sink.9=sink:"$SIM_DIR/sunk" hot1
	export GUEST=$domid
}

@test "--create: 0 B, 1 B, 4095 B and 1 MiB round-trip through the guest's echo agent" {
	local n
	for n in 0 1 4095 1048576; do
		head -c "$n" /dev/urandom >"$SIM_DIR/in"
		run bash -c "timeout $T xenchan-cat -Q 500ms --create hot1 org.example.direct.0 \
			<'$SIM_DIR/in' >'$SIM_DIR/out'"
		assert_success
		[ "$(sha "$SIM_DIR/in")" = "$(sha "$SIM_DIR/out")" ]
	done
	# Removed at exit: no frontend, backend or trusted copy is left.
	run xenchan-ls -rn -c org.example.direct.0 hot1
	assert_output ''
	run timeout "$T" xenstore-ls "/local/domain/$GUEST/device/console"
	refute_output --partial org.example.direct.0
}

@test "--create: listed as direct while it runs; a second user is told it is busy" {
	local pid
	timeout "$T" xenchan-cat -Q never --create hot1 org.example.direct.1 < <(open_input) \
		>/dev/null 2>&1 &
	pid=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,TRANSPORT,STATE hot1 |
		grep -qx 'org.example.direct.1 direct connected'"
	run timeout "$T" xenchan-cat --create hot1 org.example.direct.1 </dev/null
	assert_failure 5
	assert_output --regexp 'busy: in use by xenchan-cat \(pid [0-9]+\)'
	kill -TERM "$(command_pid "$pid" xenchan-cat)"
	wait "$pid" || true
	wait_until "$T" sh -c "! xenchan-ls -rn -c org.example.direct.1 hot1 | grep -q ."
}

@test "xenchan-send --create: delivery proven as consumed by the guest" {
	head -c 100000 /dev/urandom >"$SIM_DIR/cfg"
	run timeout "$T" xenchan-send -v --create hot1 org.example.sink.9 "$SIM_DIR/cfg"
	assert_success
	assert_line --partial 'delivered 100000 bytes: consumed by the guest'
	wait_until "$T" sh -c "grep -q '^100000 ' '$SIM_DIR/sunk'"
}

@test "--create: what the guest wrote after the lines asked for goes with the channel" {
	run bash -c "printf 'a\nb\n' | timeout $T xenchan-cat --create -n 1 hot1 org.example.direct.0"
	assert_success
	assert_output a
	run bash -c "timeout $T xenchan-cat --create -Q 300ms hot1 org.example.direct.0 </dev/null"
	assert_success
	assert_output ''
}
