/* detail.c: the drill-down screens and the help, as lines of text.  Every
 * outside value is fitted to its column through sanitize before it is
 * composed into a line, so columns line up whatever the value holds. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "allowlist.h"
#include "conf.h"
#include "geoip.h"
#include "detail.h"
#include "keys.h"
#include "lists.h"
#include "model.h"
#include "sanitize.h"
#include "snapshot_out.h"

/* An outside value made safe, cut to at most cols columns, not padded. */
static const char *safe(char *buf, size_t n, const char *s, int cols)
{
	sanitize_fit(s ? s : "-", s ? strlen(s) : 1, cols, 0, buf, n);
	return buf;
}

/* An outside value made safe and padded to exactly cols columns. */
static const char *fit(char *buf, size_t n, const char *s, int cols)
{
	int used = sanitize_fit(s ? s : "-", s ? strlen(s) : 1, cols, 0, buf, n);
	size_t len = strlen(buf);
	while (used < cols && len + 1 < n) {
		buf[len++] = ' ';
		used++;
	}
	buf[len] = '\0';
	return buf;
}

static void line(struct rows *r, enum role role, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void line(struct rows *r, enum role role, const char *fmt, ...)
{
	char buf[1024], key[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(key, sizeof key, "%zu", r->n);
	struct row *w = rows_add(r, key);
	if (!w)
		return;
	row_text(w, 0, buf);
	w->role = role;
}

static void clock_text(char *buf, size_t n, int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (unix_s <= 0 || !strftime(buf, n, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm)))
		snprintf(buf, n, "-");
}

static void events_lines(struct rows *r, const struct event *v, size_t n, bool show_ip)
{
	char a[128], b[128], c[128], d[256], e[128], f[128], when[32];

	for (size_t i = 0; i < n; i++) {
		const struct event *ev = &v[i];
		time_t t = (time_t)(ev->ts_us / 1000000);
		struct tm tm;
		strftime(when, sizeof when, "%H:%M:%S", localtime_r(&t, &tm));
		line(r, ROLE_NORMAL, "  %s %s %s %s %s %3d %s %s", when,
		     fit(a, sizeof a, show_ip ? ev->ip : ev->tenant_id, show_ip ? 22 : 12),
		     fit(b, sizeof b, show_ip ? ev->tenant_id : ev->user_id, 12),
		     fit(c, sizeof c, show_ip ? ev->user_id : ev->action, show_ip ? 14 : 20),
		     fit(e, sizeof e, show_ip ? ev->action : ev->method, show_ip ? 18 : 6),
		     ev->status_code, fit(d, sizeof d, ev->path, 28), fit(f, sizeof f, ev->user_agent, 30));
	}
	if (n == 0)
		line(r, ROLE_DIM, "  none in the window");
}

static void groups_lines(struct rows *r, const char *title, const struct name_count *v, size_t n)
{
	char a[256];

	line(r, ROLE_TITLE, "%s (%zu%s)", title, n, n == 20 ? ", the first 20" : "");
	for (size_t i = 0; i < n; i++)
		line(r, v[i].failures ? ROLE_NORMAL : ROLE_DIM, "  %s %8ld events %8ld failures",
		     fit(a, sizeof a, v[i].name ? v[i].name : "(none)", 40), v[i].count, v[i].failures);
}

static bool detail_ready(const struct model *m, enum detail_kind kind, const char *key)
{
	const struct detail *d = &m->detail;
	return d->kind == kind && d->key && strcmp(d->key, key) == 0 && d->answered == d->asked;
}

/* A reading that failed (a statement timeout on a huge subject) says so. */
static void detail_error_line(struct rows *r, const struct detail *d)
{
	char a[200];

	if (d->error[0])
		line(r, ROLE_WARN, "part of this could not be read: %s", safe(a, sizeof a, d->error, 90));
}

static void ip_redis_lines(struct rows *r, const struct model *m, const struct config *cfg, const char *ip)
{
	const struct ip_redis *rd = model_ip_redis(m, ip);
	char a[128], b[256], ttl[32];

	if (!rd) {
		line(r, ROLE_DIM, "%s", m->redis.error[0] ? "Redis: unknown (not read: see the Redis error)"
		                                        : "Redis: not fetched yet");
		return;
	}
	char fa[24], rl[24];
	snprintf(fa, sizeof fa, rd->failed_auth < 0 ? "none" : "%ld", rd->failed_auth);
	snprintf(rl, sizeof rl, rd->ratelimit < 0 ? "none" : "%ld", rd->ratelimit);
	line(r, rd->failed_auth > cfg->alert_failures ? ROLE_ALERT : ROLE_NORMAL,
	     "Redis: failed_auth counter %s (the servers block above %d in %ds), ratelimit counter %s",
	     fa, cfg->alert_failures, cfg->alert_window_s, rl);
	if (rd->blocked) {
		format_ttl(ttl, sizeof ttl, rd->block_ttl_s);
		line(r, ROLE_WARN, "Blocked: yes, %s left, by %s%s%s", ttl,
		     safe(a, sizeof a, block_has_by(rd->block_kind) ? rd->block_by : "the servers (automatic)", 40),
		     rd->block_reason ? ": " : "", rd->block_reason ? safe(b, sizeof b, rd->block_reason, 80) : "");
	} else {
		line(r, ROLE_NORMAL, "Blocked: no");
	}
	if (rd->wrong_type)
		line(r, ROLE_WARN, "One of its Redis keys holds the wrong type");
}

/* Where it sits: "no database" and "not in the database" said apart. */
static void geo_line(struct rows *r, const struct model *m, const char *ip)
{
	struct geo_info gi;
	char where[200];

	geoip_lookup(m->geo, ip, &gi);
	if (gi.state == GEO_NO_DB) {
		line(r, ROLE_DIM, "network: no GeoIP database (geoip-db)");
		return;
	}
	geoip_describe(&gi, where, sizeof where);
	line(r, gi.state == GEO_FOUND ? ROLE_NORMAL : ROLE_DIM, "network: %s", where);
}

static void ip_detail(struct rows *r, const char *ip, const struct model *m, const struct config *cfg)
{
	const struct detail *d = &m->detail;
	char a[128];
	long failures = 0, requests = 0;

	line(r, ROLE_TITLE, "Address %s", safe(a, sizeof a, ip, 45));
	for (size_t i = 0; i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, ip) == 0) {
			failures = m->top_ips[i].failures;
			requests = m->top_ips[i].requests;
			bool alert = snapshot_ip_alert(m, cfg, &m->top_ips[i]);
			char f[32], q[32];
			format_figure(f, sizeof f, failures, m->top_ips[i].approx, APPROX_FAILURES);
			format_figure(q, sizeof q, requests, m->top_ips[i].approx, APPROX_REQUESTS);
			line(r, alert ? ROLE_ALERT : ROLE_NORMAL, "%s failures of %s requests in the window%s",
			     f, q, alert ? "  ALERT: over the brute-force threshold" : "");
		}
	ip_redis_lines(r, m, cfg, ip);
	const struct allow_entry *allowed = model_allowed(m, ip);
	if (allowed) {
		char entry[300];
		allow_entry_describe(allowed, entry, sizeof entry);
		line(r, ROLE_WARN, "ALLOW-LISTED by %s: never blocked without --bypass-allow", entry);
	}
	geo_line(r, m, ip);
	line(r, ROLE_NORMAL, "%s", "");
	if (!detail_ready(m, DETAIL_IP, ip)) {
		line(r, ROLE_DIM, "loading its events...");
		return;
	}
	detail_error_line(r, d);
	groups_lines(r, "Tenants touched", d->groups[DETAIL_TENANTS], d->n_groups[DETAIL_TENANTS]);
	groups_lines(r, "Users", d->groups[DETAIL_USERS], d->n_groups[DETAIL_USERS]);
	groups_lines(r, "User agents", d->groups[DETAIL_AGENTS], d->n_groups[DETAIL_AGENTS]);
	line(r, ROLE_TITLE, "Recent events (%zu)", d->n_events);
	events_lines(r, d->events, d->n_events, false);
}

