#!/bin/bash
# Build the cached part of the images; called by build-images.sh with
#   TREE         the extracted userland packages (xen-utils, qemu-system-xen, ...)
#   BASE         the output directory, holding hv/ and kernel/ (extracted packages)
#   XEN_VERSION  X.Y of the xen-utils-X.Y and xen-hypervisor-X.Y-amd64 packages
# Writes BASE/xen, BASE/vmlinuz, BASE/domU-vmlinux.gz, BASE/dom0-root/,
# BASE/domU-root/ and their BASE/dom0-base.cpio.gz, BASE/domU-base.cpio.gz.
# Both the split-/usr tree of Debian 12 and the merged-/usr one of Debian 13
# are read; the roots written are merged-/usr.
set -euo pipefail

prog=mkbase.sh
die() { echo "$prog: $*" >&2; exit 1; }
: "${TREE:?}" "${BASE:?}" "${XEN_VERSION:?}"

multiarch=usr/lib/x86_64-linux-gnu
xenlib=usr/lib/xen-$XEN_VERSION
# tree_path PATH...: the first of PATH (relative) present in the tree.
tree_path() {
	local p
	for p; do
		if [ -e "$TREE/$p" ]; then
			echo "$p"
			return 0
		fi
	done
	die "none of $* in the tree"
}
# tree_real PATH: the tree's file at PATH (relative), its symbolic links
# followed inside the tree: Debian 12's /lib64/ld-linux-x86-64.so.2 is an
# absolute link, which cp -L would follow to the host's own loader.
tree_real() {
	local p=$1 t n=0
	while [ -L "$TREE/$p" ]; do
		t=$(readlink "$TREE/$p")
		case $t in
		/*) p=${t#/} ;;
		*) p=$(dirname "$p")/$t ;;
		esac
		n=$((n + 1))
		[ $n -le 40 ] || die "$1: too many levels of symbolic links in the tree"
	done
	[ -f "$TREE/$p" ] || die "$1: not a file in the tree (resolved to $p)"
	echo "$TREE/$p"
}
# The loader is a plain file in the multiarch directory of either layout.
loader=$(tree_real "$(tree_path $multiarch/ld-linux-x86-64.so.2 lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)")
busybox=$(tree_path usr/bin/busybox bin/busybox)
libpath=$TREE/$multiarch:$TREE/lib/x86_64-linux-gnu:$TREE/$xenlib/lib:$TREE/$xenlib/lib/x86_64-linux-gnu
# systemd-udevd's own library (found through its RUNPATH on a system).
libpath=$libpath:$TREE/$multiarch/systemd:$TREE/lib/x86_64-linux-gnu/systemd
[ -d "$TREE/$xenlib/bin" ] || die "no $xenlib/bin in the tree"

# The hypervisor: a multiboot ELF that QEMU loads with -kernel.
gunzip -c "$BASE/hv/boot/xen-$XEN_VERSION-amd64.gz" >"$BASE/xen"

# The kernel: the bzImage for dom0 (Xen decompresses it natively) and, for
# the domU, its payload as a gzipped vmlinux: libxenguest's xz and zstd
# decoders are slow under emulation. The payload starts at
# (setup_sects + 1) * 512 + payload_offset and is payload_length bytes long,
# the last 4 of them the decompressed size; its format is told by its magic.
vmlinuz=$(ls "$BASE"/kernel/boot/vmlinuz-*)
kver=${vmlinuz##*/vmlinuz-}
cp "$vmlinuz" "$BASE/vmlinuz"
le32() { od -An -tu4 -j "$1" -N4 "$vmlinuz" | tr -d ' '; }
setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz" | tr -d ' ')
start=$(( (setup_sects + 1) * 512 + $(le32 $((0x248))) ))
length=$(le32 $((0x24c)))
magic=$(od -An -tx1 -j "$start" -N6 "$vmlinuz" | tr -d ' ')
case $magic in
fd377a585a00) unpack="xz -dc --single-stream" ;;
28b52ffd*)
	command -v zstd >/dev/null || die "zstd is missing: $vmlinuz has a zstd payload"
	unpack="zstd -dcq"
	;;
*) die "$vmlinuz: payload at offset $start is neither xz nor zstd (magic $magic)" ;;
esac
dd if="$vmlinuz" of="$BASE/payload" bs=64K iflag=skip_bytes,count_bytes skip="$start" \
	count=$((length - 4)) status=none
