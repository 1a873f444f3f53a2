/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/ttyfilter.c: each rule as a table of input, output and
 * the count of dropped sequences, each case fed whole, a byte at a time and
 * split at every point; UTF-8 kept; strings and sequences too long.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tap.h"
#include "ttyfilter.h"

struct tcase {
	const char *what;
	const char *in;
	const char *out;
	unsigned dropped;
};

#define E "\033"
#define C "\030" /* CAN: what cancels a sequence the terminal saw begin */

static const struct tcase cases[] = {
	/* What passes unchanged. */
	{ "text", "hello, world", "hello, world", 0 },
	{ "CR LF TAB BS BEL VT FF SI", "a\r\n\tb\bc\ad\ve\ff\017", "a\r\n\tb\bc\ad\ve\ff\017", 0 },
	{ "SGR colours", E "[1;31mred" E "[0m " E "[38;5;208mx" E "[m",
	  E "[1;31mred" E "[0m " E "[38;5;208mx" E "[m", 0 },
	{ "SGR truecolour with colons", E "[38:2::255:0:0mx", E "[38:2::255:0:0mx", 0 },
	{ "cursor movement and erase",
	  E "[H" E "[2J" E "[10;20H" E "[3A" E "[B" E "[C" E "[4D" E "[K" E "[1K" E "[2;24r"
	  E "[5G" E "[7d" E "[3@" E "[2P" E "[L" E "[M" E "[S" E "[T" E "[X" E "[f" E "[s" E "[u",
	  E "[H" E "[2J" E "[10;20H" E "[3A" E "[B" E "[C" E "[4D" E "[K" E "[1K" E "[2;24r"
	  E "[5G" E "[7d" E "[3@" E "[2P" E "[L" E "[M" E "[S" E "[T" E "[X" E "[f" E "[s" E "[u",
	  0 },
	{ "alternate screen, cursor, bracketed paste",
	  E "[?1049h" E "[?25l" E "[?1h" E "=" E "[?2004h" E "[?1049;25l" E ">",
	  E "[?1049h" E "[?25l" E "[?1h" E "=" E "[?2004h" E "[?1049;25l" E ">", 0 },
	{ "insert mode", E "[4h" E "[4l", E "[4h" E "[4l", 0 },
	{ "cursor style and soft reset", E "[2 q" E "[!p", E "[2 q" E "[!p", 0 },
	{ "ESC 7 8 M D E H", E "7" E "8" E "M" E "D" E "E" E "H", E "7" E "8" E "M" E "D" E "E" E "H", 0 },
	{ "line drawing and back", E "(0qqq" E "(B", E "(0qqq" E "(B", 0 },
	{ "UTF-8", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\x9d \xc2\xa0",
	  "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\x9d \xc2\xa0", 0 },
	{ "a C0 control in a CSI is executed, and passed", E "[3\r1m", E "[3\r1m", 0 },
	{ "the guest cancels its own sequence", E "[3" C "x" E "(\032y", E "[3" C "x" E "(" C "y", 0 },

	/* Strings: dropped whole. */
	{ "OSC 0 title, BEL", "a" E "]0;pwned\007b", "a" E C "b", 1 },
	{ "OSC 2 title, ST", "a" E "]2;pwned" E "\\b", "a" E C "b", 1 },
	{ "OSC 52 clipboard", "a" E "]52;c;ZWNobyBwd25lZAo=\007b", "a" E C "b", 1 },
	{ "OSC 8 hyperlink", E "]8;;http://evil/" E "\\click" E "]8;;" E "\\", E C "click" E C, 2 },
	{ "DCS DECRQSS", "a" E "P$qm" E "\\b", "a" E C "b", 1 },
	{ "DCS: BEL does not end it", "a" E "Pq\007#0b" E "\\c", "a" E C "c", 1 },
	{ "APC, PM, SOS", E "_x" E "\\" E "^y" E "\\" E "Xz" E "\\.", E C E C E C ".", 3 },
	{ "a string ends at CAN", E "]0;x\030y", E C "y", 1 },
	{ "ESC in a string ends it, and what it begins is dropped",
	  E "]0;x" E "[31my", E C "y", 1 },
	{ "another string after one", E "]0;x" E "]1;y\007z", E C "z", 2 },

	/* CSI that make the terminal answer, or act on it. */
	{ "DSR 6n", "a" E "[6nb", "a" E "[6" C "b", 1 },
	{ "DSR 5n", E "[5n", E "[5" C, 1 },
	{ "DA", E "[c" E "[0c", E "[" C E "[0" C, 2 },
	{ "DA2, DA3", E "[>c" E "[=c", E "[>" C E "[=" C, 2 },
	{ "window ops", E "[8;100;300t" E "[21t" E "[3;0;0t", E "[8;100;300" C E "[21" C E "[3;0;0" C, 3 },
	{ "DECRQM", E "[?1049$p", E "[?1049$" C, 1 },
	{ "kitty keyboard query and push", E "[?u" E "[>1u", E "[?" C E "[>1" C, 2 },
	{ "XTVERSION", E "[>0q", E "[>0" C, 1 },
	{ "modifyOtherKeys", E "[>4;1m", E "[>4;1" C, 1 },
	{ "ED 3 erases the scrollback", E "[3J" E "[2;3J", E "[3" C E "[2;3" C, 2 },
	{ "keyboard lock", E "[2h", E "[2" C, 1 },
	{ "132 columns", E "[?3h", E "[?3" C, 1 },
	{ "a DECSET mode list with one bad mode", E "[?25;3h", E "[?25;3" C, 1 },
	{ "media copy", E "[5i", E "[5" C, 1 },
	{ "a parameter after an intermediate", E "[ 2q", E "[ " C, 1 },
	{ "a prefix after parameters", E "[2?h", E "[2" C, 1 },
	{ "a colon outside SGR", E "[1:2H", E "[1:2" C, 1 },

	/* ESC sequences. */
	{ "DECID", E "Zx", E C "x", 1 },
	{ "RIS", E "cx", E C "x", 1 },
	{ "single and locking shifts", E "N" E "o", E C E C, 2 },
	{ "other character sets", E "(Ax" E ")0y", E "(" C "x" E C "y", 2 },
	{ "DECALN", E "#8x", E C "x", 1 },
	{ "8-bit replies", E " Gx", E C "x", 1 },
	{ "ST alone", E "\\x", E C "x", 1 },

	/* C0 and C1 controls. */
	{ "ENQ", "a\005b", "ab", 1 },
	{ "SO", "a\016b", "ab", 1 },
	{ "NUL and DEL: not counted", "a\000b\177c", "abc", 0 },
	{ "CAN, SUB alone", "a\030b\032c", "abc", 2 },
	{ "C1 CSI and OSC, raw", "a\x9b" "6nb\x9d" "0;t\007", "a6nb0;t\007", 2 },
	{ "C1 in UTF-8: C2 9B", "a\xc2\x9b" "6n", "a\xc2" "6n", 1 },
	{ "C1 in UTF-8: C2 9D C2 9C", "\xc2\x9d" "0;t\xc2\x9c", "\xc2" "0;t\xc2", 2 },
	{ "overlong ESC", "\xc0\x9b[6n", "\xc0[6n", 1 },
	{ "overlong CSI", "\xe0\x82\x9b" "6n", "\xe0" "6n", 2 },
	{ "U+209B, its last byte 0x9b", "\xe2\x82\x9b", "\xe2\x82\x9b", 0 },
	{ "stray continuation bytes", "\xa9\x85x", "\xa9x", 1 },
	{ "a non-ASCII byte in a CSI", E "[3\xc3\xa9m", E "[3" C "\xa9" "m", 1 },
	{ "a non-ASCII byte after ESC", E "\xc3\xa9", E C "\xa9", 1 },
};

