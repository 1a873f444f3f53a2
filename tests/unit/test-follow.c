/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/follow.c's rules (which domain is taken next, the migration's names,
 * the report line) and lib/copy.c following a guest: over fake streams, the
 * bytes sent again after a break, the figures of each break by proof, the
 * kept window's back-pressure, a failed reconnect.  With --store, also
 * lib/follow.c against the real xenstored of an emulated host, as dom0, on
 * domains made of xenstore nodes alone (run by tests/bats/unit-store.bats):
 * which vm keys are trusted, and the wait for the next domain.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "copy.h"
#include "follow.h"
#include "stream-internal.h"
#include "tap.h"

static void is_str(const char *got, const char *want, const char *what)
{
	if (!tap_ok(strcmp(got, want) == 0, "%s", what))
		tap_diag("got  '%s'\nwant '%s'", got, want);
}

/* ---- xc_follow_choose ---- */

#define N(s) ((char *)(s))

#define U1 "6e8a4c8e-8d2e-4c44-9b37-0f6f0d6f7a01"
#define U2 "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

static void test_choose(void)
{
	uint32_t used[] = { 5 };
	struct xc_follow f = { .uuid = U1, .domid = 5, .used = used, .nused = 1 };
	struct {
		const char *what;
		struct xc_follow_candidate v[3];
		size_t n;
		int r;
		uint32_t domid;
		size_t waiting;
	} t[] = {
		{ "the same UUID, a final name", { { 7, U1, N("web01") } }, 1, 0, 7, 0 },
		{ "a domid used before is never taken again", { { 5, U1, N("web01") } }, 1, -ENOENT, 0, 0 },
		{ "another UUID", { { 7, U2, N("web01") } }, 1, -ENOENT, 0, 0 },
		{ "no trusted UUID (a guest's own vm key)", { { 7, "", N("web01") } }, 1, -ENOENT, 0, 0 },
		{ "no trusted name", { { 7, U1, NULL } }, 1, -ENOENT, 0, 1 },
		{ "the incoming copy of a migration", { { 7, U1, N("web01--incoming") } }, 1, -ENOENT, 0, 1 },
		{ "the outgoing copy of a migration", { { 7, U1, N("web01--migratedaway") } }, 1, -ENOENT, 0, 1 },
		{ "two acceptable: ambiguous",
		  { { 7, U1, N("web01") }, { 8, U1, N("web01b") } }, 2, -ENOTUNIQ, 0, 0 },
		{ "one acceptable among others",
		  { { 6, U2, N("db") }, { 7, U1, N("web01--incoming") }, { 9, U1, N("web01") } }, 3, 0, 9, 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t domid = 0;
		size_t waiting = 99;
		int r = xc_follow_choose(&f, t[i].v, t[i].n, &domid, &waiting);

		tap_ok(r == t[i].r && (r != 0 || domid == t[i].domid) && waiting == t[i].waiting,
		       "choose: %s (r %d, domid %u, waiting %zu)", t[i].what, r, domid, waiting);
	}
	tap_ok(xc_follow_migrating_name("a--incoming") && xc_follow_migrating_name("a--migratedaway") &&
		       !xc_follow_migrating_name("a-incoming") && !xc_follow_migrating_name("--incomingx"),
	       "the migration's temporary names, and only those");
}

static void test_format(void)
{
	struct xc_follow f = { .uuid = U1, .name = (char *)"web01" };
	struct xc_follow_break b = { .from = 5, .to = 7, .why = XC_PEER_END_REBOOT, .ms = 2314,
				     .bytes = true, .resent = 812, .twice = 0, .unproven = 1024 };
	char buf[256];

	is_str(xc_follow_format(&f, &b, buf, sizeof(buf)),
		   "followed web01 from domain 5 to domain 7 (reboot) in 2.31 s; resent 812 bytes, "
		   "0 may have arrived twice, up to 1024 could not be proven",
		   "the report line, with the resend clause");
	b.bytes = false;
	b.why = XC_PEER_END_SUSPEND;
	b.ms = 40;
	f.name = (char *)"evil\033]0;x";
	is_str(xc_follow_format(&f, &b, buf, sizeof(buf)),
		   "followed evil\\x1b]0;x from domain 5 to domain 7 (save or migrate) in 0.04 s",
		   "without the clause; the name escaped");
	f.name = NULL;
	b.why = XC_PEER_END_MIGRATED;
	is_str(xc_follow_format(&f, &b, buf, sizeof(buf)),
		   "followed " U1 " from domain 5 to domain 7 (migrated) in 0.04 s",
		   "no name: the UUID");
	is_str(xc_peer_end_name(XC_PEER_END_DESTROYED), "destroyed", "nothing seen: destroyed");
	is_str(xc_peer_end_name(XC_PEER_END_POWEROFF), "poweroff", "poweroff");
	is_str(xc_peer_end_name(XC_PEER_END_CRASH), "crash", "crash or watchdog: crash");
}

/* ---- lib/copy.c following, over fake streams ---- */

struct fake {
	int efd;            /* always readable: the loop never sleeps */
	enum xc_proof proof;
	char *got;          /* what was written to this stream */
	size_t len, cap;
	size_t gone_after;  /* goes away once this much was written */
	bool gone;
	bool told;           /* the loop was told it is gone */
	bool pause;          /* every other write finds no room: the loop goes round */
	/* What the proof says: consumed = written - pending, capped. */
	size_t pending_max;  /* at most this much unproven (a socket's queue) */
	bool never_proves;   /* nothing is ever proven */
	bool bad_at_break;   /* the last look is impossible (-EPROTO) */
	size_t proven_stop;  /* once gone, what stays proven; SIZE_MAX: all written */
};

static ssize_t f_read(struct xc_stream *s, void *buf, size_t len)
{
	struct fake *f = s->priv;

	return f->gone ? -EPIPE : -EAGAIN;
}

static ssize_t f_write(struct xc_stream *s, const void *buf, size_t len)
{
	struct fake *f = s->priv;

	if (f->gone) {
		f->told = true;
		return -EPIPE;
	}
	f->pause = !f->pause;
	if (f->pause)
		return -EAGAIN;
	if (f->len + len > f->gone_after)
		len = f->gone_after - f->len;
	if (len > 4096)
		len = 4096;
	if (f->len + len > f->cap) {
		f->cap = (f->len + len) * 2;
		f->got = realloc(f->got, f->cap);
	}
	memcpy(f->got + f->len, buf, len);
	f->len += len;
	if (f->len >= f->gone_after)
		f->gone = true;
	return len ? (ssize_t)len : -EPIPE;
}

static int f_poll(struct xc_stream *s, bool r, bool w, int *fd, short *events)
{
	struct fake *f = s->priv;

	*fd = f->efd;
	*events = POLLIN;
	return 0;
}

static int f_process(struct xc_stream *s, short revents)
{
	struct fake *f = s->priv;

	f->told = f->told || f->gone;
	return f->gone ? -EPIPE : 0;
}

static int f_delivered(struct xc_stream *s, uint64_t *bytes, uint64_t *pending,
		       enum xc_proof *proof)
{
	struct fake *f = s->priv;
	size_t p;

	*proof = f->proof;
	if (f->told && f->bad_at_break)
		return -EPROTO;
	if (f->never_proves)
		p = f->len;
	else if (f->gone && f->proven_stop != SIZE_MAX)
		p = f->len - f->proven_stop;
	else
		p = f->len < f->pending_max ? f->len : f->pending_max;
	/* While alive, a stream that will stop proving proves no more than that. */
	if (!f->gone && f->proven_stop != SIZE_MAX && f->len - p > f->proven_stop)
		p = f->len - f->proven_stop;
	*bytes = f->len - p;
	*pending = p;
	return 0;
}

static void f_close(struct xc_stream *s)
{
	struct fake *f = s->priv;

	close(f->efd);
	free(f->got);
	free(f);
	s->priv = NULL;
}

static const struct xc_stream_ops fake_ops = {
	.read = f_read, .write = f_write, .poll = f_poll, .process = f_process,
	.delivered = f_delivered, .close = f_close,
};

static struct xc_stream *fake_new(enum xc_transport t, enum xc_proof proof, size_t gone_after)
{
	struct xc_stream *s = calloc(1, sizeof(*s));
	struct fake *f = calloc(1, sizeof(*f));

	if (!s || !f)
		tap_bail("out of memory");
	f->efd = eventfd(1, EFD_CLOEXEC);
	f->proof = proof;
	f->gone_after = gone_after;
	f->proven_stop = SIZE_MAX;
	s->ops = &fake_ops;
	s->transport = t;
	s->lock_fd = -1;
	s->priv = f;
	return s;
}

struct follow_run {
	struct xc_copy_break b;
	int breaks;
	struct xc_stream *next; /* handed out at the break */
	char *old_got;          /* what the broken stream got */
	size_t old_len;
	int fail;               /* the reconnect's error, or 0 */
};

static int reconnect(void *data, const struct xc_copy_break *b, struct xc_stream **s)
{
	struct follow_run *fr = data;
	struct fake *f = (*s)->priv;

	fr->b = *b;
	fr->breaks++;
	fr->old_got = malloc(f->len + 1);
	memcpy(fr->old_got, f->got, f->len);
	fr->old_len = f->len;
	xc_stream_close(*s);
	*s = NULL;
	if (fr->fail)
		return fr->fail;
	*s = fr->next;
	fr->next = NULL;
	return 0;
}

static char *input;

/* A file of n bytes of input, open for reading. */
static int input_fd(size_t n)
{
	char path[] = "/tmp/xcfollow.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		tap_bail("mkstemp: %s", strerror(errno));
	unlink(path);
	free(input);
	input = malloc(n);
	for (size_t i = 0; i < n; i++)
		input[i] = (char)(i * 7 + i / 251);
	if (write(fd, input, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0)
		tap_bail("write: %s", strerror(errno));
	return fd;
}

/* Copy n bytes over first, which breaks; the rest over second. */
static int run(size_t n, struct xc_stream *first, struct xc_stream *second,
	       struct follow_run *fr, struct xc_copy_stats *st, uint64_t stall_ms)
{
	struct xc_copy_opts o = { .out_fd = -1, .escape = -1, .reconnect = reconnect,
				  .reconnect_data = fr, .stall_timeout_ms = stall_ms };
	struct xc_stream *s = first;
	int r;

	fr->next = second;
	o.in_fd = input_fd(n);
	r = xc_copy(&s, &o, st);
	close(o.in_fd);
	if (fr->next)
		xc_stream_close(fr->next);
	fr->next = s; /* the stream at the end, for the caller */
	return r;
}

static bool got(struct xc_stream *s, size_t from, size_t n)
{
	struct fake *f = s->priv;

	return f->len == n - from && memcmp(f->got, input + from, n - from) == 0;
}

static void test_copy_consumed(void)
{
	struct follow_run fr = { 0 };
	struct xc_copy_stats st;
	struct xc_stream *a = fake_new(XC_TRANSPORT_DIRECT, XC_PROOF_CONSUMED, 6000);
	struct xc_stream *b = fake_new(XC_TRANSPORT_DIRECT, XC_PROOF_CONSUMED, SIZE_MAX);
	int r;

	/* The guest consumed 4000 of the 6000 bytes when it went. */
	((struct fake *)a->priv)->proven_stop = 4000;
	r = run(10000, a, b, &fr, &st, 0);
	tap_ok(r == 0 && fr.breaks == 1, "consumed: one break followed, then delivered (r %d)", r);
	tap_ok(fr.b.proof == XC_PROOF_CONSUMED && !fr.b.final_bad && fr.b.resent == 2000 &&
		       fr.b.twice == 0 && fr.b.unproven == 0 && fr.b.stream_delivered == 4000,
	       "consumed: resent 2000, 0 twice, 0 unproven (got %llu %llu %llu, delivered %llu)",
	       (unsigned long long)fr.b.resent, (unsigned long long)fr.b.twice,
	       (unsigned long long)fr.b.unproven, (unsigned long long)fr.b.stream_delivered);
	tap_ok(fr.old_len == 6000 && memcmp(fr.old_got, input, 6000) == 0 && got(fr.next, 4000, 10000),
	       "consumed: the new stream gets the input from the first byte not consumed");
	tap_ok(st.written == 10000 && st.delivered == 10000 && st.resent == 2000 && st.breaks == 1,
	       "consumed: the stats");
	free(fr.old_got);
	xc_stream_close(fr.next);
}

static void test_copy_impossible(void)
{
	struct follow_run fr = { 0 };
	struct xc_copy_stats st;
	struct xc_stream *a = fake_new(XC_TRANSPORT_VCHAN, XC_PROOF_CONSUMED, 6000);
	struct xc_stream *b = fake_new(XC_TRANSPORT_VCHAN, XC_PROOF_CONSUMED, SIZE_MAX);
	int r;

	/* 3000 proven while alive; the last look impossible. */
	((struct fake *)a->priv)->proven_stop = 3000;
	((struct fake *)a->priv)->bad_at_break = true;
	r = run(8000, a, b, &fr, &st, 0);
	tap_ok(r == 0 && fr.b.final_bad && fr.b.resent == 3000 && fr.b.twice == 3000 &&
		       fr.b.unproven == 0 && got(fr.next, 3000, 8000),
	       "an impossible last index: all not proven before resent, counted twice");
	free(fr.old_got);
	xc_stream_close(fr.next);
}

static void test_copy_socket(void)
{
	struct follow_run fr = { 0 };
	struct xc_copy_stats st;
	struct xc_stream *a = fake_new(XC_TRANSPORT_SOCKET, XC_PROOF_WRITTEN, 9000);
	struct xc_stream *b = fake_new(XC_TRANSPORT_SOCKET, XC_PROOF_WRITTEN, SIZE_MAX);
	int r;

	/* qemu had read all but 1500 when it went. */
	((struct fake *)a->priv)->proven_stop = 7500;
	r = run(20000, a, b, &fr, &st, 0);
	tap_ok(r == 0 && fr.b.proof == XC_PROOF_WRITTEN && fr.b.resent == 1500 &&
		       fr.b.twice == 1500 && fr.b.unproven == 1024 && got(fr.next, 7500, 20000),
	       "socket: resent what qemu was not seen reading, all counted twice; up to 1024 "
	       "unproven (%llu %llu %llu)",
	       (unsigned long long)fr.b.resent, (unsigned long long)fr.b.twice,
	       (unsigned long long)fr.b.unproven);
	free(fr.old_got);
	xc_stream_close(fr.next);

	/* Less proven than a ring holds: only that could be lost. */
	memset(&fr, 0, sizeof(fr));
	a = fake_new(XC_TRANSPORT_SOCKET, XC_PROOF_WRITTEN, 900);
	b = fake_new(XC_TRANSPORT_SOCKET, XC_PROOF_WRITTEN, SIZE_MAX);
	((struct fake *)a->priv)->proven_stop = 700;
	r = run(5000, a, b, &fr, &st, 0);
	tap_ok(r == 0 && fr.b.resent == 200 && fr.b.unproven == 700 && got(fr.next, 700, 5000),
	       "socket: up to min(1024, proven) could not be proven");
	free(fr.old_got);
	xc_stream_close(fr.next);
}

static void test_copy_pty(void)
{
	struct follow_run fr = { 0 };
	struct xc_copy_stats st;
	struct xc_stream *a = fake_new(XC_TRANSPORT_PTY, XC_PROOF_WRITTEN, 100000);
	struct xc_stream *b = fake_new(XC_TRANSPORT_PTY, XC_PROOF_WRITTEN, SIZE_MAX);
	int r;

	r = run(200000, a, b, &fr, &st, 0);
	tap_ok(r == 0 && fr.b.resent == XC_PTY_HOLD && fr.b.twice == XC_PTY_HOLD &&
		       fr.b.unproven == 1024 && got(fr.next, 100000 - XC_PTY_HOLD, 200000),
	       "pty: what its buffers may hold is resent, counted twice");
	free(fr.old_got);
	xc_stream_close(fr.next);
}

static void test_copy_window(void)
{
	struct follow_run fr = { 0 };
	struct xc_copy_stats st;
	struct xc_stream *a = fake_new(XC_TRANSPORT_SOCKET, XC_PROOF_WRITTEN, SIZE_MAX);
	int r;

	((struct fake *)a->priv)->never_proves = true;
	r = run(1000000, a, NULL, &fr, &st, 300);
	tap_ok(r == -ETIMEDOUT && fr.breaks == 0 &&
		       ((struct fake *)fr.next->priv)->len == XC_COPY_FOLLOW_WINDOW,
	       "the kept window: nothing written past %u bytes not proven (wrote %zu)",
	       XC_COPY_FOLLOW_WINDOW, ((struct fake *)fr.next->priv)->len);
	xc_stream_close(fr.next);
}

static void test_copy_not_followed(void)
{
	struct follow_run fr = { .fail = -EPIPE };
	struct xc_copy_stats st;
	struct xc_stream *a = fake_new(XC_TRANSPORT_DIRECT, XC_PROOF_CONSUMED, 3000);
	int r;

	r = run(5000, a, NULL, &fr, &st, 0);
	tap_ok(r == -EPIPE && fr.next == NULL && st.delivered == 3000,
	       "a reconnect that fails ends the copy as the peer going does (r %d)", r);
	free(fr.old_got);
}

/* ---- against xenstored ---- */

#define DOM 32200u

static struct xc_store *st;

static void put(unsigned d, const char *key, const char *value, const char *perms)
{
	char path[96];
	int r;

	snprintf(path, sizeof(path), "/local/domain/%u%s%s", d, *key ? "/" : "", key);
	r = xc_store_write(st, XBT_NULL, path, value);
	if (r == 0 && perms)
		r = xc_store_set_perms(st, XBT_NULL, path, perms);
	if (r < 0)
		tap_bail("write %s: %s", path, strerror(-r));
}

/* Domain d: its name and vm keys, dom0's unless vm_perms says otherwise. */
static void domain(unsigned d, const char *name, const char *vm, const char *vm_perms)
{
	put(d, "", "", "n0");
	if (name)
		put(d, "name", name, "n0");
	if (vm)
		put(d, "vm", vm, vm_perms ? vm_perms : "n0");
}

static void undomain(unsigned d)
{
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u", d);
	xc_store_rm(st, XBT_NULL, path);
}

static void test_store(void)
{
	struct xc_follow f;
	uint32_t domid = 0;
	int r;

	for (unsigned d = DOM; d < DOM + 10; d++)
		undomain(d);
	domain(DOM + 1, "web01", "/vm/" U1, NULL);
	domain(DOM + 2, "web02", "/vm/" U2, "b0");
	domain(DOM + 3, "web03", NULL, NULL);
	domain(DOM + 4, "web04", "/vm/not-a-uuid", NULL);

	r = xc_follow_init(&f, st, DOM + 2);
	tap_ok(r == -EPERM, "a vm key others may write is not trusted (r %d)", r);
	r = xc_follow_init(&f, st, DOM + 3);
	tap_ok(r == -ENODATA, "no vm key: no UUID (r %d)", r);
	r = xc_follow_init(&f, st, DOM + 4);
	tap_ok(r == -ENODATA, "a malformed vm key: no UUID (r %d)", r);
	r = xc_follow_init(&f, st, DOM + 9);
	tap_ok(r == -ENOENT, "no such domain (r %d)", r);
	r = xc_follow_init(&f, st, DOM + 1);
	tap_ok(r == 0 && strcmp(f.uuid, U1) == 0 && f.name && strcmp(f.name, "web01") == 0 &&
		       f.domid == DOM + 1,
	       "the UUID and name of dom0's keys (r %d)", r);

	/* Its old domain still there, a migration's incoming copy, and a
	 * guest-written key naming the UUID: none is taken. */
	domain(DOM + 5, "web01--incoming", "/vm/" U1, NULL);
	domain(DOM + 6, "web01", "/vm/" U2, NULL);
	domain(DOM + 7, "web01", "/vm/" U1, "b0");
	r = xc_follow_wait(&f, st, xc_deadline(300), &domid);
	tap_ok(r == -ETIMEDOUT,
	       "the old domain, an incoming copy, another UUID, a vm key others may "
	       "write: none taken (r %d)",
	       r);
	put(DOM + 5, "name", "web01", "n0");
	r = xc_follow_wait(&f, st, xc_deadline(3000), &domid);
	tap_ok(r == 0 && domid == DOM + 5 && f.domid == DOM + 5,
	       "the incoming copy once it has the name (r %d, domid %u)", r, domid);
	domain(DOM + 8, "web01", "/vm/" U1, NULL);
	domain(DOM + 9, "web01b", "/vm/" U1, NULL);
	r = xc_follow_wait(&f, st, xc_deadline(300), &domid);
	tap_ok(r == -ETIMEDOUT, "two acceptable domains: neither (r %d)", r);
	undomain(DOM + 9);
	r = xc_follow_wait(&f, st, xc_deadline(3000), &domid);
	tap_ok(r == 0 && domid == DOM + 8, "one left: taken (r %d, domid %u)", r, domid);
	r = xc_follow_wait(&f, st, xc_deadline(300), &domid);
	tap_ok(r == -ETIMEDOUT && f.nused == 3, "a domid used before is not taken again (r %d)", r);
	xc_follow_clear(&f);
	for (unsigned d = DOM; d < DOM + 10; d++)
		undomain(d);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--store") == 0) {
		int r = xc_store_open(&st);

		if (r < 0)
			tap_bail("xenstore: %s", strerror(-r));
		test_store();
		xc_store_close(st);
		return tap_done_trailing_plan();
	}
	test_choose();
	test_format();
	test_copy_consumed();
	test_copy_impossible();
	test_copy_socket();
	test_copy_pty();
	test_copy_window();
	test_copy_not_followed();
	free(input);
	return tap_done_trailing_plan();
}
