/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following a guest across reboot, save and restore, and migration
 * (--follow): who the guest is, and, once its domain went away, which
 * domain carries it on.
 *
 * The guest is its UUID, read from the toolstack's /local/domain/D/vm
 * ("/vm/<uuid>") only when that key is dom0's alone: a guest must not be
 * able to make xenchan follow it instead.  After a break a domain N is
 * taken only when N was never used before, its dom0-only vm key names the
 * same UUID, and its dom0-only name does not end in "--incoming" or
 * "--migratedaway" (a migration's two copies: the incoming one gets the
 * final name once the migration is over).  Two such domains at once are
 * ambiguous: neither is taken, and the wait goes on.
 *
 * Ownership: a struct xc_follow is the caller's, released with
 * xc_follow_clear().  Blocking: xc_follow_init() and xc_follow_read() are
 * xenstore round trips; xc_follow_wait() blocks until a domain is found,
 * bounded by its deadline and the command's (lifecycle.h), cut short by a
 * caught signal.  The rest is pure.
 */
#ifndef XENCHAN_FOLLOW_H
#define XENCHAN_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "peer.h"
#include "store.h"

/* --follow without a value. */
#define XC_FOLLOW_DEFAULT "2m"

/* The console ring's size towards the guest: what a guest's hvc resume can
 * drop of what qemu had read (socket and pty). */
#define XC_FOLLOW_RING_LOSS 1024

/* A direct channel added to a rebuilt domain first waits this long at most
 * for the toolstack's channels to be back (lib/session.c). */
#define XC_FOLLOW_SETTLE_MS 10000

/* Name suffixes of a migration's two copies of a domain (libxl). */
#define XC_FOLLOW_INCOMING "--incoming"
#define XC_FOLLOW_MIGRATEDAWAY "--migratedaway"

struct xc_follow {
	char uuid[XC_UUID_LEN + 1]; /* lower case */
	char *name;                 /* the domain's name at the start; may be NULL */
	uint32_t domid;             /* the domain followed now */
	uint32_t *used;             /* every domid followed so far, domid included */
	size_t nused;
};

/* One domain as a follow sees it: only what dom0 alone can write. */
struct xc_follow_candidate {
	uint32_t domid;
	char uuid[XC_UUID_LEN + 1]; /* "" unless the vm key is dom0's and valid */
	char *name;                 /* NULL unless the name key is dom0's */
};

void xc_follow_candidate_clear(struct xc_follow_candidate *c);

/*
 * Read domain domid as a candidate.  Returns 0 (c filled in; clear it with
 * xc_follow_candidate_clear()), -ENOENT when the domain does not exist, or
 * another negative errno (xenstore).
 */
int xc_follow_read(struct xc_store *st, uint32_t domid, struct xc_follow_candidate *c);

/*
 * Start following domain domid: its UUID must come from a dom0-only vm key
 * (-EPERM when the key is the guest's or anyone's but dom0's, -ENODATA
 * when it is missing or malformed), -ENOENT when the domain does not exist.
 */
int xc_follow_init(struct xc_follow *f, struct xc_store *st, uint32_t domid);
void xc_follow_clear(struct xc_follow *f);

/* True when name is a migration's temporary name. */
bool xc_follow_migrating_name(const char *name);

/*
 * The rule, pure: among v[0..n), the one domain to take next.  Returns 0
 * with *domid, -ENOENT (none acceptable), or -ENOTUNIQ (two or more: none
 * is taken).  *waiting (may be NULL) counts the domains with the UUID
 * that are not acceptable yet (a temporary name, or no trusted name).
 */
int xc_follow_choose(const struct xc_follow *f, const struct xc_follow_candidate *v,
		     size_t n, uint32_t *domid, size_t *waiting);

/*
 * Wait until a domain is acceptable (xc_follow_choose()), watching
 * xenstore (no polling), until deadline (clock.h).  Returns 0 with *domid
 * (recorded as used and followed now), -ETIMEDOUT, -EINTR (a caught
 * signal), or another negative errno.  Leaves no watch behind on st.
 */
int xc_follow_wait(struct xc_follow *f, struct xc_store *st, uint64_t deadline,
		   uint32_t *domid);

/* What one break of a follow was, for the report. */
struct xc_follow_break {
	uint32_t from, to;
	enum xc_peer_end why;
	uint64_t ms;       /* from the old domain seen gone to the new stream open */
	bool bytes;        /* input was being sent: the clause below applies */
	uint64_t resent;   /* bytes sent again on the new stream */
	uint64_t twice;    /* of those, how many may have arrived before too */
	uint64_t unproven; /* bytes counted delivered that the guest may have lost */
};

/*
 * The report line, without the program's prefix, into buf (len bytes):
 * "followed web01 from domain 5 to domain 7 (reboot) in 2.31 s; resent 812
 * bytes, 0 may have arrived twice, up to 1024 could not be proven" (the
 * clause after ';' only with b->bytes).  The name is the domain's, escaped
 * (its UUID when it had none).  Returns buf.
 */
char *xc_follow_format(const struct xc_follow *f, const struct xc_follow_break *b,
		       char *buf, size_t len);

#endif
