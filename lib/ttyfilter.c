/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ttyfilter.h"

#define NUL 0x00
#define BEL 0x07
#define SI 0x0f
#define CAN 0x18
#define SUB 0x1a
#define ESC 0x1b
#define DEL 0x7f

/* More parameters than this: dropped (no sequence passed needs as many but
 * SGR, and 32 cover any colour a program sets at once). */
#define CSI_PARAMS_MAX 32
#define PARAM_MAX 65535

enum state {
	GROUND,
	UTF8,       /* inside a multibyte character */
	ESCAPE,     /* after ESC (passed) */
	CHARSET,    /* after ESC ( (passed) */
	ESC_IGNORE, /* an ESC sequence cancelled: drop up to its final byte */
	CSI,        /* after ESC [ (passed) */
	CSI_IGNORE, /* a CSI cancelled: drop up to its final byte */
	STRING,     /* OSC, DCS, SOS, PM or APC (cancelled): drop to its end */
	STRING_ESC, /* ... after an ESC in it (not passed) */
};

struct xc_ttyfilter {
	enum state st;
	/* UTF8: continuation bytes still expected, the range of the next one,
	 * and whether the lead was C2 (then 0x80-0x9f is a C1 control). */
	unsigned need;
	unsigned char lo, hi;
	bool c1_lead;
	/* CSI and STRING: bytes so far, from the ESC. */
	size_t len;
	/* CSI: private prefix (< = > ?), intermediate, a ':' seen, and the
	 * parameters (nparam counts the one being read; 0: none at all). */
	unsigned char prefix, inter;
	bool colon;
	unsigned nparam;
	unsigned param[CSI_PARAMS_MAX];
	/* STRING: an OSC, which BEL ends too. */
	bool osc;
	uint64_t dropped;
};

int xc_ttyfilter_new(struct xc_ttyfilter **out)
{
	struct xc_ttyfilter *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->st = GROUND;
	*out = f;
	return 0;
}

void xc_ttyfilter_free(struct xc_ttyfilter *f)
{
	free(f);
}

uint64_t xc_ttyfilter_dropped(const struct xc_ttyfilter *f)
{
	return f->dropped;
}

/* What becomes of a byte: passed, dropped, or replaced by CAN. */
#define DROP (-1)

/* Drop a sequence the terminal has not seen begin. */
static int drop(struct xc_ttyfilter *f)
{
	f->dropped++;
	return DROP;
}

/* Drop a sequence the terminal has seen begin (we passed its ESC): CAN in
 * place of this byte makes the terminal abandon it. */
static int cancel(struct xc_ttyfilter *f, enum state next)
{
	f->dropped++;
	f->st = next;
	return CAN;
}

/* A C0 control other than ESC, CAN and SUB, in any state but a string: a
 * terminal executes these in the middle of a sequence too. */
static int c0(struct xc_ttyfilter *f, unsigned char c)
{
	switch (c) {
	case BEL:
	case '\b':
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case SI:
		return c;
	case NUL:
		return DROP;
	default:
		/* ENQ asks for the answerback; SO garbles the screen. */
		return drop(f);
	}
}

/* DECSET/DECRST modes a console program sets: cursor keys, origin,
 * autowrap, blinking and visible cursor, the alternate screen, mouse
 * reports and their encodings, focus events, bracketed paste, synchronized
 * output.  Not: 132 columns (resizes the window), ... */
