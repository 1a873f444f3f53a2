#!/bin/sh
# make check-xen: for each Debian release (bookworm: Xen 4.17, then trixie:
# Xen 4.20), build the boot images and run every scenario on real Xen under
# QEMU, then compare the emulator's layout with the one real libxl wrote.
# Installs the Debian packages it needs when they are missing and it runs as
# root. Each release's run ends with "xen-X.Y: N passed, M failed", the whole
# with "N passed, M failed"; exit status 1 on any failure.
#
# Environment: top_srcdir, top_builddir (default: this tree, the current
# directory); XENCHAN_BINDIR (default: the xenchan* programs of top_builddir,
# and the files XENCHAN_XEN_EXTRA_BIN names);
# XENCHAN_XEN_DEBDIR (instead of BINDIR: a directory with RELEASE/xenchan_*.deb
# for each release, installed in that release's images);
# XENCHAN_XEN_RELEASES (default "bookworm trixie"); XENCHAN_XEN_CACHE (see
# build-images.sh); XENCHAN_XEN_TIMEOUT (bound on each QEMU run, default
# 1800 s: a run takes about 5-6 min on an idle 2-core machine, the opt-in
# follow scenario alone 3-5 min, and twice that under load);
# XENCHAN_XEN_SCENARIO_TIMEOUT (bound on each scenario, default 300 s; a
# scenario may ask for more, follow does; a host loaded by other work may
# need more of both); XENCHAN_FOLLOW_CYCLES (1-9, default 2: the follow
# scenario's cycles of each operation); XENCHAN_XEN_SCENARIOS (run these
# scenario files only, no layout comparison; the way to run an opt-in
# scenario, e.g. tests/xen/scenarios/follow.sh).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
xendir=$top_srcdir/tests/xen
releases=${XENCHAN_XEN_RELEASES:-bookworm trixie}

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

# Packages: qemu-system-x86 boots Xen; the others assemble the images (zstd:
# Debian 13's kernel payload).
need=
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
command -v cpio >/dev/null || need="$need cpio"
command -v xz >/dev/null || need="$need xz-utils"
command -v zstd >/dev/null || need="$need zstd"
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

for rel in $releases; do
	case $rel in
	bookworm | trixie) ;;
	*) fail "XENCHAN_XEN_RELEASES: $rel is not bookworm or trixie" ;;
	esac
done

# The programs under test: xenchan's package for each release, or the
# binaries of the build tree.
debdir=${XENCHAN_XEN_DEBDIR:-}
bindir=${XENCHAN_BINDIR:-}
if [ -n "$debdir" ]; then
	bindir=
	for rel in $releases; do
		ls "$debdir/$rel"/xenchan_*.deb >/dev/null 2>&1 ||
			fail "XENCHAN_XEN_DEBDIR: no $debdir/$rel/xenchan_*.deb"
		echo "check-xen: $rel: programs under test from $(ls "$debdir/$rel"/xenchan_*.deb)"
	done
elif [ -z "$bindir" ]; then
	bindir=$top_builddir/tests/xen/bin
	rm -rf "$bindir"
	mkdir -p "$bindir"
	find "$top_builddir" -maxdepth 2 -path "$top_builddir/tests" -prune -o \
		-type f -name 'xenchan*' -perm -u+x -print | while read -r f; do
		if head -c 4 "$f" | grep -q ELF; then cp "$f" "$bindir/"; fi
	done
	# Helpers a benchmark needs beside them (make bench-xen: vchan-raw).
	for f in ${XENCHAN_XEN_EXTRA_BIN:-}; do
		cp "$f" "$bindir/"
	done
fi
[ -z "$bindir" ] || echo "check-xen: programs under test: $(ls "$bindir" | tr '\n' ' ')"

set --
if [ -n "${XENCHAN_XEN_SCENARIOS:-}" ]; then
	# Given ones only (make bench-xen).
	set -- $XENCHAN_XEN_SCENARIOS
else
	# A scenario with a "# xenchan-opt-in: WHY" line runs only when named.
	for s in "$xendir"/scenarios/*.sh; do
		[ "${s##*/}" != lib.sh ] || continue
		if grep -q '^# xenchan-opt-in: ' "$s"; then
			echo "check-xen: ${s##*/} runs only when named (XENCHAN_XEN_SCENARIOS):" \
				"$(sed -n 's/^# xenchan-opt-in: //p' "$s" | head -n 1)"
			continue
		fi
		set -- "$@" "$s"
	done
fi

# build_images RELEASE IMGDIR
build_images() {
	if [ -n "$debdir" ]; then
		XENCHAN_BINDIR= bash "$xendir/build-images.sh" -r "$1" -d "$debdir/$1" "$2"
	else
		XENCHAN_BINDIR=$bindir bash "$xendir/build-images.sh" -r "$1" "$2"
	fi
}

# One release: images, QEMU run, layout comparison; prints its summary line
# and adds to the totals.
all_passed=0
all_failed=0
run_release() {
	rel=$1
	shift
	images=$top_builddir/tests/xen/images/$rel
	out=$top_builddir/tests/xen/out/$rel
	tap=$out/check-xen.tap
	rm -rf "$out"
	mkdir -p "$out" "$images"
	rm -f "$images/xen-version"
	echo "check-xen: $rel"
	t0=$(stamp)
	if build_images "$rel" "$images"; then
		t1=$(stamp)
		echo "check-xen: $rel images built in $((t1 - t0)) s"
		bash "$xendir/run.sh" -i "$images" -o "$out" -t "${XENCHAN_XEN_TIMEOUT:-1800}" \
			-s "${XENCHAN_XEN_SCENARIO_TIMEOUT:-300}" "$@" |
			tee "$tap"
		t2=$(stamp)
		echo "check-xen: $rel QEMU run took $((t2 - t1)) s, $((t2 - t0)) s in all"
		# The emulator, told which Xen to model, against what this
		# release's libxl and qemu wrote.
		# The release's exact X.Y.Z: what xl does can change within X.Y
		# (4.20.0 drops the first channel, 4.20.1 keeps it).
		if [ -z "${XENCHAN_XEN_SCENARIOS:-}" ]; then
			xyz=$(sed -n 's/^xen \([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p' "$images/packages.txt")
			echo "# the emulator against real Xen ${xyz:-$(cat "$images/xen-version")}:"
			top_builddir=$top_builddir bash "$xendir/compare-emulator.sh" \
				-x "${xyz:-$(cat "$images/xen-version")}" "$out/xl-xenstore.txt" | tee -a "$tap"
		fi
	else
		echo "not ok - building the $rel images" >"$tap"
	fi
	passed=$(grep -c '^ok ' "$tap")
	failed=$(grep -c '^not ok ' "$tap")
	grep -q '^1\.\.' "$tap" || failed=$((failed + 1))
	# The version word is X.Y once apt resolved it, else the release.
	echo "xen-$(cat "$images/xen-version" 2>/dev/null || echo "$rel"): $passed passed, $failed failed"
	all_passed=$((all_passed + passed))
	all_failed=$((all_failed + failed))
}

for rel in $releases; do
	run_release "$rel" "$@"
done
summary "$all_passed" "$all_failed"
