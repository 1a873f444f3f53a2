#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-cat on the emulated host: round trips over socket and pty channels,
# end of input, backlog, exclusive use, a peer that goes away, usage errors.

load helpers
sim_host_per_file web01_setup

# web01: echo agents on a socket and a pty channel, and a guest that never
# reads; inputs of the sizes the round trips use.
web01_setup() {
	sim_create --channel "name=org.example.echo.0,connection=socket,path=$SIM_DIR/echo.sock" \
		--channel name=org.example.echop.0,connection=pty \
		--channel "name=org.example.stall.0,connection=socket,path=$SIM_DIR/stall.sock" \
		--agent org.example.stall.0=stall web01
	local n
	for n in 0 1 4095 1048576; do
		head -c "$n" /dev/urandom >"$SIM_DIR/in.$n"
	done
}

# held LOCKFILE: the lock file names a live xenchan-cat.
held() {
	local pid
	pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] &&
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = xenchan-cat ]
}

cat_() {
	timeout "$T" xenchan-cat "$@"
}

# roundtrip_cat CHANNEL SIZE: through the echo agent and back, same bytes.
roundtrip_cat() {
	local in=$SIM_DIR/in.$2 out=$SIM_DIR/out.$1.$2
	cat_ web01 "$1" <"$in" >"$out"
	[ "$(stat -c %s "$out")" -eq "$2" ] || {
		echo "$1: $2 bytes sent, $(stat -c %s "$out") received"
		return 1
	}
	[ "$(sha "$in")" = "$(sha "$out")" ]
}

@test "socket: 0 B, 1 B, 4095 B and 1 MiB round trips through an echo agent" {
	local n
	for n in 0 1 4095 1048576; do
		roundtrip_cat org.example.echo.0 "$n"
	done
}

@test "pty: 0 B, 1 B, 4095 B and 1 MiB round trips through an echo agent" {
	local n
	for n in 0 1 4095 1048576; do
		roundtrip_cat org.example.echop.0 "$n"
	done
}

@test "-v says which transport and why, and what was delivered" {
	run cat_ -v web01 org.example.echo.0 <<<hello
	assert_success
	assert_line hello
	assert_line "xenchan-cat: web01/org.example.echo.0: socket: the channel's own transport (no bandwidth asked for)"
	assert_line --partial 'sent 6 bytes: written to the transport; received 6 bytes'
}

@test "--quit-after: 0 returns once the input is delivered, a duration waits for silence" {
	local start
	start=$(date +%s%N)
	run cat_ -Q 0 web01 org.example.echo.0 </dev/null
	assert_success
	[ $((($(date +%s%N) - start) / 1000000)) -lt 900 ]
	start=$(date +%s%N)
	run cat_ -Q 1500ms web01 org.example.echo.0 </dev/null
	assert_success
	[ $((($(date +%s%N) - start) / 1000000)) -ge 1500 ]
}

@test "a second user of the channel is told who holds it (exit 5)" {
	local pid lock
	timeout "$T" xenchan-cat web01 org.example.echo.0 < <(open_input) >/dev/null &
	lock=$XENCHAN_RUNDIR/locks/socket:${SIM_DIR//\//%2F}%2Fecho.sock
	wait_until "$T" held "$lock"
	pid=$(cat "$lock")
	run cat_ web01 org.example.echo.0 </dev/null
	assert_failure 5
	assert_output "xenchan-cat: web01/org.example.echo.0: busy: in use by xenchan-cat (pid $pid)"
	kill "$pid"
	wait "$pid" || true
}

@test "the domain destroyed mid-transfer: exit 4 within a second, with the count" {
	local pid rc=0 start ch ep
	for ch in org.example.d.0 org.example.dp.0; do
		sim_create --channel "name=org.example.d.0,connection=socket,path=$SIM_DIR/d.sock" \
			--channel name=org.example.dp.0,connection=pty doomed1
		ep=$(timeout "$T" xenchan-ls -rn -o ENDPOINT -c "$ch" doomed1)
		timeout "$T" xenchan-cat doomed1 "$ch" < <(open_input) >/dev/null 2>"$SIM_DIR/doomed.err" &
		pid=$!
		wait_until "$T" copying "$(command_pid "$pid" xenchan-cat)" "$ep"
		start=$(date +%s%N)
		sim destroy doomed1
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 4 ]
		[ $((($(date +%s%N) - start) / 1000000)) -le 1000 ]
		run cat "$SIM_DIR/doomed.err"
		assert_output --regexp "^xenchan-cat: doomed1/$ch: peer went away: [0-9]+ of 0 bytes delivered\$"
	done
}

@test "a guest that does not read: -t ends the transfer with 124" {
	run cat_ -t 1s web01 org.example.stall.0 <"$SIM_DIR/in.1048576"
	assert_failure 124
	assert_output --regexp 'timed out delivering: [0-9]+ of [0-9]+ bytes delivered'
}

