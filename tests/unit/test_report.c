/* The report's pure parts: --since/--until, --fail-on, the escapes of CSV,
 * HTML and Markdown, the SQL templates, and the figures derived from hours. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "report.h"
#include "report_sql.h"
#include "report_table.h"

#define NOW_US (1795472400LL * 1000000)     /* 2026-11-23T22:20:00Z */
#define DAY_US (86400LL * 1000000)

static void test_durations(void **state)
{
	(void)state;
	assert_true(report_parse_time("7d", NOW_US) == NOW_US - 7 * DAY_US);
	assert_true(report_parse_time("36h", NOW_US) == NOW_US - 36 * 3600LL * 1000000);
	assert_true(report_parse_time("90m", NOW_US) == NOW_US - 90 * 60LL * 1000000);
	assert_true(report_parse_time("30s", NOW_US) == NOW_US - 30LL * 1000000);
	/* a bare number could be a year or a count of anything */
	assert_true(report_parse_time("7", NOW_US) == -1);
	assert_true(report_parse_time("", NOW_US) == -1);
	assert_true(report_parse_time(NULL, NOW_US) == -1);
	assert_true(report_parse_time("7x", NOW_US) == -1);
	assert_true(report_parse_time("d", NOW_US) == -1);
	assert_true(report_parse_time("-7d", NOW_US) == -1);
	assert_true(report_parse_time("99999999999d", NOW_US) == -1);
	/* found by tests/fuzz/fuzz_report_time: 74 years back from 2026 is
	 * before 1970, a negative time that is not the -1 of a refusal */
	assert_true(report_parse_time("26991d", NOW_US) == -1);
	assert_true(report_parse_time("20000d", NOW_US) == NOW_US - 20000 * DAY_US);
}

static void test_iso_times(void **state)
{
	(void)state;
	const int64_t day = 1795392000LL * 1000000;   /* 2026-11-23T00:00:00Z */
	assert_true(report_parse_time("2026-11-23", NOW_US) == day);
	assert_true(report_parse_time("2026-11-23T08:30", NOW_US) == day + 8 * 3600LL * 1000000 + 30 * 60LL * 1000000);
	assert_true(report_parse_time("2026-11-23T08:30:15Z", NOW_US) == day + (8 * 3600LL + 30 * 60 + 15) * 1000000);
	assert_true(report_parse_time("2026-11-23 08:30:15", NOW_US) == day + (8 * 3600LL + 30 * 60 + 15) * 1000000);
	assert_true(report_parse_time("2026-11-23T08:30:15.25Z", NOW_US) ==
	            day + (8 * 3600LL + 30 * 60 + 15) * 1000000 + 250000);
	assert_true(report_parse_time("2026-11-23T08:30:15.123456789Z", NOW_US) ==
	            day + (8 * 3600LL + 30 * 60 + 15) * 1000000 + 123456);
	/* a zone east of UTC is earlier in UTC */
	assert_true(report_parse_time("2026-11-23T10:30:00+02:00", NOW_US) == day + (8 * 3600LL + 30 * 60) * 1000000);
	assert_true(report_parse_time("2026-11-23T03:00:00-0530", NOW_US) == day + (8 * 3600LL + 30 * 60) * 1000000);
	assert_true(report_parse_time("2026-11-23T08:30:00z", NOW_US) == day + (8 * 3600LL + 30 * 60) * 1000000);
	/* what is not a date */
	const char *bad[] = {
		"2026-02-31", "2026-13-01", "2026-00-10", "2026-11-23T24:00", "2026-11-23T08:60",
		"2026-11-23T08", "2026-11-23T08:30:61", "2026-11-23T08:30+25:00", "2026-11-23Tx",
		"26-11-23", "2026/11/23", "2026-11-23T08:30:15.Z", "1969-12-31", "2026-11-23junk",
		"now", "2026-1-1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_true(report_parse_time(bad[i], NOW_US) == -1);
	}
}

