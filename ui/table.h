/* table.h: the list engine behind every full-screen view: columns, rows
 * built from the model, a case-insensitive filter, a sort column, and a
 * selection that follows its row (by key) across refreshes. */
#ifndef SECTOP_TABLE_H
#define SECTOP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "draw.h"

#define TABLE_MAX_COLS 12

struct column {
	const char *title;
	int width;               /* columns it takes; the flex column takes the rest */
	bool flex;
	bool numeric;            /* right-aligned, sorted by value */
};

struct row {
	char *key;               /* identity of the row (an address, a tenant, ...) */
	char *cells[TABLE_MAX_COLS];
	long nums[TABLE_MAX_COLS];
	enum role role;          /* ROLE_NORMAL, or ROLE_ALERT / ROLE_WARN / ROLE_DIM */
	int kind;                /* what Enter opens (view-specific) */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

/* What the operator did to a list: kept per view across refreshes. */
struct table_state {
	int sort_col;            /* -1: the order the rows came in */
	bool sort_desc;
	char filter[128];
	char *selected_key;      /* NULL: the first row */
	size_t selected;         /* index into the visible rows */
	size_t top;              /* first visible row */
};

void rows_clear(struct rows *r);
/* A new row; cells are set with row_text / row_num.  NULL on no memory. */
struct row *rows_add(struct rows *r, const char *key);
void row_text(struct row *w, int col, const char *text);
void row_num(struct row *w, int col, long v);
/* row_num with "~" before an estimate; sorts by the value all the same. */
void row_figure(struct row *w, int col, long v, unsigned approx, unsigned flag);
/* A number with its own text (e.g. "3600s" for a TTL), sorted by value. */
void row_num_text(struct row *w, int col, long v, const char *text);

/* Filter and sort rows in place per st, then find the selection. */
void table_apply(struct table_state *st, struct rows *r, const struct column *cols, int ncols);
/* The visible rows, drawn at (y, x) in h lines (one of them the header). */
void table_draw(const struct draw *d, struct table_state *st, const struct rows *r,
                const struct column *cols, int ncols, int y, int x, int h, int w);
/* Movement: by delta rows (page = visible rows), or to an end. */
void table_move(struct table_state *st, const struct rows *r, long delta);
void table_select(struct table_state *st, const struct rows *r, size_t index);
const struct row *table_current(const struct table_state *st, const struct rows *r);
/* n/N: the next (dir 1) or previous (-1) row matching the filter, wrapping. */
void table_next_match(struct table_state *st, const struct rows *r, int dir);
/* Does any cell contain needle, ignoring case? */
bool row_matches(const struct row *w, int ncols, const char *needle);

#endif
