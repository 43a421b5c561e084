/* health.h: the HTTP health source.  Every configured endpoint is checked
 * every refresh_ms through one curl multi handle whose sockets and timer are
 * handed to the shared poll() loop, so a slow endpoint never holds up
 * anything else.  Results are published whole into m->health[].
 *
 * curl_global_init() is the caller's job (once, at start-up).
 */
#ifndef SECTOP_HEALTH_H
#define SECTOP_HEALTH_H

#include <stddef.h>

#include "conf.h"
#include "model.h"
#include "source.h"

struct health;

/* Allocates m->health (cfg->n_health entries, state HEALTH_UNKNOWN, name and
 * url copied); model_free frees them.  cfg and m must outlive the source.
 * NULL with a message in err on failure. */
struct health *health_new(const struct config *cfg, struct model *m, char *err, size_t errsz);

/* The source for the loop; the loop's destroy frees it (transfers, multi). */
struct source health_source(struct health *h);

#endif
