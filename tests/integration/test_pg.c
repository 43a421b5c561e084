/* The PostgreSQL source against a real server: every figure checked against
 * an independent SQL count on seeded data, the tail's cursor against rows
 * that commit out of order, a quiet refresh costing one query, and faults
 * (wrong password, nothing listening, a killed and a stopped backend). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "loop.h"
#include "model.h"
#include "pg.h"
#include "pg_sql.h"
#include "team.h"
#include "team_pg.h"
#include "testenv.h"

static const char *dsn;
static PGconn *db;                 /* the test's own connection, for seeding and checking */
static char table[64];

struct rig {
	struct config cfg;
	struct model m;
	struct loop *loop;
	struct pg *pg;
	struct turn_worst worst;
};

static PGresult *sql(const char *q, int n, const char *const *params)
{
	PGresult *r = PQexecParams(db, q, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQerrorMessage(db));
	return r;
}

static void sql_do(const char *fmt, ...)
{
	char q[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	PQclear(sql(q, 0, NULL));
}

static long long sql_num(const char *fmt, ...)
{
	char q[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	PGresult *r = sql(q, 0, NULL);
	long long v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	return v;
}

/* A week-shaped but small data set: normal traffic, failures of every kind,
 * an attack from a few addresses (one IPv6), NULL columns, an unknown
 * action, hostile strings, and rows outside the window. */
static void seed(void)
{
	sql_do("SELECT setseed(0.42)");
	sql_do("INSERT INTO %s (\"timestamp\", tenant_id, user_id, action, ip_address, method, path, status_code, user_agent)"
	       " SELECT now() - (random() * interval '14 minutes'),"
	       "  (ARRAY['acme','globex','initech',NULL])[1 + (g %% 4)],"
	       "  'user_' || (g %% 37),"
	       "  (ARRAY['api_request','api_request','api_request','auth_attempt','failed_auth','unauthorized_access','cross_tenant_access','rate_limit_exceeded','weird_new_action'])[1 + (g %% 9)],"
	       "  ('10.0.' || (g %% 7) || '.' || (g %% 13))::inet,"
	       "  'GET', '/api/v1/items/' || g,"
	       "  (ARRAY[200,200,401,403,200,429,500])[1 + (g %% 7)],"
	       "  'curl/8.' || (g %% 5)"
	       " FROM generate_series(1, 3000) g", table);
	/* the attack, in the last five minutes */
	sql_do("INSERT INTO %s (\"timestamp\", tenant_id, user_id, action, ip_address, status_code, user_agent, path)"
	       " SELECT now() - (random() * interval '5 minutes'), 'acme', 'victim_' || (g %% 50), 'failed_auth',"
	       "  (ARRAY['203.0.113.7','203.0.113.8','2001:db8::bad:1'])[1 + (g %% 3)]::inet, 401,"
	       "  E'evil\\x1b]0;pwned\\x07agent', E'/login\\u202e'"
	       " FROM generate_series(1, 600) g", table);
	/* outside the window: must not count */
	sql_do("INSERT INTO %s (\"timestamp\", tenant_id, action, ip_address, status_code)"
	       " SELECT now() - interval '3 hours', 'acme', 'failed_auth', '198.51.100.1', 401"
	       " FROM generate_series(1, 500)", table);
	/* NULLs everywhere but the action */
	sql_do("INSERT INTO %s (action) VALUES ('failed_auth'), ('api_request')", table);
}

static int group_setup(void **state)
{
	(void)state;
	dsn = testenv_need("SECTOP_TEST_DB");
	db = PQconnectdb(dsn);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect: %s", PQerrorMessage(db));
		return -1;
	}
	/* a test that fails with a transaction open must not hang the teardown */
	PQclear(PQexec(db, "SET lock_timeout = '10s'"));
	snprintf(table, sizeof table, "audit_log_test_pg_%d", (int)getpid());
	sql_do("CREATE TABLE %s (LIKE audit_log INCLUDING ALL)", table);
	sql_do("CREATE INDEX ON %s (\"timestamp\", id)", table);
	seed();
	sql_do("ANALYZE %s", table);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (db) {
		sql_do("DROP TABLE IF EXISTS %s", table);
		PQfinish(db);
	}
	return 0;
}

static void rig_open(struct rig *r, const char *conninfo, const char *tenant)
{
	char err[256];

	memset(r, 0, sizeof *r);
	conf_defaults(&r->cfg);
	assert_int_equal(conf_set(&r->cfg, "db", conninfo, err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "table", table, err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "refresh", "200ms", err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "server-timeout", "1s", err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "top", "500", err, sizeof err), 0);
	if (tenant)
		assert_int_equal(conf_set(&r->cfg, "tenant", tenant, err, sizeof err), 0);
	model_init(&r->m, r->cfg.window_s, r->cfg.tenant, r->cfg.refresh_ms);
	r->loop = loop_new();
	r->pg = pg_new(&r->cfg, &r->m, err, sizeof err);
	assert_non_null(r->pg);
	loop_add(r->loop, pg_source(r->pg));
}

static void rig_close(struct rig *r)
{
	loop_free(r->loop);
	model_free(&r->m);
	conf_free(&r->cfg);
}

/* Turn the loop until the source has done `refreshes` more refreshes or
 * failed `failures` more times; false at the deadline. */
static bool rig_until(struct rig *r, unsigned refreshes, unsigned failures, int64_t ms)
{
	unsigned want_ok = r->m.pg.refreshes + refreshes, want_fail = r->m.pg.failures + failures;
	int64_t end = clock_mono_ms() + ms;

	while (clock_mono_ms() < end) {
		struct turn_clock t0 = turn_clock_start();
		loop_turn(r->loop, 50, NULL, 0);
		turn_worst_note(&r->worst, t0, 50);
		if (refreshes && r->m.pg.refreshes >= want_ok)
			return true;
		if (failures && r->m.pg.failures >= want_fail)
			return true;
	}
	return false;
}

#define WINDOW "date_trunc('minute', now()) - interval '15 minutes'"

/* A tenant's row against SQL's requests, failures, unauthorized,
 * cross-tenant, distinct addresses and users, in that order. */
static void expect_tenant(const struct tenant_stat *t, const PGresult *res)
{
	const long shown[] = { t->requests, t->failures, t->unauthorized, t->cross_tenant, t->ips, t->users };

	for (int c = 0; c < 6; c++)
		assert_int_equal(shown[c], strtol(PQgetvalue(res, 0, c), NULL, 10));
}
#define FAIL "(action IN ('failed_auth','unauthorized_access','authentication_failed') OR status_code IN (401,403))"

static void check_top_ips(const struct model *m, const char *tenant_filter)
{
	assert_true(m->n_top_ips > 3);
	for (size_t i = 0; i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		const char *p[] = { s->ip };
		char q[1024];
		snprintf(q, sizeof q,
		    "SELECT count(*) FILTER (WHERE " FAIL "), count(*), count(DISTINCT user_id), count(DISTINCT tenant_id)"
		    " FROM %s WHERE ip_address = $1::inet AND \"timestamp\" >= " WINDOW " %s", table, tenant_filter);
		PGresult *r = sql(q, 1, p);
		assert_int_equal(s->failures, strtol(PQgetvalue(r, 0, 0), NULL, 10));
		assert_int_equal(s->requests, strtol(PQgetvalue(r, 0, 1), NULL, 10));
		assert_int_equal(s->users, strtol(PQgetvalue(r, 0, 2), NULL, 10));
		assert_int_equal(s->tenants, strtol(PQgetvalue(r, 0, 3), NULL, 10));
		PQclear(r);
		if (i)
			assert_true(m->top_ips[i - 1].failures >= s->failures);
	}
}

static void test_figures_match_independent_counts(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.pg.state, SOURCE_OK);

	/* top addresses: the attack first (a tie, ordered by address), and
	 * every figure exact */
	assert_string_equal(r.m.top_ips[0].ip, "203.0.113.7");
	assert_string_equal(r.m.top_ips[1].ip, "203.0.113.8");
	assert_string_equal(r.m.top_ips[2].ip, "2001:db8::bad:1");
	check_top_ips(&r.m, "");
	long long distinct_failing = sql_num(
	    "SELECT count(DISTINCT ip_address) FROM %s WHERE \"timestamp\" >= " WINDOW " AND " FAIL
	    " AND ip_address IS NOT NULL", table);
	assert_int_equal(r.m.n_top_ips, distinct_failing);

	/* failures per minute, 60 buckets */
	long total = 0;
	for (int i = 0; i < MODEL_MINUTES; i++)
		total += r.m.fpm[i];
	assert_int_equal(total, sql_num("SELECT count(*) FROM %s WHERE \"timestamp\" >= "
	    "date_trunc('minute', now()) - interval '59 minutes' AND " FAIL, table));
	assert_int_equal(r.m.fpm[MODEL_MINUTES - 1], sql_num("SELECT count(*) FROM %s WHERE "
	    "\"timestamp\" >= date_trunc('minute', now()) AND " FAIL, table));

	/* tenants, NULL tenant included */
	assert_int_equal(r.m.n_tenants, sql_num("SELECT count(DISTINCT coalesce(tenant_id, '<null>')) FROM %s"
	    " WHERE \"timestamp\" >= " WINDOW, table));
	for (size_t i = 0; i < r.m.n_tenants; i++) {
		const struct tenant_stat *t = &r.m.tenants[i];
		const char *p[] = { t->tenant_id };
		char q[1024];
		snprintf(q, sizeof q, "SELECT count(*), count(*) FILTER (WHERE " FAIL "),"
		    " count(*) FILTER (WHERE action = 'unauthorized_access' OR status_code = 403),"
		    " count(*) FILTER (WHERE action = 'cross_tenant_access'),"
		    " count(DISTINCT ip_address), count(DISTINCT user_id)"
		    " FROM %s WHERE \"timestamp\" >= " WINDOW " AND tenant_id IS NOT DISTINCT FROM $1", table);
		PGresult *res = sql(q, 1, p);
		expect_tenant(t, res);
		PQclear(res);
	}

	/* the tail: newest failures first, hostile strings kept raw and exact */
	assert_int_equal(r.m.n_recent, 100);
	for (size_t i = 1; i < r.m.n_recent; i++)
		assert_true(r.m.recent[i - 1].ts_us >= r.m.recent[i].ts_us);
	bool hostile = false;
	for (size_t i = 0; i < r.m.n_recent; i++)
		if (r.m.recent[i].user_agent && strcmp(r.m.recent[i].user_agent, "evil\x1b]0;pwned\x07" "agent") == 0)
			hostile = true;
	assert_true(hostile);
	rig_close(&r);
}

