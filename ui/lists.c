/* lists.c: rows of the full-screen lists, built from the model alone. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "geoip.h"
#include "lists.h"
#include "model.h"
#include "snapshot_out.h"
#include "apikeys.h"
#include "rotation.h"
#include "timeline.h"

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
	{ "cc", 3, false, false }, { "network (geoip-db)", 30, false, false },
};

/* Country and network; "?" where the databases do not know the address. */
static void geo_cells(struct row *w, int col, const struct geoip *geo, const char *ip)
{
	struct geo_info gi;
	char net[160];

	geoip_lookup(geo, ip, &gi);
	if (gi.state == GEO_NO_DB)
		return;
	geoip_network(&gi, net, sizeof net);
	row_text(w, col, gi.country[0] ? gi.country : "?");
	row_text(w, col + 1, net[0] ? net : "?");
}

static void build_ips(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                   const struct list_extra *x)
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
		row_figure(w, 1, s->failures, s->approx, APPROX_FAILURES);
		row_figure(w, 2, s->requests, s->approx, APPROX_REQUESTS);
		row_figure(w, 5, s->users, s->approx, APPROX_USERS);
		row_figure(w, 6, s->tenants, s->approx, APPROX_TENANTS);
		if (rd && rd->failed_auth >= 0)
			row_num(w, 3, rd->failed_auth);
		if (rd && rd->ratelimit >= 0)
			row_num(w, 7, rd->ratelimit);
		if (rd && rd->blocked) {
			format_ttl(ttl, sizeof ttl, rd->block_ttl_s);
			row_num_text(w, 4, rd->block_ttl_s == -1 ? 1L << 40 : rd->block_ttl_s, ttl);
			row_text(w, 8, block_has_by(rd->block_kind) ? rd->block_by : "(server)");
		}
		if (rd && rd->wrong_type)
			row_text(w, 8, "wrong key type");
		if (snapshot_ip_alert(m, cfg, s))
			w->role = ROLE_ALERT;
		if (model_allowed(m, s->ip)) {
			char cell[MODEL_IP_LEN + 16];
			snprintf(cell, sizeof cell, "%s ALLOW-LISTED", s->ip);   /* seen at any width */
			row_text(w, 0, cell);
			w->role = rd && rd->blocked ? ROLE_ALERT : ROLE_DIM;
		}
		geo_cells(w, 9, m->geo, s->ip);
	}
}

/* --- tenants ----------------------------------------------------------- */

static const struct column tenant_cols[] = {
	{ "tenant", 24, true, false }, { "req", 8, false, true }, { "fail", 7, false, true },
	{ "unauth", 7, false, true }, { "cross", 6, false, true }, { "ips", 6, false, true },
	{ "users", 6, false, true },
};

static void build_tenants(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                   const struct list_extra *x)
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
		row_figure(w, 1, t->requests, t->approx, APPROX_REQUESTS);
		row_figure(w, 2, t->failures, t->approx, APPROX_REQUESTS);
		row_figure(w, 3, t->unauthorized, t->approx, APPROX_REQUESTS);
		row_figure(w, 4, t->cross_tenant, t->approx, APPROX_REQUESTS);
		row_figure(w, 5, t->ips, t->approx, APPROX_IPS);
		row_figure(w, 6, t->users, t->approx, APPROX_USERS);
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

static void build_health(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                   const struct list_extra *x)
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
	{ "reason", 16, true, false }, { "since", 14, false, false }, { "origin", 8, false, false },
};

static void build_blocked(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                   const struct list_extra *x)
{
	for (size_t i = 0; i < m->n_blocked; i++) {
		const struct block_entry *b = &m->blocked[i];
		char *name = block_entry_name(b), buf[32];
		struct row *w = name ? rows_add(r, name) : NULL;
		if (!w) {
			free(name);
			return;
		}
		w->kind = ROW_IP;
		row_text(w, 0, name);
		free(name);
		format_ttl(buf, sizeof buf, b->ttl_s);
		row_num_text(w, 1, b->ttl_s == -1 ? 1L << 40 : b->ttl_s, buf);
		row_text(w, 2, block_has_by(b->kind) ? b->by : b->kind == RV_WRONG_TYPE ? "wrong type" : "(server)");
		row_text(w, 5, block_origin_name(b->kind));
		clock_text(buf, sizeof buf, b->at);
		row_num_text(w, 4, (long)b->at, buf);
		row_text(w, 3, b->reason);
		if (b->key_ip && (!b->key_len || b->key_len == strlen(b->key_ip)) && model_allowed(m, b->key_ip)) {
			char cell[MODEL_IP_LEN + 16];
			snprintf(cell, sizeof cell, "%s ALLOW-LISTED", b->key_ip);
			row_text(w, 0, cell);
			w->role = model_block_alert(m, b) ? ROLE_ALERT : ROLE_WARN;
		}
	}
}

