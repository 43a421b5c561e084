/* bench_refresh.c: what one dashboard refresh costs, measured on the real
 * sources (libsectop.a: app_open + loop_turn, exactly what the console and
 * `sectop snapshot` run), or on the naive baseline (plain full-window
 * GROUP BY queries every refresh).  bench/run.sh builds and runs it; it
 * prints one "key value" line per figure.
 *
 *   bench_refresh --db CONNINFO --redis URL --redis-port N [--table NAME]
 *                 [--naive --drop-index NAME...] [--firsts 5] [--refreshes 20]
 *                 [--bursts 5] [--interval-ms 250] [--walk-max-s 180]
 *   bench_refresh --db CONNINFO --naive-live SECONDS [--interval-ms 1000]
 *
 * NAME: a plain table name (the benchmark's own tables); the queries of the
 * naive baseline use the contract's column names.
 *
 * Database time comes from pg_stat_statements (execution + planning time
 * of every statement sectop sent, nothing else: the statements that read
 * or reset pg_stat_statements are left out), reset before and read after
 * each measured span, on a second, blocking connection ("ctl") that runs
 * nothing else in between (top-level statements only: nested ones are
 * counted in their caller's time).  Wall times are the client's, CLOCK_MONOTONIC.
 *
 * Phases:
 *   first   a fresh connection's first complete refresh, median of --firsts
 *   steady  --refreshes timed refreshes with no new rows (none crossing a
 *           minute: the one full refresh a minute is in the console figure)
 *   burst   500 rows inserted (450 ordinary, 50 of the attack, through the
 *           demo generator of scripts/seed.sql), then the next refresh;
 *           median of --bursts.  Each burst is taken away after its
 *           refresh, so that every phase and run sees the table as seeded.
 *   redis   (sectop only) --walk-max-s seconds of the console at its default
 *           refresh (2 s): Redis server time and SCANs per second, and the
 *           length of a full pass of the paced walk, from its progress
 *           (--walk-max-s 0: skipped)
 *
 * The naive baseline runs in a transaction that drops the recommended
 * indexes (--drop-index NAME, repeatable) and is rolled back at the end:
 * plain GROUP BYs without them, on the very rows sectop is measured on, a
 * few seconds apart; its bursts go with the rollback.
 *
 * --naive-live SECONDS: the naive baseline of the live section: the same
 * plain queries, with whatever indexes the table has, one refresh every
 * --interval-ms (paced by the clock: a refresh that overruns is followed at
 * once by the next) for SECONDS, on one connection, and nothing else on it
 * (no reset, no read of pg_stat_statements: the harness reads this role's
 * database time).  It prints naive_refreshes, naive_wall_ms (mean) and
 * naive_wall_max_ms.
 *
 * Redis per refresh (sectop only): commands (the source's own count), SCAN
 * steps, round trips (TCP data segments the client sent on its Redis
 * socket: every pipeline leaves in one segment on loopback), the server's
 * time (INFO commandstats usec) and KEYS calls (must stay 0).
 */
#include "config.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "loop.h"
#include "model.h"
#include "pg.h"
#include "redis.h"

#define MAXN 64

static struct opts {
	const char *db, *redis, *table;
	int redis_port;
	bool naive;
	int firsts, refreshes, bursts, interval_ms, walk_max_s, naive_live_s;
	const char *drop[8];
	int n_drop;
} o = { .table = "audit_log", .firsts = 5, .refreshes = 20, .bursts = 5, .interval_ms = 250,
        .walk_max_s = 180 };

static PGconn *ctl;
static redisContext *rctl;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_refresh: %s: %s\n", what, why ? why : "failed");
	exit(1);
}

