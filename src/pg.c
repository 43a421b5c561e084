#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "connect.h"
#include "conf.h"
#include "geoip.h"
#include "log.h"
#include "model.h"
#include "live.h"
#include "pg.h"
#include "pg_sql.h"
#include "seen.h"
#include "sketch.h"
#include "team.h"
#include "team_pg.h"

/*
 * How a refresh stays cheap.  The window's figures live in the client
 * (live.c: per-minute buckets), and each refresh asks the server only about
 * rows past a cursor, the (timestamp, id) of the last row counted:
 *
 *   CLOCK      the server's minute (buckets that left the window drop out),
 *              second by second the rows of the range checked for late
 *              rows (see plan_check), and whether any row lies past the
 *              cursor: on a quiet database, the whole refresh;
 *   LATE       only when a second holds more rows than were counted in it:
 *              the rows of the range, less those counted (by the server's
 *              hash of their ids), all at once;
 *   ROWS       the rows past the cursor, a batch at a time, in cursor order.
 *   TEAM       only when ROWS or LATE flagged one (scoped to a tenant: when
 *              CLOCK found one): operators' actions past their own cursor,
 *              every operator's (team_pg.h).
 *
 * Reading the window (the first refresh, a new window or tenant scope, a
 * new connection) is the same ROWS from the window's start, after BASE
 * (failures per minute of the last hour, one GROUP BY on the failures'
 * index) and TAIL (the newest failures): those two show first, and the
 * other panels fill in batch by batch, marked as being read.
 */
#define ROWS_BATCH 2000           /* rows a query: bounds the client's memory */
#define DETAIL_PACE 100
#define RECENT_US 3000000          /* late rows looked for at every refresh */
#define FULL_EVERY_MS 5000         /* the rest of the overlap, this often */
#define CLOCK_JITTER_US 1000000    /* rows are read up to the server's clock and a second */
#define SEEN_MAX (1u << 18)        /* rows remembered in the overlap: 8 MB at most */
/* The window's memory, whatever arrives: about 4 + 2 + 8 MB (live.h). */
#define LIVE_IP_ENTRIES 32768
#define LIVE_TENANT_ENTRIES 8192
#define LIVE_SKETCH_BYTES (8u << 20)

enum pg_state { PG_IDLE, PG_CONNECTING, PG_READY, PG_BUSY };

/* The steps of one refresh, in order.  SETUP runs once per connection. */
enum pg_step {
	STEP_SETUP, STEP_AT, STEP_CLOCK, STEP_BASE, STEP_TAIL, STEP_LATE, STEP_ROWS, STEP_TEAM,
	/* the drill-down, when one is open: an address or a tenant */
	STEP_DETAIL_EVENTS, STEP_DETAIL_A, STEP_DETAIL_B, STEP_DETAIL_C, STEP_DONE,
	STEP_CONNECTED           /* SETUP answered: the first refresh starts at once */
};

struct pg {
	const struct config *cfg;
	struct model *m;
	struct pg_sql sql;
	struct pg_sql sql_at;    /* the same, for a look back (pg_sql.h) */
	int64_t at_s;            /* this refresh's period end; 0 live (model.h) */
	int64_t session_at;      /* the period end the session's sectop.at holds; 0 none */
	char *fail_actions, *fail_statuses, *unauth_actions, *cross_actions, *rl_actions;

	PGconn *conn;
	enum pg_state state;
	enum pg_step step;
	bool want_write;         /* connecting or flushing: wait for POLLOUT */
	int64_t deadline;        /* of the step in flight (mono ms) */
	int64_t next_refresh;    /* mono ms */
	int64_t retry_at;        /* mono ms, while PG_IDLE */
	bool force;
	struct backoff backoff;

	/* the window, kept from the rows (see the top of this file) */
	struct live *live;
	struct live_limits limits;
	struct seen seen;
	bool filling;            /* reading the window: the cursor is not at the end yet */
	int64_t now_minute;      /* the server's, unix minutes */
	int64_t fill_start_s;    /* the window's start when it was read (unix s) */
	int64_t cursor_us;       /* the last row counted; no cursor while cursor_id is empty */
	char cursor_id[64];
	int64_t tail_from_us;    /* failures from here on come with all their columns */
	bool more;               /* CLOCK: rows lie past the cursor */
	bool changed;            /* this refresh changed a figure */
	/* the late rows' check: see plan_check() */
	bool check_full;         /* this CLOCK checks the whole overlap */
	int64_t check_lo_us;     /* the recent range checked starts here */
	int64_t old_lo_us;       /* the older range counted (whole looks); INT64_MAX none */
	int64_t full_at;         /* mono ms of the last whole check */
	int64_t full_cursor_us;  /* the cursor then; INT64_MAX before the first */
	int64_t late_from_us;    /* LATE: the first second whose count grew */
	unsigned scope_gen;      /* the model's scope this refresh was started for */

	/* the drill-down being fetched */
	unsigned detail_asked;
	/* A drill-down reads its subject's rows of the whole window: an
	 * attacker's may be a million.  Once shown, it is read again no sooner
	 * than DETAIL_PACE times what its last reading took, so that it costs
	 * the server at most 1/DETAIL_PACE of its time. */
	int64_t detail_started, detail_next;  /* mono ms */
	enum detail_kind detail_kind;
	char *detail_key;
	struct event *d_events;
	size_t n_d_events;
	struct name_count *d_groups[DETAIL_GROUPS];
	size_t n_d_groups[DETAIL_GROUPS];
	struct ip_stat *d_ips;
	size_t n_d_ips;

	unsigned long queries, quiet, rows;

	struct team_feed team;   /* operators' actions, past a cursor of their own */
	bool quiet_refresh;      /* this refresh changed no figure */
};

