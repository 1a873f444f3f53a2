/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>

#include "clock.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "peer.h"
#include "stream-internal.h"
#include "untrusted.h"
#include "vchan.h"

/* How long closing may take to remove what we published. */
#define TEARDOWN_MS 2000

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * Before publishing at path, with the serving lock held: an endpoint
 * xenchan published there (it has our name key) was left by a server that
 * died without cleaning up: remove it.  One published by another server is
 * in use: -EEXIST.
 */
static int clear_stale(struct xc_store *st, const char *path)
{
	char p[XC_VCHAN_PATH_BUF * 2];
	char *v = NULL;
	int r;

	r = xc_store_read(st, XBT_NULL, path, XC_VALUE_MAX, &v);
	free(v);
	if (r == -ENOENT)
		return 0;
	snprintf(p, sizeof(p), "%s/name", path);
	r = xc_store_read(st, XBT_NULL, p, XC_VALUE_MAX, &v);
	free(v);
	if (r == -ENOENT)
		return -EEXIST;
	xc_info("vchan: %s: removing what a dead server left", path);
	return xc_store_rm(st, XBT_NULL, path);
}

static bool port_alphabet(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

int xc_vchan_path(uint32_t server, uint32_t client, const char *port, char *path,
		  size_t len)
{
	int n = snprintf(path, len, "/local/domain/%u/data/vchan/%u/%s", server, client,
			 port);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* libxenvchan appends "/event-channel" in a 64-byte buffer. */
	if ((size_t)n + strlen("/event-channel") >= XC_VCHAN_PATH_BUF)
		return -ENAMETOOLONG;
	return 0;
}

bool xc_vchan_port(const char *name, uint32_t server, uint32_t client, char *port,
		   size_t len)
{
	char path[XC_VCHAN_PATH_BUF * 4];

	if (port_alphabet(name) && strlen(name) < len &&
	    xc_vchan_path(server, client, name, path, sizeof(path)) == 0) {
		strcpy(port, name);
		return true;
	}
	/* 12 characters: what the longest domids leave room for. */
	snprintf(port, len, "xc%010llx",
		 (unsigned long long)(fnv1a64(name) >> 24) & 0xffffffffffull);
	return false;
}

/* dir/key, or NULL when it cannot be read. */
static char *read_key(struct xc_store *st, const char *dir, const char *key)
{
	char p[XC_VCHAN_PATH_BUF * 2];
	char *v = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, key);
	return xc_store_read(st, XBT_NULL, p, 16, &v) < 0 ? NULL : v;
}

int xc_vchan_lookup(struct xc_store *st, uint32_t server, const char *name,
		    struct xc_channel **out, size_t *n)
{
	char port[32], path[XC_VCHAN_PATH_BUF];
	_cleanup_free_ char *rr = NULL, *ev = NULL;
	struct xc_channel *c;
	uint64_t self;
	int r;

	*out = NULL;
	*n = 0;
	/* The relative key libxenvchan reads too. */
	r = xc_store_read_uint(st, XBT_NULL, "domid", XC_DOMID_MAX, &self);
	if (r < 0)
		return r;
	xc_vchan_port(name, server, (uint32_t)self, port, sizeof(port));
	if (xc_vchan_path(server, (uint32_t)self, port, path, sizeof(path)) < 0)
		return 0;
	/* The server grants us read access to these two keys and to nothing
	 * else of its: when neither can be read, nothing is served to us. */
	rr = read_key(st, path, "ring-ref");
	ev = read_key(st, path, "event-channel");
	if (!rr && !ev)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->domid = (uint32_t)self;
	c->backend_domid = server;
	c->vchan_client = (uint32_t)self;
	c->transport = XC_TRANSPORT_VCHAN;
	if (server != 0)
		c->flags |= XC_CHAN_GUEST_PUBLISHED;
	c->fe_state = c->be_state = rr && ev ? XC_STATE_CONNECTED : XC_STATE_NONE;
	c->name = strdup(name);
	c->endpoint = strdup(path);
	if (!c->name || !c->endpoint) {
		xc_channel_array_free(c, 1);
		return -ENOMEM;
	}
	*out = c;
	*n = 1;
	return 0;
}

