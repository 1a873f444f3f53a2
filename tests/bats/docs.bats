#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Each command's --help, man page, bash completion and zsh completion list the
# same options (and, for xenchan-ls, the same columns); the completions work.

bats_load_library bats-support
bats_load_library bats-assert
# top_srcdir and top_builddir (absolute) come from make check; helpers.bash
# makes both the tree this file is in when they are not set.
load helpers
sim_host_per_test

COMMANDS=(xenchan-ls xenchan-wait xenchan-registry-check xenchan-cat xenchan-send)

setup() {
	local c
	for c in "${COMMANDS[@]}"; do
		[ -x "$top_builddir/cmd/$c" ] || {
			echo "$top_builddir/cmd/$c is missing: run make first"
			return 1
		}
	done
	[ -f "$BASH_COMPLETION_SCRIPT" ] || {
		echo "$BASH_COMPLETION_SCRIPT is missing: install bash-completion"
		return 1
	}
}


# The long (--x) or short (-x) options among the words on stdin, one per
# line, sorted and unique.
long_only() { grep -xE -- '--[[:alnum:]][[:alnum:]-]*' | LC_ALL=C sort -u; }
short_only() { grep -xE -- '-[[:alnum:]]' | LC_ALL=C sort -u; }

# The options the Options: section of `CMD --help` describes.
help_options() {
	"$top_builddir/cmd/$1" --help | sed -n '/^Options:/,/^$/p' |
		grep -oE -- '^ +(-[[:alnum:]], +)?--[[:alnum:]][[:alnum:]-]*' |
		grep -oE -- '--?[[:alnum:]][[:alnum:]-]*'
}

# A command's man page: built from man/CMD.1.in when there is one.
man_page() {
	if [ -f "$top_srcdir/man/$1.1.in" ]; then
		echo "$top_builddir/man/$1.1"
	else
		echo "$top_srcdir/man/$1.1"
	fi
}

# The options named by `Fl` in the .It lines of a man page's OPTIONS section.
man_options() {
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$(man_page "$1")" | grep '^\.It Fl' |
		sed 's/\\-/-/g' | grep -oE 'Fl [-[:alnum:]]+' | sed 's/^Fl /-/'
}

# Every option named by `Fl` in a man page's SYNOPSIS.
synopsis_options() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$(man_page "$1")" |
		sed 's/\\-/-/g' | grep -oE 'Fl [-[:alnum:]]+' | sed 's/^Fl /-/'
}

# The options the bash completion offers after a lone '-'.
bash_options() {
	complete_bash "$top_builddir/cmd/$1" -
}

