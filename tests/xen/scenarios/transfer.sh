# xenchan-cat and xenchan-send moving bytes to and from a real Linux guest:
# over the socket and pty channels xl created, through a channel xenchan
# hotplugs and serves itself (direct), over vchan (asked for, and chosen by
# bandwidth), a socket held by another client (busy, and --wait), and a send
# cut short by xl destroy. The guest's agents
# upper-case what they read, so an echo by a tty that is not raw cannot pass
# for an answer. Then, with a second guest: xenchan-cat and xenchan-send run
# with a standard descriptor closed, against a guest that sends raw xenstore
# requests, and signals that come before the copy loop.
. /xenchan/lib.sh

bin=$XENCHAN_BIN
for p in xenchan-cat xenchan-send xenchan-ls; do
	if [ ! -x $bin/$p ]; then
		not_ok "$p is in the image"
		exit 1
	fi
done
if ! guest_start xfer transfer; then
	not_ok "guest with agents, vchan servers and a hotplug watcher started"
	exit 1
fi
ok "guest with agents, vchan servers and a hotplug watcher started"
# The console devids xl made, whatever the Xen version numbers them.
for d in /local/domain/$domid/device/console /local/domain/0/backend/console/$domid \
	/libxl/$domid/device/console; do
	xenstore-list "$d" 2>/dev/null | sort >"/tmp/xl-devids.$(echo "$d" | tr / _)"
done

payload /tmp/payload 16384
tr a-z A-Z </tmp/payload >/tmp/expect

# 1. xenchan-cat over the channels xl created.
cat_check xfer "xenchan-cat -T socket: 16 KiB dom0 -> guest -> dom0 intact" /tmp/cat-sock.out \
	$bin/xenchan-cat -Q 3s -T socket xfer org.example.test.0
cat_check xfer "xenchan-cat -T pty: 16 KiB dom0 -> guest -> dom0 intact" /tmp/cat-pty.out \
	$bin/xenchan-cat -Q 3s -T pty xfer org.example.pty.0

# 2. xenchan-send over the socket channel; the guest reports the size and md5
# of all its socket agent read (the 16 KiB above, then this).
payload /tmp/send.data 65536
sock_in_is() {
	[ "$(xenstore-read "/local/domain/$domid/data/sock-in" 2>/dev/null)" = "$1" ]
}
want="$(cat /tmp/payload /tmp/send.data | wc -c) $(cat /tmp/payload /tmp/send.data | md5sum | cut -d' ' -f1)"
timeout 120 $bin/xenchan-send -v -t 60s xfer org.example.test.0 /tmp/send.data \
	>/tmp/send.out 2>/tmp/send.err
rc=$?
diag "$(cat /tmp/send.out /tmp/send.err)"
check "xenchan-send -v: 64 KiB over the socket channel, exit status 0 ($rc)" test $rc = 0
if ! check "xenchan-send: the guest read exactly what was sent (size and md5)" \
	wait_for 60 sock_in_is "$want"; then
	diag "want $want, guest says $(xenstore-read "/local/domain/$domid/data/sock-in" 2>&1)"
	guest_log xfer
fi

# 2b. Busy: qemu serves one client per socket and leaves the others in its
# listener's backlog. While socat (then a xenchan-cat) holds the channel,
# xenchan-send writes nothing and exits 5 naming the holder; with --wait it
# stays queued and delivers once the holder left. Checked at the guest: its
# agent reports the size and md5 of all it read, so bytes that were refused
# and arrived later anyway would show.
sock_in_is_all() {
	sock_in_is "$(cat $sock_all | wc -c) $(cat $sock_all | md5sum | cut -d' ' -f1)"
}
# served PATH: qemu accepted a connection on socket PATH (its end is bound
# to PATH and connected, state 03 in /proc/net/unix).
served() {
	awk -v p="$1" '$6 == "03" && $8 == p { n++ } END { exit !n }' /proc/net/unix
}
sock_all="/tmp/payload /tmp/send.data"
socat -u UNIX-CONNECT:/tmp/chan.sock OPEN:/dev/null &
hpid=$!
check "socat holds the socket channel" wait_for 30 served /tmp/chan.sock
printf 'refused' >/tmp/refused.data
timeout 60 $bin/xenchan-send -t 1s xfer org.example.test.0 /tmp/refused.data 2>/tmp/busy.err
rc=$?
diag "$(cat /tmp/busy.err)"
check "xenchan-send on a socket socat holds: exit status 5 ($rc)" test $rc = 5
check "... the message names socat and its pid" \
	grep -q "busy: in use by socat (pid $hpid)\$" /tmp/busy.err
