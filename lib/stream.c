/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stream interface: dispatch by transport, exclusive use through a lock
 * file per channel, and the two transports qemu serves (its unix socket and
 * its pty).  The direct transport lives in lib/direct.c.
 *
 * A socket or pty stream watches its domain too: qemu may keep a socket or a
 * pty open after the guest is gone, so a second xenstore connection watches
 * @releaseDomain and the frontend, and the stream reports -EPIPE when the
 * domain or the frontend disappears.  The data descriptor, the xenstore
 * descriptor and an eventfd (set once the peer is known gone, so a reader is
 * woken to collect -EPIPE) sit in one epoll set: that is the one descriptor
 * xc_stream_poll() names.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "macro.h"
#include "stream-internal.h"
#include "untrusted.h"

/* How long the peer must stay silent before a discarded backlog is over. */
#define BACKLOG_SETTLE_MS 200

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

static int lock_dir(const struct xc_stream_opts *opts, char *buf, size_t len)
{
	const char *rd = getenv("XENCHAN_RUNDIR");
	int n;

	if (opts && opts->lock_dir)
		n = snprintf(buf, len, "%s", opts->lock_dir);
	else if (rd && *rd)
		n = snprintf(buf, len, "%s/locks", rd);
	else
		n = snprintf(buf, len, "/run/xenchan/locks");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * The lock file of a channel: named for what identifies the endpoint, so that
 * two names for one endpoint share a lock.  '/' and '%' are escaped as %2F
 * and %25, keeping the name one path component.
 */
static int lock_path(const struct xc_channel *c, const struct xc_stream_opts *opts,
		     char *buf, size_t len)
{
	enum xc_transport t = opts && opts->transport ? opts->transport : c->transport;
	const char *id, *kind;
	char direct_id[300];
	size_t o;
	int r;

	switch (t) {
	case XC_TRANSPORT_SOCKET:
	case XC_TRANSPORT_PTY:
		kind = t == XC_TRANSPORT_SOCKET ? "socket" : "pty";
		id = c->endpoint;
		break;
	case XC_TRANSPORT_DIRECT:
		/* By domain and name: the channel may not exist yet (--create),
		 * and whoever re-attaches to it later must meet the same lock. */
		kind = "direct";
		if (!c->name || (size_t)snprintf(direct_id, sizeof(direct_id), "%u:%s",
						 c->domid, c->name) >= sizeof(direct_id))
			return -ENOENT;
		id = direct_id;
		break;
	default:
		kind = xc_transport_name(t);
		id = c->frontend ? c->frontend : c->endpoint;
	}
	if (!id)
		return -ENOENT;
	r = lock_dir(opts, buf, len);
	if (r < 0)
		return r;
	o = strlen(buf);
	r = snprintf(buf + o, len - o, "/%s:", kind);
	if (r < 0 || (size_t)r >= len - o)
		return -ENAMETOOLONG;
	o += r;
	for (const char *p = id; *p; p++) {
		if (o + 4 >= len)
			return -ENAMETOOLONG;
		if (*p == '/' || *p == '%')
			o += snprintf(buf + o, len - o, "%%%02X", (unsigned char)*p);
		else
			buf[o++] = *p;
	}
	buf[o] = '\0';
	return 0;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int lock_take(const struct xc_channel *c, const struct xc_stream_opts *opts)
{
	char path[PATH_MAX], dir[PATH_MAX], pid[32];
	_cleanup_close_ int fd = -1;
	int r, n;

	r = lock_path(c, opts, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	r = mkdir_p(dir);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	/* The holder's pid, for the message a second user gets. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, n, 0) != n)
		return -errno;
	xc_dbg("lock %s taken", path);
	return TAKE_FD(fd);
}

pid_t xc_stream_holder(const struct xc_channel *c, const struct xc_stream_opts *opts)
{
	char path[PATH_MAX], buf[32];
	_cleanup_close_ int fd = -1;
	uint64_t pid;
	ssize_t n;

	if (lock_path(c, opts, path, sizeof(path)) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	/* Not held any more: nobody to name. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (xc_parse_uint(buf, INT_MAX, &pid) < 0 || pid == 0)
		return 0;
	return (pid_t)pid;
}

/* ---- socket and pty ---- */

struct qemu_stream {
	int fd;    /* the socket, or the pty's slave side */
	int epfd;  /* fd, the xenstore descriptor, wake */
	int wake;  /* eventfd: readable once the peer is gone */
	uint32_t ep_events;
	bool pty;
	bool saved_ok;
	struct termios saved;
	struct xc_store *st; /* our own connection, for the domain watch */
	uint32_t domid;
	char *fe_state;      /* the frontend's state key */
	char *dom_path;      /* /local/domain/<domid> */
	bool gone;           /* domain or frontend gone, or the descriptor hung up */
	bool hup;
	uint64_t written;
	uint64_t queued; /* last SIOCOUTQ seen while connected */
};

static void mark_gone(struct qemu_stream *q, const char *why)
{
	uint64_t one = 1;

	if (q->gone)
		return;
	q->gone = true;
	xc_info("peer gone: %s", why);
	if (write(q->wake, &one, sizeof(one)) < 0)
		xc_dbg("eventfd: %s", strerror(errno));
}

/* After a watch fired: is the domain, and its frontend, still there? */
static void check_domain(struct qemu_stream *q)
{
	_cleanup_free_ char *v = NULL;
	uint64_t state;
	int r;

	r = xc_store_read(q->st, XBT_NULL, q->dom_path, XC_VALUE_MAX, &v);
	if (r == -ENOENT) {
		mark_gone(q, "the domain was destroyed");
		return;
	}
	if (!q->fe_state)
		return;
	r = xc_store_read_uint(q->st, XBT_NULL, q->fe_state, 16, &state);
	if (r == -ENOENT)
		mark_gone(q, "the frontend was removed");
	else if (r == 0 && state >= XC_STATE_CLOSING)
		mark_gone(q, "the frontend is closing");
}

static void drain_watches(struct qemu_stream *q)
{
	char *path, *token;
	bool fired = false;
	int r;

	while ((r = xc_store_read_watch(q->st, &path, &token)) == 0) {
		free(path);
		free(token);
		fired = true;
	}
	if (r == -ECONNRESET)
		mark_gone(q, "lost the connection to xenstored");
	else if (fired)
		check_domain(q);
}

static ssize_t q_read(struct xc_stream *s, void *buf, size_t len)
{
	struct qemu_stream *q = s->priv;
	ssize_t n;

	if (len == 0)
		return 0;
	n = read(q->fd, buf, len);
	if (n > 0)
		return n;
	if (n == 0) {
		q->hup = true;
		mark_gone(q, "end of file");
		return -EPIPE;
	}
	switch (errno) {
	case EAGAIN:
		return q->gone ? -EPIPE : -EAGAIN;
	case EINTR:
		return -EAGAIN;
	case EIO: /* a pty whose master is closed */
	case ECONNRESET:
	case EPIPE:
		q->hup = true;
		mark_gone(q, strerror(errno));
		return -EPIPE;
	default:
		return -errno;
	}
}

static ssize_t q_write(struct xc_stream *s, const void *buf, size_t len)
{
	struct qemu_stream *q = s->priv;
	ssize_t n;

	if (q->gone)
		return -EPIPE;
	if (len == 0)
		return 0;
	if (q->pty)
		n = write(q->fd, buf, len);
	else
		n = send(q->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n >= 0) {
		q->written += n;
		return n;
	}
	switch (errno) {
	case EAGAIN:
	case EINTR:
		return -EAGAIN;
	case EIO:
	case ECONNRESET:
	case EPIPE:
		q->hup = true;
		mark_gone(q, strerror(errno));
		return -EPIPE;
	default:
		return -errno;
	}
}

static int q_flush(struct xc_stream *s)
{
	struct qemu_stream *q = s->priv;

	return q->gone && q->hup ? -EPIPE : 0;
}

static int q_poll(struct xc_stream *s, bool want_read, bool want_write, int *fd,
		  short *events)
{
	struct qemu_stream *q = s->priv;
	uint32_t ev = 0;

	if (want_read)
		ev |= EPOLLIN;
	if (want_write && !q->gone)
		ev |= EPOLLOUT;
	/* A hung-up descriptor reports EPOLLHUP whatever is asked: take it out
	 * unless it is read (a socket may still hold data). */
	if (q->hup && !want_read) {
		if (q->ep_events != UINT32_MAX)
			epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->fd, NULL);
		q->ep_events = UINT32_MAX;
	} else if (ev != q->ep_events) {
		struct epoll_event e = { .events = ev, .data.fd = q->fd };
		int op = q->ep_events == UINT32_MAX ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

		if (epoll_ctl(q->epfd, op, q->fd, &e) < 0)
			return -errno;
		q->ep_events = ev;
	}
	*fd = q->epfd;
	*events = POLLIN;
	return 0;
}

static int q_process(struct xc_stream *s, short revents)
{
	struct qemu_stream *q = s->priv;
	struct epoll_event ev[4];
	int n;

	if (!revents)
		return q->gone ? -EPIPE : 0;
	/* Not a wait: poll() already said something is ready. */
	n = epoll_wait(q->epfd, ev, ARRAY_SIZE(ev), 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == q->fd) {
			if ((ev[i].events & (EPOLLHUP | EPOLLERR)) && !(ev[i].events & EPOLLIN)) {
				q->hup = true;
				mark_gone(q, "hangup");
			} else if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
				q->hup = true;
			}
		} else if (ev[i].data.fd == xc_store_fd(q->st)) {
			drain_watches(q);
		}
	}
	return q->gone ? -EPIPE : 0;
}


static int q_delivered(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
		       enum xc_proof *proof)
{
	struct qemu_stream *q = s->priv;
	uint64_t queued = 0;
	int outq = 0;

	/*
	 * A unix socket's SIOCOUTQ counts the memory of what the peer has not
	 * read yet (with overhead, so an upper bound in bytes); 0 means qemu read
	 * everything.  A pty has no such count: the kernel took it, and that is
	 * all that can be said.
	 */
	if (!q->pty && !q->hup) {
		if (ioctl(q->fd, SIOCOUTQ, &outq) == 0 && outq > 0)
			queued = (uint64_t)outq;
		if (queued > q->written)
			queued = q->written;
		q->queued = queued;
	} else if (!q->pty) {
		/* Hung up: what was still queued is lost, as far as we know. */
		queued = q->queued;
	}
	if (bytes)
		*bytes = q->written - queued;
	if (pending)
		*pending = queued;
	if (proof)
		*proof = XC_PROOF_WRITTEN;
	return 0;
}

static void q_close(struct xc_stream *s)
{
	struct qemu_stream *q = s->priv;

	if (!q)
		return;
	if (q->fd >= 0) {
		if (q->pty && q->saved_ok)
			tcsetattr(q->fd, TCSANOW, &q->saved);
		close(q->fd);
	}
	if (q->epfd >= 0)
		close(q->epfd);
	if (q->wake >= 0)
		close(q->wake);
	xc_store_close(q->st);
	free(q->fe_state);
	free(q->dom_path);
	free(q);
	s->priv = NULL;
}

static const struct xc_stream_ops qemu_ops = {
	.read = q_read,
	.write = q_write,
	.flush = q_flush,
	.poll = q_poll,
	.process = q_process,
	.delivered = q_delivered,
	.close = q_close,
};

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = xc_wait_fds(&p, 1, deadline);

	return r < 0 ? r : 0;
}

