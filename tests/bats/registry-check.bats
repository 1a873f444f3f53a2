#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# xenchan-registry-check: registries, xl configs, libvirt XML and live domains.

load helpers
sim_host_per_file

D=$top_srcdir/tests/data/registry
# Made-up systems whose Xen tools the configs are checked for (README.md
# there).  Unless a test says otherwise: Debian 12's Xen 4.17.5, whose xl
# drops the first channel entry, and never the Xen of the machine running
# the tests.
X=$top_srcdir/tests/data/xen
export XENCHAN_SYSROOT=$X/debian12

rc_() {
	timeout "$T" xenchan-registry-check "$@"
}

# Hermetic: only the registries a test names.
chk() {
	rc_ --no-default-registry "$@"
}

# The same, standard output only (the summary goes to standard error).
chk_out() {
	chk "$@" 2>/dev/null
}

@test "a clean config against a clean registry: exit 0, a summary" {
	run chk -q -r "$D/good.registry" "$D/good.cfg"
	assert_success
	assert_output ''
	run chk -r "$D/good.registry" "$D/good.cfg"
	assert_success
	assert_output --partial '0 errors, 0 warnings, 0 notes'
	refute_output --partial 'name-vchan-port'
}

@test "a typo is a near miss, with file:line:col and the suggestion" {
	run chk -r "$D/good.registry" "$D/typo.cfg"
	assert_success
	assert_line --partial "typo.cfg:3:38: warning: channel name 'org.exmaple.agent.0' is not registered; did you mean 'org.example.agent.0'"
	assert_line --partial "[near-miss]"
	assert_line --partial "typo.cfg:4:14: note: kind= is the spelling of Xen's channel document; xl reads connection= [config-kind-alias]"
	assert_line --partial "typo.cfg:4:29: warning: channel name 'com.vendor.unknown.1' is in no registry [unregistered]"
}

@test "a socket path used by two domains is an error in the second" {
	run chk -r "$D/good.registry" "$D/good.cfg" "$D/typo.cfg"
	assert_failure 1
	assert_line --partial "typo.cfg:3:64: error: socket path '/run/xenchan/web01.sock' is also used by domain web01 ($D/good.cfg:5:64) [config-path-clash]"
}

@test "warnings alone exit 0; --strict makes them fail" {
	run chk -r "$D/good.registry" "$D/nodummy.cfg"
	assert_success
	assert_output --partial '[config-xl-first-dropped]'
	run chk -W -r "$D/good.registry" "$D/nodummy.cfg"
	assert_failure 1
	run chk --strict -q -r "$D/good.registry" "$D/nodummy.cfg"
	assert_failure 1
	assert_output --partial "nodummy.cfg:2:13: warning: Xen 4.17.5+23's xl drops the first channel entry"
}

@test "--quiet prints errors only and no summary" {
	run chk -q -r "$D/good.registry" "$D/typo.cfg" "$D/good.cfg"
	assert_failure 1
	refute_output --partial 'warning:'
	refute_output --partial 'errors,'
	assert_output --partial 'error:'
}

@test "a registry is checked: malformed, unknown key, duplicate, contact, shape" {
	run chk -r "$D/good.registry" -r "$D/bad.registry"
	assert_failure 1
	assert_line --partial "bad.registry:1:1: error: text outside any field"
	assert_line --partial "bad.registry:3:4: error: 'org.example.agent.0' is already registered at $D/good.registry:2:4 [registry-duplicate]"
	assert_line --partial "bad.registry:4:4: warning: contact 'Somebody' has no email address or URL [registry-contact-address]"
	assert_line --partial "bad.registry:7:4: error: channel name 'Org.Example.Upper' is not reverse-domain"
	assert_line --partial "bad.registry:9:1: warning: unknown key 'X' (known: N, C, D) [registry-unknown-key]"
	assert_line --partial "bad.registry:7:1: warning: record of 'Org.Example.Upper' has no D: (description) [registry-no-description]"
	assert_line --partial "bad.registry:11:1: error: record has no N: (name) [registry-malformed]"
}

