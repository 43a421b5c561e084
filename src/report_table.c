/* report_table.c: the report's sections as tables, and the shared escapes. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "report.h"
#include "report_table.h"
#include "sanitize.h"
#include "snapshot_out.h"

/* ------------------------------------------------------------- columns */

static const struct rcol summary_cols[] = {
	{ "metric", "Figure", 14 }, { "current", "This period", 12 },
	{ "previous", "Previous", 12 }, { "change_pct", "Change", 10 },
};
static const struct rcol day_cols[] = {
	{ "day", "Day (UTC)", 10 }, { "events", "Events", 10 }, { "failures", "Failures", 9 },
};
#define H(n) { "h" #n, #n, 5 }
static const struct rcol how_cols[] = {
	{ "weekday", "Day", 4 },
	H(00), H(01), H(02), H(03), H(04), H(05), H(06), H(07), H(08), H(09), H(10), H(11),
	H(12), H(13), H(14), H(15), H(16), H(17), H(18), H(19), H(20), H(21), H(22), H(23),
};
#undef H
static const struct rcol top_cols[] = {
	{ "ip", "Address", 39 }, { "failures", "Failures", 9 }, { "peak_hour", "Peak hour", 20 },
	{ "peak_hour_failures", "At peak", 7 }, { "tenants", "Tenants", 7 },
	{ "tenant_names", "Tenants touched", 30 }, { "blocked_now", "Blocked", 7 },
	{ "blocks_in_period", "Blocks", 6 },
};
static const struct rcol hot_cols[] = {
	{ "ip", "Address", 39 }, { "hours", "Hours", 5 }, { "peak_hour", "Peak hour", 20 },
	{ "peak_requests", "At peak", 9 }, { "requests", "Requests", 10 },
	{ "blocked_now", "Blocked", 7 },
};
static const struct rcol access_cols[] = {
	{ "tenant", "Tenant", 24 }, { "user", "User", 24 }, { "unauthorized", "Unauthorized", 12 },
	{ "cross_tenant", "Cross-tenant", 12 },
};
static const struct rcol action_cols[] = {
	{ "time", "Time", 20 }, { "who", "Who", 16 }, { "action", "Action", 25 },
	{ "resource_type", "Type", 8 }, { "resource_id", "Resource", 24 }, { "tenant", "Tenant", 14 },
	{ "ip", "Address", 15 }, { "reason", "Why", 40 },
};
static const struct rcol block_cols[] = {
	{ "ip", "Address", 39 }, { "ttl_s", "TTL (s)", 7 }, { "by", "By", 16 },
	{ "reason", "Reason", 40 }, { "at", "At", 20 }, { "value", "Value", 10 },
};
static const struct rcol key_cols[] = {
	{ "tenant", "Tenant", 16 }, { "name", "Name", 24 }, { "key_prefix", "Prefix", 12 },
	{ "issue", "Issue", 10 }, { "created", "Created", 20 }, { "last_used", "Last used", 20 },
	{ "expires", "Expires", 20 },
};
static const struct rcol secret_cols[] = {
	{ "name", "Secret", 24 }, { "kind", "Kind", 11 }, { "max_age_days", "Max age", 7 },
	{ "last_rotated", "Last rotated", 20 }, { "age_days", "Age", 6 }, { "state", "State", 13 },
};
static const struct rcol country_cols[] = {
	{ "country", "Country", 8 }, { "failures", "Failures", 9 }, { "addresses", "Addresses", 9 },
	{ "previous", "Previous", 9 }, { "change_pct", "Change", 8 },
};
static const struct rcol network_cols[] = {
	{ "network", "Network (AS)", 40 }, { "failures", "Failures", 9 }, { "addresses", "Addresses", 9 },
	{ "previous", "Previous", 9 }, { "change_pct", "Change", 8 },
};
static const struct rcol health_cols[] = {
	{ "endpoint", "Endpoint", 12 }, { "url", "URL", 40 }, { "status", "Status", 8 },
	{ "http_status", "HTTP", 4 }, { "finding", "Finding", 60 },
};

enum section {
	S_SUMMARY, S_DAYS, S_HOURS, S_TOP, S_COUNTRIES, S_NETWORKS, S_HOT, S_ACCESS, S_ACTIONS, S_BLOCKS,
	S_KEYS, S_SECRETS, S_HEALTH, S_N
};

