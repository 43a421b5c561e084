/* redis_events.c: see redis_events.h.  The same rules as redis.c:
 * callbacks never free the connection (they record a failure in e->fail),
 * and it is freed only from the top (ready, tick, free). */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "redis_conn.h"
#include "redis_events.h"
#include "strutil.h"

#define SLOTS (2 * EVENTS_MAX)

struct redis_events {
	char host[256], path[108], user[128];
	int port;
	const char *password;
	struct rtls *tls;
	char *pattern;
	size_t pattern_len, head_len;

	struct rconn *conn;
	bool dropping, subscribed;
	char fail[200];
	struct backoff bo;
	int64_t retry_at_ms;

	/* the pending keys, distinct: a hash set of indices + 1 */
	char *keys[EVENTS_MAX];
	size_t lens[EVENTS_MAX];
	size_t n;
	uint16_t slots[SLOTS];
	bool overflowed;
};

bool revents_flags_enough(const char *flags)
{
	if (!flags || !strchr(flags, 'K'))
		return false;
	if (strchr(flags, 'A'))
		return true;
	return strchr(flags, '$') && strchr(flags, 'g') && strchr(flags, 'x');
}

/* ---------------------------------------------------------------- the set */

static uint32_t hash(const char *k, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

static void pending_add(struct redis_events *e, const char *k, size_t len)
{
	size_t i = hash(k, len) % SLOTS;

	for (; e->slots[i]; i = (i + 1) % SLOTS) {
		size_t j = e->slots[i] - 1u;
		if (e->lens[j] == len && memcmp(e->keys[j], k, len) == 0)
			return;           /* coalesced: one read will do for both */
	}
	if (e->n == EVENTS_MAX) {
		e->overflowed = true;
		return;
	}
	char *copy = mem_dup(k, len);
	if (!copy) {
		e->overflowed = true;
		return;
	}
	e->keys[e->n] = copy;
	e->lens[e->n] = len;
	e->slots[i] = (uint16_t)(++e->n);
}

/* The set again over the keys left, after some were taken from its end. */
static void pending_reindex(struct redis_events *e)
{
	memset(e->slots, 0, sizeof e->slots);
	for (size_t j = 0; j < e->n; j++) {
		size_t i = hash(e->keys[j], e->lens[j]) % SLOTS;
		while (e->slots[i])
			i = (i + 1) % SLOTS;
		e->slots[i] = (uint16_t)(j + 1);
	}
}

size_t revents_take(struct redis_events *e, size_t max, char ***keys, size_t **lens, bool *overflowed)
{
	size_t n = e->n < max ? e->n : max, first = e->n - n;

	*keys = NULL;
	*lens = NULL;
	*overflowed = e->overflowed;
	e->overflowed = false;
	if (n == 0)
		return 0;
	*keys = malloc(n * sizeof **keys);
	*lens = malloc(n * sizeof **lens);
	if (!*keys || !*lens) {
		free(*keys);
		free(*lens);
		*keys = NULL;
		*lens = NULL;
		*overflowed = true;      /* the caller walks instead */
		for (size_t i = first; i < e->n; i++)
			free(e->keys[i]);
		n = 0;
	} else {
		memcpy(*keys, e->keys + first, n * sizeof **keys);
		memcpy(*lens, e->lens + first, n * sizeof **lens);
	}
	e->n = first;
	pending_reindex(e);
	return n;
}

/* ---------------------------------------------------------------- replies */

static void fail_set(struct redis_events *e, const char *why)
{
	if (!e->fail[0])
		snprintf(e->fail, sizeof e->fail, "%.199s", why && *why ? why : "failed");
}

/* ["pmessage", pattern, channel, event]: the key is the channel past its
 * head; ["psubscribe", pattern, count] confirms the subscription.  Every
 * message of a subscribed connection comes to this one callback: it queues
 * itself again for the next. */
static void on_message(struct rconn *c, redisReply *r, void *privdata)
{
	struct redis_events *e = privdata;

	if (!r || e->dropping) {
		freeReplyObject(r);
		return;
	}
	if (rconn_command_raw(c, on_message, e, "", 0) < 0)
		fail_set(e, "out of memory");
	if (r->type == REDIS_REPLY_ERROR) {
		fail_set(e, r->str);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 3 && r->element[0]->type == REDIS_REPLY_STRING) {
		const char *kind = r->element[0]->str;
		const redisReply *ch = r->element[2];
		if (strcmp(kind, "psubscribe") == 0) {
			e->subscribed = true;
			backoff_reset(&e->bo);
			log_msg(LOG_INFO, "redis: following keyspace events of the block keys");
		} else if (strcmp(kind, "pmessage") == 0 && r->elements == 4 && ch->type == REDIS_REPLY_STRING &&
		           ch->len > e->head_len) {
			pending_add(e, ch->str + e->head_len, ch->len - e->head_len);
		}
	}
	freeReplyObject(r);
}

static void on_auth(struct rconn *c, redisReply *r, void *privdata)
{
	struct redis_events *e = privdata;

	(void)c;
	if (r && !e->dropping && r->type == REDIS_REPLY_ERROR)
		fail_set(e, r->str);
	freeReplyObject(r);
}

/* ---------------------------------------------------------------- the connection */

static void conn_drop(struct redis_events *e, int64_t now, const char *why)
{
	if (e->conn) {
		e->dropping = true;
		rconn_free(e->conn);
		e->dropping = false;
		e->conn = NULL;
	}
	if (why)
		log_msg(LOG_WARN, "redis: keyspace events: %s; walking until they are back", why);
	e->subscribed = false;
	e->fail[0] = '\0';
	e->retry_at_ms = now + backoff_next(&e->bo);
	/* whatever happened while down is the walk's to find */
	e->overflowed = true;
}

static void conn_start(struct redis_events *e)
{
	char err[256];

	e->conn = rconn_new(e->host, e->port, e->path, e->tls, err, sizeof err);
	if (!e->conn) {
		fail_set(e, err);
		return;
	}
	if (e->password && e->user[0])
		rconn_command(e->conn, on_auth, e, "AUTH %s %s", e->user, e->password);
	else if (e->password)
		rconn_command(e->conn, on_auth, e, "AUTH %s", e->password);
	/* the pattern names the database: no SELECT; %b: it may hold any byte */
	rconn_command(e->conn, on_message, e, "PSUBSCRIBE %b", e->pattern, e->pattern_len);
}

struct redis_events *revents_new(const struct revents_at *at, const char *pattern, size_t pattern_len,
                                 size_t head_len)
{
	struct redis_events *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->pattern = malloc(pattern_len + 1);
	if (!e->pattern) {
		free(e);
		return NULL;
	}
	memcpy(e->pattern, pattern, pattern_len);
	e->pattern[pattern_len] = '\0';
	e->pattern_len = pattern_len;
	e->head_len = head_len;
	snprintf(e->host, sizeof e->host, "%s", at->host);
	snprintf(e->path, sizeof e->path, "%s", at->path ? at->path : "");
	snprintf(e->user, sizeof e->user, "%s", at->user ? at->user : "");
	e->port = at->port;
	e->password = at->password;
	e->tls = at->tls;
	backoff_init(&e->bo, 250, 15000, (uint32_t)clock_mono_ms() ^ ((uint32_t)getpid() << 8));
	return e;
}

void revents_free(struct redis_events *e)
{
	if (!e)
		return;
	if (e->conn) {
		e->dropping = true;
		rconn_free(e->conn);
	}
	for (size_t i = 0; i < e->n; i++)
		free(e->keys[i]);
	free(e->pattern);
	free(e);
}

bool revents_up(const struct redis_events *e)
{
	return e && e->conn && e->subscribed;
}

void revents_tick(struct redis_events *e, int64_t now)
{
	if (!e->conn && !e->fail[0] && now >= e->retry_at_ms)
		conn_start(e);
	if (e->fail[0]) {
		char why[sizeof e->fail];
		snprintf(why, sizeof why, "%s", e->fail);
		conn_drop(e, now, why);
	}
}

int revents_fds(struct redis_events *e, struct pollfd *pfd, int max, int64_t now, int64_t *timeout_ms)
{
	if (!e->conn) {
		int64_t wait = e->retry_at_ms > now ? e->retry_at_ms - now : 0;
		if (wait < *timeout_ms)
			*timeout_ms = wait;
		return 0;
	}
	if (max < 1)
		return 0;
	pfd[0] = (struct pollfd){ .fd = rconn_fd(e->conn), .events = rconn_events(e->conn) };
	return 1;
}

void revents_ready(struct redis_events *e, const struct pollfd *pfd, int n, int64_t now)
{
	if (!e->conn || n < 1 || pfd[0].fd != rconn_fd(e->conn) || !pfd[0].revents)
		return;
	if (rconn_handle(e->conn, pfd[0].revents) < 0)
		fail_set(e, rconn_error(e->conn));
	if (e->fail[0])
		revents_tick(e, now);
}
