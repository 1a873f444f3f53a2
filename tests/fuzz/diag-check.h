/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the registry checker's fuzz targets (fuzz-registry.c, fuzz-xlcfg.c,
 * fuzz-virtxml.c) share: a checking session over one input, and the
 * properties every diagnostic must have whatever the input: a message of
 * printable ASCII only, and a location inside the input.  A target opens a
 * session, parses the input as s.file and runs the rules, then closes it,
 * which checks the diagnostics (abort() on a violation) and frees it all.
 */
#ifndef XENCHAN_FUZZ_DIAG_CHECK_H
#define XENCHAN_FUZZ_DIAG_CHECK_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "domcfg.h"
#include "lint.h"
#include "registry.h"
#include "xenver.h"

struct fuzz_session {
	struct xc_diags d;
	unsigned file; /* the input's file id in d */
	struct xc_registry *reg; /* empty until the target parses into it */
	struct xc_lint *l;
	struct xc_domcfg cfg; /* for a domain config target */
};

/* 0, or -ENOMEM: then nothing is left to close and the input is skipped. */
static int fuzz_session_open(struct fuzz_session *s)
{
	memset(s, 0, sizeof(*s));
	xc_diags_init(&s->d);
	s->file = xc_diags_file(&s->d, "input");
	if (xc_registry_new(&s->reg) < 0 || xc_lint_new(s->reg, &s->d, &s->l) < 0) {
		xc_registry_free(s->reg);
		xc_diags_clear(&s->d);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Check the configs for a Xen whose xl drops the first channel entry, one
 * whose xl keeps it, or no known Xen, by the input's size: every input
 * meets one, the corpus all three.
 */
_unused_ static void fuzz_session_xen(struct fuzz_session *s, size_t size)
{
	static const char *const versions[] = { NULL, "4.17.5", "4.20.4" };
	const char *v = versions[size % 3];
	struct xc_xenver x;

	if (v && xc_xenver_parse(v, &x, NULL) == 0)
		xc_lint_xen(s->l, &x);
}

/* Check the diagnostics about an input of size bytes, then free s. */
static void fuzz_session_close(struct fuzz_session *s, size_t size)
{
	const struct xc_diags *d = &s->d;

	for (size_t i = 0; i < d->n; i++) {
		for (const char *p = d->v[i].message; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				abort();
		if (d->v[i].loc.line > size + 1 || d->v[i].loc.col > size + 2)
			abort();
	}
	xc_lint_free(s->l);
	xc_domcfg_clear(&s->cfg);
	xc_registry_free(s->reg);
	xc_diags_clear(&s->d);
}

#endif
