# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the bats tests: an emulated Xen host per test file.
#
#   setup_file()    { sim_start; }
#   teardown_file() { sim_stop; }
#
# make check exports top_builddir, top_srcdir (absolute) and XENSTORED.  Run by
# hand, the tree the test file lives in is used as both.  Every call that could
# block is bounded by `timeout $T`; a test that cannot run fails, it never skips.

bats_load_library bats-support
bats_load_library bats-assert

: "${top_builddir:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${top_srcdir:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
SIM_BIN=$top_builddir/tests/sim
XENCHAN_SIM=$SIM_BIN/xenchan-sim
# Seconds one step may take before the test fails; xenchan-sim's own bound is
# shorter so that its message, not timeout(1)'s silence, says what hung.
T=${XENCHAN_TEST_TIMEOUT:-30}
export XENCHAN_SIM_TIMEOUT=${XENCHAN_SIM_TIMEOUT:-10}

# An ASan build of the commands runs with the preload library loaded first.
if [ "${ENABLE_ASAN:-no}" = yes ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
fi

# Start a host in a short directory (unix socket paths must fit 108 bytes) and
# enter it as dom0: XENCHAN_SIM_DIR, XENSTORED_PATH, LD_PRELOAD, PATH.
sim_start() {
	local f
	for f in xenchan-sim xenchan-sim-hv xenchan-sim-guest xenchan-sim-hvc \
		xenchan-sim-qemu xenchan-sim-console libxenchan-sim.so; do
		if [ ! -e "$SIM_BIN/$f" ]; then
			echo "# $SIM_BIN/$f is missing: run make first" >&3
			return 1
		fi
	done
	SIM_DIR=$(mktemp -d /tmp/xcs.XXXXXX) || return 1
	export SIM_DIR
	if ! timeout "$T" "$XENCHAN_SIM" start "$SIM_DIR" >/dev/null; then
		sim_logs | sed 's/^/# /' >&3
		return 1
	fi
	eval "$(timeout "$T" "$XENCHAN_SIM" env "$SIM_DIR")" || return 1
	[ "$XENCHAN_SIM_DIR" = "$SIM_DIR" ]
}

sim_stop() {
	[ -n "${SIM_DIR:-}" ] || return 0
	timeout "$T" "$XENCHAN_SIM" stop "$SIM_DIR"
	local rc=$?
	if [ -n "${XENCHAN_TEST_KEEP:-}" ]; then
		echo "# kept $SIM_DIR" >&3
	else
		rm -rf "$SIM_DIR"
	fi
	return $rc
}

# The host's logs, for a failing test.
sim_logs() {
	local f
	for f in "$SIM_DIR"/*.log "$SIM_DIR"/dom*/*.log; do
		[ -s "$f" ] || continue
		echo "==== $f"
		tail -n 40 "$f"
	done
}

# In a test file's teardown: show the logs when the test failed.
sim_teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${SIM_DIR:-}" ]; then
		sim_logs | sed 's/^/# /' >&3
	fi
}

# xenchan-sim, bounded.
sim() {
	timeout "$T" "$XENCHAN_SIM" "$@"
}

# sim_create ARGS... NAME: build a domain, wait for its channels, set $domid.
sim_create() {
	domid=$(sim create --wait "$@") || return 1
	[[ $domid =~ ^[0-9]+$ ]]
}

# Run a command as a process of domain $1, bounded.
in_domain() {
	local d=$1
	shift
	timeout "$T" "$XENCHAN_SIM" exec -D "$d" -- "$@"
}

xs_read() {
	timeout "$T" xenstore-read "$@"
}

# retry_until CMD...: run CMD until it succeeds, for at most $T seconds.  For
# conditions with no event to wait on (a process started in the background has
# reached a state).
retry_until() {
	local end=$((SECONDS + T))
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after $T s waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# A file has at least N lines.
has_lines() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# A file has at least N bytes.
has_bytes() {
	[ -f "$1" ] && [ "$(stat -c %s "$1")" -ge "$2" ]
}

# wait_exit PID SECONDS: the process exits within SECONDS (fractions allowed).
wait_exit() {
	timeout "$2" tail -s 0.02 --pid="$1" -f /dev/null
}

# roundtrip ADDRESS IN OUT [N]: connect socat to ADDRESS, send the file IN and
# store the N bytes (default: as many as sent) received back in OUT; the
# connection stays open until they came (no half-close needed from the peer).
roundtrip() {
	local addr=$1 in=$2 out=$3 n=${4:-} script
	[ -n "$n" ] || n=$(stat -c %s "$in")
	script=$(mktemp "$SIM_DIR/rt.XXXXXX")
	cat >"$script" <<-EOF
		#!/bin/sh
		cat '$in' &
		head -c $n >'$out'
		wait
	EOF
	chmod +x "$script"
	timeout "$T" socat "$addr" EXEC:"$script"
}

sha() {
	sha256sum <"$1" | cut -d' ' -f1
}
