/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/registry.c: the record format (continuation lines,
 * comments, the legend, malformed records), locations, lookup, the
 * near-miss search and the bounded Levenshtein distance.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "macro.h"
#include "registry.h"
#include "tap.h"

/* Xen's own file, legend included. */
static const char xen_text[] =
	"Key:\n"
	"N: Name\n"
	"C: Contact\n"
	"D: Short description of use, possibly including a URL to your software\n"
	"   or API\n"
	"\n"
	"N: org.xenproject.guest.clipboard.0.1\n"
	"C: David Scott <dave.scott@citrix.com>\n"
	"D: Share clipboard data via an in-guest agent. See:\n"
	"   http://wiki.xenproject.org/wiki/Clipboard_sharing_protocol\n";

static struct xc_registry *parse(const char *text, struct xc_diags *d)
{
	struct xc_registry *r = NULL;

	if (xc_registry_new(&r) < 0 ||
	    xc_registry_parse(r, d, xc_diags_file(d, "t"), text, strlen(text)) < 0)
		tap_bail("out of memory");
	return r;
}

static unsigned count(const struct xc_diags *d, enum xc_rule_id rule)
{
	unsigned n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].rule == rule;
	return n;
}

struct near_case {
	const char *query;
	const char *want; /* NULL: no suggestion */
};

static const struct near_case near_cases[] = {
	{ "org.example.agnet.0", "org.example.agent.0" },   /* transposition: 2 */
	{ "org.example.agent.O", "org.example.agent.0" },   /* one substitution */
	{ "org.example.agen.0", "org.example.agent.0" },    /* one deletion */
	{ "ORG.EXAMPLE.AGENT.0", "org.example.agent.0" },   /* case */
	{ "org.example.agent.1", NULL },                    /* another version */
	{ "org.example.agent.v2", NULL },                   /* another version */
	{ "example.agent.0", "org.example.agent.0" },       /* a label dropped */
	{ "org.example.cloud.agent.0", "org.example.agent.0" }, /* a label added */
	{ "com.vendor.other.thing.0", NULL },
	{ "org.example.agent.0", NULL },                    /* registered: no near miss */
	{ "x", NULL },
};

struct placeholder_case {
	const char *name;
	bool placeholder;
};

static const struct placeholder_case placeholder_cases[] = {
	{ "org.example.dummy", true },
	{ "org.example.placeholder", true },
	{ "org.example.unused", true },
	{ "org.example.reserved", true },
	{ "org.example.padding", true },
	{ "org.example.filler", true },
	{ "org.example.dummy.0", true },       /* a version after the word */
	{ "org.example.unused.v2", true },
	{ "org.example.xl-dummy", true },      /* a '-'-separated part */
	{ "org.example.unused-slot.0", true },
	{ "dummy", true },
	{ "org.example.agent.0", false },
	{ "org.example.dummyagent.0", false }, /* a word inside a part is not one */
	{ "org.example.dummies", false },
	{ "org.dummy.agent.0", false },        /* only the last label counts */
	{ "org.example.dummy.agent", false },
	{ "org.example.0", false },
	{ "org.example.dummy.0.1", false },    /* one version label after it at most */
	{ "", false },
	{ ".", false },
};

