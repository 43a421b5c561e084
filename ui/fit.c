#include "config.h"

#include <stdlib.h>

#include "fit.h"
#include "sanitize.h"

static int used_of(const int *widths, int n, int gap)
{
	int used = 0, shown = 0;

	for (int i = 0; i < n; i++)
		if (widths[i] > 0) {
			used += widths[i];
			shown++;
		}
	return used + (shown > 1 ? (shown - 1) * gap : 0);
}

/* The last column that may still go, or -1. */
static int last_droppable(const struct fit_col *c, int n, const int *widths)
{
	for (int i = n - 1; i >= 0; i--)
		if (widths[i] > 0 && !c[i].keep)
			return i;
	return -1;
}

int fit_columns(const struct fit_col *c, int n, int total, int gap, int *widths)
{
	int flex = -1;

	for (int i = 0; i < n; i++) {
		widths[i] = c[i].want > 0 ? c[i].want : 1;
		if (c[i].flex && flex < 0)
			flex = i;
	}
	int over = used_of(widths, n, gap) - total;
	/* too wide: the flex column gives what it can spare, then columns go */
	if (over > 0 && flex >= 0) {
		int spare = widths[flex] - (c[flex].min > 0 ? c[flex].min : 1);
		int give = spare < over ? (spare > 0 ? spare : 0) : over;
		widths[flex] -= give;
	}
	for (int i; used_of(widths, n, gap) > total && (i = last_droppable(c, n, widths)) >= 0;)
		widths[i] = 0;
	over = used_of(widths, n, gap) - total;
	for (int i = n - 1; over > 0 && i >= 0; i--) {     /* only kept columns left: cut the last */
		if (widths[i] <= 0)
			continue;
		int give = widths[i] - 1 < over ? widths[i] - 1 : over;
		widths[i] -= give;
		over -= give;
	}
	/* room left: to the flex column if it is still there */
	if (flex >= 0 && widths[flex] > 0 && over < 0)
		widths[flex] -= over;
	return used_of(widths, n, gap);
}

void fit_want(struct fit_col *c, int width)
{
	if (width > c->want)
		c->want = width;
}

int fit_shown_width(const char *raw, bool ascii)
{
	char *safe = sanitize_str(raw, ascii ? SAN_ASCII : 0);
	int w = safe ? sanitize_width(safe) : 0;

	free(safe);
	return w;
}
