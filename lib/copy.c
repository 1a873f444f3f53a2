/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "copy.h"
#include "follow.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"

/* Per direction.  A console ring holds 1 KiB towards the guest; a larger
 * buffer only makes the socket buffers the limit. */
#define BUF_SIZE (64 * 1024)

/* While waiting for a proof of delivery there is no event to wait on for
 * qemu's transports (SIOCOUTQ has no notification): look again after this
 * long, doubling up to the maximum. */
#define DRAIN_POLL_MIN_MS 1
#define DRAIN_POLL_MAX_MS 50

struct buf {
	size_t start, end, size;
	size_t keep; /* following: bytes before start written but not proven,
			kept to be sent again */
	char data[];
};

static struct buf *buf_new(size_t size)
{
	struct buf *b = malloc(sizeof(*b) + size);

	if (b) {
		b->start = b->end = b->keep = 0;
		b->size = size;
	}
	return b;
}

static size_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}

/* Room at the end, compacting first when that frees some (never the bytes
 * kept before start). */
static size_t buf_room(struct buf *b)
{
	size_t from = b->start - b->keep;

	if (b->start == b->end && !b->keep)
		b->start = b->end = 0;
	else if (b->end == b->size && from > 0) {
		memmove(b->data, b->data + from, b->end - from);
		b->end -= from;
		b->start -= from;
	}
	return b->size - b->end;
}

/*
 * One copy moves what a read(2) or write(2) takes at a time, and a pipe
 * takes 64 KiB by default: a vchan ring holds up to 1 MiB.  A pipe at
 * either end is grown to that (the default pipe-max-size, what a plain user
 * may ask for), so a ring's worth moves with one call and the processes on
 * both sides wake up as rarely.  Not a pipe, or refused: left as it is.
 */
#define ZC_PIPE_SIZE (1 << 20)

static void grow_pipe(int fd)
{
	int cur;

	if (fd < 0)
		return;
	cur = fcntl(fd, F_GETPIPE_SZ);
	if (cur >= 0 && cur < ZC_PIPE_SIZE)
		(void)fcntl(fd, F_SETPIPE_SZ, ZC_PIPE_SIZE);
}

/* Non-blocking while we run; the old flags are put back at the end. */
static int set_nonblock(int fd, int *old)
{
	int fl;

	*old = -1;
	if (fd < 0)
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	*old = fl;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void restore_flags(int fd, int old)
{
	if (fd >= 0 && old >= 0)
		fcntl(fd, F_SETFL, old);
}

struct loop {
	struct xc_stream *s;
	const struct xc_copy_opts *o;
	struct xc_copy_stats *st;
	struct buf *a; /* input -> stream */
	struct buf *b; /* stream -> output */
	bool gone;     /* the stream reported the peer gone */
	bool s_eof;    /* ... and has nothing left to read */
	bool lines_done; /* the lines asked for were read: read no more */
	uint64_t pending;
	/* Offsets in the input: of the first byte written to the stream in
	 * use, and of the first byte not proven delivered (st->written is the
	 * first not written).  base: the stream's own count of proven bytes
	 * when it started carrying this input. */
	uint64_t off, proven, base;
	bool follow;
	uint64_t hold; /* xc_stream_unseen_max() of the stream in use */
	uint64_t gone_at;
	/* One copy (xc_stream_has_ring()): the input is read straight into
	 * the ring towards the guest and the output written straight from
	 * the guest's; buffers a and b stay empty. */
	bool zc;
	bool zc_full;     /* the ring towards the guest was full */
	bool zc_out_wait; /* the output would block, the guest's bytes wait */
	bool zc_more;     /* the last pump stopped with more to move: no event
			     will say so, poll() must not sleep */
};

/* Bytes written but not proven. */
static uint64_t unproven(const struct loop *l)
{
	return l->st->written - l->proven;
}

/* Of the bytes proven on the stream in use, those it may still hold unseen
 * (a pty's buffers): sent again after a break. */
static uint64_t held(const struct loop *l)
{
	uint64_t on_stream = l->proven - l->off;

	return on_stream < l->hold ? on_stream : l->hold;
}

/* The stream's proof, into offsets of the input; -EPROTO when the
 * transport found it impossible (an index out of range). */
static int read_proof(struct loop *l, uint64_t *proven, uint64_t *pending,
		      enum xc_proof *proof)
{
	uint64_t d = 0, p = 0;
	int r;

	*proof = XC_PROOF_NONE;
	r = xc_stream_delivered(l->s, &d, &p, proof);
	if (r < 0)
		return r;
	/* The transports check their own indices (-EPROTO above).  A socket's
	 * count is an upper bound with overhead, which may dip below what an
	 * earlier copy on the stream left proven (base): then nothing of ours
	 * is; and an earlier copy's bytes still unproven when this one began
	 * may be proven among ours: never more than we wrote. */
	*proven = d < l->base ? l->off : l->off + (d - l->base);
	if (*proven > l->st->written)
		*proven = l->st->written;
	*pending = p;
	return 0;
}

static int update_delivered(struct loop *l)
{
	uint64_t proven, p;
	enum xc_proof proof;
	int r = read_proof(l, &proven, &p, &proof);

	if (r < 0)
		return r;
	/* Never back: the bytes before it may be gone from our buffer. */
	if (proven > l->proven)
		l->proven = proven;
	l->st->delivered = l->proven;
	l->st->proof = proof;
	l->pending = p;
	if (l->follow)
		l->a->keep = (size_t)(unproven(l) + held(l));
	return 0;
}

/* Input -> buffer a.  Returns 0, XC_COPY_ESCAPE or a negative errno. */
static int do_input(struct loop *l)
{
	size_t room = buf_room(l->a);
	ssize_t n;

	if (!room)
		return 0;
	n = read(l->o->in_fd, l->a->data + l->a->end, room);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		l->st->in_done = true;
		return 0;
	}
	if (l->o->escape >= 0) {
		char *e = memchr(l->a->data + l->a->end, l->o->escape, (size_t)n);

		if (e) {
			n = e - (l->a->data + l->a->end);
			l->a->end += n;
			l->st->in += n;
			return XC_COPY_ESCAPE;
		}
	}
	l->a->end += n;
	l->st->in += n;
	return 0;
}

