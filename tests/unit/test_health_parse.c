/* test_health_parse: the meaning of health bodies, headers and certificate
 * dates, per contract/health.md.  No network here. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health_parse.h"
#include "model.h"

/* --- helpers ------------------------------------------------------------- */

struct parsed {
	enum health_state state;
	struct health_component *comps;
	size_t n;
	char *reason;
};

static struct parsed parse_len(const char *body, size_t len, long status)
{
	struct parsed p;

	p.state = health_parse_body(body, len, status, &p.comps, &p.n, &p.reason);
	return p;
}

static struct parsed parse(const char *body, long status)
{
	return parse_len(body, body ? strlen(body) : 0, status);
}

static void parsed_free(struct parsed *p)
{
	health_components_free(p->comps, p->n);
	free(p->reason);
}

static const struct health_component *comp(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->comps[i].name, name) == 0)
			return &p->comps[i];
	fail_msg("no component %s", name);
	abort();
}

static void expect_state(const char *body, long status, enum health_state want, const char *reason)
{
	struct parsed p = parse(body, status);

	assert_int_equal(p.state, want);
	if (reason)
		assert_string_equal(p.reason, reason);
	else
		assert_null(p.reason);
	parsed_free(&p);
}

/* A body of depth levels of nested arrays around "x". */
static char *nested(size_t depth, char open, char close)
{
	char *s = malloc(2 * depth + 4);

	assert_non_null(s);
	memset(s, open, depth);
	if (open == '[') {
		memcpy(s + depth, "1", 1);
		memset(s + depth + 1, close, depth);
		s[2 * depth + 1] = '\0';
	} else {
		s[2 * depth] = '\0';
	}
	return s;
}

/* --- state words --------------------------------------------------------- */

static void test_words(void **state)
{
	const char *healthy[] = { "healthy", "ok", "pass", "up", "HEALTHY", "Ok", "UP", "PaSs" };
	const char *degraded[] = { "degraded", "warn", "DEGRADED", "Warn" };
	const char *down[] = { "down", "fail", "exploded", "", "up ", " ok", "okay", "unknown",
	                       "OUT_OF_SERVICE", "healthy\x1b[2J" };

	for (size_t i = 0; i < sizeof healthy / sizeof *healthy; i++)
		assert_int_equal(health_state_from_word(healthy[i]), HEALTH_HEALTHY);
	for (size_t i = 0; i < sizeof degraded / sizeof *degraded; i++)
		assert_int_equal(health_state_from_word(degraded[i]), HEALTH_DEGRADED);
	for (size_t i = 0; i < sizeof down / sizeof *down; i++)
		assert_int_equal(health_state_from_word(down[i]), HEALTH_DOWN);
	assert_int_equal(health_state_from_word(NULL), HEALTH_UNKNOWN);
}

/* The Turkish dotless/dotted i must not make "UP" or "PASS" differ: the
 * comparison is ASCII whatever the locale. */
static void test_words_not_unicode_folded(void **state)
{
	assert_int_equal(health_state_from_word("\xc4\xb0" "p"), HEALTH_DOWN);   /* "İp" */
	assert_int_equal(health_state_from_word("o\xe2\x84\xaa"), HEALTH_DOWN);  /* "oK" (Kelvin) */
}

/* --- bodies from the contract -------------------------------------------- */

static void test_contract_healthy(void **state)
{
	expect_state("{\"status\": \"healthy\"}", 200, HEALTH_HEALTHY, NULL);
	expect_state("{\"status\": \"ok\", \"version\": \"1.4.2\", \"uptime_s\": 81234}", 200,
	             HEALTH_HEALTHY, NULL);
}

static void test_contract_degraded(void **state)
{
	struct parsed p = parse(
		"{\"status\": \"degraded\", \"components\": {\"database\": {\"status\": \"ok\", \"latency_ms\": 3},\n"
		"  \"redis\": {\"status\": \"down\", \"error\": \"connection refused\"},\n"
		"  \"qdrant\": \"ok\"}}", 200);

	assert_int_equal(p.state, HEALTH_DEGRADED);
	assert_string_equal(p.reason, "status \"degraded\"");
	assert_int_equal(p.n, 3);
	/* order kept as sent */
	assert_string_equal(p.comps[0].name, "database");
	assert_int_equal(p.comps[0].state, HEALTH_HEALTHY);
	assert_null(p.comps[0].detail);
	assert_string_equal(p.comps[1].name, "redis");
	assert_int_equal(p.comps[1].state, HEALTH_DOWN);
	assert_string_equal(p.comps[1].detail, "connection refused");
	assert_string_equal(p.comps[2].name, "qdrant");
	assert_int_equal(p.comps[2].state, HEALTH_HEALTHY);
	assert_null(p.comps[2].detail);
	parsed_free(&p);
}

