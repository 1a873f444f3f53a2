/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the console ring consumer and producer (lib/ring.c):
 * the input is a guest's behaviour, a sequence of 5-byte steps (an opcode
 * and a little-endian 32-bit value) that write the shared indices and data
 * of a fake page, interleaved with the backend's calls.
 *
 *	0 out_prod = out_cons + v     5 produce(v % 5000 bytes)
 *	1 out_prod = v                6 in_notify()
 *	2 in_cons = v                 7 in_pending()
 *	3 in_cons = in_prod - v       8 re-attach (discard backlog if v & 1)
 *	4 consume(v % 5000 bytes)     9 the guest scribbles over out_cons/in_prod
 *
 * The page and every buffer are allocated at their exact size, so ASan sees
 * any access outside them.  Checked besides: no call moves more than the
 * ring holds or the caller asked for, the backend's indices advance by
 * exactly what was moved, nothing but in[] is written, a broken ring stays
 * broken.  A broken promise aborts.
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz"; make check links it with
 * replay.c instead and replays tests/fuzz/corpus/ring.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LEN 5000u

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xencons_interface *p = calloc(1, sizeof(*p));
	unsigned char *buf = malloc(MAX_LEN);
	unsigned char *src = malloc(MAX_LEN);
	unsigned char out_copy[XC_RING_OUT_SIZE];
	struct xc_ring r;
	bool attached;

	if (!p || !buf || !src)
		abort();
	for (size_t i = 0; i < MAX_LEN; i++)
		src[i] = (unsigned char)(i * 13 + 5);
	attached = xc_ring_init(&r, p, false) == 0;
	check(attached);

	for (size_t off = 0; off + 5 <= size; off += 5) {
		uint8_t op = data[off] % 10;
		uint32_t v = (uint32_t)data[off + 1] | (uint32_t)data[off + 2] << 8 |
			     (uint32_t)data[off + 3] << 16 |
			     (uint32_t)data[off + 4] << 24;
		bool was_broken = attached && r.broken;
		ssize_t n;
		uint32_t pend, before;
		size_t len = v % MAX_LEN;
		unsigned char *b;

		switch (op) {
		case 0:
			p->out_prod = p->out_cons + v;
			break;
		case 1:
			p->out_prod = v;
			break;
		case 2:
			p->in_cons = v;
			break;
		case 3:
			p->in_cons = p->in_prod - v;
			break;
		case 4:
			if (!attached)
				break;
			/* A buffer of exactly len bytes: ASan watches its end. */
			b = malloc(len ? len : 1);
			if (!b)
				abort();
			before = r.out_cons;
			n = xc_ring_consume(&r, b, len, NULL);
			check(n == -EPROTO || (n >= 0 && (size_t)n <= len &&
					       (size_t)n <= XC_RING_OUT_SIZE));
			check(n < 0 ? r.out_cons == before
				    : r.out_cons == before + (uint32_t)n);
			check(!was_broken || n == -EPROTO);
			free(b);
			break;
		case 5:
			if (!attached)
				break;
			memcpy(out_copy, p->out, sizeof(out_copy));
			before = r.in_prod;
			n = xc_ring_produce(&r, src, len);
			check(n == -EPROTO || (n >= 0 && (size_t)n <= len &&
					       (size_t)n <= XC_RING_IN_SIZE));
			check(n < 0 ? r.in_prod == before
				    : r.in_prod == before + (uint32_t)n);
			check(memcmp(out_copy, p->out, sizeof(out_copy)) == 0);
			check(!was_broken || n == -EPROTO);
			break;
		case 6:
			if (attached)
				check(!xc_ring_in_notify(&r) || !r.broken);
			break;
		case 7:
			if (!attached)
				break;
			if (xc_ring_in_pending(&r, &pend) == 0)
				check(pend <= XC_RING_IN_SIZE && !was_broken);
			else
				check(r.broken);
			break;
		case 8:
			attached = xc_ring_init(&r, p, v & 1) == 0;
			break;
		case 9:
			p->out_cons = v;
			p->in_prod = ~v;
			break;
		}
	}
	free(p);
	free(buf);
	free(src);
	return 0;
}
