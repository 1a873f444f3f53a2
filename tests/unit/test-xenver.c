/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/xenver.c: parsing Xen and Debian package versions,
 * what a version says about xl's first-channel bug (every release around
 * the fix, and versions that span it), and finding the local Xen tools in
 * a made-up system tree (dpkg status file, /usr/lib/xen-X.Y, a running
 * hypervisor's sysfs directory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "tap.h"
#include "xenver.h"

#define A XC_XL_FIRST_AFFECTED
#define F XC_XL_FIRST_FIXED
#define U XC_XL_FIRST_UNKNOWN

static const struct good {
	const char *in;
	const char *text;
	enum xc_xl_first first;
} good[] = {
	/* Releases on each side of the fix, branch by branch. */
	{ "4.16.6", "4.16.6", A },
	{ "4.17.0", "4.17.0", A },
	{ "4.17.7", "4.17.7", A },
	{ "4.18.0", "4.18.0", A },
	{ "4.18.4", "4.18.4", A },
	{ "4.18.5", "4.18.5", F },
	{ "4.18.6", "4.18.6", F },
	{ "4.19.0", "4.19.0", A },
	{ "4.19.1", "4.19.1", A },
	{ "4.19.2", "4.19.2", F },
	{ "4.20.0", "4.20.0", A },
	{ "4.20.1", "4.20.1", F },
	{ "4.20.4", "4.20.4", F },
	{ "4.21.0", "4.21.0", F },
	{ "4.22.1", "4.22.1", F },
	{ "5.0.0", "5.0.0", F },
	{ "3.4.4", "3.4.4", A },
	/* X.Y alone: known only where every X.Y.Z agrees. */
	{ "4.17", "4.17", A },
	{ "4.16", "4.16", A },
	{ "4.18", "4.18", U },
	{ "4.19", "4.19", U },
	{ "4.20", "4.20", U },
	{ "4.21", "4.21", F },
	{ "5.1", "5.1", F },
	/* Debian package versions: commits after a release, a revision. */
	{ "4.20.4+7-g1c3ba6e8-1", "4.20.4+7", F },
	{ "4.17.5+23-ga4e5191b-1~deb12u1", "4.17.5+23", A },
	{ "4.17.7+13-g2445b30a44-0+deb12u1", "4.17.7+13", A },
	{ "4.20.0+68-g35cb38b222-1", "4.20.0+68", U },
	{ "4.19.1+12-gdeadbeef-2", "4.19.1+12", U },
	{ "4.18.5+3-gabcdef0-1", "4.18.5+3", F },
	{ "4.20.0-1", "4.20.0", A },
	{ "4.20.1-3~bpo12+1", "4.20.1", F },
	{ "1:4.20.4-1", "4.20.4", F },
	{ "4.20.4+7", "4.20.4+7", F },
	/* Pre-releases: before the release, after the one before. */
	{ "4.20.1-rc1", "4.20.1-rc1", U },
	{ "4.20.2-pre", "4.20.2-pre", F },
	{ "4.17.8-pre", "4.17.8-pre", A },
	{ "4.20.0-rc5", "4.20.0-rc5", A },
	{ "4.21.0-rc1", "4.21.0-rc1", U },
	{ "4.21-unstable", "4.21-unstable", U },
	{ "4.22-unstable", "4.22-unstable", F },
	{ "4.22.0~rc2-1", "4.22.0~rc2", F },
	{ "4.19.2-rc", "4.19.2-rc", U },
};

static const char *const bad[] = {
	"", "4", "4.", "4.x", ".4.20", "4.20.", "4..20", "04.20", "4.020", "4.20.04",
	"44444.1", "4.20.4 ", " 4.20.4", "4.20.4\n", "v4.20.4", "4.20.4.1", "4.20.4-",
	"4.20.4-rcx", "4.20.4+", "4.20.4+x", "4.20.4+7-g", "4.20.4+7-gxyz",
	"4.20.4+7-gab", "4.20.4-beta", "4.20.4_1", "4.20.4+7-g1c3ba6e8-", "4.20.4-1 1",
	"4.20.4-1/2", "xen-4.20", "latest",
};

/* s for a test's name: a control character would end its TAP line. */
static const char *printable(const char *s)
{
	static char buf[128];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void parse_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct xc_xenver v;
		const char *why = NULL;
		int r = xc_xenver_parse(good[i].in, &v, &why);

		if (!tap_ok(r == 0, "'%s' is a version", good[i].in)) {
			tap_diag("  %s", why ? why : "(no reason)");
			tap_ok(false, "(skipped)");
			tap_ok(false, "(skipped)");
			continue;
		}
		if (!tap_ok(streq(v.text, good[i].text), "'%s' reads as %s", good[i].in,
			    good[i].text))
			tap_diag("  got '%s'", v.text);
		tap_ok(xc_xenver_xl_first(&v) == good[i].first,
		       "'%s': xl %s the first channel", good[i].in,
		       good[i].first == A   ? "drops"
		       : good[i].first == F ? "keeps"
					    : "may drop");
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct xc_xenver v = { .major = 99 };
		const char *why = NULL;
		int r = xc_xenver_parse(bad[i], &v, &why);

		tap_ok(r == -EINVAL && why && *why && v.major == 99,
		       "'%s' is refused, untouched, with a reason (%s)",
		       printable(bad[i]), why ? why : "none");
	}
}

