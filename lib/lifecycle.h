/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A command's life, from its first instruction to its last, written once.
 *
 * Start-up: xc_lifecycle_init() makes descriptors 0, 1 and 2 valid before
 * anything else is opened (a closed one becomes /dev/null), so that a
 * xenstore connection, a socket or a lock file never lands on a standard
 * descriptor and never receives what was meant for stdout.
 *
 * Signals: with XC_LIFECYCLE_SIGNALS, SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * are caught from then on, except those ignored when the process started
 * (nohup's SIGHUP, the SIGINT and SIGQUIT of a script's background job),
 * which stay ignored.  The handler only records the first one and
 * makes xc_lifecycle_fd() readable; every wait in the library watches that
 * descriptor (xc_wait_fds()) and returns -EINTR, so the code unwinds through
 * its ordinary exit paths, which undo what was set up (hotplugged devices,
 * published endpoints, locks).  The command then dies by the same signal
 * (xc_lifecycle_die()), as a shell expects.  Without the flag the signals
 * keep their default action: for commands that leave nothing behind.
 *
 * Calls that cannot watch a descriptor (a xenstore request, which blocks in
 * libxenstore until xenstored answers) are guarded: xc_guard_begin() arms a
 * timer for the deadline; if it fires, or a signal arrives and the call has
 * not returned soon after, the descriptors registered with xc_guard_add_fd()
 * are shut down, which makes the blocked call fail, and xc_guard_end() says
 * why (-ETIMEDOUT or -EINTR).
 *
 * Teardown: after a signal, undoing what was set up needs xenstore again;
 * between xc_teardown_begin() and xc_teardown_end() waits and guarded calls
 * ignore the signal already received and are bounded by the teardown's own
 * short deadline.
 *
 * Process-global state for the main thread; the handlers are async-signal
 * safe.  Nothing here blocks except xc_wait_fds().
 */
#ifndef XENCHAN_LIFECYCLE_H
#define XENCHAN_LIFECYCLE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	XC_LIFECYCLE_SIGNALS = 1 << 0, /* catch INT, TERM, HUP, QUIT */
};

/*
 * Call first in main.  Returns 0, or a negative errno when a standard
 * descriptor could not be made valid or the handlers not installed (the
 * caller must then exit at once, printing nothing).
 */
int xc_lifecycle_init(unsigned flags);

/* Readable once a caught signal arrived (and until exit); -1 before init
 * or without XC_LIFECYCLE_SIGNALS. */
int xc_lifecycle_fd(void);

/* The first caught signal, or 0. */
int xc_lifecycle_signal(void);

/* If a signal was caught: die by it (default action, unblocked, raised).
 * Returns only when none was. */
void xc_lifecycle_die(void);

/* Undoing what was set up, after a signal too, for at most ms.  Nests. */
void xc_teardown_begin(uint64_t ms);
void xc_teardown_end(void);

/*
 * poll() p[0..n) until one is ready, the deadline (clock.h) passes, or a
 * signal is caught.  Returns the number ready (> 0), -ETIMEDOUT, -EINTR, or
 * another negative errno.  EINTR from poll() itself is retried.
 */
int xc_wait_fds(struct pollfd *p, unsigned n, uint64_t deadline);

/*
 * The command's overall deadline (clock.h; XC_NEVER, the default: none):
 * from now on every xc_wait_fds() and guarded call outside a teardown ends
 * by it too, with -ETIMEDOUT, whatever deadline its caller gave.  For an
 * option such as --max-time that bounds a whole session; put XC_NEVER back
 * before tearing down without xc_teardown_begin().
 */
void xc_lifecycle_set_deadline(uint64_t deadline);

/*
 * The bound xc_wait_fds() puts on every wait now (the teardown's, or the
 * command's; XC_NEVER: none).  A loop that waits in steps (poll, look,
 * wait again) takes -ETIMEDOUT from xc_wait_fds() for the end of a step:
 * once this has passed too, the step's end is the command's, and the loop
 * must end with -ETIMEDOUT rather than spin.
 */
uint64_t xc_lifecycle_deadline(void);

/*
 * For such a loop: whether xc_wait_fds()'s result r ends the wait (an
 * error, a signal, or -ETIMEDOUT once xc_lifecycle_deadline() has passed)
 * rather than only the step.
 */
bool xc_wait_over(int r);

/* Guard a blocking call: 0, or -EINTR / -ETIMEDOUT (then do not make it). */
int xc_guard_begin(uint64_t deadline);
/* After the call: 0, or -ETIMEDOUT / -EINTR when the guard cut it short. */
int xc_guard_end(void);

/* Descriptors (sockets) shut down to cut a blocked call short.  -ENOSPC
 * when too many are registered. */
int xc_guard_add_fd(int fd);
void xc_guard_remove_fd(int fd);

#endif
