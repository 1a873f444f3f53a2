/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny TAP producer for the unit tests (run by automake's tap-driver.sh).
 *
 *	tap_plan(n);
 *	tap_ok(cond, "what %s", ...);
 *	return tap_done();
 *
 * or, without a plan up front, return tap_done_trailing_plan().
 *
 * Diagnostics go to stdout as "# ..." lines, which the driver copies into the
 * test's log.
 */
#ifndef XENCHAN_TAP_H
#define XENCHAN_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned tap_count;
static unsigned tap_failed;
static unsigned tap_planned;

__attribute__((unused)) static void tap_plan(unsigned n)
{
	tap_planned = n;
	printf("1..%u\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3), unused)) static bool tap_ok(bool cond,
								 const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Stop the whole test program: "Bail out!" makes the driver report an error. */
__attribute__((format(printf, 1, 2), noreturn, unused)) static void
tap_bail(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(EXIT_FAILURE);
}

/*
 * For programs whose number of tests is only known at the end: print the
 * plan after the tests (TAP allows a trailing plan).  Returns the exit status.
 */
__attribute__((unused)) static int tap_done_trailing_plan(void)
{
	printf("1..%u\n", tap_count);
	fflush(stdout);
	return tap_failed == 0 && tap_count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Exit status for main: failure if any test failed or the plan was not met. */
__attribute__((unused)) static int tap_done(void)
{
	if (tap_count != tap_planned) {
		tap_diag("planned %u tests but ran %u", tap_planned, tap_count);
		return EXIT_FAILURE;
	}
	return tap_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
