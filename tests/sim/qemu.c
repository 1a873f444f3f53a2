/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim-qemu: qemu's Xen console backend (hw/char/xen_console.c with
 * the legacy backend core hw/xen/xen-legacy-backend.c, qemu 7.2 as in
 * Debian 12) for the channels (devid >= 1, frontend type "ioemu") of one
 * domain, run in dom0.
 *
 * Backend states as qemu drives them: Initialising (written by the
 * toolstack) -> InitWait once the chardev exists (with hotplug-status
 * "connected", which qemu writes itself) -> Connected once the frontend is
 * Initialised or Connected and its ring is mapped.  A frontend going to
 * Closing/Closed is mirrored and the device is dropped.
 *
 * Data path as qemu's: guest output is always taken off the ring into a
 * buffer bounded by the frontend's `limit` (qemu drops the middle of the
 * data beyond it) and written to the chardev when it can take it; with no
 * socket client the output waits for the next one.  Chardev input goes into
 * in[] only as far as it fits.
 *
 * Usage: xenchan-sim-qemu --domid D [--ready-fd FD]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/console.h>

#include "simutil.h"

#define DEFAULT_LIMIT 1048576u

struct con {
	struct con *next;
	unsigned devid, gen;
	char *be, *fe, *token;
	bool watching;
	int be_state;        /* last state we wrote */
	bool connected;      /* ring mapped, port bound */
	bool inited;         /* chardev open, backend InitWait */
	bool failed;         /* the chardev could not be made */
	bool broken;         /* impossible indices: ignored from now on */
	struct xencons_interface *intf;
	evtchn_port_t port;

	bool pty;
	char *path;          /* socket path we listen on */
	int lfd, cfd;        /* socket: listener, the one client */
	int master, slave;   /* pty */

	/* qemu's struct buffer */
	unsigned char *data;
	size_t size, consumed, capacity, max_capacity;
};

static volatile sig_atomic_t got_term;
static struct xs_handle *xs;
static xenevtchn_handle *xce;
static xengnttab_handle *xgt;
static struct con *devices;
static unsigned domid, next_gen = 1;
static char *be_root;

