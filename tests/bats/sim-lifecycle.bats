#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-sim reboot, save, restore and migrate: a guest's lifecycle as xl
# drives it (REFERENCE.md, "A guest's lifecycle").

load helpers
sim_host_per_file

SOCK_CH=org.example.life.0
PTY_CH=org.example.life.1
SINK_CH=org.example.life.2

# mk NAME [ARGS...]: a guest with a socket channel (echo), a pty channel
# (echo) and a pty channel with a sink agent counting into $SIM_DIR/NAME.sink.
mk() {
	local name=$1
	shift
	sim_create -u "$UUID" \
		--channel "name=$SOCK_CH,connection=socket,path=$SIM_DIR/$name.sock" \
		--channel "name=$PTY_CH,connection=pty" \
		--channel "name=$SINK_CH,connection=pty" \
		--agent "$SINK_CH=sink:$SIM_DIR/$name.sink" "$@" "$name"
}

UUID=5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b

# Processes whose environment names host directory $1.
host_procs() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null |
			grep -qx "XENCHAN_SIM_DIR=$1" && echo "${p#/proc/}"
	done
	true
}

# The domid of domain NAME, from the toolstack's list.
domid_of() {
	timeout "$T" "$XENCHAN_SIM" list | awk -v n="$1" '$2 == n { print $1 }'
}

# The UUID domain D's trusted vm key names.
uuid_of() {
	local vm
	vm=$(xs_read "/local/domain/$1/vm") || return 1
	echo "${vm#/vm/}"
}

# Domain NAME's three channels are connected at both ends, with their names.
all_connected() {
	[ "$(timeout "$T" xenchan-ls -rn -o CHANNEL,STATE "$1" | sort)" = \
		"$(printf '%s connected\n' "$SOCK_CH" "$PTY_CH" "$SINK_CH")" ]
}

# What a guest named NAME must look like after a rebuild from domid OLD:
# a new domid, never one seen before (in $SEEN), the same UUID, the same
# channels connected, the socket served by the new qemu (the echo agent
# answers through it), the hotplugged channel gone.
check_rebuilt() {
	local name=$1 new=$2 d
	[[ $new =~ ^[0-9]+$ ]]
	for d in $SEEN; do
		[ "$new" != "$d" ] || { echo "domid $new used again" >&2; return 1; }
	done
	SEEN="$SEEN $new"
	[ "$(domid_of "$name")" = "$new" ]
	[ "$(uuid_of "$new")" = "$UUID" ]
	[ "$(xs_read "/local/domain/$new/name")" = "$name" ]
	# The toolstack's keys: dom0 owns them.
	[ "$(timeout "$T" xenstore-ls -p "/local/domain/$new" |
		grep -cE '^(vm|name) = .*\(n0,r'"$new"'\)$')" = 2 ]
	wait_until "$T" all_connected "$name"
	run bash -c "echo 'through the new qemu' | timeout $T xenchan-cat $name $SOCK_CH"
	assert_success
	assert_output 'through the new qemu'
	# Not in the configuration: not restored.
	run timeout "$T" xenchan-ls -rn -c org.example.hot.0 "$name"
	assert_output ''
	run timeout "$T" xenstore-ls "/local/domain/$new/device/console"
	refute_output --partial org.example.hot.0
}

# hotplug NAME: a direct channel added at runtime by xenchan-cat --create,
# connected; $HOT is the background job.
hotplug() {
	timeout "$T" xenchan-cat -Q never --create "$1" org.example.hot.0 < <(open_input) \
		>/dev/null 2>&1 &
	HOT=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,TRANSPORT,STATE '$1' |
		grep -qx 'org.example.hot.0 direct connected'"
}

# After the domain went, the hotplugging xenchan-cat ends (its peer is gone).
hot_gone() {
	wait_exit "$HOT" "$T"
	wait "$HOT" || true
}

@test "reboot: a new domid each time, same name, UUID and channels; hotplugged ones gone" {
	local i old new
	mk rb1
	SEEN=$domid
	old=$domid
	for i in 1 2 3 4 5; do
		hotplug rb1
		new=$(sim reboot rb1)
		hot_gone
		[ -z "$(xs_read "/local/domain/$old/name" 2>/dev/null)" ]
		check_rebuilt rb1 "$new"
		old=$new
	done
	sim destroy rb1
}

