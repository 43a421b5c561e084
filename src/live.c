#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipnet.h"
#include "live.h"
#include "sketch.h"

#define MIN_KEYS 64               /* per minute, whatever the window */
#define MAX_KEYS 8192
#define FUTURE_MINUTES 5          /* rows stamped ahead of the server's clock */

struct ip_entry {
	uint64_t h;
	char ip[MODEL_IP_LEN];
	uint8_t last_sec;            /* its newest row: the second of the bucket's minute (in padding) */
	uint32_t failures, requests;
	uint32_t err_f, err_r;       /* what this key may have lost before it came in */
	struct dset users, tenants;
};

struct tenant_entry {
	uint64_t h;                  /* of the whole name; 0 with has_name false */
	char *name;
	bool has_name;
	uint32_t requests, failures, unauthorized, cross;
	uint32_t err;
	struct dset ips, users;
};

/* An open-addressing index over an entry array: slot holds entry + 1. */
struct index {
	uint32_t *slot;
	size_t mask;
};

struct ip_table {
	struct ip_entry *e;
	size_t n, cap, max;
	struct index ix;
	uint32_t floor_f, floor_r;   /* the heaviest counts dropped so far */
	bool dropped;
};

struct tenant_table {
	struct tenant_entry *e;
	size_t n, cap, max;
	struct index ix;
	uint32_t floor;
	bool dropped;
};

struct bucket {
	int64_t b;                   /* bucket number; meaningful when used */
	bool used;
	struct ip_table ips;
	struct tenant_table tenants;
};

#define FPM_SLOTS (MODEL_MINUTES + FUTURE_MINUTES + 4)

/* A publish's working memory, kept from one publish to the next:
 * allocating (and faulting in) megabytes afresh every second cost more than
 * the sums made in them.  Bounded by the entries the window holds. */
enum { SC_SUMS, SC_SLOTS, SC_OWNERS, SC_RANK, SC_GROUPS, SC_GROUP_SLOTS, SC_GROUP_RANK, SC_COUNT };

struct scratch {
	void *p;
	size_t cap;
};

struct live {
	int window_s;
	int off;                     /* buckets start `off` seconds into a minute */
	size_t n_slots;
	struct bucket *slots;
	int64_t first_b;             /* the oldest bucket still in the window */
	size_t ip_max, tenant_max;   /* keys per minute */
	struct sketch_budget budget;
	unsigned long compactions;
	/* failures per unix minute, from the rows, and the GROUP BY's base */
	int64_t fpm_minute[FPM_SLOTS];
	long fpm_count[FPM_SLOTS];
	int64_t rl_minute[FPM_SLOTS];        /* rate-limited events, the same way */
	long rl_count[FPM_SLOTS];
	int64_t base_first;
	long base[MODEL_MINUTES];
	int n_base;
	struct scratch scratch[SC_COUNT];
};