payload /tmp/wait.data 4096
timeout 120 $bin/xenchan-send -v --wait=60s xfer org.example.test.0 /tmp/wait.data \
	2>/tmp/wait.err &
wpid=$!
check "xenchan-send --wait: waits for socat to leave, without connecting" \
	wait_for 30 grep -q "qemu serves socat (pid $hpid); waiting for it to leave" /tmp/wait.err
check "... -v does not say accepted meanwhile" sh -c "! grep -q ': accepted by qemu' /tmp/wait.err"
check "... and the guest has read nothing new" sock_in_is_all
kill $hpid
wait $wpid
rc=$?
diag "$(cat /tmp/wait.err)"
check "xenchan-send --wait: delivered once socat left, exit status 0 ($rc)" test $rc = 0
check "... -v says accepted by qemu" grep -q "chan.sock: accepted by qemu" /tmp/wait.err
sock_all="$sock_all /tmp/wait.data"
if ! check "the guest read the 4 KiB once and never the refused bytes (size and md5)" \
	wait_for 60 sock_in_is_all; then
	diag "guest says $(xenstore-read "/local/domain/$domid/data/sock-in" 2>&1)"
fi
# A xenchan-cat holding the channel: named as the holder too.
rm -f /tmp/hold.fifo
mkfifo /tmp/hold.fifo
$bin/xenchan-cat -Q never xfer org.example.test.0 </tmp/hold.fifo >/dev/null 2>&1 &
cpid=$!
exec 7>/tmp/hold.fifo
cat_holds() {
	grep -qx "$cpid" /run/xenchan/locks/socket:%2Ftmp%2Fchan.sock 2>/dev/null &&
		served /tmp/chan.sock
}
check "xenchan-cat holds the socket channel" wait_for 30 cat_holds
timeout 60 $bin/xenchan-send xfer org.example.test.0 /tmp/refused.data 2>/tmp/busy2.err
rc=$?
diag "$(cat /tmp/busy2.err)"
check "xenchan-send on a socket xenchan-cat holds: exit 5 ($rc), naming it" \
	sh -c "[ $rc = 5 ] && grep -q 'busy: in use by xenchan-cat (pid $cpid)\$' /tmp/busy2.err"
kill $cpid
exec 7>&-
wait $cpid
# Everything queued before it is served first: a marker that arrives alone
# proves nothing refused is still on its way.
printf 'marker' >/tmp/marker.data
timeout 120 $bin/xenchan-send --wait=60s xfer org.example.test.0 /tmp/marker.data
sock_all="$sock_all /tmp/marker.data"
if ! check "... a marker sent last arrives, and nothing refused before it (size and md5)" \
	wait_for 60 sock_in_is_all; then
	diag "guest says $(xenstore-read "/local/domain/$domid/data/sock-in" 2>&1)"
fi

# 3. A channel hotplugged into the running guest and served by xenchan-cat
# itself. The input waits until the guest's agent set its new hvc raw and
# until xenchan-ls was looked at, so the channel lives that long.
hot_ready() {
	[ "$(xenstore-read "/local/domain/$domid/data/hot-ready" 2>/dev/null)" = 1 ]
}
hot_listed() {
	kill -0 $hpid 2>/dev/null || return 0
	$bin/xenchan-ls -rn -o CHANNEL,DEVID,TRANSPORT,STATE xfer >/tmp/hot.ls 2>&1 &&
		grep -q '^org\.example\.hot\.0 [0-9]* direct connected$' /tmp/hot.ls
}
rm -f /tmp/hot.go
{
	wait_for 90 hot_ready
	wait_for 60 test -e /tmp/hot.go
	cat /tmp/payload
} | timeout 150 $bin/xenchan-cat -v --create -t 60s -Q 3s xfer org.example.hot.0 \
	>/tmp/hot.out 2>/tmp/hot.err &
hpid=$!
# The listing is asked for once xenchan-cat says its stream is open (the
# guest's kernel probes the new device in its own time), and must agree
# within 30 s; a failure says which of the two was late.
hot_open() {
	grep -q 'direct stream open' /tmp/hot.err || ! kill -0 $hpid 2>/dev/null
}
hot_t0=$(now)
wait_for 90 hot_open
hot_t1=$(now)
wait_for 30 hot_listed
if grep -q '^org\.example\.hot\.0 [0-9]* direct connected$' /tmp/hot.ls; then
	ok "xenchan-ls shows the hotplugged channel as direct and connected"
