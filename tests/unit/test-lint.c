/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for the registry checker's rules (lib/diag.c's table, checked
 * by the parsers and lib/lint.c): for every rule, an input that passes and
 * one that fails it, table-driven.  Each case is an xl config (or a name, a
 * registry, a libvirt document) checked against a small registry; the case
 * says which rule must fire on its failing input and not on its passing
 * one.  A rule in the table without both kinds of case fails the test.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "lint.h"
#include "macro.h"
#include "registry.h"
#include "tap.h"
#include "virtxml.h"
#include "xenver.h"
#include "xlcfg.h"

static const char registry_text[] = "N: org.example.agent.0\n"
				    "C: Ops <ops@example.org>\n"
				    "D: the example agent\n"
				    "\n"
				    "N: org.example.config.agent.0\n"
				    "C: https://example.org/config\n"
				    "D: configuration\n";

/* VCHAN: a name a vchan endpoint carries (xc_lint_vchan()). */
enum input { NAME, VCHAN, REGISTRY, XL, XML };

struct rule_case {
	enum xc_rule_id rule;
	enum input kind;
	const char *pass; /* must not raise rule; NULL: no passing input */
	const char *fail; /* must raise rule; NULL: no failing input */
	/* For a failing XL/XML case checked together with a second config. */
	const char *other;
	/* The Xen the configs are for: NULL for 4.17.7 (its xl drops the
	 * first channel entry), "" for none given. */
	const char *xen;
};

#define SOCK(name, path) "\"connection=socket, name=" name ", path=" path "\""
#define DUMMY "\"connection=pty, name=org.example.dummy\", "
/* The first-channel cases: a config with no workaround, one whose
 * placeholder has another word for a name, one whose first entry is the
 * second's name again. */
#define PLAIN "channel = [ \"connection=pty, name=a.b.0\" ]\n"
#define UNUSED                                                                            \
	"channel = [ \"connection=pty, name=org.example.unused.0\", "                       \
	"\"connection=pty, name=a.b.0\" ]\n"
#define TWICE "channel = [ " SOCK("a.b.0", "/run/a") ", " SOCK("a.b.0", "/run/a") " ]\n"
#define NINE_AFTER_DUMMY                                                                  \
	"channel = [ " DUMMY "'connection=pty,name=a.b.1', 'connection=pty,name=a.b.2', "  \
	"'connection=pty,name=a.b.3', 'connection=pty,name=a.b.4', "                      \
	"'connection=pty,name=a.b.5', 'connection=pty,name=a.b.6', "                      \
	"'connection=pty,name=a.b.7', 'connection=pty,name=a.b.8', "                      \
	"'connection=pty,name=a.b.9'"
#define NINE                                                                              \
	"channel = [ 'connection=pty,name=a.b.1', 'connection=pty,name=a.b.2', "          \
	"'connection=pty,name=a.b.3', 'connection=pty,name=a.b.4', "                      \
	"'connection=pty,name=a.b.5', 'connection=pty,name=a.b.6', "                      \
	"'connection=pty,name=a.b.7', 'connection=pty,name=a.b.8', "                      \
	"'connection=pty,name=a.b.9'"
#define XML_CH(type, name)                                                                \
	"<channel type='" type "'><target type='xen' name='" name "'/></channel>"