#define COLS(c) c, sizeof c / sizeof c[0]
static const struct {
	const char *id, *title;
	const struct rcol *cols;
	size_t ncols;
} sections[S_N] = {
	[S_SUMMARY] = { "summary", "Summary", COLS(summary_cols) },
	[S_DAYS] = { "failures_per_day", "Failures per day", COLS(day_cols) },
	[S_HOURS] = { "failures_per_hour_of_week", "Failures per hour of the week (UTC)", COLS(how_cols) },
	[S_TOP] = { "top_ips", "Top addresses by failures", COLS(top_cols) },
	[S_COUNTRIES] = { "top_countries", "Countries of the failing addresses", COLS(country_cols) },
	[S_NETWORKS] = { "top_networks", "Networks (AS) of the failing addresses", COLS(network_cols) },
	[S_HOT] = { "hot_ips", "Addresses busy within one hour", COLS(hot_cols) },
	[S_ACCESS] = { "access", "Unauthorized and cross-tenant access by tenant and user", COLS(access_cols) },
	[S_ACTIONS] = { "operator_actions", "Operator actions", COLS(action_cols) },
	[S_BLOCKS] = { "current_blocks", "Current blocks", COLS(block_cols) },
	[S_KEYS] = { "api_keys", "API keys to look at", COLS(key_cols) },
	[S_SECRETS] = { "secrets", "Secrets due or overdue for rotation", COLS(secret_cols) },
	[S_HEALTH] = { "health", "Health endpoints' findings", COLS(health_cols) },
};
#undef COLS

const char *const *report_section_ids(void)
{
	static const char *ids[S_N + 1];

	for (int i = 0; i < S_N; i++)
		ids[i] = sections[i].id;
	return ids;
}

/* ------------------------------------------------------------- cells */

static struct rcell c_null(void) { return (struct rcell){ .kind = RC_NULL }; }
static struct rcell c_int(long long v) { return (struct rcell){ .kind = RC_INT, .i = v }; }
static struct rcell c_word(const char *s) { return (struct rcell){ .kind = s ? RC_WORD : RC_NULL, .s = s }; }
static struct rcell c_text(const char *s) { return (struct rcell){ .kind = s ? RC_UNTRUSTED : RC_NULL, .s = s }; }
static struct rcell c_time(int64_t t) { return (struct rcell){ .kind = t ? RC_TIME : RC_NULL, .t = t }; }
static struct rcell c_day(int64_t t) { return (struct rcell){ .kind = RC_DAY, .t = t }; }

/* yes, no, or unknown (-1) */
static struct rcell c_tri(int v)
{
	return v < 0 ? c_null() : (struct rcell){ .kind = RC_BOOL, .b = v > 0 };
}

static int table_alloc(struct rtable *t, enum section s, size_t nrows)
{
	t->id = sections[s].id;
	t->title = sections[s].title;
	t->cols = sections[s].cols;
	t->ncols = sections[s].ncols;
	t->nrows = nrows;
	t->total = -1;
	t->cells = calloc(nrows * t->ncols + 1, sizeof *t->cells);
	return t->cells ? 0 : -1;
}

static void set_row(struct rtable *t, size_t row, const struct rcell *v)
{
	memcpy(&t->cells[row * t->ncols], v, t->ncols * sizeof *v);
}

/* ------------------------------------------------------------ sections */

static int build_summary(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_SUMMARY, RM_N) < 0)
		return -1;
	for (int m = 0; m < RM_N; m++) {
		double pct;
		struct rcell change = c_null();
		if (r->cur.known && r->prev.known && report_change_pct(r->cur.v[m], r->prev.v[m], &pct))
			change = (struct rcell){ .kind = RC_PCT, .d = pct };
		struct rcell row[] = {
			c_word(report_metric_name((enum report_metric)m)),
			r->cur.known ? c_int(r->cur.v[m]) : c_null(),
			r->prev.known ? c_int(r->prev.v[m]) : c_null(), change,
		};
		set_row(t, (size_t)m, row);
	}
	if (!r->cur.known)
		snprintf(t->note, sizeof t->note, "the figures could not be read");
	return 0;
}

static int build_days(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_DAYS, r->n_days) < 0)
		return -1;
	for (size_t i = 0; i < r->n_days; i++) {
		struct rcell row[] = { c_day(r->days[i].day_s), c_int(r->days[i].events),
		                       c_int(r->days[i].failures) };
		set_row(t, i, row);
	}
	return 0;
}

static int build_hours(const struct report *r, struct rtable *t)
{
	static const char *const days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

	if (table_alloc(t, S_HOURS, r->cur.known ? 7 : 0) < 0)
		return -1;
	for (size_t d = 0; d < t->nrows; d++) {
		struct rcell *row = &t->cells[d * t->ncols];
		row[0] = c_word(days[d]);
		for (int h = 0; h < 24; h++)
			row[1 + h] = c_int(r->hour_of_week[d][h]);
	}
	return 0;
}

