/* Configuration: defaults, one parser for files and flags, errors with
 * file:line, secrets refused in readable files. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "testenv.h"

static char tmpdir[] = "/tmp/sectop-conf-XXXXXX";

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	return testenv_rmtree(tmpdir);
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_defaults_follow_the_contract(void **state)
{
	struct config c;
	(void)state;
	conf_defaults(&c);
	assert_string_equal(c.schema.table, "audit_log");
	assert_string_equal(c.schema.timestamp, "timestamp");
	assert_string_equal(c.keys.blocked, "blocked:");
	assert_string_equal(c.keys.failed_auth, "failed_auth:");
	assert_int_equal(c.failure_actions.n, 3);
	assert_string_equal(c.failure_actions.v[2], "authentication_failed");
	assert_int_equal(c.n_failure_statuses, 2);
	assert_int_equal(c.failure_statuses[0], 401);
	assert_int_equal(c.window_s, 900);
	assert_int_equal(c.alert_failures, 10);
	assert_int_equal(c.alert_window_s, 300);
	conf_free(&c);
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(conf_parse_duration_ms("15m", 's'), 900000);
	assert_int_equal(conf_parse_duration_ms("250ms", 's'), 250);
	assert_int_equal(conf_parse_duration_ms("2", 's'), 2000);
	assert_int_equal(conf_parse_duration_ms("7d", 's'), 7LL * 86400000);
	assert_int_equal(conf_parse_duration_ms("1h", 's'), 3600000);
	assert_int_equal(conf_parse_duration_ms("", 's'), -1);
	assert_int_equal(conf_parse_duration_ms("-5m", 's'), -1);
	assert_int_equal(conf_parse_duration_ms("5x", 's'), -1);
	assert_int_equal(conf_parse_duration_ms("m", 's'), -1);
	assert_int_equal(conf_parse_duration_ms("99999999999999999999d", 's'), -1);
	assert_int_equal(conf_parse_duration_ms("9999999999999999d", 's'), -1);
}

static void test_set_values(void **state)
{
	struct config c;
	char err[256];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "window", "1h", err, sizeof err), 0);
	assert_int_equal(c.window_s, 3600);
	assert_int_equal(conf_set(&c, "refresh", "500ms", err, sizeof err), 0);
	assert_int_equal(c.refresh_ms, 500);
	assert_int_equal(conf_set(&c, "failure-actions", " a , b ,c", err, sizeof err), 0);
	assert_int_equal(c.failure_actions.n, 3);
	assert_string_equal(c.failure_actions.v[1], "b");
	assert_int_equal(conf_set(&c, "failure-statuses", "401", err, sizeof err), 0);
	assert_int_equal(c.n_failure_statuses, 1);
	assert_int_equal(conf_set(&c, "table", "my \"odd\" table", err, sizeof err), 0);
	assert_string_equal(c.schema.table, "my \"odd\" table");
	assert_int_equal(conf_set(&c, "no-color", "yes", err, sizeof err), 0);
	assert_true(c.no_color);
	assert_int_equal(conf_set(&c, "no-color", "off", err, sizeof err), 0);
	assert_false(c.no_color);
	conf_free(&c);
}

static void test_set_errors(void **state)
{
	struct config c;
	char err[256];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "nope", "1", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown setting 'nope'"));
	assert_int_equal(conf_set(&c, "window", "30s", err, sizeof err), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(conf_set(&c, "window", "soon", err, sizeof err), -1);
	assert_non_null(strstr(err, "duration"));
	assert_int_equal(conf_set(&c, "top", "12abc", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "failure-statuses", "401,abc", err, sizeof err), -1);
	assert_int_equal(c.n_failure_statuses, 2);          /* unchanged */
	assert_int_equal(conf_set(&c, "failure-statuses", "401,,403", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "table", "", err, sizeof err), -1);
	/* found by tests/fuzz/fuzz_conf: "format =" left the format NULL, and
	 * conf_validate (and every command) read it: a crash.  A setting that
	 * has a default refuses an empty value and keeps the default. */
	const char *const with_default[] = { "format", "theme", "since", "revoke-backend" };
	for (size_t i = 0; i < sizeof with_default / sizeof with_default[0]; i++) {
		assert_int_equal(conf_set(&c, with_default[i], "", err, sizeof err), -1);
		assert_non_null(strstr(err, "must not be empty"));
	}
	assert_string_equal(c.format, "text");
	assert_int_equal(conf_validate(&c, err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "tenant", "a\x1b[2Jb", err, sizeof err), -1);
	assert_non_null(strstr(err, "control character"));
	assert_int_equal(conf_set(&c, "bell", "maybe", err, sizeof err), -1);
	conf_free(&c);
}

