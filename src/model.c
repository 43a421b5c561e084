#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allowlist.h"
#include "model.h"
#include "team.h"
#include "sanitize.h"
#include "strutil.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void model_init(struct model *m, int window_s, const char *tenant, int refresh_ms)
{
	memset(m, 0, sizeof *m);
	m->window_s = window_s;
	m->tenant = dup_or_null(tenant);
	m->refresh_ms = refresh_ms;
	m->scope_gen = 1;
	m->pg_reading_pct = -1;
	m->pg_replay_lag_s = -1;
}

void event_free(struct event *e)
{
	free(e->ip);
	free(e->tenant_id);
	free(e->user_id);
	free(e->action);
	free(e->method);
	free(e->path);
	free(e->user_agent);
}

void ip_redis_free(struct ip_redis *r)
{
	free(r->block_by);
	free(r->block_reason);
}

void block_entry_free(struct block_entry *b)
{
	free(b->key_ip);
	free(b->by);
	free(b->reason);
}

size_t block_entry_len(const struct block_entry *b)
{
	return b->key_len ? b->key_len : b->key_ip ? strlen(b->key_ip) : 0;
}

char *block_entry_name(const struct block_entry *b)
{
	return sanitize_dup(b->key_ip, block_entry_len(b), 0);
}

void health_result_free(struct health_result *h)
{
	free(h->name);
	free(h->url);
	free(h->reason);
	for (size_t i = 0; i < h->n_components; i++) {
		free(h->components[i].name);
		free(h->components[i].detail);
	}
	free(h->components);
	free(h->hsts);
	free(h->content_type_options);
	free(h->frame_options);
	free(h->csp);
	free(h->cors);
	free(h->ratelimit_limit);
	free(h->ratelimit_remaining);
	for (size_t i = 0; i < h->n_findings; i++)
		free(h->findings[i]);
	memset(h, 0, sizeof *h);
}

static void tenants_free(struct tenant_stat *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].tenant_id);
	free(v);
}

static void events_free(struct event *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		event_free(&v[i]);
	free(v);
}

static void ip_redis_free_all(struct ip_redis *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ip_redis_free(&v[i]);
	free(v);
}

static void blocks_free(struct block_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		block_entry_free(&v[i]);
	free(v);
}

static void counters_free(struct redis_counter *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].key_ip);
	free(v);
}

void model_set_top_ips(struct model *m, struct ip_stat *v, size_t n)
{
	free(m->top_ips);
	m->top_ips = v;
	m->n_top_ips = n;
	m->top_ips_gen++;
}

void model_set_tenants(struct model *m, struct tenant_stat *v, size_t n)
{
	tenants_free(m->tenants, m->n_tenants);
	m->tenants = v;
	m->n_tenants = n;
}

void model_set_recent(struct model *m, struct event *v, size_t n)
{
	events_free(m->recent, m->n_recent);
	m->recent = v;
	m->n_recent = n;
}

void model_set_ip_redis(struct model *m, struct ip_redis *v, size_t n)
{
	ip_redis_free_all(m->ip_redis, m->n_ip_redis);
	m->ip_redis = v;
	m->n_ip_redis = n;
}

void model_set_blocked(struct model *m, struct block_entry *v, size_t n)
{
	blocks_free(m->blocked, m->n_blocked);
	m->blocked = v;
	m->n_blocked = n;
}

void model_set_counters(struct model *m, struct redis_counter *v, size_t n)
{
	counters_free(m->counters, m->n_counters);
	m->counters = v;
	m->n_counters = n;
}

void model_set_ranges(struct model *m, struct range_stat *v, size_t n)
{
	free(m->ranges);
	m->ranges = v;
	m->n_ranges = n;
}

void model_set_ratelimits(struct model *m, struct redis_counter *v, size_t n)
{
	counters_free(m->ratelimits, m->n_ratelimits);
	m->ratelimits = v;
	m->n_ratelimits = n;
}

