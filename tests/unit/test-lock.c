/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/lock.c: lock file names, taking, naming the holder,
 * and waiting for a held lock (woken by its release or its holder's death,
 * or given up at the deadline).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lock.h"
#include "macro.h"
#include "tap.h"

static char dir[] = "/tmp/test-lock.XXXXXX";

struct path_case {
	const char *kind, *id, *want; /* want NULL: -ENAMETOOLONG */
	size_t len;
};

static void run_paths(void)
{
	static const struct path_case cases[] = {
		{ "socket", "/run/q/a.sock", "/d/socket:%2Frun%2Fq%2Fa.sock", 64 },
		{ "direct", "1:org.x", "/d/direct:1:org.x", 64 },
		{ "pty", "a%b", "/d/pty:a%25b", 64 },
		{ "socket", "/abcdef", NULL, 12 },
		{ "socket", "x", NULL, 4 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct path_case *c = &cases[i];
		char buf[64];
		int r = xc_lock_path("/d", c->kind, c->id, buf, c->len);

		if (c->want)
			tap_ok(r == 0 && streq(buf, c->want), "path %s %s: %s", c->kind, c->id,
			       r == 0 ? buf : strerror(-r));
		else
			tap_ok(r == -ENAMETOOLONG, "path %s %s in %zu bytes: too long", c->kind,
			       c->id, c->len);
	}
}

struct later {
	int fd;      /* release this lock... */
	pid_t pid;   /* ...or kill this holder */
	unsigned ms; /* after this long */
};

static void *act_later(void *arg)
{
	struct later *l = arg;
	struct timespec ts = { .tv_nsec = (long)l->ms * 1000000L };

	nanosleep(&ts, NULL);
	if (l->pid > 0)
		kill(l->pid, SIGKILL);
	else
		xc_lock_release(l->fd);
	return NULL;
}

int main(void)
{
	char path[sizeof(dir) + 32];
	uint64_t start, took;
	pthread_t th;
	int fd, fd2, r, p[2];
	struct later l = { .fd = -1 };
	pid_t child;
	char c;

	tap_plan(18);
	run_paths();
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/locks/socket:x", dir);

	tap_ok(xc_lock_holder(path) == 0, "no lock file: no holder");
	fd = xc_lock_take(path);
	tap_ok(fd >= 0, "taken (and its directory made)");
	tap_ok(xc_lock_holder(path) == getpid(), "the holder is named");
	/* flock() locks belong to the open file: a second open conflicts. */
	tap_ok(xc_lock_take(path) == -EBUSY, "held: -EBUSY at once");

	start = xc_now_ms();
	r = xc_lock_take_wait(path, xc_deadline(300));
	took = xc_now_ms() - start;
	tap_ok(r == -EBUSY && took >= 300 && took < 300 + XC_LOCK_RECHECK_MS,
	       "held throughout: -EBUSY at the deadline (%d after %llu ms)", r,
	       (unsigned long long)took);

	/* Released 50 ms in: woken by the release, not by the periodic look. */
	l.fd = fd;
	l.ms = 50;
	if (pthread_create(&th, NULL, act_later, &l) != 0)
		tap_bail("pthread_create");
	start = xc_now_ms();
	fd2 = xc_lock_take_wait(path, xc_deadline(10000));
	took = xc_now_ms() - start;
	pthread_join(th, NULL);
	tap_ok(fd2 >= 0, "taken once released");
	tap_ok(took < XC_LOCK_RECHECK_MS, "woken by the release (%llu ms)",
	       (unsigned long long)took);
	tap_ok(xc_lock_holder(path) == getpid(), "and named as ours");
	xc_lock_release(fd2);
	tap_ok(xc_lock_holder(path) == 0, "released: no holder");

	/* A holder that dies by SIGKILL releases the lock too. */
	if (pipe(p) < 0)
		tap_bail("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		tap_bail("fork: %s", strerror(errno));
	if (child == 0) {
		close(p[0]);
		if (xc_lock_take(path) < 0 || write(p[1], "t", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		tap_bail("the holder did not take the lock");
	close(p[0]);
	tap_ok(xc_lock_holder(path) == child, "a child holds it");
	l.pid = child;
	l.ms = 50;
	if (pthread_create(&th, NULL, act_later, &l) != 0)
		tap_bail("pthread_create");
	start = xc_now_ms();
	fd2 = xc_lock_take_wait(path, xc_deadline(10000));
	took = xc_now_ms() - start;
	pthread_join(th, NULL);
	waitpid(child, NULL, 0);
	tap_ok(fd2 >= 0 && took < XC_LOCK_RECHECK_MS, "taken once its holder was killed (%llu ms)",
	       (unsigned long long)took);
	xc_lock_release(fd2);

	snprintf(path, sizeof(path), "%s/file/socket:x", dir);
	{
		char file[sizeof(dir) + 8];
		FILE *f;

		snprintf(file, sizeof(file), "%s/file", dir);
		f = fopen(file, "w");
		if (f)
			fclose(f);
		tap_ok(xc_lock_take(path) == -ENOTDIR, "a directory that is a file: -ENOTDIR");
		tap_ok(xc_lock_take_wait(path, xc_deadline(100)) == -ENOTDIR,
		       "waiting does not hide it");
		unlink(file);
	}
	{
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
