/* console_nav.c: where the console is and how keys move it: the screen
 * shown, the lists and their rows, the selection that follows its
 * address, drill-downs in and out.  Nothing here waits on a server. */
#include "config.h"

#include <curses.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "console.h"
#include "keys.h"
#include "clock.h"
#include "loop.h"

void console_message(struct console *c, const char *msg)
{
	snprintf(c->message, sizeof c->message, "%s", msg);
	c->message_until = clock_mono_ms() + 4000;
}

unsigned console_where(const struct console *c)
{
	if (c->rb.open && c->rb.focus)
		return IN_RUNBOOK;
	switch (c->screen) {
	case SCR_OVERVIEW: return IN_OVERVIEW;
	case SCR_LIST: return IN_LIST;
	case SCR_DETAIL: return IN_DETAIL;
	case SCR_HELP: return IN_HELP;
	}
	return IN_OVERVIEW;
}

void show_list(struct console *c, enum list_id id)
{
	c->screen = SCR_LIST;
	c->list = id;
	if (id == LIST_KEYS && !c->keys && !c->fetch.running)
		keys_reload(c);
	if (id == LIST_ROTATIONS && !c->rot_fetch.running)
		rotations_reload(c);                 /* the journal may hold new requests */
}

void open_detail(struct console *c, enum detail_view what, const char *key)
{
	struct model *m = &c->app->model;
	unsigned char addr[16];

	if (what == DV_IP && inet_pton(AF_INET, key, addr) != 1 && inet_pton(AF_INET6, key, addr) != 1) {
		console_message(c, "not an address: nothing to drill into");
		return;
	}
	free(c->detail_key);
	c->detail_key = strdup(key);
	c->detail = what;
	c->back = c->screen;
	c->screen = SCR_DETAIL;
	memset(&c->scroll, 0, sizeof c->scroll);
	if (what == DV_IP)
		model_ask_detail(m, DETAIL_IP, key);
	else if (what == DV_TENANT)
		model_ask_detail(m, DETAIL_TENANT, key);
	loop_refresh_all(c->app->loop);
}

void close_detail(struct console *c)
{
	model_ask_detail(&c->app->model, DETAIL_NONE, NULL);
	c->screen = c->back == SCR_DETAIL ? SCR_OVERVIEW : c->back;
}

void go_back(struct console *c)
{
	if (c->screen == SCR_DETAIL)
		close_detail(c);
	else if (c->screen == SCR_HELP)
		c->screen = c->back;
	else
		c->screen = SCR_OVERVIEW;
}

/* Tab order: overview, then each list. */
void cycle_view(struct console *c, int dir)
{
	int pos = c->screen == SCR_OVERVIEW ? 0 : (int)c->list + 1;
	pos = (pos + dir + LIST_COUNT + 1) % (LIST_COUNT + 1);
	if (pos == 0)
		c->screen = SCR_OVERVIEW;
	else
		show_list(c, (enum list_id)(pos - 1));
}

void enter_row(struct console *c)
{
	const struct model *m = &c->app->model;

	if (c->screen == SCR_OVERVIEW) {
		if (c->overview.selected < m->n_top_ips)
			open_detail(c, DV_IP, m->top_ips[c->overview.selected].ip);
		return;
	}
	const struct row *r = table_current(&c->lists[c->list], &c->rows);
	if (!r)
		return;
	switch (r->kind) {
	case ROW_IP: open_detail(c, DV_IP, c->list == LIST_TAIL ? r->cells[1] : r->key); break;
	case ROW_TENANT: open_detail(c, DV_TENANT, r->key); break;
	case ROW_HEALTH: open_detail(c, DV_HEALTH, r->key); break;
	case ROW_RANGE: {
		/* its addresses: the top addresses, filtered by the network */
		char net[sizeof c->lists[0].filter];
		snprintf(net, sizeof net, "%s", r->key);
		show_list(c, LIST_IPS);
		snprintf(c->lists[LIST_IPS].filter, sizeof c->lists[LIST_IPS].filter, "%s", net);
		break;
	}
	default: console_message(c, "nothing to drill into here"); break;
	}
}

void cycle_window(struct console *c)
{
	static const int windows[] = { 300, 900, 3600, 86400 };
	struct model *m = &c->app->model;
	size_t i = 0;

	while (i < 4 && windows[i] <= m->window_s)
		i++;
	model_set_scope(m, windows[i % 4], m->tenant);
	loop_refresh_all(c->app->loop);
}

