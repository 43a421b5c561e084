/* report.c: the report's pure parts: times, thresholds, derived figures. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ipaddr.h"
#include "report.h"
#include "rotation.h"

const char *const report_operator_actions[] = {
	"ip_blocked", "ip_unblocked", "api_key_revoked", "secret_rotation_requested",
	"runbook_step_done", "drill_started", "drill_ended", NULL,
};

void report_init(struct report *r, const struct config *cfg, int64_t now_s)
{
	memset(r, 0, sizeof *r);
	r->generated_s = now_s;
	r->tenant = cfg->tenant ? strdup(cfg->tenant) : NULL;
	r->hot_threshold = cfg->hot_threshold;
	r->key_unused_days = cfg->key_unused_days;
	r->blocks_lookback_s = cfg->blocks_lookback_s;
	r->blocks_walked = cfg->all_blocks;
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n_top; i++)
		strs_free(r->top[i].tenant_names, r->top[i].n_tenant_names);
	free(r->top);
	free(r->fail_ips);
	free(r->countries);
	free(r->networks);
	free(r->hot);
	for (size_t i = 0; i < r->n_access; i++) {
		free(r->access[i].tenant);
		free(r->access[i].user);
	}
	free(r->access);
	for (size_t i = 0; i < r->n_actions; i++) {
		struct report_action *a = &r->actions[i];
		free(a->who);
		free(a->action);
		free(a->resource_type);
		free(a->resource_id);
		free(a->tenant);
		free(a->ip);
		free(a->reason);
	}
	free(r->actions);
	for (size_t i = 0; i < r->n_keys; i++) {
		free(r->keys[i].tenant);
		free(r->keys[i].name);
		free(r->keys[i].prefix);
	}
	free(r->keys);
	free(r->secrets);
	strs_free(r->recent_ips, r->n_recent_ips);
	strs_free(r->blocked_ips, r->n_blocked_ips);
	free(r->days);
	free(r->tenant);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	memset(r, 0, sizeof *r);
}

void report_note(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (r->n_notes == REPORT_MAX_NOTES)
		return;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0)
		r->notes[r->n_notes++] = s;
}

/* ------------------------------------------------------------- times */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t report_floor_hour(int64_t us)
{
	return floor_div(us, REPORT_HOUR_US) * REPORT_HOUR_US;
}

/* Exactly n digits at *p, advancing it; -1 if not. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* "Z", "+02:00", "-0530" or nothing (UTC): the offset east of UTC in
 * seconds, or INT_MIN on anything else. */
static int parse_zone(const char *p)
{
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
		return 0;
	if (*p != '+' && *p != '-')
		return INT_MIN;
	int sign = *p++ == '-' ? -1 : 1;
	int hh = digits(&p, 2), mm = 0;
	if (hh < 0 || hh > 23)
		return INT_MIN;
	if (*p == ':')
		p++;
	if (*p && ((mm = digits(&p, 2)) < 0 || mm > 59))
		return INT_MIN;
	return *p ? INT_MIN : sign * (hh * 3600 + mm * 60);
}

/* Fractional seconds ".123456" (any number of digits, microseconds kept). */
static int parse_fraction(const char **p)
{
	int us = 0, scale = 100000;

	if (**p != '.' && **p != ',')
		return 0;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++, scale /= 10)
		us += (**p - '0') * scale;
	return us;
}

static int64_t parse_iso(const char *s)
{
	const char *p = s;
	struct tm tm = { 0 };
	int y = digits(&p, 4), mo, d, us = 0;

	if (y < 1970 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if ((tm.tm_hour = digits(&p, 2)) < 0 || tm.tm_hour > 23 || *p++ != ':' ||
		    (tm.tm_min = digits(&p, 2)) < 0 || tm.tm_min > 59)
			return -1;
		if (*p == ':') {
			p++;
			if ((tm.tm_sec = digits(&p, 2)) < 0 || tm.tm_sec > 59 || (us = parse_fraction(&p)) < 0)
				return -1;
		}
	}
	int zone = parse_zone(p);
	if (zone == INT_MIN)
		return -1;
	time_t t = timegm(&tm);
	struct tm back;
	/* timegm normalises 2026-02-31 into March: refuse what moved */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	return ((int64_t)t - zone) * 1000000 + us;
}

