/* The Redis source against a real server (scripts/test.sh starts it): the
 * exact state of the addresses on screen (JSON block, plain "1", absent,
 * wrong types, TTLs, counters), the SCAN walk finding every blocked key among
 * 200000 unrelated ones without KEYS, hostile key names kept raw, glob
 * characters in a prefix, and faults: a wrong password, nothing listening, a
 * server stopped with SIGSTOP (and what happens after SIGCONT).
 *
 * Each test uses its own database (5..9) and flushes it first, so the rest
 * of the suite is not disturbed; data is seeded with synchronous hiredis. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "model.h"
#include "redis.h"
#include "redis_url.h"
#include "source.h"
#include "testenv.h"

#define TURN_MS 10          /* the longest a turn may wait in poll() */

static struct redis_target server;  /* from SECTOP_TEST_REDIS */
static const char *server_url;      /* SECTOP_TEST_REDIS */
static const char *password;        /* REDISCLI_AUTH */
static redisContext *seed;          /* the test's own connection */
static pid_t stopped_pid;           /* SIGCONT it whatever happens */

struct rig {
	int db;
	struct config cfg;
	struct model m;
	struct loop *loop;
	struct redis *r;
	struct source src;
	struct turn_worst worst;
};

/* ---------------------------------------------------------------- seeding */

static redisReply *cmdv(const char *fmt, va_list ap)
{
	redisReply *rep = redisvCommand(seed, fmt, ap);
	if (!rep)
		fail_msg("redis: %s", seed->errstr);
	return rep;
}

/* A command that must not fail; the reply is freed. */
static void cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *rep = cmdv(fmt, ap);
	va_end(ap);
	if (rep->type == REDIS_REPLY_ERROR)
		fail_msg("redis %s: %s", fmt, rep->str);
	freeReplyObject(rep);
}

static redisReply *cmd_reply(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *rep = cmdv(fmt, ap);
	va_end(ap);
	return rep;
}

/* A field of INFO <section>, as a number; -1 when absent. */
static long long info_field(const char *section, const char *field)
{
	redisReply *rep = cmd_reply("INFO %s", section);
	long long v = -1;
	char key[128];
	snprintf(key, sizeof key, "\n%s:", field);
	const char *p = rep->type == REDIS_REPLY_STRING ? strstr(rep->str, key) : NULL;
	if (p)
		v = strtoll(p + strlen(key), NULL, 10);
	freeReplyObject(rep);
	return v;
}

/* cmdstat_scan:calls=N,usec=U,...: field "calls" or "usec"; 0 when absent. */
static long long cmdstat(const char *name, const char *field)
{
	redisReply *rep = cmd_reply("INFO commandstats");
	char key[64];
	long long v = 0;
	snprintf(key, sizeof key, "cmdstat_%s:", name);
	const char *p = strstr(rep->str, key);
	if (p) {
		const char *eol = strchr(p, '\n');
		snprintf(key, sizeof key, "%s=", field);
		const char *f = strstr(p, key);
		if (f && (!eol || f < eol))
			v = strtoll(f + strlen(key), NULL, 10);
	}
	freeReplyObject(rep);
	return v;
}

static long long cmdstat_calls(const char *name)
{
	return cmdstat(name, "calls");
}

static void seed_select(int db)
{
	cmd("SELECT %d", db);
	cmd("FLUSHDB");
}

/* ---------------------------------------------------------------- the rig */