/* --- recent failures ---------------------------------------------------- */

/* Narrow terminals drop columns from the right: what matters most first. */
static const struct column tail_cols[] = {
	{ "time", 8, false, true }, { "address", 24, false, false }, { "tenant", 10, false, false },
	{ "user", 12, false, false }, { "st", 3, false, true }, { "action", 14, false, false },
	{ "path", 20, true, false }, { "user agent", 28, false, false },
};

static void build_tail(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                   const struct list_extra *x)
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

/* --- API keys ------------------------------------------------------------ */

static const struct column key_cols[] = {
	{ "tenant", 14, false, false }, { "prefix", 12, false, false }, { "state", 8, false, false },
	{ "name", 16, true, false }, { "last used", 9, false, true }, { "age", 6, false, true },
	{ "expires", 8, false, true }, { "scopes", 16, false, false }, { "revoked", 14, false, false },
};

/* "12d", "3h", "never": an age or a time to come, from unix seconds */
static void span_text(char *buf, size_t n, int64_t secs)
{
	int64_t a = secs < 0 ? -secs : secs;
	if (a >= 86400)
		snprintf(buf, n, "%s%lldd", secs < 0 ? "-" : "", (long long)(a / 86400));
	else if (a >= 3600)
		snprintf(buf, n, "%s%lldh", secs < 0 ? "-" : "", (long long)(a / 3600));
	else
		snprintf(buf, n, "%s%lldm", secs < 0 ? "-" : "", (long long)(a / 60));
}

static void build_keys(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                       const struct list_extra *x)
{
	int64_t t = now / 1000;
	char buf[64];

	(void)m;
	for (size_t i = 0; i < x->n_keys; i++) {
		const struct api_key *k = &x->keys[i];
		struct row *w = rows_add(r, k->id);
		if (!w)
			return;
		w->kind = ROW_KEY;
		row_text(w, 0, k->tenant);
		row_text(w, 1, k->prefix);
		row_text(w, 3, k->name);
		if (k->last_used)
			span_text(buf, sizeof buf, t - k->last_used);
		row_num_text(w, 4, k->last_used ? (long)(t - k->last_used) : 1L << 40, k->last_used ? buf : "never");
		span_text(buf, sizeof buf, t - k->created);
		row_num_text(w, 5, (long)(t - k->created), buf);
		if (k->expires)
			span_text(buf, sizeof buf, k->expires - t);
		row_num_text(w, 6, k->expires ? (long)(k->expires - t) : 1L << 40, k->expires ? buf : "-");
		row_text(w, 7, k->scopes);
		if (k->revoked) {
			clock_text(buf, sizeof buf, k->revoked);
			row_text(w, 8, buf);
			row_text(w, 2, "revoked");
			w->role = ROLE_DIM;
		} else if (k->expires && k->expires < t) {
			row_text(w, 2, "expired");
			w->role = ROLE_DIM;
		} else if (!k->last_used || t - k->last_used > (int64_t)cfg->key_unused_days * 86400) {
			row_text(w, 2, "unused");
			w->role = ROLE_WARN;                 /* unused for long: worth revoking */
		} else {
			row_text(w, 2, "active");
		}
	}
}

/* --- actions (the journal) ------------------------------------------------ */

/* "from": local (this machine's journal) or remote (the audit log: another
 * operator, or another machine of the same one). */
static const struct column action_cols[] = {
	{ "time", 14, false, true }, { "action", 17, false, false }, { "target", 16, false, false },
	{ "result", 7, false, false }, { "who", 10, false, false }, { "reason, step, message", 14, true, false },
	{ "mode", 8, false, false }, { "incident", 14, false, false }, { "from", 6, false, false },
};

