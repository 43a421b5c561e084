/* console.c: `sectop` with no command: the interactive console.  One loop:
 * the sources' fds, stdin and a one-second timer in a single poll().  Keys
 * only change what is shown or ask the model for something; they never
 * wait on a server.  This file holds the loop and what each key does; the
 * parts it calls are in console_*.c (see console.h). */
#include "config.h"

#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "console.h"
#include "keys.h"
#include "loop.h"

static volatile sig_atomic_t console_quit_signal;

static void console_on_signal(int sig)
{
	console_quit_signal = sig;
}

static void theme_warn(void *ctx, const char *msg)
{
	console_message(ctx, msg);
}

/* ----------------------------------------------------------------- keys */

/* keys.c maps a key to its action (and writes the help from the same
 * table); below, each action's handler, and the table that maps one to
 * the other. */
typedef void action_fn(struct console *c, enum action a);

static void on_quit(struct console *c, enum action a) { (void)a; c->quit = true; }

static void on_help(struct console *c, enum action a)
{
	(void)a;
	c->help_where = console_where(c);
	c->back = c->screen;
	c->screen = SCR_HELP;
	memset(&c->scroll, 0, sizeof c->scroll);
}

/* Esc: out of the runbook pane first, then back a screen */
static void on_back(struct console *c, enum action a)
{
	(void)a;
	if (c->rb.focus)
		c->rb.focus = false;
	else
		go_back(c);
}

static void on_enter(struct console *c, enum action a) { (void)a; enter_row(c); }

static void on_overview(struct console *c, enum action a)
{
	(void)a;
	if (c->screen == SCR_DETAIL)
		close_detail(c);
	c->screen = SCR_OVERVIEW;
}

/* 1 to 0, P: the list whose action it is (keys.h keeps them in list order) */
static void on_view(struct console *c, enum action a)
{
	if (c->screen == SCR_DETAIL)
		model_ask_detail(&c->app->model, DETAIL_NONE, NULL);
	show_list(c, (enum list_id)(a - ACT_VIEW_IPS));
}

static void on_next_view(struct console *c, enum action a) { cycle_view(c, a == ACT_NEXT_VIEW ? 1 : -1); }

static void on_move(struct console *c, enum action a)
{
	long page = c->visible > 1 ? (long)c->visible - 1 : 1;

	switch (a) {
	case ACT_UP: move_selection(c, -1, false); break;
	case ACT_DOWN: move_selection(c, 1, false); break;
	case ACT_PAGE_UP: move_selection(c, -page, false); break;
	case ACT_PAGE_DOWN: move_selection(c, page, false); break;
	case ACT_TOP: move_selection(c, -1, true); break;
	default: move_selection(c, 1, true); break;
	}
}

static void on_filter(struct console *c, enum action a) { (void)a; prompt_start(c, PROMPT_FILTER); }

static void on_next_match(struct console *c, enum action a)
{
	table_next_match(&c->lists[c->list], &c->rows, a == ACT_NEXT_MATCH ? 1 : -1);
}

static void on_sort(struct console *c, enum action a) { sort_list(c, a == ACT_SORT_REVERSE); }
static void on_window(struct console *c, enum action a) { (void)a; cycle_window(c); }
/* [ and ]: the window before or after this one, by its own length */
static void on_earlier(struct console *c, enum action a)
{
	const struct model *m = &c->app->model;
	int64_t now = clock_wall_ms() / 1000, end = m->at_s ? m->at_s : now - now % 60;

	look_back(c, a == ACT_EARLIER ? end - m->window_s : m->at_s ? end + m->window_s : 0);
}

static void on_at(struct console *c, enum action a) { (void)a; prompt_start(c, PROMPT_AT); }
static void on_live(struct console *c, enum action a) { (void)a; look_back(c, 0); }

static void on_tenant(struct console *c, enum action a) { (void)a; prompt_start(c, PROMPT_TENANT); }

static void on_pause_figures(struct console *c, enum action a)
{
	struct model *m = &c->app->model;

	(void)a;
	m->paused = !m->paused;
	console_message(c, m->paused ? "paused: figures frozen (r refreshes once, space resumes)" : "resumed");
}

static void on_speed(struct console *c, enum action a) { change_refresh(c, a == ACT_FASTER ? -1 : 1); }

