/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim-qemu: qemu's Xen console backend for the consoles of one
 * domain whose frontend type is "ioemu" (the channels), run in dom0.  Two
 * generations of it, chosen with --model:
 *
 * legacy       hw/char/xen_console.c on the legacy backend core
 *              (hw/xen/xen-legacy-backend.c), qemu 7.2 as Debian 12 pairs
 *              with Xen 4.17.  Backend states: Initialising (written by the
 *              toolstack) -> InitWait once the chardev exists (with
 *              hotplug-status "connected", which qemu writes itself) ->
 *              Connected once the frontend is Initialised or Connected and
 *              its ring is mapped.  A frontend going to Closing/Closed is
 *              mirrored and the device is dropped.  Exiting leaves xenstore
 *              to the toolstack.
 *
 * xen-console  the "xen-console" device on the XenBus core (hw/xen/xen-bus.c),
 *              qemu 8.2 and later (Debian 13 pairs qemu 10 with Xen 4.20).
 *              It enumerates backend/console/<domid> and creates a device
 *              for every entry that is online and Initialising, declining
 *              those whose frontend type is not "ioemu" (the primary
 *              console's "xenconsoled").  A pty channel has two ptys: the
 *              "libxl-channelN" chardev libxl puts on the command line, which
 *              nothing uses, and the "xenconsN" one the device makes from
 *              the frontend's output key, named in the frontend's tty key
 *              and carrying the data.  The frontend's Closing is mirrored,
 *              Closed (or a frontend that is gone) closes the backend, which
 *              goes back to InitWait when the frontend initialises again; a
 *              backend set offline and Closed is destroyed.  Destroying a
 *              device, and exiting, delete its frontend and backend nodes.
 *
 * Data path as qemu's: guest output is always taken off the ring into a
 * buffer bounded by the frontend's `limit` (qemu drops the middle of the
 * data beyond it) and written to the chardev when it can take it; with no
 * socket client the output waits for the next one.  Chardev input goes into
 * in[] only as far as it fits.
 *
 * Usage: xenchan-sim-qemu --domid D [--model legacy|xen-console] [--ready-fd FD]
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
#include <sys/stat.h>
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
	int be_state;        /* last state we wrote (xen-console: or read) */
	int fe_state;        /* xen-console: the frontend's, as last read */
	bool connected;      /* ring mapped, port bound */
	bool inited;         /* chardev open, backend InitWait */
	bool failed;         /* the chardev could not be made */
	bool broken;         /* impossible indices: ignored from now on */
	struct xencons_interface *intf;
	evtchn_port_t port;

	bool pty;
	char *path;          /* socket path we listen on */
	dev_t path_dev;      /* the socket file bind() made there */
	ino_t path_ino;
	int lfd, cfd;        /* socket: listener, the one client */
	int master, slave;   /* pty */
	int lx_master, lx_slave; /* xen-console: libxl's unused pty chardev */

	/* xen-console */
	bool declined;       /* frontend type not ioemu: left alone */
	bool online;         /* the backend's online key, as last read */
	char *be_token;

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
static bool xen_console; /* --model xen-console */

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

/* A raw pty pair; its slave's name into name. */
static bool pty_open(struct con *c, int *master, int *slave, char *name)
{
	struct termios tio;

	if (openpty(master, slave, name, NULL, NULL) < 0) {
		sim_warn("console %u: openpty: %s", c->devid, strerror(errno));
		return false;
	}
	fcntl(*master, F_SETFD, FD_CLOEXEC);
	fcntl(*slave, F_SETFD, FD_CLOEXEC);
	fcntl(*master, F_SETFL, O_NONBLOCK);
	tcgetattr(*slave, &tio);
	cfmakeraw(&tio);
	tcsetattr(*slave, TCSAFLUSH, &tio);
	return true;
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
			if (ok) {
				struct stat st;

				ok = stat(c->path, &st) == 0;
				c->path_dev = ok ? st.st_dev : 0;
				c->path_ino = ok ? st.st_ino : 0;
			}
		}
	} else if (conn && !strcmp(conn, "pty")) {
		char name[64];

		c->pty = true;
		/*
		 * qemu closes the slave and, while nobody has it open (the
		 * master reports POLLHUP), polls for a reader once a second and
		 * discards output.  Keeping the slave open here avoids that
		 * timer: output waits in the tty (then in the buffer) for the
		 * next reader instead.
		 */
		if (pty_open(c, &c->master, &c->slave, name)) {
			/* The FRONTEND's tty key: store_con_info() (legacy),
			 * xen_console_realize() (xen-console). */
			ok = xwrite(c->fe, "tty", name);
		}
	} else {
		sim_warn("console %u: unsupported connection '%s'", c->devid, conn ? conn : "");
	}
	free(conn);
	return ok;
}

/* ---- devices ---- */

/*
 * The socket file goes with the listener, unless it is no longer the one
 * bind() made: during a migration on one host the incoming domain's qemu
 * has bound the same path (unlinking ours) before this one exits.
 */
static void unlink_ours(const struct con *c)
{
	struct stat st;

	if (stat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == c->path_dev &&
	    st.st_ino == c->path_ino)
		unlink(c->path);
}