static void test_tenant_scope(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, "globex");
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.n_tenants, 1);
	assert_string_equal(r.m.tenants[0].tenant_id, "globex");
	check_top_ips(&r.m, "AND tenant_id = 'globex'");
	for (size_t i = 0; i < r.m.n_recent; i++)
		assert_string_equal(r.m.recent[i].tenant_id, "globex");
	rig_close(&r);
}

static void test_quiet_refresh_costs_one_query(void **state)
{
	struct rig r;
	unsigned long q0, quiet0, q1, quiet1;
	(void)state;
	rig_open(&r, dsn, "initech");
	assert_true(rig_until(&r, 1, 0, 10000));
	/* A minute boundary legitimately forces a full refresh (the window
	 * moves): measure three refreshes that all fall within one minute, on
	 * a loaded machine after a few tries.  One refresh first, inside the
	 * minute: the refresh before may have been in the minute before, and
	 * the first one after a boundary is a full one. */
	for (int attempt = 0;; attempt++) {
		while (clock_wall_ms() % 60000 > 50000)
			loop_turn(r.loop, 100, NULL, 0);
		int64_t minute = clock_wall_ms() / 60000;
		assert_true(rig_until(&r, 1, 0, 10000));
		pg_counters(r.pg, &q0, &quiet0);
		assert_true(rig_until(&r, 3, 0, 10000));
		pg_counters(r.pg, &q1, &quiet1);
		if (clock_wall_ms() / 60000 == minute || attempt == 3)
			break;
	}
	assert_int_equal(quiet1 - quiet0, 3);
	assert_int_equal(q1 - q0, 3);          /* one probe each */

	/* a new row makes the next refresh a full one, and it shows */
	sql_do("INSERT INTO %s (tenant_id, action, ip_address, status_code) VALUES ('initech', 'failed_auth', '192.0.2.99', 401)", table);
	assert_true(rig_until(&r, 1, 0, 10000));
	bool found = false;
	for (size_t i = 0; i < r.m.n_top_ips; i++)
		found |= strcmp(r.m.top_ips[i].ip, "192.0.2.99") == 0;
	assert_true(found);
	assert_string_equal(r.m.recent[0].ip, "192.0.2.99");
	rig_close(&r);
}

