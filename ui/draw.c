#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "model.h"
#include "sanitize.h"

/* Attributes that keep a role distinct when there is no colour. */
static const attr_t mono_attr[ROLE_COUNT] = {
	[ROLE_HEADER] = A_REVERSE, [ROLE_TITLE] = A_BOLD, [ROLE_ALERT] = A_REVERSE | A_BOLD,
	[ROLE_WARN] = A_BOLD, [ROLE_STALE] = A_UNDERLINE, [ROLE_SELECTION] = A_REVERSE,
	[ROLE_DIM] = A_DIM, [ROLE_LABEL] = A_DIM, [ROLE_BADGE] = A_REVERSE | A_BOLD,
	[ROLE_INERT] = A_DIM,
};

/* A colour of a 256-colour theme on a terminal with fewer: the nearest of
 * the eight, so a dark theme stays dark on a plain xterm or the console. */
static short nearest_colour(short c)
{
	if (c < 0 || c < COLORS)
		return c;
	if (c < 16)
		return (short)(c - 8);
	if (c >= 232)
		return c < 244 ? COLOR_BLACK : COLOR_WHITE;
	int i = c - 16, r = i / 36, g = i / 6 % 6, b = i % 6;
	return (short)((r >= 3 ? 1 : 0) | (g >= 3 ? 2 : 0) | (b >= 3 ? 4 : 0));
}

void draw_init(struct draw *d, const struct theme *t, bool colour, bool ascii)
{
	/* COLORS is known only once start_color() has run */
	d->colour = colour && has_colors() && start_color() == OK && COLORS >= 8;
	d->ascii = ascii;
	bool defaults = d->colour && use_default_colors() == OK;
	for (int r = 0; r < ROLE_COUNT; r++) {
		const struct role_style *s = &t->role[r];
		if (!d->colour) {
			d->attr[r] = mono_attr[r];
			continue;
		}
		short fg = nearest_colour(s->fg), bg = nearest_colour(s->bg);
		if (!defaults) {          /* no "default" colour: the classic pair */
			fg = fg < 0 ? COLOR_WHITE : fg;
			bg = bg < 0 ? COLOR_BLACK : bg;
		}
		init_pair((short)(r + 1), fg, bg);
		d->attr[r] = COLOR_PAIR(r + 1) | s->attrs;
	}
}

int draw_text(const struct draw *d, int y, int x, int w, const char *s, enum role r)
{
	char buf[2048];

	if (w <= 0)
		return 0;
	int used = sanitize_fit(s ? s : "", s ? strlen(s) : 0, w, d->ascii ? SAN_ASCII : 0,
	                        buf, sizeof buf);
	attrset(d->attr[r]);
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
	return used;
}

void draw_cell(const struct draw *d, int y, int x, int w, const char *s, enum role r)
{
	int used = draw_text(d, y, x, w, s, r);
	draw_fill(d, y, x + used, w - used, r);
}

int draw_fmt(const struct draw *d, int y, int x, int w, enum role r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return draw_text(d, y, x, w, buf, r);
}

void draw_num(const struct draw *d, int y, int x, int w, long v, enum role r)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%*ld", w, v);
	if ((int)strlen(buf) > w)          /* too wide: say it in thousands */
		snprintf(buf, sizeof buf, "%*ldk", w - 1, v / 1000);
	draw_text(d, y, x, w, buf, r);
}

void draw_figure(const struct draw *d, int y, int x, int w, long v, unsigned approx, unsigned flag,
                 enum role r)
{
	char num[32], buf[40];

	if (!(approx & flag)) {
		draw_num(d, y, x, w, v, r);
		return;
	}
	format_figure(num, sizeof num, v, approx, flag);
	if ((int)strlen(num) > w)
		snprintf(num, sizeof num, "~%ldk", v / 1000);
	snprintf(buf, sizeof buf, "%*s", w, num);
	draw_text(d, y, x, w, buf, r);
}

void draw_fill(const struct draw *d, int y, int x, int w, enum role r)
{
	if (w <= 0)
		return;
	attrset(d->attr[r]);
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

void draw_box(const struct draw *d, int y, int x, int h, int w, const char *title, enum role title_role)
{
	if (h < 2 || w < 4)
		return;
	attrset(d->attr[ROLE_BORDER]);
	if (d->ascii) {
		mvhline(y, x, '-', w);
	} else {
		mvhline(y, x, ACS_HLINE, w);
	}
	attrset(A_NORMAL);
	draw_text(d, y, x + 1, w - 2, title, title_role);
}

void draw_spark(const struct draw *d, int y, int x, int w, const long *v, int n)
{
	static const char *const bars[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
	                                    "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii_bars[] = " _.-=+*#@";
	long max = 0;
	int first = n > w ? n - w : 0;

	for (int i = first; i < n; i++)
		if (v[i] > max)
			max = v[i];
	attrset(d->attr[ROLE_SPARK]);
	move(y, x);
	for (int i = first; i < n; i++) {
		int level = max ? (int)((v[i] * 8 + max - 1) / max) : 0;
		if (level > 8)
			level = 8;
		if (d->ascii)
			addch((chtype)(unsigned char)ascii_bars[level]);
		else
			addstr(bars[level]);
	}
	attrset(A_NORMAL);
}

void draw_vline(const struct draw *d, int y, int x, int h)
{
	attrset(d->attr[ROLE_BORDER]);
	if (d->ascii)
		mvvline(y, x, '|', h);
	else
		mvvline(y, x, ACS_VLINE, h);
	attrset(A_NORMAL);
}