/* n bytes of working memory `which` (zeroed if asked), or NULL. */
static void *scratch(struct live *l, int which, size_t n, bool zero)
{
	struct scratch *s = &l->scratch[which];

	if (n > s->cap) {
		size_t cap = n + n / 4;
		free(s->p);
		s->p = malloc(cap);
		s->cap = s->p ? cap : 0;
		if (!s->p)
			return NULL;
	}
	if (zero)
		memset(s->p, 0, n);
	return s->p;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The slot of v in a ring of n (v may be negative). */
static size_t ring_index(int64_t v, size_t n)
{
	return (size_t)(v - floor_div(v, (int64_t)n) * (int64_t)n);
}

/* ---------------------------------------------------------------- index */

static bool index_init(struct index *x, size_t entries)
{
	size_t cap = 16;

	while (cap < entries * 2)
		cap *= 2;
	free(x->slot);
	x->slot = calloc(cap, sizeof *x->slot);
	x->mask = cap - 1;
	return x->slot != NULL;
}

/* ---------------------------------------------------------------- addresses */

static uint32_t *ip_probe(const struct ip_table *t, uint64_t h, const char *ip)
{
	for (size_t i = h & t->ix.mask;; i = (i + 1) & t->ix.mask) {
		uint32_t s = t->ix.slot[i];
		if (!s)
			return &t->ix.slot[i];
		const struct ip_entry *e = &t->e[s - 1];
		if (e->h == h && strcmp(e->ip, ip) == 0)
			return &t->ix.slot[i];
	}
}

static bool ip_reindex(struct ip_table *t)
{
	if (!index_init(&t->ix, t->cap))
		return false;
	for (size_t i = 0; i < t->n; i++)
		*ip_probe(t, t->e[i].h, t->e[i].ip) = (uint32_t)i + 1;
	return true;
}

static int ip_heavier(const void *a, const void *b)
{
	const struct ip_entry *x = a, *y = b;

	if (x->failures != y->failures)
		return x->failures > y->failures ? -1 : 1;
	if (x->requests != y->requests)
		return x->requests > y->requests ? -1 : 1;
	return 0;
}

/* Full: keep the heaviest three quarters and remember the most dropped. */
static void ip_compact(struct ip_table *t, struct sketch_budget *b)
{
	size_t keep = t->n * 3 / 4;

	qsort(t->e, t->n, sizeof *t->e, ip_heavier);
	for (size_t i = keep; i < t->n; i++) {
		struct ip_entry *e = &t->e[i];
		t->floor_f = e->failures > t->floor_f ? e->failures : t->floor_f;
		t->floor_r = e->requests > t->floor_r ? e->requests : t->floor_r;
		dset_free(&e->users, b);
		dset_free(&e->tenants, b);
	}
	t->n = keep;
	t->dropped = true;
	ip_reindex(t);
}

static struct ip_entry *ip_upsert(struct ip_table *t, const char *ip, struct sketch_budget *b,
                                  unsigned long *compactions)
{
	uint64_t h = hash64(ip, strlen(ip));
	uint32_t *slot = t->ix.slot ? ip_probe(t, h, ip) : NULL;

	if (slot && *slot)
		return &t->e[*slot - 1];
	if (t->n == t->max) {
		ip_compact(t, b);
		++*compactions;
	} else if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		cap = cap > t->max ? t->max : cap;
		struct ip_entry *e = realloc(t->e, cap * sizeof *e);
		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
		if (!ip_reindex(t))
			return NULL;
	}
	if (!t->ix.slot && !ip_reindex(t))
		return NULL;
	struct ip_entry *e = &t->e[t->n];
	memset(e, 0, sizeof *e);
	e->h = h;
	snprintf(e->ip, sizeof e->ip, "%s", ip);
	e->err_f = t->floor_f;
	e->err_r = t->floor_r;
	*ip_probe(t, h, ip) = (uint32_t)++t->n;
	return e;
}

static const struct ip_entry *ip_find(const struct ip_table *t, uint64_t h, const char *ip)
{
	if (!t->ix.slot)
		return NULL;
	uint32_t s = *ip_probe(t, h, ip);
	return s ? &t->e[s - 1] : NULL;
}

static void ip_table_free(struct ip_table *t, struct sketch_budget *b)
{
	for (size_t i = 0; i < t->n; i++) {
		dset_free(&t->e[i].users, b);
		dset_free(&t->e[i].tenants, b);
	}
	free(t->e);
	free(t->ix.slot);
	memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- tenants */

static bool tenant_same(const struct tenant_entry *e, bool has, uint64_t h)
{
	return e->has_name == has && (!has || e->h == h);
}

static uint32_t *tenant_probe(const struct tenant_table *t, bool has, uint64_t h)
{
	for (size_t i = h & t->ix.mask;; i = (i + 1) & t->ix.mask) {
		uint32_t s = t->ix.slot[i];
		if (!s || tenant_same(&t->e[s - 1], has, h))
			return &t->ix.slot[i];
	}
}

static bool tenant_reindex(struct tenant_table *t)
{
	if (!index_init(&t->ix, t->cap))
		return false;
	for (size_t i = 0; i < t->n; i++)
		*tenant_probe(t, t->e[i].has_name, t->e[i].h) = (uint32_t)i + 1;
	return true;
}

static int tenant_heavier(const void *a, const void *b)
{
	const struct tenant_entry *x = a, *y = b;

	if (x->requests != y->requests)
		return x->requests > y->requests ? -1 : 1;
	return 0;
}

static void tenant_entry_free(struct tenant_entry *e, struct sketch_budget *b)
{
	free(e->name);
	dset_free(&e->ips, b);
	dset_free(&e->users, b);
}

static void tenant_compact(struct tenant_table *t, struct sketch_budget *b)
{
	size_t keep = t->n * 3 / 4;

	qsort(t->e, t->n, sizeof *t->e, tenant_heavier);
	for (size_t i = keep; i < t->n; i++) {
		t->floor = t->e[i].requests > t->floor ? t->e[i].requests : t->floor;
		tenant_entry_free(&t->e[i], b);
	}
	t->n = keep;
	t->dropped = true;
	tenant_reindex(t);
}

static struct tenant_entry *tenant_upsert(struct tenant_table *t, const char *name, uint64_t h,
                                          struct sketch_budget *b, unsigned long *compactions)
{
	bool has = name != NULL;
	uint32_t *slot = t->ix.slot ? tenant_probe(t, has, has ? h : 0) : NULL;

	if (slot && *slot)
		return &t->e[*slot - 1];
	if (t->n == t->max) {
		tenant_compact(t, b);
		++*compactions;
	} else if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		cap = cap > t->max ? t->max : cap;
		struct tenant_entry *e = realloc(t->e, cap * sizeof *e);
		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
		if (!tenant_reindex(t))
			return NULL;
	}
	if (!t->ix.slot && !tenant_reindex(t))
		return NULL;
	char *copy = has ? strdup(name) : NULL;
	if (has && !copy)
		return NULL;
	struct tenant_entry *e = &t->e[t->n];
	memset(e, 0, sizeof *e);
	e->has_name = has;
	e->h = has ? h : 0;
	e->name = copy;
	e->err = t->floor;
	*tenant_probe(t, has, e->h) = (uint32_t)++t->n;
	return e;
}

