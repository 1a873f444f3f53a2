/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/parse.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"
#include "parse.h"
#include "tap.h"

/* An expected result: err == 0 means the value must equal val. */
struct num_case {
	const char *in;
	int err;
	uint64_t val;
};

#define OK(s, v)            \
	{                   \
		(s), 0, (v) \
	}
#define BAD(s)                  \
	{                       \
		(s), -EINVAL, 0 \
	}
#define BIG(s)                  \
	{                       \
		(s), -ERANGE, 0 \
	}

static const struct num_case uint_cases[] = {
	OK("0", 0),
	OK("1", 1),
	OK("007", 7),
	OK("1000", 1000),
	OK("18446744073709551615", UINT64_MAX),
	BIG("18446744073709551616"),
	BIG("99999999999999999999999"),
	BAD(""),
	BAD("-1"),
	BAD("+1"),
	BAD(" 1"),
	BAD("1 "),
	BAD("1a"),
	BAD("0x10"),
	BAD("1.0"),
	BAD("99999999999999999999999x"),
};

static const struct num_case uint_max_cases[] = {
	OK("100", 100),
	BIG("101"),
	OK("0", 0),
};

static const struct num_case domid_cases[] = {
	OK("0", 0),
	OK("1", 1),
	OK("32751", 32751),
	BIG("32752"),
	BIG("65535"),
	BIG("4294967296"),
	BIG("18446744073709551616"),
	BAD(""),
	BAD("00"),
	BAD("01"),
	BAD("-1"),
	BAD("+1"),
	BAD(" 1"),
	BAD("1 "),
	BAD("1\n"),
	BAD("web01"),
	BAD("0x1"),
};

static const struct num_case duration_cases[] = {
	OK("0", 0),
	OK("0s", 0),
	OK("500ms", 500),
	OK("30s", 30000),
	OK("30", 30000),
	OK("2m", 120000),
	OK("1h", 3600000),
	OK("1d", 86400000),
	OK("1.5s", 1500),
	OK("1.5", 1500),
	OK("0.5m", 30000),
	OK("1.25h", 4500000),
	OK("0.001s", 1),
	OK("0.0001s", 1), /* a fraction of a millisecond rounds up */
	OK("1.0001s", 1001),
	OK("2.5ms", 3),
	OK("0.000000000000000000000000001s", 1),
	OK("1.000000000000000000000000000s", 1000),
	OK("18446744073709551615ms", UINT64_MAX),
	BIG("18446744073709551616ms"),
	BIG("18446744073709551615s"),
	BIG("5124095576030432h"),
	BIG("99999999999999999999999999s"),
	BAD(""),
	BAD("s"),
	BAD("ms"),
	BAD("-1s"),
	BAD("-0"),
	BAD("+1s"),
	BAD(" 1s"),
	BAD("1s "),
	BAD("1 s"),
	BAD("1S"),
	BAD("1sec"),
	BAD("1x"),
	BAD("1.s"),
	BAD(".5s"),
	BAD("1..5s"),
	BAD("1.5.s"),
	BAD("1m30s"),
	BAD("1e3"),
	BAD("inf"),
	BAD("nan"),
	BAD("99999999999999999999999999x"),
};

static const struct num_case size_cases[] = {
	OK("0", 0),
	OK("4096", 4096),
	OK("512B", 512),
	OK("1K", 1024),
	OK("64K", 65536),
	OK("64k", 65536),
	OK("64KB", 65536),
	OK("64KiB", 65536),
	OK("40M", 40ULL << 20),
	OK("1.5M", 1572864),
	OK("1.5MiB", 1572864),
	OK("1G", 1ULL << 30),
	OK("2T", 2ULL << 40),
	OK("1P", 1ULL << 50),
	OK("15E", 15ULL << 60),
	OK("0.1K", 102), /* a fraction of a byte is dropped */
	OK("1.0000000000000000000000001K", 1024),
	OK("18446744073709551615", UINT64_MAX),
	OK("16777215T", 16777215ULL << 40),
	BIG("18446744073709551616"),
	BIG("16E"),
	BIG("16777216T"),
	BIG("99999999999999999999999G"),
	BAD(""),
	BAD("K"),
	BAD("-1"),
	BAD("-1K"),
	BAD("+1K"),
	BAD(" 1K"),
	BAD("1K "),
	BAD("1 K"),
	BAD("1X"),
	BAD("1KK"),
	BAD("1KBB"),
	BAD("1Kib"),
	BAD("1Kb"),
	BAD("1iB"),
	BAD("1b"),
	BAD("1.K"),
	BAD(".5K"),
	BAD("1K/s"),
	BAD("0x10"),
	BAD("1e3"),
	BAD("99999999999999999999999Q"),
};

