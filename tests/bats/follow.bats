#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# --follow: xenchan-cat, xenchan-send and xenchan-wait following a guest
# through xenchan-sim reboot, save and restore, and migrate; what arrived at
# the guest checked against what the report says.

load helpers
sim_host_per_file follow_setup

# What a sink agent publishes (its count and FNV-1a 64 hash) for the input
# FILE sent with one break: its bytes up to X, then again from Y (fnv FILE X
# Y; without X and Y, the whole file).
follow_setup() {
	cat >"$SIM_DIR/fnv.c" <<-'EOF2'
		#include <stdint.h>
		#include <stdio.h>
		#include <stdlib.h>
		int main(int argc, char **argv)
		{
			static unsigned char b[1 << 16];
			uint64_t h = 14695981039346656037ULL, n = 0, pos = 0, x = UINT64_MAX, y = 0;
			size_t r;
			FILE *f = fopen(argv[1], "rb");
			if (!f)
				return 2;
			if (argc == 4) {
				x = strtoull(argv[2], NULL, 10);
				y = strtoull(argv[3], NULL, 10);
			}
			/* bytes [0, x), then [y, end): two passes when y < x */
			for (int pass = 0; pass < 2; pass++) {
				rewind(f);
				pos = 0;
				while ((r = fread(b, 1, sizeof(b), f)) > 0)
					for (size_t i = 0; i < r; i++, pos++)
						if (pass == 0 ? pos < x : pos >= y) {
							h = (h ^ b[i]) * 1099511628211ULL;
							n++;
						}
				if (x == UINT64_MAX)
					break;
			}
			printf("%llu %016llx\n", (unsigned long long)n, (unsigned long long)h);
			return 0;
		}
	EOF2
	${CC:-cc} -O2 -o "$SIM_DIR/fnv" "$SIM_DIR/fnv.c"
}

CHAN=org.example.follow.0

TV=$top_builddir/tests/unit/test-vchan

# guest NAME TRANSPORT [AGENT]: a domain named NAME with channel $CHAN of
# TRANSPORT (direct: none, the command hotplugs it; vchan: an endpoint the
# guest serves) served by AGENT (the default: echo); sets $domid.
guest() {
	local name=$1 t=$2 agent=${3:-echo} chan=()
	case $t in
	socket) chan=(--channel "name=$CHAN,connection=socket,path=$SIM_DIR/$name.sock") ;;
	pty) chan=(--channel "name=$CHAN,connection=pty") ;;
	direct | vchan) ;;
	esac
	if [ "$t" = vchan ]; then
		sim_create "$name"
		vchan_serve "$domid" "$agent"
	else
		sim_create "${chan[@]}" --agent "$CHAN=$agent" "$name"
	fi
}

# vchan_serve DOMID AGENT: a vchan endpoint $CHAN served in domain DOMID by
# AGENT (echo, or sink:FILE, which counts on from what FILE holds), as a
# guest's agent would serve it at each boot, restore or migration; returns
# once it is published (or already in use: a session following the guest
# may take it at once).
vchan_serve() {
	local what=(serve "$CHAN")
	case $2 in sink:*) what=(sink "$CHAN" "${2#sink:}") ;; esac
	# The old domain's server ends once the session has left it (its
	# processes do not die with the emulated domain); a sink counts on from
	# what its file holds once the old one has written all it took.
	if [ -n "${VCHAN_SERVER:-}" ]; then
		wait_until "$T" sh -c "! kill -0 $VCHAN_SERVER 2>/dev/null"
	fi
	# Not with cat_across's fd 7, the session's input: kept open, the
	# session would never see its end.
	spawn "$XENCHAN_SIM" exec -D "$1" -- "$TV" "${what[@]}" 7>&-
	VCHAN_SERVER=$!
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan id:$1 | grep -Eqx '$CHAN (published|in-use)'"
}

# lifecycle OP NAME [TRANSPORT AGENT]: reboot, save and restore, or migrate
# domain NAME; a vchan endpoint served again in the new domain.
lifecycle() {
	local nd
	case $1 in
	reboot) nd=$(sim reboot "$2") ;;
	save) sim save "$2" "$SIM_DIR/$2.save" && nd=$(sim restore "$SIM_DIR/$2.save") ;;
	migrate) nd=$(sim migrate "$2") ;;
	esac
	[ -n "$nd" ] || return 1
	if [ "${3:-}" = vchan ]; then
		vchan_serve "$nd" "${4:-echo}"
	fi
}

