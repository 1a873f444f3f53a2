/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim: the toolstack of the emulated host.  It starts the hypervisor
 * daemon and the real xenstored, builds and destroys domains writing the
 * xenstore nodes libxl writes, and runs commands inside a domain.
 *
 * A host models one Xen release (start --xen-version, default: the release
 * of the xenstored it runs): its xl (whether the first channel entry is
 * dropped) and the qemu Debian pairs with it (the console backend run by
 * xenchan-sim-qemu --model).
 *
 * Every wait is bounded ($XENCHAN_SIM_TIMEOUT seconds, default 10).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/sched.h>

#include "simutil.h"

/* Both come from the build (tests/sim/sim.mk): configure's XENSTORED, the
 * installed Xen release's, and where make install puts the helpers. */
#ifndef DEFAULT_XENSTORED
#error "DEFAULT_XENSTORED must be defined (configure's XENSTORED)"
#endif
#ifndef SIM_LIBEXECDIR
#error "SIM_LIBEXECDIR must be defined (tests/sim/sim.mk)"
#endif
#define DOM0_UUID "00000000-0000-0000-0000-000000000000"
#define XENCONSOLE_LIMIT "1048576"
#define XENCONSOLE_PROTOCOL "vt100"
#define MAX_CHANNELS 9 /* Linux hvc_xen takes the devid from one character */
#define UUID_LEN 36

static const char *opt_dir;
static unsigned timeout_s = 10;

/* A domain half built when the program dies is torn down again. */
static const char *cleanup_dir;
static int cleanup_domid = -1;
static pid_t cleanup_pids[2];

static const char *alarm_what;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenchan-sim [-d DIR] COMMAND [ARGS]\n"
		"Drive an emulated Xen host.\n"
		"\n"
		"Commands:\n"
		"  start [--xen-version X.Y[.Z]] [DIR]\n"
		"                       start a host (hypervisor and xenstored), print DIR\n"
		"  stop [DIR]           destroy every domain and stop the host\n"
		"  env [DIR]            print the shell lines that enter the host as dom0\n"
		"  status [DIR]         print the Xen release the host models, and how\n"
		"  shell [DIR]          run $SHELL in the host as dom0\n"
		"  create [-D DOMID] [-u UUID] [--channel SPEC]... [--agent NAME=SPEC]...\n"
		"         [--wait] NAME build a domain, print its domid\n"
		"  destroy DOMAIN       destroy a domain (domid or name)\n"
		"  reboot DOMAIN        destroy DOMAIN and build it again from its\n"
		"                       configuration (new domid); print the domid\n"
		"  save DOMAIN FILE     write DOMAIN's configuration to FILE and destroy it\n"
		"  restore FILE         build the domain saved in FILE; print its domid\n"
		"  migrate DOMAIN       migrate DOMAIN to this host, as xl migrate DOMAIN\n"
		"                       localhost (NAME--incoming, NAME--migratedaway);\n"
		"                       print the new domid\n"
		"  exec [-D DOMID] -- CMD [ARG]...\n"
		"                       run CMD as a process of domain DOMID (default 0)\n"
		"  list                 list domains: id, name, uuid\n"
		"  stats                print the hypervisor's counters\n"
		"\n"
		"Options:\n"
		"  -d, --dir DIR        the host directory (default: $XENCHAN_SIM_DIR)\n"
		"  -h, --help           print this help and exit\n"
		"\n"
		"Channel SPEC (as in xl's channel list):\n"
		"  name=NAME,connection=socket,path=PATH  or  name=NAME,connection=pty\n"
		"Agent SPEC: echo | sink:FILE | source:COUNT | stall | cmd:SHELLCMD\n"
		"\n"
		"A host models a Xen release (X.Y means X.Y.0; 4.17 and later): by default\n"
		"the release of the xenstored it runs.  Its xl drops the first channel entry\n"
		"before 4.18.5, in 4.19.0-4.19.1 and in 4.20.0; from 4.18 its qemu opens a\n"
		"second pty per pty channel and deletes a channel's nodes when it exits.\n"
		"\n"
		"A rebuilt domain (reboot, restore, migrate) keeps its name, UUID, channels\n"
		"and agents; channels added at runtime are gone, the rings start empty and\n"
		"sink agents go on counting in their FILE.\n"
		"\n"
		"Environment: XENCHAN_SIM_DIR, XENCHAN_SIM_XEN_VERSION (default release),\n"
		"XENCHAN_SIM_LIBEXEC, XENCHAN_SIM_TIMEOUT, XENCHAN_SIM_TRACE,\n"
		"XENCHAN_SIM_MIGRATE_PAUSE_MS (how long migrate holds both copies),\n"
		"XENCHAN_SIM_DEVICES_PAUSE_MS (how long a build waits before adding channels),\n"
		"XENSTORED (default " DEFAULT_XENSTORED ").\n");
}

__attribute__((noreturn)) static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", sim_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", sim_progname);
	exit(2);
}

