/* blockset.c: see blockset.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "blockset.h"
#include "strutil.h"

#define DELETED UINT32_MAX

static size_t key_len(const struct block_entry *e)
{
	return e->key_len ? e->key_len : (e->key_ip ? strlen(e->key_ip) : 0);
}

static int key_cmp(const struct block_entry *a, const struct block_entry *b)
{
	size_t la = key_len(a), lb = key_len(b);
	int c = memcmp(a->key_ip, b->key_ip, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

bool blockset_more_relevant(const struct blockset_item *a, const struct blockset_item *b)
{
	if (a->pinned != b->pinned)
		return a->pinned;
	bool a_forever = a->e.ttl_s == -1, b_forever = b->e.ttl_s == -1;
	if (a_forever != b_forever)
		return a_forever;
	if (a->e.ttl_s != b->e.ttl_s)
		return a->e.ttl_s > b->e.ttl_s;
	return key_cmp(&a->e, &b->e) < 0;
}

void blockset_init(struct blockset *s, size_t max)
{
	memset(s, 0, sizeof *s);
	s->max = max;
}

void blockset_clear(struct blockset *s)
{
	size_t max = s->max;

	for (size_t i = 0; i < s->n; i++)
		block_entry_free(&s->items[i].e);
	free(s->items);
	free(s->heap);
	free(s->slots);
	blockset_init(s, max);
}

/* ------------------------------------------------------------ the heap */

/* The heap's root is the least relevant: "less" is "less relevant". */
static bool heap_less(const struct blockset *s, size_t i, size_t j)
{
	return blockset_more_relevant(&s->items[s->heap[j]], &s->items[s->heap[i]]);
}

static void heap_swap(struct blockset *s, size_t i, size_t j)
{
	uint32_t t = s->heap[i];

	s->heap[i] = s->heap[j];
	s->heap[j] = t;
	s->items[s->heap[i]].pos = i;
	s->items[s->heap[j]].pos = j;
}

static void heap_up(struct blockset *s, size_t i)
{
	while (i > 0 && heap_less(s, i, (i - 1) / 2)) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct blockset *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < s->n && heap_less(s, l, m))
			m = l;
		if (l + 1 < s->n && heap_less(s, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		heap_swap(s, i, m);
		i = m;
	}
}

/* The entry at heap position i changed: move it up or down. */
static void heap_fix(struct blockset *s, size_t i)
{
	uint32_t j = s->heap[i];

	heap_up(s, i);
	heap_down(s, s->items[j].pos);
}

/* ------------------------------------------------------------ the key set */

