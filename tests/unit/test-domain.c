/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for the parts of lib/domain.c, lib/channel.c and lib/wait.c that
 * need no xenstore: UUIDs, DOMAIN arguments and matching them against a list
 * of domains, transport and wait-state names.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "domain.h"
#include "macro.h"
#include "tap.h"
#include "untrusted.h"
#include "wait.h"

#define UUID_DOM0 "00000000-0000-0000-0000-000000000000"
#define UUID_WEB "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7f"
#define UUID_WEB_UPPER "6F1C2B7E-8A3D-4C5E-9F10-2A3B4C5D6E7F"
#define UUID_MAIL "deadbeef-0000-4000-8000-00000000abcd"
#define UUID_NOBODY "11111111-2222-3333-4444-555555555555"

struct bool_case {
	const char *in;
	bool want;
};

static const struct bool_case uuid_cases[] = {
	{ UUID_DOM0, true },
	{ UUID_WEB, true },
	{ UUID_WEB_UPPER, true },
	{ "6f1C2b7E-8a3D-4c5e-9F10-2a3b4c5d6e7f", true },
	{ "", false },
	{ "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7", false }, /* 35 */
	{ "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7f0", false }, /* 37 */
	{ "6f1c2b7e8a3d4c5e9f102a3b4c5d6e7f", false }, /* no dashes */
	{ "6f1c2b7e-8a3d-4c5e-9f102-a3b4c5d6e7f", false }, /* dash misplaced */
	{ "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7g", false },
	{ "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7 ", false },
	{ " 6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7", false },
	{ "{6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e}", false },
	{ "6f1c2b7e+8a3d-4c5e-9f10-2a3b4c5d6e7f", false },
	{ "------------------------------------", false },
	{ "uuid:6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d", false },
};

/* text_off: where spec.text points in the argument, -1 for NULL. */
struct spec_case {
	const char *in;
	int err;
	enum xc_domain_key key;
	uint32_t domid;
	int text_off;
};

#define SPEC_BAD(s)                               \
	{                                         \
		(s), -EINVAL, XC_DOM_BY_ID, 0, -1 \
	}

static const struct spec_case spec_cases[] = {
	{ "id:0", 0, XC_DOM_BY_ID, 0, -1 },
	{ "id:5", 0, XC_DOM_BY_ID, 5, -1 },
	{ "id:32751", 0, XC_DOM_BY_ID, 32751, -1 },
	{ "name:web01", 0, XC_DOM_BY_NAME, 0, 5 },
	{ "name:id:5", 0, XC_DOM_BY_NAME, 0, 5 },
	{ "name:7", 0, XC_DOM_BY_NAME, 0, 5 },
	{ "name: ", 0, XC_DOM_BY_NAME, 0, 5 },
	{ "uuid:" UUID_WEB, 0, XC_DOM_BY_UUID, 0, 5 },
	{ "uuid:" UUID_WEB_UPPER, 0, XC_DOM_BY_UUID, 0, 5 },
	{ UUID_WEB, 0, XC_DOM_BY_UUID, 0, 0 },
	{ UUID_WEB_UPPER, 0, XC_DOM_BY_UUID, 0, 0 },
	{ "0", 0, XC_DOM_BY_ID_OR_NAME, 0, 0 },
	{ "7", 0, XC_DOM_BY_ID_OR_NAME, 7, 0 },
	{ "32751", 0, XC_DOM_BY_ID_OR_NAME, 32751, 0 },
	/* Not a domid: only a name can be meant. */
	{ "32752", 0, XC_DOM_BY_NAME, 0, 0 },
	{ "007", 0, XC_DOM_BY_NAME, 0, 0 },
	{ "-1", 0, XC_DOM_BY_NAME, 0, 0 },
	{ "web01", 0, XC_DOM_BY_NAME, 0, 0 },
	{ "Domain-0", 0, XC_DOM_BY_NAME, 0, 0 },
	{ "ID:5", 0, XC_DOM_BY_NAME, 0, 0 },
	{ "6f1c2b7e-8a3d-4c5e-9f10-2a3b4c5d6e7", 0, XC_DOM_BY_NAME, 0, 0 },
	SPEC_BAD(""),
	SPEC_BAD("id:"),
	SPEC_BAD("id:abc"),
	SPEC_BAD("id:-1"),
	SPEC_BAD("id: 5"),
	SPEC_BAD("id:5 "),
	SPEC_BAD("id:05"),
	SPEC_BAD("id:32752"),
	SPEC_BAD("id:4294967296"),
	SPEC_BAD("name:"),
	SPEC_BAD("uuid:"),
	SPEC_BAD("uuid:web01"),
	SPEC_BAD("uuid:" UUID_WEB "0"),
};

static const char *key_name(enum xc_domain_key k)
{
	switch (k) {
	case XC_DOM_BY_ID_OR_NAME:
		return "id-or-name";
	case XC_DOM_BY_ID:
		return "id";
	case XC_DOM_BY_NAME:
		return "name";
	case XC_DOM_BY_UUID:
		return "uuid";
	}
	return "?";
}