else
	not_ok "xenchan-ls shows the hotplugged channel as direct and connected"
	diag "stream open after $((hot_t1 - hot_t0)) s, last listing at $(($(now) - hot_t0)) s"
	diag "$(cat /tmp/hot.err)"
	if _d=$(channel_devid "$domid" org.example.hot.0); then
		diag "frontend state $(xenstore-read "/local/domain/$domid/device/console/$_d/state" 2>&1)," \
			"backend state $(xenstore-read "/local/domain/0/backend/console/$domid/$_d/state" 2>&1)"
		diag "$(xenstore-ls -f "/libxl/$domid/device/console/$_d" 2>&1)"
	fi
fi
diag "$(cat /tmp/hot.ls)"
hdevid=$(sed -n 's/^org\.example\.hot\.0 \([0-9]*\) .*/\1/p' /tmp/hot.ls)
touch /tmp/hot.go
wait_for 120 sh -c "! kill -0 $hpid 2>/dev/null"
wait $hpid
rc=$?
diag "$(cat /tmp/hot.err)"
if [ $rc = 0 ] && cmp -s /tmp/hot.out /tmp/expect; then
	ok "xenchan-cat --create: 16 KiB dom0 -> guest's new hvc -> dom0 intact"
else
	not_ok "xenchan-cat --create: 16 KiB dom0 -> guest's new hvc -> dom0 intact"
	diag "exit status $rc, $(wc -c </tmp/hot.out) of $(wc -c </tmp/expect) bytes back"
	guest_log xfer
fi
# Whatever devid it got, only what xl created may be left.
only_xl_channels() {
	! channel_devid "$domid" org.example.hot.0 >/dev/null || return 1
	for _d in /local/domain/$domid/device/console /local/domain/0/backend/console/$domid \
		/libxl/$domid/device/console; do
		xenstore-list "$_d" 2>/dev/null | sort |
			cmp -s - "/tmp/xl-devids.$(echo "$_d" | tr / _)" || return 1
	done
}
if ! check "the hotplugged channel's frontend, backend and /libxl nodes are gone${hdevid:+ (devid $hdevid)}" \
	only_xl_channels; then
	diag "$(xenstore-ls -fp /local/domain/$domid/device/console 2>&1)"
fi
$bin/xenchan-ls -rn -o CHANNEL,DEVID,TRANSPORT,STATE xfer >/tmp/hot.after 2>&1
check "xenchan-ls no longer lists the hotplugged channel" \
	sh -c "! grep -q org.example.hot.0 /tmp/hot.after"

# 5. vchan: the guest serves endpoints for dom0 through vchan-socket-proxy.
vpath=/local/domain/$domid/data/vchan/0
if ! check "the guest publishes vchan endpoints org.example.test.0 and org.example.vc.0" \
	sh -c "xenstore-read $vpath/sock/ring-ref >/dev/null &&
		xenstore-read $vpath/vc/ring-ref >/dev/null"; then
	guest_log xfer
fi
cat_check xfer "xenchan-cat -T vchan: 16 KiB dom0 -> guest -> dom0 intact" /tmp/cat-vc.out \
	$bin/xenchan-cat -v -Q 3s -T vchan xfer org.example.vc.0
diag "$(cat /tmp/cat-vc.out.err)"
cat_check xfer "xenchan-cat -b 40M: 16 KiB dom0 -> guest -> dom0 intact" /tmp/cat-bw.out \
	$bin/xenchan-cat -v -Q 3s -b 40M xfer org.example.test.0
diag "$(cat /tmp/cat-bw.out.err)"
check "xenchan-cat -b 40M chose the vchan endpoint over the socket channel" \
	grep -q 'org.example.test.0: vchan: .* the guest publishes a vchan endpoint' \
	/tmp/cat-bw.out.err

# 4. The guest goes away in the middle of a long xenchan-send.
sock_in_grew() {
	_n=$(xenstore-read "/local/domain/$domid/data/sock-in" 2>/dev/null | cut -d' ' -f1)
	[ "${_n:-0}" -gt "${base:-0}" ]
}
base=$(xenstore-read "/local/domain/$domid/data/sock-in" 2>/dev/null | cut -d' ' -f1)
head -c 209715200 /dev/zero |
	timeout 120 $bin/xenchan-send -v xfer org.example.test.0 >/tmp/kill.out 2>/tmp/kill.err &
