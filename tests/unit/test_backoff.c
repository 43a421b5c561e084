/* Reconnect backoff: grows, is capped, is jittered, resets. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backoff.h"

static void test_grows_within_jitter_bounds(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 100, 10000, 42);
	int64_t expect = 100;
	for (int i = 0; i < 6; i++) {
		int64_t d = backoff_next(&b);
		assert_true(d >= expect / 2);
		assert_true(d <= expect);
		expect *= 2;
	}
}

static void test_capped(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 250, 30000, 7);
	for (int i = 0; i < 200; i++) {
		int64_t d = backoff_next(&b);
		assert_true(d <= 30000);
		assert_true(d >= 125);
	}
	/* long after the cap, still within [cap/2, cap] */
	int64_t d = backoff_next(&b);
	assert_true(d >= 15000);
}

static void test_jitter_differs_between_clients(void **state)
{
	struct backoff a, b;
	int same = 0;
	(void)state;
	backoff_init(&a, 1000, 60000, 1);
	backoff_init(&b, 1000, 60000, 2);
	for (int i = 0; i < 10; i++)
		same += backoff_next(&a) == backoff_next(&b);
	assert_true(same < 3);
}

static void test_reset(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 100, 10000, 3);
	for (int i = 0; i < 8; i++)
		backoff_next(&b);
	backoff_reset(&b);
	assert_true(backoff_next(&b) <= 100);
}

static void test_bad_arguments_are_tamed(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 0, -5, 0);
	int64_t d = backoff_next(&b);
	assert_true(d >= 0 && d <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_within_jitter_bounds),
		cmocka_unit_test(test_capped),
		cmocka_unit_test(test_jitter_differs_between_clients),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_arguments_are_tamed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