static char *url_for_db(int db)
{
	char url[512];
	if (server.path[0])
		snprintf(url, sizeof url, "unix:%s?db=%d", server.path, db);
	else if (strchr(server.host, ':'))
		snprintf(url, sizeof url, "redis://[%s]:%d/%d", server.host, server.port, db);
	else
		snprintf(url, sizeof url, "redis://%s:%d/%d", server.host, server.port, db);
	return strdup(url);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

static void rig_config(struct rig *g, int db)
{
	conf_defaults(&g->cfg);
	free(g->cfg.redis);
	g->cfg.redis = url_for_db(db);
	set_str(&g->cfg.redis_password, password);
	g->cfg.refresh_ms = 100;
	g->cfg.timeout_ms = 300;
	g->cfg.scan_count = 1000;
	g->cfg.scan_budget_ms = 0;
	g->cfg.scan_rate = 0;           /* as `sectop snapshot`: no pacing */
	g->db = db;
}

/* Start the source on the configuration already in g->cfg. */
static void rig_start(struct rig *g)
{
	char err[256];
	model_init(&g->m, 900, NULL, g->cfg.refresh_ms);
	g->r = redis_new(&g->cfg, &g->m, err, sizeof err);
	if (!g->r)
		fail_msg("redis_new: %s", err);
	g->src = redis_source(g->r);
	g->loop = loop_new();
	assert_non_null(g->loop);
	loop_add(g->loop, g->src);
}

static void rig_stop(struct rig *g)
{
	loop_free(g->loop);     /* destroys the source */
	model_free(&g->m);
	conf_free(&g->cfg);
	free(g);
}

static int rig_teardown(void **state)
{
	if (stopped_pid) {
		kill(stopped_pid, SIGCONT);
		stopped_pid = 0;
	}
	if (*state)
		rig_stop(*state);
	*state = NULL;
	return 0;
}

typedef bool (*cond_fn)(struct rig *g);

/* Turn the loop until cond holds or budget_ms passes; every turn is timed. */
static bool run_until(struct rig *g, cond_fn cond, int64_t budget_ms)
{
	int64_t end = clock_mono_ms() + budget_ms;
	while (!cond(g)) {
		if (clock_mono_ms() >= end)
			return false;
		struct turn_clock t0 = turn_clock_start();
		assert_int_equal(loop_turn(g->loop, TURN_MS, NULL, 0), 0);
		turn_worst_note(&g->worst, t0, TURN_MS);
	}
	return true;
}

static void run_for(struct rig *g, int64_t ms)
{
	int64_t end = clock_mono_ms() + ms;
	while (clock_mono_ms() < end) {
		struct turn_clock t0 = turn_clock_start();
		loop_turn(g->loop, TURN_MS, NULL, 0);
		turn_worst_note(&g->worst, t0, TURN_MS);
	}
}

static bool exact_current(struct rig *g)
{
	return g->m.redis.refreshes > 0 && g->m.ip_redis_gen == g->m.top_ips_gen;
}

static bool walk_done(struct rig *g)
{
	return g->m.walk_complete;
}

static bool has_failed(struct rig *g)
{
	return g->m.redis.failures > 0;
}

static void set_top_ips(struct model *m, const char *const *ips, size_t n)
{
	struct ip_stat *v = calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		snprintf(v[i].ip, sizeof v[i].ip, "%s", ips[i]);
	model_set_top_ips(m, v, n);
}

static struct rig *rig_new(void **state, int db)
{
	struct rig *g = calloc(1, sizeof *g);
	assert_non_null(g);
	*state = g;
	rig_config(g, db);
	seed_select(db);
	return g;
}

/* ---------------------------------------------------------------- exact state */

static const char *const exact_ips[] = {
	"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6",
	"2001:db8::1", "192.0.2.99",
};

static void seed_exact(void)
{
	cmd("SET blocked:10.0.0.1 %s EX 3600", "{\"by\":\"alice\",\"reason\":\"brute force \\u001b[31m\",\"at\":1700000000}");
	cmd("SET blocked:10.0.0.2 1 EX 600");
	cmd("SET failed_auth:10.0.0.2 11 EX 300");
	cmd("SET failed_auth:10.0.0.3 7 EX 300");
	cmd("SET ratelimit:10.0.0.3 42");                       /* no expiry */
	cmd("HSET blocked:10.0.0.4 by mallory");                /* wrong type */
	cmd("SET failed_auth:10.0.0.4 abc");                    /* not a number */
	cmd("RPUSH ratelimit:10.0.0.5 x");                      /* wrong type */
	cmd("SET blocked:10.0.0.6 %s", "{not json");            /* plain, no expiry */
	cmd("SET blocked:2001:db8::1 %s EX 100", "{\"by\":\"bob\",\"at\":1.7e9}");
	cmd("SET failed_auth:192.0.2.99 %s", "12x");            /* strict parse */
}

static const struct ip_redis *ipr(struct rig *g, const char *ip)
{
	static const struct ip_redis none;
	const struct ip_redis *v = model_ip_redis(&g->m, ip);
	if (!v) {
		fail_msg("no Redis state for %s", ip);
		return &none;
	}
	return v;
}

static void test_exact_state(void **state)
{
	struct rig *g = rig_new(state, 5);
	seed_exact();
	g->cfg.refresh_ms = 10000;   /* a changed top_ips must not wait for this */
	rig_start(g);
	set_top_ips(&g->m, exact_ips, sizeof exact_ips / sizeof exact_ips[0]);
	assert_true(run_until(g, exact_current, 2000));
	assert_int_equal(g->m.redis.state, SOURCE_OK);
	assert_int_equal(g->m.n_ip_redis, 8);

	const struct ip_redis *a = ipr(g, "10.0.0.1");
	assert_true(a->blocked);
	assert_int_equal(a->block_kind, RV_JSON_BLOCK);
	assert_string_equal(a->block_by, "alice");
	assert_string_equal(a->block_reason, "brute force \x1b[31m");   /* raw */
	assert_int_equal(a->block_at, 1700000000);
	assert_in_range(a->block_ttl_s, 3500, 3600);
	assert_int_equal(a->failed_auth, -1);
	assert_int_equal(a->ratelimit, -1);
	assert_false(a->wrong_type);

	const struct ip_redis *b = ipr(g, "10.0.0.2");
	assert_true(b->blocked);
	assert_int_equal(b->block_kind, RV_PLAIN);
	assert_null(b->block_by);
	assert_int_equal(b->block_at, 0);
	assert_in_range(b->block_ttl_s, 500, 600);
	assert_int_equal(b->failed_auth, 11);

	const struct ip_redis *c = ipr(g, "10.0.0.3");
	assert_false(c->blocked);
	assert_int_equal(c->block_kind, RV_ABSENT);
	assert_int_equal(c->block_ttl_s, -2);
	assert_int_equal(c->failed_auth, 7);
	assert_int_equal(c->ratelimit, 42);
	assert_false(c->wrong_type);

	/* a hash under the block prefix: the key exists (EXISTS says blocked),
	 * its value cannot be read */
	const struct ip_redis *d = ipr(g, "10.0.0.4");
	assert_true(d->blocked);
	assert_int_equal(d->block_kind, RV_WRONG_TYPE);
	assert_true(d->wrong_type);
	assert_int_equal(d->block_ttl_s, -1);
	assert_int_equal(d->failed_auth, -1);

	const struct ip_redis *e = ipr(g, "10.0.0.5");
	assert_false(e->blocked);
	assert_true(e->wrong_type);
	assert_int_equal(e->ratelimit, -1);

	const struct ip_redis *f = ipr(g, "10.0.0.6");
	assert_true(f->blocked);
	assert_int_equal(f->block_kind, RV_PLAIN);
	assert_int_equal(f->block_ttl_s, -1);

	const struct ip_redis *v6 = ipr(g, "2001:db8::1");
	assert_int_equal(v6->block_kind, RV_JSON_BLOCK);
	assert_string_equal(v6->block_by, "bob");
	assert_null(v6->block_reason);
	assert_int_equal(v6->block_at, 1700000000);

	const struct ip_redis *h = ipr(g, "192.0.2.99");
	assert_false(h->blocked);
	assert_true(h->wrong_type);
	assert_int_equal(h->failed_auth, -1);

	/* new addresses on screen: fetched at once, not at the next refresh */
	static const char *const next[] = { "10.0.0.3", "198.51.100.7" };
	int64_t t0 = clock_mono_ms();
	set_top_ips(&g->m, next, 2);
	assert_true(run_until(g, exact_current, 1000));
	assert_true(clock_mono_ms() - t0 < 500);
	assert_int_equal(g->m.n_ip_redis, 2);
	assert_int_equal(ipr(g, "198.51.100.7")->failed_auth, -1);

	/* refresh_now: a change in Redis shows without waiting for the interval */
	cmd("SET blocked:198.51.100.7 1 EX 60");
	unsigned before = g->m.redis.refreshes;
	g->src.ops->refresh_now(g->src.self);
	t0 = clock_mono_ms();
	while (g->m.redis.refreshes == before && clock_mono_ms() - t0 < 1000)
		run_for(g, 5);
	assert_true(ipr(g, "198.51.100.7")->blocked);
	turn_worst_check(&g->worst);
}

/* ---------------------------------------------------------------- the walk */

#define N_BLOCKED 50
#define N_FAILED 30
#define N_RATE 20

static void seed_walk(void)
{
	char key[64];
	for (int i = 0; i < N_BLOCKED; i++) {
		snprintf(key, sizeof key, "blocked:172.16.%d.%d", i / 10, i % 10);
		if (i % 2)
			cmd("SET %s 1 EX %d", key, 1000 + i);
		else
			cmd("SET %s %s EX %d", key, "{\"by\":\"op\",\"reason\":\"walk\",\"at\":1}", 1000 + i);
	}
	for (int i = 0; i < N_FAILED; i++)
		cmd("SET failed_auth:10.9.0.%d %d EX 300", i, i + 1);
	for (int i = 0; i < N_RATE; i++)
		cmd("SET ratelimit:10.8.0.%d %d EX 60", i, 100 + i);
	cmd("HSET failed_auth:10.9.9.9 a b");       /* wrong type: not listed */
}

static const struct block_entry *find_block(struct rig *g, const char *key, size_t len)
{
	for (size_t i = 0; i < g->m.n_blocked; i++)
		if (strlen(g->m.blocked[i].key_ip) == len && memcmp(g->m.blocked[i].key_ip, key, len) == 0)
			return &g->m.blocked[i];
	return NULL;
}

static void check_blocks(struct rig *g)
{
	assert_int_equal(g->m.n_blocked, N_BLOCKED);
	for (int i = 0; i < N_BLOCKED; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "172.16.%d.%d", i / 10, i % 10);
		const struct block_entry *b = find_block(g, ip, strlen(ip));
		if (!b) {
			fail_msg("walk missed blocked:%s", ip);
			return;
		}
		assert_in_range(b->ttl_s, 900 + i, 1000 + i);
		assert_int_equal(b->kind, i % 2 ? RV_PLAIN : RV_JSON_BLOCK);
		if (i % 2 == 0)
			assert_string_equal(b->reason, "walk");
	}
}

