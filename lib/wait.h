/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting for a domain and its channels to reach a state, driven by xenstore
 * watches (and inotify for a socket that has yet to appear): no polling, no
 * CPU used while nothing changes.
 *
 * xc_wait() blocks until the state is reached, the deadline passes, or the
 * domain is destroyed.  It owns nothing it is given.
 */
#ifndef XENCHAN_WAIT_H
#define XENCHAN_WAIT_H

#include <stdint.h>

#include "channel.h"
#include "domain.h"
#include "store.h"

enum xc_wait_for {
	XC_WAIT_EXISTS,    /* the domain (and each channel named) exists */
	XC_WAIT_CONNECTED, /* ... and each channel's frontend and backend are Connected */
	XC_WAIT_READY,     /* ... and each endpoint accepts (xc_channel_endpoint_ready) */
	XC_WAIT_GONE,      /* the domain (or each channel named) no longer exists */
};

/* "exists", "connected", "ready", "gone"; -EINVAL otherwise. */
int xc_wait_for_parse(const char *s, enum xc_wait_for *out);
const char *xc_wait_for_name(enum xc_wait_for w);

struct xc_wait_result {
	struct xc_domain domain;    /* the domain found (cleared with xc_wait_result_clear) */
	struct xc_channel *channels; /* the channels waited for, in argument order */
	size_t nchannels;
};

void xc_wait_result_clear(struct xc_wait_result *res);

/*
 * Wait until the domain `domain` (a DOMAIN argument: it need not exist yet)
 * and the channels named in names[0..nnames) reach `what`.  With no names,
 * connected and ready apply to every channel the domain has (at least one).
 * timeout_ms: 0 waits forever.
 *
 * Returns 0 (reached; res filled in unless what is XC_WAIT_GONE),
 * -ETIMEDOUT, -ESRCH (the domain was destroyed, or had been, before the
 * state was reached), -ENOTUNIQ / -EINVAL (the argument is ambiguous or
 * malformed), or another negative errno.
 */
int xc_wait(struct xc_store *st, const char *domain, const char *const *names,
	    size_t nnames, enum xc_wait_for what, uint64_t timeout_ms,
	    struct xc_wait_result *res);

/*
 * xc_wait(), also watching descriptor fd (readable: fn(data) is called,
 * then the state is looked at again), for a caller that must keep an eye on
 * something else while it waits (--follow's record of how the domain
 * ends).
 */
struct xc_wait_hook {
	int fd;
	void (*fn)(void *data);
	void *data;
};

int xc_wait_hooked(struct xc_store *st, const char *domain, const char *const *names,
		   size_t nnames, enum xc_wait_for what, uint64_t timeout_ms,
		   const struct xc_wait_hook *hook, struct xc_wait_result *res);

#endif
