/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two transports qemu serves: its unix socket (one client at a time)
 * and its pty.
 *
 * A socket or pty stream watches its domain too (lib/peer.c): qemu may keep
 * a socket or a pty open after the guest is gone, and the stream reports
 * -EPIPE when the domain or the frontend disappears.  The data descriptor,
 * the peer's descriptor and an eventfd (set once the peer is known gone, so
 * a reader is woken to collect -EPIPE) sit in one epoll set: that is the one
 * descriptor xc_stream_poll() names.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "peer.h"
#include "sockdiag.h"
#include "stream-internal.h"
#include "untrusted.h"

/* How long the peer must stay silent before a discarded backlog is over. */
#define BACKLOG_SETTLE_MS 200
/*
 * How often a connection queued on qemu's listener looks whether it was
 * accepted (nothing wakes it: qemu writes only when it has guest output):
 * soon while nobody else is served, since qemu is about to; less often
 * while another client is (each look also searches /proc for that client).
 */
#define ACCEPT_POLL_MS 50
#define BUSY_POLL_MS 250

struct qemu_stream {
	int fd;    /* the socket, or the pty's slave side */
	int epfd;  /* fd, the xenstore descriptor, wake */
	int wake;  /* eventfd: readable once the peer is gone */
	uint32_t ep_events;
	bool pty;
	bool saved_ok;
	struct termios saved;
	struct xc_peer *peer; /* the domain and the frontend, watched */
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
static void check_peer(struct qemu_stream *q)
{
	const char *why;

	int r = xc_peer_check(q->peer, &why);

	if (r == -EPIPE || r == -ECONNRESET)
		mark_gone(q, why);
}

/* A failed read or write of the descriptor, as the stream reports it. */
static ssize_t io_error(struct qemu_stream *q, int err)
{
	switch (err) {
	case EAGAIN:
	case EINTR:
		return -EAGAIN;
	case EIO: /* a pty whose master is closed */
	case ECONNRESET:
	case EPIPE:
		q->hup = true;
		mark_gone(q, strerror(err));
		return -EPIPE;
	default:
		return -err;
	}
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
	if (errno == EAGAIN && q->gone)
		return -EPIPE;
	return io_error(q, errno);
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
	return io_error(q, errno);
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
		} else if (ev[i].data.fd == xc_peer_fd(q->peer)) {
			check_peer(q);
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
	if (!q->pty && !q->hup && !q->gone) {
		struct pollfd p = { .fd = q->fd, .events = POLLRDHUP };

		if (ioctl(q->fd, SIOCOUTQ, &outq) == 0 && outq > 0)
			queued = (uint64_t)outq;
		if (queued > q->written)
			queued = q->written;
		/* A closing qemu's socket drops what it had not read, and the
		 * count falls to 0: a count taken once qemu hung up proves
		 * nothing (looked at after the count, so that a hangup before
		 * it is seen). */
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
			/* What it sent before can still be read (q_read). */
			q->hup = true;
			mark_gone(q, "hangup");
		} else {
			q->queued = queued;
		}
	}
	if (!q->pty && (q->hup || q->gone)) {
		/* Gone: the last count seen while qemu was there; what was
		 * still queued is lost, as far as we know. */
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
	xc_peer_close(q->peer);
	free(q);
	s->priv = NULL;
}

static struct xc_peer *q_peer(struct xc_stream *s)
{
	struct qemu_stream *x = s->priv;

