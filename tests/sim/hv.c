/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim-hv: the hypervisor of the emulated Xen host.
 *
 * It owns what Xen owns: domains, per-domain event-channel port spaces and
 * grant tables, and the memory granted pages live in (one memfd, mapped by
 * every process through the preload library).  Processes reach it through
 * the preload library, one SOCK_SEQPACKET connection per open device; the
 * protocol is in sim.h.  Single-threaded, event driven (epoll), no timers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>

#include "simutil.h"

#define MEM_FRAMES (1u << 20) /* 4 GiB of sparse guest memory */
#define DOMID_SELF 0x7ff0u
#define FIRST_FREE_GREF 8u /* Linux reserves refs 0-7 (GNTTAB_NR_RESERVED_ENTRIES) */
#define MAX_MAP_PAGES 1024u

enum port_state { P_FREE, P_UNBOUND, P_INTERDOMAIN, P_VIRQ };

struct conn;

struct port {
	uint8_t state;
	bool masked, pending;
	bool is_static; /* bound with BIND_STATIC: unbinding leaves it open */
	bool orphan;    /* unbound by its owner, kept open for unmap-notify */
	uint16_t remote_dom;
	uint32_t remote_port; /* or the virq */
	uint32_t refs;        /* pending unmap-notifies that will send on it */
	struct conn *owner;
};

struct grant {
	uint64_t frame;
	uint16_t grantee;
	bool ro, used;
};

struct domain {
	bool alive;
	uint32_t nports;
	struct port *ports;
	struct grant *grants;
	uint32_t ngrants;
	uint32_t next_gref;
	uint64_t xs_frame;
	uint32_t xs_port;
	bool shutdown;       /* SCHEDOP_shutdown: until destroyed */
	uint8_t reason;      /* its SHUTDOWN_* code */
};

/* A region of a gntdev (grants mapped) or gntalloc (pages shared) file. */
struct region {
	uint64_t index; /* byte offset in the file's mmap space */
	uint32_t count;
	bool mapped;   /* mmap()ed by the process */
	bool reserved; /* gntdev: not yet UNMAP_GRANT_REF; gntalloc: not yet DEALLOC */
	uint32_t *refs;
	uint16_t *doms;
	uint64_t *frames;
	uint32_t notify_action, notify_port;
	uint64_t notify_off;
	struct region *next;
};

struct ep {
	struct conn *c;
	bool is_ev;
};

struct conn {
	int fd, evfd;
	enum sim_dev kind;
	uint32_t domid;
	struct ep ctl_ep, ev_ep;
	bool dead;
	/* evtchn: port numbers waiting to be written to the event stream */
	uint8_t *outq;
	size_t outn, outcap;
	uint8_t inbuf[4];
	size_t inlen;
	/* gntdev and gntalloc */
	struct region *regions;
	uint64_t next_index;
	struct conn *prev, *next;
};

static struct domain domains[SIM_MAX_DOMAINS];
static struct conn *conns, *graveyard;
static int epfd, memfd;
static uint8_t *mem;
static uint32_t *frame_refs;
static uint64_t *free_frames;
static size_t nfree_frames;
static uint64_t next_frame = 1; /* frame 0 is never handed out */
static struct sim_stats stats;
static bool verbose;

/* Memory. */

static int frame_alloc(uint64_t *out)
{
	uint64_t f;

	if (nfree_frames)
		f = free_frames[--nfree_frames];
	else if (next_frame < MEM_FRAMES)
		f = next_frame++;
	else
		return -ENOMEM;
	frame_refs[f] = 1;
	*out = f;
	return 0;
}

static void frame_put(uint64_t f)
{
	if (!frame_refs[f] || --frame_refs[f])
		return;
	/* A freed page reads as zeroes when it is handed out again. */
	fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)f * SIM_PAGE_SIZE, SIM_PAGE_SIZE);
	free_frames[nfree_frames++] = f;
}

/* Event channels. */

static struct domain *dom_get(uint32_t domid)
{
	if (domid >= SIM_MAX_DOMAINS || !domains[domid].alive)
		return NULL;
	return &domains[domid];
}

static struct port *port_get(uint32_t domid, uint32_t p)
{
	struct domain *d = dom_get(domid);

	if (!d || p == 0 || p >= d->nports || d->ports[p].state == P_FREE)
		return NULL;
	return &d->ports[p];
}

