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
#include "follow.h"
#include "stream.h"
#include "target.h"

struct xc_session_opts {
	struct xc_target_opts target; /* lookup: wait (for readiness, and for a busy
					 channel to be free), bandwidth, choice */
	struct xc_stream_opts stream; /* open: transport, backlog, create, timeout */
	bool listen;                  /* serve the channel (xc_stream_listen()) */
	size_t ring_size;             /* listen, vchan: each ring's size; 0: default */
	uint64_t follow_ms;           /* --follow: how long each break may take; 0: no */
};

/* The step a session failed in, for messages. */
enum xc_session_step {
	XC_STEP_STORE,  /* connecting to xenstore */
	XC_STEP_LOOKUP, /* the domain or the channel (see xc_target_strerror()) */
	XC_STEP_LISTEN, /* serving: publishing, waiting for the guest */
	XC_STEP_OPEN,   /* the lock and the stream (see xc_stream_strerror()) */
	XC_STEP_FOLLOW, /* the guest cannot be followed (xc_session_follow_strerror()) */
};

struct xc_session {
	struct xc_store *st;
	struct xc_target tgt;
	struct xc_stream *s;
	enum xc_session_step step;
	struct xc_stream_opts sopts; /* as used to open */
	/* Following (opts.follow_ms): */
	struct xc_follow follow;     /* the guest's identity and domids */
	uint64_t follow_ms;
	char *channel;               /* the channel's name, to find it again */
	char **siblings;             /* the toolstack's other channels (names) */
	size_t nsiblings;
	enum xc_transport transport; /* the transport, kept across breaks */
	struct xc_target_opts topts; /* the lookup, as first asked */
	uint64_t delivered_base;     /* bytes proven by the streams before this one */
};

/*
 * Everything up to a connected stream.  Returns 0 or a negative errno, with
 * ss->step saying where it failed.  Blocks, bounded by the deadlines in o;
 * -EINTR when a signal was caught.
 */
int xc_session_open(struct xc_session *ss, const char *domain, const char *channel,
		    const struct xc_session_opts *o);

/*
 * Following: why the guest cannot be followed, after XC_STEP_FOLLOW:
 * -EPERM (its vm key is not dom0's alone), -ENODATA (no UUID), -ENOMSG
 * (the channel has no name).
 */
const char *xc_session_follow_strerror(int err);

/*
 * Following: after the copy's break b (copy.h), take the session to the
 * guest's next domain: close the broken stream (undoing what it set up),
 * wait for the domain (follow.h), find the channel again by name (waiting
 * for it to be ready; a direct channel is hotplugged again), and open it
 * with the same transport.  The wait is bounded by b->gone_at plus
 * opts.follow_ms and by the command's deadline (lifecycle.h).  fb gets
 * the report.  Returns 0 with the new stream in ss->s, -ETIMEDOUT (no
 * domain, or no channel, in time), -EINTR, or another negative errno
 * (ss->step and ss->tgt say where, as for xc_session_open()).  ss->s is
 * NULL after a failure.
 */
int xc_session_follow(struct xc_session *ss, const struct xc_copy_break *b,
		      struct xc_follow_break *fb);

/*
 * Following, at a break seen at gone_at (clock.h): wait until the old
 * domain is destroyed, at most until gone_at plus opts.follow_ms (and the
 * command's deadline, lifecycle.h), so that the last look at what it
 * consumed is final: a migration's outgoing copy is left when it is
 * renamed, while it still exists.  Meanwhile, how the domain ends is noted
 * (xc_stream_note_end()).
 */
void xc_session_follow_settle(struct xc_session *ss, uint64_t gone_at);

/* xc_copy() over the session's stream. */
int xc_session_copy(struct xc_session *ss, const struct xc_copy_opts *o,
		    struct xc_copy_stats *stats);

/* Bytes proven delivered so far, and how (0 and none before open); when
 * following, over every stream of the session. */
void xc_session_delivered(struct xc_session *ss, uint64_t *bytes, enum xc_proof *proof);

/* Close the stream (undoing what it set up) and the store.  Blocks at most
 * about two seconds (a hotplugged channel is taken down), after a signal too. */
void xc_session_close(struct xc_session *ss);

#endif