static void on_alarm(int sig)
{
	static const char pfx[] = "xenchan-sim: timed out waiting for ";
	const char *w = alarm_what ? alarm_what : "the host";

	(void)sig;
	if (write(2, pfx, sizeof(pfx) - 1) < 0 || write(2, w, strlen(w)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(2);
	_exit(2);
}

/* Bound a blocking call that has no timeout of its own (libxenstore). */
static void guard(const char *what)
{
	alarm_what = what;
	alarm(what ? timeout_s : 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ms_left(double deadline)
{
	double d = deadline - now_s();

	return d <= 0 ? 0 : (int)(d * 1000) + 1;
}

static char *read_file(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "we");

	if (!f)
		sim_die("%s: %s", path, strerror(errno));
	fputs(content, f);
	if (fclose(f) != 0)
		sim_die("%s: %s", path, strerror(errno));
}

static pid_t read_pid(const char *path)
{
	char *s = read_file(path);
	long v;
	char *end;

	if (!s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 1 || v > INT_MAX)
		v = 0;
	free(s);
	return (pid_t)v;
}

static bool parse_domid(const char *s, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= SIM_MAX_DOMAINS)
		return false;
	*out = (unsigned)v;
	return true;
}

/*
 * The directory of the host's other programs and the preload library:
 * $XENCHAN_SIM_LIBEXEC, else this program's own directory when they were
 * built next to it (a build tree), else where make install put them.
 */
static const char *libexec(void)
{
	static char *dir;
	char buf[PATH_MAX], *self, *hv;
	ssize_t n;

	if (dir)
		return dir;
	if (getenv("XENCHAN_SIM_LIBEXEC") && *getenv("XENCHAN_SIM_LIBEXEC")) {
		dir = realpath(getenv("XENCHAN_SIM_LIBEXEC"), NULL);
		if (!dir)
			sim_die("XENCHAN_SIM_LIBEXEC=%s: %s", getenv("XENCHAN_SIM_LIBEXEC"),
				strerror(errno));
		return dir;
	}
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0)
		sim_die("/proc/self/exe: %s", strerror(errno));
	buf[n] = '\0';
	self = dirname(buf);
	hv = sim_xasprintf("%s/xenchan-sim-hv", self);
	dir = strdup(access(hv, X_OK) == 0 ? self : SIM_LIBEXECDIR);
	free(hv);
	if (!dir)
		sim_die("out of memory");
	return dir;
}

static char *sim_prog(const char *name)
{
	char *p = sim_xasprintf("%s/%s", libexec(), name);

	if (access(p, X_OK) != 0)
		sim_die("%s: %s", p, strerror(errno));
	return p;
}

static const char *preload(void)
{
	static char *p;

	if (!p) {
		p = sim_xasprintf("%s/libxenchan-sim.so", libexec());
		if (access(p, R_OK) != 0)
			sim_die("%s: %s", p, strerror(errno));
	}
	return p;
}

/*
 * PATH entries for a host's processes: the xenchan commands (when built next
 * to us: tests/sim/../../{cmd,.}) and this directory.
 */
static char *path_prefix(void)
{
	const char *cands[] = { "/../../cmd", "/../.." };
	const char *bindir = getenv("XENCHAN_SIM_BINDIR");
	char *found = NULL;

	if (bindir && *bindir)
		found = realpath(bindir, NULL);
	for (size_t i = 0; !found && i < sizeof(cands) / sizeof(cands[0]); i++) {
		char *d = sim_xasprintf("%s%s", libexec(), cands[i]);
		char *ls = sim_xasprintf("%s/xenchan-ls", d);

		if (access(ls, X_OK) == 0)
			found = realpath(d, NULL);
		free(ls);
		free(d);
	}
	if (!found)
		return strdup(libexec());
	char *r = sim_xasprintf("%s:%s", found, libexec());

	free(found);
	return r;
}

static char *xs_sock(const char *dir)
{
	return sim_xasprintf("%s/xenstored/socket", dir);
}

static char *xenbus_path(const char *dir, unsigned domid)
{
	return domid ? sim_xasprintf("%s/dom%u/xenbus", dir, domid) : xs_sock(dir);
}

/* The environment of a process of domain @domid (in this process). */
static void enter_domain(const char *dir, unsigned domid)
{
	char *xp = xenbus_path(dir, domid);
	char *id = sim_xasprintf("%u", domid);
	char *pp = path_prefix();
	const char *old = getenv("PATH");
	char *path = sim_xasprintf("%s:%s", pp, old && *old ? old : "/usr/bin:/bin");

	if (setenv(SIM_ENV_DIR, dir, 1) || setenv(SIM_ENV_DOMID, id, 1) ||
	    setenv("XENSTORED_PATH", xp, 1) || setenv("LD_PRELOAD", preload(), 1) ||
	    setenv("PATH", path, 1))
		sim_die("setenv: %s", strerror(errno));
	free(xp);
	free(id);
	free(pp);
	free(path);
}

/* The host directory: --dir, the argument, or $XENCHAN_SIM_DIR, made absolute. */
static const char *host_dir(const char *arg)
{
	const char *d = arg ? arg : opt_dir ? opt_dir : getenv(SIM_ENV_DIR);
	char *abs;

	if (!d || !*d)
		sim_die("no emulated host: pass a directory or set %s", SIM_ENV_DIR);
	abs = realpath(d, NULL);
	if (!abs)
		sim_die("%s: %s", d, strerror(errno));
	return abs;
}

static int hv_open(const char *dir)
{
	int fd;

	guard("xenchan-sim-hv");
	fd = sim_hv_connect(dir, 0);

	if (fd < 0)
		sim_die("%s/hv.sock: %s (is the host running?)", dir, strerror(-fd));
	return fd;
}

static struct xs_handle *xs_connect(const char *dir)
{
	char *p = xs_sock(dir);
	struct xs_handle *h;

	setenv("XENSTORED_PATH", p, 1);
	guard("xenstored");
	h = xs_open(XS_OPEN_SOCKETONLY);
	if (!h)
		sim_die("%s: cannot connect to xenstored: %s", p, strerror(errno));
	free(p);
	return h;
}

static char *xs_get(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char *xs_get(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
{
	va_list ap;
	char *path, *v;
	unsigned len;

	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		sim_die("out of memory");
	va_end(ap);
	v = xs_read(h, t, path, &len);
	free(path);
	return v;
}

/* One transaction of the domain builder; writes die on error. */
struct txn {
	struct xs_handle *h;
	xs_transaction_t t;
};

static void tx_write(struct txn *tx, const char *path, const char *val)
{
	if (!xs_write(tx->h, tx->t, path, val, strlen(val)))
		sim_die("xenstore write %s: %s", path, strerror(errno));
}

static void tx_perms(struct txn *tx, const char *path, unsigned owner, int reader)
{
	struct xs_permissions p[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader < 0 ? 0 : (unsigned)reader, .perms = XS_PERM_READ },
	};

	if (!xs_set_permissions(tx->h, tx->t, path, p, reader < 0 ? 1 : 2))
		sim_die("xenstore set permissions %s: %s", path, strerror(errno));
}

/* libxl__xs_mknod: an empty node with the given permissions. */
static void tx_mknod(struct txn *tx, const char *path, unsigned owner, int reader)
{
	tx_write(tx, path, "");
	tx_perms(tx, path, owner, reader);
}

static void tx_rm(struct txn *tx, const char *path)
{
	if (!xs_rm(tx->h, tx->t, path) && errno != ENOENT)
		sim_die("xenstore rm %s: %s", path, strerror(errno));
}

/* Key/value pairs written below a directory, each with the given perms. */
struct kv {
	const char *k;
	const char *v;
};

static void tx_writev(struct txn *tx, const char *dir, const struct kv *kv, size_t n,
		      int owner, int reader)
{
	for (size_t i = 0; i < n; i++) {
		char *p;

		if (!kv[i].v)
			continue;
		p = sim_xasprintf("%s/%s", dir, kv[i].k);
		tx_write(tx, p, kv[i].v);
		if (owner >= 0)
			tx_perms(tx, p, (unsigned)owner, reader);
		free(p);
	}
}

static void tx_begin(struct txn *tx, struct xs_handle *h)
{
	tx->h = h;
	tx->t = xs_transaction_start(h);
	if (tx->t == XBT_NULL)
		sim_die("xenstore transaction start: %s", strerror(errno));
}

/* Returns false when the transaction must be retried. */
static bool tx_end(struct txn *tx)
{
	if (xs_transaction_end(tx->h, tx->t, false))
		return true;
	if (errno == EAGAIN)
		return false;
	sim_die("xenstore transaction end: %s", strerror(errno));
}

/* ---- the Xen release a host models ---- */

struct xen_version {
	unsigned major, minor, patch;
};

#define XEN_VERSION_FILE "xen-version"

/* "X.Y" or "X.Y.Z" and nothing else when strict; else what leads a Debian
 * version ("4.20.4+37-g...-1", an epoch allowed). */
static bool parse_version(const char *s, bool strict, struct xen_version *v)
{
	unsigned long n[3] = { 0, 0, 0 };
	int parts = 0;

	if (!strict && isdigit((unsigned char)*s) && strchr(s, ':')) {
		const char *p = s;

		while (isdigit((unsigned char)*p))
			p++;
		if (*p == ':')
			s = p + 1;
	}
	while (parts < 3 && isdigit((unsigned char)*s)) {
		char *end;

		errno = 0;
		n[parts] = strtoul(s, &end, 10);
		if (errno || n[parts] > 9999)
			return false;
		parts++;
		s = end;
		if (*s != '.' || parts == 3)
			break;
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
	}
	if (parts < 2 || (strict && *s) || (!strict && isdigit((unsigned char)*s)))
		return false;
	v->major = (unsigned)n[0];
	v->minor = (unsigned)n[1];
	v->patch = (unsigned)n[2];
	return true;
}

static int version_cmp(const struct xen_version *v, unsigned major, unsigned minor,
		       unsigned patch)
{
	if (v->major != major)
		return v->major < major ? -1 : 1;
	if (v->minor != minor)
		return v->minor < minor ? -1 : 1;
	if (v->patch != patch)
		return v->patch < patch ? -1 : 1;
	return 0;
}

/*
 * xl gives the first entry of channel = [...] devid 0, which libxl takes
 * for the primary console and drops: up to 4.18.4, in 4.19.0-4.19.1 and in
 * 4.20.0.  Fixed in 4.21 (xen commit e1ccced4af) and backported to 4.18.5,
 * 4.19.2 and 4.20.1; never in 4.17.
 */
static bool xl_drops_first_channel(const struct xen_version *v)
{
	if (version_cmp(v, 4, 18, 5) < 0)
		return true;
	if (v->major == 4 && v->minor == 19)
		return v->patch < 2;
	if (v->major == 4 && v->minor == 20)
		return v->patch < 1;
	return false;
}

/* Debian pairs Xen 4.17 with qemu 7.2 (legacy console backend), later
 * releases with qemu 8.2 and later (the xen-console device). */
static bool qemu_xen_console(const struct xen_version *v)
{
	return version_cmp(v, 4, 18, 0) >= 0;
}

static char *version_text(const struct xen_version *v)
{
	return sim_xasprintf("%u.%u.%u", v->major, v->minor, v->patch);
}

/* A version given by the user: die with a clear message when it is not one. */
static void user_version(const char *s, const char *what, struct xen_version *v)
{
	if (!parse_version(s, true, v))
		bad_usage("%s%s: not a Xen version (X.Y or X.Y.Z)", what, s);
	if (version_cmp(v, 4, 17, 0) < 0)
		bad_usage("%s%s: xenchan-sim models Xen 4.17 and later", what, s);
}

/* Run argv; its standard output (first 4 KiB), or NULL when it fails. */
static char *capture(const char *const argv[])
{
	char buf[4096];
	size_t got = 0;
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		signal(SIGALRM, SIG_DFL);
		if (dup2(p[1], 1) < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 2) < 0)
			_exit(127);
		unsetenv("LD_PRELOAD");
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(buf) - 1)
			break;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return NULL;
	buf[got] = '\0';
	return strdup(buf);
}

/*
 * The Xen release xenstored belongs to: the version of the Debian package
 * that installed it (dpkg-query -S, then -W), else the X.Y of a
 * /usr/lib/xen-X.Y/ path when the patch level makes no difference to the
 * model.  Dies, saying what to pass instead, when it cannot tell.
 */
static void xenstored_version(const char *xenstored, struct xen_version *v)
{
	char *real = realpath(xenstored, NULL);
	const char *path = real ? real : xenstored;
	const char *sargv[] = { "dpkg-query", "-S", path, NULL };
	char *out = capture(sargv), *line, *save = NULL;
	const char *p;

	for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strstr(line, ": ");
		char *ver;

		if (strncmp(line, "diversion ", 10) == 0 || !colon)
			continue;
		*colon = '\0';
		line[strcspn(line, ", ")] = '\0';
		{
			const char *wargv[] = { "dpkg-query", "-W", "-f=${Version}", line, NULL };

			ver = capture(wargv);
		}
		if (ver && parse_version(ver, false, v)) {
			free(ver);
			free(out);
			free(real);
			return;
		}
		free(ver);
		break;
	}
	free(out);
	p = strstr(path, "/xen-");
	if (p && parse_version(p + 5, false, v) && version_cmp(v, 4, 17, 0) >= 0) {
		struct xen_version last = *v;

		/* Does the patch level matter?  Compare X.Y.0 with X.Y.9999. */
		last.patch = 9999;
		if (xl_drops_first_channel(v) == xl_drops_first_channel(&last)) {
			free(real);
			return;
		}
		sim_die("%s: cannot tell which Xen %u.%u.Z it belongs to (dpkg does not know it), "
			"and Z matters; pass --xen-version or set XENCHAN_SIM_XEN_VERSION",
			path, v->major, v->minor);
	}
	sim_die("%s: cannot tell which Xen release it belongs to; pass --xen-version or set "
		"XENCHAN_SIM_XEN_VERSION", path);
}

/* The release the host in dir models, as start recorded it. */
static void host_version(const char *dir, struct xen_version *v)
{
	char *f = sim_xasprintf("%s/" XEN_VERSION_FILE, dir);
	char *s = read_file(f);

	if (!s || !parse_version(s, true, v))
		sim_die("%s: %s (is the host running?)", f, s ? "not a Xen version" :
							      strerror(errno));
	free(s);
	free(f);
}

/* ---- processes ---- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*
 * Is @pid a process of the host in @dir (and of domain @domid, unless it is
 * negative)?  Guards against stale pid files.
 */
static bool ours_in(pid_t pid, const char *dir, int domid)
{
	char *p = sim_xasprintf("/proc/%d/environ", (int)pid);
	char *want = sim_xasprintf("%s=%s", SIM_ENV_DIR, dir);
	char *want_id = sim_xasprintf("%s=%d", SIM_ENV_DOMID, domid);
	char buf[65536];
	bool found = false, found_id = domid < 0;
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	free(p);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0)
			buf[n] = '\0';
		for (ssize_t i = 0; n > 0 && i < n; i += strlen(buf + i) + 1) {
			if (strcmp(buf + i, want) == 0)
				found = true;
			if (strcmp(buf + i, want_id) == 0)
				found_id = true;
		}
	}
	free(want);
	free(want_id);
	return found && found_id;
}

static bool ours(pid_t pid, const char *dir)
{
	return ours_in(pid, dir, -1);
}

/* Wait up to @ms for @pid (not necessarily our child) to exit. */
static bool wait_gone(pid_t pid, int ms)
{
	struct pollfd pfd = { .events = POLLIN };
	int r;

	pfd.fd = pidfd_open_(pid);
	if (pfd.fd < 0)
		return errno == ESRCH;
	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	close(pfd.fd);
	waitpid(pid, NULL, WNOHANG);
	return r > 0;
}

/* SIGTERM, then SIGKILL after a bounded wait. */
static void terminate(pid_t pid, const char *name)
{
	if (kill(pid, SIGTERM) < 0)
		return;
	if (wait_gone(pid, (int)timeout_s * 500))
		return;
	sim_warn("%s (pid %d) ignored SIGTERM, killing it", name, (int)pid);
	kill(pid, SIGKILL);
	if (!wait_gone(pid, (int)timeout_s * 500))
		sim_warn("%s (pid %d) survived SIGKILL", name, (int)pid);
}

