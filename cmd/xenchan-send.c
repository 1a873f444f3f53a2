/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-send: deliver stdin or files to a channel, and say how far the
 * delivery is proven.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "lifecycle.h"
#include "parse.h"
#include "copy.h"

#define DEFAULT_WAIT "30s"
/* Progress appears only for a transfer that takes longer than this. */
#define PROGRESS_AFTER_MS 1000
#define PROGRESS_EVERY_MS 500
/* A regular file this large implies the bandwidth that delivers it in
 * IMPLIED_SECONDS; smaller ones imply nothing worth saying. */
#define IMPLIED_MIN_SIZE (1024 * 1024)
#define IMPLIED_SECONDS 10

static int opt_progress = -1;

enum { OPT_PROGRESS = 1, OPT_NO_PROGRESS };

static struct poptOption options[] = {
	{ "progress", 'p', POPT_ARG_NONE, NULL, OPT_PROGRESS, NULL, NULL },
	{ "no-progress", '\0', POPT_ARG_NONE, NULL, OPT_NO_PROGRESS, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, session_options, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-send [-t DURATION] [-w | --wait=DURATION] [--max-time DURATION]\n"
	"                    [-T TRANSPORT] [-b RATE] [--strict] [--create]\n"
	"                    [--follow[=DURATION]] [-p | --no-progress] [-v] [-q]\n"
	"                    DOMAIN CHANNEL [FILE...]\n";

static void help(void)
{
	printf("%s\n"
	       "Deliver each FILE (stdin when there is none, or for '-') to CHANNEL of DOMAIN.\n"
	       "Exit 0 only once every byte is delivered as far as the transport can prove:\n"
	       "consumed by the guest (direct), written to qemu (socket, pty).\n\n"
	       "Options:\n"
	       "  -t, --timeout DURATION   give up (exit 124) when connecting, delivering a\n"
	       "                           byte, or a xenstore request takes longer; 0, the\n"
	       "                           default: never\n"
	       "  -w, --wait[=DURATION]    first wait until the channel is ready and free,\n"
	       "                           for up to DURATION (default " DEFAULT_WAIT ")\n"
	       "      --max-time DURATION  end the whole session by then (exit 124, with the\n"
	       "                           count delivered); 0, the default: no limit\n"
	       "  -T, --transport TRANSPORT  socket, pty, direct or vchan (default: the\n"
	       "                           channel's, or as the bandwidth chooses)\n"
	       "  -b, --bandwidth RATE     the rate needed (40M); without it, files of 1M+\n"
	       "                           imply their size over ten seconds.  Above what a\n"
	       "                           console ring carries ($XENCHAN_RING_RATE, default\n"
	       "                           4M), use the guest's vchan endpoint if it has one\n"
	       "      --strict             fail rather than fall back to the channel\n"
	       "      --create             direct: add the channel to the guest if absent\n"
	       "      --follow[=DURATION]  follow the guest (its UUID) through reboot, save\n"
	       "                           and restore, migration: wait up to DURATION\n"
	       "                           (default 2m) for its new domain, reconnect, and\n"
	       "                           resend from the first byte not proven delivered\n"
	       "  -p, --progress           show progress on stderr (default: when stderr is\n"
	       "                           a terminal and the transfer takes over a second)\n"
	       "      --no-progress        never show progress\n"
	       "  -v, --verbose            say which transport is used and what was proven\n"
	       "  -q, --quiet              no messages but errors\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Exit status: 0 delivered, 2 error, 3 no such domain or channel, 4 the peer\n"
	       "went away (the count delivered is printed), 5 busy (another client holds the\n"
	       "channel; nothing was delivered), 124 timed out or --max-time reached.\n"
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

/* Every FILE before anything is sent: a missing one fails first.  The
 * total of the regular ones, for progress and the implied bandwidth. */
static int check_files(const char *const *files, uint64_t *total)
{
	struct stat sb;

	*total = 0;
	for (size_t i = 0; files[i]; i++) {
		if (streq(files[i], "-"))
			continue;
		if (stat(files[i], &sb) < 0) {
			cmd_err("%s: %s", cmd_arg(files[i]), strerror(errno));
			return -errno;
		}
		if (S_ISREG(sb.st_mode))
			*total += (uint64_t)sb.st_size;
	}
	if (streq(files[0], "-") && !files[1] && fstat(STDIN_FILENO, &sb) == 0 &&
	    S_ISREG(sb.st_mode))
		*total = (uint64_t)sb.st_size;
	return 0;
}

/* Each file in turn; 0 or the first failure. */
static int send_files(struct xc_session *ss, const char *const *files,
		      struct xc_copy_opts *copts, struct progress *prog)
{
	struct xc_copy_stats stats = { 0 };
	int r = 0;

	for (size_t i = 0; files[i] && r == 0; i++) {
		_cleanup_close_ int fd = -1;

		if (streq(files[i], "-")) {
			copts->in_fd = STDIN_FILENO;
		} else {
			fd = open(files[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				r = -errno;
				cmd_err("%s: %s", cmd_arg(files[i]), strerror(errno));
				return r;
			}
			copts->in_fd = fd;
		}
		r = xc_session_copy(ss, copts, &stats);
		prog->base += stats.written;
		prog->elapsed_ms += stats.elapsed_ms;
		if (r == -EIO || r == -EISDIR) {
			cmd_err("%s: %s", cmd_arg(files[i]), strerror(-r));
			return r;
		}
	}
	return r;
}

int main(int argc, const char **argv)
{
	_cleanup_free_ const char **args_v = NULL;
	static const char *const stdin_only[] = { "-", NULL };
	struct xc_session_opts so = { 0 };
	struct xc_copy_opts copts = { .out_fd = -1, .escape = -1 };
	struct progress prog = { 0 };
	struct xc_session ss;
	const char *const *files;
	const char **args;
	poptContext ctx;
	int r, rc;

	cmd_init("xenchan-send", XC_LIFECYCLE_SIGNALS);
	args_v = cmd_fix_optional(argc, argv, "--wait=" DEFAULT_WAIT);
	ctx = cmd_parse(argc, args_v, options, usage_text, help, on_option);
	args = cmd_session_args(ctx, true);
	cmd_session_opts(&so, &copts);
	files = args[2] ? args + 2 : stdin_only;
	if (check_files(files, &prog.total) < 0)
		return XC_EXIT_ERROR;
	if (!so.target.rate && prog.total >= IMPLIED_MIN_SIZE)
		so.target.rate = prog.total / IMPLIED_SECONDS;

	rc = cmd_session_open(&ss, args[0], args[1], &so);
	if (rc != XC_EXIT_OK)
		return rc;
	cmd_session_follow(&ss, &copts, true, &so);
	if (opt_progress == 1 || (opt_progress < 0 && !quiet && isatty(STDERR_FILENO))) {
		prog.always = opt_progress == 1;
		copts.progress = show_progress;
		copts.progress_data = &prog;
		copts.progress_ms = PROGRESS_EVERY_MS;
	}
	r = send_files(&ss, files, &copts, &prog);
	if (prog.shown)
		fputc('\n', stderr);
	if (r == -EIO || r == -EISDIR || r == -ENOENT || r == -EACCES) {
		/* Said already, naming the file. */
		xc_session_close(&ss);
		return XC_EXIT_ERROR;
	}
	return cmd_session_end(&ss, r, prog.total > prog.base ? prog.total : prog.base,
			       "delivered", NULL);
}
