/* overview_wide.h: the overview's panels on a wide terminal (private to
 * overview.c).  From OVERVIEW_WIDE columns the top addresses and tenants
 * show more columns, each as wide as its longest value, and a panel of the
 * addresses nearest their rate limit joins the health panel. */
#ifndef SECTOP_OVERVIEW_WIDE_H
#define SECTOP_OVERVIEW_WIDE_H

#include <stddef.h>

#include "view.h"

#define OVERVIEW_WIDE 160

void wide_top_ips(const struct view_ctx *v, int y, int x, int h, int w, size_t selected, const char *title);
/* The width the tenants panel's columns need, in h lines: on a wide
 * terminal the top addresses get the rest. */
int wide_tenants_width(const struct view_ctx *v, int h);
void wide_tenants(const struct view_ctx *v, int y, int x, int h, int w, const char *title);
void wide_ratelimits(const struct view_ctx *v, int y, int x, int h, int w);
void wide_tail(const struct view_ctx *v, int y, int h, int cols);

#endif