static void pg_discard_detail(struct pg *p)
{
	for (size_t i = 0; i < p->n_d_events; i++)
		event_free(&p->d_events[i]);
	free(p->d_events);
	p->d_events = NULL;
	p->n_d_events = 0;
	for (int g = 0; g < DETAIL_GROUPS; g++) {
		name_counts_free(p->d_groups[g], p->n_d_groups[g]);
		p->d_groups[g] = NULL;
		p->n_d_groups[g] = 0;
	}
	free(p->d_ips);
	p->d_ips = NULL;
	p->n_d_ips = 0;
	free(p->detail_key);
	p->detail_key = NULL;
}

/* Forget the window: the next refresh reads it again. */
static void pg_forget_window(struct pg *p)
{
	live_free(p->live);
	p->live = NULL;
	seen_clear(&p->seen);
	p->cursor_id[0] = '\0';
	p->filling = false;
	p->full_at = 0;
	p->full_cursor_us = INT64_MAX;
}

static void pg_drop(struct pg *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
	p->session_at = 0;
	p->state = PG_IDLE;
}

/* libpq's messages end in a newline and may span lines: keep the first. */
static void first_line(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src && *src ? src : "unknown error");
	dst[strcspn(dst, "\n")] = '\0';
}

static void pg_fail(struct pg *p, int64_t now, const char *why)
{
	char msg[256];

	first_line(msg, sizeof msg, why);
	if (strcmp(msg, p->m->pg.error) != 0)
		log_msg(LOG_WARN, "postgres: %s", msg);
	source_status_fail(&p->m->pg, msg);
	pg_discard_detail(p);
	pg_forget_window(p);     /* a new connection reads the window again */
	pg_drop(p);
	p->retry_at = now + backoff_next(&p->backoff);
}

static void pg_connect(struct pg *p, int64_t now)
{
	struct pg_params pp;

	pg_params_init(&pp, p->cfg, PG_READ, "sectop");
	pg_params_add(&pp, "client_encoding", "UTF8");
	p->conn = PQconnectStartParams(pp.keys, pp.vals, 1);
	if (!p->conn || PQstatus(p->conn) == CONNECTION_BAD) {
		pg_fail(p, now, p->conn ? PQerrorMessage(p->conn) : "out of memory");
		return;
	}
	p->state = PG_CONNECTING;
	p->want_write = true;
	p->deadline = now + p->cfg->timeout_ms;
}

static bool pg_send(struct pg *p, int64_t now, const char *sql, int n, const char *const *params)
{
	if (!PQsendQueryParams(p->conn, sql, n, NULL, params, NULL, NULL, 0)) {
		pg_fail(p, now, PQerrorMessage(p->conn));
		return false;
	}
	p->queries++;
	p->state = PG_BUSY;
	/* the server's statement_timeout is the same length: let its clean
	 * error arrive first; this deadline is for a server that hangs */
	p->deadline = now + p->cfg->timeout_ms + p->cfg->timeout_ms / 2;
	int f = PQflush(p->conn);
	if (f < 0) {
		pg_fail(p, now, PQerrorMessage(p->conn));
		return false;
	}
	p->want_write = f == 1;
	return true;
}

/* The live queries, or a look back's: its period fixed when the refresh began. */
static const struct pg_sql *sql_of(const struct pg *p)
{
	return p->at_s ? &p->sql_at : &p->sql;
}

static void int_param(char *buf, size_t n, long long v)
{
	snprintf(buf, n, "%lld", v);
}

/* The drill-down of an address: its events, then by tenant, user and user
 * agent.  Of a tenant: its failures, top addresses and users, through the
 * dashboard's own queries scoped to it. */
static void pg_send_detail(struct pg *p, int64_t now, const char *tenant, const char *window,
                           const char *overlap, const char *cut)
{
	char limit[24];
	const char *key = p->detail_key;

	int_param(limit, sizeof limit, p->step == STEP_DETAIL_EVENTS ? 50 : 20);
	if (p->detail_kind == DETAIL_IP) {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, window, key, overlap, cut, limit };
		const char *sql = p->step == STEP_DETAIL_EVENTS ? sql_of(p)->ip_events
		                : sql_of(p)->ip_by[p->step - STEP_DETAIL_A];
		pg_send(p, now, sql, 8, v);
		return;
	}
	/* a tenant: the dashboard's queries with the tenant in place of the scope */
	const char *v[] = { p->fail_actions, p->fail_statuses, key, window, NULL, overlap, cut, limit };
	switch (p->step) {
	case STEP_DETAIL_EVENTS:
		pg_send(p, now, sql_of(p)->tail, 8, v);
		break;
	case STEP_DETAIL_A: {
		const char *t[] = { p->fail_actions, p->fail_statuses, key, window, limit };
		pg_send(p, now, sql_of(p)->top_ips, 5, t);
		break;
	}
	default: {
		const char *u[] = { p->fail_actions, p->fail_statuses, tenant, window, key, overlap, cut, limit };
		pg_send(p, now, sql_of(p)->tenant_users, 8, u);
		break;
	}
	}
}

static bool have_cursor(const struct pg *p)
{
	return p->cursor_id[0] != '\0';
}

static int64_t overlap_us(const struct pg *p)
{
	return (int64_t)p->cfg->tail_overlap_s * 1000000 + CLOCK_JITTER_US;
}

/* Where this refresh looks for late rows.  Every refresh looks at the last
 * RECENT_US before the cursor, second by second: nearly all of them land
 * there.  Every FULL_EVERY_MS it also counts the rest of the overlap since
 * the cursor of the last such look: a row that commits within tail-overlap
 * of its time is then found at the first look after it commits, and the
 * server groups only the recent rows.  Never before what the set of rows
 * counted still vouches for. */
static int64_t not_before_floor(const struct pg *p, int64_t t)
{
	return t > p->seen.floor_us ? t : p->seen.floor_us;
}

static void plan_check(struct pg *p, int64_t now)
{
	int64_t base = p->full_cursor_us < p->cursor_us ? p->full_cursor_us : p->cursor_us;

	p->check_lo_us = not_before_floor(p, p->cursor_us - RECENT_US);
	p->check_full = now - p->full_at >= FULL_EVERY_MS;
	p->old_lo_us = not_before_floor(p, base - overlap_us(p));
	if (p->old_lo_us >= p->check_lo_us)
		p->old_lo_us = INT64_MAX;        /* nothing older to count */
}

