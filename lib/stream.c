/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stream interface: dispatch by transport and exclusive use through a
 * lock file per channel.  The transports live in lib/qemu.c (qemu's socket
 * and pty), lib/direct.c and lib/vchan.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "lock.h"
#include "macro.h"
#include "sockdiag.h"
#include "stream-internal.h"
#include "untrusted.h"

const char *xc_proof_name(enum xc_proof p)
{
	switch (p) {
	case XC_PROOF_WRITTEN:
		return "written to the transport";
	case XC_PROOF_CONSUMED:
		return "consumed by the guest";
	default:
		return "none";
	}
}

/* ---- locking ---- */

/* Why the lock could not be taken, for xc_stream_strerror(): -ENOLCK. */
static char lock_failure[PATH_MAX + 64];

/* The last client seen holding qemu's socket instead of us. */
static pid_t foreign_pid;
static char foreign_comm[XC_COMM_MAX];

void xc_stream_set_foreign_holder(pid_t pid, const char *comm)
{
	foreign_pid = pid;
	snprintf(foreign_comm, sizeof(foreign_comm), "%s", comm ? comm : "");
}

/*
 * The lock file of a channel: named for what identifies the endpoint, so that
 * two names for one endpoint share a lock.  A vchan endpoint we are to serve
 * (no endpoint yet) is known, as a direct channel, by domain and name.
 */
static int lock_path(const struct xc_channel *c, const struct xc_stream_opts *opts,
		     char *buf, size_t len)
{
	enum xc_transport t = opts && opts->transport ? opts->transport : c->transport;
	const char *dir = opts ? opts->lock_dir : NULL, *id, *kind;

	switch (t) {
	case XC_TRANSPORT_SOCKET:
	case XC_TRANSPORT_PTY:
		kind = t == XC_TRANSPORT_SOCKET ? "socket" : "pty";
		id = c->endpoint;
		break;
	case XC_TRANSPORT_DIRECT:
		/* By domain and name: the channel may not exist yet (--create),
		 * and whoever re-attaches to it later must meet the same lock. */
		if (!c->name)
			return -ENOENT;
		return xc_lock_path_named(dir, "direct", c->domid, c->name, buf, len);
	case XC_TRANSPORT_VCHAN:
		if (!c->endpoint && c->name)
			return xc_lock_path_named(dir, XC_LOCK_VCHAN_SERVE, c->domid, c->name,
						  buf, len);
		/* fall through */
	default:
		kind = xc_transport_name(t);
		id = c->frontend ? c->frontend : c->endpoint;
	}
	if (!id)
		return -ENOENT;
	return xc_lock_path(dir, kind, id, buf, len);
}

/* Take c's lock into s->lock_fd: 0, -EBUSY, or -ENOLCK (see lock_failure). */
static int stream_lock(struct xc_stream *s, const struct xc_channel *c,
		       const struct xc_stream_opts *opts)
{
	char path[PATH_MAX];
	int r;

	r = lock_path(c, opts, path, sizeof(path));
	if (r < 0) {
		snprintf(lock_failure, sizeof(lock_failure), "lock file name: %s",
			 strerror(-r));
		return -ENOLCK;
	}
	if (opts && opts->busy_deadline)
		r = xc_lock_take_wait(path, opts->busy_deadline);
	else
		r = xc_lock_take(path);
	if (r >= 0) {
		s->lock_fd = r;
		return 0;
	}
	if (r == -EBUSY || r == -EINTR)
		return r;
	snprintf(lock_failure, sizeof(lock_failure), "%s", xc_lock_error());
	return -ENOLCK;
}

pid_t xc_stream_holder(const struct xc_channel *c, const struct xc_stream_opts *opts,
		       char *comm, size_t len)
{
	char path[PATH_MAX];
	pid_t pid = 0;

	if (comm && len)
		comm[0] = '\0';
	if (lock_path(c, opts, path, sizeof(path)) == 0)
		pid = xc_lock_holder(path);
	if (pid > 0) {
		if (comm)
			xc_proc_comm(pid, comm, len);
		return pid;
	}
	if (foreign_pid > 0 && comm)
		snprintf(comm, len, "%s", foreign_comm);
	return foreign_pid;
}

/* ---- dispatch ---- */

/* The one place streams are made. */
static struct xc_stream *stream_new(enum xc_transport t)
{
	struct xc_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->transport = t;
	s->lock_fd = -1;
	return s;
}

int xc_stream_listen(struct xc_store *st, uint32_t domid, const char *name,
		     const struct xc_stream_opts *opts, size_t ring_size,
		     struct xc_stream **out)
{
	struct xc_channel c = { .domid = domid, .name = (char *)name,
				.transport = XC_TRANSPORT_DIRECT };
	struct xc_stream_opts o = *opts;
	struct xc_stream *s;
	int r;

