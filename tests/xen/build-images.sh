#!/bin/bash
# Assemble the images that boot real Xen under QEMU for xenchan's tests:
# the hypervisor, Debian's kernel, a dom0 initramfs (busybox, xenstored,
# xenconsoled, xl, qemu's Xen device model, the scenarios) and a domU
# initramfs embedded in it.
#
# Everything comes from the packages of one Debian release, fetched with the
# machine's own apt configuration (apt-get --download-only into a private
# cache, with an empty dpkg status so the whole dependency closure is
# fetched, then dpkg-deb -x). Nothing is installed on the host. For a release
# other than the host's, apt runs with a private configuration: the host's
# sources (one-line and deb822 alike, as apt itself reads them) with the
# suite names swapped, e.g. bookworm-security becoming trixie-security, and
# private lists. The Xen version X.Y is that of the xen-utils-X.Y package
# the release's xen-system-amd64 depends on.
#
# usage: build-images.sh [-r RELEASE] [-b BINDIR | -d DEBDIR] OUTDIR
#   -r RELEASE  the Debian release of the images: bookworm (Xen 4.17, the
#               default) or trixie (Xen 4.20); also $XENCHAN_XEN_RELEASE
#   -b BINDIR   extra binaries for dom0 and the guest (xenchan's), copied to
#               /opt/xenchan/bin with the host libraries they need; also
#               taken from $XENCHAN_BINDIR; optional
#   -d DEBDIR   instead of BINDIR: DEBDIR's xenchan_*.deb, built for RELEASE,
#               unpacked into dom0 and the guest (programs in /usr/bin) with
#               the libraries its dependencies bring from RELEASE's archive
# The cache (apt lists, packages, extracted tree, base images) lives in
# $XENCHAN_XEN_CACHE/RELEASE, default $XDG_CACHE_HOME/xenchan-xen/RELEASE or
# /var/cache/xenchan-xen/RELEASE. Only the small overlay holding scenarios,
# init scripts and BINDIR is rebuilt on every run. OUTDIR gets xen, vmlinuz,
# dom0-initrd.gz, packages.txt and xen-version (X.Y).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=build-images.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }
usage() { echo "usage: $prog [-r RELEASE] [-b BINDIR | -d DEBDIR] OUTDIR" >&2; exit 2; }

bindir=${XENCHAN_BINDIR:-}
debdir=
release=${XENCHAN_XEN_RELEASE:-bookworm}
while getopts b:d:r:h opt; do
	case $opt in
	b) bindir=$OPTARG ;;
	d) debdir=$OPTARG ;;
	r) release=$OPTARG ;;
	h) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
outdir=$1
if [ -n "$bindir" ] && [ ! -d "$bindir" ]; then
	die "$bindir: not a directory"
fi
xenchan_deb=
if [ -n "$debdir" ]; then
	[ -d "$debdir" ] || die "$debdir: not a directory"
	bindir=
	set -- "$debdir"/xenchan_*.deb
	[ -f "$1" ] || die "$debdir: no xenchan_*.deb in it"
	[ $# -eq 1 ] || die "$debdir: $# xenchan_*.deb files in it, want one"
	xenchan_deb=$(cd "$(dirname "$1")" && pwd)/${1##*/}
fi
case $release in
bookworm | trixie) ;;
*) die "$release: not a release these images are built for (bookworm or trixie)" ;;
esac

if [ -n "${XENCHAN_XEN_CACHE:-}" ]; then
	cache=$XENCHAN_XEN_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	cache=$XDG_CACHE_HOME/xenchan-xen
else
	cache=/var/cache/xenchan-xen
fi
cache=$cache/$release

for tool in apt-get apt-cache dpkg-deb cpio gzip xz od; do
	command -v "$tool" >/dev/null || die "$tool is missing (install it, or run check-xen.sh as root)"
done

mkdir -p "$outdir" "$cache"
outdir=$(cd "$outdir" && pwd)
cache=$(cd "$cache" && pwd)

# Apt. The host's own release uses the host's configuration and lists; any
# other gets sources derived from the host's and lists of its own. Either
# way the dpkg status is empty and the archives and package caches private.
apt_opts=(-o Dir::State::status="$cache/apt/status"
	-o Dir::Cache::archives="$cache/debs"
	-o Dir::Cache::pkgcache="$cache/apt/pkgcache.bin"
	-o Dir::Cache::srcpkgcache="$cache/apt/srcpkgcache.bin"
	-o Debug::NoLocking=1)
