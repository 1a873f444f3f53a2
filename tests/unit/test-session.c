/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/target.c, lib/wait.c, lib/stream.c and lib/session.c against the real
 * xenstored of an emulated host, as dom0, on domains made of xenstore nodes
 * alone (fresh domids no domain of the host uses): the one lookup rule, the
 * wait's deadline, the channel's lock, and the session's failures leaving
 * nothing behind.  Run by tests/bats/unit-store.bats.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "macro.h"
#include "session.h"
#include "stream.h"
#include "target.h"
#include "untrusted.h"
#include "wait.h"
#include "tap.h"

#define DOM 32100u
#define DOMNAME "xenchan-session-test"
#define NAME "org.example.shadow.0"

static struct xc_store *st;
static char tmpdir[] = "/tmp/xct.XXXXXX";

static void put(const char *path, const char *value, const char *perms)
{
	int r = xc_store_write(st, XBT_NULL, path, value);

	if (r == 0 && perms)
		r = xc_store_set_perms(st, XBT_NULL, path, perms);
	if (r < 0)
		tap_bail("write %s: %s", path, strerror(-r));
}

/* A console device: with a trusted copy (socket at sock), or the guest's own. */
static void device(unsigned devid, const char *name, bool trusted, const char *sock)
{
	/* Owned by dom0: xenstored gives no node to a domain it does not know,
	 * and what makes a device untrusted is the missing trusted copy. */
	const char *owner = NULL;
	char fe[96], be[96], lx[96], p[160];

	snprintf(fe, sizeof(fe), "/local/domain/%u/device/console/%u", DOM, devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/console/%u/%u", DOM, devid);
	snprintf(lx, sizeof(lx), "/libxl/%u/device/console/%u", DOM, devid);
	snprintf(p, sizeof(p), "%s/name", fe);
	put(p, name, owner);
	snprintf(p, sizeof(p), "%s/state", fe);
	put(p, "4", owner);
	snprintf(p, sizeof(p), "%s/backend", fe);
	put(p, be, owner);
	snprintf(p, sizeof(p), "%s/state", be);
	put(p, "4", NULL);
	snprintf(p, sizeof(p), "%s/connection", be);
	put(p, "socket", NULL);
	if (!trusted)
		return;
	snprintf(p, sizeof(p), "%s/name", lx);
	put(p, name, NULL);
	snprintf(p, sizeof(p), "%s/frontend", lx);
	put(p, fe, NULL);
	snprintf(p, sizeof(p), "%s/backend", lx);
	put(p, be, NULL);
	snprintf(p, sizeof(p), "%s/connection", lx);
	put(p, "socket", NULL);
	snprintf(p, sizeof(p), "%s/path", lx);
	put(p, sock, NULL);
}

static void cleanup(void)
{
	char p[96];

	snprintf(p, sizeof(p), "/local/domain/%u", DOM);
	xc_store_rm(st, XBT_NULL, p);
	snprintf(p, sizeof(p), "/libxl/%u", DOM);
	xc_store_rm(st, XBT_NULL, p);
	snprintf(p, sizeof(p), "/local/domain/0/backend/console/%u", DOM);
	xc_store_rm(st, XBT_NULL, p);
}

static void make_domain(void)
{
	char p[96];

	cleanup();
	snprintf(p, sizeof(p), "/local/domain/%u/name", DOM);
	put(p, DOMNAME, NULL);
}

/* Accept every connection until the listener is shut down, as qemu does
 * one at a time: a socket stream is open only once accepted. */
static void *server(void *arg)
{
	int lfd = *(int *)arg, fds[16];
	size_t n = 0;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			break;
		if (n == ARRAY_SIZE(fds))
			close(fd);
		else
			fds[n++] = fd;
	}
	while (n)
		close(fds[--n]);
	return NULL;
}

/* A listener at path, as qemu's socket. */
static int listener(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		tap_bail("%s: too long for a socket", path);
	memcpy(sa.sun_path, path, strlen(path));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		tap_bail("listen %s: %s", path, strerror(errno));
	return fd;
}

static void test_lookup(const char *sock)
{
	struct xc_target_opts o = { 0 };
	struct xc_target t;
	int r;

	/* The guest's device at the lower devid names the trusted one's name. */
	make_domain();
	device(1, NAME, false, NULL);
	device(2, NAME, true, sock);
	r = xc_target_find(st, DOMNAME, NAME, &o, &t);
	tap_ok(r == 0 && t.chosen->devid == 2 && !(t.chosen->flags & XC_CHAN_NO_TRUSTED_COPY),
	       "target: a trusted channel wins over a guest's device of its name (r %d)", r);
	xc_target_clear(&t);

	/* xenchan-wait -p takes the same one. */
	{
		struct xc_wait_result res;
		const char *names[] = { NAME };

		r = xc_wait(st, DOMNAME, names, 1, XC_WAIT_CONNECTED, 2000, &res);
		tap_ok(r == 0 && res.nchannels == 1 && res.channels[0].devid == 2,
		       "wait: the trusted channel too (r %d)", r);
		if (r == 0)
			xc_wait_result_clear(&res);
	}

	/* Two of the guest's own, and no trusted one: believe neither. */
	make_domain();
	device(1, NAME, false, NULL);
	device(2, NAME, false, NULL);
	r = xc_target_find(st, DOMNAME, NAME, &o, &t);
	tap_ok(r == -ENOTUNIQ && t.n == 2, "target: two untrusted candidates are ambiguous (r %d)",
	       r);
	xc_target_clear(&t);
}

