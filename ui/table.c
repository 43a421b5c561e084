#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipnet.h"
#include "model.h"
#include "table.h"

void rows_clear(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].key);
		for (int c = 0; c < TABLE_MAX_COLS; c++)
			free(r->v[i].cells[c]);
	}
	r->n = 0;
}

struct row *rows_add(struct rows *r, const char *key)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	struct row *w = &r->v[r->n++];
	memset(w, 0, sizeof *w);
	w->key = strdup(key ? key : "");
	w->role = ROLE_NORMAL;
	return w;
}

void row_text(struct row *w, int col, const char *text)
{
	if (col < 0 || col >= TABLE_MAX_COLS)
		return;
	free(w->cells[col]);
	w->cells[col] = text ? strdup(text) : NULL;
}

void row_num_text(struct row *w, int col, long v, const char *text)
{
	row_text(w, col, text);
	if (col >= 0 && col < TABLE_MAX_COLS)
		w->nums[col] = v;
}

void row_figure(struct row *w, int col, long v, unsigned approx, unsigned flag)
{
	char buf[32];

	format_figure(buf, sizeof buf, v, approx, flag);
	row_num_text(w, col, v, buf);
}

void row_num(struct row *w, int col, long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%ld", v);
	row_num_text(w, col, v, buf);
}

/* "AS64500", any case */
static bool is_as_number(const char *s)
{
	if (strncasecmp(s, "AS", 2) != 0 || !s[2])
		return false;
	for (s += 2; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool row_matches(const struct row *w, int ncols, const char *needle)
{
	struct ipnet net;
	char err[8];

	if (!needle || !*needle)
		return true;
	/* a network (203.0.113.0/24) holds the addresses in it */
	if (strchr(needle, '/') && ipnet_parse(needle, false, &net, err, sizeof err) == 0)
		return w->key && ipnet_contains(&net, w->key);
	/* an AS (AS64500) is a whole word: not AS645001 */
	if (is_as_number(needle)) {
		size_t n = strlen(needle);
		for (int c = 0; c < ncols; c++)
			if (w->cells[c] && strncasecmp(w->cells[c], needle, n) == 0 &&
			    (w->cells[c][n] == '\0' || w->cells[c][n] == ' '))
				return true;
		return false;
	}
	for (int c = 0; c < ncols; c++)
		if (w->cells[c] && strcasestr(w->cells[c], needle))
			return true;
	return w->key && strcasestr(w->key, needle);
}

/* qsort has no context argument: the column in force is passed here. */
static int sort_col;
static bool sort_numeric, sort_desc;

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (sort_numeric)
		c = x->nums[sort_col] < y->nums[sort_col] ? -1 : x->nums[sort_col] > y->nums[sort_col];
	else
		c = strcasecmp(x->cells[sort_col] ? x->cells[sort_col] : "",
		               y->cells[sort_col] ? y->cells[sort_col] : "");
	if (c == 0)
		c = strcmp(x->key, y->key);       /* stable across refreshes */
	return sort_desc ? -c : c;
}

static void row_free(struct row *w)
{
	free(w->key);
	for (int c = 0; c < TABLE_MAX_COLS; c++)
		free(w->cells[c]);
}

void table_apply(struct table_state *st, struct rows *r, const struct column *cols, int ncols)
{
	size_t keep = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (row_matches(&r->v[i], ncols, st->filter))
			r->v[keep++] = r->v[i];
		else
			row_free(&r->v[i]);
	}
	r->n = keep;
	if (st->sort_col >= 0 && st->sort_col < ncols) {
		sort_col = st->sort_col;
		sort_numeric = cols[st->sort_col].numeric;
		sort_desc = st->sort_desc;
		qsort(r->v, r->n, sizeof *r->v, row_cmp);
	}
	/* the selection follows its row; if the row went, keep the place */
	if (st->selected_key)
		for (size_t i = 0; i < r->n; i++)
			if (strcmp(r->v[i].key, st->selected_key) == 0) {
				st->selected = i;
				return;
			}
	if (st->selected >= r->n)
		st->selected = r->n ? r->n - 1 : 0;
}

void table_select(struct table_state *st, const struct rows *r, size_t index)
{
	if (r->n == 0) {
		st->selected = 0;
		return;
	}
	st->selected = index < r->n ? index : r->n - 1;
	free(st->selected_key);
	st->selected_key = strdup(r->v[st->selected].key);
}

