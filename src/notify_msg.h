/* notify_msg.h: what a notification says, as the JSON document a receiver
 * parses or as Slack's {"text": ...}.  Pure: no I/O.  Every string from
 * outside (an address, a server's error) is valid UTF-8 with its controls
 * escaped (json_out.h); in Slack's text it is sanitised and its <, > and &
 * escaped, so it can neither mention anyone nor forge a link.
 */
#ifndef SECTOP_NOTIFY_MSG_H
#define SECTOP_NOTIFY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"

enum notify_format { NOTIFY_JSON, NOTIFY_SLACK };

/* Where and about what: the same for every message of a run. */
struct notify_origin {
	const char *host;            /* this machine's name */
	const char *incident;        /* --incident, or NULL */
};

/* An alert that started (or, started false, cleared).  malloc'd. */
char *notify_msg_alert(enum notify_format f, const struct notify_origin *o, const struct alert *a,
                       bool started, int64_t since_wall_ms, int64_t now_wall_ms);

/* n alerts that the rate limit kept back, counted by kind, with the first
 * few keys.  malloc'd. */
char *notify_msg_suppressed(enum notify_format f, const struct notify_origin *o, unsigned long n,
                            const unsigned long by_kind[ALERT_KINDS], const char *const *keys,
                            int n_keys, int64_t now_wall_ms);

/* A stable Idempotency-Key for a message: its key, event and start, hashed
 * (16 hex digits, "sectop-" in front).  A retry sends the same one. */
void notify_msg_idempotency(char *buf, size_t n, const char *key, bool started, int64_t since_wall_ms);

#endif
