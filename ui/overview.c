/* overview.c: the default screen, fitting 80x24 and using more room when
 * there is more. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "conf.h"
#include "lists.h"
#include "model.h"
#include "overview_wide.h"
#include "snapshot_out.h"
#include "view.h"
#include "when.h"

static enum role state_role(enum source_state s)
{
	switch (s) {
	case SOURCE_OK: return ROLE_OK;
	case SOURCE_STALE: return ROLE_STALE;
	case SOURCE_DOWN: return ROLE_ALERT;
	default: return ROLE_WARN;
	}
}

static enum role health_role(enum health_state s)
{
	switch (s) {
	case HEALTH_HEALTHY: return ROLE_OK;
	case HEALTH_DEGRADED: return ROLE_WARN;
	case HEALTH_DOWN: return ROLE_ALERT;
	default: return ROLE_DIM;
	}
}

/* "pg ok", "redis stale 42s", "pg down": stale for long turns to alert. */
static int header_source(const struct view_ctx *v, int x, int cols, const char *name,
                         const struct source_status *s)
{
	int64_t stale_ms = (int64_t)v->m->refresh_ms * 3 + v->cfg->timeout_ms;
	enum source_state st = model_source_state(s, v->now_ms, stale_ms);
	int64_t age_s = s->last_ok_ms ? (v->now_ms - s->last_ok_ms) / 1000 : 0;
	enum role role = state_role(st);
	char buf[64];

	if (st == SOURCE_STALE && v->m->paused)
		st = SOURCE_OK, role = ROLE_DIM;         /* paused on purpose: old, not failing */
	if (st == SOURCE_STALE && s->last_ok_ms)
		snprintf(buf, sizeof buf, "%s %s %llds", name, source_state_name(st), (long long)age_s);
	else
		snprintf(buf, sizeof buf, "%s %s", name, source_state_name(st));
	if (st == SOURCE_STALE && age_s > v->cfg->stale_alert_s)
		role = ROLE_ALERT;
	return x + draw_text(v->d, 0, x, cols - x, buf, role) + 2;
}

/* The alerts notifications tell of too: one definition (alerts.h). */
size_t view_alerts(const struct view_ctx *v)
{
	return alerts_count(v->m, v->cfg, v->now_ms);
}

static const char *window_name(int s, char *buf, size_t n)
{
	if (s % 3600 == 0)
		snprintf(buf, n, "%dh", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, n, "%dm", s / 60);
	else
		snprintf(buf, n, "%ds", s);
	return buf;
}