static const struct tenant_entry *tenant_find(const struct tenant_table *t, bool has, uint64_t h)
{
	if (!t->ix.slot)
		return NULL;
	uint32_t s = *tenant_probe(t, has, h);
	return s ? &t->e[s - 1] : NULL;
}

static void tenant_table_free(struct tenant_table *t, struct sketch_budget *b)
{
	for (size_t i = 0; i < t->n; i++)
		tenant_entry_free(&t->e[i], b);
	free(t->e);
	free(t->ix.slot);
	memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- buckets */

static void bucket_clear(struct live *l, struct bucket *k)
{
	ip_table_free(&k->ips, &l->budget);
	tenant_table_free(&k->tenants, &l->budget);
	k->used = false;
}

static size_t clamp_keys(size_t total, size_t slots)
{
	size_t per = total / slots;
	return per < MIN_KEYS ? MIN_KEYS : per > MAX_KEYS ? MAX_KEYS : per;
}

struct live *live_new(int window_s, const struct live_limits *lim)
{
	struct live *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
	l->window_s = window_s;
	l->off = ((-window_s) % 60 + 60) % 60;   /* where the window's start falls in a minute */
	l->n_slots = (size_t)window_s / 60 + 2 + FUTURE_MINUTES;
	l->slots = calloc(l->n_slots, sizeof *l->slots);
	if (!l->slots) {
		free(l);
		return NULL;
	}
	l->ip_max = clamp_keys(lim->ip_entries, l->n_slots);
	l->tenant_max = clamp_keys(lim->tenant_entries, l->n_slots);
	l->budget.max = lim->sketch_bytes;
	l->first_b = INT64_MIN;
	for (int i = 0; i < FPM_SLOTS; i++)
		l->fpm_minute[i] = l->rl_minute[i] = INT64_MIN;
	return l;
}

void live_free(struct live *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_slots; i++)
		bucket_clear(l, &l->slots[i]);
	for (int i = 0; i < SC_COUNT; i++)
		free(l->scratch[i].p);
	free(l->slots);
	free(l);
}

int64_t live_window_start(const struct live *l, int64_t now_minute)
{
	return now_minute * 60 - l->window_s;
}

bool live_slide(struct live *l, int64_t now_minute)
{
	int64_t first = floor_div(live_window_start(l, now_minute) - l->off, 60);
	bool dropped = false;

	l->first_b = first;
	for (size_t i = 0; i < l->n_slots; i++) {
		struct bucket *k = &l->slots[i];
		if (k->used && k->b < first) {
			bucket_clear(l, k);
			dropped = true;
		}
	}
	return dropped;
}

/* The bucket of a row, or NULL if it is older than the window.  A row
 * stamped far ahead goes to the newest bucket the ring can hold. */
static struct bucket *bucket_for(struct live *l, int64_t ts_s)
{
	int64_t b = floor_div(ts_s - l->off, 60);

	if (l->first_b != INT64_MIN && b < l->first_b)
		return NULL;
	if (l->first_b != INT64_MIN && b >= l->first_b + (int64_t)l->n_slots)
		b = l->first_b + (int64_t)l->n_slots - 1;
	struct bucket *k = &l->slots[ring_index(b, l->n_slots)];
	if (k->used && k->b != b) {
		if (k->b > b)
			return NULL;         /* a newer minute holds the slot */
		bucket_clear(l, k);
	}
	if (!k->used) {
		k->used = true;
		k->b = b;
		k->ips.max = l->ip_max;
		k->tenants.max = l->tenant_max;
	}
	return k;
}

