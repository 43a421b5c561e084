/* redis.c: the Redis source.
 *
 * Over a link (redis_link.h) that hides the shape of the Redis behind it
 * (one server, a Sentinel-managed master, a Cluster; plain or TLS): fds()
 * asks the link for its pollfds and ready() hands them back.  Nothing here
 * ever waits: the one thing that can is the lookup of a host *name*, which
 * is synchronous (an IP literal or a unix socket never is).
 *
 * Commands go out in batches (the connection hello, the exact state of the
 * addresses on screen, a SCAN step, the GET/TTL of a step's keys); each
 * command carries its place in its batch (in a cluster, the replies of one
 * batch come from several nodes).  Each batch carries a deadline, and
 * past it the connection is dropped and remade with backoff.  That is also
 * how a stopped server (SIGSTOP: the kernel still completes the connect,
 * but no reply ever comes) ends up failed.
 *
 * The keyspace-event subscriber (redis_events.c) is a second context on the
 * same adapter: fds() returns its pollfd after the main one.  It lives as
 * long as the main connection: a drop of the main one remakes both, and
 * the next CONFIG GET decides again whether to subscribe.
 *
 * Resetting the link runs every pending callback with a NULL reply.  So:
 * callbacks never reset the link; they ignore NULL replies (but for a
 * cluster's node that is down, below) and, to give up, only record why in
 * r->fail.  The link is reset only from the top (ready, tick, destroy), and
 * the batches its callbacks point to are freed after it.  (A callback may
 * free its own batch once its last reply is in: the link holds no other
 * reference to it.)
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

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "backoff.h"
#include "blockset.h"
#include "clock.h"
#include "conf.h"
#include "fpset.h"
#include "keyglob.h"
#include "log.h"
#include "model.h"
#include "redis.h"
#include "strutil.h"
#include "redis_cluster.h"
#include "redis_events.h"
#include "redis_link.h"
#include "redis_url.h"
#include "walkpos.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 15000

enum conn_state { CONN_DOWN, CONN_HANDSHAKE, CONN_READY };
enum batch_kind { BATCH_HELLO, BATCH_EXACT, BATCH_SCAN, BATCH_FETCH, BATCH_CONFIG, BATCH_EVENT };

/* With keyspace events followed, the walk is only the safety net (for
 * events lost while the subscriber was down, or a flood past EVENTS_MAX):
 * its passes come this many times less often. */
#define EVENTS_WALK_FACTOR 10
/* The list as events change it is published at most this often. */
#define EVENTS_PUBLISH_MS 200
/* The prefixes, in this order; a walk covers the first walk_end of them
 * in one pass (WALK_DONE: all three). */
enum walk_prefix { WALK_BLOCKED, WALK_FAILED_AUTH, WALK_RATELIMIT, WALK_DONE };

/* One key as the walk found it: the raw bytes after the prefix (any bytes,
 * NUL-terminated for convenience, len says how many) and what GET/TTL said. */
struct found {
	char *key;
	size_t len;
	int prefix;                  /* enum walk_prefix: which prefix the key had */
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
	struct found *found;         /* BATCH_FETCH */
	size_t n_found;
	int node;                    /* BATCH_SCAN: the master it walks; -1: routed by key */
	bool *lost;                  /* BATCH_EXACT: addresses whose shard did not answer */
	char cursor[24];             /* BATCH_FETCH: the step's next cursor */
};

/* One pass over the keyspace, with one MATCH pattern for every prefix. */
struct walk {
	bool active;                 /* a pass is under way */
	bool in_slice;               /* this refresh's budget is not spent yet */
	bool stepping;               /* a SCAN or its GET/TTL is in flight */
	char cursor[24];             /* decimal, as the server sent it */
	int nodes[RCLUSTER_MAX_NODES]; /* the masters walked in turn (one unless a cluster) */
	size_t n_nodes, node_i;
	char skipped[200];           /* a master the pass could not walk: its keys are missing */
	int64_t slice_start_ms;
	struct blockset bs;          /* the most relevant blocks found so far */
	unsigned long seen[3];       /* keys of each prefix found so far */
	struct fpset sighted[3];     /* fingerprints of those keys: counted once */
	struct fpset gone;           /* blocks counted, then deleted or expired */
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
	char *walk_pat;              /* MATCH of the walk: keyglob_union() */
	size_t walk_pat_len;
	int step_count;              /* COUNT of each SCAN step */
	int walk_end;                /* prefixes walked: WALK_DONE (all three),
	                              * WALK_FAILED_AUTH for the block keys only, or
	                              * WALK_BLOCKED for no walk at all */
	size_t exact_stride;         /* commands per address looked up: 4, or 2
	                              * (the block key alone) */
	int timeout_ms;

	struct rlink *link;
	enum conn_state conn;
	bool dropping;               /* we are resetting the link ourselves */
	char fail[256];              /* set in a callback: drop the connection */
	struct batch *head, *tail;

	struct backoff bo;
	int64_t now_ms;
	int64_t retry_at_ms, next_refresh_ms;
	bool refresh_asked, exact_wanted, exact_inflight, have_exact;
	unsigned exact_gen;

