/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "clock.h"
#include "direct.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "peer.h"
#include "ring.h"
#include "untrusted.h"

#define TOKEN_FE "xc-direct-fe"
/* How long close and xc_direct_remove wait for the guest to close. */
#define CLOSE_WAIT_MS 1000
/* Event channel ports: 2^17 with the FIFO ABI. */
#define PORT_MAX 0x1ffffu
#define PATH_LEN 96

struct direct {
	struct xc_peer *peer; /* the domain, watched */
	struct xc_store *st;  /* the peer's: our watches live there too */
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	struct xencons_interface *intf;
	struct xc_ring ring;
	evtchn_port_t lport;
	bool bound, hotplugged;
	bool peer_gone;
	int epfd;
	uint32_t domid, devid;
	char fe[PATH_LEN], be[PATH_LEN], lx[PATH_LEN];
	uint64_t written;
	uint64_t notify_other;
};

static void set_paths(struct direct *d)
{
	/* Large enough for any domid and devid: these cannot fail. */
	_Static_assert(PATH_LEN >= XC_HOTPLUG_PATH_MAX, "PATH_LEN too small");
	xc_hotplug_path(XC_HOTPLUG_FRONTEND, d->domid, d->devid, d->fe, sizeof(d->fe));
	xc_hotplug_path(XC_HOTPLUG_BACKEND, d->domid, d->devid, d->be, sizeof(d->be));
	xc_hotplug_path(XC_HOTPLUG_TRUSTED, d->domid, d->devid, d->lx, sizeof(d->lx));
}

static int rd_key(struct xc_store *st, xs_transaction_t t, const char *dir,
		  const char *key, size_t max, char **out)
{
	char path[PATH_LEN + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xc_store_read(st, t, path, max, out);
}

static int rd_uint(struct xc_store *st, const char *dir, const char *key, uint64_t max,
		   uint64_t *out)
{
	char path[PATH_LEN + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xc_store_read_uint(st, XBT_NULL, path, max, out);
}

/* XenbusState of dir, XC_STATE_NONE when missing or malformed (the
 * frontend's state is the guest's to write: anything but 1..6 is none). */
static int rd_state(struct xc_store *st, const char *dir, bool *missing)
{
	uint64_t v;
	int r = rd_uint(st, dir, "state", XC_STATE_CLOSED, &v);

	if (missing)
		*missing = r == -ENOENT;
	return r < 0 || v == XC_STATE_UNKNOWN ? XC_STATE_NONE : (int)v;
}

static int set_be_state(struct direct *d, int state)
{
	char path[PATH_LEN + 8], v[4];

	snprintf(path, sizeof(path), "%s/state", d->be);
	snprintf(v, sizeof(v), "%d", state);
	return xc_store_write(d->st, XBT_NULL, path, v);
}

/*
 * Whether the channel at d's paths is one xenchan serves.  The type key is
 * dom0-owned since XSA-57, but the guest owns the frontend directory and
 * could make up a device of its own: a type the guest could have written
 * is not believed.
 */
static int check_type(struct direct *d)
{
	_cleanup_free_ char *type = NULL;
	char path[PATH_LEN + 16];
	bool w = true;
	int r;

	r = rd_key(d->st, XBT_NULL, d->fe, "type", 32, &type);
	if (r == -ENOENT) {
		_cleanup_free_ char *conn = NULL;

		/* No frontend: a trusted copy says whether it was ours. */
		r = rd_key(d->st, XBT_NULL, d->lx, "connection", 32, &conn);
		if (r < 0)
			return r == -ENOENT ? -ENOENT : r;
		return streq(conn, XC_DIRECT_TYPE) ? -ENOENT : -ENOTSUP;
	}
	if (r < 0)
		return r == -EFBIG || r == -EBADMSG ? -ENOTSUP : r;
	if (!streq(type, XC_DIRECT_TYPE))
		return -ENOTSUP; /* ioemu (qemu), xenconsoled, or unknown */
	snprintf(path, sizeof(path), "%s/type", d->fe);
	r = xc_store_writable_by(d->st, XBT_NULL, path, d->domid, &w);
	if (r < 0)
		return r;
	if (w) {
		xc_warn("%s: type is writable by the guest: not served", d->fe);
		return -ENOTSUP;
	}
	return 0;
}

/* ---- hotplug ---- */

/* An existing channel of this name: its devid, or -ENOENT (a channel only
 * the guest vouches for is not one), -EEXIST when another backend serves it. */
static int find_by_name(struct xc_store *st, uint32_t domid, const char *name)
{
	const struct xc_channel *c = NULL;
	struct xc_channel *v = NULL;
	size_t n = 0;
	int r;

	r = xc_channel_list(st, domid, &v, &n);
	if (r < 0)
		return r;
	r = xc_channel_find(v, n, name, XC_TRANSPORT_UNKNOWN, &c);
	if (r == 0 && !(c->flags & XC_CHAN_NO_TRUSTED_COPY))
		r = c->transport == XC_TRANSPORT_DIRECT ? (int)c->devid : -EEXIST;
	else
		r = -ENOENT;
	xc_channel_array_free(v, n);
	return r;
}

/* ---- waiting on xenstore ---- */

/* The domain is still there.  Only dom0 runs a direct backend. */
static bool domain_alive(struct direct *d)
{
	return xc_peer_domain_alive(d->peer);
}

/*
 * Wait until the frontend's state is in [lo, hi].  -ECONNREFUSED when it
 * closed or vanished instead, -ENOENT when the domain is gone, -ETIMEDOUT
 * past deadline (XC_NEVER: none), -EINTR on a signal (lifecycle.h).
 */
static int wait_fe_state(struct direct *d, int lo, int hi, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = xc_peer_fd(d->peer), .events = POLLIN };
		bool missing = false;
		int st, r;

		st = rd_state(d->st, d->fe, &missing);
		if (st >= lo && st <= hi)
			return 0;
		if (missing || st == XC_STATE_CLOSING || st == XC_STATE_CLOSED)
			return domain_alive(d) ? -ECONNREFUSED : -ENOENT;
		if (p.fd < 0)
			return p.fd;
		r = xc_wait_fds(&p, 1, deadline);
		if (r < 0)
			return r;
		/* Takes the events; the frontend's state is read again above. */
		r = xc_peer_check(d->peer, NULL);
		if (r == -EPIPE)
			return -ENOENT;
		if (r < 0)
			return r;
	}
}