static int port_alloc(struct domain *d, uint32_t *out)
{
	for (uint32_t p = 1; p < d->nports; p++) {
		if (d->ports[p].state == P_FREE) {
			memset(&d->ports[p], 0, sizeof(d->ports[p]));
			*out = p;
			return 0;
		}
	}
	return -ENOSPC;
}

static void conn_queue_event(struct conn *c, uint32_t port);

/* Xen sets the port pending; the Linux driver masks it and queues its number. */
static void port_raise(uint32_t domid, uint32_t p)
{
	struct port *pt = port_get(domid, p);

	if (!pt)
		return;
	if (!pt->owner || pt->masked || pt->orphan) {
		pt->pending = true;
		return;
	}
	pt->masked = true;
	stats.events++;
	conn_queue_event(pt->owner, p);
}

static void port_send(uint32_t domid, uint32_t p)
{
	struct port *pt = port_get(domid, p);

	if (pt && pt->state == P_INTERDOMAIN)
		port_raise(pt->remote_dom, pt->remote_port);
}

/* EVTCHNOP_close: an interdomain peer reverts to unbound, waiting for us. */
static void port_close(uint32_t domid, uint32_t p)
{
	struct port *pt = port_get(domid, p);

	if (!pt)
		return;
	if (pt->refs) {
		pt->owner = NULL;
		pt->orphan = true;
		return;
	}
	if (pt->state == P_INTERDOMAIN) {
		struct port *rp = port_get(pt->remote_dom, pt->remote_port);

		if (rp && rp->state == P_INTERDOMAIN && rp->remote_dom == domid &&
		    rp->remote_port == p) {
			rp->state = P_UNBOUND;
			rp->remote_port = 0;
		}
	}
	memset(pt, 0, sizeof(*pt));
}

/* The owner lets go of a port: Linux closes it unless it was bound static. */
static void port_unbind(uint32_t domid, uint32_t p)
{
	struct port *pt = port_get(domid, p);

	if (!pt)
		return;
	if (pt->is_static) {
		pt->owner = NULL;
		pt->masked = false;
		return;
	}
	port_close(domid, p);
}

static void port_unref(uint32_t domid, uint32_t p)
{
	struct port *pt = port_get(domid, p);

	if (!pt || !pt->refs)
		return;
	if (--pt->refs == 0 && pt->orphan) {
		pt->orphan = false;
		port_close(domid, p);
	}
}

static void port_bind_owner(struct conn *c, uint32_t p)
{
	struct port *pt = &domains[c->domid].ports[p];

	pt->owner = c;
	pt->masked = false;
	if (pt->pending) {
		pt->pending = false;
		port_raise(c->domid, p);
	}
}

static int evtchn_op(struct conn *c, const struct sim_req *q, struct sim_rep *r)
{
	struct domain *d = dom_get(c->domid);
	struct port *pt;
	uint32_t p, rdom;
	int err;

	if (!d)
		return -ESRCH;
	switch (q->op) {
	case SIM_EVTCHN_BIND_UNBOUND:
		rdom = q->a == DOMID_SELF ? c->domid : (uint32_t)q->a;
		if (!dom_get(rdom))
			return -ESRCH;
		if ((err = port_alloc(d, &p)))
			return err;
		d->ports[p].state = P_UNBOUND;
		d->ports[p].remote_dom = rdom;
		port_bind_owner(c, p);
		r->a = p;
		return 0;
	case SIM_EVTCHN_BIND_INTERDOMAIN: {
		struct port *rp;

		rdom = q->a == DOMID_SELF ? c->domid : (uint32_t)q->a;
		if (!dom_get(rdom))
			return -ESRCH;
		rp = port_get(rdom, (uint32_t)q->b);
		if (!rp || rp->state != P_UNBOUND || rp->remote_dom != c->domid)
			return -EINVAL;
		if ((err = port_alloc(d, &p)))
			return err;
		d->ports[p].state = P_INTERDOMAIN;
		d->ports[p].remote_dom = rdom;
		d->ports[p].remote_port = (uint32_t)q->b;
		rp->state = P_INTERDOMAIN;
		rp->remote_dom = c->domid;
		rp->remote_port = p;
		port_bind_owner(c, p);
		r->a = p;
		return 0;
	}
	case SIM_EVTCHN_BIND_VIRQ:
		/* Only the global VIRQ_DOM_EXC, and only for the control domain. */
		if (q->a != SIM_VIRQ_DOM_EXC)
			return -EINVAL;
		if (c->domid != 0)
			return -EPERM;
		if ((err = port_alloc(d, &p)))
			return err;
		d->ports[p].state = P_VIRQ;
		d->ports[p].remote_port = (uint32_t)q->a;
		port_bind_owner(c, p);
		r->a = p;
		return 0;
	case SIM_EVTCHN_BIND_STATIC:
		pt = port_get(c->domid, (uint32_t)q->a);
		if (!pt || pt->owner || pt->orphan)
			return -EINVAL;
		pt->is_static = true;
		port_bind_owner(c, (uint32_t)q->a);
		return 0;
	case SIM_EVTCHN_UNBIND:
		pt = port_get(c->domid, (uint32_t)q->a);
		if (!pt || pt->owner != c)
			return -ENOTCONN;
		port_unbind(c->domid, (uint32_t)q->a);
		return 0;
	case SIM_EVTCHN_NOTIFY:
		pt = port_get(c->domid, (uint32_t)q->a);
		if (!pt || pt->owner != c)
			return -ENOTCONN;
		stats.notifies++;
		port_send(c->domid, (uint32_t)q->a);
		return 0;
	case SIM_EVTCHN_RESET:
		for (p = 1; p < d->nports; p++)
			if (d->ports[p].state != P_FREE && d->ports[p].owner == c)
				port_unbind(c->domid, p);
		return 0;
	}
	return -ENOTTY;
}

