/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxenchan-sim.so: the Linux Xen drivers of the emulated host, for
 * LD_PRELOAD.
 *
 * It interposes open, ioctl, mmap, munmap and close on the device paths only
 * (/dev/xen/evtchn, /dev/xen/gntdev, /dev/xen/gntalloc, /proc/xen/xsd_kva,
 * /proc/xen/xsd_port and, in a guest, its xenbus device) and follows the ioctl
 * ABI of <xen/sys/{evtchn,gntdev,gntalloc}.h>, so the real libxenevtchn,
 * libxengnttab, libxenvchan and xenstored run unmodified.  Each open device
 * is a connection to the hypervisor daemon (sim.h); granted pages are the
 * daemon's shared memory file, mapped at the frames it names.
 *
 * For xenstored it also provides xc_interface_open, xc_interface_close,
 * xc_domain_getinfo (imported by xenstored up to Xen 4.17) and
 * xc_domain_getinfo_single (Xen 4.18 and later); for xenchan,
 * xc_domain_getinfolist (how a domain shut down).
 *
 * It refuses to load outside an emulated host: without XENCHAN_SIM_DIR it
 * would otherwise be one typo away from a real dom0's devices.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>

#include "sim.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_DEVS 256
#define MAX_MAPS 1024
#define HIGH_FD 512 /* hidden descriptors live up here, out of the way */

enum kind { K_EVTCHN, K_GNTDEV, K_GNTALLOC, K_KVA };

struct dev {
	bool used;
	bool user_closed; /* the caller closed its descriptor; mappings remain */
	enum kind kind;
	int fd;  /* the caller's descriptor */
	int ctl; /* the connection to the daemon */
	unsigned nmaps;
};

struct map {
	bool used;
	struct dev *dev;
	uintptr_t addr;
	size_t len;
	uint64_t index;
};

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dev devs[MAX_DEVS];
static struct map maps[MAX_MAPS];
static int memfd = -1;
static int xc_ctl = -1;
static unsigned my_domid;
static const char *sim_dir;
static char xenbus_path[256];

static void die(const char *msg)
{
	const char *p = "libxenchan-sim: ";

	if (write(2, p, strlen(p)) < 0 || write(2, msg, strlen(msg)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(2);
	_exit(2);
}

static void resolve(void)
{
	real_open = dlsym(RTLD_NEXT, "open");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_close = dlsym(RTLD_NEXT, "close");
	real_ioctl = dlsym(RTLD_NEXT, "ioctl");
	real_mmap = dlsym(RTLD_NEXT, "mmap");
	real_munmap = dlsym(RTLD_NEXT, "munmap");
	if (!real_open || !real_openat || !real_close || !real_ioctl || !real_mmap ||
	    !real_munmap)
		die("cannot find the C library's functions");
}

__attribute__((constructor)) static void init(void)
{
	const char *d = getenv(SIM_ENV_DIR), *id = getenv(SIM_ENV_DOMID), *xp;
	char *end;
	unsigned long v = 0;

	resolve();
	if (!d || d[0] != '/')
		die(SIM_ENV_DIR " is not set to an absolute path: refusing to emulate Xen "
		    "devices outside an emulated host");
	if (id && *id) {
		errno = 0;
		v = strtoul(id, &end, 10);
		if (errno || *end || v >= SIM_MAX_DOMAINS)
			die(SIM_ENV_DOMID " is not a domain id");
	}
	sim_dir = d;
	my_domid = (unsigned)v;
	xp = getenv("XENSTORED_PATH");
	if (my_domid && xp && strlen(xp) < sizeof(xenbus_path))
		strcpy(xenbus_path, xp);
}

/* One request and its reply on a daemon connection; -errno or 0. */
static int call(int ctl, const struct sim_req *q, const void *data, size_t len,
		struct sim_rep *r, void *rdata, size_t rmax, int sendfd)
{
	uint8_t buf[SIM_MAX_MSG];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(*q) + len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (len > sizeof(buf) - sizeof(*q))
		return -E2BIG;
	memcpy(buf, q, sizeof(*q));
	if (len)
		memcpy(buf + sizeof(*q), data, len);
	if (sendfd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &sendfd, sizeof(int));
	}
	do
		n = sendmsg(ctl, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(*r))
		return -EIO; /* the daemon went away */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			if (memfd < 0)
				memfd = fd;
			else
				real_close(fd);
		}
	}
	memcpy(r, buf, sizeof(*r));
	if (rdata) {
		size_t got = (size_t)n - sizeof(*r);

		memcpy(rdata, buf + sizeof(*r), got < rmax ? got : rmax);
	}
	return r->err ? -r->err : 0;
}

