/* Networks and the allow-list: strict CIDR parsing (host bits, prefix
 * lengths, shorthand refused), membership for both families and for an
 * IPv4-mapped address, entries with until= and note=, and the allow-file
 * read again when it changes, its last good entries kept when it breaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"
#include "conf.h"
#include "ipnet.h"

static void test_networks(void **state)
{
	struct ipnet n;
	char err[200], out[IPNET_LEN];
	(void)state;
	assert_int_equal(ipnet_parse("203.0.113.0/24", false, &n, err, sizeof err), 0);
	ipnet_format(&n, out, sizeof out);
	assert_string_equal(out, "203.0.113.0/24");
	assert_true(ipnet_contains(&n, "203.0.113.255"));
	assert_true(ipnet_contains(&n, "::ffff:203.0.113.9"));
	assert_false(ipnet_contains(&n, "203.0.114.0"));
	assert_false(ipnet_contains(&n, "2001:db8::1"));
	assert_int_equal(ipnet_parse("2001:DB8:bad::/48", false, &n, err, sizeof err), 0);
	ipnet_format(&n, out, sizeof out);
	assert_string_equal(out, "2001:db8:bad::/48");
	assert_true(ipnet_contains(&n, "2001:db8:bad:ffff::1"));
	assert_false(ipnet_contains(&n, "2001:db8:bae::1"));
	assert_int_equal(ipnet_size(&n), 1ULL << 63);

	assert_int_equal(ipnet_parse("203.0.113.7/24", false, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "203.0.113.0/24"));     /* the network it probably means */
	const char *bad[] = { "203.0.113.0/33", "203.0.113.0/", "203.0.113.0/-1", "203.0.113.0/024",
	                      "10.1/8", "0x7f.0.0.0/8", "2001:db8::/129", "a/24", "", "203.0.113.0/+8" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ipnet_parse(bad[i], false, &n, err, sizeof err), -1);
	assert_int_equal(ipnet_parse("203.0.113.7", false, &n, err, sizeof err), -1);
	assert_int_equal(ipnet_parse("203.0.113.7", true, &n, err, sizeof err), 0);
	assert_int_equal(n.prefix, 32);

	assert_int_equal(ipnet_of("198.51.100.77", 24, 64, &n), 0);
	ipnet_format(&n, out, sizeof out);
	assert_string_equal(out, "198.51.100.0/24");
	assert_int_equal(ipnet_of("2001:db8:1:2:3:4:5:6", 24, 64, &n), 0);
	ipnet_format(&n, out, sizeof out);
	assert_string_equal(out, "2001:db8:1:2::/64");
	assert_int_equal(ipnet_of("not one", 24, 64, &n), -1);
}

static void test_entries(void **state)
{
	struct allow_entry e;
	char err[200], d[300];
	(void)state;
	assert_int_equal(allow_entry_parse("192.0.2.0/28 until=2030-01-01 note=Berlin office VPN", &e, err, sizeof err), 0);
	assert_string_equal(e.note, "Berlin office VPN");
	assert_true(e.until_s > 1800000000);
	snprintf(e.where, sizeof e.where, "allow setting 1");
	allow_entry_describe(&e, d, sizeof d);
	assert_string_equal(d, "192.0.2.0/28 (allow setting 1, note: Berlin office VPN, until 2030-01-01T00:00:00Z)");
	assert_int_equal(allow_entry_parse("198.51.100.7", &e, err, sizeof err), 0);  /* one address */
	assert_int_equal(e.net.prefix, 32);
	assert_int_equal(allow_entry_parse("192.0.2.0/28 until=7d", &e, err, sizeof err), -1);
	assert_int_equal(allow_entry_parse("192.0.2.0/28 owner=bob", &e, err, sizeof err), -1);
	assert_int_equal(allow_entry_parse("", &e, err, sizeof err), -1);
}

static void test_match_and_expiry(void **state)
{
	struct config c;
	struct allowlist a;
	char err[200];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "allow", "203.0.113.0/24 note=partner", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "allow", "2001:db8::/32 until=2020-01-01", err, sizeof err), 0);
	assert_int_equal(allowlist_init(&a, &c, err, sizeof err), 0);
	const struct allow_entry *e = allowlist_match(&a, "203.0.113.9", 1800000000);
	assert_non_null(e);
	assert_string_equal(e->note, "partner");
	assert_null(allowlist_match(&a, "2001:db8::1", 1800000000));    /* past its until */
	assert_non_null(allowlist_match(&a, "2001:db8::1", 1500000000));
	assert_null(allowlist_match(&a, "198.51.100.1", 1800000000));
	allowlist_free(&a);
	assert_int_equal(conf_set(&c, "allow", "203.0.113.7/24", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), -1);       /* host bits: stop, exit 2 */
	conf_free(&c);
}

static void write_file(const char *path, const char *text)
{
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static void test_file_reloaded(void **state)
{
	char dir[] = "/tmp/sectop-allow-XXXXXX", path[300], err[300];
	struct config c;
	struct allowlist a;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/allow", dir);
	write_file(path, "# offices\n198.51.100.0/24 note=HQ\n\n2001:db8:1::/48   # a monitor\n");
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "allow", "192.0.2.1", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "allow-file", path, err, sizeof err), 0);
	assert_int_equal(allowlist_init(&a, &c, err, sizeof err), 0);
	assert_int_equal(a.n, 3);
	const struct allow_entry *e = allowlist_match(&a, "198.51.100.4", 1800000000);
	assert_non_null(e);
	assert_non_null(strstr(e->where, "allow:2"));
	assert_non_null(allowlist_match(&a, "2001:db8:1:5::1", 1800000000));

	write_file(path, "203.0.113.0/24\n");
	allowlist_refresh(&a);
	assert_string_equal(a.error, "");
	assert_null(allowlist_match(&a, "198.51.100.4", 1800000000));
	assert_non_null(allowlist_match(&a, "203.0.113.4", 1800000000));
	assert_non_null(allowlist_match(&a, "192.0.2.1", 1800000000));  /* the configuration's stays */

	write_file(path, "203.0.113.0/24\nnot a network\n");
	allowlist_refresh(&a);
	assert_non_null(strstr(a.error, ":2:"));
	assert_non_null(allowlist_match(&a, "203.0.113.4", 1800000000)); /* the last good entries */
	unlink(path);
	allowlist_refresh(&a);
	assert_non_null(strstr(a.error, "No such file"));
	assert_non_null(allowlist_match(&a, "203.0.113.4", 1800000000));
	allowlist_free(&a);
	assert_int_equal(allowlist_init(&a, &c, err, sizeof err), -1);   /* missing at start: stop */
	conf_free(&c);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_match_and_expiry),
		cmocka_unit_test(test_file_reloaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
