/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How fast xenchan-wait wakes: the time from the xenstore write that
 * completes readiness to xenchan-wait's exit, median of N, beside the same
 * for `xenstore-watch -n 2` (a bare watch client: the floor for any
 * watch-driven tool); and the CPU time an idle xenchan-wait uses.
 * Run inside an emulated host (xenchan-sim env), as dom0, with a domain DOMID
 * that has no channels:  wake DOMID [N] [IDLE-SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void put(struct xs_handle *h, const char *path, const char *v)
{
	if (!xs_write(h, XBT_NULL, path, v, strlen(v))) {
		fprintf(stderr, "wake: %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", 1);

		dup2(null, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Median latency in microseconds of: start argv, let it settle, write. */
static double measure(struct xs_handle *h, const char *const argv[], const char *path,
		      const char *before, const char *after, int n)
{
	double *t = calloc(n, sizeof(*t));
	double med;

	for (int i = 0; i < n; i++) {
		int st;
		pid_t pid;
		double t0;

		put(h, path, before);
		pid = spawn(argv);
		usleep(100000); /* settled and watching */
		t0 = now();
		put(h, path, after);
		waitpid(pid, &st, 0);
		t[i] = (now() - t0) * 1e6;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "wake: %s exited with %d\n", argv[0], WEXITSTATUS(st));
			exit(2);
		}
	}
	qsort(t, n, sizeof(*t), cmp);
	med = t[n / 2];
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	struct xs_handle *h = xs_open(0);
	unsigned d;
	int n, idle;
	char fe[128], be[128], lx[128], buf[256];
	long ticks = 0, hz = sysconf(_SC_CLK_TCK);
	double w, x;

	if (argc < 2 || !h) {
		fprintf(stderr, "usage: wake DOMID [N] [IDLE-SECONDS] (inside an emulated host)\n");
		return 2;
	}
	d = (unsigned)atoi(argv[1]);
	n = argc > 2 ? atoi(argv[2]) : 100;
	idle = argc > 3 ? atoi(argv[3]) : 10;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/console/1", d);
	snprintf(be, sizeof(be), "/local/domain/0/backend/console/%u/1", d);
	snprintf(lx, sizeof(lx), "/libxl/%u/device/console/1", d);
	snprintf(buf, sizeof(buf), "%s/name", lx);
	put(h, buf, "org.example.wake.0");
	snprintf(buf, sizeof(buf), "%s/connection", lx);
	put(h, buf, "pty");
	snprintf(buf, sizeof(buf), "%s/frontend", lx);
	put(h, buf, fe);
	snprintf(buf, sizeof(buf), "%s/backend", lx);
	put(h, buf, be);
	snprintf(buf, sizeof(buf), "%s/state", fe);
	put(h, buf, "4");
	snprintf(buf, sizeof(buf), "%s/state", be);

	{
		char dom[16];
		const char *wargv[] = { "xenchan-wait", "-f", "connected", dom,
					"org.example.wake.0", NULL };
		const char *xargv[] = { "xenstore-watch", "-n", "2", buf, NULL };

		snprintf(dom, sizeof(dom), "%u", d);
		w = measure(h, wargv, buf, "1", "4", n);
		x = measure(h, xargv, buf, "1", "4", n);
	}
	printf("wake-up latency, median of %d: xenchan-wait %.0f us, xenstore-watch %.0f us, "
	       "ratio %.2f\n", n, w, x, w / x);

	{
		const char *argv2[] = { "xenchan-wait", "-t", "1h", "never-existing-domain",
					NULL };
		pid_t pid = spawn(argv2);
		char path[64];
		FILE *f;

		sleep((unsigned)idle);
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (f) {
			unsigned long ut, stt;

			if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				   &ut, &stt) == 2)
				ticks = (long)(ut + stt);
			fclose(f);
		}
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	printf("idle xenchan-wait over %d s: %ld ms of CPU\n", idle, ticks * 1000 / hz);
	xs_close(h);
	return 0;
}