static void conn_flush_events(struct conn *c)
{
	while (c->outn) {
		ssize_t n = send(c->evfd, c->outq, c->outn, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;
		memmove(c->outq, c->outq + n, c->outn - n);
		c->outn -= n;
	}
	struct epoll_event ev = { .events = EPOLLIN | (c->outn ? EPOLLOUT : 0),
				  .data.ptr = &c->ev_ep };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->evfd, &ev);
}

/* The Linux driver's read(): the numbers of the ports that fired. */
static void conn_queue_event(struct conn *c, uint32_t port)
{
	if (c->evfd < 0 || c->dead)
		return;
	if (c->outn + 4 > c->outcap) {
		c->outcap = c->outcap ? 2 * c->outcap : 256;
		c->outq = realloc(c->outq, c->outcap);
		if (!c->outq)
			sim_die("out of memory");
	}
	memcpy(c->outq + c->outn, &port, 4);
	c->outn += 4;
	conn_flush_events(c);
}

/* The process wrote port numbers to unmask them (the Linux evtchn write()). */
static int conn_read_unmasks(struct conn *c)
{
	uint8_t buf[4096];
	ssize_t n = recv(c->evfd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0)
		return -EPIPE;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (ssize_t i = 0; i < n; i++) {
		c->inbuf[c->inlen++] = buf[i];
		if (c->inlen == 4) {
			uint32_t p;
			struct port *pt;

			memcpy(&p, c->inbuf, 4);
			c->inlen = 0;
			pt = port_get(c->domid, p);
			if (!pt || pt->owner != c)
				continue;
			pt->masked = false;
			if (pt->pending) {
				pt->pending = false;
				port_raise(c->domid, p);
			}
		}
	}
	return 0;
}

/* Grants. */

static int gref_alloc(struct domain *d, uint64_t frame, uint16_t grantee, bool ro,
		      uint32_t *out)
{
	uint32_t ref;

	for (uint32_t i = 0; i < d->ngrants; i++) {
		ref = FIRST_FREE_GREF + (d->next_gref + i) % (d->ngrants - FIRST_FREE_GREF);
		if (!d->grants[ref].used)
			goto found;
	}
	if (d->ngrants >= SIM_MAX_GRANTS)
		return -ENOSPC;
	{
		uint32_t n = d->ngrants ? d->ngrants * 2 : 256;
		struct grant *g;

		if (n > SIM_MAX_GRANTS)
			n = SIM_MAX_GRANTS;
		g = realloc(d->grants, n * sizeof(*g));
		if (!g)
			return -ENOMEM;
		memset(g + d->ngrants, 0, (n - d->ngrants) * sizeof(*g));
		ref = d->ngrants > FIRST_FREE_GREF ? d->ngrants : FIRST_FREE_GREF;
		d->grants = g;
		d->ngrants = n;
	}
found:
	d->grants[ref] = (struct grant){ .frame = frame, .grantee = grantee, .ro = ro,
					 .used = true };
	d->next_gref = ref + 1 - FIRST_FREE_GREF;
	*out = ref;
	return 0;
}

