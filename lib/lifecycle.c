/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "macro.h"

/* After a signal, how long a guarded call may go on before it is cut:
 * long enough for a xenstored that answers, short enough to feel prompt. */
#define GRACE_MS 200
/* Once a guarded call is cut, how often blocked syscalls are interrupted. */
#define REPEAT_MS 50
/* Sockets a guard may shut down: the xenstore connections of a command. */
#define GUARD_FDS_MAX 16
/* Descriptors xc_wait_fds() takes, besides the signal descriptor. */
#define WAIT_FDS_MAX 8

static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static int wake[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;
static atomic_int guard_depth;
static atomic_int guard_cut; /* 0, ETIMEDOUT or EINTR */
static atomic_int guard_fds[GUARD_FDS_MAX] = { [0 ... GUARD_FDS_MAX - 1] = -1 };
static unsigned teardown_depth;
static uint64_t teardown_deadline = XC_NEVER;
static uint64_t command_deadline = XC_NEVER;

static int open_std(int fd)
{
	int r;

	if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
		return 0;
	/* The lowest free descriptor is fd itself: 0, 1, 2 are done in order. */
	r = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
	if (r < 0)
		return -errno;
	if (r != fd) {
		close(r);
		return -EBADF;
	}
	return 0;
}

/*
 * Fire in ms, then every REPEAT_MS until disarmed (0): a call that retries
 * after the first interruption (libxenstore tries a second path when the
 * first connect() fails) is interrupted again.
 */
static void arm_timer(uint64_t ms)
{
	struct itimerval it = { 0 };

	if (ms) {
		it.it_value.tv_sec = (time_t)(ms / 1000);
		it.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		it.it_interval.tv_usec = REPEAT_MS * 1000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

static void cut_guarded(int why)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong(&guard_cut, &expected, why))
		return;
	for (unsigned i = 0; i < GUARD_FDS_MAX; i++) {
		int fd = atomic_load(&guard_fds[i]);

		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
	}
}

static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	if (atomic_load(&guard_depth) > 0)
		cut_guarded(got_signal && !teardown_depth ? EINTR : ETIMEDOUT);
	errno = saved;
}

static void on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	if (!got_signal)
		got_signal = sig;
	if (write(wake[1], &c, 1) < 0) {
		/* Full: it is readable already. */
	}
	if (atomic_load(&guard_depth) > 0 && !teardown_depth) {
		struct itimerval cur;

		/* Give a call that is answered a moment to finish. */
		if (getitimer(ITIMER_REAL, &cur) < 0 ||
		    (cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0) ||
		    cur.it_value.tv_sec * 1000 + cur.it_value.tv_usec / 1000 > GRACE_MS)
			arm_timer(GRACE_MS);
	}
	errno = saved;
}

int xc_lifecycle_init(unsigned flags)
{
	struct sigaction sa = { 0 };
	int r;

	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		r = open_std(fd);
		if (r < 0)
			return r;
	}
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		return -errno;
	/* A closed pipe or socket is an error to report, not a death. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	if (!(flags & XC_LIFECYCLE_SIGNALS))
		return 0;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	/* One handler at a time: none interrupts another. */
	sa.sa_handler = on_signal;
	sigaddset(&sa.sa_mask, SIGALRM);
	for (size_t i = 0; i < ARRAY_SIZE(caught); i++)
		sigaddset(&sa.sa_mask, caught[i]);
	for (size_t i = 0; i < ARRAY_SIZE(caught); i++) {
		struct sigaction old;

		/* Ignored when we started (nohup, a script's background job):
		 * it stays ignored, as the caller asked. */
		if (sigaction(caught[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(caught[i], &sa, NULL) < 0)
			return -errno;
	}
	return 0;
}

int xc_lifecycle_fd(void)
{
	return wake[0];
}

int xc_lifecycle_signal(void)
{
	return got_signal;
}

void xc_lifecycle_die(void)
{
	struct sigaction sa = { 0 };
	sigset_t set;
	int sig = got_signal;

	if (!sig)
		return;
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

void xc_teardown_begin(uint64_t ms)
{
	if (teardown_depth++ == 0)
		teardown_deadline = xc_deadline(ms);
}

void xc_teardown_end(void)
{
	if (teardown_depth && --teardown_depth == 0)
		teardown_deadline = XC_NEVER;
}

void xc_lifecycle_set_deadline(uint64_t deadline)
{
	command_deadline = deadline;
}

uint64_t xc_lifecycle_deadline(void)
{
	return teardown_depth ? teardown_deadline : command_deadline;
}

bool xc_wait_over(int r)
{
	if (r >= 0)
		return false;
	return r != -ETIMEDOUT || xc_deadline_passed(xc_lifecycle_deadline(), xc_now_ms());
}

int xc_wait_fds(struct pollfd *p, unsigned n, uint64_t deadline)
{
	struct pollfd all[WAIT_FDS_MAX + 1];
	bool sig = wake[0] >= 0 && !teardown_depth;

	if (n > WAIT_FDS_MAX)
		return -EINVAL;
	if (teardown_depth)
		deadline = xc_deadline_min(deadline, teardown_deadline);
	else
		deadline = xc_deadline_min(deadline, command_deadline);
	memcpy(all, p, n * sizeof(*p));
	if (sig)
		all[n] = (struct pollfd){ .fd = wake[0], .events = POLLIN };
	for (;;) {
		uint64_t now = xc_now_ms();
		int r;

		if (sig && got_signal)
			return -EINTR;
		r = poll(all, n + sig, xc_deadline_poll_ms(deadline, now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (sig && all[n].revents)
			return -EINTR;
		if (r > 0) {
			for (unsigned i = 0; i < n; i++)
				p[i].revents = all[i].revents;
			return r;
		}
		if (xc_deadline_passed(deadline, xc_now_ms()))
			return -ETIMEDOUT;
	}
}

int xc_guard_begin(uint64_t deadline)
{
	uint64_t now = xc_now_ms();

	if (teardown_depth)
		deadline = xc_deadline_min(deadline, teardown_deadline);
	else if (got_signal)
		return -EINTR;
	else
		deadline = xc_deadline_min(deadline, command_deadline);
	if (xc_deadline_passed(deadline, now))
		return -ETIMEDOUT;
	if (atomic_fetch_add(&guard_depth, 1) > 0)
		return 0; /* nested: the outer guard's timer stands */
	atomic_store(&guard_cut, 0);
	if (deadline != XC_NEVER)
		arm_timer(deadline - now); /* > 0: it has not passed */
	/* A signal between the check above and the increment would have armed
	 * no grace timer: look again. */
	if (got_signal && !teardown_depth)
		arm_timer(GRACE_MS);
	return 0;
}

int xc_guard_end(void)
{
	int why;

	if (atomic_fetch_sub(&guard_depth, 1) > 1)
		return 0;
	arm_timer(0);
	why = atomic_exchange(&guard_cut, 0);
	return why ? -why : 0;
}

int xc_guard_add_fd(int fd)
{
	for (unsigned i = 0; i < GUARD_FDS_MAX; i++) {
		int expected = -1;

		if (atomic_compare_exchange_strong(&guard_fds[i], &expected, fd))
			return 0;
	}
	return -ENOSPC;
}

void xc_guard_remove_fd(int fd)
{
	for (unsigned i = 0; i < GUARD_FDS_MAX; i++) {
		int expected = fd;

		if (atomic_compare_exchange_strong(&guard_fds[i], &expected, -1))
			return;
	}
}
