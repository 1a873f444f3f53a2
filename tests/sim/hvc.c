/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim-hvc: Linux's hvc_xen (drivers/tty/hvc/hvc_xen.c) for the
 * console devices with devid >= 1 of an emulated guest, and the programs a
 * guest would run on them ("agents"), all in one process.
 *
 * Per device, as the xenbus frontend does: share one page with the backend
 * domain, allocate an unbound event channel for it, publish ring-ref and port,
 * go Initialised; follow the backend to Connected; on backend Closing/Closed
 * release everything and go Closed.  Devices may come and go at any time.
 *
 * The agent of a channel is chosen by its name from $XENCHAN_SIM_DIR/dom<N>/agents
 * ("NAME SPEC" lines; a channel not listed gets echo):
 *   echo           write back every byte received
 *   sink:FILE      consume everything; after each batch FILE holds
 *                  "<bytes> <fnv1a64 as 16 hex digits>"; with --continue
 *                  (a domain rebuilt by reboot, restore or migrate) the
 *                  count and hash go on from what FILE holds, so that it
 *                  covers every byte the guest got across the cycles
 *   source:COUNT   write COUNT bytes, byte i = (i * 7 + 3) & 0xff; drain input
 *   stall          never read: the backend sees a full ring
 *   cmd:COMMAND    /bin/sh -c COMMAND, stdin/stdout connected to the channel
 *   hostile:MODE   a broken or malicious guest, once the backend is Connected:
 *                  prod    out_prod = out_cons + 0x10000, once (XSA-86)
 *                  flap    out_prod flips between plausible and impossible
 *                          values in a tight loop for FLAP_MS, the backend
 *                          notified every millisecond (XSA-155)
 *                  inprod  in_cons = in_prod + 0x10000, once
 *                  It reads and writes nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/console.h>

#include "simutil.h"

#define AGENT_BUF 4096u
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define FLAP_MS 3000

enum agent_kind { AG_ECHO, AG_SINK, AG_SOURCE, AG_STALL, AG_CMD, AG_HOSTILE };
enum hostile_mode { HOSTILE_PROD, HOSTILE_FLAP, HOSTILE_INPROD };

enum dev_state {
	DEV_ACTIVE,  /* ring shared, agent running */
	DEV_BROKEN,  /* impossible ring indices: no more I/O, resources kept */
	DEV_CLOSED,  /* torn down after the backend closed; until the node goes */
	DEV_IGNORED, /* refused or failed: nothing allocated */
};

struct dev {
	struct dev *next;
	unsigned devid;
	unsigned gen;       /* tells a re-created device's watch from the old one's */
	enum dev_state state;
	bool connected;     /* frontend state 4 written */
	bool watching;
	char *fe;           /* /local/domain/N/device/console/<devid> */
	char *be_state;     /* <backend>/state */
	char *token;
	char *name;
	unsigned be_id;
	grant_ref_t ref;
	struct xencons_interface *intf;
	evtchn_port_t port;

	enum agent_kind kind;
	char *arg;
	uint64_t count;     /* sink: bytes seen; source: bytes still to write */
	uint64_t sent;      /* source: bytes written so far */
	uint64_t hash;
	char obuf[AGENT_BUF]; /* for out[] */
	size_t olen;
	char ibuf[AGENT_BUF]; /* cmd: for the command's stdin */
	size_t ilen;
	int cmd_fd;
	bool cmd_eof, cmd_in_dead;
	pid_t cmd_pid;

	enum hostile_mode hostile;
	pthread_t flapper;
	bool flapping;        /* the thread runs: joined before the page goes */
	int flap_stop;        /* set (atomically) to stop it early */
	int flap_done;        /* set (atomically) by the thread when it ends */
};

static volatile sig_atomic_t got_term, got_chld;
static struct xs_handle *xs;
static xenevtchn_handle *xce;
static xengntshr_handle *gsh;
static struct dev *devs;
static unsigned domid, next_gen = 1;
static char *console_dir;
static bool opt_continue; /* --continue: sinks go on from their FILE */

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

