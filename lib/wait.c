/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "untrusted.h"
#include "wait.h"

#define TOKEN "xenchan-wait"
#define MAX_BACKENDS 8

static const char *const for_names[] = {
	[XC_WAIT_EXISTS] = "exists",
	[XC_WAIT_CONNECTED] = "connected",
	[XC_WAIT_READY] = "ready",
	[XC_WAIT_GONE] = "gone",
};

int xc_wait_for_parse(const char *s, enum xc_wait_for *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(for_names); i++) {
		if (streq(s, for_names[i])) {
			*out = (enum xc_wait_for)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xc_wait_for_name(enum xc_wait_for w)
{
	return (unsigned)w < ARRAY_SIZE(for_names) ? for_names[w] : "?";
}

void xc_wait_result_clear(struct xc_wait_result *res)
{
	xc_domain_clear(&res->domain);
	xc_channel_array_free(res->channels, res->nchannels);
	res->channels = NULL;
	res->nchannels = 0;
}

struct waiter {
	struct xc_store *st;
	struct xc_domain_spec spec;
	const char *const *names;
	size_t nnames;
	enum xc_wait_for what;
	bool seen;       /* the domain has existed while we waited */
	bool watching;   /* the domain's own paths are watched */
	uint32_t domid;  /* valid when seen */
	uint32_t backends[MAX_BACKENDS];
	size_t nbackends;
	char *watched[8 + MAX_BACKENDS]; /* to unwatch at the end */
	size_t nwatched;
	int ino;         /* inotify, for sockets that have yet to appear */
	char *told;      /* what the domain has, as last logged */
	/* Who serves vchan endpoints to whom, scanned once (every domain's
	 * directory); afterwards only the server whose watched vchan directory
	 * changed (the domain itself, dom0) is read again: a guest writing its
	 * keys in a loop costs a listing of its own domain per write, not a
	 * scan of the host. */
	struct xc_vchan_index *ix;
	bool rescan_self, rescan_dom0;
};

static _printf_(2, 3) int watch_path(struct waiter *w, const char *fmt, ...)
{
	char path[128];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (w->nwatched == ARRAY_SIZE(w->watched))
		return -ENOSPC;
	r = xc_store_watch(w->st, path, TOKEN);
	if (r < 0) {
		xc_dbg("watch %s: %s", path, strerror(-r));
		return r;
	}
	w->watched[w->nwatched] = strdup(path);
	if (w->watched[w->nwatched])
		w->nwatched++;
	return 0;
}

static int watch_domain(struct waiter *w)
{
	int r;

	if ((r = watch_path(w, "/local/domain/%u/device/console", w->domid)) < 0 ||
	    (r = watch_path(w, "/libxl/%u/device/console", w->domid)) < 0 ||
	    (r = watch_path(w, "/local/domain/%u/data/vchan", w->domid)) < 0)
		return r;
	if (w->domid != 0)
		return watch_path(w, "/local/domain/0/data/vchan/%u", w->domid);
	return 0;
}

/* Backends can live in any domain; watch each one we learn about. */
static int watch_backend(struct waiter *w, uint32_t b)
{
	for (size_t i = 0; i < w->nbackends; i++)
		if (w->backends[i] == b)
			return 0;
	if (w->nbackends == MAX_BACKENDS)
		return 0; /* more backends than any toolstack uses: not watched */
	w->backends[w->nbackends++] = b;
	return watch_path(w, "/local/domain/%u/backend/console/%u", b, w->domid);
}

static void watch_socket_dir(struct waiter *w, const char *sock)
{
	_cleanup_free_ char *copy = strdup(sock);

	if (!copy)
		return;
	if (w->ino < 0)
		w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ino < 0)
		return;
	/* Adding the same directory again is harmless: the kernel returns the
	 * existing watch. */
	inotify_add_watch(w->ino, dirname(copy), IN_CREATE | IN_MOVED_TO | IN_ATTRIB);
}

/* The one lookup: a console channel first, then a vchan endpoint. */
static const struct xc_channel *find(const struct xc_channel *v, size_t n, const char *name)
{
	const struct xc_channel *c = NULL;

	if (xc_channel_find(v, n, name, XC_TRANSPORT_UNKNOWN, &c) == -ENOENT)
		xc_channel_find(v, n, name, XC_TRANSPORT_VCHAN, &c);
	return c;
}

static bool channel_reached(struct waiter *w, const struct xc_channel *c)
{
	if (c->backend)
		watch_backend(w, c->backend_domid);
	switch (w->what) {
	case XC_WAIT_EXISTS:
		return true;
	case XC_WAIT_CONNECTED:
		return xc_channel_connected(c);
	case XC_WAIT_READY:
		if (!xc_channel_connected(c))
			return false;
		if (xc_channel_endpoint_ready(c))
			return true;
		if (c->transport == XC_TRANSPORT_SOCKET && c->endpoint)
			watch_socket_dir(w, c->endpoint);
		return false;
	case XC_WAIT_GONE:
		return false;
	}
	return false;
}

/* A channel's state as a waiter sees it: "ready" when it accepts now. */
static const char *shown_state(const struct xc_channel *c)
{
	if (xc_channel_connected(c) && xc_channel_endpoint_ready(c))
		return "ready";
	return xc_channel_state(c);
}

/*
 * While not reached, with -v: what the domain has ("web01 has: org.a.0
 * (socket, ready), ..."), once and again whenever it changes, so that a
 * name the domain does not have is not waited for silently.  Names are the
 * guest's: escaped.
 */
static void tell_what_it_has(struct waiter *w, const struct xc_domain *d,
			     const struct xc_channel *ch, size_t n)
{
	_cleanup_free_ char *dn = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!xc_log_enabled(LOG_INFO))
		return;
	f = open_memstream(&text, &len);
	if (!f)
		return;
	dn = d->name ? xc_escape(d->name, XC_ARG_QUOTE_MAX) : NULL;
	if (dn)
		fputs(dn, f);
	else
		fprintf(f, "domain %u", d->domid);
	fputs(n ? " has:" : " has no channels", f);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *cn =
			ch[i].name ? xc_escape(ch[i].name, XC_ARG_QUOTE_MAX) : NULL;

		fprintf(f, "%s %s (%s", i ? "," : "", cn ? cn : "-",
			xc_transport_name(ch[i].transport));
		if (ch[i].transport == XC_TRANSPORT_VCHAN)
			fprintf(f, " %s, peer %u", xc_channel_role(&ch[i]),
				xc_channel_peer(&ch[i]));
		fprintf(f, ", %s)", shown_state(&ch[i]));
	}
	if (fclose(f) != 0 || !text) {
		free(text);
		return;
	}
	if (w->told && streq(w->told, text)) {
		free(text);
		return;
	}
	xc_info("%s", text);
	free(w->told);
	w->told = text;
}

