#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A tour of the emulated Xen host: two guests with channels, the xenstore nodes
# libxl would write for them, and bytes through a socket and a pty channel.
#
# Run from the build tree: tests/sim/demo.sh (or with top_builddir set); with
# the xenchan-sim package installed: sh /usr/share/doc/xenchan-sim/examples/demo.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${top_builddir:-}" ]; then
	bin=$top_builddir/tests/sim
else
	bin=$here
fi
sim=$bin/xenchan-sim
# The xenchan commands, from the same build tree.
PATH=$bin/../../cmd:$PATH
# Outside a build tree: the installed xenchan-sim and commands.
if [ ! -x "$sim" ] && [ -z "${top_builddir:-}" ] && command -v xenchan-sim >/dev/null; then
	sim=$(command -v xenchan-sim)
fi
if [ ! -x "$sim" ]; then
	echo "demo.sh: $sim not found: build first (make)" >&2
	exit 2
fi
T=20

# Show a command, then run it.
run() {
	echo "\$ $*"
	timeout "$T" "$@"
}

echo "# Start an emulated host: the hypervisor daemon and the real xenstored."
dir=$(env -u XENCHAN_SIM_DIR -u LD_PRELOAD timeout "$T" "$sim" start)
trap 'timeout "$T" "$sim" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
echo "# It lives in $dir; enter it as dom0:"
echo "\$ eval \"\$(xenchan-sim env $dir)\""
eval "$("$sim" env "$dir")"
echo

run xenchan-sim status
# Where xl drops the first channel entry, configs carry a placeholder first.
first=
if "$sim" status "$dir" | grep -q '^first-channel: dropped'; then
	echo "# This xl drops the first channel entry: each domain gets a placeholder first."
	first="--channel name=org.example.dummy,connection=pty"
fi
echo

echo "# web01: a socket channel; the guest's agent echoes what it receives."
# shellcheck disable=SC2086 # $first is two words or none
run xenchan-sim create --wait $first \
	--channel "name=org.example.agent.0,connection=socket,path=$dir/web01.sock" \
	--agent org.example.agent.0=echo \
	--channel "name=org.example.sink.0,connection=socket,path=$dir/web01-sink.sock" \
	--agent "org.example.sink.0=sink:$dir/sunk" web01
echo "# db01: a pty channel, also with an echo agent."
# shellcheck disable=SC2086
run xenchan-sim create --wait $first \
	--channel "name=org.example.agent.0,connection=pty" db01
run xenchan-sim list
echo

echo "# The nodes libxl writes: the guest's frontend (read-only keys owned by dom0),"
run xenstore-ls -fp /local/domain/1/device/console
echo "# dom0's backend (qemu's) and the trusted copy under /libxl:"
run xenstore-ls -f /local/domain/0/backend/console/1/1
run xenstore-ls -f /libxl/1/device/console/1
echo "# For a pty channel, qemu writes the pty's path into the frontend tty key:"
run xenstore-read /local/domain/2/device/console/1/tty
echo

echo "# What xenchan-ls sees: names from the trusted copy, states, endpoints."
run xenchan-ls
echo "# Wait until a channel is ready (returns at once here) and print its endpoint:"
run xenchan-wait -t 5s -p web01 org.example.agent.0
echo

echo "# A line through web01's socket channel and back:"
echo "\$ echo 'hello web01' | socat -t 1 - UNIX-CONNECT:$dir/web01.sock,shut-none"
echo 'hello web01' | timeout "$T" socat -t 1 - "UNIX-CONNECT:$dir/web01.sock,shut-none"
tty=$(timeout "$T" xenstore-read /local/domain/2/device/console/1/tty)
echo "# A line through db01's pty channel and back:"
echo "\$ echo 'hello db01' | socat -t 1 - $tty,raw,echo=0"
echo 'hello db01' | timeout "$T" socat -t 1 - "$tty,raw,echo=0"
echo

echo "# The same with xenchan-cat: it delivers stdin, then prints replies until the"
echo "# guest has been quiet for a second (-Q).  A lock keeps a second user out"
echo "# (xenchan-sim env put the lock files in the host's directory: XENCHAN_RUNDIR)."
echo "\$ echo 'hello again' | xenchan-cat web01 org.example.agent.0"
echo 'hello again' | timeout "$T" xenchan-cat web01 org.example.agent.0
echo "\$ echo 'hello pty' | xenchan-cat -v db01 org.example.agent.0"
echo 'hello pty' | timeout "$T" xenchan-cat -v db01 org.example.agent.0
echo "# Send a configuration to web01's sink agent, which counts and checksums it:"
printf '{"role": "web", "workers": 4}\n' >"$dir/cfg.json"
run xenchan-send -v web01 org.example.sink.0 "$dir/cfg.json"
sleep 0.2
echo "\$ cat $dir/sunk   # bytes and FNV-1a 64 as the guest saw them"
cat "$dir/sunk"
echo "# The same send, large: the guest also serves a vchan endpoint for that name,"
echo "# and a 50 MB file is more than a console ring carries in ten seconds, so"
echo "# xenchan-send picks vchan by itself (-v says why)."
echo "\$ xenchan-sim exec -D web01 -- xenchan-cat -l -T vchan 0 org.example.sink.0 >big.out &"
# Bounded (it ends when its client does): generously, as on a loaded machine
# the send may start late (T, from the server's start, cut a CI run short).
timeout $((T * 6)) "$sim" exec -D "$("$sim" list | awk '$2 == "web01" { print $1 }')" -- \
	xenchan-cat -l -T vchan -Q never -t 10s 0 org.example.sink.0 >"$dir/big.out" &
