/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The copy loop of xenchan-cat and xenchan-send: bytes from an input
 * descriptor to a stream and from the stream to an output descriptor, both
 * directions at once, with bounded buffers (nothing is read that cannot be
 * written), partial writes, and no busy waiting: every wait is a poll() on
 * the descriptors, with a timeout only for a deadline that is due.
 *
 * End of input: channels carry no end-of-file.  When the input ends, the
 * loop writes what it holds, waits until the stream proves it delivered
 * (xc_stream_delivered() reports nothing pending), then keeps copying the
 * guest's output until it has been silent for quit_after_ms, or until the
 * number of lines asked for has been copied.  An overall deadline ends it
 * whatever it is doing.
 *
 * xc_copy() blocks until it is done; it borrows everything it is given and
 * owns nothing.  The input and output descriptors are switched to
 * non-blocking mode while it runs and put back before it returns.
 */
#ifndef XENCHAN_COPY_H
#define XENCHAN_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "stream.h"

/*
 * Following (--follow): when the peer goes away, the loop keeps the bytes
 * written but not proven delivered, at most XC_COPY_FOLLOW_WINDOW of them
 * (nothing more is written while that many are outstanding), asks for a new
 * stream (xc_copy_opts.reconnect) and sends again from the first byte not
 * proven: for a transport whose proof is the guest's consumer index
 * (direct, vchan), read one last time from the page still mapped and
 * validated like every index; for qemu's (socket, pty), the last proof
 * seen.
 */
#define XC_COPY_FOLLOW_WINDOW (256 * 1024)

/* One break, as the loop saw it, for the reconnect callback. */
struct xc_copy_break {
	uint64_t gone_at;         /* when the loop saw the peer gone (clock.h) */
	enum xc_proof proof;      /* the broken stream's */
	bool final_bad;           /* its final consumer index was impossible */
	uint64_t stream_delivered; /* bytes that stream proved (xc_stream_delivered's
				      count, final), for the session's total */
	bool sending;             /* input was read: the resend figures matter */
	uint64_t resent;          /* bytes to send again, from the first not proven */
	uint64_t twice;           /* of those, how many may have arrived already */
	uint64_t unproven;        /* bytes proven that the guest may have lost:
				     up to XC_FOLLOW_RING_LOSS for qemu's proof */
};

struct xc_copy_stats {
	uint64_t in;        /* bytes read from the input */
	uint64_t written;   /* bytes written to the stream */
	uint64_t delivered; /* of those, provably delivered */
	enum xc_proof proof;
	uint64_t received;  /* bytes read from the stream */
	uint64_t out;       /* bytes written to the output */
	uint64_t lines;     /* complete lines received, up to opts.lines */
	uint64_t discarded; /* of received, bytes after the last line asked for */
	uint64_t elapsed_ms;
	unsigned breaks;    /* following: the peer went away and was followed */
	uint64_t resent;    /* following: the sums of every break's figures */
	uint64_t twice;
	uint64_t unproven;
	bool in_done;       /* the input ended */
	bool final;         /* the last progress report */
	int signo;          /* the signal that ended the loop, or 0 */
};