int main(void)
{
	struct xc_diags d;
	struct xc_registry *r;
	const struct xc_reg_entry *e;

	tap_plan(22 + (unsigned)ARRAY_SIZE(near_cases) +
		 (unsigned)ARRAY_SIZE(placeholder_cases));

	xc_diags_init(&d);
	r = parse(xen_text, &d);
	tap_ok(xc_registry_count(r) == 1, "the legend record is skipped");
	e = xc_registry_entry(r, 0);
	tap_ok(e && streq(e->name, "org.xenproject.guest.clipboard.0.1"), "name read");
	tap_ok(e && e->name_loc.line == 7 && e->name_loc.col == 4, "name at 7:4");
	tap_ok(e && e->contact_loc.line == 8 && e->contact_loc.col == 4, "contact at 8:4");
	tap_ok(e && streq(e->desc, "Share clipboard data via an in-guest agent. See: "
				   "http://wiki.xenproject.org/wiki/Clipboard_sharing_protocol"),
	       "a continuation line (even one starting with http:) joins its field");
	tap_ok(d.n == 0, "Xen's file is well-formed");
	tap_ok(xc_registry_find(r, "org.xenproject.guest.clipboard.0.1") == e, "lookup");
	tap_ok(xc_registry_find(r, "org.xenproject.guest.clipboard") == NULL,
	       "lookup of an unregistered name");
	xc_registry_free(r);
	xc_diags_clear(&d);

	r = parse("# a comment\n"
		  "N: a.b.0\r\n"
		  "C: x@y.org\n"
		  "\n"
		  "\n"
		  "   \t\n"
		  "N: a.c.0\n"
		  "D:\n"
		  "  described on the next line\n",
		  &d);
	tap_ok(xc_registry_count(r) == 2, "comments, CRLF and several blank lines");
	e = xc_registry_entry(r, 1);
	tap_ok(e && e->desc && streq(e->desc, "described on the next line"),
	       "an empty field continued on the next line");
	tap_ok(e && e->loc.line == 7, "a record's location is its first line");
	tap_ok(d.n == 0, "no diagnostics");
	xc_registry_free(r);
	xc_diags_clear(&d);

	r = parse("some prose\nN: a.b.0\n", &d);
	tap_ok(count(&d, XC_R_REG_MALFORMED) == 1 && d.v[0].loc.line == 1,
	       "text before any field is malformed, at its line");
	xc_registry_free(r);
	xc_diags_clear(&d);

	r = parse("N: a.b.0\n  continued name\n", &d);
	tap_ok(count(&d, XC_R_REG_MALFORMED) == 1, "a name does not continue");
	xc_registry_free(r);
	xc_diags_clear(&d);

	r = parse("N:\nC: a@b.c\n", &d);
	tap_ok(count(&d, XC_R_REG_MALFORMED) == 2, "an empty name, and then no name");
	xc_registry_free(r);
	xc_diags_clear(&d);

	r = parse("N: a.b.0\nURL: http://x\n", &d);
	tap_ok(count(&d, XC_R_REG_UNKNOWN_KEY) == 1 && d.v[0].loc.line == 2,
	       "an unknown key");
	xc_registry_free(r);
	xc_diags_clear(&d);

	r = parse("N: a.b.0\n\0N: x\n", &d);
	tap_ok(xc_registry_count(r) == 1, "a NUL byte ends at the string for strlen callers");
	xc_registry_free(r);
	xc_diags_clear(&d);
	{
		static const char nul[] = "N: a.b.0\nD: x\0y\n";

		if (xc_registry_new(&r) < 0 ||
		    xc_registry_parse(r, &d, xc_diags_file(&d, "n"), nul, sizeof(nul) - 1) < 0)
			tap_bail("out of memory");
		tap_ok(count(&d, XC_R_REG_MALFORMED) == 1, "a NUL byte in a line is malformed");
		xc_registry_free(r);
		xc_diags_clear(&d);
	}

	tap_ok(xc_levenshtein_max("kitten", 6, "sitting", 7, 5) == 3, "levenshtein 3");
	tap_ok(xc_levenshtein_max("kitten", 6, "sitting", 7, 2) == 3, "levenshtein capped");
	tap_ok(xc_levenshtein_max("", 0, "ab", 2, 2) == 2, "levenshtein from empty");
	tap_ok(xc_levenshtein_max("abc", 3, "abc", 3, 2) == 0, "levenshtein equal");

	r = parse("N: org.example.agent.0\n\nN: org.example.dummy\n\nN: com.other.x.0\n", &d);
	for (size_t i = 0; i < ARRAY_SIZE(near_cases); i++) {
		const struct near_case *c = &near_cases[i];

		e = xc_registry_near(r, c->query);
		tap_ok(c->want ? e && streq(e->name, c->want) : e == NULL, "near %s: %s",
		       c->query, e ? e->name : "(none)");
	}
	xc_registry_free(r);
	xc_diags_clear(&d);

	for (size_t i = 0; i < ARRAY_SIZE(placeholder_cases); i++) {
		const struct placeholder_case *c = &placeholder_cases[i];

		tap_ok(xc_name_is_placeholder(c->name) == c->placeholder,
		       "'%s' is %sa placeholder", c->name, c->placeholder ? "" : "not ");
	}
	return tap_done();
}