/* What may be written now: following, no more than the window allows. */
static size_t writable(const struct loop *l)
{
	uint64_t kept;

	if (!l->follow)
		return buf_len(l->a);
	kept = unproven(l);
	if (kept >= XC_COPY_FOLLOW_WINDOW)
		return 0;
	kept = XC_COPY_FOLLOW_WINDOW - kept;
	return buf_len(l->a) < kept ? buf_len(l->a) : (size_t)kept;
}

/* Buffer a -> stream. */
static int do_stream_write(struct loop *l)
{
	bool any = false;

	while (writable(l) && !l->gone) {
		ssize_t n = xc_stream_write(l->s, l->a->data + l->a->start, writable(l));

		if (n == -EAGAIN)
			break;
		if (n == -EPIPE) {
			l->gone = true;
			break;
		}
		if (n < 0)
			return (int)n;
		l->a->start += n;
		l->st->written += n;
		if (l->follow)
			l->a->keep += (size_t)n;
		any = true;
	}
	if (any) {
		int r = xc_stream_flush(l->s);

		if (r == -EPIPE)
			l->gone = true;
		else if (r < 0)
			return r;
	}
	return 0;
}

/* Count the lines in the n bytes just read at b's end; at the last one asked
 * for, cut what follows it off.  Returns the bytes kept. */
static size_t count_lines(struct loop *l, size_t n)
{
	char *p = l->b->data + l->b->end, *end = p + n;
	char *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		p = nl + 1;
		if (++l->st->lines == l->o->lines) {
			l->st->discarded += (uint64_t)(end - p);
			l->lines_done = true;
			return (size_t)(p - (l->b->data + l->b->end));
		}
	}
	return n;
}

/* Stream -> buffer b.  Returns the bytes read, or a negative errno. */
static ssize_t do_stream_read(struct loop *l)
{
	ssize_t total = 0;

	while (!l->s_eof && !l->lines_done) {
		size_t room = buf_room(l->b);
		ssize_t n;

		if (!room)
			break;
		n = xc_stream_read(l->s, l->b->data + l->b->end, room);
		if (n == -EAGAIN)
			break;
		if (n == -EPIPE) {
			l->gone = l->s_eof = true;
			break;
		}
		if (n < 0)
			return n;
		l->st->received += n;
		total += n;
		/* The output gets what the filter keeps of these n bytes. */
		if (l->o->filter)
			n = (ssize_t)l->o->filter(l->o->filter_data, l->b->data + l->b->end,
						  (size_t)n);
		l->b->end += l->o->lines ? count_lines(l, (size_t)n) : (size_t)n;
	}
	return total;
}