static void out(const char *key, double v)
{
	printf("%s %.3f\n", key, v);
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	if (n <= 0)
		return -1;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------ ctl: SQL */

static PGresult *ctl_exec(const char *sql)
{
	PGresult *r = PQexec(ctl, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		die(sql, PQerrorMessage(ctl));
	return r;
}

static void pss_reset(void)
{
	PQclear(ctl_exec("SELECT pg_stat_statements_reset()"));
}

/* Database time (ms, execution + planning) and statements since the reset. */
static double pss_read(double *calls)
{
	PGresult *r = ctl_exec(
	    "SELECT coalesce(sum(total_exec_time + total_plan_time), 0), coalesce(sum(calls), 0)"
	    " FROM pg_stat_statements"
	    " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
	    " AND toplevel AND query NOT ILIKE '%pg_stat_statements%'");
	double ms = strtod(PQgetvalue(r, 0, 0), NULL);
	if (calls)
		*calls = strtod(PQgetvalue(r, 0, 1), NULL);
	PQclear(r);
	return ms;
}

/* 500 rows of the demo's shape, timed now: ordinary traffic and the attack,
 * inserted on connection c; their ids go to the temporary table
 * bench_burst (of c's session) when undo is to follow. */
static void burst(PGconn *c, bool keep_ids)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
	    "%sINSERT INTO %s (\"timestamp\", tenant_id, user_id, action, resource_type, resource_id,"
	    " ip_address, method, path, status_code, user_agent, details)"
	    " SELECT * FROM sectop_demo_events(450, now(), interval '2 seconds')"
	    " UNION ALL SELECT * FROM sectop_demo_attack(50, 0, now(), interval '2 seconds')%s",
	    keep_ids ? "WITH b AS (" : "", o.table,
	    keep_ids ? " RETURNING id) INSERT INTO pg_temp.bench_burst SELECT id FROM b" : "");
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("burst", PQerrorMessage(c));
	PQclear(r);
}

/* Take the last burst away again (on ctl). */
static void burst_undo(void)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	    "DELETE FROM %s WHERE id IN (SELECT id FROM pg_temp.bench_burst)", o.table);
	PQclear(ctl_exec(sql));
	PQclear(ctl_exec("TRUNCATE pg_temp.bench_burst"));
}

/* Rows in the dashboard's window (15 minutes from the minute) and in the
 * probe's range (this minute and 10 s before), as the figures saw them. */
static void window_rows(PGconn *c, const char *prefix)
{
	char sql[512], key[64];
	snprintf(sql, sizeof sql,
	    "SELECT count(*), count(*) FILTER (WHERE \"timestamp\" >= date_trunc('minute', now())"
	    " - interval '10 seconds') FROM %s"
	    " WHERE \"timestamp\" >= date_trunc('minute', now()) - interval '15 minutes'", o.table);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("window rows", PQerrorMessage(c));
	snprintf(key, sizeof key, "%s_window_rows", prefix);
	out(key, strtod(PQgetvalue(r, 0, 0), NULL));
	snprintf(key, sizeof key, "%s_probe_rows", prefix);
	out(key, strtod(PQgetvalue(r, 0, 1), NULL));
	PQclear(r);
}

/* --------------------------------------------------------- ctl: Redis */

static void redis_ctl_open(void)
{
	rctl = redisConnect("127.0.0.1", o.redis_port);
	if (!rctl || rctl->err)
		die("redis", rctl ? rctl->errstr : "out of memory");
	const char *pw = getenv("REDISCLI_AUTH");
	if (pw && *pw) {
		redisReply *r = redisCommand(rctl, "AUTH %s", pw);
		if (!r || r->type == REDIS_REPLY_ERROR)
			die("redis AUTH", r ? r->str : rctl->errstr);
		freeReplyObject(r);
	}
}

/* INFO commandstats: total server usec of every command but INFO and
 * AUTH (ours), and the calls of KEYS. */
