/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "direct.h"
#include "lint.h"
#include "parse.h"
#include "registry.h"
#include "strmap.h"
#include "untrusted.h"
#include "vchan.h"
#include "xenver.h"

/*
 * The limits the rule descriptions state (diag.h), held to the headers
 * that own them.  A vchan port fills what libxenvchan's path buffer leaves
 * around it with the longest domids (NNNNN: no domid has more digits).
 */
#define VCHAN_PATH_AROUND_PORT "/local/domain/NNNNN/data/vchan/NNNNN//event-channel"
_Static_assert(XC_DOMID_MAX <= 99999, "a domid has at most 5 digits");
_Static_assert(XC_VCHAN_PORT_MAX == XC_VCHAN_PATH_BUF - sizeof(VCHAN_PATH_AROUND_PORT),
	       "XC_VCHAN_PORT_MAX is what libxenvchan's buffer leaves for a port");
_Static_assert(XC_SUN_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "XC_SUN_PATH_MAX is sun_path's size");
_Static_assert(XC_DIRECT_MAX_DEVID + 1 == 10, "config-devid's description says devid 10");

/* The session: what the cross-domain rules remember. */
struct use {
	const struct xc_chan *ch;
	const struct xc_domcfg *cfg;
	struct use *next; /* every use of the session, to free them */
};

/* A name xc_lint_vchan() copied. */
struct kept {
	struct kept *next;
	char name[];
};

struct xc_lint {
	struct xc_registry *reg;
	struct xc_diags *d;
	struct xc_strmap *paths; /* socket path -> struct use */
	struct xc_strmap *names; /* name -> struct use (its first use) */
	struct xc_strmap *noted; /* names given the name-vchan-port note */
	struct use *uses; /* owned */
	struct kept *kept; /* owned */
	bool vchan_all; /* name-vchan-port on every name, not only vchan uses */
	enum xc_xl_first xl_first; /* of the Xen the xl configs are for */
	char xen[XC_XENVER_TEXT_MAX]; /* its version, "" when not known */
};