static void test_thresholds(void **state)
{
	struct report_threshold t;
	char err[256];
	(void)state;

	assert_int_equal(report_threshold_parse("failures>1000", &t, err, sizeof err), 0);
	assert_string_equal(report_threshold_names()[t.metric], "failures");
	assert_int_equal(t.cmp, RC_GT);
	assert_true(t.value == 1000);
	assert_int_equal(report_threshold_parse(" overdue-rotations >= 1 ", &t, err, sizeof err), 0);
	assert_string_equal(report_threshold_names()[t.metric], "overdue-rotations");
	assert_int_equal(t.cmp, RC_GE);
	assert_int_equal(report_threshold_parse("hot-ips!=0", &t, err, sizeof err), 0);
	assert_int_equal(t.cmp, RC_NE);
	assert_int_equal(report_threshold_parse("events<=5", &t, err, sizeof err), 0);
	assert_int_equal(t.cmp, RC_LE);
	assert_int_equal(report_threshold_parse("events=5", &t, err, sizeof err), 0);
	assert_int_equal(t.cmp, RC_EQ);
	assert_int_equal(report_threshold_parse("events==5", &t, err, sizeof err), 0);
	assert_int_equal(t.cmp, RC_EQ);

	const char *bad[] = { "failure>1", "failures", "failures>", "failures>x", "failures>1x",
	                      "failures=>1", ">1", "failures>-1", "", "FAILURES>1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(report_threshold_parse(bad[i], &t, err, sizeof err), -1);
		assert_non_null(strstr(err, "fail-on"));
	}
}

static void test_thresholds_against_a_report(void **state)
{
	struct config cfg;
	struct report r;
	struct report_threshold t;
	long long v;
	char err[128];
	(void)state;

	conf_defaults(&cfg);
	report_init(&r, &cfg, NOW_US / 1000000);
	assert_int_equal(report_threshold_parse("failures>1000", &t, err, sizeof err), 0);
	/* not read: never crossed, and the value says so */
	assert_false(report_threshold_crossed(&r, &t, &v));
	assert_true(v == -1);
	r.cur.known = true;
	r.cur.v[RM_FAILURES] = 1000;
	assert_false(report_threshold_crossed(&r, &t, &v));
	r.cur.v[RM_FAILURES] = 1001;
	assert_true(report_threshold_crossed(&r, &t, &v));
	assert_true(v == 1001);

	struct report_secret s[3] = {
		{ .name = "a", .kind = "api_key", .max_age_s = 90 * 86400, .last_rotated_s = NOW_US / 1000000 - 100 * 86400 },
		{ .name = "b", .kind = "api_key", .max_age_s = 90 * 86400, .last_rotated_s = NOW_US / 1000000 - 80 * 86400 },
		{ .name = "c", .kind = "api_key", .max_age_s = 90 * 86400 },
	};
	r.secrets = s;
	r.n_secrets = 3;
	r.pg_ok = true;
	report_finish(&r, NOW_US / 1000000, 14);
	assert_int_equal(s[0].state, RR_OVERDUE);
	assert_int_equal(s[1].state, RR_DUE);
	assert_int_equal(s[2].state, RR_NEVER);
	assert_int_equal(report_threshold_parse("overdue-rotations>1", &t, err, sizeof err), 0);
	assert_true(report_threshold_crossed(&r, &t, &v));
	assert_true(v == 2);                     /* overdue and never rotated */
	assert_int_equal(report_threshold_parse("due-rotations>0", &t, err, sizeof err), 0);
	assert_true(report_threshold_crossed(&r, &t, &v));
	r.secrets = NULL;
	r.n_secrets = 0;
	report_free(&r);
	conf_free(&cfg);
}

