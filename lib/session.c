/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "domain.h"
#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "session.h"
#include "strv.h"
#include "untrusted.h"
#include "wait.h"

#define TOKEN_SETTLE "xc-session-settle"

/* Serve the channel to the domain: direct, or a vchan endpoint like xencat -l. */
static int session_listen(struct xc_session *ss, const char *domain, const char *channel,
			  const struct xc_session_opts *o)
{
	struct xc_domain *d = &ss->tgt.domain;
	int r;

	ss->step = XC_STEP_LOOKUP;
	/* A guest cannot read other domains' names: a domid is taken as it is,
	 * but it must exist (libxenvchan fails badly granting to no one). */
	if (xc_parse_domid(domain, &d->domid) == 0) {
		char path[XC_DOMAIN_PATH_MAX];
		char *v = NULL;

		snprintf(path, sizeof(path), "/local/domain/%u", d->domid);
		r = xc_store_read(ss->st, XBT_NULL, path, XC_VALUE_MAX, &v);
		free(v);
		/* A guest may not read dom0's directory: libxenvchan will tell. */
		if (r == -EACCES || r == -EFBIG || r == -EBADMSG)
			r = 0;
	} else {
		r = xc_domain_resolve(ss->st, domain, d);
	}
	if (r < 0)
		return r;
	ss->step = XC_STEP_LISTEN;
	xc_info("%s: serving to domain %u", xc_transport_name(o->stream.transport), d->domid);
	return xc_stream_listen(ss->st, d->domid, channel, &ss->sopts, o->ring_size, &ss->s);
}

/*
 * The names of the domain's other console channels, those a rebuilt domain
 * gets back from its toolstack (not xenchan's own, which nobody restores).
 * A direct channel added to the new domain waits for them first: added
 * while the toolstack is still adding its devices, it could take a devid
 * the toolstack is about to write.
 */
static int record_siblings(struct xc_session *ss)
{
	const struct xc_channel *v = ss->tgt.channels;

	ss->siblings = calloc(ss->tgt.n + 1, sizeof(*ss->siblings));
	if (!ss->siblings)
		return -ENOMEM;
	for (size_t i = 0; i < ss->tgt.n; i++) {
		if (v[i].transport == XC_TRANSPORT_VCHAN || !v[i].devid || !v[i].name ||
		    !*v[i].name || streq(v[i].name, ss->channel) ||
		    (v[i].connection && streq(v[i].connection, "xenchan")))
			continue;
		ss->siblings[ss->nsiblings] = strdup(v[i].name);
		if (!ss->siblings[ss->nsiblings])
			return -ENOMEM;
		ss->nsiblings++;
	}
	return 0;
}

/* Wait (at most XC_FOLLOW_SETTLE_MS, and not past deadline) until domain
 * domid has the toolstack's channels back.  Returns 0, or -ESRCH when the
 * domain went away too; a timeout is said and not an error. */
static int wait_siblings(struct xc_session *ss, uint32_t domid, uint64_t deadline)
{
	uint64_t now = xc_now_ms(), ms;
	struct xc_wait_result res = { 0 };
	char dom[24];
	int r;

	if (!ss->nsiblings || xc_deadline_passed(deadline, now))
		return 0;
	ms = deadline - now < XC_FOLLOW_SETTLE_MS ? deadline - now : XC_FOLLOW_SETTLE_MS;
	snprintf(dom, sizeof(dom), "id:%u", domid);
	r = xc_wait(ss->st, dom, (const char *const *)ss->siblings, ss->nsiblings,
		    XC_WAIT_EXISTS, ms, &res);
	xc_wait_result_clear(&res);
	if (r == -ETIMEDOUT) {
		xc_info("domain %u: its other channels did not all come back within %u s: "
			"adding ours anyway", domid, XC_FOLLOW_SETTLE_MS / 1000);
		return 0;
	}
	return r;
}

