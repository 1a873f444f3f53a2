/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-cat: stdin to a channel, the channel to stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "lifecycle.h"
#include "parse.h"
#include "term.h"
#include "ttyfilter.h"
#include "vchan.h"

#define DEFAULT_WAIT "30s"
#define DEFAULT_QUIT_AFTER_MS 1000
/* Ctrl-]: telnet's, and virsh console's, escape. */
#define DEFAULT_ESCAPE 0x1d

/* --lines: at most this many; a count, not a size. */
#define LINES_MAX UINT32_MAX

static const char *opt_quit, *opt_escape, *opt_backlog, *opt_buffer_size, *opt_lines,
	*opt_controls;
static int opt_listen;

static struct poptOption options[] = {
	{ "quit-after", 'Q', POPT_ARG_STRING, &opt_quit, 0, NULL, NULL },
	{ "lines", 'n', POPT_ARG_STRING, &opt_lines, 0, NULL, NULL },
	{ "escape", 'e', POPT_ARG_STRING, &opt_escape, 0, NULL, NULL },
	{ "backlog", '\0', POPT_ARG_STRING, &opt_backlog, 0, NULL, NULL },
	{ "controls", '\0', POPT_ARG_STRING, &opt_controls, 0, NULL, NULL },
	{ "buffer-size", '\0', POPT_ARG_STRING, &opt_buffer_size, 0, NULL, NULL },
	{ "listen", 'l', POPT_ARG_NONE, &opt_listen, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, session_options, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-cat [-t DURATION] [-w | --wait=DURATION] [-Q DURATION] [-n N]\n"
	"                   [--max-time DURATION] [-e CHAR] [--backlog=keep|discard]\n"
	"                   [--controls=auto|filter|pass]\n"
	"                   [-T TRANSPORT] [-b RATE [--strict]] [--create]\n"
	"                   [--follow[=DURATION]] [-l [--buffer-size SIZE]] [-v] [-q]\n"
	"                   DOMAIN CHANNEL\n";

static void help(void)
{
	printf("%s\n"
	       "Copy stdin to CHANNEL of DOMAIN and what the guest sends to stdout.  When\n"
	       "stdin ends, deliver it, then print replies until the guest is quiet for the\n"
	       "--quit-after time, or until --lines lines came.  On a terminal: raw mode,\n"
	       "Ctrl-] (see -e) to leave.  To a terminal, the guest's controls that act on\n"
	       "it are filtered (--controls).\n\n"
	       "Options:\n"
	       "  -t, --timeout DURATION   give up (exit 124) when connecting, delivering a\n"
	       "                           byte, or a xenstore request takes longer; 0, the\n"
	       "                           default: never\n"
	       "  -w, --wait[=DURATION]    first wait until the channel is ready and free,\n"
	       "                           for up to DURATION (default " DEFAULT_WAIT ")\n"
	       "  -Q, --quit-after DURATION  after stdin ended and was delivered, stop when\n"
	       "                           the guest has been silent this long (default 1s,\n"
	       "                           never with -n); 0: at once; never: until the\n"
	       "                           peer goes\n"
	       "  -n, --lines N            print the guest's first N lines, drop what follows\n"
	       "                           them, and stop once stdin is delivered too\n"
	       "      --max-time DURATION  end the whole session by then, exit 124 after\n"
	       "                           printing what came; 0, the default: no limit\n"
	       "  -e, --escape CHAR        the key that ends an interactive session (^], the\n"
	       "                           default; ^X, a character, or none)\n"
	       "      --backlog MODE       keep (the default) or discard what the guest sent\n"
	       "                           before xenchan-cat connected\n"
	       "      --controls MODE      the guest's terminal controls: filter those that\n"
	       "                           act on the terminal (title, clipboard, replies),\n"
	       "                           pass all, or auto (the default): filter when\n"
	       "                           stdout is a terminal; see SECURITY in the manual\n"
	       "  -T, --transport TRANSPORT  socket, pty, direct or vchan (default: the\n"
	       "                           channel's, or as --bandwidth chooses)\n"
	       "  -b, --bandwidth RATE     the rate needed (40M): above what a console ring\n"
	       "                           carries ($XENCHAN_RING_RATE, default 4M), use the\n"
	       "                           guest's vchan endpoint for CHANNEL if it has one\n"
	       "      --strict             with -b: fail rather than fall back to the channel\n"
	       "      --create             direct: add the channel to the guest if absent\n"
	       "      --follow[=DURATION]  follow the guest (its UUID) through reboot, save\n"
	       "                           and restore, migration: wait up to DURATION\n"
	       "                           (default 2m) for its new domain and reconnect\n"
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
	       "away before stdin was delivered, 5 busy (another client holds the channel),\n"
	       "124 timed out or --max-time reached.  See xenchan-cat(1).\n",
	       usage_text);
}

/* -l: serve instead of connecting; its options, checked. */
static void listen_opts(struct xc_session_opts *o)
{
	uint64_t size = 0;

	if (opt_buffer_size && !opt_listen)
		cmd_usage_error("--buffer-size needs --listen --transport vchan");
	if (!opt_listen)
		return;
	if (o->stream.transport && o->stream.transport != XC_TRANSPORT_DIRECT &&
	    o->stream.transport != XC_TRANSPORT_VCHAN)
		cmd_usage_error("--listen needs --transport direct or vchan");
	if (o->target.wait_ms)
		cmd_usage_error("--listen and --wait are mutually exclusive");
	if (o->target.rate)
		cmd_usage_error("--listen and --bandwidth are mutually exclusive");
	if (o->follow_ms)
		cmd_usage_error("--listen and --follow are mutually exclusive");
	if (opt_buffer_size) {
		int r;

		if (o->stream.transport != XC_TRANSPORT_VCHAN)
			cmd_usage_error("--buffer-size needs --listen --transport vchan");
		r = xc_parse_size(opt_buffer_size, &size);
		if (r < 0 || size < XC_VCHAN_RING_MIN || size > XC_VCHAN_RING_MAX)
			cmd_usage_error("--buffer-size: %s: not a size from 4K to 1M",
					cmd_arg(opt_buffer_size));
		o->ring_size = (size_t)size;
	}
	/* Direct: serving is adding the channel and waiting for the guest. */
	if (o->stream.transport != XC_TRANSPORT_VCHAN)
		o->stream.transport = XC_TRANSPORT_DIRECT;
	o->listen = true;
}

int main(int argc, const char **argv)
{
	_cleanup_free_ const char **args_v = NULL;
	struct xc_session_opts so = { 0 };
	struct xc_copy_opts copts = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO };
	struct xc_copy_stats stats;
	_cleanup_(xc_ttyfilter_freep) struct xc_ttyfilter *filter = NULL;
	struct xc_session ss;
	const char **args;
	int64_t quit_ms = DEFAULT_QUIT_AFTER_MS;
	bool interactive, filtering;
	poptContext ctx;
	int r, rc, escape = DEFAULT_ESCAPE;

	cmd_init("xenchan-cat", XC_LIFECYCLE_SIGNALS);
	args_v = cmd_fix_optional(argc, argv, "--wait=" DEFAULT_WAIT);
	ctx = cmd_parse(argc, args_v, options, usage_text, help, NULL);
	args = cmd_session_args(ctx, false);
	cmd_session_opts(&so, &copts);
	if (opt_lines) {
		int r1 = xc_parse_uint(opt_lines, LINES_MAX, &copts.lines);

		if (r1 < 0 || copts.lines == 0)
			cmd_usage_error("--lines: %s: %s", cmd_arg(opt_lines),
					r1 == -ERANGE ? "too many (at most 4294967295)"
						      : "not a number of lines (1 or more)");
		/* The reply ends the session, not silence. */
		quit_ms = -1;
	}
	if (opt_quit) {
		if (streq(opt_quit, "never"))
			quit_ms = -1;
		else
			quit_ms = (int64_t)cmd_duration_opt("--quit-after", opt_quit);
	}
	if (opt_escape && xc_term_parse_escape(opt_escape, &escape) < 0)
		cmd_usage_error("--escape: %s: not ^X, a character or none", cmd_arg(opt_escape));
	if (opt_backlog) {
		if (streq(opt_backlog, "discard"))
			so.stream.discard_backlog = true;
		else if (!streq(opt_backlog, "keep"))
			cmd_usage_error("--backlog: %s: not keep or discard", cmd_arg(opt_backlog));
	}
	filtering = isatty(STDOUT_FILENO);
	if (opt_controls) {
		if (streq(opt_controls, "filter"))
			filtering = true;
		else if (streq(opt_controls, "pass"))
			filtering = false;
		else if (!streq(opt_controls, "auto"))
			cmd_usage_error("--controls: %s: not auto, filter or pass",
					cmd_arg(opt_controls));
	}
	listen_opts(&so);

	if (filtering) {
		r = xc_ttyfilter_new(&filter);
		if (r < 0) {
			cmd_err("%s", strerror(-r));
			return XC_EXIT_ERROR;
		}
		copts.filter = xc_ttyfilter_cb;
		copts.filter_data = filter;
	}

	rc = cmd_session_open(&ss, args[0], args[1], &so);
	if (rc != XC_EXIT_OK)
		return rc;
	cmd_session_follow(&ss, &copts, false, &so);

	interactive = isatty(STDIN_FILENO);
	copts.escape = interactive ? escape : -1;
	copts.quit_after_ms = quit_ms;
	if (interactive && quit_ms >= 0 && !opt_quit)
		copts.quit_after_ms = -1;
	if (interactive) {
		r = xc_term_raw(STDIN_FILENO);
		if (r < 0) {
			cmd_err("terminal: %s", strerror(-r));
			xc_session_close(&ss);
			return XC_EXIT_ERROR;
		}
		if (!quiet && escape >= 0)
			fprintf(stderr, "%s: connected to %s/%s; escape character is %s%c\r\n",
				program_name, cmd_arg(args[0]), cmd_arg(args[1]),
				escape < 0x20 ? "^" : "", escape < 0x20 ? escape + '@' : escape);
	}
	r = xc_session_copy(&ss, &copts, &stats);
	xc_term_restore();
	if (r == -EPIPE && stats.lines < copts.lines)
		cmd_err("%s/%s: peer went away after %" PRIu64 " of %" PRIu64 " lines",
			cmd_arg(args[0]), cmd_arg(args[1]), stats.lines, copts.lines);
	else if (copts.lines)
		cmd_verbose("%s/%s: %" PRIu64 " of %" PRIu64 " lines received; %" PRIu64
			    " bytes after them discarded",
			    cmd_arg(args[0]), cmd_arg(args[1]), stats.lines, copts.lines,
			    stats.discarded);
	rc = cmd_session_end(&ss, r, stats.in, "sent", &stats.received);
	if (filter)
		cmd_verbose("filtered %" PRIu64 " terminal control sequences",
			    xc_ttyfilter_dropped(filter));
	return rc;
}