static void test_hours_into_days(void **state)
{
	struct config cfg;
	struct report r;
	(void)state;

	conf_defaults(&cfg);
	report_init(&r, &cfg, NOW_US / 1000000);
	/* Sunday 2026-11-22 23:30 to Monday 2026-11-23 01:30, UTC */
	r.cur.since_us = (1795392000LL - 1800) * 1000000;
	r.cur.until_us = (1795392000LL + 5400) * 1000000;
	struct report_hour h[] = {
		{ .hour_s = 1795392000 - 3600, .events = 10, .failures = 3, .blocks = 1, .actions = 2 },
		{ .hour_s = 1795392000, .events = 20, .failures = 5 },
		{ .hour_s = 1795392000 + 3600, .events = 7, .failures = 1, .unauthorized = 1 },
	};
	assert_int_equal(report_take_hours(&r, &r.cur, h, 3, true), 0);
	assert_int_equal(r.n_days, 2);
	assert_true(r.days[0].day_s == 1795392000 - 86400);
	assert_true(r.days[0].events == 10 && r.days[0].failures == 3);
	assert_true(r.days[1].events == 27 && r.days[1].failures == 6);
	assert_true(r.cur.v[RM_EVENTS] == 37 && r.cur.v[RM_FAILURES] == 9);
	assert_true(r.cur.v[RM_BLOCKS] == 1 && r.cur.v[RM_ACTIONS] == 2 && r.cur.v[RM_UNAUTHORIZED] == 1);
	assert_true(r.hour_of_week[6][23] == 3);     /* Sunday 23:00 */
	assert_true(r.hour_of_week[0][0] == 5);      /* Monday 00:00 */
	assert_true(r.hour_of_week[0][1] == 1);
	/* the previous period adds up without touching the days */
	assert_int_equal(report_take_hours(&r, &r.prev, h, 1, false), 0);
	assert_true(r.prev.v[RM_EVENTS] == 10);
	assert_true(r.days[0].events == 10);
	double pct;
	assert_true(report_change_pct(15, 10, &pct));
	assert_true(pct > 49.9 && pct < 50.1);
	assert_false(report_change_pct(15, 0, &pct));
	report_free(&r);
	conf_free(&cfg);
}

