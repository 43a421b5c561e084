#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allowlist.h"
#include "conf.h"
#include "geoip.h"
#include "json_out.h"
#include "model.h"
#include "sanitize.h"
#include "snapshot_out.h"
#include "strutil.h"

void snapshot_iso_time(char *buf, size_t n, int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

static const struct ip_redis *redis_of(const struct model *m, const char *ip)
{
	return model_ip_redis(m, ip);
}

bool snapshot_ip_alert(const struct model *m, const struct config *cfg, const struct ip_stat *s)
{
	const struct ip_redis *r = redis_of(m, s->ip);

	if (r && r->failed_auth > cfg->alert_failures)
		return true;
	return m->window_s <= cfg->alert_window_s && s->failures > cfg->alert_failures;
}

/* ------------------------------------------------------------------ JSON */

static json_t *json_time(int64_t unix_s)
{
	char buf[32];

	if (unix_s <= 0)
		return json_null();
	snapshot_iso_time(buf, sizeof buf, unix_s);
	return json_string(buf);
}

static json_t *json_source(const struct source_status *s, int64_t now_ms, int64_t stale_ms)
{
	enum source_state st = model_source_state(s, now_ms, stale_ms);

	if (st == SOURCE_CONNECTING)
		st = SOURCE_DOWN;      /* a snapshot that ends before a source answered */
	return json_pack("{s:s, s:o, s:o}",
	    "status", source_state_name(st),
	    "age_s", s->last_ok_ms ? json_integer((now_ms - s->last_ok_ms) / 1000) : json_null(),
	    "error", s->error[0] ? json_out_string(s->error) : json_null());
}

/* The PostgreSQL source, with the role of the server it reads. */
static json_t *json_pg_source(const struct model *m, int64_t now_ms, int64_t stale_ms)
{
	json_t *j = json_source(&m->pg, now_ms, stale_ms);
	const char *role = pg_role_name(m->pg_role);

	json_object_set_new(j, "role", role ? json_string(role) : json_null());
	if (m->pg_role == PG_ROLE_STANDBY)
		json_object_set_new(j, "replay_lag_s", m->pg_replay_lag_s >= 0 ? json_real(m->pg_replay_lag_s)
		                                                               : json_null());
	return j;
}

static json_t *json_ttl(long ttl)
{
	return ttl >= 0 ? json_integer(ttl) : json_null();
}

/* The names of a row's figures that are estimates (see live.h), [] when
 * every one is exact. */
static json_t *json_estimated(unsigned approx, const char *const names[5])
{
	json_t *a = json_array();

	for (int i = 0; i < 5; i++)
		if ((approx & (1u << i)) && names[i])
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static const char *const ip_estimates[5] = { "failures", "requests", "users", "tenants", NULL };
static const char *const tenant_estimates[5] = { NULL, "counts", "distinct_users", NULL, "distinct_ips" };

/* country, asn, as_org (null where unknown), and geo: "found",
 * "not_found" (no network of the databases holds it) or "no_database". */
static void json_geo(json_t *o, const struct geoip *geo, const char *ip)
{
	static const char *const state[] = { "no_database", "not_found", "found" };
	struct geo_info gi;

	geoip_lookup(geo, ip, &gi);
	json_object_set_new(o, "geo", json_string(state[gi.state]));
	json_object_set_new(o, "country", gi.country[0] ? json_string(gi.country) : json_null());
	json_object_set_new(o, "asn", gi.asn ? json_integer((json_int_t)gi.asn) : json_null());
	json_object_set_new(o, "as_org", gi.as_org[0] ? json_out_string(gi.as_org) : json_null());
}

/* allow_listed: the entry that holds the address ("203.0.113.0/24 (...)"),
 * or null. */
static void json_allowed(json_t *o, const struct model *m, const char *ip)
{
	const struct allow_entry *e = ip ? model_allowed(m, ip) : NULL;
	char d[300];

	if (e)
		allow_entry_describe(e, d, sizeof d);
	json_object_set_new(o, "allow_listed", e ? json_out_string(d) : json_null());
}

static json_t *json_top_ips(const struct model *m, const struct config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		const struct ip_redis *r = redis_of(m, s->ip);
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
		    "ip", s->ip, "failures", (json_int_t)s->failures, "requests", (json_int_t)s->requests,
		    "users", (json_int_t)s->users, "tenants", (json_int_t)s->tenants,
		    "estimated", json_estimated(s->approx, ip_estimates),
		    "blocked", r ? json_boolean(r->blocked) : json_null(),
		    "block_ttl_s", r && r->blocked ? json_ttl(r->block_ttl_s) : json_null(),
		    "block_origin", r && r->blocked ? json_string(block_origin_name(r->block_kind)) : json_null(),
		    "failed_auth_counter", r && r->failed_auth >= 0 ? json_integer(r->failed_auth) : json_null(),
		    "ratelimit_counter", r && r->ratelimit >= 0 ? json_integer(r->ratelimit) : json_null(),
		    "redis_wrong_type", r ? json_boolean(r->wrong_type) : json_null(),
		    "alert", snapshot_ip_alert(m, cfg, s)));
		json_geo(json_array_get(a, json_array_size(a) - 1), m->geo, s->ip);
		json_allowed(json_array_get(a, json_array_size(a) - 1), m, s->ip);
	}
	return a;
}

