#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The domain builder and the emulated guest and qemu leave exactly the
# xenstore nodes and permissions Xen 4.17 (libxl, Linux hvc_xen, qemu 7.2)
# leave for a PV domain with a socket channel and a pty channel, as captured
# with `xenstore-ls -fp` on real Xen 4.17.7 (Debian 12).  Values that differ
# from run to run (ring-ref, port, pty and socket paths) are normalized.

load helpers
sim_host_per_file

normalize() {
	sed -E 's/" +\(/"   (/
		s#/(ring-ref|port) = "[0-9]+"#/\1 = "N"#
		s#"/dev/pts/[0-9]+"#"/dev/pts/N"#
		s#"'"$SIM_DIR"'/chan.sock"#"/tmp/chan.sock"#'
}

@test "a domain with two channels has the xenstore layout of Xen 4.17" {
	sim_create -D 1 \
		--channel "name=org.example.test.0,connection=socket,path=$SIM_DIR/chan.sock" \
		--channel "name=org.example.pty.0,connection=pty" web01
	[ "$domid" = 1 ]
	for p in /local/domain/1/device/console /local/domain/1/console \
		/local/domain/0/backend/console/1 /libxl/1/device/console; do
		echo "==== xenstore-ls -fp $p ===="
		timeout "$T" xenstore-ls -fp "$p" || return 1
	done | normalize >"$SIM_DIR/layout"
	# The primary console's tty is filled in by xenconsoled's stand-in, as in
	# the capture from real Xen.
	cat >"$SIM_DIR/layout.want" <<'WANT'
==== xenstore-ls -fp /local/domain/1/device/console ====
/local/domain/1/device/console/1 = ""   (n1,r0)
/local/domain/1/device/console/1/backend = "/local/domain/0/backend/console/1/1"   (n1,r0)
/local/domain/1/device/console/1/backend-id = "0"   (n1,r0)
/local/domain/1/device/console/1/state = "4"   (n1,r0)
/local/domain/1/device/console/1/protocol = "vt100"   (n1,r0)
/local/domain/1/device/console/1/name = "org.example.test.0"   (n0,r1)
/local/domain/1/device/console/1/limit = "1048576"   (n0,r1)
/local/domain/1/device/console/1/type = "ioemu"   (n0,r1)
/local/domain/1/device/console/1/output = "chardev:libxl-channel1"   (n0,r1)
/local/domain/1/device/console/1/tty = ""   (n0,r1)
/local/domain/1/device/console/1/ring-ref = "N"   (n1,r0)
/local/domain/1/device/console/1/port = "N"   (n1,r0)
/local/domain/1/device/console/2 = ""   (n1,r0)
/local/domain/1/device/console/2/backend = "/local/domain/0/backend/console/1/2"   (n1,r0)
/local/domain/1/device/console/2/backend-id = "0"   (n1,r0)
/local/domain/1/device/console/2/state = "4"   (n1,r0)
/local/domain/1/device/console/2/protocol = "vt100"   (n1,r0)
/local/domain/1/device/console/2/name = "org.example.pty.0"   (n0,r1)
/local/domain/1/device/console/2/limit = "1048576"   (n0,r1)
/local/domain/1/device/console/2/type = "ioemu"   (n0,r1)
/local/domain/1/device/console/2/output = "pty"   (n0,r1)
/local/domain/1/device/console/2/tty = "/dev/pts/N"   (n0,r1)
/local/domain/1/device/console/2/ring-ref = "N"   (n1,r0)
/local/domain/1/device/console/2/port = "N"   (n1,r0)
==== xenstore-ls -fp /local/domain/1/console ====
/local/domain/1/console/backend = "/local/domain/0/backend/console/1/0"   (n0,r1)
/local/domain/1/console/backend-id = "0"   (n1,r0)
/local/domain/1/console/limit = "1048576"   (n0,r1)
/local/domain/1/console/type = "xenconsoled"   (n0,r1)
/local/domain/1/console/output = "pty"   (n0,r1)
/local/domain/1/console/tty = "/dev/pts/N"   (n0,r1)
/local/domain/1/console/port = "N"   (n0,r1)
/local/domain/1/console/ring-ref = "N"   (n0,r1)
==== xenstore-ls -fp /local/domain/0/backend/console/1 ====
/local/domain/0/backend/console/1/1 = ""   (n0,r1)
/local/domain/0/backend/console/1/1/frontend = "/local/domain/1/device/console/1"   (n0,r1)
/local/domain/0/backend/console/1/1/frontend-id = "1"   (n0,r1)
/local/domain/0/backend/console/1/1/online = "1"   (n0,r1)
/local/domain/0/backend/console/1/1/state = "4"   (n0,r1)
/local/domain/0/backend/console/1/1/protocol = "vt100"   (n0,r1)
/local/domain/0/backend/console/1/1/name = "org.example.test.0"   (n0,r1)
/local/domain/0/backend/console/1/1/connection = "socket"   (n0,r1)
/local/domain/0/backend/console/1/1/path = "/tmp/chan.sock"   (n0,r1)
/local/domain/0/backend/console/1/1/hotplug-status = "connected"   (n0,r1)
/local/domain/0/backend/console/1/2 = ""   (n0,r1)
/local/domain/0/backend/console/1/2/frontend = "/local/domain/1/device/console/2"   (n0,r1)
/local/domain/0/backend/console/1/2/frontend-id = "1"   (n0,r1)
/local/domain/0/backend/console/1/2/online = "1"   (n0,r1)
/local/domain/0/backend/console/1/2/state = "4"   (n0,r1)
/local/domain/0/backend/console/1/2/protocol = "vt100"   (n0,r1)
/local/domain/0/backend/console/1/2/name = "org.example.pty.0"   (n0,r1)
/local/domain/0/backend/console/1/2/connection = "pty"   (n0,r1)
/local/domain/0/backend/console/1/2/hotplug-status = "connected"   (n0,r1)
/local/domain/0/backend/console/1/0 = ""   (n0,r1)
/local/domain/0/backend/console/1/0/frontend = "/local/domain/1/console"   (n0,r1)
/local/domain/0/backend/console/1/0/frontend-id = "1"   (n0,r1)
/local/domain/0/backend/console/1/0/online = "1"   (n0,r1)
/local/domain/0/backend/console/1/0/state = "1"   (n0,r1)
/local/domain/0/backend/console/1/0/protocol = "vt100"   (n0,r1)
==== xenstore-ls -fp /libxl/1/device/console ====
/libxl/1/device/console/1 = ""   (n0)
/libxl/1/device/console/1/frontend = "/local/domain/1/device/console/1"   (n0)
/libxl/1/device/console/1/backend = "/local/domain/0/backend/console/1/1"   (n0)
/libxl/1/device/console/1/frontend-id = "1"   (n0)
/libxl/1/device/console/1/online = "1"   (n0)
/libxl/1/device/console/1/state = "1"   (n0)
/libxl/1/device/console/1/protocol = "vt100"   (n0)
/libxl/1/device/console/1/name = "org.example.test.0"   (n0)
/libxl/1/device/console/1/connection = "socket"   (n0)
/libxl/1/device/console/1/path = "/tmp/chan.sock"   (n0)
/libxl/1/device/console/2 = ""   (n0)
/libxl/1/device/console/2/frontend = "/local/domain/1/device/console/2"   (n0)
/libxl/1/device/console/2/backend = "/local/domain/0/backend/console/1/2"   (n0)
/libxl/1/device/console/2/frontend-id = "1"   (n0)
/libxl/1/device/console/2/online = "1"   (n0)
/libxl/1/device/console/2/state = "1"   (n0)
/libxl/1/device/console/2/protocol = "vt100"   (n0)
/libxl/1/device/console/2/name = "org.example.pty.0"   (n0)
/libxl/1/device/console/2/connection = "pty"   (n0)
/libxl/1/device/console/0 = ""   (n0)
/libxl/1/device/console/0/frontend = "/local/domain/1/console"   (n0)
/libxl/1/device/console/0/backend = "/local/domain/0/backend/console/1/0"   (n0)
/libxl/1/device/console/0/frontend-id = "1"   (n0)
/libxl/1/device/console/0/online = "1"   (n0)
/libxl/1/device/console/0/state = "1"   (n0)
/libxl/1/device/console/0/protocol = "vt100"   (n0)
WANT
	run diff -u "$SIM_DIR/layout.want" "$SIM_DIR/layout"
	assert_success
}

@test "the xenstore tools see the domain as xl would list it" {
	run sim list
	assert_success
	assert_line --regexp '^1 +web01 +[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
	run xs_read /local/domain/1/name /local/domain/1/domid
	assert_output $'web01\n1'
	local vm
	vm=$(xs_read /local/domain/1/vm)
	run xs_read "$vm/name"
	assert_output web01
	run timeout "$T" xenstore-ls -fp /local/domain
	assert_line '/local/domain/1 = ""   (n0,r1)'
	assert_line '/local/domain/1/data = ""   (n1)'
	assert_line '/local/domain/1/control/shutdown = ""   (n1)'
	assert_line --regexp '^/local/domain/1/store/port = "[0-9]+"   \(n0,r1\)$'
}
