/* redis.c: the Redis source.
 *
 * hiredis 0.14 async, on our own poll adapter: the ev hooks only record what
 * the context wants (read, write); fds() turns that into a pollfd and ready()
 * calls redisAsyncHandleRead/Write.  Nothing here ever waits: the one thing
 * that can is redisAsyncConnect() on a host *name*, which resolves it with a
 * synchronous getaddrinfo() (an IP literal or a unix socket never does).
 *
 * Commands go out in batches (the connection hello, the exact state of the
 * addresses on screen, a SCAN step, the GET/TTL of a step's keys); replies
 * come back in order, so each callback knows its place in its batch by
 * counting.  0.14 async has no timeouts: each batch carries a deadline, and
 * past it the connection is dropped and remade with backoff.  That is also
 * how a stopped server (SIGSTOP: the kernel still completes the connect,
 * but no reply ever comes) ends up failed.
 *
 * Freeing a context runs every pending callback with a NULL reply, and
 * hiredis frees it by itself on an I/O error in the middle of
 * redisAsyncHandleRead().  So: callbacks never free the context; they
 * ignore NULL replies and, to give up, only record why in r->fail.  The
 * context is freed only from the top (ready, tick, destroy), and the batches
 * its callbacks point to after it.  (A callback may free its own batch once
 * its last reply is in: hiredis holds no other reference to it.)
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "backoff.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "model.h"
#include "redis.h"
#include "redis_url.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 15000

enum conn_state { CONN_DOWN, CONN_HANDSHAKE, CONN_READY };
enum batch_kind { BATCH_HELLO, BATCH_EXACT, BATCH_SCAN, BATCH_FETCH };
/* The walk goes over the prefixes in this order; WALK_DONE ends it. */
enum walk_prefix { WALK_BLOCKED, WALK_FAILED_AUTH, WALK_RATELIMIT, WALK_DONE };

/* One key as the walk found it: the raw bytes after the prefix (any bytes,
 * NUL-terminated for convenience, len says how many) and what GET/TTL said. */
struct found {
	char *key;
	size_t len;
	bool present;                /* GET gave a value of a usable type */
	enum redis_value_kind kind;
	char *by, *reason;
	int64_t at;
	long value;
	long ttl;
};

struct batch {
	struct batch *next;          /* FIFO, in the order the replies come */
	struct redis *r;
	enum batch_kind kind;
	int64_t deadline_ms;
	size_t expected, got;
	const char *names[3];        /* BATCH_HELLO: the command of each reply */
	struct ip_redis *ips;        /* BATCH_EXACT */
	size_t n_ips;
	unsigned gen;
	int prefix;                  /* BATCH_SCAN, BATCH_FETCH */
	struct found *found;         /* BATCH_FETCH */
	size_t n_found;
	char cursor[24];             /* BATCH_FETCH: the step's next cursor */
};

struct walk {
	bool active;                 /* a walk is under way */
	bool in_slice;               /* this refresh's budget is not spent yet */
	bool stepping;               /* a SCAN or its GET/TTL is in flight */
	int prefix;
	char cursor[24];             /* decimal, as the server sent it */
	int64_t slice_start_ms;
	/* The block list, built in the model's own type so that publishing
	 * it is a hand-over, not a copy or a sort of up to 100000 entries. */
	struct block_entry *blocked;
	size_t *blocked_len;         /* key lengths: a key may hold NUL bytes */
	size_t n_blocked, cap_blocked;
	uint32_t *slots;             /* hash set over blocked: index + 1, 0 empty */
	size_t n_slots;
	unsigned long dropped;       /* blocked keys past REDIS_MAX_BLOCKED */
	struct found top[2][REDIS_TOP_COUNTERS]; /* min-heaps by value */
	size_t n_top[2];
};

struct redis {
	const struct config *cfg;
	struct model *m;
	struct redis_target target;
	char display[320];
	const char *password;        /* the URL's, else cfg->redis_password */
	const char *prefix[3];
	size_t prefix_len[3];
	char *pattern[3];            /* MATCH patterns: escaped prefix + "*" */
	char count[16];
	int walk_end;                /* the prefix that ends a walk: WALK_DONE,
	                              * WALK_FAILED_AUTH for the block keys only, or
	                              * WALK_BLOCKED for no walk at all */
	size_t exact_stride;         /* commands per address looked up: 4, or 2
	                              * (the block key alone) */
	int timeout_ms;

	redisAsyncContext *ac;
	enum conn_state conn;
	bool want_read, want_write;
	bool dropping;               /* we are freeing the context ourselves */
	char fail[256];              /* set in a callback: drop the connection */
	struct batch *head, *tail;

	struct backoff bo;
	int64_t now_ms;
	int64_t retry_at_ms, next_refresh_ms;
	bool refresh_asked, exact_wanted, exact_inflight, have_exact;
	unsigned exact_gen;

	struct walk walk;
	char logged[256];            /* the failure last logged; "" when fine */
	bool ever_ok;
	struct redis_stats stats;
};

/* ---------------------------------------------------------------- helpers */