static int build_top(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_TOP, r->n_top) < 0)
		return -1;
	for (size_t i = 0; i < r->n_top; i++) {
		const struct report_ip *ip = &r->top[i];
		struct rcell names = { .kind = RC_LIST, .list = ip->tenant_names, .n_list = ip->n_tenant_names };
		struct rcell row[] = {
			c_text(ip->ip), c_int(ip->failures), c_time(ip->peak_hour_s), c_int(ip->peak_failures),
			c_int(ip->tenants), names, c_tri(ip->blocked_now), c_int(ip->blocks_in_period),
		};
		set_row(t, i, row);
	}
	return 0;
}

static int build_hot(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_HOT, r->n_hot) < 0)
		return -1;
	for (size_t i = 0; i < r->n_hot; i++) {
		const struct report_hot *h = &r->hot[i];
		struct rcell row[] = {
			c_text(h->ip), c_int(h->hours), c_time(h->peak_hour_s), c_int(h->peak_events),
			c_int(h->events), c_tri(h->blocked_now),
		};
		set_row(t, i, row);
	}
	t->total = (long long)r->hot_total;
	snprintf(t->note, sizeof t->note, "more than %lld requests within one clock hour (UTC)",
	         r->hot_threshold);
	return 0;
}

static int build_access(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_ACCESS, r->n_access) < 0)
		return -1;
	for (size_t i = 0; i < r->n_access; i++) {
		const struct report_access *a = &r->access[i];
		struct rcell row[] = { c_text(a->tenant), c_text(a->user), c_int(a->unauthorized),
		                       c_int(a->cross_tenant) };
		set_row(t, i, row);
	}
	t->total = (long long)r->access_total;
	return 0;
}

static int build_actions(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_ACTIONS, r->n_actions) < 0)
		return -1;
	for (size_t i = 0; i < r->n_actions; i++) {
		const struct report_action *a = &r->actions[i];
		struct rcell row[] = {
			c_time(a->ts_us / 1000000), c_text(a->who), c_text(a->action), c_text(a->resource_type),
			c_text(a->resource_id), c_text(a->tenant), c_text(a->ip), c_text(a->reason),
		};
		set_row(t, i, row);
	}
	if (r->actions_cut)
		snprintf(t->note, sizeof t->note, "the first %zu shown", r->n_actions);
	return 0;
}

/* What was looked up, so that nobody reads the list as every block. */
static void blocks_lookup_note(const struct report *r, char *out, size_t outsz)
{
	static const struct { int s; char unit; } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	int secs = r->blocks_lookback_s;
	char lookback[48] = "";

	for (size_t i = 0; secs > 0 && !lookback[0]; i++)
		if (secs % units[i].s == 0)
			snprintf(lookback, sizeof lookback, ", failing in the last %d%c", secs / units[i].s,
			         units[i].unit);
	snprintf(out, outsz, "of the %zu addresses looked up (top, busy, ever blocked%s%s);"
	         " --all-blocks lists every block key", r->n_looked_up, lookback,
	         r->recent_cut ? ", the most failing only" : "");
}

static int build_blocks(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_BLOCKS, r->n_blocks) < 0)
		return -1;
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct block_entry *b = &r->blocks[i];
		struct rcell row[] = {
			c_text(b->key_ip), b->ttl_s >= 0 ? c_int(b->ttl_s) : c_null(), c_text(b->by),
			c_text(b->reason), c_time(b->at), c_word(redis_value_kind_name(b->kind)),
		};
		set_row(t, i, row);
	}
	if (!r->redis_ok)
		snprintf(t->note, sizeof t->note, "Redis did not answer: not known");
	else if (!r->blocks_known)
		snprintf(t->note, sizeof t->note, "the key walk did not finish: incomplete");
	else if (!r->blocks_walked)
		blocks_lookup_note(r, t->note, sizeof t->note);
	return 0;
}

static int build_keys(const struct report *r, struct rtable *t)
{
	if (table_alloc(t, S_KEYS, r->n_keys) < 0)
		return -1;
	for (size_t i = 0; i < r->n_keys; i++) {
		const struct report_key *k = &r->keys[i];
		struct rcell row[] = {
			c_text(k->tenant), c_text(k->name), c_text(k->prefix), c_word(report_key_issue_name(k->issue)),
			c_time(k->created_s), c_time(k->last_used_s), c_time(k->expires_s),
		};
		set_row(t, i, row);
	}
	t->total = (long long)r->keys_total;
	snprintf(t->note, sizeof t->note, "not revoked, and expired, never used or unused for more than %d days",
	         r->key_unused_days);
	return 0;
}

