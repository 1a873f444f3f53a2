/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/hotplug.c.
 *
 *   test-hotplug DOMID
 *
 * Needs a running xenstored and a domain DOMID without channels whose guest
 * does not react to new devices (xenstored gives a node only to a domain it
 * knows, and a running frontend would add its own keys): run by
 * tests/bats/hotplug.bats on the emulated host, with the guest stopped.
 * It adds channels as dom0, compares the nodes it finds, in xenstore's order
 * and with their permissions, with the layout libxl writes, and removes
 * everything it added.  Without a xenstored it bails out (fails), it never
 * skips.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "hotplug.h"
#include "macro.h"
#include "parse.h"
#include "store.h"
#include "tap.h"

/* A domain id no domain of the emulated host uses. */
#define NO_DOMAIN 32700u

static uint32_t dom;

/* tmpl with "$D" replaced by dom and "$N" by devid. */
static char *subst(const char *tmpl, uint32_t devid)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		tap_bail("out of memory");
	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '$' && p[1] == 'D') {
			fprintf(f, "%u", dom);
			p++;
		} else if (p[0] == '$' && p[1] == 'N') {
			fprintf(f, "%u", devid);
			p++;
		} else {
			fputc(*p, f);
		}
	}
	if (fclose(f) != 0 || !out)
		tap_bail("out of memory");
	return out;
}

/* ---- listing, as xenstore-ls -fp does ---- */

static void dump_perms(FILE *f, const struct xs_permissions *p, unsigned n)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };

	fputc('(', f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%c%u", i ? "," : "", letter[p[i].perms & 3], p[i].id);
	fputc(')', f);
}

/* path and everything below it, one "path = "value" (perms)" line each, in
 * the order xenstore lists children (creation order); "" when it is absent. */
static void dump(struct xc_store *st, const char *path, FILE *f)
{
	struct xs_handle *xs = xc_store_xs(st);
	_cleanup_free_ char *val = NULL;
	_cleanup_free_ struct xs_permissions *perms = NULL;
	_cleanup_free_ char **names = NULL;
	unsigned len = 0, n = 0;

	val = xs_read(xs, XBT_NULL, path, &len);
	if (!val) {
		if (errno != ENOENT)
			tap_bail("read %s: %s", path, strerror(errno));
		return;
	}
	perms = xs_get_permissions(xs, XBT_NULL, path, &n);
	if (!perms)
		tap_bail("permissions of %s: %s", path, strerror(errno));
	fprintf(f, "%s = \"%s\" ", path, val);
	dump_perms(f, perms, n);
	fputc('\n', f);
	names = xs_directory(xs, XBT_NULL, path, &n);
	if (!names)
		tap_bail("list %s: %s", path, strerror(errno));
	for (unsigned i = 0; i < n; i++) {
		_cleanup_free_ char *child = NULL;

		if (asprintf(&child, "%s/%s", path, names[i]) < 0)
			tap_bail("out of memory");
		dump(st, child, f);
	}
}

/* The three directories of a channel, and the domain's directories that
 * list them, spelled here independently of lib/hotplug.c. */
static const char *const channel_dirs[] = {
	"/local/domain/$D/device/console/$N",
	"/local/domain/0/backend/console/$D/$N",
	"/libxl/$D/device/console/$N",
};

static const char *const domain_dirs[] = {
	"/local/domain/$D/device/console",
	"/local/domain/0/backend/console/$D",
	"/libxl/$D/device/console",
};

static char *listing(struct xc_store *st, const char *const *tmpls, size_t n,
		     uint32_t devid)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		tap_bail("out of memory");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = subst(tmpls[i], devid);

		dump(st, path, f);
	}
	if (fclose(f) != 0 || !out)
		tap_bail("out of memory");
	return out;
}

/* The nodes of channel devid of dom. */
static char *dump_channel(struct xc_store *st, uint32_t devid)
{
	return listing(st, channel_dirs, ARRAY_SIZE(channel_dirs), devid);
}

/* Every console device node of dom. */
static char *dump_domain(struct xc_store *st)
{
	return listing(st, domain_dirs, ARRAY_SIZE(domain_dirs), 0);
}

/* A listing without the lines of channel devid. */
static char *without_channel(const char *list, uint32_t devid)
{
	_cleanup_free_ char *copy = strdup(list);
	char *out = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f || !copy)
		tap_bail("out of memory");
	for (char *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool drop = false;

		for (size_t i = 0; i < ARRAY_SIZE(channel_dirs) && !drop; i++) {
			_cleanup_free_ char *dir = subst(channel_dirs[i], devid);
			size_t n = strlen(dir);

			drop = strneq(line, dir, n) && (line[n] == ' ' || line[n] == '/');
		}
		if (!drop)
			fprintf(f, "%s\n", line);
	}
	if (fclose(f) != 0 || !out)
		tap_bail("out of memory");
	return out;
}

