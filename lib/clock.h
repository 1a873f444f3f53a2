/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one clock: CLOCK_MONOTONIC in milliseconds, and deadlines computed
 * with saturating arithmetic.  A deadline is an absolute time on this clock;
 * XC_NEVER is a deadline that never comes.  A duration too large to reach
 * (any value whose deadline would pass the end of the clock's range) means
 * XC_NEVER: it never wraps into a deadline that has already passed.
 *
 * Pure except xc_now_ms(); nothing blocks, nothing allocates.
 */
#ifndef XENCHAN_CLOCK_H
#define XENCHAN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define XC_NEVER UINT64_MAX

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t xc_now_ms(void);

/* now + ms, XC_NEVER when that does not fit, or when ms is XC_NEVER. */
uint64_t xc_deadline_at(uint64_t now, uint64_t ms);

/* The deadline timeout_ms from now; 0 means none (XC_NEVER), as for
 * every --timeout option. */
uint64_t xc_deadline(uint64_t timeout_ms);

/* The earlier of two deadlines. */
static inline uint64_t xc_deadline_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * What poll() takes to sleep until deadline, seen at now: -1 for XC_NEVER,
 * 0 when it has passed, else the milliseconds left (at most INT32_MAX: the
 * caller loops).
 */
int xc_deadline_poll_ms(uint64_t deadline, uint64_t now);

static inline bool xc_deadline_passed(uint64_t deadline, uint64_t now)
{
	return deadline != XC_NEVER && now >= deadline;
}

#endif