static json_t *json_tenants(const struct model *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_tenants; i++) {
		const struct tenant_stat *t = &m->tenants[i];
		json_array_append_new(a, json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		    "tenant_id", json_out_string(t->tenant_id),
		    "requests", (json_int_t)t->requests, "failures", (json_int_t)t->failures,
		    "unauthorized", (json_int_t)t->unauthorized, "cross_tenant", (json_int_t)t->cross_tenant,
		    "distinct_ips", (json_int_t)t->ips, "distinct_users", (json_int_t)t->users,
		    "estimated", json_estimated(t->approx, tenant_estimates)));
	}
	return a;
}

json_t *snapshot_block_json(const struct block_entry *b)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:s}",
	    "ip", json_out_stringn(b->key_ip, block_entry_len(b)), "ttl_s", json_ttl(b->ttl_s),
	    "by", json_out_string(b->by), "reason", json_out_string(b->reason),
	    "at", json_time(b->at), "value", redis_value_kind_name(b->kind),
	    "origin", block_origin_name(b->kind));
}

static json_t *json_blocked(const struct model *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_blocked; i++) {
		const struct block_entry *b = &m->blocked[i];
		json_t *o = snapshot_block_json(b);
		bool whole = b->key_ip && (!b->key_len || b->key_len == strlen(b->key_ip));
		json_allowed(o, m, whole ? b->key_ip : NULL);
		json_object_set_new(o, "alert", json_boolean(model_block_alert(m, b)));
		json_array_append_new(a, o);
	}
	return a;
}

/* The count of every block key, and how far the walk that counts got:
 * "fraction" is the share of Redis's hash table the pass has visited (from
 * its SCAN cursor), not of keys. */
static json_t *json_walk(const struct model *m)
{
	return json_pack("{s:b, s:b, s:f, s:I, s:I, s:I, s:i, s:b}",
	    "complete", m->walk_complete, "active", m->walk.active,
	    "fraction", m->walk_complete && !m->walk.active ? 1.0 : m->walk.fraction,
	    "blocked_so_far", (json_int_t)m->walk.blocked,
	    "failed_auth_so_far", (json_int_t)m->walk.failed_auth,
	    "ratelimit_so_far", (json_int_t)m->walk.ratelimit,
	    "passes", (int)m->walk.passes, "keyspace_events", m->redis_events);
}

/* Block keys in all: the last complete pass's count, or so far. */
static json_int_t blocked_count(const struct model *m)
{
	return (json_int_t)(m->walk_complete ? m->blocked_count : m->walk.blocked);
}