int xc_lint_new(struct xc_registry *reg, struct xc_diags *d, struct xc_lint **out)
{
	struct xc_lint *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->reg = reg;
	l->d = d;
	l->paths = xc_strmap_new();
	l->names = xc_strmap_new();
	l->noted = xc_strmap_new();
	if (!l->paths || !l->names || !l->noted) {
		xc_lint_free(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

void xc_lint_free(struct xc_lint *l)
{
	if (!l)
		return;
	xc_strmap_free(l->paths);
	xc_strmap_free(l->names);
	xc_strmap_free(l->noted);
	while (l->uses) {
		struct use *u = l->uses;

		l->uses = u->next;
		free(u);
	}
	while (l->kept) {
		struct kept *k = l->kept;

		l->kept = k->next;
		free(k);
	}
	free(l);
}

#define ESC(s) xc_diags_esc(l->d, (s), XC_DIAG_TEXT_MAX)
#define ESC_PATH(s) xc_diags_esc(l->d, (s), XC_VALUE_MAX)

static bool syntax_breaker(unsigned char c)
{
	return c == ',' || c == '=' || c == '"' || c == '\'' || c == ' ' || c == '\t' ||
	       c == '\n' || c == '\r' || c == '\v' || c == '\f' || c < 0x20 || c == 0x7f;
}

void xc_lint_vchan_notes(struct xc_lint *l, bool all)
{
	l->vchan_all = all;
}

void xc_lint_xen(struct xc_lint *l, const struct xc_xenver *v)
{
	l->xl_first = xc_xenver_xl_first(v);
	snprintf(l->xen, sizeof(l->xen), "%s", v ? v->text : "");
}

/* The name-vchan-port note: once per name, not per use. */
static void vchan_port_note(struct xc_lint *l, const char *name, struct xc_loc loc)
{
	size_t n = strlen(name);

	if (n > XC_VCHAN_PORT_MAX && xc_strmap_add(l->noted, name, NULL, NULL) == 0)
		xc_diag(l->d, XC_R_NAME_VCHAN_PORT, loc,
			"channel name '%s' is %zu bytes: a vchan port holds %d with 5-digit "
			"domids, so a vchan endpoint for it uses a derived short port",
			ESC(name), n, XC_VCHAN_PORT_MAX);
}

void xc_lint_vchan(struct xc_lint *l, const char *name, struct xc_loc loc)
{
	struct kept *k;

	if (strlen(name) <= XC_VCHAN_PORT_MAX || xc_strmap_get(l->noted, name))
		return;
	k = malloc(sizeof(*k) + strlen(name) + 1);
	if (!k) {
		l->d->oom = true;
		return;
	}
	strcpy(k->name, name);
	k->next = l->kept;
	l->kept = k;
	vchan_port_note(l, k->name, loc);
}

void xc_lint_name(struct xc_lint *l, const char *name, struct xc_loc loc)
{
	size_t n = strlen(name), labels = 0;
	const char *p, *last = name;

	for (p = name; *p; p++) {
		if (syntax_breaker((unsigned char)*p)) {
			char bad[] = { *p, '\0' };

			xc_diag(l->d, XC_R_NAME_SYNTAX, loc,
				"channel name '%s' holds '%s' (offset %zu), which breaks xl's "
				"key=value list",
				ESC(name), xc_diags_esc(l->d, bad, sizeof(bad)),
				(size_t)(p - name));
			return;
		}
	}
	if (n == 0) {
		xc_diag(l->d, XC_R_NAME_SHAPE, loc, "empty channel name");
		return;
	}
	if (n > XC_NAME_MAX)
		xc_diag(l->d, XC_R_NAME_TOO_LONG, loc,
			"channel name '%s' is %zu bytes, more than %d", ESC(name), n,
			XC_NAME_MAX);
	for (p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t len = (size_t)(p - last);
			const char *why = NULL;

			if (len == 0)
				why = "an empty label";
			else if (last[0] == '-' || last[len - 1] == '-')
				why = "a label starting or ending with '-'";
			for (size_t i = 0; !why && i < len; i++) {
				char c = last[i];

				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				      c == '-'))
					why = c >= 'A' && c <= 'Z'
						      ? "an upper-case letter (labels are [a-z0-9-])"
						      : "a character outside [a-z0-9-.]";
			}
			if (why) {
				xc_diag(l->d, XC_R_NAME_SHAPE, loc,
					"channel name '%s' is not reverse-domain: %s", ESC(name),
					why);
				return;
			}
			labels++;
			if (!*p)
				break;
			last = p + 1;
		}
	}
	if (labels < 2) {
		xc_diag(l->d, XC_R_NAME_SHAPE, loc,
			"channel name '%s' is not reverse-domain: one label, want at least two "
			"(org.example.agent.0)",
			ESC(name));
		return;
	}
	if (!xc_name_is_placeholder(name) && !xc_label_is_version(last, strlen(last)))
		xc_diag(l->d, XC_R_NAME_VERSION, loc,
			"channel name '%s' has no version label: end it in a number, vN or "
			"versionN (%s.0)",
			ESC(name), ESC(name));
	/* Most names are longer than a port: a note only where it matters. */
	if (l->vchan_all)
		vchan_port_note(l, name, loc);
}

/* An email-looking token (x@y.z) or a URL (scheme://...) in s. */
static bool has_address(const char *s)
{
	const char *at, *p;

	for (at = strchr(s, '@'); at; at = strchr(at + 1, '@')) {
		const char *dot = at + 1;
		size_t host = strcspn(dot, " \t<>(),;");

		if (at > s && !strchr(" \t<(,;", at[-1]) && host >= 3 &&
		    memchr(dot, '.', host) && dot[0] != '.' && dot[host - 1] != '.')
			return true;
	}
	for (p = strstr(s, "://"); p; p = strstr(p + 1, "://")) {
		const char *q = p;

		while (q > s && ((q[-1] >= 'a' && q[-1] <= 'z') || (q[-1] >= 'A' && q[-1] <= 'Z')))
			q--;
		if (q < p && p[3] && p[3] != ' ')
			return true;
	}
	return false;
}

