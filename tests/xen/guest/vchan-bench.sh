# Guest half of bench/vchan.sh.  For each request dom0 writes to
# data/vb-req, "SEQ KIND RING", serve one vchan endpoint to dom0 with a ring
# of RING bytes each way, count what arrives, and answer "SEQ COUNT" in
# data/vb-count, and what the server wrote to stderr (-v) in data/vb-err.
# KIND xenchan: xenchan-cat -l -T vchan (channel org.example.vb.0); raw:
# vchan-raw recv, a plain libxenvchan loop, at data/vchan/0/rawbench.
self=$(xenstore-read domid)
done_seq=0
# On the console (dom0 shows it when a run fails): a heartbeat, and
# whether xenstore still answers.
(while sleep 10; do
	echo "guest: $(cut -d' ' -f1 /proc/uptime) s: xenstore $(timeout 2 xenstore-read domid 2>&1 || echo stuck);" \
		"$(ps | grep -v grep | grep -c 'xenchan-cat') xenchan-cat"
done) &
ready
while :; do
	req=$(xenstore-read data/vb-req 2>/dev/null) || req=
	set -- $req
	if [ $# -ne 3 ] || [ "$1" = "$done_seq" ]; then
		sleep 0.1
		continue
	fi
	echo "guest: request $req"
	: >/tmp/vb.err
	# What the server says so far, once a second while it runs.
	(while sleep 1; do xenstore-write data/vb-err "$(tail -c 400 /tmp/vb.err)"; done) &
	talk=$!
	case $2 in
	xenchan)
		n=$(xenchan-cat -v -l -T vchan --buffer-size "$3" -Q never 0 org.example.vb.0 </dev/null 2>/tmp/vb.err | wc -c) ;;
	raw)
		n=$(vchan-raw recv "/local/domain/$self/data/vchan/0/rawbench" "$3" 2>/tmp/vb.err | wc -c)
		xenstore-rm "/local/domain/$self/data/vchan/0/rawbench" 2>/dev/null ;;
	*)
		n=-1 ;;
	esac
	kill $talk
	echo "guest: request $1 done: $n bytes"
	done_seq=$1
	# What the server said, for dom0 to show when a run fails.
	xenstore-write data/vb-err "$(tail -c 400 /tmp/vb.err)"
	xenstore-write data/vb-count "$1 $n"
done