static void test_each_word_in_body(void **state)
{
	static const struct { const char *word; enum health_state st; } cases[] = {
		{ "healthy", HEALTH_HEALTHY }, { "ok", HEALTH_HEALTHY }, { "pass", HEALTH_HEALTHY },
		{ "up", HEALTH_HEALTHY }, { "HEALTHY", HEALTH_HEALTHY }, { "Up", HEALTH_HEALTHY },
		{ "degraded", HEALTH_DEGRADED }, { "warn", HEALTH_DEGRADED }, { "WARN", HEALTH_DEGRADED },
		{ "down", HEALTH_DOWN }, { "fail", HEALTH_DOWN }, { "exploded", HEALTH_DOWN },
	};
	char body[128], reason[128];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(body, sizeof body, "{\"status\":\"%s\"}", cases[i].word);
		snprintf(reason, sizeof reason, "status \"%s\"", cases[i].word);
		expect_state(body, 200, cases[i].st, cases[i].st == HEALTH_HEALTHY ? NULL : reason);
	}
}

/* --- everything that is down --------------------------------------------- */

static void test_http_status_wins(void **state)
{
	expect_state("{\"status\":\"healthy\"}", 503, HEALTH_DOWN, "HTTP 503");
	expect_state("{\"status\":\"healthy\"}", 500, HEALTH_DOWN, "HTTP 500");
	expect_state("{\"status\":\"healthy\"}", 204, HEALTH_DOWN, "HTTP 204");
	expect_state("{\"status\":\"healthy\"}", 301, HEALTH_DOWN, "HTTP 301");
	expect_state("Internal Server Error", 500, HEALTH_DOWN, "HTTP 500");
	expect_state("", 503, HEALTH_DOWN, "HTTP 503");
	expect_state("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	             401, HEALTH_DOWN, "HTTP 401");
}

/* A 503 that says which component broke: the components are still read. */
static void test_http_error_keeps_components(void **state)
{
	struct parsed p = parse("{\"status\":\"down\",\"components\":{\"db\":{\"status\":\"down\","
	                        "\"error\":\"disk full\"}}}", 503);

	assert_int_equal(p.state, HEALTH_DOWN);
	assert_string_equal(p.reason, "HTTP 503");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.comps[0].detail, "disk full");
	parsed_free(&p);
}

static void test_unknown_and_missing_status(void **state)
{
	expect_state("{\"status\":\"exploded\"}", 200, HEALTH_DOWN, "status \"exploded\"");
	expect_state("{}", 200, HEALTH_DOWN, "no \"status\" in body");
	expect_state("{\"state\":\"ok\"}", 200, HEALTH_DOWN, "no \"status\" in body");
	expect_state("{\"status\":true}", 200, HEALTH_DOWN, "\"status\" is not a string");
	expect_state("{\"status\":1}", 200, HEALTH_DOWN, "\"status\" is not a string");
	expect_state("{\"status\":null}", 200, HEALTH_DOWN, "\"status\" is not a string");
	expect_state("{\"status\":{\"status\":\"ok\"}}", 200, HEALTH_DOWN, "\"status\" is not a string");
}

static void test_long_status_word_is_cut(void **state)
{
	char body[400], want[100];

	snprintf(body, sizeof body, "{\"status\":\"%0300d\"}", 7);
	struct parsed p = parse(body, 200);
	assert_int_equal(p.state, HEALTH_DOWN);
	snprintf(want, sizeof want, "status \"%064d\"", 0);
	assert_string_equal(p.reason, want);
	parsed_free(&p);
}

