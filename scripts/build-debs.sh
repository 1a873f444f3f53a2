#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build xenchan's Debian packages for each RELEASE (default: bookworm trixie),
# each in a clean chroot of that release:
#
#   1. a fresh copy of a cached debootstrap --variant=buildd chroot
#      (/var/cache/xenchan-deb/RELEASE-KEY.tar.gz, made again when older than a day
#      or when the way it is made changed);
#   2. the source tree copied in (git's files: tracked and untracked, not
#      ignored), its Build-Depends installed, dpkg-buildpackage -us -uc -b run
#      as an unprivileged user, lintian run there (no error, no warning);
#   3. a second fresh copy in which the packages are installed with only their
#      own dependencies, and run once as a plain user: every command's --version
#      and --help, their man pages, and the installed xenchan-sim's demo.
#
# The releases are built in parallel; the packages land in out/debs/RELEASE/.
# Run as root.  The mirror is the one the machine's apt sources use for its
# own release, with the suite swapped.
#
# Environment: XENCHAN_DEB_CACHE (default /var/cache/xenchan-deb),
# XENCHAN_DEB_MAX_AGE (minutes a cached chroot is used, default 1440),
# DEB_BUILD_OPTIONS (passed to dpkg-buildpackage: nocheck skips the unit tests).
set -euo pipefail

prog=${0##*/}
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${XENCHAN_DEB_CACHE:-/var/cache/xenchan-deb}
max_age=${XENCHAN_DEB_MAX_AGE:-1440}
out=$top/out/debs

die() {
	echo "$prog: $*" >&2
	exit 2
}

usage() {
	echo "Usage: $prog [RELEASE...]   (default: bookworm trixie)"
	echo "Build, lint, install and try xenchan's Debian packages in a clean chroot"
	echo "of each Debian RELEASE; the packages are written to out/debs/RELEASE/."
}

case ${1-} in
-h | --help)
	usage
	exit 0
	;;
-*)
	usage >&2
	exit 2
	;;
esac
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(bookworm trixie)

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
command -v apt-get >/dev/null || die "apt-get not found: this script runs on Debian"
if ! command -v debootstrap >/dev/null; then
	echo "$prog: installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
fi
[ -d "$top/.git" ] || [ -f "$top/.git" ] || die "$top is not a git checkout: its files are copied with git ls-files"

# ---- timing ----

t0=$SECONDS
stage_start=$SECONDS
stage_name=
stage() {
	stage_end
	stage_name=$1
	stage_start=$SECONDS
	echo "==== $stage_name"
}
stage_end() {
	if [ -n "$stage_name" ]; then
		printf '==== %s: %ds\n' "$stage_name" $((SECONDS - stage_start))
		timings+=("$(printf '%-34s %4ds' "$stage_name" $((SECONDS - stage_start)))")
	fi
	stage_name=
}
timings=()

# ---- the mirror ----

# "URI SUITE COMPONENT" lines of the host's own release (suite codename,
# codename-updates, codename-security), from apt's configuration: both
# sources.list and deb822 .sources files.
host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME-}")
[ -n "$host_codename" ] || die "/etc/os-release names no VERSION_CODENAME"
mapfile -t host_sources < <(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	'Created-By: Packages' | awk -v c="$host_codename" \
	'$2 == c || index($2, c "-") == 1 { print }' | sort -u)
mirror=
for s in "${host_sources[@]}"; do
	read -r uri suite _ <<<"$s"
	if [ "$suite" = "$host_codename" ]; then
		mirror=$uri
		break
	fi
done
[ -n "$mirror" ] || die "apt's sources name no mirror for $host_codename: cannot derive one for other releases"

# The sources.list lines of RELEASE: the host's, suite names swapped.
sources_for() {
	local rel=$1 s uri suite comp
	for s in "${host_sources[@]}"; do
		read -r uri suite comp <<<"$s"
		echo "deb $uri $rel${suite#"$host_codename"} $comp"
	done | awk '{ k = $1 " " $2 " " $3; if (k in seen) seen[k] = seen[k] " " $4; else { seen[k] = $4; order[++n] = k } }
		END { for (i = 1; i <= n; i++) print order[i], seen[order[i]] }'
}

