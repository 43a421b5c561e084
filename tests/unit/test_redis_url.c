#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redis_url.h"

static struct redis_target parse_ok(const char *url)
{
	struct redis_target t;
	char err[256] = "";

	int rc = redis_url_parse(url, &t, err, sizeof err);
	if (rc != 0)
		fail_msg("%s: %s", url ? url : "(null)", err);
	return t;
}

/* Parse must fail with a message containing want, and leave no password. */
static void parse_bad(const char *url, const char *want)
{
	struct redis_target t;
	char err[256] = "";

	assert_int_equal(redis_url_parse(url, &t, err, sizeof err), -1);
	if (!strstr(err, want))
		fail_msg("%s: error \"%s\" lacks \"%s\"", url, err, want);
	assert_null(t.password);
}

static void test_defaults(void **state)
{
	struct redis_target t = parse_ok(NULL);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 6379);
	assert_int_equal(t.db, 0);
	assert_string_equal(t.path, "");
	assert_null(t.password);

	t = parse_ok("");
	assert_string_equal(t.host, "127.0.0.1");

	t = parse_ok("redis://localhost");
	assert_string_equal(t.host, "localhost");
	assert_int_equal(t.port, 6379);
	assert_int_equal(t.db, 0);
	assert_string_equal(t.user, "");

	t = parse_ok("redis://10.0.0.7/");
	assert_string_equal(t.host, "10.0.0.7");
	assert_int_equal(t.db, 0);
}

static void test_host_port_db(void **state)
{
	struct redis_target t = parse_ok("redis://127.0.0.1:6380/3");
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 6380);
	assert_int_equal(t.db, 3);

	t = parse_ok("REDIS://cache-1.internal_x:1/15");
	assert_string_equal(t.host, "cache-1.internal_x");
	assert_int_equal(t.port, 1);
	assert_int_equal(t.db, 15);

	t = parse_ok("redis://h:65535");
	assert_int_equal(t.port, 65535);
}

static void test_ipv6(void **state)
{
	struct redis_target t = parse_ok("redis://[::1]:6380/2");
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 6380);
	assert_int_equal(t.db, 2);

	t = parse_ok("redis://[2001:db8::10]");
	assert_string_equal(t.host, "2001:db8::10");
	assert_int_equal(t.port, 6379);

	t = parse_ok("redis://[fe80::1%eth0]:7000");
	assert_string_equal(t.host, "fe80::1%eth0");

	parse_bad("redis://[::1", "unterminated");
	parse_bad("redis://[]:6379", "bad IPv6");
	parse_bad("redis://[1.2.3.4]:6379", "bad IPv6");
	parse_bad("redis://[::g]:6379", "bad IPv6");
}

static void test_userinfo(void **state)
{
	struct redis_target t = parse_ok("redis://:s3cret@127.0.0.1:6379/1");
	assert_string_equal(t.user, "");
	assert_string_equal(t.password, "s3cret");
	assert_int_equal(t.db, 1);
	redis_target_free(&t);
	assert_null(t.password);

	t = parse_ok("redis://alice:pw@host");
	assert_string_equal(t.user, "alice");
	assert_string_equal(t.password, "pw");
	redis_target_free(&t);

	/* redis-cli reads a lone word before '@' as the password */
	t = parse_ok("redis://onlypw@host");
	assert_string_equal(t.user, "");
	assert_string_equal(t.password, "onlypw");
	redis_target_free(&t);

	t = parse_ok("redis://bob:@host");
	assert_string_equal(t.user, "bob");
	assert_null(t.password);

	/* an unencoded '@' or '/' in the password: the last '@' ends it */
	t = parse_ok("redis://:p@ss/w@host:7/4");
	assert_string_equal(t.password, "p@ss/w");
	assert_string_equal(t.host, "host");
	assert_int_equal(t.port, 7);
	assert_int_equal(t.db, 4);
	redis_target_free(&t);
}

static void test_percent(void **state)
{
	struct redis_target t = parse_ok("redis://us%65r:p%40ss%3Aw%2Fd%25@h");
	assert_string_equal(t.user, "user");
	assert_string_equal(t.password, "p@ss:w/d%");
	redis_target_free(&t);

	t = parse_ok("redis://:%e2%82%ac@h");
	assert_string_equal(t.password, "\xe2\x82\xac");
	redis_target_free(&t);

	parse_bad("redis://:abc%zz@h", "percent-encoding");
	parse_bad("redis://:abc%4@h", "percent-encoding");
	parse_bad("redis://:abc%@h", "percent-encoding");
	parse_bad("redis://:a%00b@h", "percent-encoding");
}

