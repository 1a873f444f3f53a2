#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-ls on the emulated host: discovery, output formats, trust.
# What a guest can forge in its keys is in hostile.bats.

load helpers
sim_host_per_file

ls_() {
	timeout "$T" xenchan-ls "$@"
}

# The domid of the domain named $1.
domid_of() {
	sim list | awk -v n="$1" '$2 == n { print $1 }'
}

@test "no domain but dom0: no rows, success" {
	run ls_
	assert_success
	assert_output ''
	run ls_ -J
	assert_success
	assert_output --partial '"channels": ['
}

@test "one domain: its socket and pty channels, trusted, connected" {
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/web01.sock" \
		--channel name=org.example.pty.0,connection=pty web01
	run ls_ -r -n -o DOMID,DOMAIN,CHANNEL,DEVID,TRANSPORT,STATE,ENDPOINT,TRUST web01
	assert_success
	assert_line --index 0 "$domid web01 org.example.agent.0 1 socket connected $SIM_DIR/web01.sock trusted"
	assert_line --index 1 --regexp "^$domid web01 org.example.pty.0 2 pty connected /dev/pts/[0-9]+ trusted\$"
	[ "${#lines[@]}" -eq 2 ]
	# The pty is the one qemu wrote into the frontend.
	run ls_ -rn -o ENDPOINT -c org.example.pty.0 web01
	assert_output "$(xs_read /local/domain/$domid/device/console/2/tty)"
}