static void check_walk(struct rig *g)
{
	check_blocks(g);
	assert_int_equal(g->m.n_counters, N_FAILED);
	for (size_t i = 0; i < g->m.n_counters; i++) {
		assert_int_equal(g->m.counters[i].value, N_FAILED - (long)i);     /* largest first */
		assert_in_range(g->m.counters[i].ttl_s, 1, 300);
	}
	assert_string_equal(g->m.counters[0].key_ip, "10.9.0.29");
	assert_int_equal(g->m.n_ratelimits, N_RATE);
	assert_int_equal(g->m.ratelimits[0].value, 100 + N_RATE - 1);
}

static void test_walk_among_many(void **state)
{
	struct rig *g = rig_new(state, 6);
	int64_t t0 = clock_mono_ms();
	cmd("DEBUG POPULATE 200000 unrelated:session 40");
	seed_walk();
	print_message("seeded 200000 unrelated keys in %lld ms\n", (long long)(clock_mono_ms() - t0));
	long long scans0 = cmdstat_calls("scan");
	long long scan_us0 = cmdstat("scan", "usec");
	long long keys0 = cmdstat_calls("keys");

	/* as `sectop snapshot` runs it: no budget, one walk as fast as it goes */
	rig_start(g);
	static const char *const ips[] = { "172.16.0.1", "10.9.0.29", "10.8.0.3" };
	set_top_ips(&g->m, ips, 3);
	t0 = clock_mono_ms();
	assert_true(run_until(g, walk_done, 5000));
	int64_t walk_ms = clock_mono_ms() - t0;
	check_walk(g);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	print_message("unbudgeted walk of 200050 keys: %lld ms, %lu SCAN steps, %lu commands, %.1f ms of Redis CPU in SCAN\n",
	              (long long)walk_ms, st.scan_steps, st.commands, (cmdstat("scan", "usec") - scan_us0) / 1000.0);
	/* one pass for the three prefixes (one MATCH for them all): about
	 * 200 steps at COUNT 1000, not 3 x 200 */
	assert_in_range(st.scan_steps, 190, 260);
	assert_int_equal(cmdstat_calls("keys"), keys0);
	assert_true(cmdstat_calls("scan") - scans0 >= (long long)st.scan_steps);

	/* a refresh of the addresses on screen stays cheap among all those keys */
	assert_true(run_until(g, exact_current, 1000));
	int64_t worst = 0, total = 0;
	long long get_us0 = cmdstat("get", "usec"), ttl_us0 = cmdstat("ttl", "usec");
	for (int i = 0; i < 20; i++) {
		unsigned before = g->m.redis.refreshes;
		int64_t s = clock_mono_ms();
		g->src.ops->refresh_now(g->src.self);
		while (g->m.redis.refreshes == before && clock_mono_ms() - s < 1000)
			run_for(g, 1);
		int64_t took = clock_mono_ms() - s;
		total += took;
		worst = took > worst ? took : worst;
	}
	print_message("exact refresh among 200k keys: avg %.1f ms, worst %lld ms (wall, loop included); "
	              "Redis CPU %.1f us per refresh\n", total / 20.0, (long long)worst,
	              (cmdstat("get", "usec") - get_us0 + cmdstat("ttl", "usec") - ttl_us0) / 20.0);
	turn_worst_check(&g->worst);
	cmd("FLUSHDB");
}

/* As `sectop report` runs it: the block keys only, in large steps; no
 * counter is read or published, and still no KEYS. */
static void test_walk_blocks_only(void **state)
{
	struct rig *g = rig_new(state, 6);
	cmd("DEBUG POPULATE 100000 unrelated:session 40");
	seed_walk();
	long long scans0 = cmdstat_calls("scan");
	long long keys0 = cmdstat_calls("keys");
	long long gets0 = cmdstat_calls("get");

	rig_start(g);
	redis_walk_blocks_only(g->r, 10000);
	assert_true(run_until(g, walk_done, 5000));
	check_blocks(g);
	assert_int_equal(g->m.n_counters, 0);
	assert_int_equal(g->m.n_ratelimits, 0);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	print_message("blocks-only walk of 100000 keys: %lu SCAN steps, %lu commands\n",
	              st.scan_steps, st.commands);
	/* one prefix, ~100050 keys at COUNT 10000: about ten steps, not 3 x 100 */
	assert_in_range(st.scan_steps, 9, 20);
	assert_true(cmdstat_calls("scan") - scans0 >= (long long)st.scan_steps);
	assert_int_equal(cmdstat_calls("keys"), keys0);
	/* the GETs of the block keys, none of a counter's */
	assert_in_range(cmdstat_calls("get") - gets0, N_BLOCKED, 2 * N_BLOCKED);
	cmd("FLUSHDB");
}

