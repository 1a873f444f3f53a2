/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/clock.c's saturating deadlines, and the copy loop's decisions about
 * time (xc_copy_timing(), lib/copy.c) as a table: both pure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "copy.h"
#include "macro.h"
#include "tap.h"

static void test_deadlines(void)
{
	static const struct {
		uint64_t now, ms, want;
	} at[] = {
		{ 0, 0, 0 },
		{ 1000, 500, 1500 },
		{ 1000, XC_NEVER, XC_NEVER },
		/* -t 18446744073709551615ms: never, not a deadline in the past. */
		{ 5000, UINT64_MAX, XC_NEVER },
		{ 5000, UINT64_MAX - 5000, XC_NEVER },
		{ 5000, UINT64_MAX - 5001, UINT64_MAX - 1 },
		{ UINT64_MAX - 1, 1, XC_NEVER },
	};
	static const struct {
		uint64_t deadline, now;
		int want;
	} poll_ms[] = {
		{ XC_NEVER, 0, -1 },
		{ 1000, 1000, 0 },
		{ 1000, 2000, 0 },
		{ 1500, 1000, 500 },
		{ (uint64_t)INT32_MAX * 4, 0, INT32_MAX },
		{ XC_NEVER - 1, 0, INT32_MAX },
	};

	for (size_t i = 0; i < ARRAY_SIZE(at); i++)
		tap_ok(xc_deadline_at(at[i].now, at[i].ms) == at[i].want,
		       "xc_deadline_at(%llu, %llu)", (unsigned long long)at[i].now,
		       (unsigned long long)at[i].ms);
	for (size_t i = 0; i < ARRAY_SIZE(poll_ms); i++)
		tap_ok(xc_deadline_poll_ms(poll_ms[i].deadline, poll_ms[i].now) == poll_ms[i].want,
		       "xc_deadline_poll_ms(%llu, %llu) = %d",
		       (unsigned long long)poll_ms[i].deadline, (unsigned long long)poll_ms[i].now,
		       poll_ms[i].want);
	tap_ok(xc_deadline(0) == XC_NEVER, "a timeout of 0 is none");
	tap_ok(xc_deadline(UINT64_MAX) == XC_NEVER, "the largest timeout is none");
	tap_ok(!xc_deadline_passed(XC_NEVER, UINT64_MAX), "XC_NEVER never passes");
	tap_ok(xc_deadline_passed(10, 10), "a deadline has passed at its time");
	tap_ok(xc_deadline_min(XC_NEVER, 7) == 7, "xc_deadline_min");
}

enum { GO = 0, DONE = 1, STALLED = -ETIMEDOUT, LATE = -ETIME };

