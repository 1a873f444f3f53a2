/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenchan-registry-check: lint channel names, channel registries, xl and
 * libvirt domain configs and live domains against the registries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "diag.h"
#include "domcfg.h"
#include "domain.h"
#include "file.h"
#include "json.h"
#include "lint.h"
#include "registry.h"
#include "store.h"
#include "untrusted.h"
#include "virtxml.h"
#include "xenver.h"
#include "xlcfg.h"

#ifndef XC_REGISTRY_DIR
#define XC_REGISTRY_DIR "/usr/share/xenchan"
#endif
#ifndef XC_SYSCONF_REGISTRY_DIR
#define XC_SYSCONF_REGISTRY_DIR "/etc/xenchan/registry.d"
#endif

/* The running hypervisor, as Debian's xl wrapper reads it. */
#define SYS_HYPERVISOR "/sys/hypervisor"

/* Larger inputs are no config: refuse them rather than read gigabytes. */
#define INPUT_MAX (64 * 1024 * 1024)

/* The files of a registry directory. */
#define REGISTRY_SUFFIX ".registry"

/* A UTF-8 byte order mark. */
#define UTF8_BOM "\xef\xbb\xbf"

static const char **opt_registries, **opt_names, **opt_disable;
static const char *opt_xen_version;
static int opt_no_default, opt_live, opt_json, opt_strict, opt_list_rules;