# The option specs of the zsh completion for CMD: the lines of the arrays
# common_opts and <ls|wait>_opts, each reduced to the option names it defines
# (its exclusion list and description left out).
zsh_options() {
	local f=$top_srcdir/completions/_xenchan arr=${1#xenchan-}
	# zsh array names take no '-': registry-check -> registry_check_opts.
	arr=${arr//-/_}_opts
	{
		sed -n '/^[[:space:]]*common_opts=(/,/^[[:space:]]*)/p' "$f"
		sed -n "/^[[:space:]]*${arr}=(/,/^[[:space:]]*)/p" "$f"
	} | grep -E "^[[:space:]]*'" |
		sed -E "s/^[[:space:]]*//; s/^'\\([^)]*\\)'?//; s/^'?\\*'?//; s/\\[.*//" |
		grep -oE -- '--?[[:alnum:]][[:alnum:]-]*'
}

# same_set WHAT EXPECTED ACTUAL: two newline-separated lists are equal; show
# the difference when not.
same_set() {
	if [ "$2" != "$3" ]; then
		echo "$1 differ (- --help, + other):"
		diff -u <(echo "$2") <(echo "$3") | tail -n +3
		return 1
	fi
}

check_options() {
	local cmd=$1 help_long help_short other
	help_long=$(help_options "$cmd" | long_only)
	help_short=$(help_options "$cmd" | short_only)
	# A parser that found nothing would make every list agree.
	[[ $help_long == *--help* && $help_long == *--version* && $help_short == *-h* ]] || {
		echo "cannot read the options of $cmd --help"
		return 1
	}
	for src in man bash zsh; do
		other=$("${src}_options" "$cmd")
		same_set "$cmd: long options in $src" "$help_long" "$(long_only <<<"$other")"
		same_set "$cmd: short options in $src" "$help_short" "$(short_only <<<"$other")"
	done
}

@test "xenchan-ls: --help, man page, bash and zsh completion have the same options" {
	check_options xenchan-ls
}

@test "xenchan-wait: --help, man page, bash and zsh completion have the same options" {
	check_options xenchan-wait
}

@test "xenchan-registry-check: --help, man page, bash and zsh completion have the same options" {
	check_options xenchan-registry-check
}

@test "xenchan-cat: --help, man page, bash and zsh completion have the same options" {
	check_options xenchan-cat
}

@test "xenchan-send: --help, man page, bash and zsh completion have the same options" {
	check_options xenchan-send
}

@test "bash: xenchan-cat and xenchan-send complete option arguments, domains and channels" {
	run complete_bash xenchan-cat --backlog ''
	assert_output $'keep\ndiscard'
	run complete_bash xenchan-send -T ''
	assert_output $'socket\npty\ndirect\nvchan'
	run complete_bash xenchan-cat --quit-
	assert_output --quit-after
	sim_test_host
	sim_create --channel name=org.example.pty.0,connection=pty cat01
	run complete_bash xenchan-cat -Q 1s ''
	assert_output cat01
	run complete_bash xenchan-send cat01 ''
	assert_output org.example.pty.0
}

@test "xenchan-registry-check: the man page describes every rule and names the paths --help names" {
	local man ids id path
	man=$(man_page xenchan-registry-check)
	ids=$("$top_builddir/cmd/xenchan-registry-check" --list-rules | awk '{print $1}')
	[ -n "$ids" ]
	for id in $ids; do
		grep -qxE "\.It Cm $id No \((error|warning|note)\)" "$man" || {
			echo "$man: RULES lacks $id"
			return 1
		}
	done
	path=$("$top_builddir/cmd/xenchan-registry-check" --help | grep -oE '/[^ ]*/registry\.d')
	[ -n "$path" ]
	grep -qF ".Pa $path/*.registry" "$man" || {
		echo "$man does not name $path, the directory --help names"
		return 1
	}
	run complete_bash "$top_builddir/cmd/xenchan-registry-check" --disable ''
	assert_output "$ids"
	run complete_bash "$top_builddir/cmd/xenchan-registry-check" --disable near
	assert_output near-miss
}

@test "each man page's SYNOPSIS has every short option and every option of --usage" {
	local cmd syn o
	for cmd in "${COMMANDS[@]}"; do
		syn=$(synopsis_options "$cmd" | LC_ALL=C sort -u)
		for o in $(help_options "$cmd" | short_only) \
			$("$top_builddir/cmd/$cmd" --usage |
				grep -oE -- '(^|[[ |])--?[[:alnum:]][[:alnum:]-]*' |
				grep -oE -- '--?[[:alnum:]][[:alnum:]-]*'); do
			grep -qxe "$o" <<<"$syn" || {
				echo "$cmd.1: SYNOPSIS lacks $o"
				return 1
			}
		done
	done
}

@test "xenchan-ls: --help, man page, bash and zsh completion have the same columns" {
	local help man bash zsh
	help=$("$top_builddir/cmd/xenchan-ls" --help | sed -n '/^Columns:/,/^$/p' |
		grep -oE '^  [A-Z][A-Z-]*' | tr -d ' ' | LC_ALL=C sort)
	[ -n "$help" ]
	man=$(sed -n '/^\.Sh COLUMNS/,/^\.Sh /p' "$top_srcdir/man/xenchan-ls.1" |
		grep -oE '^\.It Cm [A-Z][A-Z-]*' | sed 's/^\.It Cm //' | LC_ALL=C sort)
	same_set "columns in man" "$help" "$man"
	bash=$(complete_bash "$top_builddir/cmd/xenchan-ls" -o '' | LC_ALL=C sort)
	same_set "columns in bash" "$help" "$bash"
	zsh=$(sed -n '/^_xenchan_columns()/,/^}/p' "$top_srcdir/completions/_xenchan" |
		grep -oE "^[[:space:]]*'[A-Z][A-Z-]*\\[" | tr -d " \t'[" | LC_ALL=C sort)
	same_set "columns in zsh" "$help" "$zsh"
}

@test "bash: xenchan-ls --tr completes to --transport" {
	run complete_bash xenchan-ls --tr
	assert_success
	assert_output --transport
	run complete_bash xenchan-wait --ti
	assert_success
	assert_output --timeout
}

@test "bash: option arguments are completed" {
	run complete_bash xenchan-ls --transport ''
	assert_output $'socket\npty\ndirect\nvchan'
	run complete_bash xenchan-ls -t v
	assert_output vchan
	run complete_bash xenchan-ls --output=DOMAIN,CH
	assert_output DOMAIN,CHANNEL
	run complete_bash xenchan-ls -rno +FE
	assert_output $'+FESTATE\n+FENAME'
	run complete_bash xenchan-wait -f ''
	assert_output $'exists\nconnected\nready\ngone'
	run complete_bash xenchan-wait -pt ''
	assert_output ''
}

@test "bash: each command's completion loads by its name from an installed copy" {
	local dir=$BATS_TEST_TMPDIR/bash-completion
	mkdir -p "$dir/completions"
	# As make install does: a copy of the file a symbolic link points to.
	cp -L "$top_srcdir/completions/xenchan-ls" "$top_srcdir/completions/xenchan-wait" \
		"$top_srcdir/completions/xenchan-registry-check" \
		"$top_srcdir/completions/xenchan-cat" "$top_srcdir/completions/xenchan-send" \
		"$dir/completions/"
	for cmd in "${COMMANDS[@]}"; do
		run env BASH_COMPLETION_USER_DIR="$dir" bash --norc --noprofile -c '
			. "$1" || exit 2
			if declare -F _comp_load >/dev/null; then
				_comp_load "$2"
			else
				__load_completion "$2"
			fi
			complete -p "$2"' - "$BASH_COMPLETION_SCRIPT" "$cmd"
		assert_success
		assert_output "complete -F _xenchan $cmd"
	done
}

@test "bash: with no xenstore to read, names are not offered and nothing is printed" {
	export XENSTORED_PATH=$BATS_TEST_TMPDIR/no-such-socket
	run complete_bash "$top_builddir/cmd/xenchan-wait" ''
	assert_success
	assert_output ''
	run complete_bash "$top_builddir/cmd/xenchan-ls" -c ''
	assert_success
	assert_output ''
}

@test "bash: domains and channels are completed from xenchan-ls on the emulated host" {
	sim_test_host
	sim_create --channel "name=org.example.agent.0,connection=socket,path=$SIM_DIR/a.sock" \
		--channel name=org.example.pty.0,connection=pty web01
	sim_create --channel name=org.example.pty.0,connection=pty db01
	run complete_bash xenchan-ls ''
	assert_success
	assert_output $'db01\nweb01'
	run complete_bash xenchan-wait w
	assert_output web01
	run complete_bash xenchan-wait -t 5s web01 ''
	assert_output $'org.example.agent.0\norg.example.pty.0'
	run complete_bash xenchan-ls db01 -c org.
	assert_output org.example.pty.0
	run complete_bash xenchan-ls --channel ''
	assert_output $'org.example.agent.0\norg.example.pty.0'
}

# ---- the pages name only what exists, and miss nothing that does ----

PAGES=(xenchan-ls.1 xenchan-wait.1 xenchan-registry-check.1 xenchan-cat.1 xenchan-send.1
	xenchan.7 xenchan-guest.7)

# A page of PAGES, as a file: a command's through man_page.
page_file() {
	case $1 in
	*.1) man_page "${1%.1}" ;;
	*) echo "$top_srcdir/man/$1" ;;
	esac
}

