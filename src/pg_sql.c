#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "pg_sql.h"
#include "strutil.h"

/* A growing string; on allocation failure it keeps NULL and reports it once. */
struct sqlbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_printf(struct sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
}

static char *sb_take(struct sqlbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}

static char *quote_with(const char *s, char q)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b, "%c", q);
	for (; *s; s++)
		sb_printf(&b, *s == q ? "%c%c" : "%c", *s, *s);
	sb_printf(&b, "%c", q);
	return sb_take(&b);
}

char *pg_sql_ident(const char *name)
{
	return quote_with(name, '"');
}

char *pg_sql_literal(const char *text)
{
	return quote_with(text, '\'');
}

char *pg_sql_text_array(char *const *v, size_t n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b, "{");
	for (size_t i = 0; i < n; i++) {
		sb_printf(&b, "%s\"", i ? "," : "");
		for (const char *p = v[i]; *p; p++)
			sb_printf(&b, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
		sb_printf(&b, "\"");
	}
	sb_printf(&b, "}");
	return sb_take(&b);
}

char *pg_sql_audit_insert(const struct pg_sql_names *q, size_t n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b, "INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s) VALUES", q->t, q->action, q->user, q->rtype,
	          q->rid, q->tenant, q->details, q->ts);
	for (size_t i = 0; i < n; i++)
		sb_printf(&b, "%s ($1, $2, $3, $%zu, $4, $5::jsonb, coalesce($6::timestamptz, now()))",
		          i ? "," : "", i + 7);
	return sb_take(&b);
}

char *pg_sql_int_array(const int *v, size_t n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b, "{");
	for (size_t i = 0; i < n; i++)
		sb_printf(&b, "%s%d", i ? "," : "", v[i]);
	sb_printf(&b, "}");
	return sb_take(&b);
}

void pg_sql_names_free(struct pg_sql_names *n)
{
	free(n->t);
	free(n->id);
	free(n->ts);
	free(n->tenant);
	free(n->user);
	free(n->action);
	free(n->method);
	free(n->path);
	free(n->status);
	free(n->ua);
	free(n->ip);
	free(n->rtype);
	free(n->rid);
	free(n->details);
	memset(n, 0, sizeof *n);
}

int pg_sql_names_init(struct pg_sql_names *n, const struct config *cfg)
{
	const struct conf_schema *s = &cfg->schema;

	n->t = pg_sql_ident(s->table);
	n->id = pg_sql_ident(s->id);
	n->ts = pg_sql_ident(s->timestamp);
	n->tenant = pg_sql_ident(s->tenant_id);
	n->user = pg_sql_ident(s->user_id);
	n->action = pg_sql_ident(s->action);
	n->method = pg_sql_ident(s->method);
	n->path = pg_sql_ident(s->path);
	n->status = pg_sql_ident(s->status_code);
	n->ua = pg_sql_ident(s->user_agent);
	n->ip = pg_sql_ident(s->ip_address);
	n->rtype = pg_sql_ident(s->resource_type);
	n->rid = pg_sql_ident(s->resource_id);
	n->details = pg_sql_ident(s->details);
	if (!n->t || !n->id || !n->ts || !n->tenant || !n->user || !n->action || !n->method ||
	    !n->path || !n->status || !n->ua || !n->ip || !n->rtype || !n->rid || !n->details) {
		pg_sql_names_free(n);
		return -1;
	}
	return 0;
}

/*
 * The window starts at a minute boundary, so that between two minutes the
 * figures change only when rows arrive: a refresh with no new rows can then
 * skip the aggregation entirely (see pg.c).
 */
#define WINDOW_START "date_trunc('minute', now()) - make_interval(secs => $4::int)"
/* $1 text[] failure actions, $2 int[] failure statuses */
#define FAILURE(a) "(" a ".%s = ANY($1::text[]) OR " a ".%s = ANY($2::int[]))"
/* $3 text tenant, NULL for all */
#define TENANT(a) "($3::text IS NULL OR " a ".%s = $3::text)"

/* A time as the cursor holds it, unix microseconds, exactly: the product
 * of an integer and one microsecond loses nothing, a division would. */
