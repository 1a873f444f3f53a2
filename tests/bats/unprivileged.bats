#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-sim and xenchan's commands as a plain user, as in an unprivileged CI
# job: the README's demo (tests/sim/demo.sh), and a host with ls, cat and send
# whose lock files live in the host's directory (xenchan-sim env).  Run as
# root, the tests make a user of their own; run as anybody else they cannot,
# and skip saying so.

load helpers

setup_file() {
	local f
	if [ "$(id -u)" -ne 0 ]; then
		return 0
	fi
	# A name of our own, so that parallel runs do not meet.
	XC_USER=xcsim$$
	export XC_USER
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$XC_USER" || return 1
	# The emulator and the commands as a copy the user can reach, laid out
	# as in the build tree (the tree itself may be in root's home), like an
	# installed xenchan-sim.
	XC_TREE=$(mktemp -d /tmp/xcu.XXXXXX) || return 1
	export XC_TREE
	chmod 755 "$XC_TREE"
	mkdir "$XC_TREE/tests" "$XC_TREE/tests/sim" "$XC_TREE/cmd" || return 1
	for f in xenchan-sim xenchan-sim-hv xenchan-sim-guest xenchan-sim-hvc xenchan-sim-qemu \
		xenchan-sim-console libxenchan-sim.so; do
		cp "$top_builddir/tests/sim/$f" "$XC_TREE/tests/sim/" || return 1
	done
	cp "$top_srcdir/tests/sim/demo.sh" "$XC_TREE/tests/sim/" || return 1
	mkdir -p "$XC_TREE/examples" && cp -r "$top_srcdir/examples/first-boot" "$XC_TREE/examples/" ||
		return 1
	for f in cat ls send wait registry-check; do
		cp "$top_builddir/cmd/xenchan-$f" "$XC_TREE/cmd/" || return 1
	done
	cp "$top_srcdir/tests/lsan.supp" "$XC_TREE/" || return 1
	chmod -R a+rX "$XC_TREE"
}

teardown_file() {
	if [ -n "${XC_USER:-}" ]; then
		userdel "$XC_USER"
	fi
	if [ -n "${XC_TREE:-}" ]; then
		rm -rf "$XC_TREE"
	fi
}

setup() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "needs root to make a plain user (useradd) and run as it (setpriv)"
	fi
	SIM=$XC_TREE/tests/sim/xenchan-sim
	USER_DIR=
}

teardown() {
	local p
	if [ -n "${USER_DIR:-}" ]; then
		as_user timeout "$T" "$SIM" stop "$USER_DIR" || true
		rm -rf "$USER_DIR"
	fi
	# Whatever the user still runs (nothing, when the test passed).
	for p in $(pgrep -u "$XC_USER"); do
		kill -9 "$p" 2>/dev/null || true
	done
}

# CMD... as the test's user, with this environment but no XENCHAN_RUNDIR, and
# the copy's sanitizer suppressions.
as_user() {
	setpriv --reuid="$XC_USER" --regid="$(id -g "$XC_USER")" --init-groups \
		env -u XENCHAN_RUNDIR HOME=/nonexistent top_builddir="$XC_TREE" \
		LSAN_OPTIONS="suppressions=$XC_TREE/lsan.supp:print_suppressions=0" "$@"
}

# The user runs no process (zombies aside).
no_user_procs() {
	! ps -u "$XC_USER" -o stat= | grep -qv '^Z'
}

# A host started by the user: its directory in USER_DIR.
user_host() {
	USER_DIR=$(as_user timeout "$T" "$SIM" start) || return 1
	[ "$(stat -c %U "$USER_DIR")" = "$XC_USER" ]
}

# The placeholder first channel entry, where the host's xl drops the first.
user_first() {
	first=()
	if in_user_host timeout "$T" xenchan-sim status | grep -q '^first-channel: dropped'; then
		first=(--channel name=org.example.dummy,connection=pty)
	fi
}

# CMD... as the user, inside its host as dom0.
in_user_host() {
	as_user bash -c 'eval "$("$0" env "$1")" && shift && "$@"' \
		"$SIM" "$USER_DIR" "$@"
}

@test "the demo runs as a plain user" {
	local rc=0
	# Into a file: a process of the demo left running at its timeout must
	# not hold the test's output open (it hung a run until killed).
	as_user timeout -k 5 120 "$XC_TREE/tests/sim/demo.sh" >"$BATS_TEST_TMPDIR/demo.out" 2>&1 ||
		rc=$?
	run cat "$BATS_TEST_TMPDIR/demo.out"
	echo "demo: exit $rc"
	[ "$rc" -eq 0 ]
	assert_line 'hello web01'
	assert_line 'hello db01'
	assert_line 'hello again'
	assert_line 'hello pty'
	assert_line 'same'
	assert_line --regexp '^configured fb1 '
	assert_line --regexp '^configured fb2 '
	assert_line --regexp '^stuck fb3 .* hello: no answer within 3 s$'
	refute_output --partial 'Permission denied'
	# The host it stopped leaves nothing running (zombies wait to be reaped).
	wait_until 10 no_user_procs
}

@test "a plain user's host: ls, cat and send work, the locks are in the host's directory" {
	local first
	user_host
	user_first
	run in_user_host timeout "$T" xenchan-sim create --wait "${first[@]}" \
		--channel "name=org.example.agent.0,connection=socket,path=$USER_DIR/a.sock" \
		--channel name=org.example.pty.0,connection=pty \
		--channel "name=org.example.sink.0,connection=socket,path=$USER_DIR/s.sock" \
		--agent "org.example.sink.0=sink:$USER_DIR/sunk" web01
	assert_success
	run in_user_host timeout "$T" xenchan-ls -rn -o CHANNEL,STATE -c org.example.agent.0 web01
	assert_success
	assert_output 'org.example.agent.0 connected'
	run in_user_host sh -c 'echo as a user | timeout "$0" xenchan-cat -Q 1s web01 org.example.agent.0' "$T"
	assert_success
	assert_output 'as a user'
	run in_user_host sh -c 'echo pty as a user | timeout "$0" xenchan-cat -Q 1s web01 org.example.pty.0' "$T"
	assert_success
	assert_output 'pty as a user'
	head -c 10000 /dev/urandom >"$USER_DIR/blob"
	chmod 644 "$USER_DIR/blob"
	run in_user_host timeout "$T" xenchan-send web01 org.example.sink.0 "$USER_DIR/blob"
	assert_success
	wait_until 10 sunk "$USER_DIR/sunk" 10000
	# The lock files were made in the host, by the user.
	run find "$USER_DIR/run/locks" -type f -user "$XC_USER"
	assert_line --partial "socket:"
	assert_line --partial "pty:"
}

@test "a plain user without the host's XENCHAN_RUNDIR is told which lock step failed" {
	local first
	user_host
	user_first
	in_user_host timeout "$T" xenchan-sim create --wait "${first[@]}" \
		--channel "name=org.example.agent.0,connection=socket,path=$USER_DIR/a.sock" web01 \
		2>/dev/null
	# The default lock directory is root's.
	run in_user_host env -u XENCHAN_RUNDIR timeout "$T" xenchan-cat web01 org.example.agent.0 \
		</dev/null
	assert_failure 2
	assert_output --regexp "^xenchan-cat: web01/org.example.agent.0: lock (directory /run/xenchan/locks|file /run/xenchan/locks/socket:[^ ]*): Permission denied\$"
}