struct xc_copy_opts {
	int in_fd;  /* -1: no input (as if it were empty) */
	int out_fd; /* -1: the guest's output is not read */
	/*
	 * After the input ended and was delivered: stop after this long without
	 * output from the guest.  0: stop at once; < 0: never (until the peer
	 * goes, a signal, or the escape character).
	 */
	int64_t quit_after_ms;
	/*
	 * Give up (-ETIMEDOUT) when bytes are waiting to be delivered and none
	 * could be for this long (a guest that does not read).  0: never.
	 */
	uint64_t stall_timeout_ms;
	/*
	 * The session's overall deadline (clock.h): when it comes, stop taking
	 * input and reading the stream, write out what was read (for at most
	 * XC_COPY_DRAIN_MS more), and return -ETIME.  0 or XC_NEVER: none.
	 */
	uint64_t deadline;
	/*
	 * Stop reading the guest's output after this many complete lines
	 * ('\n'): the output gets exactly up to and including the last one; the
	 * bytes after it that came in the same read are discarded (stats).  The
	 * loop then ends as soon as the input is delivered and the lines are
	 * written, without waiting for silence.  0: no limit.
	 */
	uint64_t lines;
	/* A byte of the input that ends the loop (1), not forwarded; -1: none. */
	int escape;
	/* Called about every progress_ms and once more at the end (final). */
	void (*progress)(void *data, const struct xc_copy_stats *st);
	void *progress_data;
	uint64_t progress_ms;
	/*
	 * Applied to the guest's bytes as they are read, before they are
	 * queued for the output: filters the len bytes at buf in place and
	 * returns how many to keep (<= len).  NULL: none.
	 */
	size_t (*filter)(void *data, char *buf, size_t len);
	void *filter_data;
	/*
	 * Following: called when the peer went away and the loop would end for
	 * it (not when the input was delivered and nothing more is to be read),
	 * after what the guest sent was handed over.  It takes the broken
	 * stream (*s) and replaces it with a new one, returning 0; or returns a
	 * negative errno that ends the loop (-EPIPE: not followed, -EINTR,
	 * -ETIME ...), *s then being the broken stream or NULL.  NULL: the peer
	 * going away ends the loop (-EPIPE, or 0 as said below).
	 */
	int (*reconnect)(void *data, const struct xc_copy_break *b, struct xc_stream **s);
	/*
	 * Following, at a break, before the broken stream's proof is read one
	 * last time: returns once the guest's old domain can take nothing more
	 * (it was destroyed: a migration's outgoing copy is seen gone when it
	 * is renamed, before that), or when it may wait no longer.  May be
	 * NULL.  Gets reconnect_data and the time the break was seen.
	 */
	void (*settle)(void *data, uint64_t gone_at);
	void *reconnect_data;
};

#define XC_COPY_ESCAPE 1
/* After the deadline, how long what was read may take to be written out. */
#define XC_COPY_DRAIN_MS 1000

/* What the loop knows about time, for xc_copy_timing(). */
struct xc_copy_timing {
	uint64_t now;
	bool delivered;         /* the input ended and is all proven delivered */
	bool output_idle;       /* nothing held for the output */
	bool gone;              /* the peer went away */
	bool lines_done;        /* the lines asked for (opts.lines) were read */
	uint64_t delivered_at;  /* when delivered became true */
	uint64_t last_rx;       /* when the guest last sent something; 0: never */
	uint64_t last_progress; /* when bytes last moved or were proven, or when
				   nothing was waiting to be delivered */
	uint64_t wake_at;       /* another reason to wake (progress, proof
				   polling); XC_NEVER: none */
};

/*
 * The loop's decisions about time, as a pure function: 1 when the session
 * is over (delivered, then quiet for quit_after_ms or the lines asked for
 * read and written), -ETIME when the overall deadline has passed and what
 * was read is written out (or XC_COPY_DRAIN_MS more have passed),
 * -ETIMEDOUT when delivery stalled for stall_timeout_ms, else 0 with
 * *deadline the time to sleep until (XC_NEVER: no timeout).  Saturating: no
 * duration wraps.
 */
int xc_copy_timing(const struct xc_copy_opts *o, const struct xc_copy_timing *t,
		   uint64_t *deadline);

/*
 * Returns 0 (input delivered, then quiet for quit_after_ms, or the peer went
 * away after everything was delivered, or the lines asked for were copied
 * and the input delivered), XC_COPY_ESCAPE, -EPIPE (the peer went away with
 * input not delivered, or before the lines asked for came), -ESHUTDOWN (the output was closed: EPIPE),
 * -ETIMEDOUT (stalled), -ETIME (the deadline came), -EINTR (a signal caught by the lifecycle,
 * stats->signo: see lifecycle.h), or another negative
 * errno (-EIO and such from the input or output; -EPROTO from the stream,
 * an impossible proof of delivery included).  *s is the stream in use at
 * the end (reconnect may replace it); *stats is filled in whatever the
 * outcome.
 */
int xc_copy(struct xc_stream **s, const struct xc_copy_opts *o, struct xc_copy_stats *stats);

#endif