static const struct rule_case cases[] = {
	{ XC_R_NAME_SYNTAX, NAME, "org.example.agent.0", "org.example agent.0" },
	{ XC_R_NAME_SYNTAX, NAME, "org.example.a-b.0", "org.example.a=b.0" },
	{ XC_R_NAME_SHAPE, NAME, "org.example.agent.0", "agent0" },
	{ XC_R_NAME_SHAPE, NAME, "org.example.agent.0", "org.Example.agent.0" },
	{ XC_R_NAME_SHAPE, NAME, "org.ex-ample.agent.0", "org.-example.agent.0" },
	{ XC_R_NAME_SHAPE, NAME, "a.b", "org..agent.0" },
	{ XC_R_NAME_TOO_LONG, NAME, "org.example.agent.0",
	  "org.example.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaa.0" },
	{ XC_R_NAME_VERSION, NAME, "org.example.agent.version1", "org.example.agent" },
	{ XC_R_NAME_VERSION, NAME, "org.example.agent.v2", "org.example.agent.vx" },
	/* Only where the name is used with vchan: not for a name alone. */
	{ XC_R_NAME_VCHAN_PORT, NAME, "org.example.a.0", NULL },
	{ XC_R_NAME_VCHAN_PORT, XL, "channel = [ " DUMMY "\"connection=pty, name=org.example.a.0\" ]\n",
	  NULL },
	{ XC_R_NAME_VCHAN_PORT, VCHAN, "org.ex.a.0", "org.example.a.0" },
	{ XC_R_REG_MALFORMED, REGISTRY, "N: org.example.a.0\nC: a@b.org\nD: x\n",
	  "C: a@b.org\nD: no name\n" },
	{ XC_R_REG_MALFORMED, REGISTRY, "N: org.example.a.0\nC: a@b.org\nD: x\n",
	  "N: org.example.a.0\nN: org.example.b.0\nC: a@b.org\nD: x\n" },
	{ XC_R_REG_UNKNOWN_KEY, REGISTRY, "N: org.example.a.0\nC: a@b.org\nD: x\n",
	  "N: org.example.a.0\nC: a@b.org\nD: x\nX: what\n" },
	{ XC_R_REG_DUPLICATE, REGISTRY, "N: org.example.a.0\nC: a@b.org\nD: x\n",
	  "N: org.example.a.0\nC: a@b.org\nD: x\n\nN: org.example.a.0\nC: c@d.org\nD: y\n" },
	{ XC_R_REG_NO_CONTACT, REGISTRY, "N: org.example.a.0\nC: a@b.org\nD: x\n",
	  "N: org.example.a.0\nD: x\n" },
	{ XC_R_REG_NO_DESCRIPTION, REGISTRY, "N: org.example.a.0\nC: a@b.org\nD: x\n",
	  "N: org.example.a.0\nC: a@b.org\n" },
	{ XC_R_REG_CONTACT_ADDRESS, REGISTRY, "N: org.example.a.0\nC: Ann <a@b.org>\nD: x\n",
	  "N: org.example.a.0\nC: Ann at the office\nD: x\n" },
	{ XC_R_CFG_SYNTAX, XL, "name = \"a\"\n", "name = \"a\n" },
	{ XC_R_CFG_SYNTAX, XL, "vif = [ 'a', 'b' ]\n", "vif = [ 'a' 'b' ]\n" },
	{ XC_R_CFG_SYNTAX, XML, "<domain><name>a</name></domain>", "<domain><name>a</domain>" },
	{ XC_R_CFG_SYNTAX, XML, "<domain/>",
	  "<!DOCTYPE domain [<!ENTITY a \"b\">]><domain>&a;</domain>" },
	{ XC_R_CFG_MISSING_NAME, XL, "channel = [ " DUMMY "\"connection=pty, name=a.b.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty\" ]\n" },
	{ XC_R_CFG_UNKNOWN_KEY, XL, "channel = [ " DUMMY "\"connection=pty, name=a.b.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=a.b.0, colour=red\" ]\n" },
	{ XC_R_CFG_KIND_ALIAS, XL, "channel = [ " DUMMY "\"connection=pty, name=a.b.0\" ]\n",
	  "channel = [ " DUMMY "\"kind=pty, name=a.b.0\" ]\n" },
	{ XC_R_CFG_CONNECTION, XL, "channel = [ " DUMMY "\"connection=pty, name=a.b.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=serial, name=a.b.0\" ]\n" },
	{ XC_R_CFG_CONNECTION, XML,
	  "<domain><devices><channel type='pty'><target type='xen' name='a.b.0'/>"
	  "</channel></devices></domain>",
	  "<domain><devices><channel type='tcp'><target type='xen' name='a.b.0'/>"
	  "</channel></devices></domain>" },
	{ XC_R_CFG_SOCKET_NO_PATH, XL, "channel = [ " DUMMY SOCK("a.b.0", "/run/a") " ]\n",
	  "channel = [ " DUMMY "\"connection=socket, name=a.b.0\" ]\n" },
	{ XC_R_CFG_PTY_PATH, XL, "channel = [ " DUMMY "\"connection=pty, name=a.b.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=a.b.0, path=/run/x\" ]\n" },
	{ XC_R_CFG_DUPLICATE_NAME, XL,
	  "channel = [ " DUMMY SOCK("a.b.0", "/run/a") ", " SOCK("a.c.0", "/run/b") " ]\n",
	  "channel = [ " DUMMY SOCK("a.b.0", "/run/a") ", " SOCK("a.b.0", "/run/b") " ]\n" },
	{ XC_R_CFG_PATH_CLASH, XL,
	  "channel = [ " DUMMY SOCK("a.b.0", "/run/a") ", " SOCK("a.c.0", "/run/b") " ]\n",
	  "channel = [ " DUMMY SOCK("a.b.0", "/run/a") " ]\n",
	  "channel = [ " DUMMY SOCK("a.c.0", "/run/a") " ]\n" },
	{ XC_R_CFG_PATH_LENGTH, XL, "channel = [ " DUMMY SOCK("a.b.0", "/run/a") " ]\n",
	  "channel = [ " DUMMY SOCK("a.b.0", "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					    "aaaaaaaaaa") " ]\n" },
	{ XC_R_CFG_PATH_RELATIVE, XL, "channel = [ " DUMMY SOCK("a.b.0", "/run/a") " ]\n",
	  "channel = [ " DUMMY SOCK("a.b.0", "run/a") " ]\n" },
	/* 4.17's xl numbers the entries from 0: the placeholder's. */
	{ XC_R_CFG_DEVID, XL, NINE_AFTER_DUMMY " ]\n",
	  NINE_AFTER_DUMMY ", 'connection=pty,name=a.b.10' ]\n" },
	/* A fixed xl from 1; unknown: warned as for a fixed xl. */
	{ XC_R_CFG_DEVID, XL, NINE " ]\n", NINE ", 'connection=pty,name=a.b.10' ]\n", NULL,
	  "4.20.4" },
	{ XC_R_CFG_DEVID, XL, NULL, NINE ", 'connection=pty,name=a.b.10' ]\n", NULL, "" },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, "channel = [ " DUMMY "\"connection=pty, name=a.b.0\" ]\n",
	  PLAIN },
	/* Affected: any placeholder will do; fixed or unknown: no warning. */
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, UNUSED, PLAIN },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, TWICE, PLAIN },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, PLAIN, NULL, NULL, "4.20.4" },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, PLAIN, NULL, NULL, "4.18.5" },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, PLAIN, NULL, NULL, "4.20" },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, PLAIN, NULL, NULL, "" },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, NULL, PLAIN, NULL, "4.20.0" },
	{ XC_R_CFG_XL_FIRST_DROPPED, XL, NULL, PLAIN, NULL, "4.19.1" },
	/* Unknown: a note, whatever the first entry; known: none. */
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XL, NULL, PLAIN, NULL, "" },
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XL, NULL, UNUSED, NULL, "" },
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XL, NULL, TWICE, NULL, "4.20" },
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XL, NULL, PLAIN, NULL, "4.20.0+68-g35cb38b222-1" },
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XL, TWICE, NULL, NULL, "4.20.4" },
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XL, PLAIN, NULL },
	{ XC_R_CFG_XL_FIRST_UNKNOWN, XML,
	  "<domain><devices>" XML_CH("pty", "a.b.0") "</devices></domain>", NULL, NULL, "" },
	/* A placeholder that is created: first on a fixed xl, later in the
	 * list on any, in libvirt XML (libvirt never had the bug). */
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, PLAIN, UNUSED, NULL, "4.20.4" },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, PLAIN, TWICE, NULL, "4.21.0" },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, UNUSED, NULL },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, TWICE, NULL },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, UNUSED, NULL, NULL, "" },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, NULL, UNUSED, NULL, "4.19.2" },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XL, UNUSED,
	  "channel = [ \"connection=pty, name=a.b.0\", \"connection=pty, name=a.b.1\", "
	  "\"connection=pty, name=org.example.dummy\" ]\n" },
	{ XC_R_CFG_PLACEHOLDER_EXTRA, XML,
	  "<domain><devices>" XML_CH("pty", "a.b.0") "</devices></domain>",
	  "<domain><devices>" XML_CH("pty", "org.example.dummy") XML_CH("pty", "a.b.0")
	  "</devices></domain>" },
	/* The entry an affected xl drops is no duplicate and no path clash;
	 * on a fixed xl it is both. */
	{ XC_R_CFG_DUPLICATE_NAME, XL, TWICE, NULL },
	{ XC_R_CFG_DUPLICATE_NAME, XL, NULL, TWICE, NULL, "4.20.4" },
	{ XC_R_CFG_PATH_CLASH, XL, TWICE, NULL },
	{ XC_R_CFG_PATH_CLASH, XL, NULL, TWICE, NULL, "4.20.4" },
	/* An xl-only rule: a libvirt document never raises it. */
	{ XC_R_CFG_XL_FIRST_DROPPED, XML,
	  "<domain><devices><channel type='pty'><target type='xen' name='a.b.0'/>"
	  "</channel></devices></domain>",
	  NULL },
	{ XC_R_UNREGISTERED, XL,
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.agent.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=com.vendor.thing.0\" ]\n" },
	{ XC_R_NEAR_MISS, XL,
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.agent.1\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=org.exmaple.agent.0\" ]\n" },
	{ XC_R_NEAR_MISS, XL,
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.agent.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.config.0\" ]\n" },
	{ XC_R_NEAR_MISS, XL,
	  "channel = [ " DUMMY "\"connection=pty, name=com.other.thing.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.cloud.agent.0\" ]\n" },
	{ XC_R_NAME_MEANING, XL,
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.agent.0\" ]\n",
	  "channel = [ " DUMMY "\"connection=pty, name=org.example.agent.0\" ]\n",
	  "channel = [ " DUMMY SOCK("org.example.agent.0", "/run/x") " ]\n" },
};