/* The parts parse_cases() does not see, and NULL. */
static void fields(void)
{
	struct xc_xenver v;

	tap_ok(xc_xenver_parse("4.20", &v, NULL) == 0 && v.major == 4 && v.minor == 20 &&
		       !v.has_micro && v.kind == XC_XENVER_RELEASE,
	       "4.20: no micro version");
	tap_ok(xc_xenver_parse("4.20.0+68-g35cb38b222-1", &v, NULL) == 0 && v.has_micro &&
		       v.micro == 0 && v.kind == XC_XENVER_AFTER,
	       "4.20.0+68-g...: after 4.20.0");
	tap_ok(xc_xenver_parse("4.21.0-rc1+3-gabcd", &v, NULL) == 0 &&
		       v.kind == XC_XENVER_PRE,
	       "commits after a pre-release are still before the release");
	tap_ok(xc_xenver_parse("4.20.4+0", &v, NULL) == 0 && v.kind == XC_XENVER_RELEASE,
	       "+0 commits is the release");
	tap_ok(xc_xenver_xl_first(NULL) == XC_XL_FIRST_UNKNOWN, "no version: unknown");
	tap_ok(xc_xenver_parse("9999.9999.9999-unstable+999999-g0123456789abcdef0123456789"
			       "abcdef01234567-1",
			       &v, NULL) == 0 &&
		       strlen(v.text) < sizeof(v.text) - 1,
	       "the longest text fits with room (%s)", v.text);
}

/* A system tree to look for the Xen tools in. */
static char root[] = "/tmp/test-xenver.XXXXXX";

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;

	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "%s/%.*s", root, (int)(p - rel), rel) < 0)
			tap_bail("out of memory");
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			tap_bail("mkdir %s: %s", dir, strerror(errno));
	}
	if (asprintf(&path, "%s/%s", root, rel) < 0)
		tap_bail("out of memory");
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("%s: %s", path, strerror(errno));
}

static void clean(void)
{
	_cleanup_free_ char *cmd = NULL;

	if (asprintf(&cmd, "rm -rf '%s'/*", root) < 0 || system(cmd) != 0)
		tap_bail("cannot empty %s", root);
}

/* Look for the tools; true when found with version text and source holding
 * want_source. */
static bool local_is(const char *hv, const char *text, const char *want_source)
{
	struct xc_xenver v;
	_cleanup_free_ char *source = NULL;
	_cleanup_free_ char *hvdir = NULL;
	int r;

	if (hv && asprintf(&hvdir, "%s/%s", root, hv) < 0)
		tap_bail("out of memory");
	r = xc_xenver_local(root, hvdir, &v, &source);
	if (!text) {
		if (r != -ENOENT)
			tap_diag("  got %d %s", r, r == 0 ? v.text : "");
		return r == -ENOENT;
	}
	if (r < 0) {
		tap_diag("  got %s", strerror(-r));
		return false;
	}
	if (!streq(v.text, text) || !strstr(source, want_source)) {
		tap_diag("  got %s from '%s'", v.text, source);
		return false;
	}
	return true;
}