int64_t report_parse_time(const char *s, int64_t now_us)
{
	if (!s || !*s)
		return -1;
	size_t n = strlen(s);
	/* A duration ends in its unit; a bare number would be ambiguous (a year?). */
	if (isalpha((unsigned char)s[n - 1]) && strchr(s, '-') == NULL) {
		long long ms = conf_parse_duration_ms(s, 's');
		/* back past 1970 would be a negative time, which is not -1 */
		if (ms < 0 || ms > 100LL * 365 * 86400 * 1000 || ms * 1000 > now_us)
			return -1;
		return now_us - ms * 1000;
	}
	return parse_iso(s);
}

/* -------------------------------------------------------- thresholds */

enum {
	TH_EVENTS, TH_FAILURES, TH_UNAUTHORIZED, TH_CROSS, TH_DISTINCT, TH_BLOCKS, TH_ACTIONS,
	TH_HOT, TH_KEYS, TH_DUE, TH_OVERDUE, TH_CUR_BLOCKS, TH_FINDINGS, TH_UNHEALTHY, TH_N
};

static const char *const threshold_names[TH_N + 1] = {
	"events", "failures", "unauthorized", "cross-tenant", "distinct-ips", "blocks", "actions",
	"hot-ips", "stale-keys", "due-rotations", "overdue-rotations", "current-blocks",
	"health-findings", "unhealthy-endpoints", NULL,
};

const char *const *report_threshold_names(void)
{
	return threshold_names;
}

