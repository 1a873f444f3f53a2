#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Xen release a host models (xenchan-sim start --xen-version): xl's
# numbering of channel entries and qemu's console backend, qemu 7.2 with Xen
# 4.17, the xen-console device (qemu 10 in Debian 13) with 4.20; and
# xenchan's commands on the 4.20 model.  The xenstored is the installed one
# whatever the model, so these run on Debian 12 and 13 alike.

load helpers
sim_host_per_test

# A host of its own modelling release $1, entered as dom0.
host() {
	SIM_DIR=$(mktemp -d /tmp/xcs.XXXXXX)
	SIM_TEST_DIR=$SIM_DIR
	sim start --xen-version "$1" "$SIM_DIR" >/dev/null || return 1
	eval "$(sim env "$SIM_DIR")"
}

# Stop the host host() started.
host_done() {
	sim_stop
	unset SIM_TEST_DIR
}

# The devids of domain $1's channels, "devid=name" in order.
devids() {
	local d
	for d in $(timeout "$T" xenstore-list "/local/domain/$1/device/console" | sort -n); do
		printf '%s=%s\n' "$d" "$(xs_read "/libxl/$1/device/console/$d/name")"
	done
}

# xl's channel entries, as a config of the releases with the bug carries them.
three_entries=(--channel name=org.example.dummy,connection=pty
	--channel "name=org.example.sock.0,connection=socket,path=/tmp/unused.sock"
	--channel name=org.example.pty.0,connection=pty)

