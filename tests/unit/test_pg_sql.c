/* SQL text: quoting of configured names, array parameters, and that no
 * value is ever pasted into a query (every filter is a $n parameter). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "pg_sql.h"

static void test_ident_quoting(void **state)
{
	(void)state;
	char *s = pg_sql_ident("audit_log");
	assert_string_equal(s, "\"audit_log\"");
	free(s);
	s = pg_sql_ident("we\"ird; DROP TABLE x; --");
	assert_string_equal(s, "\"we\"\"ird; DROP TABLE x; --\"");
	free(s);
	s = pg_sql_literal("it's");
	assert_string_equal(s, "'it''s'");
	free(s);
}

static void test_arrays(void **state)
{
	(void)state;
	char v0[] = "failed_auth", v1[] = "a\"b", v2[] = "c\\d", v3[] = "x,y", v4[] = "";
	char *v[] = { v0, v1, v2, v3, v4 };
	char *s = pg_sql_text_array(v, 5);
	assert_string_equal(s, "{\"failed_auth\",\"a\\\"b\",\"c\\\\d\",\"x,y\",\"\"}");
	free(s);
	s = pg_sql_text_array(v, 0);
	assert_string_equal(s, "{}");
	free(s);
	int codes[] = { 401, 403 };
	s = pg_sql_int_array(codes, 2);
	assert_string_equal(s, "{401,403}");
	free(s);
}

static void test_queries_use_configured_names(void **state)
{
	struct config c;
	struct pg_sql q;
	char err[128];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "table", "events", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "column-timestamp", "created_at", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "column-ip-address", "client_ip", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "tenant", "acme'; DROP TABLE events; --", err, sizeof err), 0);
	assert_int_equal(pg_sql_build(&q, &c, false), 0);
	const char *all[] = { q.clock, q.rows, q.late, q.per_minute, q.top_ips, q.tail, q.team_rows };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		assert_non_null(strstr(all[i], "FROM \"events\""));
		assert_non_null(strstr(all[i], "\"created_at\""));
		assert_null(strstr(all[i], "audit_log"));
		assert_null(strstr(all[i], "acme"));   /* the tenant is a parameter */
		assert_non_null(strstr(all[i], "$1"));
	}
	assert_non_null(strstr(q.top_ips, "\"client_ip\""));
	assert_non_null(strstr(q.tail, "ORDER BY a.\"created_at\" DESC, a.\"id\" DESC"));
	/* the rows past the cursor come in cursor order, found by (time, id) */
	assert_non_null(strstr(q.rows, "ORDER BY a.\"created_at\", a.\"id\" LIMIT"));
	assert_non_null(strstr(q.rows, "(a.\"created_at\", a.\"id\") > ("));
	assert_null(strstr(q.rows, "failed_auth"));
	/* the operators' actions: past their cursor, bounded in time on both
	 * sides, their names a parameter */
	assert_non_null(strstr(q.team_rows, "ORDER BY a.\"created_at\", a.\"id\" LIMIT"));
	assert_non_null(strstr(q.team_rows, "(a.\"created_at\", a.\"id\") > ("));
	assert_non_null(strstr(q.team_rows, "a.\"created_at\" <= now() + interval '1 second'"));
	assert_null(strstr(q.team_rows, "ip_blocked"));
	assert_non_null(strstr(q.clock, "= ANY($10::text[])"));
	/* failure actions and statuses are parameters too */
	assert_null(strstr(q.per_minute, "failed_auth"));
	assert_null(strstr(q.per_minute, "401"));
	pg_sql_free(&q);
	conf_free(&c);
}

/* A look back reads the same rows with the clock stopped at the period's
 * end, inclusive, and no second of jitter past it; nothing else changes. */
/* An action's audit rows: one VALUES row a target, its own parameter each,
 * the rest shared; the configured names quoted. */
static void test_audit_insert(void **state)
{
	struct config c;
	struct pg_sql_names n;
	char err[128];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "table", "audit \"log\"", err, sizeof err), 0);
	assert_int_equal(pg_sql_names_init(&n, &c), 0);
	char *one = pg_sql_audit_insert(&n, 1), *three = pg_sql_audit_insert(&n, 3);
	assert_string_equal(one, "INSERT INTO \"audit \"\"log\"\"\" (\"action\", \"user_id\", \"resource_type\","
	                    " \"resource_id\", \"tenant_id\", \"details\", \"timestamp\") VALUES"
	                    " ($1, $2, $3, $7, $4, $5::jsonb, coalesce($6::timestamptz, now()))");
	assert_non_null(strstr(three, "VALUES ($1, $2, $3, $7, $4, $5::jsonb, coalesce($6::timestamptz, now())),"
	                               " ($1, $2, $3, $8, $4,"));
	assert_non_null(strstr(three, ", ($1, $2, $3, $9, $4, $5::jsonb, coalesce($6::timestamptz, now()))"));
	assert_null(strstr(three, "$10"));
	free(one);
	free(three);
	pg_sql_names_free(&n);
	conf_free(&c);
}