static struct region *region_find(struct conn *c, uint64_t index)
{
	for (struct region *g = c->regions; g; g = g->next)
		if (g->index == index)
			return g;
	return NULL;
}

static struct region *region_containing(struct conn *c, uint64_t off)
{
	for (struct region *g = c->regions; g; g = g->next)
		if (off >= g->index && off < g->index + (uint64_t)g->count * SIM_PAGE_SIZE)
			return g;
	return NULL;
}

static void region_fire_notify(struct conn *c, struct region *g)
{
	if ((g->notify_action & UNMAP_NOTIFY_CLEAR_BYTE) && g->frames) {
		uint64_t f = g->frames[g->notify_off / SIM_PAGE_SIZE];

		if (f)
			mem[f * SIM_PAGE_SIZE + g->notify_off % SIM_PAGE_SIZE] = 0;
	}
	if (g->notify_action & UNMAP_NOTIFY_SEND_EVENT) {
		port_send(c->domid, g->notify_port);
		port_unref(c->domid, g->notify_port);
	}
	g->notify_action = 0;
}

static void region_free(struct conn *c, struct region *g)
{
	struct region **pp;

	for (pp = &c->regions; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	free(g->refs);
	free(g->doms);
	free(g->frames);
	free(g);
}

static struct region *region_new(struct conn *c, uint32_t count)
{
	struct region *g = sim_xmalloc(sizeof(*g));

	g->count = count;
	g->index = c->next_index;
	c->next_index += (uint64_t)count * SIM_PAGE_SIZE;
	g->refs = sim_xmalloc(count * sizeof(*g->refs));
	g->doms = sim_xmalloc(count * sizeof(*g->doms));
	g->frames = sim_xmalloc(count * sizeof(*g->frames));
	g->reserved = true;
	g->next = c->regions;
	c->regions = g;
	return g;
}

/* gntdev: the grant mapping is made at mmap() and undone at munmap(). */
static void gntdev_unmap_pages(struct conn *c, struct region *g)
{
	if (!g->mapped)
		return;
	region_fire_notify(c, g);
	for (uint32_t i = 0; i < g->count; i++) {
		frame_put(g->frames[i]);
		g->frames[i] = 0;
	}
	g->mapped = false;
}

/* gntalloc: the grants end when the pages are neither mapped nor allocated. */
static void gntalloc_release(struct conn *c, struct region *g)
{
	struct domain *d = dom_get(c->domid);

	region_fire_notify(c, g);
	for (uint32_t i = 0; i < g->count; i++) {
		if (d && g->refs[i] < d->ngrants && d->grants[g->refs[i]].used &&
		    d->grants[g->refs[i]].frame == g->frames[i])
			d->grants[g->refs[i]].used = false;
		frame_put(g->frames[i]);
	}
	region_free(c, g);
}

static int set_notify(struct conn *c, const struct sim_req *q)
{
	struct region *g = region_containing(c, q->a);

	if (!g)
		return -EINVAL;
	if (q->b & ~(uint64_t)(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT))
		return -EINVAL;
	if (q->b & UNMAP_NOTIFY_SEND_EVENT) {
		struct port *pt = port_get(c->domid, (uint32_t)q->c);

		/* Linux takes a reference on the port (evtchn_get). */
		if (!pt || pt->orphan)
			return -EINVAL;
		pt->refs++;
	}
	if (g->notify_action & UNMAP_NOTIFY_SEND_EVENT)
		port_unref(c->domid, g->notify_port);
	g->notify_action = (uint32_t)q->b;
	g->notify_port = (uint32_t)q->c;
	g->notify_off = q->a - g->index;
	return 0;
}

static int gnt_op(struct conn *c, const struct sim_req *q, const uint8_t *data,
		  size_t len, struct sim_rep *r, uint8_t *rdata, size_t *rlen)
{
	struct domain *d = dom_get(c->domid);
	struct region *g;

	if (!d)
		return -ESRCH;
	switch (q->op) {
	case SIM_GNTDEV_MAP:
		if (c->kind != SIM_DEV_GNTDEV)
			return -ENOTTY;
		if (q->a == 0 || q->a > MAX_MAP_PAGES || len != q->a * 8)
			return -EINVAL;
		g = region_new(c, (uint32_t)q->a);
		for (uint32_t i = 0; i < g->count; i++) {
			uint32_t dom, ref;

			memcpy(&dom, data + 8 * i, 4);
			memcpy(&ref, data + 8 * i + 4, 4);
			g->doms[i] = (uint16_t)dom;
			g->refs[i] = ref;
		}
		r->a = g->index;
		return 0;
	case SIM_GNTDEV_UNMAP:
		if (c->kind != SIM_DEV_GNTDEV)
			return -ENOTTY;
		g = region_find(c, q->a);
		if (!g || !g->reserved || g->count != q->b)
			return -ENOENT;
		g->reserved = false;
		if (!g->mapped)
			region_free(c, g);
		return 0;
	case SIM_GNTDEV_MMAP: {
		bool wr = q->c & PROT_WRITE;

		if (c->kind != SIM_DEV_GNTDEV)
			return -ENOTTY;
		g = region_find(c, q->a);
		if (!g || !g->reserved || g->count != q->b)
			return -EINVAL;
		if (g->mapped)
			return -EBUSY;
		/* GNTTABOP_map_grant_ref: only the grantee, read-only if granted so. */
		for (uint32_t i = 0; i < g->count; i++) {
			struct domain *gd = dom_get(g->doms[i]);
			struct grant *gr;

			if (!gd || g->refs[i] >= gd->ngrants)
				return -EINVAL;
			gr = &gd->grants[g->refs[i]];
			if (!gr->used || gr->grantee != c->domid)
				return -EINVAL;
			if (wr && gr->ro)
				return -EPERM;
		}
		for (uint32_t i = 0; i < g->count; i++) {
			g->frames[i] = domains[g->doms[i]].grants[g->refs[i]].frame;
			frame_refs[g->frames[i]]++;
		}
		g->mapped = true;
		stats.grant_maps += g->count;
		memcpy(rdata, g->frames, g->count * 8);
		*rlen = g->count * 8;
		return 0;
	}
	case SIM_GNTDEV_MUNMAP:
		if (c->kind != SIM_DEV_GNTDEV)
			return -ENOTTY;
		g = region_find(c, q->a);
		if (!g)
			return -EINVAL;
		gntdev_unmap_pages(c, g);
		if (!g->reserved)
			region_free(c, g);
		return 0;
	case SIM_GNTDEV_NOTIFY:
		if (c->kind != SIM_DEV_GNTDEV)
			return -ENOTTY;
		return set_notify(c, q);

	case SIM_GNTALLOC_ALLOC: {
		int err = 0;
		uint32_t i;

		if (c->kind != SIM_DEV_GNTALLOC)
			return -ENOTTY;
		if (q->c == 0 || q->c > MAX_MAP_PAGES)
			return -EINVAL;
		if (!dom_get((uint32_t)q->a))
			return -ESRCH;
		g = region_new(c, (uint32_t)q->c);
		for (i = 0; i < g->count; i++) {
			if ((err = frame_alloc(&g->frames[i])))
				break;
			err = gref_alloc(d, g->frames[i], (uint16_t)q->a,
					 !(q->b & GNTALLOC_FLAG_WRITABLE), &g->refs[i]);
			if (err) {
				frame_put(g->frames[i]);
				break;
			}
		}
		if (err) {
			g->count = i;
			gntalloc_release(c, g);
			return err;
		}
		stats.grant_allocs += g->count;
		r->a = g->index;
		memcpy(rdata, g->refs, g->count * 4);
		*rlen = g->count * 4;
		return 0;
	}
	case SIM_GNTALLOC_DEALLOC:
		if (c->kind != SIM_DEV_GNTALLOC)
			return -ENOTTY;
		g = region_find(c, q->a);
		if (!g || !g->reserved || g->count != q->b)
			return -EINVAL;
		g->reserved = false;
		if (!g->mapped)
			gntalloc_release(c, g);
		return 0;
	case SIM_GNTALLOC_MMAP:
		if (c->kind != SIM_DEV_GNTALLOC)
			return -ENOTTY;
		g = region_find(c, q->a);
		if (!g || !g->reserved || g->count != q->b)
			return -EINVAL;
		if (g->mapped)
			return -EBUSY;
		g->mapped = true;
		memcpy(rdata, g->frames, g->count * 8);
		*rlen = g->count * 8;
		return 0;
	case SIM_GNTALLOC_MUNMAP:
		if (c->kind != SIM_DEV_GNTALLOC)
			return -ENOTTY;
		g = region_find(c, q->a);
		if (!g)
			return -EINVAL;
		g->mapped = false;
		if (!g->reserved)
			gntalloc_release(c, g);
		return 0;
	case SIM_GNTALLOC_NOTIFY:
		if (c->kind != SIM_DEV_GNTALLOC)
			return -ENOTTY;
		return set_notify(c, q);
	}
	return -ENOTTY;
}

/* Domains. */

static void fire_dom_exc(void)
{
	struct domain *d0 = &domains[0];

	for (uint32_t p = 1; p < d0->nports; p++)
		if (d0->ports[p].state == P_VIRQ && d0->ports[p].remote_port == SIM_VIRQ_DOM_EXC)
			port_raise(0, p);
}

static int domain_create(uint32_t want, uint32_t *domid, uint32_t *xs_port)
{
	struct domain *d;
	uint32_t id = want, p;
	int err;

	if (want) {
		if (want >= SIM_MAX_DOMAINS || want >= DOMID_SELF)
			return -EINVAL;
		if (domains[want].alive)
			return -EEXIST;
	} else {
		/*
		 * As Xen's XEN_DOMCTL_createdomain: the first free domid after
		 * the last one it chose, wrapping, so that a domid is not
		 * reused at once (a reboot gets a new one).
		 */
		static uint32_t rover;
		uint32_t start = rover + 1 < SIM_MAX_DOMAINS ? rover + 1 : 1;

		for (id = start; domains[id].alive;) {
			if (++id == SIM_MAX_DOMAINS)
				id = 1;
			if (id == start)
				return -ENOSPC;
		}
		rover = id;
	}
	d = &domains[id];
	memset(d, 0, sizeof(*d));
	d->nports = SIM_MAX_PORTS;
	d->ports = calloc(d->nports, sizeof(*d->ports));
	if (!d->ports)
		return -ENOMEM;
	d->alive = true;
	if ((err = frame_alloc(&d->xs_frame)) || (err = port_alloc(d, &p))) {
		free(d->ports);
		d->alive = false;
		return err;
	}
	/* The builder's xenstore event channel, unbound for xenstored (dom0). */
	d->ports[p].state = P_UNBOUND;
	d->ports[p].remote_dom = 0;
	d->xs_port = p;
	if (id != 0) {
		/* GNTTAB_RESERVED_XENSTORE: the xenstore page, for xenstored to map. */
		d->ngrants = 256;
		d->grants = calloc(d->ngrants, sizeof(*d->grants));
		if (!d->grants)
			return -ENOMEM;
		d->grants[SIM_GNTTAB_RESERVED_XENSTORE] =
			(struct grant){ .frame = d->xs_frame, .grantee = 0, .used = true };
	}
	stats.domains++;
	*domid = id;
	*xs_port = p;
	return 0;
}

static int domain_destroy(uint32_t domid)
{
	struct domain *d = dom_get(domid);

	if (!d || domid == 0)
		return -ESRCH;
	/* Its event channels close (peers revert to unbound) ... */
	for (uint32_t p = 1; p < d->nports; p++) {
		if (d->ports[p].state != P_FREE) {
			d->ports[p].refs = 0;
			d->ports[p].is_static = false;
			port_close(domid, p);
		}
	}
	/* ... its grants are revoked; mapped pages live until unmapped. */
	for (struct conn *c = conns; c; c = c->next)
		if (c->domid == domid)
			c->domid = SIM_MAX_DOMAINS; /* dead: every further op fails */
	free(d->grants);
	free(d->ports);
	frame_put(d->xs_frame);
	memset(d, 0, sizeof(*d));
	stats.domains--;
	fire_dom_exc();
	return 0;
}

/* A guest's SCHEDOP_shutdown (here asked for by the toolstack's model): the
 * domain stops, keeps its reason until it is destroyed, and dom0 hears of it
 * through VIRQ_DOM_EXC (xenstored fires @releaseDomain). */
static int domain_shutdown(uint32_t domid, uint64_t reason)
{
	struct domain *d = dom_get(domid);

	if (!d || domid == 0)
		return -ESRCH;
	if (reason > 255)
		return -EINVAL;
	if (d->shutdown)
		return 0;
	d->shutdown = true;
	d->reason = (uint8_t)reason;
	fire_dom_exc();
	return 0;
}

/* Connections. */

static void conn_close(struct conn *c)
{
	struct region *g;

	/* Unmap-notify first: it may need ports this process also owns. */
	while ((g = c->regions)) {
		if (c->kind == SIM_DEV_GNTDEV) {
			gntdev_unmap_pages(c, g);
			region_free(c, g);
		} else {
			gntalloc_release(c, g);
		}
	}
	if (c->domid < SIM_MAX_DOMAINS && domains[c->domid].alive)
		for (uint32_t p = 1; p < domains[c->domid].nports; p++)
			if (domains[c->domid].ports[p].owner == c)
				port_unbind(c->domid, p);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->evfd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->evfd, NULL);
		close(c->evfd);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* Freed after the current batch of events, which may still name it. */
	c->dead = true;
	c->next = graveyard;
	graveyard = c;
}