@test "libvirt XML: channels, columns, near miss; a DOCTYPE is refused" {
	run chk -r "$D/good.registry" "$D/web01.xml"
	assert_success
	assert_line --partial "web01.xml:9:32: warning: channel name 'org.example.agnet.0' is not registered; did you mean 'org.example.agent.0'"
	run chk -r "$D/good.registry" "$D/web01.xml" "$D/good.cfg"
	assert_line --partial "good.cfg:5:64: error: socket path '/run/xenchan/web01.sock' is also used by domain xml01"
	run chk "$D/entity.xml"
	assert_failure 1
	assert_output --partial "a DOCTYPE is not accepted"
	refute_output --partial "root:"
}

@test "a syntax error is reported where it is" {
	run chk "$D/broken.cfg"
	assert_failure 1
	assert_line --partial "broken.cfg:3:13: error: string not terminated [config-syntax]"
}

@test "a quote left open is reported on its line, not where the next quote is" {
	printf '%s\n' 'name = "web01' 'memory = 512' \
		'channel = [ "connection=pty, name=org.example.dummy" ]' >"$BATS_TEST_TMPDIR/q.cfg"
	run chk "$BATS_TEST_TMPDIR/q.cfg"
	assert_failure 1
	assert_line "$BATS_TEST_TMPDIR/q.cfg:1:8: error: string not terminated (the quote on line 3 does not end it) [config-syntax]"
}

@test "--json is valid JSON with the documented fields" {
	run chk_out -J -r "$D/good.registry" -r "$D/bad.registry" "$D/typo.cfg" "$D/web01.xml"
	assert_failure 1
	python3 -m json.tool <<<"$output" >/dev/null
	run python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list) and d
for o in d:
    assert set(o) == {"file", "line", "column", "severity", "rule", "message"}, o
    assert o["severity"] in ("error", "warning", "note")
print(len(d))' < <(chk -J -r "$D/good.registry" -r "$D/bad.registry" "$D/typo.cfg" 2>/dev/null)
	assert_success
	run chk_out -q -J -r "$D/good.registry" "$D/good.cfg"
	assert_success
	assert_output '[]'
}

@test "--name checks names; text is escaped" {
	run chk -n org.example.agent.0 -n 'bad,name' -n $'org.ex\e[31m.0'
	assert_failure 1
	assert_line "--name bad,name: error: channel name 'bad,name' holds ',' (offset 3), which breaks xl's key=value list [name-syntax]"
	assert_output --partial 'org.ex\x1b[31m.0'
	[[ $output != *$'\e'* ]]
}

@test "exit 2: unreadable input, usage errors" {
	run chk "$D/no-such.cfg"
	assert_failure 2
	assert_output --partial "no-such.cfg: No such file or directory"
	run chk
	assert_failure 2
	assert_output --partial 'nothing to check'
	run rc_ --bogus
	assert_failure 2
	# A default registry that is there but cannot be read.
	run env XENCHAN_REGISTRY="$BATS_TEST_TMPDIR" xenchan-registry-check "$D/good.cfg"
	assert_failure 2
	assert_output --partial "default registry $BATS_TEST_TMPDIR: Is a directory"
}

@test "a missing default registry is a note: the findings decide the exit status" {
	export XENCHAN_REGISTRY=$D/no-such.registry
	run --separate-stderr rc_ "$D/good.cfg"
	assert_success
	refute_output --partial 'default registry'
	[[ $stderr == *"xenchan-registry-check: note: default registry $D/no-such.registry: No such file or directory; checking without it"* ]]
	run --separate-stderr rc_ "$D/broken.cfg"
	assert_failure 1
	assert_output --partial '[config-syntax]'
	[[ $stderr == *"note: default registry"* ]]
	# -q: only what fails the check.
	run --separate-stderr rc_ -q "$D/good.cfg"
	assert_success
	[ -z "$stderr" ]
	# A registry named with -r must be there.
	run rc_ -r "$D/no-such.registry" "$D/good.cfg"
	assert_failure 2
}

