# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the bats tests: emulated Xen hosts, and waiting for conditions.
#
# A test file says which hosts it runs on, right after `load helpers`:
#
#   sim_host_per_file [SETUP]  one host for every test of the file; SETUP, a
#                              function of the file, builds what its tests share
#   sim_host_per_test          no host of its own: a test that needs one calls
#                              sim_test_host
#
# make check exports top_builddir, top_srcdir (absolute), XENSTORED and
# XEN_BINDIR.  Run by hand, the tree the test file lives in is used as both.
# Every call that could block is bounded by `timeout $T`; a test that cannot
# run fails, it never skips.  A test waits for a condition (wait_until), never
# for a fixed time.

bats_load_library bats-support
bats_load_library bats-assert

: "${top_builddir:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${top_srcdir:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
SIM_BIN=$top_builddir/tests/sim
# The installed Xen release's tools (vchan-socket-proxy, ...), as configure
# found them.
: "${XEN_BINDIR:=$(sed -n 's/^XEN_BINDIR = //p' "$top_builddir/Makefile" 2>/dev/null)}"
XENCHAN_SIM=$SIM_BIN/xenchan-sim
# Seconds one step may take before the test fails; xenchan-sim's own bound is
# shorter so that its message, not timeout(1)'s silence, says what hung.
T=${XENCHAN_TEST_TIMEOUT:-30}
export XENCHAN_SIM_TIMEOUT=${XENCHAN_SIM_TIMEOUT:-10}

# timeout(1) with a kill: a command that outlives timeout's SIGTERM by 5 s is
# killed, so that no test waits for it for ever.  (Seen once under load: a
# sanitizer build spinning in LeakSanitizer's exit-time check, which SIGTERM
# does not end.)
# (A script rather than a function: "timeout ... &" stays one process, and no
# shell in between reports the signal it died of.)
if [ ! -x "$BATS_RUN_TMPDIR/bin/timeout" ]; then
	mkdir -p "$BATS_RUN_TMPDIR/bin"
	printf '#!/bin/sh\nexec %s -k 5 "$@"\n' "$(command -v timeout)" \
		>"$BATS_RUN_TMPDIR/bin/timeout.$$"
	chmod +x "$BATS_RUN_TMPDIR/bin/timeout.$$"
	mv -f "$BATS_RUN_TMPDIR/bin/timeout.$$" "$BATS_RUN_TMPDIR/bin/timeout"
fi
PATH=$BATS_RUN_TMPDIR/bin:$PATH

# An ASan build of the commands runs with the preload library loaded first.
if [ "${ENABLE_ASAN:-no}" = yes ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
fi

# Start a host in a short directory (unix socket paths must fit 108 bytes) and
# enter it as dom0: XENCHAN_SIM_DIR, XENSTORED_PATH, LD_PRELOAD, PATH, and
# XENCHAN_RUNDIR inside the host, so that no lock is shared with another run.
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
	export XENCHAN_RUNDIR=$SIM_DIR/run
	[ "$XENCHAN_SIM_DIR" = "$SIM_DIR" ]
}

sim_stop() {
	local pid
	[ -n "${SIM_DIR:-}" ] || return 0
	# A test may have stopped xenstored; the host cannot be taken down without it.
	if pid=$(xenstored_pid); then
		kill -CONT "$pid"
	fi
	timeout "$T" "$XENCHAN_SIM" stop "$SIM_DIR"
	local rc=$?
	if [ -n "${XENCHAN_TEST_KEEP:-}" ]; then
		echo "# kept $SIM_DIR" >&3
	else
		rm -rf "$SIM_DIR"
	fi
	# Stopped once: a teardown after a failed setup has nothing left to do.
	unset SIM_DIR
	return $rc
}