#define US_TIME(p) "('epoch'::timestamptz + " p "::bigint * interval '1 microsecond')"
#define TS_US(a) "(extract(epoch FROM " a ".%s) * 1000000)::bigint"
/* Rows are read up to the server's clock (and a second of jitter).  A row
 * stamped ahead of it (a writer's clock gone wrong, or a hostile row) would
 * carry the cursor past the rows that follow it: a day ahead, past all of
 * them; seconds ahead, into the overlap, where finding them costs more.
 * It waits instead, and is counted when its time comes. */
#define NOT_AFTER "now() + interval '1 second'"

/* Whether the server is a standby, and how far its replay is behind the
 * primary: nothing while it has replayed all it received (a quiet primary
 * commits nothing, so the last replayed commit's age would grow), else the
 * age of the last commit replayed. */
#define SERVER_ROLE \
	"pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() THEN NULL" \
	" WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0" \
	" ELSE extract(epoch FROM statement_timestamp() - pg_last_xact_replay_timestamp()) END"

/* $1 text tenant (NULL for all), $2 bigint start of the recent range
 * checked for late rows (unix us), $3 bigint cursor time, $4 cursor id
 * (NULL: no cursor yet), $5 int window seconds, $6 bigint start of the
 * older range checked (NULL: not this time).  One row: the server's minute
 * (unix s); the recent range's rows second by second ("SECOND:COUNT,...":
 * late rows make a second's count grow); whether any row lies past the
 * cursor; the older range's rows, counted; the server's role and replay
 * lag (SERVER_ROLE); the server's time (unix us); and whether an
 * operator's action lies past the operators' cursor (team_pg.c): $7 bigint
 * its scan's start (NULL: not asked, the column is NULL), $8 bigint cursor
 * time and $9 cursor id (NULL: none yet), $10 text[] the operators'
 * actions.  A quiet refresh is this query alone.  Seconds by date_trunc, worked out once a group: the cursor's
 * exact microseconds for every row cost twice as much; the older range is
 * only counted, which costs a quarter of grouping it. */
static char *build_clock(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT extract(epoch FROM date_trunc('minute', now()))::bigint,"
	    " CASE WHEN $3::bigint IS NULL THEN '' ELSE (SELECT string_agg(s.sec || ':' || s.n, ',' ORDER BY s.sec)"
	    "  FROM (SELECT extract(epoch FROM date_trunc('second', a.%s))::bigint AS sec, count(*) AS n FROM %s a"
	    "  WHERE a.%s >= " US_TIME("$2") " AND a.%s <= " US_TIME("$3") " AND (a.%s, a.%s) <= (" US_TIME("$3") ", $4)"
	    "  AND ($1::text IS NULL OR a.%s = $1::text) GROUP BY 1) s) END,"
	    " EXISTS (SELECT 1 FROM %s a WHERE a.%s >= date_trunc('minute', now()) - make_interval(secs => $5::int)"
	    "  AND a.%s <= " NOT_AFTER " AND ($3::bigint IS NULL OR (a.%s, a.%s) > (" US_TIME("$3") ", $4))"
	    "  AND ($1::text IS NULL OR a.%s = $1::text)),"
	    " CASE WHEN $6::bigint IS NULL THEN NULL ELSE (SELECT count(*) FROM %s a"
	    "  WHERE a.%s >= " US_TIME("$6") " AND a.%s < " US_TIME("$2")
	    "  AND ($1::text IS NULL OR a.%s = $1::text)) END,"
	    " " SERVER_ROLE ","
	    " (extract(epoch FROM now()) * 1000000)::bigint,"
	    " CASE WHEN $7::bigint IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM %s a"
	    "  WHERE a.%s >= " US_TIME("$7") " AND a.%s <= " NOT_AFTER " AND a.%s = ANY($10::text[])"
	    "  AND ($8::bigint IS NULL OR (a.%s, a.%s) > (" US_TIME("$8") ", $9))) END",
	    n->ts, n->t, n->ts, n->ts, n->ts, n->id, n->tenant, n->t, n->ts, n->ts, n->ts, n->id, n->tenant,
	    n->t, n->ts, n->ts, n->tenant, n->t, n->ts, n->ts, n->action, n->ts, n->id);
	return sb_take(&b);
}