static void redis_cmdstats(double *usec, double *keys_calls)
{
	redisReply *r = redisCommand(rctl, "INFO commandstats");
	if (!r || r->type != REDIS_REPLY_STRING)
		die("redis INFO", rctl->errstr);
	*usec = 0;
	*keys_calls = 0;
	for (char *line = strtok(r->str, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		char name[64];
		double calls = 0, us = 0;
		if (sscanf(line, "cmdstat_%63[^:]:calls=%lf,usec=%lf", name, &calls, &us) != 3)
			continue;
		if (strcmp(name, "info") == 0 || strcmp(name, "auth") == 0)
			continue;
		*usec += us;
		if (strcmp(name, "keys") == 0)
			*keys_calls += calls;
	}
	freeReplyObject(r);
}

/* Data segments the client sent on its sockets to this port, except
 * `skip` (our own control connection). */
static double tcp_segs_out(int port, int skip)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double segs = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		struct stat st;
		struct sockaddr_storage sa;
		socklen_t len = sizeof sa;
		if (e->d_name[0] == '.' || fd == skip || fd == dirfd(d))
			continue;
		if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
			continue;
		int p = sa.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&sa)->sin_port)
		      : sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) : -1;
		if (p != port)
			continue;
		struct tcp_info ti;
		socklen_t tl = sizeof ti;
		memset(&ti, 0, sizeof ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			segs += ti.tcpi_data_segs_out;
	}
	closedir(d);
	return segs;
}

/* ------------------------------------------------------------- sectop */

static struct config cfg;

static void cfg_set(const char *k, const char *v)
{
	char err[256];
	if (conf_set(&cfg, k, v, err, sizeof err) < 0)
		die(k, err);
}

static void cfg_init(void)
{
	char ms[32], err[256];

	conf_defaults(&cfg);
	cfg_set("db", o.db);
	cfg_set("redis", o.redis);
	cfg_set("table", o.table);
	snprintf(ms, sizeof ms, "%dms", o.interval_ms);
	cfg_set("refresh", ms);
	conf_apply_env(&cfg);             /* REDISCLI_AUTH */
	if (conf_validate(&cfg, err, sizeof err) < 0)
		die("configuration", err);
}

static void turn(struct app *a, int64_t wait_ms)
{
	if (loop_turn(a->loop, wait_ms, NULL, 0) < 0)
		die("poll", strerror(errno));
}

static bool pg_failed(const struct app *a)
{
	return a->model.pg.state != SOURCE_OK && a->model.pg.failures > 0;
}

/* Turn the loop until the PostgreSQL source has completed `n` refreshes
 * in all (or the deadline passes).  Returns the wall time (ms) from when
 * the refresh's first query went out to its end; -1 on a timeout. */
static double until_pg_refreshes(struct app *a, unsigned n, double deadline_ms)
{
	unsigned long q0, q, quiet;
	double started = -1;

	pg_counters(a->pg, &q0, &quiet);
	while (a->model.pg.refreshes < n) {
		if (now_ms() > deadline_ms || pg_failed(a))
			return -1;
		turn(a, 50);
		pg_counters(a->pg, &q, &quiet);
		if (started < 0 && q != q0)
			started = now_ms();
	}
	return started < 0 ? 0 : now_ms() - started;
}

/* The exact Redis state of the addresses PostgreSQL published is in. */
static bool redis_caught_up(const struct app *a)
{
	const struct model *m = &a->model;
	return m->redis.refreshes > 0 && m->ip_redis_gen == m->top_ips_gen;
}

/* Wait until the wall clock is at least `room_s` seconds before the end
 * of its minute and 2 s past its start (the probe is per minute). */
static void wait_room_in_minute(struct app *a, int room_s)
{
	for (;;) {
		time_t t = time(NULL);
		int s = (int)(t % 60);
		if (s >= 2 && 60 - s >= room_s)
			return;
		if (a)
			turn(a, 100);
		else
			usleep(100000);
	}
}

