/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include "clock.h"
#include "lifecycle.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "store.h"

struct xc_store {
	struct xs_handle *xs;
	int fd;   /* what xc_store_fd() names, set up on first use */
	int pipe; /* xs_fileno(): readable when watch events are queued */
	int sock; /* our duplicate of libxenstore's socket, or -1 */
	bool dead;
	/* The watches set, for filtering the events of those removed. */
	struct watch {
		char *path, *token;
	} *watches;
	size_t nwatches;
};

/* Bounds on every request (xc_store_set_deadline()). */
static uint64_t bound_deadline = XC_NEVER;
static uint64_t bound_call_ms;

void xc_store_set_deadline(uint64_t deadline, uint64_t call_ms)
{
	bound_deadline = deadline;
	bound_call_ms = call_ms;
}

uint64_t xc_store_deadline(void)
{
	return bound_deadline;
}

uint64_t xc_store_call_ms(void)
{
	return bound_call_ms;
}

bool xc_store_can_cut(const struct xc_store *st)
{
	return st->sock >= 0;
}

void xc_store_cut(struct xc_store *st)
{
	if (st->sock >= 0)
		shutdown(st->sock, SHUT_RDWR);
}

/* libxenstore reports failure with errno; never turn it into success. */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* xenstored closed the connection, or a guard shut it down. */
static bool hung_up(struct xc_store *st)
{
	struct pollfd p = { .fd = st->sock, .events = POLLIN | POLLRDHUP };

	if (st->sock < 0)
		return false;
	if (poll(&p, 1, 0) < 0)
		return false;
	return p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL);
}

static uint64_t call_deadline(void)
{
	uint64_t d = bound_deadline;

	if (bound_call_ms)
		d = xc_deadline_min(d, xc_deadline(bound_call_ms));
	return d;
}

/* Around every request: bounded by the deadline, cut short by a signal. */
static int call_begin(struct xc_store *st)
{
	if (st->dead)
		return -ECONNRESET;
	errno = 0;
	return xc_guard_begin(call_deadline());
}

/* r: the request's result.  A cut or lost connection is never reused. */
static int call_end(struct xc_store *st, int r)
{
	int g = xc_guard_end();

	if (g < 0) {
		st->dead = true;
		return g;
	}
	/* xenstored's own answers (no such node, denied) need no look at the
	 * socket: they are most failures, and the connection is fine. */
	if (r < 0 && r != -ENOENT && r != -EACCES &&
	    (hung_up(st) || (st->sock < 0 && r == -EBADF))) {
		st->dead = true;
		return -ECONNRESET;
	}
	return r;
}

#define CALL(st, expr)                               \
	({                                           \
		int _r = call_begin(st);             \
		if (_r == 0) {                       \
			_r = (expr);                 \
			_r = call_end((st), _r);     \
		}                                    \
		_r;                                  \
	})

/*
 * Our own reference to the socket libxenstore opened: the lowest descriptor
 * free when it connected (so `guess`), if that is indeed a socket connected
 * to xenstored.  Through it a guard can cut a blocked request short and a
 * reader can tell that xenstored went away (libxenstore's watch pipe stays
 * silent then).  A connection through the xenbus device has none.
 */
static int dup_socket(int guess)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	const char *path = xs_daemon_socket();
	struct stat sb;

	if (guess < 0 || !path || fstat(guess, &sb) < 0 || !S_ISSOCK(sb.st_mode))
		return -1;
	memset(&sa, 0, sizeof(sa));
	if (getpeername(guess, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    strncmp(sa.sun_path, path, sizeof(sa.sun_path)) != 0)
		return -1;
	return fcntl(guess, F_DUPFD_CLOEXEC, 3);
}

int xc_store_open(struct xc_store **out)
{
	struct xc_store *st;
	int guess, r, g;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->fd = st->pipe = st->sock = -1;
	guess = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (guess >= 0)
		close(guess);
	/*
	 * Not XS_UNWATCH_FILTER: libxenstore's filter (4.17 to 4.20) frees
	 * each event it drops but not the event's body, a leak for every
	 * event that arrives before xs_unwatch() returns.  The events of a
	 * removed watch are dropped here instead (xc_store_read_watch()).
	 */
	/* connect() blocks once a stalled xenstored's backlog is full. */
	r = xc_guard_begin(call_deadline());
	if (r == 0) {
		errno = 0;
		st->xs = xs_open(0);
		r = st->xs ? 0 : neg_errno();
		g = xc_guard_end();
		if (g < 0)
			r = g;
	}
	if (r < 0) {
		if (st->xs)
			xs_close(st->xs);
		free(st);
		return r;
	}
	st->sock = dup_socket(guess);
	if (st->sock >= 0 && xc_guard_add_fd(st->sock) < 0) {
		close(st->sock);
		st->sock = -1;
	}
	if (st->sock < 0)
		xc_dbg("xenstore: no socket of our own: requests are not bounded");
	*out = st;
	return 0;
}

