/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vchan endpoints: the shared naming convention and the transport over the
 * real libxenvchan.
 *
 * An endpoint lives at /local/domain/<server>/data/vchan/<client>/<port>
 * (libxenvchan.h, ocaml-vchan's xencat, Qubes).  libxenvchan builds its key
 * paths in a 64-byte buffer and silently truncates longer ones, and xencat
 * accepts ports of [a-zA-Z0-9_-] only; so the port is the channel name when
 * it is of that alphabet and fits, and otherwise "xc" followed by the first
 * ten hex digits of the name's FNV-1a 64-bit hash.  The full name is
 * published beside the endpoint, in <port>/name.
 */
#ifndef XENCHAN_VCHAN_H
#define XENCHAN_VCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

/* libxenvchan's key buffer (init.c): the longest path it handles whole. */
#define XC_VCHAN_PATH_BUF 64

/*
 * The port for a channel name between these two domains, written to port
 * (at least 32 bytes); true when it is the name itself.
 */
bool xc_vchan_port(const char *name, uint32_t server, uint32_t client, char *port,
		   size_t len);

/* The endpoint's xenstore path; -ENAMETOOLONG if it cannot fit. */
int xc_vchan_path(uint32_t server, uint32_t client, const char *port, char *path,
		  size_t len);

/* Ring sizes (bytes) xenchan asks for when it serves, each direction. */
#define XC_VCHAN_RING_DEFAULT (256u * 1024u)
/* What --buffer-size takes: a page, and MAX_RING_SHIFT 20. */
#define XC_VCHAN_RING_MIN 4096u
#define XC_VCHAN_RING_MAX (1024u * 1024u)

/*
 * For a guest, which may not list another domain's keys: the vchan endpoint
 * named name that domain server serves to the calling domain, found where
 * its name puts it (xc_vchan_port()), as a one-element array in *out (the
 * client's row, as xc_channel_list() would give it: domid is the caller's
 * own; free with xc_channel_array_free()).  *n is 0 when there is none, or
 * when it is in use: the guest may read only the keys the server grants it,
 * and a xenchan server takes them away while a client is connected.  Reads
 * the caller's domid from the relative key "domid".  Blocks on xenstore.
 */
int xc_vchan_lookup(struct xc_store *st, uint32_t server, const char *name,
		    struct xc_channel **out, size_t *n);

/* Serving an endpoint: xc_stream_listen() (stream.h). */

#endif