static int socket_connect(const char *path, uint64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			socklen_t l = sizeof(r);

			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &l) < 0)
				return -errno;
			if (r)
				return -r;
			break;
		}
		/* A unix listener whose accept queue is full answers EAGAIN and
		 * gives nothing to wait on. */
		return -errno;
	}
	return TAKE_FD(fd);
}

/*
 * Drop what the guest wrote before we came.  qemu sends its buffered output
 * to a client as soon as it accepts it, and a pty holds what qemu wrote
 * into it: read until the channel has been silent for BACKLOG_SETTLE_MS.
 * Limits: output the guest writes during that window is dropped too, and a
 * backlog that qemu is slower than that to start sending is kept.
 */
static int discard_backlog(struct qemu_stream *q, uint64_t deadline)
{
	char buf[16384];
	uint64_t dropped = 0;

	if (q->pty)
		tcflush(q->fd, TCIFLUSH);
	for (;;) {
		uint64_t quiet = xc_deadline_at(xc_now_ms(), BACKLOG_SETTLE_MS);
		ssize_t n;
		int r;

		r = wait_fd(q->fd, POLLIN, xc_deadline_min(deadline, quiet));
		if (r == -ETIMEDOUT)
			break;
		if (r < 0)
			return r;
		n = read(q->fd, buf, sizeof(buf));
		if (n > 0) {
			dropped += n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return n == 0 ? -EPIPE : (errno == EIO ? -EPIPE : -errno);
	}
	xc_info("discarded a backlog of %" PRIu64 " bytes", dropped);
	return 0;
}

static int domain_watch(struct qemu_stream *q, const struct xc_channel *c)
{
	char buf[96];
	int r;

	r = xc_store_open(&q->st);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "/local/domain/%u", c->domid);
	q->dom_path = strdup(buf);
	if (c->frontend) {
		snprintf(buf, sizeof(buf), "%s/state", c->frontend);
		q->fe_state = strdup(buf);
	}
	if (!q->dom_path || (c->frontend && !q->fe_state))
		return -ENOMEM;
	r = xc_store_watch(q->st, "@releaseDomain", "xc-stream-dom");
	if (r == 0 && q->fe_state)
		r = xc_store_watch(q->st, q->fe_state, "xc-stream-fe");
	if (r < 0)
		return r;
	r = xc_store_fd(q->st);
	if (r < 0)
		return r;
	struct epoll_event e = { .events = EPOLLIN, .data.fd = r };
	if (epoll_ctl(q->epfd, EPOLL_CTL_ADD, r, &e) < 0)
		return -errno;
	return 0;
}

