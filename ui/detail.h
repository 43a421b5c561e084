/* detail.h: drill-down screens, built as lines from the model: an address,
 * a tenant, a health endpoint; and the help screen. */
#ifndef SECTOP_DETAIL_H
#define SECTOP_DETAIL_H

#include <stdint.h>

#include "table.h"

struct model;
struct config;

enum detail_view { DV_IP, DV_TENANT, DV_HEALTH };

/* Lines of the drill-down of key (an address, tenant or endpoint name). */
void detail_build(struct rows *lines, enum detail_view what, const char *key,
                  const struct model *m, const struct config *cfg, int64_t now_ms);
/* Lines of the help for the keys that apply in `where` (keys.h IN_*). */
void help_build(struct rows *lines, unsigned where);
/* Scrollable lines, no header. */
void lines_draw(const struct draw *d, struct table_state *st, const struct rows *lines,
                int y, int h, int w);

#endif
