/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>

#include "log.h"

static xc_log_fn log_fn;
static void *log_data;
static int log_priority = LOG_ERR;

void xc_log_set(xc_log_fn fn, void *data)
{
	log_fn = fn;
	log_data = data;
}

int xc_log_set_priority(int priority)
{
	int old = log_priority;

	log_priority = priority;
	return old;
}

int xc_log_get_priority(void)
{
	return log_priority;
}

bool xc_log_enabled(int prio)
{
	return log_fn != NULL && prio <= log_priority;
}

void xc_log(int prio, const char *fmt, ...)
{
	va_list ap;
	/* A log call must not change errno seen by the code around it. */
	int saved = errno;

	if (!xc_log_enabled(prio))
		return;
	va_start(ap, fmt);
	log_fn(log_data, prio, fmt, ap);
	va_end(ap);
	errno = saved;
}