/* The report's default: no walk at all, however many keys; GET and TTL of
 * the block key of each listed address, in one pipeline; no counter. */
static void test_lookup_blocks_only(void **state)
{
	struct rig *g = rig_new(state, 6);
	cmd("DEBUG POPULATE 100000 unrelated:session 40");
	seed_exact();
	long long scans0 = cmdstat_calls("scan");
	long long gets0 = cmdstat_calls("get");
	long long ttls0 = cmdstat_calls("ttl");
	size_t n = sizeof exact_ips / sizeof exact_ips[0];

	rig_start(g);
	redis_lookup_blocks_only(g->r);
	set_top_ips(&g->m, exact_ips, n);
	assert_true(run_until(g, exact_current, 2000));
	assert_int_equal(g->m.n_ip_redis, n);
	const struct ip_redis *a = ipr(g, "10.0.0.1");
	assert_true(a->blocked);
	assert_string_equal(a->block_by, "alice");
	assert_in_range(a->block_ttl_s, 3500, 3600);
	assert_int_equal(a->failed_auth, -1);       /* not read */
	assert_true(ipr(g, "10.0.0.2")->blocked);
	assert_int_equal(ipr(g, "10.0.0.2")->failed_auth, -1);
	assert_true(ipr(g, "10.0.0.4")->wrong_type);
	assert_false(ipr(g, "10.0.0.3")->blocked);
	assert_true(ipr(g, "2001:db8::1")->blocked);
	/* a few more refreshes: still no walk */
	g->m.refresh_ms = 50;
	int64_t until = clock_mono_ms() + 300;
	while (clock_mono_ms() < until)
		assert_int_equal(loop_turn(g->loop, TURN_MS, NULL, 0), 0);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	assert_int_equal(st.scan_steps, 0);
	assert_int_equal(cmdstat_calls("scan"), scans0);
	assert_false(g->m.walk_complete);
	assert_int_equal(g->m.n_blocked, 0);
	/* two commands per address per look-up */
	long long gets = cmdstat_calls("get") - gets0, ttls = cmdstat_calls("ttl") - ttls0;
	assert_int_equal(gets, ttls);
	assert_true(gets >= (long long)n && gets % (long long)n == 0);
	print_message("look-ups of %zu addresses among 100000 keys: %lu commands, 0 SCAN\n", n, st.commands);
	cmd("FLUSHDB");
}

/* The console's way: a small budget per refresh, the walk spread across
 * refreshes; each slice stays near its budget. */
static void test_walk_budgeted(void **state)
{
	struct rig *g = rig_new(state, 6);
	cmd("DEBUG POPULATE 60000 unrelated:cache 20");
	seed_walk();
	g->cfg.scan_budget_ms = 15;
	g->cfg.refresh_ms = 100;
	rig_start(g);
	int64_t t0 = clock_mono_ms();
	assert_true(run_until(g, walk_done, 8000));
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	int64_t took = clock_mono_ms() - t0;
	print_message("budgeted walk (15 ms per 100 ms refresh) of 60050 keys: %lld ms, %lu steps, %u refreshes\n",
	              (long long)took, st.scan_steps, g->m.redis.refreshes);
	check_walk(g);
	/* more than one refresh was needed: the budget did cut the walk up */
	assert_true(g->m.redis.refreshes >= 2);
	turn_worst_check(&g->worst);
	cmd("FLUSHDB");
}

/* Bounded memory: every block key is counted, blocked-max of them kept
 * (here all with the same TTL: the first in key order), and the
 * REDIS_TOP_COUNTERS largest counters of each kind. */
static void test_walk_bounds(void **state)
{
	struct rig *g = rig_new(state, 7);
	g->cfg.walk_interval_s = 1;
	cmd("DEBUG POPULATE %d blocked:198.18. 1", REDIS_MAX_BLOCKED + 5000);
	for (int i = 0; i < 1000; i++)     /* distinct values 1..1000 */
		redisAppendCommand(seed, "SET failed_auth:10.7.%d.%d %d", i / 256, i % 256, (i * 7919) % 1000 + 1);
	for (int i = 0; i < 1000; i++) {
		redisReply *rep = NULL;
		assert_int_equal(redisGetReply(seed, (void **)&rep), REDIS_OK);
		freeReplyObject(rep);
	}
	rig_start(g);
	int64_t t0 = clock_mono_ms();
	assert_true(run_until(g, walk_done, 10000));
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	print_message("walk of %d blocked keys: %lld ms, %lu commands\n", REDIS_MAX_BLOCKED + 5000,
	              (long long)(clock_mono_ms() - t0), st.commands);
	assert_int_equal(g->m.n_blocked, g->cfg.blocked_max);
	assert_int_equal(g->m.blocked_count, REDIS_MAX_BLOCKED + 5000);
	assert_int_equal(st.blocked_dropped, REDIS_MAX_BLOCKED + 5000 - g->cfg.blocked_max);
	assert_int_equal(g->m.blocked[0].kind, RV_PLAIN);
	assert_int_equal(g->m.blocked[0].ttl_s, -1);
	/* DEBUG POPULATE names them blocked:198.18.:0 .. blocked:198.18.:104999 */
	assert_string_equal(g->m.blocked[0].key_ip, "198.18.:0");
	for (size_t i = 1; i < g->m.n_blocked; i++)
		assert_true(strcmp(g->m.blocked[i - 1].key_ip, g->m.blocked[i].key_ip) < 0);
	assert_int_equal(g->m.n_counters, REDIS_TOP_COUNTERS);
	for (size_t i = 0; i < g->m.n_counters; i++)
		assert_int_equal(g->m.counters[i].value, 1000 - (long)i);
	/* the next walk replaces the list whole (and frees the old one) */
	g->m.walk_complete = false;
	assert_true(run_until(g, walk_done, 10000));
	assert_int_equal(g->m.n_blocked, g->cfg.blocked_max);
	assert_int_equal(g->m.blocked_count, REDIS_MAX_BLOCKED + 5000);
	turn_worst_check(&g->worst);
	cmd("FLUSHDB");
}

/* ---------------------------------------------------------------- pacing */

static bool walk_twice(struct rig *g)
{
	return g->m.walk.passes >= 2;
}

