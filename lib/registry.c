/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "strmap.h"
#include "untrusted.h"

/* A longer run of key characters before ':' is no key but text. */
#define KEY_LEN_MAX 32

/* The near-miss search's largest Levenshtein distance (xc_registry_near()). */
#define NEAR_DISTANCE_MAX 2u

struct xc_registry {
	struct xc_reg_entry *v;
	size_t n, cap;
	struct xc_strmap *byname;  /* name -> first entry index + 1 */
	struct xc_strmap *lower;   /* lower-cased name -> index + 1 (lazy) */
	struct xc_strmap *dropped; /* name less one label -> index + 1 (lazy) */
	char **keys;               /* the strings lower and dropped point to */
	size_t nkeys, keys_cap;
	/* Indexes of the named entries, sorted by name length, for the
	 * Levenshtein prefilter; built lazily. */
	size_t *bylen;
	size_t nbylen;
	bool indexed;
};

int xc_registry_new(struct xc_registry **out)
{
	struct xc_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->byname = xc_strmap_new();
	if (!r->byname) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

static void drop_index(struct xc_registry *r)
{
	xc_strmap_free(r->lower);
	xc_strmap_free(r->dropped);
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->bylen);
	r->lower = r->dropped = NULL;
	r->keys = NULL;
	r->nkeys = r->keys_cap = 0;
	r->bylen = NULL;
	r->nbylen = 0;
	r->indexed = false;
}

void xc_registry_free(struct xc_registry *r)
{
	if (!r)
		return;
	drop_index(r);
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].contact);
		free(r->v[i].desc);
	}
	free(r->v);
	xc_strmap_free(r->byname);
	free(r);
}

size_t xc_registry_count(const struct xc_registry *r)
{
	return r->n;
}

const struct xc_reg_entry *xc_registry_entry(const struct xc_registry *r, size_t i)
{
	return i < r->n ? &r->v[i] : NULL;
}

const struct xc_reg_entry *xc_registry_find(const struct xc_registry *r, const char *name)
{
	uintptr_t i = (uintptr_t)xc_strmap_get(r->byname, name);

	return i ? &r->v[i - 1] : NULL;
}

/* A record being read. */
struct rec {
	struct xc_reg_entry e;
	bool open;     /* a record has started */
	bool skip;     /* the legend: ignore */
	char **field;  /* the field continuation lines go to, or NULL */
	bool bad_text; /* already reported text outside a field */
};

/* Append text (len bytes) to *field, joined with one space. */
static int append(char **field, const char *text, size_t len)
{
	size_t old = *field ? strlen(*field) : 0;
	char *s = realloc(*field, old + len + 2);

	if (!s)
		return -ENOMEM;
	if (old && len)
		s[old++] = ' ';
	memcpy(s + old, text, len);
	s[old + len] = '\0';
	*field = s;
	return 0;
}

static int finish(struct xc_registry *r, struct xc_diags *d, struct rec *rec)
{
	int ret = 0;

	if (!rec->open)
		return 0;
	if (rec->skip) {
		free(rec->e.name);
		free(rec->e.contact);
		free(rec->e.desc);
		goto out;
	}
	if (!rec->e.name)
		xc_diag(d, XC_R_REG_MALFORMED, rec->e.loc, "record has no N: (name)");
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct xc_reg_entry *nv = realloc(r->v, ncap * sizeof(*nv));

		if (!nv) {
			free(rec->e.name);
			free(rec->e.contact);
			free(rec->e.desc);
			ret = -ENOMEM;
			goto out;
		}
		r->v = nv;
		r->cap = ncap;
	}
	r->v[r->n] = rec->e;
	if (rec->e.name &&
	    xc_strmap_add(r->byname, r->v[r->n].name, (void *)(uintptr_t)(r->n + 1), NULL) < 0)
		ret = -ENOMEM;
	r->n++;
	if (r->indexed)
		drop_index(r);
out:
	memset(rec, 0, sizeof(*rec));
	return ret;
}