static char *xread(xs_transaction_t t, const char *dir, const char *key)
{
	char *path = sim_xasprintf("%s/%s", dir, key);
	unsigned len;
	char *v = xs_read(xs, t, path, &len);

	free(path);
	return v;
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

/*
 * xenbus_switch_state(): write the frontend state in a transaction that first
 * checks the node still exists, so a removed device is not re-created.
 */
static void switch_state(struct dev *d, int state)
{
	char *path = sim_xasprintf("%s/state", d->fe);
	char val[16];

	snprintf(val, sizeof(val), "%d", state);
	for (;;) {
		xs_transaction_t t = xs_transaction_start(xs);
		char *cur;

		if (t == XBT_NULL) {
			sim_warn("console %u: transaction: %s", d->devid, strerror(errno));
			break;
		}
		cur = xs_read(xs, t, path, NULL);
		if (!cur) {
			xs_transaction_end(xs, t, true);
			break;
		}
		free(cur);
		if (!xs_write(xs, t, path, val, strlen(val))) {
			sim_warn("console %u: write state: %s", d->devid, strerror(errno));
			xs_transaction_end(xs, t, true);
			break;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN) {
			sim_warn("console %u: write state: %s", d->devid, strerror(errno));
			break;
		}
	}
	free(path);
}

/* ---- agents ---- */

static void sink_publish(struct dev *d)
{
	char *tmp = sim_xasprintf("%s.tmp", d->arg);
	FILE *f = fopen(tmp, "we");

	if (!f || fprintf(f, "%" PRIu64 " %016" PRIx64 "\n", d->count, d->hash) < 0 ||
	    fclose(f) != 0 || rename(tmp, d->arg) < 0)
		sim_warn("console %u: sink %s: %s", d->devid, d->arg, strerror(errno));
	free(tmp);
}

/* --continue: the count and hash a sink published before the domain was rebuilt. */
static void sink_resume(struct dev *d)
{
	FILE *f = fopen(d->arg, "re");
	uint64_t count, hash;
	char nl;

	if (!f) {
		if (errno != ENOENT)
			sim_warn("console %u: sink %s: %s: starting from 0", d->devid, d->arg,
				 strerror(errno));
		return;
	}
	if (fscanf(f, "%20" SCNu64 " %16" SCNx64 "%c", &count, &hash, &nl) == 3 && nl == '\n' &&
	    fgetc(f) == EOF) {
		d->count = count;
		d->hash = hash;
	} else {
		sim_warn("console %u: sink %s: not a sink's count and hash: starting from 0",
			 d->devid, d->arg);
	}
	fclose(f);
}

static void agent_choose(struct dev *d)
{
	char *path = sim_xasprintf("%s/dom%u/agents", sim_dir(), domid);
	FILE *f = fopen(path, "re");
	char *line = NULL, *spec = NULL;
	size_t cap = 0;

	if (f) {
		while (getline(&line, &cap, f) >= 0) {
			char *p = line, *name;

			line[strcspn(line, "\n")] = 0;
			p += strspn(p, " \t");
			if (!*p || *p == '#')
				continue;
			name = p;
			p += strcspn(p, " \t");
			if (!*p)
				continue;
			*p++ = 0;
			p += strspn(p, " \t");
			if (d->name && !strcmp(name, d->name)) {
				spec = strdup(p);
				break;
			}
		}
		free(line);
		fclose(f);
	}
	free(path);

	d->kind = AG_ECHO;
	if (!spec || !strcmp(spec, "echo")) {
		d->kind = AG_ECHO;
	} else if (!strncmp(spec, "sink:", 5) && spec[5]) {
		d->kind = AG_SINK;
		d->arg = strdup(spec + 5);
	} else if (!strncmp(spec, "source:", 7)) {
		unsigned long long n;
		char *end;

		errno = 0;
		n = strtoull(spec + 7, &end, 10);
		if (errno || end == spec + 7 || *end)
			sim_warn("console %u: bad agent '%s': using echo", d->devid, spec);
		else {
			d->kind = AG_SOURCE;
			d->count = n;
		}
	} else if (!strcmp(spec, "stall")) {
		d->kind = AG_STALL;
	} else if (!strcmp(spec, "hostile:prod")) {
		d->kind = AG_HOSTILE;
		d->hostile = HOSTILE_PROD;
	} else if (!strcmp(spec, "hostile:flap")) {
		d->kind = AG_HOSTILE;
		d->hostile = HOSTILE_FLAP;
	} else if (!strcmp(spec, "hostile:inprod")) {
		d->kind = AG_HOSTILE;
		d->hostile = HOSTILE_INPROD;
	} else if (!strncmp(spec, "cmd:", 4) && spec[4]) {
		d->kind = AG_CMD;
		d->arg = strdup(spec + 4);
	} else {
		sim_warn("console %u: bad agent '%s': using echo", d->devid, spec);
	}
	free(spec);
}

static void agent_start(struct dev *d)
{
	int sv[2];

	d->cmd_fd = -1;
	d->cmd_pid = -1;
	d->hash = FNV_OFFSET;
	if (d->kind == AG_SINK) {
		if (opt_continue)
			sink_resume(d);
		sink_publish(d); /* "0 <offset basis>" when new: the agent is up */
	}
	if (d->kind != AG_CMD)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		sim_warn("console %u: socketpair: %s", d->devid, strerror(errno));
		d->kind = AG_STALL;
		return;
	}
	d->cmd_pid = fork();
	if (d->cmd_pid < 0) {
		sim_warn("console %u: fork: %s", d->devid, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		d->kind = AG_STALL;
		return;
	}
	if (!d->cmd_pid) {
		sigset_t none;

		/* Only async-signal-safe calls here: libxenstore runs a thread. */
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		/* The preload's descriptors must not leak into the command. */
		close_range(3, ~0u, 0);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl("/bin/sh", "sh", "-c", d->arg, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	d->cmd_fd = sv[0];
	fcntl(d->cmd_fd, F_SETFL, O_NONBLOCK);
}

static void hostile_stop(struct dev *d);

static void agent_stop(struct dev *d)
{
	hostile_stop(d);
	if (d->cmd_fd >= 0) {
		close(d->cmd_fd);
		d->cmd_fd = -1;
	}
	/* A tty going away hangs up its users. */
	if (d->cmd_pid > 0)
		kill(d->cmd_pid, SIGHUP);
	d->cmd_pid = -1;
	d->olen = d->ilen = 0;
}

/* How many input bytes the agent takes now. */
static size_t agent_room(const struct dev *d)
{
	switch (d->kind) {
	case AG_ECHO:
		return sizeof(d->obuf) - d->olen;
	case AG_CMD:
		if (d->cmd_in_dead || d->cmd_fd < 0)
			return 1024;
		return sizeof(d->ibuf) - d->ilen;
	case AG_STALL:
	case AG_HOSTILE:
		return 0;
	default:
		return 1024;
	}
}

static void agent_input(struct dev *d, const char *p, size_t n)
{
	size_t i;

	switch (d->kind) {
	case AG_ECHO:
		memcpy(d->obuf + d->olen, p, n);
		d->olen += n;
		break;
	case AG_SINK:
		for (i = 0; i < n; i++)
			d->hash = (d->hash ^ (unsigned char)p[i]) * FNV_PRIME;
		d->count += n;
		sink_publish(d);
		break;
	case AG_CMD:
		if (!d->cmd_in_dead && d->cmd_fd >= 0) {
			memcpy(d->ibuf + d->ilen, p, n);
			d->ilen += n;
		}
		break;
	default:
		break;
	}
}

static void agent_produce(struct dev *d)
{
	while (d->kind == AG_SOURCE && d->count && d->olen < sizeof(d->obuf)) {
		d->obuf[d->olen++] = (char)((d->sent * 7 + 3) & 0xff);
		d->sent++;
		d->count--;
	}
}

static void cmd_io(struct dev *d, short revents)
{
	ssize_t n;

	if ((revents & (POLLOUT | POLLERR | POLLHUP)) && d->ilen && !d->cmd_in_dead) {
		n = send(d->cmd_fd, d->ibuf, d->ilen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			memmove(d->ibuf, d->ibuf + n, d->ilen - n);
			d->ilen -= n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* The command stopped reading: input is drained from now on. */
			d->cmd_in_dead = true;
			d->ilen = 0;
		}
	}
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && !d->cmd_eof &&
	    d->olen < sizeof(d->obuf)) {
		n = read(d->cmd_fd, d->obuf + d->olen, sizeof(d->obuf) - d->olen);
		if (n > 0)
			d->olen += n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			d->cmd_eof = true;
	}
}

/* ---- the hostile agent ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * out_prod changes between every two reads a backend could make: plausible
 * (data available), impossible (far ahead), plausible again.  Only stores
 * to the shared page: no library calls from this thread.
 */
static void *flap_thread(void *arg)
{
	struct dev *d = arg;
	struct xencons_interface *intf = d->intf;
	double end = now_s() + FLAP_MS / 1000.0;
	uint32_t i = 0;

	while (!__atomic_load_n(&d->flap_stop, __ATOMIC_RELAXED)) {
		XENCONS_RING_IDX cons = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
		XENCONS_RING_IDX v;

		switch (i % 4) {
		case 0:
			v = cons + 1 + i % sizeof(intf->out);
			break;
		case 1:
			v = cons + 0x10000 + i;
			break;
		case 2:
			v = cons + sizeof(intf->out);
			break;
		default:
			v = cons - 1 - i % 64; /* behind the consumer */
			break;
		}
		__atomic_store_n(&intf->out_prod, v, __ATOMIC_RELAXED);
		if (++i % 4096 == 0 && now_s() > end)
			break;
	}
	__atomic_store_n(&d->flap_done, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* The backend is Connected: misbehave. */
static void hostile_start(struct dev *d)
{
	struct xencons_interface *intf = d->intf;
	XENCONS_RING_IDX v;

	switch (d->hostile) {
	case HOSTILE_PROD:
		v = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
		__atomic_store_n(&intf->out_prod, v + 0x10000, __ATOMIC_RELAXED);
		break;
	case HOSTILE_INPROD:
		v = __atomic_load_n(&intf->in_prod, __ATOMIC_RELAXED);
		__atomic_store_n(&intf->in_cons, v + 0x10000, __ATOMIC_RELAXED);
		break;
	case HOSTILE_FLAP:
		__atomic_store_n(&d->flap_stop, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&d->flap_done, 0, __ATOMIC_RELAXED);
		if (pthread_create(&d->flapper, NULL, flap_thread, d) != 0)
			sim_warn("console %u: cannot start the flapping thread", d->devid);
		else
			d->flapping = true;
		break;
	}
	sim_warn("console %u: hostile agent: ring indices corrupted", d->devid);
	xenevtchn_notify(xce, d->port);
}

static void hostile_stop(struct dev *d)
{
	if (!d->flapping)
		return;
	__atomic_store_n(&d->flap_stop, 1, __ATOMIC_RELAXED);
	pthread_join(d->flapper, NULL);
	d->flapping = false;
}

/* ---- the ring (we are the frontend) ---- */

static void ring_screwed(struct dev *d)
{
	/* hvc_xen: "Illegal ring page indices"; qemu: "ring is screwed". */
	sim_warn("console %u: ring is screwed: stopping the device", d->devid);
	agent_stop(d);
	d->state = DEV_BROKEN;
}

/* Guest output into out[]; returns bytes moved or -1. */
static ssize_t ring_write(struct dev *d)
{
	struct xencons_interface *intf = d->intf;
	XENCONS_RING_IDX cons, prod;
	size_t space, n, done = 0;

	cons = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&intf->out_prod, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (prod - cons > sizeof(intf->out)) {
		ring_screwed(d);
		return -1;
	}
	space = sizeof(intf->out) - (prod - cons);
	while (done < d->olen && space) {
		size_t off = MASK_XENCONS_IDX(prod, intf->out);

		n = sizeof(intf->out) - off;
		if (n > space)
			n = space;
		if (n > d->olen - done)
			n = d->olen - done;
		memcpy(intf->out + off, d->obuf + done, n);
		done += n;
		prod += n;
		space -= n;
	}
	if (!done)
		return 0;
	/* Data before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&intf->out_prod, prod, __ATOMIC_RELAXED);
	memmove(d->obuf, d->obuf + done, d->olen - done);
	d->olen -= done;
	xenevtchn_notify(xce, d->port);
	return done;
}

/* Input from in[] to the agent; returns bytes moved or -1. */
static ssize_t ring_read(struct dev *d)
{
	struct xencons_interface *intf = d->intf;
	XENCONS_RING_IDX cons, prod;
	char tmp[sizeof(intf->in)];
	size_t room = agent_room(d), avail, n, done = 0;

	if (!room)
		return 0;
	cons = __atomic_load_n(&intf->in_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&intf->in_prod, __ATOMIC_RELAXED);
	/* Read the data only after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (prod - cons > sizeof(intf->in)) {
		ring_screwed(d);
		return -1;
	}
	avail = prod - cons;
	if (avail > room)
		avail = room;
	while (done < avail) {
		size_t off = MASK_XENCONS_IDX(cons, intf->in);

		n = sizeof(intf->in) - off;
		if (n > avail - done)
			n = avail - done;
		memcpy(tmp + done, intf->in + off, n);
		done += n;
		cons += n;
	}
	if (!done)
		return 0;
	/* Finish reading before handing the space back. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&intf->in_cons, cons, __ATOMIC_RELAXED);
	xenevtchn_notify(xce, d->port);
	agent_input(d, tmp, done);
	return done;
}

static void dev_service(struct dev *d)
{
	ssize_t r, w;

	if (d->kind == AG_HOSTILE)
		return; /* its indices are lies: it would stop itself */
	while (d->state == DEV_ACTIVE) {
		agent_produce(d);
		w = d->olen ? ring_write(d) : 0;
		if (w < 0)
			return;
		r = ring_read(d);
		if (r < 0)
			return;
		if (!r && !w)
			return;
	}
}

/* ---- devices ---- */

static void dev_release(struct dev *d)
{
	agent_stop(d);
	if (d->watching) {
		xs_unwatch(xs, d->be_state, d->token);
		d->watching = false;
	}
	if (d->state == DEV_ACTIVE || d->state == DEV_BROKEN) {
		xenevtchn_unbind(xce, d->port);
		/* A page the backend still maps outlives the grant (gntalloc). */
		xengntshr_unshare(gsh, d->intf, 1);
		d->intf = NULL;
	}
}

static void dev_free(struct dev *d)
{
	struct dev **pp;

	for (pp = &devs; *pp != d; pp = &(*pp)->next)
		;
	*pp = d->next;
	dev_release(d);
	free(d->fe);
	free(d->be_state);
	free(d->token);
	free(d->name);
	free(d->arg);
	free(d);
}

static struct dev *dev_new(unsigned devid)
{
	struct dev *d = sim_xmalloc(sizeof(*d));

	d->devid = devid;
	d->gen = next_gen++;
	d->state = DEV_IGNORED;
	d->cmd_fd = -1;
	d->cmd_pid = -1;
	d->fe = sim_xasprintf("%s/%u", console_dir, devid);
	d->next = devs;
	devs = d;
	return d;
}

static bool publish(struct dev *d)
{
	char ref[16], port[16];

	snprintf(ref, sizeof(ref), "%u", d->ref);
	snprintf(port, sizeof(port), "%u", d->port);
	for (;;) {
		xs_transaction_t t = xs_transaction_start(xs);
		char *p1, *p2;
		bool ok;

		if (t == XBT_NULL)
			return false;
		p1 = sim_xasprintf("%s/ring-ref", d->fe);
		p2 = sim_xasprintf("%s/port", d->fe);
		ok = xs_write(xs, t, p1, ref, strlen(ref)) &&
		     xs_write(xs, t, p2, port, strlen(port));
		free(p1);
		free(p2);
		if (!ok) {
			int e = errno;

			xs_transaction_end(xs, t, true);
			errno = e;
			return false;
		}
		if (xs_transaction_end(xs, t, false))
			return true;
		if (errno != EAGAIN)
			return false;
	}
}

static void dev_setup(struct dev *d, char *backend)
{
	char *s;
	unsigned long v;
	int port;

	s = xread(XBT_NULL, d->fe, "backend-id");
	if (!parse_uint(s, SIM_MAX_DOMAINS - 1, &v)) {
		sim_warn("console %u: bad backend-id", d->devid);
		free(s);
		return;
	}
	free(s);
	d->be_id = v;
	d->name = xread(XBT_NULL, d->fe, "name");
	d->be_state = sim_xasprintf("%s/state", backend);
	d->token = sim_xasprintf("be:%u:%u", d->devid, d->gen);

	d->intf = xengntshr_share_pages(gsh, d->be_id, 1, &d->ref, 1);
	if (!d->intf) {
		sim_warn("console %u: share page: %s", d->devid, strerror(errno));
		return;
	}
	port = xenevtchn_bind_unbound_port(xce, d->be_id);
	if (port < 0) {
		sim_warn("console %u: event channel: %s", d->devid, strerror(errno));
		xengntshr_unshare(gsh, d->intf, 1);
		d->intf = NULL;
		return;
	}
	d->port = port;
	memset(d->intf, 0, sizeof(*d->intf));
	d->state = DEV_ACTIVE;

	if (!publish(d)) {
		sim_warn("console %u: publish ring: %s", d->devid, strerror(errno));
		dev_release(d);
		d->state = DEV_IGNORED;
		return;
	}
	switch_state(d, 3);
	agent_choose(d);
	agent_start(d);
	/* After the switch, as xenbus_dev_probe() does; it fires once at once. */
	if (xs_watch(xs, d->be_state, d->token))
		d->watching = true;
	else
		sim_warn("console %u: watch %s: %s", d->devid, d->be_state, strerror(errno));
}

static void rescan(void)
{
	unsigned n = 0, i;
	char **names = xs_directory(xs, XBT_NULL, console_dir, &n);
	struct dev *d, *next;

	for (d = devs; d; d = next) {
		next = d->next;
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], d->fe + strlen(console_dir) + 1))
				break;
		if (i == n)
			dev_free(d); /* node gone: tear down, nobody to tell */
	}

	for (i = 0; i < n; i++) {
		unsigned long devid;
		char *fe, *backend;

		/* Device 0 is the primary console, not a xenbus device. */
		if (names[i][0] == '0' || !parse_uint(names[i], 0xffff, &devid))
			continue;
		for (d = devs; d; d = d->next)
			if (d->devid == devid)
				break;
		if (d)
			continue;
		fe = sim_xasprintf("%s/%s", console_dir, names[i]);
		backend = xread(XBT_NULL, fe, "backend");
		free(fe);
		if (!backend || !*backend) {
			free(backend);
			continue; /* not fully written yet: the watch fires again */
		}
		d = dev_new(devid);
		if (devid >= 10) {
			/*
			 * hvc_xen's xencons_probe() takes the device number from
			 * the last character of the node name: devid 10 reads as 0
			 * (refused), 11 as 1 (collides with device 1), and so on.
			 * The real driver misbehaves; refusing the device is the
			 * safe emulation of that.
			 */
			sim_warn("console %lu: devid >= 10 is not supported by hvc_xen: ignored",
				 devid);
		} else {
			dev_setup(d, backend);
		}
		free(backend);
	}
	free(names);
}

static void backend_changed(struct dev *d)
{
	unsigned long st;
	char *s = xs_read(xs, XBT_NULL, d->be_state, NULL);

	if (!parse_uint(s, 8, &st))
		st = 0;
	free(s);
	if (d->state != DEV_ACTIVE && d->state != DEV_BROKEN)
		return;
	switch (st) {
	case 4:
		if (!d->connected) {
			switch_state(d, 4);
			d->connected = true;
			/*
			 * Output written before the backend bound the port raised
			 * no event; Linux's hvc core polls while output is pending,
			 * which comes to the same as one more notification.
			 */
			if (d->state == DEV_ACTIVE)
				xenevtchn_notify(xce, d->port);
			if (d->state == DEV_ACTIVE && d->kind == AG_HOSTILE)
				hostile_start(d);
		}
		break;
	case 5:
	case 6:
		dev_release(d);
		d->state = DEV_CLOSED;
		switch_state(d, 6);
		break;
	default:
		break;
	}
}

static void handle_watch(char **w)
{
	const char *token = w[XS_WATCH_TOKEN];
	unsigned devid, gen;
	struct dev *d;

	if (!strcmp(token, "devices")) {
		rescan();
		return;
	}
	if (sscanf(token, "be:%u:%u", &devid, &gen) != 2)
		return;
	for (d = devs; d; d = d->next)
		if (d->devid == devid && d->gen == gen)
			break;
	if (d)
		backend_changed(d);
}

static void reap(void)
{
	struct dev *d;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (d = devs; d; d = d->next)
			if (d->cmd_pid == pid)
				d->cmd_pid = -1;
		if (WIFEXITED(st) && WEXITSTATUS(st))
			sim_warn("agent %d exited with status %d", (int)pid, WEXITSTATUS(st));
		else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGHUP)
			sim_warn("agent %d killed by signal %d", (int)pid, WTERMSIG(st));
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t blocked, waitmask;
	struct pollfd *pfd = NULL;
	size_t npfd = 0;

	sim_progname = "xenchan-sim-hvc";
	if (argc == 2 && !strcmp(argv[1], "--continue"))
		opt_continue = true;
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--continue]\n", sim_progname);
		return 2;
	}
	domid = sim_domid();
	if (!domid)
		sim_die("%s must name a guest domain, not 0", SIM_ENV_DOMID);

	/*
	 * Signals are blocked before libxenstore starts its reader thread, so
	 * they are only taken in ppoll() below, by this thread.
	 */
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

	xs = xs_open(0);
	if (!xs)
		sim_die("xs_open: %s", strerror(errno));
	xce = xenevtchn_open(NULL, 0);
	if (!xce)
		sim_die("xenevtchn_open: %s", strerror(errno));
	gsh = xengntshr_open(NULL, 0);
	if (!gsh)
		sim_die("xengntshr_open: %s", strerror(errno));
	console_dir = sim_xasprintf("/local/domain/%u/device/console", domid);
	if (xs_fileno(xs) < 0)
		sim_die("xs_fileno: %s", strerror(errno));
	/* Fires once at once: that is the initial scan. */
	if (!xs_watch(xs, console_dir, "devices"))
		sim_die("watch %s: %s", console_dir, strerror(errno));

	while (!got_term) {
		struct dev *d;
		size_t n = 2, k;
		char **w;
		int r;

		for (d = devs; d; d = d->next)
			n++;
		if (n > npfd) {
			free(pfd);
			npfd = n * 2;
			pfd = sim_xmalloc(npfd * sizeof(*pfd));
		}
		pfd[0] = (struct pollfd){ .fd = xs_fileno(xs), .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = xenevtchn_fd(xce), .events = POLLIN };
		for (k = 2, d = devs; d; d = d->next, k++) {
			pfd[k] = (struct pollfd){ .fd = -1 };
			if (d->state != DEV_ACTIVE || d->cmd_fd < 0)
				continue;
			pfd[k].fd = d->cmd_fd;
			if (!d->cmd_eof && d->olen < sizeof(d->obuf))
				pfd[k].events |= POLLIN;
			if (d->ilen && !d->cmd_in_dead)
				pfd[k].events |= POLLOUT;
			if (!pfd[k].events)
				pfd[k].fd = -1; /* a hung-up socket would wake us forever */
		}
		/* A flapping agent keeps the backend looking: every millisecond. */
		for (d = devs; d; d = d->next)
			if (d->flapping)
				break;
		r = ppoll(pfd, k, d ? &(struct timespec){ .tv_nsec = 1000000 } : NULL,
			  &waitmask);
		if (r < 0 && errno != EINTR)
			sim_die("poll: %s", strerror(errno));
		take_signals(&blocked);
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (r < 0 || got_term)
			continue;
		for (d = devs; d; d = d->next) {
			if (d->flapping && __atomic_load_n(&d->flap_done, __ATOMIC_RELAXED))
				hostile_stop(d);
			else if (d->flapping && d->state == DEV_ACTIVE)
				xenevtchn_notify(xce, d->port);
		}

		/* Agent descriptors first: the list may change below. */
		for (k = 2, d = devs; d; d = d->next, k++)
			if (pfd[k].fd >= 0 && pfd[k].revents)
				cmd_io(d, pfd[k].revents);

		if (pfd[1].revents) {
			xenevtchn_port_or_error_t p = evtchn_pending(pfd[1].revents);

			for (d = devs; d; d = d->next)
				if (d->state == DEV_ACTIVE && d->port == (evtchn_port_t)p)
					dev_service(d);
			/* Unmask after the ring is handled: a new event stays pending. */
			if (p >= 0)
				xenevtchn_unmask(xce, p);
		}
		if (pfd[0].revents & POLLIN) {
			while ((w = xs_check_watch(xs))) {
				handle_watch(w);
				free(w);
			}
		}
		for (d = devs; d; d = d->next)
			dev_service(d);
	}
	return 0;
}
