/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "monitor.h"
#include "parse.h"

#define TOKEN "xenchan-monitor"

/* The nodes watched for each domain (see monitor.h): prefix, domid, suffix. */
static const struct {
	const char *pre, *post;
} dom_watch[] = {
	{ "/local/domain/", "/device/console" },
	{ "/libxl/", "/device/console" },
	{ "/local/domain/", "/data/vchan" },
	{ "/local/domain/", "/name" },
};
#define BACKENDS "/local/domain/", "/backend/console"

struct mdom {
	struct xc_domain d;
	struct xc_channel *ch; /* as last listed */
	size_t n;
	bool watched; /* dom_watch's nodes are watched */
	bool dirty;   /* to be listed again */
	/* Listed ahead with many others (prelist()), for relist_dom(). */
	bool pre;
	int pre_error;
	struct xc_channel *pre_v;
	size_t pre_n;
};

/* What the last batch of events points to (channels, and the names in the
 * events' shallow copies of domains) once the monitor has let go of it:
 * freed by the next call. */
struct grave {
	struct xc_domain *doms; /* domains gone */
	size_t ndoms;
	struct xc_channel **chv; /* channel arrays replaced or gone */
	size_t *chn;
	size_t nch;
};

struct xc_monitor {
	struct xc_store *st;
	struct mdom *doms; /* sorted by domid */
	size_t ndoms;
	bool relist;                 /* list the domains again */
	uint32_t *backends;          /* backend domains other than 0 whose backend/console is watched */
	size_t nbackends;
	bool existing;               /* the first batch reports what is there */
	struct xc_event *ev;
	size_t nev, cap;
	struct grave grave;
};

const char *xc_event_action_name(enum xc_event_action a)
{
	static const char *const names[] = { "present", "appeared", "changed", "gone" };

	return (unsigned)a < ARRAY_SIZE(names) ? names[a] : "?";
}

static int watch(struct xc_monitor *m, bool on, const char *pre, const char *post,
		 uint32_t domid)
{
	char path[96];
	int r;

	snprintf(path, sizeof(path), "%s%u%s", pre, domid, post);
	r = on ? xc_store_watch(m->st, path, TOKEN) : xc_store_unwatch(m->st, path, TOKEN);
	if (r < 0)
		xc_dbg("%swatch %s: %s", on ? "" : "un", path, strerror(-r));
	return r;
}

static int watch_domain(struct xc_monitor *m, struct mdom *md, bool on)
{
	for (size_t i = 0; i < ARRAY_SIZE(dom_watch); i++) {
		int r = watch(m, on, dom_watch[i].pre, dom_watch[i].post, md->d.domid);

		/* A domain going away may take its watch with it: an unwatch
		 * that fails is of no consequence. */
		if (r < 0 && on)
			return r;
	}
	md->watched = on;
	return 0;
}

/*
 * Backends living in a domain other than dom0 (a driver domain).  A guest
 * without a trusted copy names its backend itself: only a domain that
 * exists is watched, and no more than MAX_BACKENDS of them; a change in
 * one that is not watched shows at the next listing of the domain.
 */
#define MAX_BACKENDS 64

static struct mdom *find_dom(struct xc_monitor *m, uint32_t domid);