/* Check text (and other, when given) and count the diagnostics of rule. */
static unsigned count_rule(enum xc_rule_id rule, enum input kind, const char *text,
			   const char *other, const char *xen, struct xc_diags *d)
{
	struct xc_registry *reg = NULL;
	struct xc_lint *l = NULL;
	struct xc_domcfg cfg[2];
	unsigned n = 0;
	size_t from;

	memset(cfg, 0, sizeof(cfg));
	xc_diags_init(d);
	if (xc_registry_new(&reg) < 0)
		tap_bail("out of memory");
	if (xc_registry_parse(reg, d, xc_diags_file(d, "base.registry"), registry_text,
			      strlen(registry_text)) < 0)
		tap_bail("out of memory");
	from = xc_registry_count(reg);
	if (kind == REGISTRY &&
	    xc_registry_parse(reg, d, xc_diags_file(d, "t.registry"), text, strlen(text)) < 0)
		tap_bail("out of memory");
	if (xc_lint_new(reg, d, &l) < 0)
		tap_bail("out of memory");
	if (!xen || *xen) {
		struct xc_xenver v;

		if (xc_xenver_parse(xen ? xen : "4.17.7", &v, NULL) < 0)
			tap_bail("bad version in a case: %s", xen);
		xc_lint_xen(l, &v);
	}
	if (kind == REGISTRY)
		xc_lint_registry(l, from);
	if (kind == NAME)
		xc_lint_name(l, text, (struct xc_loc){ xc_diags_file(d, "name"), 0, 0 });
	if (kind == VCHAN)
		xc_lint_vchan(l, text, (struct xc_loc){ xc_diags_file(d, "vchan"), 0, 0 });
	for (int i = 0; i < 2 && (kind == XL || kind == XML); i++) {
		const char *t = i == 0 ? text : other;
		unsigned f;

		if (!t)
			break;
		f = xc_diags_file(d, i == 0 ? "a.cfg" : "b.cfg");
		if ((kind == XL ? xc_xlcfg_parse(d, f, t, strlen(t), &cfg[i])
				: xc_virtxml_parse(d, f, t, strlen(t), &cfg[i])) < 0)
			tap_bail("out of memory");
		xc_lint_domain(l, &cfg[i]);
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].rule == rule)
			n++;
	xc_lint_free(l);
	xc_domcfg_clear(&cfg[0]);
	xc_domcfg_clear(&cfg[1]);
	xc_registry_free(reg);
	return n;
}

