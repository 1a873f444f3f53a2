/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The xenstore side of a channel xenchan hotplugs into a running guest: the
 * nodes libxl writes for a channel's console device, in three directories,
 *
 *   frontend  /local/domain/<domid>/device/console/<devid>/
 *             the guest owns the directory and the xenbus keys (backend,
 *             backend-id, state, protocol); name, limit, type, output and
 *             tty are dom0's, read-only for the guest (XSA-57);
 *   backend   /local/domain/0/backend/console/<domid>/<devid>/
 *             dom0's, read-only for the guest;
 *   trusted   /libxl/<domid>/device/console/<devid>/
 *             the toolstack's copy, dom0's only,
 *
 * with the frontend's type and output and the connection of the other two
 * XC_DIRECT_TYPE, and every state Initialising.  Whoever serves the channel
 * drives the states from there (lib/direct.c).  Nothing here waits for the
 * guest.
 *
 * Blocking: every function that takes a store blocks on xenstore round
 * trips.  Arguments are only borrowed for the call.  Errors are negative
 * errnos, those of lib/store.c unless stated.
 */
#ifndef XENCHAN_HOTPLUG_H
#define XENCHAN_HOTPLUG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Highest devid a hotplugged channel may get (Linux hvc_xen's limit: it
 * reads the device number from the last character of the node name). */
#define XC_DIRECT_MAX_DEVID 9u

/* The frontend type and backend connection xenchan writes for its channels. */
#define XC_DIRECT_TYPE "xenchan"

/* The three directories of a channel's console device. */
enum xc_hotplug_dir {
	XC_HOTPLUG_FRONTEND,
	XC_HOTPLUG_BACKEND,
	XC_HOTPLUG_TRUSTED,
};

/* Room for the longest path xc_hotplug_path() formats, NUL included. */
#define XC_HOTPLUG_PATH_MAX 64

/*
 * Format the path of directory dir of console device devid of domain domid
 * into buf (size bytes).  The one place these paths are spelled.  -EINVAL
 * for an unknown dir, -ENAMETOOLONG when buf is too small (it then holds a
 * truncated path).  Does not block.
 */
int xc_hotplug_path(enum xc_hotplug_dir dir, uint32_t domid, uint32_t devid, char *buf,
		    size_t size);

/*
 * Hotplug a channel named name into domain domid: in one transaction (run
 * again, at most 5 more times, when it meets a concurrent change), take the
 * lowest devid in 1..XC_DIRECT_MAX_DEVID that none of the domain's three
 * directories lists, even half-removed (0 is the primary console), and
 * write its frontend, backend and trusted nodes.  On success *devid gets it;
 * on failure nothing is written and *devid is left alone.
 *
 * name is written as given: the caller validates it
 * (xc_channel_name_valid()).  The domain is not looked up first, but
 * xenstored gives no node to a domain it does not know: that is an error
 * (-ENOENT from cxenstored) and nothing is written.  -EINVAL for domid 0, a
 * domid above XC_DOMID_MAX or a NULL name, -ENOSPC when every devid up to
 * XC_DIRECT_MAX_DEVID is taken.
 */
int xc_hotplug_add(struct xc_store *st, uint32_t domid, const char *name,
		   uint32_t *devid);

/*
 * Remove the frontend, backend and trusted directories of console device
 * devid of domain domid, in one transaction (retried as above).  Directories
 * already gone are not an error.  It does not look at what it removes nor
 * take the device through Closing and Closed: that is the caller's part
 * (lib/direct.c).  -EINVAL for domid 0, a domid above XC_DOMID_MAX or devid
 * 0 (the primary console is never a channel).
 */
int xc_hotplug_remove(struct xc_store *st, uint32_t domid, uint32_t devid);

#endif
