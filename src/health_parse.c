#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "health_parse.h"
#include "strutil.h"

/* --- small string helpers ------------------------------------------------ */

/* ASCII only: strcasecmp follows the locale, and a status word is protocol. */
static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool ascii_ieq(const char *a, const char *b)
{
	while (*a && *b && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b))
		a++, b++;
	return *a == '\0' && *b == '\0';
}

static bool ascii_ieqn(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value with optional whitespace around it, as a (start, length) view. */
static const char *trim_view(const char *s, size_t *len)
{
	size_t n = strlen(s);

	while (n && is_ows(*s))
		s++, n--;
	while (n && is_ows(s[n - 1]))
		n--;
	*len = n;
	return s;
}

/* Copy at most max bytes, never cutting a UTF-8 sequence in two: a cut
 * sequence would show up later as invalid bytes that the server never sent. */
static char *dup_capped(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* --- states -------------------------------------------------------------- */

enum health_state health_state_from_word(const char *word)
{
	static const char *const healthy[] = { "healthy", "ok", "pass", "up" };
	static const char *const degraded[] = { "degraded", "warn" };

	if (!word)
		return HEALTH_UNKNOWN;
	for (size_t i = 0; i < sizeof healthy / sizeof *healthy; i++)
		if (ascii_ieq(word, healthy[i]))
			return HEALTH_HEALTHY;
	for (size_t i = 0; i < sizeof degraded / sizeof *degraded; i++)
		if (ascii_ieq(word, degraded[i]))
			return HEALTH_DEGRADED;
	return HEALTH_DOWN;
}

/* Worse wins: DOWN > DEGRADED > UNKNOWN > HEALTHY. */
static int state_rank(enum health_state s)
{
	switch (s) {
	case HEALTH_HEALTHY: return 0;
	case HEALTH_UNKNOWN: return 1;
	case HEALTH_DEGRADED: return 2;
	case HEALTH_DOWN: return 3;
	}
	return 3;
}

/* --- depth guard --------------------------------------------------------- */

/* jansson's own limit is 2048 levels; a health body has no business being
 * more than a few deep.  One linear pass over the bytes, outside strings,
 * refuses deeper documents before jansson builds (or recurses over) them. */
static bool json_too_deep(const char *s, size_t len, int max)
{
	int depth = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return true;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return false;
}

static bool body_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_ows(s[i]))
			return false;
	return true;
}

/* --- components ---------------------------------------------------------- */

static const char *json_str_field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* State and detail of one scalar or object value (not an array). */
static enum health_state component_eval(const json_t *v, const char **detail)
{
	static const char *const detail_keys[] = { "error", "message", "output", "description" };
	const char *status;

	*detail = NULL;
	if (json_is_string(v)) {
		status = json_string_value(v);
		enum health_state st = health_state_from_word(status);
		if (st == HEALTH_DOWN)
			*detail = status;        /* the unknown word says what happened */
		return st;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? HEALTH_HEALTHY : HEALTH_DOWN;
	if (!json_is_object(v))
		return HEALTH_UNKNOWN;

	for (size_t i = 0; i < sizeof detail_keys / sizeof *detail_keys && !*detail; i++)
		*detail = json_str_field(v, detail_keys[i]);
	status = json_str_field(v, "status");
	if (!status)
		return *detail && json_object_get(v, "error") ? HEALTH_DOWN : HEALTH_UNKNOWN;
	enum health_state st = health_state_from_word(status);
	if (!*detail && st == HEALTH_DOWN)
		*detail = status;
	return st;
}

/* An array of checks for one component (IETF draft): the worst one counts. */
static enum health_state component_eval_array(const json_t *arr, const char **detail)
{
	enum health_state worst = HEALTH_UNKNOWN;
	bool any = false;
	size_t i;
	json_t *el;

