/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

struct slot {
	const char *key;
	void *value;
	uint32_t hash;
};

struct xc_strmap {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t size;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct xc_strmap *xc_strmap_new(void)
{
	struct xc_strmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cap = 16;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void xc_strmap_free(struct xc_strmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static struct slot *find(const struct xc_strmap *m, const char *key, uint32_t h)
{
	size_t i = h & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static int grow(struct xc_strmap *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;

	m->slots = calloc(oldcap * 2, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = oldcap * 2;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].hash) = old[i];
	free(old);
	return 0;
}

int xc_strmap_add(struct xc_strmap *m, const char *key, void *value, void **old)
{
	uint32_t h = hash_str(key);
	struct slot *s = find(m, key, h);

	if (s->key) {
		if (old)
			*old = s->value;
		return 1;
	}
	if ((m->size + 1) * 2 > m->cap) {
		if (grow(m) < 0)
			return -ENOMEM;
		s = find(m, key, h);
	}
	s->key = key;
	s->value = value;
	s->hash = h;
	m->size++;
	return 0;
}

void *xc_strmap_get(const struct xc_strmap *m, const char *key)
{
	const struct slot *s = find(m, key, hash_str(key));

	return s->key ? s->value : NULL;
}