/* One more in a ring of per-minute counts (failures, rate-limited events). */
static void count_minute(int64_t *minutes, long *counts, int64_t ts_s)
{
	int64_t minute = floor_div(ts_s, 60);
	size_t i = ring_index(minute, FPM_SLOTS);

	if (minutes[i] != minute) {
		if (minutes[i] > minute)
			return;              /* older than anything still shown */
		minutes[i] = minute;
		counts[i] = 0;
	}
	counts[i]++;
}

static void add_to_ip(struct live *l, struct bucket *k, const struct live_row *r, int64_t ts_s)
{
	struct ip_entry *e = ip_upsert(&k->ips, r->ip, &l->budget, &l->compactions);

	if (!e)
		return;
	e->requests++;
	e->failures += r->failed;
	int64_t sec = ts_s - (k->b * 60 + l->off);  /* a row far ahead sits in the newest bucket */
	sec = sec < 0 ? 0 : sec > 59 ? 59 : sec;
	e->last_sec = (uint8_t)(sec > e->last_sec ? sec : e->last_sec);
	if (r->has_user)
		dset_add(&e->users, hash64_mix(r->user_hash), &l->budget);
	if (r->tenant)
		dset_add(&e->tenants, hash64_mix(r->tenant_hash), &l->budget);
}

static void add_to_tenant(struct live *l, struct bucket *k, const struct live_row *r)
{
	struct tenant_entry *e = tenant_upsert(&k->tenants, r->tenant, r->tenant_hash, &l->budget,
	                                       &l->compactions);

	if (!e)
		return;
	e->requests++;
	e->failures += r->failed;
	e->unauthorized += r->unauthorized;
	e->cross += r->cross_tenant;
	if (r->ip)
		dset_add(&e->ips, hash64(r->ip, strlen(r->ip)), &l->budget);
	if (r->has_user)
		dset_add(&e->users, hash64_mix(r->user_hash), &l->budget);
}

void live_add(struct live *l, const struct live_row *r)
{
	int64_t ts_s = floor_div(r->ts_us, 1000000);

	if (r->failed)
		count_minute(l->fpm_minute, l->fpm_count, ts_s);
	if (r->rate_limited)
		count_minute(l->rl_minute, l->rl_count, ts_s);
	struct bucket *k = bucket_for(l, ts_s);
	if (!k)
		return;
	if (r->ip)
		add_to_ip(l, k, r, ts_s);
	add_to_tenant(l, k, r);
}

/* ---------------------------------------------------------------- per minute */

void live_set_base(struct live *l, int64_t base_first, const long *base, int n)
{
	l->base_first = base_first;
	l->n_base = n > MODEL_MINUTES ? MODEL_MINUTES : n;
	memcpy(l->base, base, (size_t)l->n_base * sizeof *base);
}

static long streamed(const struct live *l, int64_t minute)
{
	size_t i = ring_index(minute, FPM_SLOTS);
	return l->fpm_minute[i] == minute ? l->fpm_count[i] : 0;
}

void live_rate_limited(const struct live *l, int64_t now_minute, long out[MODEL_MINUTES])
{
	for (int i = 0; i < MODEL_MINUTES; i++) {
		int64_t m = now_minute - (MODEL_MINUTES - 1) + i;
		size_t k = ring_index(m, FPM_SLOTS);
		out[i] = l->rl_minute[k] == m ? l->rl_count[k] : 0;
	}
}

void live_fpm(const struct live *l, int64_t now_minute, int64_t streamed_from, int64_t streamed_to,
              long out[MODEL_MINUTES])
{
	for (int i = 0; i < MODEL_MINUTES; i++) {
		int64_t m = now_minute - (MODEL_MINUTES - 1) + i;
		int64_t bi = m - l->base_first;
		if (m >= streamed_from && m <= streamed_to)
			out[i] = streamed(l, m);
		else
			out[i] = bi >= 0 && bi < l->n_base ? l->base[bi] : 0;
	}
}

/* ---------------------------------------------------------------- the window */

/* One address or tenant added up over the window's buckets. */
struct sum {
	const struct ip_entry *ip;           /* the first entry seen: the key */
	const struct tenant_entry *tenant;
	uint64_t a, b, c, d;                 /* address: failures, requests; tenant: its four counts */
	uint64_t err_a, err_b;               /* lost within the minutes that held it */
	uint64_t floors_a, floors_b;         /* the floors of the dropping minutes that held it */
	uint32_t group;                      /* ranges: its group + 1, 0 none */
	unsigned char key[17];               /* family + address, for the inet order; [0] 0: not yet */
};