$unpack <"$BASE/payload" >"$BASE/vmlinux" || die "$vmlinuz: cannot decompress its payload"
[ "$(head -c 4 "$BASE/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
	die "$vmlinuz: the payload is not an ELF file"
gzip -6 <"$BASE/vmlinux" >"$BASE/domU-vmlinux.gz"
rm -f "$BASE/payload" "$BASE/vmlinux"
modules=$BASE/kernel/lib/modules/$kver
[ -d "$modules" ] || modules=$BASE/kernel/usr/lib/modules/$kver
[ -d "$modules" ] || die "no modules directory for $kver"

# Where a file of the tree goes in a root: merged /usr, libraries flattened
# into the multiarch directory.
dest() {
	case $1 in
	bin/* | sbin/* | lib/* | lib64/*) echo "usr/$1" ;;
	*) echo "$1" ;;
	esac
}

# Copy the libraries a dynamic ELF file needs, as the tree's loader resolves
# them: programs (they name the loader) and shared objects (*.so: a plugin a
# program loads, which names no loader).
copy_libs() {
	local root=$1 file=$2 out lib
	case $file in
	*.so) ;;
	*) head -c 4096 "$file" | grep -qa 'ld-linux-x86-64' || return 0 ;;
	esac
	out=$("$loader" --library-path "$libpath" --list "$file") ||
		die "$file: cannot list libraries"
	if echo "$out" | grep 'not found' >&2; then
		die "$file: libraries missing from the tree"
	fi
	for lib in $(echo "$out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		case $lib in
		"$TREE"/*) ;;
		*) die "$file: $lib resolved outside the tree" ;;
		esac
		[ -e "$root/$multiarch/${lib##*/}" ] && continue
		cp "$(tree_real "${lib#"$TREE"/}")" "$root/$multiarch/${lib##*/}"
	done
}

# copy ROOT PATH...: files of the tree (relative paths) with their libraries.
copy() {
	local root=$1 f d
	shift
	for f; do
		[ -e "$TREE/$f" ] || die "$f: not in the tree"
		d=$(dest "$f")
		mkdir -p "$root/$(dirname "$d")"
		rm -f "$root/$d"
		cp "$(tree_real "$f")" "$root/$d"
		copy_libs "$root" "$TREE/$f"
	done
}

# Kernel modules with their dependencies (from the depends= field of .modinfo),
# in load order, listed in lib/modules/xen/order.
copy_modules() {
	local root=$1 m
	shift
	mkdir -p "$root/usr/lib/modules/xen"
	: >"$root/usr/lib/modules/xen/order"
	for m; do
		add_module "$root" "$m"
	done
}

# A module compressed by the kernel's build (Debian 13: .ko.xz) is copied
# decompressed: busybox insmod loads plain ELF objects only.
add_module() {
	local root=$1 name=$2 ko deps dep out=$1/usr/lib/modules/xen/$2.ko
	grep -qx "$name.ko" "$root/usr/lib/modules/xen/order" && return 0
	ko=$(find "$modules" \( -name "$name.ko*" -o -name "${name//-/_}.ko*" \) \
		-regex '.*\.ko\(\.xz\|\.zst\)?' | head -1)
	[ -n "$ko" ] || die "module $name not found in $kver"
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$out" ;;
	*.ko.zst) zstd -dcq "$ko" >"$out" ;;
	*) cp "$ko" "$out" ;;
	esac
	deps=$(tr '\0' '\n' <"$out" | sed -n 's/^depends=//p' | head -1)
	for dep in ${deps//,/ }; do
		add_module "$root" "$dep"
	done
	echo "$name.ko" >>"$root/usr/lib/modules/xen/order"
}

skeleton() {
	local root=$1 applet
	rm -rf "$root"
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib64,$multiarch,dev,proc,sys,tmp,run,etc,var,root}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	ln -s ../run "$root/var/run"
	ln -s ../run/lock "$root/var/lock"
	cp "$loader" "$root/usr/lib64/ld-linux-x86-64.so.2"
	cp "$TREE/$busybox" "$root/usr/bin/busybox"
	for applet in $("$TREE/$busybox" --list); do
		[ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
}

xenstore_tools() {
	local root=$1 t
	copy "$root" usr/bin/xenstore
	for t in chmod control exists list ls read rm watch write; do
		ln -sf xenstore "$root/usr/bin/xenstore-$t"
	done
}