static int qemu_open(const struct xc_channel *c, const struct xc_stream_opts *opts,
		     enum xc_transport t, struct xc_stream *s)
{
	uint64_t deadline = xc_deadline(opts->timeout_ms);
	struct qemu_stream *q;
	int r;

	if (!c->endpoint)
		return c->flags & XC_CHAN_BAD_ENDPOINT ? -EPERM : -ENOENT;
	/* The endpoint was validated by the listing; check again anyway, it
	 * is used as a path. */
	if (t == XC_TRANSPORT_SOCKET ? !xc_socket_path_valid(c->endpoint)
				     : !xc_pty_path_valid(c->endpoint))
		return -EPERM;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fd = q->epfd = q->wake = -1;
	q->ep_events = UINT32_MAX;
	q->domid = c->domid;
	q->pty = t == XC_TRANSPORT_PTY;
	s->priv = q;
	s->ops = &qemu_ops;

	if (q->pty) {
		q->fd = open(c->endpoint, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (q->fd < 0)
			return -errno;
		if (!isatty(q->fd))
			return -ENOTTY;
		if (tcgetattr(q->fd, &q->saved) == 0) {
			struct termios raw = q->saved;

			q->saved_ok = true;
			cfmakeraw(&raw);
			if (tcsetattr(q->fd, TCSANOW, &raw) < 0)
				return -errno;
		}
		xc_info("opened %s", c->endpoint);
	} else {
		r = socket_connect(c->endpoint, deadline);
		if (r < 0)
			return r;
		q->fd = r;
		xc_info("connected to %s", c->endpoint);
	}
	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	q->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->epfd < 0 || q->wake < 0)
		return -errno;
	struct epoll_event e = { .events = EPOLLIN, .data.fd = q->wake };
	if (epoll_ctl(q->epfd, EPOLL_CTL_ADD, q->wake, &e) < 0)
		return -errno;
	r = domain_watch(q, c);
	if (r < 0)
		return r;
	/* The watches fire once at once: the domain may already be gone. */
	check_domain(q);
	if (opts->discard_backlog) {
		r = discard_backlog(q, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- dispatch ---- */

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

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->transport = t;
	s->lock_fd = lock_take(c, opts);
	if (s->lock_fd < 0) {
		r = s->lock_fd;
		free(s);
		return r;
	}
	if (t == XC_TRANSPORT_DIRECT)
		r = xc_direct_open(st, c, opts, s);
	else if (t == XC_TRANSPORT_VCHAN)
		r = xc_vchan_open(st, c, opts, s);
	else
		r = qemu_open(c, opts, t, s);
	if (r < 0) {
		xc_stream_close(s);
		return r;
	}
	xc_info("%s stream open", xc_transport_name(t));
	*out = s;
	return 0;
}

char *xc_stream_strerror(int err, const struct xc_channel *c,
			 const struct xc_stream_opts *opts, char *buf, size_t len)
{
	enum xc_transport t = opts && opts->transport ? opts->transport : c->transport;
	const char *op = t == XC_TRANSPORT_SOCKET ? "connect" : "open";
	pid_t pid;

	switch (err) {
	case -EBUSY:
		pid = xc_stream_holder(c, opts);
		if (pid > 0)
			snprintf(buf, len, "busy: in use by pid %ld", (long)pid);
		else
			snprintf(buf, len, "busy: in use by another process");
		break;
	case -ENOTSUP:
		snprintf(buf, len, "%s transport not available for this channel",
			 xc_transport_name(t));
		break;
	case -EPERM:
		snprintf(buf, len, "%s: endpoint failed validation: not used", op);
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
	if (s->lock_fd >= 0) {
		/* Still held: nobody reads a pid that is about to be stale. */
		if (ftruncate(s->lock_fd, 0) < 0)
			xc_dbg("lock: %s", strerror(errno));
		close(s->lock_fd);
	}
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
