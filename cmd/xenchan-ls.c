/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-ls: list the channels of every domain, or of the domains named.
 */
#include <errno.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "clock.h"
#include "common.h"
#include "domain.h"
#include "json.h"
#include "monitor.h"
#include "parse.h"
#include "store.h"
#include "untrusted.h"

enum col {
	COL_DOMID,
	COL_DOMAIN,
	COL_UUID,
	COL_CHANNEL,
	COL_DEVID,
	COL_TRANSPORT,
	COL_ROLE,
	COL_PEER,
	COL_STATE,
	COL_ENDPOINT,
	COL_TRUST,
	COL_FESTATE,
	COL_BESTATE,
	COL_BACKEND,
	COL_FENAME,
	COL_ACTION,    /* --poll only */
	COL_OLD_STATE, /* --poll only */
};

struct coldesc {
	const char *name;
	double whint;
	int flags;
	int json;
	const char *help;
};

static const struct coldesc cols[] = {
	[COL_DOMID] = { "DOMID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "domain id" },
	[COL_DOMAIN] = { "DOMAIN", 0.15, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "domain name" },
	[COL_UUID] = { "UUID", 36, 0, SCOLS_JSON_STRING, "domain UUID" },
	[COL_CHANNEL] = { "CHANNEL", 0.3, 0, SCOLS_JSON_STRING, "channel name" },
	[COL_DEVID] = { "DEVID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			"console device id (vchan: none)" },
	[COL_TRANSPORT] = { "TRANSPORT", 6, 0, SCOLS_JSON_STRING,
			    "socket, pty, direct, vchan, or unknown" },
	[COL_ROLE] = { "ROLE", 8, 0, SCOLS_JSON_STRING,
		       "the domain's side: frontend; vchan: server or client" },
	[COL_PEER] = { "PEER", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		       "domain at the other end: backend, vchan client or server" },
	[COL_STATE] = { "STATE", 10, 0, SCOLS_JSON_STRING,
			"connected, connecting, closing, closed, absent, no-backend, "
			"stale; vchan: published, in-use, incomplete, stale" },
	[COL_ENDPOINT] = { "ENDPOINT", 0.3, 0, SCOLS_JSON_STRING,
			   "socket path, pty or vchan xenstore path" },
	[COL_TRUST] = { "TRUST", 7, 0, SCOLS_JSON_STRING,
			"trusted, or what could not be trusted" },
	[COL_FESTATE] = { "FESTATE", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "frontend XenbusState" },
	[COL_BESTATE] = { "BESTATE", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "backend XenbusState" },
	[COL_BACKEND] = { "BACKEND", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "domain serving the channel" },
	[COL_FENAME] = { "FENAME", 0.2, 0, SCOLS_JSON_STRING,
			 "the frontend's name key, when it differs" },
	[COL_ACTION] = { "ACTION", 8, 0, SCOLS_JSON_STRING,
			 "--poll: appeared, changed, gone (present: --existing)" },
	[COL_OLD_STATE] = { "OLD-STATE", 10, 0, SCOLS_JSON_STRING,
			    "--poll: STATE before the change (changed only)" },
};

/* The columns that exist only with --poll. */
static bool poll_col(enum col c)
{
	return c == COL_ACTION || c == COL_OLD_STATE;
}

static const enum col default_cols[] = { COL_DOMID, COL_DOMAIN,   COL_CHANNEL,
					 COL_TRANSPORT, COL_ROLE, COL_PEER,
					 COL_STATE, COL_ENDPOINT, COL_TRUST };

static enum col out_cols[ARRAY_SIZE(cols) * 4];
static size_t nout;

static const char *opt_output, *opt_channel, *opt_transport, *opt_timeout, *opt_count;
static int opt_json, opt_raw, opt_pairs, opt_noheadings, opt_output_all, opt_poll,
	opt_existing;

static struct poptOption options[] = {
	{ "channel", 'c', POPT_ARG_STRING, &opt_channel, 0, NULL, NULL },
	{ "transport", 't', POPT_ARG_STRING, &opt_transport, 0, NULL, NULL },
	{ "output", 'o', POPT_ARG_STRING, &opt_output, 0, NULL, NULL },
	{ "output-all", '\0', POPT_ARG_NONE, &opt_output_all, 0, NULL, NULL },
	{ "json", 'J', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	{ "raw", 'r', POPT_ARG_NONE, &opt_raw, 0, NULL, NULL },
	{ "pairs", 'P', POPT_ARG_NONE, &opt_pairs, 0, NULL, NULL },
	{ "noheadings", 'n', POPT_ARG_NONE, &opt_noheadings, 0, NULL, NULL },
	{ "timeout", '\0', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "poll", '\0', POPT_ARG_NONE, &opt_poll, 0, NULL, NULL },
	{ "count", '\0', POPT_ARG_STRING, &opt_count, 0, NULL, NULL },
	{ "existing", '\0', POPT_ARG_NONE, &opt_existing, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-ls [-c NAME] [-t TRANSPORT] [-o LIST | --output-all] [-J | -r | -P] [-n]\n"
	"                  [--timeout DURATION] [-v] [-q] [DOMAIN...]\n"
	"       xenchan-ls --poll [--existing] [--count N] [--timeout DURATION] [OPTION...]\n"
	"                  [DOMAIN...]\n";

static void help(void)
{
	printf("%s\n"
	       "List the channels of every domain, or of the DOMAINs named (domid, name or\n"
	       "UUID).\n\n"
	       "Options:\n"
	       "  -c, --channel NAME       only channels with this name\n"
	       "  -t, --transport TRANSPORT  only channels of this transport: socket,\n"
	       "                           pty, direct or vchan\n"
	       "  -o, --output LIST        the columns to print, comma-separated; a list\n"
	       "                           starting with '+' adds to the default columns\n"
	       "      --output-all         print every column\n"
	       "  -J, --json               JSON output\n"
	       "  -r, --raw                raw output: columns separated by one space\n"
	       "  -P, --pairs              KEY=\"value\" output, one channel per line\n"
	       "  -n, --noheadings         no header line\n"
	       "      --timeout DURATION   give up (exit 124) when xenstore takes longer;\n"
	       "                           0, the default: never; with --poll: stop then\n"
	       "      --poll               keep running: one row per change (ACTION column),\n"
	       "                           for domains created later too\n"
	       "      --existing           with --poll: first a row for each channel there\n"
	       "                           (ACTION present)\n"
	       "      --count N            with --poll: stop after N rows\n"
	       "  -v, --verbose            say why a channel is not trusted\n"
	       "  -q, --quiet              no messages but errors\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Columns:\n",
	       usage_text);
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		printf("  %-10s %s\n", cols[i].name, cols[i].help);
	printf("\nValues a guest could have written are escaped (\\xHH) and marked in TRUST.\n"
	       "With --poll a DOMAIN need not exist yet; -J prints one JSON object a line.\n"
	       "Exit status: 0 listed (maybe nothing), 2 error, 3 a DOMAIN does not exist,\n"
	       "124 timed out (--poll: before --count rows, or before any row).\n"
	       "See xenchan-ls(1) and xenchan(7).\n");
}

static int column_id(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		if (strlen(cols[i].name) == len && !strncasecmp(cols[i].name, name, len))
			return (int)i;
	return -1;
}

static void add_col(enum col c)
{
	if (poll_col(c) && !opt_poll)
		cmd_usage_error("--output: %s: only with --poll", cols[c].name);
	if (nout == ARRAY_SIZE(out_cols))
		cmd_usage_error("--output: too many columns");
	out_cols[nout++] = c;
}

static void parse_columns(void)
{
	const char *s = opt_output;

	if (opt_output_all) {
		if (opt_output)
			cmd_usage_error("--output and --output-all are mutually exclusive");
		if (opt_poll)
			add_col(COL_ACTION);
		for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
			if (!poll_col((enum col)i) || (i != COL_ACTION && opt_poll))
				add_col((enum col)i);
		return;
	}
	if (!s || *s == '+') {
		if (opt_poll)
			add_col(COL_ACTION);
		for (size_t i = 0; i < ARRAY_SIZE(default_cols); i++)
			add_col(default_cols[i]);
		if (opt_poll)
			add_col(COL_OLD_STATE);
		if (!s)
			return;
		s++;
	}
	while (*s) {
		size_t len = strcspn(s, ",");
		int id = column_id(s, len);

		if (len == 0)
			cmd_usage_error("--output: %s: empty column name", cmd_arg(opt_output));
		if (id < 0)
			cmd_usage_error("--output: %s: unknown column",
					cmd_arg(strndupa(s, len)));
		add_col((enum col)id);
		s += len;
		if (*s == ',')
			s++;
	}
	if (nout == 0)
		cmd_usage_error("--output: no columns given");
}

static char *trust_text(unsigned f)
{
	static const struct {
		unsigned flag;
		const char *word;
	} words[] = {
		{ XC_CHAN_NO_TRUSTED_COPY, "no-trusted-copy" },
		{ XC_CHAN_NAME_MISMATCH, "name-mismatch" },
		{ XC_CHAN_GUEST_WRITABLE, "guest-writable" },
		{ XC_CHAN_BAD_ENDPOINT, "bad-endpoint" },
		{ XC_CHAN_BAD_VALUE, "bad-value" },
		{ XC_CHAN_GUEST_PUBLISHED, "guest-published" },
	};
	char buf[256] = "";

	/* Stale is a state (STATE says it), not a matter of trust. */
	f &= ~XC_CHAN_STALE;
	if (!f)
		return strdup("trusted");
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (f & words[i].flag) {
			if (buf[0])
				strcat(buf, ",");
			strcat(buf, words[i].word);
		}
	}
	return strdup(buf);
}

/*
 * Guest-controlled text.  libsmartcols encodes what it prints in the table,
 * raw and pairs formats (\xHH for control characters, and for blanks and
 * backslashes where they would be ambiguous); its JSON escapes control
 * characters but passes other bytes through, so JSON gets xc_escape()d text,
 * which reads the same.
 */
static char *text(const char *s)
{
	if (!s)
		return NULL;
	return opt_json ? xc_escape(s, XC_VALUE_MAX) : strndup(s, XC_VALUE_MAX);
}

static char *cell(const struct xc_domain *d, const struct xc_channel *c, enum col col)
{
	char *s = NULL;

	switch (col) {
	case COL_DOMID:
		return asprintf(&s, "%u", d->domid) < 0 ? NULL : s;
	case COL_DOMAIN:
		return text(d->name);
	case COL_UUID:
		return d->uuid[0] ? strdup(d->uuid) : NULL;
	case COL_CHANNEL:
		return text(c->name);
	case COL_DEVID:
		return c->transport == XC_TRANSPORT_VCHAN ? NULL
		       : asprintf(&s, "%u", c->devid) < 0 ? NULL
							  : s;
	case COL_TRANSPORT:
		return strdup(xc_transport_name(c->transport));
	case COL_ROLE:
		return strdup(xc_channel_role(c));
	case COL_PEER:
		if (!c->backend && c->transport != XC_TRANSPORT_VCHAN)
			return NULL; /* no backend known */
		return asprintf(&s, "%u", xc_channel_peer(c)) < 0 ? NULL : s;
	case COL_STATE:
		return strdup(xc_channel_state(c));
	case COL_ENDPOINT:
		return text(c->endpoint);
	case COL_TRUST:
		return trust_text(c->flags);
	case COL_FESTATE:
		return c->fe_state < 0 ? NULL : asprintf(&s, "%d", c->fe_state) < 0 ? NULL : s;
	case COL_BESTATE:
		return c->be_state < 0 ? NULL : asprintf(&s, "%d", c->be_state) < 0 ? NULL : s;
	case COL_BACKEND:
		if (!c->backend && c->transport != XC_TRANSPORT_VCHAN)
			return NULL; /* none known */
		return asprintf(&s, "%u", c->backend_domid) < 0 ? NULL : s;
	case COL_FENAME:
		return text(c->fe_name);
	case COL_ACTION:
	case COL_OLD_STATE:
		break; /* an event's, not a channel's: see event_cells() */
	}
	return NULL;
}

/* -c and -t. */
static bool wanted(const struct xc_channel *c, enum xc_transport want_tr)
{
	if (opt_channel && (!c->name || strcmp(c->name, opt_channel)))
		return false;
	return !opt_transport || c->transport == want_tr;
}

/* -v: why a channel is not trusted. */
static void say_untrusted(const struct xc_domain *d, const struct xc_channel *c)
{
	if ((c->flags & ~XC_CHAN_STALE) && verbose) {
		_cleanup_free_ char *why = trust_text(c->flags);
		_cleanup_free_ char *name = c->name ? xc_escape(c->name, XC_ARG_QUOTE_MAX) : NULL;

		cmd_verbose("%u/%s: not trusted: %s", d->domid, name ? name : "-",
			    why ? why : "?");
	}
}

/* A new line of tb holding v[0..nout) (taken, also on failure). */
static int add_line(struct libscols_table *tb, char **v)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	int r = ln ? 0 : -ENOMEM;

	for (size_t k = 0; k < nout; k++) {
		if (r == 0 && v[k] && scols_line_refer_data(ln, k, v[k]) < 0)
			r = -ENOMEM;
		if (r < 0)
			free(v[k]);
	}
	return r;
}

static int add_rows(struct libscols_table *tb, const struct xc_domain *d,
		    const struct xc_channel_set *set, enum xc_transport want_tr)
{
	int r = 0;

	if (set->error == -ENOENT) /* destroyed while we listed */
		return 0;
	if (set->error < 0)
		return set->error;
	for (size_t i = 0; i < set->n; i++) {
		const struct xc_channel *c = &set->v[i];
		char *v[ARRAY_SIZE(out_cols)];

		if (!wanted(c, want_tr))
			continue;
		say_untrusted(d, c);
		for (size_t k = 0; k < nout; k++)
			v[k] = cell(d, c, out_cols[k]);
		r = add_line(tb, v);
		if (r < 0)
			break;
	}
	return r < 0 ? r : 0;
}

/* A table with the columns asked for. */
static struct libscols_table *new_table(bool noheadings)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_set_name(tb, "channels");
	scols_table_enable_json(tb, opt_json);
	scols_table_enable_raw(tb, opt_raw);
	scols_table_enable_export(tb, opt_pairs);
	scols_table_enable_noheadings(tb, noheadings);
	for (size_t k = 0; k < nout; k++) {
		const struct coldesc *cd = &cols[out_cols[k]];
		struct libscols_column *cl = scols_table_new_column(tb, cd->name, cd->whint,
								     cd->flags);

		if (!cl) {
			scols_unref_table(tb);
			return NULL;
		}
		scols_column_set_json_type(cl, cd->json);
	}
	return tb;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * An event's row into v[0..nout).  Returns 1, 0 when a change shows in no
 * column printed (nothing is left in v), or -ENOMEM.
 */
static int event_cells(const struct xc_event *ev, char **v)
{
	bool shows = ev->action != XC_EVENT_CHANGED;
	int r = 1;

	for (size_t k = 0; k < nout; k++) {
		enum col col = out_cols[k];

		if (col == COL_ACTION) {
			v[k] = strdup(xc_event_action_name(ev->action));
		} else if (col == COL_OLD_STATE) {
			v[k] = ev->old ? strdup(xc_channel_state(ev->old)) : NULL;
			if (ev->old && !shows)
				shows = strcmp(xc_channel_state(ev->old),
					       xc_channel_state(ev->channel)) != 0;
			continue;
		} else {
			v[k] = cell(&ev->domain, ev->channel, col);
			if (!shows) {
				char *o = cell(&ev->old_domain, ev->old, col);

				shows = !same_text(o, v[k]);
				free(o);
			}
		}
		if (!v[k] && col == COL_ACTION)
			r = -ENOMEM;
	}
	if (r == 1 && shows)
		return 1;
	for (size_t k = 0; k < nout; k++)
		free(v[k]);
	return r < 0 ? r : 0;
}

/* One row as one JSON object on one line, keys as libsmartcols names them. */
static void print_json_row(char **v)
{
	putchar('{');
	for (size_t k = 0; k < nout; k++) {
		const struct coldesc *cd = &cols[out_cols[k]];

		printf("%s\"", k ? ", " : "");
		for (const char *p = cd->name; *p; p++)
			putchar(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		fputs("\": ", stdout);
		if (!v[k])
			fputs("null", stdout);
		else if (cd->json == SCOLS_JSON_NUMBER)
			fputs(v[k], stdout);
		else
			xc_json_string(stdout, v[k]);
	}
	puts("}");
}

static struct xc_domain_spec *specs;
static size_t nspecs;

/* Domains a DOMAIN argument matched: their later rows are wanted too,
 * under whatever name they take (a migration's NAME--migratedaway). */
static struct {
	uint32_t domid;
	char uuid[XC_UUID_LEN + 1];
} *matched;
static size_t nmatched;

/* An event's domain is wanted when a DOMAIN argument matches it as it is
 * or, for a change, as it was before (a rename). */
static bool domain_wanted(const struct xc_event *ev)
{
	const struct xc_domain *d = &ev->domain;
	void *v;

	if (nspecs == 0)
		return true;
	for (size_t i = 0; i < nmatched; i++)
		if (matched[i].domid == d->domid && !strcmp(matched[i].uuid, d->uuid))
			return true;
	for (size_t i = 0; i < nspecs; i++) {
		if (xc_domain_match(&specs[i], d, 1) < 0 &&
		    xc_domain_match(&specs[i], &ev->old_domain, 1) < 0)
			continue;
		v = realloc(matched, (nmatched + 1) * sizeof(*matched));
		if (v) {
			matched = v;
			matched[nmatched].domid = d->domid;
			memcpy(matched[nmatched].uuid, d->uuid, sizeof(d->uuid));
			nmatched++;
		}
		return true;
	}
	return false;
}

/*
 * --poll: print the rows of each batch of events as it comes, until count
 * rows (0: no bound) or the deadline.  Returns the exit status.
 */
static int poll_rows(struct xc_store *st, enum xc_transport want_tr, uint64_t deadline,
		     uint64_t count)
{
	struct xc_monitor *m = NULL;
	uint64_t printed = 0;
	bool headed = opt_noheadings;
	int r, rc = XC_EXIT_OK;

	r = xc_monitor_open(st, opt_existing ? XC_MONITOR_EXISTING : 0, &m);
	while (r == 0) {
		const struct xc_event *ev;
		struct libscols_table *tb = NULL;
		size_t n, rows = 0;

		r = xc_monitor_next(m, deadline, STDOUT_FILENO, &ev, &n);
		if (r < 0)
			break;
		if (!opt_json && !(tb = new_table(headed))) {
			r = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < n && r == 0 && (!count || printed + rows < count); i++) {
			char *v[ARRAY_SIZE(out_cols)];

			if (!domain_wanted(&ev[i]) || !wanted(ev[i].channel, want_tr))
				continue;
			r = event_cells(&ev[i], v);
			if (r <= 0)
				continue;
			say_untrusted(&ev[i].domain, ev[i].channel);
			rows++;
			if (opt_json) {
				print_json_row(v);
				for (size_t k = 0; k < nout; k++)
					free(v[k]);
				r = 0;
			} else {
				r = add_line(tb, v);
			}
		}
		if (tb && rows && r == 0) {
			scols_print_table(tb);
			headed = true; /* the header once, at the top */
		}
		scols_unref_table(tb);
		printed += rows;
		/* Each batch is out before the next wait: a script reads it now. */
		if (fflush(stdout) != 0)
			break; /* said at exit (a closed pipe quietly) */
		if (r == 0 && count && printed >= count)
			break;
	}
	if (r == -ETIMEDOUT)
		rc = printed && !count ? XC_EXIT_OK : XC_EXIT_TIMEOUT;
	else if (r == -EPIPE)
		rc = XC_EXIT_OK; /* the reader left: as a closed pipe at exit */
	else if (r < 0) {
		cmd_err("xenstore: %s", cmd_strerror(r));
		rc = cmd_exit_status(r);
		if (rc == XC_EXIT_NOTFOUND || rc == XC_EXIT_PEERGONE)
			rc = XC_EXIT_ERROR;
	}
	xc_monitor_close(m);
	return rc;
}

int main(int argc, const char **argv)
{
	struct xc_store *st = NULL;
	struct libscols_table *tb;
	struct xc_domain *doms = NULL;
	struct xc_vchan_index *ix = NULL;
	struct xc_channel_set *sets = NULL;
	size_t ndoms = 0;
	enum xc_transport want_tr = XC_TRANSPORT_UNKNOWN;
	const char **args;
	poptContext ctx;
	uint64_t count = 0, deadline = XC_NEVER;
	int r, rc = XC_EXIT_OK;

	cmd_init("xenchan-ls", 0);
	ctx = cmd_parse(argc, argv, options, usage_text, help, NULL);
	if (opt_json + opt_raw + opt_pairs > 1)
		cmd_usage_error("--json, --raw and --pairs are mutually exclusive");
	if (opt_transport && xc_transport_parse(opt_transport, &want_tr) < 0)
		cmd_usage_error("--transport: %s: not one of socket, pty, direct, vchan",
				cmd_arg(opt_transport));
	if (opt_channel && !*opt_channel)
		cmd_usage_error("--channel: empty channel name");
	if (!opt_poll && (opt_existing || opt_count))
		cmd_usage_error("%s: only with --poll", opt_existing ? "--existing" : "--count");
	if (opt_count && (xc_parse_uint(opt_count, UINT64_MAX, &count) < 0 || count == 0))
		cmd_usage_error("--count: %s: not a number above 0", cmd_arg(opt_count));
	if (opt_timeout) {
		uint64_t ms = cmd_duration_opt("--timeout", opt_timeout);

		deadline = xc_deadline(ms);
		xc_store_set_deadline(deadline, 0);
	}
	parse_columns();
	args = poptGetArgs(ctx);
	if (opt_poll && args && *args) {
		while (args[nspecs])
			nspecs++;
		specs = calloc(nspecs, sizeof(*specs));
		if (!specs) {
			cmd_err("%s", strerror(ENOMEM));
			return XC_EXIT_ERROR;
		}
		for (size_t i = 0; i < nspecs; i++)
			if (xc_domain_spec_parse(args[i], &specs[i]) < 0)
				cmd_usage_error("%s: not a domain id, name or UUID", cmd_arg(args[i]));
	}

	r = xc_store_open(&st);
	if (r < 0) {
		cmd_err("xenstore: %s", cmd_strerror(r));
		return cmd_exit_status(r);
	}

	if (opt_poll) {
		rc = poll_rows(st, want_tr, deadline, count);
		free(specs);
		free(matched);
		xc_store_close(st);
		return rc;
	}
	if (args && *args) {
		size_t nargs = 0;

		while (args[nargs])
			nargs++;
		doms = calloc(nargs, sizeof(*doms));
		if (!doms) {
			cmd_err("%s", strerror(ENOMEM));
			return XC_EXIT_ERROR;
		}
		for (size_t i = 0; i < nargs; i++) {
			r = xc_domain_resolve(st, args[i], &doms[ndoms]);
			if (r == 0) {
				ndoms++;
				continue;
			}
			_cleanup_free_ char *esc = xc_escape(args[i], XC_ARG_QUOTE_MAX);

			/* Every bad DOMAIN is reported; an error outranks "no such". */
			if (r == -ENOENT) {
				cmd_err("%s: no such domain", esc ? esc : "?");
				if (rc == XC_EXIT_OK)
					rc = XC_EXIT_NOTFOUND;
				continue;
			}
			if (r == -ENOTUNIQ)
				cmd_err("%s: ambiguous: several domains match (use id:, name: or uuid:)",
					esc ? esc : "?");
			else if (r == -EINVAL)
				cmd_err("%s: not a domain id, name or UUID", esc ? esc : "?");
			else
				cmd_err("%s: %s", esc ? esc : "?", cmd_strerror(r));
			rc = r == -ETIMEDOUT ? XC_EXIT_TIMEOUT : XC_EXIT_ERROR;
		}
		if (rc != XC_EXIT_OK) {
			xc_domain_array_free(doms, ndoms);
			xc_store_close(st);
			return rc;
		}
	} else {
		bool uuid = false;

		/* A domain's UUID costs a request: asked only to be shown. */
		for (size_t k = 0; k < nout; k++)
			uuid |= out_cols[k] == COL_UUID;
		r = uuid ? xc_domain_list(st, &doms, &ndoms)
			 : xc_domain_list_names(st, &doms, &ndoms);
		if (r < 0) {
			cmd_err("xenstore: /local/domain: %s", cmd_strerror(r));
			xc_store_close(st);
			return cmd_exit_status(r);
		}
	}

	tb = new_table(opt_noheadings);
	if (!tb) {
		cmd_err("%s", strerror(ENOMEM));
		return XC_EXIT_ERROR;
	}
	/* Who serves vchan endpoints to whom: one pass, not one per domain. */
	r = xc_vchan_index_scan(st, &ix);
	if (r < 0) {
		cmd_err("xenstore: vchan endpoints: %s", cmd_strerror(r));
		rc = cmd_exit_status(r);
		if (rc == XC_EXIT_NOTFOUND || rc == XC_EXIT_PEERGONE)
			rc = XC_EXIT_ERROR;
	}
	if (rc == XC_EXIT_OK) {
		sets = calloc(ndoms ? ndoms : 1, sizeof(*sets));
		if (!sets) {
			cmd_err("%s", strerror(ENOMEM));
			rc = XC_EXIT_ERROR;
		}
	}
	if (rc == XC_EXIT_OK) {
		for (size_t i = 0; i < ndoms; i++)
			sets[i].domid = doms[i].domid;
		r = xc_channel_list_sets(st, ix, sets, ndoms);
		if (r < 0) {
			cmd_err("xenstore: %s", cmd_strerror(r));
			rc = cmd_exit_status(r);
		}
	}
	for (size_t i = 0; i < ndoms && rc == XC_EXIT_OK; i++) {
		r = add_rows(tb, &doms[i], &sets[i], want_tr);
		if (r < 0) {
			cmd_err("domain %u: %s", doms[i].domid, cmd_strerror(r));
			rc = cmd_exit_status(r);
			if (rc == XC_EXIT_NOTFOUND || rc == XC_EXIT_PEERGONE)
				rc = XC_EXIT_ERROR;
			break;
		}
	}
	if (rc == XC_EXIT_OK)
		scols_print_table(tb);
	if (sets)
		xc_channel_sets_free(sets, ndoms);
	free(sets);
	xc_vchan_index_free(ix);
	scols_unref_table(tb);
	xc_domain_array_free(doms, ndoms);
	xc_store_close(st);
	return rc;
}