/* Who the guest is, and the channel's name, for following it. */
static int follow_start(struct xc_session *ss, const struct xc_session_opts *o)
{
	const struct xc_channel *c = ss->tgt.chosen;
	int r;

	ss->step = XC_STEP_FOLLOW;
	if (!c->name || !*c->name)
		return -ENOMSG;
	ss->channel = strdup(c->name);
	if (!ss->channel)
		return -ENOMEM;
	r = record_siblings(ss);
	if (r < 0)
		return r;
	r = xc_follow_init(&ss->follow, ss->st, ss->tgt.domain.domid);
	if (r == -EACCES)
		r = -ENODATA;
	if (r < 0)
		return r;
	ss->follow_ms = o->follow_ms;
	ss->topts = o->target;
	ss->transport = o->stream.transport ? o->stream.transport : c->transport;
	ss->sopts.follow = true;
	return 0;
}

int xc_session_open(struct xc_session *ss, const char *domain, const char *channel,
		    const struct xc_session_opts *o)
{
	int r;

	memset(ss, 0, sizeof(*ss));
	ss->sopts = o->stream;
	/*
	 * --wait waits for the channel to be free too, like flock -w, within
	 * the same budget as for it to be ready: a held lock is retried (woken
	 * by its release), and a socket whose qemu serves another client is
	 * looked at again until that client leaves (lib/qemu.c).  --max-time
	 * ends either wait first (lifecycle.h, xc_wait_over()).
	 */
	if (o->target.wait_ms)
		ss->sopts.busy_deadline = xc_deadline(o->target.wait_ms);
	ss->step = XC_STEP_STORE;
	r = xc_store_open(&ss->st);
	if (r < 0)
		return r;
	if (o->listen)
		return session_listen(ss, domain, channel, o);

	ss->step = XC_STEP_LOOKUP;
	r = xc_target_find(ss->st, domain, channel, &o->target, &ss->tgt);
	if (r < 0)
		return r;
	if (o->follow_ms) {
		r = follow_start(ss, o);
		if (r < 0)
			return r;
	}
	ss->step = XC_STEP_OPEN;
	return xc_stream_open(ss->st, ss->tgt.chosen, &ss->sopts, &ss->s);
}

const char *xc_session_follow_strerror(int err)
{
	switch (err) {
	case -EPERM:
		return "the domain's UUID (its vm key) is not dom0's alone: cannot follow it";
	case -ENODATA:
		return "the domain has no UUID (no vm key): cannot follow it";
	case -ENOMSG:
		return "the channel has no name to find it again by: cannot follow it";
	default:
		return strerror(-err);
	}
}

void xc_session_follow_settle(struct xc_session *ss, uint64_t gone_at)
{
	uint64_t deadline = xc_deadline_at(gone_at, ss->follow_ms);
	char path[XC_DOMAIN_PATH_MAX];
	char *v, *p, *tok;
	int fd = xc_store_fd(ss->st), r;

	if (fd < 0 || xc_store_watch(ss->st, "@releaseDomain", TOKEN_SETTLE) < 0)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u", ss->follow.domid);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		while (xc_store_read_watch(ss->st, &p, &tok) == 0) {
			free(p);
			free(tok);
		}
		/* The stream may have ended before the domain did (a guest
		 * going down closes its frontends first): how it ends is seen
		 * meanwhile. */
		xc_stream_note_end(ss->s);
		v = NULL;
		r = xc_store_read(ss->st, XBT_NULL, path, XC_VALUE_MAX, &v);
		free(v);
		if (r == -ENOENT || r == -ECONNRESET)
			break;
		if (xc_wait_fds(&pfd, 1, deadline) < 0)
			break;
	}
	while (xc_store_read_watch(ss->st, &p, &tok) == 0) {
		free(p);
		free(tok);
	}
	xc_stream_note_end(ss->s);
	xc_store_unwatch(ss->st, "@releaseDomain", TOKEN_SETTLE);
}

