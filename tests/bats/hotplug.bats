#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The xenstore nodes of a channel xenchan hotplugs (lib/hotplug.c), on the
# emulated host: the whole layout with `xenstore-ls -fp`, byte for byte, while
# tests/unit/test-direct serves the channel (values that differ from run to
# run, ring-ref and port, are normalized), removal, and lib/hotplug.c's unit
# tests (tests/unit/test-hotplug) against a guest that is not running.

load helpers
sim_host_per_file need_direct_driver

normalize() {
	sed -E 's/" +\(/"   (/
		s#/(ring-ref|port) = "[0-9]+"#/\1 = "N"#'
}

@test "a hotplugged channel has libxl's nodes, values, permissions and order" {
	sim_create -D 1 hp01
	[ "$domid" = 1 ]
	"$DRIVER" serve 1 org.example.layout.0 >"$SIM_DIR/serve.out" 2>&1 &
	local pid=$!
	wait_until "$T" has_lines "$SIM_DIR/serve.out" 1
	for p in /local/domain/1/device/console /local/domain/0/backend/console/1 \
		/libxl/1/device/console; do
		echo "==== xenstore-ls -fp $p ===="
		timeout "$T" xenstore-ls -fp "$p" || return 1
	done | normalize >"$SIM_DIR/layout"
	kill "$pid"
	wait "$pid" || true
	run cat "$SIM_DIR/serve.out"
	assert_output 'devid 1'
	# Devid 0 is the primary console, written by the domain builder.
	cat >"$SIM_DIR/layout.want" <<'WANT'
==== xenstore-ls -fp /local/domain/1/device/console ====
/local/domain/1/device/console/1 = ""   (n1,r0)
/local/domain/1/device/console/1/backend = "/local/domain/0/backend/console/1/1"   (n1,r0)
/local/domain/1/device/console/1/backend-id = "0"   (n1,r0)
/local/domain/1/device/console/1/state = "4"   (n1,r0)
/local/domain/1/device/console/1/protocol = "vt100"   (n1,r0)
/local/domain/1/device/console/1/name = "org.example.layout.0"   (n0,r1)
/local/domain/1/device/console/1/limit = "1048576"   (n0,r1)
/local/domain/1/device/console/1/type = "xenchan"   (n0,r1)
/local/domain/1/device/console/1/output = "xenchan"   (n0,r1)
/local/domain/1/device/console/1/tty = ""   (n0,r1)
/local/domain/1/device/console/1/ring-ref = "N"   (n1,r0)
/local/domain/1/device/console/1/port = "N"   (n1,r0)
==== xenstore-ls -fp /local/domain/0/backend/console/1 ====
/local/domain/0/backend/console/1/0 = ""   (n0,r1)
/local/domain/0/backend/console/1/0/frontend = "/local/domain/1/console"   (n0,r1)
/local/domain/0/backend/console/1/0/frontend-id = "1"   (n0,r1)
/local/domain/0/backend/console/1/0/online = "1"   (n0,r1)
/local/domain/0/backend/console/1/0/state = "1"   (n0,r1)
/local/domain/0/backend/console/1/0/protocol = "vt100"   (n0,r1)
/local/domain/0/backend/console/1/1 = ""   (n0,r1)
/local/domain/0/backend/console/1/1/frontend = "/local/domain/1/device/console/1"   (n0,r1)
/local/domain/0/backend/console/1/1/frontend-id = "1"   (n0,r1)
/local/domain/0/backend/console/1/1/online = "1"   (n0,r1)
/local/domain/0/backend/console/1/1/state = "4"   (n0,r1)
/local/domain/0/backend/console/1/1/protocol = "vt100"   (n0,r1)
/local/domain/0/backend/console/1/1/name = "org.example.layout.0"   (n0,r1)
/local/domain/0/backend/console/1/1/connection = "xenchan"   (n0,r1)
==== xenstore-ls -fp /libxl/1/device/console ====
/libxl/1/device/console/0 = ""   (n0)
/libxl/1/device/console/0/frontend = "/local/domain/1/console"   (n0)
/libxl/1/device/console/0/backend = "/local/domain/0/backend/console/1/0"   (n0)
/libxl/1/device/console/0/frontend-id = "1"   (n0)
/libxl/1/device/console/0/online = "1"   (n0)
/libxl/1/device/console/0/state = "1"   (n0)
/libxl/1/device/console/0/protocol = "vt100"   (n0)
/libxl/1/device/console/1 = ""   (n0)
/libxl/1/device/console/1/frontend = "/local/domain/1/device/console/1"   (n0)
/libxl/1/device/console/1/backend = "/local/domain/0/backend/console/1/1"   (n0)
/libxl/1/device/console/1/frontend-id = "1"   (n0)
/libxl/1/device/console/1/online = "1"   (n0)
/libxl/1/device/console/1/state = "1"   (n0)
/libxl/1/device/console/1/protocol = "vt100"   (n0)
/libxl/1/device/console/1/name = "org.example.layout.0"   (n0)
/libxl/1/device/console/1/connection = "xenchan"   (n0)
WANT
	run diff -u "$SIM_DIR/layout.want" "$SIM_DIR/layout"
	assert_success
}