/* Rows from here on stay in the set: the next whole look reaches back to
 * tail-overlap before the cursor it last saw. */
static int64_t keep_from(const struct pg *p, int64_t newest)
{
	return (p->full_cursor_us < newest ? p->full_cursor_us : newest) - overlap_us(p);
}

static void send_clock(struct pg *p, int64_t now)
{
	char lo[24], cur[24], window[24], old[24], team_lo[24], team_cur[24];
	bool c = have_cursor(p);

	if (c)
		plan_check(p, now);
	bool count_old = c && p->check_full && p->old_lo_us != INT64_MAX;
	const char *v[10] = { p->m->tenant, c ? lo : NULL, c ? cur : NULL, c ? p->cursor_id : NULL, window,
	                      count_old ? old : NULL };

	int_param(lo, sizeof lo, p->check_lo_us);
	int_param(old, sizeof old, p->old_lo_us);
	int_param(cur, sizeof cur, p->cursor_us);
	int_param(window, sizeof window, p->m->window_s);
	team_feed_clock_params(&p->team, team_lo, team_cur, v + 6);
	if (!p->m->tenant)
		v[6] = NULL;             /* the rows past the cursor flag them (ROWS, LATE) */
	pg_send(p, now, sql_of(p)->clock, 10, v);
}

/* {1,-2,...}: the ids counted from late_from on, which LATE leaves out. */
static char *counted_ids(const struct pg *p)
{
	size_t n;
	uint64_t *v = seen_ids(&p->seen, p->late_from_us, p->cursor_us, &n);
	char *s = v ? malloc(n * 22 + 3) : NULL;
	size_t len = 0;

	if (s) {
		s[len++] = '{';
		for (size_t i = 0; i < n; i++)
			len += (size_t)sprintf(s + len, "%s%lld", i ? "," : "", (long long)v[i]);
		s[len++] = '}';
		s[len] = '\0';
	}
	free(v);
	return s;
}

/* ROWS and LATE: see pg_sql.c for the fourteen parameters. */
static void send_rows(struct pg *p, int64_t now, bool late)
{
	const struct config *c = p->cfg;
	char window[24], cur[24], cut[24], limit[24], tail_from[24];
	bool has = have_cursor(p);
	char *ids = late ? counted_ids(p) : NULL;
	const char *v[] = { p->fail_actions, p->fail_statuses, p->m->tenant, window,
	                    has ? cur : NULL, has ? p->cursor_id : NULL, cut, limit,
	                    p->unauth_actions, p->cross_actions, tail_from, ids, p->rl_actions, p->team.actions };

	if (late && !ids) {
		pg_fail(p, now, "out of memory");
		return;
	}
	int_param(window, sizeof window, late ? p->late_from_us : p->m->window_s);
	int_param(cur, sizeof cur, p->cursor_us);
	int_param(cut, sizeof cut, c->text_max);
	int_param(limit, sizeof limit, ROWS_BATCH);
	int_param(tail_from, sizeof tail_from, late ? 0 : p->tail_from_us);
	pg_send(p, now, late ? sql_of(p)->late : sql_of(p)->rows, 14, v);
	free(ids);
}

/* Send the query of the current step. */
static void pg_send_step(struct pg *p, int64_t now)
{
	const struct config *c = p->cfg;
	char window[24], limit[24], cut[24], overlap[24], minutes[24], ms[24];
	const char *tenant = p->m->tenant;

	int_param(window, sizeof window, p->m->window_s);
	int_param(cut, sizeof cut, c->text_max);
	int_param(overlap, sizeof overlap, c->tail_overlap_s);
	int_param(minutes, sizeof minutes, MODEL_MINUTES - 1);
	switch (p->step) {
	case STEP_SETUP: {
		const char *v[] = { ms };
		int_param(ms, sizeof ms, c->timeout_ms);
		pg_send(p, now, "SELECT set_config('statement_timeout', $1, false),"
		        " set_config('default_transaction_read_only', 'on', false)", 1, v);
		break;
	}
	case STEP_AT: {
		/* the look back's clock, as a timestamptz the server reads alike whatever its zone */
		char at[32];
		time_t t = (time_t)p->at_s;
		struct tm tm;
		const char *v[] = { at };
		strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S+00", gmtime_r(&t, &tm));
		pg_send(p, now, "SELECT set_config('sectop.at', $1, false)", 1, v);
		break;
	}
	case STEP_CLOCK:
		send_clock(p, now);
		break;
	case STEP_BASE: {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, minutes };
		pg_send(p, now, sql_of(p)->per_minute, 4, v);
		break;
	}
	case STEP_TAIL: {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, window,
		                    NULL, overlap, cut, limit };
		int_param(limit, sizeof limit, c->tail_n);
		pg_send(p, now, sql_of(p)->tail, 8, v);
		break;
	}
	case STEP_ROWS:
	case STEP_LATE:
		send_rows(p, now, p->step == STEP_LATE);
		break;
	case STEP_TEAM: {
		char buf[3][24];
		const char *v[7];
		team_feed_rows_params(&p->team, c->text_max, buf, v);
		p->team.queries++;
		pg_send(p, now, p->sql.team_rows, 7, v);
		break;
	}
	case STEP_DETAIL_EVENTS:
	case STEP_DETAIL_A:
	case STEP_DETAIL_B:
	case STEP_DETAIL_C:
		pg_send_detail(p, now, tenant, window, overlap, cut);
		break;
	case STEP_DONE:
	case STEP_CONNECTED:
		break;
	}
}

static char *dup_or_null(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return strdup(PQgetvalue(r, row, col));
}

