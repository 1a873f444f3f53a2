/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exclusive use of an endpoint: one lock file per endpoint under
 * $XENCHAN_RUNDIR/locks (or /run/xenchan/locks), held with flock() for as
 * long as the endpoint is used, holding the holder's pid.  A lock dies with
 * its holder, SIGKILL included: whatever a dead holder left (nodes in
 * xenstore) is recognised as stale by the next one to take the lock.
 *
 * Nothing here blocks but xc_lock_take_wait(): a held lock is -EBUSY at
 * once.
 */
#ifndef XENCHAN_LOCK_H
#define XENCHAN_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The lock kind of a served vchan endpoint; its id is "<client>:<name>". */
#define XC_LOCK_VCHAN_SERVE "vchan-serve"

/* An id made of a domid and a channel name fits. */
#define XC_LOCK_ID_MAX 300

/*
 * The lock file for an endpoint of this kind ("socket", "direct", ...) and
 * id, in dir (NULL: the default) into buf: '/' and '%' in id are escaped as
 * %2F and %25, keeping the name one path component.  -ENAMETOOLONG.
 */
int xc_lock_path(const char *dir, const char *kind, const char *id, char *buf,
		 size_t len);

/*
 * The same for an endpoint known by domain and channel name (a direct
 * channel, a served vchan endpoint): id "<domid>:<name>".
 */
int xc_lock_path_named(const char *dir, const char *kind, uint32_t domid,
		       const char *name, char *buf, size_t len);

/* Take the lock at path (its directory is made): the descriptor that holds
 * it (close-on-exec), -EBUSY when another process holds it, or -errno. */
int xc_lock_take(const char *path);

/*
 * xc_lock_take(), waiting while another process holds the lock, until
 * deadline (clock.h), like flock -w: woken when the holder releases it or
 * dies (inotify on the lock file), and looking again every
 * XC_LOCK_RECHECK_MS in any case.  -EBUSY when the deadline passes with the
 * lock still held, -EINTR when a signal is caught (lifecycle.h).
 */
#define XC_LOCK_RECHECK_MS 500
int xc_lock_take_wait(const char *path, uint64_t deadline);

/*
 * After xc_lock_take() or xc_lock_take_wait() failed with an error other
 * than -EBUSY and -EINTR: the step that failed, e.g. "lock directory
 * /run/xenchan/locks: Permission denied" or "lock file PATH: ...".
 */
const char *xc_lock_error(void);

/* Release a lock taken with xc_lock_take(); -1 is allowed. */
void xc_lock_release(int fd);

/* The pid holding the lock at path, or 0 when nobody does. */
pid_t xc_lock_holder(const char *path);

#endif
