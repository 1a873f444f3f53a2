# A guest defined through libvirt's libxl driver, the way a libvirt user makes
# one: libvirtd started in dom0, `virsh create` of a domain XML with a unix
# (socket) channel and a pty channel whose targets are type 'xen'. Then
# xenchan-ls lists what libvirt made, xenchan-cat and xenchan-send talk to the
# guest's agents (the bytes are checked at the guest), and
# xenchan-registry-check reads the same names and connections from the XML
# file, from the live domain and from libvirt's own account of it (virsh
# dumpxml). libvirt hands its channels to libxl without devids, so xl's
# first-entry bug does not apply: every channel of the XML is there, in order.
. /xenchan/lib.sh

bin=$XENCHAN_BIN
virsh="virsh -q -c xen:///system"
name=virt
sockname=org.example.libvirt.0
ptyname=org.example.libvirt.pty.0
sockpath=/tmp/virt.sock

for p in xenchan-cat xenchan-send xenchan-ls xenchan-registry-check; do
	if [ ! -x $bin/$p ]; then
		not_ok "$p is in the image"
		exit 1
	fi
done

# Leave neither the guest nor libvirtd behind for the next scenario.
cleanup() {
	$virsh destroy $name >/dev/null 2>&1
	_pid=$(cat /run/libvirtd.pid 2>/dev/null)
	if [ -n "$_pid" ] && kill "$_pid" 2>/dev/null; then
		wait_for 30 sh -c "! kill -0 $_pid 2>/dev/null" ||
			diag "libvirtd (pid $_pid) still running 30 s after SIGTERM"
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM

# took WHAT: a TAP comment with the seconds since the last one.
_last=$(now)
took() {
	diag "$1: $(( $(now) - _last )) s"
	_last=$(now)
}

libvirtd_log() {
	diag "$(tail -n 30 /var/log/libvirt/libvirtd.log 2>&1)"
	diag "$(tail -n 30 /var/log/libvirt/libxl/libxl-driver.log 2>&1)"
	diag "$(xl info 2>&1 | grep -E '^(hw_caps|virt_caps|xen_version)')"
}

# 1. libvirtd, with only the libxl driver installed.
libvirtd -d -p /run/libvirtd.pid
if ! check "libvirtd starts and its libxl driver answers virsh -c xen:///system" \
	wait_for 60 sh -c "$virsh version >/tmp/virsh-version.out 2>&1"; then
	diag "$(cat /tmp/virsh-version.out)"
	libvirtd_log
	exit 1
fi
diag "$(cat /tmp/virsh-version.out)"
took "libvirtd up"

# 2. The guest. Its primary console goes to xenconsoled (guest_log reads its
# log). Under TCG the device model can start too slowly for libxl (Xen 4.20's
# QEMU 10: "Post DM startup configs failed", ERROR_TIMEDOUT); then the create
# is tried once more, and the output says so.
cat >/tmp/$name.xml <<EOF
<domain type='xen'>
  <name>$name</name>
  <memory unit='MiB'>320</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenpv'>xen</type>
    <kernel>/boot/domU-vmlinux.gz</kernel>
    <initrd>/boot/domU-initrd.gz</initrd>
    <cmdline>console=hvc0 rdinit=/init quiet xenchan_guest=libvirt</cmdline>
  </os>
  <on_crash>preserve</on_crash>
  <devices>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
    <channel type='unix'>
      <source mode='bind' path='$sockpath'/>
      <target type='xen' name='$sockname'/>
    </channel>
    <channel type='pty'>
      <target type='xen' name='$ptyname'/>
    </channel>
  </devices>
</domain>
EOF
dm_timed_out() {
	grep -q 'Post DM startup configs failed' /var/log/libvirt/libxl/libxl-driver.log 2>/dev/null
}
create() {
	$virsh create /tmp/$name.xml >/tmp/create.out 2>&1
}
if create; then
	created=1
elif dm_timed_out; then
	diag "virsh create: libxl timed out waiting for the device model; retrying once"
	diag "$(cat /tmp/create.out)"
	$virsh destroy $name >/dev/null 2>&1
	create && created=1
fi
if [ -z "${created:-}" ]; then
	not_ok "virsh create of a PV guest with a unix and a pty channel"
	diag "$(cat /tmp/create.out)"
	libvirtd_log
	exit 1
fi
domid=
for d in $(xenstore-list /local/domain); do
	[ "$(xenstore-read /local/domain/$d/name 2>/dev/null)" = $name ] && domid=$d
done
if ! wait_for 90 guest_is_ready; then
	not_ok "virsh create of a PV guest with a unix and a pty channel"
	diag "guest $name (domid $domid) not ready after 90 s"
	guest_log $name
	exit 1
fi
ok "virsh create of a PV guest with a unix and a pty channel"
took "virsh create to the guest's agents ready"

# 3. What libvirt made in xenstore.
sdev=$(channel_devid "$domid" $sockname)
pdev=$(channel_devid "$domid" $ptyname)
diag "devids: $sockname $sdev, $ptyname $pdev; frontends: $(xenstore-list /local/domain/$domid/device/console | tr '\n' ' ')"
check "both channels are there, devids 1 and 2 in XML order (none dropped as with xl 4.17)" \
	test "$sdev:$pdev" = "1:2"
check "no channel frontend at devid 0 (the primary console stays in console/)" \
	sh -c "! xenstore-exists /local/domain/$domid/device/console/0"
$virsh dumpxml $name >/tmp/live.xml 2>&1
dump=/tmp/libvirt-xenstore.txt
{
	for p in /local/domain/$domid/device/console /local/domain/0/backend/console/$domid \
		/libxl/$domid/device/console; do
		echo "==== xenstore-ls -fp $p ===="
		xenstore-ls -fp "$p"
	done
	echo "==== xenstore-ls -fp /local/domain/$domid (top-level keys) ===="
	xenstore-ls -fp "/local/domain/$domid" | grep "^/local/domain/$domid/[^/ ]* = "
	echo "==== /libxl/$domid (top-level keys) ===="
	xenstore-ls -fp "/libxl/$domid" | grep "^/libxl/$domid/[^/ ]* = "
	echo "==== virsh dumpxml $name ===="
	cat /tmp/live.xml
} >"$dump" 2>&1
export_file libvirt-xenstore.txt "$dump"

# 4. xenchan-ls: names, transports, endpoints and states as libvirt made them.
tty=$(xenstore-read /local/domain/$domid/device/console/$pdev/tty)
$bin/xenchan-ls -rn -o DOMID,DOMAIN,CHANNEL,DEVID,TRANSPORT,STATE,ENDPOINT,TRUST $name \
	>/tmp/ls.out 2>&1
diag "$(cat /tmp/ls.out)"
check "xenchan-ls: the unix channel as a socket channel, by its name, connected" \
	grep -qx "$domid $name $sockname $sdev socket connected $sockpath trusted" /tmp/ls.out
check "xenchan-ls: the pty channel with the pty qemu opened ($tty)" \
	grep -qx "$domid $name $ptyname $pdev pty connected $tty trusted" /tmp/ls.out
check "xenchan-ls: these two channels and no other" test "$(wc -l </tmp/ls.out)" = 2
check "virsh dumpxml reports the pty xenchan uses for $ptyname" \
	grep -q "<source path='$tty'/>" /tmp/live.xml

took "xenstore and xenchan-ls"

# 5. Bytes both ways; the guest's agents upper-case them.
payload /tmp/payload 16384
tr a-z A-Z </tmp/payload >/tmp/expect
cat_check $name "xenchan-cat -T socket: 16 KiB dom0 -> guest -> dom0 intact" /tmp/cat-sock.out \
	$bin/xenchan-cat -Q 3s -T socket $name $sockname
cat_check $name "xenchan-cat -T pty: 16 KiB dom0 -> guest -> dom0 intact" /tmp/cat-pty.out \
	$bin/xenchan-cat -Q 3s -T pty $name $ptyname

payload /tmp/send.data 65536
want="$(cat /tmp/payload /tmp/send.data | wc -c) $(cat /tmp/payload /tmp/send.data | md5sum | cut -d' ' -f1)"
sock_in_is() {
	[ "$(xenstore-read "/local/domain/$domid/data/sock-in" 2>/dev/null)" = "$want" ]
}
timeout 120 $bin/xenchan-send -v -t 60s $name $sockname /tmp/send.data \
	>/tmp/send.out 2>/tmp/send.err
rc=$?
diag "$(cat /tmp/send.out /tmp/send.err)"
check "xenchan-send -v: 64 KiB over the unix channel, exit status 0 ($rc)" test $rc = 0
if ! check "xenchan-send: the guest read exactly what was sent (size and md5)" \
	wait_for 60 sock_in_is; then
	diag "want $want, guest says $(xenstore-read "/local/domain/$domid/data/sock-in" 2>&1)"
	guest_log $name
fi

took "xenchan-cat and xenchan-send"

# 6. xenchan-registry-check reads the same channels from the XML file and
# from the live domain (checked together: one domain read twice, which is no
# clash), and from libvirt's own account of it (virsh dumpxml). With both
# names registered, -W finds nothing: no error, no warning. With only the
# socket channel's name registered, each reading names the pty channel where
# it found it. The connections: a probe config that uses each name with the
# other connection meets both in each reading (name-meaning).
{
	printf 'N: %s\nC: Example <admin@example.org>\nD: a test channel\n\n' $sockname
	printf 'N: %s\nC: Example <admin@example.org>\nD: a test pty channel\n' $ptyname
} >/tmp/both.registry
printf 'N: %s\nC: Example <admin@example.org>\nD: a test channel\n' $sockname \
	>/tmp/sock.registry

# regcheck ARGS...: xenchan-registry-check -W ARGS with no default registry,
# diagnostics to /tmp/rc.out; its exit status in $rc, its output as TAP
# comments.
regcheck() {
	$bin/xenchan-registry-check --no-default-registry -W "$@" >/tmp/rc.out 2>/tmp/rc.err
	rc=$?
	diag "xenchan-registry-check -W $*: exit status $rc"
	diag "$(cat /tmp/rc.out /tmp/rc.err)"
}
clean() {
	[ "$rc" = 0 ] && ! [ -s /tmp/rc.out ]
}
# diag_at PREFIX TEXT: one diagnostic is PREFIX (a basic regular expression)
# then TEXT.
diag_at() {
	grep "^$1" /tmp/rc.out | grep -qF -- "$2"
}
# has_both TEXT1 TEXT2: both are in the diagnostics.
has_both() {
	grep -qF -- "$1" /tmp/rc.out && grep -qF -- "$2" /tmp/rc.out
}
regcheck -r /tmp/both.registry --live /tmp/$name.xml
check "xenchan-registry-check -W on the XML file and the live domain: exit status 0 ($rc), no diagnostic" \
	clean
regcheck -r /tmp/both.registry /tmp/live.xml
check "xenchan-registry-check -W on virsh dumpxml's XML: exit status 0 ($rc), no diagnostic" clean

line=$(grep -n "name='$ptyname'" /tmp/$name.xml | cut -d: -f1)
# Its name is the registered one with a label added: a near-miss.
warn=": warning: channel name '$ptyname' is not registered; did you mean '$sockname'"
regcheck -r /tmp/sock.registry --live /tmp/$name.xml
check "... one name registered: exit status 1 ($rc), two warnings" \
	test "$rc:$(wc -l </tmp/rc.out)" = 1:2
check "... the XML file's pty channel is named at line $line" \
	diag_at "/tmp/$name.xml:$line:[0-9]*" "$warn"
check "... the live domain's pty channel is named at devid $pdev" \
	diag_at "domain $name/devid $pdev" "$warn"

# The probe is an xl config for this xl: with the placeholder first entry
# where xl drops the first channel, or registry-check would (rightly) count
# its first real entry as dropped.
probe_first=
if xl_drops_first_channel; then
	probe_first='"connection=pty, name=org.example.dummy", '
fi
cat >/tmp/probe.cfg <<EOF
name = "probe"
channel = [ $probe_first"connection=pty, name=$sockname",
	"connection=socket, name=$ptyname, path=/tmp/probe.sock" ]
EOF
# meaning NAME HERE THERE WHERE: the start of registry-check's name-meaning
# message.
meaning() {
	echo "channel name '$1' is a $2 channel here but a $3 channel in $4"
}
regcheck -r /tmp/both.registry /tmp/$name.xml /tmp/probe.cfg
check "... reads the XML's unix channel as socket, its pty channel as pty" has_both \
	"$(meaning $sockname pty socket "domain $name (/tmp/$name.xml:")" \
	"$(meaning $ptyname socket pty "domain $name (/tmp/$name.xml:")"
regcheck -r /tmp/both.registry --live /tmp/probe.cfg
check "... reads the live unix channel as socket, the pty channel as pty" has_both \
	"$(meaning $sockname pty socket "running domain $name (domain $name/devid $sdev)")" \
	"$(meaning $ptyname socket pty "running domain $name (domain $name/devid $pdev)")"

took "xenchan-registry-check"

# 7. virsh destroy: the channels go with the domain.
$virsh destroy $name >/tmp/destroy.out 2>&1
gone() {
	! xenstore-exists /local/domain/$domid &&
		! xenstore-exists /local/domain/0/backend/console/$domid
}
check "virsh destroy: the domain and its channels' backends are gone" wait_for 30 gone ||
	diag "$(cat /tmp/destroy.out)"
check "xenchan-ls no longer lists the guest" \
	sh -c "! $bin/xenchan-ls -rn $name 2>/dev/null | grep -q ."
took "virsh destroy"