static void on_signal(int sig)
{
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

static char *xread(const char *dir, const char *key)
{
	char *path = sim_xasprintf("%s/%s", dir, key);
	char *v = xs_read(xs, XBT_NULL, path, NULL);

	free(path);
	return v;
}

static bool xwrite(const char *dir, const char *key, const char *val)
{
	char *path = sim_xasprintf("%s/%s", dir, key);
	bool ok = xs_write(xs, XBT_NULL, path, val, strlen(val));

	if (!ok)
		sim_warn("write %s: %s", path, strerror(errno));
	free(path);
	return ok;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static int read_state(const char *dir)
{
	char *s = xread(dir, "state");
	unsigned long v;
	int st = parse_uint(s, 8, &v) ? (int)v : -1;

	free(s);
	return st;
}

static void set_state(struct con *c, int state)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", state);
	if (xwrite(c->be, "state", v))
		c->be_state = state;
}

/* ---- the ring (we are the backend) ---- */

static void ring_screwed(struct con *c)
{
	/* qemu: "ring is screwed: ignore it". */
	sim_warn("console %u: ring is screwed: ignoring it", c->devid);
	c->broken = true;
}

/* Free bytes in in[], or -1 when the indices are impossible. */
static long in_space(struct con *c)
{
	XENCONS_RING_IDX cons, prod;

	cons = __atomic_load_n(&c->intf->in_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&c->intf->in_prod, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (prod - cons > sizeof(c->intf->in)) {
		ring_screwed(c);
		return -1;
	}
	return sizeof(c->intf->in) - (prod - cons);
}

static void ring_put(struct con *c, const char *p, size_t n)
{
	struct xencons_interface *intf = c->intf;
	XENCONS_RING_IDX prod = __atomic_load_n(&intf->in_prod, __ATOMIC_RELAXED);
	size_t i;

	/* n <= in_space(): checked by the caller with this same prod. */
	for (i = 0; i < n; i++)
		intf->in[MASK_XENCONS_IDX(prod++, intf->in)] = p[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&intf->in_prod, prod, __ATOMIC_RELAXED);
	xenevtchn_notify(xce, c->port);
}

/* qemu's buffer_append(): take everything out[] holds. */
static void buffer_append(struct con *c)
{
	struct xencons_interface *intf = c->intf;
	XENCONS_RING_IDX cons, prod, size;

	cons = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&intf->out_prod, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	size = prod - cons;
	if (size > sizeof(intf->out)) {
		ring_screwed(c);
		return;
	}
	if (!size)
		return;
	if (c->capacity - c->size < size) {
		c->capacity += size + 1024;
		c->data = realloc(c->data, c->capacity);
		if (!c->data)
			sim_die("out of memory");
	}
	while (cons != prod)
		c->data[c->size++] = intf->out[MASK_XENCONS_IDX(cons++, intf->out)];
	/* Done reading before the space is handed back. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&intf->out_cons, cons, __ATOMIC_RELAXED);
	xenevtchn_notify(xce, c->port);

	if (c->max_capacity && c->size > c->max_capacity) {
		/* Like qemu: keep the oldest and the newest data, drop the middle. */
		size_t over = c->size - c->max_capacity;
		unsigned char *maxpos = c->data + c->max_capacity;

		memmove(maxpos - over, maxpos, over);
		c->size = c->max_capacity;
		if (c->consumed > c->max_capacity - over)
			c->consumed = c->max_capacity - over;
	}
}

/* ---- the chardev ---- */

static int chr_fd(const struct con *c)
{
	return c->pty ? c->master : c->cfd;
}

static void client_drop(struct con *c)
{
	/* qemu's socket chardev goes back to listening; the buffer stays. */
	close(c->cfd);
	c->cfd = -1;
}

/* qemu's xencons_send(): as much of the buffer as the chardev takes. */
static void chr_send(struct con *c)
{
	int fd = chr_fd(c);
	ssize_t n;

	if (fd < 0 || c->size == c->consumed)
		return;
	if (c->pty)
		n = write(fd, c->data + c->consumed, c->size - c->consumed);
	else
		n = send(fd, c->data + c->consumed, c->size - c->consumed,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR && !c->pty)
			client_drop(c);
		return;
	}
	c->consumed += n;
	if (c->consumed == c->size)
		c->consumed = c->size = 0;
}

/* Chardev input into in[], no more than fits. */
static void chr_recv(struct con *c, short revents)
{
	char buf[sizeof(c->intf->in)];
	long space = 0;
	ssize_t n;

	if (c->connected && !c->broken)
		space = in_space(c);
	if (space <= 0) {
		/* Cannot read: a socket peer that is gone for good is dropped. */
		if (!c->pty && (revents & (POLLHUP | POLLERR)))
			client_drop(c);
		return;
	}
	n = read(chr_fd(c), buf, space);
	if (n > 0) {
		ring_put(c, buf, n);
	} else if (!c->pty && (n == 0 || (errno != EAGAIN && errno != EINTR))) {
		/* qemu's tcp_chr_read(): EOF or error disconnects. */
		client_drop(c);
	}
}

static void chr_accept(struct con *c)
{
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			sim_warn("console %u: accept: %s", c->devid, strerror(errno));
		return;
	}
	c->cfd = fd;
	chr_send(c); /* the backlog */
}