void xc_lint_registry(struct xc_lint *l, size_t from)
{
	size_t n;

	if (!l->reg)
		return;
	n = xc_registry_count(l->reg);
	for (size_t i = from; i < n; i++) {
		const struct xc_reg_entry *e = xc_registry_entry(l->reg, i);
		const struct xc_reg_entry *first;

		if (!e->name) /* registry-malformed, from the parser */
			continue;
		xc_lint_name(l, e->name, e->name_loc);
		first = xc_registry_find(l->reg, e->name);
		if (first && first != e)
			xc_diag(l->d, XC_R_REG_DUPLICATE, e->name_loc,
				"'%s' is already registered at %s", ESC(e->name),
				xc_diags_where(l->d, first->name_loc));
		if (!e->contact)
			xc_diag(l->d, XC_R_REG_NO_CONTACT, e->loc,
				"record of '%s' has no C: (contact)", ESC(e->name));
		else if (!has_address(e->contact))
			xc_diag(l->d, XC_R_REG_CONTACT_ADDRESS, e->contact_loc,
				"contact '%s' has no email address or URL", ESC(e->contact));
		if (!e->desc)
			xc_diag(l->d, XC_R_REG_NO_DESCRIPTION, e->loc,
				"record of '%s' has no D: (description)", ESC(e->name));
	}
}

static struct use *new_use(struct xc_lint *l, const struct xc_domcfg *cfg,
			   const struct xc_chan *ch)
{
	struct use *u = malloc(sizeof(*u));

	if (!u)
		return NULL;
	u->ch = ch;
	u->cfg = cfg;
	u->next = l->uses;
	l->uses = u;
	return u;
}

static const char *kind_of(const struct xc_chan *ch)
{
	if (!ch->connection)
		return NULL;
	if (streq(ch->connection, "socket") || streq(ch->connection, "pty"))
		return ch->connection;
	return NULL;
}

static void check_registered(struct xc_lint *l, const struct xc_chan *ch)
{
	const struct xc_reg_entry *near;

	if (!l->reg || xc_registry_count(l->reg) == 0 ||
	    xc_name_is_placeholder(ch->name) || xc_registry_find(l->reg, ch->name))
		return;
	near = xc_registry_near(l->reg, ch->name);
	if (near)
		xc_diag(l->d, XC_R_NEAR_MISS, ch->name_loc,
			"channel name '%s' is not registered; did you mean '%s' (%s)?",
			ESC(ch->name), ESC(near->name), xc_diags_where(l->d, near->name_loc));
	else
		xc_diag(l->d, XC_R_UNREGISTERED, ch->name_loc,
			"channel name '%s' is in no registry", ESC(ch->name));
}

static const char *dom_label(struct xc_lint *l, const struct xc_domcfg *cfg)
{
	if (cfg->domname)
		return ESC(cfg->domname);
	return xc_diags_file_name(l->d, cfg->file);
}

/*
 * Which of two uses that clash a diagnostic goes to: the later one, except
 * that a clash between a file and a running domain is always the file's (it
 * is what is being checked; the running domain is the fact it meets).
 */
static bool reported_at_first(const struct use *first, const struct use *later)
{
	return first->cfg->kind != XC_CFG_LIVE && later->cfg->kind == XC_CFG_LIVE;
}

/*
 * A config and the running domain of the same name are one domain, checked
 * twice (--live with the config of a running guest): its paths and names
 * meet themselves, which is no clash.
 */
static bool same_domain(const struct use *a, const struct use *b)
{
	return (a->cfg->kind == XC_CFG_LIVE) != (b->cfg->kind == XC_CFG_LIVE) &&
	       a->cfg->domname && b->cfg->domname && streq(a->cfg->domname, b->cfg->domname);
}

