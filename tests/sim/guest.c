/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim-guest: the kernel of an emulated guest, as far as xenbus goes.
 *
 * Linux's xenbus driver owns the domain's one xenstore ring and multiplexes
 * the kernel's own users and every process that opened /dev/xen/xenbus
 * (drivers/xen/xenbus/xenbus_xs.c, xenbus_dev_frontend.c) onto it.  This
 * program does the same for the guest's processes: they reach it through
 * $XENCHAN_SIM_DIR/dom<N>/xenbus.sock (the preload library connects their
 * open() of the xenbus "device" there), and the stream carries exactly what
 * the device carries: struct xsd_sockmsg + payload in both directions.
 *
 * Per client, like xenbus_dev_frontend:
 *  - request ids are rewritten to ids unique on the ring and restored in the
 *    reply;
 *  - watch tokens are made unique ("<client>:<token>") so that events can be
 *    routed back, with the original token;
 *  - open transactions and watches are tracked, and ended/removed when the
 *    client goes away, so a dying process leaks nothing in xenstored.
 *
 * Usage: xenchan-sim-guest [--ready-fd FD] [-- HVC-COMMAND...]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xen/io/xs_wire.h>

#include "simutil.h"

#define MSG_MAX (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
/* Stop reading clients while this much is waiting for ring space. */
#define RING_BACKLOG_MAX (64u * 1024u)
/* A client that does not read its replies is dropped beyond this. */
#define CLIENT_BACKLOG_MAX (16u * 1024u * 1024u)

struct buf {
	char *data;
	size_t len, cap;
};

struct tx {
	struct tx *next;
	uint32_t id;
};

struct watch {
	struct watch *next;
	char *path, *token; /* as the client gave them */
};

struct client {
	struct client *next;
	uint32_t id; /* never reused: it is part of the rewritten tokens */
	int fd;
	char in[MSG_MAX];
	size_t in_len;
	struct buf out;
	struct tx *txs;
	struct watch *watches;
};

/* A request on the ring, waiting for its reply. */
struct pending {
	struct pending *next;
	uint32_t ring_id;
	uint32_t client;  /* 0: issued by us (cleanup), the reply is dropped */
	uint32_t req_id;  /* the client's */
	uint32_t type;
	char *path, *token; /* XS_WATCH / XS_UNWATCH: the client's strings */
};

static volatile sig_atomic_t got_term, got_chld;
static struct xenstore_domain_interface *intf;
static xenevtchn_handle *xce;
static evtchn_port_t xs_port;
static struct buf ring_out;    /* requests not yet in req[] */
static char ring_in[MSG_MAX];  /* a reply being assembled from rsp[] */
static size_t ring_in_len;
static struct client *clients;
static struct pending *pendings;
static uint32_t next_client_id = 1, next_ring_id = 1;
static pid_t hvc_pid = -1;

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

/*
 * ppoll() puts the old mask back without delivering pending signals when
 * descriptors are ready, so a loop that is never idle would never see
 * SIGTERM: take them by hand after every wakeup.
 */
static void take_signals(const sigset_t *set)
{
	static const struct timespec zero;
	int sig;

	while ((sig = sigtimedwait(set, NULL, &zero)) > 0)
		on_signal(sig);
}

/* Pending port of the evtchn device; dies if the device is gone. */
static xenevtchn_port_or_error_t evtchn_pending(short revents)
{
	xenevtchn_port_or_error_t p;

	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		sim_die("event channel device gone");
	errno = 0;
	p = xenevtchn_pending(xce);
	if (p < 0 && errno != EAGAIN && errno != EINTR)
		sim_die("xenevtchn_pending: %s", errno ? strerror(errno) : "end of file");
	return p;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (!b->data)
			sim_die("out of memory");
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static void msg_add(struct buf *b, uint32_t type, uint32_t req_id, uint32_t tx_id,
		    const void *p1, size_t n1, const void *p2, size_t n2)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = n1 + n2,
	};

	buf_add(b, &h, sizeof(h));
	if (n1)
		buf_add(b, p1, n1);
	if (n2)
		buf_add(b, p2, n2);
}

/* A reply the multiplexer makes up itself, as xenbus_dev_frontend does. */
static void client_error(struct client *c, const struct xsd_sockmsg *req, const char *err)
{
	msg_add(&c->out, XS_ERROR, req->req_id, req->tx_id, err, strlen(err) + 1, NULL, 0);
}