	struct walk walk;
	struct blockset shown;       /* the blocks the model lists (events edit it) */
	bool events_wanted;          /* ask the server whether it publishes keyspace events */
	struct redis_events *events; /* the subscriber, when it does */
	redis_block_fn stream_fn;    /* every block found, as found */
	void *stream_ctx;
	struct fpset streamed;       /* fingerprints of the keys streamed */
	bool walk_held;
	bool events_inflight;        /* one GET/TTL batch of events at a time:
	                              * the rest coalesce in the subscriber */
	unsigned events_epoch;       /* bumped when a pass starts */
	bool shown_dirty;            /* to publish again */
	int64_t shown_pub_ms;        /* when it was, for events */
	int64_t next_pass_ms;        /* no new pass before (monotonic) */
	double tokens;               /* the scan-rate bucket, in keys */
	int64_t tokens_ms;
	char logged[256];            /* the failure last logged; "" when fine */
	char walk_missed[200];       /* the master the last pass could not walk ("" none) */
	bool ever_ok;
	struct redis_stats stats;
};

/* ---------------------------------------------------------------- helpers */

static void found_free(struct found *f)
{
	free(f->key);
	free(f->by);
	free(f->reason);
	memset(f, 0, sizeof *f);
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

/* The JSON sectop writes: {"by":"<operator>","reason":"...","at":<unix time>,
 * "via":"sectop"[,"drill":true]}; other tools' JSON is read for its "by". */
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
	/* sectop says it wrote it ("via"), and whether in a drill; older
	 * values of sectop's have its shape (by and at); any other JSON is
	 * another tool's */
	const char *via = json_string_value(json_object_get(j, "via"));
	if (via && strcmp(via, "sectop") == 0)
		f->kind = json_is_true(json_object_get(j, "drill")) ? RV_JSON_DRILL : RV_JSON_BLOCK;
	else if (!via && json_is_string(by) && (json_is_integer(at) || json_is_real(at)))
		f->kind = RV_JSON_BLOCK;
	else if (by || reason || at || via) {
		f->kind = RV_JSON_TOOL;
		if (!f->by && via)
			f->by = strdup(via);
	}
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

static void redis_on_reply(void *privdata, size_t idx, redisReply *rep);

static struct batch *batch_new(struct redis *r, enum batch_kind kind)
{
	struct batch *b = calloc(1, sizeof *b);

	if (!b) {
		redis_set_fail(r, "out of memory");
		return NULL;
	}
	b->r = r;
	b->kind = kind;
	b->node = -1;
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

	if (r->fail[0] || r->conn == CONN_DOWN)
		return false;
	va_start(ap, fmt);
	int rc = b->node >= 0 ? rlink_vcommand_node(r->link, b->node, redis_on_reply, b, b->expected, fmt, ap)
	                      : rlink_vcommand(r->link, redis_on_reply, b, b->expected, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		redis_set_fail(r, "cannot queue a command: out of memory");
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
	free(b->lost);
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
		return rlink_up(r->link) ? b->names[0] : "the connection";
	case BATCH_EXACT:
		return "GET/TTL of the addresses on screen";
	case BATCH_SCAN:
		return "SCAN";
	case BATCH_FETCH:
		return "GET/TTL of scanned keys";
	case BATCH_CONFIG:
		return "CONFIG GET notify-keyspace-events";
	case BATCH_EVENT:
		return "GET/TTL of keys named by keyspace events";
	}
	return "a reply";
}

/* ---------------------------------------------------------------- the walk */

static void walk_clear(struct walk *w)
{
	size_t max = w->bs.max;

	blockset_clear(&w->bs);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < w->n_top[k]; i++)
			found_free(&w->top[k][i]);
	for (int k = 0; k < 3; k++)
		fpset_free(&w->sighted[k]);
	fpset_free(&w->gone);
	memset(w, 0, sizeof *w);
	blockset_init(&w->bs, max);
}

/* A pass starts: it reads every key the pending events name (those
 * already read by a batch in flight, too), so they are dropped. */
static void events_drain(struct redis *r)
{
	char **keys;
	size_t *lens;
	bool overflowed;

	r->events_epoch++;
	if (!r->events)
		return;
	size_t n = revents_take(r->events, EVENTS_MAX, &keys, &lens, &overflowed);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(lens);
}

static void walk_start(struct redis *r, int64_t now)
{
	struct walk *w = &r->walk;

	walk_clear(w);
	w->active = true;
	strcpy(w->cursor, "0");
	/* a cluster: every master in turn, each with its own cursor */
	w->n_nodes = rlink_masters(r->link, w->nodes, RCLUSTER_MAX_NODES);
	if (w->n_nodes == 0)
		w->n_nodes = 1;
	events_drain(r);
	r->next_pass_ms = now + (int64_t)r->cfg->walk_interval_s * 1000 *
	                  (revents_up(r->events) ? EVENTS_WALK_FACTOR : 1);
	r->m->walk.active = true;
	r->m->walk.fraction = 0;
	log_msg(LOG_DEBUG, "redis %s: a pass of the key walk starts", r->display);
}