static void test_unix(void **state)
{
	struct redis_target t = parse_ok("unix:/run/redis/redis.sock");
	assert_string_equal(t.path, "/run/redis/redis.sock");
	assert_string_equal(t.host, "");
	assert_int_equal(t.db, 0);

	t = parse_ok("unix:/tmp/r.sock?db=5");
	assert_string_equal(t.path, "/tmp/r.sock");
	assert_int_equal(t.db, 5);

	t = parse_ok("unix:///var/run/r.sock");
	assert_string_equal(t.path, "/var/run/r.sock");

	t = parse_ok("redis+unix:///tmp/x.sock?db=2");
	assert_string_equal(t.path, "/tmp/x.sock");
	assert_int_equal(t.db, 2);

	t = parse_ok("unix://u:p%21@/tmp/y.sock?db=1");
	assert_string_equal(t.user, "u");
	assert_string_equal(t.password, "p!");
	assert_string_equal(t.path, "/tmp/y.sock");
	redis_target_free(&t);

	parse_bad("unix:relative.sock", "absolute path");
	parse_bad("unix:", "absolute path");
	parse_bad("unix://relative", "absolute path");
	parse_bad("unix:/tmp/r.sock?db=x", "bad database");
	parse_bad("unix:/tmp/r.sock?timeout=3", "unknown URL parameter");

	char long_path[200];
	memset(long_path, 'a', sizeof long_path);
	memcpy(long_path, "unix:/", 6);
	long_path[sizeof long_path - 1] = '\0';
	parse_bad(long_path, "longer than");
}

static void test_tls(void **state)
{
	struct redis_target t = parse_ok("rediss://:s3cret@cache.example:6380/2");
	char out[320];

	assert_true(t.tls);
	assert_string_equal(t.host, "cache.example");
	assert_int_equal(t.port, 6380);
	assert_int_equal(t.db, 2);
	assert_string_equal(t.password, "s3cret");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "rediss://cache.example:6380/2");
	redis_target_free(&t);
	t = parse_ok("REDISS://h");
	assert_true(t.tls);
	assert_int_equal(t.port, 6379);
	t = parse_ok("redis://h");
	assert_false(t.tls);
}

static void test_sentinel(void **state)
{
	struct redis_target t = parse_ok("redis-sentinel://:m%40ster@10.0.0.1:26379,[::1]:26380,sent.example/mymaster/3");
	char out[320];

	assert_false(t.tls);
	assert_int_equal(t.n_sentinels, 3);
	assert_string_equal(t.sentinels[0].host, "10.0.0.1");
	assert_int_equal(t.sentinels[0].port, 26379);
	assert_string_equal(t.sentinels[1].host, "::1");
	assert_int_equal(t.sentinels[1].port, 26380);
	assert_string_equal(t.sentinels[2].host, "sent.example");
	assert_int_equal(t.sentinels[2].port, 26379);      /* the sentinel default */
	assert_string_equal(t.master_name, "mymaster");
	assert_int_equal(t.db, 3);
	assert_string_equal(t.password, "m@ster");          /* the master's */
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "redis-sentinel://10.0.0.1:26379,[::1]:26380,sent.example:26379/mymaster/3");
	assert_null(strstr(out, "m@ster"));
	redis_target_free(&t);

	t = parse_ok("rediss-sentinel://127.0.0.1:5000/m");
	assert_true(t.tls);
	assert_int_equal(t.n_sentinels, 1);
	assert_int_equal(t.db, 0);
	assert_string_equal(t.master_name, "m");

	parse_bad("redis-sentinel://h:26379", "needs the master's name");
	parse_bad("redis-sentinel://h:26379/", "needs the master's name");
	parse_bad("redis-sentinel:///m", "names no sentinel");
	parse_bad("redis-sentinel://h:1,,h:2/m", "empty sentinel address");
	parse_bad("redis-sentinel://h:0/m", "bad port");
	parse_bad("redis-sentinel://h:1/m/x", "bad database number");
	parse_bad("redis-sentinel://:pw@h:1/m/x", "bad database number");
	parse_bad("redis-sentinel://a,b,c,d,e,f,g,h,i/m", "more than 8 sentinels");
}

