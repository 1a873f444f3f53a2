# Unit tests beyond lib/parse.c and lib/store.c, and the fuzz targets
# (included from Makefile.am, after tests/bats/bats.mk).

check_PROGRAMS += tests/unit/test-untrusted
tests_unit_test_untrusted_SOURCES = tests/unit/test-untrusted.c tests/unit/tap.h
tests_unit_test_untrusted_LDADD = $(XC_LIBS)
TESTS += tests/unit/test-untrusted

check_PROGRAMS += tests/unit/test-domain
tests_unit_test_domain_SOURCES = tests/unit/test-domain.c tests/unit/tap.h
tests_unit_test_domain_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_unit_test_domain_LDADD = $(XC_LIBS)
TESTS += tests/unit/test-domain

# Needs a running xenstored: run with test-store by tests/bats/unit-store.bats
# on the emulated host, so it is built by make check but not listed in TESTS.
check_PROGRAMS += tests/unit/test-channel
tests_unit_test_channel_SOURCES = tests/unit/test-channel.c tests/unit/tap.h
tests_unit_test_channel_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_unit_test_channel_LDADD = $(XC_LIBS)

# Run by tests/bats/unit-store.bats too.
check_PROGRAMS += tests/unit/test-session
tests_unit_test_session_SOURCES = tests/unit/test-session.c tests/unit/tap.h
tests_unit_test_session_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS) -pthread
tests_unit_test_session_LDADD = $(XC_LIBS) -lpthread

BATS_TESTS += tests/bats/unit-store.bats

# Fuzz targets.  make check replays each corpus through its target, built with
# the ordinary compiler and the configured sanitizers (no clang needed); the
# replay program finds the corpus under $top_srcdir.
check_PROGRAMS += tests/fuzz/fuzz-values-replay
tests_fuzz_fuzz_values_replay_SOURCES = \
	tests/fuzz/fuzz-values.c \
	tests/fuzz/fuzz.h \
	tests/fuzz/replay.c \
	tests/unit/tap.h
tests_fuzz_fuzz_values_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/values"'
tests_fuzz_fuzz_values_replay_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_fuzz_fuzz_values_replay_LDADD = $(XC_LIBS)
TESTS += tests/fuzz/fuzz-values-replay

check_PROGRAMS += tests/fuzz/fuzz-ring-replay
tests_fuzz_fuzz_ring_replay_SOURCES = \
	tests/fuzz/fuzz-ring.c \
	tests/fuzz/replay.c \
	tests/unit/tap.h
tests_fuzz_fuzz_ring_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/ring"'
tests_fuzz_fuzz_ring_replay_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_fuzz_fuzz_ring_replay_LDADD = $(XC_LIBS)
TESTS += tests/fuzz/fuzz-ring-replay

# (cd $(top_srcdir) && ls tests/fuzz/corpus/ring/*)
FUZZ_RING_CORPUS = \
	tests/fuzz/corpus/ring/empty \
	tests/fuzz/corpus/ring/flap \
	tests/fuzz/corpus/ring/honest-echo \
	tests/fuzz/corpus/ring/in-cons-corrupt \
	tests/fuzz/corpus/ring/prod-behind \
	tests/fuzz/corpus/ring/prod-far-ahead \
	tests/fuzz/corpus/ring/scribble-own-indices \
	tests/fuzz/corpus/ring/wrap-32bit
EXTRA_DIST += $(FUZZ_RING_CORPUS)

