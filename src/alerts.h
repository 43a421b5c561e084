/* alerts.h: what sectop calls an alert, read off the model: the one
 * definition the console's ALERTS count, its bell, the notifications and
 * `sectop watch` share.  Pure: no I/O, no allocation.
 *
 * Each alert has a stable key (its kind and subject): the same condition
 * seen again at the next refresh has the same key, which is what
 * alert_track.h deduplicates on.
 */
#ifndef SECTOP_ALERTS_H
#define SECTOP_ALERTS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct model;

enum alert_kind {
	ALERT_BRUTE_FORCE,           /* an address over alert-failures (snapshot_ip_alert) */
	ALERT_ALLOWLISTED_BLOCKED,   /* the servers blocked an allow-listed address */
	ALERT_ENDPOINT_DOWN,         /* a health endpoint is down */
	ALERT_CERT_EXPIRING,         /* its certificate ends within cert-warn-days */
	ALERT_SOURCE_STALE,          /* PostgreSQL or Redis stale for longer than stale-alert */
	ALERT_KINDS
};

#define ALERT_FIGURES 5

struct alert_figure {
	const char *name;            /* a static string; NULL: unused */
	long long value;
};

struct alert {
	enum alert_kind kind;
	char key[160];               /* "brute_force:203.0.113.45" */
	char subject[128];           /* the address, endpoint or source: raw */
	char detail[200];            /* why, as a server said it (raw; may be empty) */
	struct alert_figure fig[ALERT_FIGURES];
};

/* "brute_force", "allowlisted_blocked", "endpoint_down", "cert_expiring",
 * "source_stale" */
const char *alert_kind_name(enum alert_kind k);

/* Call fn for every alert now true, in a stable order. */
typedef void (*alert_fn)(void *ctx, const struct alert *a);
void alerts_each(const struct model *m, const struct config *cfg, int64_t now_wall_ms,
                 alert_fn fn, void *ctx);

/* How many alerts there are now (the console's ALERTS n). */
size_t alerts_count(const struct model *m, const struct config *cfg, int64_t now_wall_ms);

/* One line for people, raw strings sanitised: "203.0.113.45: 57 failures
 * in 5m (more than 10 in 5m)".  Returns buf. */
char *alert_describe(const struct alert *a, char *buf, size_t n);

/* The value of a figure by name, or dflt. */
long long alert_figure(const struct alert *a, const char *name, long long dflt);

#endif
