/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "macro.h"
#include "term.h"

static struct termios saved;
static int saved_fd = -1;
static volatile sig_atomic_t restored = 1;

static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static struct sigaction old_actions[ARRAY_SIZE(fatal_signals)];

void xc_term_restore(void)
{
	/* tcsetattr is async-signal-safe: this runs in the handlers too. */
	if (restored || saved_fd < 0)
		return;
	tcsetattr(saved_fd, TCSAFLUSH, &saved);
	restored = 1;
}

static void on_fatal(int sig)
{
	int saved_errno = errno;

	xc_term_restore();
	signal(sig, SIG_DFL);
	errno = saved_errno;
	raise(sig);
}

static void at_exit(void)
{
	xc_term_restore();
}

int xc_term_raw(int fd)
{
	static bool hooked;
	struct termios raw;

	if (!isatty(fd))
		return -ENOTTY;
	if (tcgetattr(fd, &saved) < 0)
		return -errno;
	saved_fd = fd;
	if (!hooked) {
		struct sigaction sa = { .sa_handler = on_fatal };

		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
			sigaction(fatal_signals[i], &sa, &old_actions[i]);
		atexit(at_exit);
		hooked = true;
	}
	raw = saved;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	restored = 0;
	if (tcsetattr(fd, TCSAFLUSH, &raw) < 0) {
		restored = 1;
		return -errno;
	}
	return 0;
}

int xc_term_parse_escape(const char *s, int *out)
{
	if (streq(s, "none")) {
		*out = -1;
		return 0;
	}
	if (s[0] == '^' && s[1] && !s[2]) {
		char c = s[1];

		if (c == '?') {
			*out = 0x7f;
			return 0;
		}
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c < '@' || c > '_')
			return -EINVAL;
		*out = c - '@';
		return 0;
	}
	if (s[0] && !s[1]) {
		*out = (unsigned char)s[0];
		return 0;
	}
	return -EINVAL;
}