/* The addresses nearest their rate limit, and the servers' rate-limited
 * events per minute (the failures' minutes; null before the window). */
static json_t *json_rate_limited(const struct model *m, const struct config *cfg)
{
	size_t n;
	struct rate_entry *v = model_rate_limited(m, &n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:I, s:i, s:o, s:b}", "ip", json_out_string(v[i].ip),
		    "count", (json_int_t)v[i].count, "limit", cfg->ratelimit_limit,
		    "ttl_s", v[i].ttl_s >= -1 ? json_ttl(v[i].ttl_s) : json_null(), "exact", v[i].exact));
	free(v);
	return a;
}

static const char *const range_estimates[5] = { "failures", "requests", NULL, "tenants", NULL };

/* The networks of the failing addresses (IPv4 /24, IPv6 /64). */
static json_t *json_ranges(const struct model *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_ranges; i++) {
		const struct range_stat *g = &m->ranges[i];
		char first[MODEL_IP_LEN];
		snprintf(first, sizeof first, "%.*s", (int)strcspn(g->net, "/"), g->net);
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "network", g->net,
		    "failures", (json_int_t)g->failures, "requests", (json_int_t)g->requests,
		    "addresses", (json_int_t)g->addresses, "tenants", (json_int_t)g->tenants,
		    "estimated", json_estimated(g->approx, range_estimates));
		json_geo(o, m->geo, first);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_rlpm(const struct model *m)
{
	json_t *a = json_array();

	for (int i = 0; i < MODEL_MINUTES; i++)
		json_array_append_new(a, m->fpm_start + i * 60 >= m->rlpm_from ? json_integer(m->rlpm[i]) : json_null());
	return a;
}

static json_t *json_counters(const struct redis_counter *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:I, s:o}",
		    "ip", json_out_string(v[i].key_ip), "count", (json_int_t)v[i].value,
		    "ttl_s", json_ttl(v[i].ttl_s)));
	return a;
}

static json_t *json_components(const struct health_result *h)
{
	json_t *a = json_array();

	for (size_t i = 0; i < h->n_components; i++) {
		const struct health_component *c = &h->components[i];
		json_array_append_new(a, json_pack("{s:o, s:s, s:o}",
		    "name", json_out_string(c->name), "status", health_state_name(c->state),
		    "detail", json_out_string(c->detail)));
	}
	return a;
}

static json_t *json_health_one(const struct health_result *h)
{
	json_t *findings = json_array();

	for (size_t i = 0; i < h->n_findings; i++)
		json_array_append_new(findings, json_out_string(h->findings[i]));
	json_t *headers = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "strict_transport_security", json_out_string(h->hsts),
	    "x_content_type_options", json_out_string(h->content_type_options),
	    "x_frame_options", json_out_string(h->frame_options),
	    "content_security_policy", json_out_string(h->csp),
	    "access_control_allow_origin", json_out_string(h->cors),
	    "x_ratelimit_limit", json_out_string(h->ratelimit_limit),
	    "x_ratelimit_remaining", json_out_string(h->ratelimit_remaining));
	return json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "name", json_out_string(h->name), "url", json_out_string(h->url),
	    "status", health_state_name(h->state), "reason", json_out_string(h->reason),
	    "latency_ms", h->checks ? json_real(h->latency_ms) : json_null(),
	    "http_status", h->http_status ? json_integer(h->http_status) : json_null(),
	    "components", json_components(h), "headers", headers,
	    "cert_expires_at", json_time(h->cert_expires_at), "findings", findings,
	    "checked_at", json_time(h->checked_at_ms / 1000));
}

