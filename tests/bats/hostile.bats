#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile input on the emulated host, in one place: a guest that forges its
# keys, names and ring indices; a caller that closes standard descriptors,
# sends signals at any moment or passes absurd values; a xenstored that stops
# answering or dies.  Each test's name says what the commands must do.

load helpers
sim_host_per_file web01_setup

PROXY=$XEN_BINDIR/vchan-socket-proxy

# web01: a sink agent on a socket channel, and a guest that never reads.
web01_setup() {
	if [ ! -x "$DRIVER" ]; then
		echo "# $DRIVER is missing: run make check (it builds the driver)" >&3
		return 1
	fi
	if [ ! -x "$PROXY" ]; then
		echo "# $PROXY is missing (Debian package xen-utils-X.Y)" >&3
		return 1
	fi
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/agent.sock" \
		--channel "name=org.example.stall.0,connection=socket,path=$SIM_DIR/stall.sock" \
		--agent "org.example.agent.0=sink:$SIM_DIR/agent.sunk" \
		--agent org.example.stall.0=stall web01
	export WEB01=$domid
}

ls_() {
	timeout "$T" xenchan-ls "$@"
}

# The direct transport's test driver (tests/unit/test-direct), bounded.
direct() {
	timeout "$T" "$DRIVER" -t 20000 "$@"
}

# ---- What a guest writes: its keys and its ring ----

@test "a guest cannot rename its channel; a renamed frontend is reported, never believed" {
	local d
	d=$WEB01
	run in_domain "$d" xenstore-write "/local/domain/$d/device/console/1/name" evil
	assert_failure
	# An old toolstack that left the key writable by the guest (before XSA-57).
	timeout "$T" xenstore-chmod "/local/domain/$d/device/console/1/name" "n$d" || false
	run in_domain "$d" xenstore-write "/local/domain/$d/device/console/1/name" $'evil\e[31mred'
	assert_success
	run ls_ -rn -o CHANNEL,TRUST,FENAME -c org.example.agent.0 web01
	assert_success
	assert_output 'org.example.agent.0 name-mismatch evil\x1b[31mred'
	run ls_ -n -o CHANNEL,TRUST,FENAME -c org.example.agent.0 web01
	assert_output --regexp '^org.example.agent.0 +name-mismatch +evil\\x1b\[31mred$'
	run ls_ -J -o FENAME -c org.example.agent.0 web01
	assert_output --partial '"fename": "evil\\x1b[31mred"'
	run ls_ -c evil web01
	refute_output --partial evil
	timeout "$T" xenstore-write "/local/domain/$d/device/console/1/name" org.example.agent.0
	timeout "$T" xenstore-chmod "/local/domain/$d/device/console/1/name" n0 "r$d"
}

@test "a device with no trusted copy is listed as untrusted, escaped" {
	local d fe
	d=$WEB01
	fe=/local/domain/$d/device/console/7
	# Another toolstack made a frontend and left it to the guest.
	timeout "$T" xenstore-write "$fe" "" || false
	timeout "$T" xenstore-chmod "$fe" "n$d" || false
	run in_domain "$d" xenstore-write "$fe/name" $'org.\e]0;pwned\a' "$fe/state" 1 \
		"$fe/backend" /etc/passwd
	assert_success
	run ls_ -rn -o DEVID,CHANNEL,STATE,TRUST web01
	assert_success
	assert_line '7 org.\x1b]0;pwned\x07 no-backend no-trusted-copy,guest-writable,bad-value'
	# Nothing raw reaches the terminal in any format.
	for fmt in "" -r -P -J; do
		run ls_ $fmt web01
		refute_output --partial $'\e'
		refute_output --partial $'\a'
	done
	timeout "$T" xenstore-rm "$fe"
}