@test "--backlog: keep hands over what the guest sent before, discard drops it" {
	local g
	# Each guest writes 3000 bytes, then leaves a mark: qemu buffers them
	# until a client comes.
	for g in src1 src2; do
		sim_create --channel "name=org.example.src.0,connection=socket,path=$SIM_DIR/$g.sock" \
			--agent "org.example.src.0=cmd:head -c 3000 /dev/zero; : >$SIM_DIR/$g.sent" "$g"
	done
	wait_until "$T" test -e "$SIM_DIR/src1.sent" -a -e "$SIM_DIR/src2.sent"
	run bash -c "timeout $T xenchan-cat -Q 500ms src1 org.example.src.0 </dev/null | wc -c"
	assert_output 3000
	run bash -c "timeout $T xenchan-cat --backlog=discard -Q 500ms src2 org.example.src.0 </dev/null | wc -c"
	assert_output 0
}

@test "a closed stdout ends the command quietly" {
	run bash -c "timeout $T xenchan-cat web01 org.example.echo.0 <'$SIM_DIR/in.1048576' | head -c 10 | wc -c; echo \${PIPESTATUS[0]}"
	assert_output $'10\n0'
}

@test "no such domain or channel: exit 3" {
	run cat_ nosuch org.example.echo.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: nosuch: no such domain'
	run cat_ web01 org.example.nosuch.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: web01/org.example.nosuch.0: no such channel'
}

@test "--wait: waits for a channel that appears later" {
	timeout "$T" xenchan-cat --wait=10s late1 org.example.late.0 <<<late >"$SIM_DIR/late.out" &
	local pid=$!
	# Waiting for a domain that does not exist yet.
	wait_until "$T" sleeping "$(command_pid "$pid" xenchan-cat)"
	sim_create --channel "name=org.example.late.0,connection=socket,path=$SIM_DIR/late.sock" late1
	wait "$pid"
	run cat "$SIM_DIR/late.out"
	assert_output late
	run cat_ --wait=300ms never1 org.example.x.0 </dev/null
	assert_failure 124
}

@test "usage errors exit 2" {
	run cat_
	assert_failure 2
	assert_line --index 0 'xenchan-cat: no DOMAIN given'
	run cat_ web01
	assert_failure 2
	assert_line --index 0 'xenchan-cat: no CHANNEL given'
	run cat_ web01 org.example.echo.0 extra
	assert_failure 2
	run cat_ --bogus web01 org.example.echo.0
	assert_failure 2
	assert_line --index 0 'xenchan-cat: --bogus: unknown option'
	assert_line --index 1 "Try 'xenchan-cat --help' for more information."
	run cat_ -Q soon web01 org.example.echo.0
	assert_failure 2
	assert_output --partial '--quit-after: soon: not a duration'
	run cat_ --backlog=maybe web01 org.example.echo.0 </dev/null
	assert_failure 2
	run cat_ -e '^1' web01 org.example.echo.0 </dev/null
	assert_failure 2
	# No vchan endpoint with that name: nothing of that transport to open.
	run cat_ -T vchan web01 org.example.echo.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: web01/org.example.echo.0: no such channel'
	run cat_ --strict web01 org.example.echo.0 </dev/null
	assert_failure 2
	assert_output --partial '--strict needs --bandwidth'
	run cat_ -b fast web01 org.example.echo.0 </dev/null
	assert_failure 2
	assert_output --partial '--bandwidth: fast: not a rate'
	run cat_ --create -T socket web01 org.example.echo.0 </dev/null
	assert_failure 2
	assert_output --partial '--create needs --transport direct'
}

@test "--bandwidth above a console ring: no vchan endpoint, so a warning and the channel; --strict fails" {
	run bash -c "printf 'fast\n' | timeout $T xenchan-cat -Q 300ms -b 40M web01 org.example.echo.0"
	assert_success
	assert_line --partial 'xenchan-cat: web01/org.example.echo.0: warning: 40 MiB/s asked for, more than the 4 MiB/s a console ring carries, but the guest publishes no vchan endpoint for it: using the channel'
	assert_output --partial fast
	run bash -c "printf 'fast\n' | timeout $T xenchan-cat -b 40M --strict web01 org.example.echo.0"
	assert_failure 2
	assert_output --partial 'publishes no vchan endpoint for it (--strict)'
	# The threshold is configurable.
	run bash -c "printf 'slow\n' | XENCHAN_RING_RATE=100M timeout $T xenchan-cat -v -Q 300ms -b 40M --strict web01 org.example.echo.0"
	assert_success
	assert_line --partial 'within what a console ring carries (100 MiB/s)'
}

@test "--help and --version go to stdout; a full stdout is an error" {
	run cat_ --help
	assert_success
	assert_line --index 0 --partial 'Usage: xenchan-cat'
	run cat_ --version
	assert_success
	run bash -c "xenchan-cat --help >/dev/full"
	assert_failure 2
}