	*detail = NULL;
	json_array_foreach(arr, i, el) {
		const char *d;
		enum health_state st = component_eval(el, &d);
		if (!any || state_rank(st) > state_rank(worst)) {
			worst = st;
			*detail = d;
			any = true;
		}
	}
	return worst;
}

static bool component_add(struct health_component *out, size_t *n, const char *name,
                          const json_t *v)
{
	const char *detail;
	enum health_state st = json_is_array(v) ? component_eval_array(v, &detail)
	                                        : component_eval(v, &detail);
	struct health_component *c = &out[*n];

	c->name = dup_capped(name, HEALTH_NAME_MAX);
	c->detail = detail ? dup_capped(detail, HEALTH_DETAIL_MAX) : NULL;
	c->state = st;
	if (!c->name || (detail && !c->detail)) {
		free(c->name);
		free(c->detail);
		return false;
	}
	(*n)++;
	return true;
}

/* MicroProfile shape: "checks": [{"name": "db", "status": "UP"}, ...]. */
static void components_from_array(const json_t *arr, struct health_component *out, size_t *n)
{
	size_t i;
	json_t *el;
	char fallback[32];

	json_array_foreach(arr, i, el) {
		if (*n >= HEALTH_MAX_COMPONENTS)
			break;
		const char *name = json_str_field(el, "name");
		if (!name) {
			snprintf(fallback, sizeof fallback, "#%zu", i + 1);
			name = fallback;
		}
		component_add(out, n, name, el);
	}
}

static void components_from_object(const json_t *obj, struct health_component *out, size_t *n)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		if (*n >= HEALTH_MAX_COMPONENTS)
			break;
		component_add(out, n, key, v);
	}
}

static void components_read(const json_t *root, struct health_component **comps, size_t *n_comps)
{
	static const char *const keys[] = { "components", "checks", "details" };
	const json_t *src = NULL;

	for (size_t i = 0; i < sizeof keys / sizeof *keys && !src; i++) {
		const json_t *v = json_object_get(root, keys[i]);
		if (json_is_object(v) || json_is_array(v))
			src = v;
	}
	if (!src)
		return;
	struct health_component *out = calloc(HEALTH_MAX_COMPONENTS, sizeof *out);
	size_t n = 0;
	if (!out)
		return;
	if (json_is_array(src))
		components_from_array(src, out, &n);
	else
		components_from_object(src, out, &n);
	if (n == 0) {
		free(out);
		return;
	}
	*comps = out;
	*n_comps = n;
}

void health_components_free(struct health_component *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].detail);
	}
	free(c);
}

/* --- the body ------------------------------------------------------------ */

/* The top-level state of a parsed object, with the reason when not healthy. */
static enum health_state body_state(const json_t *root, long http_status, char **reason)
{
	const json_t *sv = json_object_get(root, "status");
	const char *status = json_string_value(sv);

	if (http_status != 200) {
		*reason = str_printf("HTTP %ld", http_status);
		return HEALTH_DOWN;
	}
	if (!sv) {
		*reason = strdup("no \"status\" in body");
		return HEALTH_DOWN;
	}
	if (!status) {
		*reason = strdup("\"status\" is not a string");
		return HEALTH_DOWN;
	}
	enum health_state st = health_state_from_word(status);
	if (st != HEALTH_HEALTHY) {
		char *word = dup_capped(status, 64);
		*reason = word ? str_printf("status \"%s\"", word) : NULL;
		free(word);
	}
	return st;
}

