#!/bin/bash
# Build xenchan with warnings as errors and sanitizers, and run the whole test
# suite: unit tests and the bats tests on the emulated Xen host (make check),
# the Debian packages (make check-deb), then the real-Xen scenarios under QEMU
# (make check-xen).
set -euo pipefail

cd "$(dirname "$0")/.."

# took WHAT: how long the stage that just ended took (check-xen prints its own).
last=$(date +%s)
took() {
	local now
	now=$(date +%s)
	echo "test.sh: $1 took $((now - last)) s"
	last=$now
}

bash scripts/install-deps.sh
took "install-deps"

jobs=$(nproc 2>/dev/null || echo 2)

# Objects do not depend on the configured flags: when the tree was last
# built with other sanitizer settings (scripts/demo.sh builds without), start
# from clean objects.
san_flags() { grep -s '^SAN_CFLAGS =' Makefile || true; }
before=$(san_flags)

./autogen.sh
./configure --enable-werror --enable-asan --enable-ubsan
if [ -n "$before" ] && [ "$before" != "$(san_flags)" ]; then
	make clean
fi
make -j"$jobs"
took "the build"
if ! make -j"$jobs" check; then
	echo
	echo "==== test-suite.log ===="
	cat test-suite.log 2>/dev/null || true
	exit 1
fi
took "make check"
# The Debian packages of Debian 12 and 13, built and tried in clean chroots.
make check-deb
took "make check-deb"
make fuzz-run
took "make fuzz-run"
# The same scenarios against real Xen, booted under QEMU (tests/xen/README.md):
# Xen 4.17 with Debian 12 images, Xen 4.20 with Debian 13 images, each dom0
# and guest running the xenchan package built above for its release.
XENCHAN_XEN_DEBDIR=$(pwd)/out/debs make check-xen
