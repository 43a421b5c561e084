/* redis.h: the Redis source.  The hiredis async API on our own poll adapter:
 * the context says which events it wants, the loop polls its fd, ready()
 * hands the events back.  hiredis 0.14 has no async timeouts, so every batch
 * of commands in flight carries its own deadline; past it the connection is
 * dropped and remade with backoff.  A refresh:
 *   - fetches the exact state of every address on screen (m->top_ips) in one
 *     pipeline: GET+TTL of the block key, GET of both counters;
 *   - walks the keyspace with SCAN ... MATCH <one pattern for the three
 *     prefixes> COUNT n (never KEYS), paced: a pass starts at most every
 *     cfg->walk_interval_s, visits at most cfg->scan_rate keys a second and
 *     spends at most cfg->scan_budget_ms per refresh; it counts every key
 *     and keeps the cfg->blocked_max most relevant blocks (blockset.h) and
 *     the largest counters, published when the pass ends (the count and the
 *     progress as it goes; the blocks found so far during the first pass);
 *   - where the server publishes keyspace events, follows the block keys on
 *     a second connection (redis_events.h) and reads each key they name;
 *     the walk then comes ten times less often
 *     (redis_walk_blocks_only(): the block keys alone; redis_lookup_blocks_only():
 *     no walk, the listed addresses' block keys alone).
 * Key names are kept raw, whatever bytes they hold: views sanitise them.
 */
#ifndef SECTOP_REDIS_H
#define SECTOP_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "source.h"

struct config;
struct model;
struct redis;

/* Most blocked keys the report's walk keeps (the console and the snapshot
 * keep blocked-max), and most counters of each kind. */
#define REDIS_MAX_BLOCKED 100000
#define REDIS_TOP_COUNTERS 200

/* Parses cfg->redis; does not connect yet (the first tick does).  NULL with
 * a reason in err on a bad URL or when out of memory. */
struct redis *redis_new(const struct config *cfg, struct model *m, char *err, size_t errsz);
struct source redis_source(struct redis *r);

/* The server as shown in the header and the logs: never the password. */
const char *redis_display(const struct redis *r);

/* What the source did so far, for tests and the benchmark. */
struct redis_stats {
	unsigned long commands;      /* commands sent */
	unsigned long scan_steps;    /* SCAN commands sent */
	unsigned long walks;         /* complete walks published */
	unsigned long connects;      /* connections attempted */
	unsigned long blocked_dropped; /* block keys counted but not listed, last walk */
	unsigned long events;        /* keys read because a keyspace event named them */
};
void redis_get_stats(const struct redis *r, struct redis_stats *out);

/* Walk the block keys only, with SCAN ... COUNT scan_count (the larger of
 * it and the configured count), and publish no counters: for one-off
 * readers such as `sectop report`, which list the current blocks and
 * nothing else.  A walk visits every key of the database whatever its
 * prefix, so each prefix left out saves a whole pass over the keyspace.
 * Call before the first tick. */
void redis_walk_blocks_only(struct redis *r, int scan_count);

/* No walk at all: only the block keys of the addresses in m->top_ips are
 * read, GET and TTL in one pipeline, each time the list is replaced.  For
 * `sectop report`, which knows from the audit log which addresses matter:
 * the cost follows those addresses, not the size of the keyspace.  Call
 * before the first tick. */
void redis_lookup_blocks_only(struct redis *r);

/* Every block key the walk finds, handed to fn as it is found (each key
 * once), besides the bounded list in the model: for `sectop snapshot
 * --all-blocks`, which streams them without holding them.  The entry is
 * lent for the call.  Call before the walk starts (see redis_walk_hold()). */
struct block_entry;
typedef void (*redis_block_fn)(void *ctx, const struct block_entry *b);
void redis_stream_blocks(struct redis *r, redis_block_fn fn, void *ctx);

/* While held, no pass of the walk starts (the exact reads go on). */
void redis_walk_hold(struct redis *r, bool hold);

#endif
