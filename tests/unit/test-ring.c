/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/ring.c: the console ring from the backend's side, on a page in plain
 * memory playing the guest by hand.  Table-driven consume/produce across the
 * wrap of the buffers and of the 32-bit indices, full and empty rings,
 * impossible indices (-EPROTO, nothing copied), notification decisions, and
 * a thread changing the guest's indices while the backend runs (built with
 * --enable-asan this proves no access outside the page).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "ring.h"
#include "tap.h"

#define OUT XC_RING_OUT_SIZE
#define IN XC_RING_IN_SIZE

/* A page of its own, so ASan's redzones sit right after the interface. */
static struct xencons_interface *page_new(void)
{
	struct xencons_interface *p = malloc(sizeof(*p));

	if (!p)
		tap_bail("out of memory");
	memset(p, 0, sizeof(*p));
	return p;
}

/* The guest writes n bytes of pattern starting at index prod into out[]. */
static void guest_put(struct xencons_interface *p, uint32_t n, unsigned char seed)
{
	uint32_t prod = p->out_prod;

	for (uint32_t i = 0; i < n; i++)
		p->out[MASK_XENCONS_IDX(prod + i, p->out)] = (char)(seed + i);
	p->out_prod = prod + n;
}

struct consume_case {
	const char *what;
	uint32_t start; /* out_cons = out_prod = start, then the guest writes */
	uint32_t avail; /* bytes the guest writes */
	size_t len; /* the backend's buffer */
	ssize_t want;
};

static const struct consume_case consume_cases[] = {
	{ "empty ring", 0, 0, 100, 0 },
	{ "one byte", 0, 1, 100, 1 },
	{ "buffer smaller than data", 0, 500, 100, 100 },
	{ "full ring", 0, OUT, 4096, OUT },
	{ "full ring, small buffer", 0, OUT, 1, 1 },
	{ "wrap of out[]", OUT - 10, 100, 4096, 100 },
	{ "full ring across out[]'s end", OUT - 1, OUT, 4096, OUT },
	{ "wrap of the 32-bit index", 0xffffff00u, 1000, 4096, 1000 },
	{ "full at the 32-bit wrap", 0xfffffff0u, OUT, 4096, OUT },
	{ "zero-length read", 5, 10, 0, 0 },
};

static void test_consume(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(consume_cases); i++) {
		const struct consume_case *c = &consume_cases[i];
		struct xencons_interface *p = page_new();
		unsigned char buf[4096];
		struct xc_ring r;
		bool ok = true;
		ssize_t n;

		p->out_cons = p->out_prod = c->start;
		guest_put(p, c->avail, (unsigned char)i);
		ok = xc_ring_init(&r, p, false) == 0;
		memset(buf, 0xee, sizeof(buf));
		n = xc_ring_consume(&r, buf, c->len, NULL);
		ok = ok && n == c->want;
		for (ssize_t k = 0; ok && k < n; k++)
			ok = buf[k] == (unsigned char)((unsigned char)i + k);
		ok = ok && (n < 0 || (size_t)n == sizeof(buf) || buf[n] == 0xee);
		ok = ok && p->out_cons == c->start + (uint32_t)(n > 0 ? n : 0);
		tap_ok(ok, "consume: %s: %zd bytes, out_cons advanced", c->what, n);
		/* The rest comes out on the next call, in order. */
		if (n >= 0 && (uint32_t)n < c->avail && c->len) {
			ssize_t m = xc_ring_consume(&r, buf, sizeof(buf), NULL);

			tap_ok(m == (ssize_t)(c->avail - (uint32_t)n) &&
				       buf[0] == (unsigned char)((unsigned char)i + n),
			       "consume: %s: the remainder follows", c->what);
		}
		free(p);
	}
}

struct produce_case {
	const char *what;
	uint32_t start; /* in_prod = in_cons = start */
	uint32_t used; /* already in the ring, not consumed */
	size_t len;
	ssize_t want;
};

static const struct produce_case produce_cases[] = {
	{ "empty ring", 0, 0, 10, 10 },
	{ "fills exactly", 0, 0, IN, IN },
	{ "more than fits", 0, 0, 5000, IN },
	{ "full ring", 0, IN, 10, 0 },
	{ "partly full", 0, 1000, 100, 24 },
	{ "wrap of in[]", IN - 3, 0, 10, 10 },
	{ "wrap of the 32-bit index", 0xfffffffeu, 0, 600, 600 },
	{ "zero length", 7, 0, 0, 0 },
};