static void tenant_detail(struct rows *r, const char *tenant, const struct model *m)
{
	const struct detail *d = &m->detail;
	char a[128];

	line(r, ROLE_TITLE, "Tenant %s", safe(a, sizeof a, tenant, 60));
	for (size_t i = 0; i < m->n_tenants; i++)
		if (m->tenants[i].tenant_id && strcmp(m->tenants[i].tenant_id, tenant) == 0) {
			const struct tenant_stat *t = &m->tenants[i];
			char c[4][32], ips[32], users[32];
			long counts[4] = { t->requests, t->failures, t->unauthorized, t->cross_tenant };
			for (int k = 0; k < 4; k++)
				format_figure(c[k], sizeof c[k], counts[k], t->approx, APPROX_REQUESTS);
			format_figure(ips, sizeof ips, t->ips, t->approx, APPROX_IPS);
			format_figure(users, sizeof users, t->users, t->approx, APPROX_USERS);
			line(r, ROLE_NORMAL, "%s requests, %s failures, %s unauthorized, %s cross-tenant,"
			     " %s addresses, %s users in the window", c[0], c[1], c[2], c[3], ips, users);
		}
	line(r, ROLE_NORMAL, "%s", "");
	if (!detail_ready(m, DETAIL_TENANT, tenant)) {
		line(r, ROLE_DIM, "loading...");
		return;
	}
	detail_error_line(r, d);
	line(r, ROLE_TITLE, "Top addresses (%zu)", d->n_ips);
	for (size_t i = 0; i < d->n_ips; i++)
		line(r, ROLE_NORMAL, "  %s %8ld failures %8ld requests %5ld users",
		     fit(a, sizeof a, d->ips[i].ip, 40), d->ips[i].failures, d->ips[i].requests, d->ips[i].users);
	groups_lines(r, "Users by failures", d->groups[DETAIL_USERS], d->n_groups[DETAIL_USERS]);
	line(r, ROLE_TITLE, "Recent failures (%zu)", d->n_events);
	events_lines(r, d->events, d->n_events, true);
}

