/* Alerts, read off a model built by hand: each kind with its stable key and
 * figures, the console's count the same set; deduplication (one start per
 * condition, a clear only after the hold, a return starts again); the
 * messages a receiver gets (JSON fields, Slack text with <, >, & escaped,
 * controls inert); notify's configuration refusing plain http elsewhere
 * than loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_track.h"
#include "alerts.h"
#include "allowlist.h"
#include "conf.h"
#include "model.h"
#include "notify_msg.h"

#define NOW_MS 1800000000000LL

struct fixture {
	struct config cfg;
	struct model m;
	struct allowlist allow;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[200];

	conf_defaults(&f->cfg);
	conf_set(&f->cfg, "allow", "192.0.2.0/24 note=office", err, sizeof err);
	allowlist_init(&f->allow, &f->cfg, err, sizeof err);
	model_init(&f->m, 300, NULL, 2000);
	f->m.allow = &f->allow;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	model_free(&f->m);
	allowlist_free(&f->allow);
	conf_free(&f->cfg);
	free(f);
	return 0;
}

static void top(struct model *m, const char *ip, long failures, long requests)
{
	struct ip_stat *v = realloc(m->top_ips, (m->n_top_ips + 1) * sizeof *v);
	v[m->n_top_ips] = (struct ip_stat){ .failures = failures, .requests = requests };
	snprintf(v[m->n_top_ips].ip, sizeof v[m->n_top_ips].ip, "%s", ip);
	m->top_ips = v;
	m->n_top_ips++;
}

struct seen {
	struct alert v[16];
	size_t n;
};

static void keep(void *ctx, const struct alert *a)
{
	struct seen *s = ctx;
	if (s->n < 16)
		s->v[s->n++] = *a;
}

static const struct alert *find(const struct seen *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

static void test_kinds(void **state)
{
	struct fixture *f = *state;
	struct model *m = &f->m;
	struct seen s = { 0 };
	char line[400];

	top(m, "203.0.113.45", 57, 60);            /* over 10 in a 5 min window */
	top(m, "198.51.100.1", 10, 90);            /* at the threshold: not over */
	struct block_entry *b = calloc(2, sizeof *b);
	b[0] = (struct block_entry){ .key_ip = strdup("192.0.2.7"), .ttl_s = 3600, .kind = RV_PLAIN };
	b[1] = (struct block_entry){ .key_ip = strdup("192.0.2.8"), .ttl_s = 3600, .kind = RV_JSON_BLOCK };
	model_set_blocked(m, b, 2);               /* the servers' block on an allowed address; an operator's */
	m->health = calloc(2, sizeof *m->health);
	m->n_health = 2;
	m->health[0] = (struct health_result){ .name = strdup("api"), .url = strdup("http://x"), .state = HEALTH_DOWN,
	                                       .reason = strdup("HTTP 503 \x1b[31m"), .http_status = 503 };
	m->health[1] = (struct health_result){ .name = strdup("web"), .url = strdup("https://y"),
	                                       .state = HEALTH_HEALTHY, .cert_expires_at = NOW_MS / 1000 + 3 * 86400 + 60 };
	m->pg = (struct source_status){ .state = SOURCE_STALE, .last_ok_ms = NOW_MS - 61000, .refreshes = 3 };
	snprintf(m->pg.error, sizeof m->pg.error, "connection refused");
	m->redis = (struct source_status){ .state = SOURCE_STALE, .last_ok_ms = NOW_MS - 59000, .refreshes = 3 };

	alerts_each(m, &f->cfg, NOW_MS, keep, &s);
	assert_int_equal(s.n, 5);
	assert_int_equal(alerts_count(m, &f->cfg, NOW_MS), 5);   /* the console's ALERTS, the same set */

	const struct alert *a = find(&s, "brute_force:203.0.113.45");
	assert_non_null(a);
	assert_int_equal(alert_figure(a, "failures", 0), 57);
	assert_int_equal(alert_figure(a, "failed_auth", -1), -1);   /* its counter not read: no figure */
	assert_string_equal(alert_describe(a, line, sizeof line),
	                    "203.0.113.45: 57 failures of 60 requests in 5m (threshold: more than 10)");
	assert_null(find(&s, "brute_force:198.51.100.1"));
	a = find(&s, "allowlisted_blocked:192.0.2.7");
	assert_non_null(a);
	assert_non_null(strstr(alert_describe(a, line, sizeof line), "allow-listed (office) but blocked by the servers"));
	assert_null(find(&s, "allowlisted_blocked:192.0.2.8"));
	a = find(&s, "endpoint_down:api");
	assert_non_null(a);
	assert_string_equal(alert_describe(a, line, sizeof line), "api: down (HTTP 503: HTTP 503 \\x1b[31m)");
	a = find(&s, "cert_expiring:web");
	assert_non_null(a);
	assert_int_equal(alert_figure(a, "days_left", -1), 3);
	a = find(&s, "source_stale:postgres");
	assert_non_null(a);
	assert_int_equal(alert_figure(a, "age_s", 0), 61);
	assert_null(find(&s, "source_stale:redis"));     /* 59 s: not yet stale-alert */

	/* a window longer than alert-window: failures no longer count, the
	 * Redis counter (the servers' own window) still does */
	m->window_s = 3600;
	struct ip_redis *r = calloc(1, sizeof *r);
	snprintf(r->ip, sizeof r->ip, "198.51.100.1");
	r->failed_auth = 37;
	r->block_ttl_s = -2;
	model_set_ip_redis(m, r, 1);
	s.n = 0;
	alerts_each(m, &f->cfg, NOW_MS, keep, &s);
	assert_null(find(&s, "brute_force:203.0.113.45"));
	a = find(&s, "brute_force:198.51.100.1");
	assert_non_null(a);
	assert_int_equal(alert_figure(a, "failed_auth", 0), 37);
}