static int build_secrets(const struct report *r, struct rtable *t)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_secrets; i++)
		n += r->secrets[i].state != RR_OK;
	if (table_alloc(t, S_SECRETS, n) < 0)
		return -1;
	n = 0;
	for (size_t i = 0; i < r->n_secrets; i++) {
		const struct report_secret *s = &r->secrets[i];
		if (s->state == RR_OK)
			continue;
		struct rcell row[] = {
			c_word(s->name), c_word(s->kind), c_int(s->max_age_s / 86400), c_time(s->last_rotated_s),
			s->last_rotated_s ? c_int((r->generated_s - s->last_rotated_s) / 86400) : c_null(),
			c_word(report_rotation_name(s->state)),
		};
		set_row(t, n++, row);
	}
	snprintf(t->note, sizeof t->note, r->n_secrets ? "%zu declared, the others are within their policy"
	         : "no secret declared (secret = NAME kind=KIND in sectop.conf)", r->n_secrets);
	return 0;
}

static int build_health(const struct report *r, struct rtable *t)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_health; i++)
		n += r->health[i].n_findings ? r->health[i].n_findings : 1;
	if (table_alloc(t, S_HEALTH, n) < 0)
		return -1;
	n = 0;
	for (size_t i = 0; i < r->n_health; i++) {
		const struct health_result *h = &r->health[i];
		for (size_t k = 0; k == 0 || k < h->n_findings; k++) {
			struct rcell row[] = {
				c_text(h->name), c_text(h->url), c_word(health_state_name(h->state)),
				h->http_status ? c_int(h->http_status) : c_null(),
				k < h->n_findings ? c_text(h->findings[k]) : c_text(h->reason),
			};
			set_row(t, n++, row);
		}
	}
	if (!r->n_health)
		snprintf(t->note, sizeof t->note, "no health endpoint configured");
	return 0;
}

/* Countries or networks: the period's failures, the previous period's and
 * the change; the first REPORT_ORIGIN_ROWS. */
static int build_origins(const struct report *r, struct rtable *t, enum section s,
                         const struct report_origin *v, size_t n)
{
	size_t rows = n < REPORT_ORIGIN_ROWS ? n : REPORT_ORIGIN_ROWS;

	if (table_alloc(t, s, rows) < 0)
		return -1;
	for (size_t i = 0; i < rows; i++) {
		double pct;
		struct rcell change = c_null();
		if (report_change_pct(v[i].cur, v[i].prev, &pct))
			change = (struct rcell){ .kind = RC_PCT, .d = pct };
		struct rcell row[] = { c_text(v[i].name), c_int(v[i].cur), c_int(v[i].addresses),
		                       c_int(v[i].prev), change };
		set_row(t, i, row);
	}
	t->total = (long long)n;
	if (!r->geo_db)
		snprintf(t->note, sizeof t->note, "no GeoIP database (geoip-db): where addresses sit is not known");
	else if (r->fail_ips_cut)
		snprintf(t->note, sizeof t->note, "from the %d failing addresses with the most failures of each period",
		         REPORT_ORIGIN_IPS);
	return 0;
}

static int build_countries(const struct report *r, struct rtable *t)
{
	return build_origins(r, t, S_COUNTRIES, r->countries, r->n_countries);
}

static int build_networks(const struct report *r, struct rtable *t)
{
	return build_origins(r, t, S_NETWORKS, r->networks, r->n_networks);
}

int report_tables(const struct report *r, struct rtable **out, size_t *n)
{
	static int (*const build[S_N])(const struct report *, struct rtable *) = {
		build_summary, build_days, build_hours, build_top, build_countries, build_networks, build_hot,
		build_access, build_actions, build_blocks, build_keys, build_secrets, build_health,
	};
	struct rtable *t = calloc(S_N, sizeof *t);

	*out = NULL;
	*n = 0;
	if (!t)
		return -1;
	for (int i = 0; i < S_N; i++)
		if (build[i](r, &t[i]) < 0) {
			report_tables_free(t, S_N);
			return -1;
		}
	*out = t;
	*n = S_N;
	return 0;
}

void report_tables_free(struct rtable *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i].cells);
	free(t);
}

/* ------------------------------------------------------------- text */

/* Exact to the microsecond, so that a period can be counted again; the
 * microseconds are left out when there are none. */
