/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hypervisor daemon and the preload library against the real
 * libxenevtchn and libxengnttab: Xen's event-channel and grant-table
 * semantics, unmap-notify on unmap and on process death, what one
 * notification and one grant map cost, and the xenctrl calls xenstored
 * imports (4.17: xc_domain_getinfo, 4.18 on: xc_domain_getinfo_single).
 * TAP output.
 *
 * Run without arguments, it starts its own emulated hypervisor in a temporary
 * directory and re-executes itself inside it; peers in other domains are
 * further re-executions with XENCHAN_SIM_DOMID set.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "simutil.h"

static int ntest;
static int nfail;

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	if (!cond)
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to ms for a port to fire; returns it (unmasked again) or -1. */
static int wait_port(xenevtchn_handle *x, int ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };
	xenevtchn_port_or_error_t port;

	if (poll(&p, 1, ms) != 1)
		return -1;
	port = xenevtchn_pending(x);
	if (port < 0)
		return -1;
	xenevtchn_unmask(x, port);
	return port;
}

static char self[PATH_MAX];

/* Runs this program as domain domid with role; pipes to and from it. */
static pid_t peer(unsigned domid, const char *role, int *to, int *from)
{
	int a[2], b[2];
	pid_t pid;

	if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
		sim_die("pipe: %m");
	pid = fork();
	if (pid < 0)
		sim_die("fork: %m");
	if (pid == 0) {
		char id[16];

		dup2(a[0], 3);
		dup2(b[1], 4);
		snprintf(id, sizeof(id), "%u", domid);
		setenv(SIM_ENV_DOMID, id, 1);
		execl(self, self, "--role", role, (char *)NULL);
		_exit(127);
	}
	close(a[0]);
	close(b[1]);
	*to = a[1];
	*from = b[0];
	return pid;
}

static void put(int fd, uint32_t v)
{
	if (sim_write_all(fd, &v, sizeof(v)))
		sim_die("pipe write: %m");
}

static uint32_t get(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint32_t v;

	if (poll(&p, 1, 5000) != 1 || sim_read_all(fd, &v, sizeof(v)))
		return UINT32_MAX;
	return v;
}

/* Roles: children that play a guest.  They talk on fds 3 (in) and 4 (out). */

static int role_evtchn_peer(void)
{
	xenevtchn_handle *x = xenevtchn_open(NULL, 0);
	uint32_t rport = get(3);
	int port, r;

	if (!x)
		return 1;
	port = xenevtchn_bind_interdomain(x, 0, rport);
	put(4, (uint32_t)port);
	/* Report each event until told to stop; echo a notify back. */
	for (;;) {
		uint32_t cmd = get(3);

		if (cmd == 0 || cmd == UINT32_MAX)
			break;
		if (cmd == 1) { /* wait for an event, do not unmask */
			struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };

			r = poll(&p, 1, 2000) == 1 ? xenevtchn_pending(x) : -1;
			put(4, (uint32_t)r);
		} else if (cmd == 2) { /* unmask, then wait briefly for a pending one */
			xenevtchn_unmask(x, port);
			put(4, (uint32_t)wait_port(x, 1000));
		} else if (cmd == 3) { /* is anything queued right now? */
			put(4, (uint32_t)wait_port(x, 200));
		} else if (cmd == 4) { /* ping-pong: notify back for every event */
			uint32_t n = get(3);

			put(4, 0);
			for (uint32_t i = 0; i < n; i++) {
				if (wait_port(x, 2000) < 0)
					break;
				xenevtchn_notify(x, port);
			}
		}
	}
	xenevtchn_close(x);
	return 0;
}

