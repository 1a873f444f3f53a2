/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * From a DOMAIN CHANNEL pair on a command line to the channel to open: the
 * domain resolved, optionally waited for until the channel is ready, the
 * transport chosen (the channel's own, a forced one, or vchan by the
 * bandwidth asked for), or a direct channel to hotplug.  What xenchan-cat and
 * xenchan-send share.  In a guest, which may not read dom0's keys, the
 * DOMAIN is a domid and the channel a vchan endpoint that domain serves to
 * the guest (xc_vchan_lookup()).
 *
 * xc_target_find() blocks on xenstore (and on waiting, when asked to); the
 * target owns what it found until xc_target_clear().
 */
#ifndef XENCHAN_TARGET_H
#define XENCHAN_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "channel.h"
#include "choose.h"
#include "domain.h"
#include "store.h"
#include "wait.h"

struct xc_target_opts {
	enum xc_transport transport; /* forced, or XC_TRANSPORT_UNKNOWN */
	uint64_t rate;               /* bytes/s wanted; 0: not stated */
	uint64_t threshold;          /* 0: xc_ring_rate() */
	bool strict;                 /* no fallback from vchan to the channel */
	bool create;                 /* a missing channel becomes a direct one */
	uint64_t wait_ms;            /* wait this long for readiness; 0: do not */
};

struct xc_target {
	struct xc_domain domain;
	struct xc_channel *channels; /* the domain's channels */
	size_t n;
	struct xc_channel created;   /* the channel --create will hotplug */
	const struct xc_channel *chosen;
	struct xc_choice choice;     /* why (reason filled in on success and -ENOTSUP) */
};

/*
 * The ring rate vchan is chosen above, into *out: $XENCHAN_RING_RATE (a
 * rate such as "8M") when set, else XC_RING_RATE_DEFAULT.  -EINVAL (and
 * the default in *out) when the variable is set to anything but a rate.
 */
int xc_ring_rate(uint64_t *out);

/*
 * Returns 0, or -ENOENT (no such domain), -ENODEV (no such channel, or not
 * of the transport forced: t->choice.reason says which and what there is),
 * -ENOTUNIQ (ambiguous domain, or, with t->n > 0, several untrusted channels
 * of that name),
 * -ENOTSUP (strict and vchan needed but not offered), -ETIMEDOUT and -ESRCH
 * (waiting: timed out, domain destroyed), -ENOTUNIQ, -EINVAL, or another
 * negative errno.  xc_target_strerror() words each for a message.
 */
int xc_target_find(struct xc_store *st, const char *domain, const char *channel,
		   const struct xc_target_opts *opts, struct xc_target *t);
void xc_target_clear(struct xc_target *t);
const char *xc_target_strerror(int err);

#endif