static long long num(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Failures per minute of the last hour, as one GROUP BY saw them: what
 * the per-minute line shows of the minutes the rows do not cover. */
static void take_base(struct pg *p, const PGresult *r)
{
	long base[MODEL_MINUTES] = { 0 };
	int64_t first = p->now_minute - (MODEL_MINUTES - 1);

	for (int i = 0; i < PQntuples(r); i++) {
		long long slot = num(r, i, 0) / 60 - first;
		if (slot >= 0 && slot < MODEL_MINUTES)
			base[slot] = (long)num(r, i, 1);
	}
	live_set_base(p->live, first, base, MODEL_MINUTES);
}

static struct ip_stat *ip_stats_from(const PGresult *r, size_t *count)
{
	int n = PQntuples(r);
	struct ip_stat *v = calloc((size_t)n + 1, sizeof *v);

	*count = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < n; i++) {
		struct ip_stat *s = &v[i];
		snprintf(s->ip, sizeof s->ip, "%s", PQgetvalue(r, i, 0));
		s->failures = (long)num(r, i, 1);
		s->requests = (long)num(r, i, 2);
		s->users = (long)num(r, i, 3);
		s->tenants = (long)num(r, i, 4);
	}
	*count = (size_t)n;
	return v;
}

static struct name_count *name_counts_from(const PGresult *r, size_t *count)
{
	int n = PQntuples(r);
	struct name_count *v = calloc((size_t)n + 1, sizeof *v);

	*count = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < n; i++) {
		v[i].name = dup_or_null(r, i, 0);
		v[i].count = (long)num(r, i, 1);
		v[i].failures = (long)num(r, i, 2);
	}
	*count = (size_t)n;
	return v;
}

static void event_from_row(struct event *e, const PGresult *r, int i)
{
	snprintf(e->id, sizeof e->id, "%s", PQgetvalue(r, i, 0));
	e->ts_us = num(r, i, 1);
	e->ip = dup_or_null(r, i, 2);
	e->tenant_id = dup_or_null(r, i, 3);
	e->user_id = dup_or_null(r, i, 4);
	e->action = dup_or_null(r, i, 5);
	e->method = dup_or_null(r, i, 6);
	e->path = dup_or_null(r, i, 7);
	e->status_code = (int)num(r, i, 8);
	e->user_agent = dup_or_null(r, i, 9);
}

static struct event *events_from(const PGresult *r, size_t *count)
{
	int n = PQntuples(r);
	struct event *v = calloc((size_t)n + 1, sizeof *v);

	*count = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < n; i++)
		event_from_row(&v[i], r, i);
	*count = (size_t)n;
	return v;
}

static bool have_event(const struct model *m, const char *id)
{
	for (size_t i = 0; i < m->n_recent; i++)
		if (strcmp(m->recent[i].id, id) == 0)
			return true;
	return false;
}

/* Newest first: by timestamp, then id, as the cursor orders them. */
static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? 1 : -1;
	return -strcmp(x->id, y->id);
}

/* Merge new failures into the tail: ids already held are dropped (the
 * window's reading and the tail's can meet), late rows take their place by
 * time.  Takes the events' strings. */
static void tail_merge(struct pg *p, struct event *fresh, size_t n_fresh)
{
	struct model *m = p->m;
	struct event *all = calloc(m->n_recent + n_fresh + 1, sizeof *all);
	size_t n = 0;

	if (!all) {
		for (size_t i = 0; i < n_fresh; i++)
			event_free(&fresh[i]);
		return;
	}
	for (size_t i = 0; i < n_fresh; i++) {
		if (have_event(m, fresh[i].id))
			event_free(&fresh[i]);
		else
			all[n++] = fresh[i];
	}
	if (m->n_recent)
		memcpy(all + n, m->recent, m->n_recent * sizeof *all);
	n += m->n_recent;
	free(m->recent);              /* its strings moved into all[] */
	m->recent = NULL;
	m->n_recent = 0;
	qsort(all, n, sizeof *all, event_cmp);
	size_t keep = n < (size_t)p->cfg->tail_n ? n : (size_t)p->cfg->tail_n;
	for (size_t i = keep; i < n; i++)
		event_free(&all[i]);
	model_set_recent(m, all, keep);
}

static void take_tail(struct pg *p, const PGresult *r)
{
	size_t n;
	struct event *v = events_from(r, &n);

	if (v)
		tail_merge(p, v, n);
	free(v);
	/* the window's rows bring every failure from the tail's newest on */
	p->tail_from_us = p->m->n_recent ? p->m->recent[0].ts_us - (int64_t)p->cfg->tail_overlap_s * 1000000
	                                 : 0;
}