static json_t *json_recent(const struct model *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_recent; i++) {
		const struct event *e = &m->recent[i];
		char ts[40], iso[32];
		snapshot_iso_time(iso, sizeof iso, e->ts_us / 1000000);
		/* keep the microseconds: two events in one second stay ordered */
		snprintf(ts, sizeof ts, "%.19s.%06lldZ", iso, (long long)(e->ts_us % 1000000));
		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "timestamp", ts, "ip", json_out_string(e->ip), "tenant_id", json_out_string(e->tenant_id),
		    "user_id", json_out_string(e->user_id), "action", json_out_string(e->action),
		    "method", json_out_string(e->method), "path", json_out_string(e->path),
		    "status_code", e->status_code ? json_integer(e->status_code) : json_null(),
		    "user_agent", json_out_string(e->user_agent)));
	}
	return a;
}

static json_t *json_root(const struct model *m, const struct config *cfg, int64_t now_ms)
{
	int64_t stale_ms = (int64_t)cfg->refresh_ms * 3 + cfg->timeout_ms;
	json_t *fpm = json_array(), *health = json_array();

	for (int i = 0; i < MODEL_MINUTES; i++)
		json_array_append_new(fpm, json_integer(m->fpm[i]));
	for (size_t i = 0; i < m->n_health; i++)
		json_array_append_new(health, json_health_one(&m->health[i]));
	json_t *root = json_pack("{s:o, s:i, s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
	    "generated_at", json_time(now_ms / 1000),
	    "window_s", m->window_s,
	    "tenant", json_out_string(m->tenant),
	    "sources", "postgres", json_pg_source(m, now_ms, stale_ms),
	               "redis", json_source(&m->redis, now_ms, stale_ms),
	    "failures_per_minute", fpm,
	    "failures_per_minute_start", json_time(m->fpm_start),
	    "top_ips", json_top_ips(m, cfg),
	    "tenants", json_tenants(m),
	    "blocked_count", blocked_count(m),
	    "failed_auth_count", (json_int_t)m->failed_auth_count,
	    "redis_walk", json_walk(m),
	    "blocked", json_blocked(m),
	    "failed_auth_counters", json_counters(m->counters, m->n_counters),
	    "ratelimit_counters", json_counters(m->ratelimits, m->n_ratelimits),
	    "health", health,
	    "redis_walk_complete", m->walk_complete,
	    "recent_failures", json_recent(m));
	if (root && m->at_s)          /* a look back: PostgreSQL's figures are of then, Redis and health of now */
		json_object_set_new(root, "period", json_pack("{s:o, s:o, s:s}", "from", json_time(m->at_s - m->window_s),
		                    "to", json_time(m->at_s), "redis_and_health", "now"));
	if (root) {
		json_object_set_new(root, "rate_limited", json_rate_limited(m, cfg));
		json_object_set_new(root, "rate_limited_per_minute", json_rlpm(m));
		json_object_set_new(root, "ranges", json_ranges(m));
	}
	return root;
}

int snapshot_write_json(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms)
{
	json_t *root = json_root(m, cfg, now_ms);

	if (!root)
		return -1;
	int rc = json_out_write(root, f);
	json_decref(root);
	return rc;
}

/* The document without its block fields and its closing brace, then the
 * opening of the "blocked" array: the blocks follow as the walk finds them. */
int snapshot_json_stream_head(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms)
{
	json_t *root = json_root(m, cfg, now_ms);
	char *text = NULL;
	size_t len = 0;

	if (!root)
		return -1;
	json_object_del(root, "blocked");
	json_object_del(root, "blocked_count");
	json_object_del(root, "redis_walk");
	json_object_del(root, "redis_walk_complete");
	FILE *mem = open_memstream(&text, &len);
	int rc = mem ? json_out_put(root, mem, true) : -1;
	json_decref(root);
	if (mem && fclose(mem) != 0)
		rc = -1;
	/* "{\n  ...\n}": drop the brace, keep the members */
	while (rc == 0 && len > 0 && (text[len - 1] == '}' || text[len - 1] == '\n'))
		len--;
	if (rc == 0) {
		fwrite(text, 1, len, f);
		fputs(",\n  \"blocked\": [", f);
	}
	free(text);
	return rc || ferror(f) ? -1 : 0;
}