struct sums {
	struct sum *v;
	size_t n;
	uint32_t *slot;
	size_t mask;
	uint64_t all_floor_a, all_floor_b;   /* the floors of every minute that dropped some */
	/* for the ranges: each bucket entry's sum, in the order the buckets
	 * were visited, so that a second visit needs no look-up; NULL when
	 * nobody wants ranges */
	struct sum **owner;
};

static struct sum *sums_find(struct sums *s, uint64_t h, const struct ip_entry *ip,
                             const struct tenant_entry *t)
{
	for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
		uint32_t k = s->slot[i];
		if (!k) {
			s->slot[i] = (uint32_t)++s->n;
			struct sum *x = &s->v[s->n - 1];
			memset(x, 0, sizeof *x);
			x->ip = ip;
			x->tenant = t;
			return x;
		}
		struct sum *x = &s->v[k - 1];
		if (ip ? (x->ip->h == h && strcmp(x->ip->ip, ip->ip) == 0)
		       : tenant_same(x->tenant, t->has_name, t->h))
			return x;
	}
}

static bool sums_init(struct live *l, struct sums *s, size_t most, bool owners)
{
	size_t cap = 16;

	while (cap < most * 2)
		cap *= 2;
	memset(s, 0, sizeof *s);
	s->v = scratch(l, SC_SUMS, (most + 1) * sizeof *s->v, false);   /* sums_find clears each */
	s->slot = scratch(l, SC_SLOTS, cap * sizeof *s->slot, true);
	s->owner = owners ? scratch(l, SC_OWNERS, (most + 1) * sizeof *s->owner, false) : NULL;
	s->mask = cap - 1;
	return s->v && s->slot && (!owners || s->owner);
}

static unsigned char *inet_key(struct sum *x)
{
	if (!x->key[0]) {
		if (inet_pton(AF_INET, x->ip->ip, x->key + 1) == 1)
			x->key[0] = 1;
		else if (inet_pton(AF_INET6, x->ip->ip, x->key + 1) == 1)
			x->key[0] = 2;
		else
			x->key[0] = 3;       /* not an address: after all of them */
	}
	return x->key;
}

static int ip_rank(const void *a, const void *b)
{
	struct sum *x = *(struct sum *const *)a, *y = *(struct sum *const *)b;

	if (x->a != y->a)
		return x->a > y->a ? -1 : 1;
	int c = memcmp(inet_key(x), inet_key(y), sizeof x->key);
	return c ? c : strcmp(x->ip->ip, y->ip->ip);
}

static long clamp_long(uint64_t v)
{
	return v > (uint64_t)LONG_MAX ? LONG_MAX : (long)v;
}

/* The twelfth of the window a bucket falls in (a row ahead of the clock:
 * the last). */
static int spark_slice(const struct live *l, int64_t b)
{
	int64_t buckets = l->window_s / 60 + 1;
	int64_t i = (b - l->first_b) * MODEL_SPARK / buckets;
	return i < 0 ? 0 : i >= MODEL_SPARK ? MODEL_SPARK - 1 : (int)i;
}

/* What only the addresses shown need, from each minute that holds one:
 * its distinct users and tenants, its newest row, its failures over time. */
static void ip_detail(const struct live *l, const struct sum *x, struct ip_stat *s)
{
	struct dset users = { 0 }, tenants = { 0 };
	bool est;

	for (size_t i = 0; i < l->n_slots; i++) {
		const struct bucket *k = &l->slots[i];
		const struct ip_entry *e = k->used ? ip_find(&k->ips, x->ip->h, x->ip->ip) : NULL;
		if (!e)
			continue;
		dset_merge(&users, &e->users, NULL);
		dset_merge(&tenants, &e->tenants, NULL);
		int64_t last = k->b * 60 + l->off + e->last_sec;
		s->last_s = last > s->last_s ? last : s->last_s;
		if (l->first_b != INT64_MIN)
			s->spark[spark_slice(l, k->b)] += e->failures;
	}
	s->users = dset_count(&users, &est);
	s->approx |= est ? APPROX_USERS : 0;
	s->tenants = dset_count(&tenants, &est);
	s->approx |= est ? APPROX_TENANTS : 0;
	dset_free(&users, NULL);
	dset_free(&tenants, NULL);
}

