/* report_pg.h: the report's figures from PostgreSQL: the summary of both
 * periods, failures per hour, top and busy addresses, unauthorized and
 * cross-tenant access, operator actions, API keys and secret rotations.
 * With a rollup (report_rollup.h) that matches the configuration, whole
 * hours come from it and only the edges of the periods from the table. */
#ifndef SECTOP_REPORT_PG_H
#define SECTOP_REPORT_PG_H

#include <stdint.h>

#include "report_rollup.h"

struct config;
struct report;
struct report_db;
struct report_sql;

/* Fill r for [since, until) and the period of the same length before it.
 * `second` (may be NULL) is another session to the same database: half
 * the sections run there meanwhile.  A section that fails is noted in r
 * and the rest still read; r->pg_ok says whether everything was.  -1 only
 * when out of memory. */
int report_pg_fill(struct report *r, struct report_db *db, struct report_db *second,
                   const struct report_sql *q, const struct config *cfg, int64_t since_us,
                   int64_t until_us, rollup_progress_fn progress, void *ctx);

#endif