static void test_not_json(void **state)
{
	const char *bodies[] = { "OK", "<html>healthy</html>", "{\"status\":\"ok\"", "{\"status\":\"ok\"}}",
	                         "{'status':'ok'}", "\"ok\"", "42", "null", "true", "\xff\xfe{}" };

	for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
		struct parsed p = parse(bodies[i], 200);
		assert_int_equal(p.state, HEALTH_DOWN);
		assert_non_null(p.reason);
		assert_true(strncmp(p.reason, "body is not JSON: ", 18) == 0);
		assert_true(strlen(p.reason) > 18);        /* jansson says why */
		assert_null(p.comps);
		assert_int_equal(p.n, 0);
		parsed_free(&p);
	}
}

static void test_empty(void **state)
{
	expect_state("", 200, HEALTH_DOWN, "empty body");
	expect_state(" \r\n\t ", 200, HEALTH_DOWN, "empty body");
	expect_state(NULL, 200, HEALTH_DOWN, "empty body");
}

static void test_not_an_object(void **state)
{
	expect_state("[]", 200, HEALTH_DOWN, "body is not a JSON object");
	expect_state("[{\"status\":\"ok\"}]", 200, HEALTH_DOWN, "body is not a JSON object");
}

/* The length given counts, not a NUL: a body is bytes. */
static void test_length_is_respected(void **state)
{
	const char buf[] = "{\"status\":\"ok\"}garbage";
	struct parsed p = parse_len(buf, 15, 200);

	assert_int_equal(p.state, HEALTH_HEALTHY);
	parsed_free(&p);
	p = parse_len("{\"status\":\"ok\"}\0{}", 18, 200);
	assert_int_equal(p.state, HEALTH_DOWN);
	parsed_free(&p);
}

/* --- nesting ------------------------------------------------------------- */

static void test_nesting_limit(void **state)
{
	char *ok = nested(HEALTH_MAX_DEPTH - 1, '[', ']');
	char body[1024];

	/* 63 arrays inside the top object: 64 levels, accepted */
	snprintf(body, sizeof body, "{\"status\":\"ok\",\"x\":%s}", ok);
	expect_state(body, 200, HEALTH_HEALTHY, NULL);
	free(ok);

	char *deep = nested(HEALTH_MAX_DEPTH, '[', ']');
	snprintf(body, sizeof body, "{\"status\":\"ok\",\"x\":%s}", deep);
	expect_state(body, 200, HEALTH_DOWN, "body is nested deeper than 64 levels");
	free(deep);
}

static void test_nesting_huge(void **state)
{
	char *deep = nested(100000, '[', ']');
	expect_state(deep, 200, HEALTH_DOWN, "body is nested deeper than 64 levels");
	free(deep);

	/* unterminated, as a cut body would be */
	deep = nested(100000, '{', '}');
	expect_state(deep, 200, HEALTH_DOWN, "body is nested deeper than 64 levels");
	free(deep);
}

/* Brackets inside strings are text, not nesting. */
static void test_nesting_ignores_strings(void **state)
{
	char body[512];
	char brackets[201];

	memset(brackets, '[', 200);
	brackets[200] = '\0';
	snprintf(body, sizeof body, "{\"status\":\"ok\",\"note\":\"%s\",\"q\":\"\\\"[[[\"}", brackets);
	expect_state(body, 200, HEALTH_HEALTHY, NULL);
}

/* --- components ---------------------------------------------------------- */

static void test_components_strings(void **state)
{
	struct parsed p = parse("{\"status\":\"ok\",\"components\":{\"a\":\"UP\",\"b\":\"warn\","
	                        "\"c\":\"on fire\",\"d\":\"down\"}}", 200);

	assert_int_equal(p.state, HEALTH_HEALTHY);   /* the top level decides */
	assert_null(p.reason);
	assert_int_equal(p.n, 4);
	assert_int_equal(comp(&p, "a")->state, HEALTH_HEALTHY);
	assert_null(comp(&p, "a")->detail);
	assert_int_equal(comp(&p, "b")->state, HEALTH_DEGRADED);
	assert_int_equal(comp(&p, "c")->state, HEALTH_DOWN);
	assert_string_equal(comp(&p, "c")->detail, "on fire");
	assert_int_equal(comp(&p, "d")->state, HEALTH_DOWN);
	assert_string_equal(comp(&p, "d")->detail, "down");
	parsed_free(&p);
}