/* Every address added up over the window's minutes: one pass, shared by
 * the top addresses and the ranges. */
static void address_sums(const struct live *l, struct sums *s)
{
	size_t visited = 0;

	for (size_t i = 0; i < l->n_slots; i++) {
		const struct bucket *k = &l->slots[i];
		if (!k->used)
			continue;
		s->all_floor_a += k->ips.floor_f;
		s->all_floor_b += k->ips.floor_r;
		for (size_t j = 0; j < k->ips.n; j++) {
			const struct ip_entry *e = &k->ips.e[j];
			struct sum *x = sums_find(s, e->h, e, NULL);
			x->a += e->failures;
			x->b += e->requests;
			x->err_a += e->err_f;
			x->err_b += e->err_r;
			x->floors_a += k->ips.floor_f;
			x->floors_b += k->ips.floor_r;
			if (s->owner)
				s->owner[visited++] = x;
		}
	}
}

/* Lost: within the minutes that held it, and whole in those that dropped it. */
static bool lost_a(const struct sums *s, const struct sum *x)
{
	return x->err_a + (s->all_floor_a - x->floors_a) > 0;
}

static bool lost_b(const struct sums *s, const struct sum *x)
{
	return x->err_b + (s->all_floor_b - x->floors_b) > 0;
}

static struct ip_stat *top_ips_of(struct live *l, struct sums *s, size_t n, size_t *count)
{
	struct sum **rank = scratch(l, SC_RANK, (s->n + 1) * sizeof *rank, false);
	size_t nr = 0;

	for (size_t i = 0; rank && i < s->n; i++)
		if (s->v[i].a > 0)
			rank[nr++] = &s->v[i];
	if (rank)
		qsort(rank, nr, sizeof *rank, ip_rank);
	size_t take = nr < n ? nr : n;
	struct ip_stat *out = calloc(take + 1, sizeof *out);
	for (size_t i = 0; out && i < take; i++) {
		struct sum *x = rank[i];
		struct ip_stat *o = &out[i];
		snprintf(o->ip, sizeof o->ip, "%s", x->ip->ip);
		o->failures = clamp_long(x->a);
		o->requests = clamp_long(x->b);
		o->approx |= lost_a(s, x) ? APPROX_FAILURES : 0;
		o->approx |= lost_b(s, x) ? APPROX_REQUESTS : 0;
		ip_detail(l, x, o);
	}
	*count = out ? take : 0;
	return out;
}

/* --------------------------------------------------------------- ranges */

/* One network's (or AS's) failing addresses, summed. */
struct range_sum {
	struct ipnet net;                    /* by network */
	unsigned long asn;                   /* by AS; 0: no AS known */
	const char *ip;                      /* one of its addresses: whose AS is named */
	uint64_t failures, requests, addresses;
	bool approx_f, approx_r, kept;
	struct dset tenants;                 /* only for the ranges kept */
};

struct groups {
	const struct live_grouping *g;
	struct range_sum *v;
	size_t n;
	uint32_t *slot;
	size_t mask;
};

static bool same_group(const struct groups *gs, const struct range_sum *r, const struct range_sum *key)
{
	if (gs->g->by == RANGES_AS)
		return r->asn == key->asn;
	return r->net.family == key->net.family && r->net.prefix == key->net.prefix &&
	       memcmp(r->net.addr, key->net.addr, 16) == 0;
}

static uint64_t group_hash(const struct groups *gs, const struct range_sum *key)
{
	if (gs->g->by == RANGES_AS)
		return hash64_mix(key->asn + 1);
	return hash64(key->net.addr, sizeof key->net.addr) ^ (uint64_t)(key->net.family * 131 + key->net.prefix);
}

/* The group of one failing address, made if new: its index + 1, 0 for an
 * address that has no network (not an address). */
static uint32_t group_of(struct groups *gs, const char *ip)
{
	struct range_sum key = { .ip = ip };

	if (gs->g->by == RANGES_AS)
		key.asn = gs->g->asn(gs->g->ctx, ip, NULL, 0);
	else if (ipnet_of(ip, 24, 64, &key.net) < 0)
		return 0;
	for (size_t i = group_hash(gs, &key) & gs->mask;; i = (i + 1) & gs->mask) {
		if (!gs->slot[i]) {
			gs->v[gs->n] = key;
			gs->slot[i] = (uint32_t)++gs->n;
		}
		if (same_group(gs, &gs->v[gs->slot[i] - 1], &key))
			return gs->slot[i];
	}
}

