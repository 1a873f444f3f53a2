#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-cat on the emulated host: round trips over socket and pty channels,
# end of input, backlog, exclusive use, a peer that goes away, usage errors.

load helpers
sim_host_per_file web01_setup

# web01: echo agents on a socket and a pty channel, a guest that never
# reads, one that never goes quiet, one that answers each line after 1.5 s
# (later than -Q's default second) and leaves a mark, one that answers with
# two lines in one write; inputs of the sizes the round trips use.
web01_setup() {
	sim_create --channel "name=org.example.echo.0,connection=socket,path=$SIM_DIR/echo.sock" \
		--channel name=org.example.echop.0,connection=pty \
		--channel "name=org.example.stall.0,connection=socket,path=$SIM_DIR/stall.sock" \
		--channel "name=org.example.tick.0,connection=socket,path=$SIM_DIR/tick.sock" \
		--channel "name=org.example.slow.0,connection=socket,path=$SIM_DIR/slow.sock" \
		--channel "name=org.example.two.0,connection=socket,path=$SIM_DIR/two.sock" \
		--agent org.example.stall.0=stall \
		--agent "org.example.tick.0=cmd:while :; do echo tick; sleep 0.1; done" \
		--agent "org.example.slow.0=cmd:while read l; do sleep 1.5; echo reply-\$l; : >$SIM_DIR/slow.\$l; done" \
		--agent "org.example.two.0=cmd:while read l; do printf 'one\\ntwo\\n'; done" web01
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
	assert_output 'xenchan-cat: web01/org.example.echo.0: no vchan endpoint (the channel has: socket)'
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

# ms_since START: milliseconds since START, a `date +%s%N`.
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

@test "--max-time: a guest that never goes quiet ends with 124 after what came is printed" {
	local start rc=0
	start=$(date +%s%N)
	timeout "$T" xenchan-cat --max-time 1s web01 org.example.tick.0 <<<hi \
		>"$SIM_DIR/tick.out" 2>"$SIM_DIR/tick.err" || rc=$?
	[ "$rc" -eq 124 ]
	[ "$(ms_since "$start")" -ge 1000 ]
	[ "$(ms_since "$start")" -lt 3000 ]
	run grep -c '^tick$' "$SIM_DIR/tick.out"
	[ "$output" -ge 2 ]
	run cat "$SIM_DIR/tick.err"
	assert_output "xenchan-cat: web01/org.example.tick.0: max-time 1s reached: $(stat -c %s "$SIM_DIR/tick.out") bytes received, 3 of 3 bytes sent delivered"
}

@test "--max-time bounds the wait for the channel too" {
	local start
	start=$(date +%s%N)
	run cat_ --wait=20s --max-time 500ms never2 org.example.x.0 </dev/null
	assert_failure 124
	assert_output 'xenchan-cat: never2/org.example.x.0: max-time 500ms reached before the channel was open'
	[ "$(ms_since "$start")" -lt 3000 ]
	# 0 is no limit.
	run bash -c "echo zero | timeout $T xenchan-cat --max-time 0 -n 1 web01 org.example.echo.0"
	assert_success
	assert_output zero
}

@test "--lines 1 waits for a reply slower than -Q; the one -Q gave up on comes first next time" {
	# By silence: the reply comes 1.5 s later, after a second of silence.
	run bash -c "echo a | timeout $T xenchan-cat web01 org.example.slow.0"
	assert_success
	assert_output ''
	# qemu kept it for the next client: it opens the next session.
	wait_until "$T" test -e "$SIM_DIR/slow.a"
	run bash -c "echo b | timeout $T xenchan-cat -n 1 web01 org.example.slow.0"
	assert_success
	assert_output reply-a
	# --backlog=discard drops it, and the reply to this request is the line.
	wait_until "$T" test -e "$SIM_DIR/slow.b"
	run bash -c "echo c | timeout $T xenchan-cat --backlog=discard -n 1 web01 org.example.slow.0"
	assert_success
	assert_output reply-c
}

@test "--lines: what follows the last line is dropped, and no later session gets it" {
	run bash -c "echo x | timeout $T xenchan-cat -v -n 1 web01 org.example.two.0 2>'$SIM_DIR/two.err'"
	assert_success
	assert_output one
	run cat "$SIM_DIR/two.err"
	assert_line --regexp '^xenchan-cat: web01/org.example.two.0: 1 of 1 lines received; [0-9]+ bytes after them discarded$'
	run bash -c "timeout $T xenchan-cat -Q 300ms web01 org.example.two.0 </dev/null"
	assert_success
	assert_output ''
	run bash -c "echo x | timeout $T xenchan-cat -n 2 web01 org.example.two.0"
	assert_success
	assert_output $'one\ntwo'
	# Fewer lines than asked for: --max-time ends it, with what came.
	run bash -c "echo x | timeout $T xenchan-cat -n 3 --max-time 1s web01 org.example.two.0 2>/dev/null"
	assert_failure 124
	assert_output $'one\ntwo'
}

@test "--lines: the guest going away before the lines came is exit 4" {
	local pid rc=0
	sim_create --channel "name=org.example.g.0,connection=socket,path=$SIM_DIR/g.sock" \
		--agent "org.example.g.0=cmd:read l; echo first" doomed2
	timeout "$T" xenchan-cat -n 2 doomed2 org.example.g.0 <<<req \
		>"$SIM_DIR/g.out" 2>"$SIM_DIR/g.err" &
	pid=$!
	wait_until "$T" has_lines "$SIM_DIR/g.out" 1
	sim destroy doomed2
	wait "$pid" || rc=$?
	[ "$rc" -eq 4 ]
	run cat "$SIM_DIR/g.out"
	assert_output first
	run cat "$SIM_DIR/g.err"
	assert_line 'xenchan-cat: doomed2/org.example.g.0: peer went away after 1 of 2 lines'
}

@test "-w DURATION as a separate word: the wait before DOMAIN CHANNEL, else the domain" {
	local start
	start=$(date +%s%N)
	run cat_ -w 300ms never3 org.example.x.0 </dev/null
	assert_failure 124
	assert_output 'xenchan-cat: never3/org.example.x.0: timed out waiting for the channel'
	[ "$(ms_since "$start")" -lt 5000 ]
	run bash -c "echo late | timeout $T xenchan-cat web01 --wait 2 org.example.echo.0"
	assert_success
	assert_output late
	# A real domain name after a bare -w.
	run bash -c "echo named | timeout $T xenchan-cat -w web01 org.example.echo.0"
	assert_success
	assert_output named
	# A domain named like a duration, as the only word before CHANNEL.
	sim_create --channel "name=org.example.e1.0,connection=socket,path=$SIM_DIR/e1.sock" 1s
	run bash -c "echo one-s | timeout $T xenchan-cat -w 1s org.example.e1.0"
	assert_success
	assert_output one-s
	run cat_ -w 1s web01 org.example.echo.0 extra </dev/null
	assert_failure 2
	assert_line --index 0 'xenchan-cat: extra: unexpected argument'
}

@test "--lines and --max-time: bad values are usage errors" {
	local v
	for v in 0 -1 junk 1.5 '' 4294967296 99999999999999999999; do
		run cat_ -n "$v" web01 org.example.echo.0 </dev/null
		assert_failure 2
		assert_line --index 0 --regexp "^xenchan-cat: --lines: $v: (not a number of lines \\(1 or more\\)|too many \\(at most 4294967295\\))\$"
	done
	for v in soon -1 1x ''; do
		run cat_ --max-time "$v" web01 org.example.echo.0 </dev/null
		assert_failure 2
		assert_line --index 0 --partial "--max-time: $v: not a duration"
	done
	run cat_ --max-time 99999999999999999999d web01 org.example.echo.0 </dev/null
	assert_failure 2
	assert_line --index 0 --partial 'too long'
}

@test "SIGTERM after a complete reply: what came is there, and the command dies of it" {
	local pid rc=0
	timeout "$T" xenchan-cat -Q never web01 org.example.echo.0 < <(echo hi; open_input) \
		>"$SIM_DIR/term.out" 2>"$SIM_DIR/term.err" &
	pid=$!
	wait_until "$T" has_lines "$SIM_DIR/term.out" 1
	kill -TERM "$(command_pid "$pid" xenchan-cat)"
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	run cat "$SIM_DIR/term.out"
	assert_output hi
	run cat "$SIM_DIR/term.err"
	assert_output 'xenchan-cat: web01/org.example.echo.0: interrupted: 3 bytes delivered'
}
