/* The pure parts of rotation and its webhook: the state rule at its edges,
 * the last request read from a journal (the idempotency key's reuse), the
 * request body and preview (never the token), the URL and option checks of
 * `secret` and of revoke-backend. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "journal.h"
#include "rotation.h"
#include "webhook.h"
#include "testenv.h"

#define DAY 86400
#define NOW 1800000000LL

static char dir[] = "/tmp/sectop-rotation-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return testenv_rmtree(dir);
}

static void test_state_edges(void **state)
{
	(void)state;
	int max = 90 * DAY;
	assert_int_equal(rotation_state_at(0, max, NOW, 14), ROT_NEVER);
	assert_int_equal(rotation_state_at(NOW - 10 * DAY, max, NOW, 14), ROT_OK);
	assert_int_equal(rotation_state_at(NOW - 76 * DAY, max, NOW, 14), ROT_OK);       /* exactly 90-14 */
	assert_int_equal(rotation_state_at(NOW - 76 * DAY - 1, max, NOW, 14), ROT_DUE);
	assert_int_equal(rotation_state_at(NOW - 90 * DAY, max, NOW, 14), ROT_DUE);      /* exactly max */
	assert_int_equal(rotation_state_at(NOW - 90 * DAY - 1, max, NOW, 14), ROT_OVERDUE);
	assert_int_equal(rotation_state_at(NOW - 89 * DAY, max, NOW, 0), ROT_OK);        /* no warning */
	assert_int_equal(rotation_state_at(NOW + DAY, max, NOW, 14), ROT_OK);            /* clock skew */
	assert_string_equal(rotation_state_name(ROT_DUE), "due");
	assert_string_equal(rotation_state_name(ROT_NEVER), "never");
}

static void test_declared_defaults_and_finish(void **state)
{
	struct config c;
	char err[256];
	size_t n;
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "secret", "a kind=api_key", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "secret", "b kind=db_password", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "secret", "c kind=tls_cert webhook=https://hooks.example/rotate", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "secret", "d kind=ssh_key max_age=7d", err, sizeof err), 0);
	struct rotation_status *v = rotation_declared(&c, &n);
	assert_non_null(v);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].max_age_s, 90 * DAY);
	assert_int_equal(v[1].max_age_s, 180 * DAY);
	assert_int_equal(v[2].max_age_s, 365 * DAY);
	assert_int_equal(v[3].max_age_s, 7 * DAY);
	assert_false(v[0].has_webhook);
	assert_true(v[2].has_webhook);
	v[0].last_rotated_s = NOW - 100 * DAY;
	v[3].last_rotated_s = NOW - DAY;
	rotation_finish(v, n, NOW, 14);
	assert_int_equal(v[0].state, ROT_OVERDUE);
	assert_int_equal(v[0].age_s, 100 * DAY);
	assert_int_equal(v[1].state, ROT_NEVER);
	assert_int_equal(v[1].age_s, -1);
	assert_int_equal(v[3].state, ROT_DUE);    /* 7-day policy, 14-day warning: always due */
	rotation_free(v, n);
	conf_free(&c);
}

static void append(struct journal *j, const char *json)
{
	char err[256];
	json_t *rec = json_loads(json, 0, NULL);
	assert_non_null(rec);
	assert_int_equal(journal_append(j, rec, err, sizeof err), 0);
	json_decref(rec);
}