	if (o.transport != XC_TRANSPORT_VCHAN) {
		/* Serving a channel is adding it and waiting for the guest. */
		o.transport = XC_TRANSPORT_DIRECT;
		o.create = true;
		return xc_stream_open(st, &c, &o, out);
	}
	if (!xc_channel_name_valid(name))
		return -EINVAL;
	s = stream_new(XC_TRANSPORT_VCHAN);
	if (!s)
		return -ENOMEM;
	/* One server per client and name; what a dead one left is stale. */
	c.transport = XC_TRANSPORT_VCHAN;
	r = stream_lock(s, &c, &o);
	if (r == 0)
		r = xc_vchan_serve(st, domid, name, ring_size, o.timeout_ms, s);
	if (r < 0) {
		xc_stream_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int xc_stream_open(struct xc_store *st, const struct xc_channel *c,
		   const struct xc_stream_opts *opts, struct xc_stream **out)
{
	static const struct xc_stream_opts defaults;
	struct xc_stream *s;
	enum xc_transport t;
	int r;

	if (!opts)
		opts = &defaults;
	t = opts->transport ? opts->transport : c->transport;
	if (t == XC_TRANSPORT_UNKNOWN)
		return -ENOTSUP;
	/* qemu's transports need the channel to be configured for them. */
	if ((t == XC_TRANSPORT_SOCKET || t == XC_TRANSPORT_PTY) && t != c->transport)
		return -ENOTSUP;
	if (t == XC_TRANSPORT_VCHAN && c->transport != XC_TRANSPORT_VCHAN)
		return -ENOTSUP;

	s = stream_new(t);
	if (!s)
		return -ENOMEM;
	xc_stream_set_foreign_holder(0, NULL);
	r = stream_lock(s, c, opts);
	if (r < 0) {
		xc_stream_close(s);
		return r;
	}
	if (t == XC_TRANSPORT_DIRECT)
		r = xc_direct_open(st, c, opts, s);
	else if (t == XC_TRANSPORT_VCHAN)
		r = xc_vchan_open(st, c, opts, s);
	else
		r = xc_qemu_open(c, opts, t, s);
	if (r < 0) {
		xc_stream_close(s);
		return r;
	}
	xc_info("%s stream open", xc_transport_name(t));
	if (opts->follow && s->ops->peer) {
		r = xc_peer_watch_lifecycle(s->ops->peer(s));
		if (r < 0) {
			xc_stream_close(s);
			return r;
		}
	}
	*out = s;
	return 0;
}

char *xc_stream_strerror(int err, const struct xc_channel *c,
			 const struct xc_stream_opts *opts, char *buf, size_t len)
{
	enum xc_transport t = opts && opts->transport ? opts->transport : c->transport;
	const char *op = t == XC_TRANSPORT_SOCKET ? "connect" : "open";
	char comm[XC_COMM_MAX];
	pid_t pid;

	switch (err) {
	case -EBUSY:
		pid = xc_stream_holder(c, opts, comm, sizeof(comm));
		if (pid > 0 && comm[0])
			snprintf(buf, len, "busy: in use by %s (pid %ld)", comm, (long)pid);
		else if (pid > 0)
			snprintf(buf, len, "busy: in use by pid %ld", (long)pid);
		else
			snprintf(buf, len, "busy: in use by another process");
		break;
	case -EPROTONOSUPPORT:
		snprintf(buf, len,
			 "%s: cannot tell whether qemu accepted the connection (no sock_diag "
			 "for unix sockets: load unix_diag): not used",
			 op);
		break;
	case -ENOTSUP:
		snprintf(buf, len, "%s transport not available for this channel",
			 xc_transport_name(t));
		break;
	case -EPERM:
		snprintf(buf, len, "%s: endpoint failed validation: not used", op);
		break;
	case -ENOLCK:
		snprintf(buf, len, "%s", lock_failure);
		break;
	default:
		snprintf(buf, len, "%s: %s", op, strerror(-err));
	}
	return buf;
}

void xc_stream_close(struct xc_stream *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s);
	xc_lock_release(s->lock_fd);
	free(s);
}


ssize_t xc_stream_read(struct xc_stream *s, void *buf, size_t len)
{
	return s->ops->read(s, buf, len);
}

ssize_t xc_stream_write(struct xc_stream *s, const void *buf, size_t len)
{
	return s->ops->write(s, buf, len);
}

int xc_stream_flush(struct xc_stream *s)
{
	return s->ops->flush ? s->ops->flush(s) : 0;
}

bool xc_stream_has_ring(struct xc_stream *s)
{
	return s->ops->write_space && s->ops->read_data;
}

int xc_stream_write_space(struct xc_stream *s, void **p, size_t *len)
{
	return s->ops->write_space ? s->ops->write_space(s, p, len) : -ENOTSUP;
}

int xc_stream_write_commit(struct xc_stream *s, size_t n)
{
	return s->ops->write_commit ? s->ops->write_commit(s, n) : -ENOTSUP;
}

int xc_stream_read_data(struct xc_stream *s, const void **p, size_t *len)
{
	return s->ops->read_data ? s->ops->read_data(s, p, len) : -ENOTSUP;
}

int xc_stream_read_commit(struct xc_stream *s, size_t n)
{
	return s->ops->read_commit ? s->ops->read_commit(s, n) : -ENOTSUP;
}

int xc_stream_poll(struct xc_stream *s, bool want_read, bool want_write, int *fd,
		   short *events)
{
	return s->ops->poll(s, want_read, want_write, fd, events);
}

int xc_stream_process(struct xc_stream *s, short revents)
{
	return s->ops->process ? s->ops->process(s, revents) : 0;
}


int xc_stream_delivered(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
			enum xc_proof *proof)
{
	return s->ops->delivered(s, bytes, pending, proof);
}

enum xc_peer_end xc_stream_peer_end(struct xc_stream *s)
{
	if (!s || !s->ops || !s->ops->peer)
		return XC_PEER_END_DESTROYED;
	return xc_peer_end(s->ops->peer(s));
}

void xc_stream_note_end(struct xc_stream *s)
{
	if (s && s->ops && s->ops->peer)
		xc_peer_note_end(s->ops->peer(s));
}

uint64_t xc_stream_unseen_max(struct xc_stream *s)
{
	return s && s->transport == XC_TRANSPORT_PTY ? XC_PTY_HOLD : 0;
}
