#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/first-boot on the emulated host: the dom0 agent configures each
# new guest over its channel (xenchan-ls --poll, xenchan-cat, xenchan-send);
# the guest agent is the example's own, run as the guest's emulated agent.

load helpers
sim_host_per_file

EX=$top_srcdir/examples/first-boot
CH=org.example.firstboot.0

# guest NAME AGENT: a guest with the first-boot channel and that agent.
guest() {
	sim create --channel "name=$CH,connection=socket,path=$SIM_DIR/$1.sock" \
		--agent "$CH=$2" "$1" >/dev/null
}

@test "three guests at once, one stuck: two configured without waiting for it, the third reported" {
	mkdir -p "$SIM_DIR/conf"
	for g in fb1 fb2 fb3; do
		printf 'hostname=%s\naddress=192.0.2.%d\n' "$g" "${g#fb}" >"$SIM_DIR/conf/$g.cfg"
	done
	# fb2's by UUID, as an orchestrator would name it.
	local uuid2=5e1f0000-0000-4000-8000-0000000f0b02
	mv "$SIM_DIR/conf/fb2.cfg" "$SIM_DIR/conf/$uuid2.cfg"
	spawn bash -c "'$EX/dom0-agent' -d '$SIM_DIR/conf' -t 5 -n 3 >'$SIM_DIR/agent.out' 2>'$SIM_DIR/agent.err'; echo \$? >'$SIM_DIR/agent.rc'"
	local start=$SECONDS
	guest fb1 "cmd:sh $EX/guest-agent - $SIM_DIR/fb1.conf" &
	sim create -u "$uuid2" --channel "name=$CH,connection=socket,path=$SIM_DIR/fb2.sock" \
		--agent "$CH=cmd:sh $EX/guest-agent - $SIM_DIR/fb2.conf" fb2 >/dev/null &
	guest fb3 stall &
	wait
	wait_until "$T" test -s "$SIM_DIR/agent.rc"
	run cat "$SIM_DIR/agent.rc"
	assert_output 1
	run cat "$SIM_DIR/agent.out"
	assert_line --regexp "^configured fb1 [0-9a-f-]{36} [0-9]+ [0-9]+\$"
	assert_line --regexp "^configured fb2 $uuid2 [0-9]+ [0-9]+\$"
	assert_line --regexp "^stuck fb3 [0-9a-f-]{36} [0-9]+ hello: no answer within 5 s\$"
	# Neither waited for the stuck one: both were done first, each within
	# the time it had.
	[ "${lines[2]%% *}" = stuck ]
	[ "$(echo "$output" | awk '$1 == "configured" && $5 < 5' | wc -l)" = 2 ]
	cmp "$SIM_DIR/conf/fb1.cfg" "$SIM_DIR/fb1.conf"
	cmp "$SIM_DIR/conf/$uuid2.cfg" "$SIM_DIR/fb2.conf"
	run cat "$SIM_DIR/agent.err"
	assert_output ''
	for g in fb1 fb2 fb3; do sim destroy "$g"; done
}

@test "a guest with no configuration is skipped; a guest already there is handled too" {
	mkdir -p "$SIM_DIR/conf2"
	printf 'x=1\n' >"$SIM_DIR/conf2/fb5.cfg"
	guest fb4 "cmd:sh $EX/guest-agent - $SIM_DIR/fb4.conf"
	guest fb5 "cmd:sh $EX/guest-agent - $SIM_DIR/fb5.conf"
	run timeout "$T" "$EX/dom0-agent" -d "$SIM_DIR/conf2" -t 5 -n 2
	assert_failure 1
	assert_line --regexp '^skipped fb4 [0-9a-f-]{36} [0-9]+: no configuration$'
	assert_line --regexp '^configured fb5 '
	cmp "$SIM_DIR/conf2/fb5.cfg" "$SIM_DIR/fb5.conf"
	[ ! -e "$SIM_DIR/fb4.conf" ]
	for g in fb4 fb5; do sim destroy "$g"; done
}

# A guest's tty echoes what came before the agent set it raw: the echo of
# the first HELLO came back as its answer on real Xen ("the guest said
# 'HELLO ...'"), and once HELLO was sent again, the agent's answer to the
# first one came back as the answer to STATUS ("the guest said 'READY 1'").
# fb6's device echoes the first line, as that tty does, and its agent,
# given a line every two seconds, answers it too, after the second HELLO's
# session, when dom0 asks STATUS.
@test "an echo of the handshake from a device not yet raw: asked again, stale answers skipped, configured" {
	mkdir -p "$SIM_DIR/conf3"
	printf 'y=2\n' >"$SIM_DIR/conf3/fb6.cfg"
	guest fb6 "cmd:IFS= read -r l; printf '%s\\r\\n' \"\$l\"; { printf '%s\\n' \"\$l\"; cat; } | while IFS= read -r x; do printf '%s\\n' \"\$x\"; sleep 2; done | sh $EX/guest-agent - $SIM_DIR/fb6.conf"
	run timeout "$T" "$EX/dom0-agent" -d "$SIM_DIR/conf3" -t 20 -n 1
	assert_success
	assert_line --regexp '^configured fb6 '
	cmp "$SIM_DIR/conf3/fb6.cfg" "$SIM_DIR/fb6.conf"
	sim destroy fb6
}

@test "the guest agent: its answers, a bad or too large CONFIG refused" {
	run bash -c "printf 'HELLO x 1\nSTATUS\nCONFIG 5\nabcdeSTATUS\nCONFIG 12x\nCONFIG 99999999\nWHAT\n' |
		sh '$EX/guest-agent' - '$BATS_TEST_TMPDIR/c'"
	assert_success
	assert_output "READY 1
PENDING
APPLIED $(printf abcde | sha256sum | cut -d' ' -f1)
ERROR bad length
ERROR too large
ERROR unknown request"
	run cat "$BATS_TEST_TMPDIR/c"
	assert_output abcde
}

@test "dom0-agent: a wrong option is a usage error" {
	run "$EX/dom0-agent" -t 0
	assert_failure 2
	run "$EX/dom0-agent" -n x
	assert_failure 2
	run "$EX/dom0-agent" extra
	assert_failure 2
}

@test "the xl config template: clean where xl keeps the first channel, a placeholder asked for where it drops it" {
	sed "s/@NAME@/web01/g; s/@UUID@/5e1f0000-0000-4000-8000-000000000001/g" \
		"$EX/guest.cfg.in" >"$BATS_TEST_TMPDIR/web01.cfg"
	run timeout "$T" xenchan-registry-check --no-default-registry -n org.example.firstboot.0 \
		--xen-version 4.21 "$BATS_TEST_TMPDIR/web01.cfg"
	assert_success
	assert_output --partial '0 errors, 0 warnings'
	run timeout "$T" xenchan-registry-check --no-default-registry -n org.example.firstboot.0 \
		--xen-version 4.17 "$BATS_TEST_TMPDIR/web01.cfg"
	assert_output --partial '[config-xl-first-dropped]'
}