@test "reboot fires @releaseDomain, as destroy does" {
	local out=$SIM_DIR/release.watch new
	mk rb2
	# xenstore-watch prints the watch once when it is set, then once per
	# event; -n 2: it exits after the event, leaving nothing behind (killed
	# at teardown, the timeout wrapper would leave it running).
	spawn timeout "$T" xenstore-watch -n 2 @releaseDomain >"$out"
	wait_until "$T" has_lines "$out" 1
	new=$(sim reboot rb2)
	wait_until "$T" has_lines "$out" 2
	sim destroy rb2
}

@test "sink agents count on across reboots: every byte the guest got" {
	local a=$SIM_DIR/a b=$SIM_DIR/b
	head -c 3000 /dev/urandom >"$a"
	head -c 5000 /dev/urandom >"$b"
	mk sk1
	SEEN=$domid
	run timeout "$T" xenchan-send sk1 "$SINK_CH" "$a"
	assert_success
	wait_until "$T" sunk "$SIM_DIR/sk1.sink" 3000
	new=$(sim reboot sk1)
	check_rebuilt sk1 "$new"
	run timeout "$T" xenchan-send sk1 "$SINK_CH" "$b"
	assert_success
	wait_until "$T" sunk "$SIM_DIR/sk1.sink" 8000
	# The same bytes in one go into a fresh guest: the same count and hash.
	cat "$a" "$b" >"$SIM_DIR/ab"
	mk sk2
	run timeout "$T" xenchan-send sk2 "$SINK_CH" "$SIM_DIR/ab"
	assert_success
	wait_until "$T" sunk "$SIM_DIR/sk2.sink" 8000
	[ "$(cat "$SIM_DIR/sk1.sink")" = "$(cat "$SIM_DIR/sk2.sink")" ]
	sim destroy sk1
	sim destroy sk2
}

@test "save then restore from the file; restore refuses an existing name" {
	local i old new f=$SIM_DIR/sv1.save
	mk sv1
	SEEN=$domid
	old=$domid
	for i in 1 2 3; do
		hotplug sv1
		run sim save sv1 "$f"
		assert_success
		assert_output ''
		hot_gone
		[ -z "$(domid_of sv1)" ]
		[ -z "$(xs_read "/local/domain/$old/name" 2>/dev/null)" ]
		head -n 1 "$f" | grep -qx 'xenchan-sim-domain 1'
		grep -qx "uuid $UUID" "$f"
		new=$(sim restore "$f")
		check_rebuilt sv1 "$new"
		old=$new
	done
	run sim restore "$f"
	assert_failure 1
	assert_output --partial 'domain sv1 already exists'
	[ "$(domid_of sv1)" = "$old" ]
	sim destroy sv1
}

@test "migrate: the overlap (two domids, one UUID, --incoming and --migratedaway), then one domain" {
	local i old new out=$SIM_DIR/mig.out pid
	mk mg1
	SEEN=$domid
	old=$domid
	for i in 1 2; do
		hotplug mg1
		XENCHAN_SIM_MIGRATE_PAUSE_MS=3000 timeout "$T" "$XENCHAN_SIM" migrate mg1 \
			>"$out" 3>&- &
		pid=$!
		wait_until "$T" sh -c "'$XENCHAN_SIM' list | grep -q ' mg1--migratedaway '"
		[ "$(domid_of mg1--migratedaway)" = "$old" ]
		new=$(domid_of mg1--incoming)
		[ -n "$new" ] && [ "$new" != "$old" ]
		[ -z "$(domid_of mg1)" ]
		[ "$(uuid_of "$old")" = "$UUID" ]
		[ "$(uuid_of "$new")" = "$UUID" ]
		# xl asked the outgoing guest to suspend.
		[ "$(xs_read "/local/domain/$old/control/shutdown")" = suspend ]
		# The incoming qemu serves the socket path already.
		[ "$(socket_backlog "$SIM_DIR/mg1.sock")" != none ]
		wait "$pid"
		[ "$(cat "$out")" = "$new" ]
		hot_gone
		[ -z "$(domid_of mg1--incoming)" ] && [ -z "$(domid_of mg1--migratedaway)" ]
		[ -z "$(xs_read "/local/domain/$old/name" 2>/dev/null)" ]
		check_rebuilt mg1 "$new"
		# The outgoing copy's destruction left the VM's directory.
		[ "$(xs_read "/vm/$UUID/name")" = mg1 ]
		old=$new
	done
	sim destroy mg1
}

