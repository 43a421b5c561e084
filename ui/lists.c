/* lists.c: rows of the full-screen lists, built from the model alone. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "lists.h"
#include "model.h"
#include "snapshot_out.h"

void format_ttl(char *buf, size_t n, long ttl_s)
{
	if (ttl_s == -1)
		snprintf(buf, n, "no expiry");
	else if (ttl_s < 0)
		snprintf(buf, n, "-");
	else if (ttl_s >= 3600)
		snprintf(buf, n, "%ldh%02ldm", ttl_s / 3600, ttl_s / 60 % 60);
	else if (ttl_s >= 60)
		snprintf(buf, n, "%ldm%02lds", ttl_s / 60, ttl_s % 60);
	else
		snprintf(buf, n, "%lds", ttl_s);
}

static void clock_text(char *buf, size_t n, int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (unix_s <= 0 || !strftime(buf, n, "%m-%d %H:%M:%S", localtime_r(&t, &tm)))
		snprintf(buf, n, "-");
}

/* --- top addresses --------------------------------------------------- */

/* In order of importance: narrow terminals drop columns from the right. */
static const struct column ip_cols[] = {
	{ "address", 28, true, false }, { "fail", 7, false, true }, { "req", 8, false, true },
	{ "counter", 7, false, true }, { "blocked", 9, false, true }, { "users", 6, false, true },
	{ "tenants", 7, false, true }, { "ratelim", 7, false, true }, { "by", 12, false, false },
};

static void build_ips(struct rows *r, const struct model *m, const struct config *cfg, int64_t now)
{
	for (size_t i = 0; i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		const struct ip_redis *rd = model_ip_redis(m, s->ip);
		struct row *w = rows_add(r, s->ip);
		char ttl[32];
		if (!w)
			return;
		w->kind = ROW_IP;
		row_text(w, 0, s->ip);
		row_num(w, 1, s->failures);
		row_num(w, 2, s->requests);
		row_num(w, 5, s->users);
		row_num(w, 6, s->tenants);
		if (rd && rd->failed_auth >= 0)
			row_num(w, 3, rd->failed_auth);
		if (rd && rd->ratelimit >= 0)
			row_num(w, 7, rd->ratelimit);
		if (rd && rd->blocked) {
			format_ttl(ttl, sizeof ttl, rd->block_ttl_s);
			row_num_text(w, 4, rd->block_ttl_s == -1 ? 1L << 40 : rd->block_ttl_s, ttl);
			row_text(w, 8, rd->block_kind == RV_JSON_BLOCK ? rd->block_by : "(server)");
		}
		if (rd && rd->wrong_type)
			row_text(w, 8, "wrong key type");
		if (snapshot_ip_alert(m, cfg, s))
			w->role = ROLE_ALERT;
	}
}

/* --- tenants ----------------------------------------------------------- */

static const struct column tenant_cols[] = {
	{ "tenant", 24, true, false }, { "req", 8, false, true }, { "fail", 7, false, true },
	{ "unauth", 7, false, true }, { "cross", 6, false, true }, { "ips", 6, false, true },
	{ "users", 6, false, true },
};

static void build_tenants(struct rows *r, const struct model *m, const struct config *cfg, int64_t now)
{
	for (size_t i = 0; i < m->n_tenants; i++) {
		const struct tenant_stat *t = &m->tenants[i];
		struct row *w = rows_add(r, t->tenant_id ? t->tenant_id : "");
		if (!w)
			return;
		w->kind = t->tenant_id ? ROW_TENANT : ROW_NONE;
		row_text(w, 0, t->tenant_id ? t->tenant_id : "(none)");
		if (!t->tenant_id)
			w->role = ROLE_DIM;
		row_num(w, 1, t->requests);
		row_num(w, 2, t->failures);
		row_num(w, 3, t->unauthorized);
		row_num(w, 4, t->cross_tenant);
		row_num(w, 5, t->ips);
		row_num(w, 6, t->users);
		if (t->cross_tenant > 0 || t->failures > cfg->alert_failures * 10)
			w->role = ROLE_WARN;
	}
}

/* --- health ------------------------------------------------------------ */

static const struct column health_cols[] = {
	{ "endpoint", 12, false, false }, { "status", 9, false, false }, { "http", 4, false, true },
	{ "ms", 6, false, true }, { "cert expires", 14, false, false }, { "why / findings", 20, true, false },
};

