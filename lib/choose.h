/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Picking a transport for a channel name: the channel itself (a console ring
 * behind qemu's socket or pty, or xenchan's own backend) or a vchan endpoint
 * the guest publishes for that name, by the bandwidth the caller asks for.
 *
 * Pure: no I/O, nothing blocks, nothing is allocated.
 */
#ifndef XENCHAN_CHOOSE_H
#define XENCHAN_CHOOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"

/*
 * What a console ring is assumed to carry, in bytes per second: a rate asked
 * for above it picks vchan.  From the measurements in tests/bench (the
 * emulated rings move a few MiB/s through qemu's socket; real Xen under
 * emulation less): the channel design's own "a few MB/s".
 */
#define XC_RING_RATE_DEFAULT (4ull * 1024 * 1024)

struct xc_choice {
	const struct xc_channel *channel; /* into the array given */
	bool fell_back;                   /* vchan wanted, channel used */
	char reason[256];                 /* for -v and messages; plain ASCII */
};

/*
 * Choose among v[0..n) (a domain's channels, as xc_channel_list gives them)
 * for channel `name`.
 *   forced:    a transport the caller insists on, or XC_TRANSPORT_UNKNOWN;
 *   rate:      bytes per second the caller needs, 0 when not stated;
 *   threshold: XC_RING_RATE_DEFAULT or the caller's;
 *   strict:    fail instead of falling back to the channel.
 * The channel is found with xc_channel_find() (trusted first).
 * Returns 0, -ENOENT (no such channel, or none of the forced transport: the
 * reason says which transport is missing and which the name has),
 * -ENOTUNIQ (several untrusted candidates), or
 * -ENOTSUP (vchan was needed but is not offered, and strict, or there is no
 * console channel to fall back to).  The reason is filled in either way.
 */
int xc_choose(const struct xc_channel *v, size_t n, const char *name,
	      enum xc_transport forced, uint64_t rate, uint64_t threshold, bool strict,
	      struct xc_choice *out);

#endif
