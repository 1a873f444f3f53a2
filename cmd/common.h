/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every xenchan command shares: the program name, messages, exit codes,
 * the common popt options and their handling.  Option tables only; no
 * command logic lives here.
 */
#ifndef XENCHAN_CMD_COMMON_H
#define XENCHAN_CMD_COMMON_H

#include <popt.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Exit statuses, documented in xenchan(7). */
enum {
	XC_EXIT_OK = 0,
	XC_EXIT_NEGATIVE = 1, /* a negative answer that is not an error */
	XC_EXIT_ERROR = 2,    /* usage or runtime error */
	XC_EXIT_NOTFOUND = 3, /* no such domain or channel */
	XC_EXIT_PEERGONE = 4, /* the peer went away */
	XC_EXIT_TIMEOUT = 124,
};

extern const char *program_name;
extern int verbose; /* -v count */
extern int quiet;

/* The shared options: -v, -q, -h/--help, --usage, -V/--version. */
extern struct poptOption common_options[];

/* Option values common_options reports through poptGetNextOpt. */
enum { OPT_HELP = 0x1000, OPT_USAGE, OPT_VERSION };

/*
 * Call first: sets program_name, installs the library log hook (messages at
 * -v go to stderr with the program prefix), and arranges for stdout write
 * errors to fail the command at exit.
 */
void cmd_init(const char *name);

/* "prog: message" on stderr.  Never splits a message. */
void cmd_err(const char *fmt, ...) _printf_(1, 2);
/* The same, only with -v. */
void cmd_verbose(const char *fmt, ...) _printf_(1, 2);

/* Bad usage: the message, the "Try --help" line, exit 2. */
_Noreturn void cmd_usage_error(const char *fmt, ...) _printf_(1, 2);

/*
 * Run popt over argv with table; handles the common options (calling help()
 * or printing the usage line, then exiting 0), reports popt errors as usage
 * errors, and hands every other option value to fn (may be NULL).
 * Returns the context for poptGetArgs; it is freed at exit (do not free it).
 */
poptContext cmd_parse(int argc, const char **argv, const struct poptOption *table,
		      const char *usage, void (*help)(void), void (*fn)(int opt, poptContext ctx));

/*
 * popt takes the next word as the value of an optional-argument option
 * given bare ("--wait web01" would wait "web01"): a copy of argv with a bare
 * --wait or -w written as `bare` (e.g. "--wait=30s").  Freed by the caller.
 */
const char **cmd_fix_optional_wait(int argc, const char **argv, const char *bare);

/* A duration option's value in milliseconds, or a usage error naming it. */
uint64_t cmd_duration_opt(const char *name, const char *value);

struct xc_target;

/*
 * After xc_target_find() returned r for DOMAIN/CHANNEL (escaped for
 * messages): report a failure, or the warnings and -v reason of a success.
 * Returns the exit status for r (XC_EXIT_OK when r is 0).
 */
int cmd_report_target(const char *edom, const char *echan, int r,
		      const struct xc_target *t);

/* Exit status for a negative errno from domain/channel lookups. */
int cmd_exit_for(int err);

#endif
