/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/sockdiag.c, on real sockets: a listener in this process
 * with qemu's backlog of 1, which accepts or does not, and a holder in a
 * child process with a hostile name.  Needs sock_diag for unix sockets: a
 * kernel without it fails the test rather than skipping it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "sockdiag.h"
#include "tap.h"

static char dir[] = "/tmp/test-sockdiag.XXXXXX";
static char path[sizeof(dir) + 16];

static int listen_at(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		tap_bail("socket: %s", strerror(errno));
	strcpy(sa.sun_path, p);
	/* qemu's chardev listens with a backlog of 1. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		tap_bail("listen %s: %s", p, strerror(errno));
	return fd;
}

static int connect_to(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		tap_bail("socket: %s", strerror(errno));
	strcpy(sa.sun_path, p);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		tap_bail("connect %s: %s", p, strerror(errno));
	return fd;
}

static int accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		tap_bail("accept: %s", strerror(errno));
	return fd;
}

static struct xc_sock_info query(int fd)
{
	struct xc_sock_info in;
	int r = xc_sockdiag_query(path, fd, &in);

	if (r < 0)
		tap_bail("xc_sockdiag_query: %s (is unix_diag available?)", strerror(-r));
	return in;
}

/* A child named "hold\e[1m" that connects and waits until its pipe closes. */
static pid_t spawn_holder(int *stop)
{
	int ready[2], go[2];
	char c;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd;

		close(ready[0]);
		close(go[1]);
		prctl(PR_SET_NAME, "hold\x1b[1m", 0, 0, 0);
		fd = connect_to(path);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		/* Until the parent closes its end. */
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1)
		tap_bail("the holder did not start");
	close(ready[0]);
	*stop = go[1];
	return pid;
}

int main(void)
{
	struct xc_sock_info in;
	_cleanup_close_ int lfd = -1, a = -1, sa = -1, c = -1, sh = -1, sc = -1;
	int stop, status, p[2];
	char comm[XC_COMM_MAX];
	pid_t holder;

	tap_plan(19);
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/s", dir);
	lfd = listen_at(path);

	/* Connected, queued, not accepted: pending, and nobody else served. */
	a = connect_to(path);
	in = query(a);
	tap_ok(in.state == XC_SOCK_PENDING, "a queued connection is pending");
	tap_ok(in.backlog == 1, "the backlog counts it (%u)", in.backlog);
	tap_ok(!in.held && in.holder_pid == 0, "nobody holds the channel");

	sa = accept_one(lfd);
	in = query(a);
	tap_ok(in.state == XC_SOCK_ACCEPTED, "accepted once the server accepts");
	tap_ok(in.backlog == 0, "the backlog is empty");
	tap_ok(!in.held, "our own connection is not another holder");
	close(sa);
	sa = -1;
	close(a);
	a = -1;

	/* Another process holds the accepted connection; we wait behind it. */
	holder = spawn_holder(&stop);
	sh = accept_one(lfd);
	c = connect_to(path);
	in = query(c);
	tap_ok(in.state == XC_SOCK_PENDING, "pending behind a holder");
	tap_ok(in.held, "the channel is held");
	tap_ok(in.holder_pid == holder, "the holder's pid (%ld, want %ld)", (long)in.holder_pid,
	       (long)holder);
	tap_ok(streq(in.holder_comm, "hold\\x1b[1m"), "its name, escaped: %s", in.holder_comm);

	/* Only the holder, without a connection of our own. */
	in = query(-1);
	tap_ok(in.state == XC_SOCK_UNKNOWN && in.held && in.holder_pid == holder,
	       "without a descriptor: the holder alone");

	/* The holder leaves; the server takes the next client: us. */
	close(stop);
	if (waitpid(holder, &status, 0) != holder || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		tap_bail("the holder failed");
	close(sh);
	sh = -1;
	sc = accept_one(lfd);
	in = query(c);
	tap_ok(in.state == XC_SOCK_ACCEPTED, "accepted after the holder left");
	tap_ok(!in.held, "nobody else holds it");

	/* Bad input. */
	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	tap_ok(xc_sockdiag_query(path, p[0], &in) == -ENOTSOCK, "a pipe is not a socket");
	close(p[0]);
	close(p[1]);
	tap_ok(xc_sockdiag_query(path, 12345, &in) == -EBADF, "a closed descriptor: -EBADF");
	{
		char other[sizeof(path) + 8];

		snprintf(other, sizeof(other), "%s/none", dir);
		tap_ok(xc_sockdiag_query(other, c, &in) == 0 && in.state == XC_SOCK_ACCEPTED &&
			       !in.held && in.backlog == 0,
		       "another path: ours still accepted, nothing held there");
	}
	tap_ok(xc_socket_owner(0) == 0, "inode 0 belongs to nobody");
	tap_ok(xc_proc_comm(getpid(), comm, sizeof(comm)) == 0 && streq(comm, "test-sockdiag"),
	       "our own name: %s", comm);
	tap_ok(xc_proc_comm(holder, comm, sizeof(comm)) == -ENOENT && comm[0] == '\0',
	       "a reaped process has no name");

	unlink(path);
	rmdir(dir);
	return tap_done();
}
