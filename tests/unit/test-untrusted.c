/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/untrusted.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "macro.h"
#include "tap.h"
#include "untrusted.h"

/* Longest string the tests below build (sun_path and channel name limits). */
#define LONG_MAX_LEN 300

struct escape_case {
	const char *in;
	size_t max;
	const char *out;
};

#define ALL ((size_t)-1)

static const struct escape_case escape_cases[] = {
	{ "", ALL, "" },
	{ "", 0, "" },
	{ "org.example.agent.0", ALL, "org.example.agent.0" },
	{ "a b~", ALL, "a b~" },
	{ "\\", ALL, "\\x5c" },
	{ "a\\x41", ALL, "a\\x5cx41" },
	{ "\x1b[31mred", ALL, "\\x1b[31mred" },
	{ "\x1b]0;pwned\a", ALL, "\\x1b]0;pwned\\x07" },
	{ "\x01\t\n\r\x1f", ALL, "\\x01\\x09\\x0a\\x0d\\x1f" },
	{ "\x7f", ALL, "\\x7f" },
	{ "\x80\xff", ALL, "\\x80\\xff" },
	{ "caf\xc3\xa9", ALL, "caf\\xc3\\xa9" },
	{ "\23331m", ALL, "\\x9b31m" }, /* the 8-bit CSI */
	{ "abc", 3, "abc" },
	{ "abc", 4, "abc" },
	{ "abcd", 3, "abc..." },
	{ "abc", 0, "..." },
	{ "a", 0, "..." },
	{ "\x1b\x1b\x1b", 2, "\\x1b\\x1b..." },
	{ "ab\\cd", 3, "ab\\x5c..." },
	/* Three dots in the input are not a truncation mark. */
	{ "abc...", ALL, "abc..." },
};

static void run_escape(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		_cleanup_free_ char *out = xc_escape(c->in, c->max);
		/* Test names are escaped too: the TAP log is read on a terminal. */
		_cleanup_free_ char *shown = xc_escape(c->in, ALL);
		_cleanup_free_ char *want = xc_escape(c->out, ALL);
		char max[24];

		if (c->max == ALL)
			snprintf(max, sizeof(max), "SIZE_MAX");
		else
			snprintf(max, sizeof(max), "%zu", c->max);
		if (!tap_ok(out != NULL && streq(out, c->out),
			    "xc_escape(\"%s\", %s) = \"%s\"", shown ? shown : "?", max,
			    want ? want : "?"))
			tap_diag("got \"%s\"", out ? out : "(null)");
	}
}

/* Decode \xHH: the escape must be unambiguous, so this gives the input back. */
static bool unescape_equals(const char *esc, const char *orig)
{
	static const char hex[] = "0123456789abcdef";

	while (*esc) {
		unsigned char c = (unsigned char)*esc;

		if (c == '\\') {
			const char *hi, *lo;

			if (esc[1] != 'x' || !esc[2] || !esc[3] ||
			    !(hi = strchr(hex, esc[2])) || !(lo = strchr(hex, esc[3])))
				return false;
			c = (unsigned char)((hi - hex) << 4 | (lo - hex));
			esc += 4;
		} else {
			esc++;
		}
		if (*orig == '\0' || (unsigned char)*orig++ != c)
			return false;
	}
	return *orig == '\0';
}

static void run_escape_all_bytes(void)
{
	char in[256];
	_cleanup_free_ char *out = NULL;
	bool clean = true;
	size_t i;

	/* Every byte but NUL, once. */
	for (i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	out = xc_escape(in, ALL);
	if (!out) {
		tap_ok(false, "xc_escape of every byte");
		return;
	}
	for (i = 0; out[i]; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c < 0x20 || c >= 0x7f)
			clean = false;
	}
	tap_ok(clean, "xc_escape of bytes 1..255: no control, DEL or 8-bit byte left");
	/* The 94 printable bytes other than the backslash stay, 161 become \xHH. */
	tap_ok(strlen(out) == 94 + 161 * 4, "xc_escape of bytes 1..255: length %zu",
	       strlen(out));
	tap_ok(unescape_equals(out, in),
	       "xc_escape of bytes 1..255 decodes back to them");
}

struct bool_case {
	const char *in;
	bool want;
};

static const struct bool_case printable_cases[] = {
	{ "", true },	     { "hello world", true },
	{ " ~", true },	     { "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}", true },
	{ "\\", false },     { "a\\b", false },
	{ "\x1f", false },   { "\t", false },
	{ "\n", false },     { "\x7f", false },
	{ "\x80", false },   { "caf\xc3\xa9", false },
	{ "ok\x1b", false },
};

static const struct bool_case channel_name_cases[] = {
	{ "a", true },
	{ "0", true },
	{ "_", true },
	{ "org.example.agent.0", true },
	{ "A-Z_a-z.0-9", true },
	{ "a..b", true },
	{ "a-", true },
	{ "a.", true },
	{ "", false },
	{ ".", false },
	{ "..", false },
	{ ".hidden", false },
	{ "-opt", false },
	{ "a/b", false },
	{ "../x", false },
	{ "a b", false },
	{ "a:b", false },
	{ "a\\b", false },
	{ "a\nb", false },
	{ "a\x1b", false },
	{ "caf\xc3\xa9", false },
	{ "a\x7f", false },
};