void view_header(const struct view_ctx *v, int cols)
{
	const struct model *m = v->m;
	char clock[16];
	time_t t = (time_t)(v->now_ms / 1000);
	struct tm tm;

	draw_fill(v->d, 0, 0, cols, ROLE_HEADER);
	int x = draw_text(v->d, 0, 1, cols - 1, "sectop", ROLE_HEADER) + 3;
	x = header_source(v, x, cols, "pg", &m->pg);
	char role[32];
	model_pg_role_text(m, role, sizeof role, true);
	if (role[0])
		x += draw_text(v->d, 0, x, cols - x, role,
		               m->pg_replay_lag_s > v->cfg->tail_overlap_s ? ROLE_WARN : ROLE_HEADER) + 2;
	/* a look back: Redis and health have no history, and say so */
	x = header_source(v, x, cols, m->at_s ? "redis now" : "redis", &m->redis);
	size_t up = 0, down = 0;
	for (size_t i = 0; i < m->n_health; i++) {
		up += m->health[i].state == HEALTH_HEALTHY;
		down += m->health[i].state == HEALTH_DOWN;
	}
	if (m->n_health)
		x += draw_fmt(v->d, 0, x, cols - x, down ? ROLE_ALERT : up == m->n_health ? ROLE_OK : ROLE_WARN,
		              "health %s%zu/%zu", m->at_s ? "now " : "", up, m->n_health) + 2;
	char win[16], period[48];
	if (m->at_s) {
		when_period(period, sizeof period, (time_t)(m->at_s - m->window_s), (time_t)m->at_s, t, v->d->ascii);
		x += draw_fmt(v->d, 0, x, cols - x, ROLE_BADGE, "AT %s", period) + 2;
	} else {
		x += draw_fmt(v->d, 0, x, cols - x, ROLE_HEADER, "win %s", window_name(m->window_s, win, sizeof win)) + 2;
	}
	int tw = cols - x - 10 < 20 ? cols - x - 10 : 20;
	x += draw_text(v->d, 0, x, tw, m->tenant ? m->tenant : "all tenants", ROLE_HEADER) + 2;
	if (v->cfg->drill)
		x += draw_text(v->d, 0, x, cols - x, "DRILL", ROLE_BADGE) + 1;
	if (v->cfg->read_only)
		x += draw_text(v->d, 0, x, cols - x, "READ-ONLY", ROLE_BADGE) + 1;
	if (v->cfg->dry_run)
		x += draw_text(v->d, 0, x, cols - x, "DRY-RUN", ROLE_BADGE) + 1;
	if (m->paused)
		x += draw_text(v->d, 0, x, cols - x, "PAUSED", ROLE_BADGE) + 1;
	size_t alerts = view_alerts(v);
	if (alerts && cols - x > 18)
		x += draw_fmt(v->d, 0, x, cols - x - 9, ROLE_ALERT, "ALERTS %zu", alerts) + 1;
	strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&t, &tm));
	if (cols - x > 9)
		draw_text(v->d, 0, cols - 9, 8, clock, ROLE_HEADER);
}

void view_title(const struct view_ctx *v, int y, int cols, const char *title, const char *right)
{
	draw_box(v->d, y, 0, 2, cols, title, ROLE_TITLE);
	if (right) {
		int w = (int)strlen(right);
		if (w < cols - (int)strlen(title) - 4)
			draw_text(v->d, y, cols - w - 1, w, right, ROLE_LABEL);
	}
}

static void draw_rate(const struct view_ctx *v, int y, int cols)
{
	const struct model *m = v->m;
	long total = 0;

	for (int i = 0; i < MODEL_MINUTES; i++)
		total += m->fpm[i];
	int x = draw_text(v->d, y, 1, cols, "failures/min", ROLE_LABEL) + 2;
	int w = cols - x - 24;
	if (w > MODEL_MINUTES)
		w = MODEL_MINUTES;
	if (w > 4)
		draw_spark(v->d, y, x, w, m->fpm, MODEL_MINUTES);
	x += w > 4 ? w + 1 : 0;
	long now = m->fpm[MODEL_MINUTES - 1], last = m->fpm[MODEL_MINUTES - 2];
	bool hot = last > v->cfg->alert_failures || now > v->cfg->alert_failures;
	draw_fmt(v->d, y, x, cols - x, hot ? ROLE_WARN : ROLE_NORMAL, "%ld/min, %ld in 60m", last > now ? last : now, total);
}

/* While the window is being read, its panels say how far it has got. */
static const char *reading_title(const struct model *m, const char *name, char *buf, size_t n)
{
	if (m->pg_reading_pct < 0)
		return name;
	snprintf(buf, n, "%sreading the window %d%% ", name, m->pg_reading_pct);
	return buf;
}