static void run_sectop(void)
{
	double first_db[MAXN], first_wall[MAXN], first_frame[MAXN], first_q[MAXN];
	struct app app;
	char err[512];
	int nf = 0;

	cfg_init();
	window_rows(ctl, "first");
	/* first: a fresh connection each time */
	for (int i = 0; i < o.firsts && i < MAXN; i++) {
		memset(&app, 0, sizeof app);
		app.cfg = &cfg;
		pss_reset();
		double t0 = now_ms();
		if (app_open(&app, err, sizeof err) < 0)
			die("app_open", err);
		double wall = -1, frame = -1;
		while (frame < 0) {
			if (now_ms() - t0 > 30000 || pg_failed(&app))
				die("first refresh", app.model.pg.error);
			turn(&app, 50);
			if (wall < 0 && app.model.pg.refreshes > 0)
				wall = now_ms() - t0;
			if (wall >= 0 && redis_caught_up(&app))
				frame = now_ms() - t0;
		}
		unsigned long q, quiet;
		pg_counters(app.pg, &q, &quiet);
		first_db[nf] = pss_read(NULL);
		first_wall[nf] = wall;
		first_frame[nf] = frame;
		first_q[nf] = (double)q;
		nf++;
		if (i + 1 < o.firsts)
			app_close(&app);
	}
	out("first_db_ms", median(first_db, nf));
	out("first_queries", median(first_q, nf));
	out("first_wall_ms", median(first_wall, nf));
	out("first_complete_ms", median(first_frame, nf));

	/* steady: timed refreshes, nothing new, within one minute */
	int room = (o.refreshes + 2) * o.interval_ms / 1000 + 4;
	if (room > 55)
		room = 55;
	wait_room_in_minute(&app, room);
	window_rows(ctl, "steady");
	unsigned done = app.model.pg.refreshes;
	if (until_pg_refreshes(&app, done + 1, now_ms() + 30000) < 0)   /* at a boundary */
		die("steady", app.model.pg.error);
	done = app.model.pg.refreshes;
	unsigned long q0, quiet0, q1, quiet1;
	struct redis_stats rs0, rs1;
	double us0, us1, keys0, keys1;
	unsigned rref0 = app.model.redis.refreshes;
	pg_counters(app.pg, &q0, &quiet0);
	redis_get_stats(app.redis, &rs0);
	redis_cmdstats(&us0, &keys0);
	double segs0 = tcp_segs_out(o.redis_port, rctl->fd);
	pss_reset();
	double walls = 0;
	for (int i = 0; i < o.refreshes; i++) {
		double w = until_pg_refreshes(&app, done + 1 + (unsigned)i, now_ms() + 30000);
		if (w < 0)
			die("steady refresh", app.model.pg.error);
		walls += w;
	}
	double db = pss_read(NULL);
	pg_counters(app.pg, &q1, &quiet1);
	redis_get_stats(app.redis, &rs1);
	redis_cmdstats(&us1, &keys1);
	double segs1 = tcp_segs_out(o.redis_port, rctl->fd);
	unsigned rref = app.model.redis.refreshes - rref0;
	out("steady_db_ms", db / o.refreshes);
	out("steady_queries", (double)(q1 - q0) / o.refreshes);
	out("steady_quiet_share", (double)(quiet1 - quiet0) / o.refreshes);
	out("steady_wall_ms", walls / o.refreshes);
	if (rref == 0)
		rref = 1;
	out("redis_refreshes", rref);
	out("redis_commands", (double)(rs1.commands - rs0.commands) / rref);
	out("redis_scan_steps", (double)(rs1.scan_steps - rs0.scan_steps) / rref);
	out("redis_round_trips", (segs1 - segs0) / rref);
	out("redis_server_ms", (us1 - us0) / 1000.0 / rref);
	out("redis_keys_calls", keys1 - keys0);

	/* burst: 500 rows, then the next refresh */
	double bdb[MAXN], bwall[MAXN], bq[MAXN];
	int nb = 0;
	for (int i = 0; i < o.bursts && i < MAXN; i++) {
		done = app.model.pg.refreshes;
		if (until_pg_refreshes(&app, done + 1, now_ms() + 30000) < 0)
			die("burst", app.model.pg.error);
		burst(ctl, true);
		pss_reset();
		pg_counters(app.pg, &q0, &quiet0);
		double w = until_pg_refreshes(&app, done + 2, now_ms() + 30000);
		if (w < 0)
			die("burst refresh", app.model.pg.error);
		pg_counters(app.pg, &q1, &quiet1);
		bdb[nb] = pss_read(NULL);
		bwall[nb] = w;
		bq[nb] = (double)(q1 - q0);
		nb++;
		burst_undo();
		/* the refresh that sees them gone, before the next burst */
		if (until_pg_refreshes(&app, done + 3, now_ms() + 30000) < 0)
			die("burst", app.model.pg.error);
	}
	out("burst_db_ms", median(bdb, nb));
	out("burst_queries", median(bq, nb));
	out("burst_wall_ms", median(bwall, nb));

	/* Redis per second: one console at its default refresh (2 s), walk
	 * and exact reads together, over a span of --walk-max-s seconds; and
	 * how long a full pass of the paced walk takes, from its progress (a
	 * pass over a million keys lasts minutes: longer than the span) */
	if (o.walk_max_s == 0)
		goto closing;
	app.model.refresh_ms = 2000;
	unsigned p0 = app.model.walk.passes;
	double f0 = app.model.walk.active ? app.model.walk.fraction : 0;
	redis_get_stats(app.redis, &rs0);
	redis_cmdstats(&us0, &keys0);
	double t0 = now_ms();
	while (now_ms() - t0 < o.walk_max_s * 1000.0)
		turn(&app, 50);
	double secs = (now_ms() - t0) / 1000.0;
	redis_cmdstats(&us1, &keys1);
	redis_get_stats(app.redis, &rs1);
	double progressed = (double)(app.model.walk.passes - p0) +
	                    (app.model.walk.active ? app.model.walk.fraction : 0) - f0;
	out("redis_ms_per_s", (us1 - us0) / 1000.0 / secs);
	out("redis_scans_per_s", (double)(rs1.scan_steps - rs0.scan_steps) / secs);
	out("walk_pass_s", progressed > 0.001 ? secs / progressed : -1);
closing:
	app_close(&app);
	conf_free(&cfg);
}