static bool flag(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/* The row columns (pg_sql.c): 8..13 are the tail's columns of a failure. */
enum { C_ID, C_ID_HASH, C_TS, C_IP, C_TENANT, C_TENANT_HASH, C_USER_HASH, C_FLAGS,
       C_USER, C_ACTION, C_METHOD, C_PATH, C_STATUS, C_AGENT };

static void event_from_stream(struct event *e, const PGresult *r, int i)
{
	snprintf(e->id, sizeof e->id, "%s", PQgetvalue(r, i, C_ID));
	e->ts_us = num(r, i, C_TS);
	e->ip = dup_or_null(r, i, C_IP);
	e->tenant_id = dup_or_null(r, i, C_TENANT);
	e->user_id = dup_or_null(r, i, C_USER);
	e->action = dup_or_null(r, i, C_ACTION);
	e->method = dup_or_null(r, i, C_METHOD);
	e->path = dup_or_null(r, i, C_PATH);
	e->status_code = (int)num(r, i, C_STATUS);
	e->user_agent = dup_or_null(r, i, C_AGENT);
}

static void count_row(struct pg *p, const PGresult *r, int i)
{
	long long flags = num(r, i, C_FLAGS);
	const char *tenant = PQgetisnull(r, i, C_TENANT) ? NULL : PQgetvalue(r, i, C_TENANT);
	struct live_row row = {
		.ts_us = num(r, i, C_TS),
		.ip = PQgetisnull(r, i, C_IP) ? NULL : PQgetvalue(r, i, C_IP),
		.tenant = tenant,
		/* the server hashes only a name longer than what it sent */
		.tenant_hash = !tenant ? 0 : PQgetisnull(r, i, C_TENANT_HASH)
		             ? hash64(tenant, strlen(tenant)) : (uint64_t)num(r, i, C_TENANT_HASH),
		.has_user = !PQgetisnull(r, i, C_USER_HASH),
		.user_hash = (uint64_t)num(r, i, C_USER_HASH),
		.failed = flags & 1,
		.unauthorized = flags & 2,
		.cross_tenant = flags & 4,
		.rate_limited = flags & 8,
	};
	if (flags & 16)
		team_feed_flagged(&p->team);
	live_add(p->live, &row);
	p->rows++;
}

/* Count each row once and keep the tail's failures; for ROWS, the last row
 * is the new cursor.  Returns the number of rows. */
static int take_rows(struct pg *p, const PGresult *r, bool late)
{
	int n = PQntuples(r), n_tail = 0;
	struct event *tail = calloc((size_t)n + 1, sizeof *tail);
	/* rows come in time order: only the last overlap's need remembering */
	int64_t horizon = n && !late ? keep_from(p, num(r, n - 1, C_TS)) : INT64_MIN;

	if (horizon != INT64_MIN)
		seen_prune(&p->seen, horizon);
	for (int i = 0; i < n; i++) {
		int64_t ts = num(r, i, C_TS);
		if (ts >= horizon && !seen_add(&p->seen, (uint64_t)num(r, i, C_ID_HASH), ts))
			continue;                /* counted already */
		count_row(p, r, i);
		if (tail && !PQgetisnull(r, i, C_ACTION))
			event_from_stream(&tail[n_tail++], r, i);
	}
	if (tail)
		tail_merge(p, tail, (size_t)n_tail);
	free(tail);
	if (n && !late) {
		p->cursor_us = num(r, n - 1, C_TS);
		snprintf(p->cursor_id, sizeof p->cursor_id, "%s", PQgetvalue(r, n - 1, C_ID));
	}
	p->changed |= n > 0;
	return n;
}

/* CLOCK's "SECOND:COUNT,...": the first second of the checked range where
 * the server holds more rows than were counted, or INT64_MAX if none. */
static int64_t first_grown_second(const struct pg *p, const char *list)
{
	long long sec, n;
	int used;

	for (const char *c = list; c && sscanf(c, "%lld:%lld%n", &sec, &n, &used) == 2; c += used) {
		int64_t from = sec * 1000000 > p->check_lo_us ? sec * 1000000 : p->check_lo_us;
		if ((size_t)n > seen_count(&p->seen, from, sec * 1000000 + 999999))
			return from;
		if (c[used] == ',')
			used++;
	}
	return INT64_MAX;
}

/* The AS of an address for the ranges grouped by AS: 0 when no database
 * names one. */
static unsigned long asn_of(const void *ctx, const char *ip, char *org, size_t n)
{
	struct geo_info gi;

	geoip_lookup(ctx, ip, &gi);
	if (org)
		snprintf(org, n, "%s", gi.state == GEO_FOUND ? gi.as_org : "");
	return gi.state == GEO_FOUND ? gi.asn : 0;
}

/* How the ranges are wanted: by AS only where a database can say. */
static enum range_group ranges_wanted(const struct model *m)
{
	return m->ranges_want == RANGES_AS && !m->geo ? RANGES_PREFIX : m->ranges_want;
}

static void pg_publish(struct pg *p)
{
	struct model *m = p->m;
	size_t n_tenants;
	enum range_group by = ranges_wanted(m);
	struct live_grouping g = { .by = by, .asn = asn_of, .ctx = m->geo };
	struct live_tops tops;
	live_tops(p->live, (size_t)p->cfg->top_n, by != RANGES_OFF ? &g : NULL, &tops);
	struct tenant_stat *tenants = live_top_tenants(p->live, (size_t)p->cfg->top_n, &n_tenants);
	int64_t streamed_from = (p->fill_start_s + 59) / 60;
	int64_t streamed_to = p->filling ? p->cursor_us / 60000000 - 1 : INT64_MAX;
	int64_t start_s = live_window_start(p->live, p->now_minute);

	if (tops.ips)
		model_set_top_ips(m, tops.ips, tops.n_ips);
	if (tenants)
		model_set_tenants(m, tenants, n_tenants);
	if (tops.ranges || by == RANGES_OFF) {
		model_set_ranges(m, tops.ranges, tops.n_ranges);
		m->ranges_by = by;
	}
	live_fpm(p->live, p->now_minute, have_cursor(p) ? streamed_from : INT64_MAX, streamed_to, m->fpm);
	live_rate_limited(p->live, p->now_minute, m->rlpm);
	m->rlpm_from = streamed_from * 60;
	m->fpm_start = (p->now_minute - (MODEL_MINUTES - 1)) * 60;
	/* how far the window's reading has got, by time */
	if (!p->filling || !have_cursor(p))
		m->pg_reading_pct = p->filling ? 0 : -1;
	else
		m->pg_reading_pct = (int)((p->cursor_us / 1000000 - start_s) * 100 /
		                          (p->now_minute * 60 + 60 - start_s));
	p->changed = false;
}

static void pg_refresh_done(struct pg *p, int64_t now)
{
	if (p->m->pg.state != SOURCE_OK && p->m->pg.refreshes)
		log_msg(LOG_INFO, "postgres: refreshing again");
	source_status_ok(&p->m->pg, clock_wall_ms());
	backoff_reset(&p->backoff);
	p->state = PG_READY;
	p->next_refresh = now + p->m->refresh_ms;
}

/* After the dashboard's queries: the drill-down, if one is open (and, on a
 * quiet refresh, only if nobody has seen this one yet). */
static enum pg_step detail_or_done(struct pg *p, bool quiet)
{
	if (p->detail_kind == DETAIL_NONE)
		return STEP_DONE;
	if (p->m->detail.answered == p->detail_asked &&
	    (quiet || clock_mono_ms() < p->detail_next))
		return STEP_DONE;
	p->detail_started = clock_mono_ms();
	return STEP_DETAIL_EVENTS;
}

/* The end of the dashboard's part: publish what changed; then the
 * operators' actions, when the rows flagged some (or CLOCK found some). */
static enum pg_step figures_done(struct pg *p)
{
	/* ranges wanted, or grouped otherwise, since the last publish: now */
	bool ranges_asked = ranges_wanted(p->m) != RANGES_OFF && ranges_wanted(p->m) != p->m->ranges_by;
	bool quiet = !p->changed && !ranges_asked;

	if (quiet)
		p->quiet++;
	else
		pg_publish(p);
	p->quiet_refresh = quiet;
	return !p->at_s && team_feed_decide(&p->team) ? STEP_TEAM : detail_or_done(p, quiet);
}

static enum pg_step take_team(struct pg *p, const PGresult *r)
{
	size_t n;
	struct team_op *v = team_ops_from_result(r, &n);

	if (!v)
		return detail_or_done(p, p->quiet_refresh);
	bool more = team_feed_took(&p->team, v, n);
	p->m->team_error[0] = '\0';
	if (n)
		model_add_team_ops(p->m, v, n);
	else
		free(v);
	return more ? STEP_TEAM : detail_or_done(p, p->quiet_refresh);
}

/* The look for late rows is over (LATE, if any, has counted them): a whole
 * look moves the point the next one starts from, and the set forgets what
 * no look will reach again.  Only now: LATE leaves out what the set holds. */
static enum pg_step check_done(struct pg *p)
{
	if (p->check_full) {
		p->full_at = clock_mono_ms();
		p->full_cursor_us = p->cursor_us;
		seen_prune(&p->seen, keep_from(p, p->cursor_us));
	}
	return p->more ? STEP_ROWS : figures_done(p);
}

/* A standby is a role, not an outage: said in the header and the snapshot. */
static void take_role(struct model *m, const PGresult *r)
{
	m->pg_role = flag(r, 0, 4) ? PG_ROLE_STANDBY : PG_ROLE_PRIMARY;
	m->pg_replay_lag_s = PQgetisnull(r, 0, 5) ? -1 : strtod(PQgetvalue(r, 0, 5), NULL);
}

/* The server's minute moves the window; then late rows, new rows, or nothing. */
static enum pg_step take_clock(struct pg *p, const PGresult *r)
{
	long long minute = num(r, 0, 0) / 60;

	take_role(p->m, r);
	if (!p->at_s)                    /* a look back's clock is the past's: the team's feed waits */
		team_feed_clock(&p->team, num(r, 0, 6), PQgetisnull(r, 0, 7) ? -1 : flag(r, 0, 7), p->m->window_s);
	if (!p->live)
		return STEP_DONE;
	if (minute != p->now_minute || !have_cursor(p))
		p->changed |= live_slide(p->live, minute) || minute != p->now_minute;
	p->now_minute = minute;
	p->more = flag(r, 0, 2);
	if (!have_cursor(p)) {           /* reading the window starts here */
		p->fill_start_s = live_window_start(p->live, minute);
		return STEP_BASE;
	}
	p->late_from_us = first_grown_second(p, PQgetvalue(r, 0, 1));
	/* a late row in the older range: read it all, less what was counted */
	if (!PQgetisnull(r, 0, 3) && p->old_lo_us != INT64_MAX &&
	    (size_t)num(r, 0, 3) > seen_count(&p->seen, p->old_lo_us, p->check_lo_us - 1))
		p->late_from_us = p->old_lo_us;
	if (p->late_from_us != INT64_MAX)
		return STEP_LATE;
	return check_done(p);
}

static enum pg_step after_rows(struct pg *p, int n)
{
	if (n == ROWS_BATCH) {
		if (p->filling)
			pg_publish(p);           /* the panels fill in as the window is read */
		return STEP_ROWS;
	}
	p->changed |= p->filling;        /* the window is read: publish it whole */
	p->filling = false;
	return figures_done(p);
}
static void take_detail(struct pg *p, const PGresult *r)
{
	switch (p->step) {
	case STEP_DETAIL_EVENTS:
		p->d_events = events_from(r, &p->n_d_events);
		break;
	case STEP_DETAIL_A:
		if (p->detail_kind == DETAIL_IP)
			p->d_groups[DETAIL_TENANTS] = name_counts_from(r, &p->n_d_groups[DETAIL_TENANTS]);
		else
			p->d_ips = ip_stats_from(r, &p->n_d_ips);
		break;
	case STEP_DETAIL_B:
		p->d_groups[DETAIL_USERS] = name_counts_from(r, &p->n_d_groups[DETAIL_USERS]);
		break;
	case STEP_DETAIL_C:
		p->d_groups[DETAIL_AGENTS] = name_counts_from(r, &p->n_d_groups[DETAIL_AGENTS]);
		break;
	default:
		break;
	}
}

/* The drill-down is complete: publish it, unless another was asked for
 * meanwhile (then it is thrown away and the next refresh fetches that one). */
static void publish_detail(struct pg *p)
{
	struct model *m = p->m;

	int64_t took = clock_mono_ms() - p->detail_started;

	p->detail_next = p->detail_started + took * DETAIL_PACE;
	if (m->detail.asked != p->detail_asked)
		return;          /* pg_discard_detail frees it at the next refresh */
	model_set_detail(m, p->detail_asked, p->d_events, p->n_d_events, p->d_groups,
	                 p->n_d_groups, p->d_ips, p->n_d_ips);
	p->d_events = NULL;
	p->n_d_events = 0;
	memset(p->d_groups, 0, sizeof p->d_groups);
	memset(p->n_d_groups, 0, sizeof p->n_d_groups);
	p->d_ips = NULL;
	p->n_d_ips = 0;
}

static enum pg_step pg_take_step(struct pg *p, const PGresult *r)
{
	switch (p->step) {
	case STEP_SETUP: return STEP_CONNECTED;
	case STEP_AT:
		p->session_at = p->at_s;
		return STEP_CLOCK;
	case STEP_CLOCK: return take_clock(p, r);
	case STEP_BASE: take_base(p, r); break;
	case STEP_TAIL:
		take_tail(p, r);
		pg_publish(p);               /* the per-minute line and the tail first */
		return STEP_ROWS;
	case STEP_LATE:
		take_rows(p, r, true);
		return check_done(p);
	case STEP_ROWS:
		return after_rows(p, take_rows(p, r, false));
	case STEP_TEAM:
		return take_team(p, r);
	case STEP_DETAIL_EVENTS:
	case STEP_DETAIL_A:
	case STEP_DETAIL_B:
	case STEP_DETAIL_C:
		take_detail(p, r);
		/* a tenant's drill-down has two parts after its failures */
		if (p->step == STEP_DETAIL_C || (p->step == STEP_DETAIL_B && p->detail_kind == DETAIL_TENANT)) {
			publish_detail(p);
			return STEP_DONE;
		}
		break;
	case STEP_DONE:
	case STEP_CONNECTED:
		break;
	}
	return p->step + 1;
}

/* Results for a window or tenant the operator has just left are dropped,
 * and the refresh starts again for the new one. */
static void pg_take(struct pg *p, const PGresult *r)
{
	if (p->step > STEP_SETUP && p->step < STEP_DONE && p->scope_gen != p->m->scope_gen) {
		pg_discard_detail(p);
		p->force = true;
		p->step = STEP_DONE;
		return;
	}
	p->step = pg_take_step(p, r);
}

static bool detail_step(enum pg_step s)
{
	return s >= STEP_DETAIL_EVENTS && s <= STEP_DETAIL_C;
}

/* A drill-down query that failed on a live connection (a statement timeout
 * on an attacker's million rows) costs the drill-down, not the dashboard:
 * what was read is shown with the reason, and it is tried again later. */
static void detail_failed(struct pg *p, const char *why)
{
	log_msg(LOG_WARN, "postgres: the drill-down failed: %s", why);
	publish_detail(p);
	if (p->m->detail.answered == p->detail_asked)
		first_line(p->m->detail.error, sizeof p->m->detail.error, why);
	p->step = STEP_DONE;
}

/* The operators' actions could not be read (a statement timeout on a
 * large window): the dashboard goes on, the reason is kept. */
static void team_failed(struct pg *p, const char *why)
{
	log_msg(LOG_WARN, "postgres: the operators' actions were not read: %s", why);
	team_feed_failed(&p->team, why);
	first_line(p->m->team_error, sizeof p->m->team_error, why);
	p->step = detail_or_done(p, p->quiet_refresh);
}

static void pg_result(struct pg *p, PGresult *r, int64_t now)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_FATAL_ERROR && p->step == STEP_TEAM && PQstatus(p->conn) == CONNECTION_OK) {
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		team_failed(p, msg ? msg : "query failed");
		PQclear(r);
		return;
	}

	if (st == PGRES_FATAL_ERROR && detail_step(p->step) && PQstatus(p->conn) == CONNECTION_OK) {
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		detail_failed(p, msg ? msg : "query failed");
		PQclear(r);
		return;
	}

	if (st != PGRES_TUPLES_OK || (p->step == STEP_CLOCK && PQntuples(r) != 1)) {
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		char why[256];
		snprintf(why, sizeof why, "%s", msg ? msg : PQresStatus(st));
		PQclear(r);
		pg_fail(p, now, why);
		return;
	}
	pg_take(p, r);
	PQclear(r);
}

