/* Column widths from what the columns hold (ui/fit.c): each column as wide
 * as its longest value, the room left to the flex column, the least
 * important columns dropped first on a narrow terminal, and the widths of
 * untrusted strings taken as shown (sanitised). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "fit.h"

/* address, fail, req, users, AS organisation (flex) */
static void cols(struct fit_col *c)
{
	memset(c, 0, 5 * sizeof *c);
	c[0] = (struct fit_col){ .want = 15, .keep = true };       /* "203.0.113.45": as wide as the longest */
	c[1] = (struct fit_col){ .want = 5 };
	c[2] = (struct fit_col){ .want = 6 };
	c[3] = (struct fit_col){ .want = 5 };
	c[4] = (struct fit_col){ .want = 20, .min = 10, .flex = true };
}

static void test_room_left_goes_to_the_flex_column(void **state)
{
	struct fit_col c[5];
	int w[5];
	(void)state;
	cols(c);
	/* 15+5+6+5+20 and four gaps: 55; at 200 the flex column takes the rest */
	assert_int_equal(fit_columns(c, 5, 200, 1, w), 200);
	assert_int_equal(w[0], 15);          /* not stretched: as wide as its longest value */
	assert_int_equal(w[1], 5);
	assert_int_equal(w[4], 200 - 55 + 20);
}

static void test_without_flex_the_rest_stays_free(void **state)
{
	struct fit_col c[5];
	int w[5];
	(void)state;
	cols(c);
	c[4].flex = false;
	assert_int_equal(fit_columns(c, 5, 200, 1, w), 55);
	assert_int_equal(w[0], 15);
	assert_int_equal(w[4], 20);
}

static void test_flex_shrinks_before_columns_go(void **state)
{
	struct fit_col c[5];
	int w[5];
	(void)state;
	cols(c);
	assert_int_equal(fit_columns(c, 5, 50, 1, w), 50);
	assert_int_equal(w[4], 15);          /* gave 5 */
	assert_int_equal(w[3], 5);
	assert_int_equal(fit_columns(c, 5, 45, 1, w), 45);
	assert_int_equal(w[4], 10);          /* at its least */
}

static void test_narrow_drops_from_the_right(void **state)
{
	struct fit_col c[5];
	int w[5];
	(void)state;
	cols(c);
	/* 15+5+6+5 and three gaps: 34, no room for the flex column at its least */
	assert_int_equal(fit_columns(c, 5, 40, 1, w), 34);
	assert_int_equal(w[4], 0);
	assert_int_equal(w[3], 5);
	assert_int_equal(fit_columns(c, 5, 30, 1, w), 28);
	assert_int_equal(w[3], 0);
	assert_int_equal(w[2], 6);
	/* the kept column is cut last, never dropped */
	assert_int_equal(fit_columns(c, 5, 10, 1, w), 10);
	assert_int_equal(w[0], 10);
	assert_int_equal(w[1], 0);
}

static void test_want_and_shown_width(void **state)
{
	struct fit_col c = { .want = 7 };     /* its title: "address" */
	(void)state;
	fit_want(&c, 3);
	assert_int_equal(c.want, 7);
	fit_want(&c, (int)strlen("2001:db8:bad::7"));
	assert_int_equal(c.want, 15);
	/* an escape is shown as the four characters \x1b: its width as shown */
	assert_int_equal(fit_shown_width("AS\x1b[31m", false), 2 + 4 + 4);
	assert_int_equal(fit_shown_width(NULL, false), 0);
	assert_int_equal(fit_shown_width("\xc3\xa9t\xc3\xa9", false), 3);
	assert_int_equal(fit_shown_width("\xc3\xa9t\xc3\xa9", true), 8 + 1 + 8);   /* <U+00E9>t<U+00E9> */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_left_goes_to_the_flex_column),
		cmocka_unit_test(test_without_flex_the_rest_stays_free),
		cmocka_unit_test(test_flex_shrinks_before_columns_go),
		cmocka_unit_test(test_narrow_drops_from_the_right),
		cmocka_unit_test(test_want_and_shown_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
