/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One byte-stream interface over every transport: qemu's unix socket, qemu's
 * pty, xenchan's own console-ring backend ("direct") and, later, vchan.
 *
 * A stream is non-blocking: read and write return -EAGAIN when they cannot
 * make progress, and the caller waits on the descriptor xc_stream_poll()
 * names, then calls xc_stream_process() with what poll() reported before
 * reading or writing again.  Nothing here blocks except xc_stream_open(),
 * which does xenstore round trips (and, for direct, maps the ring).
 *
 * Ownership: xc_stream_open() returns a stream the caller frees with
 * xc_stream_close(); it borrows the store and the channel only during the
 * call (it copies what it keeps).
 *
 * Errors: 0 or a negative errno.  -EPIPE: the peer went away (domain
 * destroyed, channel closed, socket hung up); -EPROTO: the peer broke the
 * protocol (impossible ring indices: XSA-86) and the stream must be closed;
 * -EBUSY: another process holds the channel (see xc_stream_holder());
 * -ENOLCK: the channel's lock could not be taken (xc_stream_strerror()
 * says why).
 */
#ifndef XENCHAN_STREAM_H
#define XENCHAN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "channel.h"
#include "peer.h"
#include "store.h"

/* How far delivery of written bytes can be proven, weakest first. */
enum xc_proof {
	XC_PROOF_NONE = 0,
	XC_PROOF_WRITTEN,  /* handed to the transport (qemu's socket or pty) */
	XC_PROOF_CONSUMED, /* the guest consumed it from the ring (direct, vchan) */
};

/* "none", "written to the transport", "consumed by the guest". */
const char *xc_proof_name(enum xc_proof p);

struct xc_stream_opts {
	enum xc_transport transport; /* XC_TRANSPORT_UNKNOWN: the channel's own */
	bool discard_backlog;        /* drop guest output buffered before we came */
	bool create;                 /* direct: hotplug the channel if absent */
	const char *lock_dir;        /* NULL: $XENCHAN_RUNDIR/locks or /run/xenchan/locks */
	uint64_t timeout_ms;         /* bound on opening (connect, handshake); 0: none */
	uint64_t busy_deadline;      /* wait for a busy channel to be free until this
					deadline (clock.h); 0: busy is -EBUSY at once */
	bool follow;                 /* record how the domain ends (xc_stream_peer_end) */
};

struct xc_stream;

/*
 * Open the channel c of its domain.  Takes the channel's lock first
 * (exclusive use: -EBUSY when held, after waiting until opts->busy_deadline
 * when set).  A socket stream is returned only once qemu accepted the
 * connection (proven with lib/sockdiag.h; nothing is written before): while
 * another client holds qemu's socket it is -EBUSY, after staying queued
 * until opts->busy_deadline when set; while qemu has not accepted yet and
 * nobody else is served, the open waits, bounded by opts->timeout_ms.
 * -EPROTONOSUPPORT when acceptance cannot be proven (no sock_diag).
 * -ENOENT when the endpoint does not exist, -ECONNREFUSED when nobody
 * serves it, -ENOTSUP for a transport this channel cannot use.
 */
int xc_stream_open(struct xc_store *st, const struct xc_channel *c,
		   const struct xc_stream_opts *opts, struct xc_stream **out);

/*
 * Serve channel name to domain domid and wait for the guest, bounded by
 * opts->timeout_ms: with opts->transport XC_TRANSPORT_VCHAN a vchan
 * endpoint (like xencat -l; ring_size each way, 0 for the default), else a
 * direct channel hotplugged into the domain.  Takes a lock by domain and
 * name: a second server is -EBUSY, and what a dead one left is removed.
 * Returns 0 with *out, or a negative errno as xc_stream_open().
 */
int xc_stream_listen(struct xc_store *st, uint32_t domid, const char *name,
		     const struct xc_stream_opts *opts, size_t ring_size,
		     struct xc_stream **out);

/*
 * After -EBUSY from xc_stream_open: the pid holding the channel, or 0, and
 * its name (escaped) into comm (len bytes; "" when unknown; may be NULL):
 * the holder of xenchan's lock, else the client qemu serves on the socket
 * as last seen by xc_stream_open().
 */
pid_t xc_stream_holder(const struct xc_channel *c, const struct xc_stream_opts *opts,
		       char *comm, size_t len);

