#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# lib/vchan.c over the real libxenvchan on the emulated host: serving in a
# guest, connecting from dom0, a second client refused, peers that die, and
# Debian's unmodified vchan-socket-proxy on the other end.

load helpers
sim_host_per_file vch1_setup

TV=$top_builddir/tests/unit/test-vchan
PROXY=$XEN_BINDIR/vchan-socket-proxy

# vch1: a guest with no channel, to serve vchan endpoints from.
vch1_setup() {
	sim_create vch1
	export GUEST=$domid
}

# The hypervisor's count of event-channel notifications so far.
notifies() {
	sim stats | awk '$1 == "notifies" { print $2 }'
}

# notified N: more than N notifications so far.
notified() {
	[ "$(notifies)" -gt "$1" ]
}

# serve NAME: test-vchan serving NAME from the guest, published.
serve() {
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- "$TV" serve "$1"
	server=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx '$1 published'"
}

@test "a vchan endpoint is listed with its channel name and a port that fits" {
	serve org.example.bulk.0
	run xenchan-ls -rn -o CHANNEL,TRANSPORT,STATE,ENDPOINT,TRUST vch1
	assert_success
	assert_output --regexp "^org.example.bulk.0 vchan published /local/domain/$GUEST/data/vchan/0/xc[0-9a-f]{10} guest-published\$"
	run xenchan-wait -t 5s -p vch1 org.example.bulk.0
	assert_success
	assert_output --regexp $'\tvchan\t/local/domain/'
	run timeout "$T" "$TV" echo "$GUEST" org.example.bulk.0 1048576
	assert_success
	assert_output --regexp '^ok 1048576 '
}

@test "64 MiB round-trips with equal checksums; a second client is refused" {
	serve org.example.bulk.0
	timeout "$T" "$TV" echo "$GUEST" org.example.bulk.0 67108864 >"$SIM_DIR/echo.out" 2>&1 &
	local cl=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o STATE -t vchan vch1 | grep -qx in-use"
	run timeout "$T" "$TV" busy "$GUEST" org.example.bulk.0
	assert_success
	assert_output busy
	wait "$cl"
	run cat "$SIM_DIR/echo.out"
	assert_output --regexp '^ok 67108864 '
}

@test "the server killed mid-transfer: the client stops within a second" {
	local cl rc=0 start n
	serve org.example.bulk.0
	timeout "$T" "$TV" echo "$GUEST" org.example.bulk.0 10737418240 >"$SIM_DIR/kill.out" 2>&1 &
	cl=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o STATE -t vchan vch1 | grep -qx in-use"
	# Data moves: the two ends notify each other as the rings fill and drain.
	n=$(notifies)
	wait_until "$T" notified $((n + 100))
	start=$(date +%s%N)
	kill -9 "$server"
	wait "$cl" || rc=$?
	[ "$rc" -eq 4 ]
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ]
	run cat "$SIM_DIR/kill.out"
	assert_output --partial 'Broken pipe'
	# The dead server's keys are left behind; a new one replaces them.
	timeout "$T" xenstore-rm "/local/domain/$GUEST/data/vchan/0" || true
}

@test "interoperates with vchan-socket-proxy as the server" {
	local port path
	port=bulkproxy
	path=/local/domain/$GUEST/data/vchan/0/$port
	rm -f "$SIM_DIR/echo.sock"
	spawn socat UNIX-LISTEN:"$SIM_DIR/echo.sock",fork EXEC:cat
	wait_until "$T" test -S "$SIM_DIR/echo.sock"
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- "$PROXY" -m server 0 "$path" "$SIM_DIR/echo.sock"
	wait_until "$T" timeout "$T" xenstore-exists "$path/event-channel"
	# A port of xencat's alphabet is the channel name itself.
	run timeout "$T" "$TV" echo "$GUEST" "$port" 4194304
	assert_success
	assert_output --regexp '^ok 4194304 '
	kill -9 "${SIM_SPAWNED[@]}"
	timeout "$T" xenstore-rm "$path" || true
}