static void test_health_spec(void **state)
{
	struct config c;
	char err[256];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "health",
	    "api=https://api.example/health bearer_env=API_TOKEN ca_file=/etc/ca.pem timeout=2s",
	    err, sizeof err), 0);
	assert_int_equal(c.n_health, 1);
	assert_string_equal(c.health[0].name, "api");
	assert_string_equal(c.health[0].url, "https://api.example/health");
	assert_string_equal(c.health[0].bearer_env, "API_TOKEN");
	assert_string_equal(c.health[0].ca_file, "/etc/ca.pem");
	assert_int_equal(c.health[0].timeout_ms, 2000);
	/* the same name again replaces it */
	assert_int_equal(conf_set(&c, "health", "api=http://127.0.0.1:1/h", err, sizeof err), 0);
	assert_int_equal(c.n_health, 1);
	assert_null(c.health[0].bearer_env);
	assert_int_equal(conf_set(&c, "health", "web=ftp://x/", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "health", "=http://x/", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "health", "a b=http://x/", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "health", "x=https://u:pw@x/health", err, sizeof err), -1);
	assert_non_null(strstr(err, "credentials in the URL"));
	assert_null(strstr(err, "pw"));
	assert_int_equal(conf_set(&c, "health", "x=http://x/a@b", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "health", "x=http://x/ token=abc", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown option"));
	assert_int_equal(c.n_health, 2);
	conf_free(&c);
}

/* A health credential crosses the network only under TLS: plain http with
 * bearer_env= or api_key_env= only to a loopback host. */
static void test_health_credentials_need_tls(void **state)
{
	struct config c;
	char err[400];
	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "health", "a=http://api.example/health bearer_env=T", err, sizeof err), -1);
	assert_non_null(strstr(err, "https"));
	assert_int_equal(conf_set(&c, "health", "a=http://10.0.0.5:8080/h api_key_env=K", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "health", "a=http://127.0.0.1:8080/h api_key_env=K", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "health", "b=http://[::1]:8080/h bearer_env=T", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "health", "c=http://localhost/h bearer_env=T", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "health", "d=https://api.example/h bearer_env=T", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "health", "e=http://api.example/h", err, sizeof err), 0);
	assert_int_equal(c.n_health, 5);
	conf_free(&c);
}

static void test_file_lines_and_errors(void **state)
{
	struct config c;
	char err[512];
	(void)state;
	conf_defaults(&c);
	const char *p = write_file("good.conf",
	    "# comment\n\n; another\nwindow = 1h\n  tenant = \"acme corp\"  \n"
	    "health = api=http://127.0.0.1:8080/health\n", 0644);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), 0);
	assert_int_equal(c.window_s, 3600);
	assert_string_equal(c.tenant, "acme corp");
	assert_int_equal(c.n_health, 1);

	p = write_file("bad.conf", "window = 1h\n\nrefresh fast\n", 0600);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	char want[300];
	snprintf(want, sizeof want, "%s:3: expected 'key = value'", p);
	assert_string_equal(err, want);

	p = write_file("bad2.conf", "top = 0\n", 0600);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1: top: '0' is out of range"));

	assert_int_equal(conf_load_file(&c, "/nonexistent/sectop.conf", false, err, sizeof err), 0);
	assert_int_equal(conf_load_file(&c, "/nonexistent/sectop.conf", true, err, sizeof err), -1);
	conf_free(&c);
}

static void test_secret_in_readable_file_is_refused(void **state)
{
	struct config c;
	char err[512];
	(void)state;
	conf_defaults(&c);
	const char *p = write_file("secret.conf", "db = host=db password=hunter2\n", 0644);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "holds a password"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strstr(err, "hunter2"));

	p = write_file("secret2.conf", "redis = redis://:pw@127.0.0.1:6379/0\n", 0640);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "its group"));

	p = write_file("secret2b.conf", "redis = redis://PASSWORD@127.0.0.1:6379/0\n", 0640);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_null(strstr(err, "PASSWORD"));

	p = write_file("secret3.conf", "redis-password = pw\n", 0600);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), 0);
	assert_string_equal(c.redis_password, "pw");

	/* no secret: readable is fine */
	p = write_file("plain.conf", "db = host=db dbname=audit\n", 0644);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), 0);
	/* writable by others or the group: never, secret or not */
	p = write_file("shared.conf", "db = host=db dbname=audit\n", 0664);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "can be written by its group"));
	p = write_file("world.conf", "window = 1h\n", 0646);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "others"));
	/* what was read is quoted inert in a message */
	p = write_file("hostile.conf", "\x1b]0;pwned\x07 = 1\n", 0600);
	assert_int_equal(conf_load_file(&c, p, true, err, sizeof err), -1);
	assert_null(strchr(err, 0x1b));
	assert_non_null(strstr(err, "\\x1b]0;pwned"));
	conf_free(&c);
}