static void draw_top_ips(const struct view_ctx *v, int y, int x, int h, int w, size_t selected)
{
	const struct model *m = v->m;
	char title[64];
	bool full = w - 31 >= 16;                /* room for the Redis columns */
	int ipw = full ? w - 31 : w - 16;

	draw_box(v->d, y, x, h, w, reading_title(m, " Top addresses ", title, sizeof title), ROLE_TITLE);
	if (ipw < 8)
		return;
	draw_fmt(v->d, y + 1, x, w, ROLE_LABEL, " %-*s %6s %7s %5s %8s", ipw - 1, "address", "fail",
	         "req", full ? "ctr" : "", full ? "blocked" : "");
	for (int i = 0; i < h - 2 && (size_t)i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		const struct ip_redis *r = model_ip_redis(m, s->ip);
		bool alert = snapshot_ip_alert(m, v->cfg, s) || model_ip_block_alert(m, s->ip);
		bool allowed = model_allowed(m, s->ip) != NULL;
		enum role role = (size_t)i == selected ? ROLE_SELECTION : alert ? ROLE_ALERT :
		                 allowed ? ROLE_DIM : ROLE_NORMAL;
		int row = y + 2 + i;
		draw_fill(v->d, row, x, w, role);
		int used = draw_text(v->d, row, x + 1, ipw - 1, s->ip, role);
		/* allow-listed: said in words where there is room, else marked */
		if (allowed && used + 2 < ipw - 1)
			draw_text(v->d, row, x + 2 + used, ipw - 2 - used, used + 8 < ipw - 1 ? "ALLOWED" : "*", role);
		draw_figure(v->d, row, x + ipw + 1, 6, s->failures, s->approx, APPROX_FAILURES, role);
		draw_figure(v->d, row, x + ipw + 8, 7, s->requests, s->approx, APPROX_REQUESTS, role);
		if (!full)
			continue;
		if (r && r->failed_auth >= 0)
			draw_num(v->d, row, x + ipw + 16, 5, r->failed_auth, role);
		if (r && r->blocked) {
			char ttl[16];
			format_ttl(ttl, sizeof ttl, r->block_ttl_s);
			draw_fmt(v->d, row, x + ipw + 22, 9, role == ROLE_NORMAL ? ROLE_WARN : role, " %8s", ttl);
		} else if (!r && m->redis.error[0]) {
			/* not read (a cluster's shard down): unknown, not "not blocked" */
			draw_fmt(v->d, row, x + ipw + 22, 9, role, " %8s", "?");
		}
		else if (r && r->wrong_type)
			draw_text(v->d, row, x + ipw + 22, 9, " type?", ROLE_WARN);
	}
}

static void draw_tenants(const struct view_ctx *v, int y, int x, int h, int w)
{
	const struct model *m = v->m;
	char title[64];
	int namew = w - 16;

	draw_box(v->d, y, x, h, w, reading_title(m, " Tenants ", title, sizeof title), ROLE_TITLE);
	if (namew < 4)
		return;
	draw_fmt(v->d, y + 1, x, w, ROLE_LABEL, " %-*s %7s %6s", namew - 1, "tenant", "req", "fail");
	for (int i = 0; i < h - 2 && (size_t)i < m->n_tenants; i++) {
		const struct tenant_stat *t = &m->tenants[i];
		int row = y + 2 + i;
		draw_text(v->d, row, x + 1, namew - 1, t->tenant_id ? t->tenant_id : "(none)",
		          t->tenant_id ? ROLE_NORMAL : ROLE_DIM);
		draw_figure(v->d, row, x + namew + 1, 7, t->requests, t->approx, APPROX_REQUESTS, ROLE_NORMAL);
		draw_figure(v->d, row, x + namew + 9, 6, t->failures, t->approx, APPROX_REQUESTS,
		            t->failures ? ROLE_WARN : ROLE_NORMAL);
	}
}

static void draw_health(const struct view_ctx *v, int y, int x, int h, int w)
{
	const struct model *m = v->m;

	draw_box(v->d, y, x, h, w, v->m->at_s ? " Health now " : " Health ", ROLE_TITLE);
	for (int i = 0; i < h - 1 && (size_t)i < m->n_health; i++) {
		const struct health_result *r = &m->health[i];
		int row = y + 1 + i;
		int c = x + 14;
		draw_text(v->d, row, x + 1, 12, r->name, ROLE_NORMAL);
		draw_text(v->d, row, c, 9, health_state_name(r->state), health_role(r->state));
		c += 10;
		if (r->checks && r->http_status)
			draw_fmt(v->d, row, c, x + w - c, ROLE_DIM, "%5.0fms", r->latency_ms);
		c += 8;
		if (r->reason)
			draw_text(v->d, row, c, x + w - c, r->reason, ROLE_DIM);
		else if (r->n_findings)
			draw_text(v->d, row, c, x + w - c, r->findings[0], ROLE_WARN);
	}
}