static void dump_log(const char *log)
{
	char buf[2048];
	ssize_t n;
	off_t sz;
	int fd = open(log, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	sz = lseek(fd, 0, SEEK_END);
	lseek(fd, sz > (off_t)sizeof(buf) ? sz - (off_t)sizeof(buf) : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0) {
		fprintf(stderr, "%s: last lines of %s:\n", sim_progname, log);
		fwrite(buf, 1, n, stderr);
		if (buf[n - 1] != '\n')
			fputc('\n', stderr);
	}
}

/*
 * Start a daemon detached by setsid(): stdin /dev/null, stdout and stderr to @log,
 * @env ("NAME=VALUE" sets, "NAME" unsets) applied, no descriptor inherited but
 * the write end of the ready pipe, passed as descriptor 3 (*readyfd gets the
 * read end) when readyfd is not NULL.
 */
static pid_t spawn(const char *const argv[], const char *const env[], const char *log,
		   int *readyfd)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (readyfd && pipe2(p, O_CLOEXEC) < 0)
		sim_die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		sim_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd;

		setsid();
		signal(SIGALRM, SIG_DFL);
		alarm(0);
		for (size_t i = 0; env && env[i]; i++) {
			if (strchr(env[i], '='))
				putenv((char *)env[i]);
			else
				unsetenv(env[i]);
		}
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		if (readyfd) {
			if (p[1] != 3 && dup2(p[1], 3) < 0)
				_exit(127);
			fcntl(3, F_SETFD, 0);
		}
		syscall(SYS_close_range, readyfd ? 4 : 3, ~0U, 0);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "%s: exec %s: %s\n", sim_progname, argv[0], strerror(errno));
		_exit(127);
	}
	if (readyfd) {
		close(p[1]);
		*readyfd = p[0];
	}
	return pid;
}

static void describe_exit(pid_t pid, const char *name, const char *log)
{
	int st;

	if (waitpid(pid, &st, WNOHANG) == pid) {
		if (WIFEXITED(st))
			sim_warn("%s exited with status %d", name, WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			sim_warn("%s killed by signal %d", name, WTERMSIG(st));
	}
	dump_log(log);
}

/* Wait for "ready\n" on @fd; dies (after killing @pid) if it does not come. */
static void wait_ready(int fd, pid_t pid, const char *name, const char *log)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double deadline = now_s() + timeout_s;
	char buf[16];
	size_t got = 0;

	for (;;) {
		ssize_t n;
		int r = poll(&pfd, 1, ms_left(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			kill(pid, SIGKILL);
			dump_log(log);
			sim_die("%s not ready after %u s", name, timeout_s);
		}
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Give it a moment to be reaped for a useful status. */
			wait_gone(pid, 200);
			describe_exit(pid, name, log);
			sim_die("%s failed to start", name);
		}
		got += n;
		buf[got] = '\0';
		if (strchr(buf, '\n'))
			break;
		if (got == sizeof(buf) - 1)
			sim_die("%s: unexpected readiness message", name);
	}
	if (strcmp(buf, "ready\n") != 0)
		sim_die("%s: unexpected readiness message", name);
	close(fd);
}

/* xenstored has no readiness descriptor: wait for its socket to accept. */
static void wait_xenstored(const char *dir, pid_t pid, const char *log)
{
	char *rundir = sim_xasprintf("%s/xenstored", dir);
	char *sock = xs_sock(dir);
	double deadline = now_s() + timeout_s;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (in < 0 || inotify_add_watch(in, rundir, IN_CREATE | IN_MOVED_TO) < 0)
		sim_die("inotify %s: %s", rundir, strerror(errno));
	for (;;) {
		struct pollfd pfd = { .fd = in, .events = POLLIN };
		char ev[4096];
		int fd = sim_connect_unix(sock);
		int st, ms;

		if (fd >= 0) {
			close(fd);
			break;
		}
		if (fd != -ENOENT && fd != -ECONNREFUSED)
			sim_die("%s: %s", sock, strerror(-fd));
		if (waitpid(pid, &st, WNOHANG) == pid) {
			dump_log(log);
			sim_die("xenstored exited before it was ready");
		}
		ms = ms_left(deadline);
		if (!ms) {
			kill(pid, SIGKILL);
			dump_log(log);
			sim_die("xenstored not ready after %u s", timeout_s);
		}
		/* Between bind and listen a connect is refused: retry shortly. */
		poll(&pfd, 1, ms < 20 ? ms : 20);
		while (read(in, ev, sizeof(ev)) > 0)
			;
	}
	close(in);
	free(rundir);
	free(sock);
}

static void rm_tree(const char *path);

static void kill_domain_procs(const char *dir, unsigned domid)
{
	char *f = sim_xasprintf("%s/dom%u/pgid", dir, domid);
	pid_t pgid = read_pid(f);

	free(f);
	/* A process group outlives its leader but its id is not reused meanwhile. */
	if (pgid && (ours(pgid, dir) || kill(pgid, 0) < 0)) {
		kill(-pgid, SIGKILL);
		wait_gone(pgid, (int)timeout_s * 1000);
	}
	/* Processes started with `exec -D`: a domain stops at once. */
	f = sim_xasprintf("%s/dom%u/procs", dir, domid);
	FILE *in = fopen(f, "re");
	int pid;

	while (in && fscanf(in, "%d", &pid) == 1)
		if (pid > 1 && ours_in(pid, dir, (int)domid))
			kill(pid, SIGKILL);
	if (in)
		fclose(in);
	free(f);

	f = sim_xasprintf("%s/dom%u/qemu.pid", dir, domid);
	pid_t q = read_pid(f);

	if (q && ours(q, dir))
		terminate(q, "xenchan-sim-qemu");
	free(f);
	f = sim_xasprintf("%s/dom%u/console.pid", dir, domid);
	q = read_pid(f);
	if (q && ours(q, dir))
		terminate(q, "xenchan-sim-console");
	free(f);
}

/*
 * Another domain names the same /vm/<uuid>: during a migration on one host,
 * the incoming copy.  The outgoing one's destruction leaves it alone.
 */
static bool vm_shared(struct xs_handle *h, unsigned domid, const char *vm)
{
	unsigned n;
	char **ids = xs_directory(h, XBT_NULL, "/local/domain", &n);
	bool shared = false;

	for (unsigned i = 0; ids && i < n && !shared; i++) {
		unsigned other;
		char *v;

		if (!parse_domid(ids[i], &other) || other == domid)
			continue;
		v = xs_get(h, XBT_NULL, "/local/domain/%u/vm", other);
		shared = v && strcmp(v, vm) == 0;
		free(v);
	}
	free(ids);
	return shared;
}

/* Tear down a domain; tolerant of pieces already gone (h and hv may be NULL/-1). */
static void destroy_domain(const char *dir, unsigned domid, struct xs_handle *h, int hv)
{
	char *d = sim_xasprintf("%s/dom%u", dir, domid);

	guard(NULL);
	kill_domain_procs(dir, domid);
	if (h) {
		char *vm = xs_get(h, XBT_NULL, "/local/domain/%u/vm", domid);
		struct txn tx;
		char *p[4];

		guard("xenstored");
		p[0] = sim_xasprintf("/local/domain/0/backend/console/%u", domid);
		p[1] = sim_xasprintf("/local/domain/%u", domid);
		p[2] = sim_xasprintf("/libxl/%u", domid);
		p[3] = vm && strncmp(vm, "/vm/", 4) == 0 && !strchr(vm + 4, '/') && vm[4] &&
				       !vm_shared(h, domid, vm) ?
			       strdup(vm) :
			       NULL;
		do {
			tx_begin(&tx, h);
			for (size_t i = 0; i < 4; i++)
				if (p[i])
					tx_rm(&tx, p[i]);
		} while (!tx_end(&tx));
		for (size_t i = 0; i < 4; i++)
			free(p[i]);
		free(vm);
	}
	if (hv >= 0) {
		struct sim_req req = { .op = SIM_DOMAIN_DESTROY, .a = domid };
		struct sim_rep rep;
		int r;

		guard("xenchan-sim-hv");
		r = sim_hv_call(hv, &req, NULL, 0, &rep, NULL, 0, NULL, NULL);

		if (r < 0 && r != -ENOENT)
			sim_warn("destroy domain %u: %s", domid, strerror(-r));
	}
	guard(NULL);
	rm_tree(d);
	free(d);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		sim_warn("%s: %s", path, strerror(errno));
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	if (cleanup_domid >= 0) {
		int hv;
		struct xs_handle *h;
		char *p = xs_sock(cleanup_dir);

		guard("the host to tear down a domain");
		hv = sim_hv_connect(cleanup_dir, 0);
		setenv("XENSTORED_PATH", p, 1);
		h = xs_open(XS_OPEN_SOCKETONLY);
		destroy_domain(cleanup_dir, (unsigned)cleanup_domid, h, hv);
		xs_close(h);
		if (hv >= 0)
			close(hv);
	}
	for (size_t i = 0; i < 2; i++)
		if (cleanup_pids[i] > 0)
			terminate(cleanup_pids[i], "host daemon");
}

/* ---- start, stop, env, shell ---- */

static char *env_text(const char *dir, const struct xen_version *v)
{
	char *xp = xs_sock(dir);
	char *pp = path_prefix();
	char *s = sim_xasprintf("# an emulated host modelling Xen %u.%u.%u (xenchan-sim status)\n"
				"export %s='%s'\n"
				"export XENSTORED_PATH='%s'\n"
				"export LD_PRELOAD='%s'\n"
				"export %s=0\n"
				"export PATH='%s':\"$PATH\"\n"
				"export XENCHAN_RUNDIR='%s/run'\n",
				v->major, v->minor, v->patch, SIM_ENV_DIR, dir, xp, preload(),
				SIM_ENV_DOMID, pp, dir);

	free(xp);
	free(pp);
	return s;
}

/* What xen-init-dom0 writes. */
static void init_dom0(struct xs_handle *h)
{
	static const char vm[] = "/vm/" DOM0_UUID;
	struct txn tx;

	do {
		tx_begin(&tx, h);
		tx_write(&tx, "/local/domain/0/domid", "0");
		tx_write(&tx, "/local/domain/0/name", "Domain-0");
		tx_write(&tx, "/local/domain/0/vm", vm);
		tx_write(&tx, vm, "");
		tx_write(&tx, "/vm/" DOM0_UUID "/name", "Domain-0");
		tx_write(&tx, "/vm/" DOM0_UUID "/uuid", DOM0_UUID);
	} while (!tx_end(&tx));
}