static int move_high(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);

	if (h < 0)
		return fd;
	real_close(fd);
	return h;
}

/* A new connection to the daemon for a device of kind k; -errno on failure. */
static int hv_connect(enum sim_dev k, int passfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sim_req q = { .op = SIM_HELLO, .a = k, .b = my_domid };
	struct sim_rep r;
	int fd, err;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv.sock", sim_dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* No daemon: like a kernel without the driver. */
		real_close(fd);
		return -ENOENT;
	}
	fd = move_high(fd);
	err = call(fd, &q, NULL, 0, &r, NULL, 0, passfd);
	if (err) {
		real_close(fd);
		return err;
	}
	return fd;
}

static struct dev *dev_find(int fd)
{
	if (fd < 0)
		return NULL;
	for (int i = 0; i < MAX_DEVS; i++)
		if (devs[i].used && !devs[i].user_closed && devs[i].fd == fd)
			return &devs[i];
	return NULL;
}

static void dev_release(struct dev *d)
{
	real_close(d->ctl);
	memset(d, 0, sizeof(*d));
}

static int open_dev(enum kind kind, int flags)
{
	struct dev *d = NULL;
	int fd = -1, ctl, err, sv[2];

	for (int i = 0; i < MAX_DEVS; i++) {
		if (!devs[i].used) {
			d = &devs[i];
			break;
		}
	}
	if (!d)
		return -EMFILE;
	switch (kind) {
	case K_EVTCHN:
		/* The caller reads fired ports from, and writes unmasks to, a stream
		 * whose far end the daemon holds. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		ctl = hv_connect(SIM_DEV_EVTCHN, sv[1]);
		real_close(sv[1]);
		if (ctl < 0) {
			real_close(sv[0]);
			return ctl;
		}
		fd = sv[0];
		break;
	case K_GNTDEV:
	case K_GNTALLOC:
	case K_KVA:
		ctl = hv_connect(kind == K_GNTDEV	? SIM_DEV_GNTDEV
				 : kind == K_GNTALLOC ? SIM_DEV_GNTALLOC
						      : SIM_DEV_CONTROL,
				 -1);
		if (ctl < 0)
			return ctl;
		fd = fcntl(ctl, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			real_close(ctl);
			return err;
		}
		break;
	}
	if (!(flags & O_CLOEXEC))
		fcntl(fd, F_SETFD, 0);
	if (flags & O_NONBLOCK)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	*d = (struct dev){ .used = true, .kind = kind, .fd = fd, .ctl = ctl };
	return fd;
}

/* /proc/xen/xsd_port: the domain's xenstore event channel, as text. */
static int open_xsd_port(void)
{
	struct sim_req q = { .op = SIM_XS_PAGE };
	struct sim_rep r;
	char buf[32];
	int ctl, fd, err, n;

	ctl = hv_connect(SIM_DEV_CONTROL, -1);
	if (ctl < 0)
		return ctl;
	err = call(ctl, &q, NULL, 0, &r, NULL, 0, -1);
	real_close(ctl);
	if (err)
		return err;
	fd = memfd_create("xsd_port", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r.b);
	if (write(fd, buf, n) != n || lseek(fd, 0, SEEK_SET) < 0) {
		err = -errno;
		real_close(fd);
		return err;
	}
	return fd;
}

/* A guest's /dev/xen/xenbus: its kernel's xenbus multiplexer. */
static int open_xenbus(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dom%u/xenbus.sock",
			     sim_dir, my_domid) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		real_close(fd);
		return err == -ECONNREFUSED ? -ENOENT : err;
	}
	return fd;
}

/* Returns the descriptor, -errno, or 1 - INT_MAX... : -ENOSYS when the path is
 * not ours. */