/* The walk's progress, as the model shows it. */
static void walk_show_progress(struct redis *r)
{
	struct walk_progress *p = &r->m->walk;

	const struct walk *w = &r->walk;

	p->fraction = w->active ? (w->node_i + walk_fraction(w->cursor)) / (double)w->n_nodes : 0;
	p->blocked = r->walk.seen[WALK_BLOCKED];
	p->failed_auth = r->walk.seen[WALK_FAILED_AUTH];
	p->ratelimit = r->walk.seen[WALK_RATELIMIT];
}

/* Until the first pass ends, show the blocks found so far (a copy: the
 * walk keeps its own set). */
static void walk_show_partial(struct redis *r)
{
	size_t n;
	bool oom;

	if (r->m->walk_complete || !r->walk.active)
		return;
	struct block_entry *v = blockset_list(&r->walk.bs, false, &n, &oom);
	if (!oom)
		model_set_blocked(r->m, v, n);
}

/* Hand the block to the stream, once per key. */
static void walk_stream(struct redis *r, const struct block_entry *e)
{
	bool oom;

	if (!r->stream_fn)
		return;
	if (fpset_add(&r->streamed, e->key_ip, e->key_len, &oom))
		r->stream_fn(r->stream_ctx, e);
	else if (oom)
		redis_set_fail(r, "out of memory");
}

static void walk_keep_blocked(struct redis *r, struct found *f)
{
	struct block_entry e = { .key_ip = f->key, .key_len = f->len, .ttl_s = f->ttl, .by = f->by,
	                         .reason = f->reason, .at = f->at, .kind = f->kind };
	bool pinned = strlen(f->key) == f->len && model_ip_redis_wanted(r->m, f->key);

	memset(f, 0, sizeof *f);
	walk_stream(r, &e);
	/* a key comes here once a pass (walk_first_sighting), whether an event
	 * told it first or not: the walk's offer clears an event's mark, so
	 * the pass's end does not count it again */
	blockset_offer(&r->walk.bs, &e, pinned);
	r->walk.seen[WALK_BLOCKED]++;
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

/* The list the model shows, from r->shown: a copy, since keyspace events
 * go on editing the set. */
static void shown_publish(struct redis *r)
{
	size_t n;
	bool oom;
	struct block_entry *v = blockset_list(&r->shown, false, &n, &oom);

	if (!oom)
		model_set_blocked(r->m, v, n);
	r->shown_dirty = oom;
}

static void walk_publish(struct redis *r)
{
	struct walk *w = &r->walk;
	struct model *m = r->m;
	struct redis_counter *fa = walk_counters(w->top[0], w->n_top[0]);
	struct redis_counter *rl = walk_counters(w->top[1], w->n_top[1]);

	/* blocks known from events and not seen by the pass itself (set behind
	 * its cursor): they count too */
	w->seen[WALK_BLOCKED] += blockset_events_held(&w->bs);
	/* the pass's set becomes the one shown (and edited by events) */
	blockset_clear(&r->shown);
	r->shown = w->bs;
	blockset_init(&w->bs, r->shown.max);
	shown_publish(r);
	m->blocked_count = w->seen[WALK_BLOCKED];
	m->failed_auth_count = w->seen[WALK_FAILED_AUTH];
	m->ratelimit_count = w->seen[WALK_RATELIMIT];
	model_set_counters(m, fa, fa ? w->n_top[0] : 0);
	model_set_ratelimits(m, rl, rl ? w->n_top[1] : 0);
	snprintf(r->walk_missed, sizeof r->walk_missed, "%s", w->skipped);
	m->walk_complete = true;
	m->walk.active = false;
	m->walk.fraction = 1;
	m->walk.passes++;
	r->stats.walks++;
	r->stats.blocked_dropped = r->shown.dropped;
	if (r->shown.dropped)
		log_msg(LOG_DEBUG, "redis %s: %lu block keys, the %zu most relevant listed",
		        r->display, w->seen[WALK_BLOCKED], r->shown.n);
	walk_clear(w);         /* inactive: the next pass starts after walk-interval */
}

/* A step is done: move the cursor on; cursor 0 ends the pass. */
static void walk_advance(struct redis *r, const char *cursor)
{
	struct walk *w = &r->walk;

	w->stepping = false;
	snprintf(w->cursor, sizeof w->cursor, "%s", cursor);
	/* cursor 0 ends this master's part; the last master's ends the pass */
	if (strcmp(cursor, "0") == 0 && w->node_i + 1 < w->n_nodes)
		w->node_i++;
	else if (strcmp(cursor, "0") == 0) {
		walk_show_progress(r);
		walk_publish(r);
		return;
	}
	walk_show_progress(r);
}

/* A cluster's master did not answer its SCAN: the pass goes on with the
 * next, and says which part it misses. */
static void walk_skip_node(struct redis *r)
{
	struct walk *w = &r->walk;
	int node = w->nodes[w->node_i];

	if (!w->skipped[0])
		snprintf(w->skipped, sizeof w->skipped, "%.150s", rlink_node_name(r->link, node));
	walk_advance(r, "0");
}

static void walk_step_send(struct redis *r)
{
	struct walk *w = &r->walk;
	struct batch *b = batch_new(r, BATCH_SCAN);

	if (!b)
		return;
	if (rlink_is_cluster(r->link))
		b->node = w->nodes[w->node_i];
	w->stepping = true;
	r->stats.scan_steps++;
	if (r->cfg->scan_rate > 0)
		r->tokens -= r->step_count;
	batch_cmd(r, b, "SCAN %s MATCH %b COUNT %d", w->cursor, r->walk_pat, r->walk_pat_len, r->step_count);
}

/* Which walked prefix a key has (the longest), or -1. */
static int key_prefix(const struct redis *r, const char *k, size_t len)
{
	int best = -1;

	for (int i = 0; i < r->walk_end; i++)
		if (len >= r->prefix_len[i] && memcmp(k, r->prefix[i], r->prefix_len[i]) == 0 &&
		    (best < 0 || r->prefix_len[i] > r->prefix_len[best]))
			best = i;
	return best;
}

/* Queue GET and TTL of one key SCAN returned; false when out of memory. */
static bool fetch_add(struct redis *r, struct batch *b, const redisReply *k, int prefix)
{
	size_t plen = r->prefix_len[prefix];
	struct found *f = &b->found[b->n_found];

	f->key = mem_dup(k->str + plen, k->len - plen);
	if (!f->key) {
		redis_set_fail(r, "out of memory");
		return false;
	}
	f->len = k->len - plen;
	f->prefix = prefix;
	f->ttl = -2;
	b->n_found++;
	/* the reply's length, not strlen: a key may hold any byte */
	batch_cmd(r, b, "GET %b", k->str, (size_t)k->len);
	batch_cmd(r, b, "TTL %b", k->str, (size_t)k->len);
	return true;
}

/* SCAN answered: fetch the value and TTL of what it matched, in one pipeline. */
static void scan_reply(struct redis *r, struct batch *sb, const redisReply *rep)
{
	(void)sb;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY ||
	    rep->element[0]->len == 0 || rep->element[0]->len >= sizeof sb->cursor) {
		reply_unexpected(r, "SCAN", rep);
		return;
	}
	const char *cursor = rep->element[0]->str;
	const redisReply *keys = rep->element[1];
	if (keys->elements == 0) {
		walk_advance(r, cursor);
		return;
	}
	struct batch *b = batch_new(r, BATCH_FETCH);
	if (!b)
		return;
	snprintf(b->cursor, sizeof b->cursor, "%s", cursor);
	b->found = calloc(keys->elements, sizeof *b->found);
	if (!b->found) {
		redis_set_fail(r, "out of memory");
		return;
	}
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		/* the pattern may match more than the prefixes: check each key */
		int p = k->type == REDIS_REPLY_STRING ? key_prefix(r, k->str, k->len) : -1;
		if (p >= 0 && !fetch_add(r, b, k, p))
			return;
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
	else if (f->prefix == WALK_BLOCKED)
		parse_block(r, rep, f);
	else
		parse_counter(r, rep, f);
}