static int cmd_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xen-version", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *arg, *want = NULL, *xenstored = getenv("XENSTORED");
	char *dir, *f, *log, *rundir, *sock, *text;
	const char *hv_argv[4], *xs_argv[6], *hv_env[3], *xs_env[8];
	struct xen_version ver;
	struct xs_handle *h;
	pid_t hv, xsd;
	int rfd, fd, c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			want = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad_usage("start: bad option");
		}
	}
	arg = optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		bad_usage("start: too many arguments");
	if (want)
		user_version(want, "--xen-version ", &ver);
	else if (getenv("XENCHAN_SIM_XEN_VERSION") && *getenv("XENCHAN_SIM_XEN_VERSION"))
		user_version(getenv("XENCHAN_SIM_XEN_VERSION"), "XENCHAN_SIM_XEN_VERSION=", &ver);
	if (!arg)
		arg = opt_dir ? opt_dir : getenv(SIM_ENV_DIR);
	if (arg && *arg) {
		if (mkdir(arg, 0700) < 0 && errno != EEXIST)
			sim_die("%s: %s", arg, strerror(errno));
		dir = realpath(arg, NULL);
		if (!dir)
			sim_die("%s: %s", arg, strerror(errno));
	} else {
		char tmpl[] = "/tmp/xcs.XXXXXX";

		if (!mkdtemp(tmpl))
			sim_die("mkdtemp: %s", strerror(errno));
		dir = strdup(tmpl);
	}
	/* The longest socket path a host uses must fit in sun_path (108). */
	if (strlen(dir) + sizeof("/dom4095/xenbus.sock") > 108)
		sim_die("%s: path too long for unix sockets in it (use a short path)", dir);
	if ((fd = sim_hv_connect(dir, 0)) >= 0)
		sim_die("%s: a host is already running there", dir);
	if (!xenstored || !*xenstored)
		xenstored = DEFAULT_XENSTORED;
	if (access(xenstored, X_OK) != 0)
		sim_die("%s: %s (set XENSTORED to the real xenstored binary)", xenstored,
			strerror(errno));
	if (!want && !(getenv("XENCHAN_SIM_XEN_VERSION") && *getenv("XENCHAN_SIM_XEN_VERSION")))
		xenstored_version(xenstored, &ver);
	cleanup_dir = dir;
	f = sim_xasprintf("%s/" XEN_VERSION_FILE, dir);
	write_file(f, sim_xasprintf("%s\n", version_text(&ver)));
	f = sim_xasprintf("%s/xenstored.path", dir);
	write_file(f, sim_xasprintf("%s\n", xenstored));

	hv_argv[0] = sim_prog("xenchan-sim-hv");
	hv_argv[1] = "--ready-fd";
	hv_argv[2] = "3";
	hv_argv[3] = NULL;
	hv_env[0] = sim_xasprintf("%s=%s", SIM_ENV_DIR, dir);
	hv_env[1] = "LD_PRELOAD";
	hv_env[2] = NULL;
	log = sim_xasprintf("%s/hv.log", dir);
	hv = spawn(hv_argv, hv_env, log, &rfd);
	cleanup_pids[0] = hv;
	f = sim_xasprintf("%s/hv.pid", dir);
	write_file(f, sim_xasprintf("%d\n", (int)hv));
	wait_ready(rfd, hv, "xenchan-sim-hv", log);

	rundir = sim_xasprintf("%s/xenstored", dir);
	if (mkdir(rundir, 0755) < 0 && errno != EEXIST)
		sim_die("%s: %s", rundir, strerror(errno));
	sock = xs_sock(dir);
	unlink(sock);
	xs_argv[0] = xenstored;
	xs_argv[1] = "-N";
	xs_argv[2] = NULL;
	if (getenv("XENCHAN_SIM_TRACE") && *getenv("XENCHAN_SIM_TRACE")) {
		xs_argv[2] = "-T";
		xs_argv[3] = sim_xasprintf("%s/xenstored.trace", dir);
		xs_argv[4] = NULL;
	}
	xs_env[0] = sim_xasprintf("XENSTORED_RUNDIR=%s", rundir);
	xs_env[1] = sim_xasprintf("LD_PRELOAD=%s", preload());
	xs_env[2] = sim_xasprintf("%s=%s", SIM_ENV_DIR, dir);
	xs_env[3] = sim_xasprintf("%s=0", SIM_ENV_DOMID);
	xs_env[4] = "XENSTORED_PATH";
	xs_env[5] = NULL;
	log = sim_xasprintf("%s/xenstored.log", dir);
	xsd = spawn(xs_argv, xs_env, log, NULL);
	cleanup_pids[1] = xsd;
	f = sim_xasprintf("%s/xenstored.pid", dir);
	write_file(f, sim_xasprintf("%d\n", (int)xsd));
	wait_xenstored(dir, xsd, log);

	h = xs_connect(dir);
	init_dom0(h);
	xs_close(h);
	guard(NULL);

	text = env_text(dir, &ver);
	f = sim_xasprintf("%s/env", dir);
	write_file(f, text);
	cleanup_pids[0] = cleanup_pids[1] = 0;
	printf("%s\n", dir);
	return 0;
}

static int cmd_stop(int argc, char **argv)
{
	const char *dir;
	struct xs_handle *h = NULL;
	char *p, *xp;
	DIR *dh;
	struct dirent *de;
	int hv;
	pid_t pid;

	dir = host_dir(optind < argc ? argv[optind++] : NULL);
	if (optind < argc)
		bad_usage("stop: too many arguments");
	guard("the host to stop");
	hv = sim_hv_connect(dir, 0);
	xp = xs_sock(dir);
	if (sim_connect_unix(xp) >= 0)
		h = xs_connect(dir);
	dh = opendir(dir);
	if (!dh)
		sim_die("%s: %s", dir, strerror(errno));
	while ((de = readdir(dh))) {
		unsigned domid;

		if (strncmp(de->d_name, "dom", 3) == 0 && parse_domid(de->d_name + 3, &domid) &&
		    domid)
			destroy_domain(dir, domid, h, hv);
	}
	closedir(dh);
	guard(NULL);
	xs_close(h);
	if (hv >= 0)
		close(hv);

	p = sim_xasprintf("%s/xenstored.pid", dir);
	pid = read_pid(p);
	if (pid && ours(pid, dir))
		terminate(pid, "xenstored");
	unlink(p);
	p = sim_xasprintf("%s/hv.pid", dir);
	pid = read_pid(p);
	if (pid && ours(pid, dir))
		terminate(pid, "xenchan-sim-hv");
	unlink(p);
	unlink(xp);
	unlink(sim_xasprintf("%s/xenstored/socket_ro", dir));
	unlink(sim_xasprintf("%s/hv.sock", dir));
	return 0;
}

static int cmd_env(int argc, char **argv)
{
	const char *dir = host_dir(optind < argc ? argv[optind++] : NULL);
	char *f = sim_xasprintf("%s/env", dir);
	FILE *in;
	char buf[4096];
	size_t n;

	if (optind < argc)
		bad_usage("env: too many arguments");
	in = fopen(f, "re");
	if (!in)
		sim_die("%s: %s (is the host running?)", f, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(in);
	if (fflush(stdout) != 0 || ferror(stdout))
		sim_die("write error: %s", strerror(errno));
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	const char *dir = host_dir(optind < argc ? argv[optind++] : NULL);
	char *f = sim_xasprintf("%s/xenstored.path", dir);
	char *xenstored = read_file(f);
	struct xen_version v;

	if (optind < argc)
		bad_usage("status: too many arguments");
	host_version(dir, &v);
	printf("host: %s\n"
	       "xen-version: %u.%u.%u\n"
	       "xenstored: %s\n",
	       dir, v.major, v.minor, v.patch, xenstored ? xenstored : "-");
	if (xl_drops_first_channel(&v))
		printf("first-channel: dropped (xl gives the first channel entry devid 0, "
		       "the primary console's)\n");
	else
		printf("first-channel: kept (channels are devids 1, 2, ... in order)\n");
	if (qemu_xen_console(&v))
		printf("device-model: xen-console (qemu 8.2 and later: two ptys per pty channel, "
		       "nodes deleted when qemu exits)\n");
	else
		printf("device-model: legacy (qemu 7.2: one pty per pty channel, nodes left when "
		       "qemu exits)\n");
	free(f);
	free(xenstored);
	if (fflush(stdout) != 0 || ferror(stdout))
		sim_die("write error: %s", strerror(errno));
	return 0;
}

static int cmd_shell(int argc, char **argv)
{
	const char *dir = host_dir(optind < argc ? argv[optind++] : NULL);
	const char *sh = getenv("SHELL");
	char *f = sim_xasprintf("%s/env", dir);

	if (optind < argc)
		bad_usage("shell: too many arguments");
	if (access(f, R_OK) != 0)
		sim_die("%s: %s (is the host running?)", f, strerror(errno));
	if (!sh || !*sh)
		sh = "/bin/sh";
	enter_domain(dir, 0);
	execl(sh, sh, (char *)NULL);
	sim_die("exec %s: %s", sh, strerror(errno));
}

/* ---- create ---- */

struct channel {
	char *name;
	char *connection; /* "socket" or "pty" */
	char *path;
};

/* Parses an xl channel SPEC into ch; NULL, or what is wrong with it. */
static char *parse_channel(const char *spec, struct channel *ch)
{
	char *s = strdup(spec), *save = NULL, *tok;

	if (!s)
		sim_die("out of memory");
	memset(ch, 0, sizeof(*ch));
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');

		while (*tok == ' ')
			tok++;
		if (!v)
			return sim_xasprintf("channel %s: '%s' is not KEY=VALUE", spec, tok);
		*v++ = '\0';
		if (strcmp(tok, "name") == 0)
			ch->name = v;
		else if (strcmp(tok, "connection") == 0)
			ch->connection = v;
		else if (strcmp(tok, "path") == 0)
			ch->path = v;
		else
			return sim_xasprintf("channel %s: unknown key '%s'", spec, tok);
	}
	if (!ch->name || !*ch->name)
		return sim_xasprintf("channel %s: a channel needs a name", spec);
	if (strpbrk(ch->name, " \t\n/"))
		return sim_xasprintf("channel %s: bad channel name", spec);
	if (!ch->connection)
		return sim_xasprintf("channel %s: connection=socket or connection=pty is required",
				     spec);
	if (strcmp(ch->connection, "socket") == 0) {
		if (!ch->path || ch->path[0] != '/')
			return sim_xasprintf("channel %s: a socket channel needs an absolute path",
					     spec);
		if (strlen(ch->path) >= 108)
			return sim_xasprintf("channel %s: socket path too long", spec);
	} else if (strcmp(ch->connection, "pty") == 0) {
		if (ch->path)
			return sim_xasprintf("channel %s: path is only for connection=socket", spec);
	} else {
		return sim_xasprintf("channel %s: connection must be socket or pty", spec);
	}
	return NULL;
}

static bool valid_uuid(const char *u)
{
	if (strlen(u) != UUID_LEN)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)u[i]) || isupper((unsigned char)u[i])) {
			return false;
		}
	}
	return true;
}

static char *random_uuid(void)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		sim_die("getrandom: %s", strerror(errno));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	return sim_xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			     "%02x%02x%02x%02x%02x%02x",
			     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
			     b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* libxl__domain_make: the domain's directories and identity. */
