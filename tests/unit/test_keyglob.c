/* keyglob, walkpos and the keyspace-event flags: the pure logic behind the
 * paced walk and the subscription. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "keyglob.h"
#include "redis_events.h"
#include "walkpos.h"

static void check_prefix(const char *head, const char *prefix, size_t len, const char *want, size_t want_len)
{
	size_t n;
	char *p = keyglob_prefix(head, prefix, len, &n);
	assert_non_null(p);
	assert_int_equal(n, want_len);
	assert_memory_equal(p, want, want_len);
	free(p);
}

static void test_prefix_escapes(void **state)
{
	(void)state;
	check_prefix("", "blocked:", 8, "blocked:*", 9);
	check_prefix("", "bl*ck[ed]?:", 11, "bl\\*ck\\[ed\\]\\?:*", 16);
	check_prefix("", "a\\b", 3, "a\\\\b*", 5);
	/* '^' and '-' are only special inside a class: left alone outside */
	check_prefix("", "^-", 2, "^-*", 3);
	/* binary-safe: a NUL byte and high bytes are carried by length */
	check_prefix("", "x\0\xff", 3, "x\0\xff*", 4);
	check_prefix("__keyspace@3__:", "blocked:", 8, "__keyspace@3__:blocked:*", 24);
}

static void check_union(const char *const *p, size_t n, const char *want)
{
	size_t len[4], out;
	for (size_t i = 0; i < n; i++)
		len[i] = strlen(p[i]);
	char *u = keyglob_union(p, len, n, &out);
	assert_non_null(u);
	assert_string_equal(u, want);
	assert_int_equal(out, strlen(want));
	free(u);
}

static void test_union(void **state)
{
	(void)state;
	static const char *const one[] = { "blocked:" };
	check_union(one, 1, "blocked:*");
	static const char *const three[] = { "blocked:", "failed_auth:", "ratelimit:" };
	/* up to the shortest prefix (8 bytes), each position a class */
	check_union(three, 3, "[bfr][al][iot][cel][ekl][dei][_dm][:ai]*");
	static const char *const same[] = { "drill:blocked:", "drill:failed_auth:" };
	check_union(same, 2, "drill:[bf][al][io][cl][ek][de][_d][:a]*");
	/* a class member that is class syntax is escaped */
	static const char *const hostile[] = { "a]", "a^", "a-", "a\\" };
	check_union(hostile, 4, "a[\\-\\\\\\]\\^]*");
	/* glob characters where all agree: escaped as outside a class */
	static const char *const star[] = { "*x", "*y" };
	check_union(star, 2, "\\*[xy]*");
	assert_null(keyglob_union(NULL, NULL, 0, &(size_t){ 0 }));
}

static void test_fraction(void **state)
{
	(void)state;
	assert_true(walk_fraction("0") == 0.0);
	/* reverse-binary: the top bit first */
	assert_true(walk_fraction("1") == 0.5);
	assert_true(walk_fraction("2") == 0.25);
	assert_true(walk_fraction("3") == 0.75);
	assert_true(walk_fraction("18446744073709551615") > 0.999);
	assert_true(walk_fraction("x") == 0.0);
	assert_true(walk_fraction("12x") == 0.0);
	assert_true(walk_fraction("99999999999999999999999") == 0.0);
	assert_true(walk_fraction(NULL) == 0.0);
}

static void test_event_flags(void **state)
{
	(void)state;
	assert_false(revents_flags_enough(""));
	assert_false(revents_flags_enough(NULL));
	assert_true(revents_flags_enough("KA"));
	assert_true(revents_flags_enough("AK"));
	assert_true(revents_flags_enough("K$gx"));
	assert_true(revents_flags_enough("gxK$e"));
	assert_false(revents_flags_enough("E$gx"));    /* keyevent channel only */
	assert_false(revents_flags_enough("K$g"));     /* no expiry */
	assert_false(revents_flags_enough("Kgx"));     /* no string set */
	assert_false(revents_flags_enough("EA"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_escapes),
		cmocka_unit_test(test_union),
		cmocka_unit_test(test_fraction),
		cmocka_unit_test(test_event_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