void report_iso_us(char *buf, size_t n, int64_t us)
{
	int64_t s = us / 1000000, frac = us % 1000000;
	char iso[32];

	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	snapshot_iso_time(iso, sizeof iso, s);
	if (frac)
		snprintf(buf, n, "%.19s.%06lldZ", iso, (long long)frac);
	else
		snprintf(buf, n, "%s", iso);
}

void report_meta(const struct report *r, struct report_meta *m)
{
	char until[32];

	report_iso_us(m->since, sizeof m->since, r->cur.since_us);
	report_iso_us(m->until, sizeof m->until, r->cur.until_us);
	report_iso_us(m->prev_since, sizeof m->prev_since, r->prev.since_us);
	snapshot_iso_time(m->generated, sizeof m->generated, r->generated_s);
	snapshot_iso_time(until, sizeof until, r->rolled_until_s);
	if (r->rollup_used)
		snprintf(m->how, sizeof m->how, "whole hours from the rollup (up to date to %s), "
		         "the rest from the table", until);
	else
		snprintf(m->how, sizeof m->how, "from the table (no rollup used)");
}

bool report_cell_numeric(const struct rcell *c)
{
	return c->kind == RC_INT || c->kind == RC_PCT;
}

static char *join_list(const struct rcell *c, int flags)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < c->n_list; i++) {
		char *safe = sanitize_str(c->list[i], flags);
		fprintf(f, "%s%s", i ? ", " : "", safe ? safe : "");
		free(safe);
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

char *report_cell_text(const struct rcell *c, int flags, const char *null)
{
	char buf[64];
	time_t t;
	struct tm tm;

	switch (c->kind) {
	case RC_NULL: return strdup(null);
	case RC_INT: snprintf(buf, sizeof buf, "%lld", c->i); break;
	case RC_PCT: snprintf(buf, sizeof buf, "%+.1f%%", c->d); break;
	case RC_WORD: return strdup(c->s);
	case RC_UNTRUSTED: return sanitize_str(c->s, flags);
	case RC_TIME: snapshot_iso_time(buf, sizeof buf, c->t); break;
	case RC_DAY:
		t = (time_t)c->t;
		if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d", &tm))
			snprintf(buf, sizeof buf, "?");
		break;
	case RC_BOOL: return strdup(c->b ? "yes" : "no");
	case RC_LIST: return c->n_list ? join_list(c, flags) : strdup(null);
	}
	return strdup(buf);
}

/* ------------------------------------------------------------ escapes */

/* prefix, then each character of s through put, then suffix: malloc'd. */
static char *escape_with(const char *prefix, const char *s, void (*put)(FILE *, char),
                         const char *suffix)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fputs(prefix, f);
	for (const char *p = s; *p; p++)
		put(f, *p);
	fputs(suffix, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void put_csv(FILE *f, char c)
{
	if (c == '"')
		fputc('"', f);
	fputc(c, f);
}

static void put_html(FILE *f, char c)
{
	switch (c) {
	case '&': fputs("&amp;", f); break;
	case '<': fputs("&lt;", f); break;
	case '>': fputs("&gt;", f); break;
	case '"': fputs("&quot;", f); break;
	case '\'': fputs("&#39;", f); break;
	default: fputc(c, f); break;
	}
}

/* CommonMark lets any ASCII punctuation be escaped with a backslash.  These
 * are the ones that mean something inside a line (emphasis, code, links,
 * HTML, entities, a cell's border, strike-through, math, mentions and issue
 * references on the usual trackers); the others (. - : / ...) stay as they
 * are, so that an address reads as an address. */
static void put_md(FILE *f, char c)
{
	if (c && strchr("\\`*_[]<>|&~$@#!", c))
		fputc('\\', f);
	fputc(c, f);
}

/* A spreadsheet runs a cell that starts like a formula: an outside string
 * that does is prefixed with an apostrophe, as OWASP advises. */
char *report_escape_csv(const char *s, bool untrusted)
{
	bool formula = untrusted && *s && strchr("=+-@\t\r", *s);
	bool quote = formula || strpbrk(s, ",\"\r\n") || (*s && (isspace((unsigned char)*s) ||
	             isspace((unsigned char)s[strlen(s) - 1])));

	return escape_with(formula ? "\"'" : quote ? "\"" : "", s, put_csv, quote ? "\"" : "");
}

char *report_escape_html(const char *s)
{
	return escape_with("", s, put_html, "");
}

char *report_escape_md(const char *s)
{
	return escape_with("", s, put_md, "");
}
