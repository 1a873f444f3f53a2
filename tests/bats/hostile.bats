#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile input on the emulated host, in one place: a guest that forges its
# keys, names and ring indices; a caller that closes standard descriptors,
# sends signals at any moment or passes absurd values; a xenstored that stops
# answering or dies.  Each test's name says what the commands must do.

load helpers
sim_host_per_file web01_setup

DRIVER=$top_builddir/tests/unit/test-direct

# web01: a sink agent on a socket channel, and a guest that never reads.
web01_setup() {
	if [ ! -x "$DRIVER" ]; then
		echo "# $DRIVER is missing: run make check (it builds the driver)" >&3
		return 1
	fi
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/agent.sock" \
		--channel "name=org.example.stall.0,connection=socket,path=$SIM_DIR/stall.sock" \
		--agent "org.example.agent.0=sink:$SIM_DIR/agent.sunk" \
		--agent org.example.stall.0=stall web01
	export WEB01=$domid
}

ls_() {
	timeout "$T" xenchan-ls "$@"
}

# The direct transport's test driver (tests/unit/test-direct), bounded.
direct() {
	timeout "$T" "$DRIVER" -t 20000 "$@"
}

# ---- What a guest writes: its keys and its ring ----

@test "a guest cannot rename its channel; a renamed frontend is reported, never believed" {
	local d
	d=$WEB01
	run in_domain "$d" xenstore-write "/local/domain/$d/device/console/1/name" evil
	assert_failure
	# An old toolstack that left the key writable by the guest (before XSA-57).
	timeout "$T" xenstore-chmod "/local/domain/$d/device/console/1/name" "n$d" || false
	run in_domain "$d" xenstore-write "/local/domain/$d/device/console/1/name" $'evil\e[31mred'
	assert_success
	run ls_ -rn -o CHANNEL,TRUST,FENAME -c org.example.agent.0 web01
	assert_success
	assert_output 'org.example.agent.0 name-mismatch evil\x1b[31mred'
	run ls_ -n -o CHANNEL,TRUST,FENAME -c org.example.agent.0 web01
	assert_output --regexp '^org.example.agent.0 +name-mismatch +evil\\x1b\[31mred$'
	run ls_ -J -o FENAME -c org.example.agent.0 web01
	assert_output --partial '"fename": "evil\\x1b[31mred"'
	run ls_ -c evil web01
	refute_output --partial evil
	timeout "$T" xenstore-write "/local/domain/$d/device/console/1/name" org.example.agent.0
	timeout "$T" xenstore-chmod "/local/domain/$d/device/console/1/name" n0 "r$d"
}

@test "a device with no trusted copy is listed as untrusted, escaped" {
	local d fe
	d=$WEB01
	fe=/local/domain/$d/device/console/7
	# Another toolstack made a frontend and left it to the guest.
	timeout "$T" xenstore-write "$fe" "" || false
	timeout "$T" xenstore-chmod "$fe" "n$d" || false
	run in_domain "$d" xenstore-write "$fe/name" $'org.\e]0;pwned\a' "$fe/state" 1 \
		"$fe/backend" /etc/passwd
	assert_success
	run ls_ -rn -o DEVID,CHANNEL,STATE,TRUST web01
	assert_success
	assert_line '7 org.\x1b]0;pwned\x07 no-backend no-trusted-copy,guest-writable,bad-value'
	# Nothing raw reaches the terminal in any format.
	for fmt in "" -r -P -J; do
		run ls_ $fmt web01
		refute_output --partial $'\e'
		refute_output --partial $'\a'
	done
	timeout "$T" xenstore-rm "$fe"
}

@test "hostile guest: impossible out_prod, flapping out_prod, corrupt in_cons: -EPROTO" {
	sim_create --agent org.example.prod.0=hostile:prod \
		--agent org.example.flap.0=hostile:flap \
		--agent org.example.inprod.0=hostile:inprod evil01
	local m
	for m in prod flap inprod; do
		run direct drain "$domid" "org.example.$m.0"
		echo "$m: $output"
		assert_failure 2
		assert_line 'error: EPROTO'
		assert_line --partial 'impossible'
		refute_line --partial 'AddressSanitizer'
		refute_line --partial 'runtime error'
		device_gone "$domid" 1
	done
}