# The words the report may give for OP: the shutdown request, or the
# outgoing copy's name, is seen only when xenchan reads it before the domain
# is gone, and xenchan-sim destroys it at once (xl waits for the guest; the
# migration's pause is tested below), so "destroyed" is right too.
why() {
	case $1 in
	reboot) echo '(reboot|destroyed)' ;;
	save) echo '(save or migrate|destroyed)' ;;
	migrate) echo '(migrated|destroyed)' ;;
	esac
}

# The options a transport needs.
topts() {
	case $1 in
	direct) echo "--create" ;;
	*) echo "-T $1" ;;
	esac
}

# settled FILE: the sink agent publishing in FILE counted nothing more for
# 300 ms (what qemu read is in the ring, which it takes in well under that).
settled() {
	local a
	a=$(cat "$1")
	sleep 0.3
	[ "$a" = "$(cat "$1")" ]
}

# counted FILE N: the sink agent publishing in FILE counted at least N bytes.
counted() {
	local n
	n=$(sink_count "$1")
	[ -n "$n" ] && [ "$n" -ge "$2" ]
}

# report_sum FILE N: the sum of the Nth figure (1 resent, 2 twice, 3 not
# proven) of every report line in FILE.
report_sum() {
	grep -o 'resent [0-9]* bytes, [0-9]* may have arrived twice, up to [0-9]* could not be proven' "$1" |
		awk -v n="$2" '{ s += (n == 1 ? $2 : n == 2 ? $4 : $11) } END { print s + 0 }'
}

# send_across OP TRANSPORT: xenchan-send --follow of 12 MiB to a sink agent,
# with OP done once 1 MiB arrived and half the input is in the pipe (the
# rest only after it), so that the break comes mid-transfer.  What the
# guest got is the input up to some byte X, then again from the byte Y the
# send says it resumed at: Y - X within what the report says may have
# arrived twice, X - Y within what it says could not be proven, and the
# sink's hash that of exactly those bytes.
send_across() {
	local op=$1 t=$2 name=s$1$2 sink rc n count x y twice lost
	sink=$SIM_DIR/$name.sink
	guest "$name" "$t" "sink:$sink"
	head -c 12582912 /dev/urandom >"$SIM_DIR/$name.in"
	mkfifo "$SIM_DIR/$name.fifo"
	spawn bash -c "{ head -c 6291456 '$SIM_DIR/$name.in'
		until [ -e '$SIM_DIR/$name.go' ]; do sleep 0.05; done
		tail -c +6291457 '$SIM_DIR/$name.in'; } >'$SIM_DIR/$name.fifo'"
	spawn bash -c "timeout $((T * 2)) xenchan-send -v --follow=20s $(topts "$t") $name $CHAN \
		<'$SIM_DIR/$name.fifo' 2>'$SIM_DIR/$name.err'; echo \$? >'$SIM_DIR/$name.rc'"
	wait_until "$T" counted "$sink" 1048576
	lifecycle "$op" "$name" "$t" "sink:$sink"
	touch "$SIM_DIR/$name.go"
	wait_until "$((T * 2))" test -s "$SIM_DIR/$name.rc"
	rc=$(cat "$SIM_DIR/$name.rc")
	cat "$SIM_DIR/$name.err"
	[ "$rc" = 0 ]
	grep -Eq "^xenchan-send: followed $name from domain [0-9]+ to domain [0-9]+ \\($(why "$op")\\) in [0-9]+\\.[0-9]{2} s; resent [0-9]+ bytes, [0-9]+ may have arrived twice, up to [0-9]+ could not be proven\$" \
		"$SIM_DIR/$name.err"
	grep -q "delivered 12582912 bytes" "$SIM_DIR/$name.err"
	n=12582912
	twice=$(report_sum "$SIM_DIR/$name.err" 2)
	lost=$(report_sum "$SIM_DIR/$name.err" 3)
	y=$(sed -n 's/.*following: sending again from byte \([0-9]*\) of the input$/\1/p' \
		"$SIM_DIR/$name.err")
	[ -n "$y" ]
	# What the guest got: the input's bytes [0, x), then [y, end).  Bytes
	# [y, x) arrived twice, at most what the report says; bytes [x, y) were
	# lost, at most what it says could not be proven, plus, on the
	# emulator, what its guest consumed and never counted: its console
	# driver hands the ring's space back before its sink agent counts the
	# batch it took, and a domain destroyed in between took up to a ring's
	# worth (1024 bytes) the agent never counted.
	wait_until "$T" counted "$sink" $((n - lost - 1024))
	wait_until "$T" settled "$sink"
	count=$(sink_count "$sink")
	x=$((count - (n - y)))
	echo "sink: $count bytes; input to byte $x, then from byte $y; twice $twice, lost $lost"
	[ "$x" -le $((y + twice)) ] && [ "$x" -ge $((y - lost - 1024)) ]
	[ "$(cat "$sink")" = "$("$SIM_DIR/fnv" "$SIM_DIR/$name.in" "$x" "$y")" ]
	if [ "$t" = direct ] || [ "$t" = vchan ]; then
		# Proven consumed: nothing may have arrived twice, nothing is
		# unproven.
		[ "$twice" = 0 ] && [ "$lost" = 0 ] && [ "$x" -le "$y" ]
	fi
}

