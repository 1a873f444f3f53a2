/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "untrusted.h"
#include "virtxml.h"

struct ctx {
	unsigned file;
	const char *buf;
	size_t len;
	struct xc_domcfg *cfg;
	int oom;
};

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && streq((const char *)n->name, name);
}

/*
 * The column of value in line line of the document: the first occurrence of
 * attr='value' or attr="value", else 1.  libxml2 gives lines, not columns.
 */
static unsigned column_of(const struct ctx *c, unsigned line, const char *attr,
			  const char *value)
{
	size_t pos = 0, alen = strlen(attr), vlen = strlen(value);
	const char *l, *end;

	for (unsigned i = 1; i < line && pos < c->len; i++) {
		const char *nl = memchr(c->buf + pos, '\n', c->len - pos);

		if (!nl)
			return 1;
		pos = (size_t)(nl - c->buf) + 1;
	}
	l = c->buf + pos;
	end = memchr(l, '\n', c->len - pos);
	if (!end)
		end = c->buf + c->len;
	for (const char *s = l; s + alen + 2 + vlen <= end; s++) {
		if (memcmp(s, attr, alen) != 0 || (s > l && !strchr(" \t\r", s[-1])))
			continue;
		const char *q = s + alen;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != '=')
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && (*q == '\'' || *q == '"') && q + 1 + vlen <= end &&
		    memcmp(q + 1, value, vlen) == 0)
			return (unsigned)(q + 1 - l) + 1;
	}
	return 1;
}

static char *prop(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s;

	if (!v)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

static struct xc_loc loc_of(const struct ctx *c, const xmlNode *n, const char *attr,
			    const char *value)
{
	long line = xmlGetLineNo(n);
	unsigned l = line > 0 && line < INT_MAX ? (unsigned)line : 1;

	return (struct xc_loc){ c->file, l, value ? column_of(c, l, attr, value) : 1 };
}

static void channel(struct ctx *c, xmlNode *n)
{
	_cleanup_free_ char *type = prop(n, "type");
	xmlNode *target = NULL, *source = NULL;
	_cleanup_free_ char *ttype = NULL;
	struct xc_chan *ch;

	for (xmlNode *k = n->children; k; k = k->next) {
		if (is(k, "target") && !target)
			target = k;
		else if (is(k, "source") && !source)
			source = k;
	}
	if (!target)
		return;
	ttype = prop(target, "type");
	if (!ttype || !streq(ttype, "xen"))
		return; /* virtio or guestfwd: not a Xen PV channel */
	ch = xc_domcfg_add(c->cfg);
	if (!ch) {
		c->oom = 1;
		return;
	}
	ch->loc = loc_of(c, n, "type", type);
	ch->name_loc = ch->conn_loc = ch->path_loc = ch->loc;
	ch->name = prop(target, "name");
	if (ch->name)
		ch->name_loc = loc_of(c, target, "name", ch->name);
	if (type && streq(type, "unix"))
		ch->connection = strdup("socket");
	else if (type && streq(type, "pty"))
		ch->connection = strdup("pty");
	else if (type)
		ch->connection = strdup(type);
	/*
	 * Only a unix channel's source path is configuration.  A pty channel's
	 * is where libvirt reports the pty it allocated (virsh dumpxml of a
	 * running domain); libvirt ignores it on input.
	 */
	if (source && type && streq(type, "unix")) {
		ch->path = prop(source, "path");
		if (ch->path)
			ch->path_loc = loc_of(c, source, "path", ch->path);
	}
}

static void walk(struct ctx *c, xmlNode *n, int depth)
{
	/* <domain><devices><channel>: nothing deeper matters. */
	for (; n && depth < 3; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (depth == 1 && is(n, "name") && !c->cfg->domname) {
			xmlChar *t = xmlNodeGetContent(n);

			if (t) {
				c->cfg->domname = strdup((const char *)t);
				xmlFree(t);
			}
		} else if (depth == 2 && is(n, "channel")) {
			channel(c, n);
		} else if (depth == 1 && is(n, "devices")) {
			walk(c, n->children, depth + 1);
		}
	}
}

static void silent(void *data, xmlErrorPtr err)
{
}

int xc_virtxml_parse(struct xc_diags *d, unsigned file, const char *buf, size_t len,
		     struct xc_domcfg *cfg)
{
	struct ctx c = { .file = file, .buf = buf, .len = len, .cfg = cfg };
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
		   XML_PARSE_NOCDATA;
	xmlParserCtxtPtr pc;
	xmlDocPtr doc;
	xmlNode *root;

#ifdef XML_PARSE_NO_XXE
	opts |= XML_PARSE_NO_XXE;
#endif
	cfg->kind = XC_CFG_LIBVIRT;
	cfg->file = file;
	if (len > INT_MAX) {
		xc_diag(d, XC_R_CFG_SYNTAX, (struct xc_loc){ file, 1, 1 }, "document too large");
		return 0;
	}
	xmlSetStructuredErrorFunc(NULL, silent);
	pc = xmlNewParserCtxt();
	if (!pc)
		return -ENOMEM;
	doc = xmlCtxtReadMemory(pc, buf, (int)len, NULL, NULL, opts);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(pc);
		unsigned line = e && e->line > 0 ? (unsigned)e->line : 1;
		unsigned col = e && e->int2 > 0 ? (unsigned)e->int2 : 1;
		_cleanup_free_ char *msg = strdup(e && e->message ? e->message : "not XML");

		if (msg && *msg && msg[strlen(msg) - 1] == '\n')
			msg[strlen(msg) - 1] = '\0';
		xc_diag(d, XC_R_CFG_SYNTAX, (struct xc_loc){ file, line, col },
			"not well-formed XML: %s",
			xc_diags_esc(d, msg ? msg : "?", XC_DIAG_TEXT_MAX));
		xmlFreeParserCtxt(pc);
		return 0;
	}
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset) {
		/* No entity can be declared, so none can be expanded. */
		xc_diag(d, XC_R_CFG_SYNTAX, (struct xc_loc){ file, 1, 1 },
			"a DOCTYPE is not accepted in a libvirt domain document");
	} else if (!root || !is(root, "domain")) {
		xc_diag(d, XC_R_CFG_SYNTAX,
			(struct xc_loc){ file, root ? (unsigned)xmlGetLineNo(root) : 1, 1 },
			"the root element is not <domain>");
	} else {
		walk(&c, root->children, 1);
	}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(pc);
	return c.oom ? -ENOMEM : 0;
}