static void on_refresh_now(struct console *c, enum action a)
{
	(void)a;
	console_message(c, "refreshing");    /* a list's reload says more, after */
	if (c->screen == SCR_LIST && c->list == LIST_KEYS)
		keys_reload(c);
	if (c->screen == SCR_LIST && c->list == LIST_ROTATIONS)
		rotations_reload(c);
	loop_refresh_all(c->app->loop);
}

static void on_bell(struct console *c, enum action a)
{
	(void)a;
	c->bell = !c->bell;
	console_message(c, c->bell ? "bell on new alerts: on" : "bell: off");
}

static void on_block(struct console *c, enum action a)
{
	action_begin(c, a == ACT_BLOCK ? OP_BLOCK : a == ACT_UNBLOCK ? OP_UNBLOCK : OP_EXTEND);
}

static void on_revoke(struct console *c, enum action a) { (void)a; revoke_begin(c); }
static void on_ranges_by(struct console *c, enum action a) { (void)a; ranges_group_toggle(c); }
static void on_rotate(struct console *c, enum action a) { (void)a; rotate_begin(c); }

/* R: the runbook pane takes the keys, gives them back, or is picked */
static void on_runbook(struct console *c, enum action a)
{
	(void)a;
	if (c->rb.open)
		c->rb.focus = !c->rb.focus;
	else
		rb_picker_start(&c->rb, c->app->cfg);
}

static void on_step_done(struct console *c, enum action a)
{
	(void)a;
	if (c->rb.done[c->rb.sel])
		console_message(c, "this step is done already");
	else
		step_record(c, c->rb.sel);
}

static void on_step_action(struct console *c, enum action a) { (void)a; step_act(c); }
static void on_step_data(struct console *c, enum action a) { (void)a; step_show(c); }
static void on_timeline(struct console *c, enum action a) { (void)a; timeline_key(c); }

static void on_runbook_close(struct console *c, enum action a)
{
	(void)a;
	if (c->rb.n_unrecorded) {
		console_message(c, "steps are still being recorded: close it in a moment");
		return;
	}
	rb_pane_close(&c->rb);
	console_message(c, "runbook closed (the journal keeps its steps)");
}

static action_fn *const on_action[] = {
	[ACT_QUIT]              = on_quit,
	[ACT_HELP]              = on_help,
	[ACT_BACK]              = on_back,
	[ACT_ENTER]             = on_enter,
	[ACT_VIEW_OVERVIEW]     = on_overview,
	[ACT_VIEW_IPS]          = on_view,
	[ACT_VIEW_TENANTS]      = on_view,
	[ACT_VIEW_HEALTH]       = on_view,
	[ACT_VIEW_BLOCKED]      = on_view,
	[ACT_VIEW_TAIL]         = on_view,
	[ACT_VIEW_KEYS]         = on_view,
	[ACT_VIEW_ACTIONS]      = on_view,
	[ACT_VIEW_ROTATIONS]    = on_view,
	[ACT_VIEW_RATELIMITS]   = on_view,
	[ACT_VIEW_RANGES]       = on_view,
	[ACT_NEXT_VIEW]         = on_next_view,
	[ACT_PREV_VIEW]         = on_next_view,
	[ACT_UP]                = on_move,
	[ACT_DOWN]              = on_move,
	[ACT_PAGE_UP]           = on_move,
	[ACT_PAGE_DOWN]         = on_move,
	[ACT_TOP]               = on_move,
	[ACT_BOTTOM]            = on_move,
	[ACT_FILTER]            = on_filter,
	[ACT_NEXT_MATCH]        = on_next_match,
	[ACT_PREV_MATCH]        = on_next_match,
	[ACT_SORT]              = on_sort,
	[ACT_SORT_REVERSE]      = on_sort,
	[ACT_WINDOW]            = on_window,
	[ACT_EARLIER]           = on_earlier,
	[ACT_LATER]             = on_earlier,
	[ACT_AT]                = on_at,
	[ACT_LIVE]              = on_live,
	[ACT_TENANT]            = on_tenant,
	[ACT_PAUSE]             = on_pause_figures,
	[ACT_FASTER]            = on_speed,
	[ACT_SLOWER]            = on_speed,
	[ACT_REFRESH]           = on_refresh_now,
	[ACT_BELL]              = on_bell,
	[ACT_BLOCK]             = on_block,
	[ACT_UNBLOCK]           = on_block,
	[ACT_EXTEND]            = on_block,
	[ACT_REVOKE]            = on_revoke,
	[ACT_ROTATE]            = on_rotate,
	[ACT_RUNBOOK]           = on_runbook,
	[ACT_STEP_DONE]         = on_step_done,
	[ACT_STEP_ACT]          = on_step_action,
	[ACT_STEP_SHOW]         = on_step_data,
	[ACT_TIMELINE]          = on_timeline,
	[ACT_RUNBOOK_CLOSE]     = on_runbook_close,
	[ACT_RANGES_BY]         = on_ranges_by,
};

