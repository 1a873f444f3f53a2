# vchan between a guest server and a dom0 client, with vchan-socket-proxy on
# both sides; the guest upper-cases what it receives.
. /xenchan/lib.sh

if ! guest_start vc vchan; then
	not_ok "guest with a vchan server started"
	exit 1
fi
ok "guest with a vchan server started"

path=/local/domain/$domid/data/vchan/0/test
if ! check "the server advertises ring-ref and event-channel" \
	sh -c "xenstore-read $path/ring-ref >/dev/null && xenstore-read $path/event-channel >/dev/null"; then
	guest_log vc
	exit 1
fi

payload /tmp/payload 16384
tr a-z A-Z </tmp/payload >/tmp/expect
exchange /tmp/vchan.out "$(wc -c </tmp/expect)" 60 /tmp/payload \
	vchan-socket-proxy -m client "$domid" "$path" -
check "vchan: 16 KiB dom0 -> guest -> dom0 intact" cmp /tmp/vchan.out /tmp/expect ||
	guest_log vc