@test "interoperates with vchan-socket-proxy as the client" {
	local path out
	serve org.example.bulk.0
	path=$(xenchan-ls -rn -o ENDPOINT -t vchan -c org.example.bulk.0 vch1)
	head -c 1048576 /dev/urandom >"$SIM_DIR/in"
	out=$SIM_DIR/out
	# The proxy's stdio mode: our echo server sends everything back.
	# The proxy ends both directions when its input ends: keep it open until
	# everything came back.
	{
		cat "$SIM_DIR/in"
		wait_until "$T" has_bytes "$out" 1048576
	} | timeout "$T" "$PROXY" -m client "$GUEST" "$path" - | head -c 1048576 >"$out" || true
	[ "$(sha "$SIM_DIR/in")" = "$(sha "$out")" ]
}

@test "xenchan-cat -T vchan, and -b choosing vchan by itself, round-trip 1 MiB" {
	serve org.example.bulk.0
	head -c 1048576 /dev/urandom >"$SIM_DIR/in"
	run bash -c "timeout $T xenchan-cat -v -Q 300ms -b 40M vch1 org.example.bulk.0 <'$SIM_DIR/in' >'$SIM_DIR/out'"
	assert_success
	assert_line --partial 'vchan: 40 MiB/s asked for, more than the 4 MiB/s a console ring carries, and the guest publishes a vchan endpoint'
	[ "$(sha "$SIM_DIR/in")" = "$(sha "$SIM_DIR/out")" ]
}

@test "xenchan-cat -l -T vchan in the guest, xenchan-send in dom0: a large file picks vchan" {
	local name=org.example.a.rather.long.channel.name.for.a.port.0
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- xenchan-cat -l -T vchan -Q never -t 20s 0 "$name" \
		>"$SIM_DIR/srv.out"
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx '$name published'"
	# 50 MB over ten seconds is more than a console ring carries.
	head -c 50000000 /dev/urandom >"$SIM_DIR/big"
	run timeout "$T" xenchan-send -v vch1 "$name" "$SIM_DIR/big"
	assert_success
	assert_line --partial 'vchan: 4.8 MiB/s asked for, more than the 4 MiB/s a console ring carries'
	assert_line --partial 'delivered 50000000 bytes: consumed by the guest'
	wait_until "$T" has_bytes "$SIM_DIR/srv.out" 50000000
	[ "$(sha "$SIM_DIR/big")" = "$(sha "$SIM_DIR/srv.out")" ]
}

@test "the guest's vchan server killed mid-send: exit 4 within a second" {
	local pid srv rc=0 start
	# xenchan-sim exec runs the command in its own process: $! is the server.
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- xenchan-cat -l -T vchan -Q never -t 20s 0 org.example.k.0
	srv=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.k.0 published'"
	head -c 20000000000 /dev/zero | timeout "$T" xenchan-send -T vchan vch1 org.example.k.0 \
		2>"$SIM_DIR/k.err" &
	pid=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.k.0 in-use'"
	start=$(date +%s%N)
	kill -9 "$srv"
	wait "$pid" || rc=$?
	[ "$rc" -eq 4 ]
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ]
	run cat "$SIM_DIR/k.err"
	assert_output --partial 'peer went away'
}

@test "--buffer-size sets the served rings; bad sizes are usage errors" {
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- xenchan-cat -l -T vchan --buffer-size 64K -Q never \
		-t 20s 0 org.example.small.0 >"$SIM_DIR/small.out"
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.small.0 published'"
	local path
	path=$(xenchan-ls -rn -o ENDPOINT -c org.example.small.0 vch1)
	# libxenvchan publishes its ring orders in the shared page; the ring-ref is
	# there, and 1 MiB crosses a 64K ring intact.
	head -c 1048576 /dev/urandom >"$SIM_DIR/in"
	run timeout "$T" xenchan-send -T vchan vch1 org.example.small.0 "$SIM_DIR/in"
	assert_success
	wait_until "$T" has_bytes "$SIM_DIR/small.out" 1048576
	[ "$(sha "$SIM_DIR/in")" = "$(sha "$SIM_DIR/small.out")" ]
	run xenchan-cat -l -T vchan --buffer-size 3K 0 org.example.x.0
	assert_failure 2
	assert_output --partial 'not a size from 4K to 1M'
	run xenchan-cat --buffer-size 64K vch1 org.example.x.0
	assert_failure 2
	assert_output --partial '--buffer-size needs --listen --transport vchan'
}

