#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The emulated host runs Debian's unmodified Xen tools faithfully: xenstore
# clients, permissions, watches, @releaseDomain and the preload's safety net.

load helpers
sim_host_per_file

@test "xenstore-write, -read, -ls, -chmod and -rm work against the real xenstored" {
	run timeout "$T" xenstore-write /test/a hello /test/b world
	assert_success
	run xs_read /test/a
	assert_success
	assert_output hello
	run timeout "$T" xenstore-ls /test
	assert_success
	assert_line 'a = "hello"'
	assert_line 'b = "world"'
	run timeout "$T" xenstore-chmod /test/a n0 r3
	assert_success
	run timeout "$T" xenstore-ls -fp /test
	assert_line --regexp '^/test/a = "hello" +\(n0,r3\)$'
	run timeout "$T" xenstore-rm /test
	assert_success
	run timeout "$T" xenstore-exists /test
	assert_failure
}

@test "dom0 is set up as xen-init-dom0 does" {
	run xs_read /local/domain/0/name /local/domain/0/domid
	assert_success
	assert_output $'Domain-0\n0'
	run xs_read /local/domain/0/vm
	assert_output /vm/00000000-0000-0000-0000-000000000000
	run sim list
	assert_success
	assert_line --regexp '^0 +Domain-0 +00000000-0000-0000-0000-000000000000$'
}

@test "a xenstore watch fires once on registration and again on a write" {
	local out=$SIM_DIR/watch.out pid
	timeout "$T" xenstore-watch -n 2 /test/w >"$out" &
	pid=$!
	wait_until "$T" has_lines "$out" 1
	run timeout "$T" xenstore-write /test/w 1
	assert_success
	wait "$pid"
	run cat "$out"
	assert_output $'/test/w\n/test/w'
}

@test "a guest reads its own tree with relative paths and cannot read another's" {
	sim_create g1
	local g1=$domid
	sim_create g2
	local g2=$domid
	run in_domain "$g1" xenstore-read name domid
	assert_success
	assert_output $'g1\n'"$g1"
	run in_domain "$g1" xenstore-read "/local/domain/$g2/name"
	assert_failure
	run in_domain "$g2" xenstore-write data/x y
	assert_success
	run xs_read "/local/domain/$g2/data/x"
	assert_output y
	sim destroy g1
	sim destroy g2
}

@test "a guest cannot write /libxl or the read-only keys of its channel, only its own" {
	sim_create --channel "name=org.example.perm.0,connection=pty" perm1
	local d=$domid fe=/local/domain/$domid/device/console/1
	run in_domain "$d" xenstore-write "/libxl/$d/x" y
	assert_failure
	run in_domain "$d" xenstore-read "/libxl/$d/device/console/1/name"
	assert_failure
	for key in name type output limit tty; do
		run in_domain "$d" xenstore-write "$fe/$key" evil
		assert_failure
	done
	run xs_read "$fe/name" "$fe/type"
	assert_output $'org.example.perm.0\nioemu'
	run in_domain "$d" xenstore-write "/local/domain/0/backend/console/$d/1/state" 6
	assert_failure
	run in_domain "$d" xenstore-write "$fe/ring-ref" 1234
	assert_success
	run xs_read "$fe/ring-ref"
	assert_output 1234
	sim destroy "$d"
}

@test "destroying a domain fires @releaseDomain and removes its nodes" {
	sim_create --channel "name=org.example.gone.0,connection=pty" gone1
	local d=$domid out=$SIM_DIR/release.out pid uuid vm
	vm=$(xs_read "/local/domain/$d/vm")
	timeout "$T" xenstore-watch -n 2 @releaseDomain >"$out" &
	pid=$!
	wait_until "$T" has_lines "$out" 1
	run sim destroy gone1
	assert_success
	wait "$pid"
	run cat "$out"
	assert_output $'@releaseDomain\n@releaseDomain'
	for p in "/local/domain/$d" "/libxl/$d" "/local/domain/0/backend/console/$d" "$vm"; do
		run timeout "$T" xenstore-exists "$p"
		assert_failure
	done
	[ ! -e "$SIM_DIR/dom$d" ]
	run sim list
	refute_output --partial gone1
}

@test "destroying a domain kills the processes started in it" {
	sim_create doomed
	local d=$domid pid
	"$XENCHAN_SIM" exec -D "$d" -- sleep 100 3>&- &
	pid=$!
	wait_until "$T" grep -qx "$pid" "$SIM_DIR/dom$d/procs"
	run sim destroy doomed
	assert_success
	run wait_exit "$pid" 2
	assert_success
}

@test "create rejects bad channel specs" {
	run sim create --channel "name=x,connection=socket" bad1
	assert_failure 2
	assert_output --partial "needs an absolute path"
	run sim create --channel "name=x,connection=pty,colour=red" bad1
	assert_failure 2
	assert_output --partial "unknown key 'colour'"
	run sim create --channel "connection=pty" bad1
	assert_failure 2
	run sim list
	refute_output --partial bad1
}

@test "create refuses a name already in use" {
	sim_create twin
	run sim create twin
	assert_failure
	assert_output --partial "already exists"
	sim destroy twin
}

@test "the preload library refuses to run outside an emulated host" {
	run env -u XENCHAN_SIM_DIR LD_PRELOAD="$SIM_BIN/libxenchan-sim.so" /bin/true
	assert_failure 2
	assert_output --partial XENCHAN_SIM_DIR
}

@test "xenchan-sim stats counts domains and events" {
	run sim stats
	assert_success
	assert_line --regexp '^domains [0-9]+$'
	assert_line --regexp '^notifies [0-9]+$'
}