void name_counts_free(struct name_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static void detail_clear_data(struct detail *d)
{
	events_free(d->events, d->n_events);
	d->events = NULL;
	d->n_events = 0;
	for (int g = 0; g < DETAIL_GROUPS; g++) {
		name_counts_free(d->groups[g], d->n_groups[g]);
		d->groups[g] = NULL;
		d->n_groups[g] = 0;
	}
	free(d->ips);
	d->ips = NULL;
	d->n_ips = 0;
	d->answered = 0;
}

void model_ask_detail(struct model *m, enum detail_kind kind, const char *key)
{
	struct detail *d = &m->detail;

	detail_clear_data(d);
	free(d->key);
	d->kind = key ? kind : DETAIL_NONE;
	d->key = d->kind != DETAIL_NONE ? strdup(key) : NULL;
	d->asked++;
	/* the address's Redis state is wanted too, even off the top list */
	free(m->watch_key);
	m->watch_key = d->kind == DETAIL_IP ? strdup(key) : NULL;
	m->top_ips_gen++;
}

void model_set_detail(struct model *m, unsigned asked, struct event *events, size_t n_events,
                      struct name_count *groups[DETAIL_GROUPS], size_t n_groups[DETAIL_GROUPS],
                      struct ip_stat *ips, size_t n_ips)
{
	struct detail *d = &m->detail;

	detail_clear_data(d);
	d->events = events;
	d->n_events = n_events;
	for (int g = 0; g < DETAIL_GROUPS; g++) {
		d->groups[g] = groups[g];
		d->n_groups[g] = n_groups[g];
	}
	d->ips = ips;
	d->n_ips = n_ips;
	d->answered = asked;
	d->error[0] = '\0';
}

/* What was shown belongs to the old scope. */
static void scope_changed(struct model *m)
{
	m->scope_gen++;
	model_set_recent(m, NULL, 0);
	model_set_top_ips(m, NULL, 0);
	model_set_tenants(m, NULL, 0);
	model_set_ranges(m, NULL, 0);
	m->ranges_by = RANGES_OFF;
	memset(m->fpm, 0, sizeof m->fpm);
	memset(m->rlpm, 0, sizeof m->rlpm);
	detail_clear_data(&m->detail);
	m->detail.asked++;
}

void model_set_scope(struct model *m, int window_s, const char *tenant)
{
	char *t = dup_or_null(tenant);

	free(m->tenant);
	m->tenant = t;
	m->window_s = window_s;
	scope_changed(m);
}

void model_set_at(struct model *m, int64_t at_s)
{
	m->at_s = at_s;
	scope_changed(m);
}

void model_free(struct model *m)
{
	detail_clear_data(&m->detail);
	free(m->detail.key);
	free(m->tenant);
	free(m->watch_key);
	free(m->top_ips);
	tenants_free(m->tenants, m->n_tenants);
	events_free(m->recent, m->n_recent);
	ip_redis_free_all(m->ip_redis, m->n_ip_redis);
	blocks_free(m->blocked, m->n_blocked);
	counters_free(m->counters, m->n_counters);
	counters_free(m->ratelimits, m->n_ratelimits);
	free(m->ranges);
	for (size_t i = 0; i < m->n_health; i++)
		health_result_free(&m->health[i]);
	free(m->health);
	team_ops_free(m->team_ops, m->n_team_ops);
	memset(m, 0, sizeof *m);
}

void model_add_team_ops(struct model *m, struct team_op *v, size_t n)
{
	size_t keep = m->n_team_ops + n > MODEL_TEAM_MAX ? MODEL_TEAM_MAX : m->n_team_ops + n;
	size_t drop = m->n_team_ops + n - keep;          /* the oldest go */
	struct team_op *all = malloc((keep + 1) * sizeof *all);

	if (!all) {
		team_ops_free(v, n);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < m->n_team_ops + n; i++) {
		struct team_op *op = i < m->n_team_ops ? &m->team_ops[i] : &v[i - m->n_team_ops];
		if (i < drop)
			team_op_free(op);
		else
			all[k++] = *op;
	}
	free(m->team_ops);
	free(v);
	m->team_ops = all;
	m->n_team_ops = keep;
	m->team_gen += n;
}

bool model_ip_redis_wanted(const struct model *m, const char *ip)
{
	for (size_t i = 0; i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, ip) == 0)
			return true;
	return false;
}

void model_watch(struct model *m, const char *ip)
{
	if (m->watch_key && strcmp(m->watch_key, ip) == 0)
		return;
	free(m->watch_key);
	m->watch_key = strdup(ip);
	m->top_ips_gen++;                    /* the next Redis read includes it */
}

const struct ip_redis *model_ip_redis(const struct model *m, const char *ip)
{
	for (size_t i = 0; i < m->n_ip_redis; i++)
		if (strcmp(m->ip_redis[i].ip, ip) == 0)
			return &m->ip_redis[i];
	return NULL;
}

enum source_state model_source_state(const struct source_status *s, int64_t now_wall_ms,
                                     int64_t stale_after_ms)
{
	if (s->refreshes == 0)
		return s->failures ? SOURCE_DOWN : SOURCE_CONNECTING;
	if (s->state != SOURCE_OK)
		return SOURCE_STALE;
	if (stale_after_ms > 0 && now_wall_ms - s->last_ok_ms > stale_after_ms)
		return SOURCE_STALE;
	return SOURCE_OK;
}

const char *source_state_name(enum source_state s)
{
	switch (s) {
	case SOURCE_CONNECTING: return "connecting";
	case SOURCE_OK: return "ok";
	case SOURCE_STALE: return "stale";
	case SOURCE_DOWN: return "down";
	}
	return "?";
}

const char *health_state_name(enum health_state s)
{
	switch (s) {
	case HEALTH_UNKNOWN: return "unknown";
	case HEALTH_HEALTHY: return "healthy";
	case HEALTH_DEGRADED: return "degraded";
	case HEALTH_DOWN: return "down";
	}
	return "?";
}

