/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-sim-console: xenconsoled's part in the emulated host, for one
 * domain's primary console: it opens a pty and publishes it in the guest's
 * console/tty key, as xenconsoled does.  The primary console's ring is not
 * emulated (it is mapped with xenforeignmemory, which the emulator lacks), so
 * no bytes cross this pty; what it gives is the xenstore layout real Xen has.
 *
 * Usage: xenchan-sim-console --domid D [--ready-fd FD]   (a dom0 process)
 */
#include <errno.h>
#include <getopt.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <xenstore.h>

#include "simutil.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'd' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ 0 },
	};
	struct termios tio;
	struct xs_handle *h;
	char path[64], tty[64];
	int master, slave, o, ready_fd = -1;
	long domid = -1;
	sigset_t set;

	sim_progname = "xenchan-sim-console";
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd')
			domid = strtol(optarg, NULL, 10);
		else if (o == 'r')
			ready_fd = atoi(optarg);
		else
			sim_die("usage: xenchan-sim-console --domid D [--ready-fd FD]");
	}
	if (domid <= 0 || domid >= SIM_MAX_DOMAINS)
		sim_die("--domid: a guest's domain id is required");

	if (openpty(&master, &slave, tty, NULL, NULL) < 0)
		sim_die("openpty: %s", strerror(errno));
	/* xenconsoled makes the pty raw and keeps the slave open. */
	if (tcgetattr(slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(slave, TCSANOW, &tio);
	}
	h = xs_open(0);
	if (!h)
		sim_die("xenstore: %s", strerror(errno));
	snprintf(path, sizeof(path), "/local/domain/%ld/console/tty", domid);
	/* The key exists (the builder made it, n0 rD); only its value is ours. */
	if (!xs_write(h, XBT_NULL, path, tty, strlen(tty)))
		sim_die("%s: %s", path, strerror(errno));
	xs_close(h);
	if (ready_fd >= 0) {
		if (write(ready_fd, "ready\n", 6) != 6)
			sim_die("ready fd: %s", strerror(errno));
		close(ready_fd);
	}
	/* Hold the pty until told to go. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &o);
	return 0;
}
