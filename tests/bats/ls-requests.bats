#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# How many xenstore requests xenchan-ls makes, counted in xenstored's trace
# as tests/bench/ls-scale.sh counts them.  Counts, unlike times, do not
# depend on the machine: they are asserted.

load helpers
# xenstored keeps a trace, written only while switched on (count_requests).
export XENCHAN_SIM_TRACE=1
sim_host_per_file

XSCTL=$XEN_BINDIR/xenstore-control

# trace_count REGEX COMMAND...: the lines of xenstored's trace matching
# REGEX while COMMAND runs (the trace on meanwhile).
trace_count() {
	local re=$1 before after
	shift
	before=$(grep -c "$re" "$SIM_DIR/xenstored.trace" || true)
	timeout "$T" "$XSCTL" log on >/dev/null
	"$@" >/dev/null
	timeout "$T" "$XSCTL" log off >/dev/null
	after=$(grep -c "$re" "$SIM_DIR/xenstored.trace" || true)
	echo $((after - before))
}

# The requests a command makes: those in the trace while it runs, less
# those of switching the trace on and off.
count_in() {
	trace_count '^IN ' "$@"
}

count_requests() {
	echo $(($(count_in "$@") - $(count_in true)))
}

# Four domains of two socket and two pty channels, all connected.
four_domains() {
	local i
	for i in 1 2 3 4; do
		sim_create --channel "name=org.example.a$i,connection=socket,path=$SIM_DIR/a$i.sock" \
			--channel "name=org.example.b$i,connection=pty" \
			--channel "name=org.example.c$i,connection=socket,path=$SIM_DIR/c$i.sock" \
			--channel "name=org.example.d$i,connection=pty" "many$i"
	done
	wait_until "$T" sh -c '[ "$(xenchan-ls -rn -o STATE | grep -c "^connected$")" = 16 ]'
}

@test "a listing of many domains: 9 requests a pty channel, 8 a socket one, 4 a domain" {
	local chans doms req
	four_domains
	chans=$(xenchan-ls -rn | wc -l)
	[ "$chans" -eq 16 ]
	doms=$(xenstore-list /local/domain | wc -l)
	req=$(count_requests xenchan-ls)
	echo "# $req requests for $chans channels of $doms domains" >&3
	# A pty channel takes 9 (its trusted copy's frontend, name, connection
	# and backend, both states, the frontend's name, its tty and the tty's
	# permissions), a socket one 8 (the copy's path for the tty and its
	# permissions); a domain its name, its vchan directory and its two
	# console directories, dom0 (no frontends) one more: whether it
	# exists; the domains' directory twice; and the trace counts one of
	# switching itself off.
	[ "$req" -le $((9 * 8 + 8 * 8 + 4 * doms + 1 + 2 + 1)) ]
}

# transactions COMMAND...: how many transactions COMMAND starts.
transactions() {
	trace_count '^IN .* TRANSACTION_START' "$@"
}

@test "published vchan endpoints are listed outside a transaction, a half-published one in one" {
	local dir
	sim_create vpub
	dir=/local/domain/$domid/data/vchan/0
	timeout "$T" xenstore-write "$dir/q1/ring-ref" 8 "$dir/q1/event-channel" 9 \
		"$dir/q2/ring-ref" 10 "$dir/q2/event-channel" 11
	run timeout "$T" xenchan-ls -rn -o CHANNEL,STATE vpub
	assert_output "q1 published
q2 published"
	[ "$(transactions xenchan-ls vpub)" -eq 0 ]
	# Its server starting or going: read again in a transaction.
	timeout "$T" xenstore-rm "$dir/q2/event-channel"
	run timeout "$T" xenchan-ls -rn -o CHANNEL,STATE vpub
	assert_output "q1 published
q2 incomplete"
	[ "$(transactions xenchan-ls vpub)" -ge 1 ]
	timeout "$T" xenstore-rm "$dir"
}

@test "a domain's UUID is asked only for the UUID column" {
	local doms with without
	doms=$(xenstore-list /local/domain | wc -l)
	[ "$doms" -ge 2 ]
	without=$(count_requests xenchan-ls)
	with=$(count_requests xenchan-ls -o +UUID)
	[ "$with" -eq $((without + doms)) ]
	run xenchan-ls -rn -o DOMAIN,UUID
	assert_line --regexp '^many1 [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
}