int report_threshold_parse(const char *s, struct report_threshold *t, char *err, size_t errsz)
{
	static const struct { const char *op; enum report_cmp cmp; } ops[] = {
		{ ">=", RC_GE }, { "<=", RC_LE }, { "!=", RC_NE }, { "==", RC_EQ },
		{ ">", RC_GT }, { "<", RC_LT }, { "=", RC_EQ },
	};
	const char *p = s;

	while (isspace((unsigned char)*p))
		p++;
	const char *name = p;
	while (islower((unsigned char)*p) || *p == '-')
		p++;
	size_t len = (size_t)(p - name);
	int m = 0;
	while (threshold_names[m] &&
	       (strlen(threshold_names[m]) != len || strncmp(threshold_names[m], name, len) != 0))
		m++;
	if (!threshold_names[m]) {
		snprintf(err, errsz, "fail-on: '%s': unknown figure '%.*s' (e.g. failures, overdue-rotations)",
		         s, (int)len, name);
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	size_t o = 0;
	while (o < sizeof ops / sizeof ops[0] && strncmp(p, ops[o].op, strlen(ops[o].op)) != 0)
		o++;
	if (o == sizeof ops / sizeof ops[0]) {
		snprintf(err, errsz, "fail-on: '%s': expected FIGURE>NUMBER (or >=, <, <=, =, !=)", s);
		return -1;
	}
	p += strlen(ops[o].op);
	while (isspace((unsigned char)*p))
		p++;
	char *end;
	errno = 0;
	long long v = strtoll(p, &end, 10);
	while (end != p && isspace((unsigned char)*end))
		end++;
	if (!isdigit((unsigned char)*p) || errno || *end) {
		snprintf(err, errsz, "fail-on: '%s': expected a whole number after '%s'", s, ops[o].op);
		return -1;
	}
	t->metric = m;
	t->cmp = ops[o].cmp;
	t->value = v;
	return 0;
}

static long long count_secrets(const struct report *r, enum report_rotation a, enum report_rotation b)
{
	long long n = 0;

	for (size_t i = 0; i < r->n_secrets; i++)
		n += r->secrets[i].state == a || r->secrets[i].state == b;
	return n;
}

static long long health_figure(const struct report *r, bool findings)
{
	long long n = 0;

	for (size_t i = 0; i < r->n_health; i++)
		n += findings ? (long long)r->health[i].n_findings : r->health[i].state != HEALTH_HEALTHY;
	return n;
}

long long report_metric_value(const struct report *r, int metric)
{
	if (metric >= TH_EVENTS && metric <= TH_ACTIONS)
		return r->cur.known ? r->cur.v[metric - TH_EVENTS] : -1;
	switch (metric) {
	case TH_HOT: return r->pg_ok ? (long long)r->hot_total : -1;
	case TH_KEYS: return r->pg_ok ? (long long)r->keys_total : -1;
	case TH_DUE: return r->pg_ok ? count_secrets(r, RR_DUE, RR_DUE) : -1;
	case TH_OVERDUE: return r->pg_ok ? count_secrets(r, RR_OVERDUE, RR_NEVER) : -1;
	case TH_CUR_BLOCKS: return r->blocks_known ? (long long)r->n_blocks : -1;
	case TH_FINDINGS: return health_figure(r, true);
	case TH_UNHEALTHY: return health_figure(r, false);
	default: return -1;
	}
}

bool report_threshold_crossed(const struct report *r, const struct report_threshold *t,
                              long long *value)
{
	long long v = report_metric_value(r, t->metric);

	*value = v;
	if (v < 0)
		return false;
	switch (t->cmp) {
	case RC_GT: return v > t->value;
	case RC_GE: return v >= t->value;
	case RC_LT: return v < t->value;
	case RC_LE: return v <= t->value;
	case RC_EQ: return v == t->value;
	case RC_NE: return v != t->value;
	}
	return false;
}

/* ------------------------------------------------------------ names */

static const char *const metric_names[RM_N] = {
	"events", "failures", "unauthorized", "cross_tenant", "distinct_ips", "blocks", "actions",
};
static const char *const metric_titles[RM_N] = {
	"Events", "Failures", "Unauthorized", "Cross-tenant", "Distinct IPs", "Blocks", "Operator actions",
};

const char *report_metric_name(enum report_metric m)
{
	return m < RM_N ? metric_names[m] : "?";
}

const char *report_metric_title(enum report_metric m)
{
	return m < RM_N ? metric_titles[m] : "?";
}

const char *report_key_issue_name(enum report_key_issue k)
{
	switch (k) {
	case RK_EXPIRED: return "expired";
	case RK_NEVER_USED: return "never_used";
	case RK_UNUSED: return "unused";
	}
	return "?";
}

const char *report_rotation_name(enum report_rotation s)
{
	switch (s) {
	case RR_OK: return "ok";
	case RR_DUE: return "due";
	case RR_OVERDUE: return "overdue";
	case RR_NEVER: return "never_rotated";
	}
	return "?";
}

bool report_change_pct(long long cur, long long prev, double *pct)
{
	if (prev <= 0)
		return false;
	*pct = ((double)cur - (double)prev) * 100.0 / (double)prev;
	return true;
}

/* --------------------------------------------------- derived figures */

static int blocked_now(const struct report *r, const char *ip)
{
	if (!r->blocks_known)
		return -1;
	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].key_ip && strcmp(r->blocks[i].key_ip, ip) == 0)
			return 1;
	return 0;
}

static long blocks_in_period(const struct report *r, const char *ip)
{
	long n = 0;

	for (size_t i = 0; i < r->n_actions; i++) {
		const struct report_action *a = &r->actions[i];
		if (a->action && strcmp(a->action, "ip_blocked") == 0 &&
		    ((a->resource_id && strcmp(a->resource_id, ip) == 0) || (a->ip && strcmp(a->ip, ip) == 0)))
			n++;
	}
	return n;
}

/* The one rule, shared with sectop rotate --status (rotation.c). */
static enum report_rotation rotation_state(const struct report_secret *s, int64_t now_s, int warn_days)
{
	switch (rotation_state_at(s->last_rotated_s, s->max_age_s, now_s, warn_days)) {
	case ROT_OK: return RR_OK;
	case ROT_DUE: return RR_DUE;
	case ROT_OVERDUE: return RR_OVERDUE;
	case ROT_NEVER: return RR_NEVER;
	}
	return RR_NEVER;
}