static void make_domain(struct xs_handle *h, unsigned d, const char *name, const char *uuid)
{
	char *dom = sim_xasprintf("/local/domain/%u", d);
	char *vm = sim_xasprintf("/vm/%s", uuid);
	char *lx = sim_xasprintf("/libxl/%u", d);
	/* roperm: dom0 owns, the domain reads; rwperm: the domain owns. */
	static const char *const ro[] = { "cpu", "memory", "device", "control" };
	static const char *const rw[] = { "control/shutdown",
					  "control/feature-poweroff",
					  "control/feature-reboot",
					  "control/feature-suspend",
					  "control/sysrq",
					  "data",
					  "drivers",
					  "feature",
					  "attr",
					  "error" };
	struct txn tx;

	do {
		tx_begin(&tx, h);
		tx_rm(&tx, dom);
		tx_mknod(&tx, dom, 0, (int)d);
		tx_rm(&tx, vm);
		tx_mknod(&tx, vm, 0, (int)d);
		tx_rm(&tx, lx);
		tx_mknod(&tx, lx, 0, -1);
		tx_mknod(&tx, sim_xasprintf("%s/device", lx), 0, -1);
		tx_write(&tx, sim_xasprintf("%s/vm", dom), vm);
		tx_write(&tx, sim_xasprintf("%s/name", dom), name);
		for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
			tx_mknod(&tx, sim_xasprintf("%s/%s", dom, ro[i]), 0, (int)d);
		for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++)
			tx_mknod(&tx, sim_xasprintf("%s/%s", dom, rw[i]), d, -1);
		tx_write(&tx, sim_xasprintf("%s/uuid", vm), uuid);
		tx_write(&tx, sim_xasprintf("%s/name", vm), name);
		tx_write(&tx, sim_xasprintf("%s/type", lx), "pv");
		tx_write(&tx, sim_xasprintf("%s/control/platform-feature-multiprocessor-suspend",
					    dom),
			 "1");
		tx_write(&tx, sim_xasprintf("%s/control/platform-feature-xs_reset_watches", dom),
			 "1");
	} while (!tx_end(&tx));
}

/* libxl__build_post: memory, store, vcpus, start time; then the domain is introduced. */
static void build_post(struct xs_handle *h, unsigned d, unsigned port)
{
	char *dom = sim_xasprintf("/local/domain/%u", d);
	char *vm = xs_get(h, XBT_NULL, "%s/vm", dom);
	struct timeval tv;
	const struct kv ents[] = {
		{ "memory/static-max", "131072" },
		{ "memory/target", "131072" },
		{ "memory/videoram", "0" },
		{ "domid", sim_xasprintf("%u", d) },
		{ "store/port", sim_xasprintf("%u", port) },
		/* xenstored maps the page by its reserved grant, not this frame. */
		{ "store/ring-ref", "0" },
		{ "cpu/0/availability", "online" },
	};
	struct kv vms[] = {
		{ "image/ostype", "linux" },
		{ "start_time", NULL },
	};
	struct txn tx;

	if (!vm)
		sim_die("%s/vm: %s", dom, strerror(errno));
	gettimeofday(&tv, NULL);
	vms[1].v = sim_xasprintf("%lu.%02d", (unsigned long)tv.tv_sec, (int)tv.tv_usec / 10000);
	do {
		tx_begin(&tx, h);
		tx_writev(&tx, dom, ents, sizeof(ents) / sizeof(ents[0]), -1, -1);
		tx_writev(&tx, vm, vms, sizeof(vms) / sizeof(vms[0]), -1, -1);
	} while (!tx_end(&tx));
	guard("xenstored to introduce the domain");
	if (!xs_introduce_domain(h, d, 0, port))
		sim_die("introduce domain %u: %s", d, strerror(errno));
}

/*
 * libxl__device_console_add and libxl__device_generic_add: devid 0 is the
 * primary console (frontend /local/domain/D/console, read-only to the guest),
 * devid >= 1 a channel.
 */
static void console_add(struct txn *tx, unsigned d, unsigned devid, const struct channel *ch)
{
	char *fe = devid ? sim_xasprintf("/local/domain/%u/device/console/%u", d, devid) :
			   sim_xasprintf("/local/domain/%u/console", d);
	char *be = sim_xasprintf("/local/domain/0/backend/console/%u/%u", d, devid);
	char *lx = sim_xasprintf("/libxl/%u/device/console/%u", d, devid);
	char *fid = sim_xasprintf("%u", d);
	const struct kv back[] = {
		{ "frontend-id", fid },
		{ "online", "1" },
		{ "state", "1" },
		{ "protocol", XENCONSOLE_PROTOCOL },
		{ "name", ch ? ch->name : NULL },
		{ "connection", ch ? ch->connection : NULL },
		{ "path", ch ? ch->path : NULL },
	};
	const struct kv front[] = {
		{ "backend-id", "0" },
		{ "state", devid ? "1" : NULL },
		{ "protocol", devid ? XENCONSOLE_PROTOCOL : NULL },
	};
	const struct kv ro_front[] = {
		{ "name", ch ? ch->name : NULL },
		{ "limit", XENCONSOLE_LIMIT },
		{ "type", devid ? "ioemu" : "xenconsoled" },
		{ "output",
		  !ch || strcmp(ch->connection, "pty") == 0 ?
			  "pty" :
			  sim_xasprintf("chardev:libxl-channel%u", devid) },
		{ "tty", "" },
		/*
		 * The primary console ring is not emulated (xenforeignmemory
		 * is not modelled): nobody serves it, the values are inert.
		 */
		{ "port", devid ? NULL : "0" },
		{ "ring-ref", devid ? NULL : "0" },
	};

	tx_rm(tx, lx);
	tx_write(tx, sim_xasprintf("%s/frontend", lx), fe);
	tx_write(tx, sim_xasprintf("%s/backend", lx), be);

	tx_rm(tx, fe);
	tx_write(tx, fe, "");
	if (devid)
		tx_perms(tx, fe, d, 0);
	else
		tx_perms(tx, fe, 0, (int)d);
	tx_write(tx, sim_xasprintf("%s/backend", fe), be);
	tx_writev(tx, fe, front, sizeof(front) / sizeof(front[0]), (int)d, 0);
	tx_writev(tx, fe, ro_front, sizeof(ro_front) / sizeof(ro_front[0]), 0, (int)d);

	tx_rm(tx, be);
	tx_write(tx, be, "");
	tx_perms(tx, be, 0, (int)d);
	tx_write(tx, sim_xasprintf("%s/frontend", be), fe);
	tx_writev(tx, be, back, sizeof(back) / sizeof(back[0]), -1, -1);
	tx_writev(tx, lx, back, sizeof(back) / sizeof(back[0]), -1, -1);
}

static void add_consoles(struct xs_handle *h, unsigned d, const struct channel *ch, size_t n)
{
	struct txn tx;

	/* libxl adds the channels first, then the primary console. */
	for (size_t i = 0; i < n; i++) {
		do {
			tx_begin(&tx, h);
			console_add(&tx, d, (unsigned)i + 1, &ch[i]);
		} while (!tx_end(&tx));
	}
	do {
		tx_begin(&tx, h);
		console_add(&tx, d, 0, NULL);
	} while (!tx_end(&tx));
}

static bool name_taken(struct xs_handle *h, const char *name)
{
	unsigned n;
	char **ids = xs_directory(h, XBT_NULL, "/local/domain", &n);
	bool taken = false;

	for (unsigned i = 0; ids && i < n && !taken; i++) {
		char *v = xs_get(h, XBT_NULL, "/local/domain/%s/name", ids[i]);

		taken = v && strcmp(v, name) == 0;
		free(v);
	}
	free(ids);
	return taken;
}

static bool channels_connected(struct xs_handle *h, unsigned d, size_t n)
{
	for (size_t i = 1; i <= n; i++) {
		char *fe = xs_get(h, XBT_NULL, "/local/domain/%u/device/console/%zu/state", d, i);
		char *be = xs_get(h, XBT_NULL, "/local/domain/0/backend/console/%u/%zu/state", d,
				  i);
		bool ok = fe && be && strcmp(fe, "4") == 0 && strcmp(be, "4") == 0;

		free(fe);
		free(be);
		if (!ok)
			return false;
	}
	return true;
}

/* Wait, on xenstore watches, until every channel is Connected at both ends. */
static void wait_connected(struct xs_handle *h, unsigned d, size_t n)
{
	char *fe = sim_xasprintf("/local/domain/%u/device/console", d);
	char *be = sim_xasprintf("/local/domain/0/backend/console/%u", d);
	double deadline = now_s() + timeout_s;

	guard(NULL);
	if (!xs_watch(h, fe, "fe") || !xs_watch(h, be, "be"))
		sim_die("xenstore watch: %s", strerror(errno));
	while (!channels_connected(h, d, n)) {
		struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
		char **w;
		int r, ms = ms_left(deadline);

		if (!ms)
			sim_die("domain %u: channels not connected after %u s", d, timeout_s);
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno != EINTR)
			sim_die("poll: %s", strerror(errno));
		while ((w = xs_check_watch(h)))
			free(w);
	}
	xs_unwatch(h, fe, "fe");
	xs_unwatch(h, be, "be");
}

/*
 * What a domain was built with, as libxl keeps a domain's configuration: the
 * name, the UUID, xl's channel entries (as given: xl's treatment of the
 * first applies at every build) and the agents of its guest.  Kept in
 * dom<N>/config, and in the file save writes, as lines:
 *
 *   xenchan-sim-domain 1
 *   xen-version X.Y.Z         the release of the host that built it
 *   name NAME
 *   uuid UUID
 *   channel SPEC              one per entry, in order
 *   agent NAME SPEC           one per agent
 *
 * The domid is not part of it: a rebuilt domain gets a new one.
 */
#define CONFIG_MAGIC "xenchan-sim-domain 1"
#define CONFIG_MAX 65536

struct domcfg {
	struct xen_version ver;
	char *name;
	char *uuid;
	char *entries[MAX_CHANNELS + 1]; /* one more: xl may drop the first */
	size_t nentries;
	char *agents; /* "NAME SPEC\n" lines, the guest's dom<N>/agents */
};

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", sim_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* NULL, or what is wrong with an agent's NAME and SPEC. */
static char *agent_error(const char *name, size_t namelen, const char *spec)
{
	if (!namelen || memchr(name, ' ', namelen) || memchr(name, '\t', namelen) ||
	    memchr(name, '\n', namelen))
		return sim_xasprintf("agent %.*s: bad channel name", (int)namelen, name);
	if (!*spec || strchr(spec, '\n'))
		return sim_xasprintf("agent %.*s: no SPEC", (int)namelen, name);
	return NULL;
}