static void test_look_back_stops_the_clock(void **state)
{
	struct config c;
	struct pg_sql live, at;
	(void)state;
	conf_defaults(&c);
	assert_int_equal(pg_sql_build(&live, &c, false), 0);
	assert_int_equal(pg_sql_build(&at, &c, true), 0);
	const char *l[] = { live.clock, live.rows, live.late, live.per_minute, live.top_ips, live.tail,
	                    live.ip_events, live.ip_by[0], live.ip_by[1], live.ip_by[2], live.tenant_users };
	const char *a[] = { at.clock, at.rows, at.late, at.per_minute, at.top_ips, at.tail,
	                    at.ip_events, at.ip_by[0], at.ip_by[1], at.ip_by[2], at.tenant_users };
	for (size_t i = 0; i < sizeof a / sizeof *a; i++) {
		assert_null(strstr(a[i], "now()"));
		assert_null(strstr(a[i], "interval '1 second'"));
		assert_int_equal(strstr(l[i], "now()") != NULL, strstr(a[i], "current_setting('sectop.at')") != NULL);
	}
	assert_non_null(strstr(at.rows, "<= current_setting('sectop.at')::timestamptz"));
	assert_non_null(strstr(at.clock, "date_trunc('minute', current_setting('sectop.at')::timestamptz)"));
	/* the standby's lag is of now, not of the period */
	assert_non_null(strstr(at.clock, "statement_timestamp() - pg_last_xact_replay_timestamp()"));
	pg_sql_free(&live);
	pg_sql_free(&at);
	conf_free(&c);
}

static void test_indexes_match_the_failure_definition(void **state)
{
	struct config c;
	char err[128];
	(void)state;
	conf_defaults(&c);
	char *ddl = pg_sql_indexes(&c, NULL, 0);
	assert_non_null(strstr(ddl, "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"audit_log_ts_id\" ON \"audit_log\" (\"timestamp\", \"id\");"));
	assert_non_null(strstr(ddl, "WHERE (\"action\" IN ('failed_auth', 'unauthorized_access', 'authentication_failed') OR \"status_code\" IN (401, 403));"));
	assert_non_null(strstr(ddl, "\"audit_log_ip_ts\" ON \"audit_log\" (\"ip_address\", \"timestamp\")"));
	free(ddl);
	assert_int_equal(conf_set(&c, "failure-actions", "bad'login", err, sizeof err), 0);
	ddl = pg_sql_indexes(&c, NULL, 0);
	assert_non_null(strstr(ddl, "IN ('bad''login')"));
	free(ddl);
	conf_free(&c);
}

/* A partitioned tree: the root and a sub-partitioned year ON ONLY, the
 * leaves CONCURRENTLY, each attached to its own parent, lowest level first;
 * a leaf that has its part already is left out. */
static void test_indexes_of_a_partitioned_table(void **state)
{
	struct config c;
	(void)state;
	conf_defaults(&c);
	char pub[] = "public", logs[] = "logs", root[] = "audit_log", year[] = "audit_log_y2026",
	     d1[] = "audit_log_d1", d2[] = "audit_log_d2";
	struct pg_partition parts[] = {
		{ .schema = pub, .name = root, .parent = -1 },
		{ .schema = pub, .name = year, .parent = 0 },
		{ .schema = logs, .name = d1, .parent = 1, .leaf = true },
		{ .schema = logs, .name = d2, .parent = 1, .leaf = true, .has = { true, true, true } },
	};
	char *ddl = pg_sql_indexes(&c, parts, 4);
	assert_null(strstr(ddl, "CONCURRENTLY IF NOT EXISTS \"audit_log_ts_id\""));
	assert_non_null(strstr(ddl, "CREATE INDEX IF NOT EXISTS \"audit_log_ts_id\" ON ONLY \"public\".\"audit_log\" (\"timestamp\", \"id\");"));
	assert_non_null(strstr(ddl, "CREATE INDEX IF NOT EXISTS \"audit_log_y2026_ts_id\" ON ONLY \"public\".\"audit_log_y2026\""));
	assert_non_null(strstr(ddl, "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"audit_log_d1_ip_ts\" ON \"logs\".\"audit_log_d1\" (\"ip_address\", \"timestamp\");"));
	assert_null(strstr(ddl, "\"audit_log_d2_ts_id\""));
	const char *leaf = strstr(ddl, "ALTER INDEX \"public\".\"audit_log_y2026_ts_id\" ATTACH PARTITION \"logs\".\"audit_log_d1_ts_id\";");
	const char *upper = strstr(ddl, "ALTER INDEX \"public\".\"audit_log_ts_id\" ATTACH PARTITION \"public\".\"audit_log_y2026_ts_id\";");
	assert_non_null(leaf);
	assert_non_null(upper);
	assert_true(leaf < upper);
	/* the partial index keeps its predicate on every partition */
	assert_non_null(strstr(ddl, "ON \"logs\".\"audit_log_d1\" (\"timestamp\", \"ip_address\")\n  WHERE (\"action\" IN"));
	free(ddl);
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ident_quoting),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_queries_use_configured_names),
		cmocka_unit_test(test_audit_insert),
		cmocka_unit_test(test_look_back_stops_the_clock),
		cmocka_unit_test(test_indexes_match_the_failure_definition),
		cmocka_unit_test(test_indexes_of_a_partitioned_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