static void test_produce(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(produce_cases); i++) {
		const struct produce_case *c = &produce_cases[i];
		struct xencons_interface *p = page_new();
		unsigned char buf[5000];
		struct xc_ring r;
		uint32_t pend = 99;
		bool ok;
		ssize_t n;

		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (unsigned char)(k * 3 + 1);
		p->in_cons = c->start;
		p->in_prod = c->start + c->used;
		ok = xc_ring_init(&r, p, false) == 0;
		n = xc_ring_produce(&r, buf, c->len);
		ok = ok && n == c->want && p->in_prod == c->start + c->used + (uint32_t)n;
		for (ssize_t k = 0; ok && k < n; k++)
			ok = (unsigned char)p->in[MASK_XENCONS_IDX(
				     c->start + c->used + (uint32_t)k, p->in)] == buf[k];
		ok = ok && xc_ring_in_pending(&r, &pend) == 0 &&
		     pend == c->used + (uint32_t)n;
		tap_ok(ok, "produce: %s: %zd bytes, %u pending", c->what, n, pend);
		free(p);
	}
}

struct bad_case {
	const char *what;
	uint32_t cons, prod;
};

/* Distances a guest cannot honestly produce. */
static const struct bad_case bad_cases[] = {
	{ "prod far ahead", 0, 0x10000 },
	{ "prod one past full", 100, 100 + OUT + 1 },
	{ "prod behind cons", 100, 99 },
	{ "prod behind across the wrap", 5, 0xfffffff0u },
	{ "prod at 2^31 distance", 0, 0x80000000u },
};

static void test_impossible(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct xencons_interface *p = page_new();
		unsigned char buf[4096];
		struct xc_ring r;
		bool ok = true, untouched = true;
		uint32_t pend;

		/* Honest at attach time; the guest lies afterwards. */
		p->out_cons = p->out_prod = c->cons;
		ok = xc_ring_init(&r, p, false) == 0;
		p->out_prod = c->prod;
		memset(buf, 0xee, sizeof(buf));
		ok = ok && xc_ring_consume(&r, buf, sizeof(buf), NULL) == -EPROTO;
		for (size_t k = 0; k < sizeof(buf); k++)
			untouched = untouched && buf[k] == 0xee;
		ok = ok && untouched && p->out_cons == c->cons;
		/* Broken for good, even if the guest puts things back. */
		p->out_prod = c->cons;
		ok = ok && xc_ring_consume(&r, buf, sizeof(buf), NULL) == -EPROTO &&
		     xc_ring_produce(&r, buf, 1) == -EPROTO && !xc_ring_in_notify(&r) &&
		     xc_ring_in_pending(&r, &pend) == -EPROTO;
		tap_ok(ok, "out[]: %s: -EPROTO, nothing copied, stays broken", c->what);

		/* The same lies about in_cons. */
		memset(p, 0, sizeof(*p));
		p->in_cons = p->in_prod = c->cons;
		ok = xc_ring_init(&r, p, false) == 0;
		/* For in[] the guest moves cons: put it where prod - cons is c's. */
		p->in_cons = c->cons - (c->prod - c->cons);
		memset(p->in, 0x55, sizeof(p->in));
		ok = ok && xc_ring_produce(&r, buf, sizeof(buf)) == -EPROTO &&
		     xc_ring_in_pending(&r, &pend) == -EPROTO && p->in_prod == c->cons;
		for (size_t k = 0; k < IN; k++)
			ok = ok && p->in[k] == 0x55;
		tap_ok(ok, "in[]: %s: -EPROTO, nothing written", c->what);

		/* And at attach time. */
		memset(p, 0, sizeof(*p));
		p->out_cons = c->cons;
		p->out_prod = c->prod;
		tap_ok(xc_ring_init(&r, p, false) == -EPROTO &&
			       xc_ring_consume(&r, buf, 1, NULL) == -EPROTO,
		       "attach: %s: -EPROTO", c->what);
		free(p);
	}
}

static void test_backlog(void)
{
	struct xencons_interface *p = page_new();
	unsigned char buf[16];
	struct xc_ring r;

	guest_put(p, 100, 1);
	tap_ok(xc_ring_init(&r, p, true) == 0 && p->out_cons == 100 &&
		       xc_ring_consume(&r, buf, sizeof(buf), NULL) == 0,
	       "discard_backlog skips what the guest wrote before");
	guest_put(p, 3, 7);
	tap_ok(xc_ring_consume(&r, buf, sizeof(buf), NULL) == 3 && buf[0] == 7,
	       "and later output arrives");
	free(p);
}

