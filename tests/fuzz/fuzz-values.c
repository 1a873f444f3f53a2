/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for every parser of a value read from xenstore or given on
 * a command line: lib/parse.c, the DOMAIN argument and UUID of lib/domain.c,
 * the checks of lib/untrusted.c, transport and wait-state names.
 *
 * The first byte picks the parser, the rest (NUL-terminated) is its input:
 *	u uint   d domid   t duration   s size   r rate   D DOMAIN argument
 *	U uuid   e escape  n channel name   p socket path   P pty path
 *	T transport   w wait-for   x Xen version
 * Any other first byte runs every parser on the rest.  Beyond not crashing,
 * each parser's documented promises are checked; a broken one aborts.
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz"; make check links it with
 * replay.c instead and replays tests/fuzz/corpus/values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "channel.h"
#include "domain.h"
#include "fuzz.h"
#include "macro.h"
#include "parse.h"
#include "untrusted.h"
#include "wait.h"
#include "xenver.h"


static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Only digits, and the value printed back is the input without leading zeros. */
static void fuzz_uint(const char *s)
{
	uint64_t v = 0xabad1dea, small = 0xabad1dea;
	char buf[24];
	const char *t = s;
	int r;

	r = xc_parse_uint(s, UINT64_MAX, &v);
	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0) {
		check(v == 0xabad1dea);
		check(r == -EINVAL || all_digits(s));
	} else {
		check(all_digits(s));
		while (t[0] == '0' && t[1] != '\0')
			t++;
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		check(streq(buf, t));
	}
	/* A bound only turns success into -ERANGE. */
	r = xc_parse_uint(s, 1000, &small);
	if (r == 0)
		check(small == v && small <= 1000);
	else if (r == -ERANGE)
		check(v == 0xabad1dea || v > 1000);
}

/* A domid has one spelling. */
static void fuzz_domid(const char *s)
{
	uint32_t d = 0xabad1dea;
	char buf[16];
	int r = xc_parse_domid(s, &d);

	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0) {
		check(d == 0xabad1dea);
		return;
	}
	check(d <= XC_DOMID_MAX);
	snprintf(buf, sizeof(buf), "%" PRIu32, d);
	check(streq(buf, s));
}

/* The formatter's output parses back to the same number of milliseconds. */
static void fuzz_duration(const char *s)
{
	char buf[XC_FORMAT_DURATION_MAX];
	uint64_t ms = 0, back = 0;
	int r = xc_parse_duration(s, &ms);

	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0)
		return;
	xc_format_duration(ms, buf, sizeof(buf));
	check(strlen(buf) < sizeof(buf) - 1);
	check(xc_parse_duration(buf, &back) == 0 && back == ms);
}

static void fuzz_size(const char *s)
{
	char buf[XC_FORMAT_SIZE_MAX];
	uint64_t v = 0, rate = 0;
	int r = xc_parse_size(s, &v);

	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0)
		return;
	/* Every size is also a rate. */
	check(xc_parse_rate(s, &rate) == 0 && rate == v);
	xc_format_size(v, buf, sizeof(buf));
	check(strlen(buf) < sizeof(buf) - 1);
}

/* A rate is a size, optionally followed by "/s". */
static void fuzz_rate(const char *s)
{
	uint64_t v = 0, size = 0;
	size_t n = strlen(s);
	int r = xc_parse_rate(s, &v);
	_cleanup_free_ char *head = NULL;

	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0)
		return;
	if (n >= 2 && streq(s + n - 2, "/s")) {
		head = strndup(s, n - 2);
		if (!head)
			return;
		check(xc_parse_size(head, &size) == 0 && size == v);
	} else {
		check(xc_parse_size(s, &size) == 0 && size == v);
	}
}