/* ---- the stream ---- */

static void notify_guest(struct direct *d)
{
	/* Fails only once the guest's end is gone, which the watches report. */
	if (d->bound && xenevtchn_notify(d->xce, d->lport) < 0)
		xc_dbg("%s: notify: %s", d->fe, strerror(errno));
}

static void flush_in(struct direct *d)
{
	if (xc_ring_in_notify(&d->ring))
		notify_guest(d);
}

static ssize_t direct_read(struct xc_stream *s, void *buf, size_t len)
{
	struct direct *d = s->priv;
	bool notify;
	ssize_t n;

	if (len == 0)
		return d->peer_gone ? -EPIPE : -EAGAIN;
	n = xc_ring_consume(&d->ring, buf, len, &notify);
	if (n < 0)
		return n;
	if (notify)
		notify_guest(d);
	if (n > 0)
		return n;
	return d->peer_gone ? -EPIPE : -EAGAIN;
}

static ssize_t direct_write(struct xc_stream *s, const void *buf, size_t len)
{
	struct direct *d = s->priv;
	ssize_t n;

	if (d->ring.broken)
		return -EPROTO;
	if (d->peer_gone)
		return -EPIPE;
	if (len == 0)
		return -EAGAIN;
	n = xc_ring_produce(&d->ring, buf, len);
	if (n < 0)
		return n;
	d->written += (uint64_t)n;
	/* in[] is full: the guest must drain it before anything moves. */
	if ((size_t)n < len)
		flush_in(d);
	return n > 0 ? n : -EAGAIN;
}

static int direct_flush(struct xc_stream *s)
{
	struct direct *d = s->priv;

	if (d->ring.broken)
		return -EPROTO;
	flush_in(d);
	return 0;
}

