/* report_rollup.c: create, update, drop the report's rollup (report_rollup.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "report.h"
#include "report_db.h"
#include "report_rollup.h"
#include "report_sql.h"
#include "snapshot_out.h"

/* Hours rolled up per transaction when catching up. */
#define CHUNK_HOURS 24

int rollup_state_read(struct report_db *db, const struct report_sql *q, struct rollup_state *st)
{
	const char *v[] = { q->state_table };

	memset(st, 0, sizeof *st);
	struct pg_result *r = report_db_query_n(db, "SELECT to_regclass($1) IS NOT NULL", 1, v);
	if (!r)
		return -1;
	st->exists = report_db_rows(r) == 1 && strcmp(report_db_str_peek(r, 0, 0), "t") == 0;
	report_db_clear(r);
	if (!st->exists)
		return 0;
	const char *none[RP_N] = { 0 };
	if (!(r = report_db_query(db, q->rollup[RS_STATE], none)))
		return -1;
	if (report_db_rows(r) == 1) {
		st->matches = strcmp(report_db_str_peek(r, 0, 0), q->definition) == 0;
		st->from_us = report_db_num(r, 0, 1);
		st->until_us = report_db_num(r, 0, 2);
	} else {
		st->exists = false;          /* the tables, but never a first roll-up */
	}
	report_db_clear(r);
	return 0;
}

/* Roll up the whole hours [a, b): every table, in the caller's transaction. */
static int fill(struct report_db *db, const struct report_sql *q, struct report_params *p,
                int64_t a, int64_t b)
{
	report_params_period(p, a, b, a, a);
	report_params_tenant(p, NULL);
	for (int i = 0; i < RS_N_FILL; i++) {
		struct pg_result *r = report_db_query(db, q->rollup[i], p->v);
		if (!r)
			return -1;
		report_db_clear(r);
	}
	return 0;
}

/* Lock the state row and read it again: another update may have run. */
static int lock_state(struct report_db *db, const struct report_sql *q, struct rollup_state *st,
                      char **definition)
{
	const char *none[RP_N] = { 0 };
	struct pg_result *r = report_db_query(db, q->rollup[RS_STATE_LOCK], none);

	if (!r)
		return -1;
	if (report_db_rows(r) != 1) {
		report_db_clear(r);
		snprintf(db->error, sizeof db->error, "the rollup's state row is missing");
		return -1;
	}
	*definition = report_db_str(r, 0, 0);
	st->from_us = report_db_num(r, 0, 1);
	st->until_us = report_db_num(r, 0, 2);
	report_db_clear(r);
	return 0;
}

/* One hour by the server: this hour (the first not complete, RS_CLOCK) or
 * the table's first (RS_FIRST; this hour when the table is empty). */
static int server_hour(struct report_db *db, const struct report_sql *q, enum rollup_stmt which,
                       int64_t *hour)
{
	const char *none[RP_N] = { 0 };
	struct pg_result *r = report_db_query(db, q->rollup[which], none);

	if (!r)
		return -1;
	*hour = report_db_num(r, 0, 0);
	report_db_clear(r);
	if (!*hour && which == RS_FIRST)
		return server_hour(db, q, RS_CLOCK, hour);
	return 0;
}

static int set_state(struct report_db *db, const struct report_sql *q, struct report_params *p,
                     enum rollup_stmt which, int64_t from, int64_t until)
{
	report_params_period(p, from, until, from, from);
	struct pg_result *r = report_db_query(db, q->rollup[which], p->v);
	report_db_clear(r);
	return r ? 0 : -1;
}

/* Redo the rolled-up hours among the last `recheck` whose rows changed. */
static int recheck(struct report_db *db, const struct report_sql *q, struct report_params *p,
                   const struct rollup_state *st, int recheck_s)
{
	int64_t a = report_floor_hour(st->until_us - (int64_t)recheck_s * 1000000 + REPORT_HOUR_US - 1);

	if (a < st->from_us)
		a = st->from_us;
	if (a >= st->until_us)
		return 0;
	report_params_period(p, a, st->until_us, a, a);
	struct pg_result *r = report_db_query(db, q->rollup[RS_RECHECK], p->v);
	if (!r)
		return -1;
	int n = report_db_rows(r), rc = 0;
	int64_t *hours = calloc((size_t)n + 1, sizeof *hours);
	for (int i = 0; hours && i < n; i++)
		hours[i] = report_db_num(r, i, 0);
	report_db_clear(r);
	if (!hours)
		return -1;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = fill(db, q, p, hours[i], hours[i] + REPORT_HOUR_US);
	free(hours);
	return rc;
}

static int abort_tx(struct report_db *db, char *definition)
{
	char saved[sizeof db->error], state[sizeof db->sqlstate];

	free(definition);
	/* the ROLLBACK must not hide why */
	memcpy(saved, db->error, sizeof saved);
	memcpy(state, db->sqlstate, sizeof state);
	if (report_db_ok(db))
		report_db_command(db, "ROLLBACK");
	memcpy(db->error, saved, sizeof saved);
	memcpy(db->sqlstate, state, sizeof state);
	return -1;
}

