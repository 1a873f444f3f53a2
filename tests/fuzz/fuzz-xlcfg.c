/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for lib/xlcfg.c: the input is a whole file.  It is parsed,
 * then every rule runs over what was read; every message must be printable
 * ASCII and every location inside the input (diag-check.h).
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz"; make check links it with
 * replay.c instead and replays tests/fuzz/corpus/xlcfg.
 */
#include <stdint.h>

#include "diag-check.h"
#include "xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_session s;

	if (fuzz_session_open(&s) < 0)
		return 0;
	/* The Xen the config is for: each of the first-channel answers. */
	fuzz_session_xen(&s, size);
	if (xc_xlcfg_parse(&s.d, s.file, (const char *)data, size, &s.cfg) == 0)
		xc_lint_domain(s.l, &s.cfg);
	fuzz_session_close(&s, size);
	return 0;
}
