/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The channels of one domain, as an xl config (xlcfg.h), a libvirt domain
 * XML document (virtxml.h) or a live domain describes them: what the
 * channel rules (lint.h) check.
 *
 * Nothing here blocks.
 */
#ifndef XENCHAN_DOMCFG_H
#define XENCHAN_DOMCFG_H

#include <stddef.h>

#include "diag.h"

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
};

void xc_domcfg_clear(struct xc_domcfg *c);
/* Append an empty channel; returns it, or NULL on allocation failure. */
struct xc_chan *xc_domcfg_add(struct xc_domcfg *c);

#endif
