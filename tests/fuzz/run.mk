# make fuzz-run: build every libFuzzer target with clang and fuzz each for
# FUZZ_SECONDS from a scratch copy of its checked-in corpus
# (tests/fuzz/run.sh); any crash, sanitizer report, leak or hang fails it.
# CI runs it after make check (scripts/test.sh); it is not part of make check.
# clang and its libFuzzer runtime come from scripts/install-deps.sh.
# (Included from tests/fuzz/fuzz.mk.)
#
#	make fuzz-run FUZZ_SECONDS=60
#	make fuzz-run FUZZ_RUN_TARGETS=channel FUZZ_ARGS=-seed=1234
#
# Each binary is compiled in one command from its target and the lib/ sources
# it needs, all instrumented (not from lib/libxenchan.a, which gcc built), and
# rebuilt whenever any lib/ source changes.

FUZZ_SECONDS = 20
FUZZ_RUN_TARGETS = values ring registry xlcfg virtxml channel ttyfilter

FUZZ_RUN_BUILD = $(FUZZ_CC) $(FUZZ_CFLAGS) $(AM_CPPFLAGS) $(CPPFLAGS)
FUZZ_RUN_NEED_CC = command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	echo "make fuzz-run: $(FUZZ_CC) not found: the libFuzzer targets need clang and" \
		"its fuzzer runtime (Debian: clang libclang-rt-dev; scripts/install-deps.sh)" >&2; \
	exit 1; }
FUZZ_RUN_DEPS = $(lib_libxenchan_a_SOURCES) tests/fuzz/fuzz.mk tests/fuzz/run.mk

tests/fuzz/fuzz-values: tests/fuzz/fuzz-values.c $(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) $(XEN_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-values.c $(FUZZ_LIB_SRCS) $(XEN_LIBS)

tests/fuzz/fuzz-ring: tests/fuzz/fuzz-ring.c $(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) $(XEN_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-ring.c $(srcdir)/lib/ring.c $(srcdir)/lib/log.c

tests/fuzz/fuzz-registry: tests/fuzz/fuzz-registry.c $(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) $(XML_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-registry.c $(FUZZ_LINT_LIB_SRCS) $(XML_LIBS)

tests/fuzz/fuzz-xlcfg: tests/fuzz/fuzz-xlcfg.c $(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) $(XML_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-xlcfg.c $(FUZZ_LINT_LIB_SRCS) $(XML_LIBS)

tests/fuzz/fuzz-virtxml: tests/fuzz/fuzz-virtxml.c $(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) $(XML_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-virtxml.c $(FUZZ_LINT_LIB_SRCS) $(XML_LIBS)

# No libxenstore: tests/fuzz/xs-mem.c answers its calls.
FUZZ_CHANNEL_LIB_SRCS = $(FUZZ_STORE_LIB_SRCS) $(srcdir)/lib/choose.c

tests/fuzz/fuzz-channel: tests/fuzz/fuzz-channel.c tests/fuzz/xs-mem.c tests/fuzz/xs-mem.h \
		$(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) $(XEN_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-channel.c $(srcdir)/tests/fuzz/xs-mem.c \
		$(FUZZ_CHANNEL_LIB_SRCS)

tests/fuzz/fuzz-ttyfilter: tests/fuzz/fuzz-ttyfilter.c $(FUZZ_RUN_DEPS)
	@$(FUZZ_RUN_NEED_CC)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_RUN_BUILD) -o $@ \
		$(srcdir)/tests/fuzz/fuzz-ttyfilter.c $(srcdir)/lib/ttyfilter.c

# Only the targets asked for are built (FUZZ_RUN_TARGETS=channel).
fuzz-run:
	@progs=; for t in $(FUZZ_RUN_TARGETS); do progs="$$progs tests/fuzz/fuzz-$$t"; done; \
		$(MAKE) $(AM_MAKEFLAGS) $$progs
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_ARGS='$(FUZZ_ARGS)' \
		$(SHELL) $(srcdir)/tests/fuzz/run.sh $(srcdir) tests/fuzz $(FUZZ_RUN_TARGETS)

.PHONY: fuzz-run
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/channel.dict
CLEANFILES += tests/fuzz/fuzz-channel tests/fuzz/fuzz-ttyfilter \
	tests/fuzz/fuzz-values.log \
	tests/fuzz/fuzz-ring.log \
	tests/fuzz/fuzz-registry.log \
	tests/fuzz/fuzz-xlcfg.log \
	tests/fuzz/fuzz-virtxml.log \
	tests/fuzz/fuzz-channel.log \
	tests/fuzz/fuzz-ttyfilter.log
