/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hotplug.h"
#include "macro.h"
#include "parse.h"
#include "xenbus.h"

/*
 * How many more times a transaction that met a concurrent change runs:
 * hotplugs into one domain at once all take its lowest free devid, and
 * each conflict is one of them committing, so n at once need n - 1.
 */
#define HOTPLUG_TX_RETRIES 64

static const enum xc_hotplug_dir all_dirs[] = {
	XC_HOTPLUG_FRONTEND,
	XC_HOTPLUG_BACKEND,
	XC_HOTPLUG_TRUSTED,
};

/* Where a row's value comes from. */
enum source {
	SRC_TEXT, /* row->text */
	SRC_NUMBER, /* row->number, in decimal */
	SRC_NAME, /* the channel's name */
	SRC_DOMID, /* the guest's domid */
	SRC_PATH, /* the path of directory row->other */
};

/* libxl's permissions for a channel's nodes. */
enum access {
	GUEST_OWNED, /* "n<domid> r0": the guest's, dom0 reads it */
	GUEST_READS, /* "n0 r<domid>": dom0's, the guest may only read it */
	DOM0_ONLY, /* "n0" */
	ACCESS_COUNT
};

struct row {
	enum xc_hotplug_dir dir;
	const char *key; /* NULL: the directory itself */
	enum access access;
	enum source src;
	const char *text;
	unsigned number;
	enum xc_hotplug_dir other;
};

#define FE XC_HOTPLUG_FRONTEND
#define BE XC_HOTPLUG_BACKEND
#define LX XC_HOTPLUG_TRUSTED
#define TEXT(s) .src = SRC_TEXT, .text = (s)
#define NUMBER(n) .src = SRC_NUMBER, .number = (n)
#define NAME .src = SRC_NAME
#define DOMID .src = SRC_DOMID
#define PATH(d) .src = SRC_PATH, .other = (d)

/*
 * Every node of a hotplugged channel, in the order libxl writes them (Xen
 * 4.17's are in tests/bats/layout.bats; xenstore lists children in creation
 * order).  A directory's row comes before its keys.  The backend is dom0,
 * so the frontend's backend-id is 0.
 */
/* clang-format off */
static const struct row rows[] = {
	/* The guest owns its device directory and the xenbus keys; dom0 owns
	 * what the guest may only read (XSA-57). */
	{ FE, NULL,          GUEST_OWNED, TEXT("") },
	{ FE, "backend",     GUEST_OWNED, PATH(BE) },
	{ FE, "backend-id",  GUEST_OWNED, NUMBER(0) },
	{ FE, "state",       GUEST_OWNED, NUMBER(XC_STATE_INITIALISING) },
	{ FE, "protocol",    GUEST_OWNED, TEXT("vt100") },
	{ FE, "name",        GUEST_READS, NAME },
	{ FE, "limit",       GUEST_READS, TEXT("1048576") },
	{ FE, "type",        GUEST_READS, TEXT(XC_DIRECT_TYPE) },
	{ FE, "output",      GUEST_READS, TEXT(XC_DIRECT_TYPE) },
	{ FE, "tty",         GUEST_READS, TEXT("") },

	{ BE, NULL,          GUEST_READS, TEXT("") },
	{ BE, "frontend",    GUEST_READS, PATH(FE) },
	{ BE, "frontend-id", GUEST_READS, DOMID },
	{ BE, "online",      GUEST_READS, TEXT("1") },
	{ BE, "state",       GUEST_READS, NUMBER(XC_STATE_INITIALISING) },
	{ BE, "protocol",    GUEST_READS, TEXT("vt100") },
	{ BE, "name",        GUEST_READS, NAME },
	{ BE, "connection",  GUEST_READS, TEXT(XC_DIRECT_TYPE) },

	/* The trusted copy: nobody but dom0 reads it. */
	{ LX, NULL,          DOM0_ONLY,   TEXT("") },
	{ LX, "frontend",    DOM0_ONLY,   PATH(FE) },
	{ LX, "backend",     DOM0_ONLY,   PATH(BE) },
	{ LX, "frontend-id", DOM0_ONLY,   DOMID },
	{ LX, "online",      DOM0_ONLY,   TEXT("1") },
	{ LX, "state",       DOM0_ONLY,   NUMBER(XC_STATE_INITIALISING) },
	{ LX, "protocol",    DOM0_ONLY,   TEXT("vt100") },
	{ LX, "name",        DOM0_ONLY,   NAME },
	{ LX, "connection",  DOM0_ONLY,   TEXT(XC_DIRECT_TYPE) },
};
/* clang-format on */

