/* blockset.h: the most relevant blocks, at most `max` of them, in memory
 * that does not grow with the number of blocks.
 *
 * With 200,000 block keys (a botnet the servers blocked) the console and
 * the snapshot keep a count of them all and the entries of only the most
 * relevant ones.  Relevance, most relevant first:
 *   1. pinned: an address on screen (the operator is looking at it);
 *   2. no expiry (TTL -1): it never goes away by itself, and no API server
 *      writes one: an operator or a script did, deliberately;
 *   3. the longest remaining TTL: the servers block for a fixed time, so
 *      this is the newest block, the attack in progress, and for an
 *      operator's block the longest one asked for;
 *   4. the key's bytes, ascending: the same keys give the same list.
 * A min-heap holds the kept entries, the least relevant at its root, so an
 * entry more relevant than it replaces it in O(log max); a hash set over the
 * keys (whatever bytes they hold) sees a key SCAN returns twice.
 */
#ifndef SECTOP_BLOCKSET_H
#define SECTOP_BLOCKSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct blockset_item {
	struct block_entry e;        /* owned; e.key_len counts the key's bytes */
	bool pinned;
	bool from_event;             /* known from a keyspace event, not (yet) seen by the walk */
	size_t pos;                  /* in the heap */
};

struct blockset {
	size_t max;
	struct blockset_item *items; /* stable slots; the heap and the set index them */
	size_t n, cap;
	uint32_t *heap;              /* slot numbers, least relevant first */
	uint32_t *slots;             /* open addressing: slot + 1; 0 empty; UINT32_MAX deleted */
	size_t n_slots, n_deleted;
	unsigned long dropped;       /* entries not kept: less relevant than all kept */
};

void blockset_init(struct blockset *s, size_t max);
void blockset_clear(struct blockset *s);

/* Is a more relevant than b?  (The order above; exposed for the tests.) */
bool blockset_more_relevant(const struct blockset_item *a, const struct blockset_item *b);

enum blockset_result {
	BLOCKSET_DROPPED,            /* less relevant than every entry kept */
	BLOCKSET_KEPT,               /* a new key, kept (another may have gone) */
	BLOCKSET_UPDATED,            /* a key already held: updated in place */
};

/* Offer a block: the set takes e's strings (kept or freed; e is zeroed). */
enum blockset_result blockset_offer(struct blockset *s, struct block_entry *e, bool pinned);

/* Mark a held key as known from a keyspace event (a later offer, the
 * walk's, clears it); how many held keys are so marked. */
void blockset_mark_event(struct blockset *s, const char *key, size_t len);
size_t blockset_events_held(const struct blockset *s);
bool blockset_event_marked(const struct blockset *s, const char *key, size_t len);

/* Remove a key if held (it expired, or was deleted).  True if it was;
 * *was_event (may be NULL) says whether it was marked from an event. */
bool blockset_remove(struct blockset *s, const char *key, size_t len, bool *was_event);

/* Is the key held? */
bool blockset_has(const struct blockset *s, const char *key, size_t len);

/* A deep copy of e into d; false (d empty) when out of memory. */
bool block_entry_copy(struct block_entry *d, const struct block_entry *e);

/* The entries, most relevant first: a new array of copies (the set keeps
 * its own), or moved out when take is true (the set is then empty).  *n is
 * set; NULL with *n == 0 when empty or out of memory (*oom says which). */
struct block_entry *blockset_list(struct blockset *s, bool take, size_t *n, bool *oom);

#endif
