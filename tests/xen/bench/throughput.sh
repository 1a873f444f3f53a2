# Throughput on real Xen, for make bench-xen (not a test: the figures are TAP
# comments): xenchan-cat through the same guest's upper-casing agents over
# qemu's socket, over xenchan's own ring backend (a channel hotplugged with
# --create) and over vchan (vchan-socket-proxy and socat in the guest), side
# by side in one run.  The guest half is guest/transfer.sh.
. /xenchan/lib.sh

bin=$XENCHAN_BIN
size=4194304
if ! guest_start xferb transfer; then
	not_ok "guest for the benchmark started"
	exit 1
fi
ok "guest for the benchmark started"
head -c "$size" /dev/zero | tr '\0' a >/tmp/bench.in

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# rate LABEL START END COUNT: MB/s over the transfer, less the 1 s quiet tail.
rate() {
	awk -v l="$1" -v s="$2" -v e="$3" -v n="$4" -v want="$size" 'BEGIN {
		t = e - s - 1; if (t <= 0) t = 0.001;
		printf "%s: %d of %d bytes back in %.2f s: %.2f MB/s\n", l, n, want, t, n / t / 1e6 }'
}

s=$(uptime_s)
$bin/xenchan-cat -Q 1s -T socket xferb org.example.test.0 </tmp/bench.in | wc -c >/tmp/n.sock
e=$(uptime_s)
diag "$(rate socket "$s" "$e" "$(cat /tmp/n.sock)")"
check "socket: every byte came back" test "$(cat /tmp/n.sock)" = "$size"

hot_ready() {
	[ "$(xenstore-read "/local/domain/$domid/data/hot-ready" 2>/dev/null)" = 1 ]
}
{
	wait_for 90 hot_ready
	uptime_s >/tmp/hot.start
	cat /tmp/bench.in
} | timeout 150 $bin/xenchan-cat -Q 1s --create xferb org.example.hot.0 | wc -c >/tmp/n.hot
e=$(uptime_s)
diag "$(rate direct "$(cat /tmp/hot.start)" "$e" "$(cat /tmp/n.hot)")"
check "direct: every byte came back" test "$(cat /tmp/n.hot)" = "$size"

s=$(uptime_s)
$bin/xenchan-cat -Q 1s -T vchan xferb org.example.vc.0 </tmp/bench.in | wc -c >/tmp/n.vc
e=$(uptime_s)
diag "$(rate vchan "$s" "$e" "$(cat /tmp/n.vc)")"
check "vchan: every byte came back" test "$(cat /tmp/n.vc)" = "$size"
xl destroy xferb
