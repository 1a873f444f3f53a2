/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <time.h>

#include "clock.h"

uint64_t xc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t xc_deadline_at(uint64_t now, uint64_t ms)
{
	if (ms >= XC_NEVER - now)
		return XC_NEVER;
	return now + ms;
}

uint64_t xc_deadline(uint64_t timeout_ms)
{
	return timeout_ms ? xc_deadline_at(xc_now_ms(), timeout_ms) : XC_NEVER;
}

int xc_deadline_poll_ms(uint64_t deadline, uint64_t now)
{
	if (deadline == XC_NEVER)
		return -1;
	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}
