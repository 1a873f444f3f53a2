/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-ls: list the channels of every domain, or of the domains named.
 */
#include <errno.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "clock.h"
#include "common.h"
#include "domain.h"
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
};

static const enum col default_cols[] = { COL_DOMID, COL_DOMAIN,   COL_CHANNEL,
					 COL_TRANSPORT, COL_ROLE, COL_PEER,
					 COL_STATE, COL_ENDPOINT, COL_TRUST };

static enum col out_cols[ARRAY_SIZE(cols) * 4];
static size_t nout;

static const char *opt_output, *opt_channel, *opt_transport, *opt_timeout;
static int opt_json, opt_raw, opt_pairs, opt_noheadings, opt_output_all;

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
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-ls [-c NAME] [-t TRANSPORT] [-o LIST | --output-all] [-J | -r | -P] [-n]\n"
	"                  [--timeout DURATION] [-v] [-q] [DOMAIN...]\n";

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
	       "                           0, the default: never\n"
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
	       "Exit status: 0 listed (maybe nothing), 2 error, 3 a DOMAIN does not exist,\n"
	       "124 timed out.\n"
	       "See xenchan-ls(1) and xenchan(7).\n");
}

static int column_id(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		if (strlen(cols[i].name) == len && !strncasecmp(cols[i].name, name, len))
			return (int)i;
	return -1;
}

static void parse_columns(void)
{
	const char *s = opt_output;

	if (opt_output_all) {
		if (opt_output)
			cmd_usage_error("--output and --output-all are mutually exclusive");
		for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
			out_cols[nout++] = (enum col)i;
		return;
	}
	if (!s || *s == '+') {
		for (size_t i = 0; i < ARRAY_SIZE(default_cols); i++)
			out_cols[nout++] = default_cols[i];
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
		if (nout == ARRAY_SIZE(out_cols))
			cmd_usage_error("--output: too many columns");
		out_cols[nout++] = (enum col)id;
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
	}
	return NULL;
}

static int add_rows(struct libscols_table *tb, struct xc_store *st, const struct xc_domain *d,
		    enum xc_transport want_tr)
{
	struct xc_channel *ch = NULL;
	size_t n = 0;
	int r;

	r = xc_channel_list(st, d->domid, &ch, &n);
	if (r == -ENOENT) /* destroyed while we listed */
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct xc_channel *c = &ch[i];
		struct libscols_line *ln;

		if (opt_channel && (!c->name || strcmp(c->name, opt_channel)))
			continue;
		if (opt_transport && c->transport != want_tr)
			continue;
		if ((c->flags & ~XC_CHAN_STALE) && verbose) {
			_cleanup_free_ char *why = trust_text(c->flags);
			_cleanup_free_ char *name = c->name ? xc_escape(c->name, XC_ARG_QUOTE_MAX) : NULL;

			cmd_verbose("%u/%s: not trusted: %s", d->domid, name ? name : "-",
				    why ? why : "?");
		}
		ln = scols_table_new_line(tb, NULL);
		if (!ln) {
			r = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < nout; k++) {
			char *v = cell(d, c, out_cols[k]);

			if (v && scols_line_refer_data(ln, k, v) < 0) {
				free(v);
				r = -ENOMEM;
				break;
			}
		}
	}
	xc_channel_array_free(ch, n);
	return r < 0 ? r : 0;
}

int main(int argc, const char **argv)
{
	struct xc_store *st = NULL;
	struct libscols_table *tb;
	struct xc_domain *doms = NULL;
	size_t ndoms = 0;
	enum xc_transport want_tr = XC_TRANSPORT_UNKNOWN;
	const char **args;
	poptContext ctx;
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
	if (opt_timeout)
		xc_store_set_deadline(xc_deadline(cmd_duration_opt("--timeout", opt_timeout)), 0);
	parse_columns();
	args = poptGetArgs(ctx);

	r = xc_store_open(&st);
	if (r < 0) {
		cmd_err("xenstore: %s", cmd_strerror(r));
		return cmd_exit_status(r);
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
		r = xc_domain_list(st, &doms, &ndoms);
		if (r < 0) {
			cmd_err("xenstore: /local/domain: %s", cmd_strerror(r));
			xc_store_close(st);
			return cmd_exit_status(r);
		}
	}

	scols_init_debug(0);
	tb = scols_new_table();
	if (!tb) {
		cmd_err("%s", strerror(ENOMEM));
		return XC_EXIT_ERROR;
	}
	scols_table_set_name(tb, "channels");
	scols_table_enable_json(tb, opt_json);
	scols_table_enable_raw(tb, opt_raw);
	scols_table_enable_export(tb, opt_pairs);
	scols_table_enable_noheadings(tb, opt_noheadings);
	for (size_t k = 0; k < nout; k++) {
		const struct coldesc *cd = &cols[out_cols[k]];
		struct libscols_column *cl = scols_table_new_column(tb, cd->name, cd->whint,
								     cd->flags);

		if (!cl) {
			cmd_err("%s", strerror(ENOMEM));
			return XC_EXIT_ERROR;
		}
		scols_column_set_json_type(cl, cd->json);
	}
	for (size_t i = 0; i < ndoms; i++) {
		r = add_rows(tb, st, &doms[i], want_tr);
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
	scols_unref_table(tb);
	xc_domain_array_free(doms, ndoms);
	xc_store_close(st);
	return rc;
}
