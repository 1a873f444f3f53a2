/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "peer.h"
#include "untrusted.h"

#define TOKEN_RELEASE "xc-peer-release"
#define TOKEN_FRONTEND "xc-peer-frontend"

struct xc_peer {
	struct xc_store *st;
	uint32_t domid;
	char dom_path[XC_DOMAIN_PATH_MAX];
	char *fe_state; /* <frontend>/state, or NULL */
	const char *gone;
};

int xc_peer_open(uint32_t domid, const char *frontend, struct xc_peer **out)
{
	struct xc_peer *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->domid = domid;
	snprintf(p->dom_path, sizeof(p->dom_path), "/local/domain/%u", domid);
	if (frontend && asprintf(&p->fe_state, "%s/state", frontend) < 0) {
		p->fe_state = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = xc_store_open(&p->st);
	if (r == 0)
		r = xc_store_watch(p->st, "@releaseDomain", TOKEN_RELEASE);
	if (r == 0 && p->fe_state)
		r = xc_store_watch(p->st, p->fe_state, TOKEN_FRONTEND);
	if (r == 0) {
		r = xc_store_fd(p->st);
		r = r < 0 ? r : 0;
	}
	if (r < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	xc_peer_close(p);
	return r;
}

void xc_peer_close(struct xc_peer *p)
{
	if (!p)
		return;
	xc_store_close(p->st);
	free(p->fe_state);
	free(p);
}

struct xc_store *xc_peer_store(struct xc_peer *p)
{
	return p->st;
}

int xc_peer_fd(struct xc_peer *p)
{
	return xc_store_fd(p->st);
}

static int domain_read(struct xc_peer *p)
{
	char *v = NULL;
	int r = xc_store_read(p->st, XBT_NULL, p->dom_path, XC_VALUE_MAX, &v);

	free(v);
	return r;
}

bool xc_peer_domain_alive(struct xc_peer *p)
{
	int r = domain_read(p);

	return r != -ENOENT && r != -ECONNRESET;
}

static const char lost[] = "lost the connection to xenstored";

static int mark_gone(struct xc_peer *p, const char *why, const char **out)
{
	if (!p->gone)
		xc_info("peer gone: %s", why);
	p->gone = why;
	if (out)
		*out = why;
	return why == lost ? -ECONNRESET : -EPIPE;
}

int xc_peer_check(struct xc_peer *p, const char **why)
{
	uint64_t state;
	char *path, *token;
	int r;

	if (p->gone)
		return mark_gone(p, p->gone, why);
	while ((r = xc_store_read_watch(p->st, &path, &token)) == 0) {
		free(path);
		free(token);
	}
	if (r == -ECONNRESET)
		return mark_gone(p, lost, why);
	if (r != -EAGAIN)
		return r;
	r = domain_read(p);
	if (r == -ENOENT)
		return mark_gone(p, "the domain was destroyed", why);
	if (r == -ECONNRESET)
		return mark_gone(p, lost, why);
	if (!p->fe_state)
		return 0;
	r = xc_store_read_uint(p->st, XBT_NULL, p->fe_state, XC_STATE_RECONFIGURED, &state);
	if (r == -ENOENT)
		return mark_gone(p, "the frontend was removed", why);
	if (r == -ECONNRESET)
		return mark_gone(p, lost, why);
	if (r == 0 && state >= XC_STATE_CLOSING && state <= XC_STATE_CLOSED)
		return mark_gone(p, "the frontend is closing", why);
	return 0;
}
