/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The smallest JSON writer that is still correct: strings with every escape
 * RFC 8259 requires.  Nothing here allocates or blocks (beyond stdio).
 */
#ifndef XENCHAN_JSON_H
#define XENCHAN_JSON_H

#include <stdio.h>

/*
 * Write s as a JSON string, quotes included.  '"', '\\' and control
 * characters are escaped; so is every byte above 0x7f (as \u00XX, read as
 * Latin-1), so the output is plain ASCII and valid UTF-8 whatever s holds.
 * NULL is written as null.
 */
void xc_json_string(FILE *f, const char *s);

#endif
