#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Waking: xenchan-wait's wake-up latency against a bare xenstore watch client,
# and its CPU use while idle.  Usage: tests/bench/wake.sh [N] [IDLE-SECONDS]
set -euo pipefail
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
sim=$top_builddir/tests/sim/xenchan-sim
dir=$(mktemp -d /tmp/xcb.XXXXXX)
trap '"$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$sim" start "$dir" >/dev/null
eval "$("$sim" env "$dir")"
domid=$("$sim" create waker)
"$top_builddir/tests/bench/wake" "$domid" "${1:-100}" "${2:-10}"