/*
 * Words for an error xc_stream_open() returned on c, for the user: into buf
 * (len bytes), e.g. "connect: Connection refused",
 * "busy: in use by socat (pid 42)".
 * Returns buf.  Looks up the lock holder for -EBUSY.
 */
char *xc_stream_strerror(int err, const struct xc_channel *c,
			 const struct xc_stream_opts *opts, char *buf, size_t len);

void xc_stream_close(struct xc_stream *s);

/*
 * Read up to len bytes the guest sent.  Returns the count (> 0), -EAGAIN
 * when nothing is available, -EPIPE when the peer is gone and nothing is
 * left, -EPROTO, or another negative errno.  Channels have no end-of-file:
 * 0 is never returned.
 */
ssize_t xc_stream_read(struct xc_stream *s, void *buf, size_t len);

/*
 * Write up to len bytes towards the guest.  Returns the count accepted
 * (> 0, maybe fewer than len), -EAGAIN when there is no room now, -EPIPE,
 * -EPROTO, or another negative errno.  Accepted bytes may be batched:
 * xc_stream_flush() pushes them and notifies the peer.
 */
ssize_t xc_stream_write(struct xc_stream *s, const void *buf, size_t len);
int xc_stream_flush(struct xc_stream *s);

/*
 * One copy per side: the transport's own ring, where it has one the caller
 * may fill or drain in place (vchan).  -ENOTSUP for the other transports.
 *
 * xc_stream_write_space(): *p and *len name the contiguous free space of
 * the ring towards the guest; *len 0 when it is full (the peer is then
 * asked to notify when it consumes).  xc_stream_write_commit() publishes n
 * bytes written there (n <= *len) and notifies the peer if it asked.
 *
 * xc_stream_read_data(): *p and *len name the contiguous bytes the guest
 * sent; *len 0 when there are none (the peer is asked to notify when it
 * writes).  The bytes live in memory the guest shares: it may change them
 * at any time, so they are to be copied out, never parsed in place.
 * xc_stream_read_commit() consumes n of them and notifies the peer if it
 * asked.
 *
 * Each returns 0, -EPIPE (the peer is gone; for read_data: and nothing is
 * left), -EPROTO (an impossible index), or another negative errno.  Mixed
 * freely with xc_stream_read() and xc_stream_write().
 * xc_stream_has_ring(): whether the transport has them.
 */
bool xc_stream_has_ring(struct xc_stream *s);
int xc_stream_write_space(struct xc_stream *s, void **p, size_t *len);
int xc_stream_write_commit(struct xc_stream *s, size_t n);
int xc_stream_read_data(struct xc_stream *s, const void **p, size_t *len);
int xc_stream_read_commit(struct xc_stream *s, size_t n);

/*
 * The descriptor to poll and the events to ask for, given what the caller
 * wants to do next.  The descriptor may change between calls (a transport
 * may switch descriptors): ask every time.
 */
int xc_stream_poll(struct xc_stream *s, bool want_read, bool want_write, int *fd,
		   short *events);

/* Tell the stream what poll() reported on its descriptor (acknowledges event
 * channels, notices hangups).  0, or -EPIPE once the peer is gone (what it
 * sent before may still be read), or another negative errno. */
int xc_stream_process(struct xc_stream *s, short revents);

/*
 * Bytes written so far that are provably delivered, and how: for direct,
 * those the guest consumed from the ring; for socket and pty, those the
 * kernel accepted.  *pending: written but not yet proven.
 */
int xc_stream_delivered(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
			enum xc_proof *proof);

/*
 * Bytes a transport may hold unseen after it proved them: qemu's pty gives
 * no count of what qemu has not read, so a pty's proof is only "written",
 * and up to XC_PTY_HOLD bytes written may still wait in the kernel's pty
 * buffers (64 KiB of the master's flip buffers, 4 KiB of its line
 * discipline) when the guest's qemu goes.  0 for the other transports,
 * whose proof covers what they hold.
 */
#define XC_PTY_HOLD (64 * 1024 + 4096)
uint64_t xc_stream_unseen_max(struct xc_stream *s);

/*
 * With opts->follow: how the peer's domain ended, as far as it showed
 * (peer.h: a shutdown request, a migration's rename).  Otherwise, and
 * before the end: XC_PEER_END_DESTROYED.
 */
enum xc_peer_end xc_stream_peer_end(struct xc_stream *s);

/* With opts->follow, after the peer is gone: look again at how its domain
 * ends (xc_peer_note_end()). */
void xc_stream_note_end(struct xc_stream *s);

#endif
