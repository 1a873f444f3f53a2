/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by the emulated host's programs (not the preload
 * library, which must not depend on anything but libc).
 */
#ifndef XENCHAN_SIMUTIL_H
#define XENCHAN_SIMUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim.h"

/* Set once by each program's main; prefixes every message. */
extern const char *sim_progname;

__attribute__((format(printf, 1, 2), noreturn)) void sim_die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void sim_warn(const char *fmt, ...);
void *sim_xmalloc(size_t n);
__attribute__((format(printf, 1, 2))) char *sim_xasprintf(const char *fmt, ...);

/* $XENCHAN_SIM_DIR, or dies. */
const char *sim_dir(void);
/* $XENCHAN_SIM_DOMID, default 0; dies on a malformed value. */
unsigned sim_domid(void);

/*
 * A control connection to the hypervisor daemon (SIM_DEV_CONTROL).
 * Returns a descriptor or -errno.
 */
int sim_hv_connect(const char *dir, unsigned domid);

/*
 * One request/reply on a connection to the daemon.  data/len is sent after
 * the request; up to rdata_max bytes of reply data are stored in rdata and
 * their count in *rlen (either may be NULL).  If fdp is not NULL, a descriptor
 * passed with the reply is stored there (-1 if none).
 * Returns 0, -errno for transport errors, or -rep.err.
 */
int sim_hv_call(int fd, const struct sim_req *req, const void *data, size_t len,
		struct sim_rep *rep, void *rdata, size_t rdata_max, size_t *rlen,
		int *fdp);

/* Read or write all of buf; return 0 or -errno (-EPIPE on early EOF). */
int sim_read_all(int fd, void *buf, size_t len);
int sim_write_all(int fd, const void *buf, size_t len);

/* Unix stream socket helpers; return a descriptor or -errno.  backlog as
 * listen(2)'s: qemu's chardev socket listens with 1. */
int sim_listen_unix(const char *path, int backlog);
int sim_connect_unix(const char *path);

#endif