# libvirt's libxl driver, for scenarios/libvirt.sh: libvirtd (Debian 12 has no
# modular virtxend, and libvirtd needs neither systemd nor dbus), the driver it
# loads from its module directory, virsh, dmidecode, the CPU models the driver
# matches the host's CPU with, and a configuration for a dom0 with no polkit
# and no network: only root's unix socket, no authentication on it.
#
# The driver does not start on a host whose CPU features cover none of
# libvirt's CPU models. Every real x86-64 CPU covers several, but the one
# QEMU emulates here does not: TCG has no vme (every model from 486 on has
# it, or sep), and Xen hides sep on this AMD-vendor CPU in 64-bit mode. So
# the image's cpu_map gains one model of features every x86-64 CPU has.
libvirt_files() {
	local root=$1 drv=usr/lib/x86_64-linux-gnu/libvirt/connection-driver f
	local map=$root/usr/share/libvirt/cpu_map
	copy "$root" usr/sbin/libvirtd usr/bin/virsh $drv/libvirt_driver_libxl.so usr/sbin/dmidecode
	mkdir -p "$root/usr/share/libvirt" "$root/etc/libvirt" "$root/var/lib/libvirt/libxl" \
		"$root/var/log/libvirt/libxl"
	cp -r "$TREE/usr/share/libvirt/cpu_map" "$root/usr/share/libvirt/"
	{
		echo "<cpus>"
		echo "  <model name='xenchan-x86-64'>"
		echo "    <decode host='on' guest='off'/>"
		for f in apic clflush cmov cx8 de fpu fxsr lm mca mce mmx msr mtrr nx pae \
			pat pge pse pse36 sse sse2 syscall tsc; do
			echo "    <feature name='$f'/>"
		done
		echo "  </model>"
		echo "</cpus>"
	} >"$map/x86_xenchan-x86-64.xml"
	sed -i "s|^\( *\)<include filename='x86_features.xml'/>|&\n\1<include filename='x86_xenchan-x86-64.xml'/>|" \
		"$map/index.xml"
	grep -q "x86_xenchan-x86-64.xml" "$map/index.xml" ||
		die "$map/index.xml: no x86_features.xml include to add a model after"
	cat >"$root/etc/libvirt/libvirtd.conf" <<-'EOF'
	# libvirtd in xenchan's test dom0 (tests/xen/mkbase.sh)
	auth_unix_ro = "none"
	auth_unix_rw = "none"
	log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
	EOF
	cat >"$root/etc/libvirt/libxl.conf" <<-'EOF'
	# dom0's memory is fixed on Xen's command line: never balloon it.
	autoballoon = 0
	EOF
}

xenmods="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs"

# dom0: the toolstack and qemu's Xen device model.
r=$BASE/dom0-root
skeleton "$r"
copy "$r" $xenlib/bin/xenstored $xenlib/bin/xenconsoled $xenlib/bin/xl \
	$xenlib/bin/xen-init-dom0 $xenlib/bin/xenconsole $xenlib/bin/libxl-save-helper \
	$xenlib/bin/vchan-socket-proxy usr/libexec/xen-qemu-system-i386 usr/bin/socat
# bash, for examples/first-boot's dom0 agent.
copy "$r" "$(tree_path usr/bin/bash bin/bash)"
xenstore_tools "$r"
mkdir -p "$r/usr/share/qemu"
cp -r "$TREE/usr/share/qemu/keymaps" "$r/usr/share/qemu/"
cp -r "$TREE/etc/xen" "$r/etc/"
mkdir -p "$r/var/lib/xen" "$r/var/log/xen/console"
# unix_diag: sock_diag for unix sockets, how xenchan proves qemu accepted it.
copy_modules "$r" $xenmods unix_diag
libvirt_files "$r"

# domU: the guest halves of the scenarios.
r=$BASE/domU-root
skeleton "$r"
copy "$r" $xenlib/bin/vchan-socket-proxy usr/bin/socat
xenstore_tools "$r"
copy_modules "$r" $xenmods
# systemd-udevd and udevadm, as Debian's initramfs has them, to run
# xenchan-guest's rule as users install it (guest-init.sh starts them), and
# util-linux's flock, which its helper takes (busybox has none). No rules
# but those a scenario installs: devtmpfs makes the device nodes.
copy "$r" "$(tree_path usr/lib/systemd/systemd-udevd lib/systemd/systemd-udevd)" \
	"$(tree_path usr/bin/udevadm bin/udevadm)" "$(tree_path usr/bin/flock bin/flock)"
mkdir -p "$r/usr/lib/udev/rules.d" "$r/etc/udev/rules.d" "$r/run/udev"

for r in dom0 domU; do
	(cd "$BASE/$r-root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet |
		gzip -6) >"$BASE/$r-base.cpio.gz"
done
