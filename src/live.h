/* live.h: the window's figures, kept from the rows that arrive.
 *
 * The PostgreSQL source hands over each audit row once (see seen.h for how
 * late rows are told from rows already counted); this file keeps the window
 * as per-minute buckets and adds them up when the figures are published.  A
 * bucket that leaves the window drops out whole, so a refresh costs the new
 * rows, never the window.
 *
 * What is exact and what is estimated:
 * - failures per minute: always exact;
 * - per address (failures, requests) and per tenant (requests, failures,
 *   unauthorized, cross-tenant): exact while a minute holds at most its
 *   share of `ip_entries` / `tenant_entries` keys.  Past that the minute
 *   keeps the heaviest three quarters (Space-Saving style: lightest out,
 *   the heaviest count dropped is remembered), and a figure that may miss
 *   part of a minute is marked approximate, with the count a lower bound
 *   whose error is at most the sum of what those minutes dropped;
 * - distinct users and tenants per address, addresses and users per tenant:
 *   exact up to 128 a minute, then HyperLogLog (0.8% standard error,
 *   within 2% as tested); a set refused memory is a lower bound.
 * Memory is bounded by the three limits whatever arrives.
 */
#ifndef SECTOP_LIVE_H
#define SECTOP_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct live_row {
	int64_t ts_us;               /* unix microseconds */
	const char *ip;              /* NULL: the row had none */
	const char *tenant;          /* as shown (cut); NULL: none */
	uint64_t tenant_hash;        /* of the whole value, when tenant */
	bool has_user;
	uint64_t user_hash;          /* of the whole value, when has_user */
	bool failed, unauthorized, cross_tenant, rate_limited;
};

struct live_limits {
	size_t ip_entries;           /* address entries over all minutes */
	size_t tenant_entries;       /* tenant entries over all minutes */
	size_t sketch_bytes;         /* distinct sets over all minutes */
};

struct live_usage {
	size_t ip_entries, tenant_entries, sketch_bytes;
	unsigned long compactions;   /* minutes that had to drop their lightest keys */
};

struct live;

struct live *live_new(int window_s, const struct live_limits *lim);
void live_free(struct live *l);

/* Count one row (once: the caller tells late rows from seen ones). */
void live_add(struct live *l, const struct live_row *r);
/* The window now ends in unix minute now_minute (the server's clock):
 * buckets that left it drop out.  True if any did. */
bool live_slide(struct live *l, int64_t now_minute);
/* The first unix second of the window that ends in now_minute. */
int64_t live_window_start(const struct live *l, int64_t now_minute);

/* Failures per minute of the MODEL_MINUTES ending in now_minute: minutes
 * from `streamed_from` up to `streamed_to` (inclusive) from the rows added,
 * the others from `base` (counts of the minutes from base_first on, as one
 * GROUP BY read them), 0 where neither has them. */
void live_set_base(struct live *l, int64_t base_first, const long *base, int n);
void live_fpm(const struct live *l, int64_t now_minute, int64_t streamed_from,
              int64_t streamed_to, long out[MODEL_MINUTES]);

/* The servers' rate-limited events per minute of the MODEL_MINUTES ending
 * in now_minute, from the rows added (0 before the window's start). */
void live_rate_limited(const struct live *l, int64_t now_minute, long out[MODEL_MINUTES]);

/* The top addresses by failures (ties by address, as PostgreSQL orders
 * inet) and the busiest tenants (by requests, ties by name, no tenant
 * last), at most n of each; malloc'd arrays for model_set_*.  Each top
 * address carries its newest row and its failures over the window in
 * MODEL_SPARK slices: read for those n only, from the minutes that hold
 * them, so they cost no memory beyond the n rows. */
struct ip_stat *live_top_ips(struct live *l, size_t n, size_t *count);
struct tenant_stat *live_top_tenants(struct live *l, size_t n, size_t *count);

/* How ranges group the failing addresses: by network (IPv4 /24, IPv6 /64)
 * or by AS, which asn names (0: no AS known for the address; the
 * organisation written to org when org is not NULL). */
struct live_grouping {
	enum range_group by;                 /* RANGES_PREFIX or RANGES_AS */
	unsigned long (*asn)(const void *ctx, const char *ip, char *org, size_t n);
	const void *ctx;
};

/* The top addresses and, when g is not NULL, the top groups of the
 * failing addresses (their failures, requests, addresses and the tenants
 * they touched), from one pass over the window: the ranges cost only the
 * grouping of the failing addresses, and nothing when nobody asks. */
struct live_tops {
	struct ip_stat *ips;                 /* NULL when out of memory */
	size_t n_ips;
	struct range_stat *ranges;           /* NULL when not asked or out of memory */
	size_t n_ranges;
};
void live_tops(struct live *l, size_t n, const struct live_grouping *g, struct live_tops *out);
/* The groups alone (live_tops without the addresses kept). */
struct range_stat *live_top_ranges(struct live *l, size_t n, const struct live_grouping *g, size_t *count);

void live_usage(const struct live *l, struct live_usage *u);

#endif
