/* redis_events.h: following Redis keyspace notifications for the block
 * keys, on a second connection of its own (a connection that subscribes
 * can send nothing else).
 *
 * Where the server publishes keyspace events (notify-keyspace-events holds
 * K and the classes of set, del/expire and expired), a new block, an
 * unblock or an expiry is known at once, instead of at the next pass of the
 * keyspace walk.  sectop never changes the server's configuration: it reads
 * it, and without the events it walks.
 *
 * The connection (redis_conn.h, plain or TLS) is polled with the main one
 * (fds/ready/tick), never blocks, and is remade with backoff when it drops.
 * Events are coalesced into a set of distinct keys, at most EVENTS_MAX: a
 * flood of events costs bounded memory, and past the bound the caller is
 * told to walk instead (revents_take() says "overflowed").
 */
#ifndef SECTOP_REDIS_EVENTS_H
#define SECTOP_REDIS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pollfd;
struct redis_events;

/* one GET/TTL batch of at most this many keys: the size of a walk step,
 * so that reading them costs a loop turn no more than a SCAN step does */
#define EVENTS_MAX 1024
/* keys read because of events in one turn of the loop, at most: a flood is
 * spread over turns instead of holding one up */
#define EVENTS_BATCH 128

/* Does this notify-keyspace-events value publish what sectop needs?  K
 * (keyspace channel), and for the string set, the del/expire and the
 * expiry of a key: $, g and x, or A, which holds them all. */
bool revents_flags_enough(const char *flags);

/* Where to subscribe: the master the main link found (over TLS when tls). */
struct rtls;
struct revents_at {
	const char *host, *path;     /* path: a unix socket, else "" */
	int port;
	const char *user, *password; /* user "" and password NULL: none */
	struct rtls *tls;
};

/* pattern: the PSUBSCRIBE pattern (binary-safe, its length given), whose
 * channels start with head_len bytes before the key name.  at is copied. */
struct redis_events *revents_new(const struct revents_at *at, const char *pattern, size_t pattern_len,
                                 size_t head_len);
void revents_free(struct redis_events *e);

int revents_fds(struct redis_events *e, struct pollfd *pfd, int max, int64_t now, int64_t *timeout_ms);
void revents_ready(struct redis_events *e, const struct pollfd *pfd, int n, int64_t now);
void revents_tick(struct redis_events *e, int64_t now);

/* Subscribed, and events are arriving as they happen. */
bool revents_up(const struct redis_events *e);

/* The keys events named since the last call (full key names, each once),
 * handed over: free each and the arrays.  *overflowed: more distinct keys
 * than EVENTS_MAX came, some were not kept. */
size_t revents_take(struct redis_events *e, size_t max, char ***keys, size_t **lens, bool *overflowed);

#endif