static const struct num_case rate_cases[] = {
	OK("0", 0),
	OK("1000", 1000),
	OK("40M", 40ULL << 20),
	OK("40M/s", 40ULL << 20),
	OK("40MB/s", 40ULL << 20),
	OK("1.5GiB/s", 3ULL << 29),
	OK("100/s", 100),
	OK("64k/s", 65536),
	BIG("16E/s"),
	BIG("18446744073709551616/s"),
	BAD(""),
	BAD("/s"),
	BAD("-1M/s"),
	BAD("40M/"),
	BAD("40M/m"),
	BAD("40M/s/s"),
	BAD("40M /s"),
	BAD("40M/s "),
	BAD("40Mbps"),
};

/* The input as a C literal, so a test name stays on one TAP line. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '#')
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static unsigned run_num(const char *what, const struct num_case *cases, size_t n,
			int (*fn)(const char *s, uint64_t *out))
{
	for (size_t i = 0; i < n; i++) {
		const struct num_case *c = &cases[i];
		uint64_t v = 0xdeadbeef;
		int r = fn(c->in, &v);
		char q[128];

		quote(c->in, q, sizeof(q));

		if (c->err == 0) {
			if (!tap_ok(r == 0 && v == c->val, "%s(\"%s\") = %" PRIu64, what,
				    q, c->val))
				tap_diag("got r=%d value=%" PRIu64, r, v);
		} else {
			/* On error the output must be left alone. */
			if (!tap_ok(r == c->err && v == 0xdeadbeef,
				    "%s(\"%s\") fails with %s", what, q,
				    c->err == -ERANGE ? "ERANGE" : "EINVAL"))
				tap_diag("got r=%d value=%" PRIu64, r, v);
		}
	}
	return (unsigned)n;
}

static int uint_unbounded(const char *s, uint64_t *out)
{
	return xc_parse_uint(s, UINT64_MAX, out);
}

static int uint_max100(const char *s, uint64_t *out)
{
	return xc_parse_uint(s, 100, out);
}

static int domid64(const char *s, uint64_t *out)
{
	uint32_t d = 0xdeadbeef;
	int r = xc_parse_domid(s, &d);

	*out = d;
	return r;
}

struct fmt_case {
	uint64_t in;
	const char *out;
};

static const struct fmt_case size_fmt_cases[] = {
	{ 0, "0 B" },
	{ 1, "1 B" },
	{ 1023, "1023 B" },
	{ 1024, "1 KiB" },
	{ 1536, "1.5 KiB" },
	{ 65536, "64 KiB" },
	{ 1572864, "1.5 MiB" },
	{ 1048575, "1 MiB" },
	{ 40ULL << 20, "40 MiB" },
	{ 1ULL << 30, "1 GiB" },
	{ 3ULL << 40, "3 TiB" },
	{ UINT64_MAX, "16 EiB" },
};

static const struct fmt_case duration_fmt_cases[] = {
	{ 0, "0s" },	     { 1, "1ms" },	   { 500, "500ms" },   { 1000, "1s" },
	{ 1500, "1.5s" },    { 1050, "1.05s" },	   { 1001, "1.001s" }, { 30000, "30s" },
	{ 90000, "90s" },    { 120000, "2m" },	   { 3600000, "1h" },  { 5400000, "90m" },
	{ 86400000, "24h" }, { 61001, "61.001s" },
};