static void test_wait_deadline(void)
{
	struct xc_wait_result res;
	const char *names[] = { "org.example.never.0" };
	uint64_t start = xc_now_ms();
	int r;

	make_domain();
	r = xc_wait(st, DOMNAME, names, 1, XC_WAIT_READY, 200, &res);
	tap_ok(r == -ETIMEDOUT && xc_now_ms() - start >= 200,
	       "wait: a channel that never comes times out at the deadline (r %d)", r);
}

static void test_lock(const char *sock)
{
	struct xc_stream_opts o = { 0 };
	struct xc_target_opts to = { 0 };
	struct xc_stream *s1 = NULL, *s2 = NULL;
	struct xc_target t;
	char dir[160], file[160], why[256], want[256];
	int r;

	make_domain();
	device(1, NAME, true, sock);
	r = xc_target_find(st, DOMNAME, NAME, &to, &t);
	if (r < 0)
		tap_bail("target: %s", strerror(-r));
	snprintf(dir, sizeof(dir), "%s/locks", tmpdir);
	o.lock_dir = dir;
	r = xc_stream_open(st, t.chosen, &o, &s1);
	tap_ok(r == 0, "stream: the first user opens the channel (r %d)", r);
	r = xc_stream_open(st, t.chosen, &o, &s2);
	tap_ok(r == -EBUSY && xc_stream_holder(t.chosen, &o, NULL, 0) == getpid(),
	       "stream: a second is busy, and told who holds it (r %d)", r);
	xc_stream_close(s1);
	r = xc_stream_open(st, t.chosen, &o, &s2);
	tap_ok(r == 0 && xc_stream_holder(t.chosen, &o, NULL, 0) == getpid(),
	       "stream: free again once closed (r %d)", r);
	xc_stream_close(s2);

	/* A lock directory that cannot be made: said as a lock failure. */
	snprintf(file, sizeof(file), "%s/file", tmpdir);
	fclose(fopen(file, "w"));
	snprintf(dir, sizeof(dir), "%s/file/locks", tmpdir);
	r = xc_stream_open(st, t.chosen, &o, &s1);
	xc_stream_strerror(r, t.chosen, &o, why, sizeof(why));
	snprintf(want, sizeof(want), "lock directory %s: Not a directory", dir);
	tap_ok(r == -ENOLCK && strcmp(why, want) == 0,
	       "stream: a lock that cannot be taken names the step: %s", why);
	unlink(file);
	xc_target_clear(&t);
}

/* qemu that never accepts, and nobody else served: the open waits for it,
 * bounded by the timeout, and returns no stream to write into. */
static void test_not_accepted(void)
{
	struct xc_stream_opts o = { .timeout_ms = 300 };
	struct xc_target_opts to = { 0 };
	struct xc_stream *s = NULL;
	struct xc_target t;
	char sock[160], dir[160];
	uint64_t start;
	int lfd, r;

	cleanup();
	snprintf(sock, sizeof(sock), "%s/mute.sock", tmpdir);
	lfd = listener(sock);
	make_domain();
	device(1, NAME, true, sock);
	r = xc_target_find(st, DOMNAME, NAME, &to, &t);
	if (r < 0)
		tap_bail("target: %s", strerror(-r));
	snprintf(dir, sizeof(dir), "%s/locks", tmpdir);
	o.lock_dir = dir;
	start = xc_now_ms();
	r = xc_stream_open(st, t.chosen, &o, &s);
	tap_ok(r == -ETIMEDOUT && !s && xc_now_ms() - start >= 300,
	       "stream: a connection qemu never accepts times out, unused (r %d)", r);
	xc_target_clear(&t);
	close(lfd);
	unlink(sock);
}

static void test_session_failures(void)
{
	struct xc_session_opts o = { .listen = true };
	struct xc_session ss;
	char domid[16], path[96], *v = NULL;
	int r;

	cleanup();
	snprintf(domid, sizeof(domid), "%u", DOM);
	o.stream.transport = XC_TRANSPORT_VCHAN;
	o.stream.timeout_ms = 1000;
	r = xc_session_open(&ss, domid, "x", &o);
	tap_ok(r == -ENOENT && ss.step == XC_STEP_LOOKUP,
	       "session: serving vchan to no domain: -ENOENT at the lookup (r %d)", r);
	xc_session_close(&ss);
	snprintf(path, sizeof(path), "/local/domain/0/data/vchan/%u", DOM);
	tap_ok(xc_store_read(st, XBT_NULL, path, XC_VALUE_MAX, &v) == -ENOENT,
	       "session: nothing published for it");
	free(v);
	o.listen = false;
	o.stream.transport = XC_TRANSPORT_UNKNOWN;
	r = xc_session_open(&ss, DOMNAME, NAME, &o);
	tap_ok(r == -ENOENT && ss.step == XC_STEP_LOOKUP,
	       "session: no such domain: -ENOENT at the lookup (r %d)", r);
	xc_session_close(&ss);
	xc_session_close(&ss); /* twice is allowed */
}

int main(void)
{
	char sock[128];
	pthread_t th;
	int lfd, r;

	if (!mkdtemp(tmpdir))
		tap_bail("mkdtemp: %s", strerror(errno));
	r = xc_store_open(&st);
	if (r < 0)
		tap_bail("xenstore: %s", strerror(-r));
	snprintf(sock, sizeof(sock), "%s/agent.sock", tmpdir);
	lfd = listener(sock);
	if (pthread_create(&th, NULL, server, &lfd) != 0)
		tap_bail("pthread_create");
	test_lookup(sock);
	test_wait_deadline();
	test_lock(sock);
	test_not_accepted();
	test_session_failures();
	cleanup();
	/* Wakes the server's accept(). */
	shutdown(lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(lfd);
	unlink(sock);
	rmdir(tmpdir);
	xc_store_close(st);
	return tap_done_trailing_plan();
}
