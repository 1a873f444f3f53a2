/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/store.c.
 *
 * Needs a running xenstored reached through $XENSTORED_PATH, so it is not in
 * TESTS: run by tests/bats/store.bats on the emulated host.  It works under
 * /xenchan-test/<pid> and removes that tree when done.  Without a xenstored
 * it bails out (fails), it never skips.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "macro.h"
#include "store.h"
#include "tap.h"

static char base[64];

static const char *path(const char *rel)
{
	static char buf[4][256];
	static unsigned next;
	char *p = buf[next++ % ARRAY_SIZE(buf)];

	snprintf(p, sizeof(buf[0]), "%s%s%s", base, *rel ? "/" : "", rel);
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Wait up to timeout_ms for a watch event, sleeping in poll() on the
 * store's descriptor.  Returns 0 with *p and *tok set, -ETIMEDOUT, or -errno.
 */
static int wait_watch(struct xc_store *st, int timeout_ms, char **p, char **tok)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int fd = xc_store_fd(st);

	if (fd < 0)
		return fd;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now;
		int r;

		r = xc_store_read_watch(st, p, tok);
		if (r != -EAGAIN)
			return r;
		now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static void test_read_write(struct xc_store *st)
{
	_cleanup_free_ char *v = NULL;
	char *v2 = NULL;
	uint64_t u = 0;
	int r;

	r = xc_store_write(st, XBT_NULL, path("key"), "hello");
	tap_ok(r == 0, "write a value (r=%d)", r);
	r = xc_store_read(st, XBT_NULL, path("key"), 64, &v);
	tap_ok(r == 0 && v != NULL && streq(v, "hello"), "read it back (r=%d)", r);
	free(TAKE_PTR(v));

	r = xc_store_read(st, XBT_NULL, path("key"), 5, &v);
	tap_ok(r == 0 && v != NULL && streq(v, "hello"), "read with max == length (r=%d)",
	       r);
	free(TAKE_PTR(v));
	r = xc_store_read(st, XBT_NULL, path("key"), 4, &v2);
	tap_ok(r == -EFBIG && v2 == NULL, "read with max < length is -EFBIG (r=%d)", r);

	r = xc_store_write(st, XBT_NULL, path("empty"), "");
	r = r < 0 ? r : xc_store_read(st, XBT_NULL, path("empty"), 0, &v);
	tap_ok(r == 0 && v != NULL && streq(v, ""), "empty value (r=%d)", r);
	free(TAKE_PTR(v));

	r = xc_store_read(st, XBT_NULL, path("missing"), 64, &v2);
	tap_ok(r == -ENOENT && v2 == NULL, "missing key is -ENOENT (r=%d)", r);

	/* A guest can write arbitrary bytes; a NUL inside must not cut the value. */
	if (!xs_write(xc_store_xs(st), XBT_NULL, path("nul"), "a\0b", 3))
		tap_bail("xs_write: %s", strerror(errno));
	r = xc_store_read(st, XBT_NULL, path("nul"), 64, &v2);
	tap_ok(r == -EBADMSG && v2 == NULL, "value with a NUL byte is -EBADMSG (r=%d)",
	       r);

	xc_store_write(st, XBT_NULL, path("num"), "42");
	r = xc_store_read_uint(st, XBT_NULL, path("num"), 100, &u);
	tap_ok(r == 0 && u == 42, "read_uint (r=%d, %" PRIu64 ")", r, u);
	r = xc_store_read_uint(st, XBT_NULL, path("num"), 41, &u);
	tap_ok(r == -ERANGE, "read_uint above max is -ERANGE (r=%d)", r);
	xc_store_write(st, XBT_NULL, path("num"), " 42");
	r = xc_store_read_uint(st, XBT_NULL, path("num"), 100, &u);
	tap_ok(r == -EBADMSG, "read_uint of \" 42\" is -EBADMSG (r=%d)", r);
	xc_store_write(st, XBT_NULL, path("num"), "-1");
	r = xc_store_read_uint(st, XBT_NULL, path("num"), 100, &u);
	tap_ok(r == -EBADMSG, "read_uint of \"-1\" is -EBADMSG (r=%d)", r);
	r = xc_store_read_uint(st, XBT_NULL, path("missing"), 100, &u);
	tap_ok(r == -ENOENT, "read_uint of a missing key is -ENOENT (r=%d)", r);

	r = xc_store_rm(st, XBT_NULL, path("key"));
	tap_ok(r == 0, "rm (r=%d)", r);
	r = xc_store_read(st, XBT_NULL, path("key"), 64, &v2);
	tap_ok(r == -ENOENT, "removed key is gone (r=%d)", r);
	r = xc_store_rm(st, XBT_NULL, path("key"));
	tap_ok(r == 0, "rm of a missing key succeeds (r=%d)", r);
}

static void test_list(struct xc_store *st)
{
	static const char *const children[] = { "10", "b", "2", "a", "1", "B" };
	static const char *const sorted[] = { "1", "2", "10", "B", "a", "b" };
	_cleanup_strv_free_ char **names = NULL;
	char **none = NULL;
	unsigned n = 0;
	bool same = true;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(children); i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "dir/%s", children[i]);
		if (xc_store_write(st, XBT_NULL, path(rel), "x") < 0)
			tap_bail("cannot write %s", path(rel));
	}
	r = xc_store_list(st, XBT_NULL, path("dir"), &names, &n);
	tap_ok(r == 0 && n == ARRAY_SIZE(sorted), "list (r=%d, n=%u)", r, n);
	if (r == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(sorted) && i < n; i++)
			if (!streq(names[i], sorted[i]))
				same = false;
		same = same && names[n] == NULL;
	}
	tap_ok(r == 0 && same, "list is sorted, numbers numerically, NULL-terminated");

	r = xc_store_list(st, XBT_NULL, path("missing"), &none, &n);
	tap_ok(r == -ENOENT && none == NULL, "list of a missing node is -ENOENT (r=%d)",
	       r);

	r = xc_store_rm(st, XBT_NULL, path("dir"));
	tap_ok(r == 0, "rm removes a whole subtree (r=%d)", r);
}

