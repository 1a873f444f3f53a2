/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry checker's rules that run on what the parsers have read:
 * channel names, the records of a registry, and the channels of each domain,
 * against each other and against the registries.  The rule table (ids,
 * severities, descriptions) and the diagnostics are in diag.h; the parsers
 * report the problems of form they find while reading.
 *
 * Nothing here blocks.  Functions that allocate return -ENOMEM on failure.
 */
#ifndef XENCHAN_LINT_H
#define XENCHAN_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "domcfg.h"

struct xc_registry;
struct xc_lint;
struct xc_xenver;

/*
 * A checking session: reg (borrowed, may be NULL: then no registry rules
 * run) and d (borrowed) outlive it.
 */
int xc_lint_new(struct xc_registry *reg, struct xc_diags *d, struct xc_lint **out);
void xc_lint_free(struct xc_lint *l);

/*
 * The name rules, for a name found at loc; name must stay alive until
 * xc_lint_free().  The name-vchan-port note is given here only after
 * xc_lint_vchan_notes(l, true); else only at vchan uses (xc_lint_vchan()).
 */
void xc_lint_name(struct xc_lint *l, const char *name, struct xc_loc loc);

/*
 * With all, the name-vchan-port note is given for every name checked (the
 * command's -v), not only for names used with vchan.  Off by default.
 */
void xc_lint_vchan_notes(struct xc_lint *l, bool all);

/*
 * The Xen whose xl the xl configs are for (v is copied; see xenver.h): what
 * config-xl-first-dropped, config-xl-first-unknown and
 * config-placeholder-extra say of a config's first channel entry, and how
 * entries are numbered (an affected xl numbers them from 0 and drops that
 * one).  NULL, the default: not known, and the config-xl-first-unknown note
 * explains both behaviours.  libvirt documents and live domains do not
 * depend on it: libvirt's libxl driver never had the bug.
 */
void xc_lint_xen(struct xc_lint *l, const struct xc_xenver *v);

/*
 * A use of name with vchan, at loc: a vchan endpoint of a running domain
 * that carries the name.  Gives the name-vchan-port note when the name is
 * too long to be its own port (once per name, as xc_lint_name()).  name is
 * copied.
 */
void xc_lint_vchan(struct xc_lint *l, const char *name, struct xc_loc loc);

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
 *
 * A placeholder (xc_name_is_placeholder(), or an xl config's first entry
 * whose name a later entry uses again) is a channel the guest should not
 * have: config-placeholder-extra, except as the first entry of an xl config
 * for an xl that drops it.  The entry such an xl drops takes no part in the
 * duplicate-name, path-clash and name-meaning rules.
 */
void xc_lint_domain(struct xc_lint *l, const struct xc_domcfg *cfg);

#endif