# cat_across OP TRANSPORT [WHY]: an xenchan-cat --follow session with the
# guest's echo agent: a line before OP and one after come back, and the
# report gives the reason WHY (an ERE; by default what why OP allows).
cat_across() {
	local op=$1 t=$2 want=${3:-$(why "$1")} name=c$1$2${3:+-why} rc
	guest "$name" "$t"
	mkfifo "$SIM_DIR/$name.fifo"
	spawn bash -c "timeout $((T * 2)) xenchan-cat --follow=20s $(topts "$t") $name $CHAN \
		<'$SIM_DIR/$name.fifo' >'$SIM_DIR/$name.out' 2>'$SIM_DIR/$name.err';
		echo \$? >'$SIM_DIR/$name.rc'"
	exec 7>"$SIM_DIR/$name.fifo"
	echo "before $op" >&7
	wait_until "$T" grep -qx "before $op" "$SIM_DIR/$name.out"
	lifecycle "$op" "$name" "$t"
	wait_until "$T" grep -q followed "$SIM_DIR/$name.err"
	echo "after $op" >&7
	wait_until "$T" grep -qx "after $op" "$SIM_DIR/$name.out"
	exec 7>&-
	wait_until "$T" test -s "$SIM_DIR/$name.rc"
	rc=$(cat "$SIM_DIR/$name.rc")
	cat "$SIM_DIR/$name.err"
	[ "$rc" = 0 ]
	grep -Eq "^xenchan-cat: followed $name from domain [0-9]+ to domain [0-9]+ \\($want\\) in [0-9]+\\.[0-9]{2} s; resent [0-9]+ bytes" \
		"$SIM_DIR/$name.err"
}

@test "send --follow, socket, reboot: resent from the first byte not proven" { send_across reboot socket; }
@test "send --follow, socket, save and restore" { send_across save socket; }
@test "send --follow, socket, migrate" { send_across migrate socket; }
@test "send --follow, pty, reboot: the pty's buffers resent" { send_across reboot pty; }
@test "send --follow, pty, save and restore" { send_across save pty; }
@test "send --follow, pty, migrate" { send_across migrate pty; }
@test "send --follow, direct, reboot: hotplugged again, resent from the first byte not consumed" { send_across reboot direct; }
@test "send --follow, direct, save and restore" { send_across save direct; }
@test "send --follow, direct, migrate" { send_across migrate direct; }

@test "send --follow, vchan, reboot: set up again, resent from the first byte not consumed" { send_across reboot vchan; }
@test "send --follow, vchan, save and restore" { send_across save vchan; }
@test "send --follow, vchan, migrate" { send_across migrate vchan; }

