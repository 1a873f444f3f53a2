/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "follow.h"
#include "common.h"
#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "store.h"
#include "target.h"
#include "untrusted.h"

/* cmd_arg() strings alive at once (one message's worth). */
#define ARG_SLOTS 8
/* --wait's default, for cat and send. */
#define DEFAULT_WAIT "30s"

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
	/* One fprintf per message keeps concurrent writers from interleaving;
	 * never a fixed buffer, which would cut the reason off. */
	char *buf = NULL;

	if (vasprintf(&buf, fmt, ap) < 0) {
		fprintf(stderr, "%s: out of memory\n", program_name);
		return;
	}
	fprintf(stderr, "%s: %s\n", program_name, buf);
	free(buf);
}

static char *arg_slots[ARG_SLOTS];

static void free_args(void)
{
	for (size_t i = 0; i < ARG_SLOTS; i++)
		free(arg_slots[i]);
}

const char *cmd_arg(const char *s)
{
	static size_t next;
	char *e = xc_escape(s, XC_ARG_QUOTE_MAX);

	if (!e)
		return "?";
	if (!next && !arg_slots[0])
		atexit(free_args);
	free(arg_slots[next]);
	arg_slots[next] = e;
	next = (next + 1) % ARG_SLOTS;
	return e;
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

void cmd_init(const char *name, unsigned lifecycle_flags)
{
	/* Before anything is opened: see lib/lifecycle.h. */
	if (xc_lifecycle_init(lifecycle_flags) < 0)
		_exit(XC_EXIT_ERROR);
	program_name = name;
	/* Run last (atexit is LIFO): stdout flushed first, then the signal. */
	atexit(xc_lifecycle_die);
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
		cmd_usage_error("%s: %s", cmd_arg(poptBadOption(ctx, 0)), poptStrerror(rc));
	if (verbose)
		xc_log_set_priority(verbose > 1 ? LOG_DEBUG : LOG_INFO);
	return ctx;
}

/* The word after a bare -w or --wait when it reads as a duration, and the
 * option as it was given: see cmd_session_args().  While popt parses, the
 * word is replaced with wait_mark, since popt copies the words it leaves
 * and they could no longer be told apart by address; no argument a user
 * types is the same. */
static const char *wait_word, *wait_given;
static const char wait_mark[] = "\n--wait value\n";

const char **cmd_fix_optional(int argc, const char **argv, const char *wait_bare)
{
	const char **v = calloc(argc + 1, sizeof(*v));
	int marked = -1;

	if (!v) {
		cmd_err("out of memory");
		exit(XC_EXIT_ERROR);
	}
	for (int i = 0; i < argc; i++) {
		v[i] = argv[i];
		if (streq(argv[i], "--"))
			for (i++; i < argc; i++)
				v[i] = argv[i];
		else if (i > 0 && streq(argv[i], "--follow"))
			v[i] = "--follow=" XC_FOLLOW_DEFAULT;
		else if (i > 0 && wait_bare && (streq(argv[i], "--wait") || streq(argv[i], "-w"))) {
			uint64_t ms;

			v[i] = wait_bare;
			/* The last -w counts, as for popt. */
			if (marked >= 0)
				v[marked] = argv[marked];
			marked = -1;
			wait_given = argv[i];
			wait_word = NULL;
			if (i + 1 < argc && xc_parse_duration(argv[i + 1], &ms) == 0) {
				wait_word = argv[++i];
				v[marked = i] = wait_mark;
			}
		}
	}
	return v;
}

uint64_t cmd_follow_opt(const char *value)
{
	uint64_t ms;

	if (!value)
		return 0;
	ms = cmd_duration_opt("--follow", value);
	if (ms == 0)
		cmd_usage_error("--follow: %s: not a duration above 0", cmd_arg(value));
	return ms;
}

uint64_t cmd_duration_opt(const char *name, const char *value)
{
	uint64_t ms;
	int r = xc_parse_duration(value, &ms);

	if (r < 0)
		cmd_usage_error("%s: %s: %s", name, cmd_arg(value),
				r == -ERANGE ? "too long" : "not a duration (500ms, 30s, 2m)");
	return ms;
}

void cmd_check_channel(const char *name)
{
	if (!xc_channel_name_valid(name))
		cmd_usage_error("%s: not a channel name", cmd_arg(name));
}

int cmd_exit_status(int err)
{
	switch (err) {
	case 0:
		return XC_EXIT_OK;
	case -ENOENT:
	case -ENODEV:
		return XC_EXIT_NOTFOUND;
	case -ETIMEDOUT:
		return XC_EXIT_TIMEOUT;
	case -EPIPE:
	case -ESRCH:
		return XC_EXIT_PEERGONE;
	case -EBUSY:
		return XC_EXIT_BUSY;
	default:
		return XC_EXIT_ERROR;
	}
}

const char *cmd_strerror(int err)
{
	switch (err) {
	case -ECONNRESET:
		return "xenstore connection lost";
	case -ETIMEDOUT:
		return "timed out";
	case -EINTR:
		return "interrupted";
	default:
		return strerror(-err);
	}
}

/* ---- xenchan-cat and xenchan-send ---- */

static const char *opt_timeout, *opt_wait, *opt_transport, *opt_bandwidth, *opt_max_time,
	*opt_follow;
static int opt_strict, opt_create;
/* --max-time: when the session must be over; XC_NEVER: no limit. */
static uint64_t session_deadline = XC_NEVER;

struct poptOption session_options[] = {
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "wait", 'w', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &opt_wait, 0, NULL, NULL },
	{ "transport", 'T', POPT_ARG_STRING, &opt_transport, 0, NULL, NULL },
	{ "create", '\0', POPT_ARG_NONE, &opt_create, 0, NULL, NULL },
	{ "bandwidth", 'b', POPT_ARG_STRING, &opt_bandwidth, 0, NULL, NULL },
	{ "strict", '\0', POPT_ARG_NONE, &opt_strict, 0, NULL, NULL },
	{ "max-time", '\0', POPT_ARG_STRING, &opt_max_time, 0, NULL, NULL },
	{ "follow", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &opt_follow, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char **session_args;

static void free_session_args(void)
{
	free(session_args);
}

const char **cmd_session_args(poptContext ctx, bool files)
{
	const char **popt_args = poptGetArgs(ctx), **args;
	size_t n = 0, k = 0;

	while (popt_args && popt_args[n])
		n++;
	/* A copy: popt owns its array and the words in it. */
	args = calloc(n + 1, sizeof(*args));
	if (!args) {
		cmd_err("out of memory");
		exit(XC_EXIT_ERROR);
	}
	if (n)
		memcpy(args, popt_args, n * sizeof(*args));
	if (session_args)
		free(session_args);
	else
		atexit(free_session_args);
	session_args = args;
	/* The word that followed a bare -w. */
	while (wait_word && k < n && !streq(args[k], wait_mark))
		k++;
	if (wait_word && k < n)
		args[k] = wait_word;
	if (wait_word && k < n && n >= 3) {
		/* Without it DOMAIN and CHANNEL are still there: it is the
		 * wait, unless FILE operands make the other reading valid too. */
		if (files) {
			const char *w = cmd_arg(wait_word);
			bool id = wait_word[strspn(wait_word, "0123456789")] == '\0';

			cmd_usage_error("%s %s: did you mean --wait=%s? (for the domain %s: %s%s)",
					wait_given, w, w, w, id ? "id:" : "name:", w);
		}
		free((char *)opt_wait); /* popt's copy of the bare default */
		opt_wait = wait_word;
		memmove(args + k, args + k + 1, (n - k) * sizeof(*args));
		n--;
	}
	if (!n)
		cmd_usage_error("no DOMAIN given");
	if (n < 2)
		cmd_usage_error("no CHANNEL given");
	if (!files && n > 2)
		cmd_usage_error("%s: unexpected argument", cmd_arg(args[2]));
	cmd_check_channel(args[1]);
	return args;
}

void cmd_session_opts(struct xc_session_opts *o, struct xc_copy_opts *c)
{
	struct xc_stream_opts *so = &o->stream;
	struct xc_target_opts *to = &o->target;
	int r;

	if (opt_timeout)
		so->timeout_ms = cmd_duration_opt("--timeout", opt_timeout);
	if (opt_wait)
		to->wait_ms = cmd_duration_opt("--wait", opt_wait);
	/* From now: the lookup, the wait and the open count too. */
	if (opt_max_time)
		session_deadline = xc_deadline(cmd_duration_opt("--max-time", opt_max_time));
	if (opt_transport && xc_transport_parse(opt_transport, &so->transport) < 0)
		cmd_usage_error("--transport: %s: not one of socket, pty, direct, vchan",
				cmd_arg(opt_transport));
	if (opt_bandwidth) {
		r = xc_parse_rate(opt_bandwidth, &to->rate);
		if (r < 0 || to->rate == 0)
			cmd_usage_error("--bandwidth: %s: %s", cmd_arg(opt_bandwidth),
					r == -ERANGE ? "too large" : "not a rate (64K, 40M, 1G)");
	}
	if (opt_strict && !opt_bandwidth)
		cmd_usage_error("--strict needs --bandwidth");
	if (opt_create && so->transport && so->transport != XC_TRANSPORT_DIRECT)
		cmd_usage_error("--create needs --transport direct");
	if (opt_create)
		so->transport = XC_TRANSPORT_DIRECT;
	o->follow_ms = cmd_follow_opt(opt_follow);
	so->create = to->create = opt_create;
	to->strict = opt_strict;
	to->transport = so->transport;
	r = xc_ring_rate(&to->threshold);
	if (r < 0)
		cmd_usage_error("XENCHAN_RING_RATE: %s: not a rate (4M, 40M)",
				cmd_arg(getenv("XENCHAN_RING_RATE")));
	/* A stalled xenstored costs a request the --timeout, not our life. */
	xc_store_set_deadline(XC_NEVER, so->timeout_ms);
	c->stall_timeout_ms = so->timeout_ms;
	c->deadline = session_deadline;
}

/* DOMAIN and CHANNEL as the session's messages show them. */
static char *s_edom, *s_echan;

static void free_names(void)
{
	free(s_edom);
	free(s_echan);
}

/* After a failure or a caught signal: undo what was set up, die by it. */
static void session_interrupted(struct xc_session *ss)
{
	if (!xc_lifecycle_signal())
		return;
	xc_session_close(ss);
	exit(XC_EXIT_ERROR); /* atexit: xc_lifecycle_die() */
}

int cmd_session_open(struct xc_session *ss, const char *domain, const char *channel,
		     const struct xc_session_opts *o)
{
	const struct xc_target *t = &ss->tgt;
	const char *edom, *echan;
	char why[256];
	int r;

	if (!s_edom)
		atexit(free_names);
	free_names();
	s_edom = xc_escape(domain, XC_ARG_QUOTE_MAX);
	s_echan = xc_escape(channel, XC_ARG_QUOTE_MAX);
	if (!s_edom || !s_echan) {
		cmd_err("out of memory");
		return XC_EXIT_ERROR;
	}
	edom = s_edom;
	echan = s_echan;

	if (o->target.wait_ms)
		cmd_verbose("%s/%s: waiting up to %" PRIu64 " ms for the channel to be ready",
			    edom, echan, o->target.wait_ms);
	/* While waiting for the channel, xenstore too is given no longer than
	 * the wait (and -t for the open after it). */
	if (o->target.wait_ms)
		xc_store_set_deadline(xc_deadline_at(xc_deadline(o->target.wait_ms),
						     o->stream.timeout_ms),
				      o->stream.timeout_ms);
	/* --max-time bounds every wait of the lookup and the open; the copy
	 * loop has it as its own deadline, and the teardown none. */
	xc_lifecycle_set_deadline(session_deadline);
	r = xc_session_open(ss, domain, channel, o);
	xc_lifecycle_set_deadline(XC_NEVER);
	xc_store_set_deadline(XC_NEVER, o->stream.timeout_ms);
	if (r == -EINTR)
		session_interrupted(ss);
	if (r == -ETIMEDOUT && xc_deadline_passed(session_deadline, xc_now_ms())) {
		cmd_err("%s/%s: max-time %s reached before the channel was open", edom, echan,
			cmd_arg(opt_max_time));
		xc_session_close(ss);
		return XC_EXIT_TIMEOUT;
	}
	if (r == 0) {
		if (o->listen) {
			cmd_verbose("%s/%s: %s: domain %u connected", edom, echan,
				    xc_transport_name(o->stream.transport), t->domain.domid);
			return XC_EXIT_OK;
		}
		if (t->choice.fell_back && !quiet)
			cmd_err("%s/%s: warning: %s: using the channel", edom, echan,
				t->choice.reason);
		cmd_verbose("%s/%s: %s", edom, echan, t->choice.reason);
		if (!quiet && t->chosen->flags & XC_CHAN_NO_TRUSTED_COPY)
			cmd_err("%s/%s: warning: no trusted copy of the channel: its identity "
				"comes from the guest",
				edom, echan);
		return XC_EXIT_OK;
	}
	switch (ss->step) {
	case XC_STEP_STORE:
		cmd_err("xenstore: %s", cmd_strerror(r));
		break;
	case XC_STEP_LOOKUP:
		if (r == -ENOTSUP)
			cmd_err("%s/%s: %s%s", edom, echan, t->choice.reason,
				o->target.strict ? " (--strict)" : "");
		else if (r == -ENOTUNIQ && t->n)
			cmd_err("%s/%s: ambiguous: several channels of that name, none trusted",
				edom, echan);
		else if (r == -ENODEV && t->choice.reason[0])
			cmd_err("%s/%s: %s", edom, echan, t->choice.reason);
		else if (r == -ENODEV || (r == -ETIMEDOUT && o->target.wait_ms))
			cmd_err("%s/%s: %s", edom, echan, xc_target_strerror(r));
		else if (r == -ECONNRESET || r == -ETIMEDOUT)
			cmd_err("%s: xenstore: %s", edom, cmd_strerror(r));
		else
			cmd_err("%s: %s", edom, xc_target_strerror(r));
		break;
	case XC_STEP_LISTEN: {
		static const struct xc_channel none;

		cmd_err("%s/%s: listen: %s", edom, echan,
			r == -ETIMEDOUT ? "no client came"
			: r == -EEXIST	? "another server publishes this endpoint"
			: r == -EBUSY	? "busy: another xenchan serves it"
					: xc_stream_strerror(r, &none, &ss->sopts, why, sizeof(why)));
		break;
	}
	case XC_STEP_FOLLOW:
		cmd_err("%s/%s: --follow: %s", edom, echan, xc_session_follow_strerror(r));
		xc_session_close(ss);
		return XC_EXIT_ERROR;
	case XC_STEP_OPEN:
		if (r == -EBUSY && o->target.wait_ms)
			cmd_err("%s/%s: %s, still after waiting %" PRIu64 " ms", edom, echan,
				xc_stream_strerror(r, t->chosen, &ss->sopts, why, sizeof(why)),
				o->target.wait_ms);
		else
			cmd_err("%s/%s: %s", edom, echan,
				r == -ECONNRESET ? cmd_strerror(r)
						 : xc_stream_strerror(r, t->chosen, &ss->sopts,
								      why, sizeof(why)));
		break;
	}
	xc_session_close(ss);
	return cmd_exit_status(r);
}

struct follow_ctx {
	struct xc_session *ss;
	bool always_bytes;
	uint64_t timeout_ms;
};

static struct follow_ctx follow_ctx;

/* The copy's reconnect: follow the guest, say so, or say why not. */
static int follow_reconnect(void *data, const struct xc_copy_break *b, struct xc_stream **s)
{
	struct follow_ctx *fc = data;
	struct xc_session *ss = fc->ss;
	const char *edom = s_edom ? s_edom : "?", *echan = s_echan ? s_echan : "?";
	struct xc_follow_break fb;
	char line[512], why[256];
	int r;

	/* Every wait and xenstore request of the follow ends by --max-time too. */
	xc_store_set_deadline(session_deadline, fc->timeout_ms);
	xc_lifecycle_set_deadline(session_deadline);
	r = xc_session_follow(ss, b, &fb);
	xc_lifecycle_set_deadline(XC_NEVER);
	xc_store_set_deadline(XC_NEVER, fc->timeout_ms);
	*s = ss->s;
	if (r == 0) {
		fb.bytes = fb.bytes || fc->always_bytes;
		if (!quiet)
			cmd_err("%s", xc_follow_format(&ss->follow, &fb, line, sizeof(line)));
		return 0;
	}
	if (r == -EINTR)
		return r;
	if (xc_deadline_passed(session_deadline, xc_now_ms()))
		return -ETIME;
	if (r == -ETIMEDOUT)
		cmd_err("%s/%s: waited %s for a domain with UUID %s: not followed", edom, echan,
			cmd_arg(opt_follow), ss->follow.uuid);
	else if (ss->step == XC_STEP_OPEN && ss->tgt.chosen)
		cmd_err("%s/%s: following to domain %u: %s", edom, echan, fb.to,
			xc_stream_strerror(r, ss->tgt.chosen, &ss->sopts, why, sizeof(why)));
	else
		cmd_err("%s/%s: following to domain %u: %s", edom, echan, fb.to,
			r == -ENODEV && ss->tgt.choice.reason[0] ? ss->tgt.choice.reason
								  : xc_target_strerror(r));
	return -EPIPE;
}

/* The copy's settle: the old domain gone, within the follow's bound. */
static void follow_settle(void *data, uint64_t gone_at)
{
	struct follow_ctx *fc = data;

	xc_store_set_deadline(session_deadline, fc->timeout_ms);
	xc_lifecycle_set_deadline(session_deadline);
	xc_session_follow_settle(fc->ss, gone_at);
	xc_lifecycle_set_deadline(XC_NEVER);
	xc_store_set_deadline(XC_NEVER, fc->timeout_ms);
}

void cmd_session_follow(struct xc_session *ss, struct xc_copy_opts *c, bool always_bytes,
			const struct xc_session_opts *o)
{
	if (!o->follow_ms)
		return;
	follow_ctx = (struct follow_ctx){ .ss = ss, .always_bytes = always_bytes,
					  .timeout_ms = o->stream.timeout_ms };
	c->reconnect = follow_reconnect;
	c->settle = follow_settle;
	c->reconnect_data = &follow_ctx;
}

int cmd_session_end(struct xc_session *ss, int r, uint64_t total, const char *what,
		    const uint64_t *received)
{
	const char *edom = s_edom ? s_edom : "?", *echan = s_echan ? s_echan : "?";
	uint64_t delivered;
	enum xc_proof proof;
	const char *how;

	xc_session_delivered(ss, &delivered, &proof);
	/* A guest's session with dom0's endpoint: dom0 is what consumed it. */
	how = proof == XC_PROOF_CONSUMED && ss->tgt.domain.domid == 0 ? "consumed by domain 0"
								      : xc_proof_name(proof);
	xc_session_close(ss);
	switch (r) {
	case 0:
	case XC_COPY_ESCAPE:
	case -ESHUTDOWN:
		if (received)
			cmd_verbose("%s/%s: %s %" PRIu64 " bytes: %s; received %" PRIu64
				    " bytes",
				    edom, echan, what, delivered, how, *received);
		else
			cmd_verbose("%s/%s: %s %" PRIu64 " bytes: %s", edom, echan, what,
				    delivered, how);
		return XC_EXIT_OK;
	case -EPIPE:
		cmd_err("%s/%s: peer went away: %" PRIu64 " of %" PRIu64 " bytes delivered",
			edom, echan, delivered, total);
		return XC_EXIT_PEERGONE;
	case -EPROTO:
		cmd_err("%s/%s: the peer broke the ring protocol (an impossible index): %" PRIu64
			" of %" PRIu64 " bytes delivered",
			edom, echan, delivered, total);
		return XC_EXIT_ERROR;
	case -ETIMEDOUT:
		cmd_err("%s/%s: timed out delivering: %" PRIu64 " of %" PRIu64
			" bytes delivered",
			edom, echan, delivered, total);
		return XC_EXIT_TIMEOUT;
	case -ETIME:
		if (received)
			cmd_err("%s/%s: max-time %s reached: %" PRIu64 " bytes received, %" PRIu64
				" of %" PRIu64 " bytes sent delivered",
				edom, echan, cmd_arg(opt_max_time), *received, delivered, total);
		else
			cmd_err("%s/%s: max-time %s reached: %" PRIu64 " of %" PRIu64
				" bytes delivered",
				edom, echan, cmd_arg(opt_max_time), delivered, total);
		return XC_EXIT_TIMEOUT;
	case -EINTR:
		if (!quiet)
			cmd_err("%s/%s: interrupted: %" PRIu64 " bytes delivered", edom,
				echan, delivered);
		exit(XC_EXIT_ERROR); /* atexit: xc_lifecycle_die() */
	default:
		cmd_err("%s/%s: %s", edom, echan, cmd_strerror(r));
		return XC_EXIT_ERROR;
	}
}