static struct poptOption options[] = {
	{ "registry", 'r', POPT_ARG_ARGV, &opt_registries, 0, NULL, NULL },
	{ "no-default-registry", '\0', POPT_ARG_NONE, &opt_no_default, 0, NULL, NULL },
	{ "name", 'n', POPT_ARG_ARGV, &opt_names, 0, NULL, NULL },
	{ "live", 'l', POPT_ARG_NONE, &opt_live, 0, NULL, NULL },
	{ "json", 'J', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	{ "strict", 'W', POPT_ARG_NONE, &opt_strict, 0, NULL, NULL },
	{ "disable", '\0', POPT_ARG_ARGV, &opt_disable, 0, NULL, NULL },
	{ "xen-version", '\0', POPT_ARG_STRING, &opt_xen_version, 0, NULL, NULL },
	{ "list-rules", '\0', POPT_ARG_NONE, &opt_list_rules, 0, NULL, NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char usage_text[] =
	"Usage: xenchan-registry-check [-r FILE]... [--no-default-registry] [-n NAME]... [-l]\n"
	"                              [-J] [-W] [--disable RULE]... [--xen-version VERSION]\n"
	"                              [-v] [-q] [FILE...]\n"
	"       xenchan-registry-check --list-rules\n";

static void help(void)
{
	printf("%s\n"
	       "Check channel names, channel registries (N:/C:/D: records), xl and libvirt\n"
	       "domain configs (FILEs; '-' is standard input) and, with --live, the channels\n"
	       "of running domains.  Problems are printed as FILE:LINE:COL: SEVERITY: MESSAGE\n"
	       "[RULE] on standard output, a summary on standard error.\n\n"
	       "Options:\n"
	       "  -r, --registry FILE      read registry FILE too (repeatable); its records\n"
	       "                           are checked\n"
	       "      --no-default-registry  do not read the installed registry and\n"
	       "                           " XC_SYSCONF_REGISTRY_DIR "/*.registry\n"
	       "  -n, --name NAME          check a channel name (repeatable)\n"
	       "  -l, --live               check the channels of the running domains\n"
	       "  -J, --json               a JSON array of diagnostics\n"
	       "  -W, --strict             warnings make the exit status 1 too\n"
	       "      --disable RULE       do not report RULE (repeatable; --list-rules\n"
	       "                           lists the rules)\n"
	       "      --list-rules         print every rule: id, severity, description\n"
	       "      --xen-version VERSION  check xl configs for the xl of Xen VERSION\n"
	       "                           (4.17, 4.20.4, 4.20.4+7-g1c3ba6e8-1); default: the\n"
	       "                           installed Xen tools' version, if any\n"
	       "  -v, --verbose            say which inputs are read and which Xen the xl\n"
	       "                           configs are checked for; note every name too long\n"
	       "                           for a vchan port, not only vchan ones\n"
	       "  -q, --quiet              print only what fails the check; no summary\n"
	       "  -h, --help               show this help\n"
	       "      --usage              show a short usage line\n"
	       "  -V, --version            show the version\n\n"
	       "Exit status: 0 no problem (notes and warnings allowed unless --strict),\n"
	       "1 problems found, 2 usage error or an input that cannot be read.\n"
	       "See xenchan-registry-check(1) and xenchan(7).\n",
	       usage_text);
}

static int read_all(const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = -1;

	if (streq(path, "-"))
		fd = dup(STDIN_FILENO);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return xc_read_fd(fd, INPUT_MAX, out, len);
}

static int rc_input = XC_EXIT_OK;

static void cant_read(const char *what, const char *path, int err)
{
	_cleanup_free_ char *esc = xc_escape(path, XC_DIAG_FILE_MAX);

	cmd_err("%s%s: %s", what, esc ? esc : "?",
		err == -EFBIG ? "too large" : strerror(-err));
	rc_input = XC_EXIT_ERROR;
}

static void oom(void)
{
	cmd_err("%s", strerror(ENOMEM));
	exit(XC_EXIT_ERROR);
}

/*
 * Read the registry at path into reg.  A missing default registry (an
 * uninstalled build, a XENCHAN_REGISTRY not there) is no finding and must
 * not hide the findings by failing the check: it is a note on standard
 * error.  Any other registry that cannot be read makes the exit status 2.
 */
static void load_registry(struct xc_registry *reg, struct xc_diags *d, const char *path,
			  bool is_default)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_all(path, &buf, &len);

	if (r == -ENOENT && is_default) {
		if (!quiet)
			cmd_err("note: default registry %s: %s; checking without it",
				cmd_arg(path), strerror(-r));
		return;
	}
	if (r < 0) {
		cant_read(is_default ? "default registry " : "", path, r);
		return;
	}
	cmd_verbose("registry %s", xc_diags_file_name(d, xc_diags_file(d, path)));
	if (xc_registry_parse(reg, d, (unsigned)d->nfiles - 1, buf, len) < 0)
		oom();
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The files DIR/NAME.registry in sorted order, when DIR exists. */
static void load_registry_dir(struct xc_registry *reg, struct xc_diags *d, const char *dir)
{
	DIR *dp = opendir(dir);
	char **v = NULL;
	size_t n = 0;
	struct dirent *e;

	if (!dp) {
		if (errno != ENOENT)
			cant_read("", dir, -errno);
		return;
	}
	while ((e = readdir(dp))) {
		size_t l = strlen(e->d_name), sl = strlen(REGISTRY_SUFFIX);
		char **nv;

		if (e->d_name[0] == '.' || l <= sl || !streq(e->d_name + l - sl, REGISTRY_SUFFIX))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			oom();
		v = nv;
		if (asprintf(&v[n], "%s/%s", dir, e->d_name) < 0)
			oom();
		n++;
	}
	closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		load_registry(reg, d, v[i], false);
		free(v[i]);
	}
	free(v);
}

static void check_file(struct xc_lint *l, struct xc_diags *d, const char *path,
		       struct xc_domcfg *cfg)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, i = 0;
	unsigned file;
	int r = read_all(path, &buf, &len);

	if (r < 0) {
		cant_read("", path, r);
		return;
	}
	file = xc_diags_file(d, streq(path, "-") ? "(standard input)" : path);
	/* Skip a UTF-8 byte order mark and blanks: '<' starts libvirt XML. */
	if (len >= strlen(UTF8_BOM) && memcmp(buf, UTF8_BOM, strlen(UTF8_BOM)) == 0)
		i = strlen(UTF8_BOM);
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (i < len && buf[i] == '<') {
		cmd_verbose("libvirt domain XML %s", xc_diags_file_name(d, file));
		r = xc_virtxml_parse(d, file, buf, len, cfg);
	} else {
		cmd_verbose("xl config %s", xc_diags_file_name(d, file));
		r = xc_xlcfg_parse(d, file, buf, len, cfg);
	}
	if (r < 0)
		oom();
	xc_lint_domain(l, cfg);
}

/* The channels of every running domain, one domcfg each (kept in *cfgs). */
static void check_live(struct xc_lint *l, struct xc_diags *d, struct xc_domcfg **cfgs,
		       size_t *ncfgs)
{
	struct xc_store *st = NULL;
	struct xc_domain *doms = NULL;
	struct xc_vchan_index *ix = NULL;
	struct xc_channel_set *sets = NULL;
	size_t ndoms = 0, ndoms_listed;
	int r;

	r = xc_store_open(&st);
	if (r < 0) {
		cmd_err("xenstore: %s", strerror(-r));
		rc_input = XC_EXIT_ERROR;
		return;
	}
	r = xc_domain_list(st, &doms, &ndoms);
	if (r < 0) {
		cmd_err("xenstore: /local/domain: %s", strerror(-r));
		rc_input = XC_EXIT_ERROR;
		xc_store_close(st);
		return;
	}
	*cfgs = calloc(ndoms ? ndoms : 1, sizeof(**cfgs));
	if (!*cfgs)
		oom();
	/* Who serves vchan endpoints to whom: one pass for all domains. */
	ndoms_listed = ndoms;
	r = xc_vchan_index_scan(st, &ix);
	if (r < 0) {
		cmd_err("xenstore: vchan endpoints: %s", strerror(-r));
		rc_input = XC_EXIT_ERROR;
		ndoms_listed = 0;
	}
	sets = calloc(ndoms ? ndoms : 1, sizeof(*sets));
	if (!sets)
		oom();
	for (size_t i = 0; i < ndoms_listed; i++)
		sets[i].domid = doms[i].domid;
	r = xc_channel_list_sets(st, ix, sets, ndoms_listed);
	if (r < 0) {
		cmd_err("xenstore: %s", strerror(-r));
		rc_input = XC_EXIT_ERROR;
		ndoms_listed = 0;
	}
	for (size_t i = 0; i < ndoms_listed; i++) {
		struct xc_domcfg *cfg = &(*cfgs)[(*ncfgs)++];
		struct xc_channel *ch = sets[i].v;
		size_t n = sets[i].n;

		cfg->kind = XC_CFG_LIVE;
		r = sets[i].error;
		if (r == -ENOENT) /* destroyed meanwhile */
			continue;
		if (r == -ECANCELED) /* not listed: an earlier domain failed */
			continue;
		if (r < 0) {
			cmd_err("domain %u: %s", doms[i].domid, strerror(-r));
			rc_input = XC_EXIT_ERROR;
			continue;
		}
		if (doms[i].name && !(cfg->domname = strdup(doms[i].name)))
			oom();
		for (size_t k = 0; k < n; k++) {
			const struct xc_channel *c = &ch[k];
			struct xc_chan *e;
			_cleanup_free_ char *where = NULL;
			unsigned file;

			/* A vchan endpoint is no console channel: only the note
			 * about its name being too long to be its port. */
			if (c->transport == XC_TRANSPORT_VCHAN) {
				const char *port;

				/* Each endpoint once, at the domain that serves it. */
				if (c->backend_domid != c->domid)
					continue;
				port = c->endpoint ? strrchr(c->endpoint, '/') : NULL;
				if (!c->name)
					continue;
				port = port ? port + 1 : "?";
				if (doms[i].name)
					r = asprintf(&where, "domain %s/vchan %s",
						     doms[i].name, port);
				else
					r = asprintf(&where, "domain %u/vchan %s",
						     doms[i].domid, port);
				if (r < 0)
					oom();
				file = xc_diags_file(d, where);
				xc_lint_vchan(l, c->name, (struct xc_loc){ file, 0, 0 });
				continue;
			}
			if (doms[i].name)
				r = asprintf(&where, "domain %s/devid %u", doms[i].name, c->devid);
			else
				r = asprintf(&where, "domain %u/devid %u", doms[i].domid, c->devid);
			if (r < 0)
				oom();
			file = xc_diags_file(d, where);
			e = xc_domcfg_add(cfg);
			if (!e)
				oom();
			e->devid = c->devid;
			e->loc = e->name_loc = e->conn_loc = e->path_loc =
				(struct xc_loc){ file, 0, 0 };
			if (c->name && !(e->name = strdup(c->name)))
				oom();
			if (c->connection && !(e->connection = strdup(c->connection)))
				oom();
			if (!e->connection && (c->transport == XC_TRANSPORT_SOCKET ||
					       c->transport == XC_TRANSPORT_PTY) &&
			    !(e->connection = strdup(xc_transport_name(c->transport))))
				oom();
			if (c->endpoint && c->transport == XC_TRANSPORT_SOCKET &&
			    !(e->path = strdup(c->endpoint)))
				oom();
		}
		xc_lint_domain(l, cfg);
	}
	xc_channel_sets_free(sets, ndoms);
	free(sets);
	xc_vchan_index_free(ix);
	xc_domain_array_free(doms, ndoms);
	xc_store_close(st);
}

/*
 * The Xen whose xl the xl configs are for: --xen-version (v, already
 * parsed), else the installed tools' (under XENCHAN_SYSROOT when set, for
 * a system image or a test; the running hypervisor is then not looked at),
 * else none: the first-channel note explains both behaviours.
 */
static void xen_for_configs(struct xc_lint *l, const struct xc_xenver *given)
{
	const char *root = getenv("XENCHAN_SYSROOT"), *hv = SYS_HYPERVISOR;
	_cleanup_free_ char *source = NULL;
	struct xc_xenver v;
	int r;

	if (given) {
		cmd_verbose("checking for Xen %s (--xen-version)", given->text);
		xc_lint_xen(l, given);
		return;
	}
	if (root && *root)
		hv = NULL;
	else
		root = "/";
	r = xc_xenver_local(root, hv, &v, &source);
	if (r == -ENOMEM)
		oom();
	if (r < 0) {
		cmd_verbose("no Xen tools under %s (no xen-utils-X.Y package, no "
			    "usr/lib/xen-X.Y/bin/xl): xl first-channel notes explain both "
			    "behaviours; --xen-version picks one",
			    cmd_arg(root));
		return;
	}
	cmd_verbose("checking for Xen %s (%s)", v.text, source);
	if (xc_xenver_xl_first(&v) == XC_XL_FIRST_UNKNOWN)
		cmd_verbose("Xen %s does not say whether xl drops the first channel entry "
			    "(xl of Xen " XC_XL_FIRST_AFFECTED_TEXT " does); --xen-version "
			    "X.Y.Z says",
			    v.text);
	xc_lint_xen(l, &v);
}

static bool shown(const struct xc_diag *g)
{
	if (!quiet)
		return true;
	return g->severity == XC_SEV_ERROR || (opt_strict && g->severity == XC_SEV_WARNING);
}

static void print_text(struct xc_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct xc_diag *g = &d->v[i];
		const char *f = xc_diags_file_name(d, g->loc.file);

		if (!shown(g))
			continue;
		if (g->loc.line)
			printf("%s:%u:%u: %s: %s [%s]\n", f, g->loc.line, g->loc.col,
			       xc_severity_name(g->severity), g->message, xc_rules[g->rule].id);
		else
			printf("%s: %s: %s [%s]\n", f, xc_severity_name(g->severity), g->message,
			       xc_rules[g->rule].id);
	}
}