# Automake takes no wildcards.  After adding inputs, regenerate the list with
#   (cd $(top_srcdir) && ls tests/fuzz/corpus/values/*)
FUZZ_VALUES_CORPUS = \
	tests/fuzz/corpus/values/all-parsers-embedded-nul \
	tests/fuzz/corpus/values/all-parsers-number \
	tests/fuzz/corpus/values/domid-leading-zero \
	tests/fuzz/corpus/values/domid-max \
	tests/fuzz/corpus/values/domid-reserved \
	tests/fuzz/corpus/values/domid-zero \
	tests/fuzz/corpus/values/duration-bad-unit \
	tests/fuzz/corpus/values/duration-fraction \
	tests/fuzz/corpus/values/duration-long-fraction \
	tests/fuzz/corpus/values/duration-max \
	tests/fuzz/corpus/values/duration-ms \
	tests/fuzz/corpus/values/duration-overflow \
	tests/fuzz/corpus/values/duration-tiny-fraction \
	tests/fuzz/corpus/values/escape-csi \
	tests/fuzz/corpus/values/escape-long \
	tests/fuzz/corpus/values/escape-osc-title \
	tests/fuzz/corpus/values/escape-utf8 \
	tests/fuzz/corpus/values/name-leading-dot \
	tests/fuzz/corpus/values/name-too-long \
	tests/fuzz/corpus/values/name-valid \
	tests/fuzz/corpus/values/pty-leading-zero \
	tests/fuzz/corpus/values/pty-ten-digits \
	tests/fuzz/corpus/values/pty-valid \
	tests/fuzz/corpus/values/rate-double-suffix \
	tests/fuzz/corpus/values/rate-no-number \
	tests/fuzz/corpus/values/rate-per-second \
	tests/fuzz/corpus/values/rate-plain \
	tests/fuzz/corpus/values/size-bad-suffix \
	tests/fuzz/corpus/values/size-bytes \
	tests/fuzz/corpus/values/size-fraction \
	tests/fuzz/corpus/values/size-kib \
	tests/fuzz/corpus/values/size-max \
	tests/fuzz/corpus/values/size-overflow \
	tests/fuzz/corpus/values/socket-107 \
	tests/fuzz/corpus/values/socket-108 \
	tests/fuzz/corpus/values/socket-dotdot \
	tests/fuzz/corpus/values/socket-relative \
	tests/fuzz/corpus/values/socket-trailing-slash \
	tests/fuzz/corpus/values/socket-valid \
	tests/fuzz/corpus/values/spec-bare-uuid-upper \
	tests/fuzz/corpus/values/spec-dup-name \
	tests/fuzz/corpus/values/spec-empty \
	tests/fuzz/corpus/values/spec-id \
	tests/fuzz/corpus/values/spec-id-empty \
	tests/fuzz/corpus/values/spec-id-range \
	tests/fuzz/corpus/values/spec-name \
	tests/fuzz/corpus/values/spec-name-empty \
	tests/fuzz/corpus/values/spec-number-ambiguous \
	tests/fuzz/corpus/values/spec-uuid \
	tests/fuzz/corpus/values/transport-socket \
	tests/fuzz/corpus/values/transport-unknown \
	tests/fuzz/corpus/values/uint-leading-zeros \
	tests/fuzz/corpus/values/uint-max \
	tests/fuzz/corpus/values/uint-overflow \
	tests/fuzz/corpus/values/uint-sign \
	tests/fuzz/corpus/values/uint-zero \
	tests/fuzz/corpus/values/uuid-misplaced-dash \
	tests/fuzz/corpus/values/uuid-valid \
	tests/fuzz/corpus/values/wait-bad \
	tests/fuzz/corpus/values/wait-ready \
	tests/fuzz/corpus/values/xen-version-bad-hash \
	tests/fuzz/corpus/values/xen-version-debian \
	tests/fuzz/corpus/values/xen-version-pre
EXTRA_DIST += $(FUZZ_VALUES_CORPUS)

# make fuzz: run the libFuzzer targets with clang for FUZZ_TIME seconds each.
# New inputs go to tests/fuzz/fuzz-values-corpus in the build tree (copy the
# interesting ones into the corpus by hand), crashes to
# tests/fuzz/fuzz-values-crash-*.  Not part of make check.
FUZZ_TIME = 60
FUZZ_CC = clang
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# What reads xenstore, up to the channel listing.
FUZZ_STORE_LIB_SRCS = \
	$(srcdir)/lib/log.c \
	$(srcdir)/lib/parse.c \
	$(srcdir)/lib/clock.c \
	$(srcdir)/lib/lifecycle.c \
	$(srcdir)/lib/lock.c \
	$(srcdir)/lib/store.c \
	$(srcdir)/lib/strv.c \
	$(srcdir)/lib/untrusted.c \
	$(srcdir)/lib/domain.c \
	$(srcdir)/lib/channel.c
FUZZ_LIB_SRCS = $(FUZZ_STORE_LIB_SRCS) $(srcdir)/lib/wait.c $(srcdir)/lib/file.c $(srcdir)/lib/xenver.c

fuzz:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "make fuzz: $(FUZZ_CC) not found: the libFuzzer targets need clang" \
			"(Debian package: clang), or FUZZ_CC=/path/to/clang" >&2; \
		exit 1; \
	fi
	@$(MKDIR_P) tests/fuzz/fuzz-values-corpus
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(AM_CPPFLAGS) $(CPPFLAGS) $(XEN_CFLAGS) \
		-o tests/fuzz/fuzz-values $(srcdir)/tests/fuzz/fuzz-values.c \
		$(FUZZ_LIB_SRCS) $(XEN_LIBS)
	tests/fuzz/fuzz-values -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-artifact_prefix=tests/fuzz/fuzz-values-crash- \
		tests/fuzz/fuzz-values-corpus $(srcdir)/tests/fuzz/corpus/values

