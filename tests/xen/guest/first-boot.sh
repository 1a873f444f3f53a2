# Guest half of scenarios/first-boot.sh: xenchan-guest's udev rule has
# made /dev/xen-channel/org.example.firstboot.0 (at boot: udev's coldplug);
# the guest says where it points, as this guest's hvc_of finds the channel,
# and with what owner and mode (and so for each link it has), then runs examples/first-boot's guest agent
# on it, as xenchan-agent@.service would.  The hook puts the sha256 of the
# configuration applied in data/first-boot/applied.  first-boot-stuck.sh
# sets first_boot_stuck: no agent, the device stays unanswered.
fb_link=/dev/xen-channel/org.example.firstboot.0
_i=0
until [ -L "$fb_link" ] || [ $_i -ge 300 ]; do
	sleep 0.2
	_i=$((_i + 1))
done
if [ -L "$fb_link" ]; then
	_t=$(readlink -f "$fb_link")
	xenstore-write data/first-boot/link \
		"$(readlink "$fb_link") $(hvc_of org.example.firstboot.0) $(stat -c '%U %G %a' "$_t")"
	# Every link: "NAME TARGET HVC_OF OWNER GROUP MODE;" each.
	_all=
	for _l in /dev/xen-channel/*; do
		_n=${_l##*/}
		_all="$_all$_n $(readlink "$_l") $(hvc_of "$_n") $(stat -c '%U %G %a' "$(readlink -f "$_l")");"
	done
	xenstore-write data/first-boot/links "$_all"
else
	xenstore-write data/first-boot/link "none $(ls /dev/xen-channel 2>&1 | tr '\n' ' ')"
	# Why not, on the console (the scenario shows it).
	echo "guest: no $fb_link; rules: $(ls /usr/lib/udev/rules.d /lib/udev/rules.d 2>&1 | tr '\n' ' ')"
	for _s in /sys/bus/xen/devices/console-*; do
		echo "guest: ${_s##*/}: driver $(readlink "$_s/driver"); $(udevadm info -q property "$_s" 2>&1 | tr '\n' ' ')"
		sh -x /usr/libexec/xenchan-guest/xenchan-guest-link add "${_s##*/}" 2>&1 | tail -n 8 | sed 's/^/guest: /'
	done
fi
cat >/tmp/first-boot-hook <<'HOOK'
#!/bin/sh
xenstore-write data/first-boot/applied "$(sha256sum <"$1" | cut -d' ' -f1)"
HOOK
chmod 755 /tmp/first-boot-hook
if [ -z "${first_boot_stuck:-}" ] && [ -L "$fb_link" ]; then
	FIRSTBOOT_HOOK=/tmp/first-boot-hook /guest/first-boot-agent "$fb_link" /tmp/first-boot.conf &
fi
ready