/* FNV-1a: keys are short, and this only spreads them over the set. */
static uint32_t key_hash(const char *k, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

/* The slot holding key, or NULL (and in *free_at the first reusable slot). */
static uint32_t *set_find(const struct blockset *s, const char *key, size_t len, uint32_t **free_at)
{
	size_t mask = s->n_slots - 1;

	if (free_at)
		*free_at = NULL;
	if (!s->n_slots)
		return NULL;
	for (size_t i = key_hash(key, len) & mask;; i = (i + 1) & mask) {
		uint32_t *p = &s->slots[i];
		if (*p == 0) {
			if (free_at && !*free_at)
				*free_at = p;
			return NULL;
		}
		if (*p == DELETED) {
			if (free_at && !*free_at)
				*free_at = p;
			continue;
		}
		const struct block_entry *e = &s->items[*p - 1].e;
		if (key_len(e) == len && memcmp(e->key_ip, key, len) == 0)
			return p;
	}
}

/* Keep the set at most half full, deleted slots counted: rebuild it. */
static bool set_room(struct blockset *s)
{
	if (2 * (s->n + s->n_deleted + 1) <= s->n_slots)
		return true;
	size_t n = 64;
	while (4 * (s->n + 1) > n)      /* at most a quarter full after */
		n *= 2;
	uint32_t *slots = calloc(n, sizeof *slots);
	if (!slots)
		return false;
	free(s->slots);
	s->slots = slots;
	s->n_slots = n;
	s->n_deleted = 0;
	for (size_t j = 0; j < s->n; j++) {
		uint32_t *at;
		set_find(s, s->items[j].e.key_ip, key_len(&s->items[j].e), &at);
		*at = (uint32_t)j + 1;
	}
	return true;
}

/* ------------------------------------------------------------ offers */

static bool grow(struct blockset *s)
{
	if (s->n < s->cap)
		return true;
	size_t cap = s->cap ? 2 * s->cap : 64;
	if (cap > s->max)
		cap = s->max;
	struct blockset_item *v = realloc(s->items, cap * sizeof *v);
	if (!v)
		return false;
	s->items = v;
	uint32_t *h = realloc(s->heap, cap * sizeof *h);
	if (!h)
		return false;
	s->heap = h;
	s->cap = cap;
	return true;
}

static void drop(struct blockset *s, struct block_entry *e)
{
	block_entry_free(e);
	memset(e, 0, sizeof *e);
	s->dropped++;
}

/* Put e in slot j (its old content already freed). */
static void item_set(struct blockset_item *it, struct block_entry *e, bool pinned)
{
	if (!e->key_len)
		e->key_len = key_len(e);
	it->e = *e;
	it->pinned = pinned;
	memset(e, 0, sizeof *e);
}

enum blockset_result blockset_offer(struct blockset *s, struct block_entry *e, bool pinned)
{
	size_t len = key_len(e);
	uint32_t *at;

	if (s->max == 0 || !set_room(s)) {
		drop(s, e);
		return BLOCKSET_DROPPED;
	}
	uint32_t *p = set_find(s, e->key_ip, len, &at);
	if (p) {                      /* seen again: the newer reading wins */
		struct blockset_item *it = &s->items[*p - 1];
		pinned |= it->pinned;
		block_entry_free(&it->e);
		item_set(it, e, pinned);
		it->from_event = false;
		heap_fix(s, it->pos);
		return BLOCKSET_UPDATED;
	}
	struct blockset_item cand = { .e = *e, .pinned = pinned };
	cand.e.key_len = len;
	if (s->n < s->max && grow(s)) {
		size_t j = s->n++;
		item_set(&s->items[j], e, pinned);
		s->items[j].from_event = false;
		s->items[j].pos = j;
		s->heap[j] = (uint32_t)j;
		*at = (uint32_t)j + 1;
		heap_up(s, j);
		return BLOCKSET_KEPT;
	}
	if (s->n == 0 || !blockset_more_relevant(&cand, &s->items[s->heap[0]])) {
		drop(s, e);
		return BLOCKSET_DROPPED;
	}
	/* replace the least relevant, in its slot */
	uint32_t j = s->heap[0];
	struct blockset_item *old = &s->items[j];
	*set_find(s, old->e.key_ip, key_len(&old->e), NULL) = DELETED;
	s->n_deleted++;
	block_entry_free(&old->e);
	s->dropped++;
	item_set(old, e, pinned);
	old->from_event = false;
	set_find(s, old->e.key_ip, len, &at);
	if (*at == DELETED)
		s->n_deleted--;
	*at = j + 1;
	heap_down(s, 0);
	return BLOCKSET_KEPT;
}

bool blockset_has(const struct blockset *s, const char *key, size_t len)
{
	return set_find(s, key, len, NULL) != NULL;
}

void blockset_mark_event(struct blockset *s, const char *key, size_t len)
{
	uint32_t *p = set_find(s, key, len, NULL);

	if (p)
		s->items[*p - 1].from_event = true;
}

bool blockset_event_marked(const struct blockset *s, const char *key, size_t len)
{
	uint32_t *p = set_find(s, key, len, NULL);

	return p && s->items[*p - 1].from_event;
}

size_t blockset_events_held(const struct blockset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->items[i].from_event;
	return n;
}

bool blockset_remove(struct blockset *s, const char *key, size_t len, bool *was_event)
{
	uint32_t *p = set_find(s, key, len, NULL);

	if (!p)
		return false;
	uint32_t j = *p - 1, last = (uint32_t)s->n - 1;
	if (was_event)
		*was_event = s->items[j].from_event;
	*p = DELETED;
	s->n_deleted++;
	size_t pos = s->items[j].pos;
	/* the heap: the last leaf takes its place */
	heap_swap(s, pos, s->n - 1);
	block_entry_free(&s->items[j].e);
	/* the slots: the last item moves into slot j */
	if (j != last) {
		*set_find(s, s->items[last].e.key_ip, key_len(&s->items[last].e), NULL) = j + 1;
		s->items[j] = s->items[last];
		s->heap[s->items[j].pos] = j;
	}
	s->n--;
	if (pos < s->n)
		heap_fix(s, pos);
	return true;
}

/* ------------------------------------------------------------ the list */

static int cmp_items(const void *pa, const void *pb)
{
	const struct blockset_item *a = pa, *b = pb;

	if (blockset_more_relevant(a, b))
		return -1;
	return blockset_more_relevant(b, a) ? 1 : 0;
}

bool block_entry_copy(struct block_entry *d, const struct block_entry *e)
{
	*d = *e;
	d->key_ip = mem_dup(e->key_ip, key_len(e));
	d->by = e->by ? strdup(e->by) : NULL;
	d->reason = e->reason ? strdup(e->reason) : NULL;
	if (d->key_ip && (d->by || !e->by) && (d->reason || !e->reason))
		return true;
	block_entry_free(d);
	memset(d, 0, sizeof *d);
	return false;
}

struct block_entry *blockset_list(struct blockset *s, bool take, size_t *n, bool *oom)
{
	*n = 0;
	*oom = false;
	if (s->n == 0)
		return NULL;
	struct block_entry *v = calloc(s->n, sizeof *v);
	if (!v) {
		*oom = true;
		return NULL;
	}
	/* sort the slots themselves: the heap is rebuilt (or the set emptied) after */
	qsort(s->items, s->n, sizeof *s->items, cmp_items);
	for (size_t i = 0; i < s->n; i++) {
		if (take) {
			v[i] = s->items[i].e;
			memset(&s->items[i].e, 0, sizeof s->items[i].e);
		} else if (!block_entry_copy(&v[i], &s->items[i].e)) {
			for (size_t k = 0; k < i; k++)
				block_entry_free(&v[k]);
			free(v);
			*oom = true;
			v = NULL;
			break;
		}
	}
	size_t count = s->n;
	if (take) {
		s->n = 0;
		blockset_clear(s);
		*n = count;
		return v;
	}
	/* a sorted array is a valid heap of the opposite order: rebuild it */
	for (size_t i = 0; i < s->n; i++) {
		s->heap[i] = (uint32_t)i;
		s->items[i].pos = i;
	}
	for (size_t i = s->n / 2 + 1; i-- > 0;)
		heap_down(s, i);
	s->n_deleted = s->n_slots;   /* force a rebuild of the set: slots moved */
	set_room(s);
	*n = v ? count : 0;
	return v;
}
