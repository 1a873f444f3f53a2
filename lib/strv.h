/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NULL-terminated arrays of heap strings ("string vectors"), as returned by
 * xc_store_list().  The array and every string are separately allocated with
 * malloc and owned by whoever holds the array.
 */
#ifndef XENCHAN_STRV_H
#define XENCHAN_STRV_H

#include <stddef.h>

#include "macro.h"

/* Free every string and the array; NULL is allowed. */
void xc_strv_free(char **v);

static inline void xc_strv_freep(char ***v)
{
	xc_strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(xc_strv_freep)

#endif