/* What the window's figures need of a row, and for the tail all of a
 * failure from $11 (unix us) on:
 *   0 id, 1 hash of the id, 2 time (unix us), 3 address, 4 tenant (cut),
 *   5 hash of the tenant when it is longer than the cut (else NULL: the
 *   client hashes what it has, which is all of it), 6 hash of the user,
 *   7 flags (1 failed, 2 unauthorized, 4 cross-tenant, 8 rate limited, 16 an
 *   operator's action: $14, team_pg.h), 8 user, 9 action,
 *   10 method, 11 path, 12 status, 13 user agent.
 * Hashes are of the whole values, so that a distinct count does not see
 * two long names that share their first text-max characters as one; the
 * id's is the server's own, so that a later query can leave out the rows
 * already counted by it.  The inner query (a LIMIT keeps it apart) works
 * out each row's time and failure once; the outer one only refers to them:
 * written inline, every CASE evaluated the failure test and the time
 * arithmetic again, which made a row cost five times as much. */
/* a column the tail needs, of a failure from $11 on */
#define TAIL_ONLY(col) "CASE WHEN r.failed AND r.ts_us >= $11::bigint THEN " col " END"
#define ROW_OUTER \
	"SELECT r.id, hashtextextended(r.id, 0), r.ts_us, host(r.ip), left(r.tenant::text, $7::int)," \
	" CASE WHEN length(r.tenant::text) > $7::int THEN hashtextextended(r.tenant::text, 0) END," \
	" hashtextextended(r.usr::text, 0)," \
	" r.failed::int | CASE WHEN r.act = ANY($9::text[]) OR r.status = 403 THEN 2 ELSE 0 END" \
	"  | CASE WHEN r.act = ANY($10::text[]) THEN 4 ELSE 0 END" \
	"  | CASE WHEN r.act = ANY($13::text[]) THEN 8 ELSE 0 END" \
	"  | CASE WHEN r.act = ANY($14::text[]) THEN 16 ELSE 0 END," \
	" " TAIL_ONLY("left(r.usr::text, $7::int)") ", " TAIL_ONLY("left(r.act, $7::int)") "," \
	" " TAIL_ONLY("left(r.method, $7::int)") ", " TAIL_ONLY("left(r.path, $7::int)") "," \
	" " TAIL_ONLY("r.status") ", " TAIL_ONLY("left(r.ua, $7::int)") " FROM ("
#define ROW_INNER \
	"SELECT a.%s AS rid, a.%s AS rts, a.%s::text AS id, " TS_US("a") " AS ts_us, a.%s AS ip, a.%s AS tenant, a.%s AS usr," \
	" a.%s AS act, a.%s AS method, a.%s AS path, a.%s AS status, a.%s AS ua," \
	" COALESCE(" FAILURE("a") ", false) AS failed FROM %s a"
#define ROW_NAMES(n) n->id, n->ts, n->id, n->ts, n->ip, n->tenant, n->user, n->action, n->method, n->path, \
	n->status, n->ua, n->action, n->status, n->t

/* $1 $2 failures, $3 tenant, $4 window seconds, $5 bigint cursor time and
 * $6 cursor id (NULL: from the window's start), $7 text cut, $8 limit, $9
 * unauthorized and $10 cross-tenant actions, $11 tail from (unix us), $12
 * unused here, $13 rate-limited actions, $14 operators' actions.  The rows past the cursor, in
 * cursor order. */
static char *build_rows(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    ROW_OUTER ROW_INNER
	    " WHERE a.%s >= " WINDOW_START " AND a.%s <= " NOT_AFTER
	    " AND ($5::bigint IS NULL OR (a.%s, a.%s) > (" US_TIME("$5") ", $6))"
	    " AND " TENANT("a") " AND $12::bigint[] IS NULL"
	    " ORDER BY a.%s, a.%s LIMIT $8::int) r ORDER BY r.rts, r.rid",
	    ROW_NAMES(n), n->ts, n->ts, n->ts, n->id, n->tenant, n->ts, n->id);
	return sb_take(&b);
}

/* The same parameters, $4 the start of the range checked (unix us) instead
 * of the window and $12 bigint[] the hashes of the ids counted in it: the
 * rows of the range that committed late, all in one query. */
static char *build_late(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    ROW_OUTER ROW_INNER
	    " WHERE a.%s >= " US_TIME("$4") " AND a.%s <= " US_TIME("$5") " AND (a.%s, a.%s) <= (" US_TIME("$5") ", $6)"
	    " AND hashtextextended(a.%s::text, 0) <> ALL($12::bigint[]) AND " TENANT("a")
	    " LIMIT $8::int) r",
	    ROW_NAMES(n), n->ts, n->ts, n->ts, n->id, n->id, n->tenant);
	return sb_take(&b);
}