static void console_action(struct console *c, enum action a)
{
	if ((size_t)a < sizeof on_action / sizeof on_action[0] && on_action[a])
		on_action[a](c, a);
}

/* Returns whether anything came (a key, a resize): the screen is redrawn. */
static bool console_input(struct console *c)
{
	wint_t ch;
	int rc;
	bool any = false;

	while ((rc = get_wch(&ch)) != ERR) {
		any = true;
		bool is_key = rc == KEY_CODE_YES;
		int64_t now = clock_mono_ms();
		/* a terminal's own sequence is swallowed whole, never run as keys */
		if (!is_key && (termseq_swallow(&c->seq, (unsigned)ch, now) ||
		                (ch >= 0x80 && ch < 0xa0 && termseq_start(&c->seq, (unsigned)ch, false, now))))
			continue;
		if (!is_key && ch == 27) {
			wint_t next;
			int r2 = get_wch(&next);
			if (r2 == OK && termseq_start(&c->seq, (unsigned)next, true, now))
				continue;
			if (r2 == KEY_CODE_YES)
				ungetch((int)next);
			else if (r2 == OK)
				unget_wch((wchar_t)next);
		}
		if (is_key && ch == KEY_RESIZE) {
			clear();
			continue;
		}
		if (c->prompt != PROMPT_NONE) {
			prompt_key(c, is_key, ch);
			continue;
		}
		if (c->rb.picking) {
			picker_key(c, is_key, ch);
			continue;
		}
		/* keys typed ahead act on what the screen would show by then */
		if (c->screen == SCR_LIST)
			list_rows(c);
		console_action(c, keys_action((int)ch, is_key, console_where(c)));
		if (c->app->cfg->drill)
			drill_look(c);
	}
	return any;
}

/* -------------------------------------------------------------- the loop */

/* Something a source published, summed: it changes when the screen may.
 * A Redis key walk steps many times a second and publishes only at its
 * end, so redrawing per loop turn would cost CPU for nothing. */
static unsigned long model_signature(const struct model *m)
{
	unsigned long sig = m->pg.refreshes + m->pg.failures + m->redis.refreshes + m->redis.failures +
	                    m->top_ips_gen + m->ip_redis_gen + m->detail.answered + m->scope_gen +
	                    (unsigned long)m->n_blocked + m->walk_complete + (unsigned long)m->paused +
	                    m->blocked_count + m->walk.blocked + (unsigned long)(m->walk.fraction * 100);
	for (size_t i = 0; i < m->n_health; i++)
		sig += m->health[i].checks;
	return sig;
}

/* The terminal comes back as it was on every way out, signals included. */
static void console_end(struct console *c)
{
	if (!c->curses_on)
		return;
	endwin();
	c->curses_on = false;
}

static void console_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = console_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void console_start(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	const char *no_colour = getenv("NO_COLOR");      /* set and not empty: see no-color.org */
	bool colour = !cfg->no_color && !(no_colour && *no_colour);

	set_escdelay(25);
	initscr();
	c->curses_on = true;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	draw_init(&c->draw, &c->theme, colour, c->app->ascii);
	for (int i = 0; i < LIST_COUNT; i++)
		c->lists[i].sort_col = list_defs[i].default_sort;
	c->bell = cfg->bell;
}

