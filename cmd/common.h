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
#include "session.h"

/* Exit statuses, documented in xenchan(7). */
enum {
	XC_EXIT_OK = 0,
	XC_EXIT_NEGATIVE = 1, /* a negative answer that is not an error */
	XC_EXIT_ERROR = 2,    /* usage or runtime error */
	XC_EXIT_NOTFOUND = 3, /* no such domain or channel */
	XC_EXIT_PEERGONE = 4, /* the peer went away */
	XC_EXIT_BUSY = 5,     /* another client holds the channel */
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
 * Call first: makes descriptors 0-2 valid and, with XC_LIFECYCLE_SIGNALS,
 * catches the terminating signals (lib/lifecycle.h); sets program_name,
 * installs the library log hook (messages at -v go to stderr with the
 * program prefix), and arranges for stdout write errors to fail the command
 * at exit, and for a caught signal to end it by that signal.
 */
void cmd_init(const char *name, unsigned lifecycle_flags);

/*
 * A user-supplied string made safe for a message: escaped (no control
 * character reaches the terminal) and cut to a length that leaves the
 * message's reason in place.  Valid until a few more calls; never NULL.
 */
const char *cmd_arg(const char *s);

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
 * --wait or -w written as wait_bare (e.g. "--wait=30s"; NULL: the command
 * has no such --wait), and a bare --follow as --follow=XC_FOLLOW_DEFAULT
 * (--follow takes its value only as --follow=DURATION: the word after it
 * stays an operand).  Freed by the caller.
 */
const char **cmd_fix_optional(int argc, const char **argv, const char *wait_bare);

/* --follow's value in milliseconds (NULL: 0, not following); 0 and what is
 * not a duration are usage errors. */
uint64_t cmd_follow_opt(const char *value);

/* A duration option's value in milliseconds, or a usage error naming it. */
uint64_t cmd_duration_opt(const char *name, const char *value);

/* A CHANNEL argument, checked as every command checks it (usage error). */
void cmd_check_channel(const char *name);

/* The one errno-to-exit-status table. */
int cmd_exit_status(int err);

/* Words for err where the generic strerror() would mislead. */
const char *cmd_strerror(int err);

/* ---- xenchan-cat and xenchan-send ---- */

/* The options both take: -t, -w, -T, -b, --strict, --create, --max-time,
 * --follow. */
extern struct poptOption session_options[];

/*
 * DOMAIN CHANNEL (and with files, FILE...) from ctx, checked: usage errors
 * exit.  A bare -w or --wait followed by a word that reads as a duration
 * ("-w 1s web01 chan"): when taking the word as the wait still leaves
 * DOMAIN and CHANNEL, it is the wait; when the command takes FILE
 * operands, so that the other reading is valid too, a usage error asks
 * "did you mean --wait=1s?".  Call before cmd_session_opts().
 */
const char **cmd_session_args(poptContext ctx, bool files);

/* session_options' values, checked, into o, and what they say about the
 * copy into c (the -t stall bound, the --max-time deadline); usage errors
 * exit.  Starts the --max-time clock. */
void cmd_session_opts(struct xc_session_opts *o, struct xc_copy_opts *c);

/*
 * Open the session for DOMAIN CHANNEL; on failure, say why.  Returns
 * XC_EXIT_OK or the exit status (after a caught signal: does not return).
 */
int cmd_session_open(struct xc_session *ss, const char *domain, const char *channel,
		     const struct xc_session_opts *o);

/*
 * With --follow (o->follow_ms): have the copy c follow the guest through
 * ss, reporting each break on stderr (unless -q); the report's resend
 * clause always with always_bytes, else only when input was sent.
 */
void cmd_session_follow(struct xc_session *ss, struct xc_copy_opts *c, bool always_bytes,
			const struct xc_session_opts *o);

/*
 * End the session whose copy returned r, with total the bytes it was to
 * deliver: tear down, report, and return the exit status (after a caught
 * signal: die by it).  With -v, success is reported as "<what> N bytes:
 * <proof>", and the bytes received when received is not NULL.
 */
int cmd_session_end(struct xc_session *ss, int r, uint64_t total, const char *what,
		    const uint64_t *received);

#endif