void report_finish(struct report *r, int64_t now_s, int rotation_warn_days)
{
	for (size_t i = 0; i < r->n_top; i++) {
		r->top[i].blocked_now = blocked_now(r, r->top[i].ip);
		r->top[i].blocks_in_period = blocks_in_period(r, r->top[i].ip);
	}
	for (size_t i = 0; i < r->n_hot; i++)
		r->hot[i].blocked_now = blocked_now(r, r->hot[i].ip);
	for (size_t i = 0; i < r->n_secrets; i++)
		r->secrets[i].state = rotation_state(&r->secrets[i], now_s, rotation_warn_days);
}

/* The days of [since, until), each at its midnight UTC. */
static int days_init(struct report *r)
{
	int64_t first = floor_div(r->cur.since_us, 86400LL * 1000000) * 86400;
	int64_t last = floor_div(r->cur.until_us - 1, 86400LL * 1000000) * 86400;
	size_t n = last >= first ? (size_t)((last - first) / 86400 + 1) : 0;

	free(r->days);
	r->days = calloc(n + 1, sizeof *r->days);
	if (!r->days)
		return -1;
	for (size_t i = 0; i < n; i++)
		r->days[i].day_s = first + (int64_t)i * 86400;
	r->n_days = n;
	return 0;
}

/* Monday is 0: 1970-01-01 was a Thursday. */
static int weekday(int64_t t_s)
{
	return (int)((floor_div(t_s, 86400) + 3) % 7);
}

int report_take_hours(struct report *r, struct report_period *p, const struct report_hour *h,
                      size_t n, bool current)
{
	memset(p->v, 0, sizeof p->v);
	if (current && days_init(r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		p->v[RM_EVENTS] += h[i].events;
		p->v[RM_FAILURES] += h[i].failures;
		p->v[RM_UNAUTHORIZED] += h[i].unauthorized;
		p->v[RM_CROSS_TENANT] += h[i].cross_tenant;
		p->v[RM_BLOCKS] += h[i].blocks;
		p->v[RM_ACTIONS] += h[i].actions;
		if (!current)
			continue;
		int64_t day = floor_div(h[i].hour_s, 86400) * 86400;
		if (r->n_days && day >= r->days[0].day_s) {
			size_t d = (size_t)((day - r->days[0].day_s) / 86400);
			if (d < r->n_days) {
				r->days[d].events += h[i].events;
				r->days[d].failures += h[i].failures;
			}
		}
		int hour = (int)(floor_div(h[i].hour_s, 3600) % 24);
		r->hour_of_week[weekday(h[i].hour_s)][hour] += h[i].failures;
	}
	return 0;
}

/* ------------------------------------------------------------ look-ups */

/* Into v[*n], in the form the API servers write keys in; anything else is
 * no address a block key could name (a resource id may hold anything). */
static void lookup_add(struct ip_stat *v, size_t *n, const char *text)
{
	char err[128];

	if (text && ipaddr_normalize(text, v[*n].ip, sizeof v[*n].ip, err, sizeof err) == 0)
		(*n)++;
}

static int ip_stat_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ip_stat *)a)->ip, ((const struct ip_stat *)b)->ip);
}

int report_lookup_list(const struct report *r, struct ip_stat **out, size_t *n_out)
{
	size_t most = r->n_top + r->n_hot + r->n_actions + r->n_blocked_ips + r->n_recent_ips;
	struct ip_stat *v = calloc(most + 1, sizeof *v);
	size_t n = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < r->n_top; i++)
		lookup_add(v, &n, r->top[i].ip);
	for (size_t i = 0; i < r->n_hot; i++)
		lookup_add(v, &n, r->hot[i].ip);
	for (size_t i = 0; i < r->n_actions; i++) {
		const struct report_action *a = &r->actions[i];
		if (a->resource_type && strcmp(a->resource_type, "ip") == 0)
			lookup_add(v, &n, a->resource_id);
	}
	for (size_t i = 0; i < r->n_blocked_ips; i++)
		lookup_add(v, &n, r->blocked_ips[i]);
	for (size_t i = 0; i < r->n_recent_ips; i++)
		lookup_add(v, &n, r->recent_ips[i]);
	qsort(v, n, sizeof *v, ip_stat_cmp);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (kept == 0 || strcmp(v[kept - 1].ip, v[i].ip) != 0)
			v[kept++] = v[i];
	*out = v;
	*n_out = kept;
	return 0;
}