static void console_free(struct console *c)
{
	bg_fetch_finish(&c->recon_fetch);
	bg_fetch_finish(&c->fetch);
	bg_fetch_finish(&c->rot_fetch);
	if (c->tl_fetch.running)
		timeline_arrived(c);                 /* the file is closed whole */
	rotation_free(c->rr.v, c->rr.n);
	rotation_free(c->rots, c->n_rots);
	apikeys_free(c->kr.keys, c->kr.n);
	apikeys_free(c->keys, c->n_keys);
	timeline_free(&c->journal);
	journal_close(&c->looks);
	rb_picker_stop(&c->rb);
	rb_pane_close(&c->rb);
	range_plan_free(&c->job.range);
	rows_clear(&c->rows);
	free(c->rows.v);
	for (int i = 0; i < LIST_COUNT; i++)
		free(c->lists[i].selected_key);
	free(c->overview.selected_key);
	free(c->detail_key);
}

int app_console(struct app *app)
{
	struct console c = { .app = app, .step_of_action = -1, .looks = { .fd = -1 } };
	char err[512];

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sectop: the console needs a terminal; for a report on stdout try: sectop snapshot\n");
		return 2;
	}
	if (theme_load(&c.theme, app->cfg->theme, theme_warn, &c) < 0) {
		fprintf(stderr, "sectop: theme '%s' not found\n", app->cfg->theme);
		return 2;
	}
	if (app_open(app, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		return 2;
	}
	if (app->cfg->drill) {
		char *path = journal_path(app->cfg->journal);
		if (!path || journal_open(&c.looks, path, err, sizeof err) < 0)
			c.looks.fd = -1;                 /* the scorecard then says "not reached" */
		free(path);
	}
	console_signals();
	ops_operator(c.me, sizeof c.me);
	c.started_us = clock_wall_ms() * 1000;
	console_start(&c);
	recon_start(&c);
	if (app->cfg->runbook)
		runbook_open(&c, app->cfg->runbook);
	unsigned long drawn_sig = 0;
	int64_t drawn_second = -1;
	bool dirty = true;
	while (!c.quit && !console_quit_signal) {
		/* redraw on input, on news from a source, and when the clock ticks */
		unsigned long sig = model_signature(&app->model);
		int64_t second = clock_wall_ms() / 1000;
		if (dirty || sig != drawn_sig || second != drawn_second) {
			console_draw(&c);
			drawn_sig = sig;
			drawn_second = second;
			dirty = false;
		}
		struct pollfd in[6] = { { .fd = STDIN_FILENO, .events = POLLIN },
		                        { .fd = act_job_fd(&c.job), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.fetch), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.rot_fetch), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.recon_fetch), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.tl_fetch), .events = POLLIN } };
		int64_t wait = 1000 - clock_wall_ms() % 1000;   /* tick with the clock */
		if (loop_turn(app->loop, wait, in, 6) < 0)
			break;
		if (c.tl_fetch.running && (in[5].revents & POLLIN)) {
			timeline_arrived(&c);
			dirty = true;
		}
		if (team_news(&c))
			dirty = true;
		if (c.recon_fetch.running && (in[4].revents & POLLIN)) {
			recon_arrived(&c);
			dirty = true;
		}
		if (c.rot_fetch.running && (in[3].revents & POLLIN)) {
			rotations_arrived(&c);
			dirty = true;
		}
		if (c.fetch.running && (in[2].revents & POLLIN)) {
			keys_arrived(&c);
			dirty = true;
		}
		if (in[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;                               /* the terminal went away */
		if (act_job_running(&c.job) && (in[1].revents & POLLIN)) {
			action_finished(&c);
			dirty = true;
		}
		if (console_input(&c))
			dirty = true;
		ranges_want_update(&c);
	}
	console_end(&c);
	act_job_finish(&c.job);                      /* an action under way ends first */
	while (c.rb.n_unrecorded) {                  /* and every step ticked is recorded */
		step_records_flush(&c);
		if (!act_job_running(&c.job))
			break;
		act_job_finish(&c.job);
	}
	/* what the notify rate limit held back goes out before the end */
	size_t undelivered = app_notify_finish(app, NOTIFY_GRACE_MS);
	if (undelivered)
		fprintf(stderr, "sectop: %zu notification%s not delivered\n", undelivered,
		        undelivered == 1 ? "" : "s");
	console_free(&c);
	return 0;
}