/* qsort has no context argument: the grouping in force is passed here. */
static enum range_group rank_by;

static int range_rank(const void *a, const void *b)
{
	const struct range_sum *x = *(struct range_sum *const *)a, *y = *(struct range_sum *const *)b;

	if (x->failures != y->failures)
		return x->failures > y->failures ? -1 : 1;
	if (rank_by == RANGES_AS)                  /* no AS known last */
		return x->asn == y->asn ? 0 : !x->asn ? 1 : !y->asn ? -1 : x->asn < y->asn ? -1 : 1;
	if (x->net.family != y->net.family)
		return x->net.family < y->net.family ? -1 : 1;
	return memcmp(x->net.addr, y->net.addr, sizeof x->net.addr);
}

/* The tenants the failing addresses of the kept groups touched: the
 * buckets' entries again, in the order address_sums visited them. */
static void range_tenants(const struct live *l, const struct sums *s, struct groups *gs)
{
	size_t visited = 0;

	for (size_t i = 0; i < l->n_slots; i++) {
		const struct bucket *k = &l->slots[i];
		for (size_t j = 0; k->used && j < k->ips.n; j++) {
			const struct ip_entry *e = &k->ips.e[j];
			const struct sum *x = s->owner[visited++];
			if (e->failures && x->group && gs->v[x->group - 1].kept)
				dset_merge(&gs->v[x->group - 1].tenants, &e->tenants, NULL);
		}
	}
}

static void range_out(const struct groups *gs, const struct range_sum *r, struct range_stat *o)
{
	bool est;

	if (gs->g->by == RANGES_AS) {
		o->asn = r->asn;
		if (r->asn) {
			snprintf(o->net, sizeof o->net, "AS%lu", r->asn);
			gs->g->asn(gs->g->ctx, r->ip, o->as_org, sizeof o->as_org);
		}
	} else {
		ipnet_format(&r->net, o->net, sizeof o->net);
	}
	o->failures = clamp_long(r->failures);
	o->requests = clamp_long(r->requests);
	o->addresses = clamp_long(r->addresses);
	o->tenants = dset_count(&r->tenants, &est);
	o->approx = (r->approx_f ? APPROX_FAILURES : 0) | (r->approx_r ? APPROX_REQUESTS : 0) |
	            (est ? APPROX_TENANTS : 0);
}

static struct range_stat *top_ranges_of(struct live *l, struct sums *s, size_t n,
                                        const struct live_grouping *g, size_t *count)
{
	struct groups gs = { .g = g };
	size_t cap = 16;

	while (cap < s->n * 2)
		cap *= 2;
	gs.v = scratch(l, SC_GROUPS, (s->n + 1) * sizeof *gs.v, false);   /* group_of sets each */
	gs.slot = scratch(l, SC_GROUP_SLOTS, cap * sizeof *gs.slot, true);
	gs.mask = cap - 1;
	struct range_sum **rank = scratch(l, SC_GROUP_RANK, (s->n + 1) * sizeof *rank, false);
	struct range_stat *out = NULL;
	if (!gs.v || !gs.slot || !rank)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		struct sum *x = &s->v[i];
		if (!x->a || !(x->group = group_of(&gs, x->ip->ip)))
			continue;
		struct range_sum *r = &gs.v[x->group - 1];
		r->failures += x->a;
		r->requests += x->b;
		r->addresses++;
		r->approx_f |= lost_a(s, x);
		r->approx_r |= lost_b(s, x);
	}
	for (size_t i = 0; i < gs.n; i++)
		rank[i] = &gs.v[i];
	rank_by = g->by;
	qsort(rank, gs.n, sizeof *rank, range_rank);
	size_t take = gs.n < n ? gs.n : n;
	for (size_t i = 0; i < take; i++)
		rank[i]->kept = true;
	range_tenants(l, s, &gs);
	out = calloc(take + 1, sizeof *out);
	for (size_t i = 0; out && i < take; i++)
		range_out(&gs, rank[i], &out[i]);
	*count = out ? take : 0;
	for (size_t i = 0; i < take; i++)
		dset_free(&rank[i]->tenants, NULL);
	return out;
}

void live_tops(struct live *l, size_t n, const struct live_grouping *g, struct live_tops *out)
{
	struct sums s;
	size_t most = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < l->n_slots; i++)
		most += l->slots[i].used ? l->slots[i].ips.n : 0;
	if (!sums_init(l, &s, most, g != NULL)) {
		out->ips = calloc(1, sizeof *out->ips);
		return;
	}
	address_sums(l, &s);
	out->ips = top_ips_of(l, &s, n, &out->n_ips);
	if (g)
		out->ranges = top_ranges_of(l, &s, n, g, &out->n_ranges);
}