static struct client *client_find(uint32_t id)
{
	struct client *c;

	for (c = clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static bool client_has_tx(const struct client *c, uint32_t id)
{
	const struct tx *t;

	for (t = c->txs; t; t = t->next)
		if (t->id == id)
			return true;
	return false;
}

static void client_del_tx(struct client *c, uint32_t id)
{
	struct tx **pp, *t;

	for (pp = &c->txs; (t = *pp); pp = &t->next) {
		if (t->id == id) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

static struct pending *pending_new(uint32_t client, uint32_t req_id, uint32_t type)
{
	struct pending *p = sim_xmalloc(sizeof(*p));

	/* 0 is what watch events carry; never hand it out. */
	if (!next_ring_id)
		next_ring_id = 1;
	p->ring_id = next_ring_id++;
	p->client = client;
	p->req_id = req_id;
	p->type = type;
	p->next = pendings;
	pendings = p;
	return p;
}

static void pending_free(struct pending *p)
{
	free(p->path);
	free(p->token);
	free(p);
}

/* Requests we issue for a client that is gone: replies are dropped. */
static void ring_unwatch(uint32_t client, const char *path, const char *token)
{
	struct pending *p = pending_new(0, 0, XS_UNWATCH);
	char *tok = sim_xasprintf("%" PRIu32 ":%s", client, token);

	msg_add(&ring_out, XS_UNWATCH, p->ring_id, 0, path, strlen(path) + 1,
		tok, strlen(tok) + 1);
	free(tok);
}

static void ring_tx_abort(uint32_t id)
{
	struct pending *p = pending_new(0, 0, XS_TRANSACTION_END);

	msg_add(&ring_out, XS_TRANSACTION_END, p->ring_id, id, "F", 2, NULL, 0);
}

static void client_close(struct client *c)
{
	struct client **pp;
	struct watch *w;
	struct tx *t;

	for (pp = &clients; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	close(c->fd);
	while ((t = c->txs)) {
		c->txs = t->next;
		ring_tx_abort(t->id);
		free(t);
	}
	while ((w = c->watches)) {
		c->watches = w->next;
		ring_unwatch(c->id, w->path, w->token);
		free(w->path);
		free(w->token);
		free(w);
	}
	/* Its pending requests stay: their replies tell what to clean up. */
	free(c->out.data);
	free(c);
}

/*
 * "path\0token\0" of XS_WATCH / XS_UNWATCH.  Returns false when malformed.
 */
static bool split_watch(const char *body, size_t len, const char **path, const char **token)
{
	const char *nul;

	if (!len || body[len - 1])
		return false;
	nul = memchr(body, 0, len);
	if (nul == body + len - 1)
		return false;
	*path = body;
	*token = nul + 1;
	return strlen(*token) + (size_t)(*token - body) + 1 == len;
}

static void client_request(struct client *c)
{
	struct xsd_sockmsg h;
	const char *body = c->in + sizeof(h);
	struct pending *p;

	memcpy(&h, c->in, sizeof(h));

	/*
	 * xenbus_dev_frontend refuses a transaction id the file did not start
	 * (ENOENT) and a malformed XS_TRANSACTION_END (EINVAL), without
	 * bothering xenstored.
	 */
	if (h.tx_id && !client_has_tx(c, h.tx_id)) {
		client_error(c, &h, "ENOENT");
		return;
	}
	if (h.type == XS_TRANSACTION_END) {
		if (h.len != 2 || (strcmp(body, "T") && strcmp(body, "F"))) {
			client_error(c, &h, "EINVAL");
			return;
		}
		/* xenstored forgets the transaction whatever the outcome. */
		client_del_tx(c, h.tx_id);
	}

	if (h.type == XS_WATCH || h.type == XS_UNWATCH) {
		const char *path, *token;
		char *tok;

		if (!split_watch(body, h.len, &path, &token)) {
			client_error(c, &h, "EINVAL");
			return;
		}
		tok = sim_xasprintf("%" PRIu32 ":%s", c->id, token);
		if (strlen(path) + strlen(tok) + 2 > XENSTORE_PAYLOAD_MAX) {
			free(tok);
			client_error(c, &h, "E2BIG");
			return;
		}
		p = pending_new(c->id, h.req_id, h.type);
		p->path = strdup(path);
		p->token = strdup(token);
		if (!p->path || !p->token)
			sim_die("out of memory");
		msg_add(&ring_out, h.type, p->ring_id, h.tx_id, path, strlen(path) + 1,
			tok, strlen(tok) + 1);
		free(tok);
		return;
	}

	p = pending_new(c->id, h.req_id, h.type);
	msg_add(&ring_out, h.type, p->ring_id, h.tx_id, body, h.len, NULL, 0);
}

/* Returns false when the client is to be dropped. */
static bool client_read(struct client *c)
{
	for (;;) {
		struct xsd_sockmsg h;
		size_t want = sizeof(h);
		ssize_t n;

		if (c->in_len >= sizeof(h)) {
			memcpy(&h, c->in, sizeof(h));
			/* The device fails such a write with EINVAL. */
			if (h.len > XENSTORE_PAYLOAD_MAX) {
				sim_warn("client %" PRIu32 ": message of %" PRIu32
					 " bytes: dropping it", c->id, h.len);
				return false;
			}
			want += h.len;
			if (c->in_len == want) {
				client_request(c);
				c->in_len = 0;
				/* One message per wakeup keeps clients fair. */
				return true;
			}
		}
		n = read(c->fd, c->in + c->in_len, want - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		c->in_len += n;
	}
}

static bool client_write(struct client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0)
			return false;
		buf_drop(&c->out, n);
	}
	return true;
}

static void ring_stop(const char *why)
{
	/*
	 * A broken or hostile xenstored: indices that cannot be.  Linux's
	 * xenbus gives up on the ring (xb_read/xb_write return -EIO); so do we.
	 */
	sim_die("xenstore ring: %s: giving up", why);
}

/* Move as much of ring_out into req[] as fits. */
static void ring_push(void)
{
	XENSTORE_RING_IDX cons, prod;
	size_t space, n, done = 0;

	if (!ring_out.len)
		return;
	cons = __atomic_load_n(&intf->req_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&intf->req_prod, __ATOMIC_RELAXED);
	/* Check the indices before writing anything (XSA-155: read once). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (prod - cons > XENSTORE_RING_SIZE)
		ring_stop("request indices out of range");
	space = XENSTORE_RING_SIZE - (prod - cons);
	while (done < ring_out.len && space) {
		size_t off = MASK_XENSTORE_IDX(prod);

		n = XENSTORE_RING_SIZE - off;
		if (n > space)
			n = space;
		if (n > ring_out.len - done)
			n = ring_out.len - done;
		memcpy(intf->req + off, ring_out.data + done, n);
		done += n;
		prod += n;
		space -= n;
	}
	if (!done)
		return;
	/* The bytes must be visible before the index that publishes them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&intf->req_prod, prod, __ATOMIC_RELAXED);
	buf_drop(&ring_out, done);
	xenevtchn_notify(xce, xs_port);
}

static void ring_reply(void)
{
	struct xsd_sockmsg h;
	const char *body = ring_in + sizeof(h);
	struct pending **pp, *p;
	struct client *c;

	memcpy(&h, ring_in, sizeof(h));

	if (h.type == XS_WATCH_EVENT) {
		const char *path, *token, *colon;
		struct watch *w;
		char *end;
		unsigned long id;

		if (!split_watch(body, h.len, &path, &token)) {
			sim_warn("xenstore ring: malformed watch event ignored");
			return;
		}
		errno = 0;
		id = strtoul(token, &end, 10);
		colon = end;
		if (errno || *colon != ':' || !(c = client_find(id)))
			return; /* a client that has gone, or not ours */
		token = colon + 1;
		/* Deliver only for a watch the client still has. */
		for (w = c->watches; w; w = w->next)
			if (!strcmp(w->token, token))
				break;
		if (!w)
			return;
		msg_add(&c->out, XS_WATCH_EVENT, 0, 0, path, strlen(path) + 1,
			token, strlen(token) + 1);
		return;
	}

	for (pp = &pendings; (p = *pp); pp = &p->next)
		if (p->ring_id == h.req_id)
			break;
	if (!p) {
		sim_warn("xenstore ring: reply to unknown request %" PRIu32 " ignored", h.req_id);
		return;
	}
	*pp = p->next;
	c = p->client ? client_find(p->client) : NULL;

	if (h.type != XS_ERROR) {
		if (p->type == XS_TRANSACTION_START) {
			char id[16] = "";
			unsigned long tid;

			memcpy(id, body, h.len < sizeof(id) - 1 ? h.len : sizeof(id) - 1);
			tid = strtoul(id, NULL, 10);
			if (!tid) {
				sim_warn("xenstore ring: bad transaction id");
			} else if (c) {
				struct tx *t = sim_xmalloc(sizeof(*t));

				t->id = tid;
				t->next = c->txs;
				c->txs = t;
			} else {
				ring_tx_abort(tid); /* its client died meanwhile */
			}
		} else if (p->type == XS_WATCH) {
			if (c) {
				struct watch *w = sim_xmalloc(sizeof(*w));

				w->path = p->path;
				w->token = p->token;
				p->path = p->token = NULL;
				w->next = c->watches;
				c->watches = w;
			} else if (p->client) {
				ring_unwatch(p->client, p->path, p->token);
			}
		} else if (p->type == XS_UNWATCH && c) {
			struct watch **wp, *w;

			for (wp = &c->watches; (w = *wp); wp = &w->next) {
				if (!strcmp(w->path, p->path) && !strcmp(w->token, p->token)) {
					*wp = w->next;
					free(w->path);
					free(w->token);
					free(w);
					break;
				}
			}
		}
	}
	if (c)
		msg_add(&c->out, h.type, p->req_id, h.tx_id, body, h.len, NULL, 0);
	pending_free(p);
}

/* Take what rsp[] holds and route complete messages. */
static void ring_pull(void)
{
	XENSTORE_RING_IDX cons, prod;
	bool moved = false;

	for (;;) {
		struct xsd_sockmsg h;
		size_t want = sizeof(h), n, off, avail;

		if (ring_in_len >= sizeof(h)) {
			memcpy(&h, ring_in, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX)
				ring_stop("reply longer than XENSTORE_PAYLOAD_MAX");
			want += h.len;
			if (ring_in_len == want) {
				ring_reply();
				ring_in_len = 0;
				continue;
			}
		}
		cons = __atomic_load_n(&intf->rsp_cons, __ATOMIC_RELAXED);
		prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_RELAXED);
		/* Read the data only after the index that published it. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (prod - cons > XENSTORE_RING_SIZE)
			ring_stop("reply indices out of range");
		avail = prod - cons;
		if (!avail)
			break;
		off = MASK_XENSTORE_IDX(cons);
		n = XENSTORE_RING_SIZE - off;
		if (n > avail)
			n = avail;
		if (n > want - ring_in_len)
			n = want - ring_in_len;
		memcpy(ring_in + ring_in_len, intf->rsp + off, n);
		ring_in_len += n;
		/* Done reading before the space is handed back. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&intf->rsp_cons, cons + n, __ATOMIC_RELAXED);
		moved = true;
	}
	if (moved)
		xenevtchn_notify(xce, xs_port);
}

static void ring_setup(void)
{
	struct ioctl_evtchn_bind bind;
	char buf[32];
	unsigned long port;
	ssize_t n;
	char *end;
	int fd;

	fd = open("/proc/xen/xsd_kva", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		sim_die("/proc/xen/xsd_kva: %s", strerror(errno));
	intf = mmap(NULL, SIM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (intf == MAP_FAILED)
		sim_die("mmap xenstore page: %s", strerror(errno));
	close(fd);

	fd = open("/proc/xen/xsd_port", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		sim_die("/proc/xen/xsd_port: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		sim_die("/proc/xen/xsd_port: cannot read");
	buf[n] = 0;
	errno = 0;
	port = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || !port || port >= SIM_MAX_PORTS)
		sim_die("/proc/xen/xsd_port: bad port '%s'", buf);
	xs_port = port;

	xce = xenevtchn_open(NULL, 0);
	if (!xce)
		sim_die("xenevtchn_open: %s", strerror(errno));
	/* The port exists already (the domain builder made it): bind it as is. */
	bind.port = xs_port;
	if (ioctl(xenevtchn_fd(xce), IOCTL_EVTCHN_BIND_STATIC, &bind) < 0)
		sim_die("bind xenstore port %u: %s", xs_port, strerror(errno));
}

static void reap(void)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != hvc_pid)
			continue;
		hvc_pid = -1;
		if (WIFEXITED(st))
			sim_warn("hvc driver exited with status %d", WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			sim_warn("hvc driver killed by signal %d", WTERMSIG(st));
	}
}

static void start_hvc(char **argv)
{
	hvc_pid = fork();
	if (hvc_pid < 0)
		sim_die("fork: %s", strerror(errno));
	if (!hvc_pid) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		sim_warn("%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [--ready-fd FD] [-- HVC-COMMAND...]\n", sim_progname);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char **hvc_argv = NULL;
	int ready_fd = -1, lfd, i;
	unsigned domid;
	char *sock;
	struct pollfd *pfd = NULL;
	size_t npfd = 0;
	sigset_t blocked, waitmask;

	sim_progname = "xenchan-sim-guest";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ready-fd") && i + 1 < argc) {
			char *end;

			ready_fd = strtol(argv[++i], &end, 10);
			if (*end || ready_fd < 0)
				usage();
		} else if (!strcmp(argv[i], "--")) {
			if (i + 1 < argc)
				hvc_argv = argv + i + 1;
			break;
		} else {
			usage();
		}
	}

	domid = sim_domid();
	if (!domid)
		sim_die("%s must name a guest domain, not 0", SIM_ENV_DOMID);

	/* Signals are only let in during ppoll(): no wakeup can be lost. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blocked, &waitmask);

	ring_setup();
	sock = sim_xasprintf("%s/dom%u/xenbus.sock", sim_dir(), domid);
	lfd = sim_listen_unix(sock, 64);
	if (lfd < 0)
		sim_die("%s: %s", sock, strerror(-lfd));

	if (ready_fd >= 0) {
		int r = sim_write_all(ready_fd, "ready\n", 6);

		if (r < 0)
			sim_warn("--ready-fd: %s", strerror(-r));
		close(ready_fd);
	}
	if (hvc_argv)
		start_hvc(hvc_argv);

	/* xenstored may have answered or fired before we looked. */
	ring_pull();

	while (!got_term) {
		struct client *c, *next;
		size_t n = 3, k;

		if (got_chld) {
			got_chld = 0;
			reap();
		}
		for (c = clients; c; c = c->next)
			n++;
		if (n > npfd) {
			free(pfd);
			npfd = n * 2;
			pfd = sim_xmalloc(npfd * sizeof(*pfd));
		}
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = xenevtchn_fd(xce), .events = POLLIN };
		for (k = 2, c = clients; c; c = c->next, k++) {
			pfd[k].fd = c->fd;
			pfd[k].events = 0;
			/* Flow control: leave clients alone while the ring is backed up. */
			if (ring_out.len < RING_BACKLOG_MAX)
				pfd[k].events |= POLLIN;
			if (c->out.len)
				pfd[k].events |= POLLOUT;
		}
		if (ppoll(pfd, k, NULL, &waitmask) < 0) {
			if (errno != EINTR)
				sim_die("poll: %s", strerror(errno));
			continue;
		}
		take_signals(&blocked);
		if (got_term)
			break;

		if (pfd[1].revents) {
			xenevtchn_port_or_error_t p = evtchn_pending(pfd[1].revents);

			ring_pull();
			ring_push();
			/* Unmask only after the ring is handled: new events wait pending. */
			if (p >= 0)
				xenevtchn_unmask(xce, p);
		}
		for (k = 2, c = clients; c; c = next, k++) {
			bool ok = true;

			next = c->next;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				ok = client_read(c);
			if (ok && (pfd[k].revents & POLLOUT))
				ok = client_write(c);
			if (ok && c->out.len > CLIENT_BACKLOG_MAX) {
				sim_warn("client %" PRIu32 " does not read: dropping it", c->id);
				ok = false;
			}
			if (!ok)
				client_close(c);
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd >= 0) {
				c = sim_xmalloc(sizeof(*c));
				c->fd = fd;
				c->id = next_client_id++;
				c->next = clients;
				clients = c;
			} else if (errno != EAGAIN && errno != EINTR) {
				sim_warn("accept: %s", strerror(errno));
			}
		}
		ring_push();
		/* Replies routed above: try to hand them out right away. */
		for (c = clients; c; c = next) {
			next = c->next;
			if (c->out.len && !client_write(c))
				client_close(c);
		}
		ring_push();
	}

	unlink(sock);
	return 0;
}
