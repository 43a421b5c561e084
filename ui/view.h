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
	const char *message;     /* one line for the footer, or NULL */
	bool message_is_prompt;  /* the footer is a prompt: show the cursor there */
	bool bell;
};

/* Smallest terminal the overview is useful in. */
#define VIEW_MIN_COLS 50
#define VIEW_MIN_ROWS 14

/* Alerts now: addresses over the threshold, endpoints down or with a
 * certificate about to expire, sources stale for long. */
size_t view_alerts(const struct view_ctx *v);
/* The header line: sources, scope, badges, clock. */
void view_header(const struct view_ctx *v, int cols);
/* The footer line: the message, or the hint. */
void view_footer(const struct view_ctx *v, int rows, int cols, const char *hint);
/* A title rule at row y. */
void view_title(const struct view_ctx *v, int y, int cols, const char *title, const char *right);
/* selected: the row of the top addresses Enter opens */
void view_overview(const struct view_ctx *v, int rows, int cols, size_t selected);
void view_too_small(const struct view_ctx *v, int rows, int cols);

#endif