static void con_free(struct con *c)
{
	struct con **pp;

	for (pp = &devices; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	if (c->watching)
		xs_unwatch(xs, c->fe, c->token);
	if (c->be_token)
		xs_unwatch(xs, c->be, c->be_token);
	if (c->connected) {
		xenevtchn_unbind(xce, c->port);
		xengnttab_unmap(xgt, c->intf, 1);
	}
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink_ours(c);
	}
	if (c->master >= 0)
		close(c->master);
	if (c->slave >= 0)
		close(c->slave);
	if (c->lx_master >= 0)
		close(c->lx_master);
	if (c->lx_slave >= 0)
		close(c->lx_slave);
	free(c->be_token);
	free(c->be);
	free(c->fe);
	free(c->token);
	free(c->path);
	free(c->data);
	free(c);
}

/* qemu's con_initialise() + xen_be_try_initialise(), xen_console_connect(). */
static bool con_connect(struct con *c)
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
	c->broken = false;
	set_state(c, 4);
	/* Output the guest wrote before the port was bound raised no event. */
	buffer_append(c);
	chr_send(c);
out:
	free(s1);
	free(s2);
	free(s3);
	return c->connected;
}

/* xen_console_disconnect(): the ring and the port go, the buffer stays. */
static void con_disconnect(struct con *c)
{
	if (!c->connected)
		return;
	xenevtchn_unbind(xce, c->port);
	xengnttab_unmap(xgt, c->intf, 1);
	c->intf = NULL;
	c->connected = false;
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
	memset(c, 0, sizeof(*c));
	c->devid = devid;
	c->gen = next_gen++;
	c->be = be;
	c->fe = fe;
	be = fe = NULL;
	c->token = sim_xasprintf("fe:%u:%u", devid, c->gen);
	c->be_state = 1;
	c->lfd = c->cfd = c->master = c->slave = c->lx_master = c->lx_slave = -1;
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

static void legacy_rescan(void)
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

/* ---- the xen-console device on XenBus (qemu 8.2 and later) ---- */

static bool read_online(const char *be)
{
	char *s = xread(be, "online");
	unsigned long v;
	bool on = parse_uint(s, UINT32_MAX, &v) && v;

	free(s);
	return on;
}

/* xen_device_unrealize(): the device's frontend and backend nodes go. */
static void xb_destroy(struct con *c)
{
	char *fe = strdup(c->fe), *be = strdup(c->be);
	bool realized = c->inited;

	if (!fe || !be)
		sim_die("out of memory");
	con_disconnect(c);
	con_free(c);
	if (realized) {
		if (!xs_rm(xs, XBT_NULL, fe) && errno != ENOENT)
			sim_warn("rm %s: %s", fe, strerror(errno));
		if (!xs_rm(xs, XBT_NULL, be) && errno != ENOENT)
			sim_warn("rm %s: %s", be, strerror(errno));
	}
	free(fe);
	free(be);
}

/* The frontend will react to the backend: InitWait to Closing. */
static bool xb_frontend_active(int st)
{
	return st >= 2 && st <= 5;
}

/* xen_device_frontend_changed() and xen_console_frontend_changed(). */
static void xb_frontend_changed(struct con *c)
{
	int st = read_state(c->fe);

	if (st < 0)
		st = 0; /* XenbusStateUnknown: no state, or the frontend is gone */
	c->fe_state = st;
	if (st == 1 && c->be_state == 6 && c->online) {
		/* The frontend is initialising again. */
		set_state(c, 2);
		return;
	}
	switch (st) {
	case 3:
	case 4:
		if (c->be_state == 4)
			break;
		con_disconnect(c);
		if (!con_connect(c))
			set_state(c, 5);
		break;
	case 5:
		set_state(c, 5);
		break;
	case 6:
	case 0:
		con_disconnect(c);
		set_state(c, 6);
		break;
	default:
		break;
	}
}

/* xen_device_backend_changed(): the toolstack closing or unplugging it. */
static void xb_backend_changed(struct con *c)
{
	int st = read_state(c->be);

	if (st < 0)
		st = 0;
	c->be_state = st;
	c->online = read_online(c->be);
	if (st == 5 && !xb_frontend_active(c->fe_state)) {
		set_state(c, 6);
		st = 6;
	}
	/* Offline and not in use: xen_bus_cleanup() destroys it. */
	if (!c->online && (st == 6 || st == 1 || st == 2 || st == 0))
		xb_destroy(c);
}

/*
 * xen_console_device_create() and xen_device_realize(): the device for an
 * online, Initialising backend entry, unless its frontend is not ioemu.
 */
static void xb_create(unsigned devid, const char *name)
{
	char *be = sim_xasprintf("%s/%s", be_root, name);
	char *fe = devid ? sim_xasprintf("/local/domain/%u/device/console/%u", domid, devid) :
			   sim_xasprintf("/local/domain/%u/console", domid);
	char *type = NULL, *conn = NULL;
	struct con *c;

	for (c = devices; c; c = c->next)
		if (c->devid == devid)
			break;
	if (c && !c->declined)
		goto out;
	if (read_state(be) != 1 || !read_online(be))
		goto out;
	type = xread(fe, "type");
	if (!type || strcmp(type, "ioemu")) {
		/* Said once, where qemu says it at every enumeration. */
		if (!c) {
			sim_warn("console %u: declining to handle console type '%s'", devid,
				 type ? type : "");
			c = sim_xmalloc(sizeof(*c));
			memset(c, 0, sizeof(*c));
			c->devid = devid;
			c->declined = true;
			c->be = be;
			c->fe = fe;
			be = fe = NULL;
			c->lfd = c->cfd = c->master = c->slave = c->lx_master = c->lx_slave = -1;
			c->next = devices;
			devices = c;
		}
		goto out;
	}
	if (c)
		con_free(c);

	c = sim_xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->devid = devid;
	c->gen = next_gen++;
	c->be = be;
	c->fe = fe;
	be = fe = NULL;
	c->token = sim_xasprintf("fe:%u:%u", devid, c->gen);
	c->be_token = sim_xasprintf("bk:%u:%u", devid, c->gen);
	c->be_state = 1;
	c->fe_state = 0;
	c->lfd = c->cfd = c->master = c->slave = c->lx_master = c->lx_slave = -1;
	c->max_capacity = DEFAULT_LIMIT;
	c->next = devices;
	devices = c;

	/* libxl's -chardev pty,id=libxl-channelN: a pty nothing reads. */
	conn = xread(c->be, "connection");
	if (conn && !strcmp(conn, "pty")) {
		char lx[64];

		if (pty_open(c, &c->lx_master, &c->lx_slave, lx))
			sim_warn("console %u: chardev libxl-channel%u on %s (unused)", devid,
				 devid, lx);
	}
	/* The "xencons<N>" chardev from the frontend's output. */
	if (!chr_open(c)) {
		sim_warn("console %u: no valid chardev: not created", devid);
		c->failed = true;
		free(c->be_token);
		c->be_token = NULL;
		goto out;
	}
	c->inited = true;
	xwrite(c->be, "frontend", c->fe);
	{
		char id[16];

		snprintf(id, sizeof(id), "%u", domid);
		xwrite(c->be, "frontend-id", id);
	}
	xwrite(c->be, "hotplug-status", "connected");
	xwrite(c->be, "online", "1");
	c->online = true;
	set_state(c, 2);
	/* They fire at once, which runs the handlers. */
	if (xs_watch(xs, c->fe, c->token))
		c->watching = true;
	else
		sim_warn("console %u: watch %s: %s", devid, c->fe, strerror(errno));
	if (!xs_watch(xs, c->be, c->be_token)) {
		sim_warn("console %u: watch %s: %s", devid, c->be, strerror(errno));
		free(c->be_token);
		c->be_token = NULL;
	}
	xb_frontend_changed(c);
out:
	free(be);
	free(fe);
	free(type);
	free(conn);
}

/* xen_bus_type_enumerate() for console, our domain. */
static void xb_rescan(void)
{
	unsigned n = 0, i;
	char **names = xs_directory(xs, XBT_NULL, be_root, &n);
	struct con *c, *next;

	/* Declined entries whose backend went: forgotten. */
	for (c = devices; c; c = next) {
		next = c->next;
		if (!c->declined && !c->failed)
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], c->be + strlen(be_root) + 1))
				break;
		if (i == n)
			con_free(c);
	}
	for (i = 0; i < n; i++) {
		unsigned long devid;

		if (parse_uint(names[i], 0xffff, &devid))
			xb_create((unsigned)devid, names[i]);
	}
	free(names);
}