spid=$!
if ! wait_for 30 sock_in_grew; then
	diag "the guest did not report receiving any of the long send"
fi
t0=$(now)
xl destroy xfer
t1=$(now)
wait_for 30 sh -c "! kill -0 $spid 2>/dev/null"
wait $spid
rc=$?
t2=$(now)
diag "$(cat /tmp/kill.out /tmp/kill.err)"
diag "xl destroy took $((t1 - t0)) s; xenchan-send ended $((t2 - t0)) s after it began"
check "xenchan-send exits 4 when the guest is destroyed mid-send ($rc)" test $rc = 4
check "... within 15 s of xl destroy" test $((t2 - t0)) -le 15

# 6. Closed standard descriptors, against a guest of their own whose socket
# agent sends a raw xenstore request, XS_WRITE of /local/domain/0/pwned
# (guest/lifecycle.sh). Run with stdout closed, xenchan-cat must not open its
# xenstore connection as descriptor 1: what the guest sends would reach
# xenstored as dom0's request. The same for xenchan-send and stdin.
t0=$(now)
if ! guest_start life lifecycle; then
	not_ok "second guest started: raw XS_WRITE agent on its socket channel, no driver autoprobe"
	exit 1
fi
ok "second guest started: raw XS_WRITE agent on its socket channel, no driver autoprobe"
diag "guest life ready $(($(now) - t0)) s after xl create began"

# reap PID SECONDS: wait up to SECONDS for background PID to end (SIGKILL
# it then) and return its exit status.
reap() {
	if ! wait_for "$2" sh -c "! kill -0 $1 2>/dev/null"; then
		diag "pid $1 still running after $2 s: killed"
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1"
}
# secs_since T: seconds from /proc/uptime reading T to now, to 0.01 s.
secs_since() {
	awk -v t0="$1" '{ printf "%.2f", $1 - t0 }' /proc/uptime
}

# The guest writes its packet while data/raw-send is 1; qemu passes what it
# kept on at the guest's next write after xenchan-cat connected. Two more
# writes after that, the packets stop and xenchan-cat, its stdin at end,
# quits after a second of silence.
raw_sent() {
	xenstore-read "/local/domain/$domid/data/raw-sent" 2>/dev/null || echo 0
}
raw_through() {
	kill -0 $cpid 2>/dev/null || return 0
	if [ -z "$sent0" ]; then
		grep -q 'socket stream open' /tmp/closed-cat.err || return 1
		sent0=$(raw_sent)
	fi
	[ "$(raw_sent)" -ge $((sent0 + 2)) ]
}
xenstore-rm /local/domain/0/pwned 2>/dev/null
xenstore-write "/local/domain/$domid/data/raw-send" 1
sent0=
$bin/xenchan-cat -v -Q 1s life org.example.test.0 </dev/null >&- 2>/tmp/closed-cat.err &
cpid=$!
wait_for 30 raw_through || diag "the guest did not write twice while xenchan-cat was connected"
xenstore-write "/local/domain/$domid/data/raw-send" 0
reap $cpid 30
rc=$?
diag "$(cat /tmp/closed-cat.err)"
diag "the guest wrote its 41-byte packet $(raw_sent) times, $sent0 before xenchan-cat connected"
got=$(sed -n 's/^xenchan-cat: .*; received \([0-9]*\) bytes$/\1/p' /tmp/closed-cat.err)
if ! check "xenchan-cat >&-: exit status 0 ($rc), ${got:-no} bytes of XS_WRITE packets received" \
	sh -c "[ $rc = 0 ] && [ ${got:-0} -gt 0 ] && [ $((${got:-0} % 41)) = 0 ]"; then
	guest_log life
fi
if ! check "xenchan-cat >&-: the guest's XS_WRITE did not reach xenstored (no /local/domain/0/pwned)" \
	sh -c '! xenstore-read /local/domain/0/pwned >/dev/null 2>&1'; then
	diag "/local/domain/0/pwned = $(xenstore-read /local/domain/0/pwned 2>&1)"
	xenstore-rm /local/domain/0/pwned 2>/dev/null
