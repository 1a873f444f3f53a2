/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a unix stream server accepted our connection, and who holds the
 * one it serves, from Linux's sock_diag netlink interface for AF_UNIX
 * (linux/unix_diag.h, what `ss -x` uses) and /proc/<pid>/fd.
 *
 * qemu serves one client per channel socket and stops accepting while it
 * serves one, but connect() succeeds as long as the listener's backlog has
 * room: a connection can be "connected" and never read.  The kernel knows:
 * a listening socket's UNIX_DIAG_ICONS are the inodes of the client sockets
 * queued on it and not accepted yet; once accepted, the server's socket
 * (bound to the listener's path, its UNIX_DIAG_PEER our inode) shows up in
 * the dump; before, it has no inode and is not dumped.
 *
 * Nothing here allocates beyond the call, and nothing blocks but on the
 * kernel's answer (bounded by a receive timeout).  Every descriptor is
 * close-on-exec and closed before return.
 */
#ifndef XENCHAN_SOCKDIAG_H
#define XENCHAN_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A process name (15 bytes in /proc/<pid>/comm) escaped: \xNN each at most. */
#define XC_COMM_MAX 64

enum xc_sock_state {
	XC_SOCK_UNKNOWN = 0, /* neither queued on a listener nor accepted (hung up?) */
	XC_SOCK_PENDING,     /* in a listener's backlog: not accepted yet */
	XC_SOCK_ACCEPTED,    /* the server accepted it and holds the other end */
};

struct xc_sock_info {
	enum xc_sock_state state; /* of the connection fd is (XC_SOCK_UNKNOWN: fd -1) */
	unsigned backlog;         /* connections queued on the listener at path */
	int held;                 /* another client's connection at path is accepted */
	uint64_t holder_ino;      /* that client's socket inode (0: none) */
	pid_t holder_pid;         /* a process holding holder_ino (0: none visible) */
	char holder_comm[XC_COMM_MAX]; /* its /proc comm, escaped ("" if unknown) */
};

/*
 * Look at the unix stream listener bound at path and at our connected
 * socket fd (-1: none, only the holder is looked for) into *out.
 * Returns 0, -EPROTONOSUPPORT when sock_diag for unix sockets is not
 * available (no netlink, no unix_diag), or another negative errno.
 */
int xc_sockdiag_query(const char *path, int fd, struct xc_sock_info *out);

/* A process holding the socket inode ino (the lowest pid found), or 0. */
pid_t xc_socket_owner(uint64_t ino);

/*
 * The name of process pid (/proc/<pid>/comm) into buf, escaped (it is any
 * bytes the process chose).  Returns 0, or a negative errno (-ENOENT: gone),
 * leaving "" in buf.
 */
int xc_proc_comm(pid_t pid, char *buf, size_t len);

#endif
