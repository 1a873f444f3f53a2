/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "macro.h"
#include "parse.h"
#include "untrusted.h"

/* Longest domain name xenchan accepts from xenstore (libxl allows any). */
#define NAME_MAX_LEN 256

bool xc_uuid_valid(const char *s)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != XC_UUID_LEN)
		return false;
	for (size_t i = 0; i < XC_UUID_LEN; i++) {
		char c = s[i];

		if (form[i] == '-') {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

void xc_domain_clear(struct xc_domain *d)
{
	free(d->name);
	memset(d, 0, sizeof(*d));
}

static int domain_read(struct xc_store *st, uint32_t domid, bool uuid, struct xc_domain *d)
{
	char path[64];
	_cleanup_free_ char *vm = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	r = xc_store_read(st, XBT_NULL, path, NAME_MAX_LEN, &d->name);
	if (r == -ENOENT) {
		/* No name: does the domain exist at all? */
		_cleanup_free_ char *v = NULL;

		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		r = xc_store_read(st, XBT_NULL, path, XC_VALUE_MAX, &v);
		if (r < 0)
			return r;
	} else if (r < 0 && r != -EFBIG && r != -EBADMSG) {
		return r;
	}
	if (!uuid)
		return 0;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	if (xc_store_read(st, XBT_NULL, path, 64, &vm) == 0 && strneq(vm, "/vm/", 4) &&
	    xc_uuid_valid(vm + 4)) {
		for (int i = 0; i <= XC_UUID_LEN; i++)
			d->uuid[i] = vm[4 + i] >= 'A' && vm[4 + i] <= 'F' ? vm[4 + i] + 32
									 : vm[4 + i];
	}
	return 0;
}

int xc_domain_read(struct xc_store *st, uint32_t domid, struct xc_domain *d)
{
	return domain_read(st, domid, true, d);
}

void xc_domain_array_free(struct xc_domain *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		xc_domain_clear(&v[i]);
	free(v);
}

static int domain_list(struct xc_store *st, bool uuid, struct xc_domain **out, size_t *n)
{
	_cleanup_strv_free_ char **ids = NULL;
	struct xc_domain *v;
	unsigned nids = 0;
	size_t k = 0;
	int r;

	r = xc_store_list(st, XBT_NULL, "/local/domain", &ids, &nids);
	if (r == -ENOENT)
		nids = 0;
	else if (r < 0)
		return r;
	v = calloc(nids ? nids : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < nids; i++) {
		uint32_t domid;

		/* Not a domid: nothing libxl would write; ignore it. */
		if (xc_parse_domid(ids[i], &domid) < 0)
			continue;
		r = domain_read(st, domid, uuid, &v[k]);
		if (r == -ENOENT) /* destroyed while we listed */
			continue;
		if (r < 0) {
			xc_domain_array_free(v, k);
			return r;
		}
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

int xc_domain_list(struct xc_store *st, struct xc_domain **out, size_t *n)
{
	return domain_list(st, true, out, n);
}

int xc_domain_list_names(struct xc_store *st, struct xc_domain **out, size_t *n)
{
	return domain_list(st, false, out, n);
}

int xc_domain_spec_parse(const char *arg, struct xc_domain_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	if (!arg || !*arg)
		return -EINVAL;
	if (strneq(arg, "id:", 3)) {
		spec->key = XC_DOM_BY_ID;
		return xc_parse_domid(arg + 3, &spec->domid) < 0 ? -EINVAL : 0;
	}
	if (strneq(arg, "name:", 5)) {
		spec->key = XC_DOM_BY_NAME;
		spec->text = arg + 5;
		return *spec->text ? 0 : -EINVAL;
	}
	if (strneq(arg, "uuid:", 5)) {
		spec->key = XC_DOM_BY_UUID;
		spec->text = arg + 5;
		return xc_uuid_valid(spec->text) ? 0 : -EINVAL;
	}
	if (xc_uuid_valid(arg)) {
		spec->key = XC_DOM_BY_UUID;
		spec->text = arg;
		return 0;
	}
	spec->text = arg;
	if (xc_parse_domid(arg, &spec->domid) == 0)
		spec->key = XC_DOM_BY_ID_OR_NAME;
	else
		spec->key = XC_DOM_BY_NAME;
	return 0;
}

int xc_domain_match(const struct xc_domain_spec *spec, const struct xc_domain *doms,
		    size_t n)
{
	int found = -ENOENT;

	for (size_t i = 0; i < n; i++) {
		const struct xc_domain *d = &doms[i];
		bool hit;

		switch (spec->key) {
		case XC_DOM_BY_ID:
			hit = d->domid == spec->domid;
			break;
		case XC_DOM_BY_UUID:
			hit = strcasecmp(d->uuid, spec->text) == 0;
			break;
		case XC_DOM_BY_NAME:
			hit = d->name && streq(d->name, spec->text);
			break;
		default: /* a number: an id, or the name of a domain named like one */
			hit = d->domid == spec->domid || (d->name && streq(d->name, spec->text));
			break;
		}
		if (!hit)
			continue;
		if (found >= 0)
			return -ENOTUNIQ;
		found = (int)i;
	}
	return found;
}

/*
 * A guest may not read another domain's directory (dom0's above all): the
 * id it was given is taken as it is, with no name and no UUID, as the
 * listen path takes it.  Whatever the caller does next (a vchan endpoint
 * granted to it) tells whether anything is there.
 */
static int unreadable_domain(uint32_t domid, struct xc_domain *out)
{
	memset(out, 0, sizeof(*out));
	out->domid = domid;
	return 0;
}

int xc_domain_resolve(struct xc_store *st, const char *arg, struct xc_domain *out)
{
	struct xc_domain_spec spec;
	struct xc_domain *doms = NULL;
	size_t n = 0;
	int r, i;

	r = xc_domain_spec_parse(arg, &spec);
	if (r < 0)
		return r;
	if (spec.key == XC_DOM_BY_ID) {
		/* One domain by id needs no listing. */
		r = xc_domain_read(st, spec.domid, out);
		return r == -EACCES ? unreadable_domain(spec.domid, out) : r;
	}
	r = xc_domain_list(st, &doms, &n);
	/* A guest may list no domain and read no name: a number is an id. */
	if (r == -EACCES && spec.key == XC_DOM_BY_ID_OR_NAME) {
		r = xc_domain_read(st, spec.domid, out);
		return r == -EACCES ? unreadable_domain(spec.domid, out) : r;
	}
	if (r < 0)
		return r;
	i = xc_domain_match(&spec, doms, n);
	if (i >= 0) {
		*out = doms[i];
		memset(&doms[i], 0, sizeof(doms[i]));
	}
	xc_domain_array_free(doms, n);
	return i < 0 ? i : 0;
}