@test "bash completion never offers a guest-written name the shell would not take literally" {
	local fe
	fe=$(fe_dir "$WEB01" 7)
	timeout "$T" xenstore-write "$fe" "" "$fe/state" 1 "$fe/name" 'org.$(touch x)'
	run complete_bash xenchan-wait web01 ''
	assert_output $'org.example.agent.0\norg.example.stall.0'
	timeout "$T" xenstore-rm "$fe"
}

# A channel is found by name in libxl's trusted copy first; a name only the
# guest vouches for never wins over it, and two such names are ambiguous.

# untrusted_device DOMID DEVID NAME: a console device that another toolstack
# made and left to the guest: no trusted copy under /libxl, a backend in dom0
# that says it is connected, and a frontend the guest owns, in which the guest
# wrote NAME and Connected.  It has no backend-id, so the emulated guest
# kernel leaves it alone.
untrusted_device() {
	local d=$1 fe be
	fe=$(fe_dir "$1" "$2")
	be=$(be_dir "$1" "$2")
	timeout "$T" xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$d" \
		"$be/state" 4 "$be/connection" socket "$be/path" "$SIM_DIR/decoy.sock" &&
		timeout "$T" xenstore-chmod -r "$be" n0 "r$d" &&
		timeout "$T" xenstore-write "$fe" "" &&
		timeout "$T" xenstore-chmod "$fe" "n$d" &&
		in_domain "$d" xenstore-write "$fe/name" "$3" "$fe/backend" "$be" "$fe/state" 4
}

@test "a guest-named device below a trusted channel of that name never shadows it" {
	local d q n=0
	sim_create --channel name=org.example.pad.0,connection=pty \
		--channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/shadow.sock" \
		--agent "org.example.agent.0=sink:$SIM_DIR/shadow.sunk" shadow1
	d=$domid
	# Device 1 is unplugged; the guest names a device of its own there.
	timeout "$T" xenstore-rm "$(fe_dir "$d" 1)"
	timeout "$T" xenstore-rm "$(be_dir "$d" 1)"
	timeout "$T" xenstore-rm "$(lx_dir "$d" 1)"
	untrusted_device "$d" 1 org.example.agent.0
	run timeout "$T" xenchan-ls -rn -o DEVID,CHANNEL,TRUST shadow1
	assert_line --index 0 --regexp '^1 org\.example\.agent\.0 no-trusted-copy'
	assert_line --index 1 '2 org.example.agent.0 trusted'
	for q in "" -q; do
		run timeout "$T" xenchan-wait $q -t 5s -p shadow1 org.example.agent.0
		assert_success
		assert_output "$d"$'\t'shadow1$'\t'org.example.agent.0$'\t'socket$'\t'"$SIM_DIR/shadow.sock"
		run bash -c "printf abc | timeout $T xenchan-send $q shadow1 org.example.agent.0"
		assert_success
		refute_output --partial 'no trusted copy'
		n=$((n + 3))
		wait_until "$T" sunk "$SIM_DIR/shadow.sunk" "$n"
		run bash -c "printf defg | timeout $T xenchan-cat $q -Q 300ms shadow1 org.example.agent.0"
		assert_success
		refute_output --partial 'no trusted copy'
		n=$((n + 4))
		wait_until "$T" sunk "$SIM_DIR/shadow.sunk" "$n"
	done
	sim destroy shadow1
}

@test "two guest-named devices of one name and no trusted one: cat and send refuse, ambiguous" {
	local d
	sim_create twin1
	d=$domid
	untrusted_device "$d" 1 org.example.twin.0
	untrusted_device "$d" 2 org.example.twin.0
	run timeout "$T" xenchan-cat -Q 300ms twin1 org.example.twin.0 </dev/null
	assert_failure 2
	assert_output --partial ambiguous
	run timeout "$T" xenchan-send twin1 org.example.twin.0 </dev/null
	assert_failure 2
	assert_output --partial ambiguous
	sim destroy twin1
}