/* Byte order of the keys, all their bytes. */
static int key_order(const struct block_entry *a, const struct block_entry *b)
{
	size_t la = block_entry_len(a), lb = block_entry_len(b);
	int c = memcmp(a->key_ip, b->key_ip, la < lb ? la : lb);
	return c ? c : la < lb ? -1 : la > lb;
}

/* The first n blocks in key order, without sorting them all: the walk
 * publishes them in SCAN order, and there may be many. */
static size_t first_blocks(const struct model *m, const struct block_entry **out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_blocked; i++) {
		const struct block_entry *b = &m->blocked[i];
		size_t at = k;
		while (at > 0 && key_order(b, out[at - 1]) < 0)
			at--;
		if (at >= n)
			continue;
		if (k < n)
			k++;
		memmove(out + at + 1, out + at, (k - 1 - at) * sizeof *out);
		out[at] = b;
	}
	return k;
}

static void draw_blocked(const struct view_ctx *v, int y, int x, int h, int w)
{
	const struct model *m = v->m;
	const struct block_entry *shown[64];
	char title[80], count[64];

	model_blocked_text(m, count, sizeof count, false);
	/* a look back: Redis has no history, its panel is of now */
	snprintf(title, sizeof title, " Blocked (%s)%s ", count, m->at_s ? " now" : "");
	if ((int)strlen(title) > w - 2) {     /* 80 columns: the panel is narrow */
		model_blocked_text(m, count, sizeof count, true);
		snprintf(title, sizeof title, " Blocked (%s)%s ", count, m->at_s ? " now" : "");
	}
	draw_box(v->d, y, x, h, w, title, ROLE_TITLE);
	size_t n = first_blocks(m, shown, h - 1 < 64 ? (size_t)(h - 1) : 64);
	for (size_t i = 0; i < n; i++) {
		const struct block_entry *b = shown[i];
		int row = y + 1 + (int)i;
		int ipw = w - 10;
		char ttl[16];
		format_ttl(ttl, sizeof ttl, b->ttl_s);
		char *name = block_entry_name(b);
		draw_text(v->d, row, x + 1, ipw - 1, name ? name : "", ROLE_NORMAL);
		free(name);
		draw_fmt(v->d, row, x + ipw, 9, ROLE_DIM, "%9s", ttl);
	}
}

static void draw_tail(const struct view_ctx *v, int y, int h, int cols)
{
	const struct model *m = v->m;
	int ipw = cols >= 110 ? 39 : cols >= 95 ? 24 : 16;
	int tw = cols >= 110 ? 14 : 10, uw = cols >= 110 ? 16 : 12;

	draw_box(v->d, y, 0, h, cols, " Recent failures ", ROLE_TITLE);
	for (int i = 0; i < h - 1 && (size_t)i < m->n_recent; i++) {
		const struct event *e = &m->recent[i];
		char when[16];
		time_t t = (time_t)(e->ts_us / 1000000);
		struct tm tm;
		int row = y + 1 + i, x = 1;
		strftime(when, sizeof when, "%H:%M:%S", localtime_r(&t, &tm));
		draw_text(v->d, row, x, 8, when, ROLE_DIM);
		x += 9;
		draw_text(v->d, row, x, ipw, e->ip ? e->ip : "-", ROLE_NORMAL);
		x += ipw + 1;
		draw_text(v->d, row, x, tw, e->tenant_id ? e->tenant_id : "-", ROLE_NORMAL);
		x += tw + 1;
		draw_text(v->d, row, x, uw, e->user_id ? e->user_id : "-", ROLE_NORMAL);
		x += uw + 1;
		draw_fmt(v->d, row, x, 4, ROLE_WARN, "%3d", e->status_code);
		x += 4;
		int pw = (cols - x) / 2;
		draw_text(v->d, row, x, pw - 1, e->path ? e->path : "-", ROLE_NORMAL);
		x += pw;
		draw_text(v->d, row, x, cols - x - 1, e->user_agent ? e->user_agent : "", ROLE_DIM);
	}
}

