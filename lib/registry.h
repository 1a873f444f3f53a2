/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Channel registries in the record format of Xen's channel registry
 * (docs/misc/channels.txt):
 *
 *	N: org.xenproject.guest.clipboard.0.1
 *	C: David Scott <dave.scott@citrix.com>
 *	D: Share clipboard data via an in-guest agent. See:
 *	   http://wiki.xenproject.org/wiki/Clipboard_sharing_protocol
 *
 * Records are separated by blank lines.  A field starts with a key (letters,
 * digits and '-', then ':' and a blank or the end of the line); a line that
 * starts with no key continues the previous field (joined with one space,
 * leading blanks dropped), which is why "http://..." above is no key.  A line
 * starting with '#' is a comment.  A record whose first key is "Key" is the
 * legend at the head of Xen's file and is skipped.
 *
 * Several files may be read into one registry; lookups see all of them.
 * Lookup is a hash; the near-miss search compares only names whose length
 * is within 2 of the query's, plus label-dropping indexes.
 *
 * Nothing here blocks.  The registry owns its entries.
 */
#ifndef XENCHAN_REGISTRY_H
#define XENCHAN_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

struct xc_reg_entry {
	char *name;    /* NULL when the record has no N: */
	char *contact; /* NULL when absent */
	char *desc;    /* NULL when absent */
	struct xc_loc loc;          /* the record's first line */
	struct xc_loc name_loc;     /* the N: value */
	struct xc_loc contact_loc;  /* the C: value, or loc */
};

struct xc_registry;

int xc_registry_new(struct xc_registry **out);
void xc_registry_free(struct xc_registry *r);

/*
 * Read the records in buf[0..len) (which need not be NUL-terminated) from
 * the input d knows as file.  Problems of form (registry-malformed,
 * registry-unknown-key) are added to d; the records are added to r, even
 * malformed ones.  Returns 0 or -ENOMEM.
 */
int xc_registry_parse(struct xc_registry *r, struct xc_diags *d, unsigned file,
		      const char *buf, size_t len);

size_t xc_registry_count(const struct xc_registry *r);
const struct xc_reg_entry *xc_registry_entry(const struct xc_registry *r, size_t i);

/* The first entry registering name, or NULL. */
const struct xc_reg_entry *xc_registry_find(const struct xc_registry *r, const char *name);

/*
 * A registered name that name is probably a typo of, or NULL: the same name
 * in another case; a label dropped or added; or a Levenshtein distance of at
 * most 2 -- except a name that differs only in its version label
 * (org.example.agent.1 against org.example.agent.0), which is another
 * version, not a typo.  Builds its label index on first use.
 */
const struct xc_reg_entry *xc_registry_near(struct xc_registry *r, const char *name);

/*
 * True for the name of a placeholder channel, such as the first entry that
 * works around the xl first-channel bug (xenver.h): a name whose last label,
 * or the label before a last version label, is one of the words dummy,
 * placeholder, unused, reserved, padding and filler, or holds one as a
 * '-'-separated part (org.example.dummy, org.example.unused.0,
 * org.example.xl-dummy).  The near-miss search never suggests one.
 */
bool xc_name_is_placeholder(const char *name);

/*
 * True for a version label: digits, or "v" or "version" followed by digits.
 * Names that differ only in one are other versions, not near misses.
 */
bool xc_label_is_version(const char *label, size_t len);

/* Levenshtein distance of a and b if it is at most max, else max + 1. */
unsigned xc_levenshtein_max(const char *a, size_t alen, const char *b, size_t blen,
			    unsigned max);

#endif
