/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "macro.h"
#include "xenver.h"

/* A version number has at most this many digits (Xen's are 1 or 2). */
#define NUM_DIGITS_MAX 4
/* git describe's commit count, and its abbreviated hash. */
#define COMMITS_DIGITS_MAX 6
#define HASH_MIN 4
#define HASH_MAX 40

/* dpkg's status file is a few MB; anything far larger is not one. */
#define STATUS_MAX (256 * 1024 * 1024)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/*
 * A number of at most max digits without a leading zero at *p: advances *p
 * past it.  Returns 0 or -EINVAL with *why set.
 */
static int number(const char **p, unsigned max, unsigned *out, const char **why)
{
	const char *s = *p;
	unsigned v = 0, n = 0;

	if (!is_digit(*s)) {
		*why = "want X.Y[.Z], such as 4.20.4";
		return -EINVAL;
	}
	if (s[0] == '0' && is_digit(s[1])) {
		*why = "a number has a leading zero";
		return -EINVAL;
	}
	for (; is_digit(*s); s++) {
		if (++n > max) {
			*why = "a number is too long";
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

/* s starts with word: advance *p past it. */
static bool skip_word(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static const char trailing_why[] =
	"after X.Y[.Z] want only a pre-release (-rcN, -pre, -unstable), commits "
	"(+N-gHASH) and a Debian revision (-N...)";

int xc_xenver_parse(const char *s, struct xc_xenver *v, const char **why)
{
	struct xc_xenver r = { .kind = XC_XENVER_RELEASE };
	const char *p = s, *pre = NULL, *ignored_why;
	size_t pre_len = 0;
	unsigned commits = 0, n;
	int len;

	if (!why)
		why = &ignored_why;
	if (!*s) {
		*why = "empty";
		return -EINVAL;
	}
	/* A Debian epoch: digits and a colon. */
	for (n = 0; is_digit(p[n]); n++)
		;
	if (n > 0 && p[n] == ':')
		p += n + 1;
	if (number(&p, NUM_DIGITS_MAX, &r.major, why) < 0)
		return -EINVAL;
	if (*p != '.') {
		*why = "want X.Y[.Z], such as 4.20.4";
		return -EINVAL;
	}
	p++;
	if (number(&p, NUM_DIGITS_MAX, &r.minor, why) < 0)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (number(&p, NUM_DIGITS_MAX, &r.micro, why) < 0)
			return -EINVAL;
		r.has_micro = true;
	}
	/* A pre-release: Xen's -rc, -pre, -unstable, or Debian's ~rc. */
	if (*p == '-' || *p == '~') {
		const char *q = p + 1;

		if (skip_word(&q, "rc") || skip_word(&q, "pre")) {
			if (is_digit(*q) && number(&q, NUM_DIGITS_MAX, &n, why) < 0)
				return -EINVAL;
		} else if (!skip_word(&q, "unstable")) {
			q = NULL;
		}
		if (q) {
			pre = p;
			pre_len = (size_t)(q - p);
			r.kind = XC_XENVER_PRE;
			p = q;
		}
	}
	/* Commits after the release, as git describe counts them. */
	if (*p == '+') {
		p++;
		if (!is_digit(*p) || number(&p, COMMITS_DIGITS_MAX, &commits, why) < 0) {
			*why = "'+' is not followed by a commit count";
			return -EINVAL;
		}
		if (p[0] == '-' && p[1] == 'g') {
			size_t h = 0;

			p += 2;
			while (is_hex(p[h]))
				h++;
			if (h < HASH_MIN || h > HASH_MAX) {
				*why = "'-g' is not followed by a commit hash";
				return -EINVAL;
			}
			p += h;
		}
		/* Commits after a pre-release are still before the release. */
		if (r.kind == XC_XENVER_RELEASE && commits > 0)
			r.kind = XC_XENVER_AFTER;
	}
	/* A Debian revision: what the package adds, not Xen's version. */
	if (*p == '-' && is_digit(p[1])) {
		for (p++; *p; p++)
			if (!(is_digit(*p) || (*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') || *p == '.' || *p == '+' ||
			      *p == '~'))
				break;
	}
	if (*p) {
		*why = trailing_why;
		return -EINVAL;
	}
	if (r.has_micro)
		len = snprintf(r.text, sizeof(r.text), "%u.%u.%u", r.major, r.minor,
			       r.micro);
	else
		len = snprintf(r.text, sizeof(r.text), "%u.%u", r.major, r.minor);
	/* 3 numbers of 4 digits, a pre-release of 13 and 7 digits of commits
	 * fit XC_XENVER_TEXT_MAX. */
	if (pre)
		len += snprintf(r.text + len, sizeof(r.text) - (size_t)len, "%.*s",
				(int)pre_len, pre);
	if (commits)
		snprintf(r.text + len, sizeof(r.text) - (size_t)len, "+%u", commits);
	*v = r;
	return 0;
}

/* Whether xl of the release major.minor.micro drops the first channel. */
static bool affected(unsigned major, unsigned minor, unsigned micro)
{
	if (major != 4)
		return major < 4;
	switch (minor) {
	case 18:
		return micro < 5;
	case 19:
		return micro < 2;
	case 20:
		return micro < 1;
	default:
		return minor < 18;
	}
}

enum xc_xl_first xc_xenver_xl_first(const struct xc_xenver *v)
{
	/* The earliest and latest release whose code v may be: xl's answer
	 * only changes once along a stable branch, so the ends decide. */
	unsigned lo[3], hi[3];
	bool a, b;

	if (!v)
		return XC_XL_FIRST_UNKNOWN;
	lo[0] = hi[0] = v->major;
	lo[1] = hi[1] = v->minor;
	if (v->kind == XC_XENVER_PRE && (!v->has_micro || v->micro == 0)) {
		/* The development of X.Y: from the previous branch point on. */
		if (v->minor > 0) {
			lo[1] = v->minor - 1;
		} else if (v->major > 0) {
			lo[0] = v->major - 1;
			lo[1] = UINT_MAX;
		}
		lo[2] = 0;
		hi[2] = 0;
	} else if (!v->has_micro) {
		lo[2] = 0;
		hi[2] = UINT_MAX;
	} else if (v->kind == XC_XENVER_PRE) {
		lo[2] = v->micro - 1;
		hi[2] = v->micro;
	} else if (v->kind == XC_XENVER_AFTER) {
		lo[2] = v->micro;
		hi[2] = v->micro + 1;
	} else {
		lo[2] = hi[2] = v->micro;
	}
	a = affected(lo[0], lo[1], lo[2]);
	b = affected(hi[0], hi[1], hi[2]);
	if (a && b)
		return XC_XL_FIRST_AFFECTED;
	if (!a && !b)
		return XC_XL_FIRST_FIXED;
	return XC_XL_FIRST_UNKNOWN;
}

/* root/rel, without doubling the slash after "/". */
static char *join(const char *root, const char *rel)
{
	size_t n = strlen(root);
	char *s;

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s/%s", (int)n, root, rel) < 0)
		return NULL;
	return s;
}

/* A small number in a sysfs file: "4\n". */
static bool read_sysfs_uint(const char *dir, const char *name, unsigned *out)
{
	_cleanup_free_ char *path = join(dir, name), *buf = NULL;
	const char *p, *why;

	if (!path || xc_read_file(path, 64, &buf, NULL) < 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	p = buf;
	return number(&p, NUM_DIGITS_MAX, out, &why) == 0 && !*p;
}

/* The X.Y of the running hypervisor, when it is Xen. */
static bool running_xen(const char *hypervisor, unsigned *major, unsigned *minor)
{
	_cleanup_free_ char *path = NULL, *type = NULL;

	if (!hypervisor || !(path = join(hypervisor, "type")) ||
	    xc_read_file(path, 64, &type, NULL) < 0)
		return false;
	type[strcspn(type, "\n")] = '\0';
	return streq(type, "xen") && read_sysfs_uint(hypervisor, "major", major) &&
	       read_sysfs_uint(hypervisor, "minor", minor);
}

/* prefix X.Y exactly: the X.Y of a xen-utils-X.Y or xen-X.Y name. */
static bool name_xy(const char *s, const char *prefix, unsigned *major, unsigned *minor)
{
	const char *p = s, *why;

	if (!skip_word(&p, prefix) || number(&p, NUM_DIGITS_MAX, major, &why) < 0 ||
	    *p++ != '.' || number(&p, NUM_DIGITS_MAX, minor, &why) < 0)
		return false;
	return !*p;
}

/* What xc_xenver_local() looks at: the tools of one X.Y. */
struct found {
	struct xc_xenver v;
	char *what; /* "installed xen-utils-4.20, version ..." */
};

/*
 * Keep the better of *best and c (c is consumed): the running Xen's X.Y,
 * else the newer.
 */
static void keep(struct found *best, struct found *c, bool have_hv, unsigned hv_major,
		 unsigned hv_minor)
{
	bool c_hv = have_hv && c->v.major == hv_major && c->v.minor == hv_minor;
	bool b_hv = best->what && have_hv && best->v.major == hv_major &&
		    best->v.minor == hv_minor;
	bool better;

	if (!best->what || c_hv != b_hv)
		better = !best->what || c_hv;
	else
		better = c->v.major > best->v.major ||
			 (c->v.major == best->v.major && c->v.minor > best->v.minor);
	if (better) {
		free(best->what);
		*best = *c;
	} else {
		free(c->what);
	}
	c->what = NULL;
}

/* The value of a control-file field on the line at s, if it is field. */
static const char *field(const char *s, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(s, name, n) != 0 || s[n] != ':')
		return NULL;
	s += n + 1;
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The end of one paragraph of the status file: a xen-utils-X.Y installed? */
static int status_paragraph(const char *pkg, const char *status, const char *version,
			    struct found *c)
{
	const char *st;
	unsigned major, minor;

	if (!pkg || !status || !name_xy(pkg, "xen-utils-", &major, &minor))
		return 0;
	/* "want flag status": only an installed package has its xl. */
	st = strrchr(status, ' ');
	if (!st || !streq(st + 1, "installed"))
		return 0;
	if (version && xc_xenver_parse(version, &c->v, NULL) == 0 &&
	    c->v.major == major && c->v.minor == minor) {
		if (asprintf(&c->what, "installed %s, version %s", pkg, version) < 0)
			return -ENOMEM;
		return 1;
	}
	/* A version that does not say X.Y.Z: the package's name does. */
	c->v = (struct xc_xenver){ .major = major, .minor = minor };
	snprintf(c->v.text, sizeof(c->v.text), "%u.%u", major, minor);
	if (asprintf(&c->what, "installed %s, version not understood", pkg) < 0)
		return -ENOMEM;
	return 1;
}

/* The installed xen-utils-X.Y packages in root's dpkg status file. */
static int from_dpkg(const char *root, struct found *best, unsigned *count, bool have_hv,
		     unsigned hv_major, unsigned hv_minor)
{
	_cleanup_free_ char *path = join(root, "var/lib/dpkg/status"), *buf = NULL;
	const char *pkg = NULL, *status = NULL, *version = NULL;
	char *line, *next;
	int r;

	if (!path)
		return -ENOMEM;
	r = xc_read_file(path, STATUS_MAX, &buf, NULL);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	for (line = buf; line; line = next) {
		const char *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* A line starting with a blank continues the field above. */
		if (*line && *line != ' ' && *line != '\t') {
			if ((val = field(line, "Package")))
				pkg = val;
			else if ((val = field(line, "Status")))
				status = val;
			else if ((val = field(line, "Version")))
				version = val;
		}
		/* A blank line, or the end of the file, ends a paragraph. */
		if (*line == '\0' || !next) {
			struct found c = { 0 };

			r = status_paragraph(pkg, status, version, &c);
			if (r < 0)
				return r;
			if (r > 0) {
				(*count)++;
				keep(best, &c, have_hv, hv_major, hv_minor);
			}
			pkg = status = version = NULL;
		}
	}
	return 0;
}

/* The usr/lib/xen-X.Y/bin/xl under root, X.Y alone. */
static int from_libdir(const char *root, struct found *best, unsigned *count,
		       bool have_hv, unsigned hv_major, unsigned hv_minor)
{
	_cleanup_free_ char *libdir = join(root, "usr/lib");
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (!libdir)
		return -ENOMEM;
	d = opendir(libdir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct found c = { 0 };
		_cleanup_free_ char *xl = NULL;
		unsigned major, minor;
		struct stat st;

		if (!name_xy(e->d_name, "xen-", &major, &minor))
			continue;
		if (asprintf(&xl, "%s/%s/bin/xl", libdir, e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (stat(xl, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		c.v = (struct xc_xenver){ .major = major, .minor = minor };
		snprintf(c.v.text, sizeof(c.v.text), "%u.%u", major, minor);
		if (asprintf(&c.what, "%s, no package version", xl) < 0) {
			r = -ENOMEM;
			break;
		}
		(*count)++;
		keep(best, &c, have_hv, hv_major, hv_minor);
	}
	closedir(d);
	return r;
}

int xc_xenver_local(const char *root, const char *hypervisor, struct xc_xenver *v,
		    char **source)
{
	struct found best = { 0 };
	unsigned count = 0, hv_major = 0, hv_minor = 0;
	bool have_hv = running_xen(hypervisor, &hv_major, &hv_minor);
	int r;

	r = from_dpkg(root, &best, &count, have_hv, hv_major, hv_minor);
	if (r == 0 && !count)
		r = from_libdir(root, &best, &count, have_hv, hv_major, hv_minor);
	if (r < 0 || !count) {
		free(best.what);
		return r < 0 ? r : -ENOENT;
	}
	if (count > 1) {
		char *s;
		bool hv = have_hv && best.v.major == hv_major && best.v.minor == hv_minor;

		if (asprintf(&s, "%s; %u installed, this one %s", best.what, count,
			     hv ? "the running Xen's" : "the newest") < 0) {
			free(best.what);
			return -ENOMEM;
		}
		free(best.what);
		best.what = s;
	}
	*v = best.v;
	*source = best.what;
	return 0;
}
