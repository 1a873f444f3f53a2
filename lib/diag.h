/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry checker's diagnostics: its rules and the collector of what
 * they find.
 *
 * Every rule has an id ("name-shape"), a severity and a one-line
 * description, in one table (xc_rules).  The parsers (registry.c, xlcfg.c,
 * virtxml.c) and the checks (lint.c) add diagnostics to a struct xc_diags;
 * the command sorts and prints them.
 *
 * A location is a file id (an index into the diags' table of inputs, each
 * with its display name: a path, or "domain web01/devid 1" for a live
 * channel) and a 1-based line and column; line 0 means "no line".
 *
 * Text that came from a file or a guest is escaped (xc_escape) before it is
 * put into a message: messages are always printable ASCII.
 *
 * Nothing here blocks.  The diags own every string they hand out.
 */
#ifndef XENCHAN_DIAG_H
#define XENCHAN_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "untrusted.h"

enum xc_severity { XC_SEV_NOTE, XC_SEV_WARNING, XC_SEV_ERROR, XC_SEV_COUNT };

enum xc_rule_id {
	XC_R_NAME_SYNTAX,
	XC_R_NAME_SHAPE,
	XC_R_NAME_TOO_LONG,
	XC_R_NAME_VERSION,
	XC_R_NAME_VCHAN_PORT,
	XC_R_REG_MALFORMED,
	XC_R_REG_UNKNOWN_KEY,
	XC_R_REG_DUPLICATE,
	XC_R_REG_NO_CONTACT,
	XC_R_REG_NO_DESCRIPTION,
	XC_R_REG_CONTACT_ADDRESS,
	XC_R_CFG_SYNTAX,
	XC_R_CFG_MISSING_NAME,
	XC_R_CFG_UNKNOWN_KEY,
	XC_R_CFG_KIND_ALIAS,
	XC_R_CFG_CONNECTION,
	XC_R_CFG_SOCKET_NO_PATH,
	XC_R_CFG_PTY_PATH,
	XC_R_CFG_DUPLICATE_NAME,
	XC_R_CFG_PATH_CLASH,
	XC_R_CFG_PATH_LENGTH,
	XC_R_CFG_PATH_RELATIVE,
	XC_R_CFG_DEVID,
	XC_R_CFG_XL_FIRST_DROPPED,
	XC_R_CFG_XL_FIRST_UNKNOWN,
	XC_R_CFG_PLACEHOLDER_EXTRA,
	XC_R_UNREGISTERED,
	XC_R_NEAR_MISS,
	XC_R_NAME_MEANING,
	XC_R_COUNT
};

struct xc_rule {
	const char *id;
	enum xc_severity severity;
	const char *description;
};

/* Indexed by enum xc_rule_id. */
extern const struct xc_rule xc_rules[XC_R_COUNT];

/* "error", "warning", "note". */
const char *xc_severity_name(enum xc_severity s);

/* The rule whose id is id ("name-shape"), or -ENOENT. */
int xc_rule_find(const char *id);

/*
 * The limits the name and path rules check, as the rule descriptions state
 * them.  A vchan port is the last component of
 * /local/domain/<server>/data/vchan/<client>/<port>; libxenvchan builds
 * "<path>/event-channel" in a 64-byte buffer (XC_VCHAN_PATH_BUF), so the
 * path holds at most 64 - 1 - strlen("/event-channel") = 49 bytes; with
 * 5-digit domids the fixed part "/local/domain/NNNNN/data/vchan/NNNNN/"
 * takes 37 of them, leaving 12 for the port.  The highest devid Linux
 * hvc_xen can number is XC_DIRECT_MAX_DEVID (direct.h).  lint.c holds these
 * values to the headers that own the limits they come from.
 */
#define XC_NAME_MAX XC_CHANNEL_NAME_MAX
#define XC_VCHAN_PORT_MAX 12
#define XC_SUN_PATH_MAX 108

/*
 * How many bytes of a text a message quotes before it cuts it with "..."
 * (xc_diags_esc()).  A socket path is quoted up to XC_VALUE_MAX (untrusted.h).
 */
#define XC_DIAG_FILE_MAX 4096 /* an input's display name */
#define XC_DIAG_TEXT_MAX 256  /* a name, a contact, a parser's own message */
#define XC_DIAG_ITEM_MAX 128  /* an item of a channel spec */
#define XC_DIAG_KEY_MAX 64    /* a registry field's or a channel spec's key */

struct xc_loc {
	unsigned file;
	unsigned line, col;
};

struct xc_diag {
	struct xc_loc loc;
	enum xc_rule_id rule;
	enum xc_severity severity;
	char *message;
	size_t seq; /* insertion order, for a stable sort */
};

struct xc_diags {
	struct xc_diag *v;
	size_t n, cap;
	char **files; /* display names, printable */
	size_t nfiles, files_cap;
	unsigned count[XC_SEV_COUNT]; /* by severity */
	char **strs; /* xc_diags_esc() results, freed with the diags */
	size_t nstrs, strs_cap;
	bool oom; /* an allocation failed: some diagnostics are missing */
	bool off[XC_R_COUNT]; /* rules turned off: xc_diag() drops them */
};

void xc_diags_init(struct xc_diags *d);
void xc_diags_clear(struct xc_diags *d);

/*
 * Register an input and return its file id.  name is escaped for display.
 * On allocation failure returns the id of a placeholder ("?") and sets oom.
 */
unsigned xc_diags_file(struct xc_diags *d, const char *name);
const char *xc_diags_file_name(const struct xc_diags *d, unsigned file);

/*
 * An escaped copy of s (at most max bytes of it), owned by d: for use as a
 * message argument.  Never NULL ("?" on allocation failure).
 */
const char *xc_diags_esc(struct xc_diags *d, const char *s, size_t max);

/*
 * Turn rule off in d: its diagnostics are dropped (not stored, not
 * counted).  The checks still run: a syntax error still ends a file.
 */
void xc_diags_disable(struct xc_diags *d, enum xc_rule_id rule);

/* Add a diagnostic of rule at loc; the severity is the rule's.  Nothing
 * when the rule is turned off. */
void xc_diag(struct xc_diags *d, enum xc_rule_id rule, struct xc_loc loc, const char *fmt,
	     ...) _printf_(4, 5);

/* Sort by file id, line, column, then insertion order. */
void xc_diags_sort(struct xc_diags *d);

/* A location "file:line:col" (or just the file when line is 0), for messages. */
const char *xc_diags_where(struct xc_diags *d, struct xc_loc loc);

#endif