/* Buffer b -> output. */
static int do_output(struct loop *l)
{
	while (buf_len(l->b)) {
		ssize_t n = write(l->o->out_fd, l->b->data + l->b->start, buf_len(l->b));

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return errno == EPIPE ? -ESHUTDOWN : -errno;
		}
		l->b->start += n;
		l->st->out += n;
	}
	return 0;
}

/*
 * One copy, input side: read(2) into the ring's free space.  Returns the
 * bytes moved or a negative errno.  A descriptor that cannot copy into
 * shared memory (EFAULT: the ring is a foreign mapping) sends us back to
 * the buffers for the rest; nothing was taken from it.
 */
static ssize_t zc_input(struct loop *l)
{
	void *p;
	size_t len;
	ssize_t n;
	int r = xc_stream_write_space(l->s, &p, &len);

	if (r == -EPIPE) {
		l->gone = true;
		return 0;
	}
	if (r < 0)
		return r;
	l->zc_full = len == 0;
	if (!len)
		return 0;
	n = read(l->o->in_fd, p, len);
	if (n < 0) {
		if (errno == EFAULT) {
			l->zc = false;
			return 0;
		}
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	}
	if (n == 0) {
		l->st->in_done = true;
		return 0;
	}
	r = xc_stream_write_commit(l->s, (size_t)n);
	if (r < 0)
		return r;
	l->st->in += (uint64_t)n;
	l->st->written += (uint64_t)n;
	return n;
}

/* One copy, output side: write(2) from the guest's ring.  Likewise. */
static ssize_t zc_output(struct loop *l)
{
	const void *p;
	size_t len;
	ssize_t n;
	int r = xc_stream_read_data(l->s, &p, &len);

	if (r == -EPIPE) {
		l->gone = l->s_eof = true;
		return 0;
	}
	if (r < 0)
		return r;
	if (!len)
		return 0;
	n = write(l->o->out_fd, p, len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			l->zc_out_wait = true;
			return 0;
		}
		if (errno == EFAULT) {
			l->zc = false;
			return 0;
		}
		return errno == EPIPE ? -ESHUTDOWN : -errno;
	}
	l->zc_out_wait = false;
	r = xc_stream_read_commit(l->s, (size_t)n);
	if (r < 0)
		return r;
	l->st->received += (uint64_t)n;
	l->st->out += (uint64_t)n;
	return n;
}

/* Both sides until neither moves, as a ring raises one event for what may
 * be many reads; for ZC_PUMP_ROUNDS at most, so that a transfer that never
 * pauses still comes back to poll() for signals, deadlines and progress
 * (zc_more: that poll() only looks).  Sets *rx when the guest's bytes were
 * written out. */
#define ZC_PUMP_ROUNDS 16

static int zc_pump(struct loop *l, bool late, bool *rx)
{
	const struct xc_copy_opts *o = l->o;

	l->zc_more = false;
	for (int round = 0; l->zc; round++) {
		ssize_t in = 0, out = 0;

		if (!late && !l->st->in_done && !l->gone) {
			in = zc_input(l);
			if (in < 0)
				return (int)in;
		}
		if (!late && o->out_fd >= 0 && !l->s_eof && l->zc) {
			out = zc_output(l);
			if (out < 0)
				return (int)out;
			if (out > 0)
				*rx = true;
		}
		if (!in && !out)
			break;
		if (round + 1 == ZC_PUMP_ROUNDS) {
			l->zc_more = true;
			break;
		}
	}
	return 0;
}

static bool has_deadline(const struct xc_copy_opts *o)
{
	return o->deadline && o->deadline != XC_NEVER;
}

