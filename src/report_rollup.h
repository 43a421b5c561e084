/* report_rollup.h: the report's optional rollup, kept incrementally.
 *
 * `sectop setup --rollup` creates small tables named after the audit table
 * (report_sql.c has their DDL, sectop(1) ROLLUP describes them): per hour
 * and tenant the counts; the failures of each address per hour (and
 * tenant), and over two-week buckets for the top addresses; unauthorized
 * and cross-tenant rows per tenant and user; the hours in which an address
 * made REPORT_HOT_MIN requests or more; the hours each address was seen in,
 * as bits; a copy of sectop's own action rows and of secret rotations; and
 * a state row: the definition it was built for and the hours it covers,
 * [rolled_from, rolled_until).
 *
 * Only complete hours are rolled up.  Each update (every report, and
 * setup again) first re-checks the last `rollup-recheck` hours: an hour
 * whose rows no longer add up to what was rolled up (a row committed late)
 * is redone; then it rolls up the complete hours not yet covered, a day per
 * transaction.  The state row is locked meanwhile, so two updates never
 * roll up the same hours.
 */
#ifndef SECTOP_REPORT_ROLLUP_H
#define SECTOP_REPORT_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct report_db;
struct report_params;
struct report_sql;

struct rollup_state {
	bool exists;                 /* the state table is there */
	bool matches;                /* built for the configured definition */
	int64_t from_us, until_us;   /* the hours it covers */
};

/* Called as hours are rolled up: done of total. */
typedef void (*rollup_progress_fn)(void *ctx, long done, long total);

int rollup_state_read(struct report_db *db, const struct report_sql *q, struct rollup_state *st);

/* Bring an existing rollup up to date (see above).  A rollup built for
 * another definition is rebuilt when `rebuild`, else left alone (matches
 * false).  0, or -1 with db->error (the state is then as it was read). */
int rollup_update(struct report_db *db, const struct report_sql *q, struct report_params *p,
                  const struct config *cfg, struct rollup_state *st, bool rebuild,
                  rollup_progress_fn progress, void *ctx);

/* `sectop setup --rollup`: create what is missing, roll up the whole table,
 * ANALYZE; a summary on out.  `sectop setup --drop-rollup`: drop it all. */
int rollup_setup(struct report_db *db, const struct report_sql *q, struct report_params *p,
                 const struct config *cfg, rollup_progress_fn progress, void *ctx, FILE *out);
int rollup_drop(struct report_db *db, const struct report_sql *q, FILE *out);

#endif