static void run_spec(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		const struct spec_case *c = &spec_cases[i];
		struct xc_domain_spec spec;
		bool good;
		int r;

		memset(&spec, 0xa5, sizeof(spec));
		r = xc_domain_spec_parse(c->in, &spec);
		if (c->err) {
			good = r == c->err;
			tap_ok(good, "spec \"%s\" is -EINVAL (r=%d)", c->in, r);
			continue;
		}
		good = r == 0 && spec.key == c->key &&
		       (c->text_off < 0 ? spec.text == NULL
					: spec.text == c->in + c->text_off);
		if ((c->key == XC_DOM_BY_ID || c->key == XC_DOM_BY_ID_OR_NAME) &&
		    spec.domid != c->domid)
			good = false;
		if (!tap_ok(good, "spec \"%s\": by %s, domid %u", c->in, key_name(c->key),
			    c->domid))
			tap_diag("got r=%d key=%s domid=%u text=%s", r,
				 r == 0 ? key_name(spec.key) : "-",
				 r == 0 ? spec.domid : 0,
				 r == 0 && spec.text ? spec.text : "(null)");
	}
}

static void run_spec_null(void)
{
	struct xc_domain_spec spec;

	tap_ok(xc_domain_spec_parse(NULL, &spec) == -EINVAL, "spec NULL is -EINVAL");
}

/* Domain lists, as xc_domain_list() would return them. */
struct dom_def {
	uint32_t domid;
	const char *name; /* NULL: no name key */
	const char *uuid;
};

static const struct dom_def host[] = {
	{ 0, "Domain-0", UUID_DOM0 },
	{ 1, "web01", UUID_WEB },
	{ 2, "db", "" },
	{ 3, NULL, "" },
	{ 5, "9", "" }, /* a toolstack that allows numeric names */
	{ 9, "mail", UUID_MAIL },
	{ 12, "dup", "" },
	{ 13, "dup", "" },
	{ 20, "20", "" }, /* named like its own id */
	{ 21, "21x", "" },
};

static const struct dom_def nameless[] = {
	{ 1, NULL, "" },
	{ 2, NULL, UUID_WEB },
};

static const struct dom_def same_uuid[] = {
	{ 1, "a", UUID_WEB },
	{ 2, "b", UUID_WEB },
};

struct match_case {
	const struct dom_def *doms;
	size_t n;
	const char *arg;
	int want; /* index, -ENOENT or -ENOTUNIQ */
};

#define HOST host, ARRAY_SIZE(host)
#define NAMELESS nameless, ARRAY_SIZE(nameless)
#define SAME_UUID same_uuid, ARRAY_SIZE(same_uuid)
#define EMPTY NULL, 0

static const struct match_case match_cases[] = {
	{ HOST, "id:0", 0 },
	{ HOST, "id:1", 1 },
	{ HOST, "id:3", 3 },
	{ HOST, "id:13", 7 },
	{ HOST, "id:4", -ENOENT },
	{ HOST, "web01", 1 },
	{ HOST, "name:web01", 1 },
	{ HOST, "Domain-0", 0 },
	{ HOST, "name:Web01", -ENOENT }, /* names are case-sensitive */
	{ HOST, "web0", -ENOENT },
	{ HOST, "nosuch", -ENOENT },
	{ HOST, "dup", -ENOTUNIQ },
	{ HOST, "name:dup", -ENOTUNIQ },
	{ HOST, UUID_WEB, 1 },
	{ HOST, UUID_WEB_UPPER, 1 },
	{ HOST, "uuid:" UUID_WEB_UPPER, 1 },
	{ HOST, "uuid:" UUID_MAIL, 5 },
	{ HOST, "DEADBEEF-0000-4000-8000-00000000ABCD", 5 },
	{ HOST, UUID_DOM0, 0 },
	{ HOST, UUID_NOBODY, -ENOENT },
	{ HOST, "0", 0 },
	{ HOST, "2", 2 },
	{ HOST, "3", 3 },
	/* Domain 9 and the domain named "9": a bare number is ambiguous. */
	{ HOST, "9", -ENOTUNIQ },
	{ HOST, "id:9", 5 },
	{ HOST, "name:9", 4 },
	{ HOST, "5", 4 },
	/* One domain both named and numbered 20: found once. */
	{ HOST, "20", 8 },
	{ HOST, "21", 9 },
	{ HOST, "21x", 9 },
	{ NAMELESS, "2", 1 },
	{ NAMELESS, "x", -ENOENT },
	{ NAMELESS, "name:x", -ENOENT },
	{ NAMELESS, UUID_WEB, 1 },
	{ NAMELESS, "7", -ENOENT },
	{ SAME_UUID, UUID_WEB, -ENOTUNIQ },
	{ SAME_UUID, "a", 0 },
	{ EMPTY, "0", -ENOENT },
	{ EMPTY, "id:0", -ENOENT },
	{ EMPTY, "web01", -ENOENT },
	{ EMPTY, UUID_WEB, -ENOENT },
};

