/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "direct" transport: xenchan is the channel's backend.  It maps the
 * guest's console ring, binds its event channel and drives the xenbus state
 * machine itself, so a channel needs no device model and can be hotplugged
 * into a running guest.
 *
 * xc_direct_open() (declared in stream-internal.h, called through
 * xc_stream_open()) serves:
 *  - a channel whose frontend `type` is "xenchan" (created by xenchan, maybe
 *    by a process that died: re-attaching is how it is recovered), given by
 *    c->devid; or
 *  - with opts->create, a new channel named c->name hotplugged into domain
 *    c->domid (c->devid 0, or a devid that does not exist): the next devid
 *    >= 1 free in the frontend, backend and /libxl directories, written in
 *    one transaction as libxl writes a channel, with type=xenchan and
 *    connection=xenchan.  A channel of that name that xenchan already
 *    serves is re-attached instead, and adopted: the caller holds the lock
 *    by domain and name, so whoever added it died (SIGKILL), and it is
 *    removed on close as if this stream had added it.  -ENOSPC past devid 9
 *    (Linux hvc_xen reads the device number from the last character of
 *    the node name),
 *    -EEXIST for a name another backend serves.
 * It never touches a channel of another type (ioemu, xenconsoled): -ENOTSUP.
 *
 * Blocking: the open blocks on xenstore until the guest's frontend is
 * Connected, bounded by opts->timeout_ms (-ETIMEDOUT); close blocks at most
 * about a second waiting for the frontend to close.  The stream itself never
 * blocks.  It keeps its own xenstore connection (watches on the frontend and
 * @releaseDomain), event channel and grant handles; xc_stream_poll() names
 * one epoll descriptor that covers them all.
 *
 * On close, a channel this stream hotplugged or adopted is taken through
 * Closing and Closed and its frontend, backend and /libxl nodes are removed.
 * A channel it re-attached to by devid (without create) is left as a crashed
 * server leaves it (type xenchan, guest's port unbound), for the next server
 * or for xc_direct_remove().
 */
#ifndef XENCHAN_DIRECT_H
#define XENCHAN_DIRECT_H

#include <stdint.h>

#include "hotplug.h" /* XC_DIRECT_MAX_DEVID, XC_DIRECT_TYPE, the nodes written */
#include "ring.h"
#include "store.h"
#include "stream-internal.h"

struct xc_direct_stats {
	struct xc_ring_stats ring;
	uint64_t notify_other; /* events sent on connecting (a guest left waiting) */
	uint32_t devid; /* the channel's devid (useful after create) */
};

/* Counters of a direct stream; -EINVAL when s is not one. */
int xc_direct_stats(struct xc_stream *s, struct xc_direct_stats *out);

/*
 * Remove the xenchan channel devid of domain domid: backend Closing, wait
 * (about a second at most) for the frontend to close, backend Closed, then
 * remove its frontend, backend and /libxl nodes.  For the channels a
 * crashed server left behind; do not call it while a server holds the
 * channel.  -ENOENT when it does not exist, -ENOTSUP when it is not a
 * xenchan channel.  Blocks on xenstore.
 */
int xc_direct_remove(struct xc_store *st, uint32_t domid, uint32_t devid);

#endif
