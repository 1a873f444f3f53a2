/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "lock.h"
#include "log.h"
#include "macro.h"
#include "parse.h"

#define DEFAULT_DIR "/run/xenchan/locks"
/* "<pid>\n" */
#define PID_TEXT_MAX 32

/* The step the last failure to take a lock failed at, for xc_lock_error(). */
static char lock_error[PATH_MAX + 64];

static int failed(int err, const char *what, const char *path)
{
	snprintf(lock_error, sizeof(lock_error), "%s %s: %s", what, path, strerror(err));
	return -err;
}

const char *xc_lock_error(void)
{
	return lock_error;
}

int xc_lock_path(const char *dir, const char *kind, const char *id, char *buf,
		 size_t len)
{
	const char *rd = getenv("XENCHAN_RUNDIR");
	size_t o;
	int n;

	if (dir)
		n = snprintf(buf, len, "%s/%s:", dir, kind);
	else if (rd && *rd)
		n = snprintf(buf, len, "%s/locks/%s:", rd, kind);
	else
		n = snprintf(buf, len, "%s/%s:", DEFAULT_DIR, kind);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	o = (size_t)n;
	for (const char *p = id; *p; p++) {
		if (o + 4 >= len)
			return -ENAMETOOLONG;
		if (*p == '/' || *p == '%')
			o += (size_t)snprintf(buf + o, len - o, "%%%02X", (unsigned char)*p);
		else
			buf[o++] = *p;
	}
	buf[o] = '\0';
	return 0;
}

int xc_lock_path_named(const char *dir, const char *kind, uint32_t domid,
		       const char *name, char *buf, size_t len)
{
	char id[XC_LOCK_ID_MAX];

	if ((size_t)snprintf(id, sizeof(id), "%u:%s", domid, name) >= sizeof(id))
		return -ENAMETOOLONG;
	return xc_lock_path(dir, kind, id, buf, len);
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The lock file at path, made with its directory; not locked yet. */
static int lock_open(const char *path)
{
	char dir[PATH_MAX];
	int r, fd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir) || !strrchr(dir, '/'))
		return -ENAMETOOLONG;
	*strrchr(dir, '/') = '\0';
	r = mkdir_p(dir);
	if (r < 0)
		return failed(-r, "lock directory", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	return fd < 0 ? failed(errno, "lock file", path) : fd;
}

/* Lock the open lock file fd and write our pid into it: 0, -EBUSY or -errno. */
static int lock_claim(int fd, const char *path)
{
	char pid[PID_TEXT_MAX];
	int n;

	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : failed(errno, "lock file", path);
	/* The holder's pid, for the message a second user gets. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		return failed(errno ? errno : EIO, "lock file", path);
	xc_dbg("lock %s taken", path);
	return 0;
}

int xc_lock_take(const char *path)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = lock_open(path);
	if (fd < 0)
		return fd;
	r = lock_claim(fd, path);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int xc_lock_take_wait(const char *path, uint64_t deadline)
{
	_cleanup_close_ int fd = -1, ino = -1;
	int r;

	fd = lock_open(path);
	if (fd < 0)
		return fd;
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0)
		return failed(errno, "lock file", path);
	/*
	 * A holder releasing the lock truncates the file (xc_lock_release());
	 * one that dies closes a descriptor open for writing.  Watched before
	 * the lock is tried, so no release falls between the two; and our own
	 * descriptor stays open, so our own tries wake nobody.
	 */
	if (inotify_add_watch(ino, path, IN_MODIFY | IN_CLOSE_WRITE) < 0)
		return failed(errno, "lock file", path);
	for (;;) {
		uint64_t now = xc_now_ms();
		struct pollfd p = { .fd = ino, .events = POLLIN };
		char ev[4096];

		r = lock_claim(fd, path);
		if (r == 0)
			return TAKE_FD(fd);
		if (r != -EBUSY)
			return r;
		if (xc_deadline_passed(deadline, now))
			return -EBUSY;
		r = xc_wait_fds(&p, 1,
				xc_deadline_min(deadline, xc_deadline_at(now, XC_LOCK_RECHECK_MS)));
		if (xc_wait_over(r))
			return r;
		while (read(ino, ev, sizeof(ev)) > 0)
			;
	}
}

void xc_lock_release(int fd)
{
	if (fd < 0)
		return;
	/* Still held: nobody reads a pid that is about to be stale. */
	if (ftruncate(fd, 0) < 0)
		xc_dbg("lock: %s", strerror(errno));
	close(fd);
}

pid_t xc_lock_holder(const char *path)
{
	char buf[PID_TEXT_MAX];
	_cleanup_close_ int fd = -1;
	uint64_t pid;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	/* Not held any more: nobody to name. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (xc_parse_uint(buf, INT_MAX, &pid) < 0 || pid == 0)
		return 0;
	return (pid_t)pid;
}
