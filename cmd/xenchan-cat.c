/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-cat: stdin to a channel, the channel to stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "copy.h"
#include "domain.h"
#include "parse.h"
#include "stream.h"
#include "term.h"
#include "untrusted.h"
#include "target.h"
#include "vchan.h"
#include "wait.h"

#define DEFAULT_WAIT "30s"
#define DEFAULT_QUIT_AFTER_MS 1000

static const char *opt_timeout, *opt_wait, *opt_quit, *opt_escape, *opt_backlog,
	*opt_transport;
static const char *opt_bandwidth, *opt_buffer_size;
static int opt_strict;
static int opt_create, opt_listen;

static struct poptOption options[] = {
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "wait", 'w', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &opt_wait, 0, NULL, NULL },
	{ "quit-after", 'Q', POPT_ARG_STRING, &opt_quit, 0, NULL, NULL },
	{ "escape", 'e', POPT_ARG_STRING, &opt_escape, 0, NULL, NULL },
	{ "backlog", '\0', POPT_ARG_STRING, &opt_backlog, 0, NULL, NULL },
	{ "transport", 'T', POPT_ARG_STRING, &opt_transport, 0, NULL, NULL },
	{ "create", '\0', POPT_ARG_NONE, &opt_create, 0, NULL, NULL },
	{ "bandwidth", 'b', POPT_ARG_STRING, &opt_bandwidth, 0, NULL, NULL },
	{ "strict", '\0', POPT_ARG_NONE, &opt_strict, 0, NULL, NULL },
	{ "buffer-size", '\0', POPT_ARG_STRING, &opt_buffer_size, 0, NULL, NULL },
	{ "listen", 'l', POPT_ARG_NONE, &opt_listen, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-cat [-t DURATION] [-w | --wait=DURATION] [-Q DURATION] [-e CHAR]\n"
	"                   [--backlog=keep|discard] [-T TRANSPORT] [-b RATE [--strict]]\n"
	"                   [--create] [-l [--buffer-size SIZE]] [-v] [-q] DOMAIN CHANNEL\n";

static void help(void)
{
	printf("%s\n"
	       "Copy stdin to CHANNEL of DOMAIN and what the guest sends to stdout.  When\n"
	       "stdin ends, deliver it, then print replies until the guest is quiet for the\n"
	       "--quit-after time.  On a terminal: raw mode, Ctrl-] (see -e) to leave.\n\n"
	       "Options:\n"
	       "  -t, --timeout DURATION   give up (exit 124) when connecting, or delivering\n"
	       "                           a byte, takes longer; 0, the default: never\n"
	       "  -w, --wait[=DURATION]    first wait until the channel is ready, for up to\n"
	       "                           DURATION (default " DEFAULT_WAIT ")\n"
	       "  -Q, --quit-after DURATION  after stdin ended and was delivered, stop when\n"
	       "                           the guest has been silent this long (default 1s);\n"
	       "                           0: at once; never: until the peer goes\n"
	       "  -e, --escape CHAR        the key that ends an interactive session (^], the\n"
	       "                           default; ^X, a character, or none)\n"
	       "      --backlog MODE       keep (the default) or discard what the guest sent\n"
	       "                           before xenchan-cat connected\n"
	       "  -T, --transport TRANSPORT  socket, pty, direct or vchan (default: the\n"
	       "                           channel's, or as --bandwidth chooses)\n"
	       "  -b, --bandwidth RATE     the rate needed (40M): above what a console ring\n"
	       "                           carries ($XENCHAN_RING_RATE, default 4M), use the\n"
	       "                           guest's vchan endpoint for CHANNEL if it has one\n"
	       "      --strict             with -b: fail rather than fall back to the channel\n"
	       "      --create             direct: add the channel to the guest if absent\n"
	       "  -l, --listen             serve the channel and wait for the guest: direct\n"
	       "                           (--create), or with -T vchan a vchan endpoint for\n"
	       "                           DOMAIN, like xencat -l\n"
	       "      --buffer-size SIZE   -l -T vchan: each ring's size (default 256K;\n"
	       "                           4K to 1M, rounded up to a power of two)\n"
	       "  -v, --verbose            say which transport is used and why\n"
	       "  -q, --quiet              no messages but errors\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Exit status: 0 done, 2 error, 3 no such domain or channel, 4 the peer went\n"
	       "away before stdin was delivered, 124 timed out.  See xenchan-cat(1).\n",
	       usage_text);
}

int main(int argc, const char **argv)
{
	_cleanup_free_ const char **args_v = NULL;
	_cleanup_free_ char *edom = NULL, *echan = NULL;
	struct xc_stream_opts sopts = { 0 };
	struct xc_copy_opts copts = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO };
	struct xc_copy_stats stats;
	struct xc_target_opts topts = { 0 };
	struct xc_target tgt = { 0 };
	const struct xc_channel *c = NULL;
	struct xc_store *st = NULL;
	struct xc_stream *s = NULL;
	const char **args;
	uint64_t wait_ms = 0, delivered = 0, pending = 0, ring_size = 0;
	int64_t quit_ms = DEFAULT_QUIT_AFTER_MS;
	enum xc_proof proof;
	bool interactive;
	sigset_t sigs;
	poptContext ctx;
	int r, rc = XC_EXIT_ERROR, escape = 0x1d;

	cmd_init("xenchan-cat");
	args_v = cmd_fix_optional_wait(argc, argv, "--wait=" DEFAULT_WAIT);
	ctx = cmd_parse(argc, args_v, options, usage_text, help, NULL);
	if (opt_timeout)
		sopts.timeout_ms = copts.stall_timeout_ms = cmd_duration_opt("--timeout", opt_timeout);
	if (opt_wait)
		wait_ms = cmd_duration_opt("--wait", opt_wait);
	if (opt_quit) {
		if (streq(opt_quit, "never"))
			quit_ms = -1;
		else
			quit_ms = (int64_t)cmd_duration_opt("--quit-after", opt_quit);
	}
	if (opt_escape && xc_term_parse_escape(opt_escape, &escape) < 0)
		cmd_usage_error("--escape: %s: not ^X, a character or none", opt_escape);
	if (opt_backlog) {
		if (streq(opt_backlog, "discard"))
			sopts.discard_backlog = true;
		else if (!streq(opt_backlog, "keep"))
			cmd_usage_error("--backlog: %s: not keep or discard", opt_backlog);
	}
	if (opt_transport && xc_transport_parse(opt_transport, &sopts.transport) < 0)
		cmd_usage_error("--transport: %s: not one of socket, pty, direct, vchan",
				opt_transport);
	if (opt_bandwidth) {
		r = xc_parse_rate(opt_bandwidth, &topts.rate);
		if (r < 0 || topts.rate == 0)
			cmd_usage_error("--bandwidth: %s: %s", opt_bandwidth,
					r == -ERANGE ? "too large" : "not a rate (64K, 40M, 1G)");
	}
	if (opt_strict && !opt_bandwidth)
		cmd_usage_error("--strict needs --bandwidth");
	if (opt_buffer_size && !opt_listen)
		cmd_usage_error("--buffer-size needs --listen --transport vchan");
	if (opt_listen) {
		if (sopts.transport && sopts.transport != XC_TRANSPORT_DIRECT &&
		    sopts.transport != XC_TRANSPORT_VCHAN)
			cmd_usage_error("--listen needs --transport direct or vchan");
		if (opt_wait)
			cmd_usage_error("--listen and --wait are mutually exclusive");
		if (opt_bandwidth)
			cmd_usage_error("--listen and --bandwidth are mutually exclusive");
		if (opt_buffer_size) {
			if (sopts.transport != XC_TRANSPORT_VCHAN)
				cmd_usage_error("--buffer-size needs --listen --transport vchan");
			r = xc_parse_size(opt_buffer_size, &ring_size);
			if (r < 0 || ring_size < 4096 || ring_size > 1048576)
				cmd_usage_error("--buffer-size: %s: not a size from 4K to 1M",
						opt_buffer_size);
		}
		if (sopts.transport != XC_TRANSPORT_VCHAN) {
			sopts.transport = XC_TRANSPORT_DIRECT;
			opt_create = 1;
		}
	}
	if (opt_create && sopts.transport && sopts.transport != XC_TRANSPORT_DIRECT)
		cmd_usage_error("--create needs --transport direct");
	if (opt_create) {
		sopts.transport = XC_TRANSPORT_DIRECT;
		sopts.create = true;
	}
	args = poptGetArgs(ctx);
	if (!args || !args[0])
		cmd_usage_error("no DOMAIN given");
	if (!args[1])
		cmd_usage_error("no CHANNEL given");
	if (args[2])
		cmd_usage_error("%s: unexpected argument", args[2]);
	if (!xc_channel_name_valid(args[1]))
		cmd_usage_error("%s: not a channel name", args[1]);
	edom = xc_escape(args[0], 256);
	echan = xc_escape(args[1], 256);

	r = xc_store_open(&st);
	if (r < 0) {
		cmd_err("xenstore: %s", strerror(-r));
		return XC_EXIT_ERROR;
	}
	if (opt_listen && sopts.transport == XC_TRANSPORT_VCHAN) {
		/* Serve a vchan endpoint to the domain, like xencat -l.  A guest
		 * cannot read other domains' names: a domid is taken as it is. */
		if (xc_parse_domid(args[0], &tgt.domain.domid) == 0)
			r = 0;
		else
			r = xc_domain_resolve(st, args[0], &tgt.domain);
		if (r < 0) {
			cmd_err("%s: %s", edom, xc_target_strerror(r));
			rc = r == -ENOENT ? XC_EXIT_NOTFOUND : XC_EXIT_ERROR;
			goto out;
		}
		cmd_verbose("%s/%s: vchan: serving an endpoint to domain %u", edom, echan,
			    tgt.domain.domid);
		r = xc_vchan_listen(st, tgt.domain.domid, args[1], (size_t)ring_size,
				    sopts.timeout_ms, &s);
		if (r < 0) {
			cmd_err("%s/%s: listen: %s", edom, echan,
				r == -ETIMEDOUT ? "no client came" : strerror(-r));
			rc = r == -ETIMEDOUT ? XC_EXIT_TIMEOUT : XC_EXIT_ERROR;
			goto out;
		}
		goto copy;
	}
	topts.transport = sopts.transport;
	topts.strict = opt_strict;
	topts.create = opt_create;
	topts.wait_ms = wait_ms;
	if (wait_ms)
		cmd_verbose("%s/%s: waiting up to %s for the channel to be ready", edom, echan,
			    opt_wait);
	r = xc_target_find(st, args[0], args[1], &topts, &tgt);
	if (r < 0) {
		rc = cmd_report_target(edom, echan, r, &tgt);
		goto out;
	}
	cmd_report_target(edom, echan, 0, &tgt);
	c = tgt.chosen;

	r = xc_stream_open(st, c, &sopts, &s);
	if (r < 0) {
		char why[256];

		cmd_err("%s/%s: %s", edom, echan, xc_stream_strerror(r, c, &sopts, why, sizeof(why)));
		rc = r == -ETIMEDOUT ? XC_EXIT_TIMEOUT
		     : r == -EPIPE   ? XC_EXIT_PEERGONE
				     : XC_EXIT_ERROR;
		goto out;
	}

copy:
	/* A closed stdout ends us quietly: see xc_copy()'s -ESHUTDOWN. */
	signal(SIGPIPE, SIG_IGN);
	interactive = isatty(STDIN_FILENO);
	copts.escape = interactive ? escape : -1;
	copts.quit_after_ms = quit_ms;
	if (interactive && quit_ms >= 0 && !opt_quit)
		copts.quit_after_ms = -1;
	if (interactive) {
		r = xc_term_raw(STDIN_FILENO);
		if (r < 0) {
			cmd_err("terminal: %s", strerror(-r));
			goto out;
		}
		if (!quiet && escape >= 0) {
			fprintf(stderr, "%s: connected to %s/%s; escape character is %s%c\r\n",
				program_name, edom, echan, escape < 0x20 ? "^" : "",
				escape < 0x20 ? escape + '@' : escape);
		}
	}
	/* Teardown (terminal, stream, a hotplugged device) happens here, not in
	 * a handler: the signals are taken by the copy loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	copts.signals = &sigs;

	r = xc_copy(s, &copts, &stats);
	xc_stream_delivered(s, &delivered, &pending, &proof);
	xc_stream_close(s);
	s = NULL;
	xc_term_restore();
	switch (r) {
	case 0:
	case XC_COPY_ESCAPE:
	case -ESHUTDOWN:
		rc = XC_EXIT_OK;
		cmd_verbose("%s/%s: sent %" PRIu64 " bytes (%" PRIu64 " %s), received %" PRIu64
			    " bytes",
			    edom, echan, stats.written, delivered, xc_proof_name(proof),
			    stats.received);
		break;
	case -EPIPE:
		cmd_err("%s/%s: peer went away: %" PRIu64 " of %" PRIu64 " bytes delivered", edom,
			echan, delivered, stats.in);
		rc = XC_EXIT_PEERGONE;
		break;
	case -ETIMEDOUT:
		cmd_err("%s/%s: timed out delivering: %" PRIu64 " of %" PRIu64
			" bytes delivered",
			edom, echan, delivered, stats.in);
		rc = XC_EXIT_TIMEOUT;
		break;
	case -EINTR:
		if (!quiet)
			cmd_err("%s/%s: interrupted: %" PRIu64 " bytes delivered", edom, echan,
				delivered);
		xc_store_close(st);
		fflush(stdout);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		signal(stats.signo, SIG_DFL);
		raise(stats.signo);
		rc = XC_EXIT_ERROR;
		goto out_nostore;
	default:
		cmd_err("%s/%s: %s", edom, echan, strerror(-r));
		rc = XC_EXIT_ERROR;
	}
out:
	xc_stream_close(s);
	xc_store_close(st);
out_nostore:
	xc_term_restore();
	xc_target_clear(&tgt);
	return rc;
}