/* A row whose transaction started first but committed last has the older
 * timestamp: a cursor on (timestamp, id) alone would skip it. */
static void test_tail_catches_rows_committed_late(void **state)
{
	struct rig r;
	(void)state;
	PGconn *slow = PQconnectdb(dsn);
	assert_int_equal(PQstatus(slow), CONNECTION_OK);
	rig_open(&r, dsn, "latecorp");

	PQclear(PQexec(slow, "BEGIN"));
	char q[512];
	snprintf(q, sizeof q, "INSERT INTO %s (tenant_id, action, ip_address, status_code, user_id)"
	         " VALUES ('latecorp', 'failed_auth', '192.0.2.1', 401, 'late') RETURNING id", table);
	PGresult *late = PQexec(slow, q);
	assert_int_equal(PQresultStatus(late), PGRES_TUPLES_OK);
	char late_id[64];
	snprintf(late_id, sizeof late_id, "%s", PQgetvalue(late, 0, 0));
	PQclear(late);

	usleep(300 * 1000);
	sql_do("INSERT INTO %s (tenant_id, action, ip_address, status_code, user_id)"
	       " VALUES ('latecorp', 'failed_auth', '192.0.2.2', 401, 'early')", table);
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.n_recent, 1);
	assert_string_equal(r.m.recent[0].user_id, "early");

	PQclear(PQexec(slow, "COMMIT"));
	PQfinish(slow);
	assert_true(rig_until(&r, 2, 0, 10000));
	assert_int_equal(r.m.n_recent, 2);
	assert_string_equal(r.m.recent[0].user_id, "early");
	assert_string_equal(r.m.recent[1].user_id, "late");
	assert_string_equal(r.m.recent[1].id, late_id);
	/* and it is not shown twice on later refreshes */
	assert_true(rig_until(&r, 2, 0, 10000));
	assert_int_equal(r.m.n_recent, 2);
	rig_close(&r);
}

static void test_wrong_password_is_a_clear_failure(void **state)
{
	struct rig r;
	char conninfo[512];
	(void)state;
	snprintf(conninfo, sizeof conninfo, "%s password=definitely-wrong", dsn);
	rig_open(&r, conninfo, NULL);
	assert_true(rig_until(&r, 0, 1, 10000));
	assert_int_equal(model_source_state(&r.m.pg, clock_wall_ms(), 0), SOURCE_DOWN);
	assert_non_null(strstr(r.m.pg.error, "password authentication failed"));
	assert_null(strstr(r.m.pg.error, "definitely-wrong"));
	rig_close(&r);
}

static void test_nothing_listening(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1", NULL);
	assert_true(rig_until(&r, 0, 2, 10000));     /* fails, backs off, fails again */
	assert_int_equal(model_source_state(&r.m.pg, clock_wall_ms(), 0), SOURCE_DOWN);
	assert_non_null(strstr(r.m.pg.error, "refused"));
	turn_worst_check(&r.worst);
	rig_close(&r);
}