@test "the default registry is read unless --no-default-registry" {
	export XENCHAN_REGISTRY=$top_srcdir/data/registry
	run rc_ -n org.xenproject.guest.clipboard.0.1 "$D/nodummy.cfg"
	assert_success
	assert_output --partial "nodummy.cfg:2:38: warning: channel name 'org.example.agent.0' is in no registry"
	printf '%s\n' 'channel = [ "connection=pty, name=org.example.dummy",' \
		'"connection=pty, name=org.xenproject.guest.clipbaord.0.1" ]' >"$BATS_TEST_TMPDIR/c.cfg"
	run rc_ "$BATS_TEST_TMPDIR/c.cfg"
	assert_output --partial "did you mean 'org.xenproject.guest.clipboard.0.1'"
}

@test "--list-rules lists every rule once with a severity" {
	run rc_ --list-rules
	assert_success
	[ "${#lines[@]}" -ge 29 ]
	for id in name-syntax name-shape name-version name-vchan-port registry-duplicate \
		config-path-clash config-xl-first-dropped config-xl-first-unknown \
		config-placeholder-extra near-miss unregistered name-meaning; do
		assert_line --regexp "^$id +(error|warning|note) "
	done
	run bash -c "xenchan-registry-check --list-rules | awk '{print \$1}' | sort | uniq -d"
	assert_output ''
}

@test "--live: an unregistered name and a near miss in running domains" {
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/l1.sock" \
		--channel name=com.vendor.thing.0,connection=pty live01
	sim_create --channel "name=org.example.agnet.0,connection=socket,path=$SIM_DIR/l2.sock" live02
	run chk -l -r "$D/good.registry"
	assert_success
	assert_line "domain live01/devid 2: warning: channel name 'com.vendor.thing.0' is in no registry [unregistered]"
	assert_line --partial "domain live02/devid 1: warning: channel name 'org.example.agnet.0' is not registered; did you mean 'org.example.agent.0'"
	refute_output --partial "live01/devid 1: warning"
	run chk_out -l -J -r "$D/good.registry"
	python3 -m json.tool <<<"$output" >/dev/null
	assert_output --partial '"file": "domain live02/devid 1", "line": null'
}

@test "--live with a config: the socket path clash between a config and a running domain" {
	printf 'name = "cfg01"\nchannel = [ "connection=pty, name=org.example.dummy", "connection=socket, name=org.example.agent.0, path=%s/l1.sock" ]\n' \
		"$SIM_DIR" >"$BATS_TEST_TMPDIR/l.cfg"
	run chk -l -r "$D/good.registry" "$BATS_TEST_TMPDIR/l.cfg"
	assert_failure 1
	# Against the file being checked, naming the running domain.
	assert_line --regexp "^$BATS_TEST_TMPDIR/l.cfg:2:[0-9]+: error: socket path '$SIM_DIR/l1.sock' is also used by running domain live01 \\(domain live01/devid 1\\) \\[config-path-clash\\]\$"
	refute_output --partial "domain live01/devid 1: error"
}

@test "--live with the config of that running domain: its own path and names are no clash" {
	printf 'name = "live01"\nchannel = [ "connection=pty, name=org.example.dummy", "connection=socket, name=org.example.agent.0, path=%s/l1.sock" ]\n' \
		"$SIM_DIR" >"$BATS_TEST_TMPDIR/live01.cfg"
	run chk -l -r "$D/good.registry" "$BATS_TEST_TMPDIR/live01.cfg"
	refute_output --partial '[config-path-clash]'
	refute_output --partial '[name-meaning]'
	# Another config with that path still clashes with the running domain.
	sed 's/"live01"/"live09"/' "$BATS_TEST_TMPDIR/live01.cfg" >"$BATS_TEST_TMPDIR/live09.cfg"
	run chk -l -r "$D/good.registry" "$BATS_TEST_TMPDIR/live09.cfg"
	assert_failure 1
	assert_output --partial "is also used by running domain live01"
}

