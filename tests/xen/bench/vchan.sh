# vchan throughput on real Xen, for make bench-xen (figures as TAP comments),
# the shape of tests/bench/vchan.sh: BYTES one way from dom0's stdin through
# the ring to the guest's stdout, xenchan-cat at both ends against the plain
# libxenvchan loop of tests/bench/vchan-raw (in the image with the programs
# under test), and `head | cat | wc` in dom0 as the ceiling, at 64 KiB,
# 256 KiB and 1 MiB rings, best of two.  The guest half is
# guest/vchan-bench.sh.
. /xenchan/lib.sh

bin=$XENCHAN_BIN
bytes=33554432
# The request's number, in a file: run goes in a subshell ($(best run ...)),
# where a variable's increment would be lost and the guest, seeing the same
# number again, would take the request for the one it answered.
echo 0 >/tmp/vb.seq
if [ ! -x "$bin/vchan-raw" ]; then
	not_ok "vchan-raw is in the image (make bench-xen builds it)"
	exit 1
fi
if ! guest_start vbench vchan-bench; then
	not_ok "guest for the vchan benchmark started"
	exit 1
fi
ok "guest for the vchan benchmark started"

# Centiseconds since boot.
cs() { tr -d . </proc/uptime | cut -d' ' -f1; }

counted() {
	[ "$(xenstore-read "/local/domain/$domid/data/vb-count" 2>/dev/null)" = "$(cat /tmp/vb.seq) $bytes" ]
}

published() {
	case $1 in
	xenchan) $bin/xenchan-ls -rn -o STATE -c org.example.vb.0 vbench 2>/dev/null | grep -qx published ;;
	raw) xenstore-exists "/local/domain/$domid/data/vchan/0/rawbench/event-channel" 2>/dev/null ;;
	esac
}

# run KIND RING: centiseconds from the first byte to the guest's count of
# all of them; empty on failure.
run() {
	echo $(($(cat /tmp/vb.seq) + 1)) >/tmp/vb.seq
	xenstore-write "/local/domain/$domid/data/vb-req" "$(cat /tmp/vb.seq) $1 $2"
	if ! wait_for 60 published "$1"; then
		why "$1 $2: the guest's server published no endpoint in 60 s"
		return 1
	fi
	t0=$(cs)
	case $1 in
	xenchan) head -c "$bytes" /dev/zero | $bin/xenchan-cat -T vchan -Q 0 vbench org.example.vb.0 >/dev/null 2>/tmp/vb.err ;;
	raw) head -c "$bytes" /dev/zero | $bin/vchan-raw send "$domid" "/local/domain/$domid/data/vchan/0/rawbench" 2>/tmp/vb.err ;;
	esac
	until counted; do
		if [ $(($(cs) - t0)) -ge 12000 ]; then
			why "$1 $2: the guest did not count $bytes bytes in 120 s"
			return 1
		fi
		sleep 0.05
	done
	echo $(($(cs) - t0))
}

# why TEXT: a failed run's account, as TAP comments (on stderr: run's
# output is its figure): dom0's side's stderr, the guest's server's, the
# listing, the guest's endpoints and its console.
why() {
	diag "$(
		echo "$1"
		echo "dom0 said: $(tail -c 400 /tmp/vb.err 2>/dev/null)"
		echo "the guest's server said: $(xenstore-read "/local/domain/$domid/data/vb-err" 2>&1)"
		echo "the guest counted: $(xenstore-read "/local/domain/$domid/data/vb-count" 2>&1)"
		$bin/xenchan-ls -o DOMAIN,CHANNEL,TRANSPORT,ROLE,STATE,TRUST vbench 2>&1
		xenstore-ls -f "/local/domain/$domid/data/vchan" 2>&1 | head -n 20
	)" >&2
	guest_log vbench >&2
}

best() {
	b=
	for i in 1 2; do
		t=$("$@") || return 1
		[ -n "$t" ] || return 1
		if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
	done
	echo "$b"
}

ceiling() {
	t0=$(cs)
	head -c "$bytes" /dev/zero | cat | wc -c >/dev/null
	echo $(($(cs) - t0))
}

mbs() { awk -v b="$bytes" -v c="$1" 'BEGIN { if (c < 1) c = 1; printf "%.0f", b / (c / 100) / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b < 1) b = 1; printf "%.2f", a / b }'; }

diag "ring  xenchan_MiB/s  raw_MiB/s  ceiling_MiB/s  xenchan/raw  xenchan/ceiling"
for ring in 65536 262144 1048576; do
	tx=$(best run xenchan "$ring") || { not_ok "vchan $ring: xenchan-cat moved every byte"; continue; }
	tr=$(best run raw "$ring") || { not_ok "vchan $ring: vchan-raw moved every byte"; continue; }
	tc=$(best ceiling)
	ok "vchan $ring: every byte arrived, both ways of moving them"
	diag "$((ring / 1024))K  $(mbs "$tx")  $(mbs "$tr")  $(mbs "$tc")  $(ratio "$tr" "$tx")  $(ratio "$tc" "$tx")"
done
diag "$bytes bytes one way, best of 2; xenchan/raw is the ratio of throughputs"
xl destroy vbench