struct changes {
	char started[8][160], cleared[8][160];
	int n_started, n_cleared;
};

static void changed(void *ctx, const struct alert *a, bool started, int64_t since)
{
	struct changes *c = ctx;
	(void)since;
	if (started)
		snprintf(c->started[c->n_started++ % 8], 160, "%s", a->key);
	else
		snprintf(c->cleared[c->n_cleared++ % 8], 160, "%s", a->key);
}

static void add(struct alert_track *t, const char *subject)
{
	struct alert a = { .kind = ALERT_BRUTE_FORCE };
	snprintf(a.subject, sizeof a.subject, "%s", subject);
	snprintf(a.key, sizeof a.key, "brute_force:%s", subject);
	alert_track_add(t, &a);
}

static void test_dedup(void **state)
{
	struct alert_track t;
	struct changes c = { 0 };
	(void)state;

	alert_track_init(&t, 10000);
	add(&t, "b");
	add(&t, "a");
	add(&t, "a");                               /* twice in one evaluation: once */
	assert_true(alert_track_end(&t, 1000, NOW_MS, changed, &c));
	assert_int_equal(c.n_started, 2);
	assert_string_equal(c.started[0], "brute_force:a");
	for (int64_t now = 2000; now < 20000; now += 1000) {   /* refresh after refresh: nothing new */
		add(&t, "a");
		add(&t, "b");
		alert_track_end(&t, now, NOW_MS, changed, &c);
	}
	assert_int_equal(c.n_started, 2);
	assert_int_equal(c.n_cleared, 0);
	/* b goes: within the hold nothing, then one clear */
	add(&t, "a");
	alert_track_end(&t, 20000, NOW_MS, changed, &c);
	add(&t, "a");
	alert_track_end(&t, 25000, NOW_MS, changed, &c);
	assert_int_equal(c.n_cleared, 0);
	add(&t, "a");
	alert_track_end(&t, 29000, NOW_MS, changed, &c);
	assert_int_equal(c.n_cleared, 1);
	assert_string_equal(c.cleared[0], "brute_force:b");
	add(&t, "a");
	alert_track_end(&t, 40000, NOW_MS, changed, &c);
	assert_int_equal(c.n_cleared, 1);
	/* b back: a new start */
	add(&t, "a");
	add(&t, "b");
	alert_track_end(&t, 41000, NOW_MS, changed, &c);
	assert_int_equal(c.n_started, 3);
	assert_string_equal(c.started[2], "brute_force:b");
	/* flapping within the hold: no new start */
	add(&t, "a");
	alert_track_end(&t, 42000, NOW_MS, changed, &c);
	add(&t, "a");
	add(&t, "b");
	alert_track_end(&t, 43000, NOW_MS, changed, &c);
	assert_int_equal(c.n_started, 3);
	/* the model being read again (a new scope): touched, nothing clears */
	alert_track_touch(&t, 50000);
	alert_track_end(&t, 55000, NOW_MS, changed, &c);   /* an empty evaluation within the hold */
	assert_int_equal(c.n_cleared, 1);
	alert_track_end(&t, 60000, NOW_MS, changed, &c);   /* past it: both clear */
	assert_int_equal(c.n_cleared, 3);
	alert_track_free(&t);
}