static void show(const struct xc_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		tap_diag("  %s:%u:%u: %s [%s]", xc_diags_file_name(d, d->v[i].loc.file),
			 d->v[i].loc.line, d->v[i].loc.col, d->v[i].message,
			 xc_rules[d->v[i].rule].id);
}

/* How many messages hold text. */
static unsigned count_in(const struct xc_diags *d, const char *text)
{
	unsigned n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += strstr(d->v[i].message, text) != NULL;
	return n;
}

/*
 * A config, then a running domain with the same socket path and the same
 * name on another connection, as the command checks them: both clashes are
 * reported at the config, the file being checked (2 tests).
 */
static void live_clash(struct xc_diags *d)
{
	static const char text[] = "name = \"new01\"\nchannel = [ " DUMMY
				   SOCK("org.example.agent.0", "/run/a.sock") ",\n"
				   "  \"connection=pty, name=org.example.pty.0\" ]\n";
	struct xc_domcfg cfg = { 0 }, live = { 0 };
	struct xc_lint *l = NULL;
	struct xc_chan *ch;
	unsigned f, lf, at_cfg = 0, at_live = 0;

	xc_diags_init(d);
	f = xc_diags_file(d, "new01.cfg");
	lf = xc_diags_file(d, "domain run01/devid 1");
	if (xc_lint_new(NULL, d, &l) < 0 || xc_xlcfg_parse(d, f, text, strlen(text), &cfg) < 0)
		tap_bail("out of memory");
	live.kind = XC_CFG_LIVE;
	live.domname = strdup("run01");
	ch = xc_domcfg_add(&live);
	if (!live.domname || !ch)
		tap_bail("out of memory");
	ch->name = strdup("org.example.pty.0");
	ch->connection = strdup("socket");
	ch->path = strdup("/run/a.sock");
	if (!ch->name || !ch->connection || !ch->path)
		tap_bail("out of memory");
	ch->loc = ch->name_loc = ch->conn_loc = ch->path_loc = (struct xc_loc){ lf, 0, 0 };
	xc_lint_domain(l, &cfg);
	xc_lint_domain(l, &live);
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].rule != XC_R_CFG_PATH_CLASH && d->v[i].rule != XC_R_NAME_MEANING)
			continue;
		at_cfg += d->v[i].loc.file == f;
		at_live += d->v[i].loc.file == lf;
	}
	if (!tap_ok(at_cfg == 2 && at_live == 0,
		    "a clash with a running domain is reported at the config"))
		show(d);
	tap_ok(count_in(d, "running domain run01") == 2, "and names the running domain");
	xc_lint_free(l);
	xc_domcfg_clear(&cfg);
	xc_domcfg_clear(&live);
	xc_diags_clear(d);
}