/* Compare a listing with a template; show both when they differ. */
static bool same_listing(const char *got, const char *tmpl, uint32_t devid)
{
	_cleanup_free_ char *want = subst(tmpl, devid);

	if (streq(got, want))
		return true;
	tap_diag("want:\n%s", want);
	tap_diag("got:\n%s", got);
	return false;
}

/* ---- paths ---- */

struct path_case {
	enum xc_hotplug_dir dir;
	uint32_t domid, devid;
	const char *want;
};

static const struct path_case path_cases[] = {
	{ XC_HOTPLUG_FRONTEND, 7, 3, "/local/domain/7/device/console/3" },
	{ XC_HOTPLUG_BACKEND, 7, 3, "/local/domain/0/backend/console/7/3" },
	{ XC_HOTPLUG_TRUSTED, 7, 3, "/libxl/7/device/console/3" },
	{ XC_HOTPLUG_BACKEND, UINT32_MAX, UINT32_MAX,
	  "/local/domain/0/backend/console/4294967295/4294967295" },
};

static void test_paths(void)
{
	char buf[XC_HOTPLUG_PATH_MAX];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(path_cases); i++) {
		const struct path_case *c = &path_cases[i];

		r = xc_hotplug_path(c->dir, c->domid, c->devid, buf, sizeof(buf));
		if (!tap_ok(r == 0 && streq(buf, c->want), "path %s", c->want))
			tap_diag("got r=%d %s", r, buf);
	}
	r = xc_hotplug_path(XC_HOTPLUG_TRUSTED, 7, 3, buf,
			    strlen("/libxl/7/device/console/3"));
	tap_ok(r == -ENAMETOOLONG, "a buffer one byte short: -ENAMETOOLONG (r=%d)", r);
	r = xc_hotplug_path(XC_HOTPLUG_TRUSTED, 7, 3, buf, 8);
	tap_ok(r == -ENAMETOOLONG,
	       "a buffer too short for the parent: -ENAMETOOLONG (r=%d)", r);
	r = xc_hotplug_path((enum xc_hotplug_dir)3, 7, 3, buf, sizeof(buf));
	tap_ok(r == -EINVAL, "an unknown directory: -EINVAL (r=%d)", r);
}

/* ---- adding ---- */

/* What libxl writes for a channel (tests/bats/layout.bats has it from Xen
 * 4.17), with xenchan's type, output and connection. */
static const char channel_layout[] =
	"/local/domain/$D/device/console/$N = \"\" (n$D,r0)\n"
	"/local/domain/$D/device/console/$N/backend = "
	"\"/local/domain/0/backend/console/$D/$N\" (n$D,r0)\n"
	"/local/domain/$D/device/console/$N/backend-id = \"0\" (n$D,r0)\n"
	"/local/domain/$D/device/console/$N/state = \"1\" (n$D,r0)\n"
	"/local/domain/$D/device/console/$N/protocol = \"vt100\" (n$D,r0)\n"
	"/local/domain/$D/device/console/$N/name = \"org.example.hotplug.$N\" (n0,r$D)\n"
	"/local/domain/$D/device/console/$N/limit = \"1048576\" (n0,r$D)\n"
	"/local/domain/$D/device/console/$N/type = \"xenchan\" (n0,r$D)\n"
	"/local/domain/$D/device/console/$N/output = \"xenchan\" (n0,r$D)\n"
	"/local/domain/$D/device/console/$N/tty = \"\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N = \"\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/frontend = "
	"\"/local/domain/$D/device/console/$N\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/frontend-id = \"$D\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/online = \"1\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/state = \"1\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/protocol = \"vt100\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/name = \"org.example.hotplug.$N\" (n0,r$D)\n"
	"/local/domain/0/backend/console/$D/$N/connection = \"xenchan\" (n0,r$D)\n"
	"/libxl/$D/device/console/$N = \"\" (n0)\n"
	"/libxl/$D/device/console/$N/frontend = \"/local/domain/$D/device/console/$N\" (n0)\n"
	"/libxl/$D/device/console/$N/backend = "
	"\"/local/domain/0/backend/console/$D/$N\" (n0)\n"
	"/libxl/$D/device/console/$N/frontend-id = \"$D\" (n0)\n"
	"/libxl/$D/device/console/$N/online = \"1\" (n0)\n"
	"/libxl/$D/device/console/$N/state = \"1\" (n0)\n"
	"/libxl/$D/device/console/$N/protocol = \"vt100\" (n0)\n"
	"/libxl/$D/device/console/$N/name = \"org.example.hotplug.$N\" (n0)\n"
	"/libxl/$D/device/console/$N/connection = \"xenchan\" (n0)\n";