@test "name-vchan-port: only at a vchan endpoint of a running domain, or with -v" {
	local vd
	run chk -n org.example.long.agent.0
	assert_success
	refute_output --partial '[name-vchan-port]'
	run chk -v -n org.example.long.agent.0
	assert_success
	assert_line "--name org.example.long.agent.0: note: channel name 'org.example.long.agent.0' is 24 bytes: a vchan port holds 12 with 5-digit domids, so a vchan endpoint for it uses a derived short port [name-vchan-port]"
	sim_create vchan01
	vd=/local/domain/$domid/data/vchan/0
	timeout "$T" xenstore-write "$vd/xc0123456789/name" org.example.long.agent.0 \
		"$vd/xc0123456789/ring-ref" 8 "$vd/xc0123456789/event-channel" 9 \
		"$vd/short/ring-ref" 8 "$vd/short/event-channel" 9
	run chk -l -n org.example.long.agent.0
	assert_success
	assert_line "domain vchan01/vchan xc0123456789: note: channel name 'org.example.long.agent.0' is 24 bytes: a vchan port holds 12 with 5-digit domids, so a vchan endpoint for it uses a derived short port [name-vchan-port]"
	refute_output --partial '--name org.example.long.agent.0: note'
	refute_output --partial 'vchan short'
	timeout "$T" xenstore-rm "$vd"
}

@test "--disable RULE: the rule is not reported and does not fail the check" {
	run chk -r "$D/good.registry" "$D/good.cfg" "$D/typo.cfg"
	assert_failure 1
	assert_output --partial '[config-path-clash]'
	run chk --disable config-path-clash --disable near-miss -r "$D/good.registry" \
		"$D/good.cfg" "$D/typo.cfg"
	assert_success
	refute_output --partial '[config-path-clash]'
	refute_output --partial '[near-miss]'
	assert_output --partial '[unregistered]'
	run chk -W -r "$D/good.registry" "$D/nodummy.cfg"
	assert_failure 1
	run chk -W --disable config-xl-first-dropped -r "$D/good.registry" "$D/nodummy.cfg"
	assert_success
	assert_output --partial '0 errors, 0 warnings, 0 notes'
}

@test "--disable: an unknown rule is a usage error that says where the rules are" {
	run chk --disable no-such-rule -n org.example.agent.0
	assert_failure 2
	assert_line "xenchan-registry-check: --disable no-such-rule: no such rule (xenchan-registry-check --list-rules lists them)"
	assert_line "Try 'xenchan-registry-check --help' for more information."
	run chk --disable -n org.example.agent.0
	assert_failure 2
	run rc_ --list-rules --disable near-miss
	assert_failure 2
}

# The three configs of the first-channel tests: no workaround, a placeholder
# named other than *.dummy, the real first entry given twice.
FIRST=("$D/nodummy.cfg" "$D/placeholder.cfg" "$D/twice.cfg")

@test "Xen 4.17 (affected): no workaround is warned; any placeholder is the workaround" {
	run chk -W --xen-version 4.17 -r "$D/good.registry" "$D/nodummy.cfg"
	assert_failure 1
	assert_line "$D/nodummy.cfg:2:13: warning: Xen 4.17's xl drops the first channel entry (it gets devid 0, the primary console; fixed in 4.18.5, 4.19.2, 4.20.1, 4.21 and later); add a placeholder first entry such as \"connection=pty, name=org.example.dummy\" [config-xl-first-dropped]"
	# The same for 4.18.4, 4.19.1 and 4.20.0, and a Debian 12 package version.
	for v in 4.18.4 4.19.1 4.20.0 4.17.5+23-ga4e5191b-1~deb12u1; do
		run chk --xen-version "$v" -r "$D/good.registry" "$D/nodummy.cfg"
		assert_output --partial '[config-xl-first-dropped]'
	done
	# A placeholder by its name, or the real entry given twice: nothing to
	# say, and the entry xl drops is no duplicate and no path clash.
	run chk -W --xen-version 4.17 -r "$D/good.registry" "$D/placeholder.cfg" "$D/twice.cfg"
	assert_success
	assert_output --partial '0 errors, 0 warnings, 0 notes'
}