static void fuzz_uuid(const char *s)
{
	if (!xc_uuid_valid(s))
		return;
	check(strlen(s) == XC_UUID_LEN);
	check(s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-');
}

/* A small host with every kind of collision the matcher must detect. */
static const struct {
	uint32_t domid;
	const char *name;
	const char *uuid;
} host[] = {
	{ 0, "Domain-0", "00000000-0000-0000-0000-000000000000" },
	{ 1, "web01", "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7f" },
	{ 2, NULL, "" },
	{ 5, "9", "" },
	{ 9, "dup", "" },
	{ 10, "dup", "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7f" },
};

static void fuzz_domain_spec(const char *s)
{
	struct xc_domain doms[ARRAY_SIZE(host)];
	struct xc_domain_spec spec;
	size_t n = strlen(s);
	int r;

	r = xc_domain_spec_parse(s, &spec);
	check(r == 0 || r == -EINVAL);
	if (r < 0)
		return;
	check(n > 0);
	switch (spec.key) {
	case XC_DOM_BY_ID:
		check(spec.domid <= XC_DOMID_MAX && spec.text == NULL);
		break;
	case XC_DOM_BY_ID_OR_NAME:
		check(spec.domid <= XC_DOMID_MAX && spec.text == s);
		break;
	case XC_DOM_BY_UUID:
		check(spec.text && xc_uuid_valid(spec.text));
		break;
	case XC_DOM_BY_NAME:
		check(spec.text && *spec.text);
		break;
	default:
		check(spec.key == XC_DOM_BY_NAME);
	}
	/* Text, when set, is the tail of the argument. */
	if (spec.text)
		check(spec.text >= s && spec.text <= s + n &&
		      spec.text + strlen(spec.text) == s + n);

	memset(doms, 0, sizeof(doms));
	for (size_t i = 0; i < ARRAY_SIZE(host); i++) {
		doms[i].domid = host[i].domid;
		/* Never written through: xc_domain_match only reads. */
		doms[i].name = (char *)host[i].name;
		snprintf(doms[i].uuid, sizeof(doms[i].uuid), "%s", host[i].uuid);
	}
	r = xc_domain_match(&spec, doms, ARRAY_SIZE(doms));
	check(r == -ENOENT || r == -ENOTUNIQ || (r >= 0 && (size_t)r < ARRAY_SIZE(doms)));
	check(xc_domain_match(&spec, doms, 0) == -ENOENT);
}

/* Decode \xHH back: the escape must be lossless up to the cut. */
static void check_escape(const char *s, size_t max)
{
	_cleanup_free_ char *out = xc_escape(s, max);
	size_t n = strnlen(s, max), len, i = 0, j = 0;
	bool cut = s[n] != '\0';

	if (!out)
		return;
	len = strlen(out);
	for (size_t k = 0; k < len; k++)
		check((unsigned char)out[k] >= 0x20 && (unsigned char)out[k] < 0x7f);
	if (cut) {
		check(len >= 3 && streq(out + len - 3, "..."));
		len -= 3;
	}
	while (j < len) {
		unsigned c;

		if (out[j] == '\\') {
			check(j + 4 <= len && out[j + 1] == 'x');
			check(sscanf(out + j + 2, "%2x", &c) == 1);
			j += 4;
		} else {
			c = (unsigned char)out[j++];
		}
		check(i < n && (unsigned char)s[i] == c);
		i++;
	}
	check(i == n);
}

static void fuzz_escape(const char *s)
{
	_cleanup_free_ char *out = xc_escape(s, SIZE_MAX);

	check_escape(s, SIZE_MAX);
	check_escape(s, 8);
	check_escape(s, 0);
	/* Printable means escaping changes nothing. */
	if (out)
		check(xc_is_printable(s) == streq(out, s));
}

static void fuzz_channel_name(const char *s)
{
	size_t n = strlen(s);

	if (!xc_channel_name_valid(s))
		return;
	check(n >= 1 && n <= 255 && s[0] != '.' && s[0] != '-');
	check(strspn(s,
		     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	      n);
}

static void fuzz_socket_path(const char *s)
{
	size_t n = strlen(s);

	if (!xc_socket_path_valid(s))
		return;
	check(s[0] == '/' && n < sizeof(((struct sockaddr_un *)0)->sun_path));
	check(xc_is_printable(s));
	check(s[n - 1] != '/' && !strstr(s, "//") && !strstr(s, "/./") &&
	      !strstr(s, "/../"));
	check(!(n >= 2 && streq(s + n - 2, "/.")) &&
	      !(n >= 3 && streq(s + n - 3, "/..")));
}

static void fuzz_pty_path(const char *s)
{
	if (!xc_pty_path_valid(s))
		return;
	check(strneq(s, "/dev/pts/", 9) && all_digits(s + 9) && strlen(s + 9) <= 9);
	check(s[9] != '0' || s[10] == '\0');
}

static void fuzz_transport(const char *s)
{
	enum xc_transport t = XC_TRANSPORT_UNKNOWN;

	if (xc_transport_parse(s, &t) < 0) {
		check(t == XC_TRANSPORT_UNKNOWN);
		return;
	}
	check(t != XC_TRANSPORT_UNKNOWN && streq(xc_transport_name(t), s));
}

static void fuzz_wait_for(const char *s)
{
	enum xc_wait_for w = XC_WAIT_GONE;

	if (xc_wait_for_parse(s, &w) < 0) {
		check(w == XC_WAIT_GONE);
		return;
	}
	check(streq(xc_wait_for_name(w), s));
}

/* A version's text reads back as the same version, with the same answer. */
static void fuzz_xen_version(const char *s)
{
	struct xc_xenver v, back;
	const char *why = NULL;
	int r = xc_xenver_parse(s, &v, &why);
	enum xc_xl_first first;

	if (r < 0) {
		check(r == -EINVAL && why && *why);
		return;
	}
	first = xc_xenver_xl_first(&v);
	check(first == XC_XL_FIRST_AFFECTED || first == XC_XL_FIRST_FIXED ||
	      first == XC_XL_FIRST_UNKNOWN);
	check(strlen(v.text) < sizeof(v.text) - 1 && xc_is_printable(v.text));
	check(xc_xenver_parse(v.text, &back, NULL) == 0);
	check(back.major == v.major && back.minor == v.minor &&
	      back.has_micro == v.has_micro && back.micro == v.micro &&
	      back.kind == v.kind && streq(back.text, v.text) &&
	      xc_xenver_xl_first(&back) == first);
}

static const struct {
	char sel;
	void (*fn)(const char *s);
} parsers[] = {
	{ 'u', fuzz_uint },	   { 'd', fuzz_domid },	   { 't', fuzz_duration },
	{ 's', fuzz_size },	   { 'r', fuzz_rate },	   { 'D', fuzz_domain_spec },
	{ 'U', fuzz_uuid },	   { 'e', fuzz_escape },   { 'n', fuzz_channel_name },
	{ 'p', fuzz_socket_path }, { 'P', fuzz_pty_path }, { 'T', fuzz_transport },
	{ 'w', fuzz_wait_for },	   { 'x', fuzz_xen_version },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = NULL;
	bool all = true;

	if (size == 0)
		return 0;
	/* Values are C strings: an embedded NUL ends the value, as it would for
	 * every caller (xc_store_read rejects such values before this). */
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(parsers); i++) {
		if (parsers[i].sel == (char)data[0]) {
			parsers[i].fn(s);
			all = false;
		}
	}
	if (all)
		for (size_t i = 0; i < ARRAY_SIZE(parsers); i++)
			parsers[i].fn(s);
	return 0;
}