static int sim_open(const char *path, int flags)
{
	int r;

	if (!path)
		return -ENOSYS;
	if (strncmp(path, "/dev/xen/", 9) && strncmp(path, "/proc/xen/", 10) &&
	    !(xenbus_path[0] && !strcmp(path, xenbus_path)))
		return -ENOSYS;
	pthread_mutex_lock(&lock);
	if (!strcmp(path, "/dev/xen/evtchn"))
		r = open_dev(K_EVTCHN, flags);
	else if (!strcmp(path, "/dev/xen/gntdev"))
		r = open_dev(K_GNTDEV, flags);
	else if (!strcmp(path, "/dev/xen/gntalloc"))
		r = open_dev(K_GNTALLOC, flags);
	else if (!strcmp(path, "/proc/xen/xsd_kva"))
		r = open_dev(K_KVA, flags);
	else if (!strcmp(path, "/proc/xen/xsd_port"))
		r = open_xsd_port();
	else if (my_domid && (!strcmp(path, "/dev/xen/xenbus") ||
			      (xenbus_path[0] && !strcmp(path, xenbus_path))))
		r = open_xenbus();
	else
		r = -ENOENT; /* a Xen device this emulator does not have */
	pthread_mutex_unlock(&lock);
	return r;
}

static int finish_open(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	int r;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!real_open)
		resolve();
	r = sim_open(path, flags);
	if (r != -ENOSYS)
		return finish_open(r);
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));

EXPORT int __open_2(const char *path, int flags);
EXPORT int __open64_2(const char *path, int flags);

EXPORT int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return open(path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	int r;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!real_openat)
		resolve();
	if (path[0] == '/') {
		r = sim_open(path, flags);
		if (r != -ENOSYS)
			return finish_open(r);
	}
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));

EXPORT int close(int fd)
{
	struct dev *d;

	if (!real_close)
		resolve();
	pthread_mutex_lock(&lock);
	d = dev_find(fd);
	if (d) {
		/* Like the kernel's file reference held by each mapping. */
		if (d->nmaps)
			d->user_closed = true;
		else
			dev_release(d);
	}
	pthread_mutex_unlock(&lock);
	return real_close(fd);
}

static int ioctl_evtchn(struct dev *d, unsigned long req, void *arg)
{
	struct sim_req q = { 0 };
	struct sim_rep r;
	int err;

	switch (req) {
	case IOCTL_EVTCHN_BIND_VIRQ:
		q.op = SIM_EVTCHN_BIND_VIRQ;
		q.a = ((struct ioctl_evtchn_bind_virq *)arg)->virq;
		break;
	case IOCTL_EVTCHN_BIND_INTERDOMAIN:
		q.op = SIM_EVTCHN_BIND_INTERDOMAIN;
		q.a = ((struct ioctl_evtchn_bind_interdomain *)arg)->remote_domain;
		q.b = ((struct ioctl_evtchn_bind_interdomain *)arg)->remote_port;
		break;
	case IOCTL_EVTCHN_BIND_UNBOUND_PORT:
		q.op = SIM_EVTCHN_BIND_UNBOUND;
		q.a = ((struct ioctl_evtchn_bind_unbound_port *)arg)->remote_domain;
		break;
	case IOCTL_EVTCHN_BIND_STATIC:
		q.op = SIM_EVTCHN_BIND_STATIC;
		q.a = ((struct ioctl_evtchn_bind *)arg)->port;
		break;
	case IOCTL_EVTCHN_UNBIND:
		q.op = SIM_EVTCHN_UNBIND;
		q.a = ((struct ioctl_evtchn_unbind *)arg)->port;
		break;
	case IOCTL_EVTCHN_NOTIFY:
		q.op = SIM_EVTCHN_NOTIFY;
		q.a = ((struct ioctl_evtchn_notify *)arg)->port;
		break;
	case IOCTL_EVTCHN_RESET:
		q.op = SIM_EVTCHN_RESET;
		break;
	case IOCTL_EVTCHN_RESTRICT_DOMID:
		/* Accepted, not enforced: the emulator has no deprivileged mode. */
		return 0;
	default:
		return -ENOTTY;
	}
	err = call(d->ctl, &q, NULL, 0, &r, NULL, 0, -1);
	if (err)
		return err;
	/* The Linux driver returns the new port from the bind ioctls. */
	return q.op == SIM_EVTCHN_BIND_VIRQ || q.op == SIM_EVTCHN_BIND_INTERDOMAIN ||
			       q.op == SIM_EVTCHN_BIND_UNBOUND
		       ? (int)r.a
		       : 0;
}

static struct map *map_find_addr(uintptr_t a)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].used && maps[i].addr == a)
			return &maps[i];
	return NULL;
}