static void cfg_add_agent(struct domcfg *c, const char *name, size_t namelen, const char *spec)
{
	char *old = c->agents;

	c->agents = sim_xasprintf("%s%.*s %s\n", old ? old : "", (int)namelen, name, spec);
	free(old);
}

static char *config_text(const struct domcfg *c)
{
	char *s = sim_xasprintf(CONFIG_MAGIC "\nxen-version %u.%u.%u\nname %s\nuuid %s\n",
				c->ver.major, c->ver.minor, c->ver.patch, c->name, c->uuid);

	for (size_t i = 0; i < c->nentries; i++) {
		char *old = s;

		s = sim_xasprintf("%schannel %s\n", old, c->entries[i]);
		free(old);
	}
	for (const char *p = c->agents; p && *p;) {
		size_t len = strcspn(p, "\n");
		char *old = s;

		s = sim_xasprintf("%sagent %.*s\n", old, (int)len, p);
		free(old);
		p += len + (p[len] == '\n');
	}
	return s;
}

/*
 * Parses a configuration or save file's text; false with *err set (a
 * message naming the line) when it is not one.
 */
static bool config_parse(char *text, size_t len, struct domcfg *c, char **err)
{
	unsigned lineno = 0;
	char *line, *next;

	memset(c, 0, sizeof(*c));
	if (memchr(text, '\0', len)) {
		*err = strdup("not a xenchan-sim domain configuration (binary data)");
		return false;
	}
	for (line = text; line && *line; line = next) {
		char *val, *e = NULL;
		struct channel ch;

		next = strchr(line, '\n');
		if (!next) {
			*err = sim_xasprintf("line %u: no end of line (truncated?)", lineno + 1);
			return false;
		}
		*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, CONFIG_MAGIC) != 0) {
				*err = strdup("not a xenchan-sim domain configuration "
					      "(its first line is not \"" CONFIG_MAGIC "\")");
				return false;
			}
			continue;
		}
		val = strchr(line, ' ');
		if (!val || !val[1]) {
			*err = sim_xasprintf("line %u: expected KEY VALUE", lineno);
			return false;
		}
		*val++ = '\0';
		if (!strcmp(line, "xen-version")) {
			if (!parse_version(val, true, &c->ver) || version_cmp(&c->ver, 4, 17, 0) < 0)
				e = sim_xasprintf("%s: not a Xen release (X.Y.Z, 4.17 or later)", val);
		} else if (!strcmp(line, "name")) {
			unsigned d;

			if (c->name)
				e = strdup("a second name");
			else if (strpbrk(val, "/") || parse_domid(val, &d))
				e = sim_xasprintf("%s: not a valid domain name", val);
			else
				c->name = val;
		} else if (!strcmp(line, "uuid")) {
			if (c->uuid)
				e = strdup("a second uuid");
			else if (!valid_uuid(val))
				e = sim_xasprintf("%s: not a lowercase UUID", val);
			else
				c->uuid = val;
		} else if (!strcmp(line, "channel")) {
			if (c->nentries == MAX_CHANNELS + 1)
				e = sim_xasprintf("more than %d channels", MAX_CHANNELS + 1);
			else if (!(e = parse_channel(val, &ch)))
				c->entries[c->nentries++] = val;
		} else if (!strcmp(line, "agent")) {
			char *sp = strchr(val, ' ');

			if (!sp)
				e = sim_xasprintf("agent %s: expected NAME SPEC", val);
			else if (!(e = agent_error(val, (size_t)(sp - val), sp + 1)))
				cfg_add_agent(c, val, (size_t)(sp - val), sp + 1);
		} else {
			e = sim_xasprintf("unknown key '%s'", line);
		}
		if (e) {
			*err = sim_xasprintf("line %u: %s", lineno, e);
			free(e);
			return false;
		}
	}
	if (!lineno) {
		*err = strdup("empty");
		return false;
	}
	if (!c->name || !c->uuid || !c->ver.major) {
		*err = sim_xasprintf("no %s", !c->name ? "name" : !c->uuid ? "uuid" : "xen-version");
		return false;
	}
	return true;
}