/* A full pass at most every walk-interval; between passes the exact
 * state of the addresses on screen is still read at every refresh. */
static void test_walk_paced(void **state)
{
	struct rig *g = rig_new(state, 6);
	seed_walk();
	g->cfg.walk_interval_s = 2;
	rig_start(g);
	static const char *const ips[] = { "10.0.5.1" };
	set_top_ips(&g->m, ips, 1);
	int64_t t0 = clock_mono_ms();
	assert_true(run_until(g, walk_done, 3000));
	assert_false(g->m.redis_events);     /* the suite's server publishes none */
	assert_int_equal(g->m.blocked_count, N_BLOCKED);
	/* a block of the address on screen: seen at the next refresh */
	cmd("SET blocked:10.0.5.1 1 EX 900");
	cmd("SET blocked:10.0.5.2 1 EX 900");     /* off screen */
	unsigned r0 = g->m.redis.refreshes;
	run_for(g, 600);
	assert_true(ipr(g, "10.0.5.1")->blocked);
	assert_true(g->m.redis.refreshes >= r0 + 3);   /* refresh 100 ms: still every refresh */
	cmd("DEL blocked:10.0.5.1");
	r0 = g->m.redis.refreshes;
	run_for(g, 300);
	assert_false(ipr(g, "10.0.5.1")->blocked);
	assert_true(g->m.redis.refreshes > r0);
	/* no second pass before the interval; the off-screen block waits for it */
	int64_t before = clock_mono_ms() - t0;
	if (before < 1800) {
		assert_int_equal(g->m.walk.passes, 1);
		assert_null(find_block(g, "10.0.5.2", 8));
	}
	assert_true(run_until(g, walk_twice, 4000));
	int64_t second = clock_mono_ms() - t0;
	print_message("second pass ended %lld ms after the first started (walk-interval 2 s)\n",
	              (long long)second);
	assert_true(second >= 2000);
	assert_non_null(find_block(g, "10.0.5.2", 8));
	assert_int_equal(g->m.blocked_count, N_BLOCKED + 1);
	cmd("FLUSHDB");
}

static bool walk_active(struct rig *g)
{
	return g->m.walk.active && g->m.walk.fraction > 0.2 && g->m.walk.blocked > 0;
}

/* scan-rate: the pass's SCAN COUNT is spread in time, and while it runs the
 * count found so far and the walk's progress are shown. */
static void test_walk_rate(void **state)
{
	struct rig *g = rig_new(state, 6);
	cmd("DEBUG POPULATE 14000 unrelated:cache 20");
	cmd("DEBUG POPULATE 2000 blocked:198.51.100. 1");
	g->cfg.scan_rate = 12000;
	rig_start(g);
	int64_t t0 = clock_mono_ms();
	assert_true(run_until(g, walk_active, 4000));
	assert_false(g->m.walk_complete);
	assert_true(g->m.walk.fraction < 1);
	assert_true(g->m.n_blocked <= (size_t)g->cfg.blocked_max);
	print_message("during the pass: %lu blocks so far, %.0f%% of the keyspace\n", g->m.walk.blocked,
	              g->m.walk.fraction * 100);
	assert_true(run_until(g, walk_done, 6000));
	int64_t took = clock_mono_ms() - t0;
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	print_message("16000 keys at 12000 keys/s: %lld ms, %lu SCAN steps\n", (long long)took, st.scan_steps);
	/* 16 steps of COUNT 1000 at 12 a second, less the first bucket (1200) */
	assert_true(took >= 1000);
	assert_int_equal(g->m.blocked_count, 2000);
	assert_int_equal(g->m.n_blocked, g->cfg.blocked_max);
	turn_worst_check(&g->worst);
	cmd("FLUSHDB");
}

/* ---------------------------------------------------------------- keyspace events */

static pid_t events_pid;

/* A throwaway server of the test's own, started with keyspace events on
 * (the suite's shared one is left as it is). */