/* The pass counts a key the first time it sees it: SCAN may return a key
 * twice (a table resized during the pass), and an event may name a key the
 * pass counted already (event_present).  Past WALK_SIGHTED_MAX keys (16 MB
 * of fingerprints) or out of memory, every sighting counts. */
#define WALK_SIGHTED_MAX (1u << 20)
static bool walk_first_sighting(struct walk *w, const struct found *f)
{
	struct fpset *s = &w->sighted[f->prefix];
	bool oom;

	if (s->n >= WALK_SIGHTED_MAX)
		return true;
	return fpset_add(s, f->key, f->len, &oom) || oom;
}

/* Does the pass count the block now: seen by its SCAN, and not gone since? */
static bool walk_counted(const struct walk *w, const char *key, size_t len)
{
	return fpset_has(&w->sighted[WALK_BLOCKED], key, len) && !fpset_has(&w->gone, key, len);
}

/* A block the pass counted was deleted or expired: one less.  Whether it
 * was listed or not: past blocked-max, most blocks the pass counts are not. */
static void walk_uncount(struct walk *w, const char *key, size_t len)
{
	bool oom;

	if (walk_counted(w, key, len) && w->seen[WALK_BLOCKED] > 0 && fpset_add(&w->gone, key, len, &oom))
		w->seen[WALK_BLOCKED]--;
}

static void fetch_done(struct redis *r, struct batch *b)
{
	struct walk *w = &r->walk;

	for (size_t i = 0; i < b->n_found; i++) {
		struct found *f = &b->found[i];
		if (!f->present || f->ttl == -2)
			continue;    /* gone since the SCAN, or not a number */
		if (!walk_first_sighting(w, f))
			continue;    /* seen earlier in this pass */
		if (f->prefix == WALK_BLOCKED) {
			walk_keep_blocked(r, f);
		} else {
			int k = f->prefix - WALK_FAILED_AUTH;
			w->seen[f->prefix]++;
			walk_keep_counter(w->top[k], &w->n_top[k], f);
		}
	}
	walk_advance(r, b->cursor);
}

/* The scan-rate bucket: keys the walk may visit now.  It fills at
 * scan-rate a second up to one refresh's worth (at least one step), so a
 * refresh's slice can spend what the time between refreshes earned. */
static void tokens_fill(struct redis *r, int64_t now)
{
	int rate = r->cfg->scan_rate;

	if (rate <= 0)
		return;
	double cap = (double)rate * (r->m->refresh_ms > 0 ? r->m->refresh_ms : 2000) / 1000.0;
	if (cap < r->step_count)
		cap = r->step_count;
	r->tokens += (double)rate * (double)(now - r->tokens_ms) / 1000.0;
	if (r->tokens > cap)
		r->tokens = cap;
	r->tokens_ms = now;
}