mkdir -p "$cache/apt/none/partial" "$cache/debs/partial"
: >"$cache/apt/status"
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# host_sources: the host's deb sources as "URI SUITE COMPONENT" lines, read
# by apt (so /etc/apt/sources.list and both formats under sources.list.d).
host_sources() {
	apt-get indextargets --no-release-info \
		--format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' |
		awk '$1 == "deb" { print $2, $3, $4 }' | sort -u
}

# private_sources FROM TO: deb822 stanzas for the host's sources of release
# FROM (suites FROM and FROM-*), with TO in their place. Other sources (a
# vendor's repository, another release) are left out.
private_sources() {
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	host_sources | awk -v from="$1" -v to="$2" -v keyring="$keyring" '
	$2 == from || index($2, from "-") == 1 {
		suite = to substr($2, length(from) + 1)
		k = $1 " " suite
		if (k in comps) comps[k] = comps[k] " " $3
		else { order[n++] = k; comps[k] = $3 }
	}
	END {
		for (i = 0; i < n; i++) {
			split(order[i], f, " ")
			printf "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\n", f[1], f[2], comps[order[i]]
			if (system("test -r " keyring) == 0)
				printf "Signed-By: %s\n", keyring
			printf "\n"
		}
	}'
}

if [ "$release" != "$host_release" ]; then
	[ -n "$host_release" ] || die "/etc/os-release names no VERSION_CODENAME: cannot derive $release's apt sources"
	mkdir -p "$cache/apt/sources.list.d" "$cache/apt/preferences.d" "$cache/apt/lists/partial"
	private_sources "$host_release" "$release" >"$cache/apt/sources.list.d/debian.sources"
	[ -s "$cache/apt/sources.list.d/debian.sources" ] ||
		die "the host's apt sources name no suite $host_release or $host_release-*: cannot derive $release's"
	: >"$cache/apt/sources.list"
	: >"$cache/apt/preferences"
	apt_opts+=(-o Dir::Etc::sourcelist="$cache/apt/sources.list"
		-o Dir::Etc::sourceparts="$cache/apt/sources.list.d"
		-o Dir::Etc::preferences="$cache/apt/preferences"
		-o Dir::Etc::preferencesparts="$cache/apt/preferences.d"
		-o Dir::State::lists="$cache/apt/lists"
		-o APT::Default-Release=
		-o Acquire::Languages=none)
	t=$(date +%s)
	if apt-get -q "${apt_opts[@]}" update >"$cache/apt/update.log" 2>&1 &&
		! grep -q '^\(W\|E\): ' "$cache/apt/update.log"; then
		note "apt lists of $release updated in $(( $(date +%s) - t )) s"
	elif ls "$cache/apt/lists/"*_Packages* >/dev/null 2>&1; then
		note "apt-get update for $release failed; using the lists it fetched before:"
		grep '^\(W\|E\): ' "$cache/apt/update.log" >&2 || true
	else
		cat "$cache/apt/update.log" >&2
		die "apt-get update for $release failed"
	fi
fi

aptq() {
	apt-get -q -y --no-install-recommends "${apt_opts[@]}" "$@"
}

# The .deb file names apt would fetch for a set of packages, one per line.
closure() {
	aptq -o Dir::Cache::archives="$cache/apt/none" --print-uris install "$@" | sed -n "s/^'[^']*' \([^ ]*\.deb\) .*/\1/p" | sort
}

# The Xen version: xen-system-amd64 depends on xen-utils-X.Y.
xen=$(apt-cache "${apt_opts[@]}" depends xen-system-amd64 2>/dev/null |
	sed -n 's/^ *Depends: xen-utils-\([0-9][0-9.]*\)$/\1/p' | head -n 1)
[ -n "$xen" ] || die "apt-get finds no xen-system-amd64 depending on xen-utils-X.Y for $release (run apt-get update?)"
echo "$xen" >"$outdir/xen-version"