static int backend_pid(void)
{
	return (int)sql_num("SELECT pid FROM pg_stat_activity WHERE application_name = 'sectop'"
	                    " AND pid <> pg_backend_pid() ORDER BY backend_start DESC LIMIT 1");
}

static void test_killed_backend_goes_stale_then_recovers(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));
	int pid = backend_pid();
	assert_true(pid > 0);
	sql_do("SELECT pg_terminate_backend(%d)", pid);
	assert_true(rig_until(&r, 0, 1, 10000));
	assert_int_equal(model_source_state(&r.m.pg, clock_wall_ms(), 0), SOURCE_STALE);
	assert_true(r.m.n_top_ips > 0);              /* the last good data stays */
	assert_true(rig_until(&r, 1, 0, 10000));     /* reconnected */
	assert_int_equal(r.m.pg.state, SOURCE_OK);
	rig_close(&r);
}

static void test_stopped_backend_times_out_without_blocking(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));
	int pid = backend_pid();
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	loop_refresh_all(r.loop);
	bool failed = rig_until(&r, 0, 1, 5000);
	kill(pid, SIGCONT);
	assert_true(failed);
	assert_non_null(strstr(r.m.pg.error, "timed out"));
	turn_worst_check(&r.worst);
	assert_true(rig_until(&r, 1, 0, 15000));
	rig_close(&r);
}

/* The drill-down of an address: its events and who it touched, each count
 * equal to SQL's; then of a tenant. */
static void test_drill_down(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));
	model_ask_detail(&r.m, DETAIL_IP, "2001:db8::bad:1");
	assert_true(rig_until(&r, 1, 0, 10000));
	const struct detail *d = &r.m.detail;
	assert_int_equal(d->answered, d->asked);
	assert_int_equal(d->n_events, 50);
	for (size_t i = 0; i < d->n_events; i++)
		assert_string_equal(d->events[i].ip, "2001:db8::bad:1");
	assert_int_equal(d->n_groups[DETAIL_TENANTS], 1);
	assert_string_equal(d->groups[DETAIL_TENANTS][0].name, "acme");
	assert_int_equal(d->groups[DETAIL_TENANTS][0].count, sql_num(
	    "SELECT count(*) FROM %s WHERE ip_address = '2001:db8::bad:1' AND \"timestamp\" >= " WINDOW, table));
	assert_int_equal(d->n_groups[DETAIL_USERS], 20);          /* 50 victims, top 20 */
	assert_int_equal(d->n_groups[DETAIL_AGENTS], 1);
	assert_string_equal(d->groups[DETAIL_AGENTS][0].name, "evil\x1b]0;pwned\x07" "agent");

	model_ask_detail(&r.m, DETAIL_TENANT, "globex");
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(d->answered, d->asked);
	assert_true(d->n_ips > 0);
	for (size_t i = 0; i < d->n_events; i++)
		assert_string_equal(d->events[i].tenant_id, "globex");
	long users_sql = sql_num("SELECT count(DISTINCT user_id) FROM %s WHERE tenant_id = 'globex' AND \"timestamp\" >= " WINDOW, table);
	assert_int_equal(d->n_groups[DETAIL_USERS], users_sql < 20 ? users_sql : 20);

	/* a key name that is no address never reaches an ::inet cast */
	model_ask_detail(&r.m, DETAIL_IP, "\x1b]0;pwned\x07");
	assert_true(rig_until(&r, 2, 0, 10000));
	assert_int_equal(r.m.pg.state, SOURCE_OK);
	assert_int_equal(d->n_events, 0);
	rig_close(&r);
}

/* A drill-down on an address with hundreds of thousands of rows that
 * outlasts the statement timeout costs the drill-down, not the dashboard:
 * the source stays up with its figures, the drill-down says why it is
 * short, and the window is not read again.  The dashboard reads the rows
 * 2,000 to a statement; the drill-down groups all of them by user agent and
 * by user in one, which takes 0.6 s or more of the server's time (1 s for
 * 400,000 rows, measured) against a timeout of 250 ms. */
static char saved_table[sizeof table];

static int big_setup(void **state)
{
	(void)state;
	memcpy(saved_table, table, sizeof table);
	snprintf(table, sizeof table, "%.50s_big", saved_table);
	sql_do("CREATE TABLE %s (LIKE audit_log INCLUDING ALL)", table);
	sql_do("CREATE INDEX ON %s (\"timestamp\", id)", table);
	sql_do("CREATE INDEX ON %s (ip_address, \"timestamp\")", table);
	sql_do("INSERT INTO %s (\"timestamp\", tenant_id, user_id, action, ip_address, status_code, user_agent)"
	       " SELECT now() - random() * interval '10 minutes', 't' || (g %% 100), 'user_' || g, 'api_request',"
	       " '203.0.113.66', 200, repeat('x', 100) || g FROM generate_series(1, 250000) g", table);
	sql_do("INSERT INTO %s (tenant_id, action, ip_address, status_code) VALUES ('t1', 'failed_auth', '192.0.2.5', 401)", table);
	sql_do("ANALYZE %s", table);
	return 0;
}

static int big_teardown(void **state)
{
	(void)state;
	sql_do("DROP TABLE IF EXISTS %s", table);
	memcpy(table, saved_table, sizeof table);
	return 0;
}

