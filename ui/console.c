/* console.c: `sectop` with no command: the interactive console.  One loop:
 * the sources' fds, stdin and a one-second timer in a single poll(). */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "draw.h"
#include "loop.h"
#include "theme.h"
#include "view.h"

static volatile sig_atomic_t console_quit_signal;

static void console_on_signal(int sig)
{
	console_quit_signal = sig;
}

struct console {
	struct app *app;
	struct theme theme;
	struct draw draw;
	bool paused, quit, curses_on;
	char message[256];
	int64_t message_until;
};

static void console_message(struct console *c, const char *msg)
{
	snprintf(c->message, sizeof c->message, "%s", msg);
	c->message_until = clock_mono_ms() + 5000;
}

static void theme_warn(void *ctx, const char *msg)
{
	console_message(ctx, msg);
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
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void console_start(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	bool colour = !cfg->no_color && !getenv("NO_COLOR");

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
}

static void console_key(struct console *c, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		c->quit = true;
		break;
	case 'r':
		loop_refresh_all(c->app->loop);
		console_message(c, "refreshing");
		break;
	case KEY_RESIZE:
		clear();
		break;
	default:
		break;
	}
}

static void console_draw(struct console *c, const struct model *shown)
{
	struct view_ctx v = {
		.m = shown, .cfg = c->app->cfg, .d = &c->draw, .now_ms = clock_wall_ms(),
		.paused = c->paused,
		.message = clock_mono_ms() < c->message_until ? c->message : NULL,
	};
	int rows, cols;

	getmaxyx(stdscr, rows, cols);
	erase();
	if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS)
		view_too_small(&v, rows, cols);
	else
		view_overview(&v, rows, cols);
	refresh();
}

int app_console(struct app *app)
{
	struct console c = { .app = app };
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
	console_signals();
	console_start(&c);
	while (!c.quit && !console_quit_signal) {
		console_draw(&c, &app->model);
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t wait = 1000 - clock_wall_ms() % 1000;   /* tick with the clock */
		if (loop_turn(app->loop, wait, &in, 1) < 0)
			break;
		if (in.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;                               /* the terminal went away */
		for (int ch; (ch = getch()) != ERR;)
			console_key(&c, ch);
	}
	console_end(&c);
	return 0;
}
