/* The window kept from the rows that arrive: distinct sets and their
 * error, per-minute buckets and their merge, the order PostgreSQL gives,
 * memory bounded under a botnet, and the set of rows already counted. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "live.h"
#include "seen.h"
#include "sketch.h"

#define NOW_MIN 29000000LL         /* a unix minute (2025) */
#define US(min, sec) (((int64_t)(min) * 60 + (sec)) * 1000000)

static const struct live_limits roomy = { 1 << 16, 1 << 14, 8 << 20 };
static const struct live_grouping by_net = { .by = RANGES_PREFIX };

static double rel_error(long got, long want)
{
	return fabs((double)got - (double)want) / (double)want;
}

static void test_dset_exact_then_estimate(void **state)
{
	struct dset s = { 0 };
	struct sketch_budget b = { 0 };
	bool est;
	(void)state;

	for (int i = 0; i < DSET_EXACT_MAX; i++) {
		dset_add(&s, hash64(&i, sizeof i), &b);
		dset_add(&s, hash64(&i, sizeof i), &b);    /* twice: counted once */
	}
	assert_int_equal(dset_count(&s, &est), DSET_EXACT_MAX);
	assert_false(est);
	for (int n = DSET_EXACT_MAX; n < 100000; n++) {
		dset_add(&s, hash64(&n, sizeof n), &b);
		if (n + 1 == 1000 || n + 1 == 10000 || n + 1 == 100000) {
			long got = dset_count(&s, &est);
			assert_true(est);
			assert_true(rel_error(got, n + 1) < 0.02);
		}
	}
	assert_int_equal(b.used, HLL_REGISTERS);
	dset_free(&s, &b);
	assert_int_equal(b.used, 0);
}

static void test_dset_merge_is_a_union(void **state)
{
	struct dset a = { 0 }, c = { 0 }, small = { 0 };
	bool est;
	(void)state;

	for (int i = 0; i < 30000; i++)
		dset_add(&a, hash64(&i, sizeof i), NULL);
	for (int i = 20000; i < 50000; i++)
		dset_add(&c, hash64(&i, sizeof i), NULL);
	for (int i = 0; i < 3; i++)
		dset_add(&small, hash64(&i, sizeof i), NULL);
	dset_merge(&a, &c, NULL);
	assert_true(rel_error(dset_count(&a, &est), 50000) < 0.02);
	dset_merge(&small, &c, NULL);           /* exact into dense */
	assert_true(rel_error(dset_count(&small, &est), 30003) < 0.02);
	assert_true(est);
	dset_free(&a, NULL);
	dset_free(&c, NULL);
	dset_free(&small, NULL);
}

static void test_dset_budget_caps(void **state)
{
	struct dset s = { 0 };
	struct sketch_budget b = { .max = 100 };
	bool est;
	(void)state;

	for (int i = 0; i < 500; i++)
		dset_add(&s, hash64(&i, sizeof i), &b);
	assert_true(b.used <= 100);
	assert_true(b.refused > 0);
	long n = dset_count(&s, &est);
	assert_true(est);                      /* capped: a lower bound */
	assert_true(n < 500 && n >= DSET_INLINE);
	dset_free(&s, &b);
}

static struct live_row row(int64_t ts_us, const char *ip, const char *tenant, const char *user,
                           bool failed)
{
	struct live_row r = { .ts_us = ts_us, .ip = ip, .tenant = tenant, .failed = failed };

	if (tenant)
		r.tenant_hash = hash64(tenant, strlen(tenant));
	if (user) {
		r.has_user = true;
		r.user_hash = hash64(user, strlen(user));
	}
	return r;
}

static void add(struct live *l, struct live_row r)
{
	live_add(l, &r);
}

