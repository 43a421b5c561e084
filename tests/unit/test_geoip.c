/* geoip: country and AS from MaxMind DB files the test builds with Debian's
 * libmaxmind-db-writer-perl (tests/fixtures/make_mmdb.pl): IPv4, IPv6, an
 * address in no network, "no database" apart from "not in the database",
 * and an organisation name kept raw for the sanitiser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoip.h"

static char dir[] = "/tmp/sectop-geoip-XXXXXX";
static char country[64], asn[64];

static int build_fixtures(void **state)
{
	const char *src = getenv("top_srcdir");
	char cmd[512];
	(void)state;
	if (!geoip_supported())
		return 0;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof cmd, "perl '%s/tests/fixtures/make_mmdb.pl' test %s", src ? src : "..", dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(country, sizeof country, "%s/country.mmdb", dir);
	snprintf(asn, sizeof asn, "%s/asn.mmdb", dir);
	return 0;
}

static int remove_fixtures(void **state)
{
	(void)state;
	unlink(country);
	unlink(asn);
	rmdir(dir);
	return 0;
}

static struct geoip *open_both(void)
{
	char *files[] = { country, asn };
	char err[256] = "";
	struct geoip *g = geoip_open(files, 2, err, sizeof err);
	assert_string_equal(err, "");
	assert_non_null(g);
	return g;
}

static void test_ipv4_and_ipv6(void **state)
{
	struct geo_info gi;
	(void)state;
	if (!geoip_supported())
		skip();
	struct geoip *g = open_both();
	geoip_lookup(g, "203.0.113.45", &gi);
	assert_int_equal(gi.state, GEO_FOUND);
	assert_string_equal(gi.country, "NL");
	assert_int_equal(gi.asn, 64500);
	/* kept raw: the sanitiser, not the lookup, makes it inert */
	assert_string_equal(gi.as_org, "Example Hosting \033[31mB.V.\033]0;owned\a");
	geoip_lookup(g, "2001:db8:bad::1", &gi);
	assert_int_equal(gi.state, GEO_FOUND);
	assert_string_equal(gi.country, "DE");
	assert_int_equal(gi.asn, 64502);
	assert_non_null(strstr(gi.as_org, "\xe2\x80\xae"));
	geoip_close(g);
}

static void test_absent_apart_from_unknown(void **state)
{
	struct geo_info gi;
	(void)state;
	if (!geoip_supported())
		skip();
	struct geoip *g = open_both();
	geoip_lookup(g, "192.0.2.7", &gi);
	assert_int_equal(gi.state, GEO_NOT_FOUND);
	assert_string_equal(gi.country, "");
	assert_int_equal(gi.asn, 0);
	geoip_lookup(g, "not an address", &gi);          /* nothing is resolved */
	assert_int_equal(gi.state, GEO_NOT_FOUND);
	geoip_lookup(g, NULL, &gi);
	assert_int_equal(gi.state, GEO_NOT_FOUND);
	geoip_close(g);
	geoip_lookup(NULL, "203.0.113.45", &gi);         /* no database configured */
	assert_int_equal(gi.state, GEO_NO_DB);
}

static void test_one_database_says_what_it_knows(void **state)
{
	struct geo_info gi;
	char *files[] = { asn };
	char err[256] = "";
	(void)state;
	if (!geoip_supported())
		skip();
	struct geoip *g = geoip_open(files, 1, err, sizeof err);
	geoip_lookup(g, "198.51.100.9", &gi);
	assert_int_equal(gi.state, GEO_FOUND);
	assert_string_equal(gi.country, "");
	assert_int_equal(gi.asn, 64501);
	geoip_close(g);
}

static void test_a_bad_file_is_named(void **state)
{
	char *files[] = { country, (char *)"/nonexistent/GeoLite2-ASN.mmdb" };
	char err[256] = "";
	(void)state;
	assert_null(geoip_open(files, 2, err, sizeof err));
	assert_non_null(strstr(err, geoip_supported() ? "/nonexistent/GeoLite2-ASN.mmdb" : "libmaxminddb"));
	assert_null(geoip_open(files, 0, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_and_ipv6),
		cmocka_unit_test(test_absent_apart_from_unknown),
		cmocka_unit_test(test_one_database_says_what_it_knows),
		cmocka_unit_test(test_a_bad_file_is_named),
	};
	return cmocka_run_group_tests(tests, build_fixtures, remove_fixtures);
}
