# Helpers for the dom0 halves of the real-Xen scenarios (busybox sh).
# Results are printed as "XENCHAN-TAP: ok - ..." lines on the console, which
# run.sh picks out of the serial log and numbers. Files a scenario exports are
# printed base64-encoded between XENCHAN-FILE lines and saved by run.sh.

XENCHAN_TAP_LOG=${XENCHAN_TAP_LOG:-/run/xenchan-tap.log}

ok() {
	echo "XENCHAN-TAP: ok - $*"
	echo "ok" >>"$XENCHAN_TAP_LOG"
}

not_ok() {
	echo "XENCHAN-TAP: not ok - $*"
	echo "not ok" >>"$XENCHAN_TAP_LOG"
}

# diag TEXT: TAP comment lines, one per line of TEXT.
diag() {
	printf '%s\n' "$*" | sed 's/^/XENCHAN-TAP: # /'
}

# now: seconds since boot, as an integer.
now() {
	cut -d. -f1 /proc/uptime
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds
# (status 0) or SECONDS pass (status 1). Counts time, not attempts: every
# fork is slow under emulation.
wait_for() {
	_deadline=$(( $(now) + $1 ))
	shift
	until "$@"; do
		[ "$(now)" -lt "$_deadline" ] || return 1
		sleep 0.2
	done
}

# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; return 1; fi
}

# export_file NAME PATH: make PATH available to run.sh as OUTDIR/NAME.
export_file() {
	echo "XENCHAN-FILE-BEGIN: $1"
	base64 <"$2" | sed "s/^/XENCHAN-FILE: $1 /"
	echo "XENCHAN-FILE-END: $1 $(wc -c <"$2")"
}

# The versions of the image's Xen toolstack and qemu (X.Y.Z, written by
# build-images.sh).
XEN_VERSION=$(cat /xenchan/xen-version)
QEMU_VERSION=$(cat /xenchan/qemu-version)

# version_at_least VERSION MIN: VERSION (X.Y[.Z]) is MIN or later.
version_at_least() {
	echo "$1 $2" | awk '{
		n = split($1, v, "."); m = split($2, w, ".")
		for (i = 1; i <= 3; i++) {
			a = (i <= n ? v[i] : 0) + 0; b = (i <= m ? w[i] : 0) + 0
			if (a != b) exit !(a > b)
		}
		exit 0
	}'
}

# xl_drops_first_channel: the image's xl gives the first entry of channel=[]
# devid 0 and drops it as an invalid primary console. Fixed in 4.21 (xen
# commit e1ccced4af) and in 4.18.5, 4.19.2 and 4.20.1; never in 4.17.
xl_drops_first_channel() {
	case $XEN_VERSION in
	4.18.*) ! version_at_least "$XEN_VERSION" 4.18.5 ;;
	4.19.*) ! version_at_least "$XEN_VERSION" 4.19.2 ;;
	4.20.*) ! version_at_least "$XEN_VERSION" 4.20.1 ;;
	*) ! version_at_least "$XEN_VERSION" 4.18 ;;
	esac
}

# The channel configuration every scenario guest gets. Where xl drops the
# first entry, a dummy goes first.
XENCHAN_CHANNELS='"connection=socket, name=org.example.test.0, path=/tmp/chan.sock", "connection=pty, name=org.example.pty.0"'
if xl_drops_first_channel; then
	XENCHAN_CHANNELS='"connection=pty, name=org.example.dummy", '$XENCHAN_CHANNELS
fi

# xl_create NAME CFG: xl create CFG for domain NAME. Under emulation QEMU 10
# as the device model can start slower than libxl's fixed 10 s QMP timeout
# ("Post DM startup configs failed, rc=-9"): then the half-made domain is
# destroyed and the create tried again, up to three times, each retry said
# in a TAP comment. Any other failure is reported as it is.
xl_create() {
	_n=1
	while ! xl create "$2" >"/tmp/$1.create.log" 2>&1; do
		if [ $_n -ge 3 ] || ! grep -q 'Post DM startup configs failed, rc=-9' "/tmp/$1.create.log"; then
			diag "$(cat "/tmp/$1.create.log")"
			return 1
		fi
		diag "xl create retried: attempt $_n of $1 timed out waiting for the device model: $(grep -m 1 'rc=-9' "/tmp/$1.create.log")"
		xl destroy "$1" >/dev/null 2>&1
		if ! wait_for 30 sh -c "! xl domid '$1' >/dev/null 2>&1"; then
			diag "the half-made domain $1 is still there after xl destroy"
			return 1
		fi
		_n=$((_n + 1))
	done
}