static void test_top_ips_exact(void **state)
{
	struct live *l = live_new(15 * 60, &roomy);
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	for (int i = 0; i < 5; i++)
		add(l, row(US(NOW_MIN - 3, i), "10.0.0.10", "acme", i % 2 ? "bob" : "eve", true));
	add(l, row(US(NOW_MIN - 2, 0), "10.0.0.10", "globex", "bob", false));
	for (int i = 0; i < 5; i++)          /* ties with .10: 10.0.0.9 first, as inet orders */
		add(l, row(US(NOW_MIN - 1, i), "10.0.0.9", NULL, NULL, true));
	add(l, row(US(NOW_MIN, 0), "2001:db8::1", "acme", "x", true));
	add(l, row(US(NOW_MIN, 1), "10.0.0.200", "acme", "x", true));
	add(l, row(US(NOW_MIN, 2), "192.0.2.1", "acme", "y", false));   /* no failure: not top */
	add(l, row(US(NOW_MIN, 3), NULL, "acme", "y", true));          /* no address */

	struct ip_stat *top = live_top_ips(l, 10, &n);
	assert_int_equal(n, 4);
	assert_string_equal(top[0].ip, "10.0.0.9");
	assert_int_equal(top[0].failures, 5);
	assert_int_equal(top[0].users, 0);
	assert_int_equal(top[0].tenants, 0);
	assert_string_equal(top[1].ip, "10.0.0.10");
	assert_int_equal(top[1].failures, 5);
	assert_int_equal(top[1].requests, 6);
	assert_int_equal(top[1].users, 2);
	assert_int_equal(top[1].tenants, 2);
	assert_int_equal(top[1].approx, 0);
	assert_string_equal(top[2].ip, "10.0.0.200");       /* IPv4 before IPv6 */
	assert_string_equal(top[3].ip, "2001:db8::1");
	free(top);

	struct tenant_stat *t = live_top_tenants(l, 10, &n);
	assert_int_equal(n, 3);
	assert_string_equal(t[0].tenant_id, "acme");
	assert_int_equal(t[0].requests, 9);
	assert_int_equal(t[0].failures, 8);
	assert_int_equal(t[0].ips, 4);
	assert_int_equal(t[0].users, 4);
	assert_int_equal(t[2].approx, 0);
	/* acme 9, then no tenant 5 and globex 1: by requests */
	assert_null(t[1].tenant_id);
	assert_int_equal(t[1].requests, 5);
	assert_string_equal(t[2].tenant_id, "globex");
	for (size_t i = 0; i < n; i++)
		free(t[i].tenant_id);
	free(t);
	live_free(l);
}

/* Networks of the failing addresses: a /24 spread over many addresses
 * outranks one busy address; a /64; addresses that never failed are not
 * counted; the tenants the range touched. */
static void test_ranges(void **state)
{
	struct live *l = live_new(15 * 60, &roomy);
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	char ip[32];
	for (int i = 1; i <= 40; i++) {      /* a botnet's /24: 40 addresses, 2 failures each */
		snprintf(ip, sizeof ip, "203.0.113.%d", i);
		add(l, row(US(NOW_MIN - 1, i), ip, i % 2 ? "acme" : "globex", "u", true));
		add(l, row(US(NOW_MIN, i), ip, "acme", "u", true));
	}
	add(l, row(US(NOW_MIN, 50), "203.0.113.200", "initech", "u", false)); /* never failed */
	for (int i = 0; i < 30; i++)
		add(l, row(US(NOW_MIN, i), "198.51.100.7", "acme", "u", true));
	add(l, row(US(NOW_MIN, 1), "2001:db8:1:2::5", "acme", "u", true));
	add(l, row(US(NOW_MIN, 2), "2001:db8:1:2:ffff::9", "acme", "u", true));
	add(l, row(US(NOW_MIN, 3), "2001:db8:1:3::1", "acme", "u", true));

	struct range_stat *r = live_top_ranges(l, 10, &by_net, &n);
	assert_int_equal(n, 4);
	assert_string_equal(r[0].net, "203.0.113.0/24");
	assert_int_equal(r[0].failures, 80);
	assert_int_equal(r[0].requests, 80);
	assert_int_equal(r[0].addresses, 40);
	assert_int_equal(r[0].tenants, 2);
	assert_string_equal(r[1].net, "198.51.100.0/24");
	assert_int_equal(r[1].addresses, 1);
	assert_string_equal(r[2].net, "2001:db8:1:2::/64");
	assert_int_equal(r[2].failures, 2);
	assert_int_equal(r[2].addresses, 2);
	assert_string_equal(r[3].net, "2001:db8:1:3::/64");
	assert_int_equal(r[0].approx, 0);
	free(r);
	r = live_top_ranges(l, 1, &by_net, &n);
	assert_int_equal(n, 1);
	free(r);
	live_free(l);
}

