/* The pure part of a range block: what is a range (only text with a '/'),
 * the width limits (/16 for IPv4, /48 for IPv6, refused past them with a
 * message), host bits refused, and each failing address taken or skipped
 * with why: outside the range, allow-listed (naming the entry), the
 * operator's own, private or loopback, not a source at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "allowlist.h"
#include "conf.h"
#include "iprange.h"

static void test_is_range(void **state)
{
	(void)state;
	assert_true(iprange_is_range("203.0.113.0/24"));
	assert_true(iprange_is_range("2001:db8:bad::/64"));
	assert_true(iprange_is_range("/"));
	assert_false(iprange_is_range("203.0.113.7"));
	assert_false(iprange_is_range("2001:db8::7"));
	assert_false(iprange_is_range(""));
	assert_false(iprange_is_range(NULL));
}

static void test_widths(void **state)
{
	struct ipnet n;
	char err[300], out[IPNET_LEN];
	(void)state;
	assert_int_equal(iprange_parse("203.0.113.0/24", &n, err, sizeof err), 0);
	assert_int_equal(iprange_parse("198.51.0.0/16", &n, err, sizeof err), 0);
	assert_int_equal(iprange_parse("203.0.113.9/32", &n, err, sizeof err), 0);
	assert_int_equal(iprange_parse("2001:DB8:BAD::/64", &n, err, sizeof err), 0);
	ipnet_format(&n, out, sizeof out);
	assert_string_equal(out, "2001:db8:bad::/64");
	assert_int_equal(iprange_parse("2001:db8:bad::/48", &n, err, sizeof err), 0);

	assert_int_equal(iprange_parse("198.0.0.0/15", &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "wider than a /16"));
	assert_int_equal(iprange_parse("10.0.0.0/8", &n, err, sizeof err), -1);
	assert_int_equal(iprange_parse("0.0.0.0/0", &n, err, sizeof err), -1);
	assert_int_equal(iprange_parse("2001:db8::/47", &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "wider than a /48"));
	assert_int_equal(iprange_parse("2001:db8::/32", &n, err, sizeof err), -1);

	/* a range is written strictly: no host bits, no shorthand, no address alone */
	assert_int_equal(iprange_parse("203.0.113.7/24", &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "the network is 203.0.113.0/24"));
	const char *bad[] = { "203.0.113.7", "10.1/16", "010.0.0.0/16", "0x7f.0.0.0/16", "203.0.113.0/",
	                      "203.0.113.0/24/24", "203.0.113.0/ 24", "fe80::/64%eth0", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(iprange_parse(bad[i], &n, err, sizeof err), -1);
}

static void test_members(void **state)
{
	struct config c;
	struct allowlist a;
	struct ipnet n;
	char err[300], why[400];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "allow", "203.0.113.8/29 note=partner", err, sizeof err), 0);
	assert_int_equal(allowlist_init(&a, &c, err, sizeof err), 0);

	assert_int_equal(iprange_parse("203.0.113.0/24", &n, err, sizeof err), 0);
	assert_int_equal(iprange_member(&n, "203.0.113.5", &a, 1800000000, "", why, sizeof why), RANGE_TAKE);
	assert_string_equal(why, "");
	assert_int_equal(iprange_member(&n, "203.0.114.5", &a, 1800000000, "", why, sizeof why), RANGE_OUTSIDE);
	assert_int_equal(iprange_member(&n, "2001:db8::5", &a, 1800000000, "", why, sizeof why), RANGE_OUTSIDE);
	assert_int_equal(iprange_member(&n, "203.0.113.05", &a, 1800000000, "", why, sizeof why), RANGE_OUTSIDE);
	assert_int_equal(iprange_member(&n, "203.0.113.9", &a, 1800000000, "", why, sizeof why), RANGE_ALLOWED);
	assert_non_null(strstr(why, "allow-listed by 203.0.113.8/29 (allow setting 1, note: partner)"));
	assert_int_equal(iprange_member(&n, "203.0.113.200", &a, 1800000000, "203.0.113.200", why, sizeof why),
	                 RANGE_OWN);
	assert_non_null(strstr(why, "your own"));
	assert_int_equal(iprange_member(&n, "203.0.113.200", NULL, 1800000000, NULL, why, sizeof why), RANGE_TAKE);

	assert_int_equal(iprange_parse("10.1.0.0/16", &n, err, sizeof err), 0);
	assert_int_equal(iprange_member(&n, "10.1.2.3", &a, 1800000000, "", why, sizeof why), RANGE_LOCAL);
	assert_non_null(strstr(why, "a private address"));
	assert_int_equal(iprange_parse("127.0.0.0/16", &n, err, sizeof err), 0);
	assert_int_equal(iprange_member(&n, "127.0.0.1", &a, 1800000000, "", why, sizeof why), RANGE_LOCAL);
	assert_int_equal(iprange_parse("255.255.0.0/16", &n, err, sizeof err), 0);
	assert_int_equal(iprange_member(&n, "255.255.255.255", &a, 1800000000, "", why, sizeof why),
	                 RANGE_NOT_SOURCE);
	assert_int_equal(iprange_parse("2001:db8:bad::/64", &n, err, sizeof err), 0);
	assert_int_equal(iprange_member(&n, "2001:db8:bad::1", &a, 1800000000, "", why, sizeof why), RANGE_TAKE);
	assert_int_equal(iprange_member(&n, "2001:db8:bad:1::1", &a, 1800000000, "", why, sizeof why), RANGE_OUTSIDE);
	allowlist_free(&a);
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_range),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
