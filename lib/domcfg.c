/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"

void xc_domcfg_clear(struct xc_domcfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->ch[i].name);
		free(c->ch[i].connection);
		free(c->ch[i].path);
	}
	free(c->ch);
	free(c->domname);
	memset(c, 0, sizeof(*c));
}

struct xc_chan *xc_domcfg_add(struct xc_domcfg *c)
{
	struct xc_chan *ch;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4;
		struct xc_chan *v = reallocarray(c->ch, cap, sizeof(*v));

		if (!v)
			return NULL;
		c->ch = v;
		c->cap = cap;
	}
	ch = &c->ch[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->devid = (unsigned)c->n;
	return ch;
}
