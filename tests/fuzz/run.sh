#!/bin/bash
# Fuzz each libFuzzer target for a bounded time, from a scratch copy of its
# checked-in corpus: what "make fuzz-run" does after building them.
#
#	run.sh SRCDIR BINDIR TARGET...
#
# For each TARGET, BINDIR/fuzz-TARGET runs for $FUZZ_SECONDS (default 20)
# seconds on a copy of SRCDIR/tests/fuzz/corpus/TARGET in a temporary
# directory (the checked-in corpus is never written), with the dictionary
# SRCDIR/tests/fuzz/TARGET.dict when there is one, and one line is printed:
#
#	fuzz-run: values: 412345 executions in 20 s, corpus 60 -> 143, cov 812: ok
#
# A crash, sanitizer report, leak, timeout (an input running longer than
# $FUZZ_TIMEOUT seconds, default 30) or out-of-memory fails the target: the
# end of its log and the input are printed, the input is kept in BINDIR as
# fuzz-TARGET-crash-* (or -leak-, -timeout-, -oom-), and after the other
# targets have run the script exits 1.  The full log is BINDIR/fuzz-TARGET.log.
# $FUZZ_ARGS adds libFuzzer options (-seed=N to repeat a run).
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 SRCDIR BINDIR TARGET..." >&2
	exit 2
fi
srcdir=$1
bindir=$2
shift 2
seconds=${FUZZ_SECONDS:-20}
timeout=${FUZZ_TIMEOUT:-30}
case $seconds$timeout in
*[!0-9]*)
	echo "fuzz-run: FUZZ_SECONDS and FUZZ_TIMEOUT are whole seconds" >&2
	exit 2
	;;
esac

# Stack traces for UBSan reports too; -fno-sanitize-recover makes them fatal.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/xenchan-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=()
for t in "$@"; do
	bin=$bindir/fuzz-$t
	seeds=$srcdir/tests/fuzz/corpus/$t
	log=$bindir/fuzz-$t.log
	dict=()

	if [ ! -x "$bin" ]; then
		echo "fuzz-run: $bin: not built" >&2
		exit 2
	fi
	if [ ! -d "$seeds" ]; then
		echo "fuzz-run: $seeds: no corpus" >&2
		exit 2
	fi
	if [ -f "$srcdir/tests/fuzz/$t.dict" ]; then
		dict=(-dict="$srcdir/tests/fuzz/$t.dict")
	fi
	mkdir "$work/$t"
	cp "$seeds"/* "$work/$t"/
	before=$(find "$work/$t" -type f | wc -l)

	rc=0
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
	"$bin" -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 \
		"${dict[@]}" -artifact_prefix="$bindir/fuzz-$t-" ${FUZZ_ARGS-} \
		"$work/$t" >"$log" 2>&1 || rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE .*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	after=$(find "$work/$t" -type f | wc -l)
	# A sanitizer that reports without stopping is a failure all the same.
	if [ "$rc" -eq 0 ] && grep -q -e 'runtime error:' -e '^==[0-9]*==ERROR:' "$log"; then
		rc=1
	fi
	if [ "$rc" -eq 0 ]; then
		echo "fuzz-run: $t: ${execs:-?} executions in $seconds s," \
			"corpus $before -> $after, cov ${cov:-?}: ok"
		continue
	fi

	failed+=("$t")
	echo "fuzz-run: $t: FAILED (exit $rc) after ${execs:-?} executions; log: $log"
	grep -m 1 '^INFO: Seed:' "$log" || true
	echo "---- end of $log ----"
	tail -n 60 "$log"
	echo "----"
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	if [ -n "$input" ] && [ -f "$input" ]; then
		echo "input: $input ($(wc -c <"$input") bytes), first 512:"
		head -c 512 "$input" | od -A d -c
		echo "reproduce: $bin $input"
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz-run: failed: ${failed[*]}"
	exit 1
fi
echo "fuzz-run: $*: $seconds s each, no failures"