/* Start a slice of the walk: called at each refresh.  A new pass starts
 * no sooner than walk-interval after the last one started. */
static void walk_slice_begin(struct redis *r, int64_t now)
{
	if (r->walk_end == WALK_BLOCKED)
		return;
	if (!r->walk.active) {
		if (now < r->next_pass_ms || r->walk_held)
			return;
		walk_start(r, now);
	}
	walk_show_partial(r);
	r->walk.in_slice = true;
	r->walk.slice_start_ms = now;
}

static bool walk_can_step(const struct redis *r)
{
	const struct walk *w = &r->walk;

	return r->conn == CONN_READY && w->active && w->in_slice && !w->stepping &&
	       (r->cfg->scan_rate <= 0 || r->tokens >= r->step_count);
}

/* When the bucket will hold a step's worth; INT64_MAX when it is not what waits. */
static int64_t walk_wake_at(const struct redis *r, int64_t now)
{
	const struct walk *w = &r->walk;
	int rate = r->cfg->scan_rate;

	if (rate <= 0 || r->conn != CONN_READY || !w->active || !w->in_slice || w->stepping ||
	    r->tokens >= r->step_count)
		return INT64_MAX;
	return now + 1 + (int64_t)((r->step_count - r->tokens) * 1000.0 / rate);
}

/* SCAN steps back to back while this refresh's budget lasts (<= 0: no
 * limit) and the scan-rate bucket holds a step, then wait: a big keyspace
 * is walked a little at a time, and never keeps Redis busy for long. */
static void walk_tick(struct redis *r, int64_t now)
{
	int budget = r->cfg->scan_budget_ms;

	tokens_fill(r, now);
	if (!walk_can_step(r))
		return;
	if (budget > 0 && now - r->walk.slice_start_ms >= budget) {
		r->walk.in_slice = false;
		return;
	}
	walk_step_send(r);
}

/* ---------------------------------------------------------------- keyspace events */

static void events_start(struct redis *r)
{
	char head[48];
	size_t plen;
	int hl = snprintf(head, sizeof head, "__keyspace@%d__:", r->target.db);
	char *pat = keyglob_prefix(head, r->prefix[WALK_BLOCKED], r->prefix_len[WALK_BLOCKED], &plen);

	struct revents_at at = { .user = r->target.user, .password = r->password, .tls = rlink_tls(r->link) };

	if (!pat)
		return;
	/* the subscriber follows one server: a cluster is walked instead */
	if (rlink_master(r->link, &at.host, &at.port, &at.path))
		r->events = revents_new(&at, pat, plen, (size_t)hl);
	else
		log_msg(LOG_INFO, "redis %s: a cluster: keyspace events are not followed, the walk finds the blocks",
		        r->display);
	free(pat);
}

/* CONFIG GET notify-keyspace-events: ["notify-keyspace-events", flags].
 * Refused (an ACL, a renamed command) or not enough: the walk alone.  The
 * server's setting is read, never changed. */
static void config_reply(struct redis *r, const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[1]->type != REDIS_REPLY_STRING) {
		log_msg(LOG_INFO, "redis %s: keyspace events unknown (CONFIG GET refused): walking the keyspace",
		        r->display);
		return;
	}
	if (!revents_flags_enough(rep->element[1]->str)) {
		log_msg(LOG_INFO, "redis %s: the server publishes no keyspace events for the block keys: "
		        "walking the keyspace", r->display);
		return;
	}
	events_start(r);
}

/* GET and TTL of each key the events named, in one pipeline. */
static bool events_fetch(struct redis *r, char **keys, size_t *lens, size_t n)
{
	struct batch *b = batch_new(r, BATCH_EVENT);
	size_t plen = r->prefix_len[WALK_BLOCKED];

	if (b) {
		b->found = calloc(n, sizeof *b->found);
		b->gen = r->events_epoch;
	}
	for (size_t i = 0; i < n; i++) {
		if (b && b->found && !r->fail[0] && lens[i] >= plen &&
		    memcmp(keys[i], r->prefix[WALK_BLOCKED], plen) == 0) {
			struct found *f = &b->found[b->n_found];
			f->key = mem_dup(keys[i] + plen, lens[i] - plen);
			if (f->key) {
				f->len = lens[i] - plen;
				f->prefix = WALK_BLOCKED;
				f->ttl = -2;
				b->n_found++;
				batch_cmd(r, b, "GET %b", keys[i], lens[i]);
				batch_cmd(r, b, "TTL %b", keys[i], lens[i]);
			}
		}
		free(keys[i]);
	}
	if (b && !b->found)
		redis_set_fail(r, "out of memory");
	if (!b || !b->found || r->fail[0])
		return false;
	if (b->expected == 0) {
		batch_unlink(r, b);
		batch_free(b);
		return false;
	}
	return true;
}