enum health_state health_parse_body(const char *body, size_t len, long http_status,
                                    struct health_component **comps, size_t *n_comps,
                                    char **reason)
{
	json_error_t jerr;

	*comps = NULL;
	*n_comps = 0;
	*reason = NULL;

	/* A non-200 is down whatever the body says; the body may still name
	 * the broken component, so it is read when it can be. */
	const char *bad = NULL;
	if (!body || body_blank(body, len))
		bad = "empty body";
	else if (json_too_deep(body, len, HEALTH_MAX_DEPTH))
		bad = "body is nested deeper than 64 levels";
	if (bad) {
		*reason = http_status != 200 ? str_printf("HTTP %ld", http_status) : strdup(bad);
		return HEALTH_DOWN;
	}

	json_t *root = json_loadb(body, len, 0, &jerr);
	if (!root || !json_is_object(root)) {
		if (http_status != 200)
			*reason = str_printf("HTTP %ld", http_status);
		else if (!root)
			*reason = str_printf("body is not JSON: %s", jerr.text);
		else
			*reason = strdup("body is not a JSON object");
		json_decref(root);
		return HEALTH_DOWN;
	}
	enum health_state st = body_state(root, http_status, reason);
	components_read(root, comps, n_comps);
	json_decref(root);
	return st;
}

/* --- findings ------------------------------------------------------------ */

static void finding_add(struct health_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void finding_add(struct health_result *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (r->n_findings >= HEALTH_MAX_FINDINGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		r->findings[r->n_findings++] = s;
}

static bool url_is_https(const char *url)
{
	return url && strlen(url) >= 8 && ascii_ieqn(url, 8, "https://");
}

/* Does a list value (items separated by ',' or ';') hold a directive or item
 * whose first word is `word`? */
static bool list_has_word(const char *value, const char *word)
{
	const char *p = value;

	while (*p) {
		while (*p == ',' || *p == ';' || is_ows(*p))
			p++;
		const char *start = p;
		while (*p && *p != ',' && *p != ';' && !is_ows(*p) && *p != '=')
			p++;
		if (p > start && ascii_ieqn(start, (size_t)(p - start), word))
			return true;
		while (*p && *p != ',' && *p != ';')
			p++;
	}
	return false;
}

/* max-age=0 tells browsers to forget HSTS: the header is there but off. */
static bool hsts_disabled(const char *hsts)
{
	const char *p = hsts;

	while ((p = strchr(p, '=')) != NULL) {
		const char *k = p;
		while (k > hsts && !is_ows(k[-1]) && k[-1] != ';')
			k--;
		if (ascii_ieqn(k, (size_t)(p - k), "max-age")) {
			p++;
			if (*p == '"')
				p++;
			char *end;
			long v = strtol(p, &end, 10);
			return end != p && v == 0;
		}
		p++;
	}
	return false;
}

static void findings_headers(struct health_result *r)
{
	size_t n;
	const char *v;

	if (url_is_https(r->url)) {
		if (!r->hsts)
			finding_add(r, "no Strict-Transport-Security header over HTTPS");
		else if (hsts_disabled(r->hsts))
			finding_add(r, "Strict-Transport-Security has max-age=0 (HSTS is off)");
	}
	if (!r->content_type_options) {
		finding_add(r, "no X-Content-Type-Options: nosniff header");
	} else {
		v = trim_view(r->content_type_options, &n);
		if (!ascii_ieqn(v, n, "nosniff"))
			finding_add(r, "X-Content-Type-Options is not nosniff");
	}
	bool ancestors = r->csp && list_has_word(r->csp, "frame-ancestors");
	if (!ancestors) {
		if (!r->frame_options) {
			finding_add(r, "no X-Frame-Options header and no CSP frame-ancestors (clickjacking)");
		} else {
			v = trim_view(r->frame_options, &n);
			if (!ascii_ieqn(v, n, "DENY") && !ascii_ieqn(v, n, "SAMEORIGIN"))
				finding_add(r, "X-Frame-Options is neither DENY nor SAMEORIGIN");
		}
	}
	if (!r->csp)
		finding_add(r, "no Content-Security-Policy header");
	if (r->cors && list_has_word(r->cors, "*"))
		finding_add(r, "CORS allows any origin (Access-Control-Allow-Origin: *)");
	if (r->ratelimit_remaining) {
		v = trim_view(r->ratelimit_remaining, &n);
		if (n > 0 && strspn(v, "0") == n)
			finding_add(r, "rate limit exhausted (X-RateLimit-Remaining: 0)");
	}
}

static void findings_cert(struct health_result *r, int64_t now_s, int warn_days)
{
	char date[16] = "?";
	time_t t = (time_t)r->cert_expires_at;
	struct tm tm;

	if (r->cert_expires_at == 0)
		return;
	if (gmtime_r(&t, &tm))
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
	int64_t left = r->cert_expires_at - now_s;
	if (left <= 0) {
		finding_add(r, "certificate expired (%s)", date);
		return;
	}
	if (left >= (int64_t)warn_days * 86400)
		return;
	int64_t days = left / 86400;
	if (days == 0)
		finding_add(r, "certificate expires in less than a day (%s)", date);
	else
		finding_add(r, "certificate expires in %lld day%s (%s)", (long long)days,
		            days == 1 ? "" : "s", date);
}

void health_findings(struct health_result *r, int64_t now_s, int cert_warn_days)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		free(r->findings[i]);
		r->findings[i] = NULL;
	}
	r->n_findings = 0;
	/* Without a response there are no headers to judge, only absences. */
	if (r->http_status != 0)
		findings_headers(r);
	findings_cert(r, now_s, cert_warn_days);
}