# Every xenchan-* word of the pages and of each --help.
named_commands() {
	local p cmd
	for p in "${PAGES[@]}"; do
		grep -oE 'xenchan-[a-z]+(-[a-z]+)*' "$(page_file "$p")"
	done
	for cmd in "${COMMANDS[@]}"; do
		"$top_builddir/cmd/$cmd" --help | grep -oE 'xenchan-[a-z]+(-[a-z]+)*'
	done
}

# A page's paragraphs (split at .Sh .Ss .Pp .It .Bl .El), one line each:
# "cmd cmd ... | -opt -opt ...": the commands it names with Xr or Nm and the
# options it names with Fl.
page_paragraphs() {
	sed 's/\\-/-/g' "$1" | awk '
		function flush() {
			if (opts != "")
				print cmds " |" opts
			cmds = ""; opts = ""
		}
		/^\.(Sh|Ss|Pp|It|Bl|El)( |$)/ { flush() }
		{
			line = $0
			while (match(line, /(Xr|Nm) xenchan-[a-z-]+/)) {
				cmds = cmds " " substr(line, RSTART + 3, RLENGTH - 3)
				line = substr(line, RSTART + RLENGTH)
			}
			line = $0
			while (match(line, /Fl [-[:alnum:]]+/)) {
				opts = opts " -" substr(line, RSTART + 3, RLENGTH - 3)
				line = substr(line, RSTART + RLENGTH)
			}
		}
		END { flush() }'
}

