/* The incident timeline and the drill scorecard, from journal records:
 * actions joined with their results, other incidents left out, hostile
 * strings inert in the Markdown, the scorecard's times. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "drill.h"
#include "team.h"
#include "timeline.h"

static json_t *records(void)
{
	const char *text =
	    "[{\"id\":\"a\",\"time\":\"2026-11-24T10:00:00Z\",\"phase\":\"intent\",\"operator\":\"eve\","
	    "\"action\":\"drill_started\",\"target\":\"brute-force\",\"incident\":\"I1\",\"mode\":\"drill\"},"
	    "{\"id\":\"a\",\"time\":\"2026-11-24T10:00:00Z\",\"phase\":\"result\",\"status\":\"done\",\"message\":\"recorded\"},"
	    "{\"time\":\"2026-11-24T10:00:40Z\",\"phase\":\"viewed\",\"operator\":\"eve\",\"target\":\"198.51.100.1\","
	    "\"incident\":\"I1\"},"
	    "{\"time\":\"2026-11-24T10:01:05Z\",\"phase\":\"viewed\",\"operator\":\"eve\",\"target\":\"203.0.113.66\","
	    "\"incident\":\"I1\",\"note\":\"opened\"},"
	    "{\"id\":\"b\",\"time\":\"2026-11-24T10:02:00Z\",\"phase\":\"intent\",\"operator\":\"eve\","
	    "\"action\":\"ip_blocked\",\"target\":\"203.0.113.66\",\"incident\":\"I1\",\"mode\":\"drill\","
	    "\"reason\":\"x | y \\u001b[31m *bold*\"},"
	    "{\"id\":\"c\",\"time\":\"2026-11-24T10:02:10Z\",\"phase\":\"intent\",\"operator\":\"eve\","
	    "\"action\":\"ip_blocked\",\"target\":\"203.0.113.99\",\"incident\":\"OTHER\",\"mode\":\"live\"},"
	    "{\"id\":\"b\",\"time\":\"2026-11-24T10:02:01Z\",\"phase\":\"result\",\"status\":\"done\",\"message\":\"blocked\"},"
	    "{\"id\":\"d\",\"time\":\"2026-11-24T10:03:00Z\",\"phase\":\"intent\",\"operator\":\"eve\","
	    "\"action\":\"runbook_step_done\",\"target\":\"brute-force\",\"incident\":\"I1\",\"mode\":\"drill\","
	    "\"note\":\"step 1/8\"},"
	    "{\"id\":\"d\",\"time\":\"2026-11-24T10:03:00Z\",\"phase\":\"result\",\"status\":\"done\"},"
	    "{\"id\":\"d\",\"time\":\"2026-11-24T10:03:00Z\",\"phase\":\"audited\"},"
	    "{\"id\":\"e\",\"time\":\"2026-11-24T10:04:00Z\",\"phase\":\"intent\",\"operator\":\"eve\","
	    "\"action\":\"ip_unblocked\",\"target\":\"203.0.113.66\",\"incident\":\"I1\",\"mode\":\"live\"}]";
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_build(void **state)
{
	struct timeline tl;
	json_t *all = records();
	(void)state;
	assert_int_equal(timeline_build(&tl, all, "I1"), 0);
	assert_int_equal(tl.n, 6);                      /* OTHER's action left out */
	assert_null(tl.v[1].what);                      /* a look */
	assert_string_equal(tl.v[3].what, "ip_blocked");
	assert_string_equal(tl.v[3].status, "done");
	assert_int_equal(tl.v[3].audited, 0);           /* drill mode: meant to be audited, not yet */
	assert_int_equal(tl.v[4].audited, 1);
	assert_null(tl.v[5].status);                    /* interrupted: no result */
	assert_int_equal(tl.v[0].t, timeline_parse_time("2026-11-24T10:00:00Z"));
	assert_int_equal(timeline_parse_time("yesterday"), -1);
	timeline_free(&tl);
	json_decref(all);
}

