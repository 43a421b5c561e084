/* team_pg.h: reading the team's actions (team.h) from the audit log.
 *
 * In the console they come incrementally, as the live tail does: a cursor,
 * the (timestamp, id) of the last operator action read, and the start of
 * the range still looked at.  The dashboard's own reading of the rows past
 * its cursor (ROWS and LATE, pg.c) flags an operator's action among them,
 * at no cost; scoped to a tenant, which those rows are, the dashboard's
 * first query (CLOCK) asks instead, over the rows since the last look (and
 * a few seconds before, for rows that commit a little after their time).
 * Only then are they read.  So a refresh costs the rows that arrived,
 * never the window, and a quiet one no extra query.  The first refresh
 * reads the window's operator actions.
 *
 * The command line reads one incident's, every operator's, at once. */
#ifndef SECTOP_TEAM_PG_H
#define SECTOP_TEAM_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "team.h"

struct config;

#define TEAM_BATCH 200              /* rows a query */
#define TEAM_BATCH_TEXT "200"
#define TEAM_OVERLAP_US 3000000     /* looked at again: rows that commit late */

struct team_feed {
	int64_t lo_us;           /* the next scan starts here (unix us); 0: nothing read yet */
	int64_t cursor_us;       /* the last action read ... */
	char cursor_id[64];      /* ... and its id; "" none yet */
	int64_t clock_us;        /* the server's time at this refresh's CLOCK */
	bool want;               /* this refresh reads rows */
	bool flagged;            /* the dashboard's rows held an operator's action */
	bool past;               /* CLOCK found one past the cursor */
	char *actions;           /* the operators' action names, a text[] parameter */
	unsigned long rows, queries;
	char error[256];         /* why the last reading failed; "" none */
};

int team_feed_init(struct team_feed *f);
void team_feed_free(struct team_feed *f);

/* CLOCK's parameters $7..$10 into v (the buffers hold the numbers). */
void team_feed_clock_params(const struct team_feed *f, char lo[24], char cur[24], const char *v[4]);
/* CLOCK answered: the server's time and whether an action lies past the
 * cursor (-1: not asked). */
void team_feed_clock(struct team_feed *f, int64_t server_us, int past, int window_s);
/* The dashboard's rows held an operator's action. */
void team_feed_flagged(struct team_feed *f);
/* The dashboard's part of the refresh is over: whether to read the
 * actions now (the first time, or one was flagged or found); if not, the
 * scan's start moves on.  Sets f->want. */
bool team_feed_decide(struct team_feed *f);
/* The rows query's seven parameters (pg_sql.c's team_rows). */
void team_feed_rows_params(const struct team_feed *f, int text_max, char buf[3][24], const char *v[7]);
/* A batch was read: the cursor moves.  True when there may be more. */
bool team_feed_took(struct team_feed *f, const struct team_op *v, size_t n);
/* The reading failed (a timeout on a large window): what is older than
 * the overlap is given up rather than asked again at every refresh. */
void team_feed_failed(struct team_feed *f, const char *why);

/* The rows of a team_rows result, oldest first (malloc'd, *n of them). */
struct team_op *team_ops_from_result(const PGresult *r, size_t *n);

/* Every operator's actions of one incident from since_us on (unix us),
 * oldest first, on a connection of its own, each query bounded by the
 * server timeout.  0, or -1 with err (the database did not answer). */
int team_pg_incident(const struct config *cfg, const char *incident, int64_t since_us,
                     struct team_op **out, size_t *n, char *err, size_t errsz);

#endif
