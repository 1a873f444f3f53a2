# Benchmarks (included from Makefile.am): `make bench` prints figures and
# ratios against a baseline run side by side; nothing here is a test.

noinst_PROGRAMS += tests/bench/wake
tests_bench_wake_SOURCES = tests/bench/wake.c
tests_bench_wake_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_bench_wake_LDADD = $(XEN_LIBS)

noinst_PROGRAMS += tests/bench/vchan-raw
tests_bench_vchan_raw_SOURCES = tests/bench/vchan-raw.c
tests_bench_vchan_raw_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_bench_vchan_raw_LDADD = $(XEN_LIBS)

noinst_PROGRAMS += tests/bench/seqdata
tests_bench_seqdata_SOURCES = tests/bench/seqdata.c

XC_BENCH = \
	tests/bench/registry-scale.sh \
	tests/bench/ls-scale.sh \
	tests/bench/wake.sh \
	tests/bench/throughput.sh \
	tests/bench/vchan.sh \
	tests/bench/many.sh \
	tests/bench/follow.sh
EXTRA_DIST += $(XC_BENCH) tests/bench/summary.sh tests/bench/README.md

# Figures and the plot go to BENCH_OUT, started afresh by each run; the
# summary table of ratios and targets comes last.
BENCH_OUT = $(abs_top_builddir)/tests/bench/out
bench: all tests/unit/test-vchan
	@rm -rf '$(BENCH_OUT)' && mkdir -p '$(BENCH_OUT)'
	@for s in $(XC_BENCH); do \
		echo "== $$s"; \
		BENCH_OUT='$(BENCH_OUT)' top_builddir='$(abs_top_builddir)' XEN_BINDIR='$(XEN_BINDIR)' \
			$(SHELL) '$(abs_top_srcdir)'/$$s || exit 1; \
	done
	@top_builddir='$(abs_top_builddir)' $(SHELL) '$(abs_top_srcdir)'/tests/bench/summary.sh '$(BENCH_OUT)'
.PHONY: bench

clean-local-bench:
	rm -rf tests/bench/out
.PHONY: clean-local-bench
