/* Runbook files: the format, every mistake reported with its line, and the
 * shipped runbooks parse and cover the response plan. */
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
#include "runbook.h"

static void parses(const char *text, struct runbook *rb)
{
	char err[300];
	if (runbook_parse(rb, "t", text, strlen(text), err, sizeof err) != 0)
		fail_msg("refused: %s", err);
}

static void refused(const char *text, const char *why)
{
	struct runbook rb;
	char err[300];
	assert_int_equal(runbook_parse(&rb, "t", text, strlen(text), err, sizeof err), -1);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
	runbook_free(&rb);
}

static void test_format(void **state)
{
	struct runbook rb;
	(void)state;
	parses("# a comment\r\n"
	       "title: Brute force\n"
	       "summary:  many failures \n"
	       "\n"
	       "phase: detection\n"
	       "step: Look at the addresses.\n"
	       "  show: ips\n"
	       "  One or a few addresses.\n"
	       "\tSecond line.\n"
	       "phase: containment\n"
	       "step: Block it.\n"
	       "  action: block ttl=1h reason=\"brute force, again\"\n"
	       "phase: post-incident\n"
	       "step: Rotate.\n"
	       "  action: rotate secret=db-main\n", &rb);
	assert_string_equal(rb.title, "Brute force");
	assert_string_equal(rb.summary, "many failures");
	assert_int_equal(rb.n_steps, 3);
	assert_int_equal(rb.steps[0].phase, RB_DETECTION);
	assert_int_equal(rb.steps[0].show, RB_SHOW_IPS);
	assert_string_equal(rb.steps[0].text, "One or a few addresses.\nSecond line.");
	assert_int_equal(rb.steps[1].phase, RB_CONTAINMENT);
	assert_int_equal(rb.steps[1].action, RB_ACT_BLOCK);
	assert_int_equal(rb.steps[1].ttl_s, 3600);
	assert_string_equal(rb.steps[1].reason, "brute force, again");
	assert_null(rb.steps[1].text);
	assert_int_equal(rb.steps[2].phase, RB_POST_INCIDENT);
	assert_int_equal(rb.steps[2].action, RB_ACT_ROTATE);
	assert_string_equal(rb.steps[2].secret, "db-main");
	runbook_free(&rb);
}

static void test_mistakes(void **state)
{
	(void)state;
	refused("phase: detection\nstep: x\n", "line 3: no 'title:'");
	refused("title: t\n", "no 'step:'");
	refused("title: t\nstep: x\n", "line 2: a step belongs to a phase");
	refused("title: t\nphase: triage\n", "line 2: unknown phase 'triage'");
	refused("title: t\nphase: containment\nstep: a\nphase: detection\n",
	        "line 4: phase 'detection' comes before 'containment'");
	refused("title: t\nphase: detection\nstep: a\n  show: everything\n", "line 4: unknown view");
	refused("title: t\nphase: detection\nstep: a\n  action: delete\n", "unknown action 'delete'");
	refused("title: t\nphase: detection\nstep: a\n  action: block ttl=0s\n", "ttl '0s'");
	refused("title: t\nphase: detection\nstep: a\n  action: block ttl=forever\n", "ttl 'forever'");
	refused("title: t\nphase: detection\nstep: a\n  action: block colour=red\n", "unknown action option 'colour'");
	refused("title: t\nphase: detection\nstep: a\n  action: block reason=\"open\n", "unterminated quote");
	refused("title: t\nphase: detection\nstep: a\n  action: block\n  action: unblock\n", "one action");
	refused("title: t\nphase: detection\nstep:   \n", "needs a title");
	refused("  indented first\n", "line 1: an indented line belongs to a step");
	refused("title: t\ntitle: u\n", "line 2: a second 'title:'");
	refused("title: t\nowner: me\n", "unknown field 'owner'");
	refused("just words\n", "line 1: expected");
	struct runbook rb;
	char err[100];
	assert_int_equal(runbook_parse(&rb, "t", "title: t\0\n", 10, err, sizeof err), -1);
	assert_non_null(strstr(err, "NUL"));
	runbook_free(&rb);
}

/* Hostile text is kept as written: the console sanitises what it draws. */
static void test_hostile_text_kept(void **state)
{
	struct runbook rb;
	(void)state;
	parses("title: \x1b[31mred\x1b[0m\nphase: detection\nstep: \xe2\x80\xae" "evil\n  \x07 bell\n", &rb);
	assert_string_equal(rb.title, "\x1b[31mred\x1b[0m");
	assert_string_equal(rb.steps[0].title, "\xe2\x80\xae" "evil");
	runbook_free(&rb);
}

static void test_shipped(void **state)
{
	static const char *const names[] = { "brute-force", "compromised-key", "leaked-secret",
	                                     "health-degradation" };
	struct config cfg;
	struct runbook_entry *list;
	(void)state;
	const char *src = getenv("top_srcdir");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/runbooks", src ? src : ".");
	conf_defaults(&cfg);
	setenv("SECTOP_RUNBOOK_DIR", dir, 1);
	size_t n = runbook_list(&cfg, &list);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct runbook rb;
		char err[400];
		bool phase_seen[RB_PHASES] = { 0 }, action = false;
		if (runbook_find(&cfg, names[i], &rb, err, sizeof err) != 0)
			fail_msg("%s", err);
		for (size_t s = 0; s < rb.n_steps; s++) {
			phase_seen[rb.steps[s].phase] = true;
			action |= rb.steps[s].action != RB_ACT_NONE;
		}
		for (int p = 0; p < RB_PHASES; p++)
			if (!phase_seen[p])
				fail_msg("%s has no %s step", names[i], rb_phase_name((enum rb_phase)p));
		assert_true(action);
		bool in_list = false;
		for (size_t k = 0; k < n; k++)
			in_list |= strcmp(list[k].name, names[i]) == 0 && list[k].title && !list[k].error;
		assert_true(in_list);
		runbook_free(&rb);
	}
	char err[300];
	struct runbook rb;
	assert_int_equal(runbook_find(&cfg, "../etc/passwd", &rb, err, sizeof err), -1);
	assert_non_null(strstr(err, "a name, not a path"));
	assert_int_equal(runbook_find(&cfg, "no-such", &rb, err, sizeof err), -1);
	assert_non_null(strstr(err, "no runbook 'no-such'"));
	runbook_list_free(list, n);
	conf_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_hostile_text_kept),
		cmocka_unit_test(test_shipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
