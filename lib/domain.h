/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Domains as xenstore describes them, and resolution of a DOMAIN argument
 * (a domid, a name or a UUID) to one of them.
 *
 * Identity comes from dom0-owned keys only: /local/domain/<id>/name and
 * /local/domain/<id>/vm ("/vm/<uuid>"), which libxl writes and a guest cannot.
 *
 * Every function is a series of xenstore round trips and blocks until
 * xenstored answers.  Returned structures are owned by the caller.
 */
#ifndef XENCHAN_DOMAIN_H
#define XENCHAN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define XC_UUID_LEN 36

struct xc_domain {
	uint32_t domid;
	char *name; /* NULL when the domain has no name (yet) */
	char uuid[XC_UUID_LEN + 1]; /* "" when unknown */
};

/* True for the canonical 8-4-4-4-12 hex form (either case). */
bool xc_uuid_valid(const char *s);

/*
 * Read one domain's identity.  -ENOENT when /local/domain/<domid> does not
 * exist.  d is filled in; release with xc_domain_clear().
 */
int xc_domain_read(struct xc_store *st, uint32_t domid, struct xc_domain *d);
void xc_domain_clear(struct xc_domain *d);

/*
 * Every domain, dom0 included, sorted by domid.  *out is an array of *n
 * entries; release with xc_domain_array_free().
 */
int xc_domain_list(struct xc_store *st, struct xc_domain **out, size_t *n);
/* The same without their UUIDs (uuid ""): a request less a domain, for a
 * caller that shows no UUID and matches none. */
int xc_domain_list_names(struct xc_store *st, struct xc_domain **out, size_t *n);
void xc_domain_array_free(struct xc_domain *v, size_t n);

/*
 * What a DOMAIN argument asks for.  Forms: "id:N", "name:NAME", "uuid:UUID"
 * say exactly which; otherwise a canonical UUID is a UUID, a decimal number
 * is a domid or a name, anything else a name.
 */
enum xc_domain_key { XC_DOM_BY_ID_OR_NAME, XC_DOM_BY_ID, XC_DOM_BY_NAME, XC_DOM_BY_UUID };

struct xc_domain_spec {
	enum xc_domain_key key;
	uint32_t domid; /* XC_DOM_BY_ID, and XC_DOM_BY_ID_OR_NAME */
	const char *text; /* name or uuid; points into the argument */
};

/* -EINVAL for an empty argument or a malformed explicit form. */
int xc_domain_spec_parse(const char *arg, struct xc_domain_spec *spec);

/*
 * Find the domain the spec names among doms[0..n).  Returns its index, or
 * -ENOENT (none), or -ENOTUNIQ (a name shared by several domains, or a
 * number that is one domain's id and another's name).
 */
int xc_domain_match(const struct xc_domain_spec *spec, const struct xc_domain *doms,
		    size_t n);

/*
 * Resolve arg against the live store: xc_domain_spec_parse, xc_domain_list
 * and xc_domain_match in one call.  *out is filled in on success.  A caller
 * that may not read the domains (a guest) gets a domid argument back as it
 * is, with no name or UUID; names and UUIDs it cannot resolve (-EACCES).
 */
int xc_domain_resolve(struct xc_store *st, const char *arg, struct xc_domain *out);

#endif
