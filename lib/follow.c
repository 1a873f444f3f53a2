/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "follow.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "untrusted.h"

#define TOKEN "xc-follow"
/* Longest domain name read (domain.c reads as long). */
#define NAME_MAX_LEN 256
/* Candidates whose name or vm key is watched while waiting: a migration
 * has one; a host starting many copies of one UUID gets no more. */
#define WATCHED_MAX 32

void xc_follow_candidate_clear(struct xc_follow_candidate *c)
{
	free(c->name);
	memset(c, 0, sizeof(*c));
}

/* A key only dom0 can write, or -EPERM; -ENOENT when missing. */
static int read_dom0_only(struct xc_store *st, const char *path, size_t max, char **out)
{
	bool only = false;
	int r;

	*out = NULL;
	/* Permissions first: a guest cannot hand a node it owns to dom0
	 * (xenstored lets only a privileged domain change an owner), so a node
	 * dom0 owns now was dom0's when its value is read. */
	r = xc_store_dom0_only(st, XBT_NULL, path, &only);
	if (r < 0)
		return r;
	if (!only)
		return -EPERM;
	return xc_store_read(st, XBT_NULL, path, max, out);
}

int xc_follow_read(struct xc_store *st, uint32_t domid, struct xc_follow_candidate *c)
{
	char path[XC_DOMAIN_PATH_MAX + 16];
	_cleanup_free_ char *vm = NULL, *v = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	c->domid = domid;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	r = xc_store_read(st, XBT_NULL, path, XC_VALUE_MAX, &v);
	if (r < 0 && r != -EFBIG && r != -EBADMSG)
		return r;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	r = read_dom0_only(st, path, 64, &vm);
	if (r == 0 && strneq(vm, "/vm/", 4) && xc_uuid_valid(vm + 4)) {
		for (size_t i = 0; i <= XC_UUID_LEN; i++)
			c->uuid[i] = vm[4 + i] >= 'A' && vm[4 + i] <= 'F' ? vm[4 + i] + 32
									 : vm[4 + i];
	} else if (r < 0 && r != -ENOENT && r != -EPERM && r != -EFBIG && r != -EBADMSG) {
		return r;
	} else if (r == -EPERM) {
		xc_info("domain %u: its vm key is not dom0's alone: not followed", domid);
	}
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	r = read_dom0_only(st, path, NAME_MAX_LEN, &c->name);
	if (r < 0 && r != -ENOENT && r != -EPERM && r != -EFBIG && r != -EBADMSG) {
		xc_follow_candidate_clear(c);
		return r;
	}
	return 0;
}

void xc_follow_clear(struct xc_follow *f)
{
	free(f->name);
	free(f->used);
	memset(f, 0, sizeof(*f));
}

