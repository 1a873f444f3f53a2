/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "ring.h"

/*
 * XSA-155: a shared index is loaded once, with a single access the compiler
 * may neither split nor repeat, and only the local copy is used afterwards.
 */
static inline XENCONS_RING_IDX load_once(const XENCONS_RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store_once(XENCONS_RING_IDX *p, XENCONS_RING_IDX v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static int broken(struct xc_ring *r, const char *what, XENCONS_RING_IDX prod,
		  XENCONS_RING_IDX cons)
{
	if (!r->broken)
		xc_warn("console ring: impossible %s indices (prod %u, cons %u): "
			"the guest is broken or hostile",
			what, prod, cons);
	r->broken = true;
	return -EPROTO;
}

int xc_ring_init(struct xc_ring *r, struct xencons_interface *intf, bool discard_backlog)
{
	XENCONS_RING_IDX in_cons, in_prod, out_cons, out_prod;

	memset(r, 0, sizeof(*r));
	r->intf = intf;
	in_cons = load_once(&intf->in_cons);
	in_prod = load_once(&intf->in_prod);
	out_cons = load_once(&intf->out_cons);
	out_prod = load_once(&intf->out_prod);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (in_prod - in_cons > XC_RING_IN_SIZE)
		return broken(r, "in[]", in_prod, in_cons);
	if (out_prod - out_cons > XC_RING_OUT_SIZE)
		return broken(r, "out[]", out_prod, out_cons);
	r->in_prod = r->in_notified = in_prod;
	r->out_cons = r->out_notified = out_cons;
	if (discard_backlog && out_prod != out_cons) {
		r->out_cons = out_prod;
		store_once(&intf->out_cons, out_prod);
	}
	return 0;
}

ssize_t xc_ring_consume(struct xc_ring *r, void *buf, size_t len, bool *notify)
{
	struct xencons_interface *intf = r->intf;
	XENCONS_RING_IDX prod, cons = r->out_cons, avail, now;
	size_t n, done = 0;

	if (notify)
		*notify = false;
	if (r->broken)
		return -EPROTO;
	prod = load_once(&intf->out_prod);
	/* Read the data only after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	avail = prod - cons;
	if (avail > XC_RING_OUT_SIZE)
		return broken(r, "out[]", prod, cons);
	if (avail > len)
		avail = (XENCONS_RING_IDX)len;
	while (done < avail) {
		size_t off = MASK_XENCONS_IDX(cons, intf->out);

		/* off < sizeof(out), n <= sizeof(out) - off: always inside out[]. */
		n = XC_RING_OUT_SIZE - off;
		if (n > avail - done)
			n = avail - done;
		memcpy((char *)buf + done, intf->out + off, n);
		done += n;
		cons += (XENCONS_RING_IDX)n;
	}
	if (!done)
		return 0;
	/* Finish reading the data before handing its space back. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r->out_cons = cons;
	store_once(&intf->out_cons, cons);
	r->stats.consumed += done;

	/*
	 * Does the guest wait for room?  It waits only after it saw out[]
	 * full against the out_cons we published before this call: out_prod
	 * reached that + sizeof(out).  This second load decides nothing but
	 * whether to send an event.  The guest publishes out_prod, notifies
	 * us (a full barrier: a hypercall in Linux) and only then re-reads
	 * out_cons; we store out_cons, full barrier, load out_prod.  So either
	 * we see its ring full here, or it sees our new out_cons and does not
	 * wait.  A ring it fills later is followed by its event, and the next
	 * call sees it.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	now = load_once(&intf->out_prod);
	if ((XENCONS_RING_IDX)(now - r->out_notified) >= XC_RING_OUT_SIZE) {
		r->stats.notify_out++;
		if (notify)
			*notify = true;
	}
	r->out_notified = cons;
	return (ssize_t)done;
}

ssize_t xc_ring_produce(struct xc_ring *r, const void *buf, size_t len)
{
	struct xencons_interface *intf = r->intf;
	XENCONS_RING_IDX cons, prod = r->in_prod, used, space;
	size_t n, done = 0;

	if (r->broken)
		return -EPROTO;
	cons = load_once(&intf->in_cons);
	/* The guest's reads of the space it freed come before our writes to it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	used = prod - cons;
	if (used > XC_RING_IN_SIZE)
		return broken(r, "in[]", prod, cons);
	space = XC_RING_IN_SIZE - used;
	if (space > len)
		space = (XENCONS_RING_IDX)len;
	while (done < space) {
		size_t off = MASK_XENCONS_IDX(prod, intf->in);

		n = XC_RING_IN_SIZE - off;
		if (n > space - done)
			n = space - done;
		memcpy(intf->in + off, (const char *)buf + done, n);
		done += n;
		prod += (XENCONS_RING_IDX)n;
	}
	if (!done)
		return 0;
	/* The data before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->in_prod = prod;
	store_once(&intf->in_prod, prod);
	r->stats.produced += done;
	return (ssize_t)done;
}

bool xc_ring_in_notify(struct xc_ring *r)
{
	XENCONS_RING_IDX cons;

	if (r->broken || r->in_prod == r->in_notified)
		return false;
	/* in_prod is published (store above) before we look at in_cons. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	cons = load_once(&r->intf->in_cons);
	r->in_notified = r->in_prod;
	if (cons == r->in_prod) {
		/* The guest stored in_cons == in_prod: it read our in_prod, so
		 * it saw every byte; an event would only wake it for nothing. */
		r->stats.notify_skipped++;
		return false;
	}
	r->stats.notify_in++;
	return true;
}

int xc_ring_in_pending(struct xc_ring *r, uint32_t *n)
{
	XENCONS_RING_IDX cons, used;

	if (r->broken)
		return -EPROTO;
	cons = load_once(&r->intf->in_cons);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	used = r->in_prod - cons;
	if (used > XC_RING_IN_SIZE)
		return broken(r, "in[]", r->in_prod, cons);
	*n = used;
	return 0;
}