static bool chr_open(struct con *c)
{
	char *conn = xread(c->be, "connection");
	bool ok = false;

	if (conn && !strcmp(conn, "socket")) {
		c->path = xread(c->be, "path");
		if (!c->path || c->path[0] != '/') {
			sim_warn("console %u: socket without an absolute path", c->devid);
		} else {
			/* qemu's char-socket: qio_net_listener_open_sync(..., 1, ...). */
			c->lfd = sim_listen_unix(c->path, 1);
			if (c->lfd < 0)
				sim_warn("console %u: listen %s: %s", c->devid, c->path,
					 strerror(-c->lfd));
			else
				ok = fcntl(c->lfd, F_SETFL, O_NONBLOCK) == 0;
		}
	} else if (conn && !strcmp(conn, "pty")) {
		struct termios tio;
		char name[64];

		c->pty = true;
		if (openpty(&c->master, &c->slave, name, NULL, NULL) < 0) {
			sim_warn("console %u: openpty: %s", c->devid, strerror(errno));
		} else {
			fcntl(c->master, F_SETFD, FD_CLOEXEC);
			fcntl(c->slave, F_SETFD, FD_CLOEXEC);
			fcntl(c->master, F_SETFL, O_NONBLOCK);
			tcgetattr(c->slave, &tio);
			cfmakeraw(&tio);
			tcsetattr(c->slave, TCSAFLUSH, &tio);
			/*
			 * qemu closes the slave and, while nobody has it open
			 * (the master reports POLLHUP), polls for a reader once
			 * a second and discards output.  Keeping the slave open
			 * here avoids that timer: output waits in the tty (then
			 * in the buffer) for the next reader instead.
			 */
			/* qemu's store_con_info(): the FRONTEND's tty key. */
			ok = xwrite(c->fe, "tty", name);
		}
	} else {
		sim_warn("console %u: unsupported connection '%s'", c->devid, conn ? conn : "");
	}
	free(conn);
	return ok;
}

/* ---- devices ---- */