/* Read whatever results are complete; move to the next step at the end of one. */
static void pg_drain(struct pg *p, int64_t now)
{
	while (p->conn && p->state == PG_BUSY && !PQisBusy(p->conn)) {
		PGresult *r = PQgetResult(p->conn);
		if (r) {
			pg_result(p, r, now);
			continue;
		}
		/* NULL: the query is complete */
		if (p->step == STEP_CONNECTED) {
			p->state = PG_READY;
			p->force = true;
		} else if (p->step == STEP_DONE) {
			p->force = false;
			pg_refresh_done(p, now);
		} else {
			pg_send_step(p, now);
		}
	}
}

static void pg_advance_connect(struct pg *p, int64_t now)
{
	switch (PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		p->want_write = false;
		break;
	case PGRES_POLLING_WRITING:
		p->want_write = true;
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(p->conn, 1) != 0) {
			pg_fail(p, now, PQerrorMessage(p->conn));
			return;
		}
		log_msg(LOG_INFO, "postgres: connected");
		p->step = STEP_SETUP;
		pg_send_step(p, now);
		break;
	default:
		pg_fail(p, now, PQerrorMessage(p->conn));
		break;
	}
}

static int pg_fds(void *self, struct pollfd *pfd, int max, int64_t now, int64_t *timeout)
{
	struct pg *p = self;
	int64_t wake;

	switch (p->state) {
	case PG_IDLE: wake = p->retry_at; break;
	case PG_READY:
		wake = p->force ? now : p->m->paused ? now + 60000 : p->next_refresh;
		break;
	default: wake = p->deadline; break;
	}
	if (wake - now < *timeout)
		*timeout = wake - now;
	if (max < 1 || (p->state != PG_CONNECTING && p->state != PG_BUSY) || PQsocket(p->conn) < 0)
		return 0;
	pfd->fd = PQsocket(p->conn);
	pfd->events = (short)(p->want_write ? POLLOUT : POLLIN);
	if (p->state == PG_BUSY)
		pfd->events |= POLLIN;
	pfd->revents = 0;
	return 1;
}