@test "-T vchan on a socket-only name, -T socket on a vchan-only one: the missing transport, exit 3" {
	local sock
	sock=$SIM_DIR/tsock.sock
	sim_create --channel "name=org.example.sockonly.0,connection=socket,path=$sock" tsock1
	run timeout "$T" xenchan-cat -T vchan tsock1 org.example.sockonly.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: tsock1/org.example.sockonly.0: no vchan endpoint (the channel has: socket)'
	run timeout "$T" xenchan-send -T pty tsock1 org.example.sockonly.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-send: tsock1/org.example.sockonly.0: no pty channel (the channel has: socket)'
	serve org.example.vonly.0
	run timeout "$T" xenchan-cat -T socket vch1 org.example.vonly.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: vch1/org.example.vonly.0: no socket channel (the channel has: vchan)'
	run timeout "$T" xenchan-cat -T vchan vch1 org.example.nothing.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: vch1/org.example.nothing.0: no such channel'
	sim destroy tsock1
}

@test "a guest is a vchan client by domid: xenchan-cat 0 NAME in the guest reaches dom0's server" {
	local name=org.example.up.0 path
	xenchan-cat -l -T vchan -Q never -t 20s vch1 "$name" >"$SIM_DIR/up.out" 2>"$SIM_DIR/up.err" &
	SIM_SPAWNED+=($!)
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx '$name published'"
	# The guest may not read dom0's directory: nothing but the keys granted.
	path=$(xenchan-ls -rn -o ENDPOINT -c "$name" vch1)
	run in_domain "$GUEST" xenstore-read "/local/domain/0"
	assert_failure
	run in_domain "$GUEST" xenstore-ls "$path"
	assert_failure
	head -c 1048576 /dev/urandom >"$SIM_DIR/up.in"
	run in_domain "$GUEST" sh -c "xenchan-cat -v 0 '$name' <'$SIM_DIR/up.in'"
	assert_success
	assert_line --partial "0/$name: vchan: the endpoint domain 0 serves to this domain"
	assert_line --regexp "0/$name: sent 1048576 bytes: consumed by domain 0; received 0 bytes\$"
	wait_until "$T" has_bytes "$SIM_DIR/up.out" 1048576
	[ "$(sha "$SIM_DIR/up.in")" = "$(sha "$SIM_DIR/up.out")" ]
	# id:0 too; names cannot be resolved in a guest.
	run in_domain "$GUEST" xenchan-cat id:0 org.example.none.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: id:0/org.example.none.0: no such channel'
	run in_domain "$GUEST" xenchan-cat 0 org.example.none.0 </dev/null
	assert_failure 3
	assert_output 'xenchan-cat: 0/org.example.none.0: no such channel'
}

@test "a guest asking for another transport of dom0's endpoint: exit 3, saying what there is" {
	local name=org.example.up.1
	xenchan-cat -l -T vchan -Q never -t 20s vch1 "$name" >/dev/null 2>&1 &
	SIM_SPAWNED+=($!)
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx '$name published'"
	run in_domain "$GUEST" xenchan-cat -T socket 0 "$name" </dev/null
	assert_failure 3
	assert_output "xenchan-cat: 0/$name: no socket channel (the channel has: vchan)"
}

@test "after a session the guest's server sees the vchan closed; the next finds no channel" {
	serve org.example.once.0
	run bash -c "printf 'a\nb\n' | timeout $T xenchan-cat -T vchan -n 1 vch1 org.example.once.0"
	assert_success
	assert_output a
	# test-vchan serve ends when its client has gone, and takes its endpoint along.
	wait_exit "$server" "$T"
	run timeout "$T" xenchan-cat -T vchan vch1 org.example.once.0 </dev/null
	assert_failure 3
}

@test "--max-time while serving a vchan nobody maps: 124, and the endpoint is removed" {
	run timeout "$T" xenchan-cat -l -T vchan --max-time 500ms "$GUEST" org.example.lst.0 </dev/null
	assert_failure 124
	assert_output "xenchan-cat: $GUEST/org.example.lst.0: max-time 500ms reached before the channel was open"
	run xenchan-ls -rn -o CHANNEL vch1
	assert_success
	refute_output --partial org.example.lst.0
}

