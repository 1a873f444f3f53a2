/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "channel.h"
#include "clock.h"
#include "lifecycle.h"
#include "lock.h"
#include "macro.h"
#include "parse.h"
#include "untrusted.h"

/* Linux's hvc_xen takes the device number from the last character of the node
 * name; libxl never creates more than this many console devices per domain
 * anyway.  Anything beyond is not looked at. */
#define MAX_DEVID 4095u

static const char *const transport_names[] = {
	[XC_TRANSPORT_UNKNOWN] = "unknown", [XC_TRANSPORT_SOCKET] = "socket",
	[XC_TRANSPORT_PTY] = "pty",         [XC_TRANSPORT_DIRECT] = "direct",
	[XC_TRANSPORT_VCHAN] = "vchan",
};

const char *xc_transport_name(enum xc_transport t)
{
	return (unsigned)t < ARRAY_SIZE(transport_names) ? transport_names[t] : "unknown";
}

int xc_transport_parse(const char *s, enum xc_transport *out)
{
	for (unsigned i = XC_TRANSPORT_SOCKET; i < ARRAY_SIZE(transport_names); i++) {
		if (streq(s, transport_names[i])) {
			*out = (enum xc_transport)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void channel_clear(struct xc_channel *c)
{
	free(c->name);
	free(c->fe_name);
	free(c->connection);
	free(c->endpoint);
	free(c->frontend);
	free(c->backend);
	memset(c, 0, sizeof(*c));
}

void xc_channel_array_free(struct xc_channel *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		channel_clear(&v[i]);
	free(v);
}

/* A growing array of channels. */
struct chanv {
	struct xc_channel *v;
	size_t n, cap;
};

static struct xc_channel *chanv_add(struct chanv *cv)
{
	if (cv->n == cv->cap) {
		size_t cap = cv->cap ? 2 * cv->cap : 8;
		struct xc_channel *v = realloc(cv->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		cv->v = v;
		cv->cap = cap;
	}
	memset(&cv->v[cv->n], 0, sizeof(cv->v[0]));
	return &cv->v[cv->n++];
}

/* Read dir/key; NULL when missing.  Malformed values set XC_CHAN_BAD_VALUE. */
static char *rd(struct xc_store *st, xs_transaction_t t, struct xc_channel *c,
		const char *dir, const char *key, size_t max)
{
	_cleanup_free_ char *path = NULL;
	char *v = NULL;
	int r;

	if (asprintf(&path, "%s/%s", dir, key) < 0)
		return NULL;
	r = xc_store_read(st, t, path, max, &v);
	if (r == -EFBIG || r == -EBADMSG)
		c->flags |= XC_CHAN_BAD_VALUE;
	return r < 0 ? NULL : v;
}

static int rd_state(struct xc_store *st, xs_transaction_t t, struct xc_channel *c,
		    const char *dir)
{
	_cleanup_free_ char *v = NULL;
	uint64_t s;

	if (!dir)
		return XC_STATE_NONE;
	v = rd(st, t, c, dir, "state", 16);
	if (!v)
		return XC_STATE_NONE;
	if (xc_parse_uint(v, XC_STATE_RECONFIGURED, &s) < 0) {
		c->flags |= XC_CHAN_BAD_VALUE;
		return XC_STATE_NONE;
	}
	return (int)s;
}

/* Whether the guest could have written dir/key. */
static bool guest_writable(struct xc_store *st, xs_transaction_t t, const char *dir,
			   const char *key, uint32_t domid)
{
	_cleanup_free_ char *path = NULL;
	bool w = true;

	if (asprintf(&path, "%s/%s", dir, key) < 0)
		return true;
	if (xc_store_writable_by(st, t, path, domid, &w) < 0)
		return true; /* cannot tell: assume the worst */
	return w;
}

/* "/local/domain/<b>/backend/console/<domid>/<devid>" -> b. */
static bool parse_backend_path(const char *p, uint32_t domid, uint32_t devid, uint32_t *b)
{
	char tail[64];
	const char *s;
	char num[12];
	size_t len;

	if (!p || !strneq(p, "/local/domain/", 14))
		return false;
	s = p + 14;
	len = strspn(s, "0123456789");
	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len);
	num[len] = '\0';
	if (xc_parse_domid(num, b) < 0)
		return false;
	snprintf(tail, sizeof(tail), "/backend/console/%u/%u", domid, devid);
	return streq(s + len, tail);
}

static void set_endpoint(struct xc_channel *c)
{
	const char *ep = c->endpoint;

	if (!ep)
		return;
	if ((c->transport == XC_TRANSPORT_SOCKET && !xc_socket_path_valid(ep)) ||
	    (c->transport == XC_TRANSPORT_PTY && !xc_pty_path_valid(ep))) {
		c->flags |= XC_CHAN_BAD_ENDPOINT;
		free(c->endpoint);
		c->endpoint = NULL;
	}
}

/*
 * A direct channel is served by the xenchan that holds its lock by domain
 * and name (lib/stream.c) for as long as it serves.  Without a holder, the
 * nodes were left by one killed with SIGKILL: the backend state it wrote
 * says nothing about anyone answering.
 */
static bool unserved_direct(const struct xc_channel *c)
{
	char path[PATH_MAX];

	if (!c->name ||
	    xc_lock_path_named(NULL, "direct", c->domid, c->name, path, sizeof(path)) < 0)
		return false;
	return xc_lock_holder(path) == 0;
}

static int console_channel(struct xc_store *st, xs_transaction_t t, uint32_t domid,
			   uint32_t devid, bool trusted, struct xc_channel *c)
{
	char lx[96], fe[96];
	_cleanup_free_ char *type = NULL, *output = NULL;

	c->domid = domid;
	c->devid = devid;
	snprintf(lx, sizeof(lx), "/libxl/%u/device/console/%u", domid, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/console/%u", domid, devid);
	c->frontend = strdup(fe);
	if (!c->frontend)
		return -ENOMEM;

	if (trusted) {
		_cleanup_free_ char *tfe = rd(st, t, c, lx, "frontend", 128);

		c->name = rd(st, t, c, lx, "name", XC_CHANNEL_NAME_MAX);
		c->connection = rd(st, t, c, lx, "connection", 32);
		c->backend = rd(st, t, c, lx, "backend", 128);
		if (c->connection && streq(c->connection, "socket"))
			c->endpoint = rd(st, t, c, lx, "path", 256);
		/* libxl always points the copy at the frontend it describes. */
		if (tfe && !streq(tfe, fe))
			c->flags |= XC_CHAN_BAD_VALUE;
	} else {
		c->flags |= XC_CHAN_NO_TRUSTED_COPY;
		c->name = rd(st, t, c, fe, "name", XC_CHANNEL_NAME_MAX);
		if (c->name && guest_writable(st, t, fe, "name", domid))
			c->flags |= XC_CHAN_GUEST_WRITABLE;
		/* The frontend's backend key is the guest's: only a path of the
		 * one shape a backend can have is followed. */
		c->backend = rd(st, t, c, fe, "backend", 128);
	}
	if (c->backend && !parse_backend_path(c->backend, domid, devid, &c->backend_domid)) {
		c->flags |= XC_CHAN_BAD_VALUE;
		free(c->backend);
		c->backend = NULL;
	}
	if (!c->connection && c->backend)
		c->connection = rd(st, t, c, c->backend, "connection", 32);

	/* The frontend may be gone (device being removed) while the copy stays. */
	c->fe_state = rd_state(st, t, c, fe);
	c->be_state = rd_state(st, t, c, c->backend);

	if (trusted && c->fe_state != XC_STATE_NONE) {
		_cleanup_free_ char *fname = rd(st, t, c, fe, "name", XC_CHANNEL_NAME_MAX);

		if (fname && (!c->name || !streq(fname, c->name))) {
			/* Reported, never believed. */
			c->flags |= XC_CHAN_NAME_MISMATCH;
			c->fe_name = TAKE_PTR(fname);
		}
	}

	/*
	 * How the channel is served: the connection a dom0-owned copy states
	 * decides.  Only without one is the frontend's type or output asked,
	 * and believed only when the guest cannot have written it (XSA-57 made
	 * them dom0's: checked, not assumed).
	 */
	if (!c->connection) {
		type = rd(st, t, c, fe, "type", 32);
		if (type && guest_writable(st, t, fe, "type", domid)) {
			c->flags |= XC_CHAN_GUEST_WRITABLE;
			free(TAKE_PTR(type));
		}
		output = rd(st, t, c, fe, "output", 64);
		if (output && guest_writable(st, t, fe, "output", domid)) {
			c->flags |= XC_CHAN_GUEST_WRITABLE;
			free(TAKE_PTR(output));
		}
	}
	if ((c->connection && streq(c->connection, "xenchan")) ||
	    (!c->connection && type && streq(type, "xenchan"))) {
		/* xenchan serves the ring itself: there is no socket or pty. */
		c->transport = XC_TRANSPORT_DIRECT;
		free(c->endpoint);
		c->endpoint = NULL;
		if (unserved_direct(c))
			c->flags |= XC_CHAN_STALE;
	} else if (c->connection && streq(c->connection, "socket")) {
		c->transport = XC_TRANSPORT_SOCKET;
	} else if ((c->connection && streq(c->connection, "pty")) ||
		   (output && streq(output, "pty"))) {
		c->transport = XC_TRANSPORT_PTY;
		free(c->endpoint);
		c->endpoint = rd(st, t, c, fe, "tty", 64);
		/* qemu writes tty; since XSA-57 the guest cannot.  Check. */
		if (c->endpoint && guest_writable(st, t, fe, "tty", domid)) {
			c->flags |= XC_CHAN_GUEST_WRITABLE | XC_CHAN_BAD_ENDPOINT;
			free(c->endpoint);
			c->endpoint = NULL;
		}
		if (c->endpoint && !*c->endpoint) {
			/* Not filled in yet by qemu. */
			free(c->endpoint);
			c->endpoint = NULL;
		}
	}
	set_endpoint(c);
	return 0;
}

/*
 * An endpoint dom0 publishes with xenchan's name key is served by a
 * xenchan-cat -l that holds the serving lock (lib/stream.c): without a
 * holder it was left by a server killed with SIGKILL, and nobody will
 * answer.  It is listed as stale, never as published.
 */
static bool served_by_dead_xenchan(struct xc_channel *c)
{
	char path[PATH_MAX];

	if (xc_lock_path_named(NULL, XC_LOCK_VCHAN_SERVE, c->vchan_client, c->name, path,
			       sizeof(path)) < 0)
		return false;
	if (xc_lock_holder(path) > 0)
		return false;
	c->flags |= XC_CHAN_STALE;
	return true;
}

/* The vchan endpoints under /local/domain/<server>/data/vchan/<client>/. */
static int vchan_endpoints(struct xc_store *st, xs_transaction_t t, struct chanv *cv,
			   uint32_t guest, uint32_t server, uint32_t only_client,
			   bool any_client)
{
	_cleanup_strv_free_ char **clients = NULL;
	char base[96];
	int r;

	snprintf(base, sizeof(base), "/local/domain/%u/data/vchan", server);
	r = xc_store_list(st, t, base, &clients, NULL);
	if (r == -ENOENT || r == -EACCES)
		return 0;
	if (r < 0)
		return r;
	for (char **cl = clients; *cl; cl++) {
		_cleanup_strv_free_ char **ports = NULL;
		char cdir[128];
		uint32_t client;

		if (xc_parse_domid(*cl, &client) < 0)
			continue;
		if (!any_client && client != only_client)
			continue;
		snprintf(cdir, sizeof(cdir), "%s/%u", base, client);
		if (xc_store_list(st, t, cdir, &ports, NULL) < 0)
			continue;
		for (char **p = ports; *p; p++) {
			struct xc_channel *c;
			_cleanup_free_ char *pdir = NULL, *rr = NULL, *ev = NULL;
			bool named;

			if (strlen(*p) > XC_CHANNEL_NAME_MAX)
				continue;
			c = chanv_add(cv);
			if (!c || asprintf(&pdir, "%s/%s", cdir, *p) < 0)
				return -ENOMEM;
			c->domid = guest;
			c->backend_domid = server;
			c->vchan_client = client;
			c->transport = XC_TRANSPORT_VCHAN;
			/* The server writes the endpoint: a guest, unless dom0 serves. */
			if (server != 0)
				c->flags |= XC_CHAN_GUEST_PUBLISHED;
			/* A long channel name is published beside its short port. */
			c->name = rd(st, t, c, pdir, "name", XC_CHANNEL_NAME_MAX);
			named = c->name != NULL;
			if (!named)
				c->name = strdup(*p);
			c->endpoint = strdup(pdir);
			rr = rd(st, t, c, pdir, "ring-ref", 16);
			ev = rd(st, t, c, pdir, "event-channel", 16);
			{
				_cleanup_free_ char *busy = rd(st, t, c, pdir, "busy", 16);

				c->in_use = busy != NULL;
			}
			c->fe_state = c->be_state = rr && ev ? XC_STATE_CONNECTED : XC_STATE_NONE;
			if (!c->name || !c->endpoint)
				return -ENOMEM;
			if (server == 0 && named && served_by_dead_xenchan(c))
				c->fe_state = c->be_state = XC_STATE_NONE;
		}
	}
	return 0;
}

/* Which servers publish endpoints for which clients: (client, server)
 * pairs, in the order the servers' directories were found; and which
 * domains have a client directory at all (their own, to themselves
 * included): the only ones whose server rows are looked for. */
struct xc_vchan_index {
	struct {
		uint32_t client, server;
	} *v;
	size_t n;
	uint32_t *servers;
	size_t nservers;
	size_t cap, scap; /* of v, of servers */
};

static bool index_serves(const struct xc_vchan_index *ix, uint32_t domid)
{
	for (size_t i = 0; i < ix->nservers; i++)
		if (ix->servers[i] == domid)
			return true;
	return false;
}

/* Appends server's (client, server) pairs, and server to the servers, from
 * its data/vchan directory. */
static int index_add_server(struct xc_store *st, struct xc_vchan_index *ix, uint32_t server)
{
	_cleanup_strv_free_ char **clients = NULL;
	char base[96];
	uint32_t client;
	int r;

	snprintf(base, sizeof(base), "/local/domain/%u/data/vchan", server);
	r = xc_store_list(st, XBT_NULL, base, &clients, NULL);
	if (r == -ENOENT || r == -EACCES)
		return 0;
	if (r < 0)
		return r;
	for (char **cl = clients; *cl; cl++) {
		if (xc_parse_domid(*cl, &client) < 0)
			continue;
		if (ix->nservers == 0 || ix->servers[ix->nservers - 1] != server) {
			if (ix->nservers == ix->scap) {
				size_t ncap = ix->scap ? 2 * ix->scap : 16;
				void *v = reallocarray(ix->servers, ncap, sizeof(*ix->servers));

				if (!v)
					return -ENOMEM;
				ix->servers = v;
				ix->scap = ncap;
			}
			ix->servers[ix->nservers++] = server;
		}
		if (client == server)
			continue;
		if (ix->n == ix->cap) {
			size_t ncap = ix->cap ? 2 * ix->cap : 16;
			void *v = reallocarray(ix->v, ncap, sizeof(*ix->v));

			if (!v)
				return -ENOMEM;
			ix->v = v;
			ix->cap = ncap;
		}
		ix->v[ix->n].client = client;
		ix->v[ix->n++].server = server;
	}
	return 0;
}

int xc_vchan_index_scan(struct xc_store *st, struct xc_vchan_index **out)
{
	_cleanup_strv_free_ char **servers = NULL;
	struct xc_vchan_index *ix = calloc(1, sizeof(*ix));
	int r;

	if (!ix)
		return -ENOMEM;
	r = xc_store_list(st, XBT_NULL, "/local/domain", &servers, NULL);
	if (r < 0 && r != -ENOENT && r != -EACCES) {
		free(ix);
		return r;
	}
	for (char **sv = servers; sv && *sv; sv++) {
		uint32_t server;

		if (xc_parse_domid(*sv, &server) < 0)
			continue;
		r = index_add_server(st, ix, server);
		if (r < 0) {
			xc_vchan_index_free(ix);
			return r;
		}
	}
	*out = ix;
	return 0;
}

int xc_vchan_index_rescan(struct xc_store *st, struct xc_vchan_index *ix, uint32_t server)
{
	size_t j = 0;

	for (size_t i = 0; i < ix->n; i++)
		if (ix->v[i].server != server)
			ix->v[j++] = ix->v[i];
	ix->n = j;
	j = 0;
	for (size_t i = 0; i < ix->nservers; i++)
		if (ix->servers[i] != server)
			ix->servers[j++] = ix->servers[i];
	ix->nservers = j;
	return index_add_server(st, ix, server);
}

void xc_vchan_index_free(struct xc_vchan_index *ix)
{
	if (!ix)
		return;
	free(ix->v);
	free(ix->servers);
	free(ix);
}

struct listing {
	uint32_t domid;
	const struct xc_vchan_index *ix;
	struct chanv cv;
};

static int list_tx(struct xc_store *st, xs_transaction_t t, void *data)
{
	struct listing *ls = data;
	uint32_t domid = ls->domid;
	_cleanup_strv_free_ char **trusted = NULL, **front = NULL, **servers = NULL;
	struct chanv cv = { 0 };
	char path[64];
	int r;

	/* What an earlier attempt found is not this one's. */
	xc_channel_array_free(ls->cv.v, ls->cv.n);
	memset(&ls->cv, 0, sizeof(ls->cv));

	snprintf(path, sizeof(path), "/libxl/%u/device/console", domid);
	r = xc_store_list(st, t, path, &trusted, NULL);
	if (r < 0 && r != -ENOENT && r != -EACCES)
		return r;
	snprintf(path, sizeof(path), "/local/domain/%u/device/console", domid);
	r = xc_store_list(st, t, path, &front, NULL);
	if (r < 0 && r != -ENOENT && r != -EACCES)
		return r;
	if (r < 0) {
		/* No frontend directory: does the domain exist at all?  (One
		 * below it says so without asking.) */
		_cleanup_free_ char *v = NULL;

		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		r = xc_store_read(st, t, path, XC_VALUE_MAX, &v);
		if (r < 0 && r != -EFBIG && r != -EBADMSG)
			return r;
	}

	/* Trusted copies first, then frontends nobody vouches for; both lists
	 * are in numeric order. */
	for (int pass = 0; pass < 2; pass++) {
		char **v = pass == 0 ? trusted : front;

		for (; v && *v; v++) {
			uint64_t devid;
			struct xc_channel *c;
			bool dup = false;

			if (xc_parse_uint(*v, MAX_DEVID, &devid) < 0 || devid == 0)
				continue;
			for (size_t i = 0; pass == 1 && i < cv.n; i++)
				if (cv.v[i].devid == devid && cv.v[i].transport != XC_TRANSPORT_VCHAN)
					dup = true;
			if (dup)
				continue;
			c = chanv_add(&cv);
			r = c ? console_channel(st, t, domid, (uint32_t)devid, pass == 0, c) : -ENOMEM;
			if (r < 0)
				goto fail;
		}
	}
	/* Keep console devices in devid order across both passes. */
	for (size_t i = 1; i < cv.n; i++) {
		for (size_t j = i; j > 0 && cv.v[j - 1].devid > cv.v[j].devid; j--) {
			struct xc_channel tmp = cv.v[j];

			cv.v[j] = cv.v[j - 1];
			cv.v[j - 1] = tmp;
		}
	}
	/* The endpoints it serves: its server rows (only where the index saw
	 * it serve, when there is one: its directory is not asked twice). */
	if (!ls->ix || index_serves(ls->ix, domid)) {
		r = vchan_endpoints(st, t, &cv, domid, domid, 0, true);
		if (r < 0)
			goto fail;
	}
	/* Those served to it, by any domain we may look at: its client rows,
	 * from the servers the index names, else from every domain. */
	if (ls->ix) {
		for (size_t i = 0; i < ls->ix->n; i++) {
			if (ls->ix->v[i].client != domid)
				continue;
			r = vchan_endpoints(st, t, &cv, domid, ls->ix->v[i].server, domid, false);
			if (r < 0)
				goto fail;
		}
	} else {
		r = xc_store_list(st, t, "/local/domain", &servers, NULL);
		if (r < 0 && r != -ENOENT && r != -EACCES)
			goto fail;
		for (char **sv = servers; sv && *sv; sv++) {
			uint32_t server;

			if (xc_parse_domid(*sv, &server) < 0 || server == domid)
				continue;
			r = vchan_endpoints(st, t, &cv, domid, server, domid, false);
			if (r < 0)
				goto fail;
		}
	}
	ls->cv = cv;
	return 0;
fail:
	xc_channel_array_free(cv.v, cv.n);
	return r;
}

/*
 * Whether a listing made outside a transaction may be half of a change:
 * a device created or removed (libxl and lib/hotplug.c write and remove
 * its trusted copy, frontend and backend in one transaction) shows, read
 * key by key across the commit, as a device with no trusted copy, or with
 * a key of its copy, its frontend, its backend or its endpoint missing.
 * Anything of the kind is listed again in a transaction; so is a vchan
 * endpoint not published whole (its ring-ref or its event-channel missing:
 * its server starting or going; libxenvchan writes both in one
 * transaction, older ones one after the other).  A published endpoint is
 * its two keys there: read key by key, it is what it was when they were.
 * In one transaction, C xenstored's cost per read grows with the reads
 * made before (3000 endpoints served to dom0 took 10.5 s to list in one,
 * 1.0 s out of one).  A listing with none of it saw every key it read
 * there: each device whole, as it was.
 */
static bool maybe_torn(const struct chanv *cv)
{
	for (size_t i = 0; i < cv->n; i++) {
		const struct xc_channel *c = &cv->v[i];

		if (c->transport == XC_TRANSPORT_VCHAN) {
			if (c->fe_state != XC_STATE_CONNECTED)
				return true;
			continue;
		}
		if (c->transport == XC_TRANSPORT_UNKNOWN ||
		    (c->flags & XC_CHAN_NO_TRUSTED_COPY) || !c->name || !c->connection ||
		    c->fe_state == XC_STATE_NONE || c->be_state == XC_STATE_NONE)
			return true;
		if ((c->transport == XC_TRANSPORT_SOCKET || c->transport == XC_TRANSPORT_PTY) &&
		    !c->endpoint)
			return true;
	}
	return false;
}

/*
 * In a transaction, so that a listing is one state of the store, never
 * half of a device's removal (a channel with its name gone but its
 * directory still there).  A domain whose keys change faster than it can
 * be listed (its guest writing its own keys without pause) is listed
 * without one rather than not at all.  With an index (a caller listing
 * many domains), a domain is read first without one, which costs its two
 * requests, and listed again in one only when what was read could be
 * half of a change (maybe_torn()).
 */
int xc_channel_list(struct xc_store *st, uint32_t domid, struct xc_channel **out,
		    size_t *n)
{
	return xc_channel_list_indexed(st, domid, NULL, out, n);
}

int xc_channel_list_indexed(struct xc_store *st, uint32_t domid,
			    const struct xc_vchan_index *ix, struct xc_channel **out, size_t *n)
{
	struct listing ls = { .domid = domid, .ix = ix };
	int r;

	if (ix) {
		r = list_tx(st, XBT_NULL, &ls);
		if (r < 0 && r != -ENOENT) {
			xc_channel_array_free(ls.cv.v, ls.cv.n);
			return r;
		}
		if (r == 0 && !maybe_torn(&ls.cv)) {
			*out = ls.cv.v;
			*n = ls.cv.n;
			return 0;
		}
	}
	r = xc_store_transaction(st, list_tx, &ls, XC_STORE_TX_RETRIES);
	if (r == -EAGAIN)
		r = list_tx(st, XBT_NULL, &ls);
	if (r < 0) {
		xc_channel_array_free(ls.cv.v, ls.cv.n);
		return r;
	}
	*out = ls.cv.v;
	*n = ls.cv.n;
	return 0;
}

/*
 * Listing many domains at once (xc_channel_list_sets()).  The calling
 * thread opens the connections (one at a time: xc_store_open() tells its
 * socket by the lowest descriptor free), starts the workers with every
 * signal blocked (they reach the calling thread), and watches them: at the
 * deadline or a signal it cuts their connections, and every request they
 * are in or start fails.
 */
#define LIST_WORKERS 4
/* Fewer domains: fewer workers, or none (two at least, or none at all). */
#define LIST_DOMAINS_PER_WORKER (XC_CHANNEL_SETS_PARALLEL / 2)

struct sets_job {
	const struct xc_vchan_index *ix;
	struct xc_channel_set *sets;
	size_t n;
	atomic_size_t next;  /* the next set to take, in order */
	atomic_bool stop;    /* a failure: take no more */
	int done;            /* eventfd: a worker is done */
};

struct sets_worker {
	struct sets_job *job;
	struct xc_store *st;
	pthread_t tid;
};

/* Takes the sets in order until none is left or a failure stops them. */
static void list_sets_on(struct xc_store *st, struct sets_job *j)
{
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		struct xc_channel_set *s;

		if (i >= j->n || atomic_load(&j->stop))
			return;
		s = &j->sets[i];
		s->error = xc_channel_list_indexed(st, s->domid, j->ix, &s->v, &s->n);
		if (s->error < 0 && s->error != -ENOENT) {
			atomic_store(&j->stop, true);
			return;
		}
	}
}

static void *sets_worker(void *arg)
{
	struct sets_worker *w = arg;
	uint64_t one = 1;

	list_sets_on(w->st, w->job);
	if (write(w->job->done, &one, sizeof(one)) < 0)
		abort(); /* an eventfd's counter cannot be full here */
	return NULL;
}

/* Starts up to want workers; returns how many run. */
static size_t start_workers(struct sets_job *j, struct sets_worker *w, size_t want)
{
	sigset_t all, old;
	size_t k = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; k < want; k++) {
		w[k].job = j;
		if (xc_store_open(&w[k].st) < 0)
			break;
		if (!xc_store_can_cut(w[k].st) ||
		    pthread_create(&w[k].tid, NULL, sets_worker, &w[k]) != 0) {
			xc_store_close(w[k].st);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return k;
}

int xc_channel_list_sets(struct xc_store *st, const struct xc_vchan_index *ix,
			 struct xc_channel_set *sets, size_t n)
{
	struct sets_job j = { .ix = ix, .sets = sets, .n = n, .done = -1 };
	struct sets_worker w[LIST_WORKERS];
	size_t want = n / LIST_DOMAINS_PER_WORKER, k = 0, ended = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		sets[i].v = NULL;
		sets[i].n = 0;
		sets[i].error = -ECANCELED;
	}
	atomic_init(&j.next, 0);
	atomic_init(&j.stop, false);
	if (want > LIST_WORKERS)
		want = LIST_WORKERS;
	/* A bound on each request is not one a watcher could keep. */
	if (want > 1 && xc_store_call_ms() == 0)
		j.done = eventfd(0, EFD_CLOEXEC);
	if (j.done >= 0)
		k = start_workers(&j, w, want);
	if (k == 0) {
		if (j.done >= 0)
			close(j.done);
		list_sets_on(st, &j);
		return 0;
	}
	while (ended < k) {
		struct pollfd p = { .fd = j.done, .events = POLLIN };
		uint64_t count;
		int q;

		if (r < 0) {
			/* Cut: they end at once; a blocking read waits for them. */
			if (read(j.done, &count, sizeof(count)) == sizeof(count))
				ended += count;
			continue;
		}
		q = xc_wait_fds(&p, 1, xc_store_deadline());
		if (q > 0 && read(j.done, &count, sizeof(count)) == sizeof(count))
			ended += count;
		if (q >= 0)
			continue;
		/* The deadline, a signal (or poll failing): every request of
		 * the workers fails from now on, the one they are in too. */
		r = q;
		atomic_store(&j.stop, true);
		for (size_t i = 0; i < k; i++)
			xc_store_cut(w[i].st);
	}
	for (size_t i = 0; i < k; i++) {
		pthread_join(w[i].tid, NULL);
		xc_store_close(w[i].st);
	}
	close(j.done);
	/* A worker's request guard may have cut the connections first (it
	 * keeps the same deadline): what stopped them is said as such, not
	 * as the connection they lost. */
	if (r == 0 && atomic_load(&j.stop)) {
		if (xc_lifecycle_signal())
			r = -EINTR;
		else if (xc_deadline_passed(xc_deadline_min(xc_store_deadline(),
							    xc_lifecycle_deadline()),
					    xc_now_ms()))
			r = -ETIMEDOUT;
	}
	return r;
}

void xc_channel_sets_free(struct xc_channel_set *sets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xc_channel_array_free(sets[i].v, sets[i].n);
		sets[i].v = NULL;
		sets[i].n = 0;
	}
}

const char *xc_channel_state(const struct xc_channel *c)
{
	int lo, hi;

	if (c->transport == XC_TRANSPORT_VCHAN)
		return c->flags & XC_CHAN_STALE		 ? "stale"
		       : c->fe_state == XC_STATE_CONNECTED ? "published"
		       : c->in_use			 ? "in-use"
							 : "incomplete";
	if (c->flags & XC_CHAN_STALE)
		return "stale";
	if (c->fe_state == XC_STATE_NONE)
		return "absent";
	if (c->be_state == XC_STATE_NONE)
		return "no-backend";
	lo = c->fe_state < c->be_state ? c->fe_state : c->be_state;
	hi = c->fe_state > c->be_state ? c->fe_state : c->be_state;
	if (lo == XC_STATE_CONNECTED && hi == XC_STATE_CONNECTED)
		return "connected";
	if (hi >= XC_STATE_CLOSING)
		return hi == XC_STATE_CLOSED && lo == XC_STATE_CLOSED ? "closed" : "closing";
	return "connecting";
}

bool xc_channel_connected(const struct xc_channel *c)
{
	return c->fe_state == XC_STATE_CONNECTED && c->be_state == XC_STATE_CONNECTED;
}

static bool socket_listening(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/unix", "re");
	char line[512];

	if (!f)
		return false;
	/* Num RefCount Protocol Flags Type St Inode Path, the path last and
	 * possibly with blanks; __SO_ACCEPTCON is 0x10000 in Flags for a
	 * listening socket. */
	while (fgets(line, sizeof(line), f)) {
		unsigned long flags;
		size_t len;
		int n = 0;

		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &n) < 1 || !n)
			continue;
		if (!(flags & 0x10000))
			continue;
		len = strcspn(line + n, "\n");
		if (len == strlen(path) && strneq(line + n, path, len))
			return true;
	}
	return false;
}

