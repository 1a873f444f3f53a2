/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xentoollog.h>

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

/* libxenvchan, libxenevtchn and libxengnttab report through a xentoollog
 * logger; theirs go to our hook, with our prefix and threshold. */
static void xtl_vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
			 const char *context, const char *format, va_list al)
{
	char msg[512];
	int prio = level >= XTL_ERROR ? LOG_ERR
		   : level >= XTL_WARN ? LOG_WARNING
		   : level >= XTL_INFO ? LOG_INFO
				       : LOG_DEBUG;

	(void)l;
	if (!xc_log_enabled(prio))
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	msg[strcspn(msg, "\n")] = '\0';
	if (errnoval > 0)
		xc_log(prio, "%s%s%s: %s", context ? context : "", context ? ": " : "", msg,
		       strerror(errnoval));
	else
		xc_log(prio, "%s%s%s", context ? context : "", context ? ": " : "", msg);
}

/* The same, every message at debug level: for a library call whose failure
 * the caller handles and reports itself. */
static void xtl_vmessage_quiet(struct xentoollog_logger *l, xentoollog_level level,
			       int errnoval, const char *context, const char *format, va_list al)
{
	char msg[512];

	(void)l;
	(void)level;
	if (!xc_log_enabled(LOG_DEBUG))
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	msg[strcspn(msg, "\n")] = '\0';
	xc_log(LOG_DEBUG, "%s%s%s%s%s", context ? context : "", context ? ": " : "", msg,
	       errnoval > 0 ? ": " : "", errnoval > 0 ? strerror(errnoval) : "");
}

static void xtl_destroy(struct xentoollog_logger *l)
{
	(void)l;
}

static struct xentoollog_logger xtl_logger = {
	.vmessage = xtl_vmessage,
	.destroy = xtl_destroy,
};

struct xentoollog_logger *xc_log_xtl(void)
{
	return &xtl_logger;
}

static struct xentoollog_logger xtl_logger_quiet = {
	.vmessage = xtl_vmessage_quiet,
	.destroy = xtl_destroy,
};

struct xentoollog_logger *xc_log_xtl_quiet(void)
{
	return &xtl_logger_quiet;
}