void table_move(struct table_state *st, const struct rows *r, long delta)
{
	long i = (long)st->selected + delta;

	if (i < 0)
		i = 0;
	table_select(st, r, (size_t)i);
}

const struct row *table_current(const struct table_state *st, const struct rows *r)
{
	return st->selected < r->n ? &r->v[st->selected] : NULL;
}

void table_next_match(struct table_state *st, const struct rows *r, int dir)
{
	if (r->n == 0)
		return;
	size_t i = st->selected;
	for (size_t step = 0; step < r->n; step++) {
		i = (i + r->n + (size_t)(long)dir) % r->n;
		if (row_matches(&r->v[i], TABLE_MAX_COLS, st->filter)) {
			table_select(st, r, i);
			return;
		}
	}
}

/* Each column's width for a total of w.  Too narrow: columns drop from the
 * right (they come in order of importance) before the flex column shrinks;
 * wide: the flex column takes the rest. */
static void layout(const struct column *cols, int ncols, int w, int *widths)
{
	int used = 0, flex = -1;

	for (int c = 0; c < ncols; c++) {
		widths[c] = cols[c].width;
		used += cols[c].width + 1;
		if (cols[c].flex)
			flex = c;
	}
	for (int c = ncols - 1; c > 0 && used > w; c--) {
		if (c == flex)
			continue;
		used -= widths[c] + 1;
		widths[c] = 0;
	}
	if (flex >= 0)
		widths[flex] += w - used;     /* grows, or shrinks as a last resort */
	if (flex >= 0 && widths[flex] < 1)
		widths[flex] = 1;
}

static void draw_header_row(const struct draw *d, const struct table_state *st,
                            const struct column *cols, int ncols, const int *widths, int y, int x)
{
	for (int c = 0; c < ncols; c++) {
		if (widths[c] <= 0)
			continue;
		char title[64];
		const char *mark = st->sort_col == c ? (st->sort_desc ? (d->ascii ? "v" : "\u25bc")
		                                                       : (d->ascii ? "^" : "\u25b2")) : "";
		snprintf(title, sizeof title, "%s%s", cols[c].title, mark);
		int tw = (int)strlen(cols[c].title) + (st->sort_col == c);
		int pad = cols[c].numeric && widths[c] > tw ? widths[c] - tw : 0;
		draw_text(d, y, x + pad, widths[c] - pad, title, st->sort_col == c ? ROLE_TITLE : ROLE_LABEL);
		x += widths[c] + 1;
	}
}

static void draw_row(const struct draw *d, const struct row *w, const struct column *cols,
                     int ncols, const int *widths, int y, int x, int total, bool selected)
{
	enum role role = selected ? ROLE_SELECTION : w->role;

	draw_fill(d, y, x, total, role);
	x++;
	for (int c = 0; c < ncols; c++) {
		if (widths[c] <= 0)
			continue;
		const char *s = w->cells[c] ? w->cells[c] : "";
		if (cols[c].numeric) {
			char buf[64];
			snprintf(buf, sizeof buf, "%*s", widths[c], s);
			draw_text(d, y, x, widths[c], strlen(s) <= (size_t)widths[c] ? buf : s, role);
		} else {
			draw_text(d, y, x, widths[c], s, role);
		}
		x += widths[c] + 1;
	}
}

void table_draw(const struct draw *d, struct table_state *st, const struct rows *r,
                const struct column *cols, int ncols, int y, int x, int h, int w)
{
	int widths[TABLE_MAX_COLS];
	int body = h - 1;

	if (h < 2 || w < 4)
		return;
	layout(cols, ncols, w - 1, widths);
	draw_header_row(d, st, cols, ncols, widths, y, x + 1);
	/* keep the selection in view */
	if (st->selected < st->top)
		st->top = st->selected;
	if (st->selected >= st->top + (size_t)body)
		st->top = st->selected - (size_t)body + 1;
	if (st->top + (size_t)body > r->n)
		st->top = r->n > (size_t)body ? r->n - (size_t)body : 0;
	for (int i = 0; i < body && st->top + (size_t)i < r->n; i++) {
		size_t k = st->top + (size_t)i;
		draw_row(d, &r->v[k], cols, ncols, widths, y + 1 + i, x, w, k == st->selected);
	}
	if (r->n == 0)
		draw_text(d, y + 1, x + 1, w - 1, st->filter[0] ? "no row matches the filter" : "nothing yet",
		          ROLE_DIM);
}
