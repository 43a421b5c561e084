#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "seen.h"

void seen_init(struct seen *s, size_t max)
{
	memset(s, 0, sizeof *s);
	s->max = max < 16 ? 16 : max;
	s->floor_us = INT64_MIN;
}

void seen_clear(struct seen *s)
{
	free(s->slot);
	seen_init(s, s->max);
}

static uint64_t key_of(uint64_t id)
{
	return id ? id : 1;
}

static struct seen_slot *probe(const struct seen *s, uint64_t k)
{
	size_t mask = s->cap - 1;

	for (size_t i = k & mask;; i = (i + 1) & mask)
		if (s->slot[i].id == k || s->slot[i].id == 0)
			return &s->slot[i];
}

/* Rebuild the table at `cap` slots, keeping the rows from `keep_from` on. */
static bool rebuild(struct seen *s, size_t cap, int64_t keep_from)
{
	struct seen_slot *old = s->slot;
	size_t old_cap = s->cap;
	struct seen_slot *fresh = calloc(cap, sizeof *fresh);

	if (!fresh)
		return false;
	s->slot = fresh;
	s->cap = cap;
	s->n = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].id && old[i].ts_us >= keep_from) {
			*probe(s, old[i].id) = old[i];
			s->n++;
		}
	}
	free(old);
	return true;
}

/* The time that splits the rows held into an older and a newer half. */
static int64_t median_ts(const struct seen *s)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i].id)
			continue;
		lo = s->slot[i].ts_us < lo ? s->slot[i].ts_us : lo;
		hi = s->slot[i].ts_us > hi ? s->slot[i].ts_us : hi;
	}
	while (lo < hi) {           /* bisect on time: the table is unordered */
		int64_t mid = lo + (hi - lo) / 2;
		if (seen_count(s, INT64_MIN, mid) * 2 >= s->n)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Full: forget the older half and vouch only for what is left. */
static void forget_oldest(struct seen *s)
{
	int64_t cut = median_ts(s) + 1;

	if (cut > s->floor_us)
		s->floor_us = cut;
	rebuild(s, s->cap, cut);
}

bool seen_add(struct seen *s, uint64_t id, int64_t ts_us)
{
	uint64_t k = key_of(id);

	if (s->n + 1 > s->cap / 2) {
		if (s->cap / 2 >= s->max)
			forget_oldest(s);
		else if (!rebuild(s, s->cap ? s->cap * 2 : 64, INT64_MIN))
			return true;
	}
	struct seen_slot *slot = probe(s, k);
	if (slot->id)
		return false;
	slot->id = k;
	slot->ts_us = ts_us;
	s->n++;
	return true;
}

bool seen_has(const struct seen *s, uint64_t id)
{
	return s->cap && probe(s, key_of(id))->id != 0;
}

void seen_prune(struct seen *s, int64_t before_us)
{
	if (s->cap)
		rebuild(s, s->cap, before_us);
}

size_t seen_count(const struct seen *s, int64_t from_us, int64_t to_us)
{
	size_t n = 0;

	for (size_t i = 0; i < s->cap; i++)
		n += s->slot[i].id && s->slot[i].ts_us >= from_us && s->slot[i].ts_us <= to_us;
	return n;
}

uint64_t *seen_ids(const struct seen *s, int64_t from_us, int64_t to_us, size_t *n)
{
	uint64_t *v = malloc((seen_count(s, from_us, to_us) + 1) * sizeof *v);

	*n = 0;
	for (size_t i = 0; v && i < s->cap; i++)
		if (s->slot[i].id && s->slot[i].ts_us >= from_us && s->slot[i].ts_us <= to_us)
			v[(*n)++] = s->slot[i].id;
	return v;
}
