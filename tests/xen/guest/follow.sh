# Guest half of scenarios/follow.sh: a guest that goes through xl reboot,
# xl save + xl restore and xl migrate while dom0 talks to it.
# - org.example.echo.0 (socket) and org.example.pty.0 (pty): upper-casing
#   agents that keep their device open and raw (hvc resets termios on last
#   close) and open it again after a restore or a migration (see
#   follow_upcase).
# - org.example.sink.0 (socket): an agent that appends all it reads to
#   /tmp/sink.in (tmpfs: guest memory, so it survives save/restore and
#   migration with the guest, not a reboot). dom0 steers it through
#   data/follow/cmd: "hold" stops reading (the bytes dom0 sends pile up in
#   the tty, the ring and qemu: a transfer is in flight when the domain goes
#   away; what the tty held is lost when the resume hangs it up), "quiesce" reads until nothing came for 0.3 s, then closes the
#   device (hvc takes nothing more off the ring once no one has the tty open)
#   and reports: dom0 stops qemu first, so what the guest read is then final.
#   The agent acknowledges in data/follow/state ("held SIZE", "closed SIZE").
# - dom0 asks for an account of what arrived by writing data/follow/query N;
#   the answer, in data/follow/result, is "N size=S md5=M ref=R segs=P:Q:L,..."
#   where each P:Q:L says that bytes P.. P+L-1 of /tmp/sink.in are bytes
#   Q.. Q+L-1 of the payload. The payload is the one dom0 sends, made the
#   same way here (follow_payload): 16-byte records "%015d\n", each its own
#   offset, so any stretch of it tells where it comes from; R is its md5 for
#   dom0 to compare.
# - data/follow/epoch counts the domains this boot has run in: the keys a
#   guest writes are not carried to the domain a restore or migration makes,
#   so when data/follow/epoch is gone the guest has been moved; it writes the
#   next number, which tells dom0 the agents are running again.
#   "until N" reads until it has N bytes, then holds as "hold" does: dom0
#   has it stop where the next cycle is to find the transfer in flight.
#   At boot and once moved, the sink agent holds until dom0 writes
#   data/follow/cmd ("until N" or "run"): it would otherwise read the rest
#   of the transfer before dom0's next cycle.
# - data/follow/size: how many bytes the sink agent has read.
# - data/follow/cmd "reset WORD": empty /tmp/sink.in (once for each WORD),
#   acknowledged as data/follow/state "reset WORD".
# - /tmp/sink.log: what the sink agent did and when (device opened, reset
#   with the size it emptied, hangup, the first bytes read after a reset);
#   its last lines are in data/follow/log, which dom0 shows when the
#   stream does not fit.

# follow_payload FILE SIZE: SIZE (a multiple of 16) bytes of offset records.
follow_payload() {
	awk -v n=$(($2 / 16)) 'BEGIN { for (i = 0; i < n; i++) printf "%015d\n", i * 16 }' >"$1"
}

# follow_offset FILE POS: the payload offset of byte POS of FILE, told by
# the first whole record after it; fails when there is none.
follow_offset() {
	dd if="$1" bs=1 skip="$2" count=40 2>/dev/null | od -An -v -c | awk -v pos="$2" '
		{ for (i = 1; i <= NF; i++) c[n++] = $i }
		END {
			for (j = 0; j < n && c[j] != "\\n"; j++) ;
			if (j + 16 >= n) exit 1
			v = ""
			for (k = j + 1; k < j + 16; k++) {
				if (c[k] !~ /^[0-9]$/) exit 1
				v = v c[k]
			}
			if (c[j + 16] != "\\n") exit 1
			# No leading zeros: busybox awk reads them as octal.
			sub(/^0+/, "", v)
			print (v == "" ? 0 : v) - (j + 1)
		}'
}

# follow_segments FILE REF: the P:Q:L list of FILE against payload REF (see
# above), comma-separated. A segment ends where FILE stops matching REF;
# where the switch to the next one lies within a few bytes that happen to be
# alike in both does not change the difference between them.
follow_segments() {
	_size=$(wc -c <"$1")
	_p=0
	_segs=
	[ "$_size" -gt 0 ] || return 0
	_q=$(follow_offset "$1" 0) || { echo "unlocatable:0"; return 1; }
	while [ "$_p" -lt "$_size" ]; do
		_out=$(cmp "$1" "$2" "$_p" "$_q" 2>&1)
		case $_out in
		"")
			_l=$((_size - _p)) ;;
		*"EOF on $1"*)
			_l=$((_size - _p)) ;;
		*"EOF on $2"*)
			_l=$(($(wc -c <"$2") - _q)) ;;
		*differ:\ char\ *)
			_l=${_out#*differ: char }
			_l=$((${_l%%,*} - 1)) ;;
		*)
			echo "cmp:$_out"
			return 1 ;;
		esac
		if [ "$_l" -le 0 ]; then
			echo "$_segs${_segs:+,}stuck:$_p"
			return 1
		fi
		_segs="$_segs${_segs:+,}$_p:$_q:$_l"
		_p=$((_p + _l))
		[ "$_p" -lt "$_size" ] || break
		_q=$(follow_offset "$1" "$_p") || { echo "$_segs,unlocatable:$_p"; return 1; }
	done
	echo "$_segs"
}

