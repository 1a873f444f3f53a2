#!/bin/bash
# Build xenchan (without sanitizers) and run the demo on the emulated Xen host.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

# Reuse an existing build, unless it has sanitizers (scripts/test.sh builds
# with them): ASan wants its runtime first in every process, ahead of the
# emulator's LD_PRELOAD library, and a demo should run like a release build.
if [ ! -f Makefile ]; then
	./autogen.sh
	./configure
elif grep -Eq '^ENABLE_(A|UB)SAN = yes' Makefile; then
	./configure
	make clean
fi
make -j"$jobs"

if [ -f tests/sim/demo.sh ]; then
	exec bash tests/sim/demo.sh "$@"
fi
echo "demo: tests/sim/demo.sh is not there yet; the build is ready in $(pwd)" >&2
exit 1
