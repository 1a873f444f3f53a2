#!/bin/bash
# Assemble the images that boot real Xen under QEMU for xenchan's tests:
# the hypervisor, Debian's kernel, a dom0 initramfs (busybox, xenstored,
# xenconsoled, xl, qemu's Xen device model, the scenarios) and a domU
# initramfs embedded in it.
#
# Everything comes from Debian 12 packages, fetched with the machine's own apt
# configuration (apt-get --download-only into a private cache, with an empty
# dpkg status so the whole dependency closure is fetched, then dpkg-deb -x).
# Nothing is installed on the host.
#
# usage: build-images.sh [-b BINDIR] OUTDIR
#   -b BINDIR   extra binaries for dom0 and the guest (xenchan's), also taken
#               from $XENCHAN_BINDIR; optional
# The cache (packages, extracted tree, base images) lives in $XENCHAN_XEN_CACHE,
# default $XDG_CACHE_HOME/xenchan-xen or /var/cache/xenchan-xen. Only the small
# overlay holding scenarios, init scripts and BINDIR is rebuilt on every run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=build-images.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

bindir=${XENCHAN_BINDIR:-}
while getopts b:h opt; do
	case $opt in
	b) bindir=$OPTARG ;;
	h) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $prog [-b BINDIR] OUTDIR" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $prog [-b BINDIR] OUTDIR" >&2; exit 2; }
outdir=$1
if [ -n "$bindir" ] && [ ! -d "$bindir" ]; then
	die "$bindir: not a directory"
fi

if [ -n "${XENCHAN_XEN_CACHE:-}" ]; then
	cache=$XENCHAN_XEN_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	cache=$XDG_CACHE_HOME/xenchan-xen
else
	cache=/var/cache/xenchan-xen
fi

for tool in apt-get dpkg-deb cpio gzip xz od; do
	command -v "$tool" >/dev/null || die "$tool is missing (install it, or run check-xen.sh as root)"
done

mkdir -p "$outdir" "$cache"
outdir=$(cd "$outdir" && pwd)
cache=$(cd "$cache" && pwd)

# Packages. USERLAND is extracted with its whole dependency closure into one
# tree; the hypervisor and kernel packages are extracted on their own.
# LIBVIRT: libvirtd, its libxl driver, virsh and dmidecode (libvirtd runs it
# to describe the host), for scenarios/libvirt.sh; the same package names on
# Debian 12 and 13 (mkbase.sh's libvirt_files).
LIBVIRT="libvirt-daemon-driver-xen libvirt-clients dmidecode"
USERLAND="xen-utils-4.17 xenstore-utils qemu-system-xen busybox-static socat $LIBVIRT"
BOOT="xen-hypervisor-4.17-amd64 linux-image-amd64"

aptq() {
	apt-get -q -y --no-install-recommends \
		-o Dir::State::status="$cache/apt/status" \
		-o Dir::Cache::archives="$cache/debs" \
		-o Debug::NoLocking=1 "$@"
}

# The .deb file names apt would fetch for a set of packages, one per line.
closure() {
	aptq -o Dir::Cache::archives="$cache/apt/none" --print-uris install "$@" | sed -n "s/^'[^']*' \([^ ]*\.deb\) .*/\1/p" | sort
}

mkdir -p "$cache/apt/none/partial" "$cache/debs/partial"
: >"$cache/apt/status"
t0=$(date +%s)
userland_debs=$(closure $USERLAND) ||
	die "apt-get cannot resolve $USERLAND (run apt-get update?)"
boot_debs=$(closure $BOOT) || die "apt-get cannot resolve $BOOT (run apt-get update?)"
[ -n "$userland_debs" ] || die "apt-get resolved nothing for $USERLAND"
hv_deb=$(echo "$boot_debs" | grep '^xen-hypervisor-4\.17-amd64_') ||
	die "no xen-hypervisor-4.17-amd64 package"
kernel_deb=$(echo "$boot_debs" | grep '^linux-image-[0-9][^_]*-amd64_') ||
	die "no linux-image package behind linux-image-amd64"