static void test_components_objects(void **state)
{
	struct parsed p = parse(
		"{\"status\":\"degraded\",\"components\":{"
		"\"a\":{\"status\":\"pass\"},"
		"\"b\":{\"status\":\"fail\",\"message\":\"timeout\"},"
		"\"c\":{\"status\":\"fail\"},"
		"\"d\":{\"latency_ms\":4},"
		"\"e\":{\"error\":\"boom\"},"
		"\"f\":{\"status\":\"warn\",\"output\":\"slow\"},"
		"\"g\":{\"status\":\"ok\",\"description\":\"primary\"},"
		"\"h\":true,\"i\":false,\"j\":null,\"k\":7,"
		"\"l\":{\"status\":\"down\",\"error\":{\"code\":5}}}}", 200);

	assert_int_equal(p.state, HEALTH_DEGRADED);
	assert_int_equal(p.n, 12);
	assert_int_equal(comp(&p, "a")->state, HEALTH_HEALTHY);
	assert_int_equal(comp(&p, "b")->state, HEALTH_DOWN);
	assert_string_equal(comp(&p, "b")->detail, "timeout");
	assert_int_equal(comp(&p, "c")->state, HEALTH_DOWN);
	assert_string_equal(comp(&p, "c")->detail, "fail");
	assert_int_equal(comp(&p, "d")->state, HEALTH_UNKNOWN);
	assert_null(comp(&p, "d")->detail);
	assert_int_equal(comp(&p, "e")->state, HEALTH_DOWN);
	assert_string_equal(comp(&p, "e")->detail, "boom");
	assert_int_equal(comp(&p, "f")->state, HEALTH_DEGRADED);
	assert_string_equal(comp(&p, "f")->detail, "slow");
	assert_int_equal(comp(&p, "g")->state, HEALTH_HEALTHY);
	assert_string_equal(comp(&p, "g")->detail, "primary");
	assert_int_equal(comp(&p, "h")->state, HEALTH_HEALTHY);
	assert_int_equal(comp(&p, "i")->state, HEALTH_DOWN);
	assert_int_equal(comp(&p, "j")->state, HEALTH_UNKNOWN);
	assert_int_equal(comp(&p, "k")->state, HEALTH_UNKNOWN);
	/* a non-string error is not a detail: the status word stands in */
	assert_int_equal(comp(&p, "l")->state, HEALTH_DOWN);
	assert_string_equal(comp(&p, "l")->detail, "down");
	parsed_free(&p);
}

/* IETF draft: "checks": {"name": [ {status, output}, ... ]}: the worst counts. */
static void test_components_ietf_checks(void **state)
{
	struct parsed p = parse(
		"{\"status\":\"warn\",\"checks\":{"
		"\"db:responseTime\":[{\"componentId\":\"a\",\"status\":\"pass\"},"
		"                     {\"componentId\":\"b\",\"status\":\"warn\",\"output\":\"slow\"}],"
		"\"cpu:utilization\":[{\"status\":\"pass\"}],"
		"\"disk\":[]}}", 200);

	assert_int_equal(p.state, HEALTH_DEGRADED);
	assert_int_equal(p.n, 3);
	assert_int_equal(comp(&p, "db:responseTime")->state, HEALTH_DEGRADED);
	assert_string_equal(comp(&p, "db:responseTime")->detail, "slow");
	assert_int_equal(comp(&p, "cpu:utilization")->state, HEALTH_HEALTHY);
	assert_int_equal(comp(&p, "disk")->state, HEALTH_UNKNOWN);
	parsed_free(&p);
}

/* MicroProfile: "checks": [{"name", "status"}]. */
static void test_components_microprofile(void **state)
{
	struct parsed p = parse("{\"status\":\"DOWN\",\"checks\":[{\"name\":\"db\",\"status\":\"UP\"},"
	                        "{\"name\":\"queue\",\"status\":\"DOWN\"},{\"status\":\"UP\"}]}", 200);

	assert_int_equal(p.state, HEALTH_DOWN);
	assert_string_equal(p.reason, "status \"DOWN\"");
	assert_int_equal(p.n, 3);
	assert_int_equal(comp(&p, "db")->state, HEALTH_HEALTHY);
	assert_int_equal(comp(&p, "queue")->state, HEALTH_DOWN);
	assert_non_null(comp(&p, "#3"));
	parsed_free(&p);
}

/* Spring Boot 1.x/2.0 "details"; and "components" wins when several exist;
 * nested components are not followed. */
