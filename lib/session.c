/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "domain.h"
#include "log.h"
#include "parse.h"
#include "session.h"
#include "untrusted.h"

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
	ss->step = XC_STEP_OPEN;
	return xc_stream_open(ss->st, ss->tgt.chosen, &ss->sopts, &ss->s);
}

int xc_session_copy(struct xc_session *ss, const struct xc_copy_opts *o,
		    struct xc_copy_stats *stats)
{
	return xc_copy(ss->s, o, stats);
}

void xc_session_delivered(struct xc_session *ss, uint64_t *bytes, enum xc_proof *proof)
{
	uint64_t pending;

	*bytes = 0;
	*proof = XC_PROOF_NONE;
	if (ss->s)
		xc_stream_delivered(ss->s, bytes, &pending, proof);
}

void xc_session_close(struct xc_session *ss)
{
	xc_stream_close(ss->s);
	ss->s = NULL;
	xc_store_close(ss->st);
	ss->st = NULL;
	xc_target_clear(&ss->tgt);
}
