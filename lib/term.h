/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw mode for the terminal a person types into, and its restoration on
 * every way out: the caller's normal path (xc_term_restore()), exit()
 * (an atexit handler) and the fatal signals SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT (a handler that restores, then re-raises with the default action).
 *
 * One terminal per process: the saved settings are process-global.  Nothing
 * here blocks; the handlers only call async-signal-safe functions.
 */
#ifndef XENCHAN_TERM_H
#define XENCHAN_TERM_H

/*
 * Put the terminal fd in raw mode (cfmakeraw: no echo, no line editing, no
 * signals from the keyboard, output unprocessed), having saved its settings.
 * -ENOTTY when fd is not a terminal.
 */
int xc_term_raw(int fd);

/* Put back the settings xc_term_raw() saved; does nothing if none are. */
void xc_term_restore(void);

/*
 * An escape character spelt as a person would: "^]" or "^X" (a control
 * character), a single character, or "none" (-1).  Returns 0 and stores the
 * byte (or -1), or -EINVAL.
 */
int xc_term_parse_escape(const char *s, int *out);

#endif
