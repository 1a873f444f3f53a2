/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for lib/registry.c: the input is a whole file.  It is parsed,
 * then every rule runs over what was read; every message must be printable
 * ASCII and every location inside the input (diag-check.h).
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz"; make check links it with
 * replay.c instead and replays tests/fuzz/corpus/registry.
 */
#include <stdint.h>
#include <stdlib.h>

#include "diag-check.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_session s;

	if (fuzz_session_open(&s) < 0)
		return 0;
	if (xc_registry_parse(s.reg, &s.d, s.file, (const char *)data, size) == 0) {
		xc_lint_registry(s.l, 0);
		/* Every registered name finds itself; near misses never crash. */
		for (size_t i = 0; i < xc_registry_count(s.reg); i++) {
			const struct xc_reg_entry *e = xc_registry_entry(s.reg, i);

			if (e->name && !xc_registry_find(s.reg, e->name))
				abort();
			if (e->name)
				(void)xc_registry_near(s.reg, e->name);
		}
	}
	fuzz_session_close(&s, size);
	return 0;
}
