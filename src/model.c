#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"

void model_init(struct model *m, int window_s, const char *tenant)
{
	memset(m, 0, sizeof *m);
	m->window_s = window_s;
	m->tenant = tenant;
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

void model_set_ratelimits(struct model *m, struct redis_counter *v, size_t n)
{
	counters_free(m->ratelimits, m->n_ratelimits);
	m->ratelimits = v;
	m->n_ratelimits = n;
}

void model_free(struct model *m)
{
	free(m->top_ips);
	tenants_free(m->tenants, m->n_tenants);
	events_free(m->recent, m->n_recent);
	ip_redis_free_all(m->ip_redis, m->n_ip_redis);
	blocks_free(m->blocked, m->n_blocked);
	counters_free(m->counters, m->n_counters);
	counters_free(m->ratelimits, m->n_ratelimits);
	for (size_t i = 0; i < m->n_health; i++)
		health_result_free(&m->health[i]);
	free(m->health);
	memset(m, 0, sizeof *m);
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
