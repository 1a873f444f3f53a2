# examples/first-boot on real Xen: three guests started at once, each with
# the channel org.example.firstboot.0 (a socket at /run/xenchan/UUID, as the
# example's xl config has it), xenchan-guest's udev rule and helper running
# under the guest's systemd-udevd, and examples/first-boot's dom0 agent,
# started before them: the guest agents of fb1 and fb2 are configured, fb3's
# never answers (guest/first-boot-stuck.sh) and is reported stuck without
# holding up the two others.  At each guest: the link
# /dev/xen-channel/org.example.firstboot.0 points at the channel's hvc, with
# the mode guest.conf gives, and the configuration applied is the one sent.
# xenchan-timeout: 900
. /xenchan/lib.sh

bin=$XENCHAN_BIN
agent=/xenchan/first-boot-dom0-agent
wait_s=60
chan=org.example.firstboot.0
if [ ! -x /usr/bin/bash ] || [ ! -x "$agent" ]; then
	not_ok "the image has bash and examples/first-boot's dom0 agent"
	exit 1
fi
if ! $bin/xenchan-ls --help 2>/dev/null | grep -q -- --poll; then
	ok "first boot # SKIP the xenchan under test has no xenchan-ls --poll"
	exit 0
fi

mkdir -p /run/xenchan /tmp/fbconf
for g in fb1 fb2 fb3; do
	printf 'hostname=%s\naddress=192.0.2.%s\n' "$g" "${g#fb}" >"/tmp/fbconf/$g.cfg"
done
PATH=$bin:$PATH bash "$agent" -d /tmp/fbconf -t $wait_s -n 3 >/tmp/fb.out 2>/tmp/fb.err &
apid=$!
t0=$(now)

# The three guests at once (guest_start waits for each in turn).
pids=
for g in fb1 fb2 fb3; do
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "$uuid" >"/tmp/$g.uuid"
	script=first-boot
	[ $g = fb3 ] && script=first-boot-stuck
	channels="\"connection=socket, name=$chan, path=/run/xenchan/$uuid\""
	# fb2 has another channel before it: its first-boot channel is hvc2.
	[ $g = fb2 ] && channels="\"connection=pty, name=org.example.other.0\", $channels"
	xl_drops_first_channel && channels="\"connection=pty, name=org.example.placeholder.0\", $channels"
	cat >"/tmp/$g.cfg" <<CFG
name = "$g"
uuid = "$uuid"
type = "pv"
kernel = "/boot/domU-vmlinux.gz"
ramdisk = "/boot/domU-initrd.gz"
extra = "console=hvc0 rdinit=/init quiet xenchan_guest=$script"
memory = 256
vcpus = 1
on_crash = "preserve"
channel = [ $channels ]
CFG
	xl_create "$g" "/tmp/$g.cfg" &
	pids="$pids $!"
done
created=0
for p in $pids; do
	wait "$p" && created=$((created + 1))
done
check "three guests created at once ($created)" test $created = 3
domid_of() { xl domid "$1" 2>/dev/null; }

if ! wait_for $((wait_s * 3 + 120)) sh -c "! kill -0 $apid 2>/dev/null"; then
	not_ok "the dom0 agent ended"
	kill $apid
fi
wait $apid
arc=$?
diag "dom0 agent, exit status $arc, after $(($(now) - t0)) s: $(cat /tmp/fb.out)"
# What each guest reports of its link (guest/first-boot.sh).
for g in fb1 fb2 fb3; do
	wait_for 120 sh -c "xenstore-read /local/domain/$(xl domid $g 2>/dev/null)/data/first-boot/link >/dev/null 2>&1" ||
		diag "$g: no report of its link"
done
check "the dom0 agent: exit status 1 (one guest not configured)" test $arc = 1
check "no message from the dom0 agent" test ! -s /tmp/fb.err || diag "$(cat /tmp/fb.err)"
for g in fb1 fb2; do
	check "$g configured (its UUID, its domid)" \
		grep -q "^configured $g $(cat /tmp/$g.uuid) $(domid_of $g) [0-9]*\$" /tmp/fb.out
done
check "fb3 reported stuck at the handshake" \
	grep -q "^stuck fb3 $(cat /tmp/fb3.uuid) $(domid_of fb3) hello: no answer within $wait_s s\$" /tmp/fb.out
check "fb1 and fb2 were done before fb3 was given up, each sooner than its deadline" \
	sh -c "sed -n 3p /tmp/fb.out | grep -q '^stuck fb3 ' &&
		[ \$(awk '\$1 == \"configured\" && \$5 < $wait_s' /tmp/fb.out | wc -l) = 2 ]"

for g in fb1 fb2 fb3; do
	d=$(domid_of $g)
	set -- $(xenstore-read "/local/domain/$d/data/first-boot/link" 2>/dev/null)
	# "../hvcK /dev/hvcK OWNER GROUP MODE": the link, the hvc this guest's
	# hvc_of finds for the channel, and the device's owner and mode.
	check "$g: /dev/xen-channel/$chan -> $1 (the channel's: $2), $3 $4 $5 as guest.conf says" \
		test "$1" = "../${2#/dev/}" -a "$3 $4 $5" = "root root 640" ||
		guest_log $g
done
set -- $(xenstore-read "/local/domain/$(domid_of fb2)/data/first-boot/links" 2>/dev/null | tr ';' '\n' |
	grep '^org.example.other.0 ')
check "fb2: its other channel too: /dev/xen-channel/org.example.other.0 -> $2 (the channel's: $3), $4 $5 $6 (guest.conf has no line for it)" \
	test -n "$2" -a "$2" = "../${3#/dev/}" -a "$4 $5 $6" = "root root 600"
for g in fb1 fb2; do
	d=$(domid_of $g)
	check "$g: the configuration applied is the one sent" \
		test "$(xenstore-read "/local/domain/$d/data/first-boot/applied" 2>/dev/null)" = \
		"$(sha256sum </tmp/fbconf/$g.cfg | cut -d' ' -f1)"
done
check "fb3: nothing applied" \
	sh -c "! xenstore-read /local/domain/$(domid_of fb3)/data/first-boot/applied 2>/dev/null"
diag "summary xen-$XEN_VERSION first-boot: $(tr '\n' ';' </tmp/fb.out)"
for g in fb1 fb2 fb3; do
	xl destroy $g
done
