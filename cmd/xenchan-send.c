/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-send: deliver stdin or files to a channel, and say how far the
 * delivery is proven.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "copy.h"
#include "domain.h"
#include "parse.h"
#include "stream.h"
#include "untrusted.h"
#include "target.h"
#include "wait.h"

#define DEFAULT_WAIT "30s"
/* Progress appears only for a transfer that takes longer than this. */
#define PROGRESS_AFTER_MS 1000

static const char *opt_timeout, *opt_wait, *opt_transport;
static const char *opt_bandwidth;
static int opt_strict;
static int opt_create, opt_progress = -1;

enum { OPT_PROGRESS = 1, OPT_NO_PROGRESS };

static struct poptOption options[] = {
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "wait", 'w', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &opt_wait, 0, NULL, NULL },
	{ "transport", 'T', POPT_ARG_STRING, &opt_transport, 0, NULL, NULL },
	{ "create", '\0', POPT_ARG_NONE, &opt_create, 0, NULL, NULL },
	{ "bandwidth", 'b', POPT_ARG_STRING, &opt_bandwidth, 0, NULL, NULL },
	{ "strict", '\0', POPT_ARG_NONE, &opt_strict, 0, NULL, NULL },
	{ "progress", 'p', POPT_ARG_NONE, NULL, OPT_PROGRESS, NULL, NULL },
	{ "no-progress", '\0', POPT_ARG_NONE, NULL, OPT_NO_PROGRESS, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-send [-t DURATION] [-w | --wait=DURATION] [-T TRANSPORT]\n"
	"                    [-b RATE] [--strict] [--create] [-p | --no-progress] [-v] [-q]\n"
	"                    DOMAIN CHANNEL [FILE...]\n";

static void help(void)
{
	printf("%s\n"
	       "Deliver each FILE (stdin when there is none, or for '-') to CHANNEL of DOMAIN.\n"
	       "Exit 0 only once every byte is delivered as far as the transport can prove:\n"
	       "consumed by the guest (direct), written to qemu (socket, pty).\n\n"
	       "Options:\n"
	       "  -t, --timeout DURATION   give up (exit 124) when connecting, or delivering\n"
	       "                           a byte, takes longer; 0, the default: never\n"
	       "  -w, --wait[=DURATION]    first wait until the channel is ready, for up to\n"
	       "                           DURATION (default " DEFAULT_WAIT ")\n"
	       "  -T, --transport TRANSPORT  socket, pty, direct or vchan (default: the\n"
	       "                           channel's, or as the bandwidth chooses)\n"
	       "  -b, --bandwidth RATE     the rate needed (40M); without it, files of 1M+\n"
	       "                           imply their size over ten seconds.  Above what a\n"
	       "                           console ring carries ($XENCHAN_RING_RATE, default\n"
	       "                           4M), use the guest's vchan endpoint if it has one\n"
	       "      --strict             fail rather than fall back to the channel\n"
	       "      --create             direct: add the channel to the guest if absent\n"
	       "  -p, --progress           show progress on stderr (default: when stderr is\n"
	       "                           a terminal and the transfer takes over a second)\n"
	       "      --no-progress        never show progress\n"
	       "  -v, --verbose            say which transport is used and what was proven\n"
	       "  -q, --quiet              no messages but errors\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Exit status: 0 delivered, 2 error, 3 no such domain or channel, 4 the peer\n"
	       "went away (the count delivered is printed), 124 timed out.\n"
	       "See xenchan-send(1).\n",
	       usage_text);
}

static void on_option(int opt, poptContext ctx)
{
	opt_progress = opt == OPT_PROGRESS;
}

struct progress {
	uint64_t base;  /* bytes of earlier files */
	uint64_t total; /* 0: unknown */
	uint64_t start_ms;
	uint64_t elapsed_ms;
	bool shown;
	bool always;
};

static void show_progress(void *data, const struct xc_copy_stats *st)
{
	struct progress *p = data;
	char done[XC_FORMAT_SIZE_MAX], rate[XC_FORMAT_SIZE_MAX], total[XC_FORMAT_SIZE_MAX];
	uint64_t bytes = p->base + st->written, ms = p->elapsed_ms + st->elapsed_ms;
	uint64_t bps = ms ? bytes * 1000 / ms : 0;

	if (!p->always && ms < PROGRESS_AFTER_MS && !p->shown)
		return;
	if (st->final && !p->shown && !p->always)
		return;
	xc_format_size(bytes, done, sizeof(done));
	xc_format_size(bps, rate, sizeof(rate));
	if (p->total && bps) {
		uint64_t left = p->total > bytes ? p->total - bytes : 0;

		xc_format_size(p->total, total, sizeof(total));
		fprintf(stderr, "\r%s: %s of %s, %s/s, ETA %" PRIu64 "s\033[K", program_name,
			done, total, rate, left / bps);
	} else {
		fprintf(stderr, "\r%s: %s, %s/s\033[K", program_name, done, rate);
	}
	p->shown = true;
}

int main(int argc, const char **argv)
{
	_cleanup_free_ const char **args_v = NULL;
	_cleanup_free_ char *edom = NULL, *echan = NULL;
	struct xc_stream_opts sopts = { 0 };
	struct xc_copy_opts copts = { .out_fd = -1 };
	struct xc_copy_stats stats = { 0 };
	struct xc_target_opts topts = { 0 };
	struct xc_target tgt = { 0 };
	const struct xc_channel *c = NULL;
	struct xc_store *st = NULL;
	struct xc_stream *s = NULL;
	struct progress prog = { 0 };
	const char **args, **files;
	static const char *const stdin_only[] = { "-", NULL };
	uint64_t wait_ms = 0, delivered = 0, pending = 0, sent = 0;
	enum xc_proof proof = XC_PROOF_NONE;
	sigset_t sigs;
	poptContext ctx;
	int r, rc = XC_EXIT_ERROR;

	cmd_init("xenchan-send");
	args_v = cmd_fix_optional_wait(argc, argv, "--wait=" DEFAULT_WAIT);
	ctx = cmd_parse(argc, args_v, options, usage_text, help, on_option);
	if (opt_timeout)
		sopts.timeout_ms = copts.stall_timeout_ms = cmd_duration_opt("--timeout", opt_timeout);
	if (opt_wait)
		wait_ms = cmd_duration_opt("--wait", opt_wait);
	if (opt_transport && xc_transport_parse(opt_transport, &sopts.transport) < 0)
		cmd_usage_error("--transport: %s: not one of socket, pty, direct, vchan",
				opt_transport);
	if (opt_bandwidth) {
		r = xc_parse_rate(opt_bandwidth, &topts.rate);
		if (r < 0 || topts.rate == 0)
			cmd_usage_error("--bandwidth: %s: %s", opt_bandwidth,
					r == -ERANGE ? "too large" : "not a rate (64K, 40M, 1G)");
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
	if (!xc_channel_name_valid(args[1]))
		cmd_usage_error("%s: not a channel name", args[1]);
	files = args[2] ? args + 2 : (const char **)stdin_only;
	edom = xc_escape(args[0], 256);
	echan = xc_escape(args[1], 256);

	/* Open every file first: a missing one fails before anything is sent. */
	for (size_t i = 0; files[i]; i++) {
		struct stat sb;

		if (streq(files[i], "-"))
			continue;
		if (stat(files[i], &sb) < 0) {
			_cleanup_free_ char *ef = xc_escape(files[i], 256);

			cmd_err("%s: %s", ef, strerror(errno));
			return XC_EXIT_ERROR;
		}
		if (S_ISREG(sb.st_mode))
			prog.total += (uint64_t)sb.st_size;
	}
	if (streq(files[0], "-") && !files[1]) {
		struct stat sb;

		if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode))
			prog.total = (uint64_t)sb.st_size;
	}

	r = xc_store_open(&st);
	if (r < 0) {
		cmd_err("xenstore: %s", strerror(-r));
		return XC_EXIT_ERROR;
	}
	/* A large regular file implies the bandwidth: what would deliver it
	 * within ten seconds.  Small ones imply nothing worth saying. */
	if (!opt_bandwidth && prog.total >= 1024 * 1024)
		topts.rate = prog.total / 10;
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

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	copts.signals = &sigs;
	copts.quit_after_ms = 0;
	copts.escape = -1;
	if (opt_progress == 1 || (opt_progress < 0 && !quiet && isatty(STDERR_FILENO))) {
		prog.always = opt_progress == 1;
		copts.progress = show_progress;
		copts.progress_data = &prog;
		copts.progress_ms = 500;
	}

	r = 0;
	for (size_t i = 0; files[i] && r == 0; i++) {
		_cleanup_close_ int fd = -1;

		if (streq(files[i], "-")) {
			copts.in_fd = STDIN_FILENO;
		} else {
			fd = open(files[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				_cleanup_free_ char *ef = xc_escape(files[i], 256);

				r = -errno;
				cmd_err("%s: %s", ef, strerror(errno));
				break;
			}
			copts.in_fd = fd;
		}
		r = xc_copy(s, &copts, &stats);
		sent += stats.written;
		prog.base += stats.written;
		prog.elapsed_ms += stats.elapsed_ms;
		if (r == -EIO || r == -EISDIR) {
			_cleanup_free_ char *ef = xc_escape(files[i], 256);

			cmd_err("%s: %s", ef, strerror(-r));
		}
	}
	if (prog.shown)
		fputc('\n', stderr);
	xc_stream_delivered(s, &delivered, &pending, &proof);
	xc_stream_close(s);
	s = NULL;
	switch (r) {
	case 0:
		rc = XC_EXIT_OK;
		cmd_verbose("%s/%s: delivered %" PRIu64 " bytes: %s", edom, echan, delivered,
			    xc_proof_name(proof));
		break;
	case -EPIPE:
		cmd_err("%s/%s: peer went away: %" PRIu64 " of %" PRIu64 " bytes delivered", edom,
			echan, delivered, prog.total > sent ? prog.total : sent);
		rc = XC_EXIT_PEERGONE;
		break;
	case -ETIMEDOUT:
		cmd_err("%s/%s: timed out delivering: %" PRIu64 " bytes delivered", edom, echan,
			delivered);
		rc = XC_EXIT_TIMEOUT;
		break;
	case -EINTR:
		if (!quiet)
			cmd_err("%s/%s: interrupted: %" PRIu64 " bytes delivered", edom, echan,
				delivered);
		xc_store_close(st);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		signal(stats.signo, SIG_DFL);
		raise(stats.signo);
		st = NULL;
		rc = XC_EXIT_ERROR;
		break;
	default:
		if (r != -EIO && r != -EISDIR && r != -ENOENT && r != -EACCES)
			cmd_err("%s/%s: %s", edom, echan, strerror(-r));
		rc = XC_EXIT_ERROR;
	}
out:
	xc_stream_close(s);
	xc_store_close(st);
	xc_target_clear(&tgt);
	return rc;
}
