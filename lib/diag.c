/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "untrusted.h"
#include "xenver.h"

/* A limit, in a description. */
#define STR_(x) #x
#define STR(x) STR_(x)

const struct xc_rule xc_rules[XC_R_COUNT] = {
	[XC_R_NAME_SYNTAX] = { "name-syntax", XC_SEV_ERROR,
			       "a channel name holds a comma, '=', a quote, a blank or a control "
			       "character, which break xl's key=value list" },
	[XC_R_NAME_SHAPE] = { "name-shape", XC_SEV_ERROR,
			      "a channel name is not reverse-domain: two or more labels of "
			      "[a-z0-9-] separated by '.', no label empty or starting or "
			      "ending with '-'" },
	[XC_R_NAME_TOO_LONG] = { "name-too-long", XC_SEV_ERROR,
				 "a channel name is longer than " STR(XC_NAME_MAX)
				 " bytes" },
	[XC_R_NAME_VERSION] = { "name-version", XC_SEV_WARNING,
				"a channel name's last label is not a version (digits, vN or "
				"versionN)" },
	[XC_R_NAME_VCHAN_PORT] = { "name-vchan-port", XC_SEV_NOTE,
				   "a channel name used with vchan is longer than the "
				   STR(XC_VCHAN_PORT_MAX) " bytes a vchan port holds with "
				   "5-digit domids: vchan endpoints use a derived short "
				   "port" },
	[XC_R_REG_MALFORMED] = { "registry-malformed", XC_SEV_ERROR,
				 "a registry record has no N:, an empty or repeated field, or "
				 "text outside any field" },
	[XC_R_REG_UNKNOWN_KEY] = { "registry-unknown-key", XC_SEV_WARNING,
				   "a registry field has a key other than N, C and D" },
	[XC_R_REG_DUPLICATE] = { "registry-duplicate", XC_SEV_ERROR,
				 "a name is registered more than once" },
	[XC_R_REG_NO_CONTACT] = { "registry-no-contact", XC_SEV_WARNING,
				  "a registry record has no C: (contact)" },
	[XC_R_REG_NO_DESCRIPTION] = { "registry-no-description", XC_SEV_WARNING,
				      "a registry record has no D: (description)" },
	[XC_R_REG_CONTACT_ADDRESS] = { "registry-contact-address", XC_SEV_WARNING,
				       "a registry contact has no email address or URL" },
	[XC_R_CFG_SYNTAX] = { "config-syntax", XC_SEV_ERROR,
			      "a domain config cannot be parsed" },
	[XC_R_CFG_MISSING_NAME] = { "config-missing-name", XC_SEV_ERROR,
				    "a channel has no name" },
	[XC_R_CFG_UNKNOWN_KEY] = { "config-unknown-key", XC_SEV_ERROR,
				   "a channel spec has a key xl does not know (xl refuses the "
				   "config)" },
	[XC_R_CFG_KIND_ALIAS] = { "config-kind-alias", XC_SEV_NOTE,
				  "a channel spec says kind=, the spelling of Xen's channel "
				  "document, where xl reads connection=" },
	[XC_R_CFG_CONNECTION] = { "config-connection", XC_SEV_ERROR,
				  "a channel's connection is missing or not socket or pty" },
	[XC_R_CFG_SOCKET_NO_PATH] = { "config-socket-no-path", XC_SEV_ERROR,
				      "a socket channel has no path" },
	[XC_R_CFG_PTY_PATH] = { "config-pty-path", XC_SEV_WARNING,
				"a pty channel has a path, which is ignored" },
	[XC_R_CFG_DUPLICATE_NAME] = { "config-duplicate-name", XC_SEV_ERROR,
				      "a domain has two channels of the same name" },
	[XC_R_CFG_PATH_CLASH] = { "config-path-clash", XC_SEV_ERROR,
				  "two channels (in one domain or several) use the same socket "
				  "path" },
	[XC_R_CFG_PATH_LENGTH] = { "config-path-length", XC_SEV_ERROR,
				   "a socket path does not fit sun_path ("
				   STR(XC_SUN_PATH_MAX) " bytes with the NUL)" },
	[XC_R_CFG_PATH_RELATIVE] = { "config-path-relative", XC_SEV_ERROR,
				     "a socket path is relative" },
	[XC_R_CFG_DEVID] = { "config-devid", XC_SEV_WARNING,
			     "a channel gets devid 10 or above, which Linux hvc_xen cannot "
			     "number" },
	[XC_R_CFG_XL_FIRST_DROPPED] = { "config-xl-first-dropped", XC_SEV_WARNING,
					"an xl config's first channel entry is no placeholder, "
					"and xl of the Xen checked for drops it (Xen "
					XC_XL_FIRST_AFFECTED_TEXT ")" },
	[XC_R_CFG_XL_FIRST_UNKNOWN] = { "config-xl-first-unknown", XC_SEV_NOTE,
					"the Xen version checked for does not say whether xl "
					"drops an xl config's first channel entry: both "
					"behaviours are explained" },
	[XC_R_CFG_PLACEHOLDER_EXTRA] = { "config-placeholder-extra", XC_SEV_WARNING,
					 "a placeholder channel is created, an extra channel "
					 "in the guest: the first xl entry on a Xen whose xl "
					 "keeps it (" XC_XL_FIRST_FIXED_TEXT "), a later "
					 "entry, libvirt XML, a running domain" },
	[XC_R_UNREGISTERED] = { "unregistered", XC_SEV_WARNING,
				"a channel name is in no registry" },
	[XC_R_NEAR_MISS] = { "near-miss", XC_SEV_WARNING,
			     "a channel name is not registered but close to a name that is" },
	[XC_R_NAME_MEANING] = { "name-meaning", XC_SEV_WARNING,
				"one channel name is used with different connections in "
				"different domains" },
};