static void test_drill_down_timeout_spares_the_dashboard(void **state)
{
	struct rig r;
	char err[64];
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_int_equal(conf_set(&r.cfg, "server-timeout", "250ms", err, sizeof err), 0);
	/* 250,000 rows in 2,000-row batches: several seconds, a minute or more
	 * under the sanitizers on a busy machine; what is tested comes after */
	int64_t t0 = clock_mono_ms();
	assert_true(rig_until(&r, 1, 0, 240000));
	print_message("the window read in %lld ms\n", (long long)(clock_mono_ms() - t0));
	assert_int_equal(r.m.n_top_ips, 1);
	unsigned long rows_read = pg_rows_read(r.pg);
	unsigned failures = r.m.pg.failures;

	model_ask_detail(&r.m, DETAIL_IP, "203.0.113.66");
	assert_true(rig_until(&r, 2, 0, 20000));
	assert_int_equal(r.m.detail.answered, r.m.detail.asked);
	assert_non_null(strstr(r.m.detail.error, "statement timeout"));
	assert_int_equal(r.m.pg.failures, failures);
	assert_int_equal(r.m.pg.state, SOURCE_OK);
	assert_int_equal(r.m.n_top_ips, 1);
	assert_int_equal(pg_rows_read(r.pg), rows_read);      /* the window was not read again */
	rig_close(&r);
}

/* Paused, no refresh starts by itself; the window changes on request. */
static void test_pause_and_scope(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));
	r.m.paused = true;
	unsigned before = r.m.pg.refreshes;
	rig_until(&r, 1, 0, 1000);
	assert_int_equal(r.m.pg.refreshes, before);
	loop_refresh_all(r.loop);                 /* r: one refresh on request */
	assert_true(rig_until(&r, 1, 0, 5000));
	r.m.paused = false;

	/* the rows seeded three hours back fall inside a four-hour window */
	model_set_scope(&r.m, 4 * 3600, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));
	long in_4h = sql_num("SELECT count(*) FILTER (WHERE " FAIL ") FROM %s WHERE ip_address = '198.51.100.1'"
	                     " AND \"timestamp\" >= date_trunc('minute', now()) - interval '4 hours'", table);
	assert_int_equal(in_4h, 500);
	bool found = false;
	for (size_t i = 0; i < r.m.n_top_ips; i++)
		if (strcmp(r.m.top_ips[i].ip, "198.51.100.1") == 0)
			found = r.m.top_ips[i].failures == in_4h;
	assert_true(found);
	rig_close(&r);
}


/* ---- a live feed: every figure kept from new rows equals a count taken
 * once the feed stops ---------------------------------------------------- */

/* rows stamped ahead of the server's clock wait until their time */
#define LIVE_WINDOW "date_trunc('minute', now()) - make_interval(secs => $1::int)" \
	" AND \"timestamp\" <= now() + interval '1 second'"
#define LIVE_SCOPE "($2::text IS NULL OR tenant_id = $2::text)"

static long long figure(const char *q, const char *const *p, int np, int col)
{
	PGresult *r = sql(q, np, p);
	long long v = strtoll(PQgetvalue(r, 0, col), NULL, 10);
	PQclear(r);
	return v;
}

/* The console's figures against PostgreSQL's own counts, for one window
 * and scope.  False if the minute turned in between (then try again). */
static bool live_figures_match(const struct rig *r, int window_s, const char *tenant)
{
	const struct model *m = &r->m;
	char w[16], q[1024];
	snprintf(w, sizeof w, "%d", window_s);
	const char *p[] = { w, tenant, NULL };

	if (m->fpm_start / 60 + MODEL_MINUTES - 1 != sql_num("SELECT extract(epoch FROM now())::bigint / 60"))
		return false;
	snprintf(q, sizeof q, "SELECT count(DISTINCT ip_address) FROM %s WHERE \"timestamp\" >= " LIVE_WINDOW
	         " AND " LIVE_SCOPE " AND " FAIL " AND ip_address IS NOT NULL", table);
	assert_int_equal(m->n_top_ips, figure(q, p, 2, 0));
	for (size_t i = 0; i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		p[2] = s->ip;
		snprintf(q, sizeof q, "SELECT count(*) FILTER (WHERE " FAIL "), count(*), count(DISTINCT user_id),"
		         " count(DISTINCT tenant_id) FROM %s WHERE ip_address = $3::inet AND \"timestamp\" >= "
		         LIVE_WINDOW " AND " LIVE_SCOPE, table);
		PGresult *res = sql(q, 3, p);
		assert_int_equal(s->failures, strtol(PQgetvalue(res, 0, 0), NULL, 10));
		assert_int_equal(s->requests, strtol(PQgetvalue(res, 0, 1), NULL, 10));
		assert_int_equal(s->users, strtol(PQgetvalue(res, 0, 2), NULL, 10));
		assert_int_equal(s->tenants, strtol(PQgetvalue(res, 0, 3), NULL, 10));
		assert_int_equal(s->approx, 0);          /* small data: every figure exact */
		PQclear(res);
	}
	snprintf(q, sizeof q, "SELECT count(DISTINCT coalesce(tenant_id, '<null>')) FROM %s WHERE \"timestamp\" >= "
	         LIVE_WINDOW " AND " LIVE_SCOPE, table);
	assert_int_equal(m->n_tenants, figure(q, p, 2, 0));
	for (size_t i = 0; i < m->n_tenants; i++) {
		const struct tenant_stat *t = &m->tenants[i];
		p[2] = t->tenant_id;
		snprintf(q, sizeof q, "SELECT count(*), count(*) FILTER (WHERE " FAIL "),"
		         " count(*) FILTER (WHERE action = 'unauthorized_access' OR status_code = 403),"
		         " count(*) FILTER (WHERE action = 'cross_tenant_access'),"
		         " count(DISTINCT ip_address), count(DISTINCT user_id) FROM %s WHERE \"timestamp\" >= "
		         LIVE_WINDOW " AND " LIVE_SCOPE " AND tenant_id IS NOT DISTINCT FROM $3", table);
		PGresult *res = sql(q, 3, p);
		expect_tenant(t, res);
		assert_int_equal(t->approx, 0);
		PQclear(res);
	}
	for (int i = 0; i < MODEL_MINUTES; i++) {
		char minute[24];
		snprintf(minute, sizeof minute, "%lld", (long long)(m->fpm_start + 60 * i));
		const char *pm[] = { minute, tenant };
		snprintf(q, sizeof q, "SELECT count(*) FROM %s WHERE \"timestamp\" >= to_timestamp($1::bigint)"
		         " AND \"timestamp\" < to_timestamp($1::bigint) + interval '1 minute' AND " FAIL
		         " AND ($2::text IS NULL OR tenant_id = $2::text)", table);
		assert_int_equal(m->fpm[i], figure(q, pm, 2, 0));
	}
	return m->fpm_start / 60 + MODEL_MINUTES - 1 == sql_num("SELECT extract(epoch FROM now())::bigint / 60");
}

