/* console_draw.c: one frame of the console: the overview, a list, a
 * drill-down or the help, the runbook pane beside, and over them the
 * action dialog with what the action will do. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "clock.h"
#include "conf.h"

static void draw_list(struct console *c, const struct view_ctx *v, int rows, int cols)
{
	const struct list_def *def = &list_defs[c->list];
	struct table_state *st = &c->lists[c->list];
	char title[160], right[200];
	size_t total = list_rows(c);
	if (c->list == LIST_BLOCKED) {
		/* the list holds the most relevant blocks; the count is of them all */
		char count[64];
		model_blocked_text(v->m, count, sizeof count, false);
		snprintf(title, sizeof title, " %c %s (%zu listed of %s) ", def->key, def->title,
		         total, count);
	} else if (c->list == LIST_RATELIMITS) {
		long events = 0;
		for (int i = 0; i < MODEL_MINUTES; i++)
			events += v->m->fpm_start + i * 60 >= v->m->rlpm_from ? v->m->rlpm[i] : 0;
		snprintf(title, sizeof title, " %c %s (%zu; limit %d in %ds; %ld rate-limited events in the window) ",
		         def->key, def->title, total, v->cfg->ratelimit_limit, v->cfg->ratelimit_window_s, events);
	} else {
		snprintf(title, sizeof title, " %c %s (%zu) ", def->key, def->title, total);
	}
	if (st->filter[0])
		snprintf(right, sizeof right, " filter \"%.60s\": %zu ", st->filter, c->rows.n);
	else
		right[0] = '\0';
	view_header(v, cols);
	view_title(v, 1, cols, title, right[0] ? right : NULL);
	c->visible = (size_t)(rows - 4);
	table_draw(v->d, st, &c->rows, def->cols, def->ncols, 2, 0, rows - 3, cols);
	view_footer(v, rows, cols, def->hint);
}

static void draw_lines(struct console *c, const struct view_ctx *v, int rows, int cols,
                       const char *title, const char *hint)
{
	view_header(v, cols);
	view_title(v, 1, cols, title, NULL);
	c->visible = (size_t)(rows - 3);
	lines_draw(v->d, &c->scroll, &c->rows, 2, rows - 3, cols);
	view_footer(v, rows, cols, hint);
}

/* What the action will do, from what the screen knows; the gate reads the
 * key again itself before acting. */
static void draw_revoke_dialog(struct console *c, const struct view_ctx *v, int y, int x, int w)
{
	char line[400];

	snprintf(line, sizeof line, "key %s of tenant %s", c->op.target, c->op_tenant);
	draw_text(v->d, y + 2, x + 2, w - 4, line, ROLE_SELECTION);
	snprintf(line, sizeof line, "name %s, prefix %s, last used %s%s", c->op_key_name, c->op_key_prefix,
	         c->op_key_last_used, strcmp(c->op_key_last_used, "never") ? " ago" : "");
	draw_text(v->d, y + 3, x + 2, w - 4, line, ROLE_SELECTION);
	snprintf(line, sizeof line, "will run: UPDATE %s SET revoked_at = now() ... (committed only if one row)",
	         v->cfg->schema.keys_table);
	draw_text(v->d, y + 5, x + 2, w - 4, line, ROLE_SELECTION);
	if (v->cfg->drill)
		draw_text(v->d, y + 6, x + 2, w - 4, "DRILL: rehearsed, the key is not revoked", ROLE_ALERT);
}

/* The address's own keys as last read, and how old that reading is: stale
 * when Redis has not answered lately (the gate reads them again anyway). */
