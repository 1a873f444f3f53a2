#!/bin/sh
# Normalize a xenstore dump (xl-xenstore.txt from scenarios/xenstore.sh, or
# the emulator's equivalent) so that two dumps can be diffed: the guest's
# domid, grant references, event channel ports, pty numbers, uuids and start
# times become placeholders, and the lines of each "==== ... ====" section are
# sorted.
#
# usage: normalize-xenstore.sh [FILE]   (standard input without FILE)
set -eu

case $# in
0) input=- ;;
1) input=$1 ;;
*) echo "usage: normalize-xenstore.sh [FILE]" >&2; exit 2 ;;
esac

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cat -- "$input" >"$tmp"

# The guest's domid: the first /local/domain/N other than 0.
domid=$(grep -o '/local/domain/[1-9][0-9]*' "$tmp" | head -n 1 | sed 's|.*/||')
domid=${domid:-NONE}

sed -E \
	-e "s#/local/domain/$domid([/ ]|\$)#/local/domain/<DOMID>\\1#g" \
	-e "s#/libxl/$domid([/ ]|\$)#/libxl/<DOMID>\\1#g" \
	-e "s#/backend/([a-z0-9_-]+)/$domid([/ ]|\$)#/backend/\\1/<DOMID>\\2#g" \
	-e "s#/(frontend-id|domid|target) = \"$domid\"#/\\1 = \"<DOMID>\"#" \
	-e "s#\\(([nrwb])$domid([,)])#(\\1<DOMID>\\2#g" \
	-e "s#,([nrwb])$domid([,)])#,\\1<DOMID>\\2#g" \
	-e 's#/(ring-ref|port|event-channel|store-port|console-port|device-model-pid) = "[0-9]+"#/\1 = "<NUM>"#' \
	-e 's#/dev/pts/[0-9]+#/dev/pts/<PTY>#g' \
	-e 's#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}#<UUID>#g' \
	-e 's#/(start_time|start-time) = "[^"]*"#/\1 = "<TIME>"#' \
	-e 's#^([0-9]+ +[0-9]+ +[0-9]+ +)[0-9]+( +)[0-9]+( +)#\1<PORT>\2<GREF>\3#' \
	-e 's/[[:space:]]+$//' \
	"$tmp" |
awk '/^====/ { sec++; printf "%06d\t0\t%s\n", sec, $0; next }
	{ printf "%06d\t1\t%s\n", sec, $0 }' |
LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k2,2 -k3 |
cut -f3-