check_commands_exist() {
	local c bad=
	for c in $(named_commands | LC_ALL=C sort -u); do
		# Not commands: the emulator, and the guest package (its page, its
		# helper, its agents' unit template).
		case " ${COMMANDS[*]} xenchan-sim xenchan-guest xenchan-guest-link xenchan-agent " in
		*" $c "*) ;;
		*) bad+=" $c" ;;
		esac
	done
	[ -z "$bad" ] || {
		echo "no such command:$bad"
		return 1
	}
}

@test "the pages and --help name no command that does not exist" {
	check_commands_exist
}

@test "each page names only options that the command it speaks of has" {
	check_page_options
}

@test "the pages name only variables that are read, and xenchan(7) lists every one" {
	check_variables
}

@test "xenchan(7) names every command, and every page refers back to it" {
	local cmd see
	see=$(sed -n '/^\.Sh SEE ALSO/,$p' "$top_srcdir/man/xenchan.7")
	for cmd in "${COMMANDS[@]}"; do
		grep -qx "\.It Xr $cmd 1" "$top_srcdir/man/xenchan.7" || {
			echo "xenchan.7: $cmd missing from the list of commands"
			return 1
		}
		grep -q "^\.Xr $cmd 1" <<<"$see" || {
			echo "xenchan.7: $cmd missing from SEE ALSO"
			return 1
		}
		sed -n '/^\.Sh SEE ALSO/,$p' "$(man_page "$cmd")" | grep -q '^\.Xr xenchan 7' || {
			echo "$cmd.1: SEE ALSO lacks xenchan(7)"
			return 1
		}
	done
}

