/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-memory xenstore behind libxenstore's API: see xs-mem.h for the tree
 * format.  What xenstored decides (which paths are valid, what a new node's
 * permissions are, which limits apply) follows Xen 4.17's xenstored; what
 * libxenstore returns (one allocation for a directory, a NUL after every
 * value, errno on failure) follows its libxenstore.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <xenstore.h>

#include "xs-mem.h"

/* xenstored's limits: XENSTORE_ABS_PATH_MAX and XENSTORE_PAYLOAD_MAX. */
#define PATH_MAX_LEN 3072
#define VALUE_MAX_LEN 4096
/* Ours: enough for any tree worth fuzzing, small enough to stay fast. */
#define MAX_NODES 1024
#define MAX_PERMS 16
#define MAX_FAILS 16
/* Open addressing, at most half full. */
#define TABLE_SIZE (2 * MAX_NODES)

struct node {
	char *path;
	uint32_t hash; /* of path: most lookups end here */
	char *value; /* len bytes and a NUL */
	size_t len;
	struct xs_permissions perms[MAX_PERMS];
	unsigned nperms;
};

struct fail {
	char *path;
	int err;
};

struct xs_handle {
	int unused;
};

static struct node *nodes;
static size_t nnodes, nodes_cap;
/* Index into nodes + 1 by path hash; 0: free. */
static uint32_t table[TABLE_SIZE];
static struct fail fails[MAX_FAILS];
static size_t nfails;

/* xenstored's valid_chars() and is_valid_nodename(), for absolute paths. */
static bool path_valid(const char *p, size_t len)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789-/_@";

	if (len == 0 || len > PATH_MAX_LEN || p[0] != '/')
		return false;
	if (len == 1)
		return true;
	if (p[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!p[i] || !strchr(ok, p[i]))
			return false;
		if (p[i] == '/' && i + 1 < len && p[i + 1] == '/')
			return false;
	}
	return true;
}

static uint32_t path_hash(const char *path)
{
	uint32_t h = 2166136261u;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h;
}

static ssize_t find(const char *path)
{
	uint32_t h = path_hash(path);

	for (uint32_t k = h % TABLE_SIZE; table[k]; k = (k + 1) % TABLE_SIZE) {
		const struct node *n = &nodes[table[k] - 1];

		if (n->hash == h && strcmp(n->path, path) == 0)
			return (ssize_t)(table[k] - 1);
	}
	return -1;
}

static void table_add(size_t i)
{
	uint32_t k = nodes[i].hash % TABLE_SIZE;

	while (table[k])
		k = (k + 1) % TABLE_SIZE;
	table[k] = (uint32_t)i + 1;
}

static int failing(const char *path)
{
	for (size_t i = 0; i < nfails; i++)
		if (strcmp(fails[i].path, path) == 0)
			return fails[i].err;
	return 0;
}

static void node_free(struct node *n)
{
	free(n->path);
	free(n->value);
}

void xs_mem_clear(void)
{
	for (size_t i = 0; i < nnodes; i++)
		node_free(&nodes[i]);
	free(nodes);
	nodes = NULL;
	nnodes = nodes_cap = 0;
	memset(table, 0, sizeof(table));
	for (size_t i = 0; i < nfails; i++)
		free(fails[i].path);
	nfails = 0;
}

static int set_value(struct node *n, const char *value, size_t len)
{
	char *v = malloc(len + 1);

	if (!v)
		return -ENOMEM;
	memcpy(v, value, len);
	v[len] = '\0';
	free(n->value);
	n->value = v;
	n->len = len;
	return 0;
}

/* The node at path (valid), created with its missing parents if need be:
 * empty, with the permissions of its parent, as xenstored creates them. */
static struct node *get_or_create(const char *path)
{
	ssize_t i = find(path);
	struct xs_permissions perms[MAX_PERMS] = { { .id = 0, .perms = XS_PERM_NONE } };
	unsigned nperms = 1;
	struct node *n;

	if (i >= 0)
		return &nodes[i];
	if (strcmp(path, "/") != 0) {
		const char *slash = strrchr(path, '/');
		char *parent = slash == path ? strdup("/")
					     : strndup(path, (size_t)(slash - path));
		struct node *p;

		if (!parent)
			return NULL;
		p = get_or_create(parent);
		free(parent);
		if (!p)
			return NULL;
		/* Copied now: adding a node below may move the array. */
		memcpy(perms, p->perms, sizeof(perms));
		nperms = p->nperms;
	}
	if (nnodes == MAX_NODES)
		return NULL;
	if (nnodes == nodes_cap) {
		size_t cap = nodes_cap ? 2 * nodes_cap : 64;
		struct node *v = realloc(nodes, cap * sizeof(*v));

		if (!v)
			return NULL;
		nodes = v;
		nodes_cap = cap;
	}
	n = &nodes[nnodes];
	memset(n, 0, sizeof(*n));
	n->path = strdup(path);
	n->hash = path_hash(path);
	if (!n->path || set_value(n, "", 0) < 0) {
		node_free(n);
		return NULL;
	}
	memcpy(n->perms, perms, sizeof(perms));
	n->nperms = nperms;
	table_add(nnodes++);
	return n;
}