vpid=$!
until xenchan-ls -rn -o TRANSPORT,STATE -c org.example.sink.0 web01 | grep -q '^vchan published'; do
	sleep 0.05
done
head -c 50000000 /dev/urandom >"$dir/big.bin"
run xenchan-ls -c org.example.sink.0 web01
run xenchan-send -v web01 org.example.sink.0 "$dir/big.bin"
kill "$vpid" 2>/dev/null || true
wait "$vpid" 2>/dev/null || true
echo "\$ cmp big.bin big.out && echo same"
cmp "$dir/big.bin" "$dir/big.out" && echo same
echo

echo "# Destroying a domain removes its nodes (xenstored fires @releaseDomain):"
run xenchan-sim destroy web01
run xenchan-sim destroy db01
run xenchan-sim list
echo

echo "# The first-boot flow of examples/first-boot: a dom0 agent waits with"
echo "# xenchan-ls --poll for each guest whose org.example.firstboot.0 connects,"
echo "# handshakes, sends the guest's configuration with xenchan-send and waits for"
echo "# the guest agent's acknowledgement.  Three guests start at once; the third"
echo "# has no agent that answers, and holds up neither of the others."
top=${top_builddir:-$(cd "$here/../.." && pwd)}
ex=$top/examples/first-boot
[ -x "$ex/dom0-agent" ] || ex=/usr/share/doc/xenchan/examples/first-boot
fbc=org.example.firstboot.0
mkdir -p "$dir/first-boot"
for g in fb1 fb2 fb3; do
	printf 'hostname=%s\n' "$g" >"$dir/first-boot/$g.cfg"
done
echo "\$ examples/first-boot/dom0-agent -d first-boot -t 3 -n 3 &"
timeout "$T" bash "$ex/dom0-agent" -d "$dir/first-boot" -t 3 -n 3 &
apid=$!
for g in fb1 fb2 fb3; do
	agent="cmd:sh $ex/guest-agent - $dir/$g.applied" shown="cmd:'guest-agent - $g.applied'"
	[ $g = fb3 ] && agent=stall shown=stall
	echo "\$ xenchan-sim create --channel name=$fbc,connection=socket,path=$g.sock --agent $fbc=$shown $g &"
	# shellcheck disable=SC2086
	timeout "$T" "$sim" create $first --channel "name=$fbc,connection=socket,path=$dir/$g.sock" \
		--agent "$fbc=$agent" $g >/dev/null 2>&1 &
done
wait "$apid" || true
wait
echo "\$ cat fb1.applied   # what the guest agent of fb1 wrote"
cat "$dir/fb1.applied"
for g in fb1 fb2 fb3; do
	timeout "$T" "$sim" destroy "$g" >/dev/null
done
echo

echo "# Lint domain configs before starting them: a socket path used twice and a"
echo "# misspelt channel name, checked against a registry of the names in use."
check=$top/cmd/xenchan-registry-check
[ -x "$check" ] || check=$(command -v xenchan-registry-check) || {
	echo "demo.sh: xenchan-registry-check not found" >&2
	exit 2
}
cat >"$dir/demo.registry" <<-'EOF_REG'
	N: org.example.agent.0
	C: Example Ops <ops@example.org>
	D: the demo's echo agent
EOF_REG
# The configs are for this host's xl: the placeholder first entry only where
# it drops the first channel, as registry-check (which reads the same
# installed Xen's version) expects.
placeholder=
[ -z "$first" ] || placeholder='"connection=pty, name=org.example.dummy", '
cat >"$dir/web01.cfg" <<-EOF_CFG
	name = "web01"
	channel = [ $placeholder"connection=socket, name=org.example.agent.0, path=$dir/web01.sock" ]
EOF_CFG
cat >"$dir/db01.cfg" <<-EOF_CFG
	name = "db01"
	channel = [ $placeholder"connection=socket, name=org.exmaple.agent.0, path=$dir/web01.sock" ]
EOF_CFG
echo "\$ xenchan-registry-check --no-default-registry -r demo.registry web01.cfg db01.cfg"
(cd "$dir" && timeout "$T" "$check" --no-default-registry -r demo.registry \
	web01.cfg db01.cfg 2>&1 | grep -v name-vchan-port) || true
echo

echo "# Stop the host."
run xenchan-sim stop "$dir"
