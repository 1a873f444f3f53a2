#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Channels end to end: a guest agent on its hvc device, the emulated qemu
# backend, and socat on the dom0 end (socket and pty).

load helpers
sim_host_per_file web01_setup

# web01: echo agents on a socket and a pty channel.
web01_setup() {
	export CHAN_SOCK=$SIM_DIR/web01.sock
	sim_create \
		--channel "name=org.example.agent.0,connection=socket,path=$CHAN_SOCK" \
		--channel "name=org.example.pty.0,connection=pty" \
		--agent org.example.agent.0=echo --agent org.example.pty.0=echo web01
	export WEB01=$domid
}

@test "both ends of every channel are Connected" {
	local fe=/local/domain/$WEB01/device/console be=/local/domain/0/backend/console/$WEB01
	run xs_read "$fe/1/state" "$be/1/state" "$fe/2/state" "$be/2/state"
	assert_success
	assert_output $'4\n4\n4\n4'
	run xs_read "$fe/1/ring-ref" "$fe/1/port"
	assert_success
	assert_line --index 0 --regexp '^[0-9]+$'
	assert_line --index 1 --regexp '^[0-9]+$'
}

@test "a line round-trips through the socket channel's echo agent" {
	printf 'hello, web01\n' >"$SIM_DIR/line"
	run roundtrip UNIX-CONNECT:"$CHAN_SOCK" "$SIM_DIR/line" "$SIM_DIR/line.out"
	assert_success
	run cat "$SIM_DIR/line.out"
	assert_output 'hello, web01'
}

@test "64 KiB of random bytes round-trip through the socket channel" {
	head -c 65536 /dev/urandom >"$SIM_DIR/rand"
	run roundtrip UNIX-CONNECT:"$CHAN_SOCK" "$SIM_DIR/rand" "$SIM_DIR/rand.out"
	assert_success
	[ "$(sha "$SIM_DIR/rand.out")" = "$(sha "$SIM_DIR/rand")" ]
}

@test "a line round-trips through the pty channel's echo agent" {
	local tty
	tty=$(xs_read "/local/domain/$WEB01/device/console/2/tty")
	[[ $tty == /dev/pts/* ]]
	# The pty path appears only in the frontend tty key.
	run timeout "$T" xenstore-exists "/local/domain/0/backend/console/$WEB01/2/path"
	assert_failure
	printf 'hello, pty\n' >"$SIM_DIR/pline"
	run roundtrip "$tty",raw,echo=0 "$SIM_DIR/pline" "$SIM_DIR/pline.out"
	assert_success
	run cat "$SIM_DIR/pline.out"
	assert_output 'hello, pty'
}

# FNV-1a, 64 bits, of a file, as 16 hex digits (the sink agent's checksum).
fnv1a64() {
	local h=-3750763034362895579 b
	for b in $(od -An -v -tu1 "$1"); do
		h=$(((h ^ b) * 1099511628211))
	done
	printf '%016x\n' "$h"
}

@test "a sink agent consumes what dom0 sends" {
	local sock=$SIM_DIR/sink.sock
	sim_create --channel "name=org.example.sink.0,connection=socket,path=$sock" \
		--agent "org.example.sink.0=sink:$SIM_DIR/sunk" sink1
	head -c 10000 /dev/urandom >"$SIM_DIR/tosink"
	# Like qemu, the backend drops a client that hangs up with input it has not
	# yet put on the ring: stay connected until the agent has everything.
	cat >"$SIM_DIR/send.sh" <<-EOF
		#!/bin/sh
		cat '$SIM_DIR/tosink'
		until grep -q '^10000 ' '$SIM_DIR/sunk'; do sleep 0.05; done
	EOF
	chmod +x "$SIM_DIR/send.sh"
	run timeout "$T" socat UNIX-CONNECT:"$sock" EXEC:"$SIM_DIR/send.sh"
	assert_success
	run cat "$SIM_DIR/sunk"
	assert_output "10000 $(fnv1a64 "$SIM_DIR/tosink")"
	sim destroy sink1
}

@test "a cmd agent runs a shell command on the channel" {
	local sock=$SIM_DIR/upper.sock
	sim_create --channel "name=org.example.upper.0,connection=socket,path=$sock" \
		--agent 'org.example.upper.0=cmd:while read -r l; do echo "got $l"; done' upper1
	printf 'shout\n' >"$SIM_DIR/word"
	run roundtrip UNIX-CONNECT:"$sock" "$SIM_DIR/word" "$SIM_DIR/word.out" 10
	assert_success
	run cat "$SIM_DIR/word.out"
	assert_output 'got shout'
	sim destroy upper1
}

@test "destroying the domain removes the channel's socket server" {
	local sock=$SIM_DIR/short.sock
	sim_create --channel "name=org.example.short.0,connection=socket,path=$sock" short1
	[ -S "$sock" ]
	run sim destroy short1
	assert_success
	run timeout "$T" socat -u /dev/null UNIX-CONNECT:"$sock"
	assert_failure
}
