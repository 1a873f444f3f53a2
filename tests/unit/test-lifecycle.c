/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/lifecycle.c: standard descriptors made valid, caught signals that end
 * waits and guarded calls, deadlines that cut a blocked call, and dying by
 * the signal caught.  Each case runs in a child of its own: the lifecycle
 * is process-global.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "macro.h"
#include "tap.h"

/* Run fn in a child; its exit status, or 128 + the signal that ended it. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) < 0)
		tap_bail("waitpid: %s", strerror(errno));
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static bool is_devnull(int fd)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "/dev/null") == 0;
}

/* 0 when fds 0-2, closed before init, are /dev/null after it. */
static int closed_std(void)
{
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	if (xc_lifecycle_init(0) < 0)
		return 10;
	for (int fd = 0; fd <= 2; fd++)
		if (!is_devnull(fd))
			return 20 + fd;
	/* And the next descriptor opened is not a standard one. */
	return open("/dev/null", O_RDONLY) > STDERR_FILENO ? 0 : 30;
}

/* Only fd 1 closed: 0 and 2 are left alone. */
static int closed_stdout(void)
{
	int keep = dup(STDERR_FILENO);

	close(STDOUT_FILENO);
	if (xc_lifecycle_init(0) < 0)
		return 10;
	if (!is_devnull(STDOUT_FILENO))
		return 11;
	return fcntl(STDERR_FILENO, F_GETFD) >= 0 && keep > 2 ? 0 : 12;
}

static int wait_deadline(void)
{
	int p[2];
	struct pollfd pf;
	uint64_t start;
	int r;

	if (xc_lifecycle_init(XC_LIFECYCLE_SIGNALS) < 0 || pipe(p) < 0)
		return 10;
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	start = xc_now_ms();
	r = xc_wait_fds(&pf, 1, xc_deadline(100));
	if (r != -ETIMEDOUT || xc_now_ms() - start < 100)
		return 11;
	if (write(p[1], "x", 1) != 1)
		return 12;
	r = xc_wait_fds(&pf, 1, XC_NEVER);
	return r == 1 && (pf.revents & POLLIN) ? 0 : 13;
}

static int wait_signal(void)
{
	int p[2];
	struct pollfd pf;

	if (xc_lifecycle_init(XC_LIFECYCLE_SIGNALS) < 0 || pipe(p) < 0)
		return 10;
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	raise(SIGTERM); /* caught: the process goes on */
	if (xc_wait_fds(&pf, 1, XC_NEVER) != -EINTR)
		return 11;
	if (xc_lifecycle_signal() != SIGTERM)
		return 12;
	/* A teardown waits again, bounded by its own deadline. */
	xc_teardown_begin(50);
	if (xc_wait_fds(&pf, 1, XC_NEVER) != -ETIMEDOUT)
		return 13;
	xc_teardown_end();
	xc_teardown_begin(1000);
	if (xc_guard_begin(XC_NEVER) != 0)
		return 14;
	xc_guard_end();
	xc_teardown_end();
	if (xc_guard_begin(XC_NEVER) != -EINTR)
		return 15;
	return 0;
}

/* A call blocked on a registered socket is cut at the deadline. */
static int guard_deadline(void)
{
	int sv[2];
	char c;
	uint64_t start;

	if (xc_lifecycle_init(XC_LIFECYCLE_SIGNALS) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || xc_guard_add_fd(sv[0]) < 0)
		return 10;
	start = xc_now_ms();
	if (xc_guard_begin(xc_deadline(100)) != 0)
		return 11;
	/* Nobody writes: only the guard can end this read. */
	if (read(sv[0], &c, 1) > 0)
		return 12;
	if (xc_guard_end() != -ETIMEDOUT || xc_now_ms() - start < 100)
		return 13;
	/* A passed deadline refuses the call. */
	return xc_guard_begin(1) == -ETIMEDOUT ? 0 : 14;
}

/* The command's deadline bounds waits and guarded calls that asked for
 * none, but not a teardown. */