static int add_used(struct xc_follow *f, uint32_t domid)
{
	uint32_t *v = realloc(f->used, (f->nused + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[f->nused++] = domid;
	f->used = v;
	f->domid = domid;
	return 0;
}

int xc_follow_init(struct xc_follow *f, struct xc_store *st, uint32_t domid)
{
	struct xc_follow_candidate c;
	char path[XC_DOMAIN_PATH_MAX + 16];
	bool only = false;
	int r;

	memset(f, 0, sizeof(*f));
	r = xc_follow_read(st, domid, &c);
	if (r < 0)
		return r;
	if (!c.uuid[0]) {
		/* Say which: the key is missing or malformed, or not dom0's. */
		snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
		r = xc_store_dom0_only(st, XBT_NULL, path, &only);
		xc_follow_candidate_clear(&c);
		return r == 0 && !only ? -EPERM : -ENODATA;
	}
	memcpy(f->uuid, c.uuid, sizeof(f->uuid));
	f->name = c.name;
	c.name = NULL;
	r = add_used(f, domid);
	if (r < 0)
		xc_follow_clear(f);
	return r;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && streq(s + n - k, suffix);
}

bool xc_follow_migrating_name(const char *name)
{
	return ends_with(name, XC_FOLLOW_INCOMING) || ends_with(name, XC_FOLLOW_MIGRATEDAWAY);
}

static bool used(const struct xc_follow *f, uint32_t domid)
{
	for (size_t i = 0; i < f->nused; i++)
		if (f->used[i] == domid)
			return true;
	return false;
}

int xc_follow_choose(const struct xc_follow *f, const struct xc_follow_candidate *v,
		     size_t n, uint32_t *domid, size_t *waiting)
{
	int r = -ENOENT;

	if (waiting)
		*waiting = 0;
	for (size_t i = 0; i < n; i++) {
		const struct xc_follow_candidate *c = &v[i];

		if (used(f, c->domid) || !c->uuid[0] || !streq(c->uuid, f->uuid))
			continue;
		if (!c->name || xc_follow_migrating_name(c->name)) {
			if (waiting)
				(*waiting)++;
			continue;
		}
		if (r == 0)
			return -ENOTUNIQ;
		*domid = c->domid;
		r = 0;
	}
	return r;
}

struct scan {
	struct xc_store *st;
	char *watched[WATCHED_MAX];
	size_t nwatched;
	bool told_ambiguous;
	size_t told_waiting;
};

/* Watch path until the wait ends (once; silently not past WATCHED_MAX). */
static int watch_once(struct scan *s, const char *path)
{
	int r;

	for (size_t i = 0; i < s->nwatched; i++)
		if (streq(s->watched[i], path))
			return 0;
	if (s->nwatched == WATCHED_MAX)
		return 0;
	s->watched[s->nwatched] = strdup(path);
	if (!s->watched[s->nwatched])
		return -ENOMEM;
	r = xc_store_watch(s->st, path, TOKEN);
	if (r < 0) {
		free(s->watched[s->nwatched]);
		return r;
	}
	s->nwatched++;
	return 0;
}

/*
 * Every domain not used yet, read as a candidate.  A domain that may yet
 * become acceptable (the UUID not readable yet, or a migration's
 * temporary name) gets its vm and name keys watched: a rename fires
 * neither @introduceDomain nor @releaseDomain.
 */
static int scan(struct xc_follow *f, struct scan *s, uint32_t *domid)
{
	_cleanup_strv_free_ char **ids = NULL;
	struct xc_follow_candidate *v = NULL;
	size_t n = 0, waiting = 0;
	unsigned nids = 0;
	int r;

	r = xc_store_list(s->st, XBT_NULL, "/local/domain", &ids, &nids);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	v = calloc(nids ? nids : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < nids; i++) {
		char path[XC_DOMAIN_PATH_MAX + 16];
		uint32_t id;

		if (xc_parse_domid(ids[i], &id) < 0 || used(f, id))
			continue;
		r = xc_follow_read(s->st, id, &v[n]);
		if (r == -ENOENT) /* destroyed while we looked */
			continue;
		if (r < 0)
			goto out;
		if (!v[n].uuid[0] || (streq(v[n].uuid, f->uuid) &&
				      (!v[n].name || xc_follow_migrating_name(v[n].name)))) {
			snprintf(path, sizeof(path), "/local/domain/%u/vm", id);
			r = watch_once(s, path);
			snprintf(path, sizeof(path), "/local/domain/%u/name", id);
			if (r == 0)
				r = watch_once(s, path);
			if (r < 0)
				goto out;
		}
		n++;
	}
	r = xc_follow_choose(f, v, n, domid, &waiting);
	if (r == -ENOTUNIQ && !s->told_ambiguous) {
		xc_info("%s: several domains carry this UUID: waiting until one is left",
			f->uuid);
		s->told_ambiguous = true;
	}
	if (r == -ENOENT && waiting && waiting != s->told_waiting)
		xc_info("%s: %zu domain(s) with this UUID not final yet (migrating)", f->uuid,
			waiting);
	s->told_waiting = waiting;
out:
	for (size_t i = 0; i < n; i++)
		xc_follow_candidate_clear(&v[i]);
	free(v);
	return r;
}

static void drain(struct xc_store *st)
{
	char *path, *token;

	while (xc_store_read_watch(st, &path, &token) == 0) {
		free(path);
		free(token);
	}
}

int xc_follow_wait(struct xc_follow *f, struct xc_store *st, uint64_t deadline,
		   uint32_t *domid)
{
	struct scan s = { .st = st };
	uint32_t found = 0;
	int fd, r;

	fd = xc_store_fd(st);
	if (fd < 0)
		return fd;
	if ((r = xc_store_watch(st, "@introduceDomain", TOKEN)) < 0)
		return r;
	if ((r = xc_store_watch(st, "@releaseDomain", TOKEN)) < 0) {
		xc_store_unwatch(st, "@introduceDomain", TOKEN);
		return r;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		drain(st);
		r = scan(f, &s, &found);
		if (r == 0 || (r != -ENOENT && r != -ENOTUNIQ))
			break;
		r = xc_wait_fds(&p, 1, deadline);
		if (r < 0)
			break;
	}
	/* libxenstore 4.17 leaks the body of each queued event xs_unwatch()
	 * drops: take them first. */
	drain(st);
	for (size_t i = 0; i < s.nwatched; i++) {
		xc_store_unwatch(st, s.watched[i], TOKEN);
		free(s.watched[i]);
	}
	xc_store_unwatch(st, "@introduceDomain", TOKEN);
	xc_store_unwatch(st, "@releaseDomain", TOKEN);
	if (r < 0)
		return r;
	r = add_used(f, found);
	if (r < 0)
		return r;
	*domid = found;
	return 0;
}

char *xc_follow_format(const struct xc_follow *f, const struct xc_follow_break *b,
		       char *buf, size_t len)
{
	_cleanup_free_ char *name = f->name ? xc_escape(f->name, XC_ARG_QUOTE_MAX) : NULL;
	int n;

	n = snprintf(buf, len, "followed %s from domain %u to domain %u (%s) in %" PRIu64
			       ".%02" PRIu64 " s",
		     name ? name : f->uuid, b->from, b->to, xc_peer_end_name(b->why),
		     b->ms / 1000, b->ms % 1000 / 10);
	if (b->bytes && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
			 "; resent %" PRIu64 " bytes, %" PRIu64 " may have arrived twice, up to %" PRIu64
			 " could not be proven",
			 b->resent, b->twice, b->unproven);
	return buf;
}