static void *mem_dup(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static void found_free(struct found *f)
{
	free(f->key);
	free(f->by);
	free(f->reason);
	memset(f, 0, sizeof *f);
}

/* Glob metacharacters in a configured prefix must match themselves. */
static char *pattern_for(const char *prefix)
{
	size_t n = strlen(prefix);
	char *p = malloc(2 * n + 2), *o = p;

	if (!p)
		return NULL;
	for (const char *s = prefix; *s; s++) {
		if (strchr("*?[]\\", *s))
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '*';
	*o = '\0';
	return p;
}

/* A whole decimal integer: optional '-', digits, nothing else. */
static bool parse_long(const char *s, size_t len, long *out)
{
	char buf[24];
	size_t i = (len > 0 && s[0] == '-');

	if (len == i || len >= sizeof buf)
		return false;
	for (size_t j = i; j < len; j++)
		if (s[j] < '0' || s[j] > '9')
			return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	long long v = strtoll(buf, NULL, 10);
	if (errno || v < LONG_MIN || v > LONG_MAX)
		return false;
	*out = (long)v;
	return true;
}

static void redis_log_fail(struct redis *r, const char *why)
{
	if (strcmp(r->logged, why) == 0)
		return;
	log_msg(LOG_WARN, "redis %s: %s", r->display, why);
	snprintf(r->logged, sizeof r->logged, "%s", why);
}

static void redis_log_ok(struct redis *r)
{
	if (r->logged[0] || !r->ever_ok)
		log_msg(LOG_INFO, "redis %s: %s", r->display, r->ever_ok ? "refreshing again" : "connected");
	r->logged[0] = '\0';
	r->ever_ok = true;
}

/* Only the first reason counts: what follows is usually a consequence. */
__attribute__((format(printf, 2, 3)))
static void redis_set_fail(struct redis *r, const char *fmt, ...)
{
	va_list ap;

	if (r->fail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->fail, sizeof r->fail, fmt, ap);
	va_end(ap);
	if (!r->fail[0])
		strcpy(r->fail, "failed");
}

/* ---------------------------------------------------------------- replies */

static bool reply_wrongtype(const redisReply *rep)
{
	return rep->type == REDIS_REPLY_ERROR && rep->str && strncmp(rep->str, "WRONGTYPE", 9) == 0;
}

static void reply_unexpected(struct redis *r, const char *cmd, const redisReply *rep)
{
	if (rep->type == REDIS_REPLY_ERROR)
		redis_set_fail(r, "%s: %.*s", cmd, (int)(rep->len > 200 ? 200 : rep->len), rep->str);
	else
		redis_set_fail(r, "%s: unexpected reply of type %d", cmd, rep->type);
}

/* The JSON sectop writes: {"by":"<operator>","reason":"...","at":<unix time>}. */
static void block_json(const char *s, size_t len, struct found *f)
{
	json_error_t jerr;
	json_t *j = json_loadb(s, len, 0, &jerr);

	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	json_t *by = json_object_get(j, "by");
	json_t *reason = json_object_get(j, "reason");
	json_t *at = json_object_get(j, "at");
	if (json_is_string(by))
		f->by = strdup(json_string_value(by));
	if (json_is_string(reason))
		f->reason = strdup(json_string_value(reason));
	if (json_is_integer(at))
		f->at = (int64_t)json_integer_value(at);
	else if (json_is_real(at))
		f->at = (int64_t)json_real_value(at);
	if (by || reason || at)
		f->kind = RV_JSON_BLOCK;
	json_decref(j);
}

/* GET of a block key.  0, or -1 with r->fail set. */
static int parse_block(struct redis *r, const redisReply *rep, struct found *f)
{
	f->present = false;
	f->kind = RV_ABSENT;
	if (rep->type == REDIS_REPLY_NIL)
		return 0;
	if (reply_wrongtype(rep)) {
		f->present = true;
		f->kind = RV_WRONG_TYPE;
		return 0;
	}
	if (rep->type != REDIS_REPLY_STRING) {
		reply_unexpected(r, "GET", rep);
		return -1;
	}
	f->present = true;
	f->kind = RV_PLAIN;
	block_json(rep->str, rep->len, f);
	return 0;
}

/* GET of a counter: a number, or wrong type (a hash, or "abc"). */
static int parse_counter(struct redis *r, const redisReply *rep, struct found *f)
{
	f->present = false;
	f->kind = RV_ABSENT;
	f->value = -1;
	if (rep->type == REDIS_REPLY_NIL)
		return 0;
	if (reply_wrongtype(rep) ||
	    (rep->type == REDIS_REPLY_STRING && !parse_long(rep->str, rep->len, &f->value))) {
		f->kind = RV_WRONG_TYPE;
		f->value = -1;
		return 0;
	}
	if (rep->type != REDIS_REPLY_STRING) {
		reply_unexpected(r, "GET", rep);
		return -1;
	}
	f->present = true;
	f->kind = RV_COUNTER;
	return 0;
}

static int parse_ttl(struct redis *r, const redisReply *rep, long *ttl)
{
	if (rep->type != REDIS_REPLY_INTEGER) {
		reply_unexpected(r, "TTL", rep);
		return -1;
	}
	*ttl = (long)rep->integer;
	return 0;
}

/* ---------------------------------------------------------------- batches */

static void redis_on_reply(redisAsyncContext *ac, void *reply, void *privdata);

static struct batch *batch_new(struct redis *r, enum batch_kind kind)
{
	struct batch *b = calloc(1, sizeof *b);

	if (!b) {
		redis_set_fail(r, "out of memory");
		return NULL;
	}
	b->r = r;
	b->kind = kind;
	b->deadline_ms = r->now_ms + r->timeout_ms;
	if (r->tail)
		r->tail->next = b;
	else
		r->head = b;
	r->tail = b;
	return b;
}

/* Queue one command of b.  Arguments only through %s and %b: a key or a
 * password is never part of the format. */
static bool batch_cmd(struct redis *r, struct batch *b, const char *fmt, ...)
{
	va_list ap;

	if (r->fail[0] || !r->ac)
		return false;
	va_start(ap, fmt);
	int rc = redisvAsyncCommand(r->ac, redis_on_reply, b, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK) {
		const char *e = r->ac->errstr && r->ac->errstr[0] ? r->ac->errstr : "connection closing";
		redis_set_fail(r, "cannot queue a command: %s", e);
		return false;
	}
	b->expected++;
	r->stats.commands++;
	return true;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n_ips; i++)
		ip_redis_free(&b->ips[i]);
	free(b->ips);
	for (size_t i = 0; i < b->n_found; i++)
		found_free(&b->found[i]);
	free(b->found);
	free(b);
}

static void batch_unlink(struct redis *r, struct batch *b)
{
	struct batch **pp = &r->head, *prev = NULL;

	while (*pp && *pp != b) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = b->next;
	if (r->tail == b)
		r->tail = prev;
}

static void batches_free(struct redis *r)
{
	struct batch *b = r->head;

	while (b) {
		struct batch *next = b->next;
		batch_free(b);
		b = next;
	}
	r->head = r->tail = NULL;
}

static const char *batch_what(const struct redis *r, const struct batch *b)
{
	switch (b->kind) {
	case BATCH_HELLO:
		return r->ac && (r->ac->c.flags & REDIS_CONNECTED) ? b->names[0] : "the connection";
	case BATCH_EXACT:
		return "GET/TTL of the addresses on screen";
	case BATCH_SCAN:
		return "SCAN";
	case BATCH_FETCH:
		return "GET/TTL of scanned keys";
	}
	return "a reply";
}

/* ---------------------------------------------------------------- the walk */

static void walk_clear(struct walk *w)
{
	for (size_t i = 0; i < w->n_blocked; i++)
		block_entry_free(&w->blocked[i]);
	free(w->blocked);
	free(w->blocked_len);
	free(w->slots);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < w->n_top[k]; i++)
			found_free(&w->top[k][i]);
	memset(w, 0, sizeof *w);
}

