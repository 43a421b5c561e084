/* A moment as an operator types it (when.c), in a fixed zone: relative
 * times, a clock time today or last night, yesterday, ISO 8601 with and
 * without a zone, and every mistake refused with a hint. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "when.h"

/* 2026-12-06 12:00:00 UTC, 13:00 in CET */
#define NOW ((time_t)1796558400)

static time_t parsed(const char *s)
{
	time_t t = 0;
	char err[200];
	if (when_parse(s, NOW, &t, err, sizeof err) != 0)
		fail_msg("'%s' refused: %s", s, err);
	return t;
}

static void refused(const char *s)
{
	time_t t;
	char err[200] = "";
	if (when_parse(s, NOW, &t, err, sizeof err) == 0)
		fail_msg("'%s' accepted", s);
	assert_non_null(strstr(err, "2h ago"));
}

static void test_relative(void **state)
{
	(void)state;
	assert_int_equal(parsed("2h ago"), NOW - 7200);
	assert_int_equal(parsed("2 hours ago"), NOW - 7200);
	assert_int_equal(parsed(" 90m ago "), NOW - 5400);
	assert_int_equal(parsed("1d ago"), NOW - 86400);
	assert_int_equal(parsed("30 seconds ago"), NOW - 30);
	assert_int_equal(parsed("1 week ago"), NOW - 604800);
	assert_int_equal(parsed("now"), NOW);
}

static void test_clock_times_are_local(void **state)
{
	(void)state;
	/* CET: 03:10 local is 02:10 UTC, today (before 13:00 local) */
	assert_int_equal(parsed("03:10"), NOW - 12 * 3600 + 2 * 3600 + 600);
	/* 14:00 local is later than 13:00 local: yesterday's */
	assert_int_equal(parsed("14:00"), NOW - 86400 + 3600);
	assert_int_equal(parsed("yesterday 14:00"), NOW - 86400 + 3600);
	assert_int_equal(parsed("today 09:30:15"), NOW - 12 * 3600 + 8 * 3600 + 1800 + 15);
}

static void test_iso8601(void **state)
{
	(void)state;
	assert_int_equal(parsed("2026-12-06T02:15:00Z"), NOW - 9 * 3600 - 45 * 60);
	assert_int_equal(parsed("2026-12-06T02:15Z"), NOW - 9 * 3600 - 45 * 60);
	assert_int_equal(parsed("2026-12-06T03:15+01:00"), NOW - 9 * 3600 - 45 * 60);
	assert_int_equal(parsed("2026-12-06T01:15:00.250-0100"), NOW - 9 * 3600 - 45 * 60);
	/* no zone: local (CET) */
	assert_int_equal(parsed("2026-12-06 03:15"), NOW - 9 * 3600 - 45 * 60);
	assert_int_equal(parsed("2026-12-06"), NOW - 13 * 3600);
	/* summer time is local time too: 2026-07-01 12:00 CEST is 10:00 UTC */
	assert_int_equal(parsed("2026-07-01T12:00"), (time_t)1782900000);
}

static void test_mistakes(void **state)
{
	(void)state;
	refused("");
	refused("yesterday");
	refused("25:00");
	refused("12:60");
	refused("2h");
	refused("-2h ago");
	refused("2 fortnights ago");
	refused("2026-13-01T00:00Z");
	refused("2026-12-06T02:15:00Q");
	refused("2026-12-06T02:15:00Z junk");
	refused("03:10; DROP TABLE audit_log");
}

static void test_period(void **state)
{
	char buf[64];
	(void)state;
	when_period(buf, sizeof buf, NOW - 900, NOW, NOW, false);
	assert_string_equal(buf, "12:45\u201313:00");
	when_period(buf, sizeof buf, NOW - 86400, NOW - 86400 + 900, NOW, true);
	assert_string_equal(buf, "12-05 13:00-13:15");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_clock_times_are_local),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_period),
	};
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