static void header_line(struct rows *r, const char *name, const char *value)
{
	char a[600];
	line(r, value ? ROLE_NORMAL : ROLE_DIM, "  %-27s %s", name, value ? safe(a, sizeof a, value, 90) : "(absent)");
}

static void health_detail(struct rows *r, const char *name, const struct model *m,
                          const struct config *cfg, int64_t now_ms)
{
	char a[256], b[256], when[32];

	for (size_t i = 0; i < m->n_health; i++) {
		const struct health_result *h = &m->health[i];
		if (strcmp(h->name, name) != 0)
			continue;
		line(r, ROLE_TITLE, "Endpoint %s %s", safe(a, sizeof a, h->name, 16), safe(b, sizeof b, h->url, 100));
		clock_text(when, sizeof when, h->checked_at_ms / 1000);
		line(r, h->state == HEALTH_DOWN ? ROLE_ALERT : h->state == HEALTH_DEGRADED ? ROLE_WARN : ROLE_OK,
		     "%s, HTTP %ld, %.0f ms, checked %s (%u checks)", health_state_name(h->state),
		     h->http_status, h->latency_ms, when, h->checks);
		if (h->reason)
			line(r, ROLE_WARN, "Why: %s", safe(a, sizeof a, h->reason, 120));
		line(r, ROLE_TITLE, "Components (%zu)", h->n_components);
		for (size_t c = 0; c < h->n_components; c++) {
			const struct health_component *hc = &h->components[c];
			line(r, hc->state == HEALTH_HEALTHY ? ROLE_NORMAL : ROLE_WARN, "  %s %-9s %s",
			     fit(a, sizeof a, hc->name, 24), health_state_name(hc->state),
			     safe(b, sizeof b, hc->detail ? hc->detail : "", 60));
		}
		line(r, ROLE_TITLE, "Security headers");
		header_line(r, "Strict-Transport-Security", h->hsts);
		header_line(r, "X-Content-Type-Options", h->content_type_options);
		header_line(r, "X-Frame-Options", h->frame_options);
		header_line(r, "Content-Security-Policy", h->csp);
		header_line(r, "Access-Control-Allow-Origin", h->cors);
		header_line(r, "X-RateLimit-Limit", h->ratelimit_limit);
		header_line(r, "X-RateLimit-Remaining", h->ratelimit_remaining);
		if (h->cert_expires_at) {
			long days = (long)((h->cert_expires_at - now_ms / 1000) / 86400);
			clock_text(when, sizeof when, h->cert_expires_at);
			line(r, days < cfg->cert_warn_days ? ROLE_ALERT : ROLE_NORMAL,
			     "Certificate expires %s (%ld days)", when, days);
		} else {
			line(r, ROLE_DIM, "Certificate: none seen (not https, or no answer)");
		}
		line(r, ROLE_TITLE, "Findings (%zu)", h->n_findings);
		for (size_t f = 0; f < h->n_findings; f++)
			line(r, ROLE_WARN, "  - %s", safe(a, sizeof a, h->findings[f], 120));
		return;
	}
	line(r, ROLE_DIM, "no such endpoint");
}

void detail_build(struct rows *lines, enum detail_view what, const char *key,
                  const struct model *m, const struct config *cfg, int64_t now_ms)
{
	switch (what) {
	case DV_IP: ip_detail(lines, key, m, cfg); break;
	case DV_TENANT: tenant_detail(lines, key, m); break;
	case DV_HEALTH: health_detail(lines, key, m, cfg, now_ms); break;
	}
}

void help_build(struct rows *lines, unsigned where)
{
	char keys[64];

	line(lines, ROLE_TITLE, "Keys here");
	for (size_t i = 0; i < n_key_bindings; i++) {
		const struct key_binding *k = &key_bindings[i];
		if (!k->label || !(k->where & where))
			continue;
		snprintf(keys, sizeof keys, "%s", k->label);
		line(lines, ROLE_NORMAL, "  %-14s %s", keys, k->help);
	}
}

void lines_draw(const struct draw *d, struct table_state *st, const struct rows *lines,
                int y, int h, int w)
{
	if (st->top + (size_t)h > lines->n)
		st->top = lines->n > (size_t)h ? lines->n - (size_t)h : 0;
	for (int i = 0; i < h && st->top + (size_t)i < lines->n; i++) {
		const struct row *r = &lines->v[st->top + (size_t)i];
		draw_text(d, y + i, 1, w - 2, r->cells[0], r->role);
	}
}