bool xc_channel_endpoint_ready(const struct xc_channel *c)
{
	int fd;

	/* A direct channel has no endpoint: xenchan itself is its backend. */
	if (c->transport == XC_TRANSPORT_DIRECT)
		return xc_channel_connected(c) && !(c->flags & XC_CHAN_STALE);
	if (!c->endpoint)
		return false;
	switch (c->transport) {
	case XC_TRANSPORT_SOCKET:
		return socket_listening(c->endpoint);
	case XC_TRANSPORT_PTY:
		fd = open(c->endpoint, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return false;
		close(fd);
		return true;
	case XC_TRANSPORT_VCHAN:
		return c->fe_state == XC_STATE_CONNECTED;
	default:
		return xc_channel_connected(c);
	}
}

const char *xc_channel_role(const struct xc_channel *c)
{
	if (c->transport != XC_TRANSPORT_VCHAN)
		return "frontend";
	return c->domid == c->backend_domid ? "server" : "client";
}

uint32_t xc_channel_peer(const struct xc_channel *c)
{
	if (c->transport == XC_TRANSPORT_VCHAN && c->domid == c->backend_domid)
		return c->vchan_client;
	return c->backend_domid;
}

/* A vchan endpoint is ours to use when it is listed under a guest and dom0
 * is the other side (its client, or its server).  Under dom0 itself, the
 * other side is a guest: that endpoint is the guest's row to find. */
static bool usable(const struct xc_channel *c)
{
	return c->transport != XC_TRANSPORT_VCHAN ||
	       (c->domid != 0 && xc_channel_peer(c) == 0);
}

int xc_channel_find(const struct xc_channel *v, size_t n, const char *name,
		    enum xc_transport t, const struct xc_channel **out)
{
	const struct xc_channel *untrusted = NULL;
	size_t nuntrusted = 0;

	for (size_t i = 0; i < n; i++) {
		const struct xc_channel *c = &v[i];

		if (!c->name || !streq(c->name, name) || !usable(c))
			continue;
		if (t == XC_TRANSPORT_UNKNOWN ? c->transport == XC_TRANSPORT_VCHAN
					      : c->transport != t)
			continue;
		if (!(c->flags & XC_CHAN_NO_TRUSTED_COPY)) {
			*out = c;
			return 0;
		}
		if (!untrusted)
			untrusted = c;
		nuntrusted++;
	}
	if (nuntrusted > 1)
		return -ENOTUNIQ;
	if (!untrusted)
		return -ENOENT;
	*out = untrusted;
	return 0;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && streq(a, b));
}

bool xc_channel_same(const struct xc_channel *a, const struct xc_channel *b)
{
	bool av = a->transport == XC_TRANSPORT_VCHAN, bv = b->transport == XC_TRANSPORT_VCHAN;

	if (a->domid != b->domid || av != bv)
		return false;
	if (!av)
		return a->devid == b->devid;
	return a->backend_domid == b->backend_domid && a->vchan_client == b->vchan_client &&
	       str_same(a->endpoint, b->endpoint);
}

bool xc_channel_equal(const struct xc_channel *a, const struct xc_channel *b)
{
	return a->domid == b->domid && a->devid == b->devid &&
	       a->backend_domid == b->backend_domid && a->transport == b->transport &&
	       a->fe_state == b->fe_state && a->be_state == b->be_state &&
	       a->vchan_client == b->vchan_client && a->in_use == b->in_use &&
	       a->flags == b->flags && str_same(a->name, b->name) &&
	       str_same(a->fe_name, b->fe_name) && str_same(a->connection, b->connection) &&
	       str_same(a->endpoint, b->endpoint) && str_same(a->frontend, b->frontend) &&
	       str_same(a->backend, b->backend);
}
