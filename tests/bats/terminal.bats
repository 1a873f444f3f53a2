#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-cat's terminal safety: what a guest sends to a terminal is filtered
# of the controls that act on the terminal (--controls, SECURITY in
# xenchan-cat(1)); a pipe gets every byte.  script(1) gives xenchan-cat a
# terminal as its stdout and copies what reaches it, byte for byte (LF as
# CR LF: the terminal's output processing).

load helpers
sim_host_per_file web01_setup

ESC=$'\033'
CAN=$'\030'

# web01: an echo agent, and an agent that writes the hostile bytes on its own.
web01_setup() {
	command -v script >/dev/null || {
		echo "# script (util-linux) is needed for these tests" >&3
		return 1
	}
	# Text, colours and UTF-8 with a title (OSC 0), the clipboard (OSC 52),
	# a cursor position report (CSI 6n), device attributes (CSI c) and a
	# DECRQSS (DCS ... ST) among them.
	printf '%s' "red:${ESC}[31mR${ESC}[0m title:${ESC}]0;pwned"$'\a'" clip:${ESC}]52;c;cHduZWQ="$'\a'" dsr:${ESC}[6n da:${ESC}[c dcs:${ESC}P\$qm${ESC}\\ héllo €"$'\n' \
		>"$SIM_DIR/hostile"
	printf '%s' "red:${ESC}[31mR${ESC}[0m title:${ESC}${CAN} clip:${ESC}${CAN} dsr:${ESC}[6${CAN} da:${ESC}[${CAN} dcs:${ESC}${CAN} héllo €"$'\n' \
		>"$SIM_DIR/filtered"
	sim_create --channel "name=org.example.echo.0,connection=socket,path=$SIM_DIR/echo.sock" \
		--channel "name=org.example.evil.0,connection=socket,path=$SIM_DIR/evil.sock" \
		--agent "org.example.evil.0=cmd:cat $SIM_DIR/hostile" web01
}

# on_tty OUT IN ARGS...: xenchan-cat ARGS... with a terminal as stdout and
# IN as stdin; what reached the terminal in OUT, with CR LF back to LF.
on_tty() {
	local out=$1 in=$2 q
	shift 2
	printf -v q '%q ' "$@"
	printf -v in '%q' "$in"
	timeout "$T" script -qec "xenchan-cat $q <$in" /dev/null </dev/null >"$out.raw" || return
	tr -d '\r' <"$out.raw" >"$out"
}

# same FILE FILE: the same bytes, else both shown.
same() {
	cmp "$1" "$2" && return
	echo "expected:"
	od -c "$1"
	echo "got:"
	od -c "$2"
	return 1
}

@test "on a terminal: title, clipboard, queries and DCS are dropped; text, colours, UTF-8 pass" {
	on_tty "$SIM_DIR/out" "$SIM_DIR/hostile" web01 org.example.echo.0
	same "$SIM_DIR/filtered" "$SIM_DIR/out"
}

@test "on a terminal: the same when the guest sends it on its own" {
	on_tty "$SIM_DIR/out" /dev/null -Q 500ms web01 org.example.evil.0
	same "$SIM_DIR/filtered" "$SIM_DIR/out"
}

@test "--controls=pass on a terminal: every byte arrives" {
	on_tty "$SIM_DIR/out" "$SIM_DIR/hostile" --controls=pass web01 org.example.echo.0
	same "$SIM_DIR/hostile" "$SIM_DIR/out"
}

@test "to a pipe: every byte arrives by default, and with --controls=auto" {
	local m
	for m in "" --controls=auto; do
		timeout "$T" xenchan-cat $m web01 org.example.echo.0 <"$SIM_DIR/hostile" | cat >"$SIM_DIR/out"
		same "$SIM_DIR/hostile" "$SIM_DIR/out"
	done
}

@test "--controls=filter to a pipe filters" {
	timeout "$T" xenchan-cat --controls=filter web01 org.example.echo.0 \
		<"$SIM_DIR/hostile" | cat >"$SIM_DIR/out"
	same "$SIM_DIR/filtered" "$SIM_DIR/out"
}

@test "-v says how many sequences were dropped" {
	run timeout "$T" xenchan-cat -v --controls=filter web01 org.example.echo.0 \
		<"$SIM_DIR/hostile"
	assert_success
	assert_line "xenchan-cat: filtered 5 terminal control sequences"
	run timeout "$T" xenchan-cat -v web01 org.example.echo.0 <"$SIM_DIR/hostile"
	assert_success
	refute_line --partial "filtered"
}

@test "--controls: a value not auto, filter or pass is a usage error" {
	local v
	for v in '' raw FILTER 'filter '; do
		run timeout "$T" xenchan-cat --controls="$v" web01 org.example.echo.0 </dev/null
		assert_failure 2
		assert_line "xenchan-cat: --controls: $v: not auto, filter or pass"
		assert_line "Try 'xenchan-cat --help' for more information."
	done
}

@test "bash: --controls completes its values" {
	run complete_bash xenchan-cat --controls ''
	assert_output $'auto\nfilter\npass'
	run complete_bash xenchan-cat --controls f
	assert_output filter
}