static void con_free(struct con *c)
{
	struct con **pp;

	for (pp = &devices; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	if (c->watching)
		xs_unwatch(xs, c->fe, c->token);
	if (c->connected) {
		xenevtchn_unbind(xce, c->port);
		xengnttab_unmap(xgt, c->intf, 1);
	}
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	if (c->master >= 0)
		close(c->master);
	if (c->slave >= 0)
		close(c->slave);
	free(c->be);
	free(c->fe);
	free(c->token);
	free(c->path);
	free(c->data);
	free(c);
}

/* qemu's con_initialise() + xen_be_try_initialise(). */
static void con_connect(struct con *c)
{
	unsigned long ref, port, limit;
	char *s1 = xread(c->fe, "ring-ref"), *s2 = xread(c->fe, "port");
	char *s3 = xread(c->fe, "limit");
	int lport;

	if (!parse_uint(s1, UINT32_MAX, &ref) || !parse_uint(s2, SIM_MAX_PORTS - 1, &port)) {
		sim_warn("console %u: frontend has no usable ring-ref/port", c->devid);
		goto out;
	}
	c->max_capacity = parse_uint(s3, SIZE_MAX, &limit) ? limit : DEFAULT_LIMIT;
	c->intf = xengnttab_map_grant_ref(xgt, domid, ref, PROT_READ | PROT_WRITE);
	if (!c->intf) {
		sim_warn("console %u: map grant %lu: %s", c->devid, ref, strerror(errno));
		goto out;
	}
	lport = xenevtchn_bind_interdomain(xce, domid, port);
	if (lport < 0) {
		sim_warn("console %u: bind port %lu: %s", c->devid, port, strerror(errno));
		xengnttab_unmap(xgt, c->intf, 1);
		c->intf = NULL;
		goto out;
	}
	c->port = lport;
	c->connected = true;
	set_state(c, 4);
	/* Output the guest wrote before the port was bound raised no event. */
	buffer_append(c);
	chr_send(c);
out:
	free(s1);
	free(s2);
	free(s3);
}

/* xen_be_try_init() with con_init(): retried on every event until it works. */
static bool con_try_init(struct con *c)
{
	char *type = xread(c->fe, "type"), *online = xread(c->be, "online");
	bool ok = false;

	/* qemu: "not for me" unless ioemu; "not online" unless online is 1. */
	if (!type || strcmp(type, "ioemu") || !online || strcmp(online, "1"))
		goto out;
	if (!chr_open(c)) {
		/* qemu would fail to start; no retries, no more warnings. */
		c->failed = true;
		goto out;
	}
	xwrite(c->be, "hotplug-status", "connected");
	set_state(c, 2);
	c->inited = true;
	ok = true;
out:
	free(type);
	free(online);
	return ok;
}

/* xen_be_check_state(), on any change of the frontend or the backend. */
static void con_check(struct con *c)
{
	int st = read_state(c->fe);

	if (c->failed)
		return;
	if (st < 0) {
		/* Not there yet (setup only needs the backend), or gone. */
		if (c->inited)
			con_free(c);
		return;
	}
	if (st == 5 || st == 6) {
		/* xen_be_disconnect(): mirror the frontend, then drop the device. */
		if (c->be_state != st)
			set_state(c, st);
		con_free(c);
		return;
	}
	if (!c->inited && !con_try_init(c))
		return;
	if ((st == 3 || st == 4) && !c->connected)
		con_connect(c);
}

/* xen_be_try_setup(): the backend must be Initialising and name its frontend. */
static void con_try_add(unsigned devid, const char *name)
{
	char *be = sim_xasprintf("%s/%s", be_root, name);
	char *fe = NULL;
	struct con *c;

	/* qemu: "initial backend state is wrong" unless Initialising. */
	if (read_state(be) != 1)
		goto out;
	fe = xread(be, "frontend");
	if (!fe || fe[0] != '/')
		goto out;

	c = sim_xmalloc(sizeof(*c));
	c->devid = devid;
	c->gen = next_gen++;
	c->be = be;
	c->fe = fe;
	be = fe = NULL;
	c->token = sim_xasprintf("fe:%u:%u", devid, c->gen);
	c->be_state = 1;
	c->lfd = c->cfd = c->master = c->slave = -1;
	c->max_capacity = DEFAULT_LIMIT;
	c->next = devices;
	devices = c;
	/* It fires at once, which runs con_check(). */
	if (xs_watch(xs, c->fe, c->token))
		c->watching = true;
	else
		sim_warn("console %u: watch %s: %s", devid, c->fe, strerror(errno));
	/* The initial scan must leave the chardevs in place (--ready-fd). */
	con_check(c);
out:
	free(be);
	free(fe);
}

static void rescan(void)
{
	unsigned n = 0, i;
	char **names = xs_directory(xs, XBT_NULL, be_root, &n);
	struct con *c, *next;

	for (c = devices; c; c = next) {
		next = c->next;
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], c->be + strlen(be_root) + 1))
				break;
		if (i == n)
			con_free(c); /* backend directory removed */
		else if (!c->inited)
			con_check(c); /* maybe "online" changed */
	}
	for (i = 0; i < n; i++) {
		unsigned long devid;

		/* devid 0 is the primary console: xenconsoled's. */
		if (names[i][0] == '0' || !parse_uint(names[i], 0xffff, &devid))
			continue;
		for (c = devices; c; c = c->next)
			if (c->devid == devid)
				break;
		if (!c)
			con_try_add(devid, names[i]);
	}
	free(names);
}

static void handle_watch(char **w)
{
	const char *token = w[XS_WATCH_TOKEN];
	unsigned devid, gen;
	struct con *c;

	if (!strcmp(token, "be")) {
		rescan();
		return;
	}
	if (sscanf(token, "fe:%u:%u", &devid, &gen) != 2)
		return;
	for (c = devices; c; c = c->next)
		if (c->devid == devid && c->gen == gen)
			break;
	if (c)
		con_check(c);
}

