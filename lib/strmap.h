/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A map from strings to pointers: open addressing, FNV-1a, grows at half
 * load, so lookups stay O(1) however many names a registry holds.
 *
 * Keys are borrowed: the caller keeps each key alive and unchanged while it
 * is in the map.  Values are opaque.  Nothing here blocks.
 */
#ifndef XENCHAN_STRMAP_H
#define XENCHAN_STRMAP_H

#include <stddef.h>

struct xc_strmap;

/* NULL on allocation failure. */
struct xc_strmap *xc_strmap_new(void);
void xc_strmap_free(struct xc_strmap *m);

/*
 * Add key -> value unless key is present.  Returns 0 when added, 1 when the
 * key was already there (*old, if not NULL, gets its value; the map is not
 * changed), -ENOMEM.
 */
int xc_strmap_add(struct xc_strmap *m, const char *key, void *value, void **old);

/* The value of key, or NULL when absent. */
void *xc_strmap_get(const struct xc_strmap *m, const char *key);

static inline void xc_strmap_freep(struct xc_strmap **m)
{
	xc_strmap_free(*m);
}

#endif
