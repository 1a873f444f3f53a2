#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# guest/xenchan-guest-link (the xenchan-guest package's udev helper), run as
# a process of an emulated guest: the real xenstore nodes of its channels,
# and a stand-in for its /sys and /dev (XENCHAN_GUEST_ROOT).

load helpers
sim_host_per_file

HELPER=$top_srcdir/guest/xenchan-guest-link

# fake_root: a /sys with console devices 0-4 (none bound) and a /dev with
# hvc0-hvc7, in $R.
fake_root() {
	local i
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$R/sys/bus/xen/drivers/console" "$R/dev" "$R/etc/xenchan"
	for i in 0 1 2 3 4; do
		mkdir -p "$R/sys/bus/xen/devices/console-$i"
		echo "device/console/$i" >"$R/sys/bus/xen/devices/console-$i/nodename"
	done
	for i in 0 1 2 3 4 5 6 7; do
		: >"$R/dev/hvc$i"
	done
}

# bind DEVID / unbind DEVID: the kernel binding the device to its driver.
bind() { ln -s ../../drivers/console "$R/sys/bus/xen/devices/console-$1/driver"; }
unbind() { rm -f "$R/sys/bus/xen/devices/console-$1/driver"; }

# helper ARGS...: the helper, as a process of the guest $domid.
helper() {
	in_domain "$domid" env XENCHAN_GUEST_ROOT="$R" sh "$HELPER" "$@"
}

link_of() { readlink "$R/dev/xen-channel/$1"; }

# two_channels DOMAIN X Y: a guest with the pty channels org.example.X.0 and
# org.example.Y.0, their devids in $dx and $dy, the stand-in root with every
# console device up to the second bound (a placeholder's too, where the
# host's xl needs one).
two_channels() {
	sim_create --channel "name=org.example.$2.0,connection=pty" \
		--channel "name=org.example.$3.0,connection=pty" "$1"
	dx=$(timeout "$T" xenchan-ls -rn -o DEVID -c "org.example.$2.0" "$1")
	dy=$(timeout "$T" xenchan-ls -rn -o DEVID -c "org.example.$3.0" "$1")
	fake_root
	for i in $(seq 1 "$dy"); do bind "$i"; done
}

@test "coldplug, in any order: each channel's link is its hvc in xenstore's order" {
	local dx dy a b
	two_channels g1 a b
	a=$dx b=$dy
	run helper add "console-$b"
	assert_success
	assert_output org.example.b.0
	run helper add "console-$a"
	assert_output org.example.a.0
	[ "$(link_of org.example.a.0)" = "../hvc$a" ]
	[ "$(link_of org.example.b.0)" = "../hvc$b" ]
	run helper list
	assert_line "org.example.a.0 $R/dev/hvc$a"
	# The primary console and a device not bound yet: nothing.
	run helper add console-0
	assert_failure 2
	run helper add console-4
	assert_failure 1
	assert_output ''
	sim destroy g1
}

@test "hotplug: a new channel takes the first free hvc, a removed one frees its own" {
	local dx dy c d
	two_channels g2 c d
	c=$dx d=$dy
	helper add "console-$c" >/dev/null
	helper add "console-$d" >/dev/null
	# c goes: its link and slot with it.
	unbind "$c"
	run helper remove "console-$c"
	assert_success
	[ ! -e "$R/dev/xen-channel/org.example.c.0" ]
	# A channel hotplugged now (devid 4, dom0's name key) is bound next.
	xenstore-write "/local/domain/$domid/device/console/4/name" org.example.hot.0
	xenstore-chmod "/local/domain/$domid/device/console/4" n0 "r$domid"
	xenstore-chmod "/local/domain/$domid/device/console/4/name" n0 "r$domid"
	bind 4
	run helper add console-4
	assert_output org.example.hot.0
	[ "$(link_of org.example.hot.0)" = "../hvc$c" ]
	[ "$(link_of org.example.d.0)" = "../hvc$d" ]
	sim destroy g2
}

@test "owner, group and mode from guest.conf; root's alone otherwise" {
	local dx dy e f
	two_channels g3 e f
	e=$dx f=$dy
	chmod 0666 "$R/dev/hvc$f"
	printf '# comment\n\norg.example.e.*  daemon  daemon  0660\n*.e.0 nobody nogroup 0666\n' \
		>"$R/etc/xenchan/guest.conf"
	helper add "console-$e" >/dev/null
	helper add "console-$f" >/dev/null
	[ "$(stat -c '%U %G %a' "$R/dev/hvc$e")" = "daemon daemon 660" ]
	[ "$(stat -c '%U %G %a' "$R/dev/hvc$f")" = "root root 600" ]
	sim destroy g3
}

@test "no link for a name the guest owns, a name that is not one, or a name taken" {
	sim_create --channel name=org.example.g.0,connection=pty g4
	local g
	g=$(timeout "$T" xenchan-ls -rn -o DEVID -c org.example.g.0 g4)
	fake_root
	for i in $(seq 1 4); do bind "$i"; done
	# 3: a frontend the guest made and named itself.
	xenstore-write "/local/domain/$domid/device/console/3" ""
	xenstore-chmod "/local/domain/$domid/device/console/3" "n$domid"
	in_domain "$domid" xenstore-write "device/console/3/name" org.example.mine.0
	run helper add console-3
	assert_failure 1
	assert_output --partial "its name key is the guest's own; no link"
	# 4: dom0's name key, but not a channel name.
	xenstore-write "/local/domain/$domid/device/console/4/name" '../../etc/passwd'
	xenstore-chmod "/local/domain/$domid/device/console/4/name" n0 "r$domid"
	run helper add console-4
	assert_failure 1
	assert_output --partial 'not a channel name; no link'
	helper add "console-$g" >/dev/null
	# 4 again, named as g: the first keeps its link.
	xenstore-write "/local/domain/$domid/device/console/4/name" org.example.g.0
	run helper add console-4
	assert_failure 1
	assert_output --partial "is console-$g's already; no link"
	[ "$(link_of org.example.g.0)" = "../hvc$g" ]
	run ls "$R/dev/xen-channel"
	assert_output org.example.g.0
	sim destroy g4
}

@test "four devices at once, in any order: each its own link" {
	sim_create --channel name=org.example.h.1,connection=pty --channel name=org.example.h.2,connection=pty \
		--channel name=org.example.h.3,connection=pty g5
	fake_root
	local i n
	n=$(timeout "$T" xenchan-ls -rn -o DEVID g5 | tail -n 1)
	for i in $(seq 1 "$n"); do bind "$i"; done
	for i in $(seq "$n" -1 1); do
		helper add "console-$i" >/dev/null &
	done
	wait
	for i in 1 2 3; do
		[ "$(link_of "org.example.h.$i")" = "../hvc$(timeout "$T" xenchan-ls -rn -o DEVID -c "org.example.h.$i" g5)" ]
	done
	sim destroy g5
}

@test "usage errors: exit 2" {
	run sh "$HELPER"
	assert_failure 2
	run sh "$HELPER" add vbd-768
	assert_failure 2
	run sh "$HELPER" frob console-1
	assert_failure 2
}