/* A stand-in AS table: 203.0.113.0/25 is AS64500, 203.0.113.128/25 and
 * 198.51.100.0/24 are AS64501, anything else has no AS known. */
static unsigned long fake_asn(const void *ctx, const char *ip, char *org, size_t n)
{
	unsigned long asn = 0;
	(void)ctx;
	if (strncmp(ip, "203.0.113.", 10) == 0)
		asn = atoi(ip + 10) < 128 ? 64500 : 64501;
	else if (strncmp(ip, "198.51.100.", 11) == 0)
		asn = 64501;
	if (org)
		snprintf(org, n, "%s", asn == 64500 ? "Example \x1b[31mOrg" : asn ? "Other Net" : "");
	return asn;
}

/* Grouped by AS: one AS over two /24s, the addresses of no AS known in a
 * group of their own, last among ties; the organisation as the table says
 * (raw: the views sanitise it); the ranges and the top addresses of one
 * pass agree with each asked alone. */
static void test_ranges_by_as(void **state)
{
	struct live *l = live_new(15 * 60, &roomy);
	struct live_grouping by_as = { .by = RANGES_AS, .asn = fake_asn };
	struct live_tops t;
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	for (int i = 0; i < 10; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "203.0.113.%d", i * 25);   /* 0..225: both halves */
		add(l, row(US(NOW_MIN, i), ip, i % 3 ? "acme" : "globex", "u", true));
	}
	add(l, row(US(NOW_MIN, 20), "198.51.100.9", "initech", "u", true));
	add(l, row(US(NOW_MIN, 21), "198.51.100.9", "initech", "u", false));
	add(l, row(US(NOW_MIN, 22), "192.0.2.1", "acme", "u", true));
	add(l, row(US(NOW_MIN, 23), "2001:db8::1", "acme", "u", true));
	add(l, row(US(NOW_MIN, 24), "192.0.2.200", "acme", "u", false));   /* never failed */

	live_tops(l, 10, &by_as, &t);
	assert_int_equal(t.n_ranges, 3);
	assert_string_equal(t.ranges[0].net, "AS64500");      /* 203.0.113.0..125: six */
	assert_int_equal(t.ranges[0].asn, 64500);
	assert_int_equal(t.ranges[0].failures, 6);
	assert_int_equal(t.ranges[0].addresses, 6);
	assert_int_equal(t.ranges[0].tenants, 2);
	assert_string_equal(t.ranges[0].as_org, "Example \x1b[31mOrg");
	assert_string_equal(t.ranges[1].net, "AS64501");      /* 203.0.113.150.. and 198.51.100.9 */
	assert_int_equal(t.ranges[1].failures, 4 + 1);
	assert_int_equal(t.ranges[1].requests, 4 + 2);
	assert_int_equal(t.ranges[1].addresses, 5);
	assert_int_equal(t.ranges[1].tenants, 3);
	assert_string_equal(t.ranges[1].as_org, "Other Net");
	assert_int_equal(t.ranges[2].asn, 0);                  /* no AS known */
	assert_string_equal(t.ranges[2].net, "");
	assert_int_equal(t.ranges[2].addresses, 2);
	assert_int_equal(t.ranges[2].failures, 2);
	assert_int_equal(t.n_ips, 10);
	size_t n_alone;
	struct ip_stat *alone = live_top_ips(l, 10, &n_alone);
	assert_int_equal(n_alone, t.n_ips);
	for (size_t i = 0; i < n_alone; i++) {
		assert_string_equal(alone[i].ip, t.ips[i].ip);
		assert_int_equal(alone[i].requests, t.ips[i].requests);
	}
	free(alone);
	free(t.ips);
	free(t.ranges);
	struct range_stat *r = live_top_ranges(l, 1, &by_as, &n);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].net, "AS64500");
	free(r);
	live_tops(l, 10, NULL, &t);                 /* nobody asks: no ranges */
	assert_null(t.ranges);
	assert_int_equal(t.n_ranges, 0);
	free(t.ips);
	live_free(l);
}

/* A top address's newest row and its failures over the window, in twelve
 * slices, oldest first: a 60-minute window puts five minutes in each. */
