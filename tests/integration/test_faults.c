/* All three sources in one loop, as the program runs them: a Redis that
 * is down at start, stopped with SIGSTOP, or killed mid-run, and a hung
 * health endpoint, each make only their own part stale while PostgreSQL
 * and the other endpoints keep refreshing and no loop turn blocks. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "loop.h"
#include "testenv.h"

static char dir[] = "/tmp/sectop-faults-XXXXXX";
static int redis_port;
static const char *dsn, *http;

/* A private Redis for this test only: the shared one must stay up. */
static int redis_pid(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/redis.pid", dir);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static void redis_start(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no"
	         " --daemonize yes --pidfile %s/redis.pid --dir %s --logfile %s/redis.log",
	         redis_port, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "for i in $(seq 50); do redis-cli -p %d ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1",
	         redis_port);
	assert_int_equal(system(cmd), 0);
}

static void redis_kill(void)
{
	int pid = redis_pid();
	if (pid > 0) {
		kill(pid, SIGCONT);
		kill(pid, SIGKILL);
		for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
			usleep(20000);
	}
	char path[256];
	snprintf(path, sizeof path, "%s/redis.pid", dir);
	unlink(path);
}

static int free_port(void)
{
	FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'", "r");
	int port = 0;
	if (p) {
		if (fscanf(p, "%d", &port) != 1)
			port = 0;
		pclose(p);
	}
	return port;
}

static int group_setup(void **state)
{
	(void)state;
	dsn = testenv_need("SECTOP_TEST_DB");
	http = testenv_need("SECTOP_TEST_HTTP");
	if (!mkdtemp(dir))
		return -1;
	redis_port = free_port();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return redis_port > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	redis_kill();
	curl_global_cleanup();
	return testenv_rmtree(dir);
}

struct run {
	struct config cfg;
	struct app app;
	struct turn_worst worst;
};

static void run_open(struct run *r, bool with_slow)
{
	char err[256], url[300];

	memset(r, 0, sizeof *r);
	conf_defaults(&r->cfg);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", redis_port);
	assert_int_equal(conf_set(&r->cfg, "db", dsn, err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "redis", url, err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "refresh", "250ms", err, sizeof err), 0);
	assert_int_equal(conf_set(&r->cfg, "server-timeout", "1s", err, sizeof err), 0);
	snprintf(url, sizeof url, "ok=%s/health/healthy", http);
	assert_int_equal(conf_set(&r->cfg, "health", url, err, sizeof err), 0);
	if (with_slow) {
		snprintf(url, sizeof url, "slow=%s/health/slow timeout=1s", http);
		assert_int_equal(conf_set(&r->cfg, "health", url, err, sizeof err), 0);
	}
	r->app.cfg = &r->cfg;
	assert_int_equal(app_open(&r->app, err, sizeof err), 0);
}

static void run_close(struct run *r)
{
	app_close(&r->app);
	conf_free(&r->cfg);
}

static void run_for(struct run *r, int64_t ms)
{
	int64_t end = clock_mono_ms() + ms;
	while (clock_mono_ms() < end) {
		struct turn_clock t0 = turn_clock_start();
		loop_turn(r->app.loop, 20, NULL, 0);
		turn_worst_note(&r->worst, t0, 20);
	}
}

struct counts {
	unsigned pg, redis, health;
};

static struct counts counts_of(const struct model *m)
{
	return (struct counts){ m->pg.refreshes, m->redis.refreshes, m->health[0].checks };
}

static void assert_others_fresh(const struct counts *before, const struct model *m)
{
	assert_true(m->pg.refreshes >= before->pg + 3);
	assert_true(m->health[0].checks >= before->health + 3);
	assert_int_equal(m->pg.state, SOURCE_OK);
}

static void test_redis_down_at_start(void **state)
{
	struct run r;
	(void)state;
	redis_kill();
	run_open(&r, false);
	run_for(&r, 1500);
	const struct model *m = &r.app.model;
	assert_int_equal(model_source_state(&m->redis, clock_wall_ms(), 0), SOURCE_DOWN);
	assert_true(m->pg.refreshes >= 3);
	assert_true(m->health[0].checks >= 3);
	/* it comes up: the source finds it without a restart */
	redis_start();
	run_for(&r, 3500);
	assert_true(m->redis.refreshes > 0);
	assert_int_equal(m->redis.state, SOURCE_OK);
	turn_worst_check(&r.worst);
	run_close(&r);
}

static void test_redis_stopped_then_killed(void **state)
{
	struct run r;
	(void)state;
	if (redis_pid() <= 0)
		redis_start();
	run_open(&r, false);
	run_for(&r, 1000);
	const struct model *m = &r.app.model;
	assert_true(m->redis.refreshes > 0);

	int pid = redis_pid();
	kill(pid, SIGSTOP);
	struct counts c = counts_of(m);
	run_for(&r, 2500);
	kill(pid, SIGCONT);
	assert_int_equal(model_source_state(&m->redis, clock_wall_ms(), 0), SOURCE_STALE);
	assert_non_null(strstr(m->redis.error, "timed out"));
	assert_others_fresh(&c, m);

	run_for(&r, 2500);                    /* back: fresh again */
	assert_int_equal(m->redis.state, SOURCE_OK);

	c = counts_of(m);
	redis_kill();
	run_for(&r, 1500);
	assert_int_equal(model_source_state(&m->redis, clock_wall_ms(), 0), SOURCE_STALE);
	assert_others_fresh(&c, m);
	turn_worst_check(&r.worst);
	run_close(&r);
}

static void test_hung_endpoint_leaves_the_rest_fresh(void **state)
{
	struct run r;
	(void)state;
	if (redis_pid() <= 0)
		redis_start();
	run_open(&r, true);
	struct counts c = counts_of(&r.app.model);
	run_for(&r, 2500);
	const struct model *m = &r.app.model;
	assert_int_equal(m->health[1].state, HEALTH_DOWN);
	assert_non_null(m->health[1].reason);
	assert_others_fresh(&c, m);
	assert_true(m->redis.refreshes >= 3);
	turn_worst_check(&r.worst);
	run_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redis_down_at_start),
		cmocka_unit_test(test_redis_stopped_then_killed),
		cmocka_unit_test(test_hung_endpoint_leaves_the_rest_fresh),
	};
	testenv_only();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
