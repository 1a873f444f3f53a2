#!/bin/sh
# The guest's /init: load the Xen modules, then run /guest/$xenchan_guest.sh
# (xenchan_guest=NAME on the kernel command line) and stay up until destroyed.
# The Xen tools are in /usr/lib/xen-X.Y/bin, X.Y that of the image's Xen.
PATH=/usr/sbin:/usr/bin
for d in /usr/lib/xen-*/bin; do
	[ -d "$d" ] && PATH=$d:$PATH
done
export PATH=/opt/xenchan/bin:$PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for m in $(cat /lib/modules/xen/order); do
	insmod "/lib/modules/xen/$m" || echo "guest: insmod $m failed"
done
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || echo "guest: mount xenfs failed"
# udev, as Debian's initramfs starts it: the rules installed (xenchan-guest's)
# run for the devices there (coldplug) and those that come later.
if [ -x /usr/lib/systemd/systemd-udevd ]; then
	if /usr/lib/systemd/systemd-udevd --daemon --resolve-names=never; then
		udevadm trigger --action=add --subsystem-match=xen || echo "guest: udevadm trigger failed"
		udevadm settle --timeout=60 || echo "guest: udevadm settle failed"
	else
		echo "guest: systemd-udevd failed"
	fi
fi
echo "guest: init at $(cut -d' ' -f1 /proc/uptime) s, running ${xenchan_guest:-nothing}"
. /guest/lib.sh
if [ -n "${xenchan_guest:-}" ] && [ -f "/guest/$xenchan_guest.sh" ]; then
	. "/guest/$xenchan_guest.sh"
else
	echo "guest: no guest script '${xenchan_guest:-}'"
fi
while :; do sleep 3600; done