/* The directory that lists the domain's devices of kind dir. */
static int parent_path(enum xc_hotplug_dir dir, uint32_t domid, char *buf, size_t size)
{
	int n;

	switch (dir) {
	case XC_HOTPLUG_FRONTEND:
		n = snprintf(buf, size, "/local/domain/%u/device/console", domid);
		break;
	case XC_HOTPLUG_BACKEND:
		n = snprintf(buf, size, "/local/domain/0/backend/console/%u", domid);
		break;
	case XC_HOTPLUG_TRUSTED:
		n = snprintf(buf, size, "/libxl/%u/device/console", domid);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int xc_hotplug_path(enum xc_hotplug_dir dir, uint32_t domid, uint32_t devid, char *buf,
		    size_t size)
{
	size_t len;
	int r, n;

	r = parent_path(dir, domid, buf, size);
	if (r < 0)
		return r;
	len = strlen(buf);
	n = snprintf(buf + len, size - len, "/%u", devid);
	return n < 0 || (size_t)n >= size - len ? -ENAMETOOLONG : 0;
}

/* ---- devids ---- */

static int mark_used(struct xc_store *st, xs_transaction_t t, const char *dir, bool *used)
{
	_cleanup_strv_free_ char **names = NULL;
	int r;

	r = xc_store_list(st, t, dir, &names, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (char **p = names; *p; p++) {
		uint64_t v;

		if (xc_parse_uint(*p, XC_DIRECT_MAX_DEVID, &v) == 0)
			used[v] = true;
	}
	return 0;
}

static int free_devid(struct xc_store *st, xs_transaction_t t, uint32_t domid,
		      uint32_t *devid)
{
	bool used[XC_DIRECT_MAX_DEVID + 1] = { true }; /* 0: the primary console */
	char dir[XC_HOTPLUG_PATH_MAX];
	int r;

	/* A devid in use anywhere, even half-removed, is not reused. */
	for (size_t i = 0; i < ARRAY_SIZE(all_dirs); i++) {
		r = parent_path(all_dirs[i], domid, dir, sizeof(dir));
		if (r == 0)
			r = mark_used(st, t, dir, used);
		if (r < 0)
			return r;
	}
	for (uint32_t i = 1; i <= XC_DIRECT_MAX_DEVID; i++) {
		if (!used[i]) {
			*devid = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* ---- adding ---- */

/* Set up once by xc_hotplug_add(); devid and path by each run of add_tx(). */
struct add {
	uint32_t domid;
	const char *name;
	uint32_t devid; /* out */
	char path[ARRAY_SIZE(all_dirs)][XC_HOTPLUG_PATH_MAX];
	char perms[ACCESS_COUNT][32];
	char domid_str[16];
};

/* What row writes; num is room for a number. */
static const char *row_value(const struct add *a, const struct row *row, char *num,
			     size_t size)
{
	switch (row->src) {
	case SRC_TEXT:
		return row->text;
	case SRC_NUMBER:
		snprintf(num, size, "%u", row->number);
		return num;
	case SRC_NAME:
		return a->name;
	case SRC_DOMID:
		return a->domid_str;
	case SRC_PATH:
		return a->path[row->other];
	}
	return NULL;
}

static int write_row(struct xc_store *st, xs_transaction_t t, const struct add *a,
		     const struct row *row)
{
	char path[XC_HOTPLUG_PATH_MAX + 16], num[16];
	const char *val = row_value(a, row, num, sizeof(num));
	int r;

	if (!val)
		return -EINVAL;
	if (row->key) {
		snprintf(path, sizeof(path), "%s/%s", a->path[row->dir], row->key);
	} else {
		/* The devid is free in all three directories, so there is nothing
		 * to remove; this only makes sure a directory starts empty. */
		snprintf(path, sizeof(path), "%s", a->path[row->dir]);
		r = xc_store_rm(st, t, path);
		if (r < 0)
			return r;
	}
	r = xc_store_write(st, t, path, val);
	if (r == 0)
		r = xc_store_set_perms(st, t, path, a->perms[row->access]);
	return r;
}

static int add_tx(struct xc_store *st, xs_transaction_t t, void *data)
{
	struct add *a = data;
	uint32_t devid = 0;
	int r;

	r = free_devid(st, t, a->domid, &devid);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(all_dirs); i++) {
		r = xc_hotplug_path(all_dirs[i], a->domid, devid, a->path[all_dirs[i]],
				    sizeof(a->path[0]));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		r = write_row(st, t, a, &rows[i]);
		if (r < 0)
			return r;
	}
	a->devid = devid;
	return 0;
}

int xc_hotplug_add(struct xc_store *st, uint32_t domid, const char *name, uint32_t *devid)
{
	struct add a = { .domid = domid, .name = name };
	int r;

	if (domid == 0 || domid > XC_DOMID_MAX || !name)
		return -EINVAL;
	snprintf(a.perms[GUEST_OWNED], sizeof(a.perms[0]), "n%u r0", domid);
	snprintf(a.perms[GUEST_READS], sizeof(a.perms[0]), "n0 r%u", domid);
	snprintf(a.perms[DOM0_ONLY], sizeof(a.perms[0]), "n0");
	snprintf(a.domid_str, sizeof(a.domid_str), "%u", domid);
	r = xc_store_transaction(st, add_tx, &a, HOTPLUG_TX_RETRIES);
	if (r < 0)
		return r;
	*devid = a.devid;
	return 0;
}

/* ---- removing ---- */

struct removal {
	uint32_t domid, devid;
};

static int remove_tx(struct xc_store *st, xs_transaction_t t, void *data)
{
	const struct removal *rm = data;
	char path[XC_HOTPLUG_PATH_MAX];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(all_dirs); i++) {
		r = xc_hotplug_path(all_dirs[i], rm->domid, rm->devid, path,
				    sizeof(path));
		if (r == 0)
			r = xc_store_rm(st, t, path);
		if (r < 0)
			return r;
	}
	return 0;
}

int xc_hotplug_remove(struct xc_store *st, uint32_t domid, uint32_t devid)
{
	struct removal rm = { .domid = domid, .devid = devid };

	if (domid == 0 || domid > XC_DOMID_MAX || devid == 0)
		return -EINVAL;
	return xc_store_transaction(st, remove_tx, &rm, XC_STORE_TX_RETRIES);
}
