# Integration tests run with bats on the emulated host (included from Makefile.am).

BATS_TESTS =

TEST_EXTENSIONS = .bats
BATS_LOG_DRIVER = $(LOG_DRIVER)
BATS_LOG_COMPILER = $(BATS) --tap

# The emulated host itself.
BATS_TESTS += \
	tests/bats/sim.bats \
	tests/bats/sim-lifecycle.bats \
	tests/bats/emulator.bats \
	tests/bats/layout.bats \
	tests/bats/xen-release.bats \
	tests/bats/unprivileged.bats \
	tests/bats/channels.bats \
	tests/bats/vchan.bats

# Hostile guests, callers and hosts: every command, one file.
BATS_TESTS += tests/bats/hostile.bats
EXTRA_DIST += tests/bats/helpers.bash tests/sim/demo.sh
