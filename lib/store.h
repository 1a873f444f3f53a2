/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A xenstore session over the real libxenstore.
 *
 * Ownership: xc_store_open() returns a handle owned by the caller and freed
 * with xc_store_close().  Strings and string vectors returned through
 * out-parameters are owned by the caller (free() / xc_strv_free()); inputs are
 * only borrowed for the duration of the call.
 *
 * Blocking: every call except xc_store_fd() and xc_store_read_watch() is a
 * request/reply round trip to xenstored and blocks until xenstored answers.
 * xc_store_read_watch() never blocks.
 *
 * Transactions: the data functions take an xs_transaction_t; pass XBT_NULL
 * outside a transaction, or the t given to an xc_store_transaction() callback.
 *
 * Errors are negative errnos; -ENOENT for a missing node, -EACCES when
 * xenstore denies access, other values as xenstored reports them; and for
 * any request: -ECONNRESET when the connection to xenstored is lost (the
 * handle is then dead: every later request fails the same way),
 * -ETIMEDOUT when the request outlasted the bound set with
 * xc_store_set_deadline(), -EINTR when a signal cut it short (lifecycle.h).
 * A request cut short also kills the handle.
 *
 * A handle is not meant to be shared between threads (xc_store_cut()
 * excepted), and handles are opened one at a time (xc_store_open() tells
 * its socket by the lowest descriptor free).  Its descriptors are
 * close-on-exec.
 */
#ifndef XENCHAN_STORE_H
#define XENCHAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

#include "strv.h"

struct xc_store;

/*
 * Bound every request from now on, for every handle: by the absolute
 * deadline (clock.h; XC_NEVER: none) and, when call_ms is not 0, to call_ms
 * each.  A stalled xenstored then costs a command its deadline, not its life.
 */
void xc_store_set_deadline(uint64_t deadline, uint64_t call_ms);

/* The bounds set with xc_store_set_deadline(): the absolute deadline, and
 * each request's (0: none). */
uint64_t xc_store_deadline(void);
uint64_t xc_store_call_ms(void);

/*
 * Cut st's connection from another thread: the request it is blocked in,
 * and every later one, fails (-ECONNRESET).  Only a handle with a socket of
 * its own can be cut (xc_store_can_cut()), not one through the xenbus
 * device.
 */
bool xc_store_can_cut(const struct xc_store *st);
void xc_store_cut(struct xc_store *st);

/*
 * Connect to xenstore (the daemon's socket, or $XENSTORED_PATH).
 * The handle filters stale watch events: after xc_store_unwatch() no event
 * of that watch is returned, provided (path, token) pairs are unique (once
 * the same pair is watched again, events queued before are its own).
 */
int xc_store_open(struct xc_store **out);

/* Disconnect and free; NULL is allowed.  Watches end with the connection. */
void xc_store_close(struct xc_store *st);

/* The underlying libxenstore handle, still owned by st (for other Xen libs). */
struct xs_handle *xc_store_xs(struct xc_store *st);

/*
 * Read path into a newly allocated NUL-terminated string (*out, caller
 * frees).  The value must be at most max bytes (-EFBIG otherwise) and must
 * not contain NUL bytes (-EBADMSG): values written by guests are untrusted.
 */
int xc_store_read(struct xc_store *st, xs_transaction_t t, const char *path, size_t max,
		  char **out);

/*
 * Read path as a strict decimal number (digits only, no sign or
 * whitespace) <= max.  -EBADMSG when the value is not such a number,
 * -ERANGE when it is larger than max.
 */
int xc_store_read_uint(struct xc_store *st, xs_transaction_t t, const char *path,
		       uint64_t max, uint64_t *out);

/*
 * The children of path, sorted: decimal names in numeric order first
 * ("1" < "2" < "10"), then the others in strcmp() order.  *names is a
 * NULL-terminated vector the caller frees with xc_strv_free(); *n (may be
 * NULL) gets its length.
 */
int xc_store_list(struct xc_store *st, xs_transaction_t t, const char *path,
		  char ***names, unsigned *n);

/* Write a string value (without its NUL), creating path and missing parents. */
int xc_store_write(struct xc_store *st, xs_transaction_t t, const char *path,
		   const char *value);

/* Remove path and everything below it; a missing path is not an error. */
int xc_store_rm(struct xc_store *st, xs_transaction_t t, const char *path);

/*
 * Set permissions from a spec like "n0 r5": space-separated entries of a
 * letter (n none, r read, w write, b both) and a domid.  The first entry
 * names the owner and the access of every domain not listed, as in
 * xenstore-chmod.  -EINVAL for a malformed spec.
 */
int xc_store_set_perms(struct xc_store *st, xs_transaction_t t, const char *path,
		       const char *perms_spec);

/* The same with libxenstore's array (perms[0] is the owner/default). */
int xc_store_set_perms_array(struct xc_store *st, xs_transaction_t t, const char *path,
			     const struct xs_permissions *perms, unsigned n);

/*
 * Whether domain domid may write path, from its permissions: it owns the
 * node, or the default or an entry for it grants write.  This is how a
 * reader tells a value the guest may have forged from one it cannot.
 */
int xc_store_writable_by(struct xc_store *st, xs_transaction_t t, const char *path,
			 uint32_t domid, bool *out);

/*
 * Whether path is dom0's alone: owned by domain 0 (the first permission
 * entry) and writable by no other domain.  What --follow requires of the
 * keys that identify a domain (a guest must not be able to forge them).
 */
int xc_store_dom0_only(struct xc_store *st, xs_transaction_t t, const char *path, bool *out);

/*
 * Run fn inside a transaction.  If fn returns < 0 the transaction is
 * aborted and that value returned, except -EAGAIN which, like a conflict
 * reported when committing, starts fn again in a new transaction, at most
 * max_retries more times (then -EAGAIN).  fn must therefore be safe to run
 * several times (no side effects outside xenstore, or idempotent ones).
 * On commit returns fn's (non-negative) result.
 */
/* What callers pass as max_retries: conflicts are rare and short-lived. */
#define XC_STORE_TX_RETRIES 5

int xc_store_transaction(struct xc_store *st,
			 int (*fn)(struct xc_store *st, xs_transaction_t t, void *data),
			 void *data, unsigned max_retries);

/*
 * Watch path (a node and everything below it, or "@introduceDomain",
 * "@releaseDomain").  A new watch fires once at once; watches may fire
 * spuriously, so the reader re-reads state.  Use a distinct token per watch.
 */
int xc_store_watch(struct xc_store *st, const char *path, const char *token);
int xc_store_unwatch(struct xc_store *st, const char *path, const char *token);

/*
 * A descriptor that polls readable (POLLIN) when watch events may be queued
 * or the connection was lost (xc_store_read_watch() then says -ECONNRESET).
 * Owned by st; do not read or close it.  -errno if it cannot be set up.
 */
int xc_store_fd(struct xc_store *st);

/*
 * Take the next queued watch event without blocking: *path (the node that
 * changed) and *token, both caller-freed.  -EAGAIN when none is queued.
 * After the descriptor polls readable, call this until it returns -EAGAIN:
 * the descriptor may stop polling readable while events are still queued.
 * -ECONNRESET when the connection to xenstored is lost.
 */
int xc_store_read_watch(struct xc_store *st, char **path, char **token);

#endif