struct vch {
	struct libxenvchan *ctrl;
	struct xc_peer *watch; /* the peer's domain */
	struct xc_store *st;   /* the watch's connection */
	uint32_t peer;
	bool server;
	bool peer_gone;
	uint64_t written;
	int epfd;
	char *path; /* served endpoint, to remove on close */
	/*
	 * The rings, moved here rather than through libxenvchan_read() and
	 * _write(), which read their own indices back from the shared page and
	 * stall silently on impossible ones.  Ours are kept here and only
	 * stored to the page; the peer's are read once per look.  The sizes
	 * come from libxenvchan's own copies of the orders, never the page.
	 */
	uint32_t wprod, wsize; /* towards the peer */
	uint32_t rcons, rsize; /* from the peer */
	uint8_t *ask;          /* the peer's notify byte: what we want told */
	uint8_t *owe;          /* ours: what the peer wants told */
	int kick;              /* eventfd in epfd: wakes a poll whose wait is
				  already over (vch_poll) */
};

/* The peer is gone: it closed or died (unmap-notify cleared its live flag),
 * or its domain was destroyed (no notify comes then: ocaml-vchan #65). */
static bool peer_gone(struct vch *v)
{
	if (v->peer_gone)
		return true;
	if (libxenvchan_is_open(v->ctrl) == 0)
		v->peer_gone = true;
	return v->peer_gone;
}

/* Once connected: our indices as the setup left them, read this once. */
static void ring_init(struct vch *v)
{
	struct libxenvchan *c = v->ctrl;

	v->wsize = 1u << c->write.order;
	v->rsize = 1u << c->read.order;
	v->wprod = __atomic_load_n(&c->write.shr->prod, __ATOMIC_RELAXED);
	v->rcons = __atomic_load_n(&c->read.shr->cons, __ATOMIC_RELAXED);
	v->ask = v->server ? &c->ring->cli_notify : &c->ring->srv_notify;
	v->owe = v->server ? &c->ring->srv_notify : &c->ring->cli_notify;
}

/* Ask the peer to notify us of bit; the caller then looks again. */
static void ask_notify(struct vch *v, uint8_t bit)
{
	__atomic_fetch_or(v->ask, bit, __ATOMIC_SEQ_CST);
}

/* After moving an index: notify if the peer asked for bit. */
static int owe_notify(struct vch *v, uint8_t bit)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_fetch_and(v->owe, (uint8_t)~bit, __ATOMIC_SEQ_CST) & bit))
		return 0;
	return xenevtchn_notify(v->ctrl->event, v->ctrl->event_port) < 0 ? -errno : 0;
}

/* Bytes the peer has not consumed from our ring: its index, read once, at
 * most a ring behind ours (XSA-86). */
static int queued(struct vch *v, uint32_t *q)
{
	uint32_t cons = __atomic_load_n(&v->ctrl->write.shr->cons, __ATOMIC_ACQUIRE);

	*q = v->wprod - cons;
	if (*q > v->wsize) {
		xc_warn("vchan: impossible consumer index from domain %u (%u queued in a "
			"%u-byte ring)", v->peer, *q, v->wsize);
		return -EPROTO;
	}
	return 0;
}

/* Bytes the peer has published in its ring: likewise. */
static int ready(struct vch *v, uint32_t *n)
{
	uint32_t prod = __atomic_load_n(&v->ctrl->read.shr->prod, __ATOMIC_ACQUIRE);

	*n = prod - v->rcons;
	if (*n > v->rsize) {
		xc_warn("vchan: impossible producer index from domain %u (%u ready in a "
			"%u-byte ring)", v->peer, *n, v->rsize);
		return -EPROTO;
	}
	return 0;
}

