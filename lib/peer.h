/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching the other end of a stream: is the guest's domain still there,
 * and (optionally) its device's frontend?  One helper for every transport,
 * because no transport can be trusted to say it by itself: qemu may keep a
 * socket or pty open after the guest is gone, and a destroyed vchan peer
 * sends no unmap-notify (ocaml-vchan #65).
 *
 * A peer has its own xenstore connection, watching @releaseDomain (and the
 * frontend's state key, with a frontend).  The transport may use that
 * connection for its own requests and watches: xc_peer_check() drains every
 * event queued on it and looks again.
 *
 * Ownership: xc_peer_open() returns a peer the caller frees with
 * xc_peer_close(); the store it lends is the peer's.  Blocking: open and
 * check make xenstore requests (bounded as store.h says); nothing else.
 */
#ifndef XENCHAN_PEER_H
#define XENCHAN_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct xc_peer;

/*
 * Watch domain domid and, when frontend is not NULL, the frontend device
 * directory at that path: the peer is gone once the frontend is removed or
 * closing.  Returns 0 or a negative errno.
 */
int xc_peer_open(uint32_t domid, const char *frontend, struct xc_peer **out);
void xc_peer_close(struct xc_peer *p);

/* The peer's xenstore connection, for the transport's own use. */
struct xc_store *xc_peer_store(struct xc_peer *p);

/* Polls readable (POLLIN) when xc_peer_check() has something to look at. */
int xc_peer_fd(struct xc_peer *p);

/*
 * Take the queued events and look again.  0 while the peer is there;
 * -EPIPE once it is gone (the domain destroyed, the frontend removed or
 * closing), -ECONNRESET once xenstored is lost, and the same from then on;
 * *why (may be NULL) gets the reason, a static string.  Another negative
 * errno on failure.
 */
int xc_peer_check(struct xc_peer *p, const char **why);

/* Whether the domain exists, asked now (a guest that may not read dom0's
 * directory takes it as existing).  A lost xenstore says false. */
bool xc_peer_domain_alive(struct xc_peer *p);

/*
 * How a domain ended, as far as what it showed before it went tells
 * (--follow's report): its name ending in "--migratedaway" (xl migrate
 * renames the outgoing copy); else the reason it shut down with, as the
 * hypervisor keeps it from the guest's shutdown until the domain is
 * destroyed (reboot, suspend for a save or a migration, poweroff, crash or
 * watchdog); else, when that was not seen (the hypervisor cannot be asked,
 * or the domain was destroyed before we looked), the toolstack's last
 * request in control/shutdown (xl writes "reboot", "suspend", "poweroff",
 * "halt"; Linux clears it as it acknowledges).  DESTROYED when none of
 * these was seen.
 */
enum xc_peer_end {
	XC_PEER_END_DESTROYED = 0,
	XC_PEER_END_REBOOT,
	XC_PEER_END_SUSPEND,
	XC_PEER_END_POWEROFF,
	XC_PEER_END_MIGRATED,
	XC_PEER_END_CRASH,
};

/* "destroyed", "reboot", "save or migrate", "poweroff", "migrated", "crash". */
const char *xc_peer_end_name(enum xc_peer_end e);

/*
 * From now on, also watch the domain's control/shutdown and name, and
 * record what they and the hypervisor (how the domain shut down) say on
 * every xc_peer_check() while the domain exists.
 * control/shutdown is the guest's to write (it acknowledges a request by
 * clearing it), so what it says is only ever reported, never acted on; a
 * request the guest cleared before we looked is not seen.  The name is
 * dom0's: once it ends in "--migratedaway" the peer is gone (-EPIPE), as
 * the guest is leaving that copy.  Returns 0 or a negative errno.
 */
int xc_peer_watch_lifecycle(struct xc_peer *p);

/*
 * Look again at how the domain ends, once the peer is gone too (a frontend
 * that closed as the guest went down, before the domain shut down): what
 * xc_peer_check() records while the domain exists, and the hypervisor's
 * shutdown reason once its directory is gone.  Only with the lifecycle
 * watched.
 */
void xc_peer_note_end(struct xc_peer *p);

/* What was recorded (XC_PEER_END_DESTROYED before the watch, or if nothing). */
enum xc_peer_end xc_peer_end(const struct xc_peer *p);

#endif
