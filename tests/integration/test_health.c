/* test_health: the health source against the real fixture server
 * (tests/fixtures/healthd.py, started by scripts/test.sh), driven through
 * the real poll() loop.  Every route of the fixture is checked for its
 * outcome, and every loop turn is timed: the loop must never block. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "clock.h"
#include "conf.h"
#include "health.h"
#include "loop.h"
#include "model.h"
#include "testenv.h"

/* One turn waits at most TURN_WAIT_MS in poll(); whatever a server does,
 * it sleeps no longer than that (testenv.h: turn_worst_check). */
#define TURN_WAIT_MS 10
#define BODY_MAX (256 * 1024)

static const char *http_base, *https_base, *ca_file;

/* --- a configuration, a model and a loop --------------------------------- */

struct run {
	struct config cfg;
	struct model m;
	struct loop *loop;
	struct turn_worst worst;
	int64_t started_ms;
};

static void run_init(struct run *r, int refresh_ms, int timeout_ms)
{
	memset(r, 0, sizeof *r);
	conf_defaults(&r->cfg);
	r->cfg.refresh_ms = refresh_ms;
	r->cfg.timeout_ms = timeout_ms;
	r->cfg.health_body_max = BODY_MAX;
	r->cfg.cert_warn_days = 14;
	model_init(&r->m, r->cfg.window_s, NULL, r->cfg.refresh_ms);
}

static struct conf_health *run_add(struct run *r, const char *name, const char *base,
                                   const char *path)
{
	assert_true(r->cfg.n_health < CONF_MAX_LIST);
	struct conf_health *h = &r->cfg.health[r->cfg.n_health++];
	memset(h, 0, sizeof *h);
	h->name = strdup(name);
	assert_true(asprintf(&h->url, "%s%s", base, path) > 0);
	return h;
}

static void run_start(struct run *r)
{
	char err[256] = "";
	struct health *h = health_new(&r->cfg, &r->m, err, sizeof err);

	if (!h)
		fail_msg("health_new: %s", err);
	assert_int_equal(r->m.n_health, r->cfg.n_health);
	for (size_t i = 0; i < r->m.n_health; i++) {
		assert_int_equal(r->m.health[i].state, HEALTH_UNKNOWN);
		assert_string_equal(r->m.health[i].name, r->cfg.health[i].name);
		assert_string_equal(r->m.health[i].url, r->cfg.health[i].url);
		assert_int_equal(r->m.health[i].checks, 0);
	}
	r->loop = loop_new();
	assert_non_null(r->loop);
	loop_add(r->loop, health_source(h));
	r->started_ms = clock_mono_ms();
}

static void run_turn(struct run *r)
{
	struct turn_clock t0 = turn_clock_start();

	assert_int_equal(loop_turn(r->loop, TURN_WAIT_MS, NULL, 0), 0);
	turn_worst_note(&r->worst, t0, TURN_WAIT_MS);
}

static const struct health_result *res(const struct run *r, const char *name)
{
	for (size_t i = 0; i < r->m.n_health; i++)
		if (strcmp(r->m.health[i].name, name) == 0)
			return &r->m.health[i];
	fail_msg("no endpoint %s", name);
	abort();
}

static bool all_checked(const struct run *r, unsigned min)
{
	for (size_t i = 0; i < r->m.n_health; i++)
		if (r->m.health[i].checks < min)
			return false;
	return true;
}

/* Turn the loop until every endpoint has at least min checks. */
static void run_until_checked(struct run *r, unsigned min, int64_t within_ms)
{
	int64_t deadline = clock_mono_ms() + within_ms;

	while (!all_checked(r, min) && clock_mono_ms() < deadline)
		run_turn(r);
	for (size_t i = 0; i < r->m.n_health; i++)
		if (r->m.health[i].checks < min)
			fail_msg("%s: %u checks after %lld ms", r->m.health[i].name,
			         r->m.health[i].checks, (long long)within_ms);
	turn_worst_check(&r->worst);
}

static void run_free(struct run *r)
{
	loop_free(r->loop);
	model_free(&r->m);
	conf_free(&r->cfg);
}

/* --- assertions on a result ---------------------------------------------- */

static bool has_finding(const struct health_result *h, const char *text)
{
	for (size_t i = 0; i < h->n_findings; i++)
		if (strcmp(h->findings[i], text) == 0)
			return true;
	return false;
}