static void test_markdown_inert(void **state)
{
	struct timeline tl;
	json_t *all = records();
	char *buf = NULL;
	size_t len = 0;
	(void)state;
	FILE *f = open_memstream(&buf, &len);
	timeline_build(&tl, all, "I1");
	assert_int_equal(timeline_write_md(&tl, f, "eve", 1795000000), 0);
	fclose(f);
	assert_non_null(strstr(buf, "# Incident I1: timeline"));
	assert_non_null(strstr(buf, "Actions: 1 done, 1 not done; runbook steps completed: 1; looks: 2"));
	assert_null(strchr(buf, '\x1b'));               /* the escape is shown, not sent */
	assert_non_null(strstr(buf, "x \\| y"));         /* no cell border from a reason */
	assert_non_null(strstr(buf, "\\*bold\\*"));
	assert_non_null(strstr(buf, "no result recorded"));
	assert_non_null(strstr(buf, "audit row pending"));
	free(buf);
	timeline_free(&tl);
	json_decref(all);
}

static void test_drill_score(void **state)
{
	struct config cfg;
	struct drill d;
	struct drill_score s;
	json_t *all = records();
	(void)state;
	conf_defaults(&cfg);
	drill_prepare(&d, &cfg, drill_find("brute-force"), timeline_parse_time("2026-11-24T10:00:00Z"));
	assert_string_equal(cfg.keys.blocked, "drill:blocked:");
	assert_string_equal(cfg.keys.failed_auth, "drill:failed_auth:");
	assert_true(cfg.drill);
	assert_string_equal(cfg.runbook, "brute-force");
	snprintf(d.incident, sizeof d.incident, "I1");
	drill_score(&d, all, &s);
	assert_int_equal(s.detect_s, 65);                /* 198.51.100.1 is no attacker here */
	assert_int_equal(s.contain_s, 120);
	assert_int_equal(s.contained, 1);
	assert_int_equal(s.steps_done, 1);
	assert_int_equal(s.actions, 1);                  /* the unblock has no result */
	struct drill again;
	drill_prepare(&again, &cfg, drill_find("brute-force"), 0);
	assert_string_equal(cfg.keys.blocked, "drill:blocked:");   /* the prefix once only */
	assert_null(drill_find("no-such"));
	json_decref(all);
	conf_free(&cfg);
}

/* Beside the journal, wherever it is; the incident id made a file name. */
static void test_default_path(void **state)
{
	(void)state;
	char *p = timeline_default_path("/srv/ops/journal.jsonl", "INC-7");
	assert_string_equal(p, "/srv/ops/timeline-INC-7.md");
	free(p);
	p = timeline_default_path("/j.jsonl", "../etc/passwd");
	assert_string_equal(p, "/timeline-_._etc_passwd.md");   /* no slash, no leading dot */
	free(p);
	p = timeline_default_path("journal.jsonl", ".hidden x");
	assert_string_equal(p, "./timeline-_hidden_x.md");
	free(p);
}

/* The audit log's rows merged: a local record's own row adds nothing but
 * "audited"; another operator's is a remote entry, in time order; another
 * incident's is left out; a drill counts a teammate's block. */