/* Why a source is failing, for the footer: the header has room only for
 * its state. */
static bool source_errors(const struct model *m, char *buf, size_t n)
{
	const char *pg = m->pg.state != SOURCE_OK ? m->pg.error : "";
	const char *rd = m->redis.state != SOURCE_OK ? m->redis.error : "";

	if (!*pg && !*rd)
		return false;
	snprintf(buf, n, "%s%s%s%s%s", *pg ? "pg: " : "", pg, *pg && *rd ? "  " : "",
	         *rd ? "redis: " : "", rd);
	return true;
}

void view_footer(const struct view_ctx *v, int rows, int cols, const char *hint)
{
	char errors[600];

	draw_fill(v->d, rows - 1, 0, cols, ROLE_NORMAL);
	if (v->message)
		draw_text(v->d, rows - 1, 0, cols - 1, v->message,
		          v->message_is_prompt ? ROLE_NORMAL : ROLE_WARN);
	else if (source_errors(v->m, errors, sizeof errors))
		draw_text(v->d, rows - 1, 0, cols - 1, errors, ROLE_ALERT);
	else
		draw_text(v->d, rows - 1, 0, cols - 1, hint, ROLE_DIM);
}

void view_overview(const struct view_ctx *v, int rows, int cols, size_t selected)
{
	int body = rows - 3;                     /* header, rate, footer */
	int top_h = body * 9 / 20, mid_h = body * 5 / 20;
	int tail_h = body - top_h - mid_h;
	/* under 72 columns the right-hand panes go: their lists are a key away */
	bool narrow = cols < 72;
	/* from OVERVIEW_WIDE columns: more columns, and the rate limits */
	bool wide = cols >= OVERVIEW_WIDE;
	int left_w = narrow ? cols : cols * 62 / 100;
	char title[64];

	view_header(v, cols);
	draw_rate(v, 1, cols);
	if (wide) {
		/* the tenants as wide as their columns (within bounds), the top addresses the rest */
		int tw = wide_tenants_width(v, top_h);
		tw = tw < 48 ? 48 : tw > cols * 38 / 100 ? cols * 38 / 100 : tw;
		left_w = cols - tw - 1;
		int health_w = left_w / 2;
		wide_top_ips(v, 2, 0, top_h, left_w, selected,
		             reading_title(v->m, " Top addresses ", title, sizeof title));
		draw_health(v, 2 + top_h, 0, mid_h, health_w);
		wide_ratelimits(v, 2 + top_h, health_w + 1, mid_h, left_w - health_w - 1);
		wide_tenants(v, 2, left_w + 1, top_h, cols - left_w - 1,
		             reading_title(v->m, " Tenants ", title, sizeof title));
		draw_blocked(v, 2 + top_h, left_w + 1, mid_h, cols - left_w - 1);
		wide_tail(v, 2 + top_h + mid_h, tail_h, cols);
	} else {
		draw_top_ips(v, 2, 0, top_h, left_w, selected);
		draw_health(v, 2 + top_h, 0, mid_h, left_w);
		if (!narrow) {
			draw_tenants(v, 2, left_w + 1, top_h, cols - left_w - 1);
			draw_blocked(v, 2 + top_h, left_w + 1, mid_h, cols - left_w - 1);
		}
		draw_tail(v, 2 + top_h + mid_h, tail_h, cols);
	}
	view_footer(v, rows, cols, "q quit  ? help  2-9 views  Enter drill down  R runbook  w window  t tenant");
}

void view_too_small(const struct view_ctx *v, int rows, int cols)
{
	char msg[64];

	snprintf(msg, sizeof msg, "terminal too small: %dx%d, need %dx%d", cols, rows,
	         VIEW_MIN_COLS, VIEW_MIN_ROWS);
	draw_text(v->d, rows / 2, 0, cols, msg, ROLE_WARN);
	if (rows > 2)
		draw_text(v->d, rows / 2 + 1, 0, cols, "q quits", ROLE_DIM);
}