static void test_last_seen_and_spark(void **state)
{
	struct live *l = live_new(60 * 60, &roomy);
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	for (int i = 0; i < 4; i++)
		add(l, row(US(NOW_MIN - 58, i), "10.0.0.1", "acme", "u", true));   /* the first slice */
	for (int i = 0; i < 8; i++)
		add(l, row(US(NOW_MIN, i), "10.0.0.1", "acme", "u", true));        /* the last */
	add(l, row(US(NOW_MIN, 40), "10.0.0.1", "acme", "u", false));
	struct ip_stat *top = live_top_ips(l, 10, &n);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].last_s, NOW_MIN * 60 + 40);
	assert_int_equal(top[0].spark[0], 4);
	assert_int_equal(top[0].spark[MODEL_SPARK - 1], 8);
	long total = 0;
	for (int i = 0; i < MODEL_SPARK; i++)
		total += top[0].spark[i];
	assert_int_equal(total, top[0].failures);
	free(top);
	live_free(l);
}

static void test_minutes_leave_the_window(void **state)
{
	struct live *l = live_new(5 * 60, &roomy);
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	add(l, row(US(NOW_MIN - 5, 0), "198.51.100.1", "t", "u", true));     /* the window's first minute */
	add(l, row(US(NOW_MIN - 6, 59), "198.51.100.1", "t", "u", true));    /* before it: not counted */
	add(l, row(US(NOW_MIN, 0), "198.51.100.1", "t", "v", true));
	struct ip_stat *top = live_top_ips(l, 10, &n);
	assert_int_equal(top[0].failures, 2);
	assert_int_equal(top[0].users, 2);
	free(top);

	assert_true(live_slide(l, NOW_MIN + 1));   /* NOW_MIN - 5 leaves */
	top = live_top_ips(l, 10, &n);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].failures, 1);
	assert_int_equal(top[0].users, 1);
	free(top);
	assert_false(live_slide(l, NOW_MIN + 1));
	live_slide(l, NOW_MIN + 10);
	top = live_top_ips(l, 10, &n);
	assert_int_equal(n, 0);
	free(top);
	live_free(l);
}

static void test_window_not_on_a_minute(void **state)
{
	/* 90 s: the window starts half-way through a minute, and so do buckets */
	struct live *l = live_new(90, &roomy);
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	assert_int_equal(live_window_start(l, NOW_MIN), NOW_MIN * 60 - 90);
	add(l, row(US(NOW_MIN - 2, 29), "192.0.2.7", NULL, NULL, true));   /* 1 s early */
	add(l, row(US(NOW_MIN - 2, 30), "192.0.2.7", NULL, NULL, true));
	struct ip_stat *top = live_top_ips(l, 10, &n);
	assert_int_equal(top[0].failures, 1);
	free(top);
	live_free(l);
}

static void test_failures_per_minute(void **state)
{
	struct live *l = live_new(15 * 60, &roomy);
	long base[MODEL_MINUTES] = { 0 }, fpm[MODEL_MINUTES];
	(void)state;

	for (int i = 0; i < MODEL_MINUTES; i++)
		base[i] = 100 + i;
	live_set_base(l, NOW_MIN - 59, base, MODEL_MINUTES);
	live_slide(l, NOW_MIN);
	add(l, row(US(NOW_MIN - 15, 0), "192.0.2.1", NULL, NULL, true));
	add(l, row(US(NOW_MIN, 0), "192.0.2.1", NULL, NULL, true));
	add(l, row(US(NOW_MIN, 1), "192.0.2.1", NULL, NULL, false));
	live_fpm(l, NOW_MIN, NOW_MIN - 15, INT64_MAX, fpm);
	assert_int_equal(fpm[0], 100);             /* before the rows: the GROUP BY's */
	assert_int_equal(fpm[59 - 16], base[59 - 16]);
	assert_int_equal(fpm[59 - 15], 1);         /* streamed */
	assert_int_equal(fpm[58], 0);
	assert_int_equal(fpm[59], 1);
	/* half-way through reading the window: the rest from the GROUP BY */
	live_fpm(l, NOW_MIN, NOW_MIN - 15, NOW_MIN - 10, fpm);
	assert_int_equal(fpm[59], base[59]);
	live_free(l);
}