static int vch_write_space(struct xc_stream *s, void **p, size_t *len)
{
	struct vch *v = s->priv;
	uint32_t q, off, room;
	int r;

	*len = 0;
	if (peer_gone(v))
		return -EPIPE;
	r = queued(v, &q);
	if (r == 0 && q == v->wsize) {
		/* Full: first let whatever else this CPU has run (the peer, or
		 * the process feeding us) and look again; sleeping for an event
		 * costs far more than that at every turn of a small ring. */
		sched_yield();
		r = queued(v, &q);
	}
	if (r == 0 && q == v->wsize) {
		/* Still full: ask to be told when it consumes, then look again
		 * (it may have consumed before it could see the request). */
		ask_notify(v, VCHAN_NOTIFY_READ);
		r = queued(v, &q);
	}
	if (r < 0)
		return r;
	off = v->wprod & (v->wsize - 1);
	room = v->wsize - q;
	if (room > v->wsize - off)
		room = v->wsize - off;
	*p = (char *)v->ctrl->write.buffer + off;
	*len = room;
	return 0;
}

static int vch_write_commit(struct xc_stream *s, size_t n)
{
	struct vch *v = s->priv;

	if (!n)
		return 0;
	v->wprod += (uint32_t)n;
	v->written += n;
	/* The bytes before the index that publishes them. */
	__atomic_store_n(&v->ctrl->write.shr->prod, v->wprod, __ATOMIC_RELEASE);
	return owe_notify(v, VCHAN_NOTIFY_WRITE);
}

static int vch_read_data(struct xc_stream *s, const void **p, size_t *len)
{
	struct vch *v = s->priv;
	uint32_t n, off;
	bool gone;
	int r;

	*len = 0;
	/* Gone before the look: what it wrote before it went is seen. */
	gone = peer_gone(v);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r = ready(v, &n);
	if (r == 0 && n == 0 && !gone) {
		/* Empty: likewise, one yield and one more look first. */
		sched_yield();
		r = ready(v, &n);
	}
	if (r == 0 && n == 0 && !gone) {
		ask_notify(v, VCHAN_NOTIFY_WRITE);
		r = ready(v, &n);
	}
	if (r < 0)
		return r;
	if (n == 0)
		return gone ? -EPIPE : 0;
	off = v->rcons & (v->rsize - 1);
	if (n > v->rsize - off)
		n = v->rsize - off;
	*p = (const char *)v->ctrl->read.buffer + off;
	*len = n;
	return 0;
}

static int vch_read_commit(struct xc_stream *s, size_t n)
{
	struct vch *v = s->priv;

	if (!n)
		return 0;
	v->rcons += (uint32_t)n;
	/* The bytes copied out before the index that frees their room. */
	__atomic_store_n(&v->ctrl->read.shr->cons, v->rcons, __ATOMIC_RELEASE);
	return owe_notify(v, VCHAN_NOTIFY_READ);
}

static ssize_t vch_read(struct xc_stream *s, void *buf, size_t len)
{
	size_t done = 0;

	/* Both pieces when the data wraps around the ring's end. */
	while (done < len) {
		const void *p;
		size_t n;
		int r = vch_read_data(s, &p, &n);

		if (r < 0 || n == 0) {
			if (done)
				break;
			return r < 0 ? r : -EAGAIN;
		}
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, p, n);
		done += n;
		r = vch_read_commit(s, n);
		if (r < 0)
			return r;
	}
	return (ssize_t)done;
}

static ssize_t vch_write(struct xc_stream *s, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		void *p;
		size_t n;
		int r = vch_write_space(s, &p, &n);

		if (r < 0 || n == 0) {
			if (done)
				break;
			return r < 0 ? r : -EAGAIN;
		}
		if (n > len - done)
			n = len - done;
		memcpy(p, (const char *)buf + done, n);
		done += n;
		r = vch_write_commit(s, n);
		if (r < 0)
			return r;
	}
	return (ssize_t)done;
}

static int vch_flush(struct xc_stream *s)
{
	return 0; /* libxenvchan notifies as it writes */
}

static int vch_poll(struct xc_stream *s, bool want_read, bool want_write, int *fd,
		    short *events)
{
	struct vch *v = s->priv;
	uint32_t q;

	/* To write: with room in the ring already (a caller held back by
	 * something else until now), the wait is over at once; with none,
	 * ask the peer to tell when it consumes, and look again, as it may
	 * have consumed before it could see the request. */
	if (want_write && !peer_gone(v)) {
		int r = queued(v, &q);

		if (r == 0 && q == v->wsize) {
			ask_notify(v, VCHAN_NOTIFY_READ);
			r = queued(v, &q);
		}
		if (r < 0 || q < v->wsize) {
			uint64_t one = 1;

			if (write(v->kick, &one, sizeof(one)) < 0 && errno != EAGAIN)
				return -errno;
		}
	}
	*fd = v->epfd;
	*events = POLLIN;
	return 0;
}

