#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The direct transport (lib/direct.c, lib/ring.c) on the emulated host, through
# tests/unit/test-direct: hotplug, data, teardown, crash recovery, a guest
# destroyed mid-transfer, the devid limit.  Guests that corrupt the ring are in
# hostile.bats.

load helpers
sim_host_per_file need_direct_driver

direct() {
	timeout "$T" "$DRIVER" -t 20000 "$@"
}

@test "hotplug, 0 B, 1 B, 4095 B and 1 MiB round trips through echo, removal on close" {
	sim_create hot01
	run direct -v echo "$domid" org.example.direct.0 0 1 4095 1M
	echo "$output"
	assert_success
	assert_line 'devid 1'
	assert_line --regexp '^0 ok cbf29ce484222325 cbf29ce484222325$'
	assert_line --regexp '^1 ok ([0-9a-f]{16}) \1$'
	assert_line --regexp '^4095 ok ([0-9a-f]{16}) \1$'
	assert_line --regexp '^1048576 ok ([0-9a-f]{16}) \1$'
	assert_line --partial 'hotplugged channel org.example.direct.0'
	# The guest followed the backend to Closed before the nodes went.
	assert_line --partial 'device/console/1: frontend closed'
	device_gone "$domid" 1
	# Notifications per MiB, for the record.
	grep notifications <<<"$output" | sed 's/^/# /' >&3
}

@test "the hotplugged nodes are libxl's, with type xenchan and libxl's permissions" {
	sim_create hot02
	"$DRIVER" serve "$domid" org.example.nodes.0 >"$SIM_DIR/serve.out" 2>&1 &
	local pid=$!
	wait_until "$T" has_lines "$SIM_DIR/serve.out" 1
	run timeout "$T" xenstore-ls -p "$(fe_dir "$domid" 1)"
	kill "$pid"
	wait "$pid" || true
	assert_line --regexp "^type = \"xenchan\" .*\(n0,r$domid\)$"
	assert_line --regexp "^name = \"org.example.nodes.0\" .*\(n0,r$domid\)$"
	assert_line --regexp "^backend-id = \"0\" .*\(n$domid,r0\)$"
	assert_line --regexp "^state = \"4\" .*\(n$domid,r0\)$"
	assert_line --regexp "^ring-ref = "
	run xs_read "$(lx_dir "$domid" 1)/connection"
	assert_output xenchan
	run xs_read "$(be_dir "$domid" 1)/state"
	assert_output 4
	# xenchan-ls, when built, shows it as a direct channel.
	if [ -x "$top_builddir/cmd/xenchan-ls" ]; then
		run timeout "$T" "$top_builddir/cmd/xenchan-ls" -rn -o CHANNEL,TRANSPORT "$domid"
		assert_output 'org.example.nodes.0 direct'
	fi
	run direct -d 1 remove "$domid" x
	assert_success
	device_gone "$domid" 1
}

@test "kill -9 of the server: re-attach, then cleanup with xc_direct_remove" {
	sim_create crash01
	"$DRIVER" serve "$domid" org.example.crash.0 >"$SIM_DIR/crash.out" 2>&1 &
	local pid=$!
	wait_until "$T" has_lines "$SIM_DIR/crash.out" 1
	kill -9 "$pid"
	wait "$pid" || true
	# Left behind: the channel, still of type xenchan.
	run xs_read "$(fe_dir "$domid" 1)/type"
	assert_output xenchan
	# Re-attach by devid: the same ring, the guest's port bound anew.
	run direct -d 1 echo "$domid" org.example.crash.0 4095 1M
	assert_success
	assert_line --regexp '^1048576 ok ([0-9a-f]{16}) \1$'
	# A re-attached channel is left in place on close...
	run xs_read "$(fe_dir "$domid" 1)/type"
	assert_output xenchan
	# ... for xc_direct_remove.
	run direct -v -d 1 remove "$domid" x
	assert_success
	assert_output --partial 'frontend closed'
	device_gone "$domid" 1
	run direct -d 1 remove "$domid" x
	assert_failure 2
	assert_output 'error: ENOENT'
	# Creating by name what a killed server left adopts it, rather than
	# adding a twin, and removes it on close: nothing is left behind.
	"$DRIVER" serve "$domid" org.example.crash.0 >"$SIM_DIR/crash.out" 2>&1 &
	pid=$!
	wait_until "$T" has_lines "$SIM_DIR/crash.out" 1
	kill -9 "$pid"
	wait "$pid" || true
	run xs_read "$(fe_dir "$domid" 1)/type"
	assert_output xenchan
	run direct echo "$domid" org.example.crash.0 10
	assert_success
	assert_line --index 0 'devid 1'
	device_gone "$domid" 1
}

@test "guest destroyed mid-transfer: -EPIPE within 1 s" {
	sim_create victim01
	"$DRIVER" drain "$domid" org.example.victim.0 >"$SIM_DIR/drain.out" 2>&1 &
	local pid=$!
	wait_until "$T" has_lines "$SIM_DIR/drain.out" 1
	wait_until "$T" sleeping "$pid"
	sim destroy victim01
	wait_exit "$pid" 1
	run wait "$pid"
	assert_equal "$status" 2
	run cat "$SIM_DIR/drain.out"
	assert_line 'error: EPIPE'
}

@test "devid 10 is refused; a channel qemu serves is never touched" {
	sim_create --channel "name=org.example.q.0,connection=socket,path=$SIM_DIR/q.sock" full01
	local i
	# The socket channel has devid 1; make 2..9 look taken (trusted copies only).
	for i in 2 3 4 5 6 7 8 9; do
		timeout "$T" xenstore-write "$(lx_dir "$domid" $i)/name" "taken$i"
	done
	run direct echo "$domid" org.example.ten.0 1
	assert_failure 2
	assert_output 'error: ENOSPC'
	# Nothing was written for it.
	run xs_read "$(fe_dir "$domid" 10)/state"
	assert_failure
	run direct -d 1 echo "$domid" org.example.q.0 1
	assert_failure 2
	assert_output 'error: ENOTSUP'
	run direct -d 1 remove "$domid" x
	assert_output 'error: ENOTSUP'
	run xs_read "$(be_dir "$domid" 1)/state"
	assert_output 4
	for i in 2 3 4 5 6 7 8 9; do
		timeout "$T" xenstore-rm "$(lx_dir "$domid" $i)"
	done
}

@test "one-way 1 MiB each way: delivery proven by the ring, notifications per MiB" {
	sim_create --agent "org.example.sink.0=sink:$SIM_DIR/sink.sum" \
		--agent org.example.source.0=source:1048576 oneway01
	run direct send "$domid" org.example.sink.0 1M
	echo "$output"
	assert_success
	assert_line 'delivered 1048576 consumed'
	grep notifications <<<"$output" | sed 's/^/# send: /' >&3
	run direct recv "$domid" org.example.source.0 1M
	echo "$output"
	assert_success
	assert_line 'received 1048576 ok'
	grep notifications <<<"$output" | sed 's/^/# recv: /' >&3
}