@test "bad input: unknown domains, missing arguments, unreadable and garbage save files" {
	local f=$SIM_DIR/bad.save
	for cmd in reboot migrate; do
		run sim "$cmd" nosuch
		assert_failure 1
		assert_output "xenchan-sim: nosuch: no such domain"
		run sim "$cmd" 0
		assert_failure 1
		assert_output --partial 'not a guest'
		run sim "$cmd"
		assert_failure 2
		assert_output --partial "$cmd: expected one DOMAIN"
		run sim "$cmd" a b
		assert_failure 2
	done
	run sim save nosuch "$f"
	assert_failure 1
	assert_output --partial 'no such domain'
	[ ! -e "$f" ]
	run sim save nosuch
	assert_failure 2
	assert_output --partial 'expected DOMAIN FILE'
	run sim restore
	assert_failure 2
	run sim restore "$SIM_DIR/none.save"
	assert_failure 1
	assert_output --partial "$SIM_DIR/none.save: No such file or directory"
	run sim restore "$SIM_DIR"
	assert_failure 1
	assert_output --partial 'Is a directory'
	head -c 4096 /dev/urandom >"$f"
	run sim restore "$f"
	assert_failure 1
	assert_output --partial 'not a xenchan-sim save file'
	printf 'xenchan-sim-domain 1\nxen-version 4.20.4\nname x1\n' >"$f"
	run sim restore "$f"
	assert_failure 1
	assert_output --partial 'no uuid'
	printf 'xenchan-sim-domain 1\nxen-version 4.20.4\nname x1\nuuid %s\nchannel name=a,connection=tcp\n' \
		"$UUID" >"$f"
	run sim restore "$f"
	assert_failure 1
	assert_output --partial 'line 5: channel name=a,connection=tcp: connection must be socket or pty'
	printf 'xenchan-sim-domain 1\nxen-version 4.20.4\nname x1\nuuid %s' "$UUID" >"$f"
	run sim restore "$f"
	assert_failure 1
	assert_output --partial 'line 4: no end of line'
	printf 'xenchan-sim-domain 1\nxen-version 99.0.0\nname x1\nuuid %s\n' "$UUID" >"$f"
	run sim restore "$f"
	assert_failure 1
	assert_output --partial 'saved on Xen 99.0.0'
	[ -z "$(domid_of x1)" ]
	# A save that cannot be written leaves the domain alone.
	mk bad1
	run sim save bad1 "$SIM_DIR/no/such/dir/f"
	assert_failure 1
	assert_output --partial 'No such file or directory'
	[ "$(domid_of bad1)" = "$domid" ]
	run env XENCHAN_SIM_MIGRATE_PAUSE_MS=soon "$XENCHAN_SIM" migrate bad1
	assert_failure 2
	assert_output --partial 'XENCHAN_SIM_MIGRATE_PAUSE_MS=soon'
	[ "$(domid_of bad1)" = "$domid" ]
	[ -z "$(domid_of bad1--incoming)" ]
	sim destroy bad1
}

@test "after every operation, stop leaves no process and no socket behind" {
	local dir
	dir=$(mktemp -d /tmp/xcs.XXXXXX)
	run timeout "$T" env -u XENCHAN_SIM_DIR -u LD_PRELOAD "$XENCHAN_SIM" start "$dir"
	assert_success
	(
		export XENCHAN_SIM_DIR=$dir XENSTORED_PATH=$dir/xenstored/socket
		export XENCHAN_RUNDIR=$dir/run
		SIM_DIR=$dir
		mk end1 >/dev/null
		sim reboot end1 >/dev/null
		sim save end1 "$dir/end1.save"
		sim restore "$dir/end1.save" >/dev/null
		sim migrate end1 >/dev/null
	)
	[ -S "$dir/end1.sock" ]
	[ -n "$(host_procs "$dir")" ]
	run sim stop "$dir"
	assert_success
	run host_procs "$dir"
	assert_output ''
	run find "$dir" -type s
	assert_output ''
	rm -rf "$dir"
}
