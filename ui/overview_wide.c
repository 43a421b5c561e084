/* overview_wide.c: the overview's panels on a wide terminal: more columns,
 * not wider ones. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "geoip.h"
#include "grid.h"
#include "lists.h"
#include "model.h"
#include "overview_wide.h"
#include "snapshot_out.h"

/* ------------------------------------------------------------ top addresses */

enum { IP_ADDR, IP_FAIL, IP_REQ, IP_CTR, IP_BLOCKED, IP_USERS, IP_TENANTS, IP_SEEN, IP_SPARK,
       IP_CC, IP_AS, IP_LAST, IP_COLS };

struct ips_ctx {
	const struct view_ctx *v;
	size_t selected;
	int col[IP_COLS];            /* the grid's column of each, -1 when not shown */
};

/* The address's newest failure the tail holds: its path and user agent. */
static const struct event *last_failure(const struct model *m, const char *ip)
{
	for (size_t i = 0; i < m->n_recent; i++)
		if (m->recent[i].ip && strcmp(m->recent[i].ip, ip) == 0)
			return &m->recent[i];
	return NULL;
}

static enum role ip_row_role(const struct ips_ctx *x, size_t r)
{
	const struct model *m = x->v->m;
	const struct ip_stat *s = &m->top_ips[r];

	if (r == x->selected)
		return ROLE_SELECTION;
	if (snapshot_ip_alert(m, x->v->cfg, s) || model_ip_block_alert(m, s->ip))
		return ROLE_ALERT;
	return model_allowed(m, s->ip) ? ROLE_DIM : ROLE_NORMAL;
}

static void ip_redis_cell(const struct model *m, const struct ip_stat *s, int what, struct grid_cell *o)
{
	const struct ip_redis *r = model_ip_redis(m, s->ip);

	if (what == IP_CTR) {
		if (r && r->failed_auth >= 0)
			snprintf(o->text, sizeof o->text, "%ld", r->failed_auth);
	} else if (r && r->blocked) {
		format_ttl(o->text, sizeof o->text, r->block_ttl_s);
		o->role = ROLE_WARN;
	} else if (!r && m->redis.error[0]) {
		snprintf(o->text, sizeof o->text, "?");   /* not read: unknown, not "not blocked" */
	} else if (r && r->wrong_type) {
		snprintf(o->text, sizeof o->text, "type?");
		o->role = ROLE_WARN;
	}
}

static void ip_geo_cell(const struct model *m, const char *ip, int what, struct grid_cell *o)
{
	struct geo_info gi;

	geoip_lookup(m->geo, ip, &gi);
	if (what == IP_CC)
		snprintf(o->text, sizeof o->text, "%s", gi.country[0] ? gi.country : "?");
	else
		geoip_network(&gi, o->text, sizeof o->text);
	if (what == IP_AS && !o->text[0])
		snprintf(o->text, sizeof o->text, "?");      /* in no database's network */
}

static void ip_cell(const struct grid *g, size_t r, int c, struct grid_cell *o)
{
	const struct ips_ctx *x = g->ctx;
	const struct model *m = x->v->m;
	const struct ip_stat *s = &m->top_ips[r];
	int what = IP_COLS;

	if (c < 0) {
		o->role = ip_row_role(x, r);
		return;
	}
	for (int i = 0; i < IP_COLS; i++)
		what = x->col[i] == c ? i : what;
	switch (what) {
	case IP_ADDR:
		snprintf(o->text, sizeof o->text, "%s%s", s->ip, model_allowed(m, s->ip) ? " ALLOWED" : "");
		break;
	case IP_FAIL: format_figure(o->text, sizeof o->text, s->failures, s->approx, APPROX_FAILURES); break;
	case IP_REQ: format_figure(o->text, sizeof o->text, s->requests, s->approx, APPROX_REQUESTS); break;
	case IP_USERS: format_figure(o->text, sizeof o->text, s->users, s->approx, APPROX_USERS); break;
	case IP_TENANTS: format_figure(o->text, sizeof o->text, s->tenants, s->approx, APPROX_TENANTS); break;
	case IP_CTR: case IP_BLOCKED: ip_redis_cell(m, s, what, o); break;
	case IP_SEEN: {
		long ago = (long)(x->v->now_ms / 1000 - s->last_s);
		if (s->last_s)
			format_ttl(o->text, sizeof o->text, ago < 0 ? 0 : ago);   /* its clock may run ahead */
		break;
	}
	case IP_SPARK: o->spark = s->spark; break;
	case IP_CC: case IP_AS: ip_geo_cell(m, s->ip, what, o); break;
	case IP_LAST: {
		const struct event *e = last_failure(m, s->ip);
		if (e)
			snprintf(o->text, sizeof o->text, "%s %s  %s", e->method ? e->method : "",
			         e->path ? e->path : "-", e->user_agent ? e->user_agent : "");
		break;
	}
	default: break;
	}
}