static void draw_redis_state(const struct view_ctx *v, const struct ip_redis *rd, int y, int x, int w)
{
	const struct source_status *s = &v->m->redis;
	int64_t stale_ms = (int64_t)v->m->refresh_ms * 3 + v->cfg->timeout_ms;
	long age_s = s->last_ok_ms ? (long)((v->now_ms - s->last_ok_ms) / 1000) : -1;
	bool stale = model_source_state(s, v->now_ms, stale_ms) != SOURCE_OK;
	char ttl[32], line[300];

	if (!rd) {
		draw_text(v->d, y, x, w, "now: reading the address's keys from Redis...", ROLE_SELECTION);
		return;
	}
	format_ttl(ttl, sizeof ttl, rd->blocked ? rd->block_ttl_s : -2);
	snprintf(line, sizeof line, "now: %s%s%s, failed_auth counter %ld", rd->blocked ? "blocked, " : "not blocked",
	         rd->blocked ? ttl : "", rd->blocked ? " left" : "", rd->failed_auth > 0 ? rd->failed_auth : 0);
	draw_text(v->d, y, x, w, line, ROLE_SELECTION);
	if (stale) {
		snprintf(line, sizeof line, "STALE: Redis last answered %s%lds ago; the action reads it again",
		         age_s < 0 ? "never, " : "", age_s < 0 ? 0 : age_s);
		draw_text(v->d, y + 2, x, w, line, ROLE_ALERT);
	}
}

static void draw_action_dialog(struct console *c, const struct view_ctx *v, int rows, int cols)
{
	const struct model *m = v->m;
	const struct ip_redis *rd = model_ip_redis(m, c->op.target);
	int w = cols - 8 < 76 ? cols - 8 : 76, h = 10, y = (rows - h) / 2, x = (cols - w) / 2;
	char ttl[96], line[300];

	for (int i = 0; i < h; i++)
		draw_fill(v->d, y + i, x, w, ROLE_SELECTION);
	snprintf(line, sizeof line, " %s %s%s ", op_action_name(c->op.kind), c->op.target,
	         v->cfg->dry_run ? "  (DRY RUN: nothing is changed)" : "");
	draw_text(v->d, y, x + 1, w - 2, line, ROLE_BADGE);
	if (c->op.kind == OP_REVOKE) {
		draw_revoke_dialog(c, v, y, x, w);
		goto ask;
	}
	if (c->op.kind == OP_ROTATE) {
		const struct conf_secret *sec = conf_secret_find(v->cfg, c->op_secret);
		snprintf(line, sizeof line, "POST to the webhook of %s (%s), with an idempotency key;", c->op_secret,
		         sec && sec->kind ? sec->kind : "?");
		draw_text(v->d, y + 2, x + 2, w - 4, line, ROLE_SELECTION);
		draw_text(v->d, y + 3, x + 2, w - 4, "a timeout or a 5xx leaves it unknown: O again reuses the key",
		          ROLE_SELECTION);
		if (v->cfg->drill)
			draw_text(v->d, y + 5, x + 2, w - 4, "DRILL: rehearsed, nothing is sent", ROLE_ALERT);
		goto ask;
	}
	draw_redis_state(v, rd, y + 2, x + 2, w - 4);
	for (size_t i = 0; i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, c->op.target) == 0) {
			snprintf(line, sizeof line, "in the window: %ld failures, %ld requests, %ld users, %ld tenants",
			         m->top_ips[i].failures, m->top_ips[i].requests, m->top_ips[i].users, m->top_ips[i].tenants);
			draw_text(v->d, y + 3, x + 2, w - 4, line, ROLE_SELECTION);
		}
	format_ttl(ttl, sizeof ttl, c->op.ttl_s);
	if (!c->op.ttl_s) {
		/* the repeat rule: the gate counts the address's earlier blocks */
		size_t k = 0, n = v->cfg->block_ttl_steps.n;
		k += (size_t)snprintf(ttl, sizeof ttl, "its earlier blocks decide: ");
		for (size_t i = 0; i < n && k < sizeof ttl; i++)
			k += (size_t)snprintf(ttl + k, sizeof ttl - k, "%s%s", i ? i + 1 == n ? " or " : ", " : "",
			                      v->cfg->block_ttl_steps.v[i]);
	}
	if (c->op.kind == OP_UNBLOCK)
		snprintf(line, sizeof line, "will send: DEL %s%s", v->cfg->keys.blocked, c->op.target);
	else if (c->op.kind == OP_EXTEND)
		snprintf(line, sizeof line, "will send: EXPIRE %s%s %s%.0ld (%s)", v->cfg->keys.blocked, c->op.target,
		         c->op.ttl_s ? "" : "TTL", c->op.ttl_s, ttl);
	else
		snprintf(line, sizeof line, "will send: SET %s%s {by,reason,at} EX %s%.0ld (%s)", v->cfg->keys.blocked,
		         c->op.target, c->op.ttl_s ? "" : "TTL", c->op.ttl_s, ttl);
	draw_text(v->d, y + 5, x + 2, w - 4, line, ROLE_SELECTION);
	if (c->op_extra)
		draw_text(v->d, y + 6, x + 2, w - 4, c->op_bypass ? "WARNING: ALLOW-LISTED: blocking it bypasses the allow-list"
		          : "WARNING: a private, loopback or your own address", ROLE_ALERT);