static void test_components_keys(void **state)
{
	struct parsed p = parse("{\"status\":\"UP\",\"details\":{\"diskSpace\":{\"status\":\"UP\","
	                        "\"details\":{\"free\":1}}}}", 200);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.comps[0].name, "diskSpace");
	parsed_free(&p);

	p = parse("{\"status\":\"UP\",\"checks\":{\"x\":\"ok\"},\"components\":{\"y\":\"ok\"}}", 200);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.comps[0].name, "y");
	parsed_free(&p);

	p = parse("{\"status\":\"UP\",\"components\":{\"db\":{\"status\":\"UP\",\"components\":"
	          "{\"primary\":\"UP\",\"replica\":\"DOWN\"}}}}", 200);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.comps[0].name, "db");
	parsed_free(&p);

	/* components of the wrong type are ignored, not fatal */
	p = parse("{\"status\":\"ok\",\"components\":\"all good\",\"details\":\"x\"}", 200);
	assert_int_equal(p.state, HEALTH_HEALTHY);
	assert_int_equal(p.n, 0);
	assert_null(p.comps);
	parsed_free(&p);

	p = parse("{\"status\":\"ok\",\"components\":{}}", 200);
	assert_int_equal(p.n, 0);
	assert_null(p.comps);
	parsed_free(&p);
}

static void test_components_cap(void **state)
{
	size_t n = 10000, cap = 32 + n * 24;
	char *body = malloc(cap), *w = body;

	assert_non_null(body);
	w += sprintf(w, "{\"status\":\"ok\",\"components\":{");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "%s\"c%zu\":\"ok\"", i ? "," : "", i);
	strcpy(w, "}}");

	struct parsed p = parse(body, 200);
	assert_int_equal(p.state, HEALTH_HEALTHY);
	assert_int_equal(p.n, HEALTH_MAX_COMPONENTS);
	assert_string_equal(p.comps[0].name, "c0");
	assert_string_equal(p.comps[31].name, "c31");
	parsed_free(&p);

	/* the same through the array shape */
	w = body;
	w += sprintf(w, "{\"status\":\"ok\",\"checks\":[");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "%s{\"name\":\"c%zu\"}", i ? "," : "", i);
	strcpy(w, "]}");
	p = parse(body, 200);
	assert_int_equal(p.n, HEALTH_MAX_COMPONENTS);
	parsed_free(&p);
	free(body);
}

/* Escaping is the display's job: the parser keeps what was sent, byte for
 * byte (JSON escapes decoded). */
static void test_hostile_strings_raw(void **state)
{
	struct parsed p = parse(
		"{\"status\":\"ok\\u001b[2J\",\"components\":{"
		"\"\\u001b]0;pwned\\u0007db\":{\"status\":\"down\",\"error\":\"\\u001b[31mred\\u001b[0m\\r\\nfake line\"},"
		"\"\\u202egnp.exe\":\"\\u009b6n\"}}", 200);

	assert_int_equal(p.state, HEALTH_DOWN);
	assert_string_equal(p.reason, "status \"ok\x1b[2J\"");
	assert_int_equal(p.n, 2);
	assert_string_equal(p.comps[0].name, "\x1b]0;pwned\x07" "db");
	assert_string_equal(p.comps[0].detail, "\x1b[31mred\x1b[0m\r\nfake line");
	assert_string_equal(p.comps[1].name, "\xe2\x80\xae" "gnp.exe");
	assert_int_equal(p.comps[1].state, HEALTH_DOWN);
	assert_string_equal(p.comps[1].detail, "\xc2\x9b" "6n");
	parsed_free(&p);

	/* NUL inside a string is refused by the parser (it would hide the rest) */
	p = parse("{\"status\":\"ok\\u0000evil\"}", 200);
	assert_int_equal(p.state, HEALTH_DOWN);
	assert_true(strncmp(p.reason, "body is not JSON: ", 18) == 0);
	parsed_free(&p);
}

