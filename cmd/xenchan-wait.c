/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-wait: block until a domain and its channels reach a state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "common.h"
#include "parse.h"
#include "untrusted.h"
#include "follow.h"
#include "wait.h"

static const char *opt_timeout, *opt_for, *opt_follow;
static int opt_print;

static struct poptOption options[] = {
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "for", 'f', POPT_ARG_STRING, &opt_for, 0, NULL, NULL },
	{ "print", 'p', POPT_ARG_NONE, &opt_print, 0, NULL, NULL },
	{ "follow", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &opt_follow, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-wait [-t DURATION] [-f STATE] [-p] [--follow[=DURATION]] [-v] [-q]\n"
	"                    DOMAIN [CHANNEL...]\n";

static void help(void)
{
	printf("%s\n"
	       "Wait until DOMAIN (domid, name or UUID; it need not exist yet) and each\n"
	       "CHANNEL reach STATE.  With no CHANNEL, STATE applies to every channel the\n"
	       "domain has.\n\n"
	       "Options:\n"
	       "  -t, --timeout DURATION   give up after DURATION (500ms, 30s, 2m) with exit\n"
	       "                           status 124; 0, the default, waits for ever\n"
	       "  -f, --for STATE          exists, connected (frontend and backend both\n"
	       "                           Connected), ready (connected and the endpoint\n"
	       "                           accepts, or a xenchan backend serves a\n"
	       "                           direct channel; the default) or gone\n"
	       "  -p, --print              print each channel reached: domid, domain,\n"
	       "                           channel, transport and endpoint, tab-separated\n"
	       "      --follow[=DURATION]  when the domain goes away first, wait up to\n"
	       "                           DURATION (default 2m) for a domain with its UUID\n"
	       "                           (reboot, restore, migration) and go on waiting\n"
	       "  -v, --verbose            say what is waited for, what the domain has,\n"
	       "                           and what changed\n"
	       "  -q, --quiet              no messages but errors\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Exit status: 0 reached, 2 error, 4 the domain was destroyed first (and\n"
	       "not followed),\n"
	       "124 timed out.  See xenchan-wait(1) and xenchan(7).\n",
	       usage_text);
}

static void print_line(const struct xc_domain *d, const struct xc_channel *c)
{
	_cleanup_free_ char *dn = d->name ? xc_escape(d->name, XC_VALUE_MAX) : NULL;
	_cleanup_free_ char *cn = c->name ? xc_escape(c->name, XC_VALUE_MAX) : NULL;
	_cleanup_free_ char *ep = c->endpoint ? xc_escape(c->endpoint, XC_VALUE_MAX) : NULL;

	printf("%u\t%s\t%s\t%s\t%s\n", d->domid, dn ? dn : "-", cn ? cn : "-",
	       xc_transport_name(c->transport), ep ? ep : "-");
}

struct follow_state {
	struct xc_follow f;
	struct xc_peer *peer; /* the domain followed, for how it ends */
	uint64_t ms;          /* --follow */
	bool gave_up;         /* no domain followed in time: said so */
};

/* While waiting: what the domain shows of how it ends (peer.h). */
static void follow_hook(void *data)
{
	struct follow_state *fs = data;

	xc_peer_check(fs->peer, NULL);
}

/*
 * xc_wait() for DOMAIN, following the guest: once the domain exists, who
 * it is (its UUID); when it is destroyed before the state is reached, the
 * domain with its UUID that follows, and the wait goes on there.
 */
static int follow_wait(struct xc_store *st, const char *domain, const char *const *names,
		       size_t nnames, enum xc_wait_for what, uint64_t deadline,
		       struct follow_state *fs, struct xc_wait_result *res)
{
	char dom[24], line[512];
	const char *arg = domain;
	uint64_t now;
	int r;

	for (;;) {
		struct xc_wait_hook hook = { .fd = -1, .fn = follow_hook, .data = fs };
		struct xc_follow_break b = { 0 };
		uint32_t domid;
		uint64_t gone_at;

		if (!fs->f.nused) {
			/* The domain first, then who it is. */
			now = xc_now_ms();
			r = xc_wait(st, arg, NULL, 0, XC_WAIT_EXISTS,
				    deadline == XC_NEVER ? 0 : deadline > now ? deadline - now : 1,
				    res);
			if (r < 0)
				return r;
			domid = res->domain.domid;
			xc_wait_result_clear(res);
			r = xc_follow_init(&fs->f, st, domid);
			if (r == -ENOENT)
				continue; /* gone again: wait for it again */
			if (r < 0)
				return r == -EACCES ? -ENODATA : r;
			snprintf(dom, sizeof(dom), "id:%u", domid);
			arg = dom;
		}
		if (!fs->peer) {
			r = xc_peer_open(fs->f.domid, NULL, &fs->peer);
			if (r == 0)
				r = xc_peer_watch_lifecycle(fs->peer);
			if (r < 0)
				return r;
		}
		hook.fd = xc_peer_fd(fs->peer);
		now = xc_now_ms();
		r = xc_wait_hooked(st, arg, names, nnames, what,
				   deadline == XC_NEVER ? 0 : deadline > now ? deadline - now : 1,
				   &hook, res);
		if (r != -ESRCH)
			return r;
		gone_at = xc_now_ms();
		xc_peer_check(fs->peer, NULL);
		b.from = fs->f.domid;
		b.why = xc_peer_end(fs->peer);
		xc_peer_close(fs->peer);
		fs->peer = NULL;
		r = xc_follow_wait(&fs->f, st, xc_deadline_min(deadline,
							      xc_deadline_at(gone_at, fs->ms)),
				   &domid);
		if (r == -ETIMEDOUT && !xc_deadline_passed(deadline, xc_now_ms())) {
			cmd_err("%s: waited %s for a domain with UUID %s: not followed",
				cmd_arg(domain), cmd_arg(opt_follow), fs->f.uuid);
			fs->gave_up = true;
			return -ESRCH;
		}
		if (r < 0)
			return r;
		b.to = domid;
		b.ms = xc_now_ms() - gone_at;
		if (!quiet)
			cmd_err("%s", xc_follow_format(&fs->f, &b, line, sizeof(line)));
		snprintf(dom, sizeof(dom), "id:%u", domid);
		arg = dom;
	}
}

int main(int argc, const char **argv)
{
	struct xc_store *st = NULL;
	struct xc_wait_result res;
	enum xc_wait_for what = XC_WAIT_READY;
	uint64_t timeout = 0, deadline;
	const char **args, *domain;
	_cleanup_free_ char *edom = NULL;
	size_t nnames = 0;
	_cleanup_free_ const char **args_v = NULL;
	struct follow_state fs = { 0 };
	poptContext ctx;
	int r, rc;

	cmd_init("xenchan-wait", 0);
	args_v = cmd_fix_optional(argc, argv, NULL);
	ctx = cmd_parse(argc, args_v, options, usage_text, help, NULL);
	fs.ms = cmd_follow_opt(opt_follow);
	if (opt_timeout) {
		/* 0 disables the timeout, as in timeout(1). */
		timeout = cmd_duration_opt("--timeout", opt_timeout);
	}
	if (opt_for && xc_wait_for_parse(opt_for, &what) < 0)
		cmd_usage_error("--for: %s: not one of exists, connected, ready, gone",
				cmd_arg(opt_for));
	args = poptGetArgs(ctx);
	if (!args || !args[0])
		cmd_usage_error("no DOMAIN given");
	domain = args[0];
	edom = xc_escape(domain, XC_ARG_QUOTE_MAX);
	while (args[1 + nnames]) {
		if (!*args[1 + nnames])
			cmd_usage_error("empty CHANNEL name");
		cmd_check_channel(args[1 + nnames]);
		nnames++;
	}
	if (opt_print && what == XC_WAIT_GONE)
		cmd_usage_error("--print and --for gone are mutually exclusive");
	if (fs.ms && what == XC_WAIT_GONE)
		cmd_usage_error("--follow and --for gone are mutually exclusive");

	/* Every xenstore request too: a stalled xenstored costs the timeout. */
	deadline = xc_deadline(timeout);
	xc_store_set_deadline(deadline, 0);
	r = xc_store_open(&st);
	if (r < 0) {
		cmd_err("xenstore: %s", cmd_strerror(r));
		return cmd_exit_status(r);
	}
	cmd_verbose("%s: waiting for %s%s", edom, xc_wait_for_name(what),
		    timeout ? "" : " (no timeout)");
	if (fs.ms)
		r = follow_wait(st, domain, args + 1, nnames, what, deadline, &fs, &res);
	else
		r = xc_wait(st, domain, args + 1, nnames, what, timeout, &res);
	switch (r) {
	case 0:
		rc = XC_EXIT_OK;
		if (opt_print)
			for (size_t i = 0; i < res.nchannels; i++)
				print_line(&res.domain, &res.channels[i]);
		cmd_verbose("%s: %s", edom, xc_wait_for_name(what));
		xc_wait_result_clear(&res);
		break;
	case -ETIMEDOUT:
		if (!quiet)
			cmd_err("%s: timed out waiting for %s", edom, xc_wait_for_name(what));
		rc = XC_EXIT_TIMEOUT;
		break;
	case -ESRCH:
		if (!fs.gave_up)
			cmd_err("%s: domain destroyed before it was %s", edom, xc_wait_for_name(what));
		rc = XC_EXIT_PEERGONE;
		break;
	case -ENOTUNIQ:
		cmd_err("%s: ambiguous: several domains match (use id:, name: or uuid:)", edom);
		rc = XC_EXIT_ERROR;
		break;
	case -EINVAL:
		cmd_err("%s: not a domain id, name or UUID", edom);
		rc = XC_EXIT_ERROR;
		break;
	case -EPERM:
	case -ENODATA:
		cmd_err("%s: --follow: %s", edom, xc_session_follow_strerror(r));
		rc = XC_EXIT_ERROR;
		break;

	default:
		cmd_err("%s: %s", edom, cmd_strerror(r));
		rc = XC_EXIT_ERROR;
	}
	xc_peer_close(fs.peer);
	xc_follow_clear(&fs.f);
	xc_store_close(st);
	return rc;
}