/* "pty ", "socket " or "": the kind of channel a placeholder makes. */
static const char *kind_word(const struct xc_chan *ch)
{
	const char *k = kind_of(ch);

	return !k ? "" : streq(k, "pty") ? "pty " : "socket ";
}

/*
 * Whether the first entry of cfg is a placeholder: a placeholder's name
 * (xc_name_is_placeholder()), or a name the list uses again (the real entry
 * after the one xl drops).  *again is that later entry, or NULL.
 */
static bool first_is_placeholder(const struct xc_domcfg *cfg,
				 const struct xc_chan **again)
{
	const char *name = cfg->n > 0 ? cfg->ch[0].name : NULL;

	*again = NULL;
	if (!name)
		return false;
	if (xc_name_is_placeholder(name))
		return true;
	for (size_t i = 1; i < cfg->n; i++)
		if (cfg->ch[i].name && streq(cfg->ch[i].name, name)) {
			*again = &cfg->ch[i];
			return true;
		}
	return false;
}

/* The end of the unknown-version note: what would decide. */
#define UNKNOWN_END(l)                                                      \
	*(l)->xen ? "Xen " : "", (l)->xen,                                  \
		*(l)->xen ? " does not say which: give --xen-version X.Y.Z" \
			  : "the Xen version is not known: give --xen-version"

/* What the Xen version says about an xl config's first channel entry. */
static void xl_first_entry(struct xc_lint *l, const struct xc_domcfg *cfg,
			   bool placeholder, const struct xc_chan *again)
{
	const struct xc_chan *ch = &cfg->ch[0];
	const char *at = again ? xc_diags_where(l->d, again->name_loc) : "";
	const char *at_open = again ? " (its name is used again at " : "";
	const char *at_close = again ? ")" : "";

	switch (l->xl_first) {
	case XC_XL_FIRST_AFFECTED:
		if (!placeholder)
			xc_diag(l->d, XC_R_CFG_XL_FIRST_DROPPED, ch->loc,
				"Xen %s's xl drops the first channel entry (it gets devid 0, "
				"the primary console; fixed in " XC_XL_FIRST_FIXED_TEXT
				"); add a placeholder first entry such as \"connection=pty, "
				"name=org.example.dummy\"",
				l->xen);
		break;
	case XC_XL_FIRST_FIXED:
		if (placeholder)
			xc_diag(l->d, XC_R_CFG_PLACEHOLDER_EXTRA, ch->loc,
				"Xen %s's xl keeps the first channel entry: placeholder "
				"'%s'%s%s%s is an extra %schannel (devid 1) in the guest; "
				"remove it (the workaround is for xl of Xen "
				XC_XL_FIRST_AFFECTED_TEXT " only)",
				l->xen, ESC(ch->name), at_open, at, at_close,
				kind_word(ch));
		break;
	case XC_XL_FIRST_UNKNOWN:
		if (placeholder)
			xc_diag(l->d, XC_R_CFG_XL_FIRST_UNKNOWN, ch->loc,
				"placeholder first entry '%s'%s%s%s works around xl of Xen "
				XC_XL_FIRST_AFFECTED_TEXT ", which drops the first channel "
				"entry; xl of " XC_XL_FIRST_FIXED_TEXT " keeps it as an extra "
				"%schannel (devid 1), to be removed there; %s%s%s",
				ESC(ch->name), at_open, at, at_close, kind_word(ch),
				UNKNOWN_END(l));
		else
			xc_diag(l->d, XC_R_CFG_XL_FIRST_UNKNOWN, ch->loc,
				"xl of Xen " XC_XL_FIRST_AFFECTED_TEXT " drops the first "
				"channel entry (it gets devid 0, the primary console) and "
				"needs a placeholder first entry such as \"connection=pty, "
				"name=org.example.dummy\"; xl of " XC_XL_FIRST_FIXED_TEXT
				" keeps it, and a placeholder would be an extra channel; "
				"%s%s%s",
				UNKNOWN_END(l));
		break;
	}
}