static void test_perms(struct xc_store *st)
{
	_cleanup_free_ struct xs_permissions *perms = NULL;
	unsigned n = 0;
	int r;

	xc_store_write(st, XBT_NULL, path("perm"), "v");
	r = xc_store_set_perms(st, XBT_NULL, path("perm"), "n0 r5 b7");
	tap_ok(r == 0, "set_perms \"n0 r5 b7\" (r=%d)", r);
	perms = xs_get_permissions(xc_store_xs(st), XBT_NULL, path("perm"), &n);
	tap_ok(perms != NULL && n == 3 && perms[0].id == 0 &&
		       perms[0].perms == XS_PERM_NONE && perms[1].id == 5 &&
		       perms[1].perms == XS_PERM_READ && perms[2].id == 7 &&
		       perms[2].perms == (XS_PERM_READ | XS_PERM_WRITE),
	       "permissions read back as set");

	static const char *const bad[] = { "",	  " ",	 "x0",	   "r",	 "r-1",
					   "r 5", "rr5", "r32752", "r05" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = xc_store_set_perms(st, XBT_NULL, path("perm"), bad[i]);
		tap_ok(r == -EINVAL, "set_perms \"%s\" is -EINVAL (r=%d)", bad[i], r);
	}
}

struct tx_state {
	struct xc_store *other;
	unsigned attempts;
	unsigned interfere; /* attempts during which the other session interferes */
	int fail_with;
};

/*
 * Read-modify-write of "counter".  While interfering, the other session
 * changes the key between our read and our write, so the commit conflicts.
 */
static int tx_increment(struct xc_store *st, xs_transaction_t t, void *data)
{
	struct tx_state *s = data;
	_cleanup_free_ char *v = NULL;
	char buf[32];
	uint64_t n;
	int r;

	s->attempts++;
	r = xc_store_read_uint(st, t, path("counter"), UINT64_MAX, &n);
	if (r < 0)
		return r;
	if (s->attempts <= s->interfere) {
		char other[32];

		snprintf(other, sizeof(other), "%" PRIu64, n + 100);
		r = xc_store_write(s->other, XBT_NULL, path("counter"), other);
		if (r < 0)
			return r;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, n + 1);
	r = xc_store_write(st, t, path("counter"), buf);
	if (r < 0)
		return r;
	return s->fail_with;
}

static void test_transaction(struct xc_store *st, struct xc_store *other)
{
	struct tx_state s = { .other = other };
	uint64_t v = 0;
	int r;

	xc_store_write(st, XBT_NULL, path("counter"), "0");
	s.interfere = 0;
	r = xc_store_transaction(st, tx_increment, &s, 3);
	xc_store_read_uint(st, XBT_NULL, path("counter"), UINT64_MAX, &v);
	tap_ok(r == 0 && s.attempts == 1 && v == 1,
	       "transaction without conflict commits once (r=%d, attempts=%u, v=%" PRIu64
	       ")",
	       r, s.attempts, v);

	s = (struct tx_state){ .other = other, .interfere = 1 };
	r = xc_store_transaction(st, tx_increment, &s, 3);
	xc_store_read_uint(st, XBT_NULL, path("counter"), UINT64_MAX, &v);
	tap_ok(r == 0 && s.attempts == 2 && v == 102,
	       "conflicting transaction retries and commits (r=%d, attempts=%u, v=%" PRIu64
	       ")",
	       r, s.attempts, v);

	s = (struct tx_state){ .other = other, .interfere = 100 };
	r = xc_store_transaction(st, tx_increment, &s, 2);
	xc_store_read_uint(st, XBT_NULL, path("counter"), UINT64_MAX, &v);
	tap_ok(r == -EAGAIN && s.attempts == 3 && v == 402,
	       "persistent conflict gives -EAGAIN after max_retries (r=%d, attempts=%u, v=%" PRIu64
	       ")",
	       r, s.attempts, v);

	s = (struct tx_state){ .other = other, .fail_with = -EPERM };
	r = xc_store_transaction(st, tx_increment, &s, 3);
	xc_store_read_uint(st, XBT_NULL, path("counter"), UINT64_MAX, &v);
	tap_ok(r == -EPERM && s.attempts == 1 && v == 402,
	       "failing callback aborts the transaction (r=%d, attempts=%u, v=%" PRIu64
	       ")",
	       r, s.attempts, v);

	s = (struct tx_state){ .other = other, .fail_with = 7 };
	r = xc_store_transaction(st, tx_increment, &s, 3);
	tap_ok(r == 7, "transaction returns the callback's result (r=%d)", r);
}

