/* sketch.h: distinct counts that stay small, and the hash they are built on.
 *
 * A set counts distinct 64-bit hashes.  It is exact while it holds at most
 * DSET_EXACT_MAX of them (two inline, then a small array), and becomes a
 * HyperLogLog of 2^14 one-byte registers past that: 16 KB whatever the
 * cardinality, standard error 1.04/sqrt(16384) = 0.8% (Ertl's estimator,
 * no bias at any cardinality: under 1.5% measured from 500 to 10^6).  Sets merge (a
 * union), so per-minute sets add up to a window's.
 *
 * Memory is charged to a budget shared by every set of one owner; a set
 * that may not grow (the budget is spent) stops counting exactly and says
 * so: its count is then a lower bound, marked as an estimate.
 */
#ifndef SECTOP_SKETCH_H
#define SECTOP_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSET_INLINE 2
#define DSET_EXACT_MAX 128
#define HLL_BITS 14
#define HLL_REGISTERS (1u << HLL_BITS)

struct sketch_budget {
	size_t used, max;           /* bytes; max 0: no limit */
	unsigned long refused;      /* growths refused since the start */
};

struct dset {
	union {
		uint64_t inl[DSET_INLINE];  /* exact, n <= DSET_INLINE */
		uint64_t *v;                /* exact, cap > 0 */
		uint8_t *hll;               /* dense */
	} u;
	uint32_t n;                 /* exact: values held */
	uint16_t cap;               /* exact: capacity of u.v, 0 while inline */
	bool dense;                 /* u.hll holds HLL_REGISTERS registers */
	bool capped;                /* a growth was refused: a lower bound */
};

/* 64 well-mixed bits of a byte string, and a mixer for hashes made
 * elsewhere (PostgreSQL's hashtextextended). */
uint64_t hash64(const void *p, size_t n);
uint64_t hash64_mix(uint64_t h);

void dset_add(struct dset *s, uint64_t h, struct sketch_budget *b);
/* dst |= src */
void dset_merge(struct dset *dst, const struct dset *src, struct sketch_budget *b);
/* The number of distinct values; *estimate says whether it is one. */
long dset_count(const struct dset *s, bool *estimate);
void dset_free(struct dset *s, struct sketch_budget *b);

#endif
