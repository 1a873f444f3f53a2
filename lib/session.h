/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A session with one channel, as xenchan-cat and xenchan-send run it:
 * resolve the domain, wait for the channel if asked, choose the transport,
 * take the channel's lock and open the stream (or serve a vchan endpoint),
 * copy, and tear down.  Written once, so that both commands (and the listen
 * path) get the same lifecycle: every wait is bounded by its deadline and
 * cut short by a caught signal (lifecycle.h), and xc_session_close() undoes
 * everything on every path (a hotplugged device, a published endpoint, the
 * lock).
 *
 * Ownership: the session owns its store, target and stream from
 * xc_session_open() until xc_session_close(), which is safe to call on a
 * session that failed to open, and twice.
 */
#ifndef XENCHAN_SESSION_H
#define XENCHAN_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "stream.h"
#include "target.h"

struct xc_session_opts {
	struct xc_target_opts target; /* lookup: wait (for readiness, and for a busy
					 channel to be free), bandwidth, choice */
	struct xc_stream_opts stream; /* open: transport, backlog, create, timeout */
	bool listen;                  /* serve the channel (xc_stream_listen()) */
	size_t ring_size;             /* listen, vchan: each ring's size; 0: default */
};

/* The step a session failed in, for messages. */
enum xc_session_step {
	XC_STEP_STORE,  /* connecting to xenstore */
	XC_STEP_LOOKUP, /* the domain or the channel (see xc_target_strerror()) */
	XC_STEP_LISTEN, /* serving: publishing, waiting for the guest */
	XC_STEP_OPEN,   /* the lock and the stream (see xc_stream_strerror()) */
};

struct xc_session {
	struct xc_store *st;
	struct xc_target tgt;
	struct xc_stream *s;
	enum xc_session_step step;
	struct xc_stream_opts sopts; /* as used to open */
};

/*
 * Everything up to a connected stream.  Returns 0 or a negative errno, with
 * ss->step saying where it failed.  Blocks, bounded by the deadlines in o;
 * -EINTR when a signal was caught.
 */
int xc_session_open(struct xc_session *ss, const char *domain, const char *channel,
		    const struct xc_session_opts *o);

/* xc_copy() over the session's stream. */
int xc_session_copy(struct xc_session *ss, const struct xc_copy_opts *o,
		    struct xc_copy_stats *stats);

/* Bytes proven delivered so far, and how (0 and none before open). */
void xc_session_delivered(struct xc_session *ss, uint64_t *bytes, enum xc_proof *proof);

/* Close the stream (undoing what it set up) and the store.  Blocks at most
 * about two seconds (a hotplugged channel is taken down), after a signal too. */
void xc_session_close(struct xc_session *ss);

#endif
