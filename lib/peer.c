/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#include "channel.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "peer.h"
#include "untrusted.h"

#define TOKEN_RELEASE "xc-peer-release"
#define TOKEN_FRONTEND "xc-peer-frontend"
#define TOKEN_LIFECYCLE "xc-peer-lifecycle"
/* The suffix xl migrate gives the outgoing domain's name. */
#define MIGRATED_SUFFIX "--migratedaway"

struct xc_peer {
	struct xc_store *st;
	uint32_t domid;
	char dom_path[XC_DOMAIN_PATH_MAX];
	char *fe_state; /* <frontend>/state, or NULL */
	const char *gone;
	bool lifecycle;           /* control/shutdown and name are watched */
	enum xc_peer_end request; /* the last shutdown request seen */
	bool migrated;            /* the name ended in MIGRATED_SUFFIX */
	xc_interface *xch;        /* the hypervisor, asked how the domain shut down */
	bool shut;                /* ... and it told: request is its reason */
};

int xc_peer_open(uint32_t domid, const char *frontend, struct xc_peer **out)
{
	struct xc_peer *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->domid = domid;
	snprintf(p->dom_path, sizeof(p->dom_path), "/local/domain/%u", domid);
	if (frontend && asprintf(&p->fe_state, "%s/state", frontend) < 0) {
		p->fe_state = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = xc_store_open(&p->st);
	if (r == 0)
		r = xc_store_watch(p->st, "@releaseDomain", TOKEN_RELEASE);
	if (r == 0 && p->fe_state)
		r = xc_store_watch(p->st, p->fe_state, TOKEN_FRONTEND);
	if (r == 0) {
		r = xc_store_fd(p->st);
		r = r < 0 ? r : 0;
	}
	if (r < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	xc_peer_close(p);
	return r;
}

void xc_peer_close(struct xc_peer *p)
{
	if (!p)
		return;
	xc_store_close(p->st);
	if (p->xch)
		xc_interface_close(p->xch);
	free(p->fe_state);
	free(p);
}

struct xc_store *xc_peer_store(struct xc_peer *p)
{
	return p->st;
}

int xc_peer_fd(struct xc_peer *p)
{
	return xc_store_fd(p->st);
}

static int domain_read(struct xc_peer *p)
{
	char *v = NULL;
	int r = xc_store_read(p->st, XBT_NULL, p->dom_path, XC_VALUE_MAX, &v);

	free(v);
	return r;
}

bool xc_peer_domain_alive(struct xc_peer *p)
{
	int r = domain_read(p);

	return r != -ENOENT && r != -ECONNRESET;
}

const char *xc_peer_end_name(enum xc_peer_end e)
{
	switch (e) {
	case XC_PEER_END_REBOOT:
		return "reboot";
	case XC_PEER_END_SUSPEND:
		return "save or migrate";
	case XC_PEER_END_POWEROFF:
		return "poweroff";
	case XC_PEER_END_MIGRATED:
		return "migrated";
	case XC_PEER_END_CRASH:
		return "crash";
	default:
		return "destroyed";
	}
}

int xc_peer_watch_lifecycle(struct xc_peer *p)
{
	char path[XC_DOMAIN_PATH_MAX + 32];
	int r;

	if (p->lifecycle)
		return 0;
	snprintf(path, sizeof(path), "%s/control/shutdown", p->dom_path);
	r = xc_store_watch(p->st, path, TOKEN_LIFECYCLE);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/name", p->dom_path);
	r = xc_store_watch(p->st, path, TOKEN_LIFECYCLE);
	if (r < 0)
		return r;
	/* Without the hypervisor (not root, no privcmd) the guest's key alone
	 * tells. */
	p->xch = xc_interface_open(xc_log_xtl_quiet(), xc_log_xtl_quiet(), 0);
	if (!p->xch)
		xc_info("the hypervisor cannot be asked how domain %u shuts down: %s", p->domid,
			strerror(errno));
	p->lifecycle = true;
	return 0;
}

enum xc_peer_end xc_peer_end(const struct xc_peer *p)
{
	return p->migrated ? XC_PEER_END_MIGRATED : p->request;
}

/* The hypervisor's word: 1 once the domain has shut down, with its reason,
 * which the guest gave when it did (SCHEDOP_shutdown); 0 while it runs (or
 * runs again: a save that failed resumes it); -1 once it is destroyed,
 * without the hypervisor, or for a reason that is none of these. */
static int shutdown_reason(struct xc_peer *p, enum xc_peer_end *end)
{
	xc_domaininfo_t info;

	if (!p->xch || xc_domain_getinfolist(p->xch, p->domid, 1, &info) != 1 ||
	    info.domain != p->domid)
		return -1;
	if (!(info.flags & XEN_DOMINF_shutdown))
		return 0;
	switch ((info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask) {
	case SHUTDOWN_poweroff:
		*end = XC_PEER_END_POWEROFF;
		break;
	case SHUTDOWN_reboot:
		*end = XC_PEER_END_REBOOT;
		break;
	case SHUTDOWN_suspend:
		*end = XC_PEER_END_SUSPEND;
		break;
	case SHUTDOWN_crash:
	case SHUTDOWN_watchdog:
		*end = XC_PEER_END_CRASH;
		break;
	default:
		return -1;
	}
	return 1;
}

static void record_shutdown(struct xc_peer *p)
{
	enum xc_peer_end end;

	switch (shutdown_reason(p, &end)) {
	case 1:
		p->request = end;
		p->shut = true;
		break;
	case 0:
		/* Running, again: what it showed before is over. */
		if (p->shut)
			p->request = XC_PEER_END_DESTROYED;
		p->shut = false;
		break;
	}
}

/* While the domain is there: how it shut down, else its shutdown request,
 * and its name, remembered. */
static void record_lifecycle(struct xc_peer *p)
{
	static const struct {
		const char *word;
		enum xc_peer_end end;
	} requests[] = {
		{ "reboot", XC_PEER_END_REBOOT },
		{ "suspend", XC_PEER_END_SUSPEND },
		{ "poweroff", XC_PEER_END_POWEROFF },
		{ "halt", XC_PEER_END_POWEROFF },
	};
	char path[XC_DOMAIN_PATH_MAX + 32];
	_cleanup_free_ char *v = NULL, *name = NULL;
	size_t len;

	record_shutdown(p);
	snprintf(path, sizeof(path), "%s/control/shutdown", p->dom_path);
	/* The guest's key: compared with fixed words, never shown.  Linux
	 * clears it as it acknowledges, often before we look. */
	if (!p->shut && xc_store_read(p->st, XBT_NULL, path, 32, &v) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(requests); i++)
			if (streq(v, requests[i].word))
				p->request = requests[i].end;
	snprintf(path, sizeof(path), "%s/name", p->dom_path);
	if (xc_store_read(p->st, XBT_NULL, path, XC_VALUE_MAX, &name) == 0) {
		len = strlen(name);
		if (len >= strlen(MIGRATED_SUFFIX) &&
		    streq(name + len - strlen(MIGRATED_SUFFIX), MIGRATED_SUFFIX))
			p->migrated = true;
	}
}

void xc_peer_note_end(struct xc_peer *p)
{
	int r;

	if (!p || !p->lifecycle)
		return;
	r = domain_read(p);
	if (r == 0)
		record_lifecycle(p);
	else if (r == -ENOENT)
		record_shutdown(p);
}

static const char lost[] = "lost the connection to xenstored";

static int mark_gone(struct xc_peer *p, const char *why, const char **out)
{
	if (!p->gone)
		xc_info("peer gone: %s", why);
	p->gone = why;
	if (out)
		*out = why;
	return why == lost ? -ECONNRESET : -EPIPE;
}

int xc_peer_check(struct xc_peer *p, const char **why)
{
	uint64_t state;
	char *path, *token;
	int r;

	if (p->gone)
		return mark_gone(p, p->gone, why);
	while ((r = xc_store_read_watch(p->st, &path, &token)) == 0) {
		free(path);
		free(token);
	}
	if (r == -ECONNRESET)
		return mark_gone(p, lost, why);
	if (r != -EAGAIN)
		return r;
	r = domain_read(p);
	if (r == -ENOENT) {
		/* The toolstack removes the domain's directory before it
		 * destroys the domain: the hypervisor may still know why. */
		if (p->lifecycle)
			record_shutdown(p);
		return mark_gone(p, "the domain was destroyed", why);
	}
	if (r == -ECONNRESET)
		return mark_gone(p, lost, why);
	if (p->lifecycle) {
		record_lifecycle(p);
		/* xl migrate renames the outgoing copy once the guest is on its
		 * way out: from then on it is not the guest any more, whatever
		 * its qemu or ring still accept. */
		if (p->migrated)
			return mark_gone(p, "the domain is migrating away", why);
	}
	if (!p->fe_state)
		return 0;
	r = xc_store_read_uint(p->st, XBT_NULL, p->fe_state, XC_STATE_RECONFIGURED, &state);
	if (r == -ENOENT)
		return mark_gone(p, "the frontend was removed", why);
	if (r == -ECONNRESET)
		return mark_gone(p, lost, why);
	if (r == 0 && state >= XC_STATE_CLOSING && state <= XC_STATE_CLOSED)
		return mark_gone(p, "the frontend is closing", why);
	return 0;
}
