/* team_pg.c: the team's actions from the audit log: the console's feed
 * past a cursor, and one incident's rows for the command line. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "conf.h"
#include "connect.h"
#include "pg_sql.h"
#include "report.h"
#include "sanitize.h"
#include "team_pg.h"
#include "timeline.h"

int team_feed_init(struct team_feed *f)
{
	memset(f, 0, sizeof *f);
	f->actions = team_action_names();
	return f->actions ? 0 : -1;
}

void team_feed_free(struct team_feed *f)
{
	free(f->actions);
	memset(f, 0, sizeof *f);
}

static bool have_cursor(const struct team_feed *f)
{
	return f->cursor_id[0] != '\0';
}

void team_feed_clock_params(const struct team_feed *f, char lo[24], char cur[24], const char *v[4])
{
	snprintf(lo, 24, "%lld", (long long)f->lo_us);
	snprintf(cur, 24, "%lld", (long long)f->cursor_us);
	v[0] = f->lo_us ? lo : NULL;
	v[1] = have_cursor(f) ? cur : NULL;
	v[2] = have_cursor(f) ? f->cursor_id : NULL;
	v[3] = f->actions;
}

/* The scan's start moves up to the overlap before the server's time: a row
 * from before it was committed at the last look, and was seen then. */
static void move_lo(struct team_feed *f)
{
	int64_t lo = f->clock_us - TEAM_OVERLAP_US;

	if (lo > f->lo_us)
		f->lo_us = lo;
}

void team_feed_clock(struct team_feed *f, int64_t server_us, int past, int window_s)
{
	f->clock_us = server_us;
	f->past = past > 0;
	if (!f->lo_us) {                      /* the first look: the window's */
		f->lo_us = server_us - (int64_t)window_s * 1000000;
		f->want = true;
	}
}

void team_feed_flagged(struct team_feed *f)
{
	f->flagged = true;
}

/* Nothing was flagged or found: every row up to CLOCK's time that had
 * committed was looked at (the dashboard reads up to the server's clock),
 * so the next scan may start an overlap before it. */
bool team_feed_decide(struct team_feed *f)
{
	f->want = f->want || f->flagged || f->past;
	f->flagged = f->past = false;
	if (!f->want)
		move_lo(f);
	return f->want;
}

void team_feed_rows_params(const struct team_feed *f, int text_max, char buf[3][24], const char *v[7])
{
	snprintf(buf[0], 24, "%lld", (long long)f->lo_us);
	snprintf(buf[1], 24, "%lld", (long long)f->cursor_us);
	snprintf(buf[2], 24, "%d", text_max);
	v[0] = buf[0];
	v[1] = have_cursor(f) ? buf[1] : NULL;
	v[2] = have_cursor(f) ? f->cursor_id : NULL;
	v[3] = f->actions;
	v[4] = buf[2];
	v[5] = TEAM_BATCH_TEXT;
	v[6] = NULL;
}

bool team_feed_took(struct team_feed *f, const struct team_op *v, size_t n)
{
	f->rows += n;
	f->error[0] = '\0';
	if (n) {
		f->cursor_us = v[n - 1].ts_us;
		snprintf(f->cursor_id, sizeof f->cursor_id, "%s", v[n - 1].id);
	}
	if (n == TEAM_BATCH)
		return true;
	f->want = false;
	move_lo(f);
	return false;
}

void team_feed_failed(struct team_feed *f, const char *why)
{
	snprintf(f->error, sizeof f->error, "%s", why ? why : "query failed");
	f->want = false;
	move_lo(f);
}