static int ioctl_gnt(struct dev *d, unsigned long req, void *arg)
{
	struct sim_req q = { 0 };
	struct sim_rep r;
	int err;

	switch (req) {
	case IOCTL_GNTDEV_MAP_GRANT_REF: {
		struct ioctl_gntdev_map_grant_ref *m = arg;

		if (d->kind != K_GNTDEV)
			return -ENOTTY;
		if (m->count == 0 || m->count > 1024)
			return -EINVAL;
		q.op = SIM_GNTDEV_MAP;
		q.a = m->count;
		err = call(d->ctl, &q, m->refs, m->count * sizeof(m->refs[0]), &r, NULL, 0,
			   -1);
		if (!err)
			m->index = r.a;
		return err;
	}
	case IOCTL_GNTDEV_UNMAP_GRANT_REF: {
		struct ioctl_gntdev_unmap_grant_ref *u = arg;

		if (d->kind != K_GNTDEV)
			return -ENOTTY;
		q.op = SIM_GNTDEV_UNMAP;
		q.a = u->index;
		q.b = u->count;
		return call(d->ctl, &q, NULL, 0, &r, NULL, 0, -1);
	}
	case IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR: {
		struct ioctl_gntdev_get_offset_for_vaddr *g = arg;
		struct map *m;

		if (d->kind != K_GNTDEV)
			return -ENOTTY;
		m = map_find_addr((uintptr_t)g->vaddr);
		if (!m || m->dev != d)
			return -EINVAL;
		g->offset = m->index;
		g->count = (uint32_t)(m->len / SIM_PAGE_SIZE);
		return 0;
	}
	case IOCTL_GNTDEV_SET_MAX_GRANTS:
		return d->kind == K_GNTDEV ? 0 : -ENOTTY;
	case IOCTL_GNTDEV_SET_UNMAP_NOTIFY: {
		/* The same number as IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, and the same
		 * layout: the device decides. */
		struct ioctl_gntdev_unmap_notify *n = arg;

		q.op = d->kind == K_GNTDEV ? SIM_GNTDEV_NOTIFY : SIM_GNTALLOC_NOTIFY;
		q.a = n->index;
		q.b = n->action;
		q.c = n->event_channel_port;
		return call(d->ctl, &q, NULL, 0, &r, NULL, 0, -1);
	}
	case IOCTL_GNTALLOC_ALLOC_GREF: {
		struct ioctl_gntalloc_alloc_gref *a = arg;

		if (d->kind != K_GNTALLOC)
			return -ENOTTY;
		if (a->count == 0 || a->count > 1024)
			return -EINVAL;
		q.op = SIM_GNTALLOC_ALLOC;
		q.a = a->domid;
		q.b = a->flags;
		q.c = a->count;
		err = call(d->ctl, &q, NULL, 0, &r, a->gref_ids, a->count * sizeof(uint32_t),
			   -1);
		if (!err)
			a->index = r.a;
		return err;
	}
	case IOCTL_GNTALLOC_DEALLOC_GREF: {
		struct ioctl_gntalloc_dealloc_gref *a = arg;

		if (d->kind != K_GNTALLOC)
			return -ENOTTY;
		q.op = SIM_GNTALLOC_DEALLOC;
		q.a = a->index;
		q.b = a->count;
		return call(d->ctl, &q, NULL, 0, &r, NULL, 0, -1);
	}
	}
	/* Grant copy and dma-bufs are not modelled. */
	return -ENOTTY;
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct dev *d;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_ioctl)
		resolve();
	pthread_mutex_lock(&lock);
	d = dev_find(fd);
	if (!d) {
		pthread_mutex_unlock(&lock);
		return real_ioctl(fd, req, arg);
	}
	r = d->kind == K_EVTCHN ? ioctl_evtchn(d, req, arg)
	    : d->kind == K_KVA  ? -ENOTTY
				: ioctl_gnt(d, req, arg);
	pthread_mutex_unlock(&lock);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* Maps the frames into one reserved range; contiguous frames in one call. */