/*
 * What the first-channel messages say: the version, the versions on each
 * side, the placeholder and the channel it makes (9 tests).
 */
static void first_channel_messages(struct xc_diags *d)
{
	static const struct {
		const char *xen;
		enum input kind;
		const char *text;
		const char *says[3];
	} m[] = {
		{ NULL, XL, PLAIN,
		  { "Xen 4.17.7's xl drops the first channel entry",
		    "fixed in " XC_XL_FIRST_FIXED_TEXT, "name=org.example.dummy" } },
		{ "4.20.4", XL, UNUSED,
		  { "Xen 4.20.4's xl keeps the first channel entry",
		    "placeholder 'org.example.unused.0' is an extra pty channel (devid 1)",
		    "remove it" } },
		{ "4.20.4", XL, TWICE,
		  { "placeholder 'a.b.0' (its name is used again at a.cfg:1:",
		    "extra socket channel", XC_XL_FIRST_AFFECTED_TEXT } },
		{ "", XL, PLAIN,
		  { "xl of Xen " XC_XL_FIRST_AFFECTED_TEXT " drops the first channel entry",
		    "xl of " XC_XL_FIRST_FIXED_TEXT " keeps it",
		    "the Xen version is not known: give --xen-version" } },
		{ "4.20", XL, UNUSED,
		  { "placeholder first entry 'org.example.unused.0' works around xl of Xen "
		    XC_XL_FIRST_AFFECTED_TEXT,
		    "keeps it as an extra pty channel (devid 1)",
		    "Xen 4.20 does not say which: give --xen-version X.Y.Z" } },
		{ NULL, XML,
		  "<domain><devices>" XML_CH("pty", "a.b.0") XML_CH("pty", "org.example.dummy")
		  "</devices></domain>",
		  { "libvirt's libxl driver creates every channel",
		    "placeholder 'org.example.dummy' is an extra pty channel (devid 2)",
		    "remove it" } },
	};

	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		bool ok = true;

		count_rule(XC_R_COUNT, m[i].kind, m[i].text, NULL, m[i].xen, d);
		for (size_t k = 0; k < ARRAY_SIZE(m[i].says); k++)
			if (count_in(d, m[i].says[k]) != 1) {
				tap_diag("  no message says \"%s\"", m[i].says[k]);
				ok = false;
			}
		if (!tap_ok(ok, "first-channel message %zu (Xen %s)", i,
			    m[i].xen ? *m[i].xen ? m[i].xen : "unknown" : "4.17.7"))
			show(d);
		xc_diags_clear(d);
	}

	/* A placeholder in a running domain was created: an extra channel. */
	{
		struct xc_domcfg live = { .kind = XC_CFG_LIVE };
		struct xc_lint *l = NULL;
		struct xc_chan *ch;
		unsigned f;

		xc_diags_init(d);
		f = xc_diags_file(d, "domain run01/devid 1");
		ch = xc_domcfg_add(&live);
		if (xc_lint_new(NULL, d, &l) < 0 || !ch ||
		    !(ch->name = strdup("org.example.dummy")) ||
		    !(ch->connection = strdup("pty")))
			tap_bail("out of memory");
		ch->loc = ch->name_loc = ch->conn_loc = ch->path_loc =
			(struct xc_loc){ f, 0, 0 };
		xc_lint_domain(l, &live);
		if (!tap_ok(d->n == 1 && d->v[0].rule == XC_R_CFG_PLACEHOLDER_EXTRA &&
				    count_in(d, "channel 'org.example.dummy' is a placeholder the "
						"toolstack created: an extra pty channel") == 1,
			    "a placeholder in a running domain is an extra channel"))
			show(d);
		xc_lint_free(l);
		xc_domcfg_clear(&live);
		xc_diags_clear(d);
	}
	/* xc_lint_xen(NULL) forgets a version given before. */
	{
		struct xc_domcfg cfg = { 0 };
		struct xc_lint *l = NULL;
		struct xc_xenver v;

		xc_diags_init(d);
		if (xc_lint_new(NULL, d, &l) < 0 || xc_xenver_parse("4.17", &v, NULL) < 0 ||
		    xc_xlcfg_parse(d, xc_diags_file(d, "a.cfg"), PLAIN, strlen(PLAIN),
				   &cfg) < 0)
			tap_bail("out of memory");
		xc_lint_xen(l, &v);
		xc_lint_xen(l, NULL);
		xc_lint_domain(l, &cfg);
		tap_ok(d->n == 1 && d->v[0].rule == XC_R_CFG_XL_FIRST_UNKNOWN,
		       "no version after a version: unknown");
		xc_lint_free(l);
		xc_domcfg_clear(&cfg);
		xc_diags_clear(d);
	}
	/* The descriptions name no single version as the one with the bug. */
	tap_ok(!strstr(xc_rules[XC_R_CFG_XL_FIRST_DROPPED].description, "4.17") &&
		       strstr(xc_rules[XC_R_CFG_XL_FIRST_DROPPED].description,
			      XC_XL_FIRST_AFFECTED_TEXT),
	       "config-xl-first-dropped's description gives the affected versions");
}