static void test_team_merge(void **state)
{
	struct timeline tl;
	json_t *all = records();
	char *buf = NULL;
	size_t len = 0;
	(void)state;
	int64_t t0 = timeline_parse_time("2026-11-24T10:00:00Z");
	struct team_op ops[5] = {
		{ .ts_us = (t0 + 121) * 1000000, .action = (char *)"ip_blocked", .operator_id = (char *)"eve", .target = (char *)"203.0.113.66",
		  .journal_id = (char *)"b", .incident = (char *)"I1" },
		{ .ts_us = (t0 + 90) * 1000000, .action = (char *)"ip_blocked", .operator_id = (char *)"alice@10.0.0.5",
		  .target = (char *)"198.51.100.1", .journal_id = (char *)"x1", .incident = (char *)"I1", .reason = (char *)"theirs" },
		{ .ts_us = (t0 + 95) * 1000000, .action = (char *)"ip_blocked_noop", .operator_id = (char *)"alice@10.0.0.5",
		  .target = (char *)"203.0.113.66", .journal_id = (char *)"x2", .incident = (char *)"I1" },
		{ .ts_us = (t0 + 96) * 1000000, .action = (char *)"ip_blocked", .operator_id = (char *)"alice@10.0.0.5",
		  .target = (char *)"192.0.2.1", .journal_id = (char *)"x3", .incident = (char *)"OTHER" },
		{ .ts_us = (t0 + 97) * 1000000, .action = (char *)"ip_blocked", .operator_id = (char *)"alice@10.0.0.5",
		  .target = (char *)"198.51.100.1", .journal_id = (char *)"x1", .incident = (char *)"I1" },  /* twice */
	};
	assert_int_equal(timeline_build(&tl, all, "I1"), 0);
	assert_int_equal(tl.v[3].audited, 0);
	assert_int_equal(timeline_add_team(&tl, ops, 5, "I1"), 0);
	assert_int_equal(tl.n, 8);
	assert_int_equal(tl.n_remote, 2);
	assert_true(tl.v[3].remote);                     /* 10:01:30, between the looks and eve's block */
	assert_string_equal(tl.v[3].who, "alice@10.0.0.5");
	assert_string_equal(tl.v[3].status, "done");
	assert_string_equal(tl.v[3].note, "theirs");
	assert_true(tl.v[4].remote);
	assert_string_equal(tl.v[4].what, "ip_blocked");  /* the "_noop" said by the status */
	assert_string_equal(tl.v[4].status, "already");
	assert_false(tl.v[5].remote);
	assert_string_equal(tl.v[5].who, "eve");
	assert_int_equal(tl.v[5].audited, 1);             /* its row is in the audit log */
	for (size_t i = 1; i < tl.n; i++)
		assert_true(tl.v[i - 1].t <= tl.v[i].t);
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(timeline_write_md(&tl, f, "eve", 1795000000), 0);
	fclose(f);
	assert_non_null(strstr(buf, "| alice\\@10.0.0.5 (remote) | ip\\_blocked | 198.51.100.1 | theirs | done |"));
	assert_non_null(strstr(buf, "2 recorded elsewhere, marked remote"));
	assert_non_null(strstr(buf, "Operators: eve, alice\\@10.0.0.5"));
	assert_null(strstr(buf, "192.0.2.1"));
	free(buf);

	/* a teammate's block of an attacker contains it: the scorecard sees it */
	struct config cfg;
	struct drill d;
	struct drill_score s;
	conf_defaults(&cfg);
	drill_prepare(&d, &cfg, drill_find("brute-force"), t0);
	snprintf(d.incident, sizeof d.incident, "I1");
	snprintf(d.attackers[1], sizeof d.attackers[1], "198.51.100.1");
	d.n_attackers = 2;
	drill_score_timeline(&d, &tl, &s);
	assert_int_equal(s.contain_s, 90);
	assert_int_equal(s.contained, 2);
	timeline_free(&tl);
	conf_free(&cfg);
	json_decref(all);
}

/* The audit log did not answer: the journal alone, said so. */
static void test_team_offline(void **state)
{
	struct timeline tl;
	json_t *all = records();
	char *buf = NULL;
	size_t len = 0;
	(void)state;
	timeline_build(&tl, all, "I1");
	timeline_team_failed(&tl, "connection refused");
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(timeline_write_md(&tl, f, "eve", 1795000000), 0);
	fclose(f);
	assert_non_null(strstr(buf, "the local journal alone: the audit log did not answer (connection refused)"));
	assert_null(strstr(buf, "(remote)"));
	free(buf);
	timeline_free(&tl);
	json_decref(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_markdown_inert),
		cmocka_unit_test(test_drill_score),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_team_merge),
		cmocka_unit_test(test_team_offline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