static enum role health_row_role(const struct health_result *h, const struct config *cfg, int64_t now)
{
	bool cert_soon = h->cert_expires_at &&
	                 h->cert_expires_at - now / 1000 < (int64_t)cfg->cert_warn_days * 86400;
	if (h->state == HEALTH_DOWN || cert_soon)
		return ROLE_ALERT;
	if (h->state == HEALTH_DEGRADED || h->n_findings)
		return ROLE_WARN;
	return h->state == HEALTH_UNKNOWN ? ROLE_DIM : ROLE_NORMAL;
}

static void build_health(struct rows *r, const struct model *m, const struct config *cfg, int64_t now)
{
	for (size_t i = 0; i < m->n_health; i++) {
		const struct health_result *h = &m->health[i];
		struct row *w = rows_add(r, h->name);
		char buf[64];
		if (!w)
			return;
		w->kind = ROW_HEALTH;
		row_text(w, 0, h->name);
		row_text(w, 1, health_state_name(h->state));
		if (h->http_status)
			row_num(w, 2, h->http_status);
		if (h->checks && h->http_status) {
			snprintf(buf, sizeof buf, "%.0f", h->latency_ms);
			row_num_text(w, 3, (long)h->latency_ms, buf);
		}
		if (h->cert_expires_at) {
			long days = (long)((h->cert_expires_at - now / 1000) / 86400);
			snprintf(buf, sizeof buf, "%ld days", days);
			row_num_text(w, 4, days, buf);
		}
		row_text(w, 5, h->reason ? h->reason : h->n_findings ? h->findings[0] : "");
		w->role = health_row_role(h, cfg, now);
	}
}

/* --- blocked ------------------------------------------------------------ */

static const struct column blocked_cols[] = {
	{ "address (key)", 32, false, false }, { "ttl", 9, false, true }, { "by", 12, false, false },
	{ "reason", 16, true, false }, { "since", 14, false, false },
};

static void build_blocked(struct rows *r, const struct model *m, const struct config *cfg, int64_t now)
{
	for (size_t i = 0; i < m->n_blocked; i++) {
		const struct block_entry *b = &m->blocked[i];
		struct row *w = rows_add(r, b->key_ip);
		char buf[32];
		if (!w)
			return;
		w->kind = ROW_IP;
		row_text(w, 0, b->key_ip);
		format_ttl(buf, sizeof buf, b->ttl_s);
		row_num_text(w, 1, b->ttl_s == -1 ? 1L << 40 : b->ttl_s, buf);
		row_text(w, 2, b->kind == RV_JSON_BLOCK ? b->by : b->kind == RV_WRONG_TYPE ? "wrong type" : "(server)");
		clock_text(buf, sizeof buf, b->at);
		row_num_text(w, 4, (long)b->at, buf);
		row_text(w, 3, b->reason);
	}
}

/* --- recent failures ---------------------------------------------------- */

/* Narrow terminals drop columns from the right: what matters most first. */
static const struct column tail_cols[] = {
	{ "time", 8, false, true }, { "address", 24, false, false }, { "tenant", 10, false, false },
	{ "user", 12, false, false }, { "st", 3, false, true }, { "action", 14, false, false },
	{ "path", 20, true, false }, { "user agent", 28, false, false },
};

static void build_tail(struct rows *r, const struct model *m, const struct config *cfg, int64_t now)
{
	for (size_t i = 0; i < m->n_recent; i++) {
		const struct event *e = &m->recent[i];
		struct row *w = rows_add(r, e->id);
		char buf[32];
		if (!w)
			return;
		time_t t = (time_t)(e->ts_us / 1000000);
		struct tm tm;
		w->kind = e->ip ? ROW_IP : ROW_NONE;
		strftime(buf, sizeof buf, "%H:%M:%S", localtime_r(&t, &tm));
		row_num_text(w, 0, (long)(e->ts_us / 1000), buf);
		row_text(w, 1, e->ip ? e->ip : "-");
		row_text(w, 2, e->tenant_id);
		row_text(w, 3, e->user_id);
		if (e->status_code)
			row_num(w, 4, e->status_code);
		row_text(w, 5, e->action);
		row_text(w, 6, e->path);
		row_text(w, 7, e->user_agent);
	}
}

#define COLS(a) a, (int)(sizeof a / sizeof a[0])

const struct list_def list_defs[LIST_COUNT] = {
	[LIST_IPS] = { "Top addresses", COLS(ip_cols), -1, build_ips },
	[LIST_TENANTS] = { "Tenants", COLS(tenant_cols), -1, build_tenants },
	[LIST_HEALTH] = { "Health", COLS(health_cols), -1, build_health },
	[LIST_BLOCKED] = { "Blocked addresses", COLS(blocked_cols), 0, build_blocked },
	[LIST_TAIL] = { "Recent failures", COLS(tail_cols), -1, build_tail },
};