void wide_top_ips(const struct view_ctx *v, int y, int x, int h, int w, size_t selected, const char *title)
{
	struct ips_ctx cx = { .v = v, .selected = selected };
	struct grid g = { .d = v->d, .rows = v->m->n_top_ips, .ctx = &cx, .cell = ip_cell };

	for (int i = 0; i < IP_COLS; i++)
		cx.col[i] = -1;
	cx.col[IP_ADDR] = grid_add(&g, "address", CELL_TEXT, true, false, 0);
	cx.col[IP_FAIL] = grid_add(&g, "fail", CELL_NUM, false, false, 0);
	cx.col[IP_REQ] = grid_add(&g, "req", CELL_NUM, false, false, 0);
	cx.col[IP_CTR] = grid_add(&g, "ctr", CELL_NUM, false, false, 0);
	cx.col[IP_BLOCKED] = grid_add(&g, "blocked", CELL_NUM, false, false, 0);
	cx.col[IP_USERS] = grid_add(&g, "users", CELL_NUM, false, false, 0);
	cx.col[IP_TENANTS] = grid_add(&g, "tenants", CELL_NUM, false, false, 0);
	cx.col[IP_SEEN] = grid_add(&g, "seen", CELL_NUM, false, false, 0);
	cx.col[IP_SPARK] = grid_add(&g, "failures", CELL_SPARK, false, false, 0);
	if (v->m->geo) {
		cx.col[IP_CC] = grid_add(&g, "cc", CELL_TEXT, false, false, 0);
		cx.col[IP_AS] = grid_add(&g, "network", CELL_TEXT, false, false, 0);
		g.col[cx.col[IP_AS]].cap = 36;
	}
	cx.col[IP_LAST] = grid_add(&g, "last failure", CELL_TEXT, false, true, 20);
	draw_box(v->d, y, x, h, w, title, ROLE_TITLE);
	grid_draw(&g, y + 1, x, h - 1, w);
}

/* ------------------------------------------------------------ tenants */

enum { T_NAME, T_REQ, T_FAIL, T_UNAUTH, T_CROSS, T_IPS, T_USERS, T_COLS };

static void tenant_cell(const struct grid *g, size_t r, int c, struct grid_cell *o)
{
	const struct view_ctx *v = g->ctx;
	const struct tenant_stat *t = &v->m->tenants[r];
	static const unsigned flags[T_COLS] = { 0, APPROX_REQUESTS, APPROX_REQUESTS, APPROX_REQUESTS,
	                                        APPROX_REQUESTS, APPROX_IPS, APPROX_USERS };
	long figures[T_COLS] = { 0, t->requests, t->failures, t->unauthorized, t->cross_tenant, t->ips, t->users };

	if (c < 0)
		return;
	if (c == T_NAME) {
		snprintf(o->text, sizeof o->text, "%s", t->tenant_id ? t->tenant_id : "(none)");
		o->role = t->tenant_id ? ROLE_NORMAL : ROLE_DIM;
		return;
	}
	format_figure(o->text, sizeof o->text, figures[c], t->approx, flags[c]);
	if ((c == T_FAIL || c == T_UNAUTH || c == T_CROSS) && figures[c])
		o->role = ROLE_WARN;
}

static void tenant_grid(const struct view_ctx *v, struct grid *g)
{
	*g = (struct grid){ .d = v->d, .rows = v->m->n_tenants, .ctx = v, .cell = tenant_cell };
	g->col[grid_add(g, "tenant", CELL_TEXT, true, false, 0)].cap = 32;
	grid_add(g, "req", CELL_NUM, false, false, 0);
	grid_add(g, "fail", CELL_NUM, false, false, 0);
	grid_add(g, "unauth", CELL_NUM, false, false, 0);
	grid_add(g, "cross", CELL_NUM, false, false, 0);
	grid_add(g, "ips", CELL_NUM, false, false, 0);
	grid_add(g, "users", CELL_NUM, false, false, 0);
}

int wide_tenants_width(const struct view_ctx *v, int h)
{
	struct grid g;

	tenant_grid(v, &g);
	return grid_natural_width(&g, h - 1);
}

void wide_tenants(const struct view_ctx *v, int y, int x, int h, int w, const char *title)
{
	struct grid g;

	tenant_grid(v, &g);
	draw_box(v->d, y, x, h, w, title, ROLE_TITLE);
	grid_draw(&g, y + 1, x, h - 1, w);
}

/* ------------------------------------------------------------ rate limits */

struct rate_ctx {
	const struct view_ctx *v;
	const struct rate_entry *e;
};