const char *redis_value_kind_name(enum redis_value_kind k)
{
	switch (k) {
	case RV_ABSENT: return "absent";
	case RV_COUNTER: return "counter";
	case RV_JSON_BLOCK: return "sectop";
	case RV_PLAIN: return "plain";
	case RV_WRONG_TYPE: return "wrong_type";
	case RV_JSON_DRILL: return "drill";
	case RV_JSON_TOOL: return "tool";
	}
	return "?";
}

const char *block_origin_name(enum redis_value_kind k)
{
	switch (k) {
	case RV_JSON_BLOCK: return "operator";
	case RV_PLAIN: case RV_COUNTER: return "servers";
	case RV_JSON_DRILL: return "drill";
	case RV_JSON_TOOL: return "tool";
	default: return "unknown";
	}
}

bool block_has_by(enum redis_value_kind k)
{
	return k == RV_JSON_BLOCK || k == RV_JSON_DRILL || k == RV_JSON_TOOL;
}

void source_status_ok(struct source_status *s, int64_t now_wall_ms)
{
	s->state = SOURCE_OK;
	s->last_ok_ms = now_wall_ms;
	s->refreshes++;
	s->error[0] = '\0';
}

void source_status_fail(struct source_status *s, const char *error)
{
	s->state = s->refreshes ? SOURCE_STALE : SOURCE_DOWN;
	s->failures++;
	if (!error)
		error = "failed";
	size_t n = strlen(error);
	if (n >= sizeof s->error)
		n = sizeof s->error - 1;
	memcpy(s->error, error, n);
	s->error[n] = '\0';
}

void format_figure(char *buf, size_t n, long v, unsigned approx, unsigned flag)
{
	snprintf(buf, n, "%s%ld", (approx & flag) ? "~" : "", v);
}

void model_blocked_text(const struct model *m, char *buf, size_t n, bool brief)
{
	char count[48];

	if (m->walk_complete) {
		str_thousands(count, sizeof count, m->blocked_count);
		snprintf(buf, n, "%s", count);
	} else if (m->walk.active) {
		str_thousands(count, sizeof count, m->walk.blocked);
		/* floor: "100%" only once the pass has really ended */
		snprintf(buf, n, brief ? "%s+ %d%%" : "%s so far, walk %d%%", count, (int)(m->walk.fraction * 100));
	} else {
		snprintf(buf, n, "%zu...", m->n_blocked);
	}
}

const char *pg_role_name(enum pg_role r)
{
	return r == PG_ROLE_PRIMARY ? "primary" : r == PG_ROLE_STANDBY ? "standby" : NULL;
}

void model_pg_role_text(const struct model *m, char *buf, size_t n, bool brief)
{
	if (m->pg_role != PG_ROLE_STANDBY)
		snprintf(buf, n, "%s", "");
	else if (m->pg_replay_lag_s < 0)
		snprintf(buf, n, "standby");
	else
		snprintf(buf, n, brief ? "standby lag %.*fs" : "standby, replay lag %.*f s",
		         m->pg_replay_lag_s < 10 ? 1 : 0, m->pg_replay_lag_s);
}

const struct allow_entry *model_allowed(const struct model *m, const char *ip)
{
	return m->allow ? allowlist_match(m->allow, ip, (int64_t)time(NULL)) : NULL;
}

bool model_block_alert(const struct model *m, const struct block_entry *b)
{
	return b->kind == RV_PLAIN && b->key_ip && (!b->key_len || b->key_len == strlen(b->key_ip)) &&
	       model_allowed(m, b->key_ip);
}

bool model_ip_block_alert(const struct model *m, const char *ip)
{
	const struct ip_redis *rd = model_ip_redis(m, ip);
	return rd && rd->blocked && rd->block_kind == RV_PLAIN && model_allowed(m, ip);
}

static int rate_cmp(const void *a, const void *b)
{
	const struct rate_entry *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->ip, y->ip);
}

struct rate_entry *model_rate_limited(const struct model *m, size_t *n)
{
	struct rate_entry *v = calloc(m->n_ratelimits + m->n_ip_redis + 1, sizeof *v);

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < m->n_ratelimits; i++) {
		const struct redis_counter *c = &m->ratelimits[i];
		if (c->key_ip)
			v[(*n)++] = (struct rate_entry){ c->key_ip, c->value, c->ttl_s, false };
	}
	for (size_t i = 0; i < m->n_ip_redis; i++) {
		const struct ip_redis *rd = &m->ip_redis[i];
		size_t k = 0;
		if (rd->ratelimit < 0)
			continue;
		while (k < *n && strcmp(v[k].ip, rd->ip) != 0)
			k++;
		if (k == *n)
			v[(*n)++] = (struct rate_entry){ rd->ip, 0, -2, true };
		v[k].count = rd->ratelimit;            /* read now: it wins */
		v[k].exact = true;
	}
	qsort(v, *n, sizeof *v, rate_cmp);
	return v;
}
