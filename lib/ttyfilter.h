/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A filter for a guest's output on its way to a terminal: it passes what a
 * console session needs and drops what could act on the terminal itself
 * (set its title, write the clipboard, lock the keyboard) or make it answer
 * (a reply is typed into the session as if the user had typed it).
 *
 * The filter is a byte-at-a-time state machine with no look-ahead: every
 * input byte gives at most one output byte, so the output is never longer
 * than the input, it filters in place, and how the stream is split into
 * calls makes no difference to the output.  The price: the ESC or ESC [
 * that opens a sequence is passed before the sequence is known; when it turns
 * out to be one to drop, the byte that decides is replaced by CAN (0x18),
 * which ECMA-48 terminals (xterm, VTE, the Linux console, tmux, screen) take
 * to abandon the sequence.  So "ESC ] 0 ; t BEL" becomes "ESC CAN" and
 * "ESC [ 6 n" becomes "ESC [ 6 CAN".
 *
 * The terminal is taken to decode UTF-8.  Passed:
 *	- printable ASCII, valid UTF-8 (also when a character is split between
 *	  calls), and bytes 0xa0-0xff that are not part of valid UTF-8 (the
 *	  terminal shows them as U+FFFD);
 *	- TAB, LF, VT, FF, CR, BS, BEL, and SI (back to the G0 character set);
 *	- ESC 7, ESC 8 (save, restore cursor), ESC D, ESC E, ESC M (index, next
 *	  line, reverse index), ESC H (tab set), ESC = and ESC > (keypad modes),
 *	  ESC ( B and ESC ( 0 (G0 as ASCII or line drawing);
 *	- CSI with no private prefix and at most one intermediate: SGR (m), the
 *	  cursor and erase sequences @ A B C D E F G H I J K L M P S T X Z `
 *	  a b d e f g r s, u without parameters, ED 3 excepted (CSI 3 J erases
 *	  the scrollback); SM/RM (h, l) of mode 4 (insert) only; DECSET/DECRST
 *	  (CSI ? ... h, l) of modes 1 6 7 12 25 47 1000 1002 1003 1004 1005 1006
 *	  1015 1047 1048 1049 2004 2026 only; CSI SP q (cursor style) and
 *	  CSI ! p (soft reset).
 * Dropped, each counted once:
 *	- OSC, DCS, SOS, PM and APC strings (ESC ] ESC P ESC X ESC ^ ESC _), up
 *	  to their end (ST, that is ESC \; BEL too for OSC; CAN, SUB), or to
 *	  XC_TTYFILTER_STRING_MAX bytes: a string longer than that is given up,
 *	  and what follows is filtered as ordinary output again;
 *	- every other CSI: device attributes and status reports (c, n), window
 *	  operations (t), mode reports (CSI ? ... $ p), keyboard protocol
 *	  changes (CSI > ... m, CSI ? u, CSI > ... u), media copy (i), ...; a
 *	  CSI longer than XC_TTYFILTER_CSI_MAX bytes;
 *	- every other ESC sequence: ESC Z (DECID: asks for a reply), ESC c
 *	  (full reset), ESC N/O (single shifts), ESC n/o (locking shifts), other
 *	  character sets, ESC # 8 (fill the screen), ESC SP F/G (7/8-bit
 *	  replies), ...;
 *	- the other C0 controls: ENQ (0x05: answerback), SO (0x0e: switches to
 *	  G1 and garbles the screen), ...; NUL and DEL (which terminals ignore)
 *	  are dropped without being counted;
 *	- C1 controls: bytes 0x80-0x9f that are not a continuation byte of a
 *	  valid UTF-8 character, and U+0080-U+009F sent in UTF-8 (C2 80-C2 9F:
 *	  its 0x80-0x9f byte is dropped, leaving a lone C2 the terminal shows as
 *	  U+FFFD).  Only the C1 byte itself goes: what follows a C1 CSI or OSC
 *	  is then ordinary text.
 * A terminal that takes raw 8-bit C1 controls (an ISO 8859 terminal set to
 * accept them) is not protected: valid UTF-8 holds bytes 0x80-0x9f.
 *
 * One filter per stream; not thread-safe; nothing blocks.
 */
#ifndef XENCHAN_TTYFILTER_H
#define XENCHAN_TTYFILTER_H

#include <stddef.h>
#include <stdint.h>

/* The longest CSI passed, from its ESC to its final byte. */
#define XC_TTYFILTER_CSI_MAX 128
/* The longest OSC, DCS, SOS, PM or APC string the filter drops whole. */
#define XC_TTYFILTER_STRING_MAX 4096

struct xc_ttyfilter;

/* A new filter in its initial state: 0, or -ENOMEM.  The caller owns it. */
int xc_ttyfilter_new(struct xc_ttyfilter **out);

/* Frees f; NULL is fine. */
void xc_ttyfilter_free(struct xc_ttyfilter *f);

/* For _cleanup_(xc_ttyfilter_freep). */
static inline void xc_ttyfilter_freep(struct xc_ttyfilter **f)
{
	xc_ttyfilter_free(*f);
}

/*
 * Filter the len bytes at buf in place, carrying the state over from the
 * previous call.  Returns the bytes kept at the start of buf (<= len).
 */
size_t xc_ttyfilter_run(struct xc_ttyfilter *f, char *buf, size_t len);

/* The same, for struct xc_copy_opts's filter: f is a struct xc_ttyfilter. */
size_t xc_ttyfilter_cb(void *f, char *buf, size_t len);

/* The sequences and controls dropped so far. */
uint64_t xc_ttyfilter_dropped(const struct xc_ttyfilter *f);

#endif