static void test_escapes(void **state)
{
	char *s;
	(void)state;

	s = report_escape_csv("plain", true);
	assert_string_equal(s, "plain");
	free(s);
	s = report_escape_csv("a,b \"q\"", true);
	assert_string_equal(s, "\"a,b \"\"q\"\"\"");
	free(s);
	/* a formula from outside is defused; our own negative number is not */
	s = report_escape_csv("=HYPERLINK(\"http://x\")", true);
	assert_string_equal(s, "\"'=HYPERLINK(\"\"http://x\"\")\"");
	free(s);
	s = report_escape_csv("-12.5%", false);
	assert_string_equal(s, "-12.5%");
	free(s);
	s = report_escape_csv("@SUM(A1)", true);
	assert_string_equal(s, "\"'@SUM(A1)\"");
	free(s);
	s = report_escape_csv(" padded", true);
	assert_string_equal(s, "\" padded\"");
	free(s);
	s = report_escape_csv("", true);
	assert_string_equal(s, "");
	free(s);

	s = report_escape_html("<script>alert('x')</script> & \"");
	assert_string_equal(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;");
	free(s);

	s = report_escape_md("a|b *c* [l](http://x) <b> `c` _u_ \\x1b @all #1 $x$ ~s~ &amp;");
	assert_string_equal(s, "a\\|b \\*c\\* \\[l\\](http://x) \\<b\\> \\`c\\` \\_u\\_ \\\\x1b \\@all \\#1 "
	                    "\\$x\\$ \\~s\\~ \\&amp;");
	free(s);
	s = report_escape_md("2001:db8::1 198.51.100.23 dunder-mifflin");
	assert_string_equal(s, "2001:db8::1 198.51.100.23 dunder-mifflin");
	free(s);
	s = report_escape_md("caf\xc3\xa9 ok");          /* UTF-8 passes as it is */
	assert_string_equal(s, "caf\xc3\xa9 ok");
	free(s);
}

static void test_cells_are_sanitised(void **state)
{
	(void)state;
	char evil[] = "evil\x1b[31mcorp\x1b]0;pwned\x07 \xe2\x80\xae";
	struct rcell c = { .kind = RC_UNTRUSTED, .s = evil };
	char *s = report_cell_text(&c, 0, "-");
	assert_null(strchr(s, 0x1b));
	assert_null(strchr(s, 0x07));
	assert_null(strstr(s, "\xe2\x80\xae"));
	assert_non_null(strstr(s, "\\x1b[31m"));
	assert_non_null(strstr(s, "<U+202E>"));
	free(s);
	char *list[] = { evil, (char *)"acme" };
	struct rcell l = { .kind = RC_LIST, .list = list, .n_list = 2 };
	s = report_cell_text(&l, 0, "-");
	assert_null(strchr(s, 0x1b));
	assert_non_null(strstr(s, ", acme"));
	free(s);
	struct rcell n = { .kind = RC_NULL };
	s = report_cell_text(&n, 0, "-");
	assert_string_equal(s, "-");
	free(s);
	struct rcell p = { .kind = RC_PCT, .d = -12.34 };
	s = report_cell_text(&p, 0, "-");
	assert_string_equal(s, "-12.3%");
	free(s);
	struct rcell t = { .kind = RC_TIME, .t = 1795472400 };
	s = report_cell_text(&t, 0, "-");
	assert_string_equal(s, "2026-11-23T22:20:00Z");
	free(s);
	char iso[40];
	report_iso_us(iso, sizeof iso, NOW_US + 5);
	assert_string_equal(iso, "2026-11-23T22:20:00.000005Z");
	report_iso_us(iso, sizeof iso, NOW_US);
	assert_string_equal(iso, "2026-11-23T22:20:00Z");
}

static void test_sql_expand(void **state)
{
	(void)state;
	const char *tokens[][2] = { { "T", "\"t\"" }, { "X", "x.{T}" }, { "loop", "{loop}" } };
	char *s = report_sql_expand("a {X} [[roll {T}]]b[!raw!] {not a token} {}", tokens, 3, 1, true);
	assert_string_equal(s, "a x.\"t\" roll \"t\"b {not a token} {}");
	free(s);
	s = report_sql_expand("a {X} [[roll {T}]]b[!raw!]", tokens, 3, 1, false);
	assert_string_equal(s, "a x.\"t\" braw");
	free(s);
	assert_null(report_sql_expand("{unknown}", tokens, 3, 1, true));
	assert_null(report_sql_expand("{loop}", tokens, 3, 1, true));
}

/* A name is a value, never a template: what it holds is not expanded. */
static void test_sql_expand_names_once(void **state)
{
	(void)state;
	const char *tokens[][2] = { { "T", "\"t{X}\"" }, { "C", "\";DROP TABLE x;--[[\"" },
	                            { "X", "{T}.{C}" } };
	char *s = report_sql_expand("{X}", tokens, 3, 2, false);
	assert_string_equal(s, "\"t{X}\".\";DROP TABLE x;--[[\"");
	free(s);
}

/* Names holding what the templates use are refused before any SQL is built. */
static void test_sql_build_refuses_template_characters(void **state)
{
	struct config c;
	struct report_sql q;
	char err[256];
	(void)state;

	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "table", "audit{FAIL}", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "column-details", ";DROP TABLE x;--", err, sizeof err), 0);
	assert_int_equal(report_sql_build(&q, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "audit{FAIL}"));
	assert_int_equal(conf_set(&c, "table", "audit_log", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "column-ip-address", "ip[[x", err, sizeof err), 0);
	assert_int_equal(report_sql_build(&q, &c, err, sizeof err), -1);
	conf_free(&c);
}

/* Every value is a parameter; every configured name is quoted; a name
 * that would be cut by PostgreSQL's 63 bytes is refused. */
