# Helpers for the guest halves of the real-Xen scenarios (busybox sh).

# ready: tell dom0 the guest side is set up (dom0 waits for this key).
ready() {
	xenstore-write data/xenchan-ready 1
}

# hvc_of NAME: the /dev/hvcK of the channel called NAME. hvc_xen gives each
# console device the first free hvc slot in probe order (devid order; hvc0 is
# the primary console), and only xenstore knows a channel's name.
hvc_of() {
	_k=0
	for _d in $(ls /sys/bus/xen/devices | sed -n 's/^console-//p' | sort -n); do
		[ "$_d" -eq 0 ] && continue
		_k=$((_k + 1))
		_node=$(cat "/sys/bus/xen/devices/console-$_d/nodename")
		if [ "$(xenstore-read "$_node/name")" = "$1" ]; then
			echo "/dev/hvc$_k"
			return 0
		fi
	done
	echo "guest: no channel named $1" >&2
	return 1
}

# upcase_agent NAME [BANNER]: on the channel NAME, set the tty raw, write
# BANNER (if given), then send back everything read, upper-cased. The agent
# keeps the device open: hvc resets termios on last close.
upcase_agent() {
	_dev=$(hvc_of "$1") || return 1
	echo "guest: $1 is $_dev"
	(
		exec 3<>"$_dev"
		stty -F "$_dev" raw -echo
		[ -n "${2:-}" ] && printf '%s\n' "$2" >&3
		exec tr a-z A-Z <&3 >&3
	) &
}

# counting_agent NAME: upcase_agent without a banner that also keeps a copy
# of all it read in /tmp/sock.in and writes its size and md5 to data/sock-in
# whenever they change, so dom0 can check what arrived at the guest.
counting_agent() {
	_dev=$(hvc_of "$1") || return 1
	echo "guest: $1 is $_dev"
	: >/tmp/sock.in
	(
		exec 3<>"$_dev"
		stty -F "$_dev" raw -echo
		tee /tmp/sock.in <&3 | tr a-z A-Z >&3
	) &
	(
		_last=
		while sleep 1; do
			_size=$(wc -c </tmp/sock.in)
			[ "$_size" = "$_last" ] && continue
			xenstore-write data/sock-in "$_size $(md5sum </tmp/sock.in | cut -d' ' -f1)"
			_last=$_size
		done
	) &
}

# hvc_wait NAME SECONDS: hvc_of NAME for a channel that may not exist yet (one
# hotplugged into the running guest): polls for up to SECONDS until a console
# device called NAME is there and Connected (its hvc is allocated by then).
hvc_wait() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + $2 ))
	while :; do
		for _s in /sys/bus/xen/devices/console-*; do
			[ "$(cat "$_s/state" 2>/dev/null)" = Connected ] || continue
			_node=$(cat "$_s/nodename" 2>/dev/null) || continue
			if [ "$(xenstore-read "$_node/name" 2>/dev/null)" = "$1" ]; then
				hvc_of "$1"
				return
			fi
		done
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
			echo "guest: no channel named $1 after $2 s" >&2
			return 1
		fi
		sleep 0.2
	done
}
