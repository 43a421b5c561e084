/* fpset.c: see fpset.h. */
#include "config.h"

#include <stdlib.h>

#include "fpset.h"

/* FNV-1a 64, then a finaliser (splitmix64) so the low bits index well. */
static uint64_t fingerprint(const char *k, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}

static void put(uint64_t *slots, size_t cap, uint64_t h)
{
	size_t i = h & (cap - 1);

	while (slots[i] && slots[i] != h)
		i = (i + 1) & (cap - 1);
	slots[i] = h;
}

/* Keep it at most half full. */
static bool grow(struct fpset *s)
{
	if (2 * (s->n + 1) <= s->cap)
		return true;
	size_t cap = s->cap ? 2 * s->cap : 1024;
	uint64_t *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return false;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			put(slots, cap, s->slots[i]);
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return true;
}

bool fpset_add(struct fpset *s, const char *key, size_t len, bool *oom)
{
	uint64_t h = fingerprint(key, len);

	*oom = false;
	if (!grow(s)) {
		*oom = true;
		return false;
	}
	size_t i = h & (s->cap - 1);
	while (s->slots[i]) {
		if (s->slots[i] == h)
			return false;
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = h;
	s->n++;
	return true;
}

bool fpset_has(const struct fpset *s, const char *key, size_t len)
{
	if (!s->cap)
		return false;
	uint64_t h = fingerprint(key, len);
	for (size_t i = h & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == h)
			return true;
	return false;
}

void fpset_free(struct fpset *s)
{
	free(s->slots);
	s->slots = NULL;
	s->n = s->cap = 0;
}