check_page_options() {
	local p own line cmds o c known
	declare -A opts
	for c in "${COMMANDS[@]}"; do
		opts[$c]=" $(help_options "$c" | LC_ALL=C sort -u | tr '\n' ' ')"
		[[ ${opts[$c]} == *" --help "* ]] || {
			echo "cannot read the options of $c --help"
			return 1
		}
	done
	for p in "${PAGES[@]}"; do
		own=${p%.1}
		[ "$own" = "$p" ] && own=
		while IFS= read -r line; do
			cmds="$own ${line%%|*}"
			for o in ${line#*|}; do
				known=
				for c in $cmds; do
					[[ ${opts[$c]-} == *" $o "* ]] && known=1
				done
				[ -n "$known" ] || {
					echo "$p: $o is not an option of${cmds:- any command named there}"
					echo "in: $line"
					return 1
				}
			done
		done < <(page_paragraphs "$(page_file "$p")")
	done
}

# The environment variables a program of the tree reads.
# (A name in quotes counts: the emulator names its variables in macros.)
read_variables() {
	{
		grep -rhoE 'getenv\("[A-Z_]+"\)' "$top_srcdir/lib" "$top_srcdir/cmd" \
			"$top_srcdir/tests/sim"
		grep -rhoE '"XENCHAN_SIM_[A-Z_]+"' "$top_srcdir/tests/sim"
	} | grep -oE '[A-Z][A-Z_]+' | grep -v '^getenv$' | LC_ALL=C sort -u
}

check_variables() {
	local read env v p
	read=$(read_variables)
	# Read by libxenstore (XENSTORED_RUNDIR) or set for the emulator.
	read+=$'\nXENSTORED_RUNDIR\nLD_PRELOAD\nPATH'
	for p in "${PAGES[@]}"; do
		for v in $(grep -oE '^\.It Ev [A-Z_]+|Ev [A-Z_]+' "$(page_file "$p")" |
			awk '{print $NF}' | LC_ALL=C sort -u); do
			grep -qx "$v" <<<"$read" || {
				echo "$p: $v is read by nothing"
				return 1
			}
		done
	done
	env=$(sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /p' "$top_srcdir/man/xenchan.7" |
		grep -oE '^\.It Ev [A-Z_]+' | awk '{print $3}')
	for v in $(grep -rhoE 'getenv\("(XENCHAN|XENSTORED)_[A-Z_]+"\)' \
		"$top_srcdir/lib" "$top_srcdir/cmd" |
		sed -E 's/getenv\("([A-Z_]+)"\)/\1/' | LC_ALL=C sort -u); do
		grep -qx "$v" <<<"$env" || {
			echo "xenchan.7: ENVIRONMENT lacks $v"
			return 1
		}
	done
}

@test "each command's --help and page give the same exit statuses, all in xenchan(7)" {
	local cmd help man all
	all=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$top_srcdir/man/xenchan.7" |
		grep -oE '^\.It [0-9]+' | awk '{print $2}')
	for cmd in "${COMMANDS[@]}"; do
		help=$("$top_builddir/cmd/$cmd" --help | sed -n '/^Exit status:/,$p' | tr '\n' ' ' |
			sed 's/^Exit status://' | grep -oE '(^|, ) *[0-9]+ ' | grep -oE '[0-9]+' |
			LC_ALL=C sort -n)
		man=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$(man_page "$cmd")" |
			grep -oE '^\.It [0-9]+' | awk '{print $2}' | LC_ALL=C sort -n)
		[ -n "$help" ] || {
			echo "$cmd --help: no Exit status line"
			return 1
		}
		same_set "$cmd: exit statuses in the page" "$help" "$man"
		for s in $help; do
			grep -qx "$s" <<<"$all" || {
				echo "xenchan.7: EXIT STATUS lacks $s ($cmd uses it)"
				return 1
			}
		done
	done
}

@test "the docs checks fail on a page that names what does not exist" {
	# The checks above, run on planted mistakes, must fail.
	local t=$BATS_TEST_TMPDIR/src
	mkdir -p "$t"
	cp -r "$top_srcdir/man" "$top_srcdir/lib" "$top_srcdir/cmd" "$t/"
	mkdir -p "$t/tests" && cp -r "$top_srcdir/tests/sim" "$t/tests/"
	printf '.Pp\nSee\n.Xr xenchan-frob 1 .\n' >>"$t/man/xenchan-ls.1"
	top_srcdir=$t run check_commands_exist
	assert_failure
	cp "$top_srcdir/man/xenchan-ls.1" "$t/man/"
	printf '.Pp\nUse\n.Fl \\-frobnicate .\n' >>"$t/man/xenchan-ls.1"
	top_srcdir=$t run check_page_options
	assert_failure
	assert_output --partial "xenchan-ls.1: --frobnicate"
	cp "$top_srcdir/man/xenchan-ls.1" "$t/man/"
	printf '.Sh ENVIRONMENT\n.It Ev XENCHAN_FROB\n' >>"$t/man/xenchan-ls.1"
	top_srcdir=$t run check_variables
	assert_failure
	cp "$top_srcdir/man/xenchan-ls.1" "$t/man/"
	sed -i '/^\.It Ev XENCHAN_RING_RATE/d' "$t/man/xenchan.7"
	top_srcdir=$t run check_variables
	assert_failure
	assert_output --partial "lacks XENCHAN_RING_RATE"
}