@test "Xen 4.20.4 (fixed): no first-entry warning; a placeholder is an extra channel" {
	run chk -W --xen-version 4.20.4 -r "$D/good.registry" "$D/nodummy.cfg"
	assert_success
	assert_output --partial '0 errors, 0 warnings, 0 notes'
	run chk --xen-version 4.20.4 -r "$D/good.registry" "$D/placeholder.cfg"
	assert_success
	assert_line "$D/placeholder.cfg:3:13: warning: Xen 4.20.4's xl keeps the first channel entry: placeholder 'org.example.unused.0' is an extra pty channel (devid 1) in the guest; remove it (the workaround is for xl of Xen before 4.18.5, 4.19.0-4.19.1 and 4.20.0 only) [config-placeholder-extra]"
	refute_output --partial '[config-xl-first-dropped]'
	# The real entry twice: two channels of one name, on one socket path.
	run chk --xen-version 4.20.4 -r "$D/good.registry" "$D/twice.cfg"
	assert_failure 1
	assert_line --partial "$D/twice.cfg:3:13: warning: Xen 4.20.4's xl keeps the first channel entry: placeholder 'org.example.agent.0' (its name is used again at $D/twice.cfg:4:38) is an extra socket channel (devid 1)"
	assert_output --partial '[config-duplicate-name]'
	assert_output --partial '[config-path-clash]'
	# The releases with the fix, and Debian 13's package version.
	for v in 4.18.5 4.19.2 4.20.1 4.21 4.20.4+7-g1c3ba6e8-1; do
		run chk --xen-version "$v" -r "$D/good.registry" "$D/good.cfg"
		assert_output --partial '[config-placeholder-extra]'
	done
}

@test "Xen not known: one note that explains both behaviours, nothing that fails" {
	# No Xen tools under the root, no --xen-version.
	export XENCHAN_SYSROOT=$BATS_TEST_TMPDIR
	run chk -W -r "$D/good.registry" "${FIRST[@]}"
	assert_success
	assert_output --partial '0 errors, 0 warnings, 3 notes'
	assert_line "$D/nodummy.cfg:2:13: note: xl of Xen before 4.18.5, 4.19.0-4.19.1 and 4.20.0 drops the first channel entry (it gets devid 0, the primary console) and needs a placeholder first entry such as \"connection=pty, name=org.example.dummy\"; xl of 4.18.5, 4.19.2, 4.20.1, 4.21 and later keeps it, and a placeholder would be an extra channel; the Xen version is not known: give --xen-version [config-xl-first-unknown]"
	assert_line "$D/placeholder.cfg:3:13: note: placeholder first entry 'org.example.unused.0' works around xl of Xen before 4.18.5, 4.19.0-4.19.1 and 4.20.0, which drops the first channel entry; xl of 4.18.5, 4.19.2, 4.20.1, 4.21 and later keeps it as an extra pty channel (devid 1), to be removed there; the Xen version is not known: give --xen-version [config-xl-first-unknown]"
	assert_line --partial "$D/twice.cfg:3:13: note: placeholder first entry 'org.example.agent.0' (its name is used again at $D/twice.cfg:4:38) works around xl of Xen before 4.18.5"
	# A version that spans the fix says so.
	for v in 4.20 4.18 4.20.0+68-g35cb38b222-1 4.20.1-rc1; do
		run chk --xen-version "$v" -r "$D/good.registry" "$D/nodummy.cfg"
		assert_success
		assert_output --partial "does not say which: give --xen-version X.Y.Z [config-xl-first-unknown]"
		refute_output --partial '[config-xl-first-dropped]'
	done
}

