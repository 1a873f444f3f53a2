/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Between lib/stream.c (dispatch, locking, socket and pty) and the transports
 * implemented elsewhere (lib/qemu.c, lib/direct.c, lib/vchan.c).  Not for commands.
 */
#ifndef XENCHAN_STREAM_INTERNAL_H
#define XENCHAN_STREAM_INTERNAL_H

#include "peer.h"
#include "stream.h"

struct xc_stream_ops {
	ssize_t (*read)(struct xc_stream *s, void *buf, size_t len);
	ssize_t (*write)(struct xc_stream *s, const void *buf, size_t len);
	int (*flush)(struct xc_stream *s);
	int (*poll)(struct xc_stream *s, bool want_read, bool want_write, int *fd,
		    short *events);
	int (*process)(struct xc_stream *s, short revents);
	int (*delivered)(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
			 enum xc_proof *proof);
	/* Optional: the ring itself (stream.h, xc_stream_write_space()). */
	int (*write_space)(struct xc_stream *s, void **p, size_t *len);
	int (*write_commit)(struct xc_stream *s, size_t n);
	int (*read_data)(struct xc_stream *s, const void **p, size_t *len);
	int (*read_commit)(struct xc_stream *s, size_t n);
	void (*close)(struct xc_stream *s); /* frees priv, not s */
	struct xc_peer *(*peer)(struct xc_stream *s); /* the domain watched */
};

struct xc_stream {
	const struct xc_stream_ops *ops;
	enum xc_transport transport;
	int lock_fd; /* the channel's lock, held while open; -1 if none */
	void *priv;  /* the transport's state */
};

/*
 * lib/qemu.c: connect to qemu's socket or open its pty for channel c (t is
 * socket or pty) and fill in s->ops and s->priv.
 */
int xc_qemu_open(const struct xc_channel *c, const struct xc_stream_opts *opts,
		 enum xc_transport t, struct xc_stream *s);

/*
 * lib/qemu.c, on -EBUSY: the client qemu serves instead of us (pid 0 when
 * not visible; comm escaped, may be NULL), for xc_stream_holder().
 */
void xc_stream_set_foreign_holder(pid_t pid, const char *comm);

/*
 * lib/direct.c: serve channel c (its frontend type must be "xenchan", or
 * opts->create asks to hotplug it) and fill in s->ops and s->priv.  Blocks
 * until the frontend is connected or fails.
 */
int xc_direct_open(struct xc_store *st, const struct xc_channel *c,
		   const struct xc_stream_opts *opts, struct xc_stream *s);

/*
 * lib/vchan.c: connect to the vchan endpoint c describes (c->endpoint, the
 * server c->backend_domid) and fill in s->ops and s->priv.
 */
int xc_vchan_open(struct xc_store *st, const struct xc_channel *c,
		  const struct xc_stream_opts *opts, struct xc_stream *s);

/*
 * lib/vchan.c: serve a vchan endpoint for channel `name` to domain client
 * (xencat -l), from the domain this process runs in (its relative "domid"
 * key), into s: remove what a dead server of ours left there (the caller
 * holds the serving lock), publish, wait (bounded by timeout_ms; 0: for
 * ever) for the client.  Once a client is connected the endpoint's ring-ref
 * and event-channel keys are removed and `busy` is written, so a second
 * client cannot map the same ring (libxenvchan has no locking) and is told
 * why.  -EEXIST when another server publishes at that path.
 */
int xc_vchan_serve(struct xc_store *st, uint32_t client, const char *name,
		   size_t ring_size, uint64_t timeout_ms, struct xc_stream *s);

#endif