# guest_start NAME GUEST_SCRIPT: create PV domain NAME whose /init runs
# /guest/GUEST_SCRIPT.sh, and wait until it writes data/xenchan-ready.
# Sets $domid.
guest_start() {
	_name=$1
	cat >"/tmp/$_name.cfg" <<EOF
name = "$_name"
type = "pv"
kernel = "/boot/domU-vmlinux.gz"
ramdisk = "/boot/domU-initrd.gz"
extra = "console=hvc0 rdinit=/init quiet xenchan_guest=$2"
memory = 320
vcpus = 1
on_crash = "preserve"
channel = [ $XENCHAN_CHANNELS ]
EOF
	_t0=$(now)
	xl_create "$_name" "/tmp/$_name.cfg" || return 1
	_t1=$(now)
	domid=$(xl domid "$_name") || return 1
	# A loaded host slows the guest's boot under emulation down a lot.
	if ! wait_for 120 guest_is_ready; then
		diag "guest $_name not ready 120 s after xl create returned"
		guest_log "$_name"
		return 1
	fi
	diag "guest $_name: xl create took $((_t1 - _t0)) s, ready $(($(now) - _t1)) s later"
}

guest_is_ready() {
	[ "$(xenstore-read "/local/domain/$domid/data/xenchan-ready" 2>/dev/null)" = 1 ]
}

# guest_log NAME: the guest's primary console, as TAP comments.
guest_log() {
	[ -f "/var/log/xen/console/guest-$1.log" ] &&
		diag "$(tail -n 40 "/var/log/xen/console/guest-$1.log" | tr -d '\r')"
	return 0
}

# channel_devid DOMID NAME: devid of the guest's channel called NAME (by its
# frontend's name key: the numbering differs between Xen versions).
channel_devid() {
	for _d in $(xenstore-list "/local/domain/$1/device/console" 2>/dev/null); do
		if [ "$(xenstore-read "/local/domain/$1/device/console/$_d/name" 2>/dev/null)" = "$2" ]; then
			echo "$_d"
			return 0
		fi
	done
	return 1
}

# qmp_chardevs DOMID: "LABEL FILENAME" of each character device of the
# guest's device model, asked over libxl's QMP socket (free between xl
# commands).
qmp_chardevs() {
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-chardev"}' |
		socat -t 3 - "UNIX-CONNECT:/run/xen/qmp-libxl-$1" 2>/dev/null |
		grep '"return": *\[' |
		awk -v RS='{' '/"label"/ {
			l = $0; sub(/.*"label": *"/, "", l); sub(/".*/, "", l)
			f = $0; sub(/.*"filename": *"/, "", f); sub(/".*/, "", f)
			print l, f
		}'
}

# exchange OUT BYTES SECONDS INFILE COMMAND...: run COMMAND with INFILE on its
# standard input, kept open (no EOF: a channel has no half-close), until OUT
# holds BYTES bytes or SECONDS pass; then stop it.
exchange() {
	_out=$1 _bytes=$2 _secs=$3 _in=$4
	shift 4
	rm -f /tmp/exchange.fifo
	mkfifo /tmp/exchange.fifo
	"$@" </tmp/exchange.fifo >"$_out" 2>/tmp/exchange.err &
	_pid=$!
	exec 7>/tmp/exchange.fifo
	cat "$_in" >&7
	wait_for "$_secs" exchange_done
	exec 7>&-
	kill $_pid 2>/dev/null
	wait $_pid 2>/dev/null
	[ "$(wc -c <"$_out")" -ge "$_bytes" ] ||
		diag "exchange: got $(wc -c <"$_out") of $_bytes bytes: $(cat /tmp/exchange.err)"
	return 0
}

exchange_done() {
	[ "$(wc -c <"$_out")" -ge "$_bytes" ] || ! kill -0 $_pid 2>/dev/null
}

# payload FILE SIZE: SIZE bytes of printable text (base64 of random bytes).
payload() {
	head -c $(( $2 * 3 / 4 )) /dev/urandom | base64 | head -c "$2" >"$1"
}

# cat_check GUEST DESC OUT CMD...: run CMD (bounded) with /tmp/payload on
# standard input; ok when it exits 0 and OUT is /tmp/expect (what GUEST's
# agent makes of the payload), else not ok with GUEST's console log.
cat_check() {
	_guest=$1 _desc=$2 _out=$3
	shift 3
	timeout 120 "$@" </tmp/payload >"$_out" 2>"$_out.err"
	_rc=$?
	if [ $_rc = 0 ] && cmp -s "$_out" /tmp/expect; then
		ok "$_desc"
	else
		not_ok "$_desc"
		diag "exit status $_rc, $(wc -c <"$_out") of $(wc -c </tmp/expect) bytes back"
		diag "$(cat "$_out.err")"
		guest_log "$_guest"
	fi
}