static void rate_cell(const struct grid *g, size_t r, int c, struct grid_cell *o)
{
	const struct rate_ctx *x = g->ctx;
	const struct rate_entry *e = &x->e[r];
	int limit = x->v->cfg->ratelimit_limit;
	long pct = limit ? e->count * 100 / limit : 0;

	switch (c) {
	case -1: o->role = pct >= 100 ? ROLE_ALERT : pct >= 80 ? ROLE_WARN : ROLE_NORMAL; break;
	case 0: snprintf(o->text, sizeof o->text, "%s", e->ip); break;
	case 1: snprintf(o->text, sizeof o->text, "%ld", e->count); break;
	case 2: snprintf(o->text, sizeof o->text, "%ld%%", pct); break;
	case 3:
		if (e->ttl_s >= -1)
			format_ttl(o->text, sizeof o->text, e->ttl_s);
		break;
	default: break;
	}
}

void wide_ratelimits(const struct view_ctx *v, int y, int x, int h, int w)
{
	size_t n;
	struct rate_entry *e = model_rate_limited(v->m, &n);
	struct rate_ctx cx = { .v = v, .e = e };
	struct grid g = { .d = v->d, .rows = e ? n : 0, .ctx = &cx, .cell = rate_cell };
	char title[80];

	snprintf(title, sizeof title, " Rate limits (%d in %ds)%s ", v->cfg->ratelimit_limit,
	         v->cfg->ratelimit_window_s, v->m->at_s ? " now" : "");
	draw_box(v->d, y, x, h, w, title, ROLE_TITLE);
	grid_add(&g, "address", CELL_TEXT, true, false, 0);
	grid_add(&g, "count", CELL_NUM, false, false, 0);
	grid_add(&g, "of limit", CELL_NUM, false, false, 0);
	grid_add(&g, "resets in", CELL_NUM, false, false, 0);
	if (g.rows)
		grid_draw(&g, y + 1, x, h - 1, w);
	else if (h > 1)
		draw_text(v->d, y + 1, x + 1, w - 2, v->m->walk_complete ? "no address is counted" : "reading the counters",
		          ROLE_DIM);
	free(e);
}

/* ------------------------------------------------------------ recent failures */

enum { F_TIME, F_ADDR, F_TENANT, F_USER, F_STATUS, F_PATH, F_AGENT };

static void tail_cell(const struct grid *g, size_t r, int c, struct grid_cell *o)
{
	const struct view_ctx *v = g->ctx;
	const struct event *e = &v->m->recent[r];
	time_t t = (time_t)(e->ts_us / 1000000);
	struct tm tm;

	switch (c) {
	case F_TIME:
		strftime(o->text, sizeof o->text, "%H:%M:%S", localtime_r(&t, &tm));
		o->role = ROLE_DIM;
		break;
	case F_ADDR: snprintf(o->text, sizeof o->text, "%s", e->ip ? e->ip : "-"); break;
	case F_TENANT: snprintf(o->text, sizeof o->text, "%s", e->tenant_id ? e->tenant_id : "-"); break;
	case F_USER: snprintf(o->text, sizeof o->text, "%s", e->user_id ? e->user_id : "-"); break;
	case F_STATUS:
		snprintf(o->text, sizeof o->text, "%d", e->status_code);
		o->role = ROLE_WARN;
		break;
	case F_PATH: snprintf(o->text, sizeof o->text, "%s", e->path ? e->path : "-"); break;
	case F_AGENT:
		snprintf(o->text, sizeof o->text, "%s", e->user_agent ? e->user_agent : "");
		o->role = ROLE_DIM;
		break;
	default: break;
	}
}

/* The tail on a wide terminal: the path as wide as the longest (at most a
 * third of the line), the user agent the rest. */
void wide_tail(const struct view_ctx *v, int y, int h, int cols)
{
	struct grid g = { .d = v->d, .rows = v->m->n_recent, .ctx = v, .cell = tail_cell };

	draw_box(v->d, y, 0, h, cols, " Recent failures ", ROLE_TITLE);
	grid_add(&g, "time", CELL_TEXT, true, false, 0);
	grid_add(&g, "address", CELL_TEXT, true, false, 0);
	g.col[grid_add(&g, "tenant", CELL_TEXT, false, false, 0)].cap = 24;
	g.col[grid_add(&g, "user", CELL_TEXT, false, false, 0)].cap = 24;
	grid_add(&g, "st", CELL_NUM, false, false, 0);
	g.col[grid_add(&g, "path", CELL_TEXT, false, false, 0)].cap = cols / 3;
	grid_add(&g, "user agent", CELL_TEXT, false, true, 10);
	grid_draw(&g, y + 1, 0, h - 1, cols);
}
