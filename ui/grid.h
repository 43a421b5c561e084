/* grid.h: a panel of columns sized to what they hold (fit.h), for the
 * overview on a wide terminal.  The caller says what each cell holds; the
 * grid measures the rows it will show, lays the columns out and draws
 * them.  Cells are raw strings: draw_text sanitises them. */
#ifndef SECTOP_GRID_H
#define SECTOP_GRID_H

#include <stdbool.h>
#include <stddef.h>

#include "draw.h"
#include "fit.h"

#define GRID_MAX_COLS 14

enum cell_kind { CELL_TEXT, CELL_NUM, CELL_SPARK };

struct grid_col {
	const char *title;
	enum cell_kind kind;
	struct fit_col fit;          /* want: at least the title's; flex, keep, min as fit.h */
	int cap;                     /* the widest it is made for its values (0: no cap): one long
	                              * value is cut rather than take the line from the others */
};

struct grid_cell {
	char text[256];
	const long *spark;           /* CELL_SPARK: MODEL_SPARK values */
	enum role role;              /* ROLE_NORMAL: the row's */
};

struct grid {
	const struct draw *d;
	struct grid_col col[GRID_MAX_COLS];
	int n;
	size_t rows;
	const void *ctx;
	/* cell c of row r; the row's role first (c -1: only role is read) */
	void (*cell)(const struct grid *g, size_t r, int c, struct grid_cell *out);
};

/* Add a column; returns its index. */
int grid_add(struct grid *g, const char *title, enum cell_kind kind, bool keep, bool flex, int flex_min);
/* The columns the rows that fit in h - 1 lines want, margin included:
 * how wide a panel of them need be. */
int grid_natural_width(struct grid *g, int h);
/* The header at y, then the rows that fit in h - 1 lines, in w columns
 * from x (one column of margin on the left). */
void grid_draw(struct grid *g, int y, int x, int h, int w);

#endif