/* A million addresses failing once each: memory stays within the limits,
 * and the figures say they are estimates. */
static void test_botnet_is_bounded(void **state)
{
	const struct live_limits lim = { 16384, 4096, 1 << 20 };
	struct live *l = live_new(15 * 60, &lim);
	struct live_usage u;
	char ip[32];
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	for (int i = 0; i < 1000000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		add(l, row(US(NOW_MIN - 14 + i / 70000, 0), ip, "t", ip, true));
	}
	for (int i = 0; i < 100; i++)               /* one heavy hitter among them */
		add(l, row(US(NOW_MIN, i % 60), "203.0.113.45", "t", "root", true));
	live_usage(l, &u);
	assert_true(u.ip_entries <= lim.ip_entries);
	assert_true(u.tenant_entries <= lim.tenant_entries);
	assert_true(u.sketch_bytes <= lim.sketch_bytes);
	assert_true(u.compactions > 0);
	struct ip_stat *top = live_top_ips(l, 5, &n);
	assert_int_equal(n, 5);
	assert_string_equal(top[0].ip, "203.0.113.45");
	assert_int_equal(top[0].failures, 100);
	assert_true(top[1].approx & APPROX_FAILURES);
	free(top);
	struct tenant_stat *t = live_top_tenants(l, 5, &n);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].requests, 1000100);
	assert_true(t[0].approx & APPROX_IPS);       /* 1M distinct: an estimate */
	free(t[0].tenant_id);
	free(t);
	live_free(l);
}

static void test_credential_stuffing_users(void **state)
{
	struct live *l = live_new(15 * 60, &roomy);
	char user[32];
	size_t n;
	(void)state;

	live_slide(l, NOW_MIN);
	for (int i = 0; i < 20000; i++) {          /* spread over 10 minutes, some users twice */
		snprintf(user, sizeof user, "user%d", i % 15000);
		add(l, row(US(NOW_MIN - 9 + i / 2000, 0), "203.0.113.9", "acme", user, true));
	}
	struct ip_stat *top = live_top_ips(l, 1, &n);
	assert_int_equal(top[0].failures, 20000);
	assert_true(top[0].approx & APPROX_USERS);
	assert_false(top[0].approx & APPROX_FAILURES);
	assert_true(rel_error(top[0].users, 15000) < 0.02);
	free(top);
	live_free(l);
}

static void test_seen_set(void **state)
{
	struct seen s;
	(void)state;

	seen_init(&s, 1000);
	assert_true(seen_add(&s, 42, 100));
	assert_false(seen_add(&s, 42, 100));
	assert_true(seen_add(&s, 0, 101));          /* a hash of 0 is a value too */
	assert_true(seen_has(&s, 0));
	for (uint64_t i = 1000; i < 1500; i++)
		seen_add(&s, i, (int64_t)i);
	assert_int_equal(seen_count(&s, 1000, 1499), 500);
	seen_prune(&s, 1200);
	assert_false(seen_has(&s, 1100));
	assert_true(seen_has(&s, 1300));
	assert_int_equal(seen_count(&s, INT64_MIN, INT64_MAX), 300);
	/* past its bound it forgets the oldest and says from when it vouches */
	for (uint64_t i = 5000; i < 20000; i++)
		seen_add(&s, i, (int64_t)i);
	assert_true(s.n <= 2 * 1000);
	assert_true(s.floor_us > 5000);
	assert_true(seen_has(&s, 19999));
	assert_int_equal(seen_count(&s, s.floor_us, INT64_MAX), s.n);
	seen_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dset_exact_then_estimate),
		cmocka_unit_test(test_dset_merge_is_a_union),
		cmocka_unit_test(test_dset_budget_caps),
		cmocka_unit_test(test_top_ips_exact),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_ranges_by_as),
		cmocka_unit_test(test_last_seen_and_spark),
		cmocka_unit_test(test_minutes_leave_the_window),
		cmocka_unit_test(test_window_not_on_a_minute),
		cmocka_unit_test(test_failures_per_minute),
		cmocka_unit_test(test_botnet_is_bounded),
		cmocka_unit_test(test_credential_stuffing_users),
		cmocka_unit_test(test_seen_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