static void events_tick(struct redis *r, int64_t now)
{
	char **keys;
	size_t *lens;
	bool overflowed;

	if (!r->events)
		return;
	revents_tick(r->events, now);
	r->m->redis_events = revents_up(r->events);
	/* a copy of the list at most every EVENTS_PUBLISH_MS: a flood of
	 * events costs one copy, not one per batch */
	if (r->shown_dirty && now - r->shown_pub_ms >= EVENTS_PUBLISH_MS) {
		r->shown_pub_ms = now;
		if (r->m->walk_complete)
			shown_publish(r);
		else
			walk_show_partial(r);
		r->shown_dirty = r->shown_dirty && r->m->walk_complete;
	}
	if (r->events_inflight)
		return;
	size_t n = revents_take(r->events, EVENTS_BATCH, &keys, &lens, &overflowed);
	/* more than could be followed, or a gap: the walk finds the rest; the
	 * events lost during a pass may be of keys behind its cursor, so
	 * another pass follows that one */
	if (overflowed)
		r->next_pass_ms = now;
	if (n)
		r->events_inflight = events_fetch(r, keys, lens, n);
	free(keys);
	free(lens);
}

/* Past blocked-max only the walk can tell the count: the next pass
 * starts at the next refresh (still paced by scan-rate). */
static void walk_soon(struct redis *r)
{
	if (!r->walk.active)
		r->next_pass_ms = r->now_ms;
}

/* Does r->shown hold every block there is?  Then whether it holds a key
 * says whether the key was counted, and events keep the count exact.
 * Past blocked-max that is unknown, and the count follows the walk. */
static bool shown_holds_all(const struct redis *r)
{
	return r->m->walk_complete && r->m->blocked_count == r->shown.n;
}

/* A key an event named is still a block: list it (and count it if new). */
static void event_present(struct redis *r, struct found *f)
{
	struct model *m = r->m;
	struct block_entry e = { .key_ip = f->key, .key_len = f->len, .ttl_s = f->ttl, .by = f->by,
	                         .reason = f->reason, .at = f->at, .kind = f->kind }, dup;
	bool pinned = strlen(f->key) == f->len && model_ip_redis_wanted(m, f->key);

	memset(f, 0, sizeof *f);
	/* the pass under way may be past it: it holds it, marked, and counts
	 * it at its end unless its own SCAN sees it (which clears the mark);
	 * one the pass has counted already (a block extended) stays unmarked */
	if (r->walk.active && block_entry_copy(&dup, &e)) {
		/* a second event for the key (SET EX publishes "set" and "expire")
		 * must not clear the first one's mark: only the walk's offer does */
		bool marked = blockset_event_marked(&r->walk.bs, e.key_ip, e.key_len);
		bool counted = walk_counted(&r->walk, e.key_ip, e.key_len);
		if ((blockset_offer(&r->walk.bs, &dup, pinned) == BLOCKSET_KEPT || marked) && !counted)
			blockset_mark_event(&r->walk.bs, e.key_ip, e.key_len);
	}
	bool exact = shown_holds_all(r);
	bool held = blockset_has(&r->shown, e.key_ip, e.key_len);
	if (blockset_offer(&r->shown, &e, pinned) == BLOCKSET_KEPT && exact && !held)
		m->blocked_count++;
	else if (!exact && !held)
		walk_soon(r);     /* new, or one not kept: the walk counts */
}

/* Deleted, or expired: off the lists, and off the counts. */
static void event_gone(struct redis *r, const struct found *f)
{
	struct model *m = r->m;
	bool exact = shown_holds_all(r);

	bool held = blockset_remove(&r->shown, f->key, f->len, NULL);
	if (held && exact && m->blocked_count > 0)
		m->blocked_count--;
	else if (!exact)
		walk_soon(r);
	/* off the pass's list (one an event told, unmarked with it), and off
	 * its count if it was counted */
	if (r->walk.active) {
		blockset_remove(&r->walk.bs, f->key, f->len, NULL);
		walk_uncount(&r->walk, f->key, f->len);
	}
}