static void rescan(void)
{
	if (xen_console)
		xb_rescan();
	else
		legacy_rescan();
}

static void handle_watch(char **w)
{
	const char *token = w[XS_WATCH_TOKEN];
	unsigned devid, gen;
	struct con *c;
	char kind[3];

	if (!strcmp(token, "be")) {
		rescan();
		return;
	}
	if (sscanf(token, "%2[a-z]:%u:%u", kind, &devid, &gen) != 3)
		return;
	for (c = devices; c; c = c->next)
		if (c->devid == devid && c->gen == gen && !c->declined)
			break;
	if (!c)
		return;
	if (!xen_console)
		con_check(c);
	else if (!strcmp(kind, "fe"))
		xb_frontend_changed(c);
	else if (!strcmp(kind, "bk"))
		xb_backend_changed(c);
}

static void usage(void)
{
	fprintf(stderr, "usage: %s --domid D [--model legacy|xen-console] [--ready-fd FD]\n",
		sim_progname);
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
		} else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "xen-console"))
				xen_console = true;
			else if (strcmp(argv[i], "legacy"))
				usage();
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

	/*
	 * Like qemu on exit: the sockets go; the legacy backend leaves xenstore
	 * to the toolstack, the xen-console device deletes its nodes.
	 */
	for (struct con *c = devices; c; c = c->next)
		if (c->lfd >= 0)
			unlink_ours(c);
	while (xen_console && devices) {
		struct con *c = devices;

		if (c->declined || c->failed)
			con_free(c);
		else
			xb_destroy(c);
	}
	return 0;
}