# Regression: the kept window (256 KiB) as full as a vchan ring of the same
# size when the domain went; no write was tried, so nothing said the peer
# was gone, and xenchan-send --follow waited for ever.
@test "send --follow, vchan: a guest gone with the window full is followed (it hung)" {
	local name=vstall rc
	sim_create "$name"
	spawn "$XENCHAN_SIM" exec -D "$domid" -- "$TV" stall "$CHAN"
	wait_until "$T" sh -c "xenchan-ls -rn -o CHANNEL,STATE -t vchan $name | grep -qx '$CHAN published'"
	head -c 1048576 /dev/zero >"$SIM_DIR/$name.in"
	spawn bash -c "timeout $((T * 2)) xenchan-send --follow=2s -T vchan $name $CHAN \
		<'$SIM_DIR/$name.in' 2>'$SIM_DIR/$name.err'; echo \$? >'$SIM_DIR/$name.rc'"
	# Its buffer (the window and 64 KiB more) is full once it read that
	# much of its input: it read no more, the guest reading nothing.
	wait_until "$T" sh -c "p=\$(pgrep -x xenchan-send) &&
		[ \$(awk '\$1 == \"pos:\" { print \$2 }' /proc/\$p/fdinfo/0) -ge 327680 ]"
	sim destroy "$name"
	wait_until "$T" test -s "$SIM_DIR/$name.rc"
	rc=$(cat "$SIM_DIR/$name.rc")
	cat "$SIM_DIR/$name.err"
	[ "$rc" = 4 ]
	grep -q "waited 2s for a domain with UUID" "$SIM_DIR/$name.err"
}

@test "cat --follow, socket, reboot" { cat_across reboot socket; }
@test "cat --follow, socket, save and restore" { cat_across save socket; }
@test "cat --follow, socket, migrate" { cat_across migrate socket; }
@test "cat --follow, pty, reboot" { cat_across reboot pty; }
@test "cat --follow, pty, save and restore" { cat_across save pty; }
@test "cat --follow, pty, migrate" { cat_across migrate pty; }
@test "cat --follow, direct, reboot" { cat_across reboot direct; }
@test "cat --follow, direct, save and restore" { cat_across save direct; }
@test "cat --follow, direct, migrate" { cat_across migrate direct; }
@test "cat --follow, vchan, reboot" { cat_across reboot vchan; }
@test "cat --follow, vchan, save and restore" { cat_across save vchan; }
@test "cat --follow, vchan, migrate" { cat_across migrate vchan; }

# A guest that clears control/shutdown as it acknowledges the request, as
# Linux does, before xenchan can read it: the reason is the hypervisor's,
# which keeps it from the guest's shutdown until the toolstack destroys the
# domain (xenchan-sim's toolstack takes 1 s to, as xl takes its time to tear
# the devices down).  Going down for a reboot, the guest also closes its
# frontends 1 s before it shuts down: the session's break starts then, and
# the reason is still seen (on real Xen it was "destroyed").
@test "why a domain went is the hypervisor's shutdown reason when the guest cleared its request" {
	XENCHAN_SIM_SHUTDOWN_CLEAR=1 XENCHAN_SIM_SHUTDOWN_PAUSE_MS=1000 cat_across reboot socket reboot
	XENCHAN_SIM_SHUTDOWN_CLEAR=1 XENCHAN_SIM_SHUTDOWN_PAUSE_MS=1000 cat_across save socket 'save or migrate'
}

@test "a direct channel added again waits for the toolstack's own channels: no devid taken from them" {
	local name=slowtools rc other=org.example.other.0
	sim_create --channel "name=$other,connection=socket,path=$SIM_DIR/$name.sock" \
		--agent "$other=echo" --agent "$CHAN=echo" "$name"
	mkfifo "$SIM_DIR/$name.fifo"
	spawn bash -c "timeout $((T * 2)) xenchan-cat -v --follow=20s --create $name $CHAN \
		<'$SIM_DIR/$name.fifo' >'$SIM_DIR/$name.out' 2>'$SIM_DIR/$name.err';
		echo \$? >'$SIM_DIR/$name.rc'"
	exec 7>"$SIM_DIR/$name.fifo"
	echo before >&7
	wait_until "$T" grep -qx before "$SIM_DIR/$name.out"
	# The rebuilt domain has its name and UUID 1.5 s before its channels:
	# a devid taken then would be the one the toolstack writes over.
	XENCHAN_SIM_DEVICES_PAUSE_MS=1500 sim reboot "$name" >/dev/null
	wait_until "$T" grep -q followed "$SIM_DIR/$name.err"
	echo after >&7
	wait_until "$T" grep -qx after "$SIM_DIR/$name.out"
	exec 7>&-
	wait_until "$T" test -s "$SIM_DIR/$name.rc"
	rc=$(cat "$SIM_DIR/$name.rc")
	cat "$SIM_DIR/$name.err"
	[ "$rc" = 0 ]
	# The toolstack's channel kept its devid and works.
	domid=$(sim list | awk -v n="$name" '$2 == n { print $1 }')
	run xs_read "$(fe_dir "$domid" 1)/name"
	assert_output "$other"
	run timeout "$T" xenchan-cat -Q 1s "$name" "$other" <<<"still here"
	assert_success
	assert_output "still here"
}