static void test_last_request_from_journal(void **state)
{
	struct journal j;
	struct rotation_request q;
	char path[256], err[256];
	(void)state;
	snprintf(path, sizeof path, "%s/journal.jsonl", dir);
	assert_int_equal(journal_open(&j, path, err, sizeof err), 0);
	/* s1: an unknown live request, then a dry run (ignored) */
	append(&j, "{\"id\":\"i1\",\"phase\":\"intent\",\"action\":\"secret_rotation_requested\",\"target\":\"s1\","
	           "\"mode\":\"live\",\"idempotency_key\":\"K1\",\"time\":\"T1\",\"operator\":\"alice\"}");
	append(&j, "{\"id\":\"i1\",\"phase\":\"result\",\"status\":\"unknown\",\"http_status\":503}");
	append(&j, "{\"id\":\"i2\",\"phase\":\"intent\",\"action\":\"secret_rotation_requested\",\"target\":\"s1\","
	           "\"mode\":\"dry-run\",\"idempotency_key\":\"K2\"}");
	append(&j, "{\"id\":\"i2\",\"phase\":\"result\",\"status\":\"done\"}");
	/* s2: done, then a newer request with no result (a crash mid-request) */
	append(&j, "{\"id\":\"i3\",\"phase\":\"intent\",\"action\":\"secret_rotation_requested\",\"target\":\"s2\","
	           "\"mode\":\"live\",\"idempotency_key\":\"K3\"}");
	append(&j, "{\"id\":\"i3\",\"phase\":\"result\",\"status\":\"done\",\"http_status\":200}");
	append(&j, "{\"id\":\"i4\",\"phase\":\"intent\",\"action\":\"secret_rotation_requested\",\"target\":\"s2\","
	           "\"mode\":\"live\",\"idempotency_key\":\"K4\"}");
	/* another action on a target of the same name is not a rotation */
	append(&j, "{\"id\":\"i5\",\"phase\":\"intent\",\"action\":\"ip_blocked\",\"target\":\"s3\",\"mode\":\"live\"}");
	journal_close(&j);

	assert_int_equal(rotation_last_request(path, "s1", &q), 0);
	assert_true(q.found);
	assert_string_equal(q.idempotency_key, "K1");
	assert_string_equal(q.status, "unknown");
	assert_int_equal(q.http_status, 503);
	assert_string_equal(q.operator_id, "alice");
	assert_false(q.dry_run);
	assert_int_equal(rotation_last_request(path, "s2", &q), 0);
	assert_string_equal(q.idempotency_key, "K4");
	assert_string_equal(q.status, "pending");
	assert_int_equal(rotation_last_request(path, "s3", &q), 0);
	assert_false(q.found);
	snprintf(path, sizeof path, "%s/absent.jsonl", dir);
	assert_int_equal(rotation_last_request(path, "s1", &q), 0);
	assert_false(q.found);
}

static void test_body_and_preview(void **state)
{
	char name[] = "stripe", kind[] = "api_key", url[] = "https://h.example/r";
	struct conf_secret s = { .name = name, .kind = kind, .webhook = url };
	(void)state;
	char *body = rotation_request_body(&s, "alice@198.51.100.4", "leaked \"here\"", NULL, "abc123");
	assert_non_null(body);
	json_t *j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "secret")), "stripe");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "api_key");
	assert_string_equal(json_string_value(json_object_get(j, "operator")), "alice@198.51.100.4");
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "leaked \"here\"");
	assert_true(json_is_null(json_object_get(j, "incident")));
	assert_string_equal(json_string_value(json_object_get(j, "idempotency_key")), "abc123");
	json_decref(j);

	setenv("UNIT_TOKEN", "tok-very-secret", 1);
	struct webhook_request rq = { .url = s.webhook, .token_env = "UNIT_TOKEN", .body = body,
	                              .idempotency_key = "abc123" };
	char *p = webhook_preview(&rq);
	assert_non_null(strstr(p, "POST https://h.example/r\n"));
	assert_non_null(strstr(p, "Authorization: Bearer <from $UNIT_TOKEN>\n"));
	assert_non_null(strstr(p, "Idempotency-Key: abc123\n"));
	assert_non_null(strstr(p, body));
	assert_null(strstr(p, "tok-very-secret"));
	free(p);
	free(body);
}