static int direct_poll(struct xc_stream *s, bool want_read, bool want_write, int *fd,
		       short *events)
{
	struct direct *d = s->priv;

	(void)want_read;
	(void)want_write;
	/* The caller is about to sleep: whatever it wrote must be announced. */
	flush_in(d);
	*fd = d->epfd;
	*events = POLLIN;
	return 0;
}

/* Re-read what tells whether the guest is still there. */
static void check_peer(struct direct *d)
{
	bool missing = false;
	int r = xc_peer_check(d->peer, NULL);
	int st = r < 0 ? XC_STATE_NONE : rd_state(d->st, d->fe, &missing);

	if (r < 0 || missing || st == XC_STATE_CLOSING || st == XC_STATE_CLOSED) {
		if (!d->peer_gone)
			xc_info("%s: the guest went away", d->fe);
		d->peer_gone = true;
	}
}

static int direct_process(struct xc_stream *s, short revents)
{
	struct direct *d = s->priv;
	struct pollfd p[2] = {
		{ .fd = xenevtchn_fd(d->xce), .events = POLLIN },
		{ .fd = xc_peer_fd(d->peer), .events = POLLIN },
	};

	(void)revents;
	/* The epoll descriptor says something is ready; ask which, without
	 * blocking (xenevtchn_pending() would block on an idle device). */
	if (poll(p, 2, 0) < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents & POLLIN) {
		xenevtchn_port_or_error_t port = xenevtchn_pending(d->xce);

		/* Unmask at once: an event after this is delivered again, and
		 * the caller handles the ring after us. */
		if (port >= 0)
			xenevtchn_unmask(d->xce, (evtchn_port_t)port);
	} else if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
		return -EIO;
	}
	if (p[1].revents)
		check_peer(d);
	/* Said here too: a writer whose window is full writes nothing that
	 * would tell it. */
	return d->peer_gone ? -EPIPE : 0;
}


static int direct_delivered(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
			    enum xc_proof *proof)
{
	struct direct *d = s->priv;
	uint32_t n = 0;
	int r;

	r = xc_ring_in_pending(&d->ring, &n);
	if (r < 0)
		return r;
	*bytes = d->written - n;
	*pending = n;
	*proof = XC_PROOF_CONSUMED;
	return 0;
}

/* Unmap before unbind before closing the handles. */
static void release_ring(struct direct *d)
{
	if (d->intf) {
		xengnttab_unmap(d->xgt, d->intf, 1);
		d->intf = NULL;
	}
	if (d->bound) {
		xenevtchn_unbind(d->xce, d->lport);
		d->bound = false;
	}
}

static void direct_free(struct direct *d)
{
	release_ring(d);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->xce)
		xenevtchn_close(d->xce);
	if (d->xgt)
		xengnttab_close(d->xgt);
	xc_peer_close(d->peer);
	free(d);
}

/* Take a channel we hotplugged through Closing and Closed and remove it. */
static void teardown(struct direct *d)
{
	int r;

	/* After a signal too: this is what a signal must not leave behind. */
	xc_teardown_begin(CLOSE_WAIT_MS * 2);
	if (!d->peer_gone && set_be_state(d, XC_STATE_CLOSING) == 0) {
		r = wait_fe_state(d, XC_STATE_CLOSED, XC_STATE_CLOSED,
				  xc_deadline(CLOSE_WAIT_MS));
		if (r == 0)
			xc_info("%s: frontend closed", d->fe);
		else if (r != -ECONNREFUSED)
			xc_info("%s: frontend did not close: %s", d->fe, strerror(-r));
	}
	release_ring(d);
	set_be_state(d, XC_STATE_CLOSED);
	r = xc_hotplug_remove(d->st, d->domid, d->devid);
	if (r < 0)
		xc_warn("%s: removing the channel: %s", d->fe, strerror(-r));
	xc_teardown_end();
}

static void direct_close(struct xc_stream *s)
{
	struct direct *d = s->priv;

	if (!d)
		return;
	flush_in(d);
	if (d->hotplugged)
		teardown(d);
	direct_free(d);
	s->priv = NULL;
}

static struct xc_peer *direct_peer(struct xc_stream *s)
{
	struct direct *x = s->priv;

