/* notify.h: alerts that reach people.  A source of the loop that reads the
 * model's alerts (alerts.h) once a refresh, tells each new one once
 * (alert_track.h) and POSTs it to every `notify` target of the
 * configuration (notify_msg.h), through one curl multi handle whose sockets
 * and timer the shared poll() loop drives; host names are looked up off the
 * loop (resolve.h).  Nothing here blocks.
 *
 * Per target: one request at a time, in order; at most `rate` messages a
 * minute, the rest summed up in one later message; a 5xx, a timeout or a
 * failed connection retried with backoff (the same Idempotency-Key), a 4xx
 * dropped.  A target's URL may itself be a secret (Slack's webhooks): only
 * its host is ever logged.  The token is read from the environment for
 * each request and never logged.
 */
#ifndef SECTOP_NOTIFY_H
#define SECTOP_NOTIFY_H

#include <stddef.h>

#include "alert_track.h"
#include "log.h"
#include "source.h"

struct config;
struct model;
struct notify;

/* cfg and m must outlive it.  NULL with err when a target cannot be used
 * (its token's variable is unset). */
struct notify *notify_new(const struct config *cfg, const struct model *m, char *err, size_t errsz);
struct source notify_source(struct notify *n);

/* Told of every alert that starts or clears (besides the targets). */
void notify_on_change(struct notify *n, alert_change_fn fn, void *ctx);
/* Where delivery problems are told; the default is the log file (log.h).
 * line is safe to print. */
typedef void (*notify_say_fn)(void *ctx, enum log_level level, const char *line);
void notify_on_say(struct notify *n, notify_say_fn fn, void *ctx);

/* Stop reading alerts (the program is ending): what the rate limit held
 * back is queued now, in one message a target; what is queued still goes. */
void notify_stop(struct notify *n);
/* Messages on their way or due now, over every target (not those waiting
 * for a retry after a failure). */
size_t notify_pending(const struct notify *n);
/* Messages not delivered yet, whatever they wait for. */
size_t notify_queued(const struct notify *n);

#endif