int snapshot_json_stream_block(const struct block_entry *b, FILE *f, unsigned long nth)
{
	json_t *j = snapshot_block_json(b);

	fputs(nth ? ",\n    " : "\n    ", f);
	int rc = j ? json_out_put(j, f, false) : -1;
	json_decref(j);
	return rc;
}

int snapshot_json_stream_tail(const struct model *m, FILE *f, unsigned long n)
{
	json_t *walk = json_walk(m);

	fprintf(f, "%s],\n  \"blocked_count\": %lu,\n  \"redis_walk\": ", n ? "\n  " : "", n);
	int rc = walk ? json_out_put(walk, f, false) : -1;
	json_decref(walk);
	fprintf(f, ",\n  \"redis_walk_complete\": %s\n}\n", m->walk_complete ? "true" : "false");
	fflush(f);
	return rc || ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ text */

/* An untrusted value in a column of w terminal columns, padded. */
static void put_cell(FILE *f, const char *s, int w, int flags)
{
	char buf[1024];
	int used = sanitize_fit(s ? s : "-", s ? strlen(s) : 1, w, flags, buf, sizeof buf);

	fputs(buf, f);
	for (int i = used; i < w; i++)
		fputc(' ', f);
}

static void text_sources(const struct model *m, FILE *f, int64_t now_ms, int64_t stale_ms, int fl)
{
	const struct { const char *name; const struct source_status *s; } src[] = {
		{ "postgres", &m->pg }, { "redis", &m->redis },
	};

	for (size_t i = 0; i < 2; i++) {
		enum source_state st = model_source_state(src[i].s, now_ms, stale_ms);
		fprintf(f, "  %-9s %-10s", src[i].name, source_state_name(st));
		if (src[i].s->last_ok_ms)
			fprintf(f, " age %llds", (long long)(now_ms - src[i].s->last_ok_ms) / 1000);
		char role[64];
		model_pg_role_text(m, role, sizeof role, false);
		if (src[i].s == &m->pg && role[0])
			fprintf(f, "  %s", role);
		if (src[i].s->error[0]) {
			fputs("  ", f);
			put_cell(f, src[i].s->error, 100, fl);
		}
		fputc('\n', f);
	}
}

/* Right-aligned figures, each with "~" when it is an estimate. */
static void text_figures(FILE *f, unsigned approx, const long *v, const unsigned *flag,
                         const int *width, int n)
{
	char buf[32];

	for (int i = 0; i < n; i++) {
		format_figure(buf, sizeof buf, v[i], approx, flag[i]);
		fprintf(f, " %*s", width[i], buf);
	}
}

static void text_geo(FILE *f, const struct geoip *geo, const char *ip, int fl)
{
	struct geo_info gi;
	char where[200];

	geoip_lookup(geo, ip, &gi);
	geoip_describe(&gi, where, sizeof where);
	if (!where[0])
		return;
	fputs("  ", f);
	put_cell(f, where, 48, fl);
}

static void text_top_ips(const struct model *m, const struct config *cfg, FILE *f, int fl)
{
	fprintf(f, "\nTop addresses by failures\n  %-39s %8s %8s %5s %7s %7s %s%s\n",
	        "address", "failures", "requests", "users", "tenants", "counter", "blocked",
	        m->geo ? "  network" : "");
	for (size_t i = 0; i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		const struct ip_redis *r = redis_of(m, s->ip);
		fprintf(f, "%s ", snapshot_ip_alert(m, cfg, s) ? "!" : " ");
		put_cell(f, s->ip, 39, fl);
		text_figures(f, s->approx, (const long[]){ s->failures, s->requests, s->users, s->tenants },
		             (const unsigned[]){ APPROX_FAILURES, APPROX_REQUESTS, APPROX_USERS, APPROX_TENANTS },
		             (const int[]){ 8, 8, 5, 7 }, 4);
		fputc(' ', f);
		if (r && r->failed_auth >= 0)
			fprintf(f, "%7ld ", r->failed_auth);
		else
			fprintf(f, "%7s ", "-");
		if (!r)
			fputs("?", f);
		else if (r->blocked)
			fprintf(f, "yes ttl %lds", r->block_ttl_s);
		else
			fputs(r->wrong_type ? "no (wrong key type)" : "no", f);
		text_geo(f, m->geo, s->ip, fl);
		fputc('\n', f);
	}
}

static void text_tenants(const struct model *m, FILE *f, int fl)
{
	fprintf(f, "\nTenants\n  %-24s %9s %8s %6s %6s %6s %6s\n",
	        "tenant", "requests", "failures", "unauth", "cross", "ips", "users");
	for (size_t i = 0; i < m->n_tenants; i++) {
		const struct tenant_stat *t = &m->tenants[i];
		fputs("  ", f);
		put_cell(f, t->tenant_id ? t->tenant_id : "(none)", 24, fl);
		text_figures(f, t->approx, (const long[]){ t->requests, t->failures, t->unauthorized,
		             t->cross_tenant, t->ips, t->users },
		             (const unsigned[]){ APPROX_REQUESTS, APPROX_REQUESTS, APPROX_REQUESTS,
		             APPROX_REQUESTS, APPROX_IPS, APPROX_USERS },
		             (const int[]){ 9, 8, 6, 6, 6, 6 }, 6);
		fputc('\n', f);
	}
}

static void text_block_line(const struct block_entry *b, FILE *f, int fl)
{
	char *name = block_entry_name(b);

	fputs("  ", f);
	put_cell(f, name ? name : "", 39, fl);
	free(name);
	fprintf(f, " ttl %6lds  by ", b->ttl_s);
	put_cell(f, b->by ? b->by : "(server)", 16, fl);
	fputc(' ', f);
	put_cell(f, b->reason, 40, fl);
	fputc('\n', f);
}

static void text_blocked(const struct model *m, FILE *f, int fl)
{
	char count[64];

	model_blocked_text(m, count, sizeof count, false);
	fprintf(f, "\nBlocked addresses (%s%s; the %zu most relevant listed)\n", count,
	        m->walk_complete ? "" : ", key walk not finished", m->n_blocked);
	for (size_t i = 0; i < m->n_blocked; i++)
		text_block_line(&m->blocked[i], f, fl);
}

static void text_health(const struct model *m, FILE *f, int fl)
{
	fputs("\nHealth\n", f);
	for (size_t i = 0; i < m->n_health; i++) {
		const struct health_result *h = &m->health[i];
		fputs("  ", f);
		put_cell(f, h->name, 12, fl);
		fprintf(f, " %-8s %4ld %7.1fms ", health_state_name(h->state), h->http_status, h->latency_ms);
		put_cell(f, h->url, 40, fl);
		if (h->reason) {
			fputs("  ", f);
			put_cell(f, h->reason, 60, fl);
		}
		fputc('\n', f);
		for (size_t c = 0; c < h->n_components; c++) {
			fputs("      ", f);
			put_cell(f, h->components[c].name, 20, fl);
			fprintf(f, " %-8s ", health_state_name(h->components[c].state));
			put_cell(f, h->components[c].detail, 50, fl);
			fputc('\n', f);
		}
		for (size_t k = 0; k < h->n_findings; k++) {
			fputs("      finding: ", f);
			put_cell(f, h->findings[k], 100, fl);
			fputc('\n', f);
		}
	}
}

static void text_recent(const struct model *m, FILE *f, int fl)
{
	fputs("\nRecent failures\n", f);
	for (size_t i = 0; i < m->n_recent; i++) {
		const struct event *e = &m->recent[i];
		char iso[32];
		snapshot_iso_time(iso, sizeof iso, e->ts_us / 1000000);
		fprintf(f, "  %s ", iso);
		put_cell(f, e->ip, 39, fl);
		fputc(' ', f);
		put_cell(f, e->tenant_id, 12, fl);
		fputc(' ', f);
		put_cell(f, e->user_id, 14, fl);
		fputc(' ', f);
		put_cell(f, e->action, 20, fl);
		fprintf(f, " %3d ", e->status_code);
		put_cell(f, e->path, 30, fl);
		fputc(' ', f);
		put_cell(f, e->user_agent, 30, fl);
		fputc('\n', f);
	}
}

static void text_body(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms, int fl,
                      bool blocked)
{
	int64_t stale_ms = (int64_t)cfg->refresh_ms * 3 + cfg->timeout_ms;
	char iso[32];
	long total = 0;

	snapshot_iso_time(iso, sizeof iso, now_ms / 1000);
	fprintf(f, "sectop snapshot %s  window %ds  tenant ", iso, m->window_s);
	put_cell(f, m->tenant ? m->tenant : "(all)", 32, fl);
	if (m->at_s) {
		char from[32], to[32];
		snapshot_iso_time(from, sizeof from, m->at_s - m->window_s);
		snapshot_iso_time(to, sizeof to, m->at_s);
		fprintf(f, "\nA look back: the audit log from %s to %s; Redis and health as they are now", from, to);
	}
	fputs("\n\nSources\n", f);
	text_sources(m, f, now_ms, stale_ms, fl);
	for (int i = 0; i < MODEL_MINUTES; i++)
		total += m->fpm[i];
	fprintf(f, m->at_s ? "\nFailures in the period's last 60 minutes: %ld (its last minute %ld, the one before %ld)\n"
	                   : "\nFailures in the last 60 minutes: %ld (this minute %ld, last minute %ld)\n",
	        total, m->fpm[MODEL_MINUTES - 1], m->fpm[MODEL_MINUTES - 2]);
	text_top_ips(m, cfg, f, fl);
	text_tenants(m, f, fl);
	if (blocked)
		text_blocked(m, f, fl);
	text_health(m, f, fl);
	text_recent(m, f, fl);
}

/* Columns are padded as they are written; the padding at the end of a
 * line is noise in a file or a diff, so it goes. */
static int write_trimmed(const char *text, size_t len, FILE *f)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		const char *last = stop;
		while (last > p && last[-1] == ' ')
			last--;
		fwrite(p, 1, (size_t)(last - p), f);
		if (nl)
			fputc('\n', f);
		p = nl ? nl + 1 : end;
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}

