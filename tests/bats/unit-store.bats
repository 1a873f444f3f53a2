#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The unit tests that need a xenstored (tests/unit/test-store, test-channel,
# test-monitor, ...),
# run as dom0 on an emulated host.  Each program's TAP must pass as a whole.

load helpers
sim_host_per_file

# run_tap PROGRAM: run a TAP unit test, bounded; fail with its output unless
# it exits 0, printed a plan, and has no failing or missing test.
run_tap() {
	local prog=$top_builddir/tests/unit/$1
	if [ ! -x "$prog" ]; then
		echo "$prog is missing: run make check (it builds the unit tests)"
		return 1
	fi
	# Watches wait up to 5 s each inside test-store; a sanitized build is slower.
	run timeout "$((T * 3))" "$prog"
	if [ "$status" -ne 0 ] || grep -q '^not ok' <<<"$output" ||
		grep -q '^Bail out!' <<<"$output" || ! grep -Eq '^1\.\.[1-9]' <<<"$output"; then
		echo "$1 exited $status:"
		echo "$output"
		return 1
	fi
}

@test "test-store: lib/store.c against the real xenstored" {
	run_tap test-store
}

@test "test-session: lookup, wait, lock and session on the real xenstored" {
	run_tap test-session
}

@test "test-follow --store: lib/follow.c's trusted keys and wait on the real xenstored" {
	run timeout "$((T * 3))" "$top_builddir/tests/unit/test-follow" --store
	if [ "$status" -ne 0 ] || grep -q '^not ok' <<<"$output" ||
		! grep -Eq '^1\.\.[1-9]' <<<"$output"; then
		echo "test-follow --store exited $status:"
		echo "$output"
		return 1
	fi
}

@test "test-channel: lib/channel.c on fake xenstore layouts" {
	run_tap test-channel
}

@test "test-channel leaves no node behind" {
	run timeout "$T" xenstore-ls /local/domain
	assert_success
	refute_output --regexp '^ ?320[0-9][0-9] = '
	run timeout "$T" xenstore-exists /libxl/32000
	assert_failure
}

@test "test-monitor: lib/monitor.c's events on the real xenstored" {
	run_tap test-monitor
}
