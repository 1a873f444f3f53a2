# xenchan-ls, xenchan-wait and xenchan-registry-check --live against the
# xl-created guest: names, connections,
# paths, ptys and states as real libxl and qemu write them; waiting for a guest
# that does not exist yet, and for its end.
. /xenchan/lib.sh

bin=$XENCHAN_BIN
if [ ! -x $bin/xenchan-ls ] || [ ! -x $bin/xenchan-wait ]; then
	not_ok "xenchan-ls and xenchan-wait are in the image"
	exit 1
fi

# Started before the guest exists: it must find it by name and wait.
$bin/xenchan-wait -t 90s -p cmds org.example.test.0 org.example.pty.0 \
	>/tmp/wait.out 2>/tmp/wait.err &
wpid=$!
if ! guest_start cmds idle; then
	not_ok "guest started"
	exit 1
fi
ok "guest started"
wait_for 30 sh -c "! kill -0 $wpid 2>/dev/null"
wait $wpid
check "xenchan-wait started before xl create returns 0 once the channels are ready" \
	test $? = 0 -a -s /tmp/wait.out
diag "$(cat /tmp/wait.out /tmp/wait.err)"

sock=$(channel_devid "$domid" org.example.test.0)
pty=$(channel_devid "$domid" org.example.pty.0)
tty=$(xenstore-read /local/domain/$domid/device/console/$pty/tty)
$bin/xenchan-ls -rn -o DOMID,DOMAIN,CHANNEL,DEVID,TRANSPORT,STATE,ENDPOINT,TRUST cmds \
	>/tmp/ls.out 2>&1
diag "$(cat /tmp/ls.out)"
check "xenchan-ls: the socket channel, by its name, trusted, connected" \
	grep -qx "$domid cmds org.example.test.0 $sock socket connected /tmp/chan.sock trusted" /tmp/ls.out
check "xenchan-ls: the pty channel with the pty qemu wrote" \
	grep -qx "$domid cmds org.example.pty.0 $pty pty connected $tty trusted" /tmp/ls.out
check "xenchan-ls: two channels, no dummy, no primary console" \
	test "$(wc -l </tmp/ls.out)" = 2
check "xenchan-wait --print gives the same endpoints" \
	sh -c "grep -q \"	org.example.test.0	socket	/tmp/chan.sock\$\" /tmp/wait.out &&
		grep -q \"	org.example.pty.0	pty	$tty\$\" /tmp/wait.out"
check "xenchan-ls finds the guest by domid and by UUID" \
	sh -c "$bin/xenchan-ls -rn -o CHANNEL $domid | grep -q org.example.test.0 &&
		$bin/xenchan-ls -rn -o CHANNEL \$(xenstore-read /local/domain/$domid/vm | sed 's|/vm/||') |
		grep -q org.example.test.0"

# xenchan-registry-check --live on the xl-created guest: one channel name is
# registered, the other is not.
printf 'N: org.example.test.0\nC: Example <admin@example.org>\nD: the test channel\n' \
	>/tmp/site.registry
$bin/xenchan-registry-check --no-default-registry -r /tmp/site.registry --live -W \
	>/tmp/rc.out 2>&1
rc=$?
diag "$(cat /tmp/rc.out)"
check "xenchan-registry-check --live -W: the unregistered pty channel, exit 1" \
	sh -c "[ $rc = 1 ] && grep -q '^domain cmds/devid $pty: warning: .*org.example.pty.0.* \[unregistered\]' /tmp/rc.out"
check "xenchan-registry-check --live: the registered socket channel is not reported unregistered" \
	sh -c "! grep -q 'org.example.test.0.*unregistered' /tmp/rc.out"

$bin/xenchan-wait -t 60s -f gone cmds >/tmp/gone.out 2>&1 &
gpid=$!
sleep 1
xl destroy cmds
wait_for 30 sh -c "! kill -0 $gpid 2>/dev/null"
wait $gpid
check "xenchan-wait --for gone returns 0 after xl destroy" test $? = 0
diag "$(cat /tmp/gone.out)"