/* A whole file of at most CONFIG_MAX bytes, NUL-terminated; dies (exit 1) otherwise. */
static char *slurp(const char *path, size_t *len)
{
	char *buf = sim_xmalloc(CONFIG_MAX + 2);
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("%s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf + got, CONFIG_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > CONFIG_MAX)
			fail("%s: larger than %d bytes: not a xenchan-sim domain configuration", path,
			     CONFIG_MAX);
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* The configuration domain d was built with. */
static void config_load(const char *dir, unsigned d, struct domcfg *c)
{
	char *path = sim_xasprintf("%s/dom%u/config", dir, d);
	char *err;
	size_t len;
	char *text;

	if (access(path, F_OK) != 0)
		fail("domain %u: no configuration in %s: %s", d, path, strerror(errno));
	text = slurp(path, &len);
	if (!config_parse(text, len, c, &err))
		fail("%s: %s", path, err);
	free(path);
}

static unsigned long hook_ms(const char *var);
static void pause_ms(unsigned long ms);

/*
 * Build domain @name from @c as libxl does, up to (not including) the guest
 * kernel: the domain, its xenstore nodes, xenconsoled's part and the device
 * model.  @want is the domid asked for, 0 for the next free one.  The new
 * domain is torn down if the program dies before it is complete.
 */
static unsigned domain_build(const char *dir, struct xs_handle *h, int hv,
			     const struct domcfg *c, const char *name, unsigned want,
			     size_t *nchannels)
{
	struct channel ch[MAX_CHANNELS + 1];
	struct xen_version ver;
	struct domcfg rec = *c;
	size_t nch = c->nentries;
	unsigned d, port;
	char *ddir, *direnv, *ldenv;
	unsigned long devices_pause = hook_ms("XENCHAN_SIM_DEVICES_PAUSE_MS");
	int rfd;

	host_version(dir, &ver);
	for (size_t i = 0; i < nch; i++) {
		char *e = parse_channel(c->entries[i], &ch[i]);

		if (e)
			sim_die("%s", e); /* validated when read */
	}
	if (nch && xl_drops_first_channel(&ver)) {
		/* libxl: "Primary console has invalid configuration"; xl goes on. */
		sim_warn("Xen %u.%u.%u xl drops the first channel entry (%s): devid 0 is the "
			 "primary console's",
			 ver.major, ver.minor, ver.patch, ch[0].name);
		memmove(&ch[0], &ch[1], (nch - 1) * sizeof(ch[0]));
		nch--;
	}
	if (nch > MAX_CHANNELS)
		fail("at most %d channels", MAX_CHANNELS);
	if (name_taken(h, name))
		fail("domain %s already exists", name);

	{
		struct sim_req req = { .op = SIM_DOMAIN_CREATE, .a = want };
		struct sim_rep rep;
		int r;

		guard("xenchan-sim-hv");
		r = sim_hv_call(hv, &req, NULL, 0, &rep, NULL, 0, NULL, NULL);
		if (r < 0)
			fail("create domain: %s", strerror(-r));
		d = (unsigned)rep.a;
		port = (unsigned)rep.b;
	}
	cleanup_dir = dir;
	cleanup_domid = (int)d;
	guard("xenstored");

	ddir = sim_xasprintf("%s/dom%u", dir, d);
	if (mkdir(ddir, 0755) < 0)
		sim_die("%s: %s", ddir, strerror(errno));
	write_file(sim_xasprintf("%s/xenbus", ddir), "");
	write_file(sim_xasprintf("%s/agents", ddir), c->agents ? c->agents : "");
	/* What a later reboot, save or migrate rebuilds it from (the name
	 * configured, not a migration's temporary one). */
	rec.ver = ver;
	write_file(sim_xasprintf("%s/config", ddir), config_text(&rec));

	make_domain(h, d, name, c->uuid);
	build_post(h, d, port);
	/* A toolstack slow to add the devices, for tests: the domain has its
	 * name and UUID already. */
	if (devices_pause) {
		pause_ms(devices_pause);
		guard("xenstored");
	}
	add_consoles(h, d, ch, nch);
	guard(NULL);

	direnv = sim_xasprintf("%s=%s", SIM_ENV_DIR, dir);
	ldenv = sim_xasprintf("LD_PRELOAD=%s", preload());
	/* xenconsoled publishes the primary console's pty. */
	{
		const char *cargv[] = { sim_prog("xenchan-sim-console"), "--domid",
					sim_xasprintf("%u", d), "--ready-fd", "3", NULL };
		const char *cenv[] = { sim_xasprintf("%s=0", SIM_ENV_DOMID), direnv, ldenv,
				       sim_xasprintf("XENSTORED_PATH=%s", xs_sock(dir)), NULL };
		char *log = sim_xasprintf("%s/console.log", ddir);
		pid_t cpid = spawn(cargv, cenv, log, &rfd);

		write_file(sim_xasprintf("%s/console.pid", ddir), sim_xasprintf("%d\n", (int)cpid));
		wait_ready(rfd, cpid, "xenchan-sim-console", log);
	}
	/* libxl starts the device model before it unpauses the domain, and
	 * records its pid (libxl__spawn_local_dm): for a PV domain, when its
	 * configuration has channels.  It binds the channels' socket paths,
	 * unlinking what was there. */
	if (c->nentries) {
		const char *qargv[] = { sim_prog("xenchan-sim-qemu"), "--domid", sim_xasprintf("%u", d),
				  "--model", qemu_xen_console(&ver) ? "xen-console" : "legacy",
				  "--ready-fd", "3", NULL };
		const char *qenv[] = { sim_xasprintf("%s=0", SIM_ENV_DOMID), direnv, ldenv,
				 sim_xasprintf("XENSTORED_PATH=%s", xs_sock(dir)), NULL };
		char *log = sim_xasprintf("%s/qemu.log", ddir);
		pid_t q = spawn(qargv, qenv, log, &rfd);

		write_file(sim_xasprintf("%s/qemu.pid", ddir), sim_xasprintf("%d\n", (int)q));
		wait_ready(rfd, q, "xenchan-sim-qemu", log);
		guard("xenstored");
		{
			/* image/ inherits the domain directory's n0 rD. */
			char *dmp = sim_xasprintf("/local/domain/%u/image/device-model-pid", d);
			char *pid = sim_xasprintf("%d", (int)q);
			struct txn tx;

			do {
				tx_begin(&tx, h);
				tx_write(&tx, dmp, pid);
			} while (!tx_end(&tx));
			free(dmp);
			free(pid);
		}
		guard(NULL);
	}
	*nchannels = nch;
	return d;
}

/*
 * The domain runs: its kernel (xenbus, hvc_xen and the agents).  @rebuilt:
 * the domain was rebuilt from a running one's configuration, and its sink
 * agents go on counting where the old ones stopped.
 */
static void domain_run(const char *dir, unsigned d, bool rebuilt)
{
	char *ddir = sim_xasprintf("%s/dom%u", dir, d);
	const char *gargv[] = { sim_prog("xenchan-sim-guest"), "--ready-fd", "3", "--",
				sim_prog("xenchan-sim-hvc"), rebuilt ? "--continue" : NULL, NULL };
	const char *genv[] = { sim_xasprintf("%s=%u", SIM_ENV_DOMID, d),
			       sim_xasprintf("%s=%s", SIM_ENV_DIR, dir),
			       sim_xasprintf("LD_PRELOAD=%s", preload()),
			       sim_xasprintf("XENSTORED_PATH=%s/xenbus", ddir), NULL };
	char *log = sim_xasprintf("%s/guest.log", ddir);
	pid_t g;
	int rfd;

	g = spawn(gargv, genv, log, &rfd);
	/* setsid() made the guest its own process group leader: pgid == pid. */
	write_file(sim_xasprintf("%s/pgid", ddir), sim_xasprintf("%d\n", (int)g));
	wait_ready(rfd, g, "xenchan-sim-guest", log);
	free(ddir);
	free(log);
}

/* The domain is complete: no longer torn down when the program exits. */
static void domain_done(unsigned d)
{
	if (cleanup_domid == (int)d)
		cleanup_domid = -1;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'D' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "channel", required_argument, NULL, 'c' },
		{ "agent", required_argument, NULL, 'a' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct domcfg cfg;
	struct channel ch;
	size_t nch;
	unsigned want = 0, d;
	bool wait = false;
	const char *dir;
	struct xs_handle *h;
	int c, hv;
	char *e;

	memset(&cfg, 0, sizeof(cfg));
	while ((c = getopt_long(argc, argv, "+D:u:c:a:wh", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (!parse_domid(optarg, &want) || !want)
				bad_usage("create: -D %s: not a guest domain id", optarg);
			break;
		case 'u':
			if (!valid_uuid(optarg))
				bad_usage("create: -u %s: not a lowercase UUID", optarg);
			cfg.uuid = optarg;
			break;
		case 'c':
			if (cfg.nentries == MAX_CHANNELS + 1)
				bad_usage("create: at most %d channels", MAX_CHANNELS);
			if ((e = parse_channel(optarg, &ch)))
				bad_usage("create: --%s", e);
			cfg.entries[cfg.nentries++] = optarg;
			break;
		case 'a': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || !eq[1] || strpbrk(optarg, "\n") ||
			    agent_error(optarg, (size_t)(eq - optarg), eq + 1))
				bad_usage("create: --agent %s: expected NAME=SPEC", optarg);
			cfg_add_agent(&cfg, optarg, (size_t)(eq - optarg), eq + 1);
			break;
		}
		case 'w':
			wait = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad_usage("create: bad option");
		}
	}
	if (optind + 1 != argc)
		bad_usage("create: expected one domain NAME");
	cfg.name = argv[optind];
	if (!*cfg.name || strpbrk(cfg.name, "/\n") || parse_domid(cfg.name, &d))
		bad_usage("create: %s: not a valid domain name", cfg.name);
	if (!cfg.uuid)
		cfg.uuid = random_uuid();

	dir = host_dir(NULL);
	host_version(dir, &cfg.ver);
	if (cfg.nentries > MAX_CHANNELS && !xl_drops_first_channel(&cfg.ver))
		bad_usage("create: at most %d channels", MAX_CHANNELS);
	hv = hv_open(dir);
	h = xs_connect(dir);
	d = domain_build(dir, h, hv, &cfg, cfg.name, want, &nch);
	domain_run(dir, d, false);
	if (wait)
		wait_connected(h, d, nch);
	guard(NULL);
	xs_close(h);
	close(hv);
	domain_done(d);
	printf("%u\n", d);
	return 0;
}

/* ---- reboot, save, restore, migrate ---- */

/* Domain @arg (domid or name), if there is one. */
static bool find_domain(struct xs_handle *h, const char *arg, unsigned *out)
{
	unsigned d, n;
	char **ids;

	if (parse_domid(arg, &d)) {
		char *v = xs_get(h, XBT_NULL, "/local/domain/%u/name", d);
		bool found = v != NULL;

		free(v);
		*out = d;
		return found;
	}
	ids = xs_directory(h, XBT_NULL, "/local/domain", &n);
	for (unsigned i = 0; ids && i < n; i++) {
		char *v = xs_get(h, XBT_NULL, "/local/domain/%s/name", ids[i]);
		bool match = v && strcmp(v, arg) == 0 && parse_domid(ids[i], &d);

		free(v);
		if (match) {
			free(ids);
			*out = d;
			return true;
		}
	}
	free(ids);
	return false;
}

/* A guest domain to rebuild, and what it was built with; exit 1 if none. */
static unsigned lifecycle_domain(const char *dir, struct xs_handle *h, const char *arg,
				 struct domcfg *c)
{
	unsigned d;

	guard("xenstored");
	if (!find_domain(h, arg, &d))
		fail("%s: no such domain", arg);
	if (d == 0)
		fail("%s: domain 0 is the host, not a guest", arg);
	config_load(dir, d, c);
	guard(NULL);
	return d;
}

/*
 * xl's request to the guest (libxl_domain_shutdown/reboot/suspend): the
 * guest's control/shutdown.  The guest here acknowledges at once, as a PV
 * guest that handles it does, and shuts down with the matching reason
 * (SCHEDOP_shutdown: the hypervisor keeps it until the domain is
 * destroyed, and dom0 gets @releaseDomain).  The value stays until the
 * domain is destroyed, unless XENCHAN_SIM_SHUTDOWN_CLEAR=1: then the guest
 * clears it first, as Linux does, and, going down for a reboot, closes its
 * console frontends (state Closing, as Linux's xenbus does at shutdown)
 * before the domain shuts down.  XENCHAN_SIM_SHUTDOWN_PAUSE_MS: how long
 * the toolstack then takes before it destroys the domain (xl tears the
 * devices down first, a save writes the memory), and such a guest to go
 * down after it closed its frontends.
 */
static void request_shutdown(struct xs_handle *h, int hv, unsigned d, const char *what,
			     unsigned reason)
{
	char *p = sim_xasprintf("/local/domain/%u/control/shutdown", d);
	const char *clear = getenv("XENCHAN_SIM_SHUTDOWN_CLEAR");
	struct sim_req req = { .op = SIM_DOMAIN_SHUTDOWN, .a = d, .b = reason };
	struct sim_rep rep;
	unsigned long pause = hook_ms("XENCHAN_SIM_SHUTDOWN_PAUSE_MS");
	int r;

	if (clear && *clear && strcmp(clear, "0") != 0 && strcmp(clear, "1") != 0)
		bad_usage("XENCHAN_SIM_SHUTDOWN_CLEAR=%s: not 0 or 1", clear);
	guard("xenstored");
	if (!xs_write(h, XBT_NULL, p, what, strlen(what)))
		sim_die("xenstore write %s: %s", p, strerror(errno));
	if (clear && strcmp(clear, "1") == 0 && !xs_write(h, XBT_NULL, p, "", 0))
		sim_die("xenstore write %s: %s", p, strerror(errno));
	if (clear && strcmp(clear, "1") == 0 && reason != SHUTDOWN_suspend) {
		char *dir = sim_xasprintf("/local/domain/%u/device/console", d);
		unsigned n = 0;
		char **devs = xs_directory(h, XBT_NULL, dir, &n);

		for (unsigned i = 0; i < n; i++) {
			char *st = sim_xasprintf("%s/%s/state", dir, devs[i]);

			xs_write(h, XBT_NULL, st, "5", 1);
			free(st);
		}
		free(devs);
		free(dir);
		/* The rest of its way down. */
		pause_ms(pause);
		guard("xenstored");
	}
	guard("xenchan-sim-hv");
	r = sim_hv_call(hv, &req, NULL, 0, &rep, NULL, 0, NULL, NULL);
	if (r < 0)
		sim_die("shut domain %u down: %s", d, strerror(-r));
	guard(NULL);
	free(p);
	pause_ms(pause);
}

/* libxl_domain_rename: the name in the domain's and the VM's directory. */
static void rename_domain(struct xs_handle *h, unsigned d, const char *uuid, const char *name)
{
	char *dp = sim_xasprintf("/local/domain/%u/name", d);
	char *vp = sim_xasprintf("/vm/%s/name", uuid);
	struct txn tx;

	guard("xenstored");
	do {
		tx_begin(&tx, h);
		tx_write(&tx, dp, name);
		tx_write(&tx, vp, name);
	} while (!tx_end(&tx));
	guard(NULL);
	free(dp);
	free(vp);
}

/* Rebuild @c as a new domain, running; prints its domid. */
static int rebuild(const char *dir, struct xs_handle *h, int hv, const struct domcfg *c)
{
	size_t nch;
	unsigned d = domain_build(dir, h, hv, c, c->name, 0, &nch);

	domain_run(dir, d, true);
	guard(NULL);
	xs_close(h);
	close(hv);
	domain_done(d);
	printf("%u\n", d);
	return 0;
}

static int cmd_reboot(int argc, char **argv)
{
	struct domcfg cfg;
	struct xs_handle *h;
	const char *dir;
	unsigned d;
	int hv;

	if (optind + 1 != argc)
		bad_usage("reboot: expected one DOMAIN");
	dir = host_dir(NULL);
	hv = hv_open(dir);
	h = xs_connect(dir);
	d = lifecycle_domain(dir, h, argv[optind], &cfg);
	/* xl reboot: the guest is asked, shuts down with reason reboot, and
	 * libxl destroys it and builds it again from its configuration. */
	request_shutdown(h, hv, d, "reboot", SHUTDOWN_reboot);
	destroy_domain(dir, d, h, hv);
	return rebuild(dir, h, hv, &cfg);
}

static int cmd_save(int argc, char **argv)
{
	struct domcfg cfg;
	struct xs_handle *h;
	const char *dir, *file;
	char *text;
	unsigned d;
	FILE *f;
	int hv;

	if (optind + 2 != argc)
		bad_usage("save: expected DOMAIN FILE");
	file = argv[optind + 1];
	if (!*file)
		bad_usage("save: empty FILE");
	dir = host_dir(NULL);
	hv = hv_open(dir);
	h = xs_connect(dir);
	d = lifecycle_domain(dir, h, argv[optind], &cfg);
	/* The host's release: the domain's config says which built it. */
	host_version(dir, &cfg.ver);
	text = config_text(&cfg);
	f = fopen(file, "we");
	if (!f)
		fail("%s: %s", file, strerror(errno));
	/* Written, or the domain is left alone. */
	if (fputs(text, f) == EOF || fflush(f) != 0) {
		int e = errno;

		fclose(f);
		fail("%s: %s", file, strerror(e));
	}
	if (fclose(f) != 0)
		fail("%s: %s", file, strerror(errno));
	/* xl save: the guest is asked to suspend, its state written, the
	 * domain destroyed. */
	request_shutdown(h, hv, d, "suspend", SHUTDOWN_suspend);
	destroy_domain(dir, d, h, hv);
	guard(NULL);
	xs_close(h);
	close(hv);
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	struct domcfg cfg;
	struct xen_version ver;
	struct xs_handle *h;
	const char *dir, *file;
	char *text, *err;
	size_t len;
	int hv;

	if (optind + 1 != argc)
		bad_usage("restore: expected one FILE");
	file = argv[optind];
	dir = host_dir(NULL);
	text = slurp(file, &len);
	if (!config_parse(text, len, &cfg, &err))
		fail("%s: not a xenchan-sim save file: %s", file, err);
	host_version(dir, &ver);
	if (version_cmp(&ver, cfg.ver.major, cfg.ver.minor, cfg.ver.patch) < 0)
		fail("%s: saved on Xen %u.%u.%u; this host models Xen %u.%u.%u, and Xen does not "
		     "restore a domain on an older release",
		     file, cfg.ver.major, cfg.ver.minor, cfg.ver.patch, ver.major, ver.minor,
		     ver.patch);
	hv = hv_open(dir);
	h = xs_connect(dir);
	guard("xenstored");
	if (name_taken(h, cfg.name))
		fail("%s: domain %s already exists", file, cfg.name);
	guard(NULL);
	return rebuild(dir, h, hv, &cfg);
}

/* A test hook's pause: the environment variable var, in milliseconds. */
static unsigned long hook_ms(const char *var)
{
	const char *v = getenv(var);
	unsigned long ms;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*v) || ms > 600000)
		bad_usage("%s=%s: not a number of milliseconds (at most 600000)", var, v);
	return ms;
}