/* With name-version off: an unversioned name raises nothing, a bad one
 * still raises name-shape (2 tests). */
static void n_disabled_check(struct xc_diags *d)
{
	struct xc_lint *l = NULL;
	unsigned f = xc_diags_file(d, "name");

	if (xc_lint_new(NULL, d, &l) < 0)
		tap_bail("out of memory");
	xc_lint_name(l, "org.example.agent", (struct xc_loc){ f, 0, 0 });
	tap_ok(d->n == 0 && d->count[XC_SEV_WARNING] == 0,
	       "a rule turned off is not reported nor counted");
	xc_lint_name(l, "Agent", (struct xc_loc){ f, 0, 0 });
	tap_ok(d->n == 1 && d->v[0].rule == XC_R_NAME_SHAPE, "the other rules still run");
	xc_lint_free(l);
}

/* The rule table is complete: every rule has an id and a description, and
 * no two rules share an id. */
static bool table_complete(void)
{
	bool ok = true;

	for (size_t r = 0; r < XC_R_COUNT; r++) {
		if (!xc_rules[r].id || !xc_rules[r].description) {
			tap_diag("rule %zu has no id or no description", r);
			ok = false;
			continue;
		}
		for (size_t s = 0; s < r; s++)
			if (xc_rules[s].id && streq(xc_rules[r].id, xc_rules[s].id)) {
				tap_diag("rules %zu and %zu are both %s", s, r, xc_rules[r].id);
				ok = false;
			}
	}
	return ok;
}