.PHONY: fuzz
CLEANFILES += tests/fuzz/fuzz-values

# make fuzz-ring: the same for the console ring consumer (lib/ring.c).
fuzz-ring:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "make fuzz-ring: $(FUZZ_CC) not found: the libFuzzer targets need clang" >&2; \
		exit 1; \
	fi
	@$(MKDIR_P) tests/fuzz/fuzz-ring-corpus
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(AM_CPPFLAGS) $(CPPFLAGS) $(XEN_CFLAGS) \
		-o tests/fuzz/fuzz-ring $(srcdir)/tests/fuzz/fuzz-ring.c \
		$(srcdir)/lib/ring.c $(srcdir)/lib/log.c
	tests/fuzz/fuzz-ring -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-artifact_prefix=tests/fuzz/fuzz-ring-crash- \
		tests/fuzz/fuzz-ring-corpus $(srcdir)/tests/fuzz/corpus/ring

.PHONY: fuzz-ring
CLEANFILES += tests/fuzz/fuzz-ring

# The registry checker's parsers: registries, xl configs, libvirt XML.
FUZZ_LINT_TARGETS = registry xlcfg virtxml
FUZZ_LINT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit

check_PROGRAMS += tests/fuzz/fuzz-registry-replay
tests_fuzz_fuzz_registry_replay_SOURCES = tests/fuzz/fuzz-registry.c tests/fuzz/replay.c \
	tests/fuzz/diag-check.h tests/unit/tap.h
tests_fuzz_fuzz_registry_replay_CPPFLAGS = $(FUZZ_LINT_CPPFLAGS) \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/registry"'
tests_fuzz_fuzz_registry_replay_LDADD = $(XC_LIBS) $(XML_LIBS)
TESTS += tests/fuzz/fuzz-registry-replay

check_PROGRAMS += tests/fuzz/fuzz-xlcfg-replay
tests_fuzz_fuzz_xlcfg_replay_SOURCES = tests/fuzz/fuzz-xlcfg.c tests/fuzz/replay.c \
	tests/fuzz/diag-check.h tests/unit/tap.h
tests_fuzz_fuzz_xlcfg_replay_CPPFLAGS = $(FUZZ_LINT_CPPFLAGS) \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/xlcfg"'
tests_fuzz_fuzz_xlcfg_replay_LDADD = $(XC_LIBS) $(XML_LIBS)
TESTS += tests/fuzz/fuzz-xlcfg-replay

check_PROGRAMS += tests/fuzz/fuzz-virtxml-replay
tests_fuzz_fuzz_virtxml_replay_SOURCES = tests/fuzz/fuzz-virtxml.c tests/fuzz/replay.c \
	tests/fuzz/diag-check.h tests/unit/tap.h
tests_fuzz_fuzz_virtxml_replay_CPPFLAGS = $(FUZZ_LINT_CPPFLAGS) \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/virtxml"'
tests_fuzz_fuzz_virtxml_replay_LDADD = $(XC_LIBS) $(XML_LIBS)
TESTS += tests/fuzz/fuzz-virtxml-replay

# Automake takes no wildcards.  After adding inputs, regenerate the list with
#   (cd $(top_srcdir) && ls tests/fuzz/corpus/{registry,xlcfg,virtxml}/*)
FUZZ_LINT_CORPUS = \
	tests/fuzz/corpus/registry/bad \
	tests/fuzz/corpus/registry/default \
	tests/fuzz/corpus/registry/good \
	tests/fuzz/corpus/registry/legend-malformed \
	tests/fuzz/corpus/xlcfg/broken \
	tests/fuzz/corpus/xlcfg/escapes-nested \
	tests/fuzz/corpus/xlcfg/good \
	tests/fuzz/corpus/xlcfg/typo \
	tests/fuzz/corpus/virtxml/entity \
	tests/fuzz/corpus/virtxml/minimal \
	tests/fuzz/corpus/virtxml/web01
EXTRA_DIST += $(FUZZ_LINT_CORPUS)

FUZZ_LINT_LIB_SRCS = \
	$(srcdir)/lib/log.c \
	$(srcdir)/lib/untrusted.c \
	$(srcdir)/lib/strmap.c \
	$(srcdir)/lib/json.c \
	$(srcdir)/lib/diag.c \
	$(srcdir)/lib/domcfg.c \
	$(srcdir)/lib/lint.c \
	$(srcdir)/lib/registry.c \
	$(srcdir)/lib/xlcfg.c \
	$(srcdir)/lib/virtxml.c \
	$(srcdir)/lib/file.c \
	$(srcdir)/lib/xenver.c

