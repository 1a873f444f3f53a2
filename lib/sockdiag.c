/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "parse.h"
#include "sockdiag.h"
#include "untrusted.h"

/* The kernel's socket states (include/net/tcp_states.h), as unix_diag reports them. */
#define STATE_ESTABLISHED 1
#define STATE_LISTEN 10

/* A dump is answered at once; this only bounds a kernel that does not answer. */
#define RECV_TIMEOUT_S 2

/* Accepted connections at the path remembered while the dump is read. */
#define MAX_CANDIDATES 64

struct scan {
	const char *path;
	size_t path_len;
	uint32_t ours; /* our socket's inode, 0 for none */
	bool accepted, pending;
	unsigned backlog;
	/* The peers (client ends) of the connections accepted at path... */
	uint32_t cand[MAX_CANDIDATES];
	size_t ncand;
	/* ...and the clients still queued on its listener(s). */
	uint32_t *icons;
	size_t nicons;
};

static void free_u32p(uint32_t **p)
{
	free(*p);
}

static bool has(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static bool name_is(const struct scan *sc, const struct rtattr *a)
{
	const char *name = RTA_DATA(a);
	size_t len = RTA_PAYLOAD(a);

	/* A binder may count sun_path's terminating NUL in its address. */
	len = strnlen(name, len);
	return len == sc->path_len && memcmp(name, sc->path, len) == 0;
}

/* One socket of the dump. */
static int scan_one(struct scan *sc, const struct unix_diag_msg *m, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m + 1);
	struct rtattr *name = NULL, *icons = NULL;
	uint32_t peer = 0;
	bool at_path;

	len -= NLMSG_ALIGN(sizeof(*m));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			name = a;
			break;
		case UNIX_DIAG_PEER:
			if (RTA_PAYLOAD(a) >= sizeof(uint32_t))
				memcpy(&peer, RTA_DATA(a), sizeof(peer));
			break;
		case UNIX_DIAG_ICONS:
			icons = a;
			break;
		}
	}
	at_path = name && name_is(sc, name);

	/* The server's end of our connection exists only once accepted. */
	if (sc->ours && peer == sc->ours && m->udiag_ino != 0)
		sc->accepted = true;

	if (m->udiag_state == STATE_LISTEN && icons) {
		size_t n = RTA_PAYLOAD(icons) / sizeof(uint32_t);
		const uint32_t *v = RTA_DATA(icons);
		bool mine = sc->ours && has(v, n, sc->ours);

		if (mine)
			sc->pending = true;
		if (mine || at_path) {
			uint32_t *grown = realloc(sc->icons, (sc->nicons + n + 1) * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			memcpy(grown + sc->nicons, v, n * sizeof(*v));
			sc->icons = grown;
			sc->nicons += n;
			sc->backlog += (unsigned)n;
		}
	} else if (m->udiag_state == STATE_ESTABLISHED && at_path && peer && peer != sc->ours &&
		   sc->ncand < MAX_CANDIDATES) {
		/* Accepted sockets carry their listener's path. */
		sc->cand[sc->ncand++] = peer;
	}
	return 0;
}

static int dump(struct scan *sc)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} rq = {
		.nlh = {
			.nlmsg_len = sizeof(rq),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.req = {
			.sdiag_family = AF_UNIX,
			.udiag_states = (1u << STATE_ESTABLISHED) | (1u << STATE_LISTEN),
			.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS,
		},
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	_cleanup_close_ int fd = -1;
	/* As large as the kernel makes a dump's messages; aligned for them. */
	uint32_t buf[8192];

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT ? -EPROTONOSUPPORT
									 : -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -EPROTO;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			int r;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				/* No unix_diag in this kernel (it would have been
				 * loaded on demand): the family is unknown. */
				if (e->error == -ENOENT || e->error == -EINVAL)
					return -EPROTONOSUPPORT;
				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
				continue;
			r = scan_one(sc, NLMSG_DATA(h), h->nlmsg_len - NLMSG_LENGTH(0));
			if (r < 0)
				return r;
		}
	}
}

int xc_sockdiag_query(const char *path, int fd, struct xc_sock_info *out)
{
	struct scan sc = { .path = path, .path_len = strlen(path) };
	_cleanup_(free_u32p) uint32_t *icons = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (fd >= 0) {
		struct stat st;

		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISSOCK(st.st_mode))
			return -ENOTSOCK;
		/* unix_diag reports inodes as 32 bits, as sockets get them. */
		sc.ours = (uint32_t)st.st_ino;
	}
	r = dump(&sc);
	icons = sc.icons;
	if (r < 0)
		return r;
	out->backlog = sc.backlog;
	if (sc.accepted)
		out->state = XC_SOCK_ACCEPTED;
	else if (sc.pending)
		out->state = XC_SOCK_PENDING;
	/* A server socket whose client is still queued is not serving yet. */
	for (size_t i = 0; i < sc.ncand; i++) {
		if (has(sc.icons, sc.nicons, sc.cand[i]))
			continue;
		out->held = 1;
		out->holder_ino = sc.cand[i];
		out->holder_pid = xc_socket_owner(sc.cand[i]);
		if (out->holder_pid > 0)
			xc_proc_comm(out->holder_pid, out->holder_comm, sizeof(out->holder_comm));
		break;
	}
	return 0;
}

static bool fd_dir_has(int proc, const char *pid, const char *want)
{
	char dir[NAME_MAX + 8], link[64];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int dfd;

	snprintf(dir, sizeof(dir), "%s/fd", pid);
	dfd = openat(proc, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	while ((e = readdir(d))) {
		ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);

		if (n <= 0)
			continue;
		link[n] = '\0';
		if (streq(link, want))
			return true;
	}
	return false;
}

pid_t xc_socket_owner(uint64_t ino)
{
	_cleanup_closedir_ DIR *d = NULL;
	char want[48];
	struct dirent *e;
	pid_t best = 0;

	if (!ino)
		return 0;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)ino);
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		uint64_t pid;

		if (xc_parse_uint(e->d_name, INT_MAX, &pid) < 0 || pid == 0)
			continue;
		if ((best == 0 || (pid_t)pid < best) && fd_dir_has(dirfd(d), e->d_name, want))
			best = (pid_t)pid;
	}
	return best;
}

int xc_proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[32], comm[32];
	_cleanup_free_ char *e = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (len)
		buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, sizeof(comm) - 1);
	if (n < 0)
		return -errno;
	comm[n] = '\0';
	/* The kernel ends it with a newline; the name itself may hold any byte. */
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	e = xc_escape(comm, XC_COMM_MAX / 4 - 1);
	if (!e)
		return -ENOMEM;
	snprintf(buf, len, "%s", e);
	return 0;
}