@test "xenchan-wait: each look after a guest's write lists that domain, never every domain" {
	local i d before listings total
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		sim_create "quiet$i"
	done
	sim_create waited
	d=$domid
	before=$(wc -l <"$SIM_DIR/xenstored.trace")
	timeout "$T" "$XSCTL" log on >/dev/null
	timeout "$T" xenchan-wait -t 20s waited org.example.never.0 &
	# The guest writing in its frontend directory: each write wakes the wait.
	for i in $(seq 1 40); do
		xenstore-write "/local/domain/$d/device/console/junk" "$i"
	done
	kill %1
	wait %1 || true
	timeout "$T" "$XSCTL" log off >/dev/null
	tail -n +"$((before + 1))" "$SIM_DIR/xenstored.trace" >"$SIM_DIR/wait.trace"
	listings=$(grep '^IN ' "$SIM_DIR/wait.trace" | grep -c "DIRECTORY (/local/domain/$d/device/console " || true)
	total=$(grep '^IN ' "$SIM_DIR/wait.trace" | grep -vc 'WRITE\|WATCH_EVENT' || true)
	echo "# $total requests for $listings listings of a domain among $(xenstore-list /local/domain | wc -l)" >&3
	[ "$listings" -ge 3 ]
	# A look at a domain with no channel: the domain read again, its
	# listing, a rescan of one server at most (about 3.3 a directory read
	# of the domain); a scan of every domain was 14 more (10.8).
	[ "$total" -le $((listings * 6 + 40)) ]
}

# Sixteen domains of a pty channel each, made once for the file.
sixteen_domains() {
	local i
	for i in $(seq 1 16); do
		[ -n "$(xenchan-ls -rn -o DOMAIN "par$i" 2>/dev/null)" ] ||
			sim_create --channel "name=org.example.p$i.0,connection=pty" "par$i"
	done
}

# traced_conns OUT COMMAND...: COMMAND's output into OUT, xenstored's trace
# on meanwhile; prints how many connections asked for some domain's console
# devices.
traced_conns() {
	local out=$1 before
	shift
	before=$(wc -l <"$SIM_DIR/xenstored.trace")
	timeout "$T" "$XSCTL" log on >/dev/null
	timeout "$T" "$@" >"$out" || return 1
	timeout "$T" "$XSCTL" log off >/dev/null
	tail -n +"$((before + 1))" "$SIM_DIR/xenstored.trace" |
		awk '$1 == "IN" && /DIRECTORY \(\/libxl\/[0-9]+\/device\/console / { print $2 }' |
		sort -u | wc -l
}

@test "many domains are listed on several connections at once, each as it lists alone" {
	local d doms conns
	sixteen_domains
	doms=$(xenstore-list /local/domain | wc -l)
	[ "$doms" -ge 16 ]
	# Domain by domain (one each: one connection), then all at once.
	for d in $(xenstore-list /local/domain); do
		timeout "$T" xenchan-ls -rn --output-all "id:$d"
	done >"$SIM_DIR/alone.out"
	conns=$(traced_conns "$SIM_DIR/all.out" xenchan-ls -rn --output-all)
	diff "$SIM_DIR/alone.out" "$SIM_DIR/all.out"
	echo "# $doms domains listed on $conns connections" >&3
	[ "$conns" -ge 2 ]
}

@test "--poll lists many domains first on several connections, as xenchan-ls lists them" {
	local rows conns cols=DOMAIN,CHANNEL,DEVID,TRANSPORT,STATE,ENDPOINT
	sixteen_domains
	timeout "$T" xenchan-ls -rn -o "$cols" >"$SIM_DIR/ls.out"
	rows=$(wc -l <"$SIM_DIR/ls.out")
	[ "$rows" -ge 16 ]
	conns=$(traced_conns "$SIM_DIR/poll.out" \
		xenchan-ls --poll --existing --count "$rows" -rn -o "$cols")
	diff "$SIM_DIR/ls.out" "$SIM_DIR/poll.out"
	echo "# $rows rows listed on $conns connections" >&3
	[ "$conns" -ge 2 ]
}