static char *field(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

struct team_op *team_ops_from_result(const PGresult *r, size_t *n)
{
	int rows = PQntuples(r);
	struct team_op *v = calloc((size_t)rows + 1, sizeof *v);

	*n = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < rows; i++) {
		struct team_op *op = &v[i];
		snprintf(op->id, sizeof op->id, "%s", PQgetvalue(r, i, 0));
		op->ts_us = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		op->action = field(r, i, 2);
		op->operator_id = field(r, i, 3);
		op->resource_type = field(r, i, 4);
		op->target = field(r, i, 5);
		op->tenant = field(r, i, 6);
		op->journal_id = field(r, i, 7);
		op->incident = field(r, i, 8);
		op->reason = field(r, i, 9);
		op->note = field(r, i, 10);
		op->mode = field(r, i, 11);
		op->outcome = field(r, i, 12);
	}
	*n = (size_t)rows;
	return v;
}

/* Append src's n rows to *all (of *n_all); the rows move.  -1 out of memory. */
static int append_ops(struct team_op **all, size_t *n_all, struct team_op *src, size_t n)
{
	struct team_op *v = realloc(*all, (*n_all + n + 1) * sizeof *v);

	if (!v)
		return -1;
	memcpy(v + *n_all, src, n * sizeof *v);
	*all = v;
	*n_all += n;
	return 0;
}

int team_pg_incident(const struct config *cfg, const char *incident, int64_t since_us,
                     struct team_op **out, size_t *n_out, char *err, size_t errsz)
{
	struct pg_sql sql;
	struct team_feed f;
	PGconn *c = NULL;
	int rc = -1;

	*out = NULL;
	*n_out = 0;
	if (pg_sql_build(&sql, cfg, false) < 0 || team_feed_init(&f) < 0) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	f.lo_us = since_us;
	c = connect_pg(cfg, PG_READ, "sectop-timeline");
	if (!c || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errsz, "%s", c ? PQerrorMessage(c) : "out of memory");
		goto done;
	}
	for (;;) {
		char buf[3][24];
		const char *v[7];
		team_feed_rows_params(&f, cfg->text_max, buf, v);
		v[6] = incident;
		PGresult *res = PQexecParams(c, sql.team_rows, 7, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			snprintf(err, errsz, "%s", PQerrorMessage(c));
			PQclear(res);
			goto done;
		}
		size_t n;
		struct team_op *batch = team_ops_from_result(res, &n);
		PQclear(res);
		if (!batch || append_ops(out, n_out, batch, n) < 0) {
			team_ops_free(batch, n);
			snprintf(err, errsz, "out of memory");
			goto done;
		}
		free(batch);                 /* its rows moved into *out */
		if (!team_feed_took(&f, *out + *n_out - n, n))
			break;
	}
	rc = 0;
done:
	if (rc < 0) {
		team_ops_free(*out, *n_out);
		*out = NULL;
		*n_out = 0;
		err[strcspn(err, "\n")] = '\0';
	}
	if (c)
		PQfinish(c);
	team_feed_free(&f);
	pg_sql_free(&sql);
	return rc;
}

static int64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int team_timeline_export(const struct config *cfg, const char *journal_path, const char *incident,
                         FILE *f, const char *who, char offline[200], char *err, size_t errsz)
{
	int64_t now = now_us();
	int64_t since = cfg->since ? report_parse_time(cfg->since, now) : timeline_team_since(journal_path, incident, now);
	struct team_op *v = NULL;
	size_t n = 0;

	offline[0] = '\0';
	if (since < 0)
		snprintf(offline, 200, "--since %s is not a time", cfg->since);
	else if (team_pg_incident(cfg, incident, since, &v, &n, offline, 200) < 0 && !offline[0])
		snprintf(offline, 200, "no answer");
	if (offline[0]) {                    /* libpq's words may quote the server's */
		char *safe = sanitize_str(offline, 0);
		snprintf(offline, 200, "%s", safe ? safe : "no answer");
		free(safe);
	}
	struct tl_team team = { v, n, offline[0] ? offline : NULL };
	int rc = timeline_export_team(journal_path, incident, &team, f, who, err, errsz);
	team_ops_free(v, n);
	return rc;
}