/* $1 $2 failures, $3 tenant, $4 int minutes back (59 gives 60 buckets) */
static char *build_per_minute(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT extract(epoch FROM date_trunc('minute', a.%s))::bigint AS minute, count(*)"
	    " FROM %s a"
	    " WHERE a.%s >= date_trunc('minute', now()) - make_interval(mins => $4::int)"
	    " AND a.%s <= " NOT_AFTER " AND " FAILURE("a") " AND " TENANT("a")
	    " GROUP BY 1 ORDER BY 1",
	    n->ts, n->t, n->ts, n->ts, n->action, n->status, n->tenant);
	return sb_take(&b);
}

/* $1 $2 failures, $3 tenant, $4 window seconds, $5 int limit.  The top
 * addresses come from the failures alone (the partial index), then their
 * requests, users and tenants from the (ip, timestamp) index.  count(*),
 * not count(a.*): the join never yields a NULL row, and a whole-row value
 * costs a copy of every row (user agents of 10 KB included), which made
 * this query twice as slow (bench/, BENCHMARKS.md). */
static char *build_top_ips(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "WITH top AS ("
	    "SELECT a.%s AS ip, count(*) AS failures FROM %s a"
	    " WHERE a.%s >= " WINDOW_START " AND a.%s <= " NOT_AFTER " AND " FAILURE("a") " AND " TENANT("a")
	    " AND a.%s IS NOT NULL"
	    " GROUP BY a.%s ORDER BY failures DESC, a.%s LIMIT $5::int)"
	    " SELECT host(top.ip), top.failures, count(*), count(DISTINCT a.%s), count(DISTINCT a.%s)"
	    " FROM top JOIN %s a ON a.%s = top.ip AND a.%s >= " WINDOW_START " AND a.%s <= " NOT_AFTER
	    " AND " TENANT("a")
	    " GROUP BY top.ip, top.failures ORDER BY top.failures DESC, top.ip",
	    n->ip, n->t, n->ts, n->ts, n->action, n->status, n->tenant, n->ip, n->ip, n->ip,
	    n->user, n->tenant, n->t, n->ip, n->ts, n->ts, n->tenant);
	return sb_take(&b);
}

/* The columns of an event row, as take_tail and the drill-down read them;
 * $7 is the text cut. */
#define EVENT_COLUMNS \
	"a.%s::text, (extract(epoch FROM a.%s) * 1000000)::bigint, host(a.%s)," \
	" left(a.%s, $7::int), left(a.%s, $7::int), left(a.%s, $7::int)," \
	" left(a.%s, $7::int), left(a.%s, $7::int), a.%s, left(a.%s, $7::int)"
#define EVENT_NAMES(n) n->id, n->ts, n->ip, n->tenant, n->user, n->action, n->method, \
	n->path, n->status, n->ua

/* $1 $2 failures, $3 tenant, $4 window, $5 bigint cursor (unix us, NULL at
 * first), $6 int overlap seconds, $7 int text cut, $8 int limit.  Rows can
 * commit out of timestamp order: re-reading the overlap catches late ones,
 * and the caller drops ids it already has. */
static char *build_tail(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT " EVENT_COLUMNS
	    " FROM %s a"
	    " WHERE a.%s >= COALESCE('epoch'::timestamptz + make_interval(secs => $5::bigint / 1000000.0)"
	    " - make_interval(secs => $6::int), " WINDOW_START ")"
	    " AND a.%s <= " NOT_AFTER " AND " FAILURE("a") " AND " TENANT("a")
	    " ORDER BY a.%s DESC, a.%s DESC LIMIT $8::int",
	    EVENT_NAMES(n), n->t, n->ts, n->ts, n->action, n->status, n->tenant, n->ts, n->id);
	return sb_take(&b);
}

/* $1 $2 failures, $3 tenant, $4 window, $5 text address, $6 unused int
 * (kept so every drill-down query shares one parameter list), $7 text cut,
 * $8 limit.  Served by the (ip, timestamp) index. */
static char *build_ip_events(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT " EVENT_COLUMNS
	    " FROM %s a WHERE a.%s = $5::inet AND a.%s >= " WINDOW_START " AND a.%s <= " NOT_AFTER
	    " AND " TENANT("a") " AND $6::int IS NOT NULL AND ($1::text[], $2::int[]) IS NOT NULL"
	    " ORDER BY a.%s DESC, a.%s DESC LIMIT $8::int",
	    EVENT_NAMES(n), n->t, n->ip, n->ts, n->ts, n->tenant, n->ts, n->id);
	return sb_take(&b);
}

