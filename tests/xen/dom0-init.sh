#!/bin/sh
# dom0's /init: start the Xen toolstack, run the scenarios in /xenchan/run in
# order, each under its own timeout, and power off. Results go to the console
# as lines starting "XENCHAN-TAP: " (see scenarios/lib.sh); run.sh numbers them.
# Kernel command line: xenchan_timeout=SECONDS per scenario (default 300;
# a scenario with a "# xenchan-timeout: SECONDS" line gets that if more).
# The Xen tools are in /usr/lib/xen-X.Y/bin, X.Y that of the image's Xen.
PATH=/usr/sbin:/usr/bin
for d in /usr/lib/xen-*/bin; do
	[ -d "$d" ] && PATH=$d:$PATH
done
export PATH=/opt/xenchan/bin:$PATH
# The programs under test: build-images.sh -b puts them in /opt/xenchan/bin,
# -d installs xenchan's package (/usr/bin).
if ls /opt/xenchan/bin/xenchan* >/dev/null 2>&1; then
	export XENCHAN_BIN=/opt/xenchan/bin
else
	export XENCHAN_BIN=/usr/bin
fi
export HOME=/root
export XENCHAN_TAP_LOG=/run/xenchan-tap.log
export LSAN_OPTIONS=suppressions=/xenchan/lsan.supp:print_suppressions=0
timeout_s=${xenchan_timeout:-300}

. /xenchan/lib.sh

finish() {
	echo "XENCHAN-END: $1"
	sync
	poweroff -f
	sleep 86400
}

bail() {
	not_ok "dom0 setup: $*"
	diag "$(dmesg | tail -n 30)"
	finish setup-failed
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/lock /run/xen /run/xenstored /var/log/xen/console /var/lib/xen
echo "XENCHAN-BOOT: dom0 init at $(cut -d' ' -f1 /proc/uptime) s"

for m in $(cat /lib/modules/xen/order); do
	insmod "/lib/modules/xen/$m" || bail "insmod $m"
done
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || bail "mount xenfs"

xenstored --pid-file /run/xenstored.pid || bail "xenstored"
i=0
until xenstore-exists / 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || bail "xenstored does not answer"
	sleep 0.1
done
xen-init-dom0 >/run/xen-init-dom0.log 2>&1 || bail "xen-init-dom0: $(cat /run/xen-init-dom0.log)"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
	bail "xenconsoled"
echo "XENCHAN-BOOT: toolstack up at $(cut -d' ' -f1 /proc/uptime) s"

for f in /xenchan/run/*.sh; do
	[ -e "$f" ] || continue
	name=${f##*/}
	name=${name#[0-9][0-9][0-9]-}
	name=${name%.sh}
	: >"$XENCHAN_TAP_LOG"
	start=$(cut -d' ' -f1 /proc/uptime)
	echo "XENCHAN-BEGIN: $name at $start s"
	# A scenario may ask for more time: a "# xenchan-timeout: SECONDS" line.
	t=$(sed -n 's/^# xenchan-timeout: \([0-9][0-9]*\)$/\1/p' "$f" | head -n 1)
	[ -n "$t" ] && [ "$t" -gt "$timeout_s" ] || t=$timeout_s
	(cd /tmp && XENCHAN_SCENARIO=$name timeout "$t" sh "$f")
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	if [ $rc -ne 0 ]; then
		if [ $rc -eq 143 ] || [ $rc -eq 137 ] || [ $rc -eq 124 ]; then
			not_ok "$name: timed out after $t s"
		elif ! grep -q '^not ok' "$XENCHAN_TAP_LOG"; then
			not_ok "$name: exited with status $rc"
		fi
	elif ! grep -q . "$XENCHAN_TAP_LOG"; then
		not_ok "$name: reported no result"
	fi
	echo "XENCHAN-TIME: $name $start $end"
	# Leave no guest behind for the next scenario.
	for d in $(xl list 2>/dev/null | awk 'NR > 2 { print $2 }'); do
		xl destroy "$d" >/dev/null 2>&1
	done
done
finish "done"