/* Run in over a fresh filter, fed in pieces of the sizes in cuts (0: the
 * rest), into out; returns its length. */
static size_t run_split(const char *in, size_t len, const size_t *cuts, size_t ncuts,
			char *out, uint64_t *dropped)
{
	struct xc_ttyfilter *f;
	size_t i = 0, o = 0, k = 0;

	if (xc_ttyfilter_new(&f) < 0)
		tap_bail("out of memory");
	while (i < len) {
		size_t n = k < ncuts && cuts[k] ? cuts[k] : len - i, kept;

		if (n > len - i)
			n = len - i;
		memcpy(out + o, in + i, n);
		kept = xc_ttyfilter_run(f, out + o, n);
		if (kept > n)
			tap_bail("output %zu bytes from %zu", kept, n);
		o += kept;
		i += n;
		k++;
	}
	*dropped = xc_ttyfilter_dropped(f);
	xc_ttyfilter_free(f);
	return o;
}

static void test_cases(void)
{
	size_t c;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		const struct tcase *t = &cases[c];
		/* The inputs hold NULs: the table's strings are sized by hand
		 * where they do, others by strlen. */
		size_t len = strcmp(t->what, "NUL and DEL: not counted") ? strlen(t->in) : 6;
		size_t want = strlen(t->out), n, cut;
		_cleanup_free_ char *out = malloc(len + 1);
		uint64_t dropped;
		bool same = true;

		n = run_split(t->in, len, NULL, 0, out, &dropped);
		if (!tap_ok(n == want && !memcmp(out, t->out, want) && dropped == t->dropped,
			    "%s", t->what))
			tap_diag("got %zu bytes, %llu dropped", n, (unsigned long long)dropped);

		/* A byte at a time. */
		{
			_cleanup_free_ size_t *ones = malloc(len * sizeof(*ones) + 1);
			size_t i;

			for (i = 0; i < len; i++)
				ones[i] = 1;
			n = run_split(t->in, len, ones, len, out, &dropped);
			same = n == want && !memcmp(out, t->out, want) && dropped == t->dropped;
		}
		/* Split in two at every point. */
		for (cut = 1; same && cut < len; cut++) {
			n = run_split(t->in, len, &cut, 1, out, &dropped);
			same = n == want && !memcmp(out, t->out, want) && dropped == t->dropped;
			if (!same)
				tap_diag("split at %zu", cut);
		}
		tap_ok(same, "%s: the same fed a byte at a time and split anywhere", t->what);
	}
}

