/* fit.h: column widths from what the columns hold.  A wide terminal shows
 * more, not wider: each column is as wide as its longest value (or its
 * title), the room left goes to the one column that can use it (a path, a
 * user agent, an organisation), and on too narrow a terminal the columns
 * that matter least (the last) go first.  Pure: no curses. */
#ifndef SECTOP_FIT_H
#define SECTOP_FIT_H

#include <stdbool.h>

struct fit_col {
	int want;                /* its widest value or its title, in columns */
	int min;                 /* flex: the narrowest it is still worth showing at */
	bool flex;               /* takes the room left; shrinks to min before any column goes */
	bool keep;               /* never dropped (the column a row is known by) */
};

/* Each column's width (0: left out) for a total of `total` columns, the
 * columns `gap` apart.  Returns the columns used. */
int fit_columns(const struct fit_col *c, int n, int total, int gap, int *widths);

/* A column's want: the widest of its title and its values so far. */
void fit_want(struct fit_col *c, int width);

/* The terminal columns a raw (untrusted) string takes once sanitised. */
int fit_shown_width(const char *raw, bool ascii);

#endif