void xc_store_close(struct xc_store *st)
{
	if (st == NULL)
		return;
	xs_close(st->xs);
	for (size_t i = 0; i < st->nwatches; i++) {
		free(st->watches[i].path);
		free(st->watches[i].token);
	}
	free(st->watches);
	if (st->sock >= 0) {
		xc_guard_remove_fd(st->sock);
		close(st->sock);
	}
	if (st->fd >= 0 && st->fd != st->pipe)
		close(st->fd);
	free(st);
}

struct xs_handle *xc_store_xs(struct xc_store *st)
{
	return st->xs;
}

int xc_store_read(struct xc_store *st, xs_transaction_t t, const char *path, size_t max,
		  char **out)
{
	_cleanup_free_ char *v = NULL;
	unsigned len = 0;
	char *copy;
	int r;

	r = CALL(st, (v = xs_read(st->xs, t, path, &len)) ? 0 : neg_errno());
	if (r < 0)
		return r;
	if (len > max) {
		xc_dbg("xenstore: %s: value of %u bytes exceeds %zu", path, len, max);
		return -EFBIG;
	}
	/* A guest can store arbitrary bytes; a NUL would silently cut the value. */
	if (memchr(v, '\0', len) != NULL) {
		xc_dbg("xenstore: %s: value contains a NUL byte", path);
		return -EBADMSG;
	}
	/* Do not rely on libxenstore's terminator: copy with our own. */
	copy = malloc((size_t)len + 1);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, v, len);
	copy[len] = '\0';
	*out = copy;
	return 0;
}

int xc_store_read_uint(struct xc_store *st, xs_transaction_t t, const char *path,
		       uint64_t max, uint64_t *out)
{
	_cleanup_free_ char *v = NULL;
	int r;

	/* 20 digits hold any uint64_t; allow a few leading zeros. */
	r = xc_store_read(st, t, path, 32, &v);
	if (r == -EFBIG)
		return -EBADMSG;
	if (r < 0)
		return r;
	r = xc_parse_uint(v, max, out);
	if (r == -EINVAL)
		return -EBADMSG;
	return r;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a;
	const char *y = *(const char *const *)b;
	bool dx = all_digits(x), dy = all_digits(y);

	if (dx && dy) {
		/* Compare numerically without converting (values may be huge). */
		size_t lx, ly;

		while (*x == '0' && x[1] != '\0')
			x++;
		while (*y == '0' && y[1] != '\0')
			y++;
		lx = strlen(x);
		ly = strlen(y);
		if (lx != ly)
			return lx < ly ? -1 : 1;
		return strcmp(x, y);
	}
	if (dx != dy)
		return dx ? -1 : 1;
	return strcmp(x, y);
}

int xc_store_list(struct xc_store *st, xs_transaction_t t, const char *path,
		  char ***names, unsigned *n)
{
	_cleanup_free_ char **dir = NULL;
	char **v;
	unsigned num = 0;
	int r;

	r = CALL(st, (dir = xs_directory(st->xs, t, path, &num)) ? 0 : neg_errno());
	if (r < 0)
		return r;
	/* xs_directory returns one block; give the caller a plain string vector. */
	v = calloc((size_t)num + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < num; i++) {
		v[i] = strdup(dir[i]);
		if (v[i] == NULL) {
			xc_strv_free(v);
			return -ENOMEM;
		}
	}
	qsort(v, num, sizeof(*v), name_cmp);
	*names = v;
	if (n != NULL)
		*n = num;
	return 0;
}

int xc_store_write(struct xc_store *st, xs_transaction_t t, const char *path,
		   const char *value)
{
	size_t len = strlen(value);

	if (len > UINT_MAX)
		return -EFBIG;
	return CALL(st, xs_write(st->xs, t, path, value, (unsigned)len) ? 0 : neg_errno());
}

int xc_store_rm(struct xc_store *st, xs_transaction_t t, const char *path)
{
	int r = CALL(st, xs_rm(st->xs, t, path) ? 0 : neg_errno());

	return r == -ENOENT ? 0 : r;
}