static void test_long_strings_capped_on_utf8_boundary(void **state)
{
	size_t n = 1000;
	char *body = malloc(n * 4 + 200), *w = body;

	assert_non_null(body);
	w += sprintf(w, "{\"status\":\"ok\",\"components\":{\"x");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "\xc3\xa9");          /* é, two bytes */
	w += sprintf(w, "\":{\"status\":\"down\",\"error\":\"e");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "\xc3\xa9");
	strcpy(w, "\"}}}");

	struct parsed p = parse(body, 200);
	assert_int_equal(p.n, 1);
	size_t nl = strlen(p.comps[0].name), dl = strlen(p.comps[0].detail);
	assert_true(nl <= HEALTH_NAME_MAX && nl >= HEALTH_NAME_MAX - 1);
	assert_true(dl <= HEALTH_DETAIL_MAX && dl >= HEALTH_DETAIL_MAX - 1);
	/* "x" then whole é's: an odd length */
	assert_int_equal(nl % 2, 1);
	assert_int_equal(dl % 2, 1);
	parsed_free(&p);
	free(body);
}

/* --- findings ------------------------------------------------------------ */

#define NOW_S ((int64_t)1767225600)   /* 2026-01-01T00:00:00Z */

static struct health_result result_with(const char *url)
{
	struct health_result r;

	memset(&r, 0, sizeof r);
	r.url = strdup(url);
	r.name = strdup("api");
	r.http_status = 200;
	return r;
}

/* Every security header present and good. */
static void result_all_headers(struct health_result *r)
{
	r->hsts = strdup("max-age=31536000; includeSubDomains");
	r->content_type_options = strdup("nosniff");
	r->frame_options = strdup("DENY");
	r->csp = strdup("default-src 'none'; frame-ancestors 'none'");
	r->ratelimit_limit = strdup("100");
	r->ratelimit_remaining = strdup("99");
}

static bool has_finding(const struct health_result *r, const char *text)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i], text) == 0)
			return true;
	return false;
}

static void assert_findings_plain(const struct health_result *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		for (const unsigned char *p = (const unsigned char *)r->findings[i]; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_findings_none_when_all_good(void **state)
{
	struct health_result r = result_with("https://api.example/health");

	result_all_headers(&r);
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);
	health_result_free(&r);
}

static void test_findings_each_missing_header(void **state)
{
	struct health_result r = result_with("https://api.example/health");

	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "no Strict-Transport-Security header over HTTPS"));
	assert_true(has_finding(&r, "no X-Content-Type-Options: nosniff header"));
	assert_true(has_finding(&r, "no X-Frame-Options header and no CSP frame-ancestors (clickjacking)"));
	assert_true(has_finding(&r, "no Content-Security-Policy header"));
	assert_int_equal(r.n_findings, 4);
	/* again: replaced, not appended */
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 4);
	health_result_free(&r);
}

static void test_findings_hsts_only_over_https(void **state)
{
	struct health_result r = result_with("http://api.example/health");

	result_all_headers(&r);
	free(r.hsts);
	r.hsts = NULL;
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);
	health_result_free(&r);

	r = result_with("HTTPS://api.example/health");
	result_all_headers(&r);
	free(r.hsts);
	r.hsts = strdup("max-age=0");
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "Strict-Transport-Security has max-age=0 (HSTS is off)"));
	assert_int_equal(r.n_findings, 1);
	health_result_free(&r);
}

static void test_findings_nosniff_value(void **state)
{
	struct health_result r = result_with("https://a/");

	result_all_headers(&r);
	free(r.content_type_options);
	r.content_type_options = strdup("  NoSniff ");
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);
	free(r.content_type_options);
	r.content_type_options = strdup("sniff-away");
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "X-Content-Type-Options is not nosniff"));
	assert_int_equal(r.n_findings, 1);
	health_result_free(&r);
}

static void test_findings_framing(void **state)
{
	struct health_result r = result_with("https://a/");

	/* CSP frame-ancestors alone is enough */
	result_all_headers(&r);
	free(r.frame_options);
	r.frame_options = NULL;
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);

	/* X-Frame-Options alone is enough too */
	free(r.csp);
	r.csp = strdup("default-src 'self'");
	r.frame_options = strdup("sameorigin");
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);

	/* neither */
	free(r.frame_options);
	r.frame_options = NULL;
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "no X-Frame-Options header and no CSP frame-ancestors (clickjacking)"));
	assert_int_equal(r.n_findings, 1);

	/* a word that only contains the directive's name does not count */
	free(r.csp);
	r.csp = strdup("default-src 'self' https://frame-ancestors.example");
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 1);

	/* a bogus X-Frame-Options value, hostile bytes and all */
	r.frame_options = strdup("\x1b[2J\x1b]0;owned\x07");
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "X-Frame-Options is neither DENY nor SAMEORIGIN"));
	assert_int_equal(r.n_findings, 1);
	assert_findings_plain(&r);
	health_result_free(&r);
}

