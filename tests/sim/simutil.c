/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "simutil.h"

const char *sim_progname = "xenchan-sim";

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", sim_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void sim_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(2);
}

void sim_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void *sim_xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		sim_die("out of memory");
	return p;
}

char *sim_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		sim_die("out of memory");
	return s;
}

const char *sim_dir(void)
{
	const char *d = getenv(SIM_ENV_DIR);

	if (!d || d[0] != '/')
		sim_die("%s is not set to an absolute path: not inside an emulated host",
			SIM_ENV_DIR);
	return d;
}

unsigned sim_domid(void)
{
	const char *s = getenv(SIM_ENV_DOMID);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= SIM_MAX_DOMAINS)
		sim_die("%s=%s: not a domain id", SIM_ENV_DOMID, s);
	return (unsigned)v;
}

int sim_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int sim_listen_unix(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int sim_hv_connect(const char *dir, unsigned domid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sim_req req = { .op = SIM_HELLO, .a = SIM_DEV_CONTROL, .b = domid };
	struct sim_rep rep;
	int fd, r, memfd = -1;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv.sock", dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = sim_hv_call(fd, &req, NULL, 0, &rep, NULL, 0, NULL, &memfd);
	if (memfd >= 0)
		close(memfd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int sim_hv_call(int fd, const struct sim_req *req, const void *data, size_t len,
		struct sim_rep *rep, void *rdata, size_t rdata_max, size_t *rlen, int *fdp)
{
	char buf[SIM_MAX_MSG];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	if (fdp)
		*fdp = -1;
	if (len > sizeof(buf) - sizeof(*req))
		return -E2BIG;
	memcpy(buf, req, sizeof(*req));
	if (len)
		memcpy(buf + sizeof(*req), data, len);
	do
		n = send(fd, buf, sizeof(*req) + len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(*rep))
		return -EPROTO;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int rfd;

			memcpy(&rfd, CMSG_DATA(cm), sizeof(rfd));
			if (fdp)
				*fdp = rfd;
			else
				close(rfd);
		}
	}
	memcpy(rep, buf, sizeof(*rep));
	n -= sizeof(*rep);
	if (rdata) {
		if ((size_t)n > rdata_max)
			n = rdata_max;
		memcpy(rdata, buf + sizeof(*rep), n);
	}
	if (rlen)
		*rlen = n;
	return rep->err ? -rep->err : 0;
}

int sim_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int sim_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}