/* Add a channel named for the devid it should get; check that it got it. */
static bool add_one(struct xc_store *st, uint32_t want, const char *why)
{
	char name[64];
	uint32_t devid = 0;
	int r;

	snprintf(name, sizeof(name), "org.example.hotplug.%u", want);
	r = xc_hotplug_add(st, dom, name, &devid);
	if (!tap_ok(r == 0 && devid == want, "%s: devid %u", why, want)) {
		tap_diag("got r=%d devid %u", r, devid);
		return false;
	}
	return true;
}

static void test_layout(struct xc_store *st)
{
	_cleanup_free_ char *got = NULL;

	if (!add_one(st, 1, "the first channel of a domain"))
		return;
	got = dump_channel(st, 1);
	tap_ok(same_listing(got, channel_layout, 1),
	       "devid 1: libxl's nodes, values, permissions and order");
}

/* Leave a state key in directory tmpl (one of channel_dirs) of devid, as
 * a half-removed channel or another tool's device would. */
static void leave(struct xc_store *st, const char *tmpl, const char *devid)
{
	_cleanup_free_ char *dir = subst(tmpl, 0), *path = NULL;
	int r;

	/* tmpl ends in "$N": replace the "0" subst() put there. */
	dir[strlen(dir) - 1] = '\0';
	if (asprintf(&path, "%s%s/state", dir, devid) < 0)
		tap_bail("out of memory");
	r = xc_store_write(st, XBT_NULL, path, "6");
	if (r < 0)
		tap_bail("write %s: %s", path, strerror(-r));
	path[strlen(path) - strlen("/state")] = '\0';
	r = xc_store_set_perms(st, XBT_NULL, path, "n0");
	if (r < 0)
		tap_bail("chmod %s: %s", path, strerror(-r));
}

static void test_devids(struct xc_store *st)
{
	_cleanup_free_ char *before = NULL, *after = NULL;
	uint32_t devid = 12345;
	int r;

	/* Devid 1 is the layout test's.  2, 3 and 4 are each taken in one
	 * directory only; names that are no devid of ours take nothing. */
	leave(st, channel_dirs[0], "2");
	leave(st, channel_dirs[1], "3");
	leave(st, channel_dirs[2], "4");
	leave(st, channel_dirs[0], "10");
	leave(st, channel_dirs[1], "x");
	add_one(st, 5, "devids used in the frontend, backend or /libxl are skipped");
	r = xc_hotplug_remove(st, dom, 1);
	tap_ok(r == 0, "remove devid 1 (r=%d)", r);
	add_one(st, 1, "a removed channel's devid is free again");
	for (uint32_t i = 6; i <= XC_DIRECT_MAX_DEVID; i++)
		add_one(st, i, "the next free devid");

	before = dump_domain(st);
	r = xc_hotplug_add(st, dom, "org.example.hotplug.full", &devid);
	after = dump_domain(st);
	tap_ok(r == -ENOSPC && devid == 12345,
	       "devids 1 to %u taken: -ENOSPC, devid left alone (r=%d devid %u)",
	       XC_DIRECT_MAX_DEVID, r, devid);
	tap_ok(streq(before, after), "-ENOSPC writes nothing");
}

/* ---- removing ---- */