ask:
	snprintf(line, sizeof line, c->prompt == PROMPT_REASON ? "Why? Type a reason, Enter (Esc cancels)"
	         : "To confirm, type: %s  then Enter (Esc cancels)", c->op_expect);
	draw_text(v->d, y + 8, x + 2, w - 4, line, ROLE_SELECTION);
}

void console_draw(struct console *c)
{
	int64_t now = clock_wall_ms();
	char prompt[200];
	struct view_ctx v = { .m = &c->app->model, .cfg = c->app->cfg, .d = &c->draw, .now_ms = now };
	int rows, cols;

	if (c->prompt != PROMPT_NONE) {
		static const char *const asks[] = { [PROMPT_FILTER] = "filter: ",
			[PROMPT_TENANT] = "tenant (empty: all): ", [PROMPT_REASON] = "reason: ",
			[PROMPT_CONFIRM] = "type to confirm: " };
		snprintf(prompt, sizeof prompt, "%s%s_", asks[c->prompt], c->input);
		v.message = prompt;
		v.message_is_prompt = true;
	} else if (clock_mono_ms() < c->message_until) {
		v.message = c->message;
	}
	int all_rows, all_cols;
	getmaxyx(stdscr, all_rows, all_cols);
	erase();
	rb_pane_layout(&c->rb, all_rows, all_cols, &rows, &cols);
	if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS) {
		rows = all_rows;                      /* the runbook does not fit beside: data first */
		cols = all_cols;
	}
	if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS) {
		view_too_small(&v, rows, cols);
	} else if (c->screen == SCR_OVERVIEW) {
		overview_follow(c);
		view_overview(&v, rows, cols, c->overview.selected);
	} else if (c->screen == SCR_LIST) {
		draw_list(c, &v, rows, cols);
	} else if (c->screen == SCR_DETAIL) {
		rows_clear(&c->rows);
		detail_build(&c->rows, c->detail, c->detail_key, v.m, v.cfg, now);
		draw_lines(c, &v, rows, cols, c->detail == DV_IP ? " Address " : c->detail == DV_TENANT ? " Tenant " : " Endpoint ",
		           "Esc back  j/k scroll  w window  space pause  ? help");
	} else {
		rows_clear(&c->rows);
		help_build(&c->rows, c->help_where);
		draw_lines(c, &v, rows, cols, " Help ", "Esc back  j/k scroll  q quit");
	}
	if (rows != all_rows || cols != all_cols)
		rb_pane_draw(&c->rb, &v, all_rows, all_cols);
	if (c->rb.picking && all_rows >= 8 && all_cols >= 40)
		rb_picker_draw(&c->rb, &v, all_rows, all_cols);
	if ((c->prompt == PROMPT_REASON || c->prompt == PROMPT_CONFIRM) && all_rows >= 12 && all_cols >= 50)
		draw_action_dialog(c, &v, all_rows, all_cols);
	refresh();
	size_t alerts = view_alerts(&v);
	if (c->bell && alerts > c->alerts)
		beep();
	c->alerts = alerts;
}