utils_deb=$(echo "$userland_debs" | grep '^xen-utils-4\.17_') || die "no xen-utils-4.17 package"
hv_version=${hv_deb#*_}; hv_version=${hv_version%_*}
utils_version=${utils_deb#*_}; utils_version=${utils_version%_*}
[ "$hv_version" = "$utils_version" ] ||
	die "hypervisor $hv_version and xen-utils $utils_version differ; fix apt sources"

key=$( { echo "$userland_debs"; echo "$hv_deb"; echo "$kernel_deb"; cat "$0" "$here/mkbase.sh"; } |
	sha256sum | cut -c1-16)
base=$cache/base-$key

if [ -f "$base/stamp" ]; then
	note "using cached base images in $base"
else
	note "fetching packages into $cache/debs"
	aptq --download-only install $USERLAND $BOOT >"$cache/apt/download.log" 2>&1 ||
		{ cat "$cache/apt/download.log" >&2; die "apt-get download failed"; }
	rm -rf "$cache"/base-* "$cache/tree"
	tree=$cache/tree
	mkdir -p "$tree" "$base.tmp"
	note "extracting $(echo "$userland_debs" | wc -l) packages"
	for deb in $userland_debs; do
		dpkg-deb -x "$cache/debs/$deb" "$tree"
	done
	mkdir -p "$base.tmp/hv" "$base.tmp/kernel"
	dpkg-deb -x "$cache/debs/$hv_deb" "$base.tmp/hv"
	dpkg-deb -x "$cache/debs/$kernel_deb" "$base.tmp/kernel"
	BASE=$base.tmp TREE=$tree bash "$here/mkbase.sh"
	{
		echo "xen $hv_version"
		echo "kernel ${kernel_deb%%_*} $(echo "$kernel_deb" | cut -d_ -f2)"
		echo "$userland_debs"
	} >"$base.tmp/packages.txt"
	rm -rf "$base.tmp/hv" "$base.tmp/kernel"
	date +%s >"$base.tmp/stamp"
	mv "$base.tmp" "$base"
	note "base images built in $(( $(date +%s) - t0 )) s"
fi

# The overlay: init scripts, scenarios' helpers, guest halves and BINDIR.
t1=$(date +%s)
work=$outdir/work
rm -rf "$work"
mkdir -p "$work/domU/guest" "$work/dom0/xenchan" "$work/dom0/boot"

# Copy BINDIR's programs, and the host libraries they need that the base
# root lacks (both roots use the merged-/usr layout: /lib is usr/lib).
add_bindir() {
	local root=$1 baseroot=$base/$2 f lib rel
	[ -n "$bindir" ] || return 0
	mkdir -p "$root/opt/xenchan/bin"
	for f in "$bindir"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		cp -L "$f" "$root/opt/xenchan/bin/"
		head -c 4 "$f" | grep -q 'ELF' || continue
		if ldd "$f" | grep 'not found' >&2; then
			die "$f: libraries not found"
		fi
		for lib in $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
			rel=usr/lib/x86_64-linux-gnu/${lib##*/}
			[ -e "$baseroot/$rel" ] || [ -e "$root/$rel" ] && continue
			mkdir -p "$root/usr/lib/x86_64-linux-gnu"
			cp -L "$lib" "$root/$rel"
		done
	done
	return 0
}

cp "$here/guest-init.sh" "$work/domU/init"
cp "$here"/guest/*.sh "$work/domU/guest/"
chmod 755 "$work/domU/init" "$work/domU/guest"/*.sh
add_bindir "$work/domU" domU-root

cp "$here/dom0-init.sh" "$work/dom0/init"
cp "$here/scenarios/lib.sh" "$work/dom0/xenchan/lib.sh"
# A sanitized build of the programs under test needs the suppressions make
# check uses (a leak in libxenstore itself).
cp "$here/../lsan.supp" "$work/dom0/xenchan/lsan.supp"
chmod 755 "$work/dom0/init"
add_bindir "$work/dom0" dom0-root

mkcpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6); }

cp "$base/domU-vmlinux.gz" "$work/dom0/boot/domU-vmlinux.gz"
# One gzip stream for the guest: libxenguest gunzips a PV ramdisk itself and
# keeps only the first member of a concatenation (the kernel's own unpacker,
# which dom0's image goes through, reads them all).  Two cpio archives in one
# stream are fine for the kernel.
{
	zcat "$base/domU-base.cpio.gz"
	(cd "$work/domU" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
} | gzip -6 >"$work/dom0/boot/domU-initrd.gz"
{ cat "$base/dom0-base.cpio.gz"; mkcpio "$work/dom0"; } >"$outdir/dom0-initrd.gz.tmp"
mv "$outdir/dom0-initrd.gz.tmp" "$outdir/dom0-initrd.gz"
cp "$base/xen" "$outdir/xen"
cp "$base/vmlinuz" "$outdir/vmlinuz"
cp "$base/packages.txt" "$outdir/packages.txt"
rm -rf "$work"
note "overlay built in $(( $(date +%s) - t1 )) s; images in $outdir"
