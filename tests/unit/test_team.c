/* The team's actions as data: the action names read from the audit log,
 * whose action is one's own, and the line said when another acts. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "team.h"
#include "team_pg.h"

static void test_action_names(void **state)
{
	(void)state;
	char *names = team_action_names();
	assert_non_null(names);
	assert_non_null(strstr(names, "{\"ip_blocked\",\"ip_blocked_noop\","));
	assert_non_null(strstr(names, "\"api_key_revoked\""));
	assert_non_null(strstr(names, "\"secret_rotation_requested\""));
	assert_non_null(strstr(names, "\"runbook_step_done\",\"runbook_step_done_noop\""));
	assert_non_null(strstr(names, "\"drill_ended_noop\"}"));
	assert_null(strstr(names, "failed_auth"));          /* the servers' events are not the team's */
	assert_null(strstr(names, "\"?\""));
	free(names);
}

static struct team_op op_of(const char *who, const char *action, const char *target, const char *journal_id)
{
	struct team_op op = { .ts_us = 1795000000LL * 1000000 };
	op.operator_id = (char *)who;
	op.action = (char *)action;
	op.target = (char *)target;
	op.journal_id = (char *)journal_id;
	return op;
}

static void test_message(void **state)
{
	char msg[300];
	(void)state;
	struct team_op op = op_of("alice@10.0.0.5", "ip_blocked", "203.0.113.45", "j1");
	team_op_message(&op, op.ts_us + 40 * 1000000LL, msg, sizeof msg);
	assert_string_equal(msg, "alice@10.0.0.5 blocked 203.0.113.45 40 s ago");
	op.action = (char *)"ip_blocked_noop";
	team_op_message(&op, op.ts_us + 600 * 1000000LL, msg, sizeof msg);
	assert_string_equal(msg, "alice@10.0.0.5 tried to block (already blocked) 203.0.113.45 10 min ago");
	op = op_of("bob", "runbook_step_done", "brute-force", NULL);
	op.note = (char *)"Block the address";
	team_op_message(&op, op.ts_us, msg, sizeof msg);
	assert_string_equal(msg, "bob ticked a step of Block the address 0 s ago");
	/* a hostile operator name and target are shown, not sent */
	op = op_of("eve\x1b]2;pwned\x07", "ip_unblocked", "1.2.3.4\x1b[2J", NULL);
	team_op_message(&op, op.ts_us + 3 * 3600 * 1000000LL, msg, sizeof msg);
	assert_null(strchr(msg, '\x1b'));
	assert_non_null(strstr(msg, "unblocked"));
	assert_non_null(strstr(msg, "3 h ago"));
}

static bool local_j1(const char *journal_id, void *ctx)
{
	(void)ctx;
	return strcmp(journal_id, "j1") == 0;
}

static void test_own(void **state)
{
	(void)state;
	struct team_op mine = op_of("carol", "ip_blocked", "192.0.2.1", "j9");
	struct team_op journal = op_of("carol@other", "ip_blocked", "192.0.2.1", "j1");
	struct team_op theirs = op_of("alice", "ip_blocked", "192.0.2.1", "j2");
	assert_true(team_op_is_own(&mine, "carol", local_j1, NULL));
	assert_true(team_op_is_own(&journal, "carol", local_j1, NULL));    /* this machine's journal */
	assert_false(team_op_is_own(&theirs, "carol", local_j1, NULL));
	assert_false(team_op_is_own(&theirs, "carol", NULL, NULL));
}

static void test_copy(void **state)
{
	struct team_op a = op_of("alice", "ip_blocked", "192.0.2.1", "j2"), b;
	(void)state;
	snprintf(a.id, sizeof a.id, "0b3c");
	assert_int_equal(team_op_copy(&b, &a), 0);
	assert_string_equal(b.id, "0b3c");
	assert_string_equal(b.operator_id, "alice");
	assert_ptr_not_equal(b.operator_id, a.operator_id);
	assert_null(b.tenant);
	team_op_free(&b);
}

/* The operators' cursor: the first look reads the window, a look that
 * finds nothing moves the scan's start up to the overlap before the
 * server's time (never back), a full batch asks for more, a failure gives
 * up what is older than the overlap. */
static void test_feed_cursor(void **state)
{
	struct team_feed f;
	char lo[24], cur[24], buf[3][24];
	const char *cv[4], *rv[7];
	const int64_t now = 1795000000LL * 1000000;
	(void)state;
	assert_int_equal(team_feed_init(&f), 0);
	team_feed_clock_params(&f, lo, cur, cv);
	assert_null(cv[0]);                              /* not asked before the first look */
	assert_null(cv[1]);
	assert_non_null(strstr(cv[3], "ip_blocked"));
	team_feed_clock(&f, now, -1, 900);
	assert_true(team_feed_decide(&f));
	assert_int_equal(f.lo_us, now - 900LL * 1000000);
	team_feed_rows_params(&f, 256, buf, rv);
	assert_null(rv[1]);                              /* no cursor yet */
	assert_string_equal(rv[5], "200");

	struct team_op batch[TEAM_BATCH] = { 0 };
	for (int i = 0; i < TEAM_BATCH; i++) {
		batch[i].ts_us = now - 600LL * 1000000 + i;
		snprintf(batch[i].id, sizeof batch[i].id, "id%d", i);
	}
	assert_true(team_feed_took(&f, batch, TEAM_BATCH));  /* full: more to read */
	assert_string_equal(f.cursor_id, "id199");
	assert_int_equal(f.lo_us, now - 900LL * 1000000);   /* the start stays while reading */
	assert_false(team_feed_took(&f, batch, 3));
	assert_string_equal(f.cursor_id, "id2");
	assert_false(f.want);
	assert_int_equal(f.lo_us, now - TEAM_OVERLAP_US);
	assert_int_equal(f.rows, TEAM_BATCH + 3);
	team_feed_rows_params(&f, 256, buf, rv);
	assert_string_equal(rv[2], "id2");

	team_feed_clock(&f, now + 5000000, -1, 900);         /* nothing flagged: the start moves on */
	assert_false(team_feed_decide(&f));
	assert_int_equal(f.lo_us, now + 5000000 - TEAM_OVERLAP_US);
	team_feed_clock(&f, now + 4000000, 0, 900);          /* never back */
	assert_false(team_feed_decide(&f));
	assert_int_equal(f.lo_us, now + 5000000 - TEAM_OVERLAP_US);
	team_feed_clock(&f, now + 9000000, -1, 900);         /* the dashboard's rows flag one: read it */
	team_feed_flagged(&f);
	assert_true(team_feed_decide(&f));
	assert_int_equal(f.lo_us, now + 5000000 - TEAM_OVERLAP_US);
	assert_false(team_feed_took(&f, batch, 0));          /* read: the start moves on */
	assert_int_equal(f.lo_us, now + 9000000 - TEAM_OVERLAP_US);
	team_feed_clock(&f, now + 9500000, 1, 900);          /* scoped: CLOCK found one */
	assert_true(team_feed_decide(&f));
	team_feed_failed(&f, "canceling statement due to statement timeout");
	assert_false(f.want);
	assert_int_equal(f.lo_us, now + 9500000 - TEAM_OVERLAP_US);
	assert_non_null(strstr(f.error, "statement timeout"));
	team_feed_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_own),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_feed_cursor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