/* The same parameters; one address's events counted by one column. */
static char *build_ip_by(const struct pg_sql_names *n, const char *col)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT left(a.%s, $7::int), count(*), count(*) FILTER (WHERE " FAILURE("a") ")"
	    " FROM %s a WHERE a.%s = $5::inet AND a.%s >= " WINDOW_START " AND a.%s <= " NOT_AFTER
	    " AND " TENANT("a") " AND $6::int IS NOT NULL"
	    " GROUP BY a.%s ORDER BY 2 DESC, 1 LIMIT $8::int",
	    col, n->action, n->status, n->t, n->ip, n->ts, n->ts, n->tenant, col);
	return sb_take(&b);
}

/* The same parameters, $5 the tenant looked at; its users by failures. */
static char *build_tenant_users(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT left(a.%s, $7::int), count(*), count(*) FILTER (WHERE " FAILURE("a") ")"
	    " FROM %s a WHERE a.%s = $5::text AND a.%s >= " WINDOW_START " AND a.%s <= " NOT_AFTER
	    " AND " TENANT("a") " AND $6::int IS NOT NULL"
	    " GROUP BY a.%s ORDER BY 3 DESC, 2 DESC, 1 LIMIT $8::int",
	    n->user, n->action, n->status, n->t, n->tenant, n->ts, n->ts, n->tenant, n->user);
	return sb_take(&b);
}

/* Operators' actions, every operator's: $1 bigint the scan's start (unix
 * us), $2 bigint cursor time and $3 cursor id (NULL: from $1 on), $4
 * text[] the operators' action names, $5 int text cut, $6 int limit, $7
 * text one incident (NULL: any).  Bounded in time on both sides (a
 * partitioned table reads only its range), in cursor order:
 *   0 id, 1 time (unix us), 2 action, 3 operator (the user column),
 *   4 resource type, 5 target (resource id), 6 tenant, and from the
 *   details: 7 journal id, 8 incident, 9 reason, 10 note, 11 mode,
 *   12 outcome. */
static char *build_team_rows(const struct pg_sql_names *n)
{
	struct sqlbuf b = { 0 };

	sb_printf(&b,
	    "SELECT a.%s::text, " TS_US("a") ", left(a.%s, $5::int), left(a.%s::text, $5::int),"
	    " left(a.%s::text, $5::int), left(a.%s::text, $5::int), left(a.%s::text, $5::int),"
	    " left(a.%s->>'journal_id', $5::int), left(a.%s->>'incident', $5::int),"
	    " left(a.%s->>'reason', $5::int), left(a.%s->>'note', $5::int), left(a.%s->>'mode', $5::int),"
	    " left(a.%s->>'outcome', $5::int)"
	    " FROM %s a WHERE a.%s >= " US_TIME("$1") " AND a.%s <= " NOT_AFTER " AND a.%s = ANY($4::text[])"
	    " AND ($2::bigint IS NULL OR (a.%s, a.%s) > (" US_TIME("$2") ", $3))"
	    " AND ($7::text IS NULL OR a.%s->>'incident' = $7::text)"
	    " ORDER BY a.%s, a.%s LIMIT $6::int",
	    n->id, n->ts, n->action, n->user, n->rtype, n->rid, n->tenant, n->details, n->details,
	    n->details, n->details, n->details, n->details, n->t, n->ts, n->ts, n->action, n->ts, n->id,
	    n->details, n->ts, n->id);
	return sb_take(&b);
}

/*
 * A look back is the same queries with the clock stopped at the period's
 * end: the session's sectop.at (the source sets it before its first query
 * of a period) where a live query reads now(), and no second of jitter
 * after it: the period ends where it says.  Nothing else in the queries
 * reads the clock (SERVER_ROLE reads statement_timestamp()).
 */
#define AT_END "current_setting('sectop.at')::timestamptz"

static char *replace_all(char *sql, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), count = 0;

	if (!sql)
		return NULL;
	for (const char *p = strstr(sql, from); p; p = strstr(p + nf, from))
		count++;
	char *out = malloc(strlen(sql) + count * nt + 1), *w = out;
	const char *r = sql;
	if (out) {
		for (const char *p = strstr(r, from); p; r = p + nf, p = strstr(r, from)) {
			memcpy(w, r, (size_t)(p - r));
			w += p - r;
			memcpy(w, to, nt);
			w += nt;
		}
		strcpy(w, r);
	}
	free(sql);
	return out;
}