static void usage(void)
{
	fprintf(stderr, "usage: %s --domid D [--ready-fd FD]\n", sim_progname);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t blocked, waitmask;
	struct pollfd *pfd = NULL;
	size_t npfd = 0;
	int ready_fd = -1, i;
	unsigned long v;
	bool have_domid = false;

	sim_progname = "xenchan-sim-qemu";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--domid") && i + 1 < argc) {
			if (!parse_uint(argv[++i], SIM_MAX_DOMAINS - 1, &v) || !v)
				usage();
			domid = v;
			have_domid = true;
		} else if (!strcmp(argv[i], "--ready-fd") && i + 1 < argc) {
			if (!parse_uint(argv[++i], INT32_MAX, &v))
				usage();
			ready_fd = v;
		} else {
			usage();
		}
	}
	if (!have_domid)
		usage();

	/* Signals are taken only in ppoll(), not by libxenstore's thread. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigprocmask(SIG_BLOCK, &blocked, &waitmask);

	xs = xs_open(0);
	if (!xs)
		sim_die("xs_open: %s", strerror(errno));
	xce = xenevtchn_open(NULL, 0);
	if (!xce)
		sim_die("xenevtchn_open: %s", strerror(errno));
	xgt = xengnttab_open(NULL, 0);
	if (!xgt)
		sim_die("xengnttab_open: %s", strerror(errno));
	if (xs_fileno(xs) < 0)
		sim_die("xs_fileno: %s", strerror(errno));
	be_root = sim_xasprintf("/local/domain/0/backend/console/%u", domid);
	if (!xs_watch(xs, be_root, "be"))
		sim_die("watch %s: %s", be_root, strerror(errno));
	rescan();

	if (ready_fd >= 0) {
		int r = sim_write_all(ready_fd, "ready\n", 6);

		if (r < 0)
			sim_warn("--ready-fd: %s", strerror(-r));
		close(ready_fd);
	}

	while (!got_term) {
		struct con *c;
		size_t n = 2, k;
		char **w;

		for (c = devices; c; c = c->next)
			n++;
		if (n > npfd) {
			free(pfd);
			npfd = n * 2;
			pfd = sim_xmalloc(npfd * sizeof(*pfd));
		}
		pfd[0] = (struct pollfd){ .fd = xs_fileno(xs), .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = xenevtchn_fd(xce), .events = POLLIN };
		for (k = 2, c = devices; c; c = c->next, k++) {
			int fd = chr_fd(c);

			pfd[k] = (struct pollfd){ .fd = -1 };
			if (!c->pty && fd < 0) {
				/* One client at a time: others wait in the backlog. */
				pfd[k].fd = c->lfd;
				pfd[k].events = POLLIN;
				continue;
			}
			if (fd < 0)
				continue;
			pfd[k].fd = fd;
			/* Backpressure: the chardev is read only while in[] has room. */
			if (c->connected && !c->broken && in_space(c) > 0)
				pfd[k].events |= POLLIN;
			if (c->size != c->consumed)
				pfd[k].events |= POLLOUT;
			/* A pty with nothing to do would report POLLHUP forever. */
			if (c->pty && !pfd[k].events)
				pfd[k].fd = -1;
		}
		if (ppoll(pfd, k, NULL, &waitmask) < 0) {
			if (errno != EINTR)
				sim_die("poll: %s", strerror(errno));
			continue;
		}
		take_signals(&blocked);
		if (got_term)
			break;

		/* Chardevs first: the device list may change below. */
		for (k = 2, c = devices; c; c = c->next, k++) {
			short re = pfd[k].revents;

			if (pfd[k].fd < 0 || !re)
				continue;
			if (pfd[k].fd == c->lfd) {
				chr_accept(c);
				continue;
			}
			if (re & POLLOUT)
				chr_send(c);
			if (chr_fd(c) >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				chr_recv(c, re);
		}
		if (pfd[1].revents) {
			xenevtchn_port_or_error_t p = evtchn_pending(pfd[1].revents);

			for (c = devices; c; c = c->next) {
				if (!c->connected || c->broken || c->port != (evtchn_port_t)p)
					continue;
				/* qemu's xencons_event(). */
				buffer_append(c);
				chr_send(c);
			}
			if (p >= 0)
				xenevtchn_unmask(xce, p);
		}
		if (pfd[0].revents & POLLIN) {
			while ((w = xs_check_watch(xs))) {
				handle_watch(w);
				free(w);
			}
		}
	}

	/* Like qemu on exit: the sockets go, xenstore is left to the toolstack. */
	for (struct con *c = devices; c; c = c->next)
		if (c->lfd >= 0)
			unlink(c->path);
	return 0;
}
