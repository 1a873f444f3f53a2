#!/bin/bash
# Boot real Xen under QEMU (software emulation) with the images of
# build-images.sh and run scenario scripts in dom0. Prints TAP on stdout.
#
# usage: run.sh [-i IMGDIR] [-o OUTDIR] [-t SECONDS] [-s SECONDS] SCENARIO...
#   -i IMGDIR   images from build-images.sh (default $XENCHAN_XEN_IMAGES or .)
#   -o OUTDIR   where serial.log and exported files go (default IMGDIR)
#   -t SECONDS  bound on the whole QEMU run (default 480)
#   -s SECONDS  bound on each scenario inside dom0 (default 300)
# SCENARIO is a dom0 script (tests/xen/scenarios/NAME.sh); they run in order.
# XENCHAN_FOLLOW_CYCLES (1-9): the follow scenario's cycles of each
# operation (its default: 2), passed on dom0's command line.
# Exit status 0 when every test passed.
set -euo pipefail

prog=run.sh
die() { echo "$prog: $*" >&2; exit 2; }
usage() { echo "usage: $prog [-i IMGDIR] [-o OUTDIR] [-t SECONDS] [-s SECONDS] SCENARIO..." >&2; exit 2; }

imgdir=${XENCHAN_XEN_IMAGES:-.}
outdir=
total=480
per=300
while getopts i:o:t:s:h opt; do
	case $opt in
	i) imgdir=$OPTARG ;;
	o) outdir=$OPTARG ;;
	t) total=$OPTARG ;;
	s) per=$OPTARG ;;
	h) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
outdir=${outdir:-$imgdir}

qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 not found: install the qemu-system-x86 package (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || die "cpio not found: install the cpio package"
for f in xen vmlinuz dom0-initrd.gz; do
	[ -f "$imgdir/$f" ] || die "$imgdir/$f missing: run build-images.sh $imgdir first"
done
case $imgdir in *,*) die "$imgdir: QEMU cannot take a path with a comma" ;; esac
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
imgdir=$(cd "$imgdir" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The scenarios go into a small cpio archive appended to the dom0 initramfs.
mkdir -p "$tmp/root/xenchan/run"
n=0
for s; do
	[ -f "$s" ] || die "$s: no such scenario"
	n=$((n + 1))
	cp "$s" "$tmp/root/xenchan/run/$(printf %03d "$n")-$(basename "$s")"
done
{
	cat "$imgdir/dom0-initrd.gz"
	(cd "$tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip)
} >"$tmp/initrd.gz"

log=$outdir/serial.log
xen_args="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all"
dom0_args="console=hvc0 earlyprintk=xen rdinit=/init quiet loglevel=3 xenchan_timeout=$per"
case ${XENCHAN_FOLLOW_CYCLES:-} in
"") ;;
[1-9]) dom0_args="$dom0_args xenchan_follow_cycles=$XENCHAN_FOLLOW_CYCLES" ;;
*) die "XENCHAN_FOLLOW_CYCLES=$XENCHAN_FOLLOW_CYCLES: not a number of cycles from 1 to 9" ;;
esac
start=$(date +%s)
set +e
timeout -k 10 "$total" "$qemu" -display none -monitor none -serial stdio -nic none \
	-no-reboot -m 3072 -smp 2 \
	-kernel "$imgdir/xen" -append "$xen_args" \
	-initrd "$imgdir/vmlinuz $dom0_args,$tmp/initrd.gz" </dev/null >"$log" 2>&1
qrc=$?
set -e
elapsed=$(( $(date +%s) - start ))

tr -d '\r' <"$log" >"$tmp/log"

# Exported files: base64 lines between XENCHAN-FILE-BEGIN/END markers.  Xen
# writes its own messages on the same serial line, at any moment: one can
# land at the end of a base64 line ("(XEN) uart interrupt taking more than
# 4ms, switched to polling"), and is cut off ("(" is no base64).  The END
# marker says how many bytes the file had.
for name in $(sed -n 's/.*XENCHAN-FILE-BEGIN: \([A-Za-z0-9._-]*\).*/\1/p' "$tmp/log"); do
	sed -n "s/.*XENCHAN-FILE: $name //p" "$tmp/log" | sed 's/(XEN).*//' |
		base64 -d >"$outdir/$name" 2>/dev/null ||
		echo "# $name: base64 damaged on the serial line" >&2
	want=$(sed -n "s/.*XENCHAN-FILE-END: $name \([0-9]*\).*/\1/p" "$tmp/log" | head -n 1)
	got=$(wc -c <"$outdir/$name")
	[ -z "$want" ] || [ "$got" = "$want" ] ||
		echo "# $name: $got of its $want bytes came through the serial line" >&2
done

results=$tmp/results
sed -n 's/.*XENCHAN-TAP: //p' "$tmp/log" >"$results"
if ! grep -q 'XENCHAN-END: done' "$tmp/log"; then
	if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
		why="QEMU killed after $total s"
	else
		why="QEMU exited with status $qrc"
	fi
	echo "not ok - the run did not finish: $why" >>"$results"
fi

count=$(grep -c '^\(ok\|not ok\)' "$results" || true)
echo "1..$count"
i=0
failed=0
while IFS= read -r line; do
	case $line in
	"ok "* | "not ok "*)
		i=$((i + 1))
		case $line in "not ok"*) failed=$((failed + 1)) ;; esac
		echo "$line" | sed "s/^\(ok\|not ok\) /\1 $i /"
		;;
	*) echo "$line" ;;
	esac
done <"$results"
sed -n 's/.*XENCHAN-BOOT: \(.*\)/# \1/p; s/.*XENCHAN-TIME: \([^ ]*\) \([^ ]*\) \([^ ]*\)/# \1: \2 s to \3 s/p' \
	"$tmp/log"
echo "# QEMU ran $elapsed s; serial log in $log"
if [ $failed -ne 0 ]; then
	{
		echo "# ---- last 80 lines of $log ----"
		grep -v 'XENCHAN-FILE: ' "$tmp/log" | tail -n 80 | sed 's/^/# /'
	} >&2
	exit 1
fi
exit 0