/* How long a migration's overlap is held. */
static unsigned long migrate_pause_ms(void)
{
	return hook_ms("XENCHAN_SIM_MIGRATE_PAUSE_MS");
}

static void pause_ms(unsigned long ms)
{
	double deadline = now_s() + ms / 1000.0;

	guard(NULL);
	while (ms_left(deadline) > 0)
		poll(NULL, 0, ms_left(deadline));
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmd_migrate(int argc, char **argv)
{
	struct domcfg cfg;
	struct xs_handle *h;
	const char *dir;
	char *incoming, *away;
	unsigned long pause;
	unsigned d, nd;
	size_t nch;
	int hv;

	if (optind + 1 != argc)
		bad_usage("migrate: expected one DOMAIN");
	pause = migrate_pause_ms();
	dir = host_dir(NULL);
	hv = hv_open(dir);
	h = xs_connect(dir);
	d = lifecycle_domain(dir, h, argv[optind], &cfg);
	{
		char *cur = xs_get(h, XBT_NULL, "/local/domain/%u/name", d);

		if (!cur || has_suffix(cur, "--incoming") || has_suffix(cur, "--migratedaway"))
			fail("%s: domain %u is being migrated", argv[optind], d);
		free(cur);
	}
	incoming = sim_xasprintf("%s--incoming", cfg.name);
	away = sim_xasprintf("%s--migratedaway", cfg.name);
	guard("xenstored");
	if (name_taken(h, incoming) || name_taken(h, away))
		fail("%s: a domain %s or %s exists", argv[optind], incoming, away);
	guard(NULL);

	/*
	 * xl migrate DOMAIN localhost: the receiver builds the incoming domain
	 * (its qemu binds the channels' socket paths); the guest is suspended
	 * (control/shutdown); the sender renames its domain, the overlap ends
	 * with its destruction; the receiver takes the name and unpauses.
	 */
	nd = domain_build(dir, h, hv, &cfg, incoming, 0, &nch);
	request_shutdown(h, hv, d, "suspend", SHUTDOWN_suspend);
	rename_domain(h, d, cfg.uuid, away);
	pause_ms(pause);
	destroy_domain(dir, d, h, hv);
	rename_domain(h, nd, cfg.uuid, cfg.name);
	domain_run(dir, nd, true);
	guard(NULL);
	xs_close(h);
	close(hv);
	domain_done(nd);
	printf("%u\n", nd);
	return 0;
}

/* ---- destroy, exec, list, stats ---- */

static unsigned resolve_domain(struct xs_handle *h, const char *arg)
{
	unsigned d;

	if (!find_domain(h, arg, &d))
		sim_die("%s: no such domain", arg);
	return d;
}

static int cmd_destroy(int argc, char **argv)
{
	const char *dir;
	struct xs_handle *h;
	unsigned d;
	int hv;

	if (optind + 1 != argc)
		bad_usage("destroy: expected one DOMAIN");
	dir = host_dir(NULL);
	hv = hv_open(dir);
	h = xs_connect(dir);
	d = resolve_domain(h, argv[optind]);
	if (d == 0)
		sim_die("%s: dom0 cannot be destroyed", argv[optind]);
	destroy_domain(dir, d, h, hv);
	guard(NULL);
	xs_close(h);
	close(hv);
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned d = 0;
	const char *dir;
	int c;

	while ((c = getopt_long(argc, argv, "+D:h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (!parse_domid(optarg, &d))
				bad_usage("exec: -D %s: not a domain id", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad_usage("exec: bad option");
		}
	}
	if (optind >= argc)
		bad_usage("exec: no command");
	dir = host_dir(NULL);
	if (d) {
		char *p = sim_xasprintf("%s/dom%u/xenbus", dir, d);
		char *line = sim_xasprintf("%d\n", (int)getpid());
		int fd;

		if (access(p, F_OK) != 0)
			sim_die("domain %u does not exist in %s", d, dir);
		free(p);
		/* Recorded so that destroying the domain kills this process too. */
		p = sim_xasprintf("%s/dom%u/procs", dir, d);
		fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0 || sim_write_all(fd, line, strlen(line)) < 0)
			sim_die("%s: %s", p, strerror(errno));
		close(fd);
		free(p);
		free(line);
	}
	enter_domain(dir, d);
	execvp(argv[optind], argv + optind);
	sim_warn("exec %s: %s", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static int cmd_list(int argc, char **argv)
{
	const char *dir;
	struct xs_handle *h;
	unsigned n, m = 0, *ids;
	char **ents;

	(void)argv;
	if (optind != argc)
		bad_usage("list: no arguments expected");
	dir = host_dir(NULL);
	h = xs_connect(dir);
	ents = xs_directory(h, XBT_NULL, "/local/domain", &n);
	if (!ents)
		sim_die("/local/domain: %s", strerror(errno));
	ids = sim_xmalloc(sizeof(*ids) * (n + 1));
	for (unsigned i = 0; i < n; i++)
		if (parse_domid(ents[i], &ids[m]))
			m++;
	qsort(ids, m, sizeof(*ids), cmp_uint);
	printf("%-5s %-24s %s\n", "ID", "NAME", "UUID");
	for (unsigned i = 0; i < m; i++) {
		char *name = xs_get(h, XBT_NULL, "/local/domain/%u/name", ids[i]);
		char *vm = xs_get(h, XBT_NULL, "/local/domain/%u/vm", ids[i]);
		char *uuid = vm ? xs_get(h, XBT_NULL, "%s/uuid", vm) : NULL;

		printf("%-5u %-24s %s\n", ids[i], name ? name : "-", uuid ? uuid : "-");
		free(name);
		free(vm);
		free(uuid);
	}
	guard(NULL);
	xs_close(h);
	if (fflush(stdout) != 0 || ferror(stdout))
		sim_die("write error: %s", strerror(errno));
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	struct sim_req req = { .op = SIM_STATS };
	struct sim_rep rep;
	struct sim_stats st = { 0 };
	const char *dir;
	size_t len;
	int hv, r;

	(void)argv;
	if (optind != argc)
		bad_usage("stats: no arguments expected");
	dir = host_dir(NULL);
	hv = hv_open(dir);
	r = sim_hv_call(hv, &req, NULL, 0, &rep, &st, sizeof(st), &len, NULL);
	if (r < 0)
		sim_die("stats: %s", strerror(-r));
	if (len < sizeof(st))
		sim_die("stats: short reply from the hypervisor");
	printf("notifies %llu\nevents %llu\ngrant_maps %llu\ngrant_allocs %llu\n"
	       "domains %llu\n",
	       (unsigned long long)st.notifies, (unsigned long long)st.events,
	       (unsigned long long)st.grant_maps, (unsigned long long)st.grant_allocs,
	       (unsigned long long)st.domains);
	close(hv);
	if (fflush(stdout) != 0 || ferror(stdout))
		sim_die("write error: %s", strerror(errno));
	return 0;
}

/*
 * xenchan-sim runs for a moment and exits, allocating without freeing by
 * design; in a sanitized build, leak checking stays on for the daemons and for
 * xenchan's commands, not for this driver.
 */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "detect_leaks=0";
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "start", cmd_start },	    { "stop", cmd_stop },	{ "env", cmd_env },
		{ "shell", cmd_shell },	    { "create", cmd_create },	{ "destroy", cmd_destroy },
		{ "exec", cmd_exec },	    { "list", cmd_list },	{ "stats", cmd_stats },
		{ "status", cmd_status },   { "reboot", cmd_reboot },	{ "save", cmd_save },
		{ "restore", cmd_restore }, { "migrate", cmd_migrate },
	};
	const char *t = getenv("XENCHAN_SIM_TIMEOUT");
	int c;

	sim_progname = "xenchan-sim";
	if (t && *t) {
		char *end;
		unsigned long v = strtoul(t, &end, 10);

		if (*end || !v || v > 3600)
			sim_die("XENCHAN_SIM_TIMEOUT=%s: not a number of seconds", t);
		timeout_s = (unsigned)v;
	}
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			if (fflush(stdout) != 0 || ferror(stdout))
				sim_die("write error: %s", strerror(errno));
			return 0;
		default:
			bad_usage("bad option");
		}
	}
	if (optind >= argc)
		bad_usage("no command given");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name) == 0) {
			const char *cmd = argv[optind];
			int r;

			/* Subcommands parse their own options from here. */
			bool own_opts = strcmp(cmd, "create") == 0 || strcmp(cmd, "exec") == 0 ||
					strcmp(cmd, "start") == 0;

			argc -= optind;
			argv += optind;
			optind = 1;
			if (!own_opts && argc > 1 &&
			    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
				usage(stdout);
				return 0;
			}
			if (!own_opts && argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--") != 0)
				bad_usage("%s: unknown option %s", cmd, argv[1]);
			if (!own_opts && argc > 1 && strcmp(argv[1], "--") == 0)
				optind = 2;
			atexit(cleanup);
			r = cmds[i].fn(argc, argv);
			guard(NULL);
			return r;
		}
	}
	bad_usage("%s: unknown command", argv[optind]);
}
