/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for lib/virtxml.c: the input is a whole file.  It is parsed,
 * then every rule runs over what was read; every message must be printable
 * ASCII and every location inside the input.
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz"; make check links it with
 * replay.c instead and replays tests/fuzz/corpus/virtxml.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "registry.h"
#include "virtxml.h"
#include "xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_diags(const struct xc_diags *d, size_t size)
{
	for (size_t i = 0; i < d->n; i++) {
		for (const char *p = d->v[i].message; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				abort();
		if (d->v[i].loc.line > size + 1 || d->v[i].loc.col > size + 2)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xc_registry *reg = NULL;
	struct xc_lint *l = NULL;
	struct xc_domcfg cfg;
	struct xc_diags d;
	unsigned f;

	memset(&cfg, 0, sizeof(cfg));
	xc_diags_init(&d);
	f = xc_diags_file(&d, "input");
	if (xc_registry_new(&reg) < 0)
		return 0;
	if (xc_lint_new(reg, &d, &l) < 0) {
		xc_registry_free(reg);
		return 0;
	}
	if (xc_virtxml_parse(&d, f, (const char *)data, size, &cfg) == 0)
		xc_lint_domain(l, &cfg);
	check_diags(&d, size);
	xc_lint_free(l);
	xc_domcfg_clear(&cfg);
	xc_registry_free(reg);
	xc_diags_clear(&d);
	return 0;
}
