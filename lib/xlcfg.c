/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "untrusted.h"
#include "xlcfg.h"

enum tok { T_EOF, T_NL, T_SEMI, T_EQ, T_PLUSEQ, T_LBRACK, T_RBRACK, T_COMMA, T_WORD, T_STR };

struct token {
	enum tok t;
	struct xc_loc loc;
	size_t start, end; /* raw extent in the buffer */
};

struct parser {
	const char *buf;
	size_t len, pos;
	unsigned line, col;
	struct xc_diags *d;
	unsigned file;
	struct xc_domcfg *cfg;
	struct token tok; /* the current token */
	bool failed;      /* a syntax error was reported: stop */
	bool oom;
};

/* Lists nest (libxlu allows it); this deep is no config. */
#define MAX_DEPTH 16

static void syntax(struct parser *p, struct xc_loc loc, const char *what)
{
	if (p->failed)
		return;
	xc_diag(p->d, XC_R_CFG_SYNTAX, loc, "%s", what);
	p->failed = true;
}

static void advance(struct parser *p)
{
	if (p->buf[p->pos] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->pos++;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/*
 * What follows a value can follow the string that ends at p->pos: blanks,
 * then the end of the line or of the file, a comment, ',', ']' or ';'.
 */
static bool ends_value(const struct parser *p)
{
	size_t i = p->pos;

	while (i < p->len && (p->buf[i] == ' ' || p->buf[i] == '\t' || p->buf[i] == '\r'))
		i++;
	return i >= p->len || strchr("\n#,];", p->buf[i]);
}

/* Read the next token into p->tok; a lexical error is reported and gives T_EOF. */
static void next(struct parser *p)
{
	struct token *t = &p->tok;

	for (;;) {
		if (p->pos >= p->len)
			break;
		char c = p->buf[p->pos];

		if (c == ' ' || c == '\t' || c == '\r') {
			advance(p);
		} else if (c == '#') {
			while (p->pos < p->len && p->buf[p->pos] != '\n')
				advance(p);
		} else {
			break;
		}
	}
	t->loc = (struct xc_loc){ p->file, p->line, p->col };
	t->start = p->pos;
	if (p->failed || p->pos >= p->len) {
		t->t = T_EOF;
		t->end = p->pos;
		return;
	}
	char c = p->buf[p->pos];

	switch (c) {
	case '\n':
		t->t = T_NL;
		advance(p);
		break;
	case ';':
		t->t = T_SEMI;
		advance(p);
		break;
	case '=':
		t->t = T_EQ;
		advance(p);
		break;
	case '[':
		t->t = T_LBRACK;
		advance(p);
		break;
	case ']':
		t->t = T_RBRACK;
		advance(p);
		break;
	case ',':
		t->t = T_COMMA;
		advance(p);
		break;
	case '+':
		if (p->pos + 1 < p->len && p->buf[p->pos + 1] == '=') {
			t->t = T_PLUSEQ;
			advance(p);
			advance(p);
			break;
		}
		syntax(p, t->loc, "unexpected '+' (want += or a value)");
		t->t = T_EOF;
		return;
	case '"':
	case '\'':
		advance(p);
		while (p->pos < p->len && p->buf[p->pos] != c) {
			if (p->buf[p->pos] == '\0')
				break;
			if (p->buf[p->pos] == '\\' && p->pos + 1 < p->len)
				advance(p);
			advance(p);
		}
		if (p->pos >= p->len || p->buf[p->pos] != c) {
			syntax(p, t->loc, p->pos < p->len ? "NUL byte in a string"
							  : "string not terminated");
			t->t = T_EOF;
			return;
		}
		advance(p);
		t->t = T_STR;
		if (p->line != t->loc.line && !ends_value(p)) {
			char what[96];

			/* A string may span lines, so a quote left open pairs with
			 * the next one, lines later; text right after that quote
			 * gives it away.  Report the quote that was left open. */
			snprintf(what, sizeof(what),
				 "string not terminated (the quote on line %u does not end it)",
				 p->line);
			syntax(p, t->loc, what);
			t->t = T_EOF;
			return;
		}
		break;
	default:
		if (word_char(c)) {
			while (p->pos < p->len && word_char(p->buf[p->pos]))
				advance(p);
			t->t = T_WORD;
			break;
		}
		syntax(p, t->loc,
		       c == '\0' ? "NUL byte in the config"
				 : "unexpected character (want a setting, a value, a string or #)");
		t->t = T_EOF;
		return;
	}
	t->end = p->pos;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The text of string token t with its escapes resolved, and the location of
 * each of its bytes (one more for the closing quote).  Returns false after
 * reporting a bad escape, or on allocation failure (p->oom).
 */
static bool decode(struct parser *p, const struct token *t, char **out, struct xc_loc **locs)
{
	size_t n = t->end - t->start;
	char *s = malloc(n + 1);
	struct xc_loc *l = malloc((n + 1) * sizeof(*l));
	unsigned line = t->loc.line, col = t->loc.col + 1;
	size_t i = t->start + 1, k = 0;

	if (!s || !l) {
		free(s);
		free(l);
		p->oom = true;
		return false;
	}
	while (i < t->end - 1) {
		struct xc_loc here = { p->file, line, col };
		char c = p->buf[i];
		size_t used = 1;

		if (c == '\\') {
			char e = p->buf[i + 1];
			int v = -1;

			used = 2;
			switch (e) {
			case '\\': case '\'': case '"': v = e; break;
			case 'a': v = '\a'; break;
			case 'b': v = '\b'; break;
			case 'f': v = '\f'; break;
			case 'n': v = '\n'; break;
			case 'r': v = '\r'; break;
			case 't': v = '\t'; break;
			case 'v': v = '\v'; break;
			case 'x':
				if (i + 3 < t->end && hexval(p->buf[i + 2]) >= 0 &&
				    hexval(p->buf[i + 3]) >= 0) {
					v = hexval(p->buf[i + 2]) * 16 + hexval(p->buf[i + 3]);
					used = 4;
				}
				break;
			default:
				if (e >= '0' && e <= '7') {
					v = 0;
					used = 1;
					while (used < 4 && i + used < t->end - 1 &&
					       p->buf[i + used] >= '0' && p->buf[i + used] <= '7')
						v = v * 8 + (p->buf[i + used++] - '0');
					v &= 0xff;
				}
			}
			if (v < 0) {
				syntax(p, here, "invalid escape in a string");
				free(s);
				free(l);
				return false;
			}
			c = (char)v;
		}
		if (c == '\0') {
			syntax(p, here, "a string escape makes a NUL byte");
			free(s);
			free(l);
			return false;
		}
		s[k] = c;
		l[k++] = here;
		for (size_t j = 0; j < used; j++, i++) {
			if (p->buf[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
	}
	s[k] = '\0';
	l[k] = (struct xc_loc){ p->file, line, col };
	*out = s;
	*locs = l;
	return true;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s[0..len) is word. */
static bool is_word(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strneq(s, word, len);
}

static char *span(const char *s, size_t a, size_t b)
{
	return strndup(s + a, b - a);
}

/* One channel spec, xl's way: "key=value, key=value". */
static void channel_spec(struct parser *p, const struct token *t)
{
	_cleanup_free_ char *s = NULL;
	_cleanup_free_ struct xc_loc *locs = NULL;
	struct xc_chan *ch;
	size_t i = 0, n;

	if (!decode(p, t, &s, &locs))
		return;
	ch = xc_domcfg_add(p->cfg);
	if (!ch) {
		p->oom = true;
		return;
	}
	ch->loc = ch->name_loc = ch->conn_loc = ch->path_loc = t->loc;
	n = strlen(s);
	while (i <= n) {
		size_t end = i + strcspn(s + i, ","), a = i, b = end, eq, ka, kb, va;

		i = end + 1;
		while (a < b && blank(s[a]))
			a++;
		while (b > a && blank(s[b - 1]))
			b--;
		if (a == b)
			continue;
		eq = a;
		while (eq < b && s[eq] != '=')
			eq++;
		if (eq == b) {
			_cleanup_free_ char *item = span(s, a, b);

			xc_diag(p->d, XC_R_CFG_UNKNOWN_KEY, locs[a],
				"'%s' in a channel spec is not KEY=VALUE",
				xc_diags_esc(p->d, item ? item : "?", XC_DIAG_ITEM_MAX));
			continue;
		}
		ka = a;
		kb = eq;
		while (kb > ka && blank(s[kb - 1]))
			kb--;
		va = eq + 1;
		while (va < b && blank(s[va]))
			va++;

		char **field = NULL;
		struct xc_loc *floc = NULL;
		size_t kl = kb - ka;
		const char *k = s + ka;

		if (is_word(k, kl, "name")) {
			field = &ch->name;
			floc = &ch->name_loc;
		} else if (is_word(k, kl, "connection")) {
			field = &ch->connection;
			floc = &ch->conn_loc;
		} else if (is_word(k, kl, "kind")) {
			field = &ch->connection;
			floc = &ch->conn_loc;
			xc_diag(p->d, XC_R_CFG_KIND_ALIAS, locs[ka],
				"kind= is the spelling of Xen's channel document; xl reads "
				"connection=");
		} else if (is_word(k, kl, "path")) {
			field = &ch->path;
			floc = &ch->path_loc;
		} else if (is_word(k, kl, "backend")) {
			continue;
		} else {
			_cleanup_free_ char *key = span(s, ka, kb);

			xc_diag(p->d, XC_R_CFG_UNKNOWN_KEY, locs[ka],
				"unknown key '%s' in a channel spec (known: connection, name, "
				"path, backend)",
				xc_diags_esc(p->d, key ? key : "?", XC_DIAG_KEY_MAX));
			continue;
		}
		free(*field);
		*field = span(s, va, b);
		if (!*field) {
			p->oom = true;
			return;
		}
		*floc = locs[va];
	}
}

static void parse_value(struct parser *p, int depth, bool channel, bool name);

/* A list; p->tok is its '['. */
static void parse_list(struct parser *p, int depth, bool channel)
{
	struct xc_loc open = p->tok.loc;

	if (depth >= MAX_DEPTH) {
		syntax(p, open, "lists nested too deep");
		return;
	}
	next(p);
	for (;;) {
		while (p->tok.t == T_NL)
			next(p);
		if (p->failed)
			return;
		if (p->tok.t == T_RBRACK) {
			next(p);
			return;
		}
		if (p->tok.t == T_EOF) {
			syntax(p, open, "list not closed (missing ']')");
			return;
		}
		parse_value(p, depth + 1, channel, false);
		if (p->failed)
			return;
		while (p->tok.t == T_NL)
			next(p);
		if (p->failed)
			return;
		if (p->tok.t == T_EOF) {
			syntax(p, open, "list not closed (missing ']')");
			return;
		}
		if (p->tok.t == T_COMMA) {
			next(p);
		} else if (p->tok.t != T_RBRACK) {
			syntax(p, p->tok.loc, "expected ',' or ']' in a list");
			return;
		}
	}
}

/* A value; p->tok is its first token.  Leaves p->tok after it. */
static void parse_value(struct parser *p, int depth, bool channel, bool name)
{
	struct token t = p->tok;

	switch (t.t) {
	case T_STR:
		if (channel && depth == 0) {
			syntax(p, t.loc, "channel must be a list: channel = [ \"...\" ]");
			return;
		}
		if (channel && depth == 1)
			channel_spec(p, &t);
		if (!(channel && depth == 1)) {
			/* Decoded to check its escapes; only the name is kept. */
			_cleanup_free_ struct xc_loc *locs = NULL;
			char *s = NULL;

			if (!decode(p, &t, &s, &locs))
				return;
			if (name && depth == 0) {
				free(p->cfg->domname);
				p->cfg->domname = s;
			} else {
				free(s);
			}
		}
		next(p);
		return;
	case T_WORD:
		if (channel) {
			syntax(p, t.loc, depth == 0 ? "channel must be a list of strings"
						    : "a channel spec must be a string");
			return;
		}
		next(p);
		return;
	case T_LBRACK:
		if (channel && depth >= 1) {
			syntax(p, t.loc, "a channel spec must be a string, not a list");
			return;
		}
		parse_list(p, depth, channel);
		return;
	default:
		syntax(p, t.loc, "expected a value (a string, a number or a list)");
		return;
	}
}

int xc_xlcfg_parse(struct xc_diags *d, unsigned file, const char *buf, size_t len,
		   struct xc_domcfg *cfg)
{
	struct parser p = {
		.buf = buf, .len = len, .line = 1, .col = 1, .d = d, .file = file, .cfg = cfg,
	};

	cfg->kind = XC_CFG_XL;
	cfg->file = file;
	next(&p);
	while (!p.failed && !p.oom) {
		struct token key;
		bool channel, name;

		while (p.tok.t == T_NL || p.tok.t == T_SEMI)
			next(&p);
		if (p.tok.t == T_EOF)
			break;
		if (p.tok.t != T_WORD) {
			syntax(&p, p.tok.loc, "expected a setting (KEY = VALUE)");
			break;
		}
		key = p.tok;
		channel = is_word(buf + key.start, key.end - key.start, "channel");
		name = is_word(buf + key.start, key.end - key.start, "name");
		next(&p);
		if (p.tok.t != T_EQ && p.tok.t != T_PLUSEQ) {
			syntax(&p, p.tok.loc, "expected '=' or '+=' after the setting's name");
			break;
		}
		/* channel = [...] replaces what came before; += appends. */
		if (channel && p.tok.t == T_EQ) {
			for (size_t i = 0; i < cfg->n; i++) {
				free(cfg->ch[i].name);
				free(cfg->ch[i].connection);
				free(cfg->ch[i].path);
			}
			cfg->n = 0;
		}
		next(&p);
		parse_value(&p, 0, channel, name);
		if (p.failed || p.oom)
			break;
		if (p.tok.t != T_NL && p.tok.t != T_SEMI && p.tok.t != T_EOF) {
			syntax(&p, p.tok.loc, "expected the end of the setting (newline or ';')");
			break;
		}
	}
	return p.oom ? -ENOMEM : 0;
}