static int events_server(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	int port = ntohs(a.sin_port);
	close(fd);
	char ports[16];
	snprintf(ports, sizeof ports, "%d", port);
	events_pid = fork();
	if (events_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execlp("redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1", "--save", "",
		       "--appendonly", "no", "--notify-keyspace-events", "K$gx", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		redisContext *c = redisConnect("127.0.0.1", port);
		bool ok = c && !c->err;
		redisFree(c);
		if (ok)
			return port;
		usleep(50000);
	}
	fail_msg("redis-server with keyspace events did not start");
	return -1;
}

static redisContext *events_ctl;     /* the test's own connection to it */

static int events_teardown(void **state)
{
	if (events_ctl)
		redisFree(events_ctl);
	events_ctl = NULL;
	if (events_pid > 0) {
		kill(events_pid, SIGTERM);
		waitpid(events_pid, NULL, 0);
		events_pid = 0;
	}
	return rig_teardown(state);
}

static bool events_up(struct rig *g)
{
	return g->m.walk_complete && g->m.redis_events;
}

static struct rig *g_events;
static const char *events_key;

static bool block_listed(struct rig *g)
{
	return find_block(g, events_key, strlen(events_key)) != NULL;
}

static bool block_unlisted(struct rig *g)
{
	return !block_listed(g);
}

static bool count_6001(struct rig *g)
{
	return g->m.blocked_count == 6001 && !g->m.walk.active;
}

/* The rig of the events tests: a server of its own with keyspace events,
 * its db 3, one pass of the walk (what follows is the events'), and the
 * test's own connection to it (events_ctl). */
static struct rig *events_rig(void **state, long scan_rate)
{
	struct rig *g = calloc(1, sizeof *g);
	assert_non_null(g);
	*state = g;
	int port = events_server();
	char url[64];
	conf_defaults(&g->cfg);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", port);
	set_str(&g->cfg.redis, url);
	g->cfg.refresh_ms = 100;
	g->cfg.timeout_ms = 300;
	g->cfg.scan_rate = scan_rate;
	g->cfg.walk_interval_s = 3600;
	events_ctl = redisConnect("127.0.0.1", port);
	assert_true(events_ctl && !events_ctl->err);
	freeReplyObject(redisCommand(events_ctl, "SELECT 3"));
	return g;
}

/* SET blocked:NET.x.y 1 EX ttl_s for n addresses, pipelined (in one
 * transaction when multi), and their replies read. */
static void set_blocks(redisContext *c, const char *net, int n, int ttl_s, bool multi)
{
	if (multi)
		redisAppendCommand(c, "MULTI");
	for (int i = 0; i < n; i++)
		redisAppendCommand(c, "SET blocked:%s.%d.%d 1 EX %d", net, i / 256, i % 256, ttl_s);
	if (multi)
		redisAppendCommand(c, "EXEC");
	for (int i = 0; i < n + 2 * multi; i++) {
		redisReply *rep = NULL;
		assert_int_equal(redisGetReply(c, (void **)&rep), REDIS_OK);
		freeReplyObject(rep);
	}
}

static void test_events(void **state)
{
	struct rig *g = events_rig(state, 0);
	redisContext *c = events_ctl;
	freeReplyObject(redisCommand(c, "SET blocked:192.0.2.1 1 EX 600"));
	rig_start(g);
	assert_true(run_until(g, events_up, 3000));
	print_message("subscribed\n");
	assert_int_equal(g->m.blocked_count, 1);
	g_events = g;

	/* a new block: listed and counted without a walk */
	events_key = "203.0.113.9";
	int64_t t0 = clock_mono_ms();
	freeReplyObject(redisCommand(c, "SET blocked:203.0.113.9 %s EX 900", "{\"by\":\"ev\",\"at\":5}"));
	assert_true(run_until(g, block_listed, 1000));
	print_message("new block listed %lld ms after it was set\n", (long long)(clock_mono_ms() - t0));
	assert_int_equal(g->m.blocked_count, 2);
	assert_int_equal(g->m.walk.passes, 1);
	/* removed: off the list and the count */
	freeReplyObject(redisCommand(c, "DEL blocked:203.0.113.9"));
	assert_true(run_until(g, block_unlisted, 1000));
	assert_int_equal(g->m.blocked_count, 1);
	/* expired */
	events_key = "203.0.113.10";
	freeReplyObject(redisCommand(c, "SET blocked:203.0.113.10 1 PX 300"));
	assert_true(run_until(g, block_listed, 1000));
	assert_int_equal(g->m.blocked_count, 2);
	assert_true(run_until(g, block_unlisted, 3000));
	assert_int_equal(g->m.blocked_count, 1);
	/* a flood of events: bounded, coalesced, and still exact after */
	set_blocks(c, "10.66", 6000, 900, true);
	/* past EVENTS_MAX pending keys, the walk counts them instead */
	bool counted = run_until(g, count_6001, 5000);
	print_message("after the flood: %lu block keys counted, %u passes, walk %s, %zu listed\n",
	              g->m.blocked_count, g->m.walk.passes, g->m.walk.active ? "active" : "idle", g->m.n_blocked);
	assert_true(counted);
	assert_int_equal(g->m.n_blocked, g->cfg.blocked_max);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	print_message("%lu keys read because of events, %lu passes\n", st.events, st.walks);
	turn_worst_check(&g->worst);
}

static bool events_mid_pass(struct rig *g)
{
	return g->m.redis_events && g->m.walk.active && g->m.walk.fraction > 0.5;
}

static bool walk_idle(struct rig *g)
{
	return g->m.walk_complete && !g->m.walk.active;
}

/* Blocks extended or deleted while a pass runs, some behind its cursor
 * (counted already, most not listed) and some ahead: the pass's own count
 * is exact, with no second pass. */
static void test_events_during_a_pass(void **state)
{
	struct rig *g = events_rig(state, 1500);      /* a pass of two seconds */
	set_blocks(events_ctl, "10.77", 3000, 900, false);
	rig_start(g);
	assert_true(run_until(g, events_mid_pass, 5000));
	set_blocks(events_ctl, "10.77", 600, 3600, false);
	for (int i = 2400; i < 2700; i++)
		redisAppendCommand(events_ctl, "DEL blocked:10.77.%d.%d", i / 256, i % 256);
	for (int i = 2400; i < 2700; i++) {
		redisReply *rep = NULL;
		assert_int_equal(redisGetReply(events_ctl, (void **)&rep), REDIS_OK);
		freeReplyObject(rep);
	}
	assert_true(run_until(g, walk_idle, 8000));
	run_for(g, 1000);                     /* the last events, and a pass they may ask for */
	assert_true(run_until(g, walk_idle, 8000));
	print_message("3000 blocks, 600 extended and 300 deleted during the pass: %lu counted, %u passes\n",
	              g->m.blocked_count, g->m.walk.passes);
	assert_int_equal(g->m.blocked_count, 2700);
	assert_int_equal(g->m.walk.passes, 1);
	assert_int_equal(g->m.n_blocked, g->cfg.blocked_max);
	turn_worst_check(&g->worst);
}

/* ---------------------------------------------------------------- hostile keys */

static void test_hostile_keys(void **state)
{
	struct rig *g = rig_new(state, 7);
	static const char esc[] = "blocked:\x1b[2J\x1b]0;pwned\x07";
	static const char bin[] = "blocked:\xff\xfe\x01\x7f\xc3(";
	static const char glob[] = "blocked:*?[x]\\";
	static const char nl[] = "blocked:a b\nc\rd";
	const char *keys[] = { esc, bin, glob, nl };
	for (size_t i = 0; i < 4; i++)
		cmd("SET %b %s EX 500", keys[i], strlen(keys[i]), "1");
	cmd("SET %s %s EX 500", "blocked:\xe2\x80\xae" "evil", "{\"by\":\"\\u001b[5m\",\"reason\":\"\\u202e\"}");
	cmd("SET %s 5", "failed_auth:\x1b[31mred");
	rig_start(g);
	assert_true(run_until(g, walk_done, 3000));
	assert_int_equal(g->m.n_blocked, 5);
	for (size_t i = 0; i < 4; i++) {
		const char *k = keys[i] + strlen("blocked:");
		if (!find_block(g, k, strlen(k)))
			fail_msg("hostile key %zu not found raw", i);
	}
	const struct block_entry *e = find_block(g, "\xe2\x80\xae" "evil", 7);
	if (!e) {
		fail_msg("the bidi key was not found");
		return;
	}
	assert_string_equal(e->by, "\x1b[5m");
	assert_string_equal(e->reason, "\xe2\x80\xae");
	assert_int_equal(g->m.n_counters, 1);
	assert_string_equal(g->m.counters[0].key_ip, "\x1b[31mred");
	assert_int_equal(g->m.counters[0].value, 5);
}

/* A prefix holding glob characters matches itself, not a pattern. */
static void test_glob_prefix(void **state)
{
	struct rig *g = rig_new(state, 7);
	set_str(&g->cfg.keys.blocked, "bl*ck[ed]?:");
	cmd("SET %s 1", "bl*ck[ed]?:1.2.3.4");
	cmd("SET %s 1", "blXXck[ed]?:5.6.7.8");      /* would match an unescaped * */
	cmd("SET %s 1", "bl*cke?:9.9.9.9");          /* would match an unescaped [ed] */
	cmd("SET %s 1", "bl*ck[ed]x:1.1.1.1");       /* would match an unescaped ? */
	rig_start(g);
	static const char *const ips[] = { "1.2.3.4", "5.6.7.8" };
	set_top_ips(&g->m, ips, 2);
	assert_true(run_until(g, walk_done, 3000));
	assert_true(run_until(g, exact_current, 1000));
	assert_int_equal(g->m.n_blocked, 1);
	assert_string_equal(g->m.blocked[0].key_ip, "1.2.3.4");
	assert_true(ipr(g, "1.2.3.4")->blocked);
	assert_false(ipr(g, "5.6.7.8")->blocked);
}

/* ---------------------------------------------------------------- faults */

static void test_wrong_password(void **state)
{
	struct rig *g = rig_new(state, 8);
	set_str(&g->cfg.redis_password, "not-the-password");
	rig_start(g);
	assert_true(run_until(g, has_failed, 2000));
	print_message("wrong password: %s\n", g->m.redis.error);
	assert_non_null(strstr(g->m.redis.error, "WRONGPASS"));
	assert_non_null(strstr(g->m.redis.error, "AUTH"));
	assert_null(strstr(g->m.redis.error, "not-the-password"));
	assert_int_equal(g->m.redis.refreshes, 0);
	assert_int_equal(model_source_state(&g->m.redis, clock_wall_ms(), 10000), SOURCE_DOWN);
	/* it keeps trying, with backoff: a few attempts, not one per turn */
	run_for(g, 600);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	assert_in_range(st.connects, 2, 5);
	turn_worst_check(&g->worst);
}

static void test_no_password(void **state)
{
	struct rig *g = rig_new(state, 8);
	set_str(&g->cfg.redis_password, NULL);
	rig_start(g);
	assert_true(run_until(g, has_failed, 2000));
	print_message("no password: %s\n", g->m.redis.error);
	assert_non_null(strstr(g->m.redis.error, "NOAUTH"));
	assert_non_null(strstr(g->m.redis.error, "REDISCLI_AUTH"));
}

/* In the URL, percent-encoded: the same as REDISCLI_AUTH. */
static void test_password_in_url(void **state)
{
	struct rig *g = rig_new(state, 8);
	char url[600], enc[300] = "";
	for (const char *p = password; *p && strlen(enc) + 4 < sizeof enc; p++)
		snprintf(enc + strlen(enc), sizeof enc - strlen(enc), "%%%02X", (unsigned char)*p);
	/* redis://host... -> redis://:pw@host..., unix:/p -> unix://:pw@/p */
	char *plain = url_for_db(8);
	if (server.path[0])
		snprintf(url, sizeof url, "unix://:%s@%s", enc, plain + strlen("unix:"));
	else
		snprintf(url, sizeof url, "redis://:%s@%s", enc, plain + strlen("redis://"));
	free(plain);
	set_str(&g->cfg.redis, url);
	set_str(&g->cfg.redis_password, NULL);
	cmd("SET failed_auth:10.1.1.1 3");
	rig_start(g);
	static const char *const ips[] = { "10.1.1.1" };
	set_top_ips(&g->m, ips, 1);
	assert_true(run_until(g, exact_current, 2000));
	assert_int_equal(ipr(g, "10.1.1.1")->failed_auth, 3);
	assert_null(strstr(redis_display(g->r), password));
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_refused(void **state)
{
	struct rig *g = rig_new(state, 8);
	char url[64], logpath[64];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", free_port());
	set_str(&g->cfg.redis, url);
	snprintf(logpath, sizeof logpath, "/tmp/sectop-test-redis-%d.log", (int)getpid());
	assert_int_equal(log_open(logpath, 0), 0);
	rig_start(g);
	assert_true(run_until(g, has_failed, 2000));
	print_message("nothing listening: %s\n", g->m.redis.error);
	assert_non_null(strstr(g->m.redis.error, "refused"));
	run_for(g, 700);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	assert_in_range(st.connects, 2, 6);      /* backoff, not a busy loop */
	assert_in_range(g->m.redis.failures, 2, 6);
	turn_worst_check(&g->worst);
	log_close();
	/* one line for the state change, not one per attempt */
	int lines = count_lines(logpath, "refused");
	unlink(logpath);
	assert_int_equal(lines, 1);
}

/* The server drops our connection (as on a restart or a timeout of idle
 * clients): noticed at once, reported, remade. */
static void kill_clients_in_db(int db)
{
	redisReply *id = cmd_reply("CLIENT ID");
	redisReply *list = cmd_reply("CLIENT LIST TYPE normal");
	char want[32];
	snprintf(want, sizeof want, " db=%d ", db);
	for (char *line = list->str; line && *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		long long cid = strtoll(line + 3, NULL, 10);
		if (strstr(line, want) && cid != id->integer)
			cmd("CLIENT KILL ID %lld", cid);
		line = end ? end + 1 : NULL;
	}
	freeReplyObject(list);
	freeReplyObject(id);
}

static void test_connection_killed(void **state)
{
	struct rig *g = rig_new(state, 8);
	cmd("SET failed_auth:10.3.3.3 9");
	rig_start(g);
	static const char *const ips[] = { "10.3.3.3" };
	set_top_ips(&g->m, ips, 1);
	assert_true(run_until(g, exact_current, 2000));
	kill_clients_in_db(8);
	assert_true(run_until(g, has_failed, 1000));
	print_message("killed: %s\n", g->m.redis.error);
	assert_non_null(strstr(g->m.redis.error, "closed"));
	unsigned before = g->m.redis.refreshes;
	int64_t t0 = clock_mono_ms();
	while (g->m.redis.refreshes == before && clock_mono_ms() - t0 < 2000)
		run_for(g, 10);
	assert_true(g->m.redis.refreshes > before);
	assert_int_equal(g->m.redis.state, SOURCE_OK);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	assert_int_equal(st.connects, 2);
}

static pid_t server_pid(void)
{
	long long pid = info_field("server", "process_id");
	if (pid <= 1 || kill((pid_t)pid, 0) != 0)
		return 0;
	return (pid_t)pid;
}

static void stop_server(pid_t pid)
{
	stopped_pid = pid;
	assert_int_equal(kill(pid, SIGSTOP), 0);
}

static void cont_server(void)
{
	if (stopped_pid)
		kill(stopped_pid, SIGCONT);
	stopped_pid = 0;
}

static void test_stopped_server(void **state)
{
	struct rig *g = rig_new(state, 9);
	cmd("SET blocked:10.2.2.2 1 EX 900");
	pid_t pid = server_pid();
	if (!pid) {
		print_message("cannot signal the Redis server: skipped\n");
		skip();
	}
	rig_start(g);
	static const char *const ips[] = { "10.2.2.2" };
	set_top_ips(&g->m, ips, 1);
	assert_true(run_until(g, exact_current, 2000));
	assert_true(run_until(g, walk_done, 2000));

	/* stopped: connected sockets stay up, replies never come */
	stop_server(pid);
	int64_t t0 = clock_mono_ms();
	g->worst = (struct turn_worst){ 0 };
	assert_true(run_until(g, has_failed, 2000));
	int64_t took = clock_mono_ms() - t0;
	print_message("stopped server: failed after %lld ms: %s\n", (long long)took, g->m.redis.error);
	assert_non_null(strstr(g->m.redis.error, "timed out after 300 ms"));
	/* a refresh starts within refresh_ms, then times out after timeout_ms */
	assert_true(took <= 100 + 300 + 150);
	assert_int_equal(model_source_state(&g->m.redis, clock_wall_ms(), 60000), SOURCE_STALE);
	/* reconnecting while it is stopped: the kernel still accepts, AUTH hangs */
	run_for(g, 700);
	assert_non_null(strstr(g->m.redis.error, "timed out after 300 ms"));
	print_message("while stopped: %s\n", g->m.redis.error);
	turn_worst_check(&g->worst);
	struct redis_stats st;
	redis_get_stats(g->r, &st);
	assert_true(st.connects >= 2);

	/* back: it reconnects and refreshes again */
	cont_server();
	unsigned before = g->m.redis.refreshes;
	t0 = clock_mono_ms();
	bool back = false;
	while (!back && clock_mono_ms() - t0 < 4000) {
		run_for(g, 10);
		back = g->m.redis.refreshes > before && g->m.redis.state == SOURCE_OK;
	}
	print_message("after SIGCONT: refreshing again after %lld ms\n", (long long)(clock_mono_ms() - t0));
	assert_true(back);
	assert_true(ipr(g, "10.2.2.2")->blocked);
	assert_string_equal(g->m.redis.error, "");
	turn_worst_check(&g->worst);
}

/* ---------------------------------------------------------------- main */

static void cont_at_exit(void)
{
	if (stopped_pid)
		kill(stopped_pid, SIGCONT);
}

static void cont_on_signal(int sig)
{
	if (stopped_pid)
		kill(stopped_pid, SIGCONT);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int group_setup(void **state)
{
	char err[256];
	const char *url = server_url;
	if (redis_url_parse(url, &server, err, sizeof err) < 0) {
		fprintf(stderr, "SECTOP_TEST_REDIS: %s\n", err);
		return -1;
	}
	password = getenv("REDISCLI_AUTH");
	if (!password || !*password)
		password = server.password;
	struct timeval tv = { .tv_sec = 5 };
	seed = server.path[0] ? redisConnectUnixWithTimeout(server.path, tv)
	                      : redisConnectWithTimeout(server.host, server.port, tv);
	if (!seed || seed->err) {
		fprintf(stderr, "cannot connect to %s: %s\n", url, seed ? seed->errstr : "out of memory");
		return -1;
	}
	redisSetTimeout(seed, tv);
	if (password) {
		redisReply *rep = redisCommand(seed, "AUTH %s", password);
		bool ok = rep && rep->type != REDIS_REPLY_ERROR;
		freeReplyObject(rep);
		if (!ok) {
			fprintf(stderr, "AUTH failed on %s\n", url);
			return -1;
		}
	}
	signal(SIGPIPE, SIG_IGN);     /* as main() does: a dropped peer is an error, not a death */
	atexit(cont_at_exit);
	signal(SIGINT, cont_on_signal);
	signal(SIGTERM, cont_on_signal);
	signal(SIGALRM, cont_on_signal);
	return 0;
}

static int group_teardown(void **state)
{
	cont_server();
	if (seed) {
		for (int db = 5; db <= 9; db++) {
			redisReply *rep = redisCommand(seed, "SELECT %d", db);
			freeReplyObject(rep);
			rep = redisCommand(seed, "FLUSHDB");
			freeReplyObject(rep);
		}
		redisFree(seed);
	}
	redis_target_free(&server);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exact_state, rig_teardown),
		cmocka_unit_test_teardown(test_walk_among_many, rig_teardown),
		cmocka_unit_test_teardown(test_walk_blocks_only, rig_teardown),
		cmocka_unit_test_teardown(test_lookup_blocks_only, rig_teardown),
		cmocka_unit_test_teardown(test_walk_budgeted, rig_teardown),
		cmocka_unit_test_teardown(test_walk_bounds, rig_teardown),
		cmocka_unit_test_teardown(test_walk_paced, rig_teardown),
		cmocka_unit_test_teardown(test_walk_rate, rig_teardown),
		cmocka_unit_test_teardown(test_events, events_teardown),
		cmocka_unit_test_teardown(test_events_during_a_pass, events_teardown),
		cmocka_unit_test_teardown(test_hostile_keys, rig_teardown),
		cmocka_unit_test_teardown(test_glob_prefix, rig_teardown),
		cmocka_unit_test_teardown(test_wrong_password, rig_teardown),
		cmocka_unit_test_teardown(test_no_password, rig_teardown),
		cmocka_unit_test_teardown(test_password_in_url, rig_teardown),
		cmocka_unit_test_teardown(test_refused, rig_teardown),
		cmocka_unit_test_teardown(test_connection_killed, rig_teardown),
		cmocka_unit_test_teardown(test_stopped_server, rig_teardown),
	};
	server_url = testenv_need("SECTOP_TEST_REDIS");
	/* a hung test must not leave the shared server stopped */
	alarm(60);
	testenv_only();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