	return x->peer;
}

static const struct xc_stream_ops direct_ops = {
	.read = direct_read,
	.write = direct_write,
	.flush = direct_flush,
	.poll = direct_poll,
	.process = direct_process,
	.delivered = direct_delivered,
	.close = direct_close,
	.peer = direct_peer,
};

/* The guest's ring-ref and port: strictly decimal, in range. */
static int read_ring_keys(struct direct *d, uint32_t *ref, uint32_t *port)
{
	uint64_t v;
	int r;

	r = rd_uint(d->st, d->fe, "ring-ref", UINT32_MAX, &v);
	if (r < 0) {
		xc_warn("%s: ring-ref: %s", d->fe, strerror(-r));
		return -EPROTO;
	}
	*ref = (uint32_t)v;
	r = rd_uint(d->st, d->fe, "port", PORT_MAX, &v);
	if (r < 0 || v == 0) {
		xc_warn("%s: port: %s", d->fe, r < 0 ? strerror(-r) : "0");
		return -EPROTO;
	}
	*port = (uint32_t)v;
	return 0;
}

static int connect_ring(struct direct *d, const struct xc_stream_opts *opts,
			uint64_t deadline)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t ref, port;
	int r, fd;

	/* The frontend's changes wake wait_fe_state(); the peer has the rest. */
	r = xc_store_watch(d->st, d->fe, TOKEN_FE);
	if (r < 0)
		return r;

	r = set_be_state(d, XC_STATE_INIT_WAIT);
	if (r < 0)
		return r;
	r = wait_fe_state(d, XC_STATE_INITIALISED, XC_STATE_CONNECTED, deadline);
	if (r < 0)
		return r;
	r = read_ring_keys(d, &ref, &port);
	if (r < 0)
		return r;
	d->intf = xengnttab_map_grant_ref(d->xgt, d->domid, ref, PROT_READ | PROT_WRITE);
	if (!d->intf) {
		r = errno ? -errno : -EIO;
		xc_warn("%s: map grant %u: %s", d->fe, ref, strerror(-r));
		return r;
	}
	fd = xenevtchn_bind_interdomain(d->xce, d->domid, port);
	if (fd < 0) {
		r = errno ? -errno : -EIO;
		xc_warn("%s: bind port %u: %s", d->fe, port, strerror(-r));
		return r;
	}
	d->lport = (evtchn_port_t)fd;
	d->bound = true;
	r = xc_ring_init(&d->ring, d->intf, opts && opts->discard_backlog);
	if (r < 0)
		return r;
	r = set_be_state(d, XC_STATE_CONNECTED);
	if (r < 0)
		return r;
	r = wait_fe_state(d, XC_STATE_CONNECTED, XC_STATE_CONNECTED, deadline);
	if (r < 0)
		return r;

	/* One descriptor for the caller: the event channel and the watches. */
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	fd = xenevtchn_fd(d->xce);
	if (fd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return fd < 0 ? -EIO : -errno;
	fd = xc_store_fd(d->st);
	if (fd < 0)
		return fd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	/*
	 * A guest that filled out[] while nobody served it (before a crashed
	 * server was replaced, say) waits for an event; so may one that wrote
	 * before the port was bound.  One event covers both.
	 */
	d->notify_other++;
	notify_guest(d);
	return 0;
}

