/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the terminal filter (lib/ttyfilter.c): a guest's
 * output.  The first four bytes give the sizes of the pieces the rest is fed
 * in (each 1 to 64, in turn); the rest is the stream.  Checked:
 *	- no call outputs more than it was given;
 *	- fed whole, a byte at a time, or in those pieces: the same output and
 *	  the same count; a byte at a time, each byte comes out as itself, as
 *	  CAN, or not at all;
 *	- the output holds no OSC, DCS, SOS, PM or APC introducer (ESC ] P X ^ _),
 *	  no ENQ or SO, no DSR, DA or window operation (CSI ... n, c, t), no C1
 *	  control (a byte 0x80-0x9f outside a UTF-8 character, or C2 80-9F);
 *	- filtering the output again changes nothing.
 * A broken promise aborts.
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz-run"; make check links it
 * with replay.c instead and replays tests/fuzz/corpus/ttyfilter.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ttyfilter.h"

#define ESC 0x1b
#define CAN 0x18

static struct xc_ttyfilter *new_filter(void)
{
	struct xc_ttyfilter *f;

	check(xc_ttyfilter_new(&f) == 0);
	return f;
}

/* The length of the valid UTF-8 character at p (not U+0080-U+009F), or of
 * the valid start of one cut short (a terminal shows it as U+FFFD), if more
 * than its first byte; else 0. */
static size_t utf8_char(const unsigned char *p, size_t left)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		if (c == 0xc2)
			lo = 0xa0;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < n && i < left; i++) {
		if (p[i] < lo || p[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	return i > 1 ? i : 0;
}

static bool passed_c0(unsigned char c)
{
	return c == 0x07 || (c >= 0x08 && c <= 0x0d) || c == 0x0f;
}

static void check_safe(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t k;

		check(c != 0x05 && c != 0x0e);
		if (c == ESC && i + 1 < n) {
			check(!strchr("]PX^_", p[i + 1]) || !p[i + 1]);
			if (p[i + 1] == '[') {
				/* Parameters, intermediates, and the C0 controls
				 * a terminal executes inside a CSI, to its end. */
				for (k = i + 2;
				     k < n &&
				     ((p[k] >= 0x20 && p[k] <= 0x3f) || passed_c0(p[k]));
				     k++)
					;
				if (k < n)
					check(p[k] != 'n' && p[k] != 'c' && p[k] != 't');
			}
		}
		if (c >= 0x80) {
			k = utf8_char(p + i, n - i);
			if (k) {
				i += k;
				continue;
			}
			/* Not a character: shown as U+FFFD, unless a C1. */
			check(c > 0x9f);
		}
		i++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xc_ttyfilter *f;
	unsigned char *whole, *piece, *bytes, *again;
	size_t len, n_whole, n_piece = 0, n_bytes = 0, i, k = 0, n;
	unsigned sizes[4];
	uint64_t dropped;

	if (size < 4)
		return 0;
	for (i = 0; i < 4; i++)
		sizes[i] = data[i] % 64 + 1;
	data += 4;
	len = size - 4;
	/* One byte more than needed, so that empty inputs allocate too. */
	whole = malloc(len + 1);
	piece = malloc(len + 1);
	bytes = malloc(len + 1);
	again = malloc(len + 1);
	check(whole && piece && bytes && again);

	f = new_filter();
	memcpy(whole, data, len);
	n_whole = xc_ttyfilter_run(f, (char *)whole, len);
	check(n_whole <= len);
	dropped = xc_ttyfilter_dropped(f);
	check(dropped <= len);
	xc_ttyfilter_free(f);

	f = new_filter();
	for (i = 0; i < len; i++) {
		unsigned char c = data[i];

		n = xc_ttyfilter_run(f, (char *)&c, 1);
		check(n <= 1);
		if (n) {
			check(c == data[i] || c == CAN);
			bytes[n_bytes++] = c;
		}
	}
	check(n_bytes == n_whole && !memcmp(bytes, whole, n_whole));
	check(xc_ttyfilter_dropped(f) == dropped);
	xc_ttyfilter_free(f);

	f = new_filter();
	for (i = 0; i < len; i += n) {
		size_t got;

		n = sizes[k++ % 4];
		if (n > len - i)
			n = len - i;
		memcpy(piece + n_piece, data + i, n);
		got = xc_ttyfilter_run(f, (char *)piece + n_piece, n);
		check(got <= n);
		n_piece += got;
	}
	check(n_piece == n_whole && !memcmp(piece, whole, n_whole));
	check(xc_ttyfilter_dropped(f) == dropped);
	xc_ttyfilter_free(f);

	check_safe(whole, n_whole);

	f = new_filter();
	memcpy(again, whole, n_whole);
	n = xc_ttyfilter_run(f, (char *)again, n_whole);
	check(n == n_whole && !memcmp(again, whole, n_whole));
	xc_ttyfilter_free(f);

	free(whole);
	free(piece);
	free(bytes);
	free(again);
	return 0;
}