@test "hostile guest: impossible out_prod, flapping out_prod, corrupt in_cons: -EPROTO" {
	sim_create --agent org.example.prod.0=hostile:prod \
		--agent org.example.flap.0=hostile:flap \
		--agent org.example.inprod.0=hostile:inprod evil01
	local m
	for m in prod flap inprod; do
		run direct drain "$domid" "org.example.$m.0"
		echo "$m: $output"
		assert_failure 2
		assert_line 'error: EPROTO'
		assert_line --partial 'impossible'
		refute_line --partial 'AddressSanitizer'
		refute_line --partial 'runtime error'
		device_gone "$domid" 1
	done
}

# ---- Closed standard descriptors ----
#
# A command started with descriptor 0, 1 or 2 closed must act as if it were
# /dev/null: the first socket it opens would land there, and what it reads,
# prints or reports would go to xenstored or come from it.

# closed_like_null FD CMD...: CMD with descriptor FD closed exits as it does
# with FD on /dev/null, within 5 s, and dom0's xenstore tree is unchanged.
# The other standard descriptors are /dev/null.
closed_like_null() {
	local fd=$1 want=0 got=0 before after
	shift
	before=$(timeout "$T" xenstore-ls -f /local/domain/0) || return 1
	timeout 5 "$@" </dev/null >/dev/null 2>&1 || want=$?
	case $fd in
	0) timeout 5 "$@" <&- >/dev/null 2>/dev/null || got=$? ;;
	1) timeout 5 "$@" </dev/null >&- 2>/dev/null || got=$? ;;
	2) timeout 5 "$@" </dev/null >/dev/null 2>&- || got=$? ;;
	esac
	after=$(timeout "$T" xenstore-ls -f /local/domain/0) || return 1
	echo "$* with fd $fd closed: exit $got; on /dev/null: exit $want"
	[ "$got" -eq "$want" ] || return 1
	if [ "$before" != "$after" ]; then
		echo "it changed /local/domain/0:"
		diff <(echo "$before") <(echo "$after")
		return 1
	fi
}

# closed_each CMD...: closed_like_null for descriptors 0, 1 and 2; with 2
# closed, CMD runs with -v so that it has something to say there.
closed_each() {
	local failed=0
	closed_like_null 0 "$@" || failed=1
	closed_like_null 1 "$@" || failed=1
	closed_like_null 2 "$@" -v || failed=1
	return $failed
}

# fd_while_blocked PID NAME FD: PID has ended, or its descendant NAME sleeps
# in a wait (any of them: the lookup, the open or the copy loop) and its
# descriptor FD, read at that moment, is in $BATS_TEST_TMPDIR/fd.link.
fd_while_blocked() {
	local c
	kill -0 "$1" 2>/dev/null || return 0
	c=$(descendant "$1" "$2") && sleeping "$c" || return 1
	readlink "/proc/$c/fd/$3" >"$BATS_TEST_TMPDIR/fd.link" || echo closed >"$BATS_TEST_TMPDIR/fd.link"
	# Still asleep after the look: the link was read while it was blocked.
	sleeping "$c"
}

# null_while_blocked FD NAME CMD...: CMD, whose program is NAME, started with
# descriptor FD closed and the others on /dev/null, blocks; while it does,
# its descriptor FD is /dev/null.
null_while_blocked() {
	local fd=$1 name=$2 pid rc=0 link=
	shift 2
	rm -f "$BATS_TEST_TMPDIR/fd.link"
	case $fd in
	0) timeout "$T" "$@" <&- >/dev/null 2>/dev/null 3>&- & ;;
	1) timeout "$T" "$@" </dev/null >&- 2>/dev/null 3>&- & ;;
	2) timeout "$T" "$@" </dev/null >/dev/null 2>&- 3>&- & ;;
	esac
	pid=$!
	# One look at a moment it sleeps; a process in a wait made of steps (such
	# as for qemu's acceptance) sleeps, wakes and sleeps again.
	wait_until 10 fd_while_blocked "$pid" "$name" "$fd" || true
	if [ -f "$BATS_TEST_TMPDIR/fd.link" ]; then
		link=$(cat "$BATS_TEST_TMPDIR/fd.link")
		# timeout(1) passes SIGTERM on.
		kill -TERM "$pid" 2>/dev/null
	fi
	wait "$pid" || rc=$?
	echo "$* with fd $fd closed: fd $fd is ${link:-never seen: exit $rc without blocking}"
	[ "$link" = /dev/null ]
}