/* A placeholder that is created: an extra channel in the guest. */
static void extra_placeholder(struct xc_lint *l, const struct xc_domcfg *cfg,
			      const struct xc_chan *ch, unsigned devid)
{
	switch (cfg->kind) {
	case XC_CFG_XL:
		xc_diag(l->d, XC_R_CFG_PLACEHOLDER_EXTRA, ch->loc,
			"placeholder '%s' is not the first channel entry, so xl creates it "
			"on every Xen: an extra %schannel (devid %u) in the guest; remove it",
			ESC(ch->name), kind_word(ch), devid);
		break;
	case XC_CFG_LIBVIRT:
		xc_diag(l->d, XC_R_CFG_PLACEHOLDER_EXTRA, ch->loc,
			"libvirt's libxl driver creates every channel on every Xen (the "
			"first-channel bug is xl's alone): placeholder '%s' is an extra "
			"%schannel (devid %u) in the guest; remove it",
			ESC(ch->name), kind_word(ch), devid);
		break;
	case XC_CFG_LIVE:
		xc_diag(l->d, XC_R_CFG_PLACEHOLDER_EXTRA, ch->loc,
			"channel '%s' is a placeholder the toolstack created: an extra "
			"%schannel in the guest (xl drops a first placeholder entry only on "
			"Xen " XC_XL_FIRST_AFFECTED_TEXT "); remove it from the domain's "
			"config",
			ESC(ch->name), kind_word(ch));
		break;
	}
}