static char *stop_the_clock(char *sql)
{
	return replace_all(replace_all(sql, NOT_AFTER, AT_END), "now()", AT_END);
}

int pg_sql_build(struct pg_sql *q, const struct config *cfg, bool at)
{
	struct pg_sql_names n;

	memset(q, 0, sizeof *q);
	if (pg_sql_names_init(&n, cfg) < 0)
		return -1;
	q->clock = build_clock(&n);
	q->rows = build_rows(&n);
	q->late = build_late(&n);
	q->per_minute = build_per_minute(&n);
	q->top_ips = build_top_ips(&n);
	q->tail = build_tail(&n);
	q->ip_events = build_ip_events(&n);
	q->ip_by[0] = build_ip_by(&n, n.tenant);
	q->ip_by[1] = build_ip_by(&n, n.user);
	q->ip_by[2] = build_ip_by(&n, n.ua);
	q->tenant_users = build_tenant_users(&n);
	q->team_rows = build_team_rows(&n);
	pg_sql_names_free(&n);
	if (at) {
		char **all[] = { &q->clock, &q->rows, &q->late, &q->per_minute, &q->top_ips, &q->tail,
		                 &q->ip_events, &q->ip_by[0], &q->ip_by[1], &q->ip_by[2], &q->tenant_users };
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			*all[i] = stop_the_clock(*all[i]);
	}
	if (!q->clock || !q->rows || !q->late || !q->per_minute ||
	    !q->top_ips || !q->tail ||
	    !q->ip_events || !q->ip_by[0] || !q->ip_by[1] || !q->ip_by[2] || !q->tenant_users || !q->team_rows) {
		pg_sql_free(q);
		return -1;
	}
	return 0;
}

void pg_sql_free(struct pg_sql *q)
{
	free(q->clock);
	free(q->rows);
	free(q->late);
	free(q->per_minute);
	free(q->top_ips);
	free(q->tail);
	free(q->ip_events);
	for (int i = 0; i < 3; i++)
		free(q->ip_by[i]);
	free(q->tenant_users);
	free(q->team_rows);
	memset(q, 0, sizeof *q);
}

static const char *const index_suffix[3] = { "_ts_id", "_failures_ts_ip", "_ip_ts" };

char *pg_sql_index_name(const char *relation, int i)
{
	return str_printf("%s%s", relation, index_suffix[i]);
}

/* An index name as an identifier. */
static char *index_name(const char *relation, int i)
{
	char *raw = pg_sql_index_name(relation, i);
	char *q = raw ? pg_sql_ident(raw) : NULL;
	free(raw);
	return q;
}

/* "schema"."name", or NULL when out of memory. */
static char *qualified(const char *schema, const char *name)
{
	char *s = pg_sql_ident(schema), *n = pg_sql_ident(name);
	char *q = s && n ? str_printf("%s.%s", s, n) : NULL;
	free(s);
	free(n);
	return q;
}

/* The failure predicate with literal values, as the partial index needs it:
 * it must be the same expression the queries get once their parameters are
 * bound, so that the planner can prove the index applies. */
static void failure_literal(struct sqlbuf *b, const struct config *cfg, const struct pg_sql_names *n)
{
	sb_printf(b, "(%s IN (", n->action);
	for (size_t i = 0; i < cfg->failure_actions.n; i++) {
		char *lit = pg_sql_literal(cfg->failure_actions.v[i]);
		sb_printf(b, "%s%s", i ? ", " : "", lit ? lit : "''");
		free(lit);
	}
	sb_printf(b, ") OR %s IN (", n->status);
	for (size_t i = 0; i < cfg->n_failure_statuses; i++)
		sb_printf(b, "%s%d", i ? ", " : "", cfg->failure_statuses[i]);
	sb_printf(b, "))");
}

/* Index i's columns (and predicate), after the table's name. */
static void index_columns(struct sqlbuf *b, const struct config *cfg, const struct pg_sql_names *n, int i)
{
	if (i == 0) {
		sb_printf(b, " (%s, %s)", n->ts, n->id);
	} else if (i == 1) {
		sb_printf(b, " (%s, %s)\n  WHERE ", n->ts, n->ip);
		failure_literal(b, cfg, n);
	} else {
		sb_printf(b, " (%s, %s)", n->ip, n->ts);
	}
}