static void test_notify(void)
{
	struct xencons_interface *p = page_new();
	unsigned char buf[4096] = { 0 };
	struct xc_ring r;
	bool n1, n2;

	xc_ring_init(&r, p, false);
	/* in[]: one event per batch the guest has not taken yet. */
	tap_ok(!xc_ring_in_notify(&r), "in: nothing produced, no event");
	xc_ring_produce(&r, buf, 10);
	xc_ring_produce(&r, buf, 10);
	tap_ok(xc_ring_in_notify(&r) && r.stats.notify_in == 1,
	       "in: one event for a batch");
	tap_ok(!xc_ring_in_notify(&r), "in: no second event for the same bytes");
	xc_ring_produce(&r, buf, 5);
	p->in_cons = p->in_prod; /* the guest was already reading: took it all */
	tap_ok(!xc_ring_in_notify(&r) && r.stats.notify_skipped == 1,
	       "in: no event when the guest consumed the batch already");
	p->in_cons -= 0; /* consumed */
	xc_ring_produce(&r, buf, 5);
	tap_ok(xc_ring_in_notify(&r), "in: event for a new batch");

	/* out[]: an event only when the guest may have seen the ring full. */
	memset(p, 0, sizeof(*p));
	xc_ring_init(&r, p, false);
	guest_put(p, 100, 0);
	xc_ring_consume(&r, buf, sizeof(buf), &n1);
	tap_ok(!n1, "out: no event when the ring was never full");
	guest_put(p, OUT, 0);
	xc_ring_consume(&r, buf, 10, &n1);
	xc_ring_consume(&r, buf, 10, &n2);
	tap_ok(n1 && !n2 && r.stats.notify_out == 1,
	       "out: one event after the guest filled the ring, not two");
	xc_ring_consume(&r, buf, sizeof(buf), &n1);
	tap_ok(!n1, "out: draining the rest needs no further event");
	/* A slow guest: small writes that add up to a ring's worth since the
	 * last event may have been a full ring at some point. */
	{
		unsigned events = 0;

		for (int k = 0; k < 64; k++) {
			guest_put(p, 64, 0);
			xc_ring_consume(&r, buf, sizeof(buf), &n1);
			events += n1;
		}
		tap_ok(events == 0,
		       "out: a guest that never fills the ring gets no event (%u)",
		       events);
	}
	free(p);
}

/* ---- a guest changing its indices while the backend runs ---- */

struct flap {
	struct xencons_interface *p;
	volatile int stop;
	volatile int started;
};

static void *flapper(void *arg)
{
	struct flap *f = arg;
	uint32_t i = 0;

	f->started = 1;
	while (!f->stop) {
		uint32_t oc = __atomic_load_n(&f->p->out_cons, __ATOMIC_RELAXED);
		uint32_t ip = __atomic_load_n(&f->p->in_prod, __ATOMIC_RELAXED);
		static const uint32_t deltas[] = { 1, 0x10000, OUT,	    0xffffffffu,
						   7, OUT + 1, 0x80000000u, 0 };
		uint32_t dlt = deltas[i % ARRAY_SIZE(deltas)];

		__atomic_store_n(&f->p->out_prod, oc + dlt, __ATOMIC_RELAXED);
		__atomic_store_n(&f->p->in_cons, ip - dlt, __ATOMIC_RELAXED);
		i++;
	}
	return NULL;
}

static void test_flapping(void)
{
	struct flap f = { .p = page_new() };
	unsigned char buf[4096], data[4096];
	unsigned long calls = 0, eproto = 0, bytes = 0, too_many = 0;
	bool only_out = true, in_clean = true;
	pthread_t th;

	memset(f.p->out, 'O', sizeof(f.p->out));
	memset(data, 'P', sizeof(data));
	if (pthread_create(&th, NULL, flapper, &f) != 0)
		tap_bail("pthread_create");
	while (!f.started)
		sched_yield();
	/* At least 20000 rounds, and until the lies were seen often (5 s at most). */
	for (time_t end = time(NULL) + 5;
	     (calls < 20000 * 8 || eproto < 1000 || bytes == 0) && time(NULL) < end;) {
		struct xc_ring r;
		ssize_t n;
		uint32_t pend;

		/* Attach may fail too: the indices are garbage. */
		if (xc_ring_init(&r, f.p, false) < 0) {
			eproto++;
			continue;
		}
		for (int k = 0; k < 8; k++) {
			calls++;
			n = xc_ring_consume(&r, buf, sizeof(buf), NULL);
			if (n == -EPROTO) {
				eproto++;
				break;
			}
			if (n > (ssize_t)OUT)
				too_many++;
			for (ssize_t j = 0; j < n; j++)
				only_out = only_out && buf[j] == 'O';
			bytes += n > 0 ? (unsigned long)n : 0;
			n = xc_ring_produce(&r, data, sizeof(data));
			if (n > (ssize_t)IN)
				too_many++;
			(void)xc_ring_in_pending(&r, &pend);
			(void)xc_ring_in_notify(&r);
		}
	}
	f.stop = 1;
	pthread_join(th, NULL);
	for (size_t k = 0; k < OUT; k++)
		in_clean = in_clean && f.p->out[k] == 'O';
	tap_ok(only_out && in_clean && !too_many,
	       "flapping indices: %lu calls, %lu bytes read, %lu -EPROTO; only out[] read, "
	       "only in[] written, never more than a ring",
	       calls, bytes, eproto);
	tap_ok(eproto > 0, "flapping indices are noticed");
	free(f.p);
}

int main(void)
{
	test_consume();
	test_produce();
	test_impossible();
	test_backlog();
	test_notify();
	test_flapping();
	return tap_done_trailing_plan();
}
