/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Xen versions, and what one says about xl's first-channel bug.
 *
 * xl before Xen 4.21 gave each entry of a config's channel = [...] list its
 * index as devid (ARRAY_EXTEND_INIT in tools/xl/xl_parse.c), so the first
 * entry got devid 0, which libxl takes for the primary console: it fails
 * ("Primary console has invalid configuration") and `xl create` still
 * succeeds without it.  The fix (xen commit e1ccced4af, released in 4.21.0)
 * was backported to 4.18.5, 4.19.2 and 4.20.1; 4.17 never had it.  The
 * workaround is a placeholder first entry, which on a fixed xl becomes an
 * extra channel.  Only xl's config parser has the bug: libvirt's libxl
 * driver leaves devid to libxl, which numbers channels from 1.
 *
 * The version of the local Xen tools is read from Debian's package
 * database, as the xen-utils-X.Y package that ships
 * /usr/lib/xen-X.Y/bin/xl, or failing that from that directory's name.
 *
 * Nothing here blocks but xc_xenver_local(), which reads local files.
 */
#ifndef XENCHAN_XENVER_H
#define XENCHAN_XENVER_H

#include <stdbool.h>
#include <stddef.h>

/* The versions whose xl drops the first channel, and those that keep it,
 * for messages; xc_xenver_xl_first() answers from the same facts. */
#define XC_XL_FIRST_AFFECTED_TEXT "before 4.18.5, 4.19.0-4.19.1 and 4.20.0"
#define XC_XL_FIRST_FIXED_TEXT "4.18.5, 4.19.2, 4.20.1, 4.21 and later"

/* Room for xc_xenver.text. */
#define XC_XENVER_TEXT_MAX 48

enum xc_xenver_kind {
	XC_XENVER_RELEASE, /* the release X.Y.Z (or any of X.Y) */
	XC_XENVER_PRE,     /* before X.Y.Z: -rcN, -pre, -unstable */
	XC_XENVER_AFTER,   /* commits after X.Y.Z: +N-gHASH */
};

struct xc_xenver {
	unsigned major, minor, micro;
	bool has_micro; /* "4.20" names no micro version */
	enum xc_xenver_kind kind;
	/* For messages: "4.20.4", "4.20", "4.21.0-rc2", "4.20.0+68". */
	char text[XC_XENVER_TEXT_MAX];
};

/*
 * Parse a Xen version, strictly: X.Y[.Z], then optionally a pre-release
 * marker ("-rc", "-rc2", "~rc2", "-pre", "-unstable"), then optionally the
 * commits after the release as git describe writes them ("+7" or
 * "+7-g1c3ba6e8"), then optionally a Debian revision ("-1", "-0+deb12u1",
 * "-1~deb12u1").  A Debian epoch ("1:") is accepted.  So both "4.20.4" and
 * the package version "4.20.4+7-g1c3ba6e8-1" are read, as 4.20.4 and a few
 * commits of its stable branch.  Numbers have at most 4 digits and no
 * leading zero.  Returns 0, or -EINVAL with *why (may be NULL) set to a
 * static phrase saying what is wrong.
 */
int xc_xenver_parse(const char *s, struct xc_xenver *v, const char **why);

enum xc_xl_first {
	XC_XL_FIRST_UNKNOWN,  /* the version does not say (4.20, 4.20.0+68) */
	XC_XL_FIRST_AFFECTED, /* xl drops the first channel entry */
	XC_XL_FIRST_FIXED,    /* xl keeps it */
};

/*
 * Whether xl of Xen v drops the first channel entry.  A version that spans
 * releases on both sides of the fix is unknown: "4.20" (4.20.0 drops it,
 * 4.20.1 keeps it), "4.20.0+68" (the commits after 4.20.0 may hold the
 * backport), "4.20.1-rc1", "4.21.0-rc1" (the fix entered 4.21's development
 * after it began).  NULL (no version) is unknown.
 */
enum xc_xl_first xc_xenver_xl_first(const struct xc_xenver *v);

/*
 * The version of the installed Xen tools under root ("/" for this host; a
 * directory holding a system's tree otherwise):
 *  1. the Version of each xen-utils-X.Y package that root's dpkg status
 *     file (var/lib/dpkg/status) says is installed;
 *  2. failing that, X.Y alone from each usr/lib/xen-X.Y/bin/xl there.
 * With several, the one the running hypervisor's X.Y names (read from
 * hypervisor, normally /sys/hypervisor; NULL: not looked at) is taken, as
 * Debian's xl wrapper takes it, else the newest, the one GRUB boots by
 * default.  On success stores the version in *v and, in *source (malloc'd),
 * where it came from, for people: "installed xen-utils-4.20, version
 * 4.20.4+7-g1c3ba6e8-1".  Returns 0, -ENOENT when root holds no Xen tools,
 * or -ENOMEM.  A file that cannot be read counts as absent.
 */
int xc_xenver_local(const char *root, const char *hypervisor, struct xc_xenver *v,
		    char **source);

#endif
