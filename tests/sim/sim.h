/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated Xen host: names and wire formats shared by its programs.
 *
 * Processes of the emulated host find it through the environment:
 *   XENCHAN_SIM_DIR    absolute path of the host directory (required; the
 *                      preload library refuses to run without it)
 *   XENCHAN_SIM_DOMID  the domain the process runs in (default 0)
 *
 * Layout of a host directory:
 *   hv.sock            the hypervisor daemon (SOCK_SEQPACKET)
 *   hv.pid, xenstored.pid
 *   xen-version        the Xen release the host models ("4.20.4")
 *   xenstored.path     the xenstored it runs
 *   xenstored/socket   xenstored's sockets (XENSTORED_RUNDIR)
 *   dom<N>/xenbus      a plain file a guest's XENSTORED_PATH names; the
 *                      preload turns open() of it into a connection to
 *   dom<N>/xenbus.sock the guest kernel's xenbus multiplexer
 *   dom<N>/agents      "name agent-spec" lines read by the guest's hvc driver
 *   dom<N>/config      what the domain was built with (reboot, save, migrate)
 *   dom<N>/pgid        process group of the domain's processes
 *   env                shell lines that enter the host (dom0)
 *   run/locks          xenchan's lock files (XENCHAN_RUNDIR in env)
 */
#ifndef XENCHAN_SIM_H
#define XENCHAN_SIM_H

#include <stdint.h>
#include <sys/ioctl.h>

#define SIM_ENV_DIR "XENCHAN_SIM_DIR"
#define SIM_ENV_DOMID "XENCHAN_SIM_DOMID"

#define SIM_PAGE_SIZE 4096u
#define SIM_MAX_DOMAINS 4096u
#define SIM_MAX_PORTS 4096u   /* per guest (2-level ABI), port 0 is never used */
#define SIM_DOM0_PORTS 65536u /* dom0: Linux uses the FIFO ABI, which allows more */
#define SIM_MAX_GRANTS 65536u /* per domain */
#define SIM_GNTTAB_RESERVED_XENSTORE 1u
#define SIM_VIRQ_DOM_EXC 3u

/*
 * Linux 6.3 added IOCTL_EVTCHN_BIND_STATIC (bind a port the domain already
 * owns); Debian 12's headers predate it.  The emulated guest kernel uses it
 * for the xenstore port the domain builder allocated, as Linux's xenbus
 * driver does with the port from start_info.
 */
#ifndef IOCTL_EVTCHN_BIND_STATIC
struct ioctl_evtchn_bind {
	unsigned int port;
};
#define IOCTL_EVTCHN_BIND_STATIC _IOC(_IOC_NONE, 'E', 7, sizeof(struct ioctl_evtchn_bind))
#endif

/* Requests on hv.sock: one packet each way.  Every reply starts with
 * struct sim_rep; err is 0 or a positive errno. */
enum sim_op {
	SIM_HELLO = 1,       /* a: kind (enum sim_dev), b: domid; reply carries the memory fd */
	SIM_DOMAIN_CREATE,   /* a: wanted domid or 0 for the next free; rep a: domid, b: xenstore port */
	SIM_DOMAIN_DESTROY,  /* a: domid */
	SIM_DOMAIN_INFO,     /* a: first domid; rep a: domid found (>= first), b: flags; ENOENT if none */
	SIM_STATS,           /* rep: struct sim_stats */
	SIM_XS_PAGE,         /* rep a: frame of this domain's xenstore page, b: its xenstore port */
	SIM_DOMAIN_SHUTDOWN, /* a: domid, b: reason (Xen's SHUTDOWN_*): SCHEDOP_shutdown */

	SIM_EVTCHN_BIND_UNBOUND = 32, /* a: remote domid; rep a: port */
	SIM_EVTCHN_BIND_INTERDOMAIN,  /* a: remote domid, b: remote port; rep a: port */
	SIM_EVTCHN_BIND_VIRQ,         /* a: virq; rep a: port */
	SIM_EVTCHN_BIND_STATIC,       /* a: port */
	SIM_EVTCHN_UNBIND,            /* a: port */
	SIM_EVTCHN_NOTIFY,            /* a: port */
	SIM_EVTCHN_RESET,

	SIM_GNTDEV_MAP = 64,   /* a: count, data: {u32 domid, u32 ref}[count]; rep a: index */
	SIM_GNTDEV_UNMAP,      /* a: index, b: count */
	SIM_GNTDEV_MMAP,       /* a: index, b: count, c: prot; rep data: u64 frame[count] */
	SIM_GNTDEV_MUNMAP,     /* a: index */
	SIM_GNTDEV_NOTIFY,     /* a: index (byte offset), b: action, c: port */

	SIM_GNTALLOC_ALLOC = 96, /* a: domid, b: flags, c: count; rep a: index, data: u32 ref[count] */
	SIM_GNTALLOC_DEALLOC,    /* a: index, b: count */
	SIM_GNTALLOC_MMAP,       /* a: index, b: count; rep data: u64 frame[count] */
	SIM_GNTALLOC_MUNMAP,     /* a: index */
	SIM_GNTALLOC_NOTIFY,     /* a: index (byte offset), b: action, c: port */
};

enum sim_dev {
	SIM_DEV_CONTROL = 0, /* driver, xc_* emulation */
	SIM_DEV_EVTCHN,      /* HELLO also passes the event stream's far end */
	SIM_DEV_GNTDEV,
	SIM_DEV_GNTALLOC,
};

/* SIM_DOMAIN_INFO's flags: dying, shut down, and then the reason in bits 8-15. */
#define SIM_DOMINFO_DYING 1u
#define SIM_DOMINFO_SHUTDOWN 2u
#define SIM_DOMINFO_REASON_SHIFT 8

struct sim_req {
	uint32_t op;
	uint32_t pad;
	uint64_t a, b, c;
	/* followed by op-specific data */
};

struct sim_rep {
	int32_t err;
	uint32_t pad;
	uint64_t a, b, c;
	/* followed by op-specific data */
};

struct sim_stats {
	uint64_t notifies;     /* EVTCHNOP_send through the ioctl */
	uint64_t events;       /* events delivered to a bound port */
	uint64_t grant_maps;   /* pages mapped through gntdev */
	uint64_t grant_allocs; /* pages shared through gntalloc */
	uint64_t domains;      /* domains alive, dom0 included */
};

#define SIM_MAX_MSG (sizeof(struct sim_req) + 8u * 1024u)

#endif
