# Guest half of scenarios/vchan.sh: a vchan server for dom0 at
# /local/domain/<self>/data/vchan/0/test, each connection served by an
# upper-casing socat behind a UNIX socket.
self=$(xenstore-read domid)
socat UNIX-LISTEN:/tmp/upcase.sock,fork EXEC:"tr a-z A-Z" &
vchan-socket-proxy -m server -s "/local/domain/$self/data/vchan-state" \
	0 "/local/domain/$self/data/vchan/0/test" /tmp/upcase.sock &
i=0
until [ "$(xenstore-read "/local/domain/$self/data/vchan-state" 2>/dev/null)" = running ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "guest: vchan-socket-proxy did not start"; break; }
	sleep 0.2
done
ready