/* --- certificate dates --------------------------------------------------- */

static int month_index(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (strncmp(s, months + 3 * i, 3) == 0)
			return i;
	return -1;
}

static bool tm_valid(const struct tm *tm)
{
	return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 && tm->tm_mday <= 31 &&
	       tm->tm_hour >= 0 && tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 &&
	       tm->tm_sec >= 0 && tm->tm_sec <= 60 && tm->tm_year >= 0 && tm->tm_year < 8100;
}

/* The rest after the time must be an optional zone of GMT/UTC/Z only. */
static bool zone_ok(const char *p)
{
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	return strcmp(p, "GMT") == 0 || strcmp(p, "UTC") == 0 || strcmp(p, "Z") == 0;
}

/* "Dec  2 12:00:00 2026 GMT", seconds possibly with a fraction.  Parsed by
 * hand: strptime's %b follows LC_TIME, which the console sets from the user. */
static bool parse_openssl_date(const char *s, struct tm *tm)
{
	int n = 0, year;
	int mon = month_index(s);

	if (mon < 0)
		return false;
	if (sscanf(s + 3, " %d %d:%d:%d%n", &tm->tm_mday, &tm->tm_hour, &tm->tm_min,
	           &tm->tm_sec, &n) != 4)
		return false;
	const char *p = s + 3 + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	n = 0;
	if (sscanf(p, " %d%n", &year, &n) != 1)
		return false;
	tm->tm_mon = mon;
	tm->tm_year = year - 1900;
	return zone_ok(p + n);
}

/* "2026-12-02 12:00:00 GMT" or "2026-12-02T12:00:00Z". */
static bool parse_iso_date(const char *s, struct tm *tm)
{
	int n = 0, year, mon;
	char sep;

	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &mon, &tm->tm_mday, &sep,
	           &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &n) != 7 ||
	    (sep != ' ' && sep != 'T'))
		return false;
	tm->tm_year = year - 1900;
	tm->tm_mon = mon - 1;
	return zone_ok(s + n);
}

int64_t health_parse_cert_date(const char *s)
{
	struct tm tm;

	if (!s)
		return 0;
	while (*s == ' ')
		s++;
	memset(&tm, 0, sizeof tm);
	if (!parse_openssl_date(s, &tm)) {
		memset(&tm, 0, sizeof tm);
		if (!parse_iso_date(s, &tm))
			return 0;
	}
	if (!tm_valid(&tm))
		return 0;
	time_t t = timegm(&tm);
	return t == (time_t)-1 ? 0 : (int64_t)t;
}