# Packages. USERLAND is extracted with its whole dependency closure into one
# tree; the hypervisor and kernel packages are extracted on their own.
# LIBVIRT: libvirtd, its libxl driver, virsh and dmidecode (libvirtd runs it
# to describe the host), for scenarios/libvirt.sh; the same package names on
# Debian 12 and 13 (mkbase.sh's libvirt_files).
LIBVIRT="libvirt-daemon-driver-xen libvirt-clients dmidecode"
USERLAND="xen-utils-$xen xenstore-utils qemu-system-xen busybox-static socat udev util-linux bash $LIBVIRT"
BOOT="xen-hypervisor-$xen-amd64 linux-image-amd64"

t0=$(date +%s)
userland_debs=$(closure $USERLAND) ||
	die "apt-get cannot resolve $USERLAND (run apt-get update?)"
boot_debs=$(closure $BOOT) || die "apt-get cannot resolve $BOOT (run apt-get update?)"
[ -n "$userland_debs" ] || die "apt-get resolved nothing for $USERLAND"
hv_deb=$(echo "$boot_debs" | grep "^xen-hypervisor-$xen-amd64_") ||
	die "no xen-hypervisor-$xen-amd64 package"
kernel_deb=$(echo "$boot_debs" | grep '^linux-image-[0-9][^_]*-amd64_') ||
	die "no linux-image package behind linux-image-amd64"
