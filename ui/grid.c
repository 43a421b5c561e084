#include "config.h"

#include <stdio.h>
#include <string.h>

#include "grid.h"
#include "model.h"

int grid_add(struct grid *g, const char *title, enum cell_kind kind, bool keep, bool flex, int flex_min)
{
	if (g->n >= GRID_MAX_COLS)
		return GRID_MAX_COLS - 1;
	struct grid_col *c = &g->col[g->n];
	c->title = title;
	c->kind = kind;
	c->fit = (struct fit_col){ .want = (int)strlen(title), .keep = keep, .flex = flex, .min = flex_min };
	if (kind == CELL_SPARK)
		fit_want(&c->fit, MODEL_SPARK);
	return g->n++;
}

/* Every column as wide as its widest cell among the rows shown. */
static void measure(struct grid *g, size_t rows)
{
	struct grid_cell cell;

	for (size_t r = 0; r < rows; r++)
		for (int c = 0; c < g->n; c++) {
			if (g->col[c].kind == CELL_SPARK)
				continue;
			cell.text[0] = '\0';
			g->cell(g, r, c, &cell);
			int shown = fit_shown_width(cell.text, g->d->ascii);
			fit_want(&g->col[c].fit, g->col[c].cap && shown > g->col[c].cap ? g->col[c].cap : shown);
		}
}

static void draw_row(const struct grid *g, size_t r, const int *widths, int y, int x, int w)
{
	struct grid_cell cell = { .role = ROLE_NORMAL };

	g->cell(g, r, -1, &cell);
	enum role row_role = cell.role;
	draw_fill(g->d, y, x, w, row_role);
	x++;
	for (int c = 0; c < g->n; c++) {
		if (widths[c] <= 0)
			continue;
		memset(&cell, 0, sizeof cell);
		cell.role = ROLE_NORMAL;
		g->cell(g, r, c, &cell);
		enum role role = row_role != ROLE_NORMAL || cell.role == ROLE_NORMAL ? row_role : cell.role;
		if (g->col[c].kind == CELL_SPARK && cell.spark)
			draw_spark(g->d, y, x, widths[c], cell.spark, MODEL_SPARK);
		else if (g->col[c].kind == CELL_NUM)
			draw_fmt(g->d, y, x, widths[c], role, "%*s", widths[c], cell.text);
		else
			draw_text(g->d, y, x, widths[c], cell.text, role);
		x += widths[c] + 1;
	}
}

static size_t rows_in(const struct grid *g, int h)
{
	size_t rows = h - 1 < 0 ? 0 : (size_t)(h - 1);
	return rows > g->rows ? g->rows : rows;
}

int grid_natural_width(struct grid *g, int h)
{
	int w = 2 - 1;                               /* the margins, less the last column's gap */

	measure(g, rows_in(g, h));
	for (int c = 0; c < g->n; c++)
		w += g->col[c].fit.want + 1;
	return w;
}

void grid_draw(struct grid *g, int y, int x, int h, int w)
{
	int widths[GRID_MAX_COLS];
	size_t rows = rows_in(g, h);

	measure(g, rows);
	struct fit_col fits[GRID_MAX_COLS];
	for (int c = 0; c < g->n; c++)
		fits[c] = g->col[c].fit;
	fit_columns(fits, g->n, w - 2, 1, widths);
	int cx = x + 1;
	for (int c = 0; c < g->n; c++) {
		if (widths[c] <= 0)
			continue;
		if (g->col[c].kind == CELL_NUM)
			draw_fmt(g->d, y, cx, widths[c], ROLE_LABEL, "%*s", widths[c], g->col[c].title);
		else
			draw_text(g->d, y, cx, widths[c], g->col[c].title, ROLE_LABEL);
		cx += widths[c] + 1;
	}
	for (size_t r = 0; r < rows; r++)
		draw_row(g, r, widths, y + 1 + (int)r, x, w);
}
