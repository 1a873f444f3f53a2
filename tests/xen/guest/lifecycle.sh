# Guest half of the descriptor and signal cases of scenarios/transfer.sh.
# - org.example.test.0 (socket): set raw and kept open. While dom0 has
#   data/raw-send at 1, the agent writes every 0.3 s a raw xenstore request,
#   XS_WRITE of /local/domain/0/pwned = yes: struct xsd_sockmsg { type 11,
#   req_id 1, tx_id 0, len 25 }, little-endian, then the payload
#   "/local/domain/0/pwned\0yes" (41 bytes in all), and counts them in
#   data/raw-sent. A dom0 client that wrote what it receives to its xenstore
#   connection would have xenstored write that key. What arrives from dom0
#   is read and dropped.
#   The packets are repeated, not written once at boot: qemu 7.2 keeps what
#   the guest wrote before a client connected, but sends it on only at the
#   guest's next event on the ring, and a client with nothing to send gives
#   the guest no reason for one.
# - No driver binds a console device added from now on: a channel dom0
#   hotplugs stays Initialising, its frontend never connected.
if dev=$(hvc_of org.example.test.0); then
	echo "guest: org.example.test.0 is $dev"
	(
		exec 3<>"$dev"
		stty -F "$dev" raw -echo
		cat <&3 >/dev/null &
		n=0
		while sleep 0.3; do
			[ "$(xenstore-read data/raw-send 2>/dev/null)" = 1 ] || continue
			printf '\013\000\000\000\001\000\000\000\000\000\000\000\031\000\000\000/local/domain/0/pwned\000yes' >&3
			n=$((n + 1))
			xenstore-write data/raw-sent $n
		done
	) &
fi
# The channels xl created were probed at boot, before /init ran.
echo 0 >/sys/bus/xen/drivers_autoprobe ||
	echo "guest: cannot turn off /sys/bus/xen/drivers_autoprobe"
echo "guest: drivers_autoprobe $(cat /sys/bus/xen/drivers_autoprobe)"
ready