	return x->peer;
}

static const struct xc_stream_ops qemu_ops = {
	.read = q_read,
	.write = q_write,
	.flush = q_flush,
	.poll = q_poll,
	.process = q_process,
	.delivered = q_delivered,
	.close = q_close,
	.peer = q_peer,
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

/* Whether the channel is busy (another client served): -EBUSY or 0. */
static int note_holder(const struct xc_sock_info *in)
{
	if (!in->held)
		return 0;
	xc_stream_set_foreign_holder(in->holder_pid, in->holder_comm);
	return -EBUSY;
}

static int no_sockdiag(const char *path)
{
	xc_info("%s: sock_diag for unix sockets unavailable: cannot prove that qemu "
		"accepted the connection, not using it",
		path);
	return -EPROTONOSUPPORT;
}

/*
 * Before connecting: while qemu serves another client, do not even join its
 * queue.  A connection we leave there when we give up is accepted once that
 * client leaves, and qemu hands it the guest output it buffered, which is
 * then lost with it.  So look (sock_diag) until the channel is free or
 * opts->busy_deadline passes: 0, -EBUSY, or a negative errno.
 */
static int wait_free(const char *path, const struct xc_stream_opts *opts)
{
	struct pollfd none = { .fd = -1 };
	struct xc_sock_info in;
	bool said = false;
	int r;

	for (;;) {
		uint64_t now;

		r = xc_sockdiag_query(path, -1, &in);
		if (r == -EPROTONOSUPPORT)
			return no_sockdiag(path);
		if (r == -ENOENT || r == -ECONNREFUSED)
			return 0; /* no listener: connect() says what it says */
		if (r < 0)
			return r;
		if (note_holder(&in) == 0)
			return 0;
		now = xc_now_ms();
		if (!opts->busy_deadline || xc_deadline_passed(opts->busy_deadline, now))
			return -EBUSY;
		if (!said && in.holder_pid > 0)
			xc_info("%s: qemu serves %s (pid %ld); waiting for it to leave", path,
				in.holder_comm[0] ? in.holder_comm : "another client",
				(long)in.holder_pid);
		else if (!said)
			xc_info("%s: qemu serves another client; waiting for it to leave", path);
		said = true;
		r = xc_wait_fds(&none, 1, xc_deadline_min(opts->busy_deadline,
							   xc_deadline_at(now, BUSY_POLL_MS)));
		if (xc_wait_over(r))
			return r;
	}
}

/*
 * Connect to qemu's socket and return only once qemu accepted us.
 *
 * qemu serves one client per socket and stops accepting while it serves
 * one, but the kernel completes connect() into the listener's backlog: the
 * bytes written then wait there and reach the guest whenever qemu gets to
 * us, maybe long after we gave up and said they were not delivered.  So
 * nothing is written before sock_diag shows that qemu accepted us.  While
 * another client is served the channel is busy: -EBUSY at once, or, until
 * opts->busy_deadline, we look again every BUSY_POLL_MS without connecting
 * (see wait_free()).  While nobody else is served qemu is about to accept:
 * wait, bounded by deadline.  Only when a client takes the channel between
 * our look and our connect() are we queued behind it (qemu takes clients in
 * order), and then left in qemu's queue if we give up.
 */
static int socket_open(struct qemu_stream *q, const char *path,
		       const struct xc_stream_opts *opts, uint64_t deadline)
{
	struct xc_sock_info in;
	bool said_queued = false;
	int r;

	r = wait_free(path, opts);
	if (r < 0)
		return r;
	for (;;) {
		struct pollfd none = { .fd = -1 };
		uint64_t now;

		r = socket_connect(path, deadline);
		if (r != -EAGAIN)
			break;
		/* The backlog is full: busy if someone is served, else retry. */
		r = xc_sockdiag_query(path, -1, &in);
		if (r < 0)
			return r == -EPROTONOSUPPORT ? r : -EAGAIN;
		r = note_holder(&in);
		now = xc_now_ms();
		if (r == -EBUSY && (!opts->busy_deadline ||
				    xc_deadline_passed(opts->busy_deadline, now)))
			return r;
		if (r == 0 && xc_deadline_passed(deadline, now))
			return -ETIMEDOUT;
		if (!said_queued)
			xc_info("%s: qemu's backlog is full: waiting to connect", path);
		said_queued = true;
		r = xc_wait_fds(&none, 1,
				xc_deadline_min(r ? opts->busy_deadline : deadline,
						xc_deadline_at(now, r ? BUSY_POLL_MS : ACCEPT_POLL_MS)));
		if (xc_wait_over(r))
			return r;
	}
	if (r < 0)
		return r;
	q->fd = r;
	said_queued = false;
	for (;;) {
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		uint64_t now, until, step;
		bool busy;

		r = xc_sockdiag_query(path, q->fd, &in);
		if (r == -EPROTONOSUPPORT)
			return no_sockdiag(path);
		if (r < 0)
			return r;
		if (in.state == XC_SOCK_ACCEPTED) {
			xc_info("%s: accepted by qemu", path);
			return 0;
		}
		now = xc_now_ms();
		until = deadline;
		busy = note_holder(&in) == -EBUSY;
		if (busy) {
			if (!opts->busy_deadline || xc_deadline_passed(opts->busy_deadline, now))
				return -EBUSY;
			until = opts->busy_deadline;
			if (!said_queued && in.holder_pid > 0)
				xc_info("%s: queued: qemu serves %s (pid %ld); waiting for it to leave",
					path, in.holder_comm[0] ? in.holder_comm : "another client",
					(long)in.holder_pid);
			else if (!said_queued)
				xc_info("%s: queued: qemu serves another client; waiting for it to leave",
					path);
		} else if (!said_queued) {
			xc_info("%s: connected, not yet accepted by qemu", path);
		}
		said_queued = true;
		if (xc_deadline_passed(until, now))
			return busy ? -EBUSY : -ETIMEDOUT;
		/* qemu sends its buffered guest output as soon as it accepts: that
		 * wakes us early; a hangup means the listener went away (qemu with it). */
		step = busy ? BUSY_POLL_MS : ACCEPT_POLL_MS;
		r = xc_wait_fds(&p, 1, xc_deadline_min(until, xc_deadline_at(now, step)));
		if (xc_wait_over(r))
			return r;
		if (r > 0 && (p.revents & (POLLHUP | POLLERR)))
			return -EPIPE;
	}
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
	struct epoll_event e = { .events = EPOLLIN };
	int r;

	r = xc_peer_open(c->domid, c->frontend, &q->peer);
	if (r < 0)
		return r;
	e.data.fd = xc_peer_fd(q->peer);
	if (epoll_ctl(q->epfd, EPOLL_CTL_ADD, e.data.fd, &e) < 0)
		return -errno;
	return 0;
}

int xc_qemu_open(const struct xc_channel *c, const struct xc_stream_opts *opts,
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
		r = socket_open(q, c->endpoint, opts, deadline);
		if (r < 0)
			return r;
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
	/* The domain may already be gone. */
	check_peer(q);
	if (opts->discard_backlog) {
		r = discard_backlog(q, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