static const struct health_component *component(const struct health_result *h, const char *name)
{
	for (size_t i = 0; i < h->n_components; i++)
		if (strcmp(h->components[i].name, name) == 0)
			return &h->components[i];
	fail_msg("%s: no component %s", h->name, name);
	abort();
}

static void assert_reason_starts(const struct health_result *h, const char *prefix)
{
	if (!h->reason || strncmp(h->reason, prefix, strlen(prefix)) != 0)
		fail_msg("%s: reason \"%s\", wanted \"%s...\"", h->name,
		         h->reason ? h->reason : "(null)", prefix);
}

static void assert_findings_plain(const struct health_result *h)
{
	for (size_t i = 0; i < h->n_findings; i++)
		for (const unsigned char *p = (const unsigned char *)h->findings[i]; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
}

static void assert_down(const struct health_result *h, long status, const char *reason)
{
	assert_int_equal(h->state, HEALTH_DOWN);
	assert_int_equal(h->http_status, status);
	assert_reason_starts(h, reason);
}

static void assert_done_once(const struct health_result *h)
{
	assert_int_equal(h->checks, 1);
	assert_true(h->checked_at_ms > 0);
	assert_true(h->checked_at_ms <= clock_wall_ms());
}

/* --- plain HTTP: every route at once ------------------------------------- */

static const char *const http_routes[][2] = {
	{ "healthy", "/health/healthy" }, { "ok", "/health/ok" },
	{ "degraded", "/health/degraded" }, { "down", "/health/down" },
	{ "error500", "/health/error500" }, { "unknown", "/health/unknown-status" },
	{ "notjson", "/health/notjson" }, { "empty", "/health/empty" },
	{ "huge", "/health/huge" }, { "huge-chunked", "/health/huge-chunked" },
	{ "deep", "/health/deep" }, { "redirect-ftp", "/health/redirect-ftp" },
	{ "redirect-file", "/health/redirect-file" }, { "redirect-ok", "/health/redirect-ok" },
	{ "hostile", "/health/hostile" }, { "missing", "/health/no-such-route" },
};

static void check_healthy(const struct health_result *h)
{
	assert_int_equal(h->state, HEALTH_HEALTHY);
	assert_null(h->reason);
	assert_int_equal(h->http_status, 200);
	assert_true(h->latency_ms > 0);
	assert_string_equal(h->hsts, "max-age=31536000");
	assert_string_equal(h->content_type_options, "nosniff");
	assert_string_equal(h->frame_options, "DENY");
	assert_string_equal(h->csp, "default-src 'none'");
	assert_null(h->cors);
	assert_string_equal(h->ratelimit_limit, "100");
	assert_string_equal(h->ratelimit_remaining, "99");
	assert_int_equal(h->cert_expires_at, 0);
	assert_int_equal(h->n_findings, 0);
}

static void check_ok(const struct health_result *h)
{
	assert_int_equal(h->state, HEALTH_HEALTHY);
	assert_int_equal(h->http_status, 200);
	assert_string_equal(h->cors, "*");
	assert_null(h->hsts);
	assert_true(has_finding(h, "CORS allows any origin (Access-Control-Allow-Origin: *)"));
	assert_true(has_finding(h, "no X-Content-Type-Options: nosniff header"));
	assert_true(has_finding(h, "no X-Frame-Options header and no CSP frame-ancestors (clickjacking)"));
	assert_true(has_finding(h, "no Content-Security-Policy header"));
	/* plain HTTP: HSTS would mean nothing */
	assert_false(has_finding(h, "no Strict-Transport-Security header over HTTPS"));
	assert_int_equal(h->n_findings, 4);
}

static void check_degraded(const struct health_result *h)
{
	assert_int_equal(h->state, HEALTH_DEGRADED);
	assert_string_equal(h->reason, "status \"degraded\"");
	assert_int_equal(h->http_status, 200);
	assert_int_equal(h->n_components, 3);
	assert_int_equal(component(h, "database")->state, HEALTH_HEALTHY);
	assert_int_equal(component(h, "redis")->state, HEALTH_DOWN);
	assert_string_equal(component(h, "redis")->detail, "connection refused");
	assert_int_equal(component(h, "qdrant")->state, HEALTH_HEALTHY);
}

static void check_hostile(const struct health_result *h)
{
	assert_int_equal(h->state, HEALTH_DEGRADED);
	assert_int_equal(h->n_components, 1);
	/* raw here; escaping is the display's job */
	assert_string_equal(h->components[0].name, "\x1b]0;pwned\x07" "db");
	assert_int_equal(h->components[0].state, HEALTH_DOWN);
	assert_string_equal(h->components[0].detail, "\x1b[31mred\xe2\x80\xae");
	assert_string_equal(h->frame_options, "\x1b[2Jdeny");
	assert_true(has_finding(h, "X-Frame-Options is neither DENY nor SAMEORIGIN"));
	assert_findings_plain(h);
}

static void test_http_routes(void **state)
{
	struct run r;
	char huge[64];

	run_init(&r, 60000, 3000);
	for (size_t i = 0; i < sizeof http_routes / sizeof *http_routes; i++)
		run_add(&r, http_routes[i][0], http_base, http_routes[i][1]);
	run_start(&r);
	run_until_checked(&r, 1, 15000);

	for (size_t i = 0; i < r.m.n_health; i++) {
		assert_done_once(&r.m.health[i]);
		assert_findings_plain(&r.m.health[i]);
	}
	check_healthy(res(&r, "healthy"));
	check_healthy(res(&r, "redirect-ok"));      /* the final response counts */
	check_ok(res(&r, "ok"));
	check_degraded(res(&r, "degraded"));
	check_hostile(res(&r, "hostile"));
	assert_down(res(&r, "down"), 503, "HTTP 503");
	assert_string_equal(res(&r, "down")->reason, "HTTP 503");
	assert_down(res(&r, "error500"), 500, "HTTP 500");
	assert_down(res(&r, "missing"), 404, "HTTP 404");
	assert_down(res(&r, "unknown"), 200, "status \"exploded\"");
	assert_down(res(&r, "notjson"), 200, "body is not JSON: ");
	assert_down(res(&r, "empty"), 200, "empty body");
	assert_down(res(&r, "deep"), 200, "body is nested deeper than 64 levels");
	snprintf(huge, sizeof huge, "body larger than %d bytes", BODY_MAX);
	assert_down(res(&r, "huge"), 200, huge);
	assert_down(res(&r, "huge-chunked"), 200, huge);
	assert_string_equal(res(&r, "huge-chunked")->reason, huge);
	/* the headers of an aborted response are still judged */
	assert_true(res(&r, "huge")->n_findings > 0);
	assert_down(res(&r, "redirect-ftp"), 302, "redirect to a disallowed scheme");
	assert_down(res(&r, "redirect-file"), 302, "redirect to a disallowed scheme");
	run_free(&r);
}

/* --- a hung endpoint does not hold up the loop or the others ------------- */

static void test_slow_does_not_block(void **state)
{
	struct run r;

	run_init(&r, 200, 1500);
	run_add(&r, "slow", http_base, "/health/slow");
	run_add(&r, "fast", http_base, "/health/healthy");
	run_start(&r);

	const struct health_result *slow = res(&r, "slow"), *fast = res(&r, "fast");
	int64_t deadline = r.started_ms + 10000;
	unsigned fast_before_slow = 0;
	while (slow->checks == 0 && clock_mono_ms() < deadline) {
		fast_before_slow = fast->checks;
		run_turn(&r);
	}
	int64_t took = clock_mono_ms() - r.started_ms;

	assert_int_equal(slow->checks, 1);
	assert_down(slow, 0, "timed out after 1500 ms");
	assert_string_equal(slow->reason, "timed out after 1500 ms");
	if (took < 1400 || took > 3000)
		fail_msg("the timeout fired after %lld ms", (long long)took);
	/* the fast endpoint went round several times meanwhile (every 200 ms) */
	if (fast_before_slow < 3)
		fail_msg("only %u fast checks while the slow one hung", fast_before_slow);
	assert_int_equal(fast->state, HEALTH_HEALTHY);
	turn_worst_check(&r.worst);

	/* the slow one is never run twice at once: it restarts after its result */
	run_until_checked(&r, 2, 5000);
	run_free(&r);
}

/* --- HTTPS --------------------------------------------------------------- */

static void test_https_with_ca(void **state)
{
	struct run r;
	char want[96], date[16];

	run_init(&r, 60000, 3000);
	run_add(&r, "tls-healthy", https_base, "/health/healthy")->ca_file = strdup(ca_file);
	run_add(&r, "tls-ok", https_base, "/health/ok")->ca_file = strdup(ca_file);
	run_add(&r, "tls-redirect", https_base, "/health/redirect-ok")->ca_file = strdup(ca_file);
	run_start(&r);
	run_until_checked(&r, 1, 10000);

	const struct health_result *h = res(&r, "tls-healthy");
	assert_int_equal(h->state, HEALTH_HEALTHY);
	assert_int_equal(h->http_status, 200);
	/* the fixture's certificate is valid for 10 days: inside the 14-day warning */
	int64_t now_s = clock_wall_ms() / 1000;
	assert_true(h->cert_expires_at > now_s);
	assert_true(h->cert_expires_at <= now_s + 10 * 86400 + 60);
	int64_t days = (h->cert_expires_at - h->checked_at_ms / 1000) / 86400;
	time_t t = (time_t)h->cert_expires_at;
	struct tm tm;
	strftime(date, sizeof date, "%Y-%m-%d", gmtime_r(&t, &tm));
	snprintf(want, sizeof want, "certificate expires in %lld day%s (%s)", (long long)days,
	         days == 1 ? "" : "s", date);
	if (!has_finding(h, want))
		fail_msg("no finding \"%s\" (%zu findings, first \"%s\")", want, h->n_findings,
		         h->n_findings ? h->findings[0] : "");
	assert_int_equal(h->n_findings, 1);

	const struct health_result *ok = res(&r, "tls-ok");
	assert_int_equal(ok->state, HEALTH_HEALTHY);
	assert_true(has_finding(ok, "no Strict-Transport-Security header over HTTPS"));
	assert_true(has_finding(ok, "CORS allows any origin (Access-Control-Allow-Origin: *)"));
	assert_true(ok->cert_expires_at > now_s);

	const struct health_result *rd = res(&r, "tls-redirect");
	assert_int_equal(rd->state, HEALTH_HEALTHY);
	assert_int_equal(rd->cert_expires_at, h->cert_expires_at);
	run_free(&r);
}

/* Verification is on: the fixture's self-signed certificate is refused
 * without its CA, with the system bundle as with another bundle.
 *
 * Loading the system bundle (~150 certificates; OpenSSL 3 is slow at it)
 * takes tens of milliseconds, more under ASan.  curl caches the loaded store
 * in the multi handle (one per CA source in health.c), so it is paid once
 * per CA source at the first check: the first round gets a loose bound, and
 * every later round must keep the loop within the normal budget. */
static void test_https_without_ca(void **state)
{
	struct run r;

	run_init(&r, 300, 3000);
	run_add(&r, "tls-no-ca", https_base, "/health/healthy");
	run_add(&r, "tls-wrong-ca", https_base, "/health/healthy")->ca_file =
		strdup("/etc/ssl/certs/ca-certificates.crt");
	run_start(&r);
	int64_t deadline = clock_mono_ms() + 10000;
	while (!all_checked(&r, 1) && clock_mono_ms() < deadline)
		run_turn(&r);
	assert_true(all_checked(&r, 1));
	/* the first load of a bundle is CPU (its certificates parsed), never a wait */
	if (r.worst.slept_ms >= TURN_SLEEP_MAX_MS || r.worst.cpu_ms > 1000)
		fail_msg("loading the CA bundles took a turn of %lld ms of CPU, %lld ms asleep",
		         (long long)r.worst.cpu_ms, (long long)r.worst.slept_ms);

	assert_down(res(&r, "tls-no-ca"), 0, "TLS certificate verification failed: ");
	assert_down(res(&r, "tls-wrong-ca"), 0, "TLS certificate verification failed: ");

	r.worst = (struct turn_worst){ 0 };
	run_until_checked(&r, 3, 10000);      /* the stores are cached now */
	assert_down(res(&r, "tls-no-ca"), 0, "TLS certificate verification failed: ");
	run_free(&r);
}

/* --- credentials --------------------------------------------------------- */

static void test_auth(void **state)
{
	struct run r;

	unsetenv("SECTOP_TEST_UNSET_KEY");
	setenv("SECTOP_TEST_WRONG_KEY", "not-the-key", 1);
	setenv("SECTOP_TEST_CRLF_KEY", "x\r\nX-Injected: 1", 1);

	run_init(&r, 60000, 3000);
	run_add(&r, "no-credentials", http_base, "/health/auth");
	run_add(&r, "api-key", http_base, "/health/auth")->api_key_env = strdup("HEALTHD_API_KEY");
	run_add(&r, "bearer", http_base, "/health/auth")->bearer_env = strdup("HEALTHD_TOKEN");
	run_add(&r, "bearer-tls", https_base, "/health/auth")->bearer_env = strdup("HEALTHD_TOKEN");
	r.cfg.health[r.cfg.n_health - 1].ca_file = strdup(ca_file);
	run_add(&r, "unset", http_base, "/health/auth")->api_key_env = strdup("SECTOP_TEST_UNSET_KEY");
	run_add(&r, "unset-bearer", http_base, "/health/auth")->bearer_env = strdup("SECTOP_TEST_UNSET_KEY");
	run_add(&r, "wrong", http_base, "/health/auth")->api_key_env = strdup("SECTOP_TEST_WRONG_KEY");
	run_add(&r, "crlf", http_base, "/health/auth")->api_key_env = strdup("SECTOP_TEST_CRLF_KEY");
	/* with credentials, redirects are followed by us, within the origin */
	run_add(&r, "key-redirect", http_base, "/health/redirect-ok")->api_key_env = strdup("HEALTHD_API_KEY");
	run_add(&r, "key-redirect-ftp", http_base, "/health/redirect-ftp")->api_key_env =
		strdup("HEALTHD_API_KEY");
	run_start(&r);
	run_until_checked(&r, 1, 10000);

	assert_down(res(&r, "no-credentials"), 401, "HTTP 401");
	assert_int_equal(res(&r, "api-key")->state, HEALTH_HEALTHY);
	assert_int_equal(res(&r, "bearer")->state, HEALTH_HEALTHY);
	assert_int_equal(res(&r, "bearer-tls")->state, HEALTH_HEALTHY);
	assert_down(res(&r, "unset"), 0, "environment variable SECTOP_TEST_UNSET_KEY is not set");
	assert_string_equal(res(&r, "unset")->reason,
	                    "environment variable SECTOP_TEST_UNSET_KEY is not set");
	assert_down(res(&r, "unset-bearer"), 0, "environment variable SECTOP_TEST_UNSET_KEY is not set");
	assert_down(res(&r, "wrong"), 401, "HTTP 401");
	assert_down(res(&r, "crlf"), 0, "environment variable SECTOP_TEST_CRLF_KEY holds control characters");
	check_healthy(res(&r, "key-redirect"));
	assert_down(res(&r, "key-redirect-ftp"), 302, "redirect to a disallowed scheme");

	/* the secret is nowhere in what is shown */
	const char *key = getenv("HEALTHD_API_KEY");
	for (size_t i = 0; i < r.m.n_health; i++) {
		const struct health_result *h = &r.m.health[i];
		assert_true(!h->reason || !strstr(h->reason, key));
		for (size_t j = 0; j < h->n_findings; j++)
			assert_null(strstr(h->findings[j], key));
	}
	run_free(&r);
	unsetenv("SECTOP_TEST_WRONG_KEY");
	unsetenv("SECTOP_TEST_CRLF_KEY");
}

/* --- transport failures, refresh, teardown ------------------------------- */

static void test_connection_refused(void **state)
{
	struct run r;

	run_init(&r, 60000, 3000);
	run_add(&r, "refused", "http://127.0.0.1:1", "/health");
	run_start(&r);
	run_until_checked(&r, 1, 5000);
	assert_down(res(&r, "refused"), 0, "could not connect: ");
	assert_int_equal(res(&r, "refused")->n_findings, 0);
	run_free(&r);
}

static void test_refresh_now(void **state)
{
	struct run r;

	run_init(&r, 3600 * 1000, 3000);
	run_add(&r, "healthy", http_base, "/health/healthy");
	run_start(&r);
	run_until_checked(&r, 1, 5000);
	/* an hour to the next check: nothing happens on its own */
	for (int i = 0; i < 20; i++)
		run_turn(&r);
	assert_int_equal(res(&r, "healthy")->checks, 1);
	loop_refresh_all(r.loop);
	run_until_checked(&r, 2, 5000);
	assert_int_equal(res(&r, "healthy")->checks, 2);
	check_healthy(res(&r, "healthy"));
	run_free(&r);
}

/* Tearing down with transfers in flight frees them (LSan watches). */
static void test_destroy_in_flight(void **state)
{
	struct run r;

	run_init(&r, 60000, 30000);
	run_add(&r, "slow", http_base, "/health/slow");
	run_add(&r, "huge", http_base, "/health/huge-chunked");
	run_add(&r, "tls", https_base, "/health/slow")->ca_file = strdup(ca_file);
	run_start(&r);
	int64_t until = clock_mono_ms() + 300;
	while (clock_mono_ms() < until)
		run_turn(&r);
	assert_int_equal(res(&r, "slow")->checks, 0);
	turn_worst_check(&r.worst);
	run_free(&r);
}

/* "http://127.0.0.1:PORT" -> "http://localhost:PORT" */
static char *by_name(const char *base)
{
	const char *port = strrchr(base, ':');
	const char *scheme_end = strstr(base, "://");
	char *url = NULL;

	assert_non_null(port);
	assert_non_null(scheme_end);
	assert_true(asprintf(&url, "%.*slocalhost%s", (int)(scheme_end + 3 - base), base, port) > 0);
	return url;
}

/* Names go through curl's threaded resolver: a lookup, even one that never
 * answers, does not hold up the loop.  localhost is in the fixture
 * certificate's names. */
static void test_names(void **state)
{
	struct run r;
	char *http_name = by_name(http_base), *https_name = by_name(https_base);

	run_init(&r, 60000, 3000);
	run_add(&r, "by-name", http_name, "/health/healthy");
	run_add(&r, "by-name-tls", https_name, "/health/healthy")->ca_file = strdup(ca_file);
	run_add(&r, "no-such-name", "http://sectop-test.invalid", "/health");
	run_start(&r);
	run_until_checked(&r, 1, 10000);

	check_healthy(res(&r, "by-name"));
	assert_int_equal(res(&r, "by-name-tls")->state, HEALTH_HEALTHY);
	const struct health_result *nx = res(&r, "no-such-name");
	assert_int_equal(nx->state, HEALTH_DOWN);
	assert_int_equal(nx->http_status, 0);
	/* without network the lookup may hang until the connect timeout */
	if (strncmp(nx->reason, "could not resolve host", 22) != 0 &&
	    strncmp(nx->reason, "timed out after", 15) != 0)
		fail_msg("no-such-name: reason \"%s\"", nx->reason);
	run_free(&r);
	free(http_name);
	free(https_name);
}

/* As many endpoints as a configuration holds, all due at once: their
 * connects and TLS handshakes must not all land in one loop turn. */
static void test_many(void **state)
{
	struct run r;
	char name[32];

	run_init(&r, 60000, 5000);
	for (int i = 0; i < CONF_MAX_LIST; i++) {
		snprintf(name, sizeof name, "ep%02d", i);
		if (i % 2)
			run_add(&r, name, http_base, "/health/degraded");
		else
			run_add(&r, name, https_base, "/health/healthy")->ca_file = strdup(ca_file);
	}
	run_start(&r);
	run_until_checked(&r, 1, 15000);
	for (size_t i = 0; i < r.m.n_health; i++)
		assert_int_equal(r.m.health[i].state, i % 2 ? HEALTH_DEGRADED : HEALTH_HEALTHY);
	run_free(&r);
}

/* No endpoints: a source that does nothing, quietly. */
static void test_no_endpoints(void **state)
{
	struct run r;

	run_init(&r, 200, 3000);
	run_start(&r);
	assert_null(r.m.health);
	for (int i = 0; i < 5; i++)
		run_turn(&r);
	turn_worst_check(&r.worst);
	run_free(&r);
}

int main(void)
{
	http_base = testenv_need("SECTOP_TEST_HTTP");
	https_base = testenv_need("SECTOP_TEST_HTTPS");
	ca_file = testenv_need("SECTOP_TEST_CA");
	testenv_need("HEALTHD_API_KEY");
	testenv_need("HEALTHD_TOKEN");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_routes),
		cmocka_unit_test(test_slow_does_not_block),
		cmocka_unit_test(test_https_with_ca),
		cmocka_unit_test(test_https_without_ca),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_refresh_now),
		cmocka_unit_test(test_destroy_in_flight),
		cmocka_unit_test(test_no_endpoints),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