static void pg_ready(void *self, const struct pollfd *pfd, int n, int64_t now)
{
	struct pg *p = self;

	if (n < 1 || !pfd->revents)
		return;
	if (p->state == PG_CONNECTING) {
		pg_advance_connect(p, now);
		return;
	}
	if (p->state != PG_BUSY)
		return;
	if (p->want_write && (pfd->revents & POLLOUT)) {
		int f = PQflush(p->conn);
		if (f < 0) {
			pg_fail(p, now, PQerrorMessage(p->conn));
			return;
		}
		p->want_write = f == 1;
	}
	if ((pfd->revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(p->conn)) {
		pg_fail(p, now, PQerrorMessage(p->conn));
		return;
	}
	pg_drain(p, now);
}

/* Only an address that parses goes into an ::inet parameter: a key name
 * from Redis can be anything, and a failed cast would fail the refresh. */
static bool is_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* A refresh starts: note the scope and the drill-down it is for. */
static void pg_begin(struct pg *p, int64_t now)
{
	const struct detail *d = &p->m->detail;

	if (p->scope_gen != p->m->scope_gen || !p->live) {
		p->scope_gen = p->m->scope_gen;
		pg_forget_window(p);             /* a new scope: read the window again */
		p->live = live_new(p->m->window_s, &p->limits);
		p->filling = true;
		p->changed = false;
		p->m->pg_reading_pct = 0;
		if (!p->live) {
			pg_fail(p, now, "out of memory");
			return;
		}
	}
	pg_discard_detail(p);
	p->detail_asked = d->asked;
	p->detail_kind = d->kind;
	if (d->kind == DETAIL_IP && !is_address(d->key))
		p->detail_kind = DETAIL_NONE;
	p->detail_key = p->detail_kind != DETAIL_NONE ? strdup(d->key) : NULL;
	if (p->detail_kind != DETAIL_NONE && !p->detail_key)
		p->detail_kind = DETAIL_NONE;
	p->at_s = p->m->at_s;
	p->step = p->at_s && p->session_at != p->at_s ? STEP_AT : STEP_CLOCK;
	pg_send_step(p, now);
}

/* A look back's period, once read, has nothing new: it is read again only
 * when asked (r), for another drill-down or grouping of the ranges, or
 * when its scope changes. */
static bool period_read(const struct pg *p)
{
	enum range_group ranges = ranges_wanted(p->m);

	return p->at_s && p->m->at_s == p->at_s && p->live && !p->filling && p->scope_gen == p->m->scope_gen &&
	       (p->m->detail.kind == DETAIL_NONE || p->m->detail.answered == p->m->detail.asked) &&
	       (ranges == RANGES_OFF || ranges == p->m->ranges_by);
}

static void pg_tick(void *self, int64_t now)
{
	struct pg *p = self;
	char why[96];

	switch (p->state) {
	case PG_IDLE:
		if (now >= p->retry_at)
			pg_connect(p, now);
		break;
	case PG_CONNECTING:
	case PG_BUSY:
		if (now >= p->deadline) {
			snprintf(why, sizeof why, "%s timed out after %d ms",
			         p->state == PG_CONNECTING ? "connection" : "query", p->cfg->timeout_ms);
			pg_fail(p, now, why);
		}
		break;
	case PG_READY:
		if (p->force || (!p->m->paused && now >= p->next_refresh && !period_read(p)))
			pg_begin(p, now);
		else if (period_read(p))
			p->m->pg.last_ok_ms = clock_wall_ms();  /* a past period read whole is not stale */
		break;
	}
}

static void pg_refresh_now(void *self)
{
	((struct pg *)self)->force = true;
}

static void pg_destroy(void *self)
{
	struct pg *p = self;

	pg_discard_detail(p);
	pg_forget_window(p);
	pg_drop(p);
	pg_sql_free(&p->sql);
	pg_sql_free(&p->sql_at);
	free(p->fail_actions);
	free(p->fail_statuses);
	free(p->unauth_actions);
	free(p->cross_actions);
	free(p->rl_actions);
	team_feed_free(&p->team);
	free(p);
}

static const struct source_ops pg_ops = {
	.name = "postgres",
	.fds = pg_fds,
	.ready = pg_ready,
	.tick = pg_tick,
	.refresh_now = pg_refresh_now,
	.destroy = pg_destroy,
};

struct pg *pg_new(const struct config *cfg, struct model *m, char *err, size_t errsz)
{
	struct pg *p = calloc(1, sizeof *p);

	if (!p || pg_sql_build(&p->sql, cfg, false) < 0 || pg_sql_build(&p->sql_at, cfg, true) < 0) {
		free(p);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	p->cfg = cfg;
	p->m = m;
	p->fail_actions = pg_sql_text_array(cfg->failure_actions.v, cfg->failure_actions.n);
	p->fail_statuses = pg_sql_int_array(cfg->failure_statuses, cfg->n_failure_statuses);
	p->unauth_actions = pg_sql_text_array(cfg->unauthorized_actions.v, cfg->unauthorized_actions.n);
	p->cross_actions = pg_sql_text_array(cfg->cross_tenant_actions.v, cfg->cross_tenant_actions.n);
	p->rl_actions = pg_sql_text_array(cfg->ratelimit_actions.v, cfg->ratelimit_actions.n);
	if (!p->fail_actions || !p->fail_statuses || !p->unauth_actions || !p->cross_actions || !p->rl_actions ||
	    team_feed_init(&p->team) < 0) {
		pg_destroy(p);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	seen_init(&p->seen, SEEN_MAX);
	p->limits = (struct live_limits){ LIVE_IP_ENTRIES, LIVE_TENANT_ENTRIES, LIVE_SKETCH_BYTES };
	backoff_init(&p->backoff, 250, 30000, (uint32_t)clock_wall_ms());
	p->state = PG_IDLE;
	p->retry_at = 0;
	return p;
}

struct source pg_source(struct pg *p)
{
	return (struct source){ &pg_ops, p };
}

void pg_counters(const struct pg *p, unsigned long *queries, unsigned long *quiet_refreshes)
{
	*queries = p->queries;
	*quiet_refreshes = p->quiet;
}

unsigned long pg_rows_read(const struct pg *p)
{
	return p->rows;
}

const struct team_feed *pg_team_feed(const struct pg *p)
{
	return &p->team;
}