@test "the migration overlap: neither copy is talked to until the incoming one has the name" {
	local name=overlap sink=$SIM_DIR/overlap.sink old
	guest "$name" direct "cmd:cat >>'$sink'"
	old=$domid
	mkfifo "$SIM_DIR/$name.fifo"
	spawn bash -c "timeout $((T * 2)) xenchan-send -v --follow=20s --create $name $CHAN \
		<'$SIM_DIR/$name.fifo' 2>'$SIM_DIR/$name.err'; echo \$? >'$SIM_DIR/$name.rc'"
	exec 7>"$SIM_DIR/$name.fifo"
	echo one >&7
	wait_until "$T" grep -qx one "$sink"
	XENCHAN_SIM_MIGRATE_PAUSE_MS=3000 spawn "$XENCHAN_SIM" migrate "$name"
	wait_until "$T" sh -c "xenstore-read /local/domain/$old/name | grep -qx '$name--migratedaway'"
	# Left at once, and not followed to the incoming copy yet.
	wait_until "$T" grep -q 'the domain is migrating away' "$SIM_DIR/$name.err"
	echo two >&7
	run timeout "$T" xenstore-read /local/domain/$old/name
	assert_output "$name--migratedaway"
	# "two" comes only once the outgoing copy is gone and the incoming one
	# is the domain (the overlap lasts 3 s).
	wait_until "$T" grep -qx two "$sink"
	run timeout "$T" xenstore-read /local/domain/$old/name
	assert_failure
	exec 7>&-
	wait_until "$T" test -s "$SIM_DIR/$name.rc"
	[ "$(cat "$SIM_DIR/$name.rc")" = 0 ]
	grep -Eq "followed $name from domain $old to domain [0-9]+ \\(migrated\\)" "$SIM_DIR/$name.err"
	[ "$(cat "$sink")" = "$(printf 'one\ntwo')" ]
}

@test "a guest forging its vm key to carry the followed UUID is not followed" {
	local uuid evil
	guest victim socket
	uuid=$(xs_read "/local/domain/$domid/vm")
	guest evil socket
	evil=$domid
	spawn bash -c "timeout $T xenchan-cat -v --follow=2s -Q never victim $CHAN </dev/null \
		>/dev/null 2>'$SIM_DIR/victim.err'; echo \$? >'$SIM_DIR/victim.rc'"
	wait_until "$T" grep -q 'stream open' "$SIM_DIR/victim.err"
	# The guest's own key, naming the victim's UUID, written in the guest.
	timeout "$T" xenstore-chmod "/local/domain/$evil/vm" "b$evil"
	in_domain "$evil" xenstore-write "/local/domain/$evil/vm" "$uuid"
	run xs_read "/local/domain/$evil/vm"
	assert_output "$uuid"
	sim destroy victim
	wait_until "$T" test -s "$SIM_DIR/victim.rc"
	[ "$(cat "$SIM_DIR/victim.rc")" = 4 ]
	grep -q "waited 2s for a domain with UUID ${uuid#/vm/}: not followed" "$SIM_DIR/victim.err"
	refute grep -q '^xenchan-cat: followed' "$SIM_DIR/victim.err"
}

