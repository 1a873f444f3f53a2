#!/bin/sh
# make check-xen: build the boot images and run every scenario on real Xen
# under QEMU. Installs the Debian packages it needs when they are missing and
# it runs as root. Ends with "N passed, N failed"; exit status 1 on any failure.
#
# Environment: top_srcdir, top_builddir (default: this tree, the current
# directory); XENCHAN_BINDIR (default: the xenchan* programs of top_builddir);
# XENCHAN_XEN_CACHE (see build-images.sh); XENCHAN_XEN_TIMEOUT (bound on the
# QEMU run, default 480 s).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
xendir=$top_srcdir/tests/xen
out=$top_builddir/tests/xen/out
images=$top_builddir/tests/xen/images

summary() {
	echo "$1 passed, $2 failed"
	[ "$2" -eq 0 ]
	exit $?
}

fail() {
	echo "check-xen: $*" >&2
	summary 0 1
}

stamp() { date +%s; }

# Packages: qemu-system-x86 boots Xen; the others assemble the images.
need=
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
command -v cpio >/dev/null || need="$need cpio"
command -v xz >/dev/null || need="$need xz-utils"
command -v gzip >/dev/null || need="$need gzip"
command -v dpkg-deb >/dev/null || need="$need dpkg"
if [ -n "$need" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		echo "check-xen: installing$need"
		apt-get update -q >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends $need >/dev/null ||
			fail "apt-get install$need failed"
	fi
fi
command -v qemu-system-x86_64 >/dev/null ||
	fail "qemu-system-x86_64 not found: install qemu-system-x86 (as root, check-xen.sh does it)"

# The programs under test: xenchan's binaries from the build tree.
bindir=${XENCHAN_BINDIR:-}
if [ -z "$bindir" ]; then
	bindir=$top_builddir/tests/xen/bin
	rm -rf "$bindir"
	mkdir -p "$bindir"
	find "$top_builddir" -maxdepth 2 -path "$top_builddir/tests" -prune -o \
		-type f -name 'xenchan*' -perm -u+x -print | while read -r f; do
		if head -c 4 "$f" | grep -q ELF; then cp "$f" "$bindir/"; fi
	done
fi
echo "check-xen: programs under test: $(ls "$bindir" | tr '\n' ' ')"

t0=$(stamp)
XENCHAN_BINDIR=$bindir bash "$xendir/build-images.sh" "$images" || fail "building the images failed"
t1=$(stamp)
echo "check-xen: images built in $((t1 - t0)) s"

mkdir -p "$out"
set --
if [ -n "${XENCHAN_XEN_SCENARIOS:-}" ]; then
	# Given ones only (make bench-xen).
	set -- $XENCHAN_XEN_SCENARIOS
else
	for s in "$xendir"/scenarios/*.sh; do
		[ "${s##*/}" = lib.sh ] || set -- "$@" "$s"
	done
fi
bash "$xendir/run.sh" -i "$images" -o "$out" -t "${XENCHAN_XEN_TIMEOUT:-480}" "$@" |
	tee "$out/check-xen.tap"
t2=$(stamp)
echo "check-xen: QEMU run took $((t2 - t1)) s, $((t2 - t0)) s in all"

# Scenario 1's comparison: the emulator against what real libxl wrote.
if [ -z "${XENCHAN_XEN_SCENARIOS:-}" ]; then
	echo "# the emulator against real Xen:"
	top_builddir=$top_builddir bash "$xendir/compare-emulator.sh" "$out/xl-xenstore.txt" |
		tee -a "$out/check-xen.tap"
fi

passed=$(grep -c '^ok ' "$out/check-xen.tap")
failed=$(grep -c '^not ok ' "$out/check-xen.tap")
grep -q '^1\.\.' "$out/check-xen.tap" || failed=$((failed + 1))
summary "$passed" "$failed"
