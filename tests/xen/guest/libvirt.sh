# Guest half of scenarios/libvirt.sh: agents on the channels libvirt defined.
# - org.example.libvirt.0 (socket): upper-cases, and reports the size and md5
#   of all it read in data/sock-in (counting_agent).
# - org.example.libvirt.pty.0: upper-cases.
# Ready once both agents have set their hvc raw (no echo).
counting_agent org.example.libvirt.0
upcase_agent org.example.libvirt.pty.0

is_raw() {
	_dev=$(hvc_of "$1") && stty -F "$_dev" -a | tr ' ' '\n' | grep -qx -- -echo
}
agents_raw() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + 60 ))
	until is_raw org.example.libvirt.0 && is_raw org.example.libvirt.pty.0; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
			echo "guest: the agents did not set their hvc raw in 60 s"
			return 1
		fi
		sleep 0.2
	done
}
agents_raw && ready