/* -------------------------------------------------------------- naive */

/* The same figures as plain GROUP BYs over the whole window, every
 * refresh: failures per minute (60 m), top addresses and tenants (15 m),
 * the newest failures.  Default column names, as the contract has them. */
#define FAILURE "(action IN ('failed_auth', 'unauthorized_access', 'authentication_failed')" \
                " OR status_code IN (401, 403))"
static const char *const naive_sql[] = {
	"SELECT date_trunc('minute', \"timestamp\") AS minute, count(*) FROM @T"
	" WHERE \"timestamp\" >= now() - interval '60 minutes' AND " FAILURE
	" GROUP BY 1 ORDER BY 1",
	"SELECT host(ip_address), count(*) FILTER (WHERE " FAILURE ") AS failures, count(*),"
	" count(DISTINCT user_id), count(DISTINCT tenant_id) FROM @T"
	" WHERE \"timestamp\" >= now() - interval '15 minutes' AND ip_address IS NOT NULL"
	" GROUP BY ip_address ORDER BY failures DESC, ip_address LIMIT 20",
	"SELECT left(tenant_id, 200), count(*), count(*) FILTER (WHERE " FAILURE "),"
	" count(*) FILTER (WHERE action = 'unauthorized_access' OR status_code = 403),"
	" count(*) FILTER (WHERE action = 'cross_tenant_access'),"
	" count(DISTINCT ip_address), count(DISTINCT user_id) FROM @T"
	" WHERE \"timestamp\" >= now() - interval '15 minutes'"
	" GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id NULLS LAST LIMIT 20",
	"SELECT id::text, \"timestamp\", host(ip_address), left(tenant_id, 200), left(user_id, 200),"
	" left(action, 200), left(method, 200), left(path, 200), status_code, left(user_agent, 200)"
	" FROM @T WHERE \"timestamp\" >= now() - interval '15 minutes' AND " FAILURE
	" ORDER BY \"timestamp\" DESC, id DESC LIMIT 100",
};
#define N_NAIVE (sizeof naive_sql / sizeof naive_sql[0])

