/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Channel discovery: what channels a domain has, how each is reached, what
 * state it is in, and which of those facts a guest could have forged.
 *
 * Sources, in order of trust:
 *  - /libxl/<domid>/device/console/<devid>/: the toolstack's copy (name,
 *    connection, path).  No guest can read or write it.  Identity comes from
 *    here whenever it exists.
 *  - the backend directory /local/domain/<b>/backend/console/<domid>/<devid>/
 *    (dom0-owned, guest-readable): state.
 *  - the frontend /local/domain/<domid>/device/console/<devid>/: state,
 *    ring-ref and port are the guest's; name, type, output, tty are
 *    dom0-owned since XSA-57, which is checked, not assumed.
 *  - vchan endpoints /local/domain/<server>/data/vchan/<client>/<port>/,
 *    written entirely by the server: untrusted by nature.
 *
 * Every function that takes a store blocks on xenstore round trips.  Returned
 * arrays and strings are owned by the caller.
 */
#ifndef XENCHAN_CHANNEL_H
#define XENCHAN_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "xenbus.h" /* XC_STATE_*: the XenbusState values */

enum xc_transport {
	XC_TRANSPORT_UNKNOWN = 0,
	XC_TRANSPORT_SOCKET,
	XC_TRANSPORT_PTY,
	XC_TRANSPORT_DIRECT,
	XC_TRANSPORT_VCHAN,
};

/* "socket", "pty", "direct", "vchan", "unknown". */
const char *xc_transport_name(enum xc_transport t);
/* -EINVAL for anything but the four names. */
int xc_transport_parse(const char *s, enum xc_transport *out);

/* Flags: what the listing found questionable. */
#define XC_CHAN_NO_TRUSTED_COPY (1u << 0) /* identity from the frontend: no /libxl copy */
#define XC_CHAN_NAME_MISMATCH (1u << 1)   /* frontend name differs from the trusted one */
#define XC_CHAN_GUEST_WRITABLE (1u << 2)  /* a key we used is writable by the guest */
#define XC_CHAN_BAD_ENDPOINT (1u << 3)    /* endpoint failed validation: not used */
#define XC_CHAN_BAD_VALUE (1u << 4)       /* a key was malformed, too long or missing */
#define XC_CHAN_GUEST_PUBLISHED (1u << 5) /* published by the guest (vchan) */
#define XC_CHAN_STALE (1u << 6)           /* vchan, direct: its xenchan server died */

/*
 * A vchan endpoint is listed once under each of its two domains: under the
 * server (domid == backend_domid, role "server", the peer is vchan_client)
 * and under the client (domid == vchan_client, role "client", the peer is
 * backend_domid).  A console channel is listed under its guest, the frontend.
 */
struct xc_channel {
	uint32_t domid;         /* the domain the channel is listed under */
	uint32_t devid;         /* console device id; 0 for vchan */
	uint32_t backend_domid; /* who serves it (for vchan: the server) */
	enum xc_transport transport;
	char *name;       /* channel name, raw (escape before display); may be NULL */
	char *fe_name;    /* the frontend's own name key when it differs from name */
	char *connection; /* "socket", "pty", ... as configured; may be NULL */
	char *endpoint;   /* validated socket path, pty path or vchan xenstore path */
	char *frontend;   /* xenstore paths, NULL for vchan */
	char *backend;
	int fe_state, be_state; /* XenbusState or XC_STATE_NONE */
	uint32_t vchan_client;  /* vchan: the client domain */
	bool in_use;            /* vchan: a client is connected (xenchan's "busy" key) */
	unsigned flags;
};

/*
 * The channels of one domain: its console devices with devid >= 1 (the
 * primary console is not a channel) in devid order, then the vchan endpoints
 * it serves, then those other domains serve to it (looked for in every
 * domain the caller may list).  -ENOENT when the domain does not exist;
 * -EACCES when the caller may not read it (a guest asking about dom0: see
 * xc_vchan_lookup() in vchan.h).
 */
int xc_channel_list(struct xc_store *st, uint32_t domid, struct xc_channel **out,
		    size_t *n);
void xc_channel_array_free(struct xc_channel *v, size_t n);

/*
 * Which domains publish vchan endpoints for which (their data/vchan/<client>
 * directories), found in one pass over every domain: for a caller listing
 * many domains, where xc_channel_list() makes that pass for each (a listing
 * of N domains in N, not N², requests).  A server that starts serving after
 * the scan is not in it.
 */