static const struct bool_case socket_path_cases[] = {
	{ "/run/xen/agent.sock", true },
	{ "/a", true },
	{ "/.a", true },
	{ "/a/..b", true },
	{ "/a/b.", true },
	{ "/a/.../b", true },
	{ "/tmp/x-y_z.0/sock", true },
	{ "", false },
	{ "/", false },
	{ "//", false },
	{ "///", false },
	{ "a", false },
	{ "run/xen/agent.sock", false },
	{ "./agent.sock", false },
	{ "../agent.sock", false },
	{ "/run/../etc/sock", false },
	{ "/run/./sock", false },
	{ "/..", false },
	{ "/.", false },
	{ "/run/..", false },
	{ "/run/.", false },
	{ "/run//sock", false },
	{ "//run/sock", false },
	{ "/run/sock/", false },
	{ "/run/sock\n", false },
	{ "/run/\tsock", false },
	{ "/run/\x1b[2Jsock", false },
	{ "/run/s\x7fock", false },
	{ "/run/caf\xc3\xa9", false },
	{ "/run/a\\b", false },
};

static const struct bool_case pty_path_cases[] = {
	{ "/dev/pts/0", true },
	{ "/dev/pts/1", true },
	{ "/dev/pts/42", true },
	{ "/dev/pts/123456789", true },
	{ "/dev/pts/1234567890", false },
	{ "/dev/pts/", false },
	{ "/dev/pts", false },
	{ "/dev/pts/00", false },
	{ "/dev/pts/01", false },
	{ "/dev/pts/-1", false },
	{ "/dev/pts/+1", false },
	{ "/dev/pts/ 1", false },
	{ "/dev/pts/1 ", false },
	{ "/dev/pts/1a", false },
	{ "/dev/pts/1/", false },
	{ "/dev/pts/../tty1", false },
	{ "/dev/pts/ptmx", false },
	{ "/dev/tty1", false },
	{ "/dev/ptmx", false },
	{ "dev/pts/1", false },
	{ "//dev/pts/1", false },
	{ "/dev/pts//1", false },
	{ "", false },
};

static void run_bool(const char *what, const struct bool_case *cases, size_t n,
		     bool (*fn)(const char *s))
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *shown = xc_escape(cases[i].in, 64);

		tap_ok(fn(cases[i].in) == cases[i].want, "%s(\"%s\") is %s", what,
		       shown ? shown : "?", cases[i].want ? "true" : "false");
	}
}

/* Strings of a given length: limits are about bytes, not characters. */
static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void run_lengths(void)
{
	const size_t sun_path = sizeof(((struct sockaddr_un *)0)->sun_path);
	char buf[LONG_MAX_LEN + 1];

	tap_ok(xc_channel_name_valid(repeat(buf, 'a', 255)), "channel name of 255 bytes");
	tap_ok(!xc_channel_name_valid(repeat(buf, 'a', 256)),
	       "channel name of 256 bytes is rejected");

	/* sun_path is 108 bytes with the NUL: 107 bytes fit, 108 do not. */
	repeat(buf, 'a', sun_path - 1);
	buf[0] = '/';
	tap_ok(xc_socket_path_valid(buf), "socket path of %zu bytes", sun_path - 1);
	repeat(buf, 'a', sun_path);
	buf[0] = '/';
	tap_ok(!xc_socket_path_valid(buf), "socket path of %zu bytes is rejected",
	       sun_path);
	repeat(buf, 'a', LONG_MAX_LEN);
	buf[0] = '/';
	tap_ok(!xc_socket_path_valid(buf), "socket path of %d bytes is rejected",
	       LONG_MAX_LEN);

	/* A long escape stops at max input bytes, however long the output. */
	repeat(buf, '\x1b', LONG_MAX_LEN);
	{
		_cleanup_free_ char *out = xc_escape(buf, 100);

		tap_ok(out && strlen(out) == 100 * 4 + 3 && streq(out + 400, "..."),
		       "xc_escape of %d ESC bytes with max 100: 100 escapes and \"...\"",
		       LONG_MAX_LEN);
	}
}

int main(void)
{
	tap_plan(ARRAY_SIZE(escape_cases) + 3 + ARRAY_SIZE(printable_cases) +
		 ARRAY_SIZE(channel_name_cases) + ARRAY_SIZE(socket_path_cases) +
		 ARRAY_SIZE(pty_path_cases) + 6);
	run_escape();
	run_escape_all_bytes();
	run_bool("xc_is_printable", printable_cases, ARRAY_SIZE(printable_cases),
		 xc_is_printable);
	run_bool("xc_channel_name_valid", channel_name_cases,
		 ARRAY_SIZE(channel_name_cases), xc_channel_name_valid);
	run_bool("xc_socket_path_valid", socket_path_cases, ARRAY_SIZE(socket_path_cases),
		 xc_socket_path_valid);
	run_bool("xc_pty_path_valid", pty_path_cases, ARRAY_SIZE(pty_path_cases),
		 xc_pty_path_valid);
	run_lengths();
	return tap_done();
}