/* Length of the key at the start of line, or 0 when the line has none. */
static size_t key_len(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && i < KEY_LEN_MAX &&
	       (isalnum((unsigned char)line[i]) || line[i] == '-'))
		i++;
	if (i == 0 || i >= len || line[i] != ':')
		return 0;
	if (i + 1 < len && line[i + 1] != ' ' && line[i + 1] != '\t')
		return 0;
	return i;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int xc_registry_parse(struct xc_registry *r, struct xc_diags *d, unsigned file,
		      const char *buf, size_t len)
{
	struct rec rec = { 0 };
	size_t pos = 0;
	unsigned lineno = 0;
	int ret;

	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		struct xc_loc loc = { file, ++lineno, 1 };
		size_t kl;

		pos += ll + (nl ? 1 : 0);
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (memchr(line, '\0', ll)) {
			xc_diag(d, XC_R_REG_MALFORMED, loc, "line holds a NUL byte");
			continue;
		}
		if (blank(line, ll)) {
			ret = finish(r, d, &rec);
			if (ret < 0)
				return ret;
			continue;
		}
		if (line[0] == '#')
			continue;
		kl = key_len(line, ll);
		if (kl == 0) {
			size_t skip = 0;

			/* A continuation: leading blanks dropped. */
			while (skip < ll && (line[skip] == ' ' || line[skip] == '\t'))
				skip++;
			if (!rec.open) {
				rec.open = true;
				rec.e.loc = loc;
				rec.e.contact_loc = loc;
			}
			if (!rec.field) {
				if (!rec.bad_text && !rec.skip)
					xc_diag(d, XC_R_REG_MALFORMED,
						(struct xc_loc){ file, loc.line, (unsigned)skip + 1 },
						"text outside any field (a field starts with N:, C: "
						"or D:)");
				rec.bad_text = true;
				continue;
			}
			if (append(rec.field, line + skip, ll - skip) < 0)
				return -ENOMEM;
			continue;
		}

		size_t v = kl + 1;
		char **field = NULL;
		struct xc_loc vloc;

		while (v < ll && (line[v] == ' ' || line[v] == '\t'))
			v++;
		vloc = (struct xc_loc){ file, loc.line, (unsigned)v + 1 };
		if (!rec.open) {
			rec.open = true;
			rec.e.loc = loc;
			rec.e.contact_loc = loc;
			if (kl == strlen("Key") && strneq(line, "Key", kl))
				rec.skip = true;
		}
		rec.field = NULL;
		if (rec.skip)
			continue;
		if (kl == 1 && line[0] == 'N') {
			field = &rec.e.name;
			rec.e.name_loc = vloc;
		} else if (kl == 1 && line[0] == 'C') {
			field = &rec.e.contact;
			rec.e.contact_loc = vloc;
		} else if (kl == 1 && line[0] == 'D') {
			field = &rec.e.desc;
		} else {
			_cleanup_free_ char *k = strndup(line, kl);

			xc_diag(d, XC_R_REG_UNKNOWN_KEY, loc, "unknown key '%s' (known: N, C, D)",
				xc_diags_esc(d, k ? k : "?", XC_DIAG_KEY_MAX));
			continue;
		}
		if (*field) {
			xc_diag(d, XC_R_REG_MALFORMED, loc, "field %c: repeated in one record",
				line[0]);
			continue;
		}
		if (v == ll) {
			if (field == &rec.e.name) {
				xc_diag(d, XC_R_REG_MALFORMED, loc, "empty N: (name)");
				continue;
			}
			/* The value may come on continuation lines. */
		}
		if (append(field, line + v, ll - v) < 0)
			return -ENOMEM;
		/* A name is one line: a continuation after N: is outside any field. */
		rec.field = field == &rec.e.name ? NULL : field;
	}
	return finish(r, d, &rec);
}