static void test_findings_csp_missing(void **state)
{
	struct health_result r = result_with("https://a/");

	result_all_headers(&r);
	free(r.csp);
	r.csp = NULL;
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "no Content-Security-Policy header"));
	assert_int_equal(r.n_findings, 1);    /* X-Frame-Options: DENY still covers framing */
	health_result_free(&r);
}

static void test_findings_cors(void **state)
{
	struct health_result r = result_with("https://a/");

	result_all_headers(&r);
	r.cors = strdup("*");
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "CORS allows any origin (Access-Control-Allow-Origin: *)"));
	assert_int_equal(r.n_findings, 1);
	free(r.cors);
	r.cors = strdup(" * ");
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 1);
	free(r.cors);
	r.cors = strdup("https://console.example");
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);
	health_result_free(&r);
}

static void test_findings_ratelimit(void **state)
{
	struct health_result r = result_with("https://a/");

	result_all_headers(&r);
	free(r.ratelimit_remaining);
	r.ratelimit_remaining = strdup("0");
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "rate limit exhausted (X-RateLimit-Remaining: 0)"));
	assert_int_equal(r.n_findings, 1);
	const char *not_zero[] = { "1", "10", "", "zero", "0.5", "-0" };
	for (size_t i = 0; i < sizeof not_zero / sizeof *not_zero; i++) {
		free(r.ratelimit_remaining);
		r.ratelimit_remaining = strdup(not_zero[i]);
		health_findings(&r, NOW_S, 14);
		assert_int_equal(r.n_findings, 0);
	}
	health_result_free(&r);
}

/* No response, no headers to judge: only the certificate can speak. */
static void test_findings_no_response(void **state)
{
	struct health_result r = result_with("https://a/");

	r.http_status = 0;
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 0);
	r.cert_expires_at = NOW_S - 10;
	health_findings(&r, NOW_S, 14);
	assert_int_equal(r.n_findings, 1);
	health_result_free(&r);
}

static void test_findings_hostile_values_stay_out(void **state)
{
	struct health_result r = result_with("https://a/");

	r.hsts = strdup("max-age=0\x1b[2J");
	r.content_type_options = strdup("\x1b]52;c;ZWNobyBoaQ==\x07");
	r.frame_options = strdup("\xe2\x80\xae" "DENY");
	r.csp = strdup("\x9b" "31m");
	r.cors = strdup("*\r\nSet-Cookie: x=1");
	r.ratelimit_remaining = strdup("0\x1b[0m");
	health_findings(&r, NOW_S, 14);
	assert_true(r.n_findings >= 4);
	assert_findings_plain(&r);
	for (size_t i = 0; i < r.n_findings; i++) {
		assert_null(strstr(r.findings[i], "ZWNo"));
		assert_null(strstr(r.findings[i], "Set-Cookie"));
	}
	health_result_free(&r);
}

/* --- certificates -------------------------------------------------------- */

static void test_cert_dates(void **state)
{
	assert_int_equal(health_parse_cert_date("Dec  2 12:00:00 2026 GMT"), 1796212800);
	assert_int_equal(health_parse_cert_date("Dec 2 12:00:00 2026 GMT"), 1796212800);
	assert_int_equal(health_parse_cert_date(" Dec  2 12:00:00 2026 GMT"), 1796212800);
	assert_int_equal(health_parse_cert_date("Dec  2 12:00:00.250 2026 GMT"), 1796212800);
	assert_int_equal(health_parse_cert_date("Dec  2 12:00:00 2026"), 1796212800);
	assert_int_equal(health_parse_cert_date("Feb 29 23:59:59 2024 GMT"), 1709251199);
	assert_int_equal(health_parse_cert_date("2026-12-02 12:00:00 GMT"), 1796212800);
	assert_int_equal(health_parse_cert_date("2026-12-02T12:00:00Z"), 1796212800);
}