utils_deb=$(echo "$userland_debs" | grep "^xen-utils-$xen"_) || die "no xen-utils-$xen package"
hv_version=${hv_deb#*_}; hv_version=${hv_version%_*}
utils_version=${utils_deb#*_}; utils_version=${utils_version%_*}
[ "$hv_version" = "$utils_version" ] ||
	die "hypervisor $hv_version and xen-utils $utils_version differ; fix apt sources"

key=$( { echo "$release $xen"; echo "$userland_debs"; echo "$hv_deb"; echo "$kernel_deb"; cat "$0" "$here/mkbase.sh"; } |
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
	BASE=$base.tmp TREE=$tree XEN_VERSION=$xen bash "$here/mkbase.sh"
	{
		echo "release $release"
		echo "xen $hv_version"
		echo "kernel ${kernel_deb%%_*} $(echo "$kernel_deb" | cut -d_ -f2)"
		echo "$userland_debs"
	} >"$base.tmp/packages.txt"
	rm -rf "$base.tmp/hv" "$base.tmp/kernel"
	date +%s >"$base.tmp/stamp"
	mv "$base.tmp" "$base"
	note "base images built in $(( $(date +%s) - t0 )) s"
fi

# The overlay: init scripts, scenarios' helpers, guest halves and BINDIR or
# DEBDIR's package.
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

# -d: xenchan's package with its dependency closure (as apt resolves it
# for RELEASE) unpacked in a tree of its own; the package goes into a root,
# and the libraries its programs need that the base root lacks.
if [ -n "$xenchan_deb" ]; then
	note "adding ${xenchan_deb##*/} and its dependencies"
	deb_debs=$(closure "$xenchan_deb") ||
		die "apt-get cannot resolve the dependencies of ${xenchan_deb##*/}"
	# apt lists the local package itself too, as a file: URI.
	deb_debs=$(echo "$deb_debs" | grep -v '^xenchan_' || true)
	aptq --download-only install "$xenchan_deb" >"$cache/apt/download-deb.log" 2>&1 ||
		{ cat "$cache/apt/download-deb.log" >&2; die "apt-get download failed"; }
	debtree=$work/debtree
	mkdir -p "$debtree"
	for d in $deb_debs; do
		dpkg-deb -x "$cache/debs/$d" "$debtree"
	done
	dpkg-deb -x "$xenchan_deb" "$debtree"
	# The multiarch loader, a plain file in either layout: Debian 12's
	# lib64 one is an absolute link, to the host's loader from here.
	deb_loader=$debtree/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	[ -f "$deb_loader" ] && [ ! -L "$deb_loader" ] ||
		deb_loader=$debtree/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	[ -f "$deb_loader" ] && [ ! -L "$deb_loader" ] || die "no ld-linux-x86-64.so.2 in $release's libc6"
	deb_libpath=$debtree/usr/lib/x86_64-linux-gnu:$debtree/lib/x86_64-linux-gnu:$debtree/usr/lib/xen-$xen/lib/x86_64-linux-gnu
fi
add_deb() {
	local root=$1 baseroot=$base/$2 f out lib rel
	[ -n "$xenchan_deb" ] || return 0
	dpkg-deb -x "$xenchan_deb" "$root"
	for f in "$root"/usr/bin/*; do
		[ -f "$f" ] && head -c 4 "$f" | grep -q 'ELF' || continue
		out=$("$deb_loader" --library-path "$deb_libpath" --list "$f") ||
			die "${f##*/} of ${xenchan_deb##*/}: cannot list its libraries"
		if echo "$out" | grep 'not found' >&2; then
			die "${f##*/} of ${xenchan_deb##*/}: libraries not in $release's packages it depends on"
		fi
		for lib in $(echo "$out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
			case $lib in
			"$debtree"/*) ;;
			*) die "${f##*/} of ${xenchan_deb##*/}: $lib resolved outside $release's packages" ;;
			esac
			rel=usr/lib/x86_64-linux-gnu/${lib##*/}
			[ -e "$baseroot/$rel" ] || [ -e "$root/$rel" ] && continue
			mkdir -p "$root/usr/lib/x86_64-linux-gnu"
			cp -L "$lib" "$root/$rel"
		done
	done
}

# The guest half (xenchan-guest): DEBDIR's package, else the source tree's
# files where the package puts them (merged /usr: its /lib goes to usr/lib).
add_guest() {
	local root=$1 deb tmp
	if [ -n "$debdir" ] && deb=$(ls "$debdir"/xenchan-guest_*_all.deb 2>/dev/null | head -n 1) &&
		[ -n "$deb" ]; then
		note "adding ${deb##*/}"
		tmp=$work/guestdeb
		mkdir -p "$tmp"
		dpkg-deb -x "$deb" "$tmp"
		if [ -d "$tmp/lib" ]; then
			mkdir -p "$tmp/usr/lib"
			cp -a "$tmp/lib/." "$tmp/usr/lib/"
			rm -rf "$tmp/lib"
		fi
		cp -a "$tmp/." "$root/"
		rm -rf "$tmp"
	else
		install -D -m 755 "$here/../../guest/xenchan-guest-link" \
			"$root/usr/libexec/xenchan-guest/xenchan-guest-link"
		install -D -m 644 "$here/../../guest/60-xenchan-guest.rules" \
			"$root/usr/lib/udev/rules.d/60-xenchan-guest.rules"
		install -D -m 644 "$here/../../guest/guest.conf" "$root/etc/xenchan/guest.conf"
	fi
}

cp "$here/guest-init.sh" "$work/domU/init"
cp "$here"/guest/*.sh "$work/domU/guest/"
# examples/first-boot's agents: the guest's, and (below) dom0's.
cp "$here/../../examples/first-boot/guest-agent" "$work/domU/guest/first-boot-agent"
chmod 755 "$work/domU/init" "$work/domU/guest"/*.sh "$work/domU/guest/first-boot-agent"
add_bindir "$work/domU" domU-root
add_deb "$work/domU" domU-root
add_guest "$work/domU"
# The owner and mode scenarios/first-boot.sh checks on its channel's device.
printf 'org.example.firstboot.0 root root 0640\n' >>"$work/domU/etc/xenchan/guest.conf"

cp "$here/dom0-init.sh" "$work/dom0/init"
cp "$here/scenarios/lib.sh" "$work/dom0/xenchan/lib.sh"
cp "$here/../../examples/first-boot/dom0-agent" "$work/dom0/xenchan/first-boot-dom0-agent"
chmod 755 "$work/dom0/xenchan/first-boot-dom0-agent"
# What the scenarios check depends on the versions of xl and qemu: the
# upstream versions (X.Y.Z) of xen-utils and qemu-system-xen.
upstream_version() {
	local v=$1
	v=${v#*_}; v=${v%%_*}; v=${v#*%3a}; v=${v#*:}
	echo "${v%%[+~-]*}"
}
upstream_version "$utils_deb" >"$work/dom0/xenchan/xen-version"
upstream_version "$(echo "$userland_debs" | grep '^qemu-system-xen_')" >"$work/dom0/xenchan/qemu-version"
# A sanitized build of the programs under test needs the suppressions make
# check uses (a leak in libxenstore itself).
cp "$here/../lsan.supp" "$work/dom0/xenchan/lsan.supp"
chmod 755 "$work/dom0/init"
add_bindir "$work/dom0" dom0-root
add_deb "$work/dom0" dom0-root

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
