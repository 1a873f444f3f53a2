# The xenstore layout of a guest with channels, as the image's libxl and qemu
# write it: dumped with permissions to xl-xenstore.txt (normalize it with
# normalize-xenstore.sh to compare with the emulator), and the facts xenchan
# relies on checked.
. /xenchan/lib.sh

if ! guest_start xs idle; then
	not_ok "xl create of a guest with a socket and a pty channel"
	exit 1
fi
ok "xl create of a guest with a socket and a pty channel"

sock=$(channel_devid "$domid" org.example.test.0)
pty=$(channel_devid "$domid" org.example.pty.0)
if xl_drops_first_channel; then
	check "the channels get devids 1 and 2 (xl $XEN_VERSION drops the dummy first entry)" \
		test "$sock:$pty" = "1:2"
	check "no frontend for the dropped dummy channel" \
		sh -c "! xenstore-exists /local/domain/$domid/device/console/0"
else
	check "the channels get devids 1 and 2 in order (xl $XEN_VERSION keeps the first entry)" \
		test "$sock:$pty" = "1:2"
	check "no frontend with devid 0, and none but the two channels" \
		test "$(xenstore-list /local/domain/$domid/device/console | sort | tr '\n' ' ')" = "1 2 "
fi

# Wait for both ends of both channels to reach Connected (4).
connected() {
	for d in $sock $pty; do
		[ "$(xenstore-read "/local/domain/$domid/device/console/$d/state")" = 4 ] || return 1
		[ "$(xenstore-read "/local/domain/0/backend/console/$domid/$d/state")" = 4 ] || return 1
	done
}
wait_for 30 connected
check "frontends and backends of both channels reach state 4" connected

dump=/tmp/xl-xenstore.txt
{
	for p in /local/domain/$domid/device/console /local/domain/$domid/console \
		/local/domain/0/backend/console/$domid /libxl/$domid/device/console; do
		echo "==== xenstore-ls -fp $p ===="
		xenstore-ls -fp "$p"
	done
	echo "==== xenstore-ls -fp /local/domain/$domid (top-level keys) ===="
	xenstore-ls -fp "/local/domain/$domid" | grep "^/local/domain/$domid/[^/ ]* = "
	echo "==== xenstore-ls -fp /local/domain/$domid/image ===="
	xenstore-ls -fp "/local/domain/$domid/image"
	echo "==== xl channel-list ===="
	xl channel-list xs
} >"$dump" 2>&1
export_file xl-xenstore.txt "$dump"

# perm KEY: the permissions of KEY as xenstore-ls prints them, e.g. n0,r1.
perm() {
	xenstore-ls -fp "${1%/*}" | grep -F "$1 = " | sed 's/.*(\(.*\)) *$/\1/'
}
fe=/local/domain/$domid/device/console/$sock
check "frontend name is dom0's, readable by the guest (n0,r$domid)" \
	test "$(perm "$fe/name")" = "n0,r$domid"
check "frontend ring-ref is the guest's (n$domid,r0)" \
	test "$(perm "$fe/ring-ref")" = "n$domid,r0"
check "frontend of the socket channel: type ioemu, output chardev:libxl-channel$sock" \
	test "$(xenstore-read "$fe/type") $(xenstore-read "$fe/output")" = "ioemu chardev:libxl-channel$sock"
check "backend of the socket channel: connection socket, path /tmp/chan.sock" \
	test "$(xenstore-read /local/domain/0/backend/console/$domid/$sock/connection) $(xenstore-read /local/domain/0/backend/console/$domid/$sock/path)" = "socket /tmp/chan.sock"
check "trusted copy under /libxl names the channel" \
	test "$(xenstore-read /libxl/$domid/device/console/$sock/name)" = org.example.test.0
check "pty path only in the frontend tty key" \
	sh -c "xenstore-read /local/domain/$domid/device/console/$pty/tty | grep -q '^/dev/pts/' &&
		! xenstore-exists /local/domain/0/backend/console/$domid/$pty/tty"
