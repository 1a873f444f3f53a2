/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging hook.  The library never prints: it hands messages to a function
 * the program installs (a command does so for -v).  With no function
 * installed, or below the priority threshold, messages are dropped.
 *
 * Priorities are syslog's (LOG_ERR ... LOG_DEBUG from <syslog.h>).  The
 * default threshold is LOG_ERR.
 *
 * The hook and threshold are process-global and not synchronized: set them
 * once, before other threads use the library.  None of these calls block
 * (the installed function may).
 */
#ifndef XENCHAN_LOG_H
#define XENCHAN_LOG_H

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

typedef void (*xc_log_fn)(void *data, int prio, const char *fmt, va_list ap);

/* Install fn (NULL: drop every message); data is passed through, not owned. */
void xc_log_set(xc_log_fn fn, void *data);

/* Messages with prio > priority are dropped.  Returns the previous value. */
int xc_log_set_priority(int priority);

/* Internal: used by the library to emit a message. */
void xc_log(int prio, const char *fmt, ...) _printf_(2, 3);

/* A xentoollog logger for the Xen libraries that reports through xc_log(). */
struct xentoollog_logger;
struct xentoollog_logger *xc_log_xtl(void);
/* The same at debug level only: for calls whose failure the caller reports. */
struct xentoollog_logger *xc_log_xtl_quiet(void);

/* Cheap check so callers can skip building expensive messages. */
bool xc_log_enabled(int prio);

#define xc_log_cond(prio, ...)                     \
	do {                                       \
		if (xc_log_enabled(prio))          \
			xc_log(prio, __VA_ARGS__); \
	} while (0)

#define xc_err(...) xc_log_cond(LOG_ERR, __VA_ARGS__)
#define xc_warn(...) xc_log_cond(LOG_WARNING, __VA_ARGS__)
#define xc_notice(...) xc_log_cond(LOG_NOTICE, __VA_ARGS__)
#define xc_info(...) xc_log_cond(LOG_INFO, __VA_ARGS__)
#define xc_dbg(...) xc_log_cond(LOG_DEBUG, __VA_ARGS__)

#endif