static void walk_start(struct walk *w)
{
	walk_clear(w);
	w->active = true;
	w->prefix = WALK_BLOCKED;
	strcpy(w->cursor, "0");
}

/* FNV-1a: keys are short, and this only spreads them over the set. */
static uint32_t key_hash(const char *k, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t *walk_slot(struct walk *w, const char *key, size_t len)
{
	size_t mask = w->n_slots - 1;

	for (size_t i = key_hash(key, len) & mask;; i = (i + 1) & mask) {
		uint32_t *s = &w->slots[i];
		if (*s == 0)
			return s;
		size_t j = *s - 1;
		if (w->blocked_len[j] == len && memcmp(w->blocked[j].key_ip, key, len) == 0)
			return s;
	}
}

/* Keep the set at most half full. */
static bool walk_grow_set(struct walk *w)
{
	if (2 * (w->n_blocked + 1) <= w->n_slots)
		return true;
	size_t n = w->n_slots ? 2 * w->n_slots : 256;
	uint32_t *slots = calloc(n, sizeof *slots);
	if (!slots)
		return false;
	free(w->slots);
	w->slots = slots;
	w->n_slots = n;
	for (size_t j = 0; j < w->n_blocked; j++)
		*walk_slot(w, w->blocked[j].key_ip, w->blocked_len[j]) = (uint32_t)j + 1;
	return true;
}

static bool walk_grow_blocked(struct walk *w)
{
	if (w->n_blocked < w->cap_blocked)
		return true;
	size_t cap = w->cap_blocked ? 2 * w->cap_blocked : 64;
	if (cap > REDIS_MAX_BLOCKED)
		cap = REDIS_MAX_BLOCKED;
	if (cap <= w->cap_blocked)
		return false;
	struct block_entry *v = realloc(w->blocked, cap * sizeof *v);
	if (!v)
		return false;
	w->blocked = v;
	size_t *l = realloc(w->blocked_len, cap * sizeof *l);
	if (!l)
		return false;
	w->blocked_len = l;
	w->cap_blocked = cap;
	return true;
}

static void block_from_found(struct block_entry *b, struct found *f)
{
	*b = (struct block_entry){ .key_ip = f->key, .ttl_s = f->ttl, .by = f->by,
	                           .reason = f->reason, .at = f->at, .kind = f->kind };
	memset(f, 0, sizeof *f);
}

/* SCAN may return a key twice (when the table is rehashed during the
 * walk): the second sighting replaces the first. */
static void walk_keep_blocked(struct walk *w, struct found *f)
{
	size_t len = f->len;

	if (!walk_grow_set(w)) {
		w->dropped++;
		found_free(f);
		return;
	}
	uint32_t *slot = walk_slot(w, f->key, len);
	if (*slot) {
		struct block_entry *b = &w->blocked[*slot - 1];
		block_entry_free(b);
		block_from_found(b, f);
		return;
	}
	if (!walk_grow_blocked(w)) {
		w->dropped++;
		found_free(f);
		return;
	}
	*slot = (uint32_t)w->n_blocked + 1;
	w->blocked_len[w->n_blocked] = len;
	block_from_found(&w->blocked[w->n_blocked++], f);
}

static bool found_less(const struct found *a, const struct found *b)
{
	return a->value < b->value;
}

static void heap_down(struct found *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && found_less(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && found_less(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct found t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_up(struct found *h, size_t i)
{
	while (i > 0 && found_less(&h[i], &h[(i - 1) / 2])) {
		struct found t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Keep the REDIS_TOP_COUNTERS largest: memory stays bounded however many
 * addresses fail.  SCAN may return a key twice: the second time updates. */
static void walk_keep_counter(struct found *h, size_t *n, struct found *f)
{
	if (*n == REDIS_TOP_COUNTERS && !found_less(&h[0], f)) {
		found_free(f);
		return;
	}
	for (size_t i = 0; i < *n; i++) {
		if (h[i].len == f->len && memcmp(h[i].key, f->key, f->len) == 0) {
			h[i].value = f->value;
			h[i].ttl = f->ttl;
			found_free(f);
			for (size_t j = *n / 2 + 1; j-- > 0;)
				heap_down(h, *n, j);
			return;
		}
	}
	if (*n < REDIS_TOP_COUNTERS) {
		h[*n] = *f;
		heap_up(h, (*n)++);
	} else {
		found_free(&h[0]);
		h[0] = *f;
		heap_down(h, *n, 0);
	}
	memset(f, 0, sizeof *f);
}

static int found_cmp_key(const void *pa, const void *pb)
{
	const struct found *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->key, b->key, n);

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static int found_cmp_value_desc(const void *pa, const void *pb)
{
	const struct found *a = pa, *b = pb;

	if (a->value != b->value)
		return a->value < b->value ? 1 : -1;
	return found_cmp_key(pa, pb);
}

/* Largest first; the entries move into the model's counter list. */
static struct redis_counter *walk_counters(struct found *h, size_t n)
{
	if (n == 0)
		return NULL;
	struct redis_counter *v = calloc(n, sizeof *v);
	if (!v)
		return NULL;
	qsort(h, n, sizeof *h, found_cmp_value_desc);
	for (size_t i = 0; i < n; i++) {
		v[i] = (struct redis_counter){ .key_ip = h[i].key, .value = h[i].value, .ttl_s = h[i].ttl };
		h[i].key = NULL;
	}
	return v;
}

static void walk_publish(struct redis *r)
{
	struct walk *w = &r->walk;
	struct redis_counter *fa = walk_counters(w->top[0], w->n_top[0]);
	struct redis_counter *rl = walk_counters(w->top[1], w->n_top[1]);

	/* in the order SCAN found them: the views sort */
	model_set_blocked(r->m, w->blocked, w->n_blocked);
	w->blocked = NULL;
	w->n_blocked = 0;
	model_set_counters(r->m, fa, fa ? w->n_top[0] : 0);
	model_set_ratelimits(r->m, rl, rl ? w->n_top[1] : 0);
	r->m->walk_complete = true;
	r->stats.walks++;
	r->stats.blocked_dropped = w->dropped;
	if (w->dropped)
		log_msg(LOG_WARN, "redis %s: %lu blocked keys beyond the first %d were not kept",
		        r->display, w->dropped, REDIS_MAX_BLOCKED);
	walk_clear(w);         /* inactive: the next refresh starts a new walk */
}

/* A step is done: move the cursor on, to the next prefix at 0, publish at the end. */
static void walk_advance(struct redis *r, const char *cursor)
{
	struct walk *w = &r->walk;

	w->stepping = false;
	if (strcmp(cursor, "0") != 0) {
		snprintf(w->cursor, sizeof w->cursor, "%s", cursor);
		return;
	}
	strcpy(w->cursor, "0");
	if (++w->prefix == r->walk_end)
		walk_publish(r);
}

static void walk_step_send(struct redis *r)
{
	struct walk *w = &r->walk;
	struct batch *b = batch_new(r, BATCH_SCAN);

	if (!b)
		return;
	b->prefix = w->prefix;
	w->stepping = true;
	r->stats.scan_steps++;
	batch_cmd(r, b, "SCAN %s MATCH %s COUNT %s", w->cursor, r->pattern[w->prefix], r->count);
}

/* SCAN answered: fetch the value and TTL of what it matched, in one pipeline. */
static void scan_reply(struct redis *r, struct batch *sb, const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY ||
	    rep->element[0]->len == 0 || rep->element[0]->len >= sizeof sb->cursor) {
		reply_unexpected(r, "SCAN", rep);
		return;
	}
	const char *cursor = rep->element[0]->str;
	const redisReply *keys = rep->element[1];
	size_t plen = r->prefix_len[sb->prefix];
	const char *prefix = r->prefix[sb->prefix];
	if (keys->elements == 0) {
		walk_advance(r, cursor);
		return;
	}
	struct batch *b = batch_new(r, BATCH_FETCH);
	if (!b)
		return;
	b->prefix = sb->prefix;
	snprintf(b->cursor, sizeof b->cursor, "%s", cursor);
	b->found = calloc(keys->elements, sizeof *b->found);
	if (!b->found) {
		redis_set_fail(r, "out of memory");
		return;
	}
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		if (k->type != REDIS_REPLY_STRING || k->len < plen || memcmp(k->str, prefix, plen) != 0)
			continue;
		struct found *f = &b->found[b->n_found];
		f->key = mem_dup(k->str + plen, k->len - plen);
		if (!f->key) {
			redis_set_fail(r, "out of memory");
			return;
		}
		f->len = k->len - plen;
		f->ttl = -2;
		b->n_found++;
		/* the reply's length, not strlen: a key may hold any byte */
		batch_cmd(r, b, "GET %b", k->str, (size_t)k->len);
		batch_cmd(r, b, "TTL %b", k->str, (size_t)k->len);
	}
	if (b->expected == 0 && !r->fail[0]) {
		batch_unlink(r, b);
		batch_free(b);
		walk_advance(r, cursor);
	}
}

static void fetch_reply(struct redis *r, struct batch *b, size_t idx, const redisReply *rep)
{
	struct found *f = &b->found[idx / 2];

	if (idx % 2 == 1)
		parse_ttl(r, rep, &f->ttl);
	else if (b->prefix == WALK_BLOCKED)
		parse_block(r, rep, f);
	else
		parse_counter(r, rep, f);
}

static void fetch_done(struct redis *r, struct batch *b)
{
	struct walk *w = &r->walk;

	for (size_t i = 0; i < b->n_found; i++) {
		struct found *f = &b->found[i];
		if (!f->present || f->ttl == -2)
			continue;    /* gone since the SCAN, or not a number */
		if (b->prefix == WALK_BLOCKED) {
			walk_keep_blocked(w, f);
		} else {
			int k = b->prefix - WALK_FAILED_AUTH;
			walk_keep_counter(w->top[k], &w->n_top[k], f);
		}
	}
	walk_advance(r, b->cursor);
}

/* Start a slice of the walk: called at each refresh. */
static void walk_slice_begin(struct redis *r, int64_t now)
{
	if (r->walk_end == WALK_BLOCKED)
		return;
	if (!r->walk.active)
		walk_start(&r->walk);
	r->walk.in_slice = true;
	r->walk.slice_start_ms = now;
}

static bool walk_can_step(const struct redis *r)
{
	const struct walk *w = &r->walk;

	return r->conn == CONN_READY && w->active && w->in_slice && !w->stepping;
}

/* SCAN steps back to back while this refresh's budget lasts (<= 0: no
 * limit), then wait for the next refresh: a big keyspace is walked a little
 * at a time, and never keeps Redis busy for long. */
static void walk_tick(struct redis *r, int64_t now)
{
	int budget = r->cfg->scan_budget_ms;

	if (!walk_can_step(r))
		return;
	if (budget > 0 && now - r->walk.slice_start_ms >= budget) {
		r->walk.in_slice = false;
		return;
	}
	walk_step_send(r);
}

/* ---------------------------------------------------------------- exact state */

static void exact_init(struct ip_redis *ip, const char *addr)
{
	memset(ip, 0, sizeof *ip);
	snprintf(ip->ip, sizeof ip->ip, "%s", addr);
	ip->block_ttl_s = -2;
	ip->block_kind = RV_ABSENT;
	ip->failed_auth = -1;
	ip->ratelimit = -1;
}

/* One pipeline for every address on screen: 4 commands each (2 when only
 * the block key is wanted). */
static void exact_send(struct redis *r)
{
	const struct model *m = r->m;
	struct batch *b = batch_new(r, BATCH_EXACT);

	if (!b)
		return;
	r->exact_inflight = true;
	r->have_exact = true;
	r->exact_gen = b->gen = m->top_ips_gen;
	/* the top addresses, and the one being looked at if it is not among them */
	size_t n = m->n_top_ips;
	bool watch = m->watch_key && !model_ip_redis_wanted(m, m->watch_key);
	if (n + watch == 0) {
		batch_cmd(r, b, "PING");   /* nothing to fetch, but prove the server answers */
		return;
	}
	b->ips = calloc(n + watch, sizeof *b->ips);
	if (!b->ips) {
		redis_set_fail(r, "out of memory");
		return;
	}
	b->n_ips = n + watch;
	for (size_t i = 0; i < b->n_ips; i++) {
		exact_init(&b->ips[i], i < n ? m->top_ips[i].ip : m->watch_key);
		/* "%s%s": prefix and address are one argument, never format text */
		const char *ip = b->ips[i].ip;
		batch_cmd(r, b, "GET %s%s", r->prefix[WALK_BLOCKED], ip);
		batch_cmd(r, b, "TTL %s%s", r->prefix[WALK_BLOCKED], ip);
		if (r->exact_stride < 4)
			continue;
		batch_cmd(r, b, "GET %s%s", r->prefix[WALK_FAILED_AUTH], ip);
		batch_cmd(r, b, "GET %s%s", r->prefix[WALK_RATELIMIT], ip);
	}
}

static void exact_reply(struct redis *r, struct batch *b, size_t idx, const redisReply *rep)
{
	struct found f = { 0 };

	if (b->n_ips == 0)
		return;   /* the PING */
	struct ip_redis *ip = &b->ips[idx / r->exact_stride];
	switch (idx % r->exact_stride) {
	case 0:
		/* a key of another type under the block prefix still exists (a
		 * server that tests EXISTS refuses the address): blocked, and
		 * shown as the wrong type */
		if (parse_block(r, rep, &f) == 0) {
			ip->blocked = f.present;
			ip->block_kind = f.kind;
			ip->block_by = f.by;
			ip->block_reason = f.reason;
			ip->block_at = f.at;
			ip->wrong_type |= f.kind == RV_WRONG_TYPE;
		}
		return;
	case 1:
		parse_ttl(r, rep, &ip->block_ttl_s);
		return;
	default:
		if (parse_counter(r, rep, &f) == 0) {
			*(idx % r->exact_stride == 2 ? &ip->failed_auth : &ip->ratelimit) = f.value;
			ip->wrong_type |= f.kind == RV_WRONG_TYPE;
		}
		return;
	}
}

static void exact_done(struct redis *r, struct batch *b)
{
	struct model *m = r->m;

	model_set_ip_redis(m, b->ips, b->n_ips);
	b->ips = NULL;
	b->n_ips = 0;
	m->ip_redis_gen = b->gen;
	r->exact_inflight = false;
	source_status_ok(&m->redis, clock_wall_ms());
	backoff_reset(&r->bo);
	redis_log_ok(r);
}

/* ---------------------------------------------------------------- connection */

static void hello_reply(struct redis *r, struct batch *b, size_t idx, const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ERROR)
		return;
	const char *hint = "";
	if (!r->password && rep->str && strncmp(rep->str, "NOAUTH", 6) == 0)
		hint = " (no password given: put it in the URL or REDISCLI_AUTH)";
	redis_set_fail(r, "%s: %.*s%s", b->names[idx < 3 ? idx : 0],
	               (int)(rep->len > 200 ? 200 : rep->len), rep->str, hint);
}

static void hello_done(struct redis *r)
{
	r->conn = CONN_READY;
	r->next_refresh_ms = r->now_ms;     /* refresh at once */
	log_msg(LOG_DEBUG, "redis %s: connected", r->display);
}

static void batch_complete(struct redis *r, struct batch *b)
{
	batch_unlink(r, b);
	switch (b->kind) {
	case BATCH_HELLO:
		hello_done(r);
		break;
	case BATCH_EXACT:
		exact_done(r, b);
		break;
	case BATCH_SCAN:
		break;           /* scan_reply started its fetch */
	case BATCH_FETCH:
		fetch_done(r, b);
		break;
	}
	batch_free(b);
}

static void redis_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct batch *b = privdata;
	struct redis *r = b->r;
	const redisReply *rep = reply;

	/* NULL: the context is being freed; whoever freed it cleans up. */
	if (!rep || r->dropping || r->fail[0])
		return;
	size_t idx = b->got++;
	switch (b->kind) {
	case BATCH_HELLO:
		hello_reply(r, b, idx, rep);
		break;
	case BATCH_EXACT:
		exact_reply(r, b, idx, rep);
		break;
	case BATCH_SCAN:
		scan_reply(r, b, rep);
		break;
	case BATCH_FETCH:
		fetch_reply(r, b, idx, rep);
		break;
	}
	if (!r->fail[0] && b->got == b->expected)
		batch_complete(r, b);
}

static void hello_send(struct redis *r)
{
	struct batch *b = batch_new(r, BATCH_HELLO);
	char db[16];

	if (!b)
		return;
	if (r->password) {
		b->names[b->expected] = "AUTH";
		if (r->target.user[0])
			batch_cmd(r, b, "AUTH %s %s", r->target.user, r->password);
		else
			batch_cmd(r, b, "AUTH %s", r->password);
	}
	if (r->target.db != 0) {
		snprintf(db, sizeof db, "%d", r->target.db);
		b->names[b->expected] = "SELECT";
		batch_cmd(r, b, "SELECT %s", db);
	}
	if (b->expected == 0) {
		b->names[0] = "PING";
		batch_cmd(r, b, "PING");
	}
}

/* The ev hooks: only remember what hiredis wants; fds() asks poll() for it. */
static void ev_add_read(void *p) { ((struct redis *)p)->want_read = true; }
static void ev_del_read(void *p) { ((struct redis *)p)->want_read = false; }
static void ev_add_write(void *p) { ((struct redis *)p)->want_write = true; }
static void ev_del_write(void *p) { ((struct redis *)p)->want_write = false; }

/* The context is going away (our free, or hiredis's after an error). */
static void ev_cleanup(void *p)
{
	struct redis *r = p;

	r->want_read = r->want_write = false;
	r->ac = NULL;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	if (status != REDIS_OK)
		redis_set_fail(r, "connect: %s", ac->errstr ? ac->errstr : "failed");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis *r = ac->data;

	if (r->dropping)
		return;
	if (status == REDIS_OK)
		redis_set_fail(r, "connection closed");
	else
		redis_set_fail(r, "%s", ac->errstr && ac->errstr[0] ? ac->errstr : "connection lost");
}

static void conn_attach(struct redis *r, redisAsyncContext *ac)
{
	ac->data = r;
	ac->ev.data = r;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	r->ac = ac;
	r->want_read = r->want_write = false;
	/* after the hooks: this asks for the first write event, which is how
	 * the end of the non-blocking connect shows */
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

/* Free the context (pending callbacks run with NULL and are ignored), then
 * the batches they pointed into. */
static void conn_drop(struct redis *r)
{
	if (r->ac) {
		r->dropping = true;
		redisAsyncFree(r->ac);
		r->dropping = false;
		r->ac = NULL;
	}
	batches_free(r);
	r->want_read = r->want_write = false;
	r->exact_inflight = false;
	r->exact_wanted = true;
	r->walk.stepping = false;     /* the cursor is still good: redo the step */
	r->fail[0] = '\0';
}

static void conn_fail(struct redis *r, const char *reason)
{
	char why[sizeof r->fail];

	snprintf(why, sizeof why, "%s", reason);   /* reason may be r->fail */
	conn_drop(r);
	r->conn = CONN_DOWN;
	r->retry_at_ms = r->now_ms + backoff_next(&r->bo);
	source_status_fail(&r->m->redis, why);
	redis_log_fail(r, why);
}

/* Non-blocking connect, then AUTH/SELECT queued at once: they go out when
 * the connect completes. */
static void conn_start(struct redis *r)
{
	redisAsyncContext *ac;

	r->stats.connects++;
	if (r->target.path[0])
		ac = redisAsyncConnectUnix(r->target.path);
	else
		ac = redisAsyncConnect(r->target.host, r->target.port);
	if (!ac) {
		conn_fail(r, "connect: out of memory");
		return;
	}
	if (ac->err) {
		char why[sizeof r->fail];
		snprintf(why, sizeof why, "connect: %s", ac->errstr ? ac->errstr : "failed");
		redisAsyncFree(ac);
		conn_fail(r, why);
		return;
	}
	conn_attach(r, ac);
	r->conn = CONN_HANDSHAKE;
	hello_send(r);
}

/* ---------------------------------------------------------------- the source */

static bool deadline_passed(struct redis *r, int64_t now)
{
	for (struct batch *b = r->head; b; b = b->next) {
		if (now < b->deadline_ms)
			continue;
		redis_set_fail(r, "timed out after %d ms waiting for %s", r->timeout_ms, batch_what(r, b));
		return true;
	}
	return false;
}

static bool exact_due(const struct redis *r)
{
	return !r->exact_inflight &&
	       (r->exact_wanted || !r->have_exact || r->m->top_ips_gen != r->exact_gen);
}

static void refresh_tick(struct redis *r, int64_t now)
{
	if (r->refresh_asked || (!r->m->paused && now >= r->next_refresh_ms)) {
		r->refresh_asked = false;
		r->next_refresh_ms = now + (r->m->refresh_ms > 0 ? r->m->refresh_ms : 2000);
		r->exact_wanted = true;
		walk_slice_begin(r, now);
	}
	if (exact_due(r)) {
		r->exact_wanted = false;
		exact_send(r);
	}
}

static void redis_tick(void *self, int64_t now)
{
	struct redis *r = self;

	r->now_ms = now;
	if (!r->fail[0] && r->conn == CONN_DOWN) {
		if (now >= r->retry_at_ms)
			conn_start(r);
	} else if (!r->fail[0] && !deadline_passed(r, now) && r->conn == CONN_READY) {
		refresh_tick(r, now);
		if (!r->fail[0])
			walk_tick(r, now);
	}
	if (r->fail[0])
		conn_fail(r, r->fail);
}

static int64_t redis_wake_at(const struct redis *r, int64_t now)
{
	int64_t wake = INT64_MAX;

	if (r->conn == CONN_DOWN)
		wake = r->retry_at_ms;
	for (const struct batch *b = r->head; b; b = b->next)
		if (b->deadline_ms < wake)
			wake = b->deadline_ms;
	if (r->conn == CONN_READY) {
		if (r->next_refresh_ms < wake && !r->m->paused)
			wake = r->next_refresh_ms;
		if (r->refresh_asked || exact_due(r) || walk_can_step(r))
			wake = now;
	}
	return wake;
}

static int redis_fds(void *self, struct pollfd *pfd, int max, int64_t now, int64_t *timeout_ms)
{
	struct redis *r = self;
	int64_t wake = redis_wake_at(r, now);

	if (wake != INT64_MAX && wake - now < *timeout_ms)
		*timeout_ms = wake > now ? wake - now : 0;
	if (!r->ac || max < 1)
		return 0;
	pfd[0].fd = r->ac->c.fd;
	pfd[0].events = 0;
	pfd[0].revents = 0;
	if (r->want_read)
		pfd[0].events |= POLLIN;
	/* until connected, writability is how the connect's end shows */
	if (r->want_write || !(r->ac->c.flags & REDIS_CONNECTED))
		pfd[0].events |= POLLOUT;
	return 1;
}

static void redis_ready(void *self, const struct pollfd *pfd, int n, int64_t now)
{
	struct redis *r = self;

	r->now_ms = now;
	if (!r->ac || n < 1 || pfd[0].fd != r->ac->c.fd)
		return;
	short ev = pfd[0].revents;
	if (ev & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
		redisAsyncHandleRead(r->ac);
	/* the read may have freed the context (an error, EOF) */
	if (r->ac && !r->fail[0] && (ev & POLLOUT))
		redisAsyncHandleWrite(r->ac);
	if (!r->ac && r->conn != CONN_DOWN)
		conn_fail(r, r->fail[0] ? r->fail : "connection lost");
	else if (r->fail[0])
		conn_fail(r, r->fail);
}

static void redis_refresh_now(void *self)
{
	struct redis *r = self;

	r->refresh_asked = true;
	if (r->conn == CONN_DOWN)
		r->retry_at_ms = 0;      /* the operator asked: try now, not after the backoff */
}

static void redis_destroy(void *self)
{
	struct redis *r = self;

	if (!r)
		return;
	conn_drop(r);
	walk_clear(&r->walk);
	for (int i = 0; i < 3; i++)
		free(r->pattern[i]);
	redis_target_free(&r->target);
	free(r);
}

static const struct source_ops redis_ops = {
	.name = "redis",
	.fds = redis_fds,
	.ready = redis_ready,
	.tick = redis_tick,
	.refresh_now = redis_refresh_now,
	.destroy = redis_destroy,
};

struct source redis_source(struct redis *r)
{
	return (struct source){ .ops = &redis_ops, .self = r };
}

static int redis_prefixes(struct redis *r, char *err, size_t errsz)
{
	const struct conf_keys *k = &r->cfg->keys;
	const char *p[3] = { k->blocked, k->failed_auth, k->ratelimit };

	for (int i = 0; i < 3; i++) {
		if (!p[i] || !*p[i]) {
			snprintf(err, errsz, "redis: empty key prefix");
			return -1;
		}
		r->prefix[i] = p[i];
		r->prefix_len[i] = strlen(p[i]);
		r->pattern[i] = pattern_for(p[i]);
		if (!r->pattern[i]) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	}
	return 0;
}

struct redis *redis_new(const struct config *cfg, struct model *m, char *err, size_t errsz)
{
	struct redis *r = calloc(1, sizeof *r);
	char why[256];

	if (!r) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->m = m;
	if (redis_url_parse(cfg->redis, &r->target, why, sizeof why) < 0) {
		snprintf(err, errsz, "redis: %s", why);
		free(r);
		return NULL;
	}
	if (redis_prefixes(r, err, errsz) < 0) {
		redis_destroy(r);
		return NULL;
	}
	redis_target_display(&r->target, r->display, sizeof r->display);
	r->password = r->target.password;
	if (!r->password && cfg->redis_password && *cfg->redis_password)
		r->password = cfg->redis_password;
	snprintf(r->count, sizeof r->count, "%d", cfg->scan_count > 0 ? cfg->scan_count : 1000);
	r->walk_end = WALK_DONE;
	r->exact_stride = 4;
	r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 3000;
	backoff_init(&r->bo, BACKOFF_BASE_MS, BACKOFF_CAP_MS,
	             (uint32_t)clock_mono_ms() ^ ((uint32_t)getpid() << 16));
	r->conn = CONN_DOWN;
	return r;
}

const char *redis_display(const struct redis *r)
{
	return r->display;
}

void redis_get_stats(const struct redis *r, struct redis_stats *out)
{
	*out = r->stats;
}

void redis_walk_blocks_only(struct redis *r, int scan_count)
{
	int count = r->cfg->scan_count > scan_count ? r->cfg->scan_count : scan_count;

	r->walk_end = WALK_FAILED_AUTH;
	r->exact_stride = 2;
	snprintf(r->count, sizeof r->count, "%d", count > 0 ? count : 1000);
}

void redis_lookup_blocks_only(struct redis *r)
{
	r->walk_end = WALK_BLOCKED;
	r->exact_stride = 2;
}