void xc_lint_domain(struct xc_lint *l, const struct xc_domcfg *cfg)
{
	_cleanup_(xc_strmap_freep) struct xc_strmap *seen = xc_strmap_new();
	bool xl = cfg->kind == XC_CFG_XL, placeholder0, gone0;
	/* An affected xl numbers the entries from 0, the one it drops. */
	bool from0 = xl && l->xl_first == XC_XL_FIRST_AFFECTED;
	bool either = xl && l->xl_first == XC_XL_FIRST_UNKNOWN;
	const struct xc_chan *again;

	if (!seen) {
		l->d->oom = true;
		return;
	}
	placeholder0 = first_is_placeholder(cfg, &again);
	/*
	 * The entry xl drops is not there to clash with the others: on an
	 * affected xl, and, the version not known, when it is a placeholder
	 * meant to be dropped (xl_first_entry() says what it is on a fixed xl).
	 * Its own form is still checked: xl parses it.
	 */
	gone0 = xl && cfg->n > 0 && (from0 || (either && placeholder0));
	if (xl && cfg->n > 0)
		xl_first_entry(l, cfg, placeholder0, again);
	for (size_t i = 0; i < cfg->n; i++) {
		const struct xc_chan *ch = &cfg->ch[i];
		const char *kind = kind_of(ch);
		bool gone = gone0 && i == 0;
		unsigned devid = from0 ? ch->devid - 1 : ch->devid;
		void *old = NULL;
		struct use *u;

		if (!ch->name) {
			xc_diag(l->d, XC_R_CFG_MISSING_NAME, ch->loc, "channel has no name");
		} else {
			xc_lint_name(l, ch->name, ch->name_loc);
			if (gone) {
				/* A placeholder's real entry is checked where it is. */
				if (!placeholder0)
					check_registered(l, ch);
			} else if (xc_strmap_add(seen, ch->name, (void *)ch, &old) == 1) {
				xc_diag(l->d, XC_R_CFG_DUPLICATE_NAME, ch->name_loc,
					"channel name '%s' is used twice in domain %s (also at %s)",
					ESC(ch->name), dom_label(l, cfg),
					xc_diags_where(l->d, ((struct xc_chan *)old)->name_loc));
			} else {
				check_registered(l, ch);
			}
			/* xl_first_entry() speaks of an xl config's first entry. */
			if (xc_name_is_placeholder(ch->name) && (!xl || i > 0))
				extra_placeholder(l, cfg, ch, devid);
		}
		/* A live channel's connection is not always recorded. */
		if (!ch->connection && cfg->kind != XC_CFG_LIVE)
			xc_diag(l->d, XC_R_CFG_CONNECTION, ch->loc,
				"channel has no connection: say connection=socket or "
				"connection=pty");
		else if (ch->connection && !kind)
			xc_diag(l->d, XC_R_CFG_CONNECTION, ch->conn_loc,
				"connection '%s' is not socket or pty", ESC(ch->connection));
		if (kind && streq(kind, "socket") && !ch->path)
			xc_diag(l->d, XC_R_CFG_SOCKET_NO_PATH, ch->loc,
				"socket channel has no path");
		if (kind && streq(kind, "pty") && ch->path)
			xc_diag(l->d, XC_R_CFG_PTY_PATH, ch->path_loc,
				"pty channel has a path ('%s'), which is ignored",
				ESC_PATH(ch->path));
		if (ch->path && (!kind || streq(kind, "socket"))) {
			size_t plen = strlen(ch->path);

			if (ch->path[0] != '/')
				xc_diag(l->d, XC_R_CFG_PATH_RELATIVE, ch->path_loc,
					"socket path '%s' is relative",
					ESC_PATH(ch->path));
			if (plen >= XC_SUN_PATH_MAX)
				xc_diag(l->d, XC_R_CFG_PATH_LENGTH, ch->path_loc,
					"socket path is %zu bytes: sun_path holds %d with the NUL",
					plen, XC_SUN_PATH_MAX - 1);
			u = gone ? NULL : new_use(l, cfg, ch);
			if (!gone && !u) {
				l->d->oom = true;
			} else if (u && xc_strmap_add(l->paths, ch->path, u, &old) == 1 &&
				   !same_domain(old, u)) {
				const struct use *at = old, *other = u;

				/* At the file being checked, not the running domain. */
				if (reported_at_first(at, u)) {
					at = u;
					other = old;
				}
				xc_diag(l->d, XC_R_CFG_PATH_CLASH, other->ch->path_loc,
					"socket path '%s' is also used by %sdomain %s (%s)",
					ESC_PATH(ch->path),
					at->cfg->kind == XC_CFG_LIVE ? "running " : "",
					dom_label(l, at->cfg), xc_diags_where(l->d, at->ch->path_loc));
			}
		}
		if (devid > XC_DIRECT_MAX_DEVID && either)
			xc_diag(l->d, XC_R_CFG_DEVID, ch->loc,
				"channel gets devid %u (%u with xl of Xen "
				XC_XL_FIRST_AFFECTED_TEXT "): Linux hvc_xen takes the device "
				"number from the last character of the node name and cannot "
				"use it",
				devid, devid - 1);
		else if (devid > XC_DIRECT_MAX_DEVID)
			xc_diag(l->d, XC_R_CFG_DEVID, ch->loc,
				"channel gets devid %u: Linux hvc_xen takes the device number "
				"from the last character of the node name and cannot use it",
				devid);
		if (ch->name && kind && !xc_name_is_placeholder(ch->name) && !gone) {
			u = new_use(l, cfg, ch);
			if (!u) {
				l->d->oom = true;
			} else if (xc_strmap_add(l->names, ch->name, u, &old) == 1) {
				const struct use *at = old, *other = u;

				if (reported_at_first(at, u)) {
					at = u;
					other = old;
				}
				if (at->cfg != other->cfg && !same_domain(at, other) &&
				    !streq(kind_of(at->ch), kind_of(other->ch)))
					xc_diag(l->d, XC_R_NAME_MEANING, other->ch->name_loc,
						"channel name '%s' is a %s channel here but a %s "
						"channel in %sdomain %s (%s): one name should mean "
						"one protocol with one kind of dom0 peer",
						ESC(ch->name), kind_of(other->ch), kind_of(at->ch),
						at->cfg->kind == XC_CFG_LIVE ? "running " : "",
						dom_label(l, at->cfg),
						xc_diags_where(l->d, at->ch->name_loc));
			}
		}
	}
}