static int role_share(void)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *x = xenevtchn_open(NULL, 0);
	uint32_t refs[3], grantee = get(3);
	uint8_t *rw, *ro, *other;
	int port;

	if (!gs || !x)
		return 1;
	rw = xengntshr_share_pages(gs, grantee, 1, &refs[0], 1);
	ro = xengntshr_share_pages(gs, grantee, 1, &refs[1], 0);
	other = xengntshr_share_pages(gs, 2, 1, &refs[2], 1);
	if (!rw || !ro || !other)
		return 1;
	memset(rw, 0xab, SIM_PAGE_SIZE);
	memset(ro, 0xcd, SIM_PAGE_SIZE);
	port = xenevtchn_bind_unbound_port(x, grantee);
	for (int i = 0; i < 3; i++)
		put(4, refs[i]);
	put(4, (uint32_t)port);
	/* Report the byte at offset 100 of the rw page after each event. */
	for (;;) {
		uint32_t cmd = get(3);

		if (cmd == 0 || cmd == UINT32_MAX)
			break;
		put(4, (uint32_t)wait_port(x, 2000));
		put(4, rw[100]);
		rw[100] = 0xab;
	}
	xengntshr_unshare(gs, rw, 1);
	xengntshr_unshare(gs, ro, 1);
	xengntshr_unshare(gs, other, 1);
	xengntshr_close(gs);
	xenevtchn_close(x);
	return 0;
}

/* Maps a grant with unmap-notify and waits to be killed. */
static int role_mapper(void)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *x = xenevtchn_open(NULL, 0);
	uint32_t dom = get(3), ref = get(3), rport = get(3);
	int port;
	void *p;

	if (!gt || !x)
		return 1;
	port = xenevtchn_bind_interdomain(x, dom, rport);
	p = xengnttab_map_grant_ref_notify(gt, dom, ref, PROT_READ | PROT_WRITE, 100,
					   port);
	put(4, p != NULL);
	pause();
	return 0;
}