void change_refresh(struct console *c, int dir)
{
	static const int steps[] = { 500, 1000, 2000, 5000, 10000, 30000, 60000 };
	struct model *m = &c->app->model;
	int i = 0;
	char msg[64];

	while (i < 6 && steps[i] < m->refresh_ms)
		i++;
	i += dir;
	i = i < 0 ? 0 : i > 6 ? 6 : i;
	m->refresh_ms = steps[i];
	snprintf(msg, sizeof msg, "refresh every %.1f s", steps[i] / 1000.0);
	console_message(c, msg);
}

void sort_list(struct console *c, bool reverse)
{
	struct table_state *st = &c->lists[c->list];
	const struct list_def *def = &list_defs[c->list];

	if (reverse) {
		st->sort_desc = !st->sort_desc;
		return;
	}
	st->sort_col = (st->sort_col + 1) % def->ncols;
	st->sort_desc = def->cols[st->sort_col].numeric;     /* biggest first */
}

/* The rows of the list on screen, filtered and sorted; returns how many
 * there were before the filter. */
size_t list_rows(struct console *c)
{
	const struct list_def *def = &list_defs[c->list];

	if (c->list == LIST_ACTIONS)
		journal_reload(c);
	c->extra.keys = c->keys;
	c->extra.n_keys = c->n_keys;
	c->extra.journal = &c->journal;
	c->extra.rotations = c->rots;
	c->extra.n_rotations = c->n_rots;
	rows_clear(&c->rows);
	def->build(&c->rows, &c->app->model, c->app->cfg, clock_wall_ms(), &c->extra);
	size_t total = c->rows.n;
	table_apply(&c->lists[c->list], &c->rows, def->cols, def->ncols);
	return total;
}

/* The overview's selection stays on the address chosen while the list
 * reorders; when the address leaves the list, on the same row. */
void overview_follow(struct console *c)
{
	const struct model *m = &c->app->model;

	for (size_t i = 0; c->overview.selected_key && i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, c->overview.selected_key) == 0)
			c->overview.selected = i;
	if (c->overview.selected >= m->n_top_ips && m->n_top_ips)
		c->overview.selected = m->n_top_ips - 1;
}

/* The address the selection stands on, or NULL. */
const char *selected_address(struct console *c)
{
	const struct model *m = &c->app->model;

	if (c->screen == SCR_OVERVIEW) {
		overview_follow(c);
		return c->overview.selected < m->n_top_ips ? m->top_ips[c->overview.selected].ip : NULL;
	}
	if (c->screen == SCR_DETAIL)
		return c->detail == DV_IP ? c->detail_key : NULL;
	if (c->screen != SCR_LIST)
		return NULL;
	list_rows(c);
	const struct row *r = table_current(&c->lists[c->list], &c->rows);
	if (!r || r->kind != ROW_IP)
		return NULL;
	return c->list == LIST_TAIL ? r->cells[1] : r->key;
}

void move_selection(struct console *c, long delta, bool to_end)
{
	struct table_state *st;
	const struct model *m = &c->app->model;

	if (c->rb.open && c->rb.focus) {
		rb_pane_move(&c->rb, delta, to_end);
		return;
	}
	switch (c->screen) {
	case SCR_OVERVIEW:
		if (to_end)
			c->overview.selected = delta < 0 ? 0 : (m->n_top_ips ? m->n_top_ips - 1 : 0);
		else if (delta < 0 && c->overview.selected > 0)
			c->overview.selected--;
		else if (delta > 0 && c->overview.selected + 1 < m->n_top_ips)
			c->overview.selected++;
		free(c->overview.selected_key);        /* the selection follows its address */
		c->overview.selected_key = c->overview.selected < m->n_top_ips ?
		                           strdup(m->top_ips[c->overview.selected].ip) : NULL;
		return;
	case SCR_LIST:
		st = &c->lists[c->list];
		if (to_end)
			table_select(st, &c->rows, delta < 0 ? 0 : c->rows.n);
		else
			table_move(st, &c->rows, delta);
		return;
	default:
		st = &c->scroll;
		if (to_end)
			st->top = delta < 0 ? 0 : (size_t)-1 / 2;
		else if (delta < 0)
			st->top = st->top > (size_t)-delta ? st->top - (size_t)-delta : 0;
		else
			st->top += (size_t)delta;
		return;
	}
}