static void bury(void)
{
	struct conn *c;

	while ((c = graveyard)) {
		graveyard = c->next;
		free(c->outq);
		free(c);
	}
}

static void conn_new(int fd)
{
	struct conn *c = sim_xmalloc(sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	c->fd = fd;
	c->evfd = -1;
	c->kind = SIM_DEV_CONTROL;
	c->domid = SIM_MAX_DOMAINS; /* nothing is allowed before HELLO */
	c->ctl_ep.c = c;
	c->ev_ep.c = c;
	c->ev_ep.is_ev = true;
	c->next_index = 0;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	ev.data.ptr = &c->ctl_ep;
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int hello(struct conn *c, const struct sim_req *q, int passed_fd)
{
	if (c->domid != SIM_MAX_DOMAINS)
		return -EALREADY;
	if (q->a > SIM_DEV_GNTALLOC)
		return -EINVAL;
	if (!dom_get((uint32_t)q->b))
		return -ESRCH;
	c->kind = (enum sim_dev)q->a;
	c->domid = (uint32_t)q->b;
	if (c->kind == SIM_DEV_EVTCHN) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->ev_ep };

		if (passed_fd < 0)
			return -EINVAL;
		c->evfd = passed_fd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, c->evfd, &ev);
	} else if (passed_fd >= 0) {
		close(passed_fd);
	}
	return 0;
}

