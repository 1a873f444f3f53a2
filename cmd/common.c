/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "parse.h"
#include "target.h"

const char *program_name = "xenchan";
int verbose;
int quiet;

struct poptOption common_options[] = {
	{ "verbose", 'v', POPT_ARG_NONE, NULL, 'v', "say more about what is done", NULL },
	{ "quiet", 'q', POPT_ARG_NONE, &quiet, 0, "no messages but errors", NULL },
	{ "help", 'h', POPT_ARG_NONE, NULL, OPT_HELP, "show this help", NULL },
	{ "usage", '\0', POPT_ARG_NONE, NULL, OPT_USAGE, "show a short usage line", NULL },
	{ "version", 'V', POPT_ARG_NONE, NULL, OPT_VERSION, "show the version", NULL },
	POPT_TABLEEND
};

static void vmsg(const char *fmt, va_list ap)
{
	/* One fprintf per message keeps concurrent writers from interleaving. */
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s: %s\n", program_name, buf);
}

void cmd_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cmd_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", program_name);
	exit(XC_EXIT_ERROR);
}

static void log_to_stderr(void *data, int prio, const char *fmt, va_list ap)
{
	vmsg(fmt, ap);
}

/* Like util-linux's close_stdout: a lost write to stdout is an error. */
static void close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			_exit(XC_EXIT_OK); /* a closed pipe ends us quietly */
		fprintf(stderr, "%s: write error: %s\n", program_name, strerror(errno));
		_exit(XC_EXIT_ERROR);
	}
}

void cmd_init(const char *name)
{
	program_name = name;
	atexit(close_stdout);
	xc_log_set(log_to_stderr, NULL);
}

static poptContext cur_ctx;

/* At exit, however the command ends: its arguments live in the context. */
static void free_ctx(void)
{
	if (cur_ctx)
		poptFreeContext(cur_ctx);
	cur_ctx = NULL;
}

poptContext cmd_parse(int argc, const char **argv, const struct poptOption *table,
		      const char *usage, void (*help)(void), void (*fn)(int opt, poptContext ctx))
{
	/* No POPT_CONTEXT_KEEP_FIRST and no poptReadDefaultConfig: /etc/popt
	 * aliases must not change what a command does. */
	poptContext ctx = poptGetContext(program_name, argc, argv, table, 0);
	int rc;

	if (!ctx) {
		cmd_err("out of memory");
		exit(XC_EXIT_ERROR);
	}
	cur_ctx = ctx;
	atexit(free_ctx);

	while ((rc = poptGetNextOpt(ctx)) > 0) {
		switch (rc) {
		case 'v':
			verbose++;
			break;
		case OPT_HELP:
			help();
			exit(XC_EXIT_OK);
		case OPT_USAGE:
			fputs(usage, stdout);
			exit(XC_EXIT_OK);
		case OPT_VERSION:
			printf("%s (%s) %s\n", program_name, PACKAGE_NAME, PACKAGE_VERSION);
			exit(XC_EXIT_OK);
		default:
			if (fn)
				fn(rc, ctx);
		}
	}
	if (rc < -1)
		cmd_usage_error("%s: %s", poptBadOption(ctx, 0), poptStrerror(rc));
	if (verbose)
		xc_log_set_priority(verbose > 1 ? LOG_DEBUG : LOG_INFO);
	return ctx;
}

const char **cmd_fix_optional_wait(int argc, const char **argv, const char *bare)
{
	const char **v = calloc(argc + 1, sizeof(*v));

	if (!v) {
		cmd_err("out of memory");
		exit(XC_EXIT_ERROR);
	}
	for (int i = 0; i < argc; i++) {
		v[i] = argv[i];
		if (streq(argv[i], "--"))
			for (i++; i < argc; i++)
				v[i] = argv[i];
		else if (i > 0 && (streq(argv[i], "--wait") || streq(argv[i], "-w")))
			v[i] = bare;
	}
	return v;
}

uint64_t cmd_duration_opt(const char *name, const char *value)
{
	uint64_t ms;
	int r = xc_parse_duration(value, &ms);

	if (r < 0)
		cmd_usage_error("%s: %s: %s", name, value,
				r == -ERANGE ? "too long" : "not a duration (500ms, 30s, 2m)");
	return ms;
}

int cmd_report_target(const char *edom, const char *echan, int r,
		      const struct xc_target *t)
{
	if (r < 0) {
		if (r == -ENOTSUP)
			cmd_err("%s/%s: %s (--strict)", edom, echan, t->choice.reason);
		else if (r == -ENODEV || r == -ETIMEDOUT)
			cmd_err("%s/%s: %s", edom, echan, xc_target_strerror(r));
		else
			cmd_err("%s: %s", edom, xc_target_strerror(r));
		return r == -ENOENT || r == -ENODEV ? XC_EXIT_NOTFOUND
		       : r == -ETIMEDOUT	   ? XC_EXIT_TIMEOUT
		       : r == -ESRCH		   ? XC_EXIT_PEERGONE
						   : XC_EXIT_ERROR;
	}
	if (t->choice.fell_back && !quiet)
		cmd_err("%s/%s: warning: %s: using the channel", edom, echan, t->choice.reason);
	cmd_verbose("%s/%s: %s", edom, echan, t->choice.reason);
	if (!quiet && t->chosen->flags & XC_CHAN_NO_TRUSTED_COPY)
		cmd_err("%s/%s: warning: no trusted copy of the channel: its identity comes from the guest",
			edom, echan);
	return XC_EXIT_OK;
}

int cmd_exit_for(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENODEV:
		return XC_EXIT_NOTFOUND;
	case -ETIMEDOUT:
		return XC_EXIT_TIMEOUT;
	case -EPIPE:
	case -ECONNRESET:
		return XC_EXIT_PEERGONE;
	default:
		return XC_EXIT_ERROR;
	}
}
