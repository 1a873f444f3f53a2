#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-sim, the emulated host's toolstack: usage, lifecycle, exec.

load helpers
sim_host_per_file

# Processes whose environment names host directory $1.
host_procs() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null |
			grep -qx "XENCHAN_SIM_DIR=$1" && echo "${p#/proc/}"
	done
	true
}

@test "--help prints usage on stdout and exits 0" {
	run "$XENCHAN_SIM" --help
	assert_success
	assert_line --partial 'Usage: xenchan-sim'
	# Usage to a full disk must not claim success.
	run sh -c '"$0" --help >/dev/full' "$XENCHAN_SIM"
	assert_failure
}

@test "bad usage exits 2 with a hint" {
	run "$XENCHAN_SIM" frobnicate
	assert_failure 2
	assert_output --partial "unknown command"
	assert_output --partial "Try 'xenchan-sim --help'"
	run "$XENCHAN_SIM" create
	assert_failure 2
	run "$XENCHAN_SIM" create --bogus x
	assert_failure 2
	run "$XENCHAN_SIM" exec -D 1
	assert_failure 2
}

@test "env prints the lines that enter the host" {
	run sim env
	assert_success
	assert_line "export XENCHAN_SIM_DIR='$SIM_DIR'"
	assert_line "export XENSTORED_PATH='$SIM_DIR/xenstored/socket'"
	assert_line --regexp "^export LD_PRELOAD='.*/libxenchan-sim.so'$"
}

@test "exec passes the exit status through and sets the domain's environment" {
	run sim exec -- sh -c 'exit 7'
	assert_failure 7
	sim_create exec1
	run sim exec -D "$domid" -- sh -c 'echo "$XENCHAN_SIM_DOMID $XENSTORED_PATH"'
	assert_success
	assert_output "$domid $SIM_DIR/dom$domid/xenbus"
	run sim exec -D 4000 -- true
	assert_failure 2
	assert_output --partial "does not exist"
	sim destroy exec1
}

@test "destroy by domid, and of an unknown domain" {
	sim_create byid
	run sim destroy "$domid"
	assert_success
	run sim destroy byid
	assert_failure
	assert_output --partial "no such domain"
	run sim destroy 0
	assert_failure
}

@test "-D picks the domid; a taken domid is refused" {
	sim_create -D 42 d42
	[ "$domid" = 42 ]
	run sim create -D 42 other
	assert_failure
	sim destroy d42
}

@test "start refuses a second host in the same directory" {
	run sim start "$SIM_DIR"
	assert_failure
	assert_output --partial "already running"
}

@test "a whole lifecycle leaves no process behind" {
	local dir
	dir=$(mktemp -d /tmp/xcs.XXXXXX)
	run timeout "$T" env -u XENCHAN_SIM_DIR -u LD_PRELOAD "$XENCHAN_SIM" start "$dir"
	assert_success
	assert_output "$dir"
	XENCHAN_SIM_DIR=$dir sim create --wait \
		--channel "name=org.example.a.0,connection=socket,path=$dir/a.sock" \
		--channel "name=org.example.b.0,connection=pty" life1
	[ -n "$(host_procs "$dir")" ]
	run sim stop "$dir"
	assert_success
	run host_procs "$dir"
	assert_output ''
	[ ! -e "$dir/hv.sock" ] && [ ! -e "$dir/xenstored/socket" ]
	rm -rf "$dir"
}

@test "start without a directory makes a short one under /tmp" {
	local dir
	run timeout "$T" env -u XENCHAN_SIM_DIR -u LD_PRELOAD "$XENCHAN_SIM" start
	assert_success
	dir=$output
	[[ $dir == /tmp/* ]]
	[ -S "$dir/hv.sock" ]
	run sim stop "$dir"
	assert_success
	rm -rf "$dir"
}

@test "start refuses a directory too long for unix sockets" {
	local dir=/tmp/xcs.$(printf '%0100d' 0)
	run timeout "$T" env -u XENCHAN_SIM_DIR -u LD_PRELOAD "$XENCHAN_SIM" start "$dir"
	assert_failure 2
	assert_output --partial "too long"
	rmdir "$dir"
}