/* Every valid character of U+00A0 to U+10FFFF (but surrogates) passes. */
static void test_utf8_all(void)
{
	struct xc_ttyfilter *f;
	uint32_t cp;
	bool ok = true;

	if (xc_ttyfilter_new(&f) < 0)
		tap_bail("out of memory");
	for (cp = 0xa0; cp <= 0x10ffff && ok; cp++) {
		unsigned char b[4], copy[4];
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x800) {
			b[0] = 0xc0 | cp >> 6;
			b[1] = 0x80 | (cp & 0x3f);
			n = 2;
		} else if (cp < 0x10000) {
			b[0] = 0xe0 | cp >> 12;
			b[1] = 0x80 | (cp >> 6 & 0x3f);
			b[2] = 0x80 | (cp & 0x3f);
			n = 3;
		} else {
			b[0] = 0xf0 | cp >> 18;
			b[1] = 0x80 | (cp >> 12 & 0x3f);
			b[2] = 0x80 | (cp >> 6 & 0x3f);
			b[3] = 0x80 | (cp & 0x3f);
			n = 4;
		}
		memcpy(copy, b, n);
		/* Split after the lead byte too. */
		ok = xc_ttyfilter_run(f, (char *)copy, 1) == 1 &&
		     xc_ttyfilter_run(f, (char *)copy + 1, n - 1) == n - 1 && !memcmp(copy, b, n);
		if (!ok)
			tap_diag("U+%04X", (unsigned)cp);
	}
	tap_ok(ok && xc_ttyfilter_dropped(f) == 0, "every UTF-8 character passes");
	xc_ttyfilter_free(f);
}

/* Too long: an OSC is given up after XC_TTYFILTER_STRING_MAX bytes, a CSI
 * cancelled after XC_TTYFILTER_CSI_MAX. */
static void test_long(void)
{
	size_t big = 3 * XC_TTYFILTER_STRING_MAX, n, i;
	_cleanup_free_ char *buf = malloc(big + 16);
	struct xc_ttyfilter *f;
	bool ok;

	if (!buf || xc_ttyfilter_new(&f) < 0)
		tap_bail("out of memory");
	/* A 4000-byte OSC 52 is dropped whole. */
	memcpy(buf, E "]52;c;", 7);
	memset(buf + 7, 'A', 4000);
	memcpy(buf + 4007, "\007ok", 3);
	n = xc_ttyfilter_run(f, buf, 4010);
	tap_ok(n == 4 && !memcmp(buf, E C "ok", 4), "a 4 KB OSC 52 is dropped whole");

	/* An unterminated one stops hiding output after STRING_MAX bytes. */
	memcpy(buf, E "]0;", 4);
	memset(buf + 4, 'x', big - 4);
	n = 0;
	for (i = 0; i < big; i += 1000) {
		size_t len = big - i < 1000 ? big - i : 1000;

		n += xc_ttyfilter_run(f, buf + i, len);
	}
	tap_ok(n == 2 + big - XC_TTYFILTER_STRING_MAX,
	       "an unterminated OSC hides at most %d bytes (%zu of %zu shown)",
	       XC_TTYFILTER_STRING_MAX, n, big);

	/* A CSI longer than CSI_MAX is cancelled, its rest dropped. */
	xc_ttyfilter_free(f);
	if (xc_ttyfilter_new(&f) < 0)
		tap_bail("out of memory");
	memcpy(buf, E "[", 2);
	memset(buf + 2, '1', 300);
	memcpy(buf + 302, "mok", 3);
	n = xc_ttyfilter_run(f, buf, 305);
	ok = n == XC_TTYFILTER_CSI_MAX + 3 && buf[XC_TTYFILTER_CSI_MAX] == '\030' &&
	     !memcmp(buf + XC_TTYFILTER_CSI_MAX + 1, "ok", 2);
	tap_ok(ok && xc_ttyfilter_dropped(f) == 1, "a CSI of 303 bytes is cancelled");

	/* More parameters than the filter keeps. */
	xc_ttyfilter_free(f);
	if (xc_ttyfilter_new(&f) < 0)
		tap_bail("out of memory");
	memcpy(buf, E "[", 2);
	memset(buf + 2, ';', 40);
	memcpy(buf + 42, "mok", 3);
	n = xc_ttyfilter_run(f, buf, 45);
	tap_ok(n == 2 + 31 + 1 + 2 && !memcmp(buf + 34, "ok", 2) && xc_ttyfilter_dropped(f) == 1,
	       "a CSI of 41 parameters is cancelled");
	xc_ttyfilter_free(f);
}

int main(void)
{
	tap_plan(2 * ARRAY_SIZE(cases) + 5);
	test_cases();
	test_utf8_all();
	test_long();
	return tap_done();
}
