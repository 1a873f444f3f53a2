#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-ls --poll on the emulated host: one row per change of a channel,
# for domains created later too, ended by --count or --timeout.

load helpers
sim_host_per_file

# poll OUT ARGS...: xenchan-ls --poll ARGS in the background, its rows into
# OUT, its messages into OUT.err; $poll_pid.  It is watching once it sleeps
# in poll(2) (the first listing is done).
poll() {
	local out=$1
	shift
	spawn timeout "$T" xenchan-ls --poll "$@" >"$out" 2>"$out.err"
	poll_pid=$!
	wait_until "$T" polling "$poll_pid"
}

polling() {
	local p
	p=$(descendant "$1" xenchan-ls) && sleeping "$p"
}

# rows FILE N: FILE has at least N lines.
rows() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

# has_row FILE REGEX: a line of FILE matches REGEX (grep -E, whole line,
# but for the blank raw output leaves after an empty last column).
has_row() {
	grep -Eqx -- "$2 ?" "$1"
}

@test "a domain created later: its channels appear, connect, and go with it" {
	poll "$SIM_DIR/p1" -rn -o ACTION,DOMAIN,CHANNEL,TRANSPORT,STATE,OLD-STATE
	sim_create --channel "name=org.example.a.0,connection=socket,path=$SIM_DIR/a.sock" \
		--channel name=org.example.b.0,connection=pty p1
	wait_until "$T" has_row "$SIM_DIR/p1" 'changed p1 org.example.a.0 socket connected connecting'
	wait_until "$T" has_row "$SIM_DIR/p1" 'changed p1 org.example.b.0 pty connected connecting'
	has_row "$SIM_DIR/p1" 'appeared p1 org.example.a.0 socket (connecting|connected)'
	has_row "$SIM_DIR/p1" 'appeared p1 org.example.b.0 pty (connecting|connected)'
	# Each appears once, before any change.
	[ "$(grep -c '^appeared p1 org.example.a.0 ' "$SIM_DIR/p1")" = 1 ]
	run grep -n '' "$SIM_DIR/p1"
	[ "$(grep -n '^appeared p1 org.example.a.0' "$SIM_DIR/p1" | cut -d: -f1)" -lt \
		"$(grep -n '^changed p1 org.example.a.0' "$SIM_DIR/p1" | head -n 1 | cut -d: -f1)" ]
	sim destroy p1
	wait_until "$T" has_row "$SIM_DIR/p1" 'gone p1 org.example.a.0 socket connected '
	wait_until "$T" has_row "$SIM_DIR/p1" 'gone p1 org.example.b.0 pty connected '
	# Nothing but these rows, and no message.
	run grep -Evx '(appeared|changed|gone) p1 org\.example\.[ab]\.0 (socket|pty) [a-z-]+ ?[a-z-]*' "$SIM_DIR/p1"
	assert_output ''
	assert [ ! -s "$SIM_DIR/p1.err" ]
}

@test "--count N ends after N rows with 0; --timeout before any row 124, after one 0" {
	run timeout "$T" xenchan-ls --poll --timeout 300ms
	assert_failure 124
	assert_output ''
	spawn timeout "$T" xenchan-ls --poll --count 2 -rn -o ACTION,CHANNEL >"$SIM_DIR/c2"
	local pid=$!
	wait_until "$T" polling "$pid"
	sim_create --channel "name=org.example.c.0,connection=socket,path=$SIM_DIR/c0.sock" \
		--channel "name=org.example.c.1,connection=socket,path=$SIM_DIR/c1.sock" \
		--channel "name=org.example.c.2,connection=socket,path=$SIM_DIR/c2.sock" c2
	wait "$pid"
	[ "$(wc -l <"$SIM_DIR/c2")" = 2 ]
	# With a change to report and no --count, --timeout ends it with 0.
	spawn timeout "$T" xenchan-ls --poll --timeout 2s -rn -o ACTION,CHANNEL c2 >"$SIM_DIR/c2b"
	pid=$!
	wait_until "$T" polling "$pid"
	sim destroy c2
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ]
	[ "$(grep -c '^gone org.example.c' "$SIM_DIR/c2b")" = 3 ]
	# --count not reached by the deadline: 124, with the rows it printed.
	run timeout "$T" xenchan-ls --poll --count 5 --timeout 300ms
	assert_failure 124
}

