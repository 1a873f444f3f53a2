/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Channel events: what changed in the channels of every domain, driven by
 * xenstore watches (no CPU while nothing changes).
 *
 * The monitor keeps what it last listed (xc_channel_list()) for each domain
 * and watches the nodes that listing reads: the domain's frontends, its
 * trusted copy under /libxl, the vchan endpoints it publishes, its name, and
 * the backend directories that serve it, plus @introduceDomain and
 * @releaseDomain for domains that come and go.  When a watch fires, every
 * domain it may concern is listed again and compared with what was kept: a
 * burst of changes is one listing per domain, and nothing a listing would
 * show is missed.  What is reported is each state the monitor saw, not
 * every state a channel passed through: a channel that appears and goes
 * between two listings is not reported.  A change no watch covers (a
 * direct or vchan server that died: XC_CHAN_STALE) shows at the next
 * listing of that domain.
 *
 * Watch events name guest-writable nodes: a guest can make the monitor list
 * it again, and a domain it names as a vchan client (as often as xenstored
 * delivers its writes), and nothing more.
 */
#ifndef XENCHAN_MONITOR_H
#define XENCHAN_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "domain.h"
#include "store.h"

enum xc_event_action {
	XC_EVENT_PRESENT,  /* there when the monitor started (XC_MONITOR_EXISTING) */
	XC_EVENT_APPEARED, /* new since the last listing */
	XC_EVENT_CHANGED,  /* there before, with other values now */
	XC_EVENT_GONE,     /* no longer there (its domain may be gone too) */
};

/* "present", "appeared", "changed", "gone". */
const char *xc_event_action_name(enum xc_event_action a);

struct xc_event {
	enum xc_event_action action;
	struct xc_domain domain;          /* as last listed (its name is the monitor's) */
	struct xc_domain old_domain;      /* changed: before (a rename); else as domain */
	const struct xc_channel *channel; /* now; for gone, as last listed */
	const struct xc_channel *old;     /* changed: before; NULL otherwise */
};

enum {
	XC_MONITOR_EXISTING = 1 << 0, /* report what is there at the start as present */
};

struct xc_monitor;

/*
 * Start watching.  Lists every domain once (with XC_MONITOR_EXISTING the
 * first xc_monitor_next() reports what it found as present).  The store
 * must not be used for other watches meanwhile: the monitor takes every
 * watch event it delivers.
 */
int xc_monitor_open(struct xc_store *st, unsigned flags, struct xc_monitor **out);

/*
 * Wait for changes until deadline (clock.h; XC_NEVER: none) and return
 * them: *ev[0..*n), gone ones first, each domain's in its listing order.
 * out_fd, when not -1, is where the caller writes what it reports (a pipe,
 * a terminal): its hangup ends the wait, so that a reader who left does
 * not go unnoticed until the next change.  The events and what they point
 * to stay valid until the next call or xc_monitor_close().  Returns 0 with
 * *n > 0, -ETIMEDOUT, -EINTR (a caught signal, lifecycle.h), -EPIPE
 * (out_fd hung up), -ECONNRESET (xenstored went away), or another negative
 * errno.
 */
int xc_monitor_next(struct xc_monitor *m, uint64_t deadline, int out_fd,
		    const struct xc_event **ev, size_t *n);

void xc_monitor_close(struct xc_monitor *m);

#endif
