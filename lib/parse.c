/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parse a run of decimal digits at *sp into *out, advancing *sp.
 * -EINVAL if there is no digit, -ERANGE on overflow (the whole run is
 * still consumed so the caller's error is about range, not syntax).
 */
static int parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	bool overflow = false;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*sp = s;
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

int xc_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int r;

	if (s == NULL)
		return -EINVAL;
	r = parse_digits(&s, &v);
	if (r == -EINVAL || (r == 0 && *s != '\0') || (r == -ERANGE && *s != '\0'))
		return -EINVAL;
	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int xc_parse_domid(const char *s, uint32_t *out)
{
	uint64_t v;
	int r;

	if (s == NULL)
		return -EINVAL;
	/* "0" is domid 0; "00" or "07" are rejected: a domid has one spelling. */
	if (s[0] == '0' && s[1] != '\0')
		return -EINVAL;
	r = xc_parse_uint(s, XC_DOMID_MAX, &v);
	if (r < 0)
		return r;
	*out = (uint32_t)v;
	return 0;
}

/*
 * A decimal number with an optional fraction, kept exact: the value is
 * ip + frac / 10^ndigits.  Digits of the fraction beyond 19 cannot change
 * the result at the precision we scale to, but they must still be digits.
 */
struct decimal {
	uint64_t ip;
	uint64_t frac;
	uint64_t frac_div; /* 10^ndigits, 1 when there is no fraction */
	bool frac_rest; /* nonzero digits were dropped beyond frac */
};

static int parse_decimal(const char **sp, struct decimal *d)
{
	const char *s = *sp;
	int r;

	*d = (struct decimal){ .frac_div = 1 };
	r = parse_digits(&s, &d->ip);
	if (r == -EINVAL)
		return r;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			if (d->frac_div <= UINT64_MAX / 100) {
				d->frac = d->frac * 10 + (uint64_t)(*s - '0');
				d->frac_div *= 10;
			} else if (*s != '0') {
				d->frac_rest = true;
			}
		}
	}
	*sp = s;
	return r;
}

/*
 * value * unit, with the fraction rounded down or up.  -ERANGE if the
 * result does not fit in 64 bits.
 */
static int decimal_scale(const struct decimal *d, uint64_t unit, bool round_up,
			 uint64_t *out)
{
	unsigned __int128 v, f, rem;

	v = (unsigned __int128)d->ip * unit;
	f = (unsigned __int128)d->frac * unit;
	rem = f % d->frac_div;
	v += f / d->frac_div;
	if (round_up && (rem != 0 || d->frac_rest))
		v++;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int xc_parse_duration(const char *s, uint64_t *ms_out)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "", 1000 },	    { "ms", 1 },	  { "s", 1000 },
		{ "m", 60 * 1000 }, { "h", 3600 * 1000 }, { "d", 86400 * 1000 },
	};
	struct decimal d;
	int r;

	if (s == NULL)
		return -EINVAL;
	r = parse_decimal(&s, &d);
	if (r == -EINVAL)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!streq(s, units[i].suffix))
			continue;
		if (r < 0)
			return r;
		return decimal_scale(&d, units[i].ms, true, ms_out);
	}
	return -EINVAL;
}

/*
 * Parse a size; on success *rest points after the size (and its optional
 * "B"/"iB"), for the rate parser to look at.
 */
static int parse_size_prefix(const char **sp, uint64_t *out)
{
	static const char prefixes[] = "KMGTPE";
	const char *s = *sp;
	uint64_t unit = 1;
	struct decimal d;
	const char *p;
	char c;
	int r;

	r = parse_decimal(&s, &d);
	if (r == -EINVAL)
		return r;
	c = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
	if (c != '\0' && (p = strchr(prefixes, c)) != NULL) {
		unit = UINT64_C(1) << (10 * (p - prefixes + 1));
		s++;
		if (s[0] == 'i' && s[1] == 'B')
			s += 2;
		else if (s[0] == 'B')
			s++;
	} else if (*s == 'B') {
		s++;
	}
	*sp = s;
	if (r < 0)
		return r;
	return decimal_scale(&d, unit, false, out);
}

int xc_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	int r;

	if (s == NULL)
		return -EINVAL;
	r = parse_size_prefix(&s, &v);
	if (r == -EINVAL || *s != '\0')
		return -EINVAL;
	if (r < 0)
		return r;
	*out = v;
	return 0;
}

int xc_parse_rate(const char *s, uint64_t *bytes_per_s)
{
	uint64_t v;
	int r;

	if (s == NULL)
		return -EINVAL;
	r = parse_size_prefix(&s, &v);
	if (r == -EINVAL)
		return r;
	if (streq(s, "/s"))
		s += 2;
	if (*s != '\0')
		return -EINVAL;
	if (r < 0)
		return r;
	*bytes_per_s = v;
	return 0;
}

char *xc_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	unsigned __int128 tenths;
	unsigned i = 0;

	if (len == 0)
		return buf;
	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	/* Pick the unit after rounding, so 1048575 prints "1 MiB", not "1024 KiB". */
	for (;;) {
		unsigned __int128 unit = (unsigned __int128)1 << (10 * i);

		tenths = ((unsigned __int128)bytes * 10 + unit / 2) / unit;
		if (tenths < 10240 || i + 1 == ARRAY_SIZE(units))
			break;
		i++;
	}
	if (tenths % 10 == 0)
		snprintf(buf, len, "%" PRIu64 " %s", (uint64_t)(tenths / 10), units[i]);
	else
		snprintf(buf, len, "%" PRIu64 ".%u %s", (uint64_t)(tenths / 10),
			 (unsigned)(tenths % 10), units[i]);
	return buf;
}

char *xc_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (ms != 0 && ms % (3600 * 1000) == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / (3600 * 1000));
	else if (ms != 0 && ms % (60 * 1000) == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / (60 * 1000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	else if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else {
		char frac[4];
		size_t n;

		snprintf(frac, sizeof(frac), "%03u", (unsigned)(ms % 1000));
		/* Drop trailing zeros: 1500 -> "1.5s". */
		for (n = 3; n > 1 && frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
		snprintf(buf, len, "%" PRIu64 ".%ss", ms / 1000, frac);
	}
	return buf;
}