static void test_cert_dates_bad(void **state)
{
	const char *bad[] = { "", "garbage", "Dez  2 12:00:00 2026 GMT", "Dec 40 12:00:00 2026 GMT",
	                      "Dec  2 25:00:00 2026 GMT", "Dec  2 12:00 2026 GMT",
	                      "Dec  2 12:00:00 2026 CET", "Dec  2 12:00:00 2026 GMT junk",
	                      "dec  2 12:00:00 2026 GMT", "2026-13-02 12:00:00" };

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(health_parse_cert_date(bad[i]), 0);
	assert_int_equal(health_parse_cert_date(NULL), 0);
}

static char *cert_finding(int64_t expires_at, int warn_days)
{
	struct health_result r = result_with("https://a/");
	char *f = NULL;

	result_all_headers(&r);
	r.cert_expires_at = expires_at;
	health_findings(&r, NOW_S, warn_days);
	assert_true(r.n_findings <= 1);
	if (r.n_findings)
		f = strdup(r.findings[0]);
	health_result_free(&r);
	return f;
}

static void expect_cert(int64_t expires_at, int warn_days, const char *want)
{
	char *f = cert_finding(expires_at, warn_days);

	if (want)
		assert_string_equal(f, want);
	else
		assert_null(f);
	free(f);
}

static void test_cert_windows(void **state)
{
	const int64_t day = 86400;

	expect_cert(0, 14, NULL);                                 /* unknown */
	expect_cert(NOW_S + 30 * day, 14, NULL);
	expect_cert(NOW_S + 14 * day, 14, NULL);                  /* exactly at the edge */
	expect_cert(NOW_S + 14 * day - 1, 14, "certificate expires in 13 days (2026-01-14)");
	expect_cert(NOW_S + 9 * day + 3600, 14, "certificate expires in 9 days (2026-01-10)");
	expect_cert(NOW_S + day + 5, 14, "certificate expires in 1 day (2026-01-02)");
	expect_cert(NOW_S + 3600, 14, "certificate expires in less than a day (2026-01-01)");
	expect_cert(NOW_S, 14, "certificate expired (2026-01-01)");
	expect_cert(NOW_S - 40 * day, 14, "certificate expired (2025-11-22)");
	/* warn_days 0: only an expired certificate is a finding */
	expect_cert(NOW_S + 3600, 0, NULL);
	expect_cert(NOW_S - 1, 0, "certificate expired (2025-12-31)");
	/* over plain HTTP (a redirect may have ended on TLS) the date still counts */
	struct health_result r = result_with("http://a/");
	result_all_headers(&r);
	r.cert_expires_at = NOW_S + day * 2;
	health_findings(&r, NOW_S, 14);
	assert_true(has_finding(&r, "certificate expires in 2 days (2026-01-03)"));
	health_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_words_not_unicode_folded),
		cmocka_unit_test(test_contract_healthy),
		cmocka_unit_test(test_contract_degraded),
		cmocka_unit_test(test_each_word_in_body),
		cmocka_unit_test(test_http_status_wins),
		cmocka_unit_test(test_http_error_keeps_components),
		cmocka_unit_test(test_unknown_and_missing_status),
		cmocka_unit_test(test_long_status_word_is_cut),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_length_is_respected),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_nesting_huge),
		cmocka_unit_test(test_nesting_ignores_strings),
		cmocka_unit_test(test_components_strings),
		cmocka_unit_test(test_components_objects),
		cmocka_unit_test(test_components_ietf_checks),
		cmocka_unit_test(test_components_microprofile),
		cmocka_unit_test(test_components_keys),
		cmocka_unit_test(test_components_cap),
		cmocka_unit_test(test_hostile_strings_raw),
		cmocka_unit_test(test_long_strings_capped_on_utf8_boundary),
		cmocka_unit_test(test_findings_none_when_all_good),
		cmocka_unit_test(test_findings_each_missing_header),
		cmocka_unit_test(test_findings_hsts_only_over_https),
		cmocka_unit_test(test_findings_nosniff_value),
		cmocka_unit_test(test_findings_framing),
		cmocka_unit_test(test_findings_csp_missing),
		cmocka_unit_test(test_findings_cors),
		cmocka_unit_test(test_findings_ratelimit),
		cmocka_unit_test(test_findings_no_response),
		cmocka_unit_test(test_findings_hostile_values_stay_out),
		cmocka_unit_test(test_cert_dates),
		cmocka_unit_test(test_cert_dates_bad),
		cmocka_unit_test(test_cert_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