static struct xc_domain *build(const struct dom_def *defs, size_t n)
{
	struct xc_domain *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		tap_bail("out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i].domid = defs[i].domid;
		if (defs[i].name && !(v[i].name = strdup(defs[i].name)))
			tap_bail("out of memory");
		snprintf(v[i].uuid, sizeof(v[i].uuid), "%s", defs[i].uuid);
	}
	return v;
}

static const char *err_name(int r)
{
	static char buf[16];

	if (r == -ENOENT)
		return "-ENOENT";
	if (r == -ENOTUNIQ)
		return "-ENOTUNIQ";
	snprintf(buf, sizeof(buf), "%d", r);
	return buf;
}

static void run_match(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct xc_domain *doms = build(c->doms, c->n);
		struct xc_domain_spec spec;
		int r;

		r = xc_domain_spec_parse(c->arg, &spec);
		if (r == 0)
			r = xc_domain_match(&spec, doms, c->n);
		if (!tap_ok(r == c->want, "match \"%s\" among %zu domains: %s", c->arg,
			    c->n, err_name(c->want)))
			tap_diag("got %s", err_name(r));
		xc_domain_array_free(doms, c->n);
	}
}

struct transport_case {
	const char *in;
	int err;
	enum xc_transport t;
};

static const struct transport_case transport_cases[] = {
	{ "socket", 0, XC_TRANSPORT_SOCKET },
	{ "pty", 0, XC_TRANSPORT_PTY },
	{ "direct", 0, XC_TRANSPORT_DIRECT },
	{ "vchan", 0, XC_TRANSPORT_VCHAN },
	/* "unknown" is printed, never accepted. */
	{ "unknown", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "Socket", -EINVAL, 0 },
	{ "PTY", -EINVAL, 0 },
	{ "socket ", -EINVAL, 0 },
	{ " socket", -EINVAL, 0 },
	{ "sock", -EINVAL, 0 },
	{ "sockets", -EINVAL, 0 },
	{ "vchan\n", -EINVAL, 0 },
};

static void run_transport(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(transport_cases); i++) {
		const struct transport_case *c = &transport_cases[i];
		enum xc_transport t = (enum xc_transport)99;
		int r = xc_transport_parse(c->in, &t);
		_cleanup_free_ char *shown = xc_escape(c->in, 64);

		if (c->err)
			tap_ok(r == c->err && t == (enum xc_transport)99,
			       "transport \"%s\" is -EINVAL, output untouched (r=%d)",
			       shown ? shown : "?", r);
		else
			tap_ok(r == 0 && t == c->t && streq(xc_transport_name(t), c->in),
			       "transport \"%s\" parses and names back (r=%d)", c->in, r);
	}
	tap_ok(streq(xc_transport_name(XC_TRANSPORT_UNKNOWN), "unknown"),
	       "transport name of XC_TRANSPORT_UNKNOWN");
	tap_ok(streq(xc_transport_name((enum xc_transport)99), "unknown"),
	       "transport name out of range is \"unknown\"");
}

struct wait_case {
	const char *in;
	int err;
	enum xc_wait_for w;
};

static const struct wait_case wait_cases[] = {
	{ "exists", 0, XC_WAIT_EXISTS },
	{ "connected", 0, XC_WAIT_CONNECTED },
	{ "ready", 0, XC_WAIT_READY },
	{ "gone", 0, XC_WAIT_GONE },
	{ "", -EINVAL, 0 },
	{ "Ready", -EINVAL, 0 },
	{ "ready ", -EINVAL, 0 },
	{ "connect", -EINVAL, 0 },
	{ "exist", -EINVAL, 0 },
	{ "?", -EINVAL, 0 },
	{ "0", -EINVAL, 0 },
};

static void run_wait_for(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(wait_cases); i++) {
		const struct wait_case *c = &wait_cases[i];
		enum xc_wait_for w = (enum xc_wait_for)99;
		int r = xc_wait_for_parse(c->in, &w);

		if (c->err)
			tap_ok(r == c->err && w == (enum xc_wait_for)99,
			       "wait-for \"%s\" is -EINVAL, output untouched (r=%d)",
			       c->in, r);
		else
			tap_ok(r == 0 && w == c->w && streq(xc_wait_for_name(w), c->in),
			       "wait-for \"%s\" parses and names back (r=%d)", c->in, r);
	}
	tap_ok(streq(xc_wait_for_name((enum xc_wait_for)99), "?"),
	       "wait-for name out of range is \"?\"");
}

static void run_uuid(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(uuid_cases); i++)
		tap_ok(xc_uuid_valid(uuid_cases[i].in) == uuid_cases[i].want,
		       "uuid \"%s\" is %s", uuid_cases[i].in,
		       uuid_cases[i].want ? "valid" : "invalid");
}

int main(void)
{
	tap_plan(ARRAY_SIZE(uuid_cases) + ARRAY_SIZE(spec_cases) + 1 +
		 ARRAY_SIZE(match_cases) + ARRAY_SIZE(transport_cases) + 2 +
		 ARRAY_SIZE(wait_cases) + 1);
	run_uuid();
	run_spec();
	run_spec_null();
	run_match();
	run_transport();
	run_wait_for();
	return tap_done();
}