static void test_errors(void **state)
{
	parse_bad("rediss://", "empty host");
	parse_bad("rediss://h:0", "bad port");
	parse_bad("redis://h:0", "bad port \"0\"");
	parse_bad("redis://h:70000", "bad port \"70000\"");
	parse_bad("redis://h:abc", "bad port \"abc\"");
	parse_bad("redis://h:", "bad port");
	parse_bad("redis://h:-1", "bad port");
	parse_bad("redis://h:+80", "bad port");
	parse_bad("redis://h/-1", "bad database number \"-1\"");
	parse_bad("redis://h/abc", "bad database number \"abc\"");
	parse_bad("redis://h/99999999999", "bad database number");
	parse_bad("redis://", "empty host");
	parse_bad("redis://:pw@", "empty host");
	parse_bad("redis://:6379/0", "empty host");
	parse_bad("redis://h:6379/0/extra", "bad database number");
	parse_bad("redis://h:6379/0?x=1", "unexpected \"?x=1\"");
	parse_bad("redis://h:6379/0#frag", "unexpected");
	parse_bad("redis://h!x:6379", "bad host name");
	parse_bad("redis://h x", "bad host name");
	parse_bad("http://h:6379", "not a Redis URL");
	parse_bad("127.0.0.1:6379", "not a Redis URL");
	parse_bad("junk", "not a Redis URL");
}

/* No error message may carry the password, even when the URL is bad. */
static void test_error_hides_password(void **state)
{
	struct redis_target t;
	char err[256];

	assert_int_equal(redis_url_parse("redis://:hunter2@h:99999", &t, err, sizeof err), -1);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(redis_url_parse("redis://:hunter2@h:1/x", &t, err, sizeof err), -1);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(redis_url_parse("redis://:hunter2@", &t, err, sizeof err), -1);
	assert_null(strstr(err, "hunter2"));
}

static void test_display(void **state)
{
	char out[256];
	struct redis_target t = parse_ok("redis://:hunter2@127.0.0.1:6379/0");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "redis://127.0.0.1:6379/0");
	assert_null(strstr(out, "hunter2"));
	redis_target_free(&t);

	t = parse_ok("redis://alice:hunter2@[::1]:6380/2");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "redis://alice@[::1]:6380/2");
	redis_target_free(&t);

	t = parse_ok(NULL);
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, REDIS_URL_DEFAULT);

	t = parse_ok("unix:/tmp/r.sock?db=3");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "unix:/tmp/r.sock?db=3");

	/* found by tests/fuzz/fuzz_redis_url: "unix://re" would be shown for
	 * the socket "//re", and reads back as no path at all */
	t = parse_ok("unix:////re");
	assert_string_equal(t.path, "//re");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "unix:////re?db=0");
	redis_target_free(&t);
	t = parse_ok(out);
	assert_string_equal(t.path, "//re");
	redis_target_free(&t);
	/* a user holding '@', ':' or '%' is shown percent-encoded: shown raw,
	 * it read back as another host, or not at all (fuzz_redis_url) */
	t = parse_ok("redis://a%40b%3Ac%25:pw@h/3");
	assert_string_equal(t.user, "a@b:c%");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "redis://a%40b%3Ac%25@h:6379/3");
	redis_target_free(&t);
	t = parse_ok(out);
	assert_string_equal(t.host, "h");
	redis_target_free(&t);
	/* a path holding '@/' or '?' is shown percent-encoded, to read back */
	t = parse_ok("unix:/tmp/a@/b%3Fc%25d");
	assert_string_equal(t.path, "/tmp/a@/b?c%d");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "unix:/tmp/a%40/b%3Fc%25d?db=0");
	redis_target_free(&t);
	t = parse_ok(out);
	assert_string_equal(t.path, "/tmp/a@/b?c%d");
	redis_target_free(&t);
	t = parse_ok("unix://u:hunter2@/tmp/r.sock");
	redis_target_display(&t, out, sizeof out);
	assert_string_equal(out, "unix://u@/tmp/r.sock?db=0");
	redis_target_free(&t);

	/* a short buffer truncates, never overflows */
	t = parse_ok("redis://localhost:6379/0");
	assert_true(redis_target_display(&t, out, 8) > 7);
	assert_string_equal(out, "redis:/");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_host_port_db),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_userinfo),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_sentinel),
		cmocka_unit_test(test_error_hides_password),
		cmocka_unit_test(test_display),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
