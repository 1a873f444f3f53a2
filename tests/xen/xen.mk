# Tests on real Xen, booted under QEMU (tests/xen/README.md); include from
# Makefile.am. Not part of make check: it needs root, apt and several minutes.

EXTRA_DIST += \
	tests/xen/README.md \
	tests/xen/build-images.sh \
	tests/xen/check-xen.sh \
	tests/xen/compare-emulator.sh \
	tests/xen/dom0-init.sh \
	tests/xen/guest-init.sh \
	tests/xen/mkbase.sh \
	tests/xen/normalize-xenstore.sh \
	tests/xen/run.sh \
	tests/xen/xen.mk \
	tests/xen/guest/channels.sh \
	tests/xen/guest/first-boot.sh \
	tests/xen/guest/first-boot-stuck.sh \
	tests/xen/guest/follow.sh \
	tests/xen/guest/idle.sh \
	tests/xen/guest/lib.sh \
	tests/xen/guest/libvirt.sh \
	tests/xen/guest/lifecycle.sh \
	tests/xen/guest/transfer.sh \
	tests/xen/guest/vchan-bench.sh \
	tests/xen/guest/vchan.sh \
	tests/xen/scenarios/boot.sh \
	tests/xen/scenarios/channels.sh \
	tests/xen/scenarios/commands.sh \
	tests/xen/scenarios/first-boot.sh \
	tests/xen/scenarios/follow.sh \
	tests/xen/bench/throughput.sh \
	tests/xen/bench/vchan.sh \
	tests/xen/scenarios/lib.sh \
	tests/xen/scenarios/libvirt.sh \
	tests/xen/scenarios/programs.sh \
	tests/xen/scenarios/release.sh \
	tests/xen/scenarios/transfer.sh \
	tests/xen/scenarios/vchan.sh \
	tests/xen/scenarios/xenstore.sh

check-xen: all
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
		$(SHELL) '$(top_srcdir)/tests/xen/check-xen.sh'

# Throughput on real Xen (tests/xen/bench): figures, not a test.
# vchan-raw goes into the images beside the programs: bench/vchan.sh's
# baseline.
bench-xen: all tests/bench/vchan-raw
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
		XENCHAN_XEN_SCENARIOS='$(abs_top_srcdir)/tests/xen/bench/throughput.sh $(abs_top_srcdir)/tests/xen/bench/vchan.sh' \
		XENCHAN_XEN_EXTRA_BIN='$(abs_top_builddir)/tests/bench/vchan-raw' \
		$(SHELL) '$(top_srcdir)/tests/xen/check-xen.sh'

clean-local-xen:
	rm -rf tests/xen/out tests/xen/images tests/xen/bin

.PHONY: check-xen bench-xen clean-local-xen