/* The query with @T replaced by the table's name. */
static void naive_text(char *sql, size_t n, const char *tmpl)
{
	const char *at = strstr(tmpl, "@T");
	snprintf(sql, n, "%.*s%s%s", (int)(at - tmpl), tmpl, o.table, at + 2);
}

static double naive_refresh(PGconn *c)
{
	char sql[2048];
	double t0 = now_ms();

	for (size_t i = 0; i < N_NAIVE; i++) {
		naive_text(sql, sizeof sql, naive_sql[i]);
		PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			die("naive query", PQerrorMessage(c));
		PQclear(r);
	}
	return now_ms() - t0;
}

static PGresult *naive_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		die(sql, PQerrorMessage(c));
	return r;
}

/* A connection in a transaction without the recommended indexes. */
static PGconn *naive_connect(void)
{
	PGconn *c = PQconnectdb(o.db);
	if (PQstatus(c) != CONNECTION_OK)
		die("connect", PQerrorMessage(c));
	PQclear(naive_exec(c, "BEGIN"));
	for (int i = 0; i < o.n_drop; i++) {
		char *id = PQescapeIdentifier(c, o.drop[i], strlen(o.drop[i]));
		char sql[256];
		if (!id)
			die("index name", PQerrorMessage(c));
		snprintf(sql, sizeof sql, "DROP INDEX %s", id);
		PQfreemem(id);
		PQclear(naive_exec(c, sql));
	}
	return c;
}

/* Roll back: the indexes and the bursts come back and go. */
static void naive_close(PGconn *c)
{
	PQclear(naive_exec(c, "ROLLBACK"));
	PQfinish(c);
}

static void run_naive(void)
{
	double fdb[MAXN], fwall[MAXN];
	int nf = 0;
	PGconn *c = NULL;

	window_rows(ctl, "first");
	for (int i = 0; i < o.firsts && i < MAXN; i++) {
		if (c)
			naive_close(c);
		double t0 = now_ms();
		c = naive_connect();
		double connect = now_ms() - t0;
		pss_reset();
		fwall[nf] = connect + naive_refresh(c);
		fdb[nf] = pss_read(NULL);
		nf++;
	}
	out("first_db_ms", median(fdb, nf));
	out("first_queries", (double)N_NAIVE);
	out("first_wall_ms", median(fwall, nf));
	out("first_complete_ms", median(fwall, nf));

	window_rows(c, "steady");      /* ctl would wait for c's lock */
	pss_reset();
	double walls = 0;
	for (int i = 0; i < o.refreshes; i++) {
		walls += naive_refresh(c);
		usleep((useconds_t)o.interval_ms * 1000);
	}
	out("steady_db_ms", pss_read(NULL) / o.refreshes);
	out("steady_queries", (double)N_NAIVE);
	out("steady_quiet_share", 0);
	out("steady_wall_ms", walls / o.refreshes);

	/* bursts in the transaction: each measured alone, all rolled back */
	double bdb[MAXN], bwall[MAXN];
	int nb = 0;
	for (int i = 0; i < o.bursts && i < MAXN; i++) {
		PQclear(naive_exec(c, "SAVEPOINT burst"));
		burst(c, false);
		pss_reset();
		bwall[nb] = naive_refresh(c);
		bdb[nb] = pss_read(NULL);
		nb++;
		PQclear(naive_exec(c, "ROLLBACK TO SAVEPOINT burst"));
		usleep((useconds_t)o.interval_ms * 1000);
	}
	out("burst_db_ms", median(bdb, nb));
	out("burst_queries", (double)N_NAIVE);
	out("burst_wall_ms", median(bwall, nb));
	naive_close(c);
}