static bool dec_mode_ok(unsigned m)
{
	static const unsigned ok[] = {
		1, 6, 7, 12, 25, 47, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 1047, 1048, 1049,
		2004, 2026,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (ok[i] == m)
			return true;
	return false;
}

static bool all_params(const struct xc_ttyfilter *f, bool (*ok)(unsigned))
{
	unsigned i;

	if (!f->nparam)
		return false;
	for (i = 0; i < f->nparam; i++)
		if (!ok(f->param[i]))
			return false;
	return true;
}

static bool insert_mode(unsigned m)
{
	return m == 4;
}

/* The rules of ttyfilter.h for a complete CSI. */
static bool csi_ok(const struct xc_ttyfilter *f, unsigned char final)
{
	unsigned i;

	if (f->colon && final != 'm')
		return false;
	if (f->inter)
		return !f->prefix && ((f->inter == ' ' && final == 'q') ||
				      (f->inter == '!' && final == 'p' && !f->nparam));
	if (f->prefix == '?')
		return (final == 'h' || final == 'l') && all_params(f, dec_mode_ok);
	if (f->prefix)
		return false;
	switch (final) {
	case 'm':
		return true;
	case 'J':
		/* ED 3 erases the scrollback: what the guest printed before. */
		for (i = 0; i < f->nparam; i++)
			if (f->param[i] == 3)
				return false;
		return true;
	case 'h':
	case 'l':
		return all_params(f, insert_mode);
	case 'u':
		/* With parameters: the kitty keyboard protocol. */
		return !f->nparam;
	case 'S':
	case 'T':
		/* CSI T with five parameters starts xterm's highlight tracking. */
		return f->nparam <= 1;
	default:
		/* Cursor movement, insertion, erasure, tabs, margins; not c, n,
		 * t, x, i, ...: replies, window operations, printing. */
		return strchr("@ABCDEFGHIKLMPXZ`abdefgrs", final) != NULL;
	}
}

static int in_csi(struct xc_ttyfilter *f, unsigned char c)
{
	if (++f->len > XC_TTYFILTER_CSI_MAX)
		return cancel(f, c >= 0x40 ? GROUND : CSI_IGNORE);
	if (c >= 0x40) {
		f->st = GROUND;
		return csi_ok(f, c) ? c : cancel(f, GROUND);
	}
	if (c >= 0x30 && f->inter) /* a parameter after an intermediate */
		return cancel(f, CSI_IGNORE);
	if (c <= 0x2f) {
		if (f->inter)
			return cancel(f, CSI_IGNORE);
		f->inter = c;
		return c;
	}
	if (c >= 0x3c) {
		if (f->len != 3) /* a prefix comes first */
			return cancel(f, CSI_IGNORE);
		f->prefix = c;
		return c;
	}
	if (!f->nparam)
		f->nparam = 1;
	if (c == ';' || c == ':') {
		if (c == ':')
			f->colon = true;
		if (f->nparam == CSI_PARAMS_MAX)
			return cancel(f, CSI_IGNORE);
		f->param[f->nparam++] = 0;
		return c;
	}
	f->param[f->nparam - 1] = f->param[f->nparam - 1] * 10 + (unsigned)(c - '0');
	if (f->param[f->nparam - 1] > PARAM_MAX)
		f->param[f->nparam - 1] = PARAM_MAX;
	return c;
}

static int in_escape(struct xc_ttyfilter *f, unsigned char c)
{
	switch (c) {
	case '[':
		f->st = CSI;
		f->len = 2;
		f->prefix = f->inter = 0;
		f->colon = false;
		f->nparam = 0;
		f->param[0] = 0;
		return c;
	case ']':
	case 'P':
	case 'X':
	case '^':
	case '_':
		f->osc = c == ']';
		f->len = 2;
		return cancel(f, STRING);
	case '(':
		f->st = CHARSET;
		return c;
	case '7':
	case '8':
	case 'D':
	case 'E':
	case 'M':
	case 'H':
	case '=':
	case '>':
		f->st = GROUND;
		return c;
	default:
		/* Z asks for a reply; c resets everything; N O n o shift. */
		return cancel(f, c <= 0x2f ? ESC_IGNORE : GROUND);
	}
}

/* One byte; the byte to output, or DROP.  States that hand a byte back to
 * GROUND do so before anything is output for it: the output stays at most
 * one byte per input byte. */
static int step(struct xc_ttyfilter *f, unsigned char c)
{
again:
	switch (f->st) {
	case STRING:
		if (c == CAN || c == SUB || (c == BEL && f->osc)) {
			f->st = GROUND;
			return DROP;
		}
		if (c == ESC) {
			f->st = STRING_ESC;
			return DROP;
		}
		/* Given up: what follows is output again. */
		if (++f->len > XC_TTYFILTER_STRING_MAX) {
			f->st = GROUND;
			goto again;
		}
		return DROP;
	case STRING_ESC:
		/* The string ended at the ESC (never passed): drop what it
		 * began, ST or another sequence. */
		if (c == CAN || c == SUB || c == '\\') {
			f->st = GROUND;
			return DROP;
		}
		if (c == ESC || c == DEL)
			return DROP;
		if (c < 0x20)
			return c0(f, c);
		if (c >= 0x80) {
			f->st = GROUND;
			goto again;
		}
		if (c == '[')
			f->st = CSI_IGNORE;
		else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
			f->osc = c == ']';
			f->len = 2;
			f->st = STRING;
			return drop(f);
		} else
			f->st = c <= 0x2f ? ESC_IGNORE : GROUND;
		return DROP;
	case UTF8:
		if (c >= f->lo && c <= f->hi) {
			f->lo = 0x80;
			f->hi = 0xbf;
			f->c1_lead = false;
			if (!--f->need)
				f->st = GROUND;
			return c;
		}
		f->st = GROUND;
		/* C2 80-C2 9F: U+0080-U+009F, the C1 controls in UTF-8. */
		if (f->c1_lead && c >= 0x80 && c <= 0x9f)
			return drop(f);
		goto again; /* not a continuation: the character is cut short */
	default:
		break;
	}

	/* Bytes every other state treats alike. */
	if (c == ESC) {
		f->st = ESCAPE;
		return c;
	}
	if (c == CAN || c == SUB) {
		switch (f->st) {
		case ESCAPE:
		case CHARSET:
		case CSI:
			/* The guest cancels a sequence itself. */
			f->st = GROUND;
			return CAN;
		case ESC_IGNORE:
		case CSI_IGNORE:
			f->st = GROUND;
			return DROP;
		default:
			return drop(f);
		}
	}
	if (c < 0x20)
		return c0(f, c);
	if (c == DEL)
		return DROP;

	switch (f->st) {
	case ESCAPE:
		if (c >= 0x80)
			return cancel(f, GROUND);
		return in_escape(f, c);
	case CHARSET:
		if (c == 'B' || c == '0') {
			f->st = GROUND;
			return c;
		}
		return cancel(f, c >= 0x20 && c <= 0x2f ? ESC_IGNORE : GROUND);
	case CSI:
		if (c >= 0x80)
			return cancel(f, GROUND);
		return in_csi(f, c);
	case ESC_IGNORE:
	case CSI_IGNORE:
		if (c >= 0x80) {
			f->st = GROUND;
			goto again;
		}
		if (c >= (f->st == CSI_IGNORE ? 0x40 : 0x30))
			f->st = GROUND;
		return DROP;
	default:
		break;
	}

	/* GROUND. */
	if (c < 0x80)
		return c;
	if (c <= 0x9f) /* a C1 control, not part of a character */
		return drop(f);
	f->lo = 0x80;
	f->hi = 0xbf;
	f->c1_lead = false;
	if (c >= 0xc2 && c <= 0xdf) {
		f->need = 1;
		f->c1_lead = c == 0xc2;
		if (f->c1_lead)
			f->lo = 0xa0;
	} else if (c >= 0xe0 && c <= 0xef) {
		f->need = 2;
		if (c == 0xe0)
			f->lo = 0xa0; /* not overlong */
		else if (c == 0xed)
			f->hi = 0x9f; /* not a surrogate */
	} else if (c >= 0xf0 && c <= 0xf4) {
		f->need = 3;
		if (c == 0xf0)
			f->lo = 0x90;
		else if (c == 0xf4)
			f->hi = 0x8f; /* not above U+10FFFF */
	} else {
		/* 0xa0-0xbf alone, C0, C1, F5-FF: not UTF-8, shown as U+FFFD;
		 * any 0x80-0x9f byte after them is dropped as a C1 control. */
		return c;
	}
	f->st = UTF8;
	return c;
}

size_t xc_ttyfilter_run(struct xc_ttyfilter *f, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int r = step(f, (unsigned char)buf[i]);

		if (r != DROP)
			buf[o++] = (char)r;
	}
	return o;
}

size_t xc_ttyfilter_cb(void *f, char *buf, size_t len)
{
	return xc_ttyfilter_run(f, buf, len);
}
