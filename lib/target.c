/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "parse.h"
#include "target.h"
#include "vchan.h"

int xc_ring_rate(uint64_t *out)
{
	const char *s = getenv("XENCHAN_RING_RATE");

	*out = XC_RING_RATE_DEFAULT;
	if (!s || !*s)
		return 0;
	if (xc_parse_rate(s, out) < 0 || *out == 0) {
		*out = XC_RING_RATE_DEFAULT;
		return -EINVAL;
	}
	return 0;
}

void xc_target_clear(struct xc_target *t)
{
	xc_domain_clear(&t->domain);
	xc_channel_array_free(t->channels, t->n);
	memset(t, 0, sizeof(*t));
}

const char *xc_target_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such domain";
	case -ENODEV:
		return "no such channel";
	case -ENOTUNIQ:
		return "ambiguous: several domains match (use id:, name: or uuid:)";
	case -EINVAL:
		return "not a domain id, name or UUID";
	case -ETIMEDOUT:
		return "timed out waiting for the channel";
	case -ESRCH:
		return "domain destroyed";
	default:
		return strerror(-err);
	}
}

/*
 * A guest may not list another domain's channels: all it can reach there
 * is a vchan endpoint that domain serves to it, found by name.  It is the
 * only candidate, so there is nothing to choose by bandwidth.
 */
static int guest_target(struct xc_store *st, const char *channel,
			const struct xc_target_opts *o, struct xc_target *t)
{
	int r;

	r = xc_vchan_lookup(st, t->domain.domid, channel, &t->channels, &t->n);
	if (r < 0)
		return r;
	if (t->n == 0) {
		snprintf(t->choice.reason, sizeof(t->choice.reason), "no such channel");
		return -ENODEV;
	}
	if (o->transport != XC_TRANSPORT_UNKNOWN && o->transport != XC_TRANSPORT_VCHAN) {
		snprintf(t->choice.reason, sizeof(t->choice.reason),
			 "no %s channel (the channel has: vchan)",
			 xc_transport_name(o->transport));
		return -ENODEV;
	}
	t->chosen = t->choice.channel = &t->channels[0];
	snprintf(t->choice.reason, sizeof(t->choice.reason),
		 "vchan: the endpoint domain %u serves to this domain", t->domain.domid);
	return 0;
}

int xc_target_find(struct xc_store *st, const char *domain, const char *channel,
		   const struct xc_target_opts *o, struct xc_target *t)
{
	uint64_t threshold = o->threshold;
	int r;

	if (!threshold && xc_ring_rate(&threshold) < 0)
		return -EINVAL;

	memset(t, 0, sizeof(*t));
	if (o->wait_ms) {
		struct xc_wait_result res;
		const char *names[] = { channel };

		r = xc_wait(st, domain, names, 1, XC_WAIT_READY, o->wait_ms, &res);
		if (r < 0)
			return r;
		t->domain = res.domain;
		memset(&res.domain, 0, sizeof(res.domain));
		xc_wait_result_clear(&res);
	} else {
		r = xc_domain_resolve(st, domain, &t->domain);
		if (r < 0)
			return r;
	}
	r = xc_channel_list(st, t->domain.domid, &t->channels, &t->n);
	if (r == -EACCES)
		return guest_target(st, channel, o, t);
	if (r < 0)
		return r;
	r = xc_choose(t->channels, t->n, channel, o->create ? XC_TRANSPORT_UNKNOWN : o->transport,
		      o->rate, threshold, o->strict, &t->choice);
	if (r == 0) {
		t->chosen = t->choice.channel;
		return 0;
	}
	if (r == -ENOENT && o->create) {
		/* Hotplugged and served by xenchan itself. */
		t->created.domid = t->domain.domid;
		t->created.name = (char *)channel;
		t->created.transport = XC_TRANSPORT_DIRECT;
		t->chosen = &t->created;
		strcpy(t->choice.reason, "direct: hotplugged with --create");
		return 0;
	}
	return r == -ENOENT ? -ENODEV : r;
}