struct ip_stat *live_top_ips(struct live *l, size_t n, size_t *count)
{
	struct live_tops t;

	live_tops(l, n, NULL, &t);
	*count = t.n_ips;
	return t.ips;
}

struct range_stat *live_top_ranges(struct live *l, size_t n, const struct live_grouping *g, size_t *count)
{
	struct live_tops t;

	live_tops(l, n, g, &t);
	free(t.ips);
	*count = t.n_ranges;
	return t.ranges;
}

static int tenant_rank(const void *a, const void *b)
{
	const struct sum *x = *(struct sum *const *)a, *y = *(struct sum *const *)b;

	if (x->a != y->a)
		return x->a > y->a ? -1 : 1;
	if (!x->tenant->has_name || !y->tenant->has_name)
		return (int)y->tenant->has_name - (int)x->tenant->has_name;   /* no tenant last */
	return strcmp(x->tenant->name, y->tenant->name);
}

static void tenant_distinct(const struct live *l, const struct sum *x, struct tenant_stat *s)
{
	struct dset ips = { 0 }, users = { 0 };
	bool est;

	for (size_t i = 0; i < l->n_slots; i++) {
		const struct bucket *k = &l->slots[i];
		const struct tenant_entry *e =
			k->used ? tenant_find(&k->tenants, x->tenant->has_name, x->tenant->h) : NULL;
		if (e) {
			dset_merge(&ips, &e->ips, NULL);
			dset_merge(&users, &e->users, NULL);
		}
	}
	s->ips = dset_count(&ips, &est);
	s->approx |= est ? APPROX_IPS : 0;
	s->users = dset_count(&users, &est);
	s->approx |= est ? APPROX_USERS : 0;
	dset_free(&ips, NULL);
	dset_free(&users, NULL);
}

struct tenant_stat *live_top_tenants(struct live *l, size_t n, size_t *count)
{
	struct sums s;
	size_t most = 0;
	uint64_t all_floor = 0;

	*count = 0;
	for (size_t i = 0; i < l->n_slots; i++)
		most += l->slots[i].used ? l->slots[i].tenants.n : 0;
	if (!sums_init(l, &s, most, false)) {
		return calloc(1, sizeof(struct tenant_stat));
	}
	for (size_t i = 0; i < l->n_slots; i++) {
		const struct bucket *k = &l->slots[i];
		if (!k->used)
			continue;
		all_floor += k->tenants.floor;
		for (size_t j = 0; j < k->tenants.n; j++) {
			const struct tenant_entry *e = &k->tenants.e[j];
			struct sum *x = sums_find(&s, e->h, NULL, e);
			x->a += e->requests;
			x->b += e->failures;
			x->c += e->unauthorized;
			x->d += e->cross;
			x->err_a += e->err;
			x->floors_a += k->tenants.floor;
		}
	}
	struct sum **rank = scratch(l, SC_RANK, (s.n + 1) * sizeof *rank, false);
	for (size_t i = 0; rank && i < s.n; i++)
		rank[i] = &s.v[i];
	if (rank)
		qsort(rank, s.n, sizeof *rank, tenant_rank);
	size_t take = s.n < n ? s.n : n;
	struct tenant_stat *out = calloc(take + 1, sizeof *out);
	for (size_t i = 0; out && rank && i < take; i++) {
		const struct sum *x = rank[i];
		struct tenant_stat *o = &out[i];
		o->tenant_id = x->tenant->has_name ? strdup(x->tenant->name) : NULL;
		o->requests = clamp_long(x->a);
		o->failures = clamp_long(x->b);
		o->unauthorized = clamp_long(x->c);
		o->cross_tenant = clamp_long(x->d);
		if (x->err_a + (all_floor - x->floors_a) > 0)
			o->approx |= APPROX_REQUESTS;
		tenant_distinct(l, x, o);
	}
	*count = out && rank ? take : 0;
	return out;
}

void live_usage(const struct live *l, struct live_usage *u)
{
	memset(u, 0, sizeof *u);
	for (size_t i = 0; i < l->n_slots; i++) {
		u->ip_entries += l->slots[i].used ? l->slots[i].ips.n : 0;
		u->tenant_entries += l->slots[i].used ? l->slots[i].tenants.n : 0;
	}
	u->sketch_bytes = l->budget.used;
	u->compactions = l->compactions;
}