int xc_copy_timing(const struct xc_copy_opts *o, const struct xc_copy_timing *t,
		   uint64_t *deadline)
{
	uint64_t d = t->wake_at;

	if (t->delivered && t->output_idle) {
		uint64_t since = t->last_rx > t->delivered_at ? t->last_rx : t->delivered_at;

		if (o->quit_after_ms == 0 || o->out_fd < 0 || t->lines_done)
			return 1;
		if (o->quit_after_ms > 0) {
			uint64_t quiet = xc_deadline_at(since, (uint64_t)o->quit_after_ms);

			if (xc_deadline_passed(quiet, t->now))
				return 1;
			d = xc_deadline_min(d, quiet);
		}
	}
	if (has_deadline(o)) {
		if (xc_deadline_passed(o->deadline, t->now)) {
			/* Over: only what was read is still written out. */
			uint64_t drain = xc_deadline_at(o->deadline, XC_COPY_DRAIN_MS);

			if (t->output_idle || xc_deadline_passed(drain, t->now))
				return -ETIME;
			*deadline = xc_deadline_min(d, drain);
			return 0;
		}
		d = xc_deadline_min(d, o->deadline);
	}
	if (o->stall_timeout_ms && !t->gone) {
		uint64_t stall = xc_deadline_at(t->last_progress, o->stall_timeout_ms);

		if (xc_deadline_passed(stall, t->now))
			return -ETIMEDOUT;
		d = xc_deadline_min(d, stall);
	}
	*deadline = d;
	return 0;
}

/*
 * The peer went away while following: settle what the broken stream
 * proved, rewind the input to the first byte not proven, and have the
 * caller put a new stream in place.  Returns 0 or the callback's error.
 */
static int follow_break(struct loop *l)
{
	struct xc_copy_break b = { .gone_at = l->gone_at };
	uint64_t proven = l->proven, p, d = 0, resend;
	enum xc_proof proof;
	int r;

	if (l->o->settle)
		l->o->settle(l->o->reconnect_data, l->gone_at);
	/*
	 * The last look at the proof.  direct and vchan read the guest's
	 * consumer index from the page they still map (it stays mapped until
	 * the stream is closed), validated like every index: an impossible one
	 * proves nothing past what was proven before, and all the rest may
	 * have arrived.  qemu's transports give the last count they saw.
	 */
	r = read_proof(l, &proven, &p, &proof);
	if (r == 0 && proven >= l->proven) {
		b.proof = proof;
	} else {
		b.final_bad = proof == XC_PROOF_CONSUMED || l->st->proof == XC_PROOF_CONSUMED;
		b.proof = l->st->proof;
		proven = l->proven;
	}
	/* What a pty may still have held is sent again, as not proven. */
	if (b.proof != XC_PROOF_CONSUMED) {
		uint64_t on_stream = proven - l->off;

		proven -= on_stream < l->hold ? on_stream : l->hold;
	}
	resend = l->st->written - proven;
	b.resent = resend;
	if (b.proof == XC_PROOF_CONSUMED) {
		b.twice = b.final_bad ? resend : 0;
	} else {
		/* Whatever qemu read without our seeing it may have arrived; what
		 * it read and the guest had not consumed is lost when the guest's
		 * hvc resume clears the ring. */
		b.twice = resend;
		d = proven - l->off;
		b.unproven = d < XC_FOLLOW_RING_LOSS ? d : XC_FOLLOW_RING_LOSS;
	}
	b.stream_delivered = l->base + (proven - l->off);
	b.sending = l->st->in > 0;

	l->a->start -= (size_t)resend;
	l->a->keep = 0;
	l->st->written = l->proven = l->st->delivered = proven;
	l->st->breaks++;
	l->st->resent += b.resent;
	l->st->twice += b.twice;
	l->st->unproven += b.unproven;

	xc_info("following: sending again from byte %" PRIu64 " of the input", proven);
	r = l->o->reconnect(l->o->reconnect_data, &b, &l->s);
	if (r < 0)
		return r;
	l->gone = l->s_eof = false;
	l->pending = 0;
	l->off = proven;
	l->base = 0;
	l->hold = xc_stream_unseen_max(l->s);
	return 0;
}