int xc_session_follow(struct xc_session *ss, const struct xc_copy_break *b,
		      struct xc_follow_break *fb)
{
	uint64_t deadline = xc_deadline_at(b->gone_at, ss->follow_ms);
	uint64_t outer = xc_lifecycle_deadline(), now;
	struct xc_target_opts to = ss->topts;
	struct xc_stream_opts so = ss->sopts;
	uint32_t domid = 0;
	char dom[24];
	int r;

	memset(fb, 0, sizeof(*fb));
	fb->from = ss->follow.domid;
	fb->why = xc_stream_peer_end(ss->s);
	fb->bytes = b->sending;
	fb->resent = b->resent;
	fb->twice = b->twice;
	fb->unproven = b->unproven;
	ss->delivered_base += b->stream_delivered;
	/* The old stream first: a socket's lock and path are the new qemu's
	 * too, and a hotplugged channel is removed from the old domain. */
	xc_stream_close(ss->s);
	ss->s = NULL;
	xc_target_clear(&ss->tgt);

	/* The same transport, on the channel of the same name; a direct
	 * channel is xenchan's own, which no restore brings back: added again. */
	to.transport = so.transport = ss->transport;
	to.rate = 0;
	to.strict = false;
	if (ss->transport == XC_TRANSPORT_DIRECT)
		to.create = so.create = true;
	so.busy_deadline = deadline;
	xc_lifecycle_set_deadline(xc_deadline_min(outer, deadline));
	for (;;) {
		ss->step = XC_STEP_LOOKUP;
		r = xc_follow_wait(&ss->follow, ss->st, deadline, &domid);
		if (r < 0)
			break;
		xc_info("following %s: domain %u", ss->follow.uuid, domid);
		snprintf(dom, sizeof(dom), "id:%u", domid);
		r = to.create ? wait_siblings(ss, domid, deadline) : 0;
		now = xc_now_ms();
		/* Wait for the channel to be ready, but not for one that is ours
		 * to add. */
		to.wait_ms = to.create || xc_deadline_passed(deadline, now) ? 0 : deadline - now;
		if (r == 0)
			r = xc_target_find(ss->st, dom, ss->channel, &to, &ss->tgt);
		if (r == 0) {
			ss->step = XC_STEP_OPEN;
			r = xc_stream_open(ss->st, ss->tgt.chosen, &so, &ss->s);
		}
		/* That domain went away too: wait for the next one. */
		if ((r == -ESRCH || r == -ENOENT || r == -EPIPE) &&
		    !xc_deadline_passed(deadline, xc_now_ms())) {
			xc_target_clear(&ss->tgt);
			fb->from = domid;
			continue;
		}
		break;
	}
	xc_lifecycle_set_deadline(outer);
	fb->to = domid;
	fb->ms = xc_now_ms() - b->gone_at;
	if (r < 0) {
		xc_stream_close(ss->s);
		ss->s = NULL;
		return r;
	}
	return 0;
}

int xc_session_copy(struct xc_session *ss, const struct xc_copy_opts *o,
		    struct xc_copy_stats *stats)
{
	return xc_copy(&ss->s, o, stats);
}

void xc_session_delivered(struct xc_session *ss, uint64_t *bytes, enum xc_proof *proof)
{
	uint64_t pending;

	*bytes = 0;
	*proof = XC_PROOF_NONE;
	if (ss->s && xc_stream_delivered(ss->s, bytes, &pending, proof) < 0)
		*bytes = 0;
	*bytes += ss->delivered_base;
}

void xc_session_close(struct xc_session *ss)
{
	xc_stream_close(ss->s);
	ss->s = NULL;
	xc_store_close(ss->st);
	ss->st = NULL;
	xc_target_clear(&ss->tgt);
	xc_follow_clear(&ss->follow);
	free(ss->channel);
	xc_strv_free(ss->siblings);
	ss->channel = NULL;
}