static unsigned run_fmt(const char *what, const struct fmt_case *cases, size_t n,
			char *(*fn)(uint64_t v, char *buf, size_t len), size_t buflen)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		const char *s = fn(cases[i].in, buf, buflen);

		if (!tap_ok(s == buf && streq(buf, cases[i].out),
			    "%s(%" PRIu64 ") = \"%s\"", what, cases[i].in, cases[i].out))
			tap_diag("got \"%s\"", buf);
	}
	return (unsigned)n;
}

/* The duration formatter's output must parse back to the same value. */
static unsigned run_duration_roundtrip(void)
{
	static const uint64_t values[] = { 0,	    1,	      999,	 1000,
					   1001,    59999,    60000,	 3599999,
					   3600000, 86400001, UINT64_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		char buf[XC_FORMAT_DURATION_MAX];
		uint64_t back = 0;
		int r;

		xc_format_duration(values[i], buf, sizeof(buf));
		r = xc_parse_duration(buf, &back);
		tap_ok(r == 0 && back == values[i],
		       "duration %" PRIu64 " -> \"%s\" -> back", values[i], buf);
	}
	return ARRAY_SIZE(values);
}

/* Small buffers truncate and stay NUL-terminated. */
static unsigned run_truncation(void)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	xc_format_size(1572864, buf, sizeof(buf));
	tap_ok(streq(buf, "1.5"), "xc_format_size truncates to the buffer");
	memset(buf, 'x', sizeof(buf));
	xc_format_duration(1500, buf, sizeof(buf));
	tap_ok(streq(buf, "1.5"), "xc_format_duration truncates to the buffer");
	buf[0] = 'x';
	xc_format_size(1, buf, 0);
	tap_ok(buf[0] == 'x', "xc_format_size with len 0 writes nothing");
	return 3;
}

/* Every parser rejects NULL rather than crashing. */
static unsigned run_null(void)
{
	uint64_t v;
	uint32_t d;

	tap_ok(xc_parse_uint(NULL, 1, &v) == -EINVAL, "xc_parse_uint(NULL)");
	tap_ok(xc_parse_domid(NULL, &d) == -EINVAL, "xc_parse_domid(NULL)");
	tap_ok(xc_parse_duration(NULL, &v) == -EINVAL, "xc_parse_duration(NULL)");
	tap_ok(xc_parse_size(NULL, &v) == -EINVAL, "xc_parse_size(NULL)");
	tap_ok(xc_parse_rate(NULL, &v) == -EINVAL, "xc_parse_rate(NULL)");
	return 5;
}

int main(void)
{
	unsigned n = ARRAY_SIZE(uint_cases) + ARRAY_SIZE(uint_max_cases) +
		     ARRAY_SIZE(domid_cases) + ARRAY_SIZE(duration_cases) +
		     ARRAY_SIZE(size_cases) + ARRAY_SIZE(rate_cases) +
		     ARRAY_SIZE(size_fmt_cases) + ARRAY_SIZE(duration_fmt_cases) + 11 +
		     3 + 5;

	tap_plan(n);
	run_num("xc_parse_uint", uint_cases, ARRAY_SIZE(uint_cases), uint_unbounded);
	run_num("xc_parse_uint[max=100]", uint_max_cases, ARRAY_SIZE(uint_max_cases),
		uint_max100);
	run_num("xc_parse_domid", domid_cases, ARRAY_SIZE(domid_cases), domid64);
	run_num("xc_parse_duration", duration_cases, ARRAY_SIZE(duration_cases),
		xc_parse_duration);
	run_num("xc_parse_size", size_cases, ARRAY_SIZE(size_cases), xc_parse_size);
	run_num("xc_parse_rate", rate_cases, ARRAY_SIZE(rate_cases), xc_parse_rate);
	run_fmt("xc_format_size", size_fmt_cases, ARRAY_SIZE(size_fmt_cases),
		xc_format_size, XC_FORMAT_SIZE_MAX);
	run_fmt("xc_format_duration", duration_fmt_cases, ARRAY_SIZE(duration_fmt_cases),
		xc_format_duration, XC_FORMAT_DURATION_MAX);
	run_duration_roundtrip();
	run_truncation();
	run_null();
	return tap_done();
}