static int copy_loop(struct loop *l)
{
	const struct xc_copy_opts *o = l->o;
	struct xc_copy_stats *st = l->st;
	uint64_t start = xc_now_ms(), last_rx = 0, delivered_at = 0, last_progress;
	uint64_t next_report = o->progress && o->progress_ms
				       ? xc_deadline_at(start, o->progress_ms)
				       : XC_NEVER;
	uint64_t last_count = 0, drain_ms = DRAIN_POLL_MIN_MS;
	int r, sfd = xc_lifecycle_fd();

	if (o->in_fd < 0)
		st->in_done = true;
	last_progress = start;
	for (;;) {
		struct pollfd p[4];
		int np = 0, i_in = -1, i_s = -1, i_sig = -1;
		bool want_in, want_sw, want_sr, want_out, delivered, late;
		struct xc_copy_timing tm;
		uint64_t now, deadline;
		short sev = 0;
		int sfd_s = -1;

		r = update_delivered(l);
		if (r < 0 && !(l->follow && l->gone))
			return r;
		now = xc_now_ms();
		st->elapsed_ms = now - start;
		if (st->written + st->delivered != last_count) {
			last_count = st->written + st->delivered;
			last_progress = now;
		}
		delivered = st->in_done && !buf_len(l->a) && l->pending == 0;
		if (delivered && !delivered_at)
			delivered_at = now;

		if (l->gone && !l->gone_at)
			l->gone_at = now;
		/* The peer is gone: hand over what it sent, then stop, or follow
		 * the guest unless the session is over but for its silence. */
		if (l->gone && (l->s_eof || o->out_fd < 0 || l->lines_done) && !buf_len(l->b)) {
			bool over = delivered && (!o->lines || l->lines_done);

			if (!l->follow || (over && (o->out_fd < 0 || l->lines_done ||
						    o->quit_after_ms >= 0)))
				return over ? 0 : -EPIPE;
			r = follow_break(l);
			if (r == -EINTR)
				st->signo = xc_lifecycle_signal();
			if (r < 0)
				return r;
			l->gone_at = 0;
			now = last_progress = xc_now_ms();
			drain_ms = DRAIN_POLL_MIN_MS;
			continue;
		}
		if (!buf_len(l->a) && !l->pending)
			last_progress = now;
		if (xc_deadline_passed(next_report, now)) {
			o->progress(o->progress_data, st);
			next_report = xc_deadline_at(now, o->progress_ms);
		}
		tm = (struct xc_copy_timing){
			.now = now,
			.delivered = delivered,
			/* One copy: past the deadline the ring is not read. */
			.output_idle = !buf_len(l->b) &&
				       (!l->zc_out_wait ||
					(has_deadline(o) && xc_deadline_passed(o->deadline, now))),
			.gone = l->gone,
			.lines_done = l->lines_done,
			.delivered_at = delivered_at,
			.last_rx = last_rx,
			.last_progress = last_progress,
			.wake_at = next_report,
		};
		/* Waiting for the proof with nothing else to do (the input
		 * delivered, or the kept window full): see DRAIN_POLL. */
		if (l->pending && !l->gone &&
		    ((st->in_done && !buf_len(l->a)) || (buf_len(l->a) && !writable(l)))) {
			tm.wake_at = xc_deadline_min(tm.wake_at, now + drain_ms);
			if (drain_ms < DRAIN_POLL_MAX_MS)
				drain_ms *= 2;
		} else {
			drain_ms = DRAIN_POLL_MIN_MS;
		}
		r = xc_copy_timing(o, &tm, &deadline);
		if (r != 0)
			return r > 0 ? 0 : r;

		/* Past the deadline only the output is still written. */
		late = has_deadline(o) && xc_deadline_passed(o->deadline, now);
		if (l->zc) {
			want_in = !late && !st->in_done && !l->gone && !l->zc_full;
			want_sw = !late && l->zc_full && !l->gone;
			want_sr = !late && o->out_fd >= 0 && !l->s_eof && !l->zc_out_wait;
			want_out = !late && l->zc_out_wait;
		} else {
			want_in = !late && !st->in_done && buf_room(l->a) > 0;
			want_sw = !late && writable(l) > 0 && !l->gone;
			want_sr = !late && o->out_fd >= 0 && !l->s_eof && !l->lines_done &&
				  buf_room(l->b) > 0;
			want_out = buf_len(l->b) > 0;
		}

		if (want_in) {
			i_in = np;
			p[np++] = (struct pollfd){ .fd = o->in_fd, .events = POLLIN };
		}
		if (want_out) {
			p[np++] = (struct pollfd){ .fd = o->out_fd, .events = POLLOUT };
		}
		/* Once the peer is gone the stream stays ready: ask only to read. */
		if (!late && (want_sr || !l->gone)) {
			r = xc_stream_poll(l->s, want_sr, want_sw, &sfd_s, &sev);
			if (r < 0)
				return r;
			i_s = np;
			p[np++] = (struct pollfd){ .fd = sfd_s, .events = sev };
		}
		if (sfd >= 0) {
			i_sig = np;
			p[np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		}
		if (poll(p, np, l->zc_more ? 0 : xc_deadline_poll_ms(deadline, now)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (i_sig >= 0 && p[i_sig].revents) {
			st->signo = xc_lifecycle_signal();
			return -EINTR;
		}
		if (i_s >= 0) {
			r = xc_stream_process(l->s, p[i_s].revents);
			if (r == -EPIPE)
				l->gone = true;
			else if (r < 0)
				return r;
		}
		if (l->zc) {
			bool rx = false;

			r = zc_pump(l, late, &rx);
			if (r < 0)
				return r;
			if (rx)
				last_rx = xc_now_ms();
			if (l->zc)
				continue;
		}
		if (i_in >= 0 && p[i_in].revents) {
			r = do_input(l);
			if (r)
				return r;
		}
		if (!late && writable(l) && !l->gone) {
			r = do_stream_write(l);
			if (r < 0)
				return r;
		}
		/* Not only when the descriptor fired: an event-channel transport
		 * (direct, vchan) signals new data once, and data that found our
		 * buffer full earlier is still waiting in the ring with no new
		 * event to come.  A read that finds nothing returns -EAGAIN and
		 * re-arms the notification. */
		if (i_s >= 0 && o->out_fd >= 0 && buf_room(l->b)) {
			ssize_t n = do_stream_read(l);

			if (n < 0)
				return (int)n;
			if (n > 0)
				last_rx = xc_now_ms();
		}
		/* Non-blocking: try at once rather than wait for a poll round; and
		 * as long as output drains and the stream yields more, go on:
		 * data left in a ring while our buffer was full raises no new
		 * event, so it must be read before we sleep. */
		while (buf_len(l->b)) {
			size_t before = buf_len(l->b);
			ssize_t n;

			r = do_output(l);
			if (r < 0)
				return r;
			if (buf_len(l->b) == before || i_s < 0 || o->out_fd < 0 || l->s_eof)
				break;
			n = do_stream_read(l);
			if (n < 0)
				return (int)n;
			if (n == 0)
				break;
			last_rx = xc_now_ms();
		}
	}
}

int xc_copy(struct xc_stream **s, const struct xc_copy_opts *o, struct xc_copy_stats *stats)
{
	struct loop l = { .s = *s, .o = o, .st = stats, .follow = o->reconnect != NULL };
	enum xc_proof proof;
	uint64_t p;
	int in_fl = -1, out_fl = -1, r;

	memset(stats, 0, sizeof(*stats));
	/* Following: room for the kept window besides what is read. */
	l.a = buf_new(l.follow ? XC_COPY_FOLLOW_WINDOW + BUF_SIZE : BUF_SIZE);
	l.b = buf_new(BUF_SIZE);
	if (!l.a || !l.b) {
		r = -ENOMEM;
		goto out;
	}
	/* What the stream proved before (an earlier file's bytes) is not ours. */
	if (xc_stream_delivered(l.s, &l.base, &p, &proof) < 0)
		l.base = 0;
	l.hold = xc_stream_unseen_max(l.s);
	/* One copy where nothing has to look at the bytes or keep them. */
	l.zc = xc_stream_has_ring(l.s) && !l.follow && o->escape < 0 && !o->filter &&
	       !o->lines;
	if (l.zc) {
		grow_pipe(o->in_fd);
		grow_pipe(o->out_fd);
	}
	r = set_nonblock(o->in_fd, &in_fl);
	if (r == 0)
		r = set_nonblock(o->out_fd, &out_fl);
	if (r == 0)
		r = copy_loop(&l);
	if (l.s)
		update_delivered(&l);
	restore_flags(o->in_fd, in_fl);
	restore_flags(o->out_fd, out_fl);
out:
	stats->final = true;
	if (o->progress && o->progress_ms)
		o->progress(o->progress_data, stats);
	free(l.a);
	free(l.b);
	*s = l.s;
	return r;
}