@test "-v says which Xen the configs are checked for, and where that came from" {
	run --separate-stderr chk -v "$D/good.cfg"
	[[ $stderr == *"xenchan-registry-check: checking for Xen 4.17.5+23 (installed xen-utils-4.17, version 4.17.5+23-ga4e5191b-1~deb12u1)"* ]]
	XENCHAN_SYSROOT=$X/debian13 run --separate-stderr chk -v "$D/good.cfg"
	[[ $stderr == *"checking for Xen 4.20.4+7 (installed xen-utils-4.20, version 4.20.4+7-g1c3ba6e8-1)"* ]]
	run --separate-stderr chk -v --xen-version 4.20.1 "$D/good.cfg"
	[[ $stderr == *"checking for Xen 4.20.1 (--xen-version)"* ]]
	XENCHAN_SYSROOT=$X/libdir run --separate-stderr chk -v "$D/good.cfg"
	[[ $stderr == *"checking for Xen 4.20 ($X/libdir/usr/lib/xen-4.20/bin/xl, no package version)"* ]]
	[[ $stderr == *"Xen 4.20 does not say whether xl drops the first channel entry"* ]]
	assert_output --partial '[config-xl-first-unknown]'
	XENCHAN_SYSROOT=$BATS_TEST_TMPDIR run --separate-stderr chk -v "$D/good.cfg"
	[[ $stderr == *"no Xen tools under $BATS_TEST_TMPDIR (no xen-utils-X.Y package, no usr/lib/xen-X.Y/bin/xl)"* ]]
	# Without -v, not a word of it.
	run --separate-stderr chk "$D/good.cfg"
	[[ $stderr != *"checking for Xen"* ]]
}

@test "by default, the installed Xen tools' version decides" {
	XENCHAN_SYSROOT=$X/debian13 run chk -r "$D/good.registry" "$D/good.cfg" "$D/nodummy.cfg"
	assert_line --partial "good.cfg:4:13: warning: Xen 4.20.4+7's xl keeps the first channel entry: placeholder 'org.example.dummy' is an extra pty channel (devid 1)"
	refute_output --partial 'nodummy.cfg'
	XENCHAN_SYSROOT=$X/debian12 run chk -r "$D/good.registry" "$D/good.cfg" "$D/nodummy.cfg"
	assert_line --partial "nodummy.cfg:2:13: warning: Xen 4.17.5+23's xl drops the first channel entry"
	refute_output --partial 'good.cfg'
	# --xen-version overrides the tools.
	XENCHAN_SYSROOT=$X/debian13 run chk --xen-version 4.17 -r "$D/good.registry" "$D/good.cfg"
	assert_success
	assert_output --partial '0 errors, 0 warnings, 0 notes'
}

@test "--xen-version: what is not a Xen version is a usage error" {
	for v in '' 4 4.x 4.20.x 04.20 4.20.4- 4.20.4+ 4.20.4-beta 'latest' ' 4.20' $'4.20\n'; do
		run chk --xen-version "$v" "$D/good.cfg"
		assert_failure 2
		assert_line --partial ": not a Xen version: "
		assert_line "Try 'xenchan-registry-check --help' for more information."
	done
	run chk --xen-version 4.x "$D/good.cfg"
	assert_line "xenchan-registry-check: --xen-version 4.x: not a Xen version: want X.Y[.Z], such as 4.20.4"
	run chk --xen-version
	assert_failure 2
	run rc_ --list-rules --xen-version 4.20
	assert_failure 2
}

@test "libvirt XML: libvirt's libxl driver keeps every channel on every Xen" {
	for v in 4.17 4.20.4 4.20; do
		run chk -W --xen-version "$v" -r "$D/good.registry" "$D/web01.xml"
		refute_output --partial '[config-xl-first'
		run chk --xen-version "$v" -r "$D/good.registry" "$D/placeholder.xml"
		assert_success
		assert_line "$D/placeholder.xml:4:20: warning: libvirt's libxl driver creates every channel on every Xen (the first-channel bug is xl's alone): placeholder 'org.example.dummy' is an extra pty channel (devid 1) in the guest; remove it [config-placeholder-extra]"
		refute_output --partial '[config-xl-first'
	done
}

@test "--live: a placeholder in a running domain is an extra channel" {
	sim_create --channel name=org.example.dummy,connection=pty \
		--channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/ph.sock" ph01
	run chk -l -r "$D/good.registry"
	assert_success
	assert_line "domain ph01/devid 1: warning: channel 'org.example.dummy' is a placeholder the toolstack created: an extra pty channel in the guest (xl drops a first placeholder entry only on Xen before 4.18.5, 4.19.0-4.19.1 and 4.20.0); remove it from the domain's config [config-placeholder-extra]"
	refute_output --partial 'ph01/devid 2'
}