fi

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -s KILL 30 $bin/xenchan-send -v life org.example.test.0 <&- >/tmp/closed-send.out 2>&1
rc=$?
took=$(secs_since "$t0")
diag "$(cat /tmp/closed-send.out)"
check "xenchan-send <&-: empty input, exit status 0 ($rc) within 10 s ($took s)" \
	awk -v rc=$rc -v t="$took" 'BEGIN { exit !(rc == 0 && t <= 10) }'

# 7. Signals before the copy loop: xenchan-cat undoes what it set up and
# dies by the signal. The guest binds no driver to a new console device, so
# a hotplugged channel's frontend stays Initialising and xenchan-cat --create
# waits for it with its backend in InitWait.  Should the guest's kernel bind
# one all the same (seen once under load), the signal finds xenchan-cat
# connected instead: the checks below hold either way, and the diag says
# which it was (-Q never: it does not end by itself then either).
sig_waiting() {
	kill -0 $cpid 2>/dev/null || return 0
	sdevid=$(channel_devid "$domid" org.example.sig.0) &&
		[ "$(xenstore-read "/local/domain/0/backend/console/$domid/$sdevid/state" 2>/dev/null)" -ge 2 ] 2>/dev/null
}
sig_gone() {
	[ -n "$sdevid" ] &&
		! channel_devid "$domid" org.example.sig.0 >/dev/null &&
		! xenstore-exists "/local/domain/$domid/device/console/$sdevid" &&
		! xenstore-exists "/local/domain/0/backend/console/$domid/$sdevid" &&
		! xenstore-exists "/libxl/$domid/device/console/$sdevid"
}
sdevid=
$bin/xenchan-cat -v -Q never --create life org.example.sig.0 </dev/null >/tmp/sig.out 2>/tmp/sig.err &
cpid=$!
if wait_for 30 sig_waiting && kill -0 $cpid 2>/dev/null; then
	diag "devid $sdevid: backend $(xenstore-read "/local/domain/0/backend/console/$domid/$sdevid/state" 2>&1), frontend $(xenstore-read "/local/domain/$domid/device/console/$sdevid/state" 2>&1): SIGTERM"
	kill -TERM $cpid
else
	# A signal must end it cleanly at any instant, so it is sent all the
	# same; what it was doing is said, to find out why it was not waiting.
	diag "xenchan-cat --create did not come to wait for the frontend in 30 s: devid ${sdevid:-none}, backend state $(xenstore-read "/local/domain/0/backend/console/$domid/${sdevid:-x}/state" 2>&1), wchan $(cat /proc/$cpid/wchan 2>&1): SIGTERM all the same"
	kill -TERM $cpid 2>/dev/null
fi
reap $cpid 20
rc=$?
diag "$(cat /tmp/sig.err)"
check "xenchan-cat --create waiting for the guest's frontend: SIGTERM, exit status 143 ($rc)" \
	test $rc = 143
if ! check "... the channel's frontend, backend and /libxl nodes are gone${sdevid:+ (devid $sdevid)}" \
	sig_gone; then
	for d in /local/domain/$domid/device/console /local/domain/0/backend/console/$domid \
		/libxl/$domid/device/console; do
		diag "$d: $(xenstore-list $d 2>&1 | tr '\n' ' ')"
	done
	guest_log life
fi

vpath=/local/domain/0/data/vchan/$domid/sigport
vchan_waiting() {
	kill -0 $vpid 2>/dev/null || return 0
	xenstore-exists "$vpath/ring-ref"
}
$bin/xenchan-cat -v -l -T vchan "$domid" sigport </dev/null >/tmp/vsig.out 2>/tmp/vsig.err &
vpid=$!
if wait_for 30 vchan_waiting && kill -0 $vpid 2>/dev/null; then
	# Not SIGINT: a script's background job starts with it ignored, and
	# xenchan leaves an ignored signal ignored.
	diag "$vpath published: SIGHUP"
	kill -HUP $vpid
else
	diag "xenchan-cat -l -T vchan did not come to wait for a client"
fi
reap $vpid 20
rc=$?
diag "$(cat /tmp/vsig.err)"
check "xenchan-cat -l -T vchan waiting for a client: SIGHUP, exit status 129 ($rc)" \
	test $rc = 129
if ! check "... $vpath is gone" sh -c "! xenstore-exists $vpath"; then
	diag "$(xenstore-ls -f "$vpath" 2>&1)"
fi