static const char other_pkgs[] = "Package: libc6\n"
				 "Status: install ok installed\n"
				 "Version: 2.36-9\n"
				 "Description: GNU C Library\n"
				 " Package: xen-utils-9.9\n"
				 " Status: install ok installed\n"
				 "\n";

static void local_tools(void)
{
	if (!mkdtemp(root))
		tap_bail("mkdtemp: %s", strerror(errno));

	tap_ok(local_is(NULL, NULL, NULL), "an empty tree: no tools (-ENOENT)");

	put("var/lib/dpkg/status", other_pkgs);
	tap_ok(local_is(NULL, NULL, NULL),
	       "no xen-utils package (one in a description is none): no tools");

	put("var/lib/dpkg/status", "Package: xen-utils-4.20\n"
				   "Status: install ok installed\n"
				   "Version: 4.20.4+7-g1c3ba6e8-1\n"
				   "Depends: libc6\n"
				   "\n"
				   "Package: xen-utils-common\n"
				   "Status: install ok installed\n"
				   "Version: 4.20.4+7-g1c3ba6e8-1\n");
	tap_ok(local_is(NULL, "4.20.4+7",
			"installed xen-utils-4.20, version 4.20.4+7-g1c3ba6e8-1"),
	       "Debian 13: xen-utils-4.20's version");

	put("var/lib/dpkg/status", "Package: xen-utils-4.17\n"
				   "Status: deinstall ok config-files\n"
				   "Version: 4.17.5+23-ga4e5191b-1~deb12u1\n"
				   "\n"
				   "package: xen-utils-4.20\n"
				   "status: install ok installed\n"
				   "version: 4.20.1-1");
	tap_ok(local_is(NULL, "4.20.1", "installed xen-utils-4.20, version 4.20.1-1"),
	       "a removed package is not the tools; field names in any case; no final "
	       "newline");

	put("var/lib/dpkg/status", "Package: xen-utils-4.17\n"
				   "Status: install ok installed\n"
				   "Version: 4.17.7+13-g2445b30a44-0+deb12u1\n"
				   "\n"
				   "Package: xen-utils-4.20\n"
				   "Status: install ok installed\n"
				   "Version: 4.20.4+7-g1c3ba6e8-1\n"
				   "\n");
	tap_ok(local_is(NULL, "4.20.4+7", "2 installed, this one the newest"),
	       "two installed: the newest");
	put("hv/type", "xen\n");
	put("hv/major", "4\n");
	put("hv/minor", "17\n");
	tap_ok(local_is("hv", "4.17.7+13", "2 installed, this one the running Xen's"),
	       "two installed: the running hypervisor's");
	put("hv/type", "kvm\n");
	tap_ok(local_is("hv", "4.20.4+7", "the newest"),
	       "a hypervisor that is not Xen does not choose");

	put("var/lib/dpkg/status", "Package: xen-utils-4.20\n"
				   "Status: install ok installed\n"
				   "Version: 4.20.4 something\n");
	tap_ok(local_is(NULL, "4.20", "installed xen-utils-4.20, version not understood"),
	       "a version not understood: X.Y from the package name");

	put("var/lib/dpkg/status", "Package: xen-utils-4.20\n"
				   "Status: install ok unpacked\n"
				   "Version: 4.20.4-1\n");
	put("usr/lib/xen-4.19/lib/libxenlight.so", "");
	tap_ok(local_is(NULL, NULL, NULL),
	       "a package not fully installed and a directory without xl: no tools");

	put("usr/lib/xen-4.17/bin/xl", "");
	tap_ok(local_is(NULL, "4.17", "/usr/lib/xen-4.17/bin/xl, no package version"),
	       "no package: X.Y from usr/lib/xen-X.Y/bin/xl");
	put("usr/lib/xen-4.21/bin/xl", "");
	tap_ok(local_is(NULL, "4.21", "/usr/lib/xen-4.21/bin/xl"),
	       "two such directories: the newest");

	clean();
	if (rmdir(root) < 0)
		tap_bail("rmdir %s: %s", root, strerror(errno));
}

int main(void)
{
	tap_plan(3 * ARRAY_SIZE(good) + ARRAY_SIZE(bad) + 6 + 11);
	parse_cases();
	fields();
	local_tools();
	return tap_done();
}