static void build_actions(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                          const struct list_extra *x)
{
	char buf[32], key[24];

	(void)m;
	(void)cfg;
	(void)now;
	for (size_t i = x->journal ? x->journal->n : 0; i-- > 0;) {     /* newest first */
		const struct tl_entry *e = &x->journal->v[i];
		snprintf(key, sizeof key, "%zu", i);
		struct row *w = rows_add(r, key);
		if (!w)
			return;
		w->kind = e->target && !e->what ? ROW_IP : ROW_NONE;
		clock_text(buf, sizeof buf, e->t);
		row_num_text(w, 0, (long)e->t, buf);
		row_text(w, 1, e->what ? e->what : "looked at");
		row_text(w, 2, e->target);
		row_text(w, 3, e->what ? e->status ? e->status : "no result" : "-");
		row_text(w, 4, e->who);
		row_text(w, 5, e->message && e->status && strcmp(e->status, "done") != 0 ? e->message : e->note);
		row_text(w, 6, e->mode);
		row_text(w, 7, e->incident);
		row_text(w, 8, e->remote ? "remote" : "local");
		if (e->what && (!e->status || strcmp(e->status, "failed") == 0))
			w->role = ROLE_ALERT;
		else if (e->what && strcmp(e->status, "done") != 0)
			w->role = ROLE_WARN;
		else if (e->mode && strcmp(e->mode, "live") != 0)
			w->role = ROLE_DIM;
	}
}

/* --- rotations ------------------------------------------------------------- */

static const struct column rotation_cols[] = {
	{ "secret", 18, false, false }, { "state", 8, false, false }, { "age", 6, false, true },
	{ "max", 5, false, true }, { "kind", 11, false, false }, { "last request", 24, true, false },
};

static void build_rotations(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                            const struct list_extra *x)
{
	char buf[256];

	(void)m;
	(void)cfg;
	(void)now;
	for (size_t i = 0; i < x->n_rotations; i++) {
		const struct rotation_status *s = &x->rotations[i];
		struct row *w = rows_add(r, s->name);
		if (!w)
			return;
		w->kind = ROW_SECRET;
		row_text(w, 0, s->name);
		row_text(w, 1, rotation_state_name(s->state));
		if (s->age_s >= 0) {
			snprintf(buf, sizeof buf, "%lldd", (long long)(s->age_s / 86400));
			row_num_text(w, 2, (long)s->age_s, buf);
		} else {
			row_num_text(w, 2, 1L << 40, "never");
		}
		snprintf(buf, sizeof buf, "%dd", s->max_age_s / 86400);
		row_num_text(w, 3, s->max_age_s, buf);
		row_text(w, 4, s->kind);
		if (s->last_request.found) {
			char when[16];                       /* "2026-11-24T00:40:10Z" -> "11-24 00:40" */
			snprintf(when, sizeof when, "%.11s", strlen(s->last_request.time) > 5 ? s->last_request.time + 5 : "");
			if (strlen(when) > 5)
				when[5] = ' ';
			snprintf(buf, sizeof buf, "%s %s by %s", s->last_request.status, when, s->last_request.operator_id);
		}
		else
			snprintf(buf, sizeof buf, "%s", s->has_webhook ? "-" : "(no webhook: rotate by hand)");
		row_text(w, 5, buf);
		w->role = s->state == ROT_OVERDUE || s->state == ROT_NEVER ? ROLE_ALERT :
		          s->state == ROT_DUE ? ROLE_WARN : ROLE_NORMAL;
	}
}

/* --- rate limits -------------------------------------------------------- */

static const struct column rate_cols[] = {
	{ "address", 28, true, false }, { "count", 7, false, true }, { "of limit", 9, false, true },
	{ "resets in", 10, false, true }, { "fail", 7, false, true }, { "read", 6, false, false },
};

static void build_ratelimits(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                             const struct list_extra *x)
{
	size_t n;
	struct rate_entry *v = model_rate_limited(m, &n);

	for (size_t i = 0; i < n; i++) {
		struct row *w = rows_add(r, v[i].ip);
		char buf[32];
		if (!w)
			break;
		w->kind = ROW_IP;
		row_text(w, 0, v[i].ip);
		row_num(w, 1, v[i].count);
		long pct = cfg->ratelimit_limit ? v[i].count * 100 / cfg->ratelimit_limit : 0;
		snprintf(buf, sizeof buf, "%ld%%", pct);
		row_num_text(w, 2, pct, buf);
		if (v[i].ttl_s >= -1) {
			format_ttl(buf, sizeof buf, v[i].ttl_s);
			row_num_text(w, 3, v[i].ttl_s, buf);
		}
		for (size_t k = 0; k < m->n_top_ips; k++)
			if (strcmp(m->top_ips[k].ip, v[i].ip) == 0)
				row_figure(w, 4, m->top_ips[k].failures, m->top_ips[k].approx, APPROX_FAILURES);
		row_text(w, 5, v[i].exact ? "now" : "walk");
		w->role = pct >= 100 ? ROLE_ALERT : pct >= 80 ? ROLE_WARN : ROLE_NORMAL;
	}
	free(v);
}