static const char *const index_why[3] = {
	"-- 1. Every time-range query, and the tail cursor (timestamp, id) in order without a sort.\n"
	"--    It replaces an index on the timestamp alone.\n",
	"-- 2. Failures only, small: per-minute counts and top addresses become index-only scans.\n"
	"--    Its predicate must match the configured failure definition exactly.\n",
	"-- 3. One address's events in a time range: the top addresses' requests, users and tenants.\n",
};

static void plain_indexes(struct sqlbuf *b, const struct config *cfg, const struct pg_sql_names *n)
{
	sb_printf(b, "-- CONCURRENTLY builds them without blocking the writers (not inside a transaction).\n\n");
	for (int i = 0; i < 3; i++) {
		char *name = index_name(cfg->schema.table, i);
		sb_printf(b, "%sCREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s", index_why[i], name ? name : "", n->t);
		index_columns(b, cfg, n, i);
		sb_printf(b, ";\n\n");
		free(name);
	}
}

/* A partitioned table refuses CREATE INDEX CONCURRENTLY: each index is
 * made on the parents alone (ON ONLY), built CONCURRENTLY on each leaf,
 * then attached, lowest level first, which makes the parents' valid. */
static void partitioned_indexes(struct sqlbuf *b, const struct config *cfg, const struct pg_sql_names *n,
                                const struct pg_partition *parts, size_t np)
{
	sb_printf(b,
	    "-- %s is partitioned, and CREATE INDEX CONCURRENTLY is refused on a partitioned table.\n"
	    "-- Each index is made in three steps: on the partitioned tables alone (ON ONLY: invalid\n"
	    "-- until every partition has its own), CONCURRENTLY on each partition (writers are not\n"
	    "-- blocked; not inside a transaction), then attached, which makes the parent's valid.\n"
	    "-- Partitions created afterwards (pg_partman's included) get the parent's indexes\n"
	    "-- themselves.  Partitions that have their part already are left out.\n\n",
	    n->t);
	for (int i = 0; i < 3; i++) {
		sb_printf(b, "%s", index_why[i]);
		for (size_t k = 0; k < np; k++) {
			const struct pg_partition *p = &parts[k];
			char *rel = qualified(p->schema, p->name), *idx = index_name(p->name, i);
			if (!p->has[i] || k == 0) {
				sb_printf(b, "CREATE INDEX %sIF NOT EXISTS %s ON %s%s", p->leaf ? "CONCURRENTLY " : "",
				          idx ? idx : "", p->leaf ? "" : "ONLY ", rel ? rel : "");
				index_columns(b, cfg, n, i);
				sb_printf(b, ";\n");
			}
			free(rel);
			free(idx);
		}
		for (size_t k = np; k-- > 1;) {
			const struct pg_partition *p = &parts[k], *up = &parts[p->parent];
			if (p->has[i])
				continue;
			char *child = index_name(p->name, i), *parent = index_name(up->name, i);
			char *sp = pg_sql_ident(up->schema), *sc = pg_sql_ident(p->schema);
			sb_printf(b, "ALTER INDEX %s.%s ATTACH PARTITION %s.%s;\n", sp ? sp : "", parent ? parent : "",
			          sc ? sc : "", child ? child : "");
			free(child);
			free(parent);
			free(sp);
			free(sc);
		}
		sb_printf(b, "\n");
	}
}

char *pg_sql_indexes(const struct config *cfg, const struct pg_partition *parts, size_t np)
{
	struct pg_sql_names n;
	struct sqlbuf b = { 0 };

	if (pg_sql_names_init(&n, cfg) < 0)
		return NULL;
	sb_printf(&b, "-- Indexes that keep every sectop refresh cheap, whatever the size of %s.\n", n.t);
	if (parts && np)
		partitioned_indexes(&b, cfg, &n, parts, np);
	else
		plain_indexes(&b, cfg, &n);
	sb_printf(&b,
	    "-- No index on unbounded text columns (tenant, user agent, path): a 10 KB value would\n"
	    "-- make the writers' inserts fail.  Refresh statistics afterwards: ANALYZE %s;\n", n.t);
	pg_sql_names_free(&n);
	return sb_take(&b);
}