int xc_store_set_perms_array(struct xc_store *st, xs_transaction_t t, const char *path,
			     const struct xs_permissions *perms, unsigned n)
{
	_cleanup_free_ struct xs_permissions *copy = NULL;

	if (n == 0)
		return -EINVAL;
	/* xs_set_permissions takes a non-const array; do not cast ours away. */
	copy = calloc(n, sizeof(*copy));
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, perms, n * sizeof(*copy));
	return CALL(st, xs_set_permissions(st->xs, t, path, copy, n) ? 0 : neg_errno());
}

static int parse_perm(const char *s, size_t len, struct xs_permissions *p)
{
	char num[12];
	uint32_t domid;
	int r;

	if (len < 2 || len - 1 >= sizeof(num))
		return -EINVAL;
	switch (s[0]) {
	case 'n':
		p->perms = XS_PERM_NONE;
		break;
	case 'r':
		p->perms = XS_PERM_READ;
		break;
	case 'w':
		p->perms = XS_PERM_WRITE;
		break;
	case 'b':
		p->perms = XS_PERM_READ | XS_PERM_WRITE;
		break;
	default:
		return -EINVAL;
	}
	memcpy(num, s + 1, len - 1);
	num[len - 1] = '\0';
	r = xc_parse_domid(num, &domid);
	if (r < 0)
		return -EINVAL;
	p->id = domid;
	return 0;
}

int xc_store_set_perms(struct xc_store *st, xs_transaction_t t, const char *path,
		       const char *perms_spec)
{
	_cleanup_free_ struct xs_permissions *perms = NULL;
	unsigned n = 0, max = 0;
	const char *s = perms_spec;

	for (const char *p = s; *p != '\0'; p++)
		if (*p != ' ')
			max++;
	if (max == 0)
		return -EINVAL;
	perms = calloc(max, sizeof(*perms));
	if (perms == NULL)
		return -ENOMEM;
	while (*s != '\0') {
		size_t len;
		int r;

		if (*s == ' ') {
			s++;
			continue;
		}
		len = strcspn(s, " ");
		r = parse_perm(s, len, &perms[n++]);
		if (r < 0)
			return r;
		s += len;
	}
	return xc_store_set_perms_array(st, t, path, perms, n);
}

/* A node's permissions, at least one entry (-EBADMSG otherwise); freed by
 * the caller. */
static int get_perms(struct xc_store *st, xs_transaction_t t, const char *path,
		     struct xs_permissions **perms, unsigned *n)
{
	int r;

	*n = 0;
	r = CALL(st, (*perms = xs_get_permissions(st->xs, t, path, n)) ? 0 : neg_errno());
	if (r < 0)
		return r;
	return *n ? 0 : -EBADMSG;
}

int xc_store_writable_by(struct xc_store *st, xs_transaction_t t, const char *path,
			 uint32_t domid, bool *out)
{
	_cleanup_free_ struct xs_permissions *perms = NULL;
	unsigned n;
	bool w;
	int r;

	r = get_perms(st, t, path, &perms, &n);
	if (r < 0)
		return r;
	/* perms[0]: the owner, whose access is total, and everyone's default;
	 * an entry for the domain overrides the default (xenstored's perm_for_conn). */
	if (perms[0].id == domid) {
		*out = true;
		return 0;
	}
	w = perms[0].perms & XS_PERM_WRITE;
	for (unsigned i = 1; i < n; i++)
		if (perms[i].id == domid)
			w = perms[i].perms & XS_PERM_WRITE;
	*out = w;
	return 0;
}

int xc_store_dom0_only(struct xc_store *st, xs_transaction_t t, const char *path, bool *out)
{
	_cleanup_free_ struct xs_permissions *perms = NULL;
	unsigned n;
	bool only = true;
	int r;

	r = get_perms(st, t, path, &perms, &n);
	if (r < 0)
		return r;
	/* perms[0]: the owner and everyone's default; later entries override
	 * the default for one domain each. */
	if (perms[0].id != 0 || (perms[0].perms & XS_PERM_WRITE))
		only = false;
	for (unsigned i = 1; i < n; i++)
		if (perms[i].id != 0 && (perms[i].perms & XS_PERM_WRITE))
			only = false;
	*out = only;
	return 0;
}