/* One transaction: the re-check, or a rebuild's start when the definition
 * changed.  *go is false when the rollup is for another definition. */
static int update_begin(struct report_db *db, const struct report_sql *q, struct report_params *p,
                        const struct config *cfg, struct rollup_state *st, bool rebuild,
                        int64_t *now_hour, bool *go)
{
	char *definition = NULL;
	int64_t first;

	if (report_db_command(db, "BEGIN") < 0 || lock_state(db, q, st, &definition) < 0 ||
	    server_hour(db, q, RS_CLOCK, now_hour) < 0)
		return abort_tx(db, definition);
	st->matches = strcmp(definition, q->definition) == 0;
	*go = st->matches || rebuild;
	if (!*go) {
		abort_tx(db, definition);
		return 0;
	}
	if (!st->matches) {
		/* built for other names or another failure definition: start again */
		if (report_db_command(db, q->truncate) < 0 || server_hour(db, q, RS_FIRST, &first) < 0 ||
		    set_state(db, q, p, RS_STATE_RESET, first, first) < 0)
			return abort_tx(db, definition);
		st->from_us = st->until_us = first;
		st->matches = true;
	} else if (recheck(db, q, p, st, cfg->rollup_recheck_s) < 0) {
		return abort_tx(db, definition);
	}
	free(definition);
	return report_db_command(db, "COMMIT");
}

/* Roll up [until, now_hour) a day per transaction, so that an interrupted
 * catch-up keeps what it did. */
static int catch_up(struct report_db *db, const struct report_sql *q, struct report_params *p,
                    struct rollup_state *st, int64_t now_hour, rollup_progress_fn progress, void *ctx)
{
	long total = st->until_us < now_hour ? (long)((now_hour - st->until_us) / REPORT_HOUR_US) : 0;
	long done = 0;

	while (st->until_us < now_hour) {
		char *definition = NULL;
		if (report_db_command(db, "BEGIN") < 0 || lock_state(db, q, st, &definition) < 0)
			return abort_tx(db, definition);
		free(definition);
		int64_t a = st->until_us, b = a + CHUNK_HOURS * REPORT_HOUR_US;
		if (b > now_hour)
			b = now_hour;
		if (a < b && (fill(db, q, p, a, b) < 0 || set_state(db, q, p, RS_STATE_SET, st->from_us, b) < 0))
			return abort_tx(db, NULL);
		if (report_db_command(db, "COMMIT") < 0)
			return -1;
		if (a < b) {
			st->until_us = b;
			done += (long)((b - a) / REPORT_HOUR_US);
		}
		if (progress)
			progress(ctx, done, total);
	}
	return 0;
}

int rollup_update(struct report_db *db, const struct report_sql *q, struct report_params *p,
                  const struct config *cfg, struct rollup_state *st, bool rebuild,
                  rollup_progress_fn progress, void *ctx)
{
	struct rollup_state saved = *st;
	int64_t now_hour = 0;
	bool go = false;

	if (update_begin(db, q, p, cfg, st, rebuild, &now_hour, &go) < 0) {
		*st = saved;
		return -1;
	}
	if (!go)
		return 0;
	return catch_up(db, q, p, st, now_hour, progress, ctx);
}

int rollup_setup(struct report_db *db, const struct report_sql *q, struct report_params *p,
                 const struct config *cfg, rollup_progress_fn progress, void *ctx, FILE *out)
{
	struct rollup_state st = { .exists = true };
	int64_t first, started = clock_mono_ms();

	if (report_db_command(db, "BEGIN") < 0 || report_db_command(db, q->create) < 0 ||
	    server_hour(db, q, RS_FIRST, &first) < 0 ||
	    set_state(db, q, p, RS_STATE_INIT, first, first) < 0 ||
	    report_db_command(db, "COMMIT") < 0)
		return abort_tx(db, NULL);
	if (rollup_update(db, q, p, cfg, &st, true, progress, ctx) < 0)
		return -1;
	if (report_db_command(db, q->analyze) < 0)
		return -1;
	char from[32], until[32];
	snapshot_iso_time(from, sizeof from, st.from_us / 1000000);
	snapshot_iso_time(until, sizeof until, st.until_us / 1000000);
	fprintf(out, "rollup of %s: %lld complete hours, %s to %s, up to date (%.1f s)\n",
	        cfg->schema.table, (long long)((st.until_us - st.from_us) / REPORT_HOUR_US), from, until,
	        (double)(clock_mono_ms() - started) / 1000.0);
	return 0;
}

int rollup_drop(struct report_db *db, const struct report_sql *q, FILE *out)
{
	if (report_db_command(db, q->drop) < 0)
		return -1;
	fprintf(out, "rollup dropped\n");
	return 0;
}