static void event_done(struct redis *r, struct batch *b)
{
	r->events_inflight = false;
	if (b->gen != r->events_epoch)
		return;          /* sent before a pass started: the pass reads them */
	for (size_t i = 0; i < b->n_found; i++) {
		struct found *f = &b->found[i];
		if (f->present && f->ttl != -2)
			event_present(r, f);
		else
			event_gone(r, f);
	}
	r->stats.events += b->n_found;
	walk_show_progress(r);
	r->shown_dirty = true;      /* published by events_tick, coalesced */
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
	b->lost = calloc(n + watch, sizeof *b->lost);
	if (!b->ips || !b->lost) {
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

/* An address whose keys' shard did not answer is left out: unknown, never
 * shown as "not blocked".  Returns how many were. */
static size_t exact_drop_lost(struct batch *b)
{
	size_t kept = 0, lost = 0;

	for (size_t i = 0; i < b->n_ips; i++) {
		if (b->lost && b->lost[i]) {
			ip_redis_free(&b->ips[i]);
			lost++;
		} else {
			b->ips[kept++] = b->ips[i];
		}
	}
	b->n_ips = kept;
	return lost;
}

/* A cluster with a master down: what the others hold is fresh, the rest
 * is missing, and the source says which. */
static void shards_status(struct redis *r, size_t lost)
{
	char first[240] = "", why[256];
	size_t down = rlink_nodes_down(r->link, first, sizeof first);

	if (!down && !lost && !r->walk_missed[0])
		return;
	if (!first[0])
		snprintf(first, sizeof first, "%s", r->walk_missed[0] ? r->walk_missed : "a master");
	snprintf(why, sizeof why, "cluster: part missing (%zu master%s down: %.180s); %zu address%s unknown",
	         down, down == 1 ? "" : "s", first, lost, lost == 1 ? "" : "es");
	source_status_fail(&r->m->redis, why);
	redis_log_fail(r, why);
}

static void exact_done(struct redis *r, struct batch *b)
{
	struct model *m = r->m;
	size_t lost = exact_drop_lost(b);

	model_set_ip_redis(m, b->ips, b->n_ips);
	b->ips = NULL;
	b->n_ips = 0;
	m->ip_redis_gen = b->gen;
	r->exact_inflight = false;
	source_status_ok(&m->redis, clock_wall_ms());
	backoff_reset(&r->bo);
	if (rlink_is_cluster(r->link))
		shards_status(r, lost);
	if (!m->redis.error[0])
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
	if (r->events_wanted && !r->events) {
		struct batch *b = batch_new(r, BATCH_CONFIG);
		if (b)
			batch_cmd(r, b, "CONFIG GET notify-keyspace-events");
	}
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
	case BATCH_CONFIG:
		break;           /* config_reply did it */
	case BATCH_EVENT:
		event_done(r, b);
		break;
	}
	batch_free(b);
}

/* In a cluster, a command whose master is down is told NULL, and one the
 * cluster cannot serve now gets CLUSTERDOWN or TRYAGAIN: only that shard's
 * part is missing, the rest goes on. */
static bool reply_lost(struct redis *r, const redisReply *rep)
{
	if (!rlink_is_cluster(r->link))
		return false;
	return !rep || (rep->type == REDIS_REPLY_ERROR &&
	                (strncmp(rep->str, "CLUSTERDOWN", 11) == 0 || strncmp(rep->str, "TRYAGAIN", 8) == 0));
}

static void shard_lost(struct redis *r, struct batch *b, size_t idx)
{
	switch (b->kind) {
	case BATCH_HELLO:
		redis_set_fail(r, "no master of the cluster answers");
		break;
	case BATCH_EXACT:
		/* the block key unread: the address is unknown; a counter unread
		 * stays -1, shown as none (null in JSON) */
		if (b->n_ips && b->lost && idx % r->exact_stride < 2)
			b->lost[idx / r->exact_stride] = true;
		break;
	case BATCH_SCAN:
		walk_skip_node(r);
		break;
	case BATCH_FETCH:
	case BATCH_EVENT:
	case BATCH_CONFIG:
		break;           /* a key not read is not counted */
	}
}

static void redis_on_reply(void *privdata, size_t idx, redisReply *rep)
{
	struct batch *b = privdata;
	struct redis *r = b->r;

	if (!r->dropping && !r->fail[0] && reply_lost(r, rep)) {
		freeReplyObject(rep);
		b->got++;
		shard_lost(r, b, idx);
		if (!r->fail[0] && b->got == b->expected)
			batch_complete(r, b);
		return;
	}
	/* NULL: the link is being reset; whoever reset it cleans up. */
	if (!rep || r->dropping || r->fail[0]) {
		freeReplyObject(rep);
		return;
	}
	b->got++;
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
	case BATCH_EVENT:
		fetch_reply(r, b, idx, rep);
		break;
	case BATCH_CONFIG:
		config_reply(r, rep);
		break;
	}
	freeReplyObject(rep);
	if (!r->fail[0] && b->got == b->expected)
		batch_complete(r, b);
}

/* The link did AUTH and SELECT (and found the master): a PING says it is up. */
static void hello_send(struct redis *r)
{
	struct batch *b = batch_new(r, BATCH_HELLO);

	if (!b)
		return;
	b->names[0] = "PING";
	batch_cmd(r, b, "PING");
}

/* Reset the link (pending callbacks run with NULL and are ignored), then
 * free the batches they pointed into. */