/* Rows that commit within seconds of their time are found at the next
 * refresh; later ones (up to tail-overlap) at the next look at the whole
 * overlap, every 5 s: wait for one before comparing. */
static void live_check(struct rig *r, int window_s, const char *tenant)
{
	int64_t settled = clock_mono_ms() + 6000;

	while (clock_mono_ms() < settled)
		assert_true(rig_until(r, 1, 0, 20000));
	for (int attempt = 0; attempt < 3; attempt++) {
		assert_true(rig_until(r, 2, 0, 20000));
		if (live_figures_match(r, window_s, tenant))
			return;
	}
	fail_msg("the minute kept turning during the check");
}

static void feed_rows(PGconn *c, int n, const char *ts)
{
	char q[1024];
	snprintf(q, sizeof q, "INSERT INTO %s (\"timestamp\", tenant_id, user_id, action, ip_address, status_code)"
	         " SELECT %s, (ARRAY['livecorp','acme',NULL])[1 + (g %% 3)], 'u' || (random() * 40)::int,"
	         " (ARRAY['api_request','failed_auth','unauthorized_access','cross_tenant_access'])[1 + (g %% 4)],"
	         " ('198.18.0.' || (random() * 30)::int)::inet, (ARRAY[200,401,403])[1 + (g %% 3)]"
	         " FROM generate_series(1, %d) g", table, ts, n);
	PGresult *res = PQexec(c, q);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
}

static void feed_exec(PGconn *c, const char *q)
{
	PGresult *res = PQexec(c, q);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
}

/* Rows arrive while the console refreshes: ordinary commits, transactions
 * held open across refreshes (rows that commit late, stamped with their
 * start), rows stamped seconds back, a minute boundary crossed (the window
 * of 60 s then loses a minute of rows), then a window change and a tenant
 * scope change, each read again and then kept live. */
static void test_live_feed_matches_independent_counts(void **state)
{
	struct rig r;
	(void)state;
	PGconn *feed = PQconnectdb(dsn), *slow = PQconnectdb(dsn);
	assert_int_equal(PQstatus(feed), CONNECTION_OK);
	assert_int_equal(PQstatus(slow), CONNECTION_OK);

	/* start late in a minute, so that the feed crosses into the next */
	while (clock_wall_ms() % 60000 < 48000 || clock_wall_ms() % 60000 > 50000)
		usleep(100 * 1000);
	feed_rows(feed, 200, "now() - random() * interval '100 seconds'");
	rig_open(&r, dsn, NULL);
	char err[64];
	assert_int_equal(conf_set(&r.cfg, "window", "60s", err, sizeof err), 0);
	model_set_scope(&r.m, 60, NULL);
	assert_true(rig_until(&r, 1, 0, 10000));

	int64_t end = clock_mono_ms() + 14000;
	for (int tick = 0; clock_mono_ms() < end; tick++) {
		feed_rows(feed, 7, "now()");
		if (tick == 3 || tick == 30)
			feed_exec(slow, "BEGIN");
		if (tick == 3 || tick == 5 || tick == 30)
			feed_rows(slow, 11, "now()");             /* stamped at BEGIN */
		if (tick == 25 || tick == 50)
			feed_exec(slow, "COMMIT");                /* 2-3 s after its rows' time */
		if (tick % 10 == 0)
			feed_rows(feed, 3, "now() - interval '4 seconds'");
		if (tick == 8)        /* a clock gone wrong must not carry the cursor away */
			feed_rows(feed, 1, "now() + interval '1 day'");
		rig_until(&r, 1, 0, 100);
	}
	feed_exec(slow, "COMMIT");
	unsigned long rows_read = pg_rows_read(r.pg);
	live_check(&r, 60, NULL);
	assert_true(pg_rows_read(r.pg) >= rows_read);

	/* a longer window: read once, then live again */
	model_set_scope(&r.m, 300, NULL);
	feed_rows(feed, 50, "now()");
	live_check(&r, 300, NULL);
	/* one tenant */
	model_set_scope(&r.m, 300, "livecorp");
	feed_rows(feed, 50, "now()");
	live_check(&r, 300, "livecorp");
	rows_read = pg_rows_read(r.pg);
	feed_rows(feed, 30, "now()");
	live_check(&r, 300, "livecorp");
	assert_true(pg_rows_read(r.pg) - rows_read <= 30);   /* the new rows, not the window */

	PQfinish(slow);
	PQfinish(feed);
	rig_close(&r);
}