int xc_store_transaction(struct xc_store *st,
			 int (*fn)(struct xc_store *st, xs_transaction_t t, void *data),
			 void *data, unsigned max_retries)
{
	for (unsigned attempt = 0;; attempt++) {
		xs_transaction_t t = XBT_NULL;
		int r, e;

		r = CALL(st, (t = xs_transaction_start(st->xs)) != XBT_NULL ? 0 : neg_errno());
		if (r < 0)
			return r;
		r = fn(st, t, data);
		if (r < 0) {
			CALL(st, xs_transaction_end(st->xs, t, true) ? 0 : neg_errno());
		} else {
			e = CALL(st, xs_transaction_end(st->xs, t, false) ? 0 : neg_errno());
			if (e == 0)
				return r;
			r = e;
		}
		/* xenstored (C, 4.17 and later) answers EIO to a request in a
		 * transaction that a concurrent commit made inconsistent, such
		 * as removing a node another transaction has just created:
		 * the transaction is doomed, as with a conflict at its end. */
		if (r == -EIO && t != XBT_NULL)
			r = -EAGAIN;
		if (r != -EAGAIN)
			return r;
		if (attempt >= max_retries) {
			xc_dbg("xenstore: transaction still conflicting after %u attempts",
			       attempt + 1);
			return -EAGAIN;
		}
		xc_dbg("xenstore: transaction conflict, retrying");
	}
}

int xc_store_watch(struct xc_store *st, const char *path, const char *token)
{
	struct watch *v, w = { strdup(path), strdup(token) };
	int r;

	v = reallocarray(st->watches, st->nwatches + 1, sizeof(*v));
	if (!v || !w.path || !w.token) {
		free(w.path);
		free(w.token);
		if (v)
			st->watches = v;
		return -ENOMEM;
	}
	st->watches = v;
	r = CALL(st, xs_watch(st->xs, path, token) ? 0 : neg_errno());
	if (r < 0) {
		free(w.path);
		free(w.token);
		return r;
	}
	st->watches[st->nwatches++] = w;
	return 0;
}

int xc_store_unwatch(struct xc_store *st, const char *path, const char *token)
{
	/* Forgotten whatever xenstored says: no event of it is wanted now. */
	for (size_t i = 0; i < st->nwatches; i++) {
		if (streq(st->watches[i].path, path) && streq(st->watches[i].token, token)) {
			free(st->watches[i].path);
			free(st->watches[i].token);
			st->watches[i] = st->watches[--st->nwatches];
			break;
		}
	}
	return CALL(st, xs_unwatch(st->xs, path, token) ? 0 : neg_errno());
}

/* An event for a watch still set: its token, and its path the watched one
 * or below it (a special "@" path is only itself). */
static bool watched(const struct xc_store *st, const char *path, const char *token)
{
	for (size_t i = 0; i < st->nwatches; i++) {
		const struct watch *w = &st->watches[i];
		size_t n = strlen(w->path);

		if (!streq(w->token, token) || strncmp(path, w->path, n) != 0)
			continue;
		if (path[n] == '\0' || (w->path[0] != '@' && (path[n] == '/' || streq(w->path, "/"))))
			return true;
	}
	return false;
}

int xc_store_fd(struct xc_store *st)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	if (st->fd >= 0)
		return st->fd;
	/* libxenstore creates this pipe close-on-exec, on first use. */
	errno = 0;
	fd = xs_fileno(st->xs);
	if (fd < 0)
		return neg_errno();
	st->pipe = fd;
	if (st->sock < 0) {
		st->fd = fd;
		return fd;
	}
	/* The pipe, and the socket's hangup: the pipe says nothing when
	 * libxenstore's reader thread loses the connection. */
	st->fd = epoll_create1(EPOLL_CLOEXEC);
	if (st->fd < 0)
		return -errno;
	if (epoll_ctl(st->fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	ev.events = EPOLLRDHUP;
	if (epoll_ctl(st->fd, EPOLL_CTL_ADD, st->sock, &ev) < 0)
		return -errno;
	return st->fd;
}

int xc_store_read_watch(struct xc_store *st, char **path, char **token)
{
	_cleanup_free_ char **vec = NULL;
	_cleanup_free_ char *p = NULL;
	char *tok;

	if (st->dead)
		return -ECONNRESET;
again:
	errno = 0;
	vec = xs_check_watch(st->xs);
	if (vec == NULL) {
		/*
		 * libxenstore says EINVAL when the queue is empty and its reader
		 * thread has lost the connection: xenstored went away.
		 */
		if (errno == EINVAL || hung_up(st)) {
			st->dead = true;
			return -ECONNRESET;
		}
		return errno == EAGAIN ? -EAGAIN : neg_errno();
	}
	if (!watched(st, vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN])) {
		/* Queued before its watch was removed. */
		free(TAKE_PTR(vec));
		goto again;
	}
	p = strdup(vec[XS_WATCH_PATH]);
	if (p == NULL)
		return -ENOMEM;
	tok = strdup(vec[XS_WATCH_TOKEN]);
	if (tok == NULL)
		return -ENOMEM;
	*path = TAKE_PTR(p);
	*token = tok;
	return 0;
}