static void test_url_check(void **state)
{
	char err[256];
	(void)state;
	assert_int_equal(webhook_url_check("https://hooks.example.com/rotate", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("https://hooks.example.com:8443/r?x=1", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("https://[2001:db8::1]/r", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("http://127.0.0.1:8080/r", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("http://127.9.9.9/r", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("http://[::1]:9/r", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("http://localhost/r", err, sizeof err), 0);
	assert_int_equal(webhook_url_check("http://hooks.example.com/r", err, sizeof err), -1);
	assert_non_null(strstr(err, "loopback"));
	assert_int_equal(webhook_url_check("https://user:pw@hooks.example.com/r", err, sizeof err), -1);
	assert_non_null(strstr(err, "credentials"));
	assert_int_equal(webhook_url_check("ftp://hooks.example.com/r", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("file:///etc/passwd", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("https:///r", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("https://h.example:0/r", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("https://h.example:99999/r", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("https://h.example:80x/r", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("https://h.example/a b", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("https://[::1/r", err, sizeof err), -1);
	assert_int_equal(webhook_url_check("", err, sizeof err), -1);
	assert_true(webhook_env_name_ok("ROTATE_TOKEN"));
	assert_true(webhook_env_name_ok("_t1"));
	assert_false(webhook_env_name_ok("1TOKEN"));
	assert_false(webhook_env_name_ok("A-B"));
	assert_false(webhook_env_name_ok(""));
}

static void test_secret_options(void **state)
{
	struct config c;
	char err[256];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "secret", "s kind=api_key webhook=https://h.example/r token_env=TOK"
	                          " ca_file=/etc/ca.pem timeout=5s", err, sizeof err), 0);
	const struct conf_secret *s = conf_secret_find(&c, "s");
	assert_non_null(s);
	assert_string_equal(s->webhook, "https://h.example/r");
	assert_string_equal(s->token_env, "TOK");
	assert_string_equal(s->ca_file, "/etc/ca.pem");
	assert_int_equal(s->timeout_ms, 5000);
	assert_null(conf_secret_find(&c, "t"));
	assert_int_equal(conf_set(&c, "secret", "s kind=api_key webhook=http://h.example/r", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "s kind=api_key webhook=https://u:p@h.example/r", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "s kind=api_key webhook=https://h.example/r token_env=A-B", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "s kind=api_key webhook=https://h.example/r timeout=20m", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "secret", "s kind=api_key token_env=TOK", err, sizeof err), -1);
	assert_non_null(strstr(err, "need webhook"));
	/* a refused line leaves the earlier declaration as it was */
	assert_string_equal(conf_secret_find(&c, "s")->webhook, "https://h.example/r");
	conf_free(&c);
}

static void test_revoke_backend(void **state)
{
	struct config c;
	char err[256];
	(void)state;
	conf_defaults(&c);
	assert_string_equal(c.revoke_backend, "db");
	assert_string_equal(c.keys.revoked_key, "revoked_key:");
	assert_int_equal(conf_validate(&c, err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "revoke-backend", "db+redis", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "revoke-backend", "db+webhook", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), -1);     /* no revoke-webhook */
	assert_int_equal(conf_set(&c, "revoke-webhook", "https://h.example/revoke", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "revoke-token-env", "REVOKE_TOKEN", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "revoke-webhook", "http://h.example/revoke", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "revoke-webhook", "https://h.example/revoke", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "revoke-backend", "db+kafka", err, sizeof err), 0);
	assert_int_equal(conf_validate(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "revoke-backend"));
	assert_int_equal(conf_set(&c, "prefix-revoked-key", "rk:", err, sizeof err), 0);
	assert_string_equal(c.keys.revoked_key, "rk:");
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_edges),
		cmocka_unit_test(test_declared_defaults_and_finish),
		cmocka_unit_test(test_last_request_from_journal),
		cmocka_unit_test(test_body_and_preview),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_secret_options),
		cmocka_unit_test(test_revoke_backend),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