static int watch_backend(struct xc_monitor *m, uint32_t b)
{
	uint32_t *v;
	int r;

	if (b == 0 || !find_dom(m, b) || m->nbackends >= MAX_BACKENDS)
		return 0; /* dom0's is watched from the start */
	for (size_t i = 0; i < m->nbackends; i++)
		if (m->backends[i] == b)
			return 0;
	v = realloc(m->backends, (m->nbackends + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->backends = v;
	r = watch(m, true, BACKENDS, b);
	if (r < 0)
		return r;
	m->backends[m->nbackends++] = b;
	return 0;
}

static struct mdom *find_dom(struct xc_monitor *m, uint32_t domid)
{
	size_t lo = 0, hi = m->ndoms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->doms[mid].d.domid == domid)
			return &m->doms[mid];
		if (m->doms[mid].d.domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void mark_dirty(struct xc_monitor *m, uint32_t domid)
{
	struct mdom *md = find_dom(m, domid);

	if (md)
		md->dirty = true;
}

static void mark_all_dirty(struct xc_monitor *m)
{
	for (size_t i = 0; i < m->ndoms; i++)
		m->doms[i].dirty = true;
}

/* The leading domid of s ("12/..." or "12"), advancing *s past it. */
static bool take_domid(const char **s, uint32_t *out)
{
	char buf[16];
	size_t len = strcspn(*s, "/");

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, *s, len);
	buf[len] = '\0';
	if (xc_parse_domid(buf, out) < 0)
		return false;
	*s += len;
	if (**s == '/')
		(*s)++;
	return true;
}

/* s past prefix, or NULL when s does not start with it. */
static const char *after(const char *s, const char *prefix)
{
	size_t len = strlen(prefix);

	return strneq(s, prefix, len) ? s + len : NULL;
}

/* Which domains a watch event may concern (see monitor.h). */
static void note_event(struct xc_monitor *m, const char *path)
{
	const char *s, *t;
	uint32_t a, b;

	if (path[0] == '@') {
		m->relist = true;
		return;
	}
	if ((s = after(path, "/libxl/"))) {
		if (take_domid(&s, &a))
			mark_dirty(m, a);
		return;
	}
	if (!(s = after(path, "/local/domain/")) || !take_domid(&s, &a))
		return;
	if ((t = after(s, "backend/console"))) {
		if (*t == '/' && (t++, take_domid(&t, &b)))
			mark_dirty(m, b);
		else
			mark_all_dirty(m); /* the whole directory: anyone it serves */
		return;
	}
	mark_dirty(m, a);
	if ((t = after(s, "data/vchan"))) {
		if (*t == '/' && (t++, take_domid(&t, &b))) {
			mark_dirty(m, b);
		} else {
			/* The whole directory: each client it served (anyone it
			 * serves from now on is named by the next event). */
			struct mdom *md = find_dom(m, a);

			for (size_t i = 0; md && i < md->n; i++)
				if (md->ch[i].transport == XC_TRANSPORT_VCHAN &&
				    md->ch[i].backend_domid == a)
					mark_dirty(m, md->ch[i].vchan_client);
		}
	}
}

static int drain(struct xc_monitor *m)
{
	for (;;) {
		char *path, *token;
		int r = xc_store_read_watch(m->st, &path, &token);

		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		xc_dbg("watch fired: %s", path);
		note_event(m, path);
		free(path);
		free(token);
	}
}

static int push(struct xc_monitor *m, enum xc_event_action a, const struct xc_domain *d,
		const struct xc_channel *c, const struct xc_domain *oldd,
		const struct xc_channel *old)
{
	if (m->nev == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct xc_event *v = realloc(m->ev, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->ev = v;
		m->cap = cap;
	}
	m->ev[m->nev++] = (struct xc_event){ .action = a, .domain = *d, .channel = c,
					     .old_domain = oldd ? *oldd : *d, .old = old };
	return 0;
}

/* Keep chv[0..n) until the next call: events point into it. */
static int bury_channels(struct xc_monitor *m, struct xc_channel *v, size_t n)
{
	struct xc_channel **chv;
	size_t *chn;

	if (!v)
		return 0;
	chv = realloc(m->grave.chv, (m->grave.nch + 1) * sizeof(*chv));
	if (chv)
		m->grave.chv = chv;
	chn = realloc(m->grave.chn, (m->grave.nch + 1) * sizeof(*chn));
	if (chn)
		m->grave.chn = chn;
	if (!chv || !chn) {
		xc_channel_array_free(v, n);
		return -ENOMEM;
	}
	m->grave.chv[m->grave.nch] = v;
	m->grave.chn[m->grave.nch++] = n;
	return 0;
}

static void grave_clear(struct grave *g)
{
	for (size_t i = 0; i < g->nch; i++)
		xc_channel_array_free(g->chv[i], g->chn[i]);
	xc_domain_array_free(g->doms, g->ndoms);
	free(g->chv);
	free(g->chn);
	memset(g, 0, sizeof(*g));
}

/*
 * A domain is gone: report its channels gone, keep its identity and its
 * channels in the grave for the events, and drop it.  Whoever it served a
 * vchan to lists again.
 */
static int drop_dom(struct xc_monitor *m, size_t i, bool report)
{
	struct mdom md = m->doms[i];
	struct xc_domain *dv;
	int r = 0;

	if (md.watched)
		watch_domain(m, &md, false);
	memmove(&m->doms[i], &m->doms[i + 1], (m->ndoms - i - 1) * sizeof(*m->doms));
	m->ndoms--;
	xc_channel_array_free(md.pre_v, md.pre_n);
	for (size_t k = 0; k < md.n; k++)
		if (md.ch[k].transport == XC_TRANSPORT_VCHAN && md.ch[k].backend_domid == md.d.domid)
			mark_dirty(m, md.ch[k].vchan_client);
	dv = realloc(m->grave.doms, (m->grave.ndoms + 1) * sizeof(*dv));
	if (!dv) {
		xc_domain_clear(&md.d);
		xc_channel_array_free(md.ch, md.n);
		return -ENOMEM;
	}
	m->grave.doms = dv;
	dv[m->grave.ndoms++] = md.d;
	for (size_t k = 0; report && k < md.n && r == 0; k++)
		r = push(m, XC_EVENT_GONE, &md.d, &md.ch[k], NULL, NULL);
	if (bury_channels(m, md.ch, md.n) < 0 && r == 0)
		r = -ENOMEM;
	return r;
}

/* A domain to follow from now on: watched, then listed (it is dirty), so
 * that no change between the two goes unseen. */
static int add_dom(struct xc_monitor *m, size_t at, struct xc_domain *d)
{
	struct mdom *v = realloc(m->doms, (m->ndoms + 1) * sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	m->doms = v;
	memmove(&v[at + 1], &v[at], (m->ndoms - at) * sizeof(*v));
	v[at] = (struct mdom){ .d = *d, .dirty = true };
	memset(d, 0, sizeof(*d));
	m->ndoms++;
	r = watch_domain(m, &v[at], true);
	return r == -ENOENT ? 0 : r;
}

/* The domains now: new ones are added (to be listed), gone ones and those
 * whose domid now names another domain (another UUID) are dropped. */
static int relist(struct xc_monitor *m, bool report)
{
	struct xc_domain *now = NULL;
	size_t n = 0, k = 0;
	int r;

	m->relist = false;
	r = xc_domain_list(m->st, &now, &n);
	if (r < 0)
		return r;
	/* Drops first: they go to the grave, adds then move m->doms. */
	for (size_t i = 0; i < m->ndoms && r == 0;) {
		struct mdom *md = &m->doms[i];

		while (k < n && now[k].domid < md->d.domid)
			k++;
		if (k < n && now[k].domid == md->d.domid && streq(now[k].uuid, md->d.uuid)) {
			i++;
			continue;
		}
		r = drop_dom(m, i, report);
	}
	for (k = 0; k < n && r == 0; k++) {
		size_t at = 0;

		while (at < m->ndoms && m->doms[at].d.domid < now[k].domid)
			at++;
		if (at < m->ndoms && m->doms[at].d.domid == now[k].domid)
			continue;
		r = add_dom(m, at, &now[k]);
	}
	xc_domain_array_free(now, n);
	return r;
}

/* c, listed under server, changed: if it is an endpoint server serves, its
 * client's row of it changed too. */
static void serves(struct xc_monitor *m, uint32_t server, const struct xc_channel *c)
{
	if (c->transport == XC_TRANSPORT_VCHAN && c->backend_domid == server &&
	    c->vchan_client != server)
		mark_dirty(m, c->vchan_client);
}

/* List one domain again and report what changed. */
static int relist_dom(struct xc_monitor *m, size_t i, const struct xc_vchan_index *ix,
		      enum xc_event_action fresh)
{
	struct mdom *md = &m->doms[i];
	struct xc_domain d = { 0 };
	struct xc_channel *now = NULL, *old = md->ch;
	size_t n = 0, nold = md->n;
	struct xc_domain was_d;
	bool renamed, pre = md->pre;
	int r;

	md->dirty = false;
	md->pre = false;
	r = xc_domain_read(m->st, md->d.domid, &d);
	if (r == 0 && pre) {
		now = md->pre_v;
		n = md->pre_n;
		r = md->pre_error;
	} else if (r == 0) {
		r = xc_channel_list_indexed(m->st, md->d.domid, ix, &now, &n);
	}
	if (pre && now != md->pre_v)
		xc_channel_array_free(md->pre_v, md->pre_n);
	md->pre_v = NULL;
	md->pre_n = 0;
	if (r == -ENOENT) {
		/* Going: @releaseDomain will say so too. */
		xc_domain_clear(&d);
		return drop_dom(m, i, fresh != XC_EVENT_PRESENT);
	}
	if (r < 0) {
		xc_domain_clear(&d);
		return r;
	}
	if (!streq(d.uuid, md->d.uuid)) {
		/* Another domain under this domid: the old one went. */
		xc_channel_array_free(now, n);
		xc_domain_clear(&d);
		m->relist = true;
		return drop_dom(m, i, fresh != XC_EVENT_PRESENT);
	}
	/* A rename (a migration's names) shows in each of its channels' rows:
	 * the old identity stays in the grave for events already made. */
	renamed = !d.name != !md->d.name || (d.name && !streq(d.name, md->d.name));
	was_d = md->d; /* shallow: on a rename its strings go to the grave */
	if (renamed) {
		struct xc_domain *dv = realloc(m->grave.doms, (m->grave.ndoms + 1) * sizeof(*dv));

		if (!dv) {
			xc_domain_clear(&d);
			xc_channel_array_free(now, n);
			return -ENOMEM;
		}
		m->grave.doms = dv;
		dv[m->grave.ndoms++] = md->d;
		md->d = d;
	} else {
		xc_domain_clear(&d);
	}
	md->ch = now;
	md->n = n;
	r = bury_channels(m, old, nold);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++)
		if (now[k].backend && (r = watch_backend(m, now[k].backend_domid)) < 0)
			return r;
	/* Gone first, then in the listing's order.  A change of an endpoint
	 * it serves is its client's too: that one is listed again. */
	for (size_t k = 0; k < nold; k++) {
		bool still = false;

		for (size_t j = 0; j < n && !still; j++)
			still = xc_channel_same(&old[k], &now[j]);
		if (still)
			continue;
		serves(m, md->d.domid, &old[k]);
		if ((r = push(m, XC_EVENT_GONE, &md->d, &old[k], NULL, NULL)) < 0)
			return r;
	}
	for (size_t j = 0; j < n; j++) {
		const struct xc_channel *was = NULL;

		for (size_t k = 0; k < nold && !was; k++)
			if (xc_channel_same(&old[k], &now[j]))
				was = &old[k];
		if (!was || renamed || !xc_channel_equal(was, &now[j]))
			serves(m, md->d.domid, &now[j]);
		if (!was)
			r = push(m, fresh, &md->d, &now[j], NULL, NULL);
		else if (renamed || !xc_channel_equal(was, &now[j]))
			r = push(m, XC_EVENT_CHANGED, &md->d, &now[j], &was_d, was);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The domains dirty from the i-th on, when there are many (the first
 * listing, a reconnection's): listed ahead on several connections at once
 * (xc_channel_list_sets()), each taken by relist_dom() in its turn.  A
 * domain added meanwhile (another under the same domid) is a new entry,
 * listed by itself.
 */
static int prelist(struct xc_monitor *m, size_t from, const struct xc_vchan_index *ix)
{
	struct xc_channel_set *sets;
	size_t n = 0, k = 0;
	int r;

	for (size_t i = from; i < m->ndoms; i++)
		n += m->doms[i].dirty && !m->doms[i].pre;
	if (n < XC_CHANNEL_SETS_PARALLEL)
		return 0;
	sets = calloc(n, sizeof(*sets));
	if (!sets)
		return -ENOMEM;
	for (size_t i = from; i < m->ndoms; i++)
		if (m->doms[i].dirty && !m->doms[i].pre)
			sets[k++].domid = m->doms[i].d.domid;
	r = xc_channel_list_sets(m->st, ix, sets, n);
	k = 0;
	for (size_t i = from; i < m->ndoms && r == 0; i++) {
		struct mdom *md = &m->doms[i];

		if (!md->dirty || md->pre)
			continue;
		/* Not listed (an earlier one failed): relist_dom() tries. */
		if (sets[k].error != -ECANCELED) {
			md->pre = true;
			md->pre_error = sets[k].error;
			md->pre_v = sets[k].v;
			md->pre_n = sets[k].n;
			sets[k].v = NULL;
			sets[k].n = 0;
		}
		k++;
	}
	xc_channel_sets_free(sets, n);
	free(sets);
	return r;
}

/*
 * List what is dirty; events for what changed.  Who serves vchan endpoints
 * to whom is looked up once for all the domains listed (a server that
 * starts meanwhile is named by the event that makes its client dirty
 * again).
 */
static int refresh(struct xc_monitor *m, enum xc_event_action fresh)
{
	bool report = fresh != XC_EVENT_PRESENT;
	struct xc_vchan_index *ix = NULL;
	int r = 0;

	for (size_t i = 0;;) {
		size_t before = m->ndoms;

		/* Drops and adds move the domains: start again (what was
		 * listed is no longer dirty). */
		if (m->relist) {
			if ((r = relist(m, report)) < 0)
				break;
			i = 0;
			continue;
		}
		if (i >= m->ndoms) {
			/* Marked behind us (a client of a server listed
			 * after it): another pass, with a new index. */
			size_t k = 0;

			while (k < m->ndoms && !m->doms[k].dirty)
				k++;
			if (k == m->ndoms)
				break;
			xc_vchan_index_free(ix);
			ix = NULL;
			i = k;
			continue;
		}
		if (!m->doms[i].dirty) {
			i++;
			continue;
		}
		if (!ix && ((r = xc_vchan_index_scan(m->st, &ix)) < 0 ||
			    (r = prelist(m, i, ix)) < 0))
			break;
		if ((r = relist_dom(m, i, ix, fresh)) < 0)
			break;
		if (m->ndoms == before)
			i++;
	}
	xc_vchan_index_free(ix);
	/* What a failure left listed ahead is not taken later: it is old. */
	for (size_t i = 0; i < m->ndoms; i++) {
		struct mdom *md = &m->doms[i];

		xc_channel_array_free(md->pre_v, md->pre_n);
		md->pre_v = NULL;
		md->pre_n = 0;
		md->pre = false;
	}
	return r;
}

int xc_monitor_open(struct xc_store *st, unsigned flags, struct xc_monitor **out)
{
	struct xc_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->st = st;
	m->relist = true;
	m->existing = flags & XC_MONITOR_EXISTING;
	r = xc_store_fd(st);
	if (r >= 0 && (r = xc_store_watch(st, "@introduceDomain", TOKEN)) >= 0 &&
	    (r = xc_store_watch(st, "@releaseDomain", TOKEN)) >= 0)
		r = watch(m, true, BACKENDS, 0);
	/* Watches first, then the listing: nothing changes unseen between. */
	if (r >= 0)
		r = refresh(m, XC_EVENT_PRESENT);
	if (r < 0) {
		xc_monitor_close(m);
		return r;
	}
	/* What the listing found is known; the watches' first firing is no
	 * news, but is taken at the first wait all the same. */
	*out = m;
	return 0;
}

int xc_monitor_next(struct xc_monitor *m, uint64_t deadline, int out_fd,
		    const struct xc_event **ev, size_t *n)
{
	int fd = xc_store_fd(m->st);
	int r;

	m->nev = 0;
	grave_clear(&m->grave);
	if (fd < 0)
		return fd;
	if (m->existing) {
		m->existing = false;
		for (size_t i = 0; i < m->ndoms; i++)
			for (size_t k = 0; k < m->doms[i].n; k++)
				if ((r = push(m, XC_EVENT_PRESENT, &m->doms[i].d, &m->doms[i].ch[k],
					      NULL, NULL)) < 0)
					return r;
		if (m->nev) {
			*ev = m->ev;
			*n = m->nev;
			return 0;
		}
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = out_fd } };

		r = drain(m);
		if (r == 0)
			r = refresh(m, XC_EVENT_APPEARED);
		if (r < 0)
			return r;
		if (m->nev) {
			*ev = m->ev;
			*n = m->nev;
			return 0;
		}
		r = xc_wait_fds(p, out_fd >= 0 ? 2 : 1, deadline);
		if (r < 0)
			return r;
		if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL))
			return -EPIPE;
	}
}

void xc_monitor_close(struct xc_monitor *m)
{
	char *path, *token;

	if (!m)
		return;
	/* libxenstore 4.17 leaks the body of each event xs_unwatch() drops:
	 * take what is queued first. */
	while (xc_store_read_watch(m->st, &path, &token) == 0) {
		free(path);
		free(token);
	}
	while (m->ndoms)
		drop_dom(m, m->ndoms - 1, false);
	for (size_t i = 0; i < m->nbackends; i++)
		watch(m, false, BACKENDS, m->backends[i]);
	watch(m, false, BACKENDS, 0);
	xc_store_unwatch(m->st, "@introduceDomain", TOKEN);
	xc_store_unwatch(m->st, "@releaseDomain", TOKEN);
	grave_clear(&m->grave);
	free(m->backends);
	free(m->doms);
	free(m->ev);
	free(m);
}