static void test_copy_timing(void)
{
	static const struct {
		const char *what;
		int64_t quit;      /* quit_after_ms */
		uint64_t stall;    /* stall_timeout_ms */
		int out_fd;
		struct xc_copy_timing t;
		int want;
		uint64_t deadline; /* when want is GO */
		uint64_t end;      /* opts.deadline, the overall one; 0: none */
	} cases[] = {
		{ "still sending, no timeouts: sleep for ever", 1000, 0, 1,
		  { .now = 100, .last_progress = 100, .wake_at = XC_NEVER }, GO, XC_NEVER },
		{ "delivered, quiet since 500, quit 1000: wake at 1500", 1000, 0, 1,
		  { .now = 600, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .last_progress = 600, .wake_at = XC_NEVER },
		  GO, 1500 },
		{ "delivered, the guest spoke at 900: wake at 1900", 1000, 0, 1,
		  { .now = 1000, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .last_rx = 900, .last_progress = 1000, .wake_at = XC_NEVER },
		  GO, 1900 },
		{ "delivered and quiet long enough: done", 1000, 0, 1,
		  { .now = 1500, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .last_progress = 1500, .wake_at = XC_NEVER },
		  DONE, 0 },
		{ "delivered, output still held: not done", 1000, 0, 1,
		  { .now = 5000, .delivered = true, .output_idle = false, .delivered_at = 500,
		    .last_progress = 5000, .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "quit 0: done once delivered", 0, 0, 1,
		  { .now = 10, .delivered = true, .output_idle = true, .delivered_at = 10,
		    .wake_at = XC_NEVER },
		  DONE, 0 },
		{ "no output: done once delivered", 1000, 0, -1,
		  { .now = 10, .delivered = true, .output_idle = true, .delivered_at = 10,
		    .wake_at = XC_NEVER },
		  DONE, 0 },
		{ "quit never: sleep for ever", -1, 0, 1,
		  { .now = 99999, .delivered = true, .output_idle = true, .delivered_at = 10,
		    .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "a huge quit saturates: never, not at once", INT64_MAX, 0, 1,
		  { .now = 99999, .delivered = true, .output_idle = true,
		    .delivered_at = UINT64_MAX - 10, .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "stalled for the timeout: -ETIMEDOUT", 1000, 2000, 1,
		  { .now = 2100, .last_progress = 100, .wake_at = XC_NEVER }, STALLED, 0 },
		{ "stall timeout pending: wake at it", 1000, 2000, 1,
		  { .now = 1100, .last_progress = 100, .wake_at = XC_NEVER }, GO, 2100 },
		{ "a huge stall timeout saturates: never", 1000, UINT64_MAX, 1,
		  { .now = 1100, .last_progress = 100, .wake_at = XC_NEVER }, GO, XC_NEVER },
		{ "the peer is gone: no stall", 1000, 2000, 1,
		  { .now = 9999, .gone = true, .last_progress = 100, .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "an earlier wake-up wins", 1000, 2000, 1,
		  { .now = 1100, .last_progress = 100, .wake_at = 1200 }, GO, 1200 },
		{ "the quiet deadline wins over a later wake-up", 1000, 0, 1,
		  { .now = 600, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .wake_at = 1700 },
		  GO, 1500 },
		{ "lines read, input delivered, output written: done without silence", -1, 0, 1,
		  { .now = 600, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .last_rx = 600, .lines_done = true, .wake_at = XC_NEVER },
		  DONE, 0 },
		{ "lines read, input not delivered yet: go on", -1, 0, 1,
		  { .now = 600, .lines_done = true, .last_progress = 600, .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "lines read, output still held: go on", -1, 0, 1,
		  { .now = 600, .delivered = true, .delivered_at = 500, .lines_done = true,
		    .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "lines not all read, quit never: sleep for ever", -1, 0, 1,
		  { .now = 99999, .delivered = true, .output_idle = true, .delivered_at = 10,
		    .wake_at = XC_NEVER },
		  GO, XC_NEVER },
		{ "an overall deadline ahead: wake at it", -1, 0, 1,
		  { .now = 1000, .last_progress = 1000, .wake_at = XC_NEVER }, GO, 5000, 5000 },
		{ "the overall deadline before the quiet one wins", 1000, 0, 1,
		  { .now = 600, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .wake_at = XC_NEVER },
		  GO, 1200, 1200 },
		{ "the overall deadline passed, nothing held: -ETIME", -1, 0, 1,
		  { .now = 5000, .output_idle = true, .last_rx = 4990, .wake_at = XC_NEVER },
		  LATE, 0, 5000 },
		{ "the overall deadline passed, output held: write it out for a while", -1, 0, 1,
		  { .now = 5100, .last_rx = 4990, .wake_at = XC_NEVER }, GO,
		  5000 + XC_COPY_DRAIN_MS, 5000 },
		{ "the overall deadline passed, output held too long: -ETIME", -1, 0, 1,
		  { .now = 5000 + XC_COPY_DRAIN_MS, .wake_at = XC_NEVER }, LATE, 0, 5000 },
		{ "done and past the overall deadline at once: done", 1000, 0, 1,
		  { .now = 5000, .delivered = true, .output_idle = true, .delivered_at = 500,
		    .wake_at = XC_NEVER },
		  DONE, 0, 5000 },
		{ "stalled and past the overall deadline: the deadline says it", 1000, 2000, 1,
		  { .now = 9000, .output_idle = true, .last_progress = 100, .wake_at = XC_NEVER },
		  LATE, 0, 5000 },
		{ "the overall deadline XC_NEVER: none", 1000, 0, 1,
		  { .now = 100, .last_progress = 100, .wake_at = XC_NEVER }, GO, XC_NEVER,
		  XC_NEVER },
		{ "an overall deadline at the clock's end: writing out saturates", -1, 0, 1,
		  { .now = UINT64_MAX - 5, .wake_at = XC_NEVER }, GO, XC_NEVER,
		  UINT64_MAX - 10 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct xc_copy_opts o = { .in_fd = 0, .out_fd = cases[i].out_fd,
					  .quit_after_ms = cases[i].quit,
					  .stall_timeout_ms = cases[i].stall,
					  .deadline = cases[i].end };
		uint64_t d = 0;
		int r = xc_copy_timing(&o, &cases[i].t, &d);

		tap_ok(r == cases[i].want && (r != GO || d == cases[i].deadline), "%s",
		       cases[i].what);
		if (r != cases[i].want || (r == GO && d != cases[i].deadline))
			tap_diag("got %d, deadline %llu", r, (unsigned long long)d);
	}
}

int main(void)
{
	test_deadlines();
	test_copy_timing();
	return tap_done_trailing_plan();
}
