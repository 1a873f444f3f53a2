/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "log.h"
#include "macro.h"
#include "parse.h"
#include "store.h"

struct xc_store {
	struct xs_handle *xs;
	int fd; /* xs_fileno(), set up on first use */
};

/* libxenstore reports failure with errno; never turn it into success. */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

int xc_store_open(struct xc_store **out)
{
	struct xc_store *st;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->fd = -1;
	/*
	 * XS_UNWATCH_FILTER: without it, events queued before xs_unwatch()
	 * are still delivered afterwards, and a caller that re-watches the same
	 * path would see stale events.
	 */
	st->xs = xs_open(XS_UNWATCH_FILTER);
	if (st->xs == NULL) {
		int r = neg_errno();

		free(st);
		return r;
	}
	*out = st;
	return 0;
}

void xc_store_close(struct xc_store *st)
{
	if (st == NULL)
		return;
	xs_close(st->xs);
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

	errno = 0;
	v = xs_read(st->xs, t, path, &len);
	if (v == NULL)
		return neg_errno();
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

	errno = 0;
	dir = xs_directory(st->xs, t, path, &num);
	if (dir == NULL)
		return neg_errno();
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
	errno = 0;
	if (!xs_write(st->xs, t, path, value, (unsigned)len))
		return neg_errno();
	return 0;
}

int xc_store_mkdir(struct xc_store *st, xs_transaction_t t, const char *path)
{
	errno = 0;
	if (!xs_mkdir(st->xs, t, path))
		return neg_errno();
	return 0;
}

int xc_store_rm(struct xc_store *st, xs_transaction_t t, const char *path)
{
	errno = 0;
	if (!xs_rm(st->xs, t, path)) {
		if (errno == ENOENT)
			return 0;
		return neg_errno();
	}
	return 0;
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
	errno = 0;
	if (!xs_set_permissions(st->xs, t, path, copy, n))
		return neg_errno();
	return 0;
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

int xc_store_writable_by(struct xc_store *st, xs_transaction_t t, const char *path,
			 uint32_t domid, bool *out)
{
	_cleanup_free_ struct xs_permissions *perms = NULL;
	unsigned n = 0;
	bool w;

	errno = 0;
	perms = xs_get_permissions(st->xs, t, path, &n);
	if (perms == NULL)
		return neg_errno();
	if (n == 0)
		return -EBADMSG;
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

int xc_store_transaction(struct xc_store *st,
			 int (*fn)(struct xc_store *st, xs_transaction_t t, void *data),
			 void *data, unsigned max_retries)
{
	for (unsigned attempt = 0;; attempt++) {
		xs_transaction_t t;
		int r;

		errno = 0;
		t = xs_transaction_start(st->xs);
		if (t == XBT_NULL)
			return neg_errno();
		r = fn(st, t, data);
		if (r < 0) {
			xs_transaction_end(st->xs, t, true);
		} else {
			errno = 0;
			if (xs_transaction_end(st->xs, t, false))
				return r;
			r = neg_errno();
		}
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
	errno = 0;
	if (!xs_watch(st->xs, path, token))
		return neg_errno();
	return 0;
}

int xc_store_unwatch(struct xc_store *st, const char *path, const char *token)
{
	errno = 0;
	if (!xs_unwatch(st->xs, path, token))
		return neg_errno();
	return 0;
}

int xc_store_fd(struct xc_store *st)
{
	int fd;

	if (st->fd >= 0)
		return st->fd;
	/* libxenstore creates this pipe close-on-exec, on first use. */
	errno = 0;
	fd = xs_fileno(st->xs);
	if (fd < 0)
		return neg_errno();
	st->fd = fd;
	return fd;
}

int xc_store_read_watch(struct xc_store *st, char **path, char **token)
{
	_cleanup_free_ char **vec = NULL;
	_cleanup_free_ char *p = NULL;
	char *tok;

	errno = 0;
	vec = xs_check_watch(st->xs);
	if (vec == NULL) {
		/*
		 * libxenstore says EINVAL when the queue is empty and its reader
		 * thread has lost the connection: xenstored went away.
		 */
		if (errno == EINVAL)
			return -ECONNRESET;
		return errno == EAGAIN ? -EAGAIN : neg_errno();
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
