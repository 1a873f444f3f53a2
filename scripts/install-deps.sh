#!/bin/bash
# Install everything xenchan's build, test suite and demo need on Debian 12
# or 13.  Run as root.  When every package is already installed it does
# nothing, so it is cheap to run before every build.
set -euo pipefail

# The Xen release whose tools (xen-utils-X.Y) go with libxen-dev: the
# installed one's, else the one apt offers (Debian 12: 4.17, Debian 13: 4.20).
xen_release() {
	local v=
	if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' libxen-dev 2>/dev/null || true)" = "ii " ]; then
		v=$(dpkg-query -W -f='${Version}' libxen-dev)
	else
		v=$(apt-cache policy libxen-dev 2>/dev/null |
			awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	fi
	printf '%s\n' "$v" | sed -n 's/^\([0-9]*:\)\{0,1\}\([0-9][0-9]*\.[0-9][0-9]*\).*/\2/p'
}

xen=$(xen_release)
if [ -z "$xen" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	# A fresh system may not have the package lists yet.
	DEBIAN_FRONTEND=noninteractive apt-get update
	xen=$(xen_release)
fi
if [ -z "$xen" ]; then
	. /etc/os-release 2>/dev/null || true
	echo "install-deps: apt offers no libxen-dev on ${PRETTY_NAME:-this system};" \
		"xenchan's scripts expect Debian 12 or 13" >&2
	exit 1
fi

packages=(
	build-essential autoconf automake pkgconf
	libxen-dev "xen-utils-$xen" xenstore-utils
	libpopt-dev libsmartcols-dev libxml2-dev
	bats bats-support bats-assert bats-file
	socat tmux ca-certificates procps psmisc bash-completion
	iproute2 # ss: the tests look at qemu's socket queue
	clang libclang-rt-dev # make fuzz-run: clang and its libFuzzer runtime
	gnuplot-nox # make bench: the throughput plot
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$status" in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present (Xen $xen)"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (sudo bash $0) or install them with apt-get" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null; then
	echo "install-deps: apt-get not found; xenchan's scripts expect Debian 12 or 13" >&2
	echo "install-deps: missing packages: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# xen-utils' postinst complains about sysfs when no hypervisor runs; the
# package still configures.
apt-get install -y --no-install-recommends "${packages[@]}"