@test "--follow DURATION exceeded: exit 4, the count delivered, and what was waited for" {
	local uuid
	guest gone1 socket "cmd:cat >/dev/null"
	uuid=$(xs_read "/local/domain/$domid/vm")
	mkfifo "$SIM_DIR/gone1.fifo"
	spawn bash -c "timeout $T xenchan-send -v --follow=1s gone1 $CHAN <'$SIM_DIR/gone1.fifo' \
		2>'$SIM_DIR/gone1.err'; echo \$? >'$SIM_DIR/gone1.rc'"
	exec 7>"$SIM_DIR/gone1.fifo"
	echo hello >&7
	wait_until "$T" grep -q 'stream open' "$SIM_DIR/gone1.err"
	sim destroy gone1
	wait_until "$T" test -s "$SIM_DIR/gone1.rc"
	exec 7>&-
	[ "$(cat "$SIM_DIR/gone1.rc")" = 4 ]
	grep -q "gone1/$CHAN: waited 1s for a domain with UUID ${uuid#/vm/}: not followed" "$SIM_DIR/gone1.err"
	grep -Eq "gone1/$CHAN: peer went away: [0-9]+ of [0-9]+ bytes delivered" "$SIM_DIR/gone1.err"
}

@test "without --follow a reboot ends the session as before: exit 4" {
	guest plain socket "cmd:cat >/dev/null"
	mkfifo "$SIM_DIR/plain.fifo"
	spawn bash -c "timeout $T xenchan-send -v plain $CHAN <'$SIM_DIR/plain.fifo' \
		2>'$SIM_DIR/plain.err'; echo \$? >'$SIM_DIR/plain.rc'"
	exec 7>"$SIM_DIR/plain.fifo"
	echo hello >&7
	wait_until "$T" grep -q 'stream open' "$SIM_DIR/plain.err"
	sim reboot plain
	wait_until "$T" test -s "$SIM_DIR/plain.rc"
	exec 7>&-
	[ "$(cat "$SIM_DIR/plain.rc")" = 4 ]
	grep -q 'peer went away' "$SIM_DIR/plain.err"
	refute grep -q followed "$SIM_DIR/plain.err"
}

@test "xenchan-wait --follow waits through a reboot" {
	local new
	guest waiter socket
	spawn bash -c "timeout $T xenchan-wait --follow=20s -t $T waiter org.example.later.0 \
		2>'$SIM_DIR/waiter.err'; echo \$? >'$SIM_DIR/waiter.rc'"
	wait_until "$T" sh -c "ps -eo args | grep -q '^xenchan-wait --follow=20s'"
	new=$(sim reboot waiter)
	spawn timeout "$T" xenchan-cat -Q never --create waiter org.example.later.0 </dev/null
	wait_until "$T" test -s "$SIM_DIR/waiter.rc"
	cat "$SIM_DIR/waiter.err"
	[ "$(cat "$SIM_DIR/waiter.rc")" = 0 ]
	grep -Eq "^xenchan-wait: followed waiter from domain [0-9]+ to domain $new \\(reboot\\) in [0-9]+\\.[0-9]{2} s\$" \
		"$SIM_DIR/waiter.err"
}

@test "--follow: 0 and what is not a duration are usage errors; refused with --listen and --for gone" {
	run timeout "$T" xenchan-send --follow=0 d c </dev/null
	assert_failure 2
	assert_line --partial '--follow: 0: not a duration above 0'
	run timeout "$T" xenchan-cat --follow=soon d c </dev/null
	assert_failure 2
	assert_line --partial '--follow: soon: not a duration'
	run timeout "$T" xenchan-cat --follow -l -T direct d c </dev/null
	assert_failure 2
	assert_line --partial '--listen and --follow are mutually exclusive'
	run timeout "$T" xenchan-wait --follow -f gone d
	assert_failure 2
	assert_line --partial '--follow and --for gone are mutually exclusive'
}

@test "--follow on a domain whose vm key is not dom0's alone: refused, exit 2" {
	guest untrusted socket
	timeout "$T" xenstore-chmod "/local/domain/$domid/vm" "b$domid"
	run timeout "$T" xenchan-cat --follow untrusted $CHAN </dev/null
	assert_failure 2
	assert_line --partial "untrusted/$CHAN: --follow: the domain's UUID (its vm key) is not dom0's alone"
}
