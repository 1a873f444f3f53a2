# Man pages, shell completions and the test that keeps them in step with the
# commands (included from Makefile.am, after tests/bats/bats.mk).

dist_man_MANS = man/xenchan.7 man/xenchan-ls.1 man/xenchan-wait.1
# xenchan-registry-check(1) names the registry paths of this build.
nodist_man_MANS = man/xenchan-registry-check.1
EXTRA_DIST += man/xenchan-registry-check.1.in
CLEANFILES += man/xenchan-registry-check.1
man/xenchan-registry-check.1: man/xenchan-registry-check.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	sed -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/man/xenchan-registry-check.1.in >$@.tmp && mv $@.tmp $@
dist_man_MANS += man/xenchan-cat.1 man/xenchan-send.1

# xenchan-sim(1) names the paths of this build; installed with the emulator.
EXTRA_DIST += man/xenchan-sim.1.in
CLEANFILES += man/xenchan-sim.1
if SIM_INSTALL
nodist_man_MANS += man/xenchan-sim.1
else
noinst_DATA = man/xenchan-sim.1
endif
man/xenchan-sim.1: man/xenchan-sim.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	sed -e 's|@simlibexecdir[@]|$(simlibexecdir)|g' -e 's|@XENSTORED[@]|$(XENSTORED)|g' \
		$(srcdir)/man/xenchan-sim.1.in >$@.tmp && mv $@.tmp $@

# bash-completion loads completions/<command> by the command's name.
# completions/xenchan-wait is a symbolic link to completions/xenchan-ls: both
# install and dist copy the file itself.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = completions/xenchan-ls completions/xenchan-wait
dist_bashcompletion_DATA += completions/xenchan-registry-check
dist_bashcompletion_DATA += completions/xenchan-cat completions/xenchan-send

zshcompletiondir = $(datadir)/zsh/vendor-completions
dist_zshcompletion_DATA = completions/_xenchan

BATS_TESTS += tests/bats/docs.bats