static void test_secret_detection(void **state)
{
	(void)state;
	assert_true(conf_value_is_secret("db", "postgres://u:p@h/db"));
	assert_true(conf_value_is_secret("db", "host=h password=x"));
	assert_false(conf_value_is_secret("db", "postgres://u@h/db"));
	assert_false(conf_value_is_secret("db", "host=h user=u"));
	/* libpq decodes a URI's parameter names too (tests/fuzz/fuzz_conninfo) */
	assert_true(conf_value_is_secret("db", "postgresql:///db?pass%77ord=x"));
	assert_true(conf_value_is_secret("db", "postgresql://h/db?%70assword=x"));
	assert_false(conf_value_is_secret("db", "postgresql:///db?pass%77ord="));
	assert_true(conf_value_is_secret("redis", "redis://:secret@127.0.0.1:6379"));
	assert_false(conf_value_is_secret("redis", "redis://127.0.0.1:6379/0"));
	/* any userinfo in a Redis URL authenticates: a secret */
	assert_true(conf_value_is_secret("redis", "redis://PASSWORD@127.0.0.1:6379"));
	assert_true(conf_value_is_secret("redis", "redis://user:pw@[::1]:6379/2"));
	assert_true(conf_value_is_secret("redis", "unix://pw@/run/redis.sock"));
	assert_true(conf_value_is_secret("redis", "unix://user:p%40w@/run/redis.sock?db=1"));
	assert_false(conf_value_is_secret("redis", "unix:/run/redis.sock?db=1"));
	assert_false(conf_value_is_secret("window", "password"));
}

static void test_env_fallbacks(void **state)
{
	struct config c;
	char err[64];
	(void)state;
	conf_defaults(&c);
	setenv("DATABASE_URL", "postgres://from-env/db", 1);
	setenv("REDIS_URL", "redis://10.0.0.1:6380/1", 1);
	setenv("REDISCLI_AUTH", "envpw", 1);
	conf_apply_env(&c);
	assert_string_equal(c.db, "postgres://from-env/db");
	assert_string_equal(c.redis, "redis://10.0.0.1:6380/1");
	assert_string_equal(c.redis_password, "envpw");
	conf_free(&c);

	/* the command line (set before) wins over the environment */
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "db", "host=flag", err, sizeof err), 0);
	unsetenv("REDIS_URL");
	conf_apply_env(&c);
	assert_string_equal(c.db, "host=flag");
	assert_string_equal(c.redis, "redis://127.0.0.1:6379/0");
	conf_free(&c);
	unsetenv("DATABASE_URL");
	unsetenv("REDISCLI_AUTH");
}

static void test_user_path_follows_xdg(void **state)
{
	(void)state;
	setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
	char *p = conf_user_path();
	assert_string_equal(p, "/x/cfg/sectop/sectop.conf");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/op", 1);
	p = conf_user_path();
	assert_string_equal(p, "/home/op/.config/sectop/sectop.conf");
	free(p);
}

static void test_every_key_is_settable(void **state)
{
	(void)state;
	size_t n = 0;
	while (conf_key_at(n))
		n++;
	assert_true(n > 40);
	assert_true(conf_key_is_flag("read-only"));
	assert_false(conf_key_is_flag("window"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_follow_the_contract),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_set_values),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_health_spec),
		cmocka_unit_test(test_health_credentials_need_tls),
		cmocka_unit_test(test_file_lines_and_errors),
		cmocka_unit_test(test_secret_in_readable_file_is_refused),
		cmocka_unit_test(test_secret_detection),
		cmocka_unit_test(test_env_fallbacks),
		cmocka_unit_test(test_user_path_follows_xdg),
		cmocka_unit_test(test_every_key_is_settable),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
