/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict parsers for the values commands take as strings (domids, counts,
 * durations, sizes, rates), and formatters for the reverse direction.
 *
 * Every parser accepts the whole string or nothing: no leading or trailing
 * whitespace, no sign, no base prefixes.  They return 0 and store the value,
 * or return a negative errno and leave *out untouched:
 *	-EINVAL  malformed (empty, garbage, negative, unknown suffix)
 *	-ERANGE  well formed but too large (overflow or above the limit)
 * The caller writes the message; the parsers never print.
 *
 * Nothing here allocates or blocks.
 */
#ifndef XENCHAN_PARSE_H
#define XENCHAN_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Highest domid a domain can have: DOMID_FIRST_RESERVED - 1. */
#define XC_DOMID_MAX 32751U
/* "/local/domain/<domid>" with room to spare. */
#define XC_DOMAIN_PATH_MAX 32

/*
 * A decimal unsigned integer <= max.  Leading zeros are accepted ("007").
 */
int xc_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * A domid: decimal, 0 .. XC_DOMID_MAX, no leading zeros except "0" itself.
 */
int xc_parse_domid(const char *s, uint32_t *out);

/*
 * A duration, stored in milliseconds: a decimal number with an optional
 * fraction ("1.5") and an optional unit: "ms", "s", "m", "h", "d".  A bare
 * number is seconds.  A fraction of a millisecond rounds up, so a positive
 * duration never becomes 0 ("0.0001s" is 1 ms).
 * Examples: "500ms", "30s", "2m", "1h", "1.5s", "10".
 */
int xc_parse_duration(const char *s, uint64_t *ms_out);

/*
 * A size in bytes: a decimal number with an optional fraction and an optional
 * binary prefix K, M, G, T, P, E (powers of 1024, either case), optionally
 * followed by "B" or "iB" ("B" alone also allowed).  A fraction of a byte is
 * dropped.  Examples: "4096", "64K", "40M", "1.5M", "1G", "2MiB", "512B".
 */
int xc_parse_size(const char *s, uint64_t *out);

/*
 * A rate in bytes per second: a size, optionally followed by "/s".
 * Examples: "40M", "40M/s", "1.5GiB/s".
 */
int xc_parse_rate(const char *s, uint64_t *bytes_per_s);

/* Buffer sizes large enough for every value the formatters produce. */
#define XC_FORMAT_SIZE_MAX 16
#define XC_FORMAT_DURATION_MAX 32

/*
 * Format bytes for people: "512 B", "64 KiB", "1.5 MiB" (one decimal at most,
 * rounded to nearest).  Writes at most len bytes including the NUL
 * (truncating); returns buf.
 */
char *xc_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * Format a duration so that xc_parse_duration() reads it back exactly:
 * "500ms", "30s", "1.5s", "2m", "1h", "90s".  Same buffer rules; returns buf.
 */
char *xc_format_duration(uint64_t ms, char *buf, size_t len);

#endif
