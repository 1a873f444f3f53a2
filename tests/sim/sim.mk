# The emulated Xen host (included from Makefile.am).

# With --enable-sim-install, make install installs xenchan-sim in bindir and the
# programs and library it runs in $(simlibexecdir) (the library without the
# execute bit: it is only loaded).  xenchan-sim looks for them next to itself
# first, so the build tree's copy runs the build tree's programs.
simlibexecdir = $(libexecdir)/xenchan-sim
SIM_HELPERS = \
	tests/sim/xenchan-sim-hv \
	tests/sim/xenchan-sim-guest \
	tests/sim/xenchan-sim-hvc \
	tests/sim/xenchan-sim-qemu \
	tests/sim/xenchan-sim-console
noinst_PROGRAMS += tests/sim/libxenchan-sim.so
if SIM_INSTALL
bin_PROGRAMS += tests/sim/xenchan-sim
simlibexec_PROGRAMS = $(SIM_HELPERS)
simlibexec_DATA = tests/sim/libxenchan-sim.so
else
noinst_PROGRAMS += tests/sim/xenchan-sim $(SIM_HELPERS)
endif

# The preload library is loaded into unmodified Xen binaries (xenstored, the
# xenstore tools), so it is built without sanitizers: their runtime would have to
# come first in every process.
tests_sim_libxenchan_sim_so_SOURCES = tests/sim/preload.c tests/sim/sim.h
tests_sim_libxenchan_sim_so_CFLAGS = $(WARN_CFLAGS) $(XEN_CFLAGS) -fPIC -fvisibility=hidden
tests_sim_libxenchan_sim_so_LDFLAGS = -shared -Wl,-z,defs -Wl,-soname,libxenchan-sim.so
tests_sim_libxenchan_sim_so_LDADD = -ldl

noinst_LIBRARIES += tests/sim/libsimutil.a
tests_sim_libsimutil_a_SOURCES = tests/sim/simutil.c tests/sim/simutil.h tests/sim/sim.h

SIM_LIBS = tests/sim/libsimutil.a

tests_sim_xenchan_sim_hv_SOURCES = tests/sim/hv.c
tests_sim_xenchan_sim_hv_LDADD = $(SIM_LIBS)

tests_sim_xenchan_sim_guest_SOURCES = tests/sim/guest.c
tests_sim_xenchan_sim_guest_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_sim_xenchan_sim_guest_LDADD = $(SIM_LIBS) $(XEN_LIBS)

tests_sim_xenchan_sim_hvc_SOURCES = tests/sim/hvc.c
tests_sim_xenchan_sim_hvc_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_sim_xenchan_sim_hvc_LDADD = $(SIM_LIBS) $(XEN_LIBS)

tests_sim_xenchan_sim_qemu_SOURCES = tests/sim/qemu.c
tests_sim_xenchan_sim_qemu_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_sim_xenchan_sim_qemu_LDADD = $(SIM_LIBS) $(XEN_LIBS) -lutil

tests_sim_xenchan_sim_console_SOURCES = tests/sim/console.c
tests_sim_xenchan_sim_console_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_sim_xenchan_sim_console_LDADD = $(SIM_LIBS) $(XEN_LIBS) -lutil

tests_sim_xenchan_sim_SOURCES = tests/sim/sim.c
tests_sim_xenchan_sim_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSIM_LIBEXECDIR=\"$(simlibexecdir)\" -DDEFAULT_XENSTORED=\"$(XENSTORED)\"
tests_sim_xenchan_sim_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_sim_xenchan_sim_LDADD = $(SIM_LIBS) $(XEN_LIBS)

EXTRA_DIST += tests/sim/README.md

# The emulator's own semantics, against the real libxenevtchn and libxengnttab.
check_PROGRAMS += tests/sim/test-emu
tests_sim_test_emu_SOURCES = tests/sim/test-emu.c
tests_sim_test_emu_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
tests_sim_test_emu_LDADD = $(SIM_LIBS) $(XEN_LIBS)
TESTS += tests/sim/test-emu
