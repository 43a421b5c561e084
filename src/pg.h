/* pg.h: the PostgreSQL source.  Asynchronous libpq driven by the loop:
 * connect with PQconnectStartParams/PQconnectPoll, one query in flight at a
 * time with PQsendQueryParams, results with PQconsumeInput.  A deadline
 * bounds every step; a hung or dead server makes this source stale, never
 * the loop slow. */
#ifndef SECTOP_PG_H
#define SECTOP_PG_H

#include <stddef.h>

#include "source.h"

struct config;
struct model;
struct pg;

struct pg *pg_new(const struct config *cfg, struct model *m, char *err, size_t errsz);
struct source pg_source(struct pg *p);

/* Queries run so far and how many refreshes found nothing new (for tests
 * and the benchmark: a quiet refresh costs one small query). */
void pg_counters(const struct pg *p, unsigned long *queries, unsigned long *quiet_refreshes);
/* Audit rows read so far (the window's reading, then the new rows). */
unsigned long pg_rows_read(const struct pg *p);
/* The operators' actions' cursor (team_pg.h), for tests. */
struct team_feed;
const struct team_feed *pg_team_feed(const struct pg *p);

#endif
