#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

/* MurmurHash3's finaliser: every input bit moves every output bit. */
uint64_t hash64_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* FNV-1a over the bytes, then the finaliser for the HyperLogLog's sake
 * (it reads the top bits as a register and the rest as a rank). */
uint64_t hash64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return hash64_mix(h ^ n);
}

static bool charge(struct sketch_budget *b, size_t more)
{
	if (!b)
		return true;
	if (b->max && b->used + more > b->max) {
		b->refused++;
		return false;
	}
	b->used += more;
	return true;
}

static void refund(struct sketch_budget *b, size_t less)
{
	if (b)
		b->used -= less < b->used ? less : b->used;
}

static uint64_t *exact_values(struct dset *s)
{
	return s->cap ? s->u.v : s->u.inl;
}

static void hll_add(uint8_t *reg, uint64_t h)
{
	uint32_t i = (uint32_t)(h >> (64 - HLL_BITS));
	uint64_t rest = (h << HLL_BITS) | (1ULL << (HLL_BITS - 1));   /* bounds the rank */
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);

	if (rank > reg[i])
		reg[i] = rank;
}

/* Exact to dense: every value held goes into fresh registers. */
static bool densify(struct dset *s, struct sketch_budget *b)
{
	if (!charge(b, HLL_REGISTERS))
		return false;
	uint8_t *reg = calloc(HLL_REGISTERS, 1);
	if (!reg) {
		refund(b, HLL_REGISTERS);
		return false;
	}
	uint64_t *v = exact_values(s);
	for (uint32_t i = 0; i < s->n; i++)
		hll_add(reg, v[i]);
	if (s->cap) {
		free(s->u.v);
		refund(b, s->cap * sizeof(uint64_t));
	}
	s->u.hll = reg;
	s->dense = true;
	s->cap = 0;
	return true;
}

/* Room for one more exact value: inline, then an array that doubles. */
static bool grow(struct dset *s, struct sketch_budget *b)
{
	uint32_t cap = s->cap ? s->cap : DSET_INLINE;

	if (s->n < cap)
		return true;
	uint32_t ncap = cap * 2 > DSET_EXACT_MAX ? DSET_EXACT_MAX : cap * 2;
	if (!charge(b, (ncap - s->cap) * sizeof(uint64_t)))
		return false;
	uint64_t *v = malloc(ncap * sizeof *v);
	if (!v) {
		refund(b, (ncap - s->cap) * sizeof(uint64_t));
		return false;
	}
	memcpy(v, exact_values(s), s->n * sizeof *v);
	if (s->cap)
		free(s->u.v);
	s->u.v = v;
	s->cap = (uint16_t)ncap;
	return true;
}

void dset_add(struct dset *s, uint64_t h, struct sketch_budget *b)
{
	if (s->dense) {
		hll_add(s->u.hll, h);
		return;
	}
	uint64_t *v = exact_values(s);
	for (uint32_t i = 0; i < s->n; i++)
		if (v[i] == h)
			return;
	if (s->n == DSET_EXACT_MAX) {
		if (densify(s, b))
			hll_add(s->u.hll, h);
		else
			s->capped = true;
		return;
	}
	if (!grow(s, b)) {
		s->capped = true;
		return;
	}
	exact_values(s)[s->n++] = h;
}

void dset_merge(struct dset *dst, const struct dset *src, struct sketch_budget *b)
{
	dst->capped |= src->capped;
	if (!src->dense) {
		const uint64_t *v = src->cap ? src->u.v : src->u.inl;
		for (uint32_t i = 0; i < src->n; i++)
			dset_add(dst, v[i], b);
		return;
	}
	if (!dst->dense && !densify(dst, b)) {
		dst->capped = true;
		return;
	}
	for (uint32_t i = 0; i < HLL_REGISTERS; i++)
		if (src->u.hll[i] > dst->u.hll[i])
			dst->u.hll[i] = src->u.hll[i];
}

/* Ertl's estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017): one formula from empty to huge, with no
 * bias tables and no switch to linear counting, whose bias near 2.5 m
 * made the classic estimate miss by more than its standard error. */
static double hll_sigma(double x)
{
	double y = 1, z = x, prev;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

static double hll_tau(double x)
{
	double y = 1, z = 1 - x, prev;

	if (x == 0 || x == 1)
		return 0;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != prev);
	return z / 3;
}

#define HLL_Q (64 - HLL_BITS)          /* ranks run from 0 to HLL_Q + 1 */

static long hll_count(const uint8_t *reg)
{
	double m = HLL_REGISTERS;
	unsigned c[HLL_Q + 2] = { 0 };

	for (uint32_t i = 0; i < HLL_REGISTERS; i++)
		c[reg[i] <= HLL_Q + 1 ? reg[i] : HLL_Q + 1]++;
	double z = m * hll_tau(1 - c[HLL_Q + 1] / m);
	for (int k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * hll_sigma(c[0] / m);
	return lround(m * m / (2 * log(2)) / z);
}

long dset_count(const struct dset *s, bool *estimate)
{
	*estimate = s->dense || s->capped;
	return s->dense ? hll_count(s->u.hll) : (long)s->n;
}

void dset_free(struct dset *s, struct sketch_budget *b)
{
	if (s->dense) {
		free(s->u.hll);
		refund(b, HLL_REGISTERS);
	} else if (s->cap) {
		free(s->u.v);
		refund(b, s->cap * sizeof(uint64_t));
	}
	memset(s, 0, sizeof *s);
}