static void *map_frames(void *hint, size_t len, int prot, int flags, const uint64_t *frames,
			uint32_t count)
{
	uint8_t *base;
	uint32_t i = 0;

	if (memfd < 0)
		return MAP_FAILED;
	base = real_mmap(hint, len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	while (i < count) {
		uint32_t n = 1;

		while (i + n < count && frames[i + n] == frames[i] + n)
			n++;
		if (real_mmap(base + (size_t)i * SIM_PAGE_SIZE, (size_t)n * SIM_PAGE_SIZE,
			      prot, MAP_SHARED | MAP_FIXED, memfd,
			      (off_t)(frames[i] * SIM_PAGE_SIZE)) == MAP_FAILED) {
			int e = errno;

			real_munmap(base, len);
			errno = e;
			return MAP_FAILED;
		}
		i += n;
	}
	return base;
}

static void *sim_mmap(struct dev *d, void *addr, size_t len, int prot, int flags,
		      off_t off)
{
	struct sim_req q = { 0 };
	struct sim_rep r;
	uint64_t frames[1024];
	uint32_t count;
	struct map *m = NULL;
	void *p;
	int err;

	if (len == 0 || len % SIM_PAGE_SIZE || !(flags & MAP_SHARED) || off < 0) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	count = (uint32_t)(len / SIM_PAGE_SIZE);
	if (count > 1024) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	for (int i = 0; i < MAX_MAPS; i++) {
		if (!maps[i].used) {
			m = &maps[i];
			break;
		}
	}
	if (!m) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	switch (d->kind) {
	case K_GNTDEV:
		q.op = SIM_GNTDEV_MMAP;
		q.a = (uint64_t)off;
		q.b = count;
		q.c = (uint64_t)prot;
		break;
	case K_GNTALLOC:
		q.op = SIM_GNTALLOC_MMAP;
		q.a = (uint64_t)off;
		q.b = count;
		break;
	case K_KVA:
		if (count != 1 || off != 0) {
			errno = EINVAL;
			return MAP_FAILED;
		}
		q.op = SIM_XS_PAGE;
		break;
	case K_EVTCHN:
		errno = ENODEV;
		return MAP_FAILED;
	}
	err = call(d->ctl, &q, NULL, 0, &r, frames, sizeof(frames), -1);
	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	if (d->kind == K_KVA)
		frames[0] = r.a;
	p = map_frames(addr, len, prot, flags, frames, count);
	if (p == MAP_FAILED) {
		int e = errno;
		struct sim_req u = { .op = d->kind == K_GNTDEV ? SIM_GNTDEV_MUNMAP
							     : SIM_GNTALLOC_MUNMAP,
				     .a = (uint64_t)off };

		if (d->kind != K_KVA)
			call(d->ctl, &u, NULL, 0, &r, NULL, 0, -1);
		errno = e;
		return MAP_FAILED;
	}
	*m = (struct map){ .used = true, .dev = d, .addr = (uintptr_t)p, .len = len,
			   .index = (uint64_t)off };
	d->nmaps++;
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct dev *d;
	void *p;

	if (!real_mmap)
		resolve();
	if (fd < 0 || (flags & MAP_ANONYMOUS))
		return real_mmap(addr, len, prot, flags, fd, off);
	pthread_mutex_lock(&lock);
	d = dev_find(fd);
	if (!d) {
		pthread_mutex_unlock(&lock);
		return real_mmap(addr, len, prot, flags, fd, off);
	}
	p = sim_mmap(d, addr, len, prot, flags, off);
	pthread_mutex_unlock(&lock);
	return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

EXPORT int munmap(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!real_munmap)
		resolve();
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_MAPS; i++) {
		struct map *m = &maps[i];
		struct sim_req q = { 0 };
		struct sim_rep r;
		struct dev *d;

		if (!m->used || a >= m->addr + m->len || a + len <= m->addr)
			continue;
		/* Any overlap unmaps the grants of the whole mapping, which is what
		 * the Xen libraries do anyway. */
		d = m->dev;
		if (d->kind != K_KVA) {
			q.op = d->kind == K_GNTDEV ? SIM_GNTDEV_MUNMAP : SIM_GNTALLOC_MUNMAP;
			q.a = m->index;
			call(d->ctl, &q, NULL, 0, &r, NULL, 0, -1);
		}
		memset(m, 0, sizeof(*m));
		if (--d->nmaps == 0 && d->user_closed)
			dev_release(d);
	}
	pthread_mutex_unlock(&lock);
	return real_munmap(addr, len);
}

/* libxenctrl, for xenstored and xenchan: just enough to learn which domains
 * exist and which of them shut down, why. */

EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger,
				       xentoollog_logger *dombuild_logger,
				       unsigned open_flags)
{
	static char handle;

	pthread_mutex_lock(&lock);
	if (xc_ctl < 0)
		xc_ctl = hv_connect(SIM_DEV_CONTROL, -1);
	pthread_mutex_unlock(&lock);
	if (xc_ctl < 0) {
		errno = -xc_ctl;
		xc_ctl = -1;
		return NULL;
	}
	return (xc_interface *)&handle;
}

EXPORT int xc_interface_close(xc_interface *xch)
{
	return 0;
}

/*
 * The hypervisor's view of the first domain >= domid: 0 and its id and
 * SIM_DOMINFO_* flags, or -1 when there is none (or no connection).
 * Called with the lock held.
 */
static int domain_info(uint32_t domid, uint32_t *found, uint64_t *flags)
{
	struct sim_req q = { .op = SIM_DOMAIN_INFO, .a = domid };
	struct sim_rep r;

	if (xc_ctl < 0 || call(xc_ctl, &q, NULL, 0, &r, NULL, 0, -1))
		return -1;
	*found = (uint32_t)r.a;
	*flags = r.b;
	return 0;
}

/* xc_domaininfo_t's flags: dying or running, shut down and why. */
static uint32_t dominf_flags(uint64_t f)
{
	uint32_t fl = f & SIM_DOMINFO_DYING ? XEN_DOMINF_dying : 0;

	if (f & SIM_DOMINFO_SHUTDOWN)
		fl |= XEN_DOMINF_shutdown |
		      ((uint32_t)(f >> SIM_DOMINFO_REASON_SHIFT) & XEN_DOMINF_shutdownmask)
			      << XEN_DOMINF_shutdownshift;
	else if (!(f & SIM_DOMINFO_DYING))
		fl |= XEN_DOMINF_running;
	return fl;
}

static void fill_domaininfo(xc_domaininfo_t *info, uint32_t domid, uint64_t f)
{
	memset(info, 0, sizeof(*info));
	info->domain = (domid_t)domid;
	info->flags = dominf_flags(f);
	info->nr_online_vcpus = 1;
	info->max_vcpu_id = 0;
}

#ifdef HAVE_XC_DOMINFO_T
/* Xen 4.17 and before (xenstored 4.17 imports it); 4.18 removed it. */
EXPORT int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
			     xc_dominfo_t *info)
{
	unsigned n = 0;
	uint32_t next = first_domid, domid;
	uint64_t f;

	pthread_mutex_lock(&lock);
	while (n < max_doms && domain_info(next, &domid, &f) == 0) {
		memset(&info[n], 0, sizeof(info[n]));
		info[n].domid = domid;
		info[n].dying = !!(f & SIM_DOMINFO_DYING);
		info[n].shutdown = !!(f & SIM_DOMINFO_SHUTDOWN);
		info[n].shutdown_reason = (unsigned)(f >> SIM_DOMINFO_REASON_SHIFT) & 0xff;
		info[n].running = !info[n].dying && !info[n].shutdown;
		info[n].nr_online_vcpus = 1;
		info[n].max_vcpu_id = 0;
		n++;
		next = domid + 1;
	}
	pthread_mutex_unlock(&lock);
	return (int)n;
}
#endif

#if !HAVE_DECL_XC_DOMAIN_GETINFO_SINGLE
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid, xc_domaininfo_t *info);
#endif

/*
 * Xen 4.18 and later (xenstored 4.18+ imports it): exactly domain domid,
 * -1 with ESRCH when it does not exist.
 */
EXPORT int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid, xc_domaininfo_t *info)
{
	uint32_t found;
	uint64_t f;
	int r;

	pthread_mutex_lock(&lock);
	r = domain_info(domid, &found, &f);
	pthread_mutex_unlock(&lock);
	if (r < 0 || found != domid) {
		errno = ESRCH;
		return -1;
	}
	fill_domaininfo(info, domid, f);
	return 0;
}

/* Every release (xenchan asks it how a domain it follows shut down): the
 * domains from first_domid on, at most max_doms of them. */
EXPORT int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
				 xc_domaininfo_t *info)
{
	unsigned n = 0;
	uint32_t next = first_domid, domid;
	uint64_t f;

	pthread_mutex_lock(&lock);
	while (n < max_doms && domain_info(next, &domid, &f) == 0) {
		fill_domaininfo(&info[n++], domid, f);
		next = domid + 1;
	}
	pthread_mutex_unlock(&lock);
	return (int)n;
}
