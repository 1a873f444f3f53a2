#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-cat on a terminal, driven through tmux: raw mode, the echo agent
# answering keystrokes, the escape key, and the terminal restored.

load helpers
sim_host_per_file web01_setup

# web01: echo agents on a socket and a pty channel; tmux's server in the host.
web01_setup() {
	command -v tmux >/dev/null || {
		echo "# tmux is needed for these tests" >&3
		return 1
	}
	sim_create --channel "name=org.example.echo.0,connection=socket,path=$SIM_DIR/echo.sock" \
		--channel name=org.example.echop.0,connection=pty web01
	export TMUX_TMPDIR=$SIM_DIR
}

# tmux's server and session go before the host does.
teardown_file() {
	tmux kill-server 2>/dev/null || true
	sim_stop
}

teardown() {
	tmux kill-session -t xc 2>/dev/null || true
	sim_teardown
}

pane() {
	tmux capture-pane -p -t xc
}

pane_has() {
	pane | grep -qF -- "$1"
}

# interactive CHANNEL [OPTIONS...]: run xenchan-cat in a tmux pane, type a
# line, see it echoed, leave with the escape key, check the terminal.
interactive() {
	local ch=$1
	shift
	tmux new-session -d -s xc -x 120 -y 30 \
		"env PATH='$PATH' LD_PRELOAD='$LD_PRELOAD' XENCHAN_SIM_DIR='$XENCHAN_SIM_DIR' \
		XENSTORED_PATH='$XENSTORED_PATH' XENCHAN_RUNDIR='$XENCHAN_RUNDIR' bash --norc --noprofile"
	tmux send-keys -t xc "bash -c 'echo \$\$ >$SIM_DIR/cat.pid; exec xenchan-cat \"\$@\"' - $* web01 $ch; echo \"rc=\$?\"; stty -a | tr ' ' '\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '; echo" Enter
	wait_until "$T" pane_has 'escape character is'
	tmux send-keys -t xc -l 'hello-guest'
	wait_until "$T" pane_has 'hello-guest'
}

@test "socket: typed text is echoed; Ctrl-] leaves and the terminal is restored" {
	interactive org.example.echo.0
	tmux send-keys -t xc C-]
	wait_until "$T" pane_has 'rc=0'
	wait_until "$T" pane_has 'icanon echo'
}

@test "pty: the same over a pty channel" {
	interactive org.example.echop.0
	tmux send-keys -t xc C-]
	wait_until "$T" pane_has 'rc=0'
	wait_until "$T" pane_has 'icanon echo'
}

@test "-e sets another escape key; Ctrl-C goes to the guest, not to us" {
	interactive org.example.echo.0 -e '^X'
	tmux send-keys -t xc C-c
	# Text typed after it still comes back: the guest had it, not us.
	tmux send-keys -t xc -l 'after-ctrl-c'
	wait_until "$T" pane_has 'after-ctrl-c'
	! pane_has 'rc='
	tmux send-keys -t xc C-x
	wait_until "$T" pane_has 'rc=0'
	wait_until "$T" pane_has 'icanon echo'
}

@test "SIGTERM restores the terminal too" {
	interactive org.example.echo.0
	kill -TERM "$(cat "$SIM_DIR/cat.pid")"
	wait_until "$T" pane_has 'rc=143'
	wait_until "$T" pane_has 'icanon echo'
}