# An agent holds its device open and raw. When the guest is restored or
# migrated, hvc_xen's resume removes each console's hvc and makes a new one:
# the old tty is hung up (reads give 0, its buffered input is gone, termios
# too), the new one has the same /dev/hvcK and, until someone opens it, hvc
# takes nothing off the new ring. The agents then open it again at once.
follow_upcase() {
	(
		while :; do
			_dev=$(hvc_of "$1") || { sleep 0.2; continue; }
			echo "guest: $1 is $_dev"
			exec 3<>"$_dev"
			stty -F "$_dev" raw -echo
			tr a-z A-Z <&3 >&3
			exec 3<&-
		done
	) &
}

# sink_log WORDS: one line of /tmp/sink.log, with the guest's uptime.
sink_log() {
	echo "$(cut -d' ' -f1 /proc/uptime) $*" >>/tmp/sink.log
}

# sink_open: fd 3 is the sink channel's device, raw; min 0 time 2 makes a
# read with nothing to give return after 0.2 s, so that the agent can stop
# between two reads.
sink_open() {
	_dev=$(hvc_of org.example.sink.0) || return 1
	echo "guest: org.example.sink.0 is $_dev"
	exec 3<>"$_dev"
	stty -F "$_dev" raw -echo min 0 time 2
	sink_log "open $_dev at $(wc -c </tmp/sink.in)"
}

# The sink agent (see above). Reads with dd, one read at a time; dd's "0+0
# records in" tells an empty read, and an empty read from a tty whose
# termios cannot be read any more (EIO) one that was hung up.
follow_sink() {
	: >/tmp/sink.in
	(
		_first=1
		until sink_open; do sleep 0.2; done
		_held=
		_reset=
		while :; do
			read -r _cmd </tmp/follow.cmd
			case $_cmd in
			"until "*)
				[ "$(wc -c </tmp/sink.in)" -lt "${_cmd#until }" ] || _cmd=hold ;;
			esac
			case $_cmd in
			"reset "*)
				if [ "$_cmd" != "$_reset" ]; then
					sink_log "$_cmd: emptied $(wc -c </tmp/sink.in)"
					: >/tmp/sink.in
					_first=1
					_reset=$_cmd
					xenstore-write data/follow/state "$_cmd"
				fi ;;
			hold)
				if [ -z "$_held" ]; then
					_held=1
					xenstore-write data/follow/state "held $(wc -c </tmp/sink.in)"
				fi
				sleep 0.2
				continue ;;
			quiesce)
				while dd bs=4096 count=1 <&3 >>/tmp/sink.in 2>/tmp/sink.dd; do
					read -r _r </tmp/sink.dd
					[ "$_r" = "0+0 records in" ] && break
				done
				exec 3<&-
				sink_log "quiesced: closed at $(wc -c </tmp/sink.in)"
				xenstore-write data/follow/state "closed $(wc -c </tmp/sink.in)"
				exit 0 ;;
			esac
			_held=
			dd bs=4096 count=1 <&3 >>/tmp/sink.in 2>/tmp/sink.dd
			read -r _r </tmp/sink.dd
			if [ -n "$_first" ] && [ "$_r" != "0+0 records in" ]; then
				_first=
				sink_log "first read ($_cmd): $(wc -c </tmp/sink.in) bytes: $(head -c 34 /tmp/sink.in | od -An -c | tr -s ' \n' ' ')"
			fi
			if [ "$_r" = "0+0 records in" ] && ! stty -g <&3 >/dev/null 2>&1; then
				sink_log "hangup at $(wc -c </tmp/sink.in)"
				exec 3<&-
				until sink_open; do sleep 0.2; done
			fi
		done
	) &
}

# The control loop: copies data/follow/cmd to /tmp/follow.cmd, keeps
# data/follow/epoch and data/follow/size, answers queries. Its xenstore
# requests are bounded: one caught by the suspend must not stop it.
follow_control() {
	(
		_epoch=0
		_answered=
		_last=
		_moved=1
		while :; do
			if ! timeout 10 xenstore-read data/follow/epoch >/dev/null 2>&1; then
				_epoch=$((_epoch + 1))
				[ $_epoch -gt 1 ] && _moved=1
				timeout 10 xenstore-write data/follow/epoch $_epoch
			fi
			_c=$(timeout 10 xenstore-read data/follow/cmd 2>/dev/null) || _c=
			[ -n "$_c" ] && _moved=
			[ -n "$_moved" ] && _c=hold
			echo "$_c" >/tmp/follow.cmd
			_size=$(wc -c </tmp/sink.in)
			if [ "$_size $_epoch" != "$_last" ]; then
				timeout 10 xenstore-write data/follow/size "$_size"
				_last="$_size $_epoch"
			fi
			_q=$(timeout 10 xenstore-read data/follow/query 2>/dev/null) || _q=
			if [ -n "$_q" ] && [ "$_q" != "$_answered" ]; then
				_segs=$(follow_segments /tmp/sink.in /tmp/follow.ref)
				timeout 10 xenstore-write data/follow/log "$(tail -n 12 /tmp/sink.log | cut -c 1-160)"
				timeout 10 xenstore-write data/follow/result "$_q size=$(wc -c </tmp/sink.in) md5=$(md5sum </tmp/sink.in | cut -d' ' -f1) ref=$(md5sum </tmp/follow.ref | cut -d' ' -f1) segs=$_segs"
				_answered=$_q
			fi
			sleep 0.3
		done
	) &
}

: >/tmp/follow.cmd
follow_payload /tmp/follow.ref 393216
follow_upcase org.example.echo.0
follow_upcase org.example.pty.0
follow_sink
follow_control
ready
