/* Addresses an operator types: the normal form, and every malformed form
 * refused with its reason. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"

static void ok(const char *in, const char *want)
{
	char out[IPADDR_LEN], err[200];
	if (ipaddr_normalize(in, out, sizeof out, err, sizeof err) != 0)
		fail_msg("%s refused: %s", in, err);
	assert_string_equal(out, want);
}

static void refused(const char *in, const char *why)
{
	char out[IPADDR_LEN], err[200];
	assert_int_equal(ipaddr_normalize(in, out, sizeof out, err, sizeof err), -1);
	if (!strstr(err, why))
		fail_msg("%s: '%s' does not say '%s'", in, err, why);
}

static void test_normal_forms(void **state)
{
	(void)state;
	ok("203.0.113.7", "203.0.113.7");
	ok("2001:DB8::1", "2001:db8::1");
	ok("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	ok("::1", "::1");
	ok("::ffff:1.2.3.4", "1.2.3.4");              /* IPv4-mapped: one form, the IPv4 one */
	ok("::FFFF:0102:0304", "1.2.3.4");
	ok("0.0.0.0", "0.0.0.0");
}

static void test_malformed_forms(void **state)
{
	(void)state;
	refused("", "no address");
	refused("10.1", "shorthand");
	refused("10.0.1", "shorthand");
	refused("1.2.3.4.5", "shorthand");
	refused("010.0.0.1", "leading zero");
	refused("10.0.0.01", "leading zero");
	refused("0x7f.0.0.1", "hexadecimal");
	refused("256.1.1.1", "out of range");
	refused("1.2.3.999", "out of range");
	refused("10.0.0.0/8", "CIDR");
	refused("2001:db8::/32", "CIDR");
	refused("fe80::1%eth0", "zone");
	refused("2001:db8:::1", "IPv6");
	refused("1.2.3.4 ", "only digits");
	refused("example.com", "only digits");
	refused("1.2.3.4\n", "only digits");
	refused("12345678901234567890123456789012345678901234567890", "too long");
}

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(ipaddr_class("127.0.0.1"), IP_LOOPBACK);
	assert_int_equal(ipaddr_class("::1"), IP_LOOPBACK);
	assert_int_equal(ipaddr_class("10.1.2.3"), IP_PRIVATE);
	assert_int_equal(ipaddr_class("172.16.0.1"), IP_PRIVATE);
	assert_int_equal(ipaddr_class("172.32.0.1"), IP_PUBLIC);
	assert_int_equal(ipaddr_class("192.168.1.1"), IP_PRIVATE);
	assert_int_equal(ipaddr_class("100.64.0.1"), IP_PRIVATE);
	assert_int_equal(ipaddr_class("fd00::1"), IP_PRIVATE);
	assert_int_equal(ipaddr_class("fe80::1"), IP_LINK_LOCAL);
	assert_int_equal(ipaddr_class("::ffff:10.0.0.1"), IP_PRIVATE);
	assert_int_equal(ipaddr_class("255.255.255.255"), IP_BROADCAST);
	/* nothing comes from these: not blockable */
	assert_false(ipaddr_is_a_source(ipaddr_class("0.0.0.0")));
	assert_false(ipaddr_is_a_source(ipaddr_class("::")));
	assert_false(ipaddr_is_a_source(ipaddr_class("255.255.255.255")));
	assert_false(ipaddr_is_a_source(ipaddr_class("224.0.0.1")));
	assert_false(ipaddr_is_a_source(ipaddr_class("ff02::1")));
	assert_true(ipaddr_is_a_source(ipaddr_class("203.0.113.5")));
	assert_true(ipaddr_is_a_source(ipaddr_class("10.0.0.1")));
	assert_string_equal(ipaddr_class_article(IP_UNSPECIFIED), "an");
	assert_string_equal(ipaddr_class_article(IP_PRIVATE), "a");
	assert_int_equal(ipaddr_class("203.0.113.7"), IP_PUBLIC);
	assert_int_equal(ipaddr_class("0.0.0.0"), IP_UNSPECIFIED);
	assert_int_equal(ipaddr_class("239.1.1.1"), IP_MULTICAST);
}

static void test_ssh_client(void **state)
{
	char out[IPADDR_LEN];
	(void)state;
	unsetenv("SSH_CONNECTION");
	unsetenv("SSH_CLIENT");
	assert_false(ipaddr_ssh_client(out, sizeof out));
	setenv("SSH_CONNECTION", "2001:DB8::9 50022 2001:db8::1 22", 1);
	assert_true(ipaddr_ssh_client(out, sizeof out));
	assert_string_equal(out, "2001:db8::9");
	unsetenv("SSH_CONNECTION");
	setenv("SSH_CLIENT", "198.51.100.4 40000 22", 1);
	assert_true(ipaddr_ssh_client(out, sizeof out));
	assert_string_equal(out, "198.51.100.4");
	unsetenv("SSH_CLIENT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_forms),
		cmocka_unit_test(test_malformed_forms),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_ssh_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
