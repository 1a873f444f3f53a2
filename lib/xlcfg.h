/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xl domain configuration files (xl.cfg(5), libxlu's syntax), read far
 * enough to find the domain's name and its channels:
 *
 *	name = "web01"          # comments run to the end of the line
 *	memory = 512
 *	channel = [ "connection=socket, name=org.example.agent.0,
 *	             path=/run/web01.sock",
 *	            'connection=pty, name=org.example.pty.0' ]
 *
 * Settings are KEY = VALUE or KEY += VALUE, ended by a newline or ';'.
 * A value is a string ('...' or "...", may span lines, C escapes), a number,
 * an identifier, or a list [ ... ] of values, over as many lines as it takes.
 * Every setting but name and channel is skipped.  Each channel string is
 * split as xl splits it: items separated by ',', each KEY=VALUE with blanks
 * around both trimmed.  Keys: connection (and kind, the spelling of Xen's
 * channel document, reported as config-kind-alias), name, path, backend.
 *
 * Locations are 1-based and point at the value (for a key's value, its first
 * character inside the string).  A syntax error ends the file
 * (config-syntax): channels read before it are kept.
 *
 * Nothing here blocks.
 */
#ifndef XENCHAN_XLCFG_H
#define XENCHAN_XLCFG_H

#include <stddef.h>

#include "diag.h"
#include "domcfg.h"

/*
 * Parse buf[0..len) (need not be NUL-terminated; a NUL byte is a syntax
 * error) from the input d knows as file into cfg, which must be zeroed.
 * Returns 0 (also on a syntax error, which is in d) or -ENOMEM.
 * Release cfg with xc_domcfg_clear().
 */
int xc_xlcfg_parse(struct xc_diags *d, unsigned file, const char *buf, size_t len,
		   struct xc_domcfg *cfg);

#endif
