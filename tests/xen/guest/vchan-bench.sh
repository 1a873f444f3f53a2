# Guest half of bench/vchan.sh.  For each request dom0 writes to
# data/vb-req, "SEQ KIND RING", serve one vchan endpoint to dom0 with a ring
# of RING bytes each way, count what arrives, and answer "SEQ COUNT" in
# data/vb-count.  KIND xenchan: xenchan-cat -l -T vchan (channel
# org.example.vb.0); raw: vchan-raw recv, a plain libxenvchan loop, at
# data/vchan/0/rawbench.
self=$(xenstore-read domid)
done_seq=0
ready
while :; do
	req=$(xenstore-read data/vb-req 2>/dev/null) || req=
	set -- $req
	if [ $# -ne 3 ] || [ "$1" = "$done_seq" ]; then
		sleep 0.1
		continue
	fi
	case $2 in
	xenchan)
		n=$(xenchan-cat -l -T vchan --buffer-size "$3" -Q never 0 org.example.vb.0 </dev/null | wc -c) ;;
	raw)
		n=$(vchan-raw recv "/local/domain/$self/data/vchan/0/rawbench" "$3" | wc -c)
		xenstore-rm "/local/domain/$self/data/vchan/0/rawbench" 2>/dev/null ;;
	*)
		n=-1 ;;
	esac
	done_seq=$1
	xenstore-write data/vb-count "$1 $n"
done