const char *xc_severity_name(enum xc_severity s)
{
	switch (s) {
	case XC_SEV_ERROR:
		return "error";
	case XC_SEV_WARNING:
		return "warning";
	default:
		return "note";
	}
}

int xc_rule_find(const char *id)
{
	for (size_t r = 0; r < XC_R_COUNT; r++)
		if (streq(xc_rules[r].id, id))
			return (int)r;
	return -ENOENT;
}

void xc_diags_disable(struct xc_diags *d, enum xc_rule_id rule)
{
	d->off[rule] = true;
}

void xc_diags_init(struct xc_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void xc_diags_clear(struct xc_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].message);
	for (size_t i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	for (size_t i = 0; i < d->nstrs; i++)
		free(d->strs[i]);
	free(d->v);
	free(d->files);
	free(d->strs);
	memset(d, 0, sizeof(*d));
}

/* Grow *v (of *cap elements of size sz) to hold n + 1. */
static bool reserve(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*v, ncap * sz);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

static char placeholder[] = "?";

unsigned xc_diags_file(struct xc_diags *d, const char *name)
{
	char *s;

	if (!reserve((void **)&d->files, &d->files_cap, d->nfiles, sizeof(*d->files))) {
		d->oom = true;
		return 0;
	}
	s = xc_escape(name, XC_DIAG_FILE_MAX);
	if (!s) {
		d->oom = true;
		s = strdup("?");
		if (!s)
			return 0;
	}
	d->files[d->nfiles] = s;
	return (unsigned)d->nfiles++;
}

const char *xc_diags_file_name(const struct xc_diags *d, unsigned file)
{
	return file < d->nfiles ? d->files[file] : placeholder;
}

const char *xc_diags_esc(struct xc_diags *d, const char *s, size_t max)
{
	char *e;

	if (!s)
		return "(none)";
	if (!reserve((void **)&d->strs, &d->strs_cap, d->nstrs, sizeof(*d->strs))) {
		d->oom = true;
		return placeholder;
	}
	e = xc_escape(s, max);
	if (!e) {
		d->oom = true;
		return placeholder;
	}
	d->strs[d->nstrs++] = e;
	return e;
}

const char *xc_diags_where(struct xc_diags *d, struct xc_loc loc)
{
	char *s;

	if (!reserve((void **)&d->strs, &d->strs_cap, d->nstrs, sizeof(*d->strs))) {
		d->oom = true;
		return placeholder;
	}
	if (loc.line) {
		if (asprintf(&s, "%s:%u:%u", xc_diags_file_name(d, loc.file), loc.line,
			     loc.col) < 0)
			s = NULL;
	} else {
		s = strdup(xc_diags_file_name(d, loc.file));
	}
	if (!s) {
		d->oom = true;
		return placeholder;
	}
	d->strs[d->nstrs++] = s;
	return s;
}

void xc_diag(struct xc_diags *d, enum xc_rule_id rule, struct xc_loc loc, const char *fmt,
	     ...)
{
	struct xc_diag *g;
	va_list ap;
	char *msg;
	int r;

	if (d->off[rule])
		return;
	if (!reserve((void **)&d->v, &d->cap, d->n, sizeof(*d->v))) {
		d->oom = true;
		return;
	}
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		d->oom = true;
		return;
	}
	g = &d->v[d->n];
	g->loc = loc;
	g->rule = rule;
	g->severity = xc_rules[rule].severity;
	g->message = msg;
	g->seq = d->n++;
	d->count[g->severity]++;
}

static int cmp_diag(const void *pa, const void *pb)
{
	const struct xc_diag *a = pa, *b = pb;

	if (a->loc.file != b->loc.file)
		return a->loc.file < b->loc.file ? -1 : 1;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void xc_diags_sort(struct xc_diags *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), cmp_diag);
}
