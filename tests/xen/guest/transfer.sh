# Guest half of scenarios/transfer.sh.
# - org.example.pty.0: an upper-casing agent.
# - org.example.test.0 (socket): upper-cases too, and reports the size and md5
#   of all it read in data/sock-in (counting_agent).
# - vchan endpoints for dom0, ports sock and vc named org.example.test.0 and
#   org.example.vc.0, served by vchan-socket-proxy in front of an
#   upper-casing socat.
# - org.example.hot.0: not there at boot; once dom0 hotplugs it, set it raw,
#   write data/hot-ready and upper-case what arrives.
self=$(xenstore-read domid)

upcase_agent org.example.pty.0

counting_agent org.example.test.0

# vchan ports are short (libxenvchan builds key paths in 64 bytes, and a port
# has no dots): the channel name goes in a name key beside ring-ref.
socat UNIX-LISTEN:/tmp/upcase.sock,fork EXEC:"tr a-z A-Z" &
for ep in sock=org.example.test.0 vc=org.example.vc.0; do
	port=${ep%%=*}
	dir=/local/domain/$self/data/vchan/0/$port
	vchan-socket-proxy -m server -s "/local/domain/$self/data/vchan-state-$port" \
		0 "$dir" /tmp/upcase.sock &
	i=0
	until [ "$(xenstore-read "/local/domain/$self/data/vchan-state-$port" 2>/dev/null)" = running ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "guest: vchan-socket-proxy for $port did not start"; break; }
		sleep 0.2
	done
	xenstore-write "$dir/name" "${ep#*=}"
done

(
	dev=$(hvc_wait org.example.hot.0 170) || exit 1
	echo "guest: org.example.hot.0 is $dev"
	exec 3<>"$dev"
	stty -F "$dev" raw -echo
	xenstore-write data/hot-ready 1
	exec tr a-z A-Z <&3 >&3
) &

ready