@test "xenchan-cat >&-: a guest's bytes never reach xenstored through a closed stdout" {
	local pkt rc=0 leaked=
	# struct xsd_sockmsg { type 11 (XS_WRITE), req_id 1, tx_id 0, len 25 },
	# little-endian, then the payload "/local/domain/0/pwned\0yes".
	pkt='\013\000\000\000\001\000\000\000\000\000\000\000\031\000\000\000'
	pkt+='/local/domain/0/pwned\000yes'
	sim_create --channel "name=org.example.forge.0,connection=socket,path=$SIM_DIR/forge.sock" \
		--agent "org.example.forge.0=cmd:printf '$pkt'" forge1
	timeout "$T" xenchan-cat -Q 1s forge1 org.example.forge.0 </dev/null >&- \
		2>"$SIM_DIR/forge.err" || rc=$?
	if leaked=$(xs_read /local/domain/0/pwned 2>/dev/null); then
		timeout "$T" xenstore-rm /local/domain/0/pwned
	fi
	sim destroy forge1
	echo "exit $rc; /local/domain/0/pwned: ${leaked:-absent}"
	cat "$SIM_DIR/forge.err"
	[ -z "$leaked" ]
	[ "$rc" -eq 0 ]
}

@test "fd 0, 1 or 2 closed: xenchan-ls behaves as with /dev/null" {
	closed_each xenchan-ls
}

@test "fd 0, 1 or 2 closed: xenchan-wait behaves as with /dev/null" {
	closed_each xenchan-wait -t 2s -p web01 org.example.agent.0
}

@test "fd 0, 1 or 2 closed: xenchan-cat behaves as with /dev/null" {
	closed_each xenchan-cat -Q 300ms web01 org.example.agent.0
}

@test "fd 0, 1 or 2 closed: xenchan-send behaves as with /dev/null" {
	closed_each xenchan-send web01 org.example.agent.0
}

@test "fd 0, 1 or 2 closed: xenchan-registry-check --live behaves as with /dev/null" {
	closed_each xenchan-registry-check --no-default-registry --live -n org.example.agent.0
}

@test "a blocked xenchan-wait, xenchan-cat or send --wait holds /dev/null on a closed descriptor" {
	local fd failed=0
	for fd in 0 1 2; do
		null_while_blocked "$fd" xenchan-wait xenchan-wait -v -t 20s nothere1 || failed=1
		null_while_blocked "$fd" xenchan-cat xenchan-cat -v -Q never web01 org.example.stall.0 ||
			failed=1
		null_while_blocked "$fd" xenchan-send xenchan-send -v --wait=20s web01 \
			org.example.absent.0 || failed=1
	done
	return $failed
}