int main(void)
{
	bool has_pass[XC_R_COUNT] = { false }, has_fail[XC_R_COUNT] = { false };
	unsigned planned = XC_R_COUNT + 2 + 5 + 2 + 9;
	struct xc_diags d;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		planned += (cases[i].pass != NULL) + (cases[i].fail != NULL);
	tap_plan(planned);
	if (!tap_ok(table_complete(), "every rule has a unique id and a description"))
		return tap_done();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct rule_case *c = &cases[i];
		const char *id = xc_rules[c->rule].id;
		unsigned n;

		if (c->pass) {
			has_pass[c->rule] = true;
			n = count_rule(c->rule, c->kind, c->pass, NULL, c->xen, &d);
			if (!tap_ok(n == 0, "%s: passing case %zu", id, i))
				show(&d);
			xc_diags_clear(&d);
		}
		if (c->fail) {
			has_fail[c->rule] = true;
			n = count_rule(c->rule, c->kind, c->fail, c->other, c->xen, &d);
			if (!tap_ok(n >= 1, "%s: failing case %zu", id, i))
				show(&d);
			xc_diags_clear(&d);
		}
	}
	for (size_t r = 0; r < XC_R_COUNT; r++)
		if (!tap_ok(has_pass[r] && has_fail[r], "%s has a passing and a failing case",
			    xc_rules[r].id))
			tap_diag("  passing case: %s, failing case: %s", has_pass[r] ? "yes" : "no",
				 has_fail[r] ? "yes" : "no");
	{
		/* Messages are printable even when the input is not. */
		static const char evil[] = "channel = [ \"connection=pty, name=a.\x1b[31m.0\" ]\n";
		bool ok = true;

		count_rule(XC_R_NAME_SHAPE, XL, evil, NULL, NULL, &d);
		for (size_t i = 0; i < d.n; i++)
			for (const char *p = d.v[i].message; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					ok = false;
		tap_ok(ok && d.n > 0, "guest or file text in messages is escaped");
		xc_diags_clear(&d);
	}
	{
		/* -v: the name-vchan-port note on every name, once per name. */
		struct xc_lint *l = NULL;
		struct xc_loc loc = { 0, 0, 0 };

		xc_diags_init(&d);
		loc.file = xc_diags_file(&d, "name");
		if (xc_lint_new(NULL, &d, &l) < 0)
			tap_bail("out of memory");
		xc_lint_vchan_notes(l, true);
		xc_lint_name(l, "org.example.a.0", loc);
		xc_lint_name(l, "org.example.a.0", loc);
		xc_lint_vchan(l, "org.example.a.0", loc);
		xc_lint_name(l, "org.ex.a.0", loc);
		tap_ok(d.n == 1 && d.v[0].rule == XC_R_NAME_VCHAN_PORT,
		       "with every vchan note on, a long name is noted once");
		xc_lint_free(l);
		xc_diags_clear(&d);
	}
	live_clash(&d);
	first_channel_messages(&d);
	{
		/* A rule turned off is neither stored nor counted. */
		int r = xc_rule_find("name-version");

		tap_ok(r == XC_R_NAME_VERSION, "xc_rule_find finds a rule by its id");
		tap_ok(xc_rule_find("no-such-rule") == -ENOENT &&
			       xc_rule_find("") == -ENOENT && xc_rule_find("NAME-VERSION") == -ENOENT,
		       "xc_rule_find: an unknown id is -ENOENT");
		xc_diags_init(&d);
		xc_diags_disable(&d, XC_R_NAME_VERSION);
		n_disabled_check(&d);
		xc_diags_clear(&d);
	}
	return tap_done();
}