@test "a domain is found by domid, name, UUID and the explicit forms" {
	local uuid domid
	domid=$(domid_of web01)
	uuid=$(xs_read /local/domain/$domid/vm)
	uuid=${uuid#/vm/}
	for arg in "$domid" web01 "$uuid" "${uuid^^}" "id:$domid" name:web01 "uuid:$uuid"; do
		run ls_ -rn -o DOMAIN -c org.example.agent.0 "$arg"
		assert_success
		assert_output web01
	done
}

@test "an unknown domain exits 3, a malformed explicit form 2" {
	run ls_ nosuchdomain
	assert_failure 3
	assert_output 'xenchan-ls: nosuchdomain: no such domain'
	run ls_ 4000
	assert_failure 3
	run ls_ uuid:not-a-uuid
	assert_failure 2
	assert_output --partial 'not a domain id, name or UUID'
}

@test "a domain named like a number: found by name unless ambiguous" {
	local other
	sim_create --channel name=org.example.n.0,connection=pty numbered
	other=$domid
	# A toolstack that allows numeric names (xl does not) renames it "7".
	timeout "$T" xenstore-write "/local/domain/$other/name" 7
	[ "$other" -ne 7 ]
	run ls_ -rn -o DOMID,DOMAIN,CHANNEL 7
	assert_success
	assert_output "$other 7 org.example.n.0"
	# Now a domain whose id is 7: the bare number is ambiguous.
	sim create -D 7 seven >/dev/null || false
	run ls_ 7
	assert_failure 2
	assert_output --partial 'ambiguous'
	run ls_ -rn -o DOMAIN id:7
	assert_success
	assert_output ''
	run ls_ -rn -o DOMID name:7
	assert_success
	assert_output "$other"
	sim destroy seven
	sim destroy "$other"
}

@test "filters: --channel and --transport" {
	run ls_ -rn -o CHANNEL -t pty
	assert_success
	assert_output org.example.pty.0
	run ls_ -rn -o CHANNEL -c org.example.agent.0
	assert_output org.example.agent.0
	run ls_ -rn -c no.such.channel
	assert_success
	assert_output ''
	run ls_ -t carrier-pigeon
	assert_failure 2
	assert_output --partial 'not one of socket, pty, direct, vchan'
}

@test "output formats: json, pairs, +columns, --output-all" {
	run ls_ -J -o DOMID,CHANNEL,DEVID -c org.example.agent.0 web01
	assert_success
	assert_output --partial "\"domid\": $(domid_of web01),"
	assert_output --partial '"channel": "org.example.agent.0"'
	assert_output --partial '"devid": 1'
	run ls_ -P -o CHANNEL,TRANSPORT -c org.example.pty.0
	assert_output 'CHANNEL="org.example.pty.0" TRANSPORT="pty"'
	run ls_ -n -o +UUID -c org.example.pty.0
	assert_output --regexp ' [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
	run ls_ --output-all
	assert_success
	assert_line --index 0 --regexp 'FESTATE +BESTATE +BACKEND +FENAME$'
	run ls_ -o NOPE
	assert_failure 2
	assert_output --partial 'NOPE: unknown column'
	run ls_ -J -r
	assert_failure 2
}

# The rows of vchan endpoints: CHANNEL DOMID ROLE PEER STATE, sorted.
vchan_rows() {
	ls_ -rn -o CHANNEL,DOMID,ROLE,PEER,STATE -t vchan "$@" | sort
}

@test "a vchan endpoint has one row per side: ROLE and PEER say which, in every format" {
	local g
	sim_create vrow1
	g=$domid
	# dom0 serves one to the guest, the guest serves one to dom0.
	spawn xenchan-cat -l -T vchan -Q never -t 20s vrow1 org.example.down.0
	spawn in_domain "$g" xenchan-cat -l -T vchan -Q never -t 20s 0 org.example.up.0
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan vrow1 | grep -c published | grep -qx 2"
	run vchan_rows
	assert_success
	assert_output "org.example.down.0 0 server $g published
org.example.down.0 $g client 0 published
org.example.up.0 0 client $g published
org.example.up.0 $g server 0 published"
	# Listing one domain shows its side only.
	run vchan_rows vrow1
	assert_output "org.example.down.0 $g client 0 published
org.example.up.0 $g server 0 published"
	run vchan_rows Domain-0
	assert_output "org.example.down.0 0 server $g published
org.example.up.0 0 client $g published"
	run ls_ -J -o DOMID,CHANNEL,ROLE,PEER -c org.example.down.0
	assert_success
	assert_output --partial '"role": "server",
         "peer": '"$g"
	assert_output --partial '"role": "client",
         "peer": 0'
	# In the default columns; a console channel's row is its frontend's.
	run ls_ -n vrow1
	assert_line --regexp "^ +$g +vrow1 +org.example.down.0 +vchan +client +0 +published "
	sim_create --channel name=org.example.con.0,connection=pty vrow2
	run ls_ -rn -o ROLE,PEER vrow2
	assert_output 'frontend 0'
	sim destroy vrow2
	kill -9 "${SIM_SPAWNED[@]}"
	timeout "$T" xenstore-rm "/local/domain/0/data/vchan/$g"
	timeout "$T" xenstore-rm "/local/domain/$g/data/vchan/0"
	sim destroy vrow1
}

@test "an endpoint whose xenchan server was killed is stale on both rows, and trusted" {
	local g pid
	sim_create vstale1
	g=$domid
	xenchan-cat -l -T vchan -Q never -t 20s vstale1 org.example.dead.0 >/dev/null 2>&1 &
	pid=$!
	SIM_SPAWNED+=($pid)
	wait_until "$T" sh -c "xenchan-ls -rn -o STATE -c org.example.dead.0 vstale1 | grep -qx published"
	kill -9 "$pid"
	wait "$pid" || true
	run vchan_rows
	assert_output "org.example.dead.0 0 server $g stale
org.example.dead.0 $g client 0 stale"
	run ls_ -rn -o TRUST -c org.example.dead.0
	assert_output 'trusted
trusted'
	# xenchan-wait never takes it for ready.
	run timeout "$T" xenchan-wait -t 300ms vstale1 org.example.dead.0
	assert_failure 124
	# The next server of that name replaces it.
	spawn xenchan-cat -l -T vchan -Q never -t 20s vstale1 org.example.dead.0
	wait_until "$T" sh -c "xenchan-ls -rn -o STATE -c org.example.dead.0 | sort -u | grep -qx published"
	kill -9 "${SIM_SPAWNED[@]}"
	timeout "$T" xenstore-rm "/local/domain/0/data/vchan/$g"
	sim destroy vstale1
}

@test "a direct channel whose xenchan backend was killed is stale" {
	local pid
	sim_create dstale1
	xenchan-cat -l -Q never -t 20s dstale1 org.example.direct.0 >/dev/null 2>&1 </dev/null &
	pid=$!
	SIM_SPAWNED+=($pid)
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,TRANSPORT,STATE dstale1 | grep -qx 'org.example.direct.0 direct connected'"
	kill -9 "$pid"
	wait "$pid" || true
	# Its nodes still say Connected (4): nobody serves it.
	run ls_ -rn -o CHANNEL,STATE,FESTATE,BESTATE,TRUST -t direct dstale1
	assert_output 'org.example.direct.0 stale 4 4 trusted'
	sim destroy dstale1
}

@test "50 domains: every channel listed" {
	local i
	for i in $(seq 1 50); do
		sim create --channel "name=org.example.n$i.0,connection=socket,path=$SIM_DIR/n$i.sock" \
			--channel "name=org.example.p$i.0,connection=pty" "many$i" >/dev/null || false
	done
	for i in $(seq 1 50); do
		run ls_ -rn -o CHANNEL "many$i"
		assert_success
		assert_output "org.example.n$i.0"$'\n'"org.example.p$i.0"
	done
	run ls_ -rn -o DOMAIN
	assert_success
	[ "$(grep -c '^many' <<<"$output")" -eq 100 ]
	for i in $(seq 1 50); do
		sim destroy "many$i"
	done
}

@test "--help and --version go to stdout; a bad option is a usage error" {
	run ls_ --help
	assert_success
	assert_line --index 0 --partial 'Usage: xenchan-ls'
	run ls_ --version
	assert_success
	assert_output --regexp '^xenchan-ls \(xenchan\) '
	run ls_ --bogus
	assert_failure 2
	assert_line --index 0 'xenchan-ls: --bogus: unknown option'
	assert_line --index 1 "Try 'xenchan-ls --help' for more information."
	run bash -c "xenchan-ls >/dev/full"
	assert_failure 2
	assert_output --partial 'write error'
}