static int vch_process(struct xc_stream *s, short revents)
{
	struct vch *v = s->priv;
	struct epoll_event ev[3];
	int n = epoll_wait(v->epfd, ev, 3, 0);

	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == 2) {
			uint64_t count;

			if (read(v->kick, &count, sizeof(count)) < 0 && errno != EAGAIN)
				return -errno;
		} else if (ev[i].data.u32 == 0) {
			/* Acknowledges and unmasks the event channel. */
			if (libxenvchan_wait(v->ctrl) < 0)
				v->peer_gone = true;
		} else if (xc_peer_check(v->watch, NULL) < 0) {
			v->peer_gone = true;
		}
	}
	/* Said here too: a writer whose window is full writes nothing that
	 * would tell it. */
	return v->peer_gone ? -EPIPE : 0;
}


static int vch_delivered(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
			 enum xc_proof *proof)
{
	struct vch *v = s->priv;
	uint32_t q;
	int r = queued(v, &q);

	if (r < 0)
		return r;
	/* More queued than we ever wrote is no proof of anything either. */
	if (q > v->written)
		return -EPROTO;
	/* What the peer has consumed from our ring is what it has taken. */
	*bytes = v->written - q;
	*pending = q;
	*proof = XC_PROOF_CONSUMED;
	return 0;
}

static void vch_close(struct xc_stream *s)
{
	struct vch *v = s->priv;

	if (!v)
		return;
	/* A published endpoint must not outlive us, after a signal too. */
	xc_teardown_begin(TEARDOWN_MS);
	if (v->ctrl)
		libxenvchan_close(v->ctrl); /* the server's keys go with it */
	/* Our own keys (name, busy) beside libxenvchan's, and the directory. */
	if (v->server && v->path && v->st)
		xc_store_rm(v->st, XBT_NULL, v->path);
	xc_teardown_end();
	if (v->epfd >= 0)
		close(v->epfd);
	if (v->kick >= 0)
		close(v->kick);
	xc_peer_close(v->watch);
	free(v->path);
	free(v);
	s->priv = NULL;
}

static struct xc_peer *vch_peer(struct xc_stream *s)
{
	struct vch *x = s->priv;

	return x->watch;
}

static const struct xc_stream_ops vch_ops = {
	.read = vch_read,
	.write = vch_write,
	.flush = vch_flush,
	.poll = vch_poll,
	.process = vch_process,
	.delivered = vch_delivered,
	.close = vch_close,
	.write_space = vch_write_space,
	.write_commit = vch_write_commit,
	.read_data = vch_read_data,
	.read_commit = vch_read_commit,
	.peer = vch_peer,
};

static int watch_peer(struct vch *v)
{
	int r = xc_peer_open(v->peer, NULL, &v->watch);

	if (r == 0)
		v->st = xc_peer_store(v->watch);
	return r;
}

/* One descriptor for the caller: the event channel and the domain watch. */
static int vch_setup(struct vch *v)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int r;

	if (!v->watch && (r = watch_peer(v)) < 0)
		return r;
	ring_init(v);
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epfd < 0)
		return -errno;
	ev.data.u32 = 0;
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, libxenvchan_fd_for_select(v->ctrl), &ev) < 0)
		return -errno;
	ev.data.u32 = 1;
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, xc_peer_fd(v->watch), &ev) < 0)
		return -errno;
	v->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->kick < 0)
		return -errno;
	ev.data.u32 = 2;
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->kick, &ev) < 0)
		return -errno;
	return 0;
}

