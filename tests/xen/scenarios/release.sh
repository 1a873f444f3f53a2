# Destroying a guest fires @releaseDomain in dom0 and removes its entries.
. /xenchan/lib.sh

if ! guest_start rel idle; then
	not_ok "guest started"
	exit 1
fi
ok "guest started"

timeout 60 xenstore-watch -n 2 @releaseDomain >/tmp/watch.out 2>&1 &
wpid=$!
sleep 1
check "a new @releaseDomain watch fires once at once" \
	test "$(grep -c '^@releaseDomain' /tmp/watch.out)" = 1
t0=$(cut -d' ' -f1 /proc/uptime)
xl destroy rel
wait_for 20 sh -c "! kill -0 $wpid 2>/dev/null"
t1=$(cut -d' ' -f1 /proc/uptime)
check "xl destroy fires @releaseDomain" test "$(grep -c '^@releaseDomain' /tmp/watch.out)" = 2
diag "watch fired $(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s after xl destroy began"
kill $wpid 2>/dev/null
check "the domain is gone from xl list" sh -c '! xl list | grep -q "^rel "'
wait_for 10 sh -c "! xenstore-exists /local/domain/$domid 2>/dev/null"
check "/local/domain/$domid is removed" sh -c "! xenstore-exists /local/domain/$domid"
check "the console backend entries are removed" \
	sh -c "! xenstore-exists /local/domain/0/backend/console/$domid"
