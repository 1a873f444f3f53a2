/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry checker's rules and the diagnostics they produce.
 *
 * Every rule has an id ("name-shape"), a severity and a one-line
 * description, in one table (xc_rules).  Parsers (registry.c, xlcfg.c,
 * virtxml.c) report what they find while reading; the checks here report the
 * rest.  Diagnostics are collected in a struct xc_diags and printed by the
 * command.
 *
 * A location is a file id (an index into the diags' table of inputs, each
 * with its display name: a path, or "domain web01/devid 1" for a live
 * channel) and a 1-based line and column; line 0 means "no line".
 *
 * Text that came from a file or a guest is escaped (xc_escape) before it is
 * put into a message: messages are always printable ASCII.
 *
 * Nothing here blocks.  Functions that allocate return -ENOMEM on failure.
 */
#ifndef XENCHAN_LINT_H
#define XENCHAN_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

enum xc_severity { XC_SEV_NOTE, XC_SEV_WARNING, XC_SEV_ERROR };

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

/*
 * Limits the name rules use.  A vchan port is the last component of
 * /local/domain/<server>/data/vchan/<client>/<port>; libxenvchan builds
 * "<path>/event-channel" in a 64-byte buffer, so the path holds at most
 * 64 - 1 - strlen("/event-channel") = 49 bytes; with 5-digit domids the
 * fixed part "/local/domain/NNNNN/data/vchan/NNNNN/" takes 37 of them,
 * leaving 12 for the port.
 */
#define XC_NAME_MAX 255
#define XC_VCHAN_PATH_MAX 49
#define XC_VCHAN_PORT_MAX 12
#define XC_SUN_PATH_MAX 108
/* Linux hvc_xen reads the device number from the node name's last character. */
#define XC_LINUX_DEVID_MAX 9

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
	unsigned count[3]; /* by severity */
	char **strs; /* xc_diags_esc() results, freed with the diags */
	size_t nstrs, strs_cap;
	bool oom; /* an allocation failed: some diagnostics are missing */
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

/* Add a diagnostic of rule at loc; the severity is the rule's. */
void xc_diag(struct xc_diags *d, enum xc_rule_id rule, struct xc_loc loc, const char *fmt,
	     ...) _printf_(4, 5);

/* Sort by file id, line, column, then insertion order. */
void xc_diags_sort(struct xc_diags *d);

/* A location "file:line:col" (or just the file when line is 0), for messages. */
const char *xc_diags_where(struct xc_diags *d, struct xc_loc loc);

/*
 * One channel of a domain, as a config or a live domain describes it.
 * Strings are owned by the structure (NULL when absent).  The name_loc,
 * conn_loc and path_loc of an absent value are the entry's loc.
 */
struct xc_chan {
	char *name, *connection, *path;
	struct xc_loc loc, name_loc, conn_loc, path_loc;
	unsigned devid; /* as libxl would number it: 1, 2, ... */
};

enum xc_domcfg_kind { XC_CFG_XL, XC_CFG_LIBVIRT, XC_CFG_LIVE };

struct xc_domcfg {
	enum xc_domcfg_kind kind;
	unsigned file;
	char *domname; /* may be NULL */
	struct xc_chan *ch;
	size_t n, cap;
	struct xc_loc list_loc; /* xl: where the channel list starts */
};

void xc_domcfg_clear(struct xc_domcfg *c);
/* Append an empty channel; returns it, or NULL on allocation failure. */
struct xc_chan *xc_domcfg_add(struct xc_domcfg *c);

/*
 * True for the dummy first entry that works around the Xen 4.17 xl bug: a
 * name whose last label is "dummy" (org.example.dummy).
 */
bool xc_name_is_dummy(const char *name);

/* True for a version label: digits, or "v" or "version" followed by digits. */
bool xc_label_is_version(const char *label, size_t len);

struct xc_registry;
struct xc_lint;

/*
 * A checking session: reg (borrowed, may be NULL: then no registry rules
 * run) and d (borrowed) outlive it.
 */
int xc_lint_new(struct xc_registry *reg, struct xc_diags *d, struct xc_lint **out);
void xc_lint_free(struct xc_lint *l);

/* The name rules, for a name found at loc; name must stay alive until
 * xc_lint_free() (a note is given once per name). */
void xc_lint_name(struct xc_lint *l, const char *name, struct xc_loc loc);

/*
 * The registry rules over the session registry's entries from index from on
 * (entries before it, such as the installed registry, are looked up but not
 * checked; a duplicate of one of them is still reported).
 */
void xc_lint_registry(struct xc_lint *l, size_t from);

/*
 * The channel rules over one domain, and the rules across domains (socket
 * path clashes, names with several meanings) against every domain checked
 * before in the session.  cfg must stay alive until xc_lint_free().
 */
void xc_lint_domain(struct xc_lint *l, const struct xc_domcfg *cfg);

#endif