static void test_sql_build(void **state)
{
	struct config c;
	struct report_sql q;
	char err[256];
	(void)state;

	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "table", "we\"ird", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "tenant", "acme'; DROP TABLE x; --", err, sizeof err), 0);
	assert_int_equal(report_sql_build(&q, &c, err, sizeof err), 0);
	for (int i = 0; i < RQ_N; i++)
		for (int v = 0; v < RV_N; v++) {
			const char *sql = q.query[i][v];
			assert_null(strstr(sql, "DROP TABLE x"));
			assert_null(strstr(sql, "{"));
			assert_null(strstr(sql, "[["));
			if (v == RV_TABLE)
				assert_null(strstr(sql, "_rollup_"));
			if (v == RV_ROLLUP_COPY && i != RQ_KEYS && i != RQ_ROTATIONS && i != RQ_RECENT &&
			    i != RQ_BLOCKED)
				assert_non_null(strstr(sql, "pg_temp.sectop_live"));
		}
	assert_non_null(strstr(q.query[RQ_HOURS][RV_ROLLUP_TABLE], "FROM \"we\"\"ird_rollup_hour\" r"));
	assert_non_null(strstr(q.query[RQ_HOURS][RV_TABLE], "FROM \"we\"\"ird\" a"));
	/* the lookback is always read from the audit table itself */
	assert_non_null(strstr(q.query[RQ_RECENT][RV_ROLLUP_COPY], "FROM \"we\"\"ird\" a"));
	assert_non_null(strstr(q.create, "CREATE TABLE IF NOT EXISTS \"we\"\"ird_rollup_state\""));
	assert_non_null(strstr(q.drop, "\"we\"\"ird_rollup_ips\""));
	assert_string_equal(q.state_table, "\"we\"\"ird_rollup_state\"");
	assert_non_null(strstr(q.definition, "{\"failed_auth\",\"unauthorized_access\",\"authentication_failed\"}"));
	report_sql_free(&q);

	assert_int_equal(conf_set(&c, "table", "a_table_name_that_is_far_too_long_for_the_suffixes", err,
	                          sizeof err), 0);
	assert_int_equal(report_sql_build(&q, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "too long"));
	conf_free(&c);
}