static void test_watch(struct xc_store *st, struct xc_store *other)
{
	char *p = NULL, *tok = NULL;
	int fd, r;

	fd = xc_store_fd(st);
	tap_ok(fd >= 0, "store descriptor (fd=%d)", fd);
	tap_ok(xc_store_fd(st) == fd, "the same descriptor every time");

	r = xc_store_read_watch(st, &p, &tok);
	tap_ok(r == -EAGAIN, "no event queued before watching (r=%d)", r);

	xc_store_write(st, XBT_NULL, path("w"), "0");
	r = xc_store_watch(st, path("w"), "tok-w");
	tap_ok(r == 0, "watch (r=%d)", r);

	/* A new watch fires once at once. */
	r = wait_watch(st, 5000, &p, &tok);
	tap_ok(r == 0 && streq(p, path("w")) && streq(tok, "tok-w"),
	       "initial event fires on the descriptor (r=%d)", r);
	free(p);
	free(tok);
	p = tok = NULL;
	while (xc_store_read_watch(st, &p, &tok) == 0) {
		free(p);
		free(tok);
	}

	xc_store_write(other, XBT_NULL, path("w/child"), "1");
	r = wait_watch(st, 5000, &p, &tok);
	tap_ok(r == 0 && streq(p, path("w/child")) && streq(tok, "tok-w"),
	       "a change by another session fires the watch (r=%d, path=%s)", r,
	       p != NULL ? p : "(none)");
	free(p);
	free(tok);
	p = tok = NULL;
	while (xc_store_read_watch(st, &p, &tok) == 0) {
		free(p);
		free(tok);
	}

	/*
	 * Queue an event (the descriptor says it is there), then unwatch: the
	 * filter must drop it, and without a leak (libxenstore's own filter
	 * leaked the body of each event it dropped: LeakSanitizer says so).
	 * Another watch's events still come.
	 */
	xc_store_write(st, XBT_NULL, path("x"), "0");
	r = xc_store_watch(st, path("x"), "tok-x");
	tap_ok(r == 0, "a second watch (r=%d)", r);
	r = wait_watch(st, 5000, &p, &tok);
	tap_ok(r == 0 && streq(tok, "tok-x"), "its initial event (r=%d)", r);
	free(p);
	free(tok);
	p = tok = NULL;
	xc_store_write(other, XBT_NULL, path("w/child"), "2");
	{
		struct pollfd pfd = { .fd = xc_store_fd(st), .events = POLLIN };

		r = poll(&pfd, 1, 5000);
		tap_ok(r == 1, "the event is queued (poll %d)", r);
	}
	r = xc_store_unwatch(st, path("w"), "tok-w");
	tap_ok(r == 0, "unwatch (r=%d)", r);
	xc_store_write(other, XBT_NULL, path("w/child"), "3");
	xc_store_write(other, XBT_NULL, path("x"), "1");
	r = wait_watch(st, 5000, &p, &tok);
	tap_ok(r == 0 && streq(tok, "tok-x") && streq(p, path("x")),
	       "after unwatch, only the other watch's event comes (r=%d, %s %s)", r,
	       p ? p : "-", tok ? tok : "-");
	free(p);
	free(tok);
	p = tok = NULL;
	r = wait_watch(st, 300, &p, &tok);
	tap_ok(r == -ETIMEDOUT, "no event after unwatch (r=%d)", r);
	if (r == 0) {
		tap_diag("unexpected event %s %s", p, tok);
		free(p);
		free(tok);
	}
	xc_store_unwatch(st, path("x"), "tok-x");

	r = xc_store_unwatch(st, path("w"), "tok-w");
	tap_ok(r < 0, "unwatch of a watch that is gone fails (r=%d)", r);
}

int main(void)
{
	struct xc_store *st = NULL, *other = NULL;
	int r;

	if (getenv("XENSTORED_PATH") == NULL)
		tap_bail("XENSTORED_PATH is not set: run this on the emulated host");
	snprintf(base, sizeof(base), "/xenchan-test/%ld", (long)getpid());

	r = xc_store_open(&st);
	if (r < 0)
		tap_bail("xc_store_open: %s", strerror(-r));
	r = xc_store_open(&other);
	if (r < 0)
		tap_bail("xc_store_open (second session): %s", strerror(-r));
	tap_ok(true, "two sessions open");

	test_read_write(st);
	test_list(st);
	test_perms(st);
	test_transaction(st, other);
	test_watch(st, other);

	r = xc_store_rm(st, XBT_NULL, path(""));
	tap_ok(r == 0, "remove the test tree (r=%d)", r);
	xc_store_close(other);
	xc_store_close(st);
	xc_store_close(NULL);
	return tap_done_trailing_plan();
}
