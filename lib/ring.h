/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The console ring (struct xencons_interface, <xen/io/console.h>) from the
 * backend's side: consume what the guest produced in out[], produce into in[].
 *
 * The page is shared with the guest, which may change any byte of it at any
 * time.  Every index the guest owns (out_prod, in_cons) is read exactly once
 * per call into a local, then a barrier, and only the local is used
 * (XSA-155).  The backend's own indices (in_prod, out_cons) are kept in
 * struct xc_ring and only ever written to the page, never read back, so a
 * guest scribbling over them cannot steer the backend.  A distance between
 * indices larger than the ring is a hostile or broken peer: -EPROTO, and
 * nothing is read from or written to the ring (XSA-86).  Once -EPROTO has
 * been returned the ring stays broken: every later call returns -EPROTO.
 *
 * Notifications.  The ring has no event index, so whether the guest must be
 * told is decided here, conservatively (no lost wake-up), and counted:
 *  - towards the guest after producing: the guest learns of new data only
 *    through an event, and it may have read in_prod just before we moved
 *    it, so every batch of produced bytes gets one event unless the guest
 *    already consumed all of it.  Batch by calling xc_ring_produce() as
 *    often as wanted and xc_ring_in_notify() once before waiting.
 *  - towards the guest after consuming: a guest only waits for an event when
 *    it saw out[] full, and it saw it full against the out_cons we published
 *    last (it publishes out_prod, notifies us, then re-reads out_cons, as
 *    Linux's hvc_xen does), so an event is owed exactly when out_prod has
 *    reached that out_cons + sizeof(out).
 *
 * Nothing here blocks, allocates, or sends events: the caller does, when
 * a function says so.  Not thread-safe: one xc_ring per backend.
 */
#ifndef XENCHAN_RING_H
#define XENCHAN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/io/console.h>

#define XC_RING_IN_SIZE (sizeof(((struct xencons_interface *)0)->in))
#define XC_RING_OUT_SIZE (sizeof(((struct xencons_interface *)0)->out))

struct xc_ring_stats {
	uint64_t consumed; /* bytes taken from out[] */
	uint64_t produced; /* bytes put into in[] */
	uint64_t notify_in; /* events owed after producing */
	uint64_t notify_out; /* events owed after consuming */
	uint64_t notify_skipped; /* produced batches the guest took before we told it */
};

struct xc_ring {
	struct xencons_interface *intf; /* borrowed: the mapped page */
	XENCONS_RING_IDX in_prod; /* ours: the page's copy is write-only */
	XENCONS_RING_IDX out_cons; /* ours: likewise */
	XENCONS_RING_IDX in_notified; /* in_prod when the guest was last told */
	XENCONS_RING_IDX out_notified; /* out_cons as published before the last consume */
	bool broken; /* impossible indices seen */
	struct xc_ring_stats stats;
};

/*
 * Start serving intf.  Our indices are taken from the page once (a ring
 * served before, by a backend that went away, keeps its position).  With
 * discard_backlog, whatever the guest wrote before now is skipped.  Returns
 * 0, or -EPROTO when the page's indices are impossible.
 */
int xc_ring_init(struct xc_ring *r, struct xencons_interface *intf, bool discard_backlog);

/*
 * Take up to len bytes of guest output from out[].  Returns the count
 * (0 when out[] is empty), or -EPROTO.  *notify (may be NULL) is set to
 * whether the caller must now send the guest an event (counted).
 */
ssize_t xc_ring_consume(struct xc_ring *r, void *buf, size_t len, bool *notify);

/*
 * Put up to len bytes into in[].  Returns the count (0 when in[] is full),
 * or -EPROTO.  Sends nothing: call xc_ring_in_notify() after a batch.
 */
ssize_t xc_ring_produce(struct xc_ring *r, const void *buf, size_t len);

/*
 * Whether the guest must be sent an event now for bytes produced since the
 * last one (true is counted, and assumes the caller sends it).  A broken
 * ring never asks for one.
 */
bool xc_ring_in_notify(struct xc_ring *r);

/*
 * Bytes produced into in[] that the guest has not consumed yet (the
 * delivery proof: everything else was taken by the guest).  0 or -EPROTO.
 */
int xc_ring_in_pending(struct xc_ring *r, uint32_t *n);

#endif
