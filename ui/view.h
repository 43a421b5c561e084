/* view.h: what a view needs to draw: the model (read-only), the
 * configuration, the drawing context and the console's own state. */
#ifndef SECTOP_VIEW_H
#define SECTOP_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "draw.h"

struct config;
struct model;

struct view_ctx {
	const struct model *m;
	const struct config *cfg;
	const struct draw *d;
	int64_t now_ms;          /* wall clock */
	bool paused;
	const char *message;     /* one line for the footer, or NULL */
};

/* Smallest terminal the overview is useful in. */
#define VIEW_MIN_COLS 50
#define VIEW_MIN_ROWS 14

void view_overview(const struct view_ctx *v, int rows, int cols);
void view_too_small(const struct view_ctx *v, int rows, int cols);

#endif