/* Operators' actions: a team table of its own, 20,000 requests in the
 * window and three operator actions among them. */
static int team_setup(void **state)
{
	(void)state;
	memcpy(saved_table, table, sizeof table);
	snprintf(table, sizeof table, "%.50s_team", saved_table);
	sql_do("CREATE TABLE %s (LIKE audit_log INCLUDING ALL)", table);
	sql_do("CREATE INDEX ON %s (\"timestamp\", id)", table);
	sql_do("INSERT INTO %s (\"timestamp\", tenant_id, user_id, action, ip_address, status_code)"
	       " SELECT now() - interval '1 minute' - (g %% 780) * interval '1 second', 'acme', 'u' || g,"
	       " 'api_request', '10.1.2.3', 200 FROM generate_series(1, 20000) g", table);
	sql_do("INSERT INTO %s (\"timestamp\", user_id, action, resource_type, resource_id, details)"
	       " SELECT now() - interval '2 minutes' - g * interval '1 minute', 'alice@10.0.0.5',"
	       " (ARRAY['ip_blocked','ip_unblocked_noop','runbook_step_done'])[g], 'ip', '203.0.113.' || g,"
	       " jsonb_build_object('journal_id', 'j' || g, 'incident', 'INC-1', 'reason', 'r' || g)"
	       " FROM generate_series(1, 3) g", table);
	sql_do("ANALYZE %s", table);
	return 0;
}

/* The rows a query's plan read from the table: every scan node's rows
 * and the rows its filter removed, summed. */
static long scanned(const char *query, int n, const char *const *params)
{
	char q[8192];
	snprintf(q, sizeof q, "EXPLAIN (ANALYZE, FORMAT JSON) %s", query);
	PGresult *r = sql(q, n, params);
	const char *plan = PQgetvalue(r, 0, 0);
	long total = 0;
	for (const char *p = plan; (p = strstr(p, "\"Relation Name\": \"")); p++) {
		/* the node's object: back to its "{", forward to its end */
		const char *start = p, *end = strstr(p, "\"Plans\"");
		const char *next = strstr(p + 1, "\"Relation Name\"");
		while (start > plan && *start != '{')
			start--;
		if (!end || (next && next < end))
			end = next ? next : plan + strlen(plan);
		for (const char *k = start; k < end; k++) {
			long v;
			if (sscanf(k, "\"Actual Rows\": %ld", &v) == 1 || sscanf(k, "\"Rows Removed by Filter\": %ld", &v) == 1)
				total += v;
		}
	}
	PQclear(r);
	return total;
}

/* The operators' actions come past a cursor: the first refresh reads the
 * window's, a quiet one asks nothing more (CLOCK answers "none"), a new
 * one is read at the next refresh, and what the next reading scans is the
 * rows that arrived, not the window's 20,000. */
static void test_team_actions_read_incrementally(void **state)
{
	struct rig r;
	struct pg_sql q;
	(void)state;
	rig_open(&r, dsn, NULL);
	assert_int_equal(pg_sql_build(&q, &r.cfg, false), 0);
	assert_true(rig_until(&r, 1, 0, 10000));
	const struct team_feed *f = pg_team_feed(r.pg);
	assert_int_equal(r.m.n_team_ops, 3);
	assert_string_equal(r.m.team_ops[0].action, "runbook_step_done");     /* oldest first */
	assert_string_equal(r.m.team_ops[1].action, "ip_unblocked_noop");
	assert_string_equal(r.m.team_ops[2].operator_id, "alice@10.0.0.5");
	assert_string_equal(r.m.team_ops[2].journal_id, "j1");
	assert_string_equal(r.m.team_ops[2].target, "203.0.113.1");
	unsigned long reads = f->queries;

	assert_true(rig_until(&r, 3, 0, 10000));
	assert_int_equal(f->queries, reads);           /* quiet: CLOCK alone asked */
	assert_int_equal(r.m.n_team_ops, 3);

	sql_do("INSERT INTO %s (tenant_id, user_id, action, ip_address, status_code)"
	       " SELECT 'acme', 'u', 'api_request', '10.1.2.3', 200 FROM generate_series(1, 50)", table);
	sql_do("INSERT INTO %s (user_id, action, resource_type, resource_id, details) VALUES"
	       " ('bob@10.0.0.6', 'ip_blocked', 'ip', '198.51.100.4', '{\"journal_id\":\"jb\",\"incident\":\"INC-1\"}')", table);
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.n_team_ops, 4);
	assert_string_equal(r.m.team_ops[3].operator_id, "bob@10.0.0.6");
	assert_int_equal(r.m.team_gen, 4);
	assert_int_equal(f->queries, reads + 1);
	assert_int_equal(f->rows, 4);

	/* What the next refresh costs, as the plans tell.  Unscoped, nothing
	 * more than the dashboard's own rows, which flag the operators'
	 * actions.  Scoped to a tenant, CLOCK looks, with nothing new: at most
	 * the rows since the last look's overlap (the 51: fewer, as the scan
	 * starts past the cursor), not the window's 20,000. */
	char lo[24], cur[24];
	const char *cv[10] = { NULL, NULL, NULL, NULL, "900", NULL };
	team_feed_clock_params(f, lo, cur, cv + 6);
	long clock = scanned(q.clock, 10, cv);
	print_message("CLOCK's look scans %ld rows\n", clock);
	assert_true(clock <= 60);
	/* a new action: the reading starts at the cursor */
	sql_do("INSERT INTO %s (user_id, action, resource_type, resource_id) VALUES"
	       " ('carol', 'ip_blocked', 'ip', '198.51.100.5')", table);
	char buf[3][24];
	const char *v[7];
	team_feed_rows_params(f, r.cfg.text_max, buf, v);
	long next = scanned(q.team_rows, 7, v);
	print_message("the reading scans %ld rows\n", next);
	assert_true(next >= 1 && next <= 60);
	snprintf(buf[0], sizeof buf[0], "%lld", (long long)(f->clock_us - 900000000LL));
	v[1] = v[2] = NULL;
	long window = scanned(q.team_rows, 7, v);
	print_message("from the window's start: %ld rows\n", window);
	assert_true(window >= 20000);
	pg_sql_free(&q);
	rig_close(&r);
}