static int text_write(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms,
                      bool ascii, bool streaming)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return -1;
	text_body(m, cfg, mem, now_ms, ascii ? SAN_ASCII : 0, !streaming);
	if (streaming)
		fputs("\nBlocked addresses (every block key, as the walk finds it)\n", mem);
	if (fclose(mem) != 0) {
		free(text);
		return -1;
	}
	int rc = write_trimmed(text, len, f);
	free(text);
	return rc;
}

int snapshot_write_text(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms,
                        bool ascii)
{
	return text_write(m, cfg, f, now_ms, ascii, false);
}

int snapshot_text_stream_head(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms,
                              bool ascii)
{
	return text_write(m, cfg, f, now_ms, ascii, true);
}

int snapshot_text_stream_block(const struct block_entry *b, FILE *f, bool ascii)
{
	char line[512];
	FILE *mem = fmemopen(line, sizeof line, "w");

	if (!mem)
		return -1;
	text_block_line(b, mem, ascii ? SAN_ASCII : 0);
	long len = ftell(mem);
	fclose(mem);
	if (len < 0 || (size_t)len >= sizeof line)
		len = (long)strnlen(line, sizeof line - 1);
	return write_trimmed(line, (size_t)len, f);
}

int snapshot_text_stream_tail(const struct model *m, FILE *f, unsigned long n)
{
	char count[32];

	str_thousands(count, sizeof count, n);
	fprintf(f, "  %s block keys%s\n", count, m->walk_complete ? "" : "; key walk not finished");
	fflush(f);
	return ferror(f) ? -1 : 0;
}