# The pid of the host's xenstored, while it lives.
xenstored_pid() {
	local pid
	pid=$(cat "$SIM_DIR/xenstored.pid" 2>/dev/null) && [ -n "$pid" ] &&
		{ tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null |
		grep -qx "XENCHAN_SIM_DIR=$SIM_DIR" && echo "$pid"
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

# sim_host_per_file [SETUP]: the test file runs on one host, started before its
# first test and stopped after its last.  SETUP, if given, runs once the host
# is up; when it fails, no test runs.
sim_host_per_file() {
	SIM_FILE_SETUP=${1:-}
	setup_file() {
		sim_start || return 1
		if [ -n "$SIM_FILE_SETUP" ] && ! "$SIM_FILE_SETUP"; then
			sim_logs | sed 's/^/# /' >&3
			sim_stop
			return 1
		fi
	}
	teardown_file() {
		sim_stop
	}
	teardown() {
		sim_teardown
	}
}

# The driver of lib/direct.c's tests (tests/unit/test-direct), for
# sim_host_per_file: it must have been built.
DRIVER=$top_builddir/tests/unit/test-direct
need_direct_driver() {
	if [ ! -x "$DRIVER" ]; then
		echo "# $DRIVER is missing: run make check (it builds the driver)" >&3
		return 1
	fi
}

# sim_host_per_test: the test file starts hosts only in the tests that need
# one (sim_test_host).
sim_host_per_test() {
	teardown() {
		sim_teardown
	}
}

# sim_test_host: this test runs on a host of its own, stopped after it: for
# tests that stop or kill the host's xenstored, or need a host with no domain.
sim_test_host() {
	sim_start || return 1
	SIM_TEST_DIR=$SIM_DIR
}

# After every test: the logs of a failed test's host, then the processes
# started with spawn are killed and the test's own host is stopped.
sim_teardown() {
	local p
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${SIM_DIR:-}" ]; then
		sim_logs | sed 's/^/# /' >&3
	fi
	for p in "${SIM_SPAWNED[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	if [ -n "${SIM_TEST_DIR:-}" ]; then
		SIM_DIR=$SIM_TEST_DIR sim_stop
	fi
}

# spawn CMD...: run CMD in the background, without bats' descriptor 3 (bats
# would wait for it), and kill it with SIGKILL after the test.  $! is its pid.
spawn() {
	"$@" 3>&- &
	SIM_SPAWNED+=($!)
}

# xenchan-sim, bounded.  A create with channels, on a host whose xl drops the
# first channel entry (Xen 4.17 and others: xenchan-sim status), gets the
# placeholder first entry the xl configs of those releases carry: a test's
# channels are devids 1, 2, ... on whichever release the host models.
sim() {
	if [ "${1:-}" = create ] && [[ " $* " == *" --channel"* ]] && first_channel_dropped; then
		shift
		set -- create --channel name=org.xenchan.test.placeholder,connection=pty "$@"
	fi
	timeout "$T" "$XENCHAN_SIM" "$@"
}

# The host's xl drops the first channel entry.
first_channel_dropped() {
	timeout "$T" "$XENCHAN_SIM" status | grep -q '^first-channel: dropped'
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

# The xenstore directories of console device $2 of domain $1: its frontend,
# its backend in dom0, and libxl's trusted copy.
fe_dir() { echo "/local/domain/$1/device/console/$2"; }
be_dir() { echo "/local/domain/0/backend/console/$1/$2"; }
lx_dir() { echo "/libxl/$1/device/console/$2"; }

# Every node of console device $2 of domain $1 is there.
device_there() {
	timeout "$T" xenstore-exists "$(fe_dir "$1" "$2")" &&
		timeout "$T" xenstore-exists "$(be_dir "$1" "$2")" &&
		timeout "$T" xenstore-exists "$(lx_dir "$1" "$2")"
}

# No node of console device $2 of domain $1 is left.
device_gone() {
	! timeout "$T" xenstore-exists "$(fe_dir "$1" "$2")" &&
		! timeout "$T" xenstore-exists "$(be_dir "$1" "$2")" &&
		! timeout "$T" xenstore-exists "$(lx_dir "$1" "$2")"
}

# sink_count FILE: the byte count a sink agent published in FILE.
sink_count() {
	cut -d' ' -f1 "$1" 2>/dev/null
}

# sunk FILE N: the sink agent publishing in FILE has counted N bytes.
sunk() {
	[ "$(sink_count "$1")" = "$2" ]
}

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds; fail,
# saying what was waited for, when SECONDS (fractions allowed) have passed.
# For conditions with no event to wait on: a process started in the
# background has reached a state, a file has been written.
wait_until() {
	local limit=$1 s f end
	shift
	s=${limit%%.*}
	f=000
	[[ $limit == *.* ]] && f=${limit#*.}000
	end=$((${EPOCHREALTIME//[.,]/} + (10#${s:-0} * 1000 + 10#${f:0:3}) * 1000))
	until "$@"; do
		if [ "${EPOCHREALTIME//[.,]/}" -ge "$end" ]; then
			echo "timed out after $limit s waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# command_pid PID NAME: the pid of the command NAME that process PID runs:
# timeout(1), or a subshell running it, started in the background.
command_pid() {
	wait_until "$T" descendant "$1" "$2" >/dev/null && descendant "$1" "$2"
}

# descendant PID NAME: print the pid of a process named NAME below PID.
descendant() {
	local c
	for c in $(pgrep -P "$1"); do
		if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ]; then
			echo "$c"
			return 0
		fi
		descendant "$c" "$2" && return 0
	done
	return 1
}

# sleeping PID: the process's main thread is blocked in poll(2), select(2)
# or epoll_wait(2), that is, waiting for an event.
sleeping() {
	local w
	w=$(cat "/proc/$1/wchan" 2>/dev/null) || return 1
	[[ $w == *poll* || $w == *select* ]]
}

# catches_signal PID SIGNUM: the process has a handler for that signal.
catches_signal() {
	local m
	m=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$1/status" 2>/dev/null) &&
		[ -n "$m" ] && (((16#$m >> ($2 - 1)) & 1))
}

# channel_open PID ENDPOINT: process PID has the channel open: the pty
# ENDPOINT among its descriptors, or a connection that the server of socket
# ENDPOINT (qemu) has accepted.
channel_open() {
	local fd
	kill -0 "$1" 2>/dev/null || return 1
	case $2 in
	/dev/pts/*)
		for fd in /proc/"$1"/fd/*; do
			[ "$(readlink "$fd")" = "$2" ] && return 0
		done
		return 1
		;;
	*)
		# Num RefCount Protocol Flags Type St(ate) Inode Path; 03 is connected.
		awk -v p="$2" '$6 == "03" && $8 == p { n++ } END { exit !n }' /proc/net/unix
		;;
	esac
}

# socket_backlog PATH: how many connections wait in the queue of the unix
# listener at PATH, not accepted yet (its Recv-Q in ss -xl); "none" when
# nothing listens there.
socket_backlog() {
	ss -xlH | awk -v p="$1" '$5 == p { print $3; f = 1 } END { if (!f) print "none" }'
}

# copying PID ENDPOINT: xenchan-cat or xenchan-send, process PID, is in its
# copy loop: the channel is open, SIGTERM is caught (the command undoes what
# it set up before it dies of it) and it waits for the channel or its input.
copying() {
	channel_open "$1" "$2" && catches_signal "$1" 15 && sleeping "$1" && stream_made "$1"
}

# stream_made PID: the stream of xenchan-cat or xenchan-send, process PID, is
# made: its wake eventfd exists.  For a socket, that is once the command saw
# qemu's acceptance, which it looks for in steps: qemu can have accepted
# (channel_open) while the command still sleeps in its open.
stream_made() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[eventfd]" ] && return 0
	done
	return 1
}

# A file has at least N lines.
has_lines() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# A file has at least N bytes.
has_bytes() {
	[ -f "$1" ] && [ "$(stat -c %s "$1")" -ge "$2" ]
}

# bash-completion's main script, which the bash completion is tested under.
BASH_COMPLETION_SCRIPT=${BASH_COMPLETION_SCRIPT:-/usr/share/bash-completion/bash_completion}

# complete_bash WORD...: what the bash completion offers for the command line
# WORD... with the cursor at the end of the last word, one per line.  The
# completion file is sourced under bash-completion; the function is the one
# `complete -p` names for the command.
complete_bash() {
	bash --norc --noprofile -c '
		. "$1" || exit 2
		. "$2" || exit 2
		shift 2
		fn=$(complete -p "${1##*/}" 2>/dev/null | awk "{ for (i = 1; i < NF; i++) if (\$i == \"-F\") print \$(i + 1) }")
		[ -n "$fn" ] || { echo "no completion for ${1##*/}" >&2; exit 3; }
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		# compopt complains outside a real completion; nothing else may.
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" \
			2> >(grep -v "compopt: not currently executing completion function" >&2)
		printf "%s\n" "${COMPREPLY[@]}"
	' complete_bash "$BASH_COMPLETION_SCRIPT" "$top_srcdir/completions/xenchan-ls" "$@"
}

# open_input: for CMD < <(open_input), an input that stays open for $T
# seconds, without keeping bats' descriptor 3 (bats would wait for it).
open_input() {
	exec 3>&-
	exec sleep "$T"
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