static void conn_drop(struct redis *r)
{
	r->dropping = true;
	rlink_reset(r->link);
	r->dropping = false;
	batches_free(r);
	/* the subscriber is remade after the next CONFIG GET: the server may
	 * have been restarted with other settings */
	revents_free(r->events);
	r->events = NULL;
	r->m->redis_events = false;
	r->exact_inflight = false;
	r->events_inflight = false;
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

/* Non-blocking connect (after asking the sentinels), the hello queued at
 * once: it goes out when the link is up. */
static void conn_start(struct redis *r)
{
	r->stats.connects++;
	r->conn = CONN_HANDSHAKE;
	rlink_start(r->link, r->now_ms);
	if (rlink_error(r->link)[0]) {
		conn_fail(r, rlink_error(r->link));
		return;
	}
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

/* The link failed as a whole: so does the source. */
static void link_check(struct redis *r)
{
	const char *why = rlink_error(r->link);

	if (why[0])
		redis_set_fail(r, "%s", why);
}

static void redis_tick(void *self, int64_t now)
{
	struct redis *r = self;

	r->now_ms = now;
	if (r->conn != CONN_DOWN) {
		rlink_tick(r->link, now);
		link_check(r);
	}
	if (!r->fail[0] && r->conn == CONN_DOWN) {
		if (now >= r->retry_at_ms)
			conn_start(r);
	} else if (!r->fail[0] && !deadline_passed(r, now) && r->conn == CONN_READY) {
		refresh_tick(r, now);
		if (!r->fail[0])
			events_tick(r, now);
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
	else if (rlink_wake_at(r->link) < wake)
		wake = rlink_wake_at(r->link);
	for (const struct batch *b = r->head; b; b = b->next)
		if (b->deadline_ms < wake)
			wake = b->deadline_ms;
	if (r->conn == CONN_READY) {
		if (r->next_refresh_ms < wake && !r->m->paused)
			wake = r->next_refresh_ms;
		if (r->refresh_asked || exact_due(r) || walk_can_step(r))
			wake = now;
		int64_t w = walk_wake_at(r, now);
		if (w < wake)
			wake = w;
		if (r->shown_dirty && r->shown_pub_ms + EVENTS_PUBLISH_MS < wake)
			wake = r->shown_pub_ms + EVENTS_PUBLISH_MS;
	}
	return wake;
}

static int redis_fds(void *self, struct pollfd *pfd, int max, int64_t now, int64_t *timeout_ms)
{
	struct redis *r = self;
	int64_t wake = redis_wake_at(r, now);

	if (wake != INT64_MAX && wake - now < *timeout_ms)
		*timeout_ms = wake > now ? wake - now : 0;
	int n = r->conn == CONN_DOWN ? 0 : rlink_fds(r->link, pfd, max);
	if (r->events && max > n)
		n += revents_fds(r->events, pfd + n, max - n, now, timeout_ms);
	return n;
}

static void redis_ready(void *self, const struct pollfd *pfd, int n, int64_t now)
{
	struct redis *r = self;

	r->now_ms = now;
	/* each takes the pollfds that are its own */
	for (int i = 0; i < n && r->events; i++)
		revents_ready(r->events, &pfd[i], 1, now);
	if (r->conn == CONN_DOWN)
		return;
	rlink_ready(r->link, pfd, n, now);
	link_check(r);
	if (r->fail[0])
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
	if (r->link)
		conn_drop(r);
	rlink_free(r->link);
	fpset_free(&r->streamed);
	walk_clear(&r->walk);
	blockset_clear(&r->walk.bs);
	blockset_clear(&r->shown);
	free(r->walk_pat);
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
	}
	return 0;
}

/* One MATCH pattern for the walked prefixes: one pass serves them all
 * (each pass visits every key of the database, whatever its prefix). */
static int walk_pattern(struct redis *r)
{
	free(r->walk_pat);
	r->walk_pat = NULL;
	if (r->walk_end == WALK_BLOCKED)
		return 0;
	r->walk_pat = keyglob_union(r->prefix, r->prefix_len, (size_t)r->walk_end, &r->walk_pat_len);
	return r->walk_pat ? 0 : -1;
}

static struct rlink *redis_link_new(struct redis *r, char *err, size_t errsz)
{
	const struct config *cfg = r->cfg;
	struct rlink_opts o = { .password = r->password, .sentinel_password = cfg->redis_sentinel_password,
	                        .ca_file = cfg->redis_ca_file, .cert_file = cfg->redis_cert_file,
	                        .key_file = cfg->redis_key_file, .timeout_ms = r->timeout_ms };
	char why[256];
	struct rlink *l = rlink_new(&r->target, &o, why, sizeof why);

	if (!l)
		snprintf(err, errsz, "redis: %s", why);
	return l;
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
	r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 3000;
	if (!(r->link = redis_link_new(r, err, errsz))) {
		redis_destroy(r);
		return NULL;
	}
	r->step_count = cfg->scan_count > 0 ? cfg->scan_count : 1000;
	r->walk_end = WALK_DONE;
	r->events_wanted = true;
	blockset_init(&r->walk.bs, cfg->blocked_max > 0 ? (size_t)cfg->blocked_max : 1000);
	blockset_init(&r->shown, r->walk.bs.max);
	r->tokens_ms = clock_mono_ms();
	if (walk_pattern(r) < 0) {
		snprintf(err, errsz, "out of memory");
		redis_destroy(r);
		return NULL;
	}
	r->exact_stride = 4;
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
	r->events_wanted = false;    /* one walk, then the report is done */
	r->exact_stride = 2;
	r->step_count = count > 0 ? count : 1000;
	/* the report lists the blocks it walked, up to REDIS_MAX_BLOCKED */
	r->walk.bs.max = r->shown.max = REDIS_MAX_BLOCKED;
	if (walk_pattern(r) < 0)
		redis_set_fail(r, "out of memory");
}

void redis_lookup_blocks_only(struct redis *r)
{
	r->walk_end = WALK_BLOCKED;
	r->events_wanted = false;
	r->exact_stride = 2;
	walk_pattern(r);
}

void redis_stream_blocks(struct redis *r, redis_block_fn fn, void *ctx)
{
	r->stream_fn = fn;
	r->stream_ctx = ctx;
}

void redis_walk_hold(struct redis *r, bool hold)
{
	r->walk_held = hold;
}