@test "-J: one JSON object a line, keys as in xenchan-ls -J, an action key" {
	poll "$SIM_DIR/j" -J c3
	sim_create --channel "name=org.example.j.0,connection=socket,path=$SIM_DIR/j.sock" c3
	wait_until "$T" grep -q '"action": "changed"' "$SIM_DIR/j"
	run head -n 1 "$SIM_DIR/j"
	assert_output --regexp '^\{"action": "appeared", "domid": [0-9]+, "domain": "c3", "channel": "org.example.j.0", "transport": "socket", "role": "frontend", "peer": 0, "state": "connecting", "endpoint": "[^"]*/j.sock", "trust": "trusted", "old-state": null\}$'
	run grep '"action": "changed"' "$SIM_DIR/j"
	assert_output --partial '"state": "connected"'
	assert_output --partial '"old-state": "connecting"}'
	# The keys are those of the listing.
	run timeout "$T" xenchan-ls -J -o +OLD-STATE c3
	assert_failure 2
	assert_output --partial 'OLD-STATE: only with --poll'
	sim destroy c3
}

@test "DOMAIN, -c and -t filter; a DOMAIN that does not exist yet is waited for" {
	poll "$SIM_DIR/f" -rn -o ACTION,DOMAIN,CHANNEL -c org.example.f.1 -t pty f1 name:f3
	sim_create --channel name=org.example.f.1,connection=pty \
		--channel "name=org.example.f.2,connection=socket,path=$SIM_DIR/f2.sock" f2
	sim_create --channel name=org.example.f.1,connection=pty \
		--channel "name=org.example.f.2,connection=socket,path=$SIM_DIR/f22.sock" f3
	sim_create --channel "name=org.example.f.1,connection=socket,path=$SIM_DIR/f11.sock" f1
	sim_create --channel name=org.example.f.1,connection=pty f1b
	wait_until "$T" has_row "$SIM_DIR/f" 'appeared f3 org.example.f.1'
	sim destroy f2
	sim destroy f3
	wait_until "$T" has_row "$SIM_DIR/f" 'gone f3 org.example.f.1'
	# f2 and f1b are not asked for, f1's channel of that name is a socket,
	# f2's other channel has another name.
	run grep -v ' f3 org.example.f.1$' "$SIM_DIR/f"
	assert_output ''
	sim destroy f1
	sim destroy f1b
}

@test "a burst: three domains of eight channels at once, and eight hotplugged at once, each reported" {
	local i d args pids=()
	poll "$SIM_DIR/b" -rn -o ACTION,DOMAIN,CHANNEL,STATE
	for d in b1 b2 b3; do
		args=()
		for i in $(seq 1 8); do
			args+=(--channel "name=org.example.burst.$i,connection=socket,path=$SIM_DIR/$d.$i.sock")
		done
		sim create --wait "${args[@]}" "$d" >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	wait_until "$T" sh -c "[ \$(grep -E '^(appeared|changed) b[123] org.example.burst.[0-9] connected' '$SIM_DIR/b' | cut -d' ' -f2,3 | sort -u | wc -l) = 24 ]"
	[ "$(grep -c '^appeared b[123] org.example.burst.[1-8] ' "$SIM_DIR/b")" = 24 ]
	[ "$(sort -u "$SIM_DIR/b" | grep -c '^appeared ')" = 24 ]
	sim_create b4
	pids=()
	for i in $(seq 1 8); do
		spawn timeout "$T" xenchan-cat -Q never --create b4 "org.example.hot.$i" < <(open_input) >/dev/null
		pids+=($!)
	done
	# Each appears once, and is seen connected (maybe at once).
	wait_until "$T" sh -c "[ \$(grep -E '^(appeared|changed) b4 org.example.hot.[0-9] connected' '$SIM_DIR/b' | cut -d' ' -f3 | sort -u | wc -l) = 8 ]"
	[ "$(grep -c '^appeared b4 org.example.hot.' "$SIM_DIR/b")" = 8 ]
	# Ended, each removes its channel.
	kill "${pids[@]}"
	wait_until "$T" sh -c "[ \$(grep -c '^gone b4 org.example.hot.' '$SIM_DIR/b') -ge 8 ]" || {
		# What was reported, and what xenstore still holds.
		cat "$SIM_DIR/b"
		xenstore-ls -f "/local/domain/$domid/device/console" || true
		xenstore-ls -f "/libxl/$domid/device/console" || true
		false
	}
	# A listing is one state of xenstore: never a channel half removed
	# (its name gone, its directory still there: it showed with no name).
	run grep -E '^[a-z]+ b[1-4]  ' "$SIM_DIR/b"
	assert_output ''
	for d in b1 b2 b3 b4; do sim destroy "$d"; done
	wait_until "$T" sh -c "[ \$(grep -c '^gone b[123] org.example.burst.' '$SIM_DIR/b') -ge 24 ]"
}