/* "n0 r5": entries that do not parse are skipped.  Returns the count. */
static unsigned parse_perms(const char *s, size_t len, struct xs_permissions *perms)
{
	unsigned n = 0;
	size_t i = 0;

	while (i < len && n < MAX_PERMS) {
		unsigned long id = 0;
		size_t start = i, digits = 0;
		unsigned p;

		while (i < len && s[i] != ' ')
			i++;
		if (i - start >= 2 && i - start <= 6) {
			for (size_t k = start + 1; k < i && s[k] >= '0' && s[k] <= '9';
			     k++) {
				id = id * 10 + (unsigned long)(s[k] - '0');
				digits++;
			}
			switch (s[start]) {
			case 'n':
				p = XS_PERM_NONE;
				break;
			case 'r':
				p = XS_PERM_READ;
				break;
			case 'w':
				p = XS_PERM_WRITE;
				break;
			case 'b':
				p = XS_PERM_READ | XS_PERM_WRITE;
				break;
			default:
				digits = 0;
				p = 0;
			}
			if (digits == i - start - 1 && id <= 0xffff) {
				perms[n].id = (unsigned)id;
				perms[n].perms = p;
				n++;
			}
		}
		while (i < len && s[i] == ' ')
			i++;
	}
	return n;
}

static void load_line(const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	size_t head = eq ? (size_t)(eq - s) : len;
	const char *sp;
	size_t plen;
	char *path;

	if (len == 0 || s[0] == '#')
		return;
	if (s[0] == '!') {
		int err = 0;

		if (nfails == MAX_FAILS || !path_valid(s + 1, head - 1))
			return;
		for (const char *p = eq ? eq + 1 : s + len; p < s + len; p++) {
			if (*p < '0' || *p > '9' || err > 999) {
				err = 0;
				break;
			}
			err = err * 10 + (*p - '0');
		}
		path = strndup(s + 1, head - 1);
		if (!path)
			return;
		fails[nfails].path = path;
		fails[nfails].err = err > 0 && err < 1000 ? err : EIO;
		nfails++;
		return;
	}
	sp = memchr(s, ' ', head);
	plen = sp ? (size_t)(sp - s) : head;
	if (!path_valid(s, plen))
		return;
	if (eq && len - head - 1 > VALUE_MAX_LEN)
		return;
	path = strndup(s, plen);
	if (path) {
		struct xs_permissions perms[MAX_PERMS];
		unsigned n = sp ? parse_perms(sp + 1, head - plen - 1, perms) : 0;
		struct node *node = get_or_create(path);

		if (node && eq)
			set_value(node, eq + 1, len - head - 1);
		if (node && n) {
			memcpy(node->perms, perms, n * sizeof(perms[0]));
			node->nperms = n;
		}
	}
	free(path);
}

void xs_mem_load(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;

	xs_mem_clear();
	get_or_create("/");
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

		load_line(s, len);
		s += len + 1;
	}
}

const char *xs_mem_value(const char *path, size_t *len)
{
	ssize_t i = find(path);

	if (i < 0 || failing(path))
		return NULL;
	*len = nodes[i].len;
	return nodes[i].value;
}

bool xs_mem_exists(const char *path)
{
	return find(path) >= 0 && !failing(path);
}

bool xs_mem_writable(const char *path, unsigned domid)
{
	ssize_t i = find(path);
	const struct node *n;
	bool w;

	if (i < 0 || failing(path))
		return false;
	n = &nodes[i];
	if (n->perms[0].id == domid)
		return true;
	w = n->perms[0].perms & XS_PERM_WRITE;
	for (unsigned k = 1; k < n->nperms; k++)
		if (n->perms[k].id == domid)
			w = n->perms[k].perms & XS_PERM_WRITE;
	return w;
}

/* The name of n below parent, or NULL when n is not a child of it. */
static const char *child_name(const struct node *n, const char *parent, size_t plen)
{
	const char *rest;

	if (strncmp(n->path, parent, plen) != 0)
		return NULL;
	rest = n->path + plen;
	if (plen > 1) {
		if (*rest != '/')
			return NULL;
		rest++;
	}
	return *rest && !strchr(rest, '/') ? rest : NULL;
}

void xs_mem_children(const char *path, void (*fn)(const char *name, void *data),
		     void *data)
{
	size_t plen = strlen(path);

	if (!xs_mem_exists(path))
		return;
	for (size_t i = 0; i < nnodes; i++) {
		const char *name = child_name(&nodes[i], path, plen);

		if (name)
			fn(name, data);
	}
}

/* ---- libxenstore ---- */

/* An absolute path for a request: relative ones are below dom0's home, as
 * xenstored resolves them for a dom0 connection.  NULL with errno set. */