static void test_remove(struct xc_store *st)
{
	_cleanup_free_ char *before = NULL, *after = NULL, *want = NULL;
	_cleanup_free_ char *eight = NULL, *rest = NULL;
	int r;

	before = dump_domain(st);
	want = without_channel(before, 7);
	r = xc_hotplug_remove(st, dom, 7);
	after = dump_domain(st);
	if (!tap_ok(r == 0 && !streq(before, want) && streq(after, want),
		    "remove devid 7: its three directories and nothing else (r=%d)", r)) {
		tap_diag("want:\n%s", want);
		tap_diag("got:\n%s", after);
	}
	eight = dump_channel(st, 8);
	tap_ok(same_listing(eight, channel_layout, 8), "devid 8 still has all its nodes");
	r = xc_hotplug_remove(st, dom, 7);
	free(before);
	before = dump_domain(st);
	tap_ok(r == 0 && streq(after, before),
	       "removing it again: 0, nothing changes (r=%d)", r);

	/* Half-removed leftovers go the same way; devid 0, the primary
	 * console, and names that are no devid stay. */
	free(after);
	after = NULL;
	for (uint32_t i = 1; i <= XC_DIRECT_MAX_DEVID; i++) {
		r = xc_hotplug_remove(st, dom, i);
		if (r < 0)
			tap_bail("remove devid %u: %s", i, strerror(-r));
		after = TAKE_PTR(before);
		before = dump_domain(st);
		rest = without_channel(after, i);
		if (!streq(before, rest))
			break;
		free(after);
		free(rest);
		after = rest = NULL;
	}
	tap_ok(!rest, "remove devids 1 to %u: leftovers included, only theirs",
	       XC_DIRECT_MAX_DEVID);
	r = xc_hotplug_remove(st, dom, 0);
	tap_ok(r == -EINVAL, "remove devid 0: -EINVAL (r=%d)", r);

	{
		_cleanup_free_ char *ten = subst("/local/domain/$D/device/console/10", 0);
		_cleanup_free_ char *x = subst("/local/domain/0/backend/console/$D/x", 0);

		r = xc_store_rm(st, XBT_NULL, ten);
		if (r == 0)
			r = xc_store_rm(st, XBT_NULL, x);
		if (r < 0)
			tap_bail("cleaning up: %s", strerror(-r));
	}
}

/* ---- bad arguments and a domain xenstored does not know ---- */

static void test_refused(struct xc_store *st)
{
	static const struct {
		uint32_t domid;
		const char *name;
		const char *what;
	} cases[] = {
		{ 0, "org.example.x", "domid 0" },
		{ XC_DOMID_MAX + 1, "org.example.x", "domid above XC_DOMID_MAX" },
		{ 1, NULL, "no name" },
	};
	_cleanup_free_ char *before = NULL, *after = NULL;
	uint32_t saved = dom, devid = 12345;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		r = xc_hotplug_add(st, cases[i].domid, cases[i].name, &devid);
		tap_ok(r == -EINVAL && devid == 12345, "add, %s: -EINVAL (r=%d)",
		       cases[i].what, r);
	}
	r = xc_hotplug_remove(st, 0, 1);
	tap_ok(r == -EINVAL, "remove, domid 0: -EINVAL (r=%d)", r);
	r = xc_hotplug_remove(st, XC_DOMID_MAX + 1, 1);
	tap_ok(r == -EINVAL, "remove, domid above XC_DOMID_MAX: -EINVAL (r=%d)", r);

	/* xenstored gives no node to a domain it does not know; the
	 * transaction takes back what was written before that. */
	dom = NO_DOMAIN;
	before = dump_domain(st);
	r = xc_hotplug_add(st, dom, "org.example.hotplug.1", &devid);
	after = dump_domain(st);
	if (!tap_ok(r < 0 && devid == 12345 && streq(before, "") && streq(after, ""),
		    "a domain xenstored does not know: an error, nothing written (r=%d)",
		    r))
		tap_diag("left:\n%s", after);
	dom = saved;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *start = NULL, *end = NULL, *fe_dir = NULL;
	struct xc_store *st = NULL;
	int r;

	if (argc != 2 || xc_parse_domid(argv[1], &dom) < 0 || dom == 0) {
		fprintf(stderr, "usage: test-hotplug DOMID\n");
		return 2;
	}
	test_paths();
	r = xc_store_open(&st);
	if (r < 0)
		tap_bail("no xenstored: %s", strerror(-r));
	start = dump_domain(st);
	fe_dir = subst(domain_dirs[0], 0);
	for (uint32_t i = 1; i <= XC_DIRECT_MAX_DEVID + 1; i++) {
		_cleanup_free_ char *in_use = dump_channel(st, i);

		if (!streq(in_use, ""))
			tap_bail("domain %u already has devid %u", dom, i);
	}
	test_layout(st);
	test_devids(st);
	test_remove(st);
	test_refused(st);
	/* Adding made the frontend's device/console if the domain had none. */
	if (strstr(start, fe_dir) != start) {
		r = xc_store_rm(st, XBT_NULL, fe_dir);
		if (r < 0)
			tap_bail("rm %s: %s", fe_dir, strerror(-r));
	}
	end = dump_domain(st);
	if (!tap_ok(streq(start, end), "the domain's console devices are as they were"))
		tap_diag("before:\n%s\nafter:\n%s", start, end);
	xc_store_close(st);
	return tap_done_trailing_plan();
}