struct xc_vchan_index;
int xc_vchan_index_scan(struct xc_store *st, struct xc_vchan_index **out);
void xc_vchan_index_free(struct xc_vchan_index *ix);
/* The pairs of one server read again (its data/vchan directory changed):
 * one request, not a scan. */
int xc_vchan_index_rescan(struct xc_store *st, struct xc_vchan_index *ix, uint32_t server);

/* xc_channel_list(), with the endpoints served to domid looked for only in
 * the servers ix names (NULL: in every domain, as xc_channel_list()). */
int xc_channel_list_indexed(struct xc_store *st, uint32_t domid,
			    const struct xc_vchan_index *ix, struct xc_channel **out, size_t *n);

/* One domain's channels, for xc_channel_list_sets(). */
struct xc_channel_set {
	uint32_t domid;        /* set by the caller */
	struct xc_channel *v;  /* as xc_channel_list_indexed() gives them */
	size_t n;
	int error;             /* 0, or its negative errno (-ENOENT: the domain
				  is gone; -ECANCELED: not listed, the listing
				  stopped at an earlier failure) */
};

/*
 * The channels of sets[0..n), each as xc_channel_list_indexed() lists it.
 * Many domains are listed on a few xenstore connections of their own at
 * once, a thread each: xenstored goes round every connection it has for
 * each request it takes, so with hundreds of domains that round, not the
 * request, is what a listing costs, and the requests of several
 * connections share one round.  A failure stops the listing; the domains
 * listed before it in sets' order are all there.  The bound of
 * xc_store_set_deadline() and a signal (lifecycle.h) end it as they end a
 * request.  Returns 0 (each domain's failure in its .error), -ETIMEDOUT or
 * -EINTR.  The sets' channels are freed with xc_channel_sets_free().
 */
int xc_channel_list_sets(struct xc_store *st, const struct xc_vchan_index *ix,
			 struct xc_channel_set *sets, size_t n);
/* Fewer sets than this are listed one by one by the calling thread. */
#define XC_CHANNEL_SETS_PARALLEL 16
void xc_channel_sets_free(struct xc_channel_set *sets, size_t n);

/* vchan: "server" or "client", the side the listed domain is on; a console
 * channel: "frontend". */
const char *xc_channel_role(const struct xc_channel *c);

/* The domain at the other end: a vchan endpoint's other side, a console
 * channel's backend domain. */
uint32_t xc_channel_peer(const struct xc_channel *c);

/*
 * The one channel lookup every command uses: the channel named name among
 * v[0..n) (as xc_channel_list() gives them) of transport t, by one rule.
 *   t: XC_TRANSPORT_UNKNOWN for any console channel (not vchan), or a
 *      transport (vchan: only endpoints whose other side is dom0, listed
 *      under a guest: dom0 can use them as client or server).
 * A channel with a trusted copy always wins, whatever its devid.  Without
 * one, a single channel whose identity came from the guest is returned
 * (XC_CHAN_NO_TRUSTED_COPY tells the caller to warn); two or more such
 * candidates are ambiguous: a guest can make up a name, so neither is
 * believed.  Returns 0 with *out set, -ENOENT, or -ENOTUNIQ.  Pure.
 */
int xc_channel_find(const struct xc_channel *v, size_t n, const char *name,
		    enum xc_transport t, const struct xc_channel **out);

/* Whether a and b are the same channel of the domain they are listed under:
 * a console channel by devid, a vchan endpoint by its server, client and
 * xenstore path.  Pure. */
bool xc_channel_same(const struct xc_channel *a, const struct xc_channel *b);

/* Whether two listings of one channel differ in no value.  Pure. */
bool xc_channel_equal(const struct xc_channel *a, const struct xc_channel *b);

/* "connected" (both ends 4), "connecting", "closing", "closed", "absent"
 * (no frontend), or "stale" (a direct channel whose xenchan backend died).
 * vchan: "published", "in-use", "incomplete" or "stale" (left by a xenchan
 * server that died). */
const char *xc_channel_state(const struct xc_channel *c);

/* Both ends Connected (vchan: ring-ref and event-channel published). */
bool xc_channel_connected(const struct xc_channel *c);

/*
 * Whether the endpoint really accepts now, without disturbing it: a socket
 * has a listener bound to it (looked up in /proc/net/unix: connecting would
 * take qemu's only client slot and the guest's backlog with it), a pty can be
 * opened, a vchan endpoint is published, a direct channel is Connected and
 * served by a live xenchan backend (not XC_CHAN_STALE).  Does not block.
 */
bool xc_channel_endpoint_ready(const struct xc_channel *c);

#endif