@test "a hostile server's impossible producer index: exit 2 naming it, what came before is out" {
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- "$TV" hostile org.example.hprod.0 prod
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.hprod.0 published'"
	run bash -c "timeout $T xenchan-cat -T vchan -Q never vch1 org.example.hprod.0 </dev/null 2>'$SIM_DIR/hp.err' >'$SIM_DIR/hp.out'"
	assert_failure 2
	run cat "$SIM_DIR/hp.err"
	assert_output --partial 'the peer broke the ring protocol (an impossible index)'
	refute_output --partial 'AddressSanitizer'
	refute_output --partial 'runtime error'
	[ "$(cat "$SIM_DIR/hp.out")" = "$(printf 'h%.0s' $(seq 100))" ]
}

@test "a hostile server's impossible consumer index: xenchan-send exits 2 naming it" {
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- "$TV" hostile org.example.hcons.0 cons
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.hcons.0 published'"
	run bash -c "head -c 10000000 /dev/zero | timeout $T xenchan-send -T vchan vch1 org.example.hcons.0"
	assert_failure 2
	assert_output --partial 'the peer broke the ring protocol (an impossible index): '
	refute_output --partial 'AddressSanitizer'
	refute_output --partial 'runtime error'
}

@test "one copy: the pipe xenchan-cat writes a vchan session to is grown to 1 MiB" {
	serve org.example.pipe.0
	# F_GETPIPE_SZ (1032) of the pipe, asked once xenchan-cat is done with it.
	run bash -c "printf 'ping\n' | timeout $T xenchan-cat -T vchan -Q 300ms vch1 org.example.pipe.0 |
		perl -e 'while (sysread(STDIN, \$b, 65536)) { print \$b } print fcntl(STDIN, 1032, 0), \"\n\"'"
	assert_success
	assert_line ping
	assert_line 1048576
}

@test "xenchan-wait wakes for vchan endpoints published after it looked, by the guest and by dom0" {
	spawn bash -c "timeout $T xenchan-wait -v -t 20s vch1 org.example.late.0 org.example.d0late.0 \
		>'$SIM_DIR/w.out' 2>&1; echo \$? >'$SIM_DIR/w.rc'"
	wait_until "$T" grep -q 'vch1 has' "$SIM_DIR/w.out"
	serve org.example.late.0
	wait_until "$T" grep -q 'org.example.late.0 (vchan server' "$SIM_DIR/w.out"
	[ ! -s "$SIM_DIR/w.rc" ]
	spawn timeout "$T" xenchan-cat -l -T vchan -Q never -t 20s "$GUEST" org.example.d0late.0 </dev/null
	wait_until "$T" test -s "$SIM_DIR/w.rc"
	cat "$SIM_DIR/w.out"
	[ "$(cat "$SIM_DIR/w.rc")" = 0 ]
}

@test "SIGTERM in the middle of a transfer that never pauses: xenchan-send dies of it within a second" {
	local pid start rc=0
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- xenchan-cat -l -T vchan -Q never -t 20s 0 org.example.fast.0 \
		>/dev/null
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.fast.0 published'"
	xenchan-send -T vchan vch1 org.example.fast.0 </dev/zero 2>"$SIM_DIR/fast.err" &
	pid=$!
	# rchar: what it has read so far.
	wait_until "$T" sh -c "[ \$(awk '\$1 == \"rchar:\" { print \$2 }' /proc/$pid/io) -ge 100000000 ]"
	start=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	echo "exit $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms"
	[ "$rc" -eq 143 ]
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ]
}

@test "the smallest ring, 4 KiB, carries 16 MiB intact" {
	spawn "$XENCHAN_SIM" exec -D "$GUEST" -- xenchan-cat -l -T vchan --buffer-size 4K -Q never -t 20s 0 \
		org.example.tiny.0 >"$SIM_DIR/tiny.out"
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vch1 | grep -qx 'org.example.tiny.0 published'"
	head -c 16777216 /dev/urandom >"$SIM_DIR/tiny.in"
	run timeout "$T" xenchan-send -T vchan vch1 org.example.tiny.0 "$SIM_DIR/tiny.in"
	assert_success
	wait_until "$T" has_bytes "$SIM_DIR/tiny.out" 16777216
	[ "$(sha "$SIM_DIR/tiny.in")" = "$(sha "$SIM_DIR/tiny.out")" ]
}