int xc_direct_open(struct xc_store *st, const struct xc_channel *c,
		   const struct xc_stream_opts *opts, struct xc_stream *s)
{
	uint64_t deadline = xc_deadline(opts ? opts->timeout_ms : 0);
	bool create = opts && opts->create;
	struct direct *d;
	int r;

	(void)st; /* borrowed only for the call: we keep a connection of our own */
	if (c->domid == 0 || c->domid > XC_DOMID_MAX || c->devid > XC_DIRECT_MAX_DEVID)
		return c->devid > XC_DIRECT_MAX_DEVID ? -ENOTSUP : -EINVAL;
	if (c->transport == XC_TRANSPORT_VCHAN)
		return -ENOTSUP;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->epfd = -1;
	d->domid = c->domid;
	r = xc_peer_open(d->domid, NULL, &d->peer);
	if (r < 0) {
		free(d);
		return r;
	}
	d->st = xc_peer_store(d->peer);
	d->xce = xenevtchn_open(xc_log_xtl(), 0);
	d->xgt = xengnttab_open(xc_log_xtl(), 0);
	if (!d->xce || !d->xgt) {
		r = errno ? -errno : -EIO;
		goto fail;
	}

	r = -ENOENT;
	if (c->devid) {
		d->devid = c->devid;
		set_paths(d);
		r = check_type(d);
		if (r < 0 && r != -ENOENT)
			goto fail;
	} else if (create && c->name) {
		r = find_by_name(d->st, d->domid, c->name);
		if (r == -EEXIST)
			goto fail;
		if (r > 0) {
			d->devid = (uint32_t)r;
			set_paths(d);
			r = check_type(d);
			if (r < 0 && r != -ENOENT)
				goto fail;
		}
	}
	/* Asked to create, we hold the lock by domain and name: whoever added
	 * the channel we found died.  Adopted, it goes when we do. */
	if (r == 0 && create && d->devid) {
		d->hotplugged = true;
		xc_info("%s: adopting the channel a dead server left", d->fe);
	}
	if (r == -ENOENT) {
		uint32_t devid = 0;

		if (!create)
			goto fail;
		if (!c->name || !xc_channel_name_valid(c->name)) {
			r = -EINVAL;
			goto fail;
		}
		/* The domain must exist: do not write nodes for a dead one. */
		{
			char path[48];
			_cleanup_free_ char *v = NULL;

			snprintf(path, sizeof(path), "/local/domain/%u", d->domid);
			r = xc_store_read(d->st, XBT_NULL, path, XC_VALUE_MAX, &v);
			if (r < 0 && r != -EFBIG && r != -EBADMSG)
				goto fail;
		}
		r = xc_hotplug_add(d->st, d->domid, c->name, &devid);
		if (r < 0)
			goto fail;
		d->devid = devid;
		d->hotplugged = true;
		set_paths(d);
		xc_info("%s: hotplugged channel %s", d->fe, c->name);
	} else if (r < 0) {
		goto fail;
	}

	s->ops = &direct_ops;
	s->priv = d;
	s->transport = XC_TRANSPORT_DIRECT;
	r = connect_ring(d, opts, deadline);
	if (r < 0) {
		s->ops = NULL;
		s->priv = NULL;
		goto fail;
	}
	return 0;
fail:
	if (d->hotplugged)
		teardown(d);
	direct_free(d);
	return r;
}

int xc_direct_stats(struct xc_stream *s, struct xc_direct_stats *out)
{
	struct direct *d;

	if (!s || s->ops != &direct_ops || !s->priv)
		return -EINVAL;
	d = s->priv;
	out->ring = d->ring.stats;
	out->notify_other = d->notify_other;
	out->devid = d->devid;
	return 0;
}

int xc_direct_remove(struct xc_store *st, uint32_t domid, uint32_t devid)
{
	struct direct *d;
	int r;

	(void)st;
	if (domid == 0 || domid > XC_DOMID_MAX || devid == 0)
		return -EINVAL;
	if (devid > XC_DIRECT_MAX_DEVID)
		return -ENOENT;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->epfd = -1;
	d->domid = domid;
	d->devid = devid;
	set_paths(d);
	r = xc_peer_open(d->domid, NULL, &d->peer);
	if (r < 0) {
		free(d);
		return r;
	}
	d->st = xc_peer_store(d->peer);
	r = check_type(d);
	if (r == -ENOENT) {
		/* Only leftovers of ours (a trusted copy saying xenchan) remain. */
		_cleanup_free_ char *conn = NULL;

		if (rd_key(d->st, XBT_NULL, d->lx, "connection", 32, &conn) == 0)
			r = 0;
	}
	if (r == 0) {
		r = xc_store_watch(d->st, d->fe, TOKEN_FE);
		if (r == 0 && !domain_alive(d))
			d->peer_gone = true;
		if (r == 0)
			teardown(d);
	}
	direct_free(d);
	return r;
}