/* --- ranges ----------------------------------------------------------- */

static const struct column range_cols[] = {
	{ "network", 24, true, false }, { "fail", 7, false, true }, { "req", 8, false, true },
	{ "addresses", 9, false, true }, { "tenants", 7, false, true }, { "cc", 3, false, false },
	{ "network (geoip-db)", 30, false, false },
};

/* A network's row: its figures, and where its network address sits. */
static void range_net_row(struct row *w, const struct model *m, const struct range_stat *g)
{
	char first[MODEL_IP_LEN];

	w->kind = ROW_RANGE;
	row_text(w, 0, g->net);
	snprintf(first, sizeof first, "%.*s", (int)strcspn(g->net, "/"), g->net);
	geo_cells(w, 5, m->geo, first);
}

/* An AS's row: "AS64500 Example Org" (the organisation is untrusted: the
 * table's drawing sanitises it); the addresses of no known AS are said so,
 * apart from "no database", which groups by network instead. */
static void range_as_row(struct row *w, const struct range_stat *g)
{
	char name[sizeof g->net + sizeof g->as_org + 1];

	if (!g->asn) {
		w->kind = ROW_NONE;
		row_text(w, 0, "(not in the AS database)");
		w->role = ROLE_DIM;
		return;
	}
	w->kind = ROW_RANGE;
	snprintf(name, sizeof name, "%s%s%s", g->net, g->as_org[0] ? " " : "", g->as_org);
	row_text(w, 0, name);
}

static void build_ranges(struct rows *r, const struct model *m, const struct config *cfg, int64_t now,
                         const struct list_extra *x)
{
	for (size_t i = 0; i < m->n_ranges; i++) {
		const struct range_stat *g = &m->ranges[i];
		struct row *w = rows_add(r, m->ranges_by == RANGES_AS && !g->asn ? "" : g->net);
		if (!w)
			return;
		if (m->ranges_by == RANGES_AS)
			range_as_row(w, g);
		else
			range_net_row(w, m, g);
		row_figure(w, 1, g->failures, g->approx, APPROX_FAILURES);
		row_figure(w, 2, g->requests, g->approx, APPROX_REQUESTS);
		row_num(w, 3, g->addresses);
		row_figure(w, 4, g->tenants, g->approx, APPROX_TENANTS);
		if (g->addresses >= 10 && w->kind == ROW_RANGE)
			w->role = ROLE_WARN;                 /* many addresses: a botnet's share */
	}
}

#define COLS(a) a, (int)(sizeof a / sizeof a[0])

const struct list_def list_defs[LIST_COUNT] = {
	[LIST_IPS] = { '2', "Top addresses", COLS(ip_cols), -1, build_ips,
	               "Enter drill down  B block  U unblock  / filter  s sort  Esc back  ? help" },
	[LIST_TENANTS] = { '3', "Tenants", COLS(tenant_cols), -1, build_tenants,
	                   "Enter drill down  / filter  s sort  Esc back  ? help" },
	[LIST_HEALTH] = { '4', "Health", COLS(health_cols), -1, build_health,
	                  "Enter drill down  / filter  s sort  Esc back  ? help" },
	[LIST_BLOCKED] = { '5', "Blocked addresses", COLS(blocked_cols), 0, build_blocked,
	                   "U unblock  X extend  Enter drill down  / filter  Esc back  ? help" },
	[LIST_TAIL] = { '6', "Recent failures", COLS(tail_cols), -1, build_tail,
	                "Enter drill down  B block  / filter  s sort  Esc back  ? help" },
	[LIST_KEYS] = { '7', "API keys", COLS(key_cols), -1, build_keys,
	                "K revoke (type its prefix)  r reload  / filter  s sort  Esc back  ? help" },
	[LIST_ACTIONS] = { '8', "Actions (journal)", COLS(action_cols), -1, build_actions,
	                   "newest first  / filter  s sort  Esc back  ? help" },
	[LIST_ROTATIONS] = { '9', "Secret rotations", COLS(rotation_cols), -1, build_rotations,
	                     "O request a rotation (type its name)  r reload  Esc back  ? help" },
	[LIST_RATELIMITS] = { '0', "Rate limits", COLS(rate_cols), -1, build_ratelimits,
	                      "Enter drill down  B block  / filter  s sort  Esc back  ? help" },
	[LIST_RANGES] = { 'P', "Ranges", COLS(range_cols), -1, build_ranges,
	                  "Enter its IPs  B block  U unblock  A by AS  / filter  s sort  Esc back  ? help" },
};