/* Is the domain still the one the spec names (a domid may be reused)? */
static int lookup(struct waiter *w, struct xc_domain *d)
{
	int r;

	if (!w->seen)
		return w->spec.key == XC_DOM_BY_ID ? xc_domain_read(w->st, w->spec.domid, d)
						   : xc_domain_resolve(w->st, w->spec.text, d);
	r = xc_domain_read(w->st, w->domid, d);
	if (r < 0)
		return r;
	if (xc_domain_match(&w->spec, d, 1) < 0) {
		xc_domain_clear(d);
		return -ENOENT;
	}
	return 0;
}

/* 1 reached, 0 not yet, < 0 error (-ESRCH: the domain went away). */
static int evaluate(struct waiter *w, struct xc_wait_result *res)
{
	struct xc_domain d;
	struct xc_channel *ch = NULL;
	size_t n = 0;
	bool all = true;
	int r;

	r = lookup(w, &d);
	if (r == -ENOENT) {
		if (w->what == XC_WAIT_GONE)
			return 1;
		return w->seen ? -ESRCH : 0;
	}
	if (r < 0)
		return r;
	if (!w->seen) {
		w->seen = true;
		w->domid = d.domid;
		xc_info("%s: domain %u found", w->spec.text ? w->spec.text : "", d.domid);
	}
	if (!w->watching) {
		r = watch_domain(w);
		if (r < 0) {
			xc_domain_clear(&d);
			return r;
		}
		w->watching = true;
	}
	if (w->what == XC_WAIT_GONE && w->nnames == 0) {
		xc_domain_clear(&d);
		return 0;
	}
	r = w->ix ? 0 : xc_vchan_index_scan(w->st, &w->ix);
	if (r == 0 && w->rescan_self)
		r = xc_vchan_index_rescan(w->st, w->ix, d.domid);
	if (r == 0 && w->rescan_dom0 && d.domid != 0)
		r = xc_vchan_index_rescan(w->st, w->ix, 0);
	if (r < 0) {
		xc_domain_clear(&d);
		return r;
	}
	w->rescan_self = w->rescan_dom0 = false;
	r = xc_channel_list_indexed(w->st, d.domid, w->ix, &ch, &n);
	if (r < 0) {
		xc_domain_clear(&d);
		return r == -ENOENT ? 0 : r; /* going away: the watch will tell */
	}
	if (w->nnames == 0) {
		all = n > 0 || w->what == XC_WAIT_EXISTS;
		for (size_t i = 0; i < n; i++)
			if (!channel_reached(w, &ch[i]))
				all = false;
	} else {
		for (size_t i = 0; i < w->nnames; i++) {
			const struct xc_channel *c = find(ch, n, w->names[i]);

			if (w->what == XC_WAIT_GONE ? c != NULL : !c || !channel_reached(w, c))
				all = false;
		}
	}
	if (!all) {
		if (w->what != XC_WAIT_GONE)
			tell_what_it_has(w, &d, ch, n);
		xc_channel_array_free(ch, n);
		xc_domain_clear(&d);
		return 0;
	}
	res->domain = d;
	if (w->nnames == 0 || w->what == XC_WAIT_GONE) {
		res->channels = w->what == XC_WAIT_GONE ? NULL : ch;
		res->nchannels = w->what == XC_WAIT_GONE ? 0 : n;
		if (w->what == XC_WAIT_GONE)
			xc_channel_array_free(ch, n);
		return 1;
	}
	/* The channels waited for, in argument order. */
	res->channels = calloc(w->nnames, sizeof(*res->channels));
	if (!res->channels) {
		xc_channel_array_free(ch, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->nnames; i++) {
		const struct xc_channel *c = find(ch, n, w->names[i]);
		struct xc_channel *dst = &res->channels[i];

		if (!c) /* cannot happen: every name was found above */
			continue;
		*dst = *c;
		/* Duplicated names share one entry: copy the strings. */
		dst->name = c->name ? strdup(c->name) : NULL;
		dst->fe_name = c->fe_name ? strdup(c->fe_name) : NULL;
		dst->connection = c->connection ? strdup(c->connection) : NULL;
		dst->endpoint = c->endpoint ? strdup(c->endpoint) : NULL;
		dst->frontend = c->frontend ? strdup(c->frontend) : NULL;
		dst->backend = c->backend ? strdup(c->backend) : NULL;
	}
	res->nchannels = w->nnames;
	xc_channel_array_free(ch, n);
	return 1;
}

/* Whether path is dir or below it. */
static bool within(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strneq(path, dir, len) && (path[len] == '\0' || path[len] == '/');
}

/* A change in a vchan directory watched (the domain's own, dom0's for it):
 * that server is read again at the next look. */
static void note_vchan_path(struct waiter *w, const char *path)
{
	char own[64], dom0[64];

	if (!w->watching)
		return;
	snprintf(own, sizeof(own), "/local/domain/%u/data/vchan", w->domid);
	snprintf(dom0, sizeof(dom0), "/local/domain/0/data/vchan/%u", w->domid);
	if (within(path, own))
		w->rescan_self = true;
	if (within(path, dom0))
		w->rescan_dom0 = true;
}

static int drain(struct waiter *w)
{
	for (;;) {
		char *path, *token;
		int r = xc_store_read_watch(w->st, &path, &token);

		if (r == -EAGAIN)
			break;
		if (r < 0)
			return r;
		xc_dbg("watch fired: %s", path);
		note_vchan_path(w, path);
		free(path);
		free(token);
	}
	if (w->ino >= 0) {
		char buf[4096];

		while (read(w->ino, buf, sizeof(buf)) > 0)
			;
	}
	return 0;
}

int xc_wait(struct xc_store *st, const char *domain, const char *const *names,
	    size_t nnames, enum xc_wait_for what, uint64_t timeout_ms,
	    struct xc_wait_result *res)
{
	return xc_wait_hooked(st, domain, names, nnames, what, timeout_ms, NULL, res);
}

int xc_wait_hooked(struct xc_store *st, const char *domain, const char *const *names,
		   size_t nnames, enum xc_wait_for what, uint64_t timeout_ms,
		   const struct xc_wait_hook *hook, struct xc_wait_result *res)
{
	struct waiter w = { .st = st, .names = names, .nnames = nnames, .what = what,
			    .ino = -1 };
	uint64_t deadline = xc_deadline(timeout_ms);
	int fd, r;

	memset(res, 0, sizeof(*res));
	r = xc_domain_spec_parse(domain, &w.spec);
	if (r < 0)
		return r;
	fd = xc_store_fd(st);
	if (fd < 0)
		return fd;
	if ((r = xc_store_watch(st, "@introduceDomain", TOKEN)) < 0 ||
	    (r = xc_store_watch(st, "@releaseDomain", TOKEN)) < 0)
		return r;
	for (;;) {
		struct pollfd p[3] = { { .fd = fd, .events = POLLIN },
				       { .fd = hook ? hook->fd : -1, .events = POLLIN },
				       { .fd = w.ino, .events = POLLIN } };

		r = evaluate(&w, res);
		if (r != 0)
			break;
		/* Sleep until xenstore or the socket directory changes (poll
		 * ignores a negative descriptor). */
		r = xc_wait_fds(p, w.ino >= 0 ? 3 : 2, deadline);
		if (r < 0)
			break;
		if (hook && p[1].revents)
			hook->fn(hook->data);
		r = drain(&w);
		if (r < 0)
			break;
	}
	if (w.ino >= 0)
		close(w.ino);
	/* A caller that goes on using the store gets no stray events from us.
	 * Take what is queued first: libxenstore 4.17 leaks the body of each
	 * event xs_unwatch() drops. */
	w.ino = -1;
	drain(&w);
	for (size_t i = 0; i < w.nwatched; i++) {
		xc_store_unwatch(st, w.watched[i], TOKEN);
		free(w.watched[i]);
	}
	xc_store_unwatch(st, "@introduceDomain", TOKEN);
	xc_store_unwatch(st, "@releaseDomain", TOKEN);
	free(w.told);
	xc_vchan_index_free(w.ix);
	return r > 0 ? 0 : r;
}