# ---- chroots ----

mkdir -p "$cache"
exec 9>"$cache/lock"
if ! flock -n 9; then
	echo "$prog: waiting for another $prog using $cache"
	flock 9
fi

roots=()

# /proc and /dev in ROOT, for apt, the builds and the emulated host's ptys;
# apt's downloads kept across chroots of the release.
mount_root() {
	local root=$1 rel=$2
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount --make-rslave "$root/dev"
	mkdir -p "$cache/archives/$rel/partial"
	mount --bind "$cache/archives/$rel" "$root/var/cache/apt/archives"
}

# Kill what still runs in ROOT and unmount what is mounted under it.
umount_root() {
	local root=$1 p m left
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	for m in $(awk -v r="$root" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	left=$(awk -v r="$root" 'index($2, r "/") == 1 { print $2 }' /proc/mounts)
	if [ -n "$left" ]; then
		echo "$prog: still mounted under $root: $left" >&2
		return 1
	fi
}

# Remove ROOT; nothing is removed while a mount remains.
destroy_root() {
	local root=$1
	if ! umount_root "$root"; then
		echo "$prog: $root left in place" >&2
		return 1
	fi
	rm -rf --one-file-system "$root"
	rm -f "$root.tar.gz"
}

# The chroots of this release's subshell (its EXIT trap).
cleanup() {
	local r
	for r in "${roots[@]}"; do
		[ -d "$r" ] && destroy_root "$r"
	done
	return 0
}

in_root() {
	local root=$1
	shift
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

# Run a bash script in ROOT as the unprivileged user "builder".
as_user() {
	local root=$1
	shift
	chroot --userspec=builder:builder "$root" /usr/bin/env -i \
		PATH=/usr/bin:/bin LC_ALL=C.UTF-8 HOME=/home/builder USER=builder \
		${DEB_BUILD_OPTIONS+DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS"} \
		/bin/bash -euo pipefail -c "$@"
}

# The cached chroot of RELEASE: RELEASE-KEY.tar.gz, KEY a hash of how it is
# made (this function and what it calls), so a changed recipe is never
# served an old chroot; made again when missing or older than max_age.
pristine_tarball() {
	local key
	key=$(declare -f pristine sources_for mount_root umount_root | sha256sum | cut -c1-12)
	echo "$cache/$1-$key.tar.gz"
}

pristine() {
	local rel=$1 tarball dir
	tarball=$(pristine_tarball "$rel")
	if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mmin -"$max_age")" ]; then
		return
	fi
	rm -f "$cache/$rel.tar.gz" "$cache/$rel"-*.tar.gz
	stage "$rel: debootstrap (cache refresh)"
	dir=$(mktemp -d "$cache/bootstrap.$rel.XXXXXX")
	roots+=("$dir")
	chmod 755 "$dir"
	# passwd (useradd) is not in every debootstrap's buildd set: trixie's
	# own debootstrap leaves it out.
	debootstrap --variant=buildd --include=passwd \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$rel" "$dir" "$mirror" >"$dir.log" 2>&1 || {
		tail -n 30 "$dir.log" >&2
		rm -f "$dir.log"
		die "debootstrap $rel failed"
	}
	rm -f "$dir.log"
	sources_for "$rel" >"$dir/etc/apt/sources.list"
	# A throwaway chroot: no fsync for every file dpkg writes.
	echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/xenchan-unsafe-io"
	printf 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n' \
		>"$dir/etc/apt/apt.conf.d/90xenchan"
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	in_root "$dir" apt-get clean
	mount_root "$dir" "$rel"
	in_root "$dir" apt-get -q update >/dev/null
	in_root "$dir" apt-get -q -y dist-upgrade >/dev/null
	# The downloads cache keeps only what the mirror still has.
	in_root "$dir" apt-get -q autoclean >/dev/null
	in_root "$dir" useradd -m -s /bin/bash builder
	umount_root "$dir"
	tar -C "$dir" --numeric-owner -czf "$dir.tar.gz" .
	mv "$dir.tar.gz" "$tarball"
	destroy_root "$dir"
}

# A fresh copy of RELEASE's chroot in $root, with /proc and /dev, downloads
# cached.
fresh_root() {
	local rel=$1
	root=$(mktemp -d "$cache/root.$rel.XXXXXX")
	roots+=("$root")
	tar -C "$root" --numeric-owner -xzf "$(pristine_tarball "$rel")"
	chmod 755 "$root"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mount_root "$root" "$rel"
}

# ---- one release ----

build_release() {
	local rel=$1 dest debs
	dest=$out/$rel

	pristine "$rel"

	stage "$rel: chroot and Build-Depends"
	fresh_root "$rel"
	mkdir -p "$root/home/builder/src"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$top" && while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done) | tar -C "$top" --null -T - -cf - | tar -C "$root/home/builder/src" -xf -
	in_root "$root" chown -R builder:builder /home/builder/src
	in_root "$root" apt-get -q update >/dev/null
	in_root "$root" sh -c 'cd /home/builder/src && apt-get -q -y build-dep ./' >/dev/null

	stage "$rel: dpkg-buildpackage"
	rm -rf "$dest"
	mkdir -p "$dest"
	as_user "$root" 'cd ~/src && dpkg-buildpackage -us -uc -b' >"$dest/build.log" 2>&1 || {
		tail -n 40 "$dest/build.log" >&2
		die "$rel: dpkg-buildpackage failed (log: $dest/build.log)"
	}
	# The unit tests' summary and what the tools warned about.
	grep -E '^# (TOTAL|PASS|FAIL|ERROR):|warning:' "$dest/build.log" || true

	stage "$rel: lintian"
	in_root "$root" apt-get -q -y install lintian >/dev/null
	as_user "$root" 'cd ~ && lintian --version && lintian -I --fail-on error,warning ./*.changes' || {
		die "$rel: lintian found problems"
	}

	cp "$root"/home/builder/*.deb "$root"/home/builder/*.changes "$root"/home/builder/*.buildinfo "$dest/"
	destroy_root "$root"

	stage "$rel: install in a fresh chroot"
	fresh_root "$rel"
	mkdir -p "$root/debs"
	cp "$dest"/*.deb "$root/debs/"
	debs=$(cd "$root/debs" && ls xenchan_*.deb xenchan-sim_*.deb xenchan-guest_*.deb |
		sed 's|^|./|' | tr '\n' ' ')
	in_root "$root" apt-get -q update >/dev/null
	# man-db for man -w, socat and xenstore-utils for the demo.
	in_root "$root" sh -c "cd /debs && apt-get -q -y install $debs man-db socat xenstore-utils" >/dev/null
	in_root "$root" dpkg-query -W xenchan xenchan-sim xenchan-guest
	# The guest half: its rule, helper, unit template and configuration
	# where udev, systemd and the rule look for them.
	in_root "$root" sh -c '
		set -e
		dpkg -L xenchan-guest | grep -E "/udev/rules.d/60-xenchan-guest.rules\$"
		dpkg -L xenchan-guest | grep -E "/systemd/system/xenchan-agent@.service\$"
		test -x /usr/libexec/xenchan-guest/xenchan-guest-link
		grep -q /usr/libexec/xenchan-guest/xenchan-guest-link "$(dpkg -L xenchan-guest | grep rules.d/)"
		test -f /etc/xenchan/guest.conf
		man -w 7 xenchan-guest
		if /usr/libexec/xenchan-guest/xenchan-guest-link frob 2>/dev/null; then exit 1; fi'

	stage "$rel: run the installed commands"
	as_user "$root" "$(cat <<-'EOF'
		echo "as $(id -un) (uid $(id -u))"
		xenchan-ls --version
		for c in xenchan-ls xenchan-wait xenchan-cat xenchan-send xenchan-registry-check xenchan-sim; do
			"$c" --help >/dev/null
			man -w "$c"
		done
		man -w 7 xenchan
		xenchan-registry-check --list-rules >/dev/null
		cd "$(mktemp -d)"
		D=$(xenchan-sim start)
		trap 'xenchan-sim stop "$D"' EXIT
		eval "$(xenchan-sim env "$D")"
		first=
		if xenchan-sim status "$D" | grep -q '^first-channel: dropped'; then
			first="--channel name=org.example.dummy,connection=pty"
		fi
		xenchan-sim create --wait $first \
			--channel "name=org.example.agent.0,connection=socket,path=$D/web01.sock" \
			--agent org.example.agent.0=echo \
			--channel "name=org.example.sink.0,connection=pty" \
			--agent "org.example.sink.0=sink:$D/sunk" web01
		xenchan-ls
		reply=$(echo hello | xenchan-cat --lines 1 --max-time 10s web01 org.example.agent.0)
		[ "$reply" = hello ] || { echo "xenchan-cat: got '$reply'" >&2; exit 1; }
		echo "xenchan-cat: $reply"
		printf 'some bytes\n' >cfg
		xenchan-send -v web01 org.example.sink.0 cfg
		# The guest's sink agent counts what it consumed (bytes, hash).
		for i in $(seq 100); do
			read -r n _ <"$D/sunk" && [ "$n" = 11 ] && break
			sleep 0.1
		done
		echo "the guest's sink: $(cat "$D/sunk")"
		[ "$n" = 11 ]
		xenchan-sim stop "$D"
		trap - EXIT
		echo "== the installed demo"
		sh /usr/share/doc/xenchan-sim/examples/demo.sh >demo.log 2>&1 || { cat demo.log; exit 1; }
		grep -x 'hello again' demo.log
		grep -x same demo.log
		grep '^configured fb1 ' demo.log
		grep '^stuck fb3 ' demo.log
	EOF
	)"
	destroy_root "$root"
	stage_end
	ls -l "$dest"
	printf '%s\n' "${timings[@]}"
}

# The releases in parallel, each in its own subshell (its own chroots, and its
# own trap to remove them), its output prefixed with its name.  Each leaves its
# pid and then its exit status in $jobs_dir.
jobs_dir=$(mktemp -d "$cache/jobs.XXXXXX")
stop_jobs() {
	local f p
	for f in "$jobs_dir"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	# What runs in our chroots, so that the jobs' traps run now.
	for p in /proc/[0-9]*; do
		case $(readlink "$p/root" 2>/dev/null) in
		"$cache"/*) kill -KILL "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	wait
	rm -rf "$jobs_dir"
}
trap 'stop_jobs; exit 130' INT TERM HUP
for rel in "${releases[@]}"; do
	{
		# Not "( ... ) && st=0 || st=$?": set -e is off inside a command
		# whose status && or || tests, and a failing step would go on.
		set +e
		(
			set -e
			echo "$BASHPID" >"$jobs_dir/$rel.pid"
			trap cleanup EXIT
			trap 'exit 130' INT TERM HUP
			build_release "$rel"
		) 2>&1
		st=$?
		echo "$st" >"$jobs_dir/$rel.status"
		rm -f "$jobs_dir/$rel.pid"
	} | sed -u "s/^/[$rel] /" &
done
wait
trap - INT TERM HUP
failed=()
for rel in "${releases[@]}"; do
	[ "$(cat "$jobs_dir/$rel.status" 2>/dev/null)" = 0 ] || failed+=("$rel")
done
rm -rf "$jobs_dir"
printf '==== all releases: %ds\n' $((SECONDS - t0))
if [ ${#failed[@]} -gt 0 ]; then
	echo "$prog: failed: ${failed[*]}" >&2
	exit 1
fi
echo "$prog: packages in $out: ${releases[*]}"