@test "the default release is the installed xenstored's, and status and env say it" {
	local want
	want=$(dpkg-query -W -f='${Version}' "$(dpkg-query -S "$(realpath "${XENSTORED:-$(sed -n 's/^XENSTORED = //p' "$top_builddir/Makefile")}")" |
		cut -d: -f1)" | sed -E 's/^([0-9]+:)?([0-9]+\.[0-9]+\.[0-9]+).*/\2/')
	[[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	SIM_DIR=$(mktemp -d /tmp/xcs.XXXXXX)
	SIM_TEST_DIR=$SIM_DIR
	run timeout "$T" env -u XENCHAN_SIM_XEN_VERSION "$XENCHAN_SIM" start "$SIM_DIR"
	assert_success
	run sim status "$SIM_DIR"
	assert_success
	assert_line "xen-version: $want"
	run sim env "$SIM_DIR"
	assert_line --index 0 "# an emulated host modelling Xen $want (xenchan-sim status)"
	assert_line "export XENCHAN_RUNDIR='$SIM_DIR/run'"
}

@test "XENCHAN_SIM_XEN_VERSION picks the release; --xen-version wins over it" {
	SIM_DIR=$(mktemp -d /tmp/xcs.XXXXXX)
	SIM_TEST_DIR=$SIM_DIR
	XENCHAN_SIM_XEN_VERSION=4.19.1 sim start "$SIM_DIR" >/dev/null
	run sim status "$SIM_DIR"
	assert_line 'xen-version: 4.19.1'
	assert_line --partial 'first-channel: dropped'
	assert_line --partial 'device-model: xen-console'
	sim stop "$SIM_DIR"
	XENCHAN_SIM_XEN_VERSION=4.19.1 sim start --xen-version 4.20 "$SIM_DIR" >/dev/null
	run sim status "$SIM_DIR"
	assert_line 'xen-version: 4.20.0'
}

@test "a version that is none, or before 4.17, is refused with exit 2" {
	local v why
	for v in 4 4.x 4.20.4.1 4.20- ' 4.20' 4.20.4+deb13 abc 4.16.9 3.4; do
		why='not a Xen version (X.Y or X.Y.Z)'
		[[ $v == 4.16.9 || $v == 3.4 ]] && why='xenchan-sim models Xen 4.17 and later'
		run sim start --xen-version "$v" /tmp/xcs-never-made
		assert_failure 2
		assert_line --index 0 "xenchan-sim: --xen-version $v: $why"
		[ ! -e /tmp/xcs-never-made ]
		run env XENCHAN_SIM_XEN_VERSION="$v" timeout "$T" "$XENCHAN_SIM" start /tmp/xcs-never-made
		assert_failure 2
		assert_line --index 0 "xenchan-sim: XENCHAN_SIM_XEN_VERSION=$v: $why"
		[ ! -e /tmp/xcs-never-made ]
	done
}

@test "xl drops the first channel entry exactly in the releases that have the bug" {
	local v line
	for line in 4.17.0:dropped 4.17.7:dropped 4.18.4:dropped 4.18.5:kept \
		4.19.0:dropped 4.19.1:dropped 4.19.2:kept 4.20.0:dropped 4.20.1:kept \
		4.20.4:kept 4.21.0:kept 5.0.0:kept; do
		v=${line%%:*}
		host "$v"
		run timeout "$T" "$XENCHAN_SIM" create --wait "${three_entries[@]}" g
		assert_success
		if [ "${line#*:}" = dropped ]; then
			assert_line "xenchan-sim: Xen $v xl drops the first channel entry (org.example.dummy): devid 0 is the primary console's"
			run devids 1
			assert_output $'1=org.example.sock.0\n2=org.example.pty.0'
		else
			refute_output --partial 'drops'
			run devids 1
			assert_output $'1=org.example.dummy\n2=org.example.sock.0\n3=org.example.pty.0'
		fi
		host_done
	done
}

@test "4.20: the layout of the 4.17 layout test's channels, without the placeholder" {
	local v p
	for v in 4.17.7 4.20.4; do
		host "$v"
		# Both as the scenario's xl config: a placeholder, a socket, a pty.
		domid=$(timeout "$T" "$XENCHAN_SIM" create --wait -D 1 \
			--channel name=org.example.dummy,connection=pty \
			--channel "name=org.example.test.0,connection=socket,path=$SIM_DIR/chan.sock" \
			--channel name=org.example.pty.0,connection=pty web01 2>/dev/null)
		[ "$domid" = 1 ]
		for p in /local/domain/1/device/console /local/domain/0/backend/console/1 \
			/libxl/1/device/console; do
			timeout "$T" xenstore-ls -fp "$p"
		done | sed -E "s#\"$SIM_DIR/#\"/#; s#/dev/pts/[0-9]+#/dev/pts/N#;
			s#/(ring-ref|port) = \"[0-9]+\"#/\\1 = \"N\"#" >"$BATS_TEST_TMPDIR/$v"
		host_done
	done
	[ "$(grep -c 'device/console/2/' "$BATS_TEST_TMPDIR/4.17.7")" -ge 10 ]
	grep -q 'tty = "/dev/pts/N"' "$BATS_TEST_TMPDIR/4.17.7"
	# 4.20 has the placeholder as devid 1 and the others one devid up; with
	# devid 1 taken out and the others renumbered, the same nodes and values.
	sed -E '/console\/1\/1( |\/)|device\/console\/1( |\/)/d' "$BATS_TEST_TMPDIR/4.20.4" |
		sed -E 's#(console/1/|console/)2#\11#g; s#(console/1/|console/)3#\12#g;
			s#libxl-channel2#libxl-channel1#' >"$BATS_TEST_TMPDIR/4.20.renumbered"
	diff -u "$BATS_TEST_TMPDIR/4.17.7" "$BATS_TEST_TMPDIR/4.20.renumbered"
}

# The ptys qemu (pid $1) holds open, one per line.
qemu_ptys() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		readlink "$fd"
	done | grep '^/dev/pts/' | sort -u
}

@test "4.20: a pty channel has two ptys, the tty key names xenconsN's, which carries the data" {
	local q tty lx
	host 4.20.4
	sim_create --channel name=org.example.pty.0,connection=pty pt1
	q=$(cat "$SIM_DIR/dom$domid/qemu.pid")
	tty=$(xs_read "/local/domain/$domid/device/console/1/tty")
	# The master sides are /dev/ptmx; the slaves qemu keeps open are two.
	run qemu_ptys "$q"
	assert_equal "${#lines[@]}" 2
	assert_line "$tty"
	lx=$(grep -v -x "$tty" <<<"$output")
	grep -q "chardev libxl-channel1 on $lx (unused)" "$SIM_DIR/dom$domid/qemu.log"
	# Through the tty key's pty the echo agent answers ...
	run timeout "$T" xenchan-cat -Q 1s pt1 org.example.pty.0 <<<'through xencons1'
	assert_success
	assert_output 'through xencons1'
	# ... and xenchan-ls lists that pty; libxl's carries nothing to the guest.
	run xenchan-ls -rn -o ENDPOINT pt1
	assert_output "$tty"
	printf 'lost\n' >"$lx"
	run timeout "$T" xenchan-cat -Q 1s pt1 org.example.pty.0 <<<'again'
	assert_output 'again'
}

@test "4.20: qemu declines the primary console and serves only ioemu frontends" {
	host 4.20.4
	sim_create --channel name=org.example.a.0,connection=pty dc1
	grep -q "console 0: declining to handle console type 'xenconsoled'" \
		"$SIM_DIR/dom$domid/qemu.log"
	[ "$(xs_read "/local/domain/0/backend/console/$domid/0/state")" = 1 ]
	[ "$(xs_read "/local/domain/0/backend/console/$domid/1/state")" = 4 ]
}

@test "4.20: xenchan-ls, xenchan-wait, xenchan-send and xenchan-cat over both kinds of channel" {
	host 4.20.4
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/a.sock" \
		--channel name=org.example.pty.0,connection=pty \
		--channel "name=org.example.sink.0,connection=socket,path=$SIM_DIR/s.sock" \
		--agent "org.example.sink.0=sink:$SIM_DIR/sunk" web01
	run xenchan-ls -rn -o DEVID,CHANNEL,TRANSPORT,STATE web01
	assert_success
	assert_output $'1 org.example.agent.0 socket connected\n2 org.example.pty.0 pty connected\n3 org.example.sink.0 socket connected'
	run timeout "$T" xenchan-wait -t 5s web01 org.example.pty.0
	assert_success
	run timeout "$T" xenchan-cat -Q 1s web01 org.example.agent.0 <<<'socket on 4.20'
	assert_output 'socket on 4.20'
	run timeout "$T" xenchan-cat -Q 1s web01 org.example.pty.0 <<<'pty on 4.20'
	assert_output 'pty on 4.20'
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	run timeout "$T" xenchan-send web01 org.example.sink.0 "$BATS_TEST_TMPDIR/blob"
	assert_success
	wait_until 10 sunk "$SIM_DIR/sunk" 100000
}

@test "4.20: qemu exiting deletes the channels' nodes: xenchan-cat says the peer went away (4)" {
	local q ep pid rc
	host 4.20.4
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/a.sock" \
		--channel name=org.example.pty.0,connection=pty gone1
	q=$(cat "$SIM_DIR/dom$domid/qemu.pid")
	ep=$(xs_read "/local/domain/$domid/device/console/2/tty")
	timeout "$T" xenchan-cat gone1 org.example.pty.0 < <(open_input) >/dev/null \
		2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_until "$T" copying "$(command_pid "$pid" xenchan-cat)" "$ep"
	kill -TERM "$q"
	wait_exit "$q" 10
	run timeout "$T" xenstore-exists "/local/domain/$domid/device/console/1"
	assert_failure
	run timeout "$T" xenstore-exists "/local/domain/0/backend/console/$domid/2"
	assert_failure
	# The primary console's nodes and libxl's copies stay.
	timeout "$T" xenstore-exists "/local/domain/$domid/console/tty"
	timeout "$T" xenstore-exists "/libxl/$domid/device/console/2/name"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 4 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp "^xenchan-cat: gone1/org.example.pty.0: peer went away: [0-9]+ of 0 bytes delivered\$"
	# Listed as gone, from libxl's copy.
	run xenchan-ls -rn -o CHANNEL,STATE gone1
	assert_output $'org.example.agent.0 absent\norg.example.pty.0 absent'
}

@test "4.17: qemu exiting leaves the nodes to the toolstack" {
	local q
	host 4.17.7
	sim_create --channel name=org.example.pty.0,connection=pty left1
	q=$(cat "$SIM_DIR/dom$domid/qemu.pid")
	run qemu_ptys "$q"
	assert_equal "${#lines[@]}" 1
	kill -TERM "$q"
	wait_exit "$q" 10
	timeout "$T" xenstore-exists "/local/domain/$domid/device/console/1/tty"
	timeout "$T" xenstore-exists "/local/domain/0/backend/console/$domid/1/state"
}

@test "4.20: a backend set offline and Closing by the toolstack is closed and its nodes deleted" {
	host 4.20.4
	sim_create --channel name=org.example.pty.0,connection=pty unplug1
	# What libxl's device removal writes in one transaction.
	timeout "$T" xenstore-write "$(be_dir "$domid" 1)/online" 0 "$(be_dir "$domid" 1)/state" 5
	wait_until 10 eval '! timeout "$T" xenstore-exists "$(be_dir "$domid" 1)"'
	run timeout "$T" xenstore-exists "$(fe_dir "$domid" 1)"
	assert_failure
}

@test "4.20: a domain's lifecycle on the model leaves no node or process behind" {
	host 4.20.4
	sim_create --channel "name=org.example.a.0,connection=socket,path=$SIM_DIR/a.sock" \
		--channel name=org.example.p.0,connection=pty life1
	sim destroy life1
	run timeout "$T" xenstore-exists "/local/domain/0/backend/console/$domid"
	assert_failure
	run timeout "$T" xenstore-exists "/libxl/$domid"
	assert_failure
	[ ! -e "$SIM_DIR/a.sock" ]
}
