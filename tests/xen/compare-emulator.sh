#!/bin/bash
# Scenario 1's other half, on the host: build in the emulator the guest that
# scenarios/xenstore.sh created with xl, dump the same xenstore subtrees with
# permissions, and diff both dumps after normalize-xenstore.sh.  Prints one
# TAP line (and the diff as comments); exit status 1 when they differ.
#
# usage: compare-emulator.sh [-x X.Y] XL-XENSTORE.TXT   (top_builddir: the build tree)
#   -x X.Y  the Xen version the real dump was made with; the emulator models
#           it (XENCHAN_SIM_XEN_VERSION). Default: the emulator's own default.
set -u

usage() { echo "usage: compare-emulator.sh [-x X.Y] XL-XENSTORE.TXT" >&2; exit 2; }
xen=
while getopts x: opt; do
	case $opt in
	x) xen=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
real=$1
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-.}
sim=$top_builddir/tests/sim/xenchan-sim
desc="the emulator's domain builder writes what xl and qemu ${xen:+of Xen $xen }write (xenstore-ls -fp, normalized)"

if [ ! -s "$real" ]; then
	echo "not ok - $desc"
	echo "# $real: missing or empty: the real-Xen dump was not made"
	exit 1
fi
# A sanitized build runs with the emulator's preload library first.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
dir=$(mktemp -d /tmp/xcx.XXXXXX)
trap '"$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
if [ -n "$xen" ]; then
	export XENCHAN_SIM_XEN_VERSION=$xen
fi
"$sim" start "$dir" >/dev/null || exit 1
eval "$("$sim" env "$dir")"
# The same channels as scenarios/lib.sh's guest, with the dummy first one
# only where the modelled xl drops it (as the scenarios add it only there).
first=
if "$sim" status "$dir" | grep -q '^first-channel: dropped'; then
	first="--channel name=org.example.dummy,connection=pty"
fi
domid=$("$sim" create --wait $first \
	--channel "name=org.example.test.0,connection=socket,path=$dir/chan.sock" \
	--channel name=org.example.pty.0,connection=pty xs) || exit 1

{
	for p in /local/domain/$domid/device/console /local/domain/$domid/console \
		/local/domain/0/backend/console/$domid /libxl/$domid/device/console; do
		echo "==== xenstore-ls -fp $p ===="
		xenstore-ls -fp "$p"
	done
	echo "==== xenstore-ls -fp /local/domain/$domid (top-level keys) ===="
	xenstore-ls -fp "/local/domain/$domid" | grep "^/local/domain/$domid/[^/ ]* = "
	echo "==== xenstore-ls -fp /local/domain/$domid/image ===="
	xenstore-ls -fp "/local/domain/$domid/image"
} 2>&1 | sed "s#$dir/chan.sock#/tmp/chan.sock#g" >"$dir/emulator.txt"

# xl channel-list has no emulated counterpart.
sed '/^==== xl channel-list/,$d' "$real" >"$dir/real.txt"
sh "$here/normalize-xenstore.sh" "$dir/real.txt" >"$dir/real.norm"
sh "$here/normalize-xenstore.sh" "$dir/emulator.txt" >"$dir/emulator.norm"
if diff -u "$dir/real.norm" "$dir/emulator.norm" >"$dir/diff"; then
	echo "ok - $desc"
	exit 0
fi
echo "not ok - $desc"
sed 's/^/# /' "$dir/diff"
exit 1
