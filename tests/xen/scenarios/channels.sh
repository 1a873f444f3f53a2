# Bytes cross a socket channel and a pty channel both ways between dom0 and
# the guest's /dev/hvcN. The guest agents upper-case what they read, so an
# echo by a tty that is not raw cannot pass for an answer.
. /xenchan/lib.sh

if ! guest_start ch channels; then
	not_ok "guest with agents on both channels started"
	exit 1
fi
ok "guest with agents on both channels started"

payload /tmp/payload 16384
tr a-z A-Z </tmp/payload >/tmp/expect

{ echo "READY org.example.test.0"; cat /tmp/expect; } >/tmp/sock.expect
exchange /tmp/sock.out "$(wc -c </tmp/sock.expect)" 60 /tmp/payload \
	socat - UNIX-CONNECT:/tmp/chan.sock
check "socket channel: the guest's banner, written before dom0 connected, arrives" \
	test "$(head -n 1 /tmp/sock.out)" = "READY org.example.test.0"
check "socket channel: 16 KiB dom0 -> guest -> dom0 intact" cmp /tmp/sock.out /tmp/sock.expect ||
	guest_log ch

pty=$(channel_devid "$domid" org.example.pty.0)
tty=$(xenstore-read "/local/domain/$domid/device/console/$pty/tty")
check "pty channel: frontend tty key names a pty ($tty)" test -c "$tty"
qmp_chardevs "$domid" >/tmp/chardevs
diag "$(cat /tmp/chardevs)"
label=$(awk -v f="pty:$tty" '$2 == f { print $1 }' /tmp/chardevs)
# qemu (7.2 and 10 alike) opens a pty of its own for the console device,
# chardev xenconsN, beside the libxl-channelN pty libxl asked for; the tty key
# names qemu's, the one that carries the data.
check "pty channel: the tty key names the pty of qemu $QEMU_VERSION's chardev xencons$pty, a second one beside libxl-channel$pty's" \
	sh -c "[ '$label' = xencons$pty ] &&
		awk '\$1 == \"libxl-channel$pty\" && \$2 ~ /^pty:/ && \$2 != \"pty:$tty\" { f = 1 } END { exit !f }' /tmp/chardevs"
exchange /tmp/pty.out "$(wc -c </tmp/expect)" 60 /tmp/payload socat - "$tty,raw,echo=0"
check "pty channel: 16 KiB dom0 -> guest -> dom0 intact" cmp /tmp/pty.out /tmp/expect ||
	guest_log ch