int xc_vchan_open(struct xc_store *st, const struct xc_channel *c,
		  const struct xc_stream_opts *opts, struct xc_stream *s)
{
	struct vch *v;
	int r;

	if (c->transport != XC_TRANSPORT_VCHAN || !c->endpoint)
		return -ENOTSUP;
	/* The endpoint path comes from the listing: its shape is ours, but check
	 * it fits libxenvchan's buffer rather than let it truncate. */
	if (strlen(c->endpoint) + strlen("/event-channel") >= XC_VCHAN_PATH_BUF)
		return -ENAMETOOLONG;
	{
		char p[XC_VCHAN_PATH_BUF * 2], *val = NULL;

		snprintf(p, sizeof(p), "%s/busy", c->endpoint);
		if (xc_store_read(st, XBT_NULL, p, 16, &val) == 0) {
			free(val);
			return -EBUSY;
		}
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->epfd = v->kick = -1;
	v->peer = c->backend_domid;
	v->ctrl = libxenvchan_client_init(xc_log_xtl(), (int)c->backend_domid, c->endpoint);
	if (!v->ctrl) {
		r = errno == ENOENT ? -ENOENT : -ECONNREFUSED;
		free(v);
		return r;
	}
	v->ctrl->blocking = 0;
	s->ops = &vch_ops;
	s->priv = v;
	s->transport = XC_TRANSPORT_VCHAN;
	r = vch_setup(v);
	if (r < 0) {
		vch_close(s);
		return r;
	}
	return 0;
}

int xc_vchan_serve(struct xc_store *st, uint32_t client, const char *name,
		   size_t ring_size, uint64_t timeout_ms, struct xc_stream *s)
{
	char port[32], path[XC_VCHAN_PATH_BUF], p[XC_VCHAN_PATH_BUF * 2];
	uint64_t deadline = xc_deadline(timeout_ms);
	struct vch *v;
	uint64_t self;
	int r;

	/* Our own domid, from the relative key libxenvchan also reads. */
	r = xc_store_read_uint(st, XBT_NULL, "domid", XC_DOMID_MAX, &self);
	if (r < 0)
		return r;
	xc_vchan_port(name, (uint32_t)self, client, port, sizeof(port));
	r = xc_vchan_path((uint32_t)self, client, port, path, sizeof(path));
	if (r < 0)
		return r;
	r = clear_stale(st, path);
	if (r < 0)
		return r;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->epfd = v->kick = -1;
	v->server = true;
	v->peer = client;
	s->ops = &vch_ops;
	s->priv = v;
	s->transport = XC_TRANSPORT_VCHAN;
	v->path = strdup(path);
	if (!v->path) {
		r = -ENOMEM;
		goto fail;
	}
	/* Our own connection from the start: whatever we publish, it removes. */
	r = watch_peer(v);
	if (r < 0)
		goto fail;
	if (!ring_size)
		ring_size = XC_VCHAN_RING_DEFAULT;
	/* The full name beside the endpoint, before a client can see it. */
	snprintf(p, sizeof(p), "%s/name", path);
	r = xc_store_write(st, XBT_NULL, p, name);
	if (r < 0)
		goto fail;
	v->ctrl = libxenvchan_server_init(xc_log_xtl(), (int)client, path, ring_size, ring_size);
	if (!v->ctrl) {
		r = errno > 0 ? -errno : -EIO;
		goto fail;
	}
	v->ctrl->blocking = 0;
	r = vch_setup(v);
	if (r < 0)
		goto fail;
	/* Wait for the client, on the event channel (it notifies on connect). */
	while (libxenvchan_is_open(v->ctrl) == 2) {
		struct pollfd pfd = { .fd = v->epfd, .events = POLLIN };

		r = xc_wait_fds(&pfd, 1, deadline);
		if (r < 0)
			goto fail;
		vch_process(s, pfd.revents);
		if (v->peer_gone) {
			r = -EPIPE;
			goto fail;
		}
	}
	/* No second client may map this ring: take the keys away, say why. */
	snprintf(p, sizeof(p), "%s/busy", path);
	xc_store_write(st, XBT_NULL, p, "1");
	snprintf(p, sizeof(p), "%s/ring-ref", path);
	xc_store_rm(st, XBT_NULL, p);
	snprintf(p, sizeof(p), "%s/event-channel", path);
	xc_store_rm(st, XBT_NULL, p);
	xc_info("vchan: %s: client %u connected", path, client);
	return 0;
fail:
	vch_close(s);
	s->ops = NULL;
	return r;
}