# make fuzz runs these too, FUZZ_TIME seconds each, in the same way.
fuzz: fuzz-lint
fuzz-lint:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "make fuzz: $(FUZZ_CC) not found: the libFuzzer targets need clang" \
			"(Debian package: clang), or FUZZ_CC=/path/to/clang" >&2; \
		exit 1; \
	fi
	@set -e; for t in $(FUZZ_LINT_TARGETS); do \
		$(MKDIR_P) tests/fuzz/fuzz-$$t-corpus; \
		echo "  FUZZ     $$t"; \
		$(FUZZ_CC) $(FUZZ_CFLAGS) $(AM_CPPFLAGS) $(CPPFLAGS) $(XML_CFLAGS) \
			-o tests/fuzz/fuzz-$$t $(srcdir)/tests/fuzz/fuzz-$$t.c \
			$(FUZZ_LINT_LIB_SRCS) $(XML_LIBS); \
		tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/fuzz-$$t-crash- \
			tests/fuzz/fuzz-$$t-corpus $(srcdir)/tests/fuzz/corpus/$$t; \
	done

.PHONY: fuzz-lint
CLEANFILES += tests/fuzz/fuzz-registry tests/fuzz/fuzz-xlcfg tests/fuzz/fuzz-virtxml

# Channel discovery, domain identity and transport choice over a xenstore
# tree the input describes: lib/store.c and what is above it, linked with the
# in-memory libxenstore of xs-mem.c instead of the real one.
check_PROGRAMS += tests/fuzz/fuzz-channel-replay
tests_fuzz_fuzz_channel_replay_SOURCES = \
	tests/fuzz/fuzz-channel.c \
	tests/fuzz/fuzz.h \
	tests/fuzz/xs-mem.c \
	tests/fuzz/xs-mem.h \
	tests/fuzz/replay.c \
	tests/unit/tap.h
tests_fuzz_fuzz_channel_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/channel"'
tests_fuzz_fuzz_channel_replay_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_fuzz_fuzz_channel_replay_LDADD = lib/libxenchan.a
TESTS += tests/fuzz/fuzz-channel-replay

# Automake takes no wildcards.  After adding inputs, regenerate the list with
#   (cd $(top_srcdir) && ls tests/fuzz/corpus/channel/*)
FUZZ_CHANNEL_CORPUS = \
	tests/fuzz/corpus/channel/bad-values \
	tests/fuzz/corpus/channel/direct \
	tests/fuzz/corpus/channel/domains-ambiguous \
	tests/fuzz/corpus/channel/failing-list \
	tests/fuzz/corpus/channel/failing-reads \
	tests/fuzz/corpus/channel/libxl-socket-pty \
	tests/fuzz/corpus/channel/name-mismatch-bad-backend \
	tests/fuzz/corpus/channel/no-trusted-copy \
	tests/fuzz/corpus/channel/pty-tty-guest-writable \
	tests/fuzz/corpus/channel/vchan
EXTRA_DIST += $(FUZZ_CHANNEL_CORPUS)

# The terminal filter of xenchan-cat (lib/ttyfilter.c): a guest's output.
check_PROGRAMS += tests/fuzz/fuzz-ttyfilter-replay
tests_fuzz_fuzz_ttyfilter_replay_SOURCES = \
	tests/fuzz/fuzz-ttyfilter.c \
	tests/fuzz/fuzz.h \
	tests/fuzz/replay.c \
	tests/unit/tap.h
tests_fuzz_fuzz_ttyfilter_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/ttyfilter"'
tests_fuzz_fuzz_ttyfilter_replay_LDADD = lib/libxenchan.a
TESTS += tests/fuzz/fuzz-ttyfilter-replay

# Automake takes no wildcards.  After adding inputs, regenerate the list with
#   (cd $(top_srcdir) && ls tests/fuzz/corpus/ttyfilter/*)
FUZZ_TTYFILTER_CORPUS = \
	tests/fuzz/corpus/ttyfilter/csi-mix \
	tests/fuzz/corpus/ttyfilter/esc-mix \
	tests/fuzz/corpus/ttyfilter/osc-split \
	tests/fuzz/corpus/ttyfilter/strings \
	tests/fuzz/corpus/ttyfilter/utf8-c1
EXTRA_DIST += $(FUZZ_TTYFILTER_CORPUS)

# make fuzz-run: every target above, fuzzed for a bounded time.
include $(top_srcdir)/tests/fuzz/run.mk