static void test_messages(void **state)
{
	struct notify_origin o = { .host = "sec1", .incident = "INC-7" };
	struct alert a = { .kind = ALERT_ENDPOINT_DOWN, .key = "endpoint_down:api", .subject = "api",
	                   .detail = "<!channel> & \x1b]0;x\x07" };
	(void)state;

	a.fig[0] = (struct alert_figure){ "http_status", 0 };
	char *body = notify_msg_alert(NOTIFY_JSON, &o, &a, true, NOW_MS - 5000, NOW_MS);
	json_error_t je;
	json_t *j = json_loads(body, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "alert");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "endpoint_down");
	assert_string_equal(json_string_value(json_object_get(j, "key")), "endpoint_down:api");
	assert_string_equal(json_string_value(json_object_get(j, "subject")), "api");
	assert_string_equal(json_string_value(json_object_get(j, "host")), "sec1");
	assert_string_equal(json_string_value(json_object_get(j, "incident")), "INC-7");
	assert_string_equal(json_string_value(json_object_get(j, "detail")), "<!channel> & \x1b]0;x\x07");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "figures"), "http_status")), 0);
	assert_non_null(json_object_get(j, "time"));
	assert_non_null(json_object_get(j, "since"));
	assert_null(strchr(body, 0x1b));                  /* escaped in the JSON text */
	json_decref(j);
	free(body);

	body = notify_msg_alert(NOTIFY_SLACK, &o, &a, false, NOW_MS - 5000, NOW_MS);
	j = json_loads(body, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 1);
	const char *text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[sectop@sec1] RESOLVED endpoint_down: api: down ("));
	assert_non_null(strstr(text, "&lt;!channel&gt; &amp; \\x1b]0;x\\x07"));  /* no mention, no escape */
	assert_non_null(strstr(text, "(incident INC-7)"));
	json_decref(j);
	free(body);

	unsigned long by_kind[ALERT_KINDS] = { [ALERT_BRUTE_FORCE] = 12, [ALERT_SOURCE_STALE] = 1 };
	const char *keys[] = { "brute_force:203.0.113.1", "brute_force:203.0.113.2" };
	body = notify_msg_suppressed(NOTIFY_JSON, &o, 13, by_kind, keys, 2, NOW_MS);
	j = json_loads(body, 0, &je);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "suppressed");
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 13);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "kinds"), "brute_force")), 12);
	assert_int_equal(json_array_size(json_object_get(j, "keys")), 2);
	json_decref(j);
	free(body);

	char k1[32], k2[32], k3[32];
	notify_msg_idempotency(k1, sizeof k1, "endpoint_down:api", true, 5);
	notify_msg_idempotency(k2, sizeof k2, "endpoint_down:api", true, 5);
	notify_msg_idempotency(k3, sizeof k3, "endpoint_down:api", false, 5);
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
}

static void test_conf(void **state)
{
	struct config c;
	char err[300];
	(void)state;

	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "notify", "http://127.0.0.1:9/hook token-env=TOK format=slack rate=3", err, sizeof err), 0);
	assert_int_equal(c.n_notify, 1);
	assert_string_equal(c.notify[0].token_env, "TOK");
	assert_true(c.notify[0].slack);
	assert_int_equal(c.notify[0].rate, 3);
	assert_true(c.notify[0].resolved);
	assert_int_equal(conf_set(&c, "notify", "https://hooks.example.com/x resolved=no", err, sizeof err), 0);
	assert_int_equal(c.n_notify, 2);
	assert_false(c.notify[1].resolved);
	assert_int_equal(c.notify[1].rate, 10);
	assert_int_equal(conf_set(&c, "notify", "http://127.0.0.1:9/hook", err, sizeof err), 0);   /* named again */
	assert_int_equal(c.n_notify, 2);
	assert_false(c.notify[0].slack);
	assert_int_equal(conf_set(&c, "notify", "http://hooks.example.com/x", err, sizeof err), -1);
	assert_non_null(strstr(err, "loopback"));
	assert_int_equal(conf_set(&c, "notify", "https://u:p@hooks.example.com/x", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "notify", "https://h/x format=xml", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "notify", "https://h/x token_env=1BAD", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "notify", "https://h/x rate=0", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "notify", "https://h/x colour=red", err, sizeof err), -1);
	assert_int_equal(c.n_notify, 2);
	/* a Slack webhook's URL is its credential: kept off argv, its file 0600 */
	assert_true(conf_value_is_secret("notify", "https://hooks.slack.com/services/T/B/X format=slack"));
	assert_false(conf_value_is_secret("notify", "https://alerts.example.com/x token_env=T"));
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
