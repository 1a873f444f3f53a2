#!/bin/bash
# Install everything xenchan's build, test suite and demo need on Debian 12.
# Run as root.  When every package is already installed it does nothing, so
# it is cheap to run before every build.
set -euo pipefail

packages=(
	build-essential autoconf automake pkgconf
	libxen-dev xen-utils-4.17 xenstore-utils
	libpopt-dev libsmartcols-dev libxml2-dev
	bats bats-support bats-assert bats-file
	socat tmux ca-certificates procps psmisc bash-completion
	iproute2 # ss: the tests look at qemu's socket queue
	clang libclang-rt-dev # make fuzz-run: clang and its libFuzzer runtime
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
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (sudo bash $0) or install them with apt-get" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null; then
	echo "install-deps: apt-get not found; xenchan's scripts expect Debian 12" >&2
	echo "install-deps: missing packages: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# xen-utils' postinst complains about sysfs when no hypervisor runs; the
# package still configures.
apt-get install -y --no-install-recommends "${packages[@]}"
