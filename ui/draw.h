/* draw.h: the only way text reaches the screen.  Untrusted strings pass
 * through sanitize and are measured in columns; roles become attributes. */
#ifndef SECTOP_DRAW_H
#define SECTOP_DRAW_H

#include <curses.h>
#include <stdbool.h>

#include "theme.h"

struct draw {
	bool colour;             /* colours in use (else attributes only) */
	bool ascii;              /* no UTF-8: ASCII borders, sparkline and escapes */
	attr_t attr[ROLE_COUNT];
};

/* Set up colour pairs for the theme (or attributes only). */
void draw_init(struct draw *d, const struct theme *t, bool colour, bool ascii);

/* An untrusted string at (y, x) in at most w columns; returns columns used. */
int draw_text(const struct draw *d, int y, int x, int w, const char *s, enum role r);
/* The same, padded with spaces to exactly w columns. */
void draw_cell(const struct draw *d, int y, int x, int w, const char *s, enum role r);
/* Our own formatted text (no outside data in it). */
int draw_fmt(const struct draw *d, int y, int x, int w, enum role r, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* A right-aligned number in w columns. */
void draw_num(const struct draw *d, int y, int x, int w, long v, enum role r);
/* draw_num, with "~" before an estimate (see format_figure). */
void draw_figure(const struct draw *d, int y, int x, int w, long v, unsigned approx, unsigned flag,
                 enum role r);
/* Fill a row segment with the role's background. */
void draw_fill(const struct draw *d, int y, int x, int w, enum role r);
/* A panel frame with its title; returns the inner width. */
void draw_box(const struct draw *d, int y, int x, int h, int w, const char *title, enum role title_role);
/* A vertical rule of h rows at (y, x). */
void draw_vline(const struct draw *d, int y, int x, int h);
/* A sparkline of v[0..n) scaled to its maximum, in w columns (last w values). */
void draw_spark(const struct draw *d, int y, int x, int w, const long *v, int n);

#endif