static int run_tests(void)
{
	struct sim_req q = { .op = SIM_DOMAIN_CREATE };
	struct sim_rep r;
	xenevtchn_handle *x = xenevtchn_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	int ctl = sim_hv_connect(sim_dir(), 0), to, from, port, e;
	uint32_t rport, refs[3], sport;
	pid_t pid;
	double t;

#ifdef HAVE_XC_DOMINFO_T
	printf("1..30\n");
#else
	printf("1..29\n");
#endif
	ok(x && gt && ctl >= 0, "devices open under the emulator");
	if (!x || !gt || ctl < 0)
		return 1;
	ok(sim_hv_call(ctl, &q, NULL, 0, &r, NULL, 0, NULL, NULL) == 0 && r.a == 1,
	   "domain 1 created");
	q.a = 0;
	ok(sim_hv_call(ctl, &q, NULL, 0, &r, NULL, 0, NULL, NULL) == 0 && r.a == 2,
	   "domain 2 created");

	/* Event channels. */
	port = xenevtchn_bind_unbound_port(x, 1);
	ok(port > 0, "unbound port for domain 1: %d", port);
	ok(xenevtchn_bind_interdomain(x, 1, 100) < 0 && errno == EINVAL,
	   "binding to a port not left unbound for us fails with EINVAL");
	pid = peer(1, "evtchn", &to, &from);
	put(to, (uint32_t)port);
	rport = get(from);
	ok((int)rport > 0, "domain 1 binds interdomain to it: port %d", (int)rport);
	ok(xenevtchn_notify(x, port) == 0, "notify");
	put(to, 1);
	ok(get(from) == rport, "the peer sees its port fire");
	xenevtchn_notify(x, port);
	put(to, 3);
	ok(get(from) == UINT32_MAX, "a second notify while masked is not delivered");
	put(to, 2);
	ok(get(from) == rport, "... and is delivered when the port is unmasked");

	put(to, 4);
	put(to, 2000);
	get(from);
	t = now();
	for (e = 0; e < 2000; e++) {
		xenevtchn_notify(x, port);
		if (wait_port(x, 2000) != port)
			break;
	}
	t = now() - t;
	ok(e == 2000, "2000 notify round trips");
	printf("# cost: one notification (notify, delivery, unmask; half a round trip): %.1f us\n",
	       t / e / 2 * 1e6);
	put(to, 0);
	waitpid(pid, NULL, 0);
	ok(wait_port(x, 1000) < 0 && xenevtchn_notify(x, port) == 0,
	   "the peer's exit leaves our port open, unbound again");
	pid = peer(1, "evtchn", &to, &from);
	put(to, (uint32_t)port);
	ok((int)get(from) > 0, "and a new peer can bind it again");
	put(to, 0);
	waitpid(pid, NULL, 0);

	/* Grants. */
	pid = peer(1, "share", &to, &from);
	put(to, 0);
	for (int i = 0; i < 3; i++)
		refs[i] = get(from);
	sport = get(from);
	{
		uint8_t *p = xengnttab_map_grant_ref(gt, 1, refs[0], PROT_READ | PROT_WRITE);

		ok(p && p[0] == 0xab && p[4095] == 0xab, "the grantee maps a page and sees its contents");
		if (p)
			xengnttab_unmap(gt, p, 1);
		p = xengnttab_map_grant_ref(gt, 1, refs[1], PROT_READ | PROT_WRITE);
		ok(!p, "a read-only grant cannot be mapped writable");
		p = xengnttab_map_grant_ref(gt, 1, refs[1], PROT_READ);
		ok(p && p[0] == 0xcd, "... but can be mapped read-only");
		if (p)
			xengnttab_unmap(gt, p, 1);
		p = xengnttab_map_grant_ref(gt, 1, refs[2], PROT_READ);
		ok(!p, "a grant to another domain cannot be mapped");
		p = xengnttab_map_grant_ref(gt, 1, 4000, PROT_READ);
		ok(!p, "an unused grant reference cannot be mapped");
	}
	{
		int lport = xenevtchn_bind_interdomain(x, 1, sport);
		uint8_t *p = xengnttab_map_grant_ref_notify(gt, 1, refs[0],
							    PROT_READ | PROT_WRITE, 100, lport);

		ok(p && p[100] == 0xab, "map with unmap-notify");
		put(to, 1);
		xengnttab_unmap(gt, p, 1);
		ok(get(from) == sport && get(from) == 0,
		   "unmap clears the byte and sends the event");
		xenevtchn_unbind(x, lport);
	}
	{
		int mto, mfrom;
		pid_t m = peer(0, "mapper", &mto, &mfrom);

		put(mto, 1);
		put(mto, refs[0]);
		put(mto, sport);
		ok(get(mfrom) == 1, "a second process maps with unmap-notify");
		put(to, 1);
		kill(m, SIGKILL);
		waitpid(m, NULL, 0);
		ok(get(from) == sport && get(from) == 0,
		   "its death clears the byte and sends the event");
		close(mto);
		close(mfrom);
	}

	t = now();
	for (e = 0; e < 2000; e++) {
		void *p = xengnttab_map_grant_ref(gt, 1, refs[0], PROT_READ | PROT_WRITE);

		if (!p || xengnttab_unmap(gt, p, 1))
			break;
	}
	t = now() - t;
	ok(e == 2000, "2000 grant map/unmap pairs");
	printf("# cost: one grant map and unmap: %.1f us\n", t / e * 1e6);
	put(to, 0);
	waitpid(pid, NULL, 0);

	/* What xenstored asks of libxenctrl, answered by the preload library. */
	xc_interface *(*xopen)(xentoollog_logger *, xentoollog_logger *, unsigned) =
		dlsym(RTLD_DEFAULT, "xc_interface_open");
	int (*single)(xc_interface *, uint32_t, xc_domaininfo_t *) =
		dlsym(RTLD_DEFAULT, "xc_domain_getinfo_single");
	xc_interface *xch = xopen ? xopen(NULL, NULL, 0) : NULL;
	xc_domaininfo_t di;

	ok(xch && single, "xc_interface_open and xc_domain_getinfo_single are provided");
	ok(single && single(xch, 1, &di) == 0 && di.domain == 1 &&
		   !(di.flags & XEN_DOMINF_dying),
	   "xc_domain_getinfo_single: domain 1, alive");
	errno = 0;
	ok(single && single(xch, 100, &di) == -1 && errno == ESRCH,
	   "xc_domain_getinfo_single: no domain 100 (ESRCH)");
#ifdef HAVE_XC_DOMINFO_T
	{
		int (*getinfo)(xc_interface *, uint32_t, unsigned, xc_dominfo_t *) =
			dlsym(RTLD_DEFAULT, "xc_domain_getinfo");
		xc_dominfo_t info[4];

		ok(getinfo && getinfo(xch, 0, 4, info) == 3 && info[0].domid == 0 &&
			   info[1].domid == 1 && !info[1].dying && info[2].domid == 2,
		   "xc_domain_getinfo: domains 0, 1 and 2");
	}
#endif

	q.op = SIM_DOMAIN_DESTROY;
	q.a = 1;
	ok(sim_hv_call(ctl, &q, NULL, 0, &r, NULL, 0, NULL, NULL) == 0,
	   "domain 1 destroyed");
	ok(!xengnttab_map_grant_ref(gt, 1, refs[0], PROT_READ),
	   "its grants are gone with it");
	errno = 0;
	ok(single && single(xch, 1, &di) == -1 && errno == ESRCH,
	   "xc_domain_getinfo_single: domain 1 is gone (ESRCH, not domain 2)");
	xengnttab_close(gt);
	xenevtchn_close(x);
	close(ctl);
	return nfail != 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/xcs-emu.XXXXXX", *slash, lib[PATH_MAX + 32], hv[PATH_MAX + 32];
	int rfd[2], status;
	pid_t hvpid;

	sim_progname = "test-emu";
	if (argc == 3 && !strcmp(argv[1], "--role")) {
		if (!strcmp(argv[2], "evtchn"))
			return role_evtchn_peer();
		if (!strcmp(argv[2], "share"))
			return role_share();
		if (!strcmp(argv[2], "mapper"))
			return role_mapper();
		return 2;
	}
	if (realpath("/proc/self/exe", self) == NULL)
		sim_die("/proc/self/exe: %m");
	if (getenv(SIM_ENV_DIR)) {
		signal(SIGPIPE, SIG_IGN);
		return run_tests();
	}

	/* Outside: start a hypervisor and re-execute inside it. */
	if (!mkdtemp(dir))
		sim_die("mkdtemp: %m");
	slash = strrchr(self, '/');
	snprintf(lib, sizeof(lib), "%.*s/libxenchan-sim.so", (int)(slash - self), self);
	snprintf(hv, sizeof(hv), "%.*s/xenchan-sim-hv", (int)(slash - self), self);
	setenv(SIM_ENV_DIR, dir, 1);
	if (pipe(rfd))
		sim_die("pipe: %m");
	hvpid = fork();
	if (hvpid == 0) {
		char fd[16];

		close(rfd[0]);
		snprintf(fd, sizeof(fd), "%d", rfd[1]);
		execl(hv, hv, "--ready-fd", fd, (char *)NULL);
		_exit(127);
	}
	close(rfd[1]);
	{
		char buf[8];

		if (read(rfd[0], buf, sizeof(buf)) <= 0)
			sim_die("%s did not start", hv);
	}
	pid_t t = fork();

	if (t == 0) {
		const char *ao = getenv("ASAN_OPTIONS");

		/* A sanitized build must not insist on its runtime coming first. */
		char *opts = sim_xasprintf("%s%sverify_asan_link_order=0", ao ? ao : "",
					   ao ? ":" : "");

		setenv("ASAN_OPTIONS", opts, 1);
		free(opts);
		setenv("LD_PRELOAD", lib, 1);
		setenv(SIM_ENV_DOMID, "0", 1);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	waitpid(t, &status, 0);
	kill(hvpid, SIGTERM);
	waitpid(hvpid, NULL, 0);
	snprintf(lib, sizeof(lib), "%s/hv.sock", dir);
	unlink(lib);
	rmdir(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