static char *request_path(const char *path)
{
	char *p;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	if (path[0] == '/')
		p = strdup(path);
	else if (asprintf(&p, "/local/domain/0/%s", path) < 0)
		p = NULL;
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	if (!path_valid(p, strlen(p))) {
		free(p);
		errno = EINVAL;
		return NULL;
	}
	err = failing(p);
	if (err) {
		free(p);
		errno = err;
		return NULL;
	}
	return p;
}

/* The existing node at path, or NULL with errno set. */
static struct node *request_node(const char *path)
{
	char *p = request_path(path);
	ssize_t i;

	if (!p)
		return NULL;
	i = find(p);
	free(p);
	if (i < 0) {
		errno = ENOENT;
		return NULL;
	}
	return &nodes[i];
}

/* No socket: lib/store.c then keeps no duplicate of one. */
const char *xs_daemon_socket(void)
{
	return NULL;
}

struct xs_handle *xs_open(unsigned long flags)
{
	struct xs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		errno = ENOMEM;
	else if (nnodes == 0)
		get_or_create("/");
	return h;
}

void xs_close(struct xs_handle *xsh)
{
	free(xsh);
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	struct node *n = request_node(path);
	char *v;

	if (!n)
		return NULL;
	v = malloc(n->len + 1);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(v, n->value, n->len + 1);
	if (len)
		*len = (unsigned)n->len;
	return v;
}

/* One allocation: the pointers, then the strings (libxenstore's layout,
 * which callers free with a single free()). */
char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
		    unsigned int *num)
{
	struct node *n = request_node(path);
	size_t plen, count = 0, bytes = 0;
	char **v, *s;

	if (!n)
		return NULL;
	plen = strlen(n->path);
	for (size_t i = 0; i < nnodes; i++) {
		const char *name = child_name(&nodes[i], n->path, plen);

		if (name) {
			count++;
			bytes += strlen(name) + 1;
		}
	}
	v = malloc((count + 1) * sizeof(*v) + bytes);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	s = (char *)(v + count + 1);
	count = 0;
	for (size_t i = 0; i < nnodes; i++) {
		const char *name = child_name(&nodes[i], n->path, plen);

		if (name) {
			v[count++] = s;
			s = stpcpy(s, name) + 1;
		}
	}
	v[count] = NULL;
	*num = (unsigned)count;
	return v;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
	      unsigned int len)
{
	char *p = request_path(path);
	struct node *n;

	if (!p)
		return false;
	if (len > VALUE_MAX_LEN) {
		free(p);
		errno = E2BIG;
		return false;
	}
	n = get_or_create(p);
	free(p);
	if (!n || set_value(n, data, len) < 0) {
		errno = ENOMEM;
		return false;
	}
	return true;
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	char *p = request_path(path);
	struct node *n;

	if (!p)
		return false;
	n = get_or_create(p);
	free(p);
	if (!n) {
		errno = ENOMEM;
		return false;
	}
	return true;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	struct node *n = request_node(path);
	size_t plen, k = 0;
	char *p;

	if (!n)
		return false;
	if (strcmp(n->path, "/") == 0) {
		errno = EINVAL;
		return false;
	}
	p = strdup(n->path);
	if (!p) {
		errno = ENOMEM;
		return false;
	}
	plen = strlen(p);
	for (size_t i = 0; i < nnodes; i++) {
		struct node *c = &nodes[i];

		if (strncmp(c->path, p, plen) == 0 &&
		    (c->path[plen] == '\0' || c->path[plen] == '/'))
			node_free(c);
		else
			nodes[k++] = *c;
	}
	nnodes = k;
	memset(table, 0, sizeof(table));
	for (size_t i = 0; i < nnodes; i++)
		table_add(i);
	free(p);
	return true;
}

struct xs_permissions *xs_get_permissions(struct xs_handle *h, xs_transaction_t t,
					  const char *path, unsigned int *num)
{
	struct node *n = request_node(path);
	struct xs_permissions *v;

	if (!n)
		return NULL;
	v = malloc(n->nperms * sizeof(*v));
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(v, n->perms, n->nperms * sizeof(*v));
	*num = n->nperms;
	return v;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
			struct xs_permissions *perms, unsigned int num_perms)
{
	struct node *n = request_node(path);

	if (!n)
		return false;
	if (num_perms == 0 || num_perms > MAX_PERMS) {
		errno = num_perms ? E2BIG : EINVAL;
		return false;
	}
	memcpy(n->perms, perms, num_perms * sizeof(*perms));
	n->nperms = num_perms;
	return true;
}

/* Not modelled: a caller that needs them gets a clear failure. */

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	errno = ENOSYS;
	return XBT_NULL;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool do_abort)
{
	errno = ENOSYS;
	return false;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	errno = ENOSYS;
	return false;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	errno = ENOSYS;
	return false;
}

int xs_fileno(struct xs_handle *h)
{
	errno = ENOSYS;
	return -1;
}

char **xs_check_watch(struct xs_handle *h)
{
	errno = ENOSYS;
	return NULL;
}