@test "removal takes the channel's three directories and nothing else" {
	sim_create -D 2 hp02
	[ "$domid" = 2 ]
	"$DRIVER" serve 2 org.example.removal.0 >"$SIM_DIR/serve2.out" 2>&1 &
	local pid=$!
	wait_until "$T" has_lines "$SIM_DIR/serve2.out" 1
	# Killed, the server leaves its channel behind for removal.
	kill "$pid"
	wait "$pid" || true
	run timeout "$T" xenstore-read /libxl/2/device/console/1/connection
	assert_output xenchan
	run timeout "$T" "$DRIVER" -d 1 remove 2 x
	assert_success
	run timeout "$T" xenstore-ls -f /local/domain/2/device/console
	assert_success
	assert_output ''
	run timeout "$T" xenstore-ls -f /local/domain/0/backend/console/2
	assert_success
	refute_output --partial /console/2/1
	assert_output --partial /console/2/0/state
	run timeout "$T" xenstore-ls -f /libxl/2/device/console
	assert_success
	refute_output --partial /console/1
	assert_output --partial /console/0/state
}

@test "test-hotplug: lib/hotplug.c's nodes, devids and removal" {
	local prog=$top_builddir/tests/unit/test-hotplug pgid
	if [ ! -x "$prog" ]; then
		echo "$prog is missing: run make check (it builds the unit tests)"
		return 1
	fi
	sim_create -D 3 hp03
	[ "$domid" = 3 ]
	# A stopped guest does not answer new devices with keys of its own:
	# the test sees exactly what was written.
	pgid=$(cat "$SIM_DIR/dom3/pgid")
	kill -STOP -- -"$pgid"
	run timeout "$T" "$prog" 3
	kill -CONT -- -"$pgid"
	if [ "$status" -ne 0 ] || grep -q '^not ok' <<<"$output" ||
		grep -q '^Bail out!' <<<"$output" || ! grep -Eq '^1\.\.[1-9]' <<<"$output"; then
		echo "test-hotplug exited $status:"
		echo "$output"
		return 1
	fi
	grep -c '^ok' <<<"$output" | sed 's/^/# test-hotplug: /; s/$/ tests passed/' >&3
}

# Each takes the lowest free devid in a transaction: all but one conflict,
# and xenstored answers EIO, not EAGAIN, to a request of a transaction that
# another's commit made inconsistent (it failed 3 of 8 with "open:
# Input/output error").
@test "eight hotplugs into one domain at once: each gets a devid of its own" {
	sim_create hp04
	local i pids=()
	for i in $(seq 1 8); do
		spawn timeout "$T" xenchan-cat -Q never --create hp04 "org.example.many.$i" \
			< <(open_input) >/dev/null 2>"$SIM_DIR/many.$i.err"
		pids+=($!)
	done
	wait_until "$T" sh -c "[ \$(timeout $T xenchan-ls -rn -o STATE hp04 | grep -c '^connected') = 8 ]"
	run timeout "$T" xenchan-ls -rn -o DEVID,CHANNEL hp04
	[ "$(echo "$output" | cut -d' ' -f1 | sort -u | wc -l)" = 8 ]
	[ "$(echo "$output" | cut -d' ' -f2 | sort -u | wc -l)" = 8 ]
	run cat "$SIM_DIR"/many.*.err
	assert_output ''
	kill "${pids[@]}"
	sim destroy hp04
}