static int command_deadline(void)
{
	int p[2];
	struct pollfd pf;
	uint64_t start;

	if (xc_lifecycle_init(XC_LIFECYCLE_SIGNALS) < 0 || pipe(p) < 0)
		return 10;
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	start = xc_now_ms();
	xc_lifecycle_set_deadline(xc_deadline(100));
	if (xc_wait_fds(&pf, 1, XC_NEVER) != -ETIMEDOUT || xc_now_ms() - start < 100)
		return 11;
	if (xc_guard_begin(XC_NEVER) != -ETIMEDOUT)
		return 12;
	xc_teardown_begin(1000);
	if (xc_guard_begin(XC_NEVER) != 0)
		return 13;
	xc_guard_end();
	xc_teardown_end();
	xc_lifecycle_set_deadline(XC_NEVER);
	if (xc_guard_begin(XC_NEVER) != 0)
		return 14;
	xc_guard_end();
	return 0;
}

/* A wait in steps: the end of a step goes on, the command's deadline ends it. */
static int wait_over(void)
{
	if (xc_lifecycle_init(0) < 0)
		return 10;
	if (xc_wait_over(0) || xc_wait_over(1) || xc_wait_over(-ETIMEDOUT))
		return 11;
	if (!xc_wait_over(-EINTR) || !xc_wait_over(-EIO))
		return 12;
	xc_lifecycle_set_deadline(xc_now_ms() - 1); /* passed */
	if (!xc_wait_over(-ETIMEDOUT))
		return 13;
	xc_teardown_begin(1000);
	if (xc_wait_over(-ETIMEDOUT) || xc_lifecycle_deadline() == XC_NEVER)
		return 14;
	xc_teardown_end();
	xc_lifecycle_set_deadline(XC_NEVER);
	if (xc_wait_over(-ETIMEDOUT) || xc_lifecycle_deadline() != XC_NEVER)
		return 15;
	return 0;
}

/* A signal during a call that does not return: cut soon after. */
static int guard_signal(void)
{
	int sv[2];
	pid_t me = getpid();
	ssize_t n;
	char c;

	if (xc_lifecycle_init(XC_LIFECYCLE_SIGNALS) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || xc_guard_add_fd(sv[0]) < 0)
		return 10;
	if (fork() == 0) {
		usleep(100 * 1000);
		kill(me, SIGINT);
		_exit(0);
	}
	if (xc_guard_begin(XC_NEVER) != 0)
		return 11;
	/* As libxenstore reads: EINTR is retried, only the cut ends it. */
	while ((n = read(sv[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n > 0)
		return 12;
	if (xc_guard_end() != -EINTR || xc_lifecycle_signal() != SIGINT)
		return 13;
	wait(NULL);
	return 0;
}

static int die_by_signal(void)
{
	if (xc_lifecycle_init(XC_LIFECYCLE_SIGNALS) < 0)
		return 10;
	xc_lifecycle_die(); /* nothing caught: returns */
	raise(SIGHUP);
	xc_lifecycle_die();
	return 11;
}

int main(void)
{
	int r;

	tap_ok(in_child(closed_std) == 0, "fds 0, 1, 2 closed become /dev/null");
	tap_ok(in_child(closed_stdout) == 0, "a closed stdout alone becomes /dev/null");
	tap_ok(in_child(wait_deadline) == 0, "xc_wait_fds: a deadline, then a ready descriptor");
	r = in_child(wait_signal);
	tap_ok(r == 0,
	       "xc_wait_fds: a caught signal ends the wait; a teardown waits again (%d)", r);
	tap_ok(in_child(guard_deadline) == 0, "a guarded call blocked past its deadline is cut");
	r = in_child(command_deadline);
	tap_ok(r == 0, "the command's deadline bounds waits and guarded calls, not teardown (%d)",
	       r);
	r = in_child(wait_over);
	tap_ok(r == 0, "xc_wait_over: a step's end goes on, the command's deadline ends (%d)", r);
	r = in_child(guard_signal);
	tap_ok(r == 0, "a guarded call that does not return is cut by a signal (%d)", r);
	tap_ok(in_child(die_by_signal) == 128 + SIGHUP, "xc_lifecycle_die dies by the signal caught");
	return tap_done_trailing_plan();
}
