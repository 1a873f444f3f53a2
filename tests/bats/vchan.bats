#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian's unmodified vchan-socket-proxy (libxenvchan over the emulated
# evtchn, gntalloc and gntdev) between a guest and dom0.

load helpers
sim_host_per_file vchan1_setup

PROXY=$XEN_BINDIR/vchan-socket-proxy

# vchan1: a guest with no channel; the vchan path the proxies use.
vchan1_setup() {
	[ -x "$PROXY" ] || {
		echo "# $PROXY missing (Debian package xen-utils-X.Y)" >&3
		return 1
	}
	sim_create vchan1
	export GUEST=$domid
	export VPATH=/local/domain/$domid/data/vchan/0/test
}

# The guest serves the vchan and forwards each connection to a unix socket
# ($1); dom0 listens on $SIM_DIR/cli.sock and forwards to the vchan.
start_proxies() {
	rm -f "$SIM_DIR/cli.sock"
	# A server killed earlier left its nodes behind.
	timeout "$T" xenstore-rm "$VPATH" 2>/dev/null || true
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- "$PROXY" -m server 0 "$VPATH" "$1"
	server=$!
	wait_until "$T" timeout "$T" xenstore-exists "$VPATH/event-channel"
	spawn "$PROXY" -m client "$GUEST" "$VPATH" "$SIM_DIR/cli.sock"
	client=$!
	wait_until "$T" test -S "$SIM_DIR/cli.sock"
}

@test "1 MiB round-trips byte for byte through vchan-socket-proxy, both directions" {
	rm -f "$SIM_DIR/echo.sock" "$SIM_DIR/seen"
	spawn socat UNIX-LISTEN:"$SIM_DIR/echo.sock",fork EXEC:"tee $SIM_DIR/seen"
	wait_until "$T" test -S "$SIM_DIR/echo.sock"
	start_proxies "$SIM_DIR/echo.sock"
	head -c 1048576 /dev/urandom >"$SIM_DIR/in"
	run roundtrip UNIX-CONNECT:"$SIM_DIR/cli.sock" "$SIM_DIR/in" "$SIM_DIR/out"
	assert_success
	# dom0 -> guest, as the guest's service received it
	wait_until "$T" has_bytes "$SIM_DIR/seen" 1048576
	[ "$(sha "$SIM_DIR/seen")" = "$(sha "$SIM_DIR/in")" ]
	# guest -> dom0
	[ "$(stat -c %s "$SIM_DIR/out")" -eq 1048576 ]
	[ "$(sha "$SIM_DIR/out")" = "$(sha "$SIM_DIR/in")" ]
}

@test "three connections in a row through the same proxies" {
	rm -f "$SIM_DIR/echo.sock"
	spawn socat UNIX-LISTEN:"$SIM_DIR/echo.sock",fork EXEC:cat
	wait_until "$T" test -S "$SIM_DIR/echo.sock"
	start_proxies "$SIM_DIR/echo.sock"
	for i in 1 2 3; do
		head -c 65536 /dev/urandom >"$SIM_DIR/in$i"
		run roundtrip UNIX-CONNECT:"$SIM_DIR/cli.sock" "$SIM_DIR/in$i" "$SIM_DIR/out$i"
		assert_success
		[ "$(sha "$SIM_DIR/out$i")" = "$(sha "$SIM_DIR/in$i")" ]
	done
}

# Connect a dom0 client through both proxies to a guest-side echo that serves
# one connection; $kcli and $lsrv are the client and the guest-side listener.
connect_pair() {
	rm -f "$SIM_DIR/one.sock" "$SIM_DIR/k.out"
	spawn socat -t 0.01 UNIX-LISTEN:"$SIM_DIR/one.sock" EXEC:cat
	lsrv=$!
	wait_until "$T" test -S "$SIM_DIR/one.sock"
	start_proxies "$SIM_DIR/one.sock"
	cat >"$SIM_DIR/k.sh" <<-EOF
		#!/bin/sh
		echo hello
		exec cat >'$SIM_DIR/k.out'
	EOF
	chmod +x "$SIM_DIR/k.sh"
	spawn socat -t 0.01 UNIX-CONNECT:"$SIM_DIR/cli.sock" EXEC:"$SIM_DIR/k.sh"
	kcli=$!
	wait_until "$T" grep -q hello "$SIM_DIR/k.out"
}

@test "kill -9 of the guest's proxy is noticed by dom0's within 1 s" {
	connect_pair
	kill -9 "$server"
	# dom0's proxy closes its client connection: the client exits.
	if ! wait_exit "$kcli" 1; then
		wait_exit "$kcli" 5 && echo "noticed late" || echo "not noticed in 6 s"
		false
	fi
}

@test "kill -9 of dom0's proxy is noticed by the guest's within 1 s" {
	connect_pair
	kill -9 "$client"
	# The guest's proxy closes its connection to the guest-side service.
	if ! wait_exit "$lsrv" 1; then
		wait_exit "$lsrv" 5 && echo "noticed late" || echo "not noticed in 6 s"
		false
	fi
}