@test "stdin closed: xenchan-cat and xenchan-send take it as empty and exit 0 at once" {
	local c start ms rc
	for c in "xenchan-cat -Q 1s" xenchan-send; do
		start=${EPOCHREALTIME//[.,]/}
		rc=0
		timeout 10 $c web01 org.example.agent.0 <&- >/dev/null 2>"$SIM_DIR/in.err" || rc=$?
		ms=$(((${EPOCHREALTIME//[.,]/} - start) / 1000))
		echo "$c <&-: exit $rc after $ms ms"
		cat "$SIM_DIR/in.err"
		[ "$rc" -eq 0 ]
		[ "$ms" -lt 4000 ]
	done
}

# ---- A xenstored that stops answering or dies ----
#
# Each on a host of its own: the file's host keeps its xenstored.

# timed NAME CMD...: run CMD in the background with stdin on /dev/null,
# bounded by 20 s; when it ends, $SIM_DIR/NAME.timed holds its exit status
# and how long it ran, in ms, and $SIM_DIR/NAME.err what it said.
timed() {
	local name=$1
	shift
	{
		local start=${EPOCHREALTIME//[.,]/} rc=0
		timeout 20 "$@" </dev/null >/dev/null 2>"$SIM_DIR/$name.err" || rc=$?
		echo "$rc $(((${EPOCHREALTIME//[.,]/} - start) / 1000))" >"$SIM_DIR/$name.timed"
	} 3>&- &
}

@test "xenstored stopped: ls, wait, cat and send give up at their timeout or --wait, 124 within 6 s" {
	local xsd name rc ms failed=0
	sim_test_host
	sim_create --channel "name=org.example.a.0,connection=socket,path=$SIM_DIR/a.sock" \
		--channel "name=org.example.b.0,connection=socket,path=$SIM_DIR/b.sock" stuck1
	xsd=$(xenstored_pid)
	kill -STOP "$xsd"
	# Side by side, so that the test takes 20 s at most when they hang.
	timed ls xenchan-ls --timeout 2s
	timed wait xenchan-wait -t 2s stuck1 org.example.a.0
	timed cat xenchan-cat -t 2s stuck1 org.example.a.0
	timed send xenchan-send -t 2s stuck1 org.example.b.0
	# --wait alone bounds xenstore too while it waits.
	timed catw xenchan-cat --wait=2s stuck1 org.example.a.0
	wait
	kill -CONT "$xsd"
	for name in ls wait cat send catw; do
		read -r rc ms <"$SIM_DIR/$name.timed"
		echo "$name: exit $rc after $ms ms: $(head -n 1 "$SIM_DIR/$name.err")"
		[ "$rc" -eq 124 ] && [ "$ms" -lt 6000 ] || failed=1
	done
	return $failed
}

# many_endpoints: 20 domains that each serve 400 vchan endpoints to dom0
# (keys dom0 writes): a listing of several seconds, on several connections
# at once.
many_endpoints() {
	local i k args
	for i in $(seq 1 20); do
		sim_create "many$i"
		args=()
		for k in $(seq 1 400); do
			args+=("/local/domain/$domid/data/vchan/0/p$k/ring-ref" 1
				"/local/domain/$domid/data/vchan/0/p$k/event-channel" 1)
		done
		timeout "$T" xenstore-write "${args[@]}"
	done
}

# has_threads PID N: the process runs N threads or more.
has_threads() { [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -ge "$2" ]; }

# stuck_listing HOW ARGS...: xenchan-ls ARGS; once its listing threads run,
# xenstored ($xsd) is stopped, then HOW is "deadline" (its --timeout ends
# it) or a signal sent to it.  Sets rc, and ms from the start (a deadline)
# or from the signal.
stuck_listing() {
	local how=$1 bg pid start
	shift
	start=${EPOCHREALTIME//[.,]/}
	timeout 30 xenchan-ls "$@" >/dev/null 2>"$SIM_DIR/stuck.err" &
	bg=$!
	pid=$(command_pid "$bg" xenchan-ls)
	wait_until "$T" has_threads "$pid" 3
	kill -STOP "$xsd"
	if [ "$how" != deadline ]; then
		start=${EPOCHREALTIME//[.,]/}
		kill -"$how" "$pid"
	fi
	rc=0
	wait "$bg" || rc=$?
	ms=$(((${EPOCHREALTIME//[.,]/} - start) / 1000))
	kill -CONT "$xsd"
	echo "xenchan-ls $*: exit $rc after $ms ms: $(cat "$SIM_DIR/stuck.err")"
}

@test "xenstored stopped while several connections list: --timeout still ends it (124), and SIGTERM; --poll's first listing too" {
	local xsd rc ms
	sim_test_host
	many_endpoints
	xsd=$(xenstored_pid)
	# The deadline: its listing threads are stopped with xenstored.
	stuck_listing deadline --timeout 3s
	[ "$rc" -eq 124 ]
	[ "$ms" -lt 7000 ]
	# A signal: it dies of it, its threads cut off.
	stuck_listing TERM
	[ "$rc" -eq 143 ]
	[ "$ms" -lt 4000 ]
	# --poll lists first on the same kind of connections: its --timeout
	# ends it there too (stuck, it would last until timeout's 30 s).
	stuck_listing deadline --poll --timeout 3s
	[ "$rc" -eq 124 ]
	[ "$ms" -lt 7000 ]
}

@test "xenstored killed: a waiting xenchan-wait exits 2 within 5 s, xenstore connection lost" {
	local pid start rc=0 ms
	sim_test_host
	sim_create --channel "name=org.example.a.0,connection=socket,path=$SIM_DIR/a.sock" lost1
	timeout 20 xenchan-wait lost1 org.example.nosuch.0 2>"$SIM_DIR/lost.err" &
	pid=$!
	wait_until "$T" sleeping "$(command_pid "$pid" xenchan-wait)"
	start=${EPOCHREALTIME//[.,]/}
	kill -9 "$(xenstored_pid)"
	wait "$pid" || rc=$?
	ms=$(((${EPOCHREALTIME//[.,]/} - start) / 1000))
	echo "exit $rc after $ms ms"
	run cat "$SIM_DIR/lost.err"
	assert_output --partial 'xenstore connection lost'
	[ "$rc" -eq 2 ]
	[ "$ms" -lt 5000 ]
}

# ---- Signals before the copy loop, and SIGKILL ----
#
# xenchan-cat --create writes a device into xenstore before the guest has
# connected; -l -T vchan publishes an endpoint before a client came.  A signal
# in between must still take them away, and what a SIGKILL leaves must be
# neither reported ready nor in the next run's way.

# guest_kernel DOMID: the pid of the domain's emulated hvc driver, which
# connects its console frontends.
guest_kernel() {
	pgrep -P "$(cat "$SIM_DIR/dom$1/pgid")" -x xenchan-sim-hvc
}
# The guest reports ready before its hvc driver has surely taken its name
# (a fork, then an exec): wait for it.
guest_kernel_wait() {
	wait_until "$T" guest_kernel "$1" >/dev/null && guest_kernel "$1"
}

# create_interrupted SIG: xenchan-cat --create into a guest whose frontend
# never connects (its hvc driver is stopped) gets SIG once the device is in
# xenstore: it dies of SIG, and the device is gone.
create_interrupted() {
	local sig=$1 d hvc pid rc=0
	sim_create "sig${sig,,}1"
	d=$domid
	hvc=$(guest_kernel_wait "$d")
	kill -STOP "$hvc"
	timeout "$T" xenchan-cat --create "$d" org.example.new </dev/null >/dev/null \
		2>"$SIM_DIR/sig.err" &
	pid=$!
	wait_until "$T" device_there "$d" 1
	kill -"$sig" "$(command_pid "$pid" xenchan-cat)"
	wait "$pid" || rc=$?
	kill -CONT "$hvc"
	echo "SIG$sig: exit $rc"
	cat "$SIM_DIR/sig.err"
	[ "$rc" -eq $((128 + $(kill -l "$sig"))) ]
	device_gone "$d" 1
	sim destroy "$d"
}

@test "SIGTERM while --create waits for the guest: dies of it, the device is removed" {
	create_interrupted TERM
}

@test "SIGINT while --create waits for the guest: dies of it, the device is removed" {
	create_interrupted INT
}

@test "SIGHUP while --create waits for the guest: dies of it, the device is removed" {
	create_interrupted HUP
}

@test "SIGQUIT while --create waits for the guest: dies of it, the device is removed" {
	create_interrupted QUIT
}

@test "SIGINT while -l -T vchan waits for a client: the endpoint is removed, exit 130" {
	local d path pid rc=0
	sim_create listen1
	d=$domid
	path=/local/domain/0/data/vchan/$d/port1
	timeout "$T" xenchan-cat -l -T vchan "$d" port1 </dev/null >/dev/null 2>"$SIM_DIR/int.err" &
	pid=$!
	wait_until "$T" timeout "$T" xenstore-exists "$path/event-channel"
	kill -INT "$(command_pid "$pid" xenchan-cat)"
	wait "$pid" || rc=$?
	echo "exit $rc"
	cat "$SIM_DIR/int.err"
	run timeout "$T" xenstore-exists "$path"
	assert_failure
	[ "$rc" -eq 130 ]
	sim destroy "$d"
}

# serving PID: xenchan-cat -l, process PID, waits for its client, or it has
# ended (and its caller will say why).
serving() {
	! kill -0 "$1" 2>/dev/null || sleeping "$1"
}

@test "SIGKILL of a vchan server: its endpoint is not ready, and the next server takes the name" {
	local d path pid srv
	sim_create killed1
	d=$domid
	path=/local/domain/0/data/vchan/$d/port1
	timeout "$T" xenchan-cat -l -T vchan "$d" port1 </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_until "$T" timeout "$T" xenstore-exists "$path/event-channel"
	kill -9 "$(command_pid "$pid" xenchan-cat)"
	wait "$pid" || true
	# Left behind: the endpoint, with nobody serving it.
	timeout "$T" xenstore-exists "$path/event-channel"
	run timeout "$T" xenchan-wait -t 2s "$d" port1
	assert_failure 124
	# The next server takes the name; the guest connects and says hello.
	timeout "$T" xenchan-cat -l -T vchan -Q never "$d" port1 </dev/null \
		>"$SIM_DIR/port1.out" 2>"$SIM_DIR/port1.err" &
	pid=$!
	srv=$(command_pid "$pid" xenchan-cat)
	wait_until "$T" serving "$srv"
	kill -0 "$srv"
	{
		echo hello
		wait_until "$T" grep -qx hello "$SIM_DIR/port1.out"
	} | in_domain "$d" "$PROXY" -m client 0 "$path" - >/dev/null || true
	run cat "$SIM_DIR/port1.out" "$SIM_DIR/port1.err"
	assert_output hello
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	sim destroy "$d"
}

@test "a second vchan server for the same name: busy, exit 5; the first keeps serving" {
	local d path pid srv
	sim_create busyl1
	d=$domid
	path=/local/domain/0/data/vchan/$d/port1
	timeout "$T" xenchan-cat -l -T vchan "$d" port1 </dev/null >/dev/null 2>&1 &
	pid=$!
	srv=$(command_pid "$pid" xenchan-cat)
	wait_until "$T" timeout "$T" xenstore-exists "$path/event-channel"
	run timeout "$T" xenchan-cat -l -T vchan -t 1s "$d" port1 </dev/null
	assert_failure 5
	assert_output "xenchan-cat: $d/port1: listen: busy: another xenchan serves it"
	kill -0 "$srv"
	timeout "$T" xenstore-exists "$path/event-channel"
	kill "$srv"
	wait "$pid" || true
	sim destroy "$d"
}

@test "SIGKILL of --create: the device is not ready, and the next --create takes it and works" {
	local d hvc pid
	sim_create killed2
	d=$domid
	hvc=$(guest_kernel_wait "$d")
	kill -STOP "$hvc"
	timeout "$T" xenchan-cat --create "$d" org.example.new </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_until "$T" device_there "$d" 1
	kill -9 "$(command_pid "$pid" xenchan-cat)"
	wait "$pid" || true
	kill -CONT "$hvc"
	# Left behind: the device, with nobody serving it.
	device_there "$d" 1
	run timeout "$T" xenchan-wait -t 2s "$d" org.example.new
	assert_failure 124
	# The guest's echo agent answers through the next run.
	run bash -c "echo hello | timeout $T xenchan-cat -Q 500ms --create $d org.example.new"
	assert_success
	assert_output hello
	sim destroy "$d"
}

# ---- Absurd values ----

@test "a --timeout near 2^64 ms does not wrap around: xenchan-wait keeps waiting" {
	run timeout -s KILL 3 xenchan-wait -t 18446744073709551615ms web01 org.example.nosuch.0
	# Killed by timeout(1): it neither timed out at once (124) nor failed.
	assert_failure 137
}

@test "a --timeout too long to represent is a usage error" {
	run timeout "$T" xenchan-wait -t 99999999999999999999999s web01
	assert_failure 2
	assert_output --partial 'too long'
}

@test "-l -T vchan for a domain that does not exist: exit 3, no crash, nothing published" {
	# A host with dom0 alone: there is no domain 5.
	sim_test_host
	run timeout "$T" xenchan-cat -l -T vchan -t 1s 5 x </dev/null
	assert_failure 3
	assert_output --partial 'no such domain'
	refute_output --partial AddressSanitizer
	refute_output --partial 'runtime error'
	run timeout "$T" xenstore-exists /local/domain/0/data/vchan/5
	assert_failure
}

@test "usage errors escape what they echo: no raw ESC or BEL reaches the terminal" {
	local v=$'\e]0;x\a' c failed=0
	for c in "xenchan-cat --backlog" "xenchan-send --timeout" "xenchan-wait --for" \
		"xenchan-ls --transport"; do
		run timeout "$T" $c "$v" web01 org.example.agent.0
		echo "$c: exit $status: $(cat -v <<<"$output")"
		[ "$status" -eq 2 ] && [[ $output == *'\x1b]0;x\x07'* ]] &&
			[[ $output != *$'\e'* && $output != *$'\a'* ]] || failed=1
	done
	return $failed
}

@test "a 5000-byte option value does not cut the reason off the message" {
	local v
	v=$(printf 'a%.0s' {1..5000})
	run timeout "$T" xenchan-cat --backlog "$v" web01 org.example.agent.0
	assert_failure 2
	echo "the message ends: ...${lines[0]: -40}"
	[[ ${lines[0]} == *': not keep or discard' ]]
	assert_line --index 1 "Try 'xenchan-cat --help' for more information."
}

@test "xenchan-wait rejects a channel name as xenchan-cat does" {
	run timeout "$T" xenchan-cat web01 bad/name
	assert_failure 2
	assert_line --index 0 'xenchan-cat: bad/name: not a channel name'
	# Not a name any channel can have: waiting for it would never end.
	run timeout 5 xenchan-wait web01 bad/name
	assert_failure 2
	assert_line --index 0 'xenchan-wait: bad/name: not a channel name'
	assert_line --index 1 "Try 'xenchan-wait --help' for more information."
}

@test "a lock directory that cannot be made is reported as a lock error" {
	local c
	: >"$SIM_DIR/file"
	for c in xenchan-cat xenchan-send; do
		run env XENCHAN_RUNDIR="$SIM_DIR/file/run" timeout "$T" $c web01 org.example.agent.0 \
			</dev/null
		assert_failure 2
		assert_output --partial "lock directory $SIM_DIR/file/run/locks: Not a directory"
		refute_output --partial 'connect:'
	done
}

@test "xenchan-ls on an 80-column terminal shows a 100-character socket path whole" {
	local path
	path=$SIM_DIR/$(printf 'p%.0s' {1..80}).sock
	[ "${#path}" -ge 100 ]
	sim_create --channel "name=org.example.long.0,connection=socket,path=$path" long1
	# On a terminal (script(1)'s pty), xenchan-ls fits its table to the width.
	run timeout "$T" script -qec "COLUMNS=80 xenchan-ls long1" /dev/null </dev/null
	assert_success
	assert_output --partial "$path"
	sim destroy long1
}

@test "XENCHAN_RING_RATE that is not a rate is an error that names it" {
	run env XENCHAN_RING_RATE=abc timeout "$T" xenchan-send -b 1M web01 org.example.agent.0 \
		</dev/null
	assert_failure 2
	assert_output --partial XENCHAN_RING_RATE
}