unsigned xc_levenshtein_max(const char *a, size_t alen, const char *b, size_t blen,
			    unsigned max)
{
	/* Two rows, only the band |i - j| <= max is meaningful. */
	unsigned rows[2][XC_NAME_MAX + 2];
	unsigned *prev = rows[0], *cur = rows[1];
	size_t diff = alen > blen ? alen - blen : blen - alen;

	if (diff > max)
		return max + 1;
	if (alen > XC_NAME_MAX || blen > XC_NAME_MAX)
		return max + 1;
	for (size_t j = 0; j <= blen; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= alen; i++) {
		unsigned best = max + 1;

		cur[0] = (unsigned)i;
		if (cur[0] < best)
			best = cur[0];
		for (size_t j = 1; j <= blen; j++) {
			unsigned v = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (v > max + 1)
				v = max + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
		unsigned *t = prev;

		prev = cur;
		cur = t;
	}
	return prev[blen] > max ? max + 1 : prev[blen];
}

static int keep_key(struct xc_registry *r, char *k)
{
	if (r->nkeys == r->keys_cap) {
		size_t ncap = r->keys_cap ? r->keys_cap * 2 : 256;
		char **nv = realloc(r->keys, ncap * sizeof(*nv));

		if (!nv) {
			free(k);
			return -ENOMEM;
		}
		r->keys = nv;
		r->keys_cap = ncap;
	}
	r->keys[r->nkeys++] = k;
	return 0;
}

static char *lowered(const char *s)
{
	char *l = strdup(s);

	for (char *p = l; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* name with its label i (0-based) removed; NULL when it has no such label
 * or only one label.  Sets *done when i is past the last label. */
static char *drop_label(const char *name, size_t i, bool *done)
{
	const char *start = name, *end;
	size_t n = strlen(name);
	char *out;

	for (size_t k = 0; k < i; k++) {
		start = strchr(start, '.');
		if (!start) {
			*done = true;
			return NULL;
		}
		start++;
	}
	end = strchr(start, '.');
	if (!end && start == name) { /* one label */
		*done = true;
		return NULL;
	}
	out = malloc(n + 1);
	if (!out)
		return NULL;
	if (end) {
		/* drop "label." */
		size_t pre = (size_t)(start - name);

		memcpy(out, name, pre);
		strcpy(out + pre, end + 1);
	} else {
		/* the last label: drop ".label" */
		size_t pre = (size_t)(start - name) - 1;

		memcpy(out, name, pre);
		out[pre] = '\0';
		*done = true;
	}
	return out;
}

static const struct xc_registry *sort_reg;

static int cmp_len(const void *pa, const void *pb)
{
	size_t a = strlen(sort_reg->v[*(const size_t *)pa].name);
	size_t b = strlen(sort_reg->v[*(const size_t *)pb].name);

	return a < b ? -1 : a > b;
}

static int build_index(struct xc_registry *r)
{
	r->lower = xc_strmap_new();
	r->dropped = xc_strmap_new();
	r->bylen = malloc((r->n + 1) * sizeof(*r->bylen));
	if (!r->lower || !r->dropped || !r->bylen)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const char *name = r->v[i].name;
		void *val = (void *)(uintptr_t)(i + 1);
		char *k;
		bool done = false;

		if (!name)
			continue;
		r->bylen[r->nbylen++] = i;
		k = lowered(name);
		if (!k || keep_key(r, k) < 0 || xc_strmap_add(r->lower, k, val, NULL) < 0)
			return -ENOMEM;
		for (size_t li = 0; !done; li++) {
			k = drop_label(name, li, &done);
			if (!k) {
				if (done)
					break;
				return -ENOMEM;
			}
			if (keep_key(r, k) < 0 || xc_strmap_add(r->dropped, k, val, NULL) < 0)
				return -ENOMEM;
		}
	}
	sort_reg = r;
	qsort(r->bylen, r->nbylen, sizeof(*r->bylen), cmp_len);
	sort_reg = NULL;
	r->indexed = true;
	return 0;
}

bool xc_label_is_version(const char *label, size_t len)
{
	static const char version[] = "version";
	size_t i = 0;

	if (len >= strlen(version) && strneq(label, version, strlen(version)))
		i = strlen(version);
	else if (len >= 1 && label[0] == 'v')
		i = 1;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (label[i] < '0' || label[i] > '9')
			return false;
	return true;
}

/* The words that make a label a placeholder's (xc_name_is_placeholder()). */
static const char *const placeholder_words[] = {
	"dummy", "placeholder", "unused", "reserved", "padding", "filler",
};

/* A label of len bytes, or one of its '-'-separated parts, is such a word. */
static bool placeholder_label(const char *label, size_t len)
{
	const char *end = label + len, *p = label;

	while (p <= end) {
		const char *q = memchr(p, '-', (size_t)(end - p));
		size_t n;

		if (!q)
			q = end;
		n = (size_t)(q - p);
		for (size_t i = 0; i < ARRAY_SIZE(placeholder_words); i++)
			if (n == strlen(placeholder_words[i]) &&
			    strneq(p, placeholder_words[i], n))
				return true;
		p = q + 1;
	}
	return false;
}

bool xc_name_is_placeholder(const char *name)
{
	const char *last = strrchr(name, '.'), *end = name + strlen(name);

	last = last ? last + 1 : name;
	if (placeholder_label(last, (size_t)(end - last)))
		return true;
	/* org.example.dummy.0: a version after the word. */
	if (last == name || !xc_label_is_version(last, (size_t)(end - last)))
		return false;
	end = last - 1;
	for (last = end; last > name && last[-1] != '.'; last--)
		;
	return placeholder_label(last, (size_t)(end - last));
}

/* a and b differ only in a last label that is a version in both. */
static bool other_version(const char *a, const char *b)
{
	const char *da = strrchr(a, '.'), *db = strrchr(b, '.');

	if (!da || !db || da - a != db - b || memcmp(a, b, (size_t)(da - a)) != 0)
		return false;
	return xc_label_is_version(da + 1, strlen(da + 1)) &&
	       xc_label_is_version(db + 1, strlen(db + 1));
}

static const struct xc_reg_entry *entry_at(const struct xc_registry *r, void *v)
{
	return v ? &r->v[(uintptr_t)v - 1] : NULL;
}

const struct xc_reg_entry *xc_registry_near(struct xc_registry *r, const char *name)
{
	size_t n = strlen(name), lo, hi;
	const struct xc_reg_entry *best = NULL;
	unsigned best_d = NEAR_DISTANCE_MAX + 1;
	bool done = false;

	if (r->n == 0 || n == 0 || n > XC_NAME_MAX)
		return NULL;
	if (!r->indexed) {
		if (build_index(r) < 0) {
			drop_index(r);
			return NULL;
		}
	}
	{
		_cleanup_free_ char *l = lowered(name);
		const struct xc_reg_entry *e = l ? entry_at(r, xc_strmap_get(r->lower, l)) : NULL;

		if (e && !streq(e->name, name))
			return e;
	}
	/* A label dropped: the registered name has one label more. */
	{
		const struct xc_reg_entry *e = entry_at(r, xc_strmap_get(r->dropped, name));

		if (e)
			return e;
	}
	/* A label added: the name less one of its labels is registered. */
	for (size_t li = 0; !done; li++) {
		_cleanup_free_ char *k = drop_label(name, li, &done);
		const struct xc_reg_entry *e;

		if (!k)
			break;
		e = xc_registry_find(r, k);
		if (e && !xc_name_is_placeholder(e->name))
			return e;
	}
	/* Levenshtein over the names within NEAR_DISTANCE_MAX bytes of length:
	 * bsearch the first of length n - NEAR_DISTANCE_MAX. */
	lo = 0;
	hi = r->nbylen;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strlen(r->v[r->bylen[mid]].name) + NEAR_DISTANCE_MAX < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < r->nbylen; i++) {
		const struct xc_reg_entry *e = &r->v[r->bylen[i]];
		size_t el = strlen(e->name);
		unsigned dist;

		if (el > n + NEAR_DISTANCE_MAX)
			break;
		dist = xc_levenshtein_max(name, n, e->name, el, NEAR_DISTANCE_MAX);
		if (dist == 0 || dist >= best_d || other_version(name, e->name))
			continue;
		best = e;
		best_d = dist;
		if (dist == 1)
			break;
	}
	return best;
}
