/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-memory xenstore behind libxenstore's own API (xs_open, xs_read,
 * xs_directory, xs_get_permissions, ...), for fuzz targets: linked instead
 * of libxenstore, it lets the real lib/store.c and everything above it read
 * a tree the fuzzer wrote, with no xenstored.
 *
 * The tree is described as text, one node a line:
 *
 *	PATH[ PERMS][=VALUE]
 *	!PATH[=ERRNO]
 *
 * PATH is absolute and follows xenstored's rules (characters [A-Za-z0-9_@/-],
 * no empty component, at most 3072 bytes); a line with any other path is
 * skipped, as xenstored would refuse the write.  VALUE is every byte after
 * the first '=' up to the newline, NUL bytes included (at most 4096, the
 * protocol's payload limit); without '=' the node's value is empty.  PERMS
 * is a list like "n0 r5" (n none, r read, w write, b both, then a domid):
 * the first entry names the owner and everyone's default, as in
 * xenstore-chmod; without it the node inherits its parent's permissions, as
 * xenstored gives them to a node it creates.  Missing parents are created the
 * same way.  A later line for the same path replaces value and permissions.
 *
 * A "!" line makes every request on exactly that path fail with ERRNO
 * (default EIO), whether or not the node exists.  Lines starting with '#'
 * and empty lines are ignored.
 *
 * Requests are answered with dom0's privileges (no EACCES unless asked for
 * with "!").  Transactions and watches are not modelled: those calls fail
 * with ENOSYS.  One tree per process; not thread-safe.
 */
#ifndef XENCHAN_XS_MEM_H
#define XENCHAN_XS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replace the tree with the one data[0..size) describes. */
void xs_mem_load(const uint8_t *data, size_t size);

/* Drop the tree and free everything it holds. */
void xs_mem_clear(void);

/*
 * The value of path (*len bytes, NUL-terminated after them), or NULL when
 * the node does not exist or requests on it fail.  Owned by the tree.
 */
const char *xs_mem_value(const char *path, size_t *len);

/* Whether path exists and requests on it succeed. */
bool xs_mem_exists(const char *path);

/*
 * Whether domain domid may write path by xenstored's rule: it owns the
 * node, or the entry for it (else the default) grants write.  False when
 * the node does not exist or requests on it fail.
 */
bool xs_mem_writable(const char *path, unsigned domid);

/* Child names of path, in the order they were created, through fn. */
void xs_mem_children(const char *path, void (*fn)(const char *name, void *data),
		     void *data);

#endif
