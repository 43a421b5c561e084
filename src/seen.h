/* seen.h: the rows near the cursor that were already counted.
 *
 * Rows commit out of timestamp order, so every refresh looks again at the
 * last `tail-overlap` seconds before its cursor.  A row found there is new
 * only if it is not here.  Rows are held by a 64-bit hash of their id and
 * their time; those older than the overlap are pruned.  The set is bounded:
 * past `max` rows the oldest half goes, and `floor_us` says from when on the
 * set still vouches for every row (the overlap shrinks to it rather than
 * counting a row twice).
 */
#ifndef SECTOP_SEEN_H
#define SECTOP_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct seen_slot {
	uint64_t id;               /* 0: empty (a hash of 0 is stored as 1) */
	int64_t ts_us;
};

struct seen {
	struct seen_slot *slot;
	size_t cap, n, max;
	int64_t floor_us;          /* rows before it may have been forgotten */
};

void seen_init(struct seen *s, size_t max);
/* Forget every row and free the table (the set stays usable). */
void seen_clear(struct seen *s);
/* Remember a row; false if it was already there. */
bool seen_add(struct seen *s, uint64_t id, int64_t ts_us);
bool seen_has(const struct seen *s, uint64_t id);
/* Forget the rows older than ts_us. */
void seen_prune(struct seen *s, int64_t before_us);
/* Rows held with from_us <= ts <= to_us. */
size_t seen_count(const struct seen *s, int64_t from_us, int64_t to_us);
/* Their ids, malloc'd (*n of them); NULL when out of memory. */
uint64_t *seen_ids(const struct seen *s, int64_t from_us, int64_t to_us, size_t *n);

#endif