/* The operators' actions cannot be read (here: a details column that is
 * not there): the dashboard goes on, the reason is kept, and the reading
 * is not asked again at every refresh. */
static void test_team_failure_spares_the_dashboard(void **state)
{
	struct rig r;
	char err[256];
	(void)state;
	memset(&r, 0, sizeof r);
	conf_defaults(&r.cfg);
	assert_int_equal(conf_set(&r.cfg, "db", dsn, err, sizeof err), 0);
	assert_int_equal(conf_set(&r.cfg, "table", table, err, sizeof err), 0);
	assert_int_equal(conf_set(&r.cfg, "refresh", "200ms", err, sizeof err), 0);
	assert_int_equal(conf_set(&r.cfg, "column-details", "no_such_column", err, sizeof err), 0);
	model_init(&r.m, r.cfg.window_s, NULL, r.cfg.refresh_ms);
	r.loop = loop_new();
	r.pg = pg_new(&r.cfg, &r.m, err, sizeof err);
	assert_non_null(r.pg);
	loop_add(r.loop, pg_source(r.pg));
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.pg.state, SOURCE_OK);
	assert_true(r.m.n_tenants > 0);                /* the figures are there */
	assert_non_null(strstr(r.m.team_error, "no_such_column"));
	unsigned long asked = pg_team_feed(r.pg)->queries;
	assert_true(rig_until(&r, 3, 0, 10000));
	assert_int_equal(pg_team_feed(r.pg)->queries, asked);
	assert_int_equal(r.m.pg.failures, 0);
	rig_close(&r);
}

/* Scoped to a tenant, the dashboard's rows are that tenant's: an operator's
 * action with no tenant is found by CLOCK's look instead. */
static void test_team_actions_when_scoped(void **state)
{
	struct rig r;
	(void)state;
	rig_open(&r, dsn, "acme");
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.n_team_ops, 3);
	unsigned long reads = pg_team_feed(r.pg)->queries;
	assert_true(rig_until(&r, 2, 0, 10000));
	assert_int_equal(pg_team_feed(r.pg)->queries, reads);
	sql_do("INSERT INTO %s (user_id, action, resource_type, resource_id) VALUES"
	       " ('dora@10.0.0.7', 'ip_unblocked', 'ip', '198.51.100.6')", table);
	assert_true(rig_until(&r, 1, 0, 10000));
	assert_int_equal(r.m.n_team_ops, 4);
	assert_string_equal(r.m.team_ops[3].operator_id, "dora@10.0.0.7");
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures_match_independent_counts),
		cmocka_unit_test(test_tenant_scope),
		cmocka_unit_test(test_quiet_refresh_costs_one_query),
		cmocka_unit_test(test_tail_catches_rows_committed_late),
		cmocka_unit_test(test_live_feed_matches_independent_counts),
		cmocka_unit_test(test_drill_down),
		cmocka_unit_test_setup_teardown(test_drill_down_timeout_spares_the_dashboard, big_setup, big_teardown),
		cmocka_unit_test(test_pause_and_scope),
		cmocka_unit_test_setup_teardown(test_team_actions_read_incrementally, team_setup, big_teardown),
		cmocka_unit_test_setup_teardown(test_team_failure_spares_the_dashboard, team_setup, big_teardown),
		cmocka_unit_test_setup_teardown(test_team_actions_when_scoped, team_setup, big_teardown),
		cmocka_unit_test(test_wrong_password_is_a_clear_failure),
		cmocka_unit_test(test_nothing_listening),
		cmocka_unit_test(test_killed_backend_goes_stale_then_recovers),
		cmocka_unit_test(test_stopped_backend_times_out_without_blocking),
	};
	testenv_only();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