/* The live section's baseline: a refresh every interval for `seconds`. */
static void run_naive_live(int seconds)
{
	PGconn *c = PQconnectdb(o.db);
	if (PQstatus(c) != CONNECTION_OK)
		die("connect", PQerrorMessage(c));
	double t0 = now_ms(), end = t0 + seconds * 1000.0, walls = 0, wmax = 0;
	int n = 0;
	while (now_ms() < end) {
		double w = naive_refresh(c);
		walls += w;
		if (w > wmax)
			wmax = w;
		n++;
		double next = t0 + (double)n * o.interval_ms, now = now_ms();
		if (next > end)
			next = end;
		if (next > now)
			usleep((useconds_t)((next - now) * 1000));
	}
	out("naive_refreshes", n);
	out("naive_wall_ms", n ? walls / n : -1);
	out("naive_wall_max_ms", n ? wmax : -1);
	PQfinish(c);
}

/* --------------------------------------------------------------- main */

static int int_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 1000000)
		die("bad number", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--drop-index") == 0 && v) {
			if (o.n_drop < 8)
				o.drop[o.n_drop++] = v;
			i++;
			continue;
		}
		if (strcmp(a, "--naive") == 0) {
			o.naive = true;
			continue;
		}
		if (strcmp(a, "--naive-live") == 0 && v) {
			o.naive_live_s = int_arg(v);
			i++;
			continue;
		}
		if (!v)
			die(a, "needs a value");
		i++;
		if (strcmp(a, "--db") == 0) o.db = v;
		else if (strcmp(a, "--redis") == 0) o.redis = v;
		else if (strcmp(a, "--redis-port") == 0) o.redis_port = int_arg(v);
		else if (strcmp(a, "--table") == 0) o.table = v;
		else if (strcmp(a, "--firsts") == 0) o.firsts = int_arg(v);
		else if (strcmp(a, "--refreshes") == 0) o.refreshes = int_arg(v);
		else if (strcmp(a, "--bursts") == 0) o.bursts = int_arg(v);
		else if (strcmp(a, "--interval-ms") == 0) o.interval_ms = int_arg(v);
		else if (strcmp(a, "--walk-max-s") == 0) o.walk_max_s = int_arg(v);
		else die(a, "unknown option");
	}
	if (o.db && o.naive_live_s > 0) {
		if (o.interval_ms < 1)
			die("--interval-ms", "must be at least 1");
		run_naive_live(o.naive_live_s);
		return 0;
	}
	if (!o.db || (!o.naive && (!o.redis || !o.redis_port)) || o.firsts < 1 || o.refreshes < 1)
		die("usage", "--db CONNINFO --redis URL --redis-port N [--table NAME]"
		    " [--naive --drop-index NAME...] [--naive-live SECONDS] [--firsts N]"
		    " [--refreshes N] [--bursts N] [--interval-ms MS] [--walk-max-s S]");
	ctl = PQconnectdb(o.db);
	if (PQstatus(ctl) != CONNECTION_OK)
		die("connect", PQerrorMessage(ctl));
	PQclear(ctl_exec("SET client_min_messages = warning"));
	PQclear(ctl_exec("CREATE TEMP TABLE IF NOT EXISTS bench_burst (id uuid)"));
	PGresult *r = ctl_exec("SHOW pg_stat_statements.track_planning");
	out("plan_time_tracked", strcmp(PQgetvalue(r, 0, 0), "on") == 0);
	PQclear(r);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (o.naive) {
		run_naive();
	} else {
		redis_ctl_open();
		run_sectop();
		redisFree(rctl);
	}
	curl_global_cleanup();
	PQfinish(ctl);
	return 0;
}