static void conn_request(struct conn *c)
{
	uint8_t in[SIM_MAX_MSG], out[SIM_MAX_MSG];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { in, sizeof(in) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct sim_req q;
	struct sim_rep r = { 0 };
	struct cmsghdr *cm;
	size_t rlen = 0;
	int passed = -1, err = 0, sendfd = -1;
	ssize_t n;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&passed, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n < sizeof(q)) {
		if (passed >= 0)
			close(passed);
		conn_close(c);
		return;
	}
	memcpy(&q, in, sizeof(q));
	if (q.op == SIM_HELLO) {
		err = hello(c, &q, passed);
		passed = -1;
		sendfd = memfd;
	} else if (c->domid == SIM_MAX_DOMAINS) {
		err = -ESRCH; /* no HELLO yet, or the domain was destroyed */
	} else if (q.op >= SIM_EVTCHN_BIND_UNBOUND && q.op < SIM_GNTDEV_MAP) {
		err = c->kind == SIM_DEV_EVTCHN ? evtchn_op(c, &q, &r) : -ENOTTY;
	} else if (q.op >= SIM_GNTDEV_MAP) {
		err = gnt_op(c, &q, in + sizeof(q), n - sizeof(q), &r,
			     out + sizeof(r), &rlen);
	} else {
		switch (q.op) {
		case SIM_DOMAIN_CREATE: {
			uint32_t id, port;

			err = c->domid == 0 ? domain_create((uint32_t)q.a, &id, &port)
					    : -EPERM;
			if (!err) {
				r.a = id;
				r.b = port;
			}
			break;
		}
		case SIM_DOMAIN_DESTROY:
			err = c->domid == 0 ? domain_destroy((uint32_t)q.a) : -EPERM;
			break;
		case SIM_DOMAIN_SHUTDOWN:
			err = c->domid == 0 ? domain_shutdown((uint32_t)q.a, q.b) : -EPERM;
			break;
		case SIM_DOMAIN_INFO:
			err = -ENOENT;
			for (uint64_t id = q.a; id < SIM_MAX_DOMAINS; id++) {
				if (domains[id].alive) {
					r.a = id;
					if (domains[id].shutdown)
						r.b = SIM_DOMINFO_SHUTDOWN |
						      (uint64_t)domains[id].reason
							      << SIM_DOMINFO_REASON_SHIFT;
					err = 0;
					break;
				}
			}
			break;
		case SIM_STATS:
			memcpy(out + sizeof(r), &stats, sizeof(stats));
			rlen = sizeof(stats);
			break;
		case SIM_XS_PAGE:
			r.a = domains[c->domid].xs_frame;
			r.b = domains[c->domid].xs_port;
			break;
		default:
			err = -ENOTTY;
		}
	}
	if (passed >= 0)
		close(passed);
	if (verbose)
		sim_warn("dom%u conn %p op %u -> %d", c->domid, (void *)c, q.op, err);

	r.err = -err;
	memcpy(out, &r, sizeof(r));
	iov.iov_base = out;
	iov.iov_len = sizeof(r) + rlen;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (sendfd >= 0 && !err) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &sendfd, sizeof(int));
	}
	/* A client that does not read its replies is dropped, never waited for. */
	if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		conn_close(c);
}

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	quit = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: xenchan-sim-hv [-v] [--ready-fd FD]\n"
		   "The hypervisor of an emulated Xen host in $XENCHAN_SIM_DIR.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sact = { .sa_handler = on_signal };
	struct epoll_event ev = { .events = EPOLLIN };
	const char *dir;
	int lfd, ready_fd = -1, o;

	sim_progname = "xenchan-sim-hv";
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			ready_fd = atoi(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	dir = sim_dir();
	{
		/* Every device a process of the host opens is a connection here:
		 * a host of a thousand domains needs more than 1024. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	memfd = memfd_create("xenchan-sim-memory", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)MEM_FRAMES * SIM_PAGE_SIZE) < 0)
		sim_die("memory: %m");
	mem = mmap(NULL, (size_t)MEM_FRAMES * SIM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_NORESERVE, memfd, 0);
	if (mem == MAP_FAILED)
		sim_die("memory: %m");
	frame_refs = calloc(MEM_FRAMES, sizeof(*frame_refs));
	free_frames = calloc(MEM_FRAMES, sizeof(*free_frames));
	if (!frame_refs || !free_frames)
		sim_die("out of memory");
	/* Dom0 is built by hand: domain_create() hands out ids from 1. */
	domains[0].alive = true;
	domains[0].nports = SIM_DOM0_PORTS;
	domains[0].ports = calloc(domains[0].nports, sizeof(*domains[0].ports));
	if (!domains[0].ports || frame_alloc(&domains[0].xs_frame) ||
	    port_alloc(&domains[0], &domains[0].xs_port))
		sim_die("dom0: out of memory");
	domains[0].ports[domains[0].xs_port].state = P_UNBOUND;
	stats.domains++;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv.sock", dir) >=
	    sizeof(sa.sun_path))
		sim_die("%s/hv.sock: path too long for a unix socket", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		sim_die("socket: %m");
	unlink(sa.sun_path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0)
		sim_die("%s: %m", sa.sun_path);

	sigaction(SIGTERM, &sact, NULL);
	sigaction(SIGINT, &sact, NULL);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		sim_die("epoll: %m");
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	if (ready_fd >= 0) {
		if (write(ready_fd, "ready\n", 6) != 6)
			sim_die("ready fd: %m");
		close(ready_fd);
	}

	while (!quit) {
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			sim_die("epoll_wait: %m");
		}
		for (int i = 0; i < n; i++) {
			struct ep *e = evs[i].data.ptr;

			if (!e) {
				int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

				if (fd >= 0)
					conn_new(fd);
				continue;
			}
			struct conn *c = e->c;

			if (c->dead)
				continue;
			if (e->is_ev) {
				if (evs[i].events & EPOLLOUT)
					conn_flush_events(c);
				if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
				    conn_read_unmasks(c) < 0)
					conn_close(c);
			} else {
				conn_request(c);
			}
		}
		bury();
	}
	unlink(sa.sun_path);
	return 0;
}
