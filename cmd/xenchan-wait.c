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
#include "wait.h"

static const char *opt_timeout, *opt_for;
static int opt_print;

static struct poptOption options[] = {
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "for", 'f', POPT_ARG_STRING, &opt_for, 0, NULL, NULL },
	{ "print", 'p', POPT_ARG_NONE, &opt_print, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-wait [-t DURATION] [-f STATE] [-p] [-v] [-q] DOMAIN [CHANNEL...]\n";

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
	       "  -v, --verbose            say what is waited for, what the domain has,\n"
	       "                           and what changed\n"
	       "  -q, --quiet              no messages but errors\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Exit status: 0 reached, 2 error, 4 the domain was destroyed first,\n"
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

int main(int argc, const char **argv)
{
	struct xc_store *st = NULL;
	struct xc_wait_result res;
	enum xc_wait_for what = XC_WAIT_READY;
	uint64_t timeout = 0, deadline;
	const char **args, *domain;
	_cleanup_free_ char *edom = NULL;
	size_t nnames = 0;
	poptContext ctx;
	int r, rc;

	cmd_init("xenchan-wait", 0);
	ctx = cmd_parse(argc, argv, options, usage_text, help, NULL);
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
	default:
		cmd_err("%s: %s", edom, cmd_strerror(r));
		rc = XC_EXIT_ERROR;
	}
	xc_store_close(st);
	return rc;
}