static void print_json(struct xc_diags *d)
{
	bool first = true;

	putchar('[');
	for (size_t i = 0; i < d->n; i++) {
		const struct xc_diag *g = &d->v[i];

		if (!shown(g))
			continue;
		fputs(first ? "\n  {\"file\": " : ",\n  {\"file\": ", stdout);
		first = false;
		xc_json_string(stdout, xc_diags_file_name(d, g->loc.file));
		if (g->loc.line)
			printf(", \"line\": %u, \"column\": %u", g->loc.line, g->loc.col);
		else
			fputs(", \"line\": null, \"column\": null", stdout);
		fputs(", \"severity\": ", stdout);
		xc_json_string(stdout, xc_severity_name(g->severity));
		fputs(", \"rule\": ", stdout);
		xc_json_string(stdout, xc_rules[g->rule].id);
		fputs(", \"message\": ", stdout);
		xc_json_string(stdout, g->message);
		putchar('}');
	}
	fputs(first ? "]\n" : "\n]\n", stdout);
}

static void list_rules(void)
{
	for (size_t i = 0; i < XC_R_COUNT; i++)
		printf("%-26s %-8s %s\n", xc_rules[i].id, xc_severity_name(xc_rules[i].severity),
		       xc_rules[i].description);
}

int main(int argc, const char **argv)
{
	struct xc_registry *reg = NULL;
	struct xc_lint *l = NULL;
	struct xc_diags d;
	struct xc_domcfg *cfgs = NULL, *live = NULL;
	struct xc_xenver given;
	size_t nargs = 0, nlive = 0, reg_from;
	const char **args;
	poptContext ctx;
	int rc;

	cmd_init("xenchan-registry-check", 0);
	ctx = cmd_parse(argc, argv, options, usage_text, help, NULL);
	args = poptGetArgs(ctx);
	while (args && args[nargs])
		nargs++;
	if (opt_list_rules) {
		if (nargs || opt_live || opt_names || opt_registries || opt_json ||
		    opt_disable || opt_xen_version)
			cmd_usage_error("--list-rules takes no other option or argument");
		list_rules();
		return XC_EXIT_OK;
	}
	if (!nargs && !opt_live && !opt_names && !opt_registries)
		cmd_usage_error("nothing to check: give FILEs, --name, --registry or --live");
	if (opt_xen_version) {
		const char *why;

		if (xc_xenver_parse(opt_xen_version, &given, &why) < 0)
			cmd_usage_error("--xen-version %s: not a Xen version: %s",
					cmd_arg(opt_xen_version), why);
	}

	xc_diags_init(&d);
	for (size_t i = 0; opt_disable && opt_disable[i]; i++) {
		int r = xc_rule_find(opt_disable[i]);

		if (r < 0)
			cmd_usage_error("--disable %s: no such rule (xenchan-registry-check "
					"--list-rules lists them)",
					cmd_arg(opt_disable[i]));
		xc_diags_disable(&d, (enum xc_rule_id)r);
	}
	if (xc_registry_new(&reg) < 0)
		oom();
	if (!opt_no_default) {
		const char *def = getenv("XENCHAN_REGISTRY");
		_cleanup_free_ char *path = NULL;

		if (!def || !*def) {
			if (asprintf(&path, "%s/registry", XC_REGISTRY_DIR) < 0)
				oom();
			def = path;
		}
		load_registry(reg, &d, def, true);
		load_registry_dir(reg, &d, XC_SYSCONF_REGISTRY_DIR);
	}
	reg_from = xc_registry_count(reg);
	for (size_t i = 0; opt_registries && opt_registries[i]; i++)
		load_registry(reg, &d, opt_registries[i], false);
	if (xc_lint_new(reg, &d, &l) < 0)
		oom();
	xc_lint_vchan_notes(l, verbose > 0);
	xc_lint_registry(l, reg_from);
	if (nargs)
		xen_for_configs(l, opt_xen_version ? &given : NULL);
	for (size_t i = 0; opt_names && opt_names[i]; i++) {
		_cleanup_free_ char *where = NULL;

		if (asprintf(&where, "--name %s", opt_names[i]) < 0)
			oom();
		xc_lint_name(l, opt_names[i], (struct xc_loc){ xc_diags_file(&d, where), 0, 0 });
	}
	cfgs = calloc(nargs ? nargs : 1, sizeof(*cfgs));
	if (!cfgs)
		oom();
	for (size_t i = 0; i < nargs; i++)
		check_file(l, &d, args[i], &cfgs[i]);
	if (opt_live)
		check_live(l, &d, &live, &nlive);
	if (d.oom)
		oom();

	xc_diags_sort(&d);
	if (opt_json)
		print_json(&d);
	else
		print_text(&d);
	if (!quiet)
		fprintf(stderr, "%s: %u error%s, %u warning%s, %u note%s\n", program_name,
			d.count[XC_SEV_ERROR], d.count[XC_SEV_ERROR] == 1 ? "" : "s",
			d.count[XC_SEV_WARNING], d.count[XC_SEV_WARNING] == 1 ? "" : "s",
			d.count[XC_SEV_NOTE], d.count[XC_SEV_NOTE] == 1 ? "" : "s");

	if (rc_input != XC_EXIT_OK)
		rc = rc_input;
	else if (d.count[XC_SEV_ERROR] || (opt_strict && d.count[XC_SEV_WARNING]))
		rc = XC_EXIT_NEGATIVE;
	else
		rc = XC_EXIT_OK;

	xc_lint_free(l);
	for (size_t i = 0; i < nargs; i++)
		xc_domcfg_clear(&cfgs[i]);
	free(cfgs);
	for (size_t i = 0; i < nlive; i++)
		xc_domcfg_clear(&live[i]);
	free(live);
	xc_registry_free(reg);
	xc_diags_clear(&d);
	return rc;
}