@test "reboot and migration: gone and appeared under the new domid; the rename is a change" {
	sim_create --channel "name=org.example.m.0,connection=socket,path=$SIM_DIR/m.sock" m1
	local old=$domid new uuid
	uuid=$(xs_read "/local/domain/$domid/vm")
	uuid=${uuid#/vm/}
	# By name: the domain while it has the name, and from then on under
	# any name (the rename away is a change from it); by UUID: both copies
	# throughout.
	poll "$SIM_DIR/m" -rn -o ACTION,DOMID,DOMAIN,CHANNEL m1
	poll "$SIM_DIR/mu" -rn -o ACTION,DOMID,DOMAIN,CHANNEL "$uuid"
	new=$(sim migrate m1)
	wait_until "$T" has_row "$SIM_DIR/m" "changed $new m1 org.example.m.0"
	wait_until "$T" has_row "$SIM_DIR/m" "gone $old m1--migratedaway org.example.m.0"
	! grep -q -- '--incoming' "$SIM_DIR/m"
	wait_until "$T" has_row "$SIM_DIR/mu" "gone $old m1--migratedaway org.example.m.0"
	has_row "$SIM_DIR/mu" "appeared $new m1--incoming org.example.m.0"
	has_row "$SIM_DIR/mu" "changed $new m1 org.example.m.0"
	old=$new
	new=$(sim reboot m1)
	wait_until "$T" has_row "$SIM_DIR/m" "appeared $new m1 org.example.m.0"
	has_row "$SIM_DIR/m" "gone $old m1 org.example.m.0"
	sim destroy m1
}

@test "vchan endpoints: listed under server and client as they are published and removed" {
	sim_create v1
	poll "$SIM_DIR/v" -rn -o ACTION,DOMID,CHANNEL,TRANSPORT,ROLE,PEER,STATE
	spawn "$XENCHAN_SIM" exec -D "$domid" -- xenchan-cat -l -T vchan -Q never -t 20s 0 org.example.v.0 \
		< <(open_input)
	local srv=$!
	wait_until "$T" has_row "$SIM_DIR/v" "appeared $domid org.example.v.0 vchan server 0 .*"
	wait_until "$T" has_row "$SIM_DIR/v" "(appeared|changed) 0 org.example.v.0 vchan client $domid published"
	kill "$srv"
	wait_until "$T" has_row "$SIM_DIR/v" "gone $domid org.example.v.0 vchan server 0 .*"
	wait_until "$T" has_row "$SIM_DIR/v" "gone 0 org.example.v.0 vchan client $domid .*"
	sim destroy v1
}

@test "--existing: a row for each channel there first (present), then the changes" {
	sim_create --channel "name=org.example.e.0,connection=socket,path=$SIM_DIR/e.sock" e1
	poll "$SIM_DIR/e" -rn --existing -o ACTION,DOMAIN,CHANNEL,STATE e1
	run cat "$SIM_DIR/e"
	assert_output 'present e1 org.example.e.0 connected'
	sim destroy e1
	wait_until "$T" has_row "$SIM_DIR/e" 'gone e1 org.example.e.0 connected'
}

@test "while nothing changes it sleeps; a closed pipe ends it quietly" {
	sim_create --channel "name=org.example.s.0,connection=socket,path=$SIM_DIR/s.sock" s1
	poll "$SIM_DIR/s" s1
	local p ticks
	p=$(descendant "$poll_pid" xenchan-ls)
	ticks=$(awk '{ print $14 + $15 }' "/proc/$p/stat")
	# Other domains' keys change meanwhile: not its business.
	for i in $(seq 1 20); do
		xenstore-write "/local/domain/0/data/poll-noise" "$i"
	done
	xenstore-rm /local/domain/0/data/poll-noise
	wait_until "$T" sleeping "$p"
	[ "$(awk '{ print $14 + $15 }' "/proc/$p/stat")" -le $((ticks + 5)) ]
	[ ! -s "$SIM_DIR/s" ]
	# A reader that goes: it ends then, exit 0, no message (not at the
	# next change: there is none).
	spawn timeout "$T" bash -c 'xenchan-ls --poll -o ACTION s1 2>"$0.err" | head -c 1 >/dev/null
		echo "${PIPESTATUS[0]}" >"$0.rc"' "$SIM_DIR/pipe"
	wait_until "$T" polling "$!"
	sim destroy s1
	wait_until "$T" test -s "$SIM_DIR/pipe.rc"
	run cat "$SIM_DIR/pipe.rc" "$SIM_DIR/pipe.err"
	assert_output 0
}

@test "wrong options: exit 2 with a message" {
	run timeout "$T" xenchan-ls --count 3
	assert_failure 2
	assert_output --partial '--count: only with --poll'
	run timeout "$T" xenchan-ls --existing
	assert_failure 2
	assert_output --partial '--existing: only with --poll'
	run timeout "$T" xenchan-ls --poll --count 0
	assert_failure 2
	assert_output --partial '--count: 0: not a number above 0'
	run timeout "$T" xenchan-ls --poll --count 99999999999999999999
	assert_failure 2
	run timeout "$T" xenchan-ls -o ACTION
	assert_failure 2
	assert_output --partial 'ACTION: only with --poll'
	run timeout "$T" xenchan-ls --poll uuid:nope
	assert_failure 2
	assert_output --partial 'not a domain id, name or UUID'
}

@test "a guest writing its own keys without pause: rows only for what changed, others' rows still come" {
	sim_create --channel "name=org.example.h.0,connection=socket,path=$SIM_DIR/h.sock" h1
	local h1=$domid fe fe7
	fe=$(fe_dir "$h1" 1)
	fe7=$(fe_dir "$h1" 7)
	# A frontend the guest owns, with no trusted copy (another toolstack's).
	xenstore-write "$fe7" ""
	xenstore-chmod "$fe7" "n$h1"
	poll "$SIM_DIR/h" -rn -o ACTION,DOMAIN,CHANNEL,STATE,TRUST
	# Its channel's frontend state, rewritten with the value it has, and
	# the name of the device it owns, changed each time.
	spawn "$XENCHAN_SIM" exec -D "$h1" -- sh -c "
		i=0
		while :; do
			xenstore-write $fe/state 4
			xenstore-write $fe7/name \"\$(printf 'forged.%d\\033]0;x' \$((i % 2)))\" $fe7/state 1
			i=\$((i + 1))
		done"
	# (Its directory, empty, was there before: a row of no name.)
	wait_until "$T" has_row "$SIM_DIR/h" 'changed h1 forged\.[01]\\x1b\]0;x [a-z-]+ no-trusted-copy.*'
	sim_create --channel "name=org.example.h2.0,connection=socket,path=$SIM_DIR/h2.sock" h2
	wait_until "$T" has_row "$SIM_DIR/h" '(appeared|changed) h2 org.example.h2.0 connected trusted'
	# The trusted channel of h1 never changed; the forged name is escaped.
	run grep ' h1 org.example.h.0 ' "$SIM_DIR/h"
	assert_output ''
	run grep -c $'\033' "$SIM_DIR/h"
	assert_output 0
	kill "${SIM_SPAWNED[-1]}"
	sim destroy h2
	sim destroy h1
}

@test "xenstored killed while polling: exit 2, the connection lost" {
	local pid xsd
	sim_test_host
	sim_create --channel "name=org.example.k.0,connection=socket,path=$SIM_DIR/k.sock" k1
	spawn bash -c "timeout $T xenchan-ls --poll -rn 2>'$SIM_DIR/k.err'; echo \$? >'$SIM_DIR/k.rc'"
	pid=$!
	wait_until "$T" polling "$pid"
	kill -9 "$(xenstored_pid)"
	wait_until 5 test -s "$SIM_DIR/k.rc"
	run cat "$SIM_DIR/k.rc" "$SIM_DIR/k.err"
	assert_line --index 0 2
	assert_line --index 1 --partial 'xenstore connection lost'
}

@test "xenstored stopped: --poll's first listing is bounded by --timeout, 124 within 6 s" {
	local xsd start ms rc=0
	sim_test_host
	sim_create --channel "name=org.example.s.0,connection=socket,path=$SIM_DIR/s.sock" st1
	xsd=$(xenstored_pid)
	kill -STOP "$xsd"
	start=${EPOCHREALTIME//[.,]/}
	timeout "$T" xenchan-ls --poll --timeout 2s 2>"$SIM_DIR/st.err" || rc=$?
	ms=$(((${EPOCHREALTIME//[.,]/} - start) / 1000))
	kill -CONT "$xsd"
	echo "exit $rc after $ms ms: $(cat "$SIM_DIR/st.err")"
	[ "$rc" -eq 124 ]
	[ "$ms" -lt 6000 ]
}