static void test_secret_setting(void **state)
{
	struct config c;
	char err[256];
	(void)state;

	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "secret", "stripe_api_key kind=api_key", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "secret", "db kind=db_password max_age=30d", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "secret", "tls kind=tls_cert", err, sizeof err), 0);
	assert_int_equal(c.n_secrets, 3);
	assert_int_equal(c.secrets[0].max_age_s, 90 * 86400);
	assert_int_equal(c.secrets[1].max_age_s, 30 * 86400);
	assert_int_equal(c.secrets[2].max_age_s, 365 * 86400);
	/* the same name again replaces it */
	assert_int_equal(conf_set(&c, "secret", "db kind=ssh_key", err, sizeof err), 0);
	assert_int_equal(c.n_secrets, 3);
	assert_string_equal(c.secrets[1].kind, "ssh_key");
	assert_int_equal(c.secrets[1].max_age_s, 365 * 86400);
	assert_int_equal(conf_set(&c, "secret", "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "kind="));
	assert_int_equal(conf_set(&c, "secret", "x kind=password", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "x kind=api_key max_age=soon", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "x kind=api_key colour=red", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "bad;name kind=api_key", err, sizeof err), -1);
	assert_int_equal(c.n_secrets, 3);
	assert_int_equal(conf_set(&c, "format", "html", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "format", "pdf", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), -1);
	conf_free(&c);
}

/* A report with a hostile string wherever outside text can go. */
#define EVIL "evil\x1b[31m<script>alert(1)</script>|*x*\xe2\x80\xae\x07"

static void hostile_report(struct report *r, struct config *cfg, struct block_entry *b,
                           struct health_result *h)
{
	conf_defaults(cfg);
	report_init(r, cfg, NOW_US / 1000000);
	r->tenant = strdup(EVIL);
	r->cur = (struct report_period){ NOW_US - 7 * DAY_US, NOW_US, { 10, 3, 1, 0, 2, 1, 1 }, true };
	r->prev = (struct report_period){ NOW_US - 14 * DAY_US, NOW_US - 7 * DAY_US, { 5, 0, 0, 0, 1, 0, 0 }, true };
	r->pg_ok = r->redis_ok = r->blocks_known = true;
	r->top = calloc(1, sizeof *r->top);
	snprintf(r->top[0].ip, sizeof r->top[0].ip, "198.51.100.23");
	r->top[0].failures = 3;
	r->top[0].tenant_names = calloc(2, sizeof(char *));
	r->top[0].tenant_names[0] = strdup(EVIL);
	r->top[0].tenant_names[1] = strdup("acme");
	r->top[0].n_tenant_names = 2;
	r->n_top = 1;
	/* an AS organisation is untrusted too */
	r->geo_db = true;
	r->networks = calloc(1, sizeof *r->networks);
	snprintf(r->networks[0].name, sizeof r->networks[0].name, "AS64500 %s", EVIL);
	r->networks[0].cur = 3;
	r->n_networks = 1;
	r->actions = calloc(1, sizeof *r->actions);
	r->actions[0] = (struct report_action){ .ts_us = NOW_US - DAY_US, .who = strdup(EVIL),
		.action = strdup("ip_blocked"), .reason = strdup("=cmd()" EVIL), .ip = strdup("198.51.100.23") };
	r->n_actions = 1;
	*b = (struct block_entry){ .key_ip = (char *)EVIL, .ttl_s = 60, .by = (char *)EVIL,
		.reason = (char *)EVIL, .kind = RV_JSON_BLOCK };
	r->blocks = b;
	r->n_blocks = 1;
	*h = (struct health_result){ .name = (char *)"api", .url = (char *)"http://x/" EVIL,
		.state = HEALTH_DEGRADED, .http_status = 200, .n_findings = 1 };
	h->findings[0] = (char *)EVIL;
	r->health = h;
	r->n_health = 1;
	report_note(r, "note: %s", EVIL);
	report_finish(r, NOW_US / 1000000, 14);
}

static char *render(const struct report *r, int which)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int rc = which == 0 ? report_write_json(r, f) : which == 1 ? report_write_csv(r, f, NULL)
	       : which == 2 ? report_write_html(r, f) : which == 3 ? report_write_md(r, f)
	       : report_write_text(r, f, false);
	assert_int_equal(rc, 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* Nothing a terminal would act on; for markup, no element from outside. */
static void assert_inert(const char *s, bool markup)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		assert_false((*p < 0x20 && *p != '\n') || *p == 0x7f);
	assert_null(strstr(s, "\xe2\x80\xae"));
	if (markup)
		assert_null(strstr(s, "<script>"));
}

/* The block keys a report reads: each address once, in the servers' key
 * form; whatever is not an address is left out. */
static void test_lookup_list(void **state)
{
	struct config c;
	struct report r;
	struct report_ip top[2] = { { .ip = "198.51.100.23" }, { .ip = "2001:db8::bad" } };
	struct report_hot hot[1] = { { .ip = "198.51.100.23" } };
	struct report_action acts[3] = {
		{ .resource_type = (char *)"ip", .resource_id = (char *)"2001:DB8:0::1" },
		{ .resource_type = (char *)"ip", .resource_id = (char *)"\x1b]0;pwned\x07" },
		{ .resource_type = (char *)"api_key", .resource_id = (char *)"10.0.0.1" },
	};
	char *recent[] = { (char *)"192.0.2.9", (char *)"198.51.100.23", (char *)"10.0.0.0/8" };
	char *ever[] = { (char *)"45.155.205.233", (char *)"not an address" };
	struct ip_stat *v;
	size_t n;
	(void)state;

	conf_defaults(&c);
	report_init(&r, &c, NOW_US / 1000000);
	assert_int_equal(report_lookup_list(&r, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	r.top = top;
	r.n_top = 2;
	r.hot = hot;
	r.n_hot = 1;
	r.actions = acts;
	r.n_actions = 3;
	r.recent_ips = recent;
	r.n_recent_ips = 3;
	r.blocked_ips = ever;
	r.n_blocked_ips = 2;
	assert_int_equal(report_lookup_list(&r, &v, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].ip, "192.0.2.9");
	assert_string_equal(v[1].ip, "198.51.100.23");
	assert_string_equal(v[2].ip, "2001:db8::1");
	assert_string_equal(v[3].ip, "2001:db8::bad");
	assert_string_equal(v[4].ip, "45.155.205.233");
	free(v);
	free(r.tenant);
	conf_free(&c);
}

static void test_formats_parse_back(void **state)
{
	struct config cfg;
	struct report r;
	struct block_entry b;
	struct health_result h;
	(void)state;

	hostile_report(&r, &cfg, &b, &h);
	/* JSON: jansson reads it back; values are exact, the text is ASCII */
	char *text = render(&r, 0);
	json_error_t jerr;
	json_t *d = json_loads(text, 0, &jerr);
	assert_non_null(d);
	assert_int_equal(json_integer_value(json_object_get(d, "sectop_report")), 1);
	assert_string_equal(json_string_value(json_object_get(d, "tenant")), EVIL);
	json_t *sec = json_object_get(d, "sections");
	assert_int_equal(json_object_size(sec), 13);
	json_t *net = json_array_get(json_object_get(json_object_get(sec, "top_networks"), "rows"), 0);
	assert_true(strstr(json_string_value(json_object_get(net, "network")), EVIL) != NULL);
	json_t *top = json_array_get(json_object_get(json_object_get(sec, "top_ips"), "rows"), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(top, "tenant_names"), 0)), EVIL);
	assert_true(json_is_true(json_object_get(top, "blocked_now")) == false);
	json_t *sum = json_array_get(json_object_get(json_object_get(sec, "summary"), "rows"), 0);
	assert_string_equal(json_string_value(json_object_get(sum, "metric")), "events");
	assert_int_equal(json_integer_value(json_object_get(sum, "current")), 10);
	assert_true(json_real_value(json_object_get(sum, "change_pct")) > 99.9);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "period"), "until")),
	                    "2026-11-23T22:20:00Z");
	json_decref(d);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		assert_true(*p < 0x7f && (*p >= 0x20 || *p == '\n'));
	free(text);

	/* CSV: 13 tables, each row as wide as its header */
	text = render(&r, 1);
	assert_inert(text, false);
	assert_non_null(strstr(text, "\"'=cmd()"));
	size_t tables = 0;
	for (char *blk = text, *next; blk && *blk; blk = next) {
		next = strstr(blk, "\n\n");
		if (next)
			*next = '\0', next += 2;
		tables++;
	}
	assert_int_equal(tables, 13);
	free(text);

	/* HTML: the hostile strings escaped, no script element */
	text = render(&r, 2);
	assert_inert(text, true);
	assert_non_null(strstr(text, "evil\\x1b[31m&lt;script&gt;alert(1)&lt;/script&gt;|*x*&lt;U+202E&gt;\\x07"));
	free(text);

	/* Markdown: no cell border or markup from outside */
	text = render(&r, 3);
	assert_inert(text, true);
	assert_non_null(strstr(text, "evil\\\\x1b\\[31m\\<script\\>alert(1)\\</script\\>\\|\\*x\\*"));
	free(text);

	/* text: notations instead of controls */
	text = render(&r, 4);
	assert_null(strchr(text, 0x1b));
	assert_non_null(strstr(text, "<U+202E>"));
	free(text);

	r.blocks = NULL;
	r.health = NULL;
	report_free(&r);
	conf_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_iso_times),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_thresholds_against_a_report),
		cmocka_unit_test(test_hours_into_days),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_cells_are_sanitised),
		cmocka_unit_test(test_sql_expand),
		cmocka_unit_test(test_sql_expand_names_once),
		cmocka_unit_test(test_sql_build_refuses_template_characters),
		cmocka_unit_test(test_sql_build),
		cmocka_unit_test(test_secret_setting),
		cmocka_unit_test(test_lookup_list),
		cmocka_unit_test(test_formats_parse_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
