/* redis_link.c: see redis_link.h.
 *
 * Node 0 is where the link starts: the URL's server, or the master the
 * sentinels named.  In a cluster, the slot map points at the nodes kept in
 * l->nodes (never removed, so a node number stays valid while commands are
 * in flight), and a MOVED adds the node it names.
 *
 * The rconn callbacks only record what they learn (and may queue commands
 * or open connections); every change of state, and every free, happens in
 * link_step(), run at the end of rlink_ready() and rlink_tick().
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "redis_cluster.h"
#include "redis_conn.h"
#include "redis_link.h"
#include "redis_url.h"
#include "strutil.h"

#define NODE_RETRY_MS 1000
#define MAP_REFRESH_MS 1000
#define MAX_HOPS 5

enum link_state { L_DOWN, L_DISCOVER, L_HELLO, L_UP, L_FAILED };

struct rlink;

struct lnode {
	char host[256];
	int port;
	struct rconn *c;
	int64_t retry_at;
	char down[200];              /* why it is down; "" when it is not */
	unsigned long replies;       /* rconn_replies() when last looked at */
	int64_t progress_at;         /* when a reply last came, or nothing waited */
};

struct lcmd {
	struct rlink *l;
	rlink_cb cb;
	void *priv;
	size_t tag;
	char *buf;
	size_t len;
	int slot;                    /* -1: keyless */
	int node;                    /* where it must go; -1: routed */
	int hops;
	struct lcmd *next;
};

struct lqueue {
	struct lcmd *head, *tail;
};

struct rlink {
	int tx_slot;                   /* a WATCH's slot: MULTI and EXEC go where it went; -1 none */
	const struct redis_target *t;  /* &target */
	struct redis_target target;    /* a copy, without the password */
	struct rlink_opts o;           /* the passwords copied */
	struct rtls *tls;
	enum link_state state;
	char err[256];
	int64_t now, deadline;

	/* Sentinel: the one asked now, the master it named */
	struct rconn *sc;
	int sentinel_next, sentinels_tried;
	bool sentinel_answered, sentinel_failed;
	char sentinel_why[256];      /* why the last one failed; a refusal or a
	                              * "no such master" outweighs one that is down */
	bool why_answer;
	char master_host[256];
	int master_port;

	/* the hello of node 0 */
	int hello_left;
	char hello_err[256];
	struct rcluster_map *map;    /* CLUSTER SLOTS, as node 0 answered */
	bool cluster;

	struct lnode nodes[RCLUSTER_MAX_NODES];
	size_t n_nodes;
	uint16_t node_of[RCLUSTER_SLOTS];
	bool map_stale, map_inflight;
	int64_t map_next;

	struct lqueue waiting;       /* queued before the link was up */
	struct lqueue dead;          /* not deliverable: told NULL at the next step */
	bool resetting;
};

/* ---------------------------------------------------------------- queues */

static void q_push(struct lqueue *q, struct lcmd *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
}

static struct lcmd *q_pop(struct lqueue *q)
{
	struct lcmd *c = q->head;

	if (c) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
	}
	return c;
}

static void lcmd_finish(struct lcmd *c, redisReply *rep)
{
	rlink_cb cb = c->cb;
	void *priv = c->priv;
	size_t tag = c->tag;

	free(c->buf);
	free(c);
	cb(priv, tag, rep);
}

static void q_fail_all(struct lqueue *q)
{
	struct lcmd *c;

	while ((c = q_pop(q)))
		lcmd_finish(c, NULL);
}

/* ---------------------------------------------------------------- errors */

__attribute__((format(printf, 2, 3)))
static void link_fail(struct rlink *l, const char *fmt, ...)
{
	va_list ap;

	if (l->state == L_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof l->err, fmt, ap);
	va_end(ap);
	l->state = L_FAILED;
}

static const char *reply_text(const redisReply *rep, char *buf, size_t bufsz)
{
	if (!rep)
		return "no reply";
	if (rep->type == REDIS_REPLY_ERROR || rep->type == REDIS_REPLY_STATUS || rep->type == REDIS_REPLY_STRING)
		snprintf(buf, bufsz, "%.*s", (int)(rep->len > 200 ? 200 : rep->len), rep->str);
	else
		snprintf(buf, bufsz, "unexpected reply of type %d", rep->type);
	return buf;
}

/* ---------------------------------------------------------------- nodes */

static int node_add(struct rlink *l, const char *host, int port)
{
	for (size_t i = 0; i < l->n_nodes; i++)
		if (l->nodes[i].port == port && strcmp(l->nodes[i].host, host) == 0)
			return (int)i;
	if (l->n_nodes == RCLUSTER_MAX_NODES)
		return -1;
	struct lnode *n = &l->nodes[l->n_nodes];
	memset(n, 0, sizeof *n);
	snprintf(n->host, sizeof n->host, "%s", host);
	n->port = port;
	return (int)l->n_nodes++;
}

static void on_node_auth(struct rconn *c, redisReply *rep, void *priv)
{
	struct lnode *n = priv;
	char buf[220];

	(void)c;
	if (rep && rep->type == REDIS_REPLY_ERROR && !n->down[0])
		snprintf(n->down, sizeof n->down, "AUTH: %s", reply_text(rep, buf, sizeof buf));
	freeReplyObject(rep);
}

static void node_auth(struct rlink *l, struct rconn *c, void *priv, rconn_cb cb, const char *pw)
{
	const char *user = l->t->user;

	if (!pw || !*pw)
		return;
	if (user[0])
		rconn_command(c, cb, priv, "AUTH %s %s", user, pw);
	else
		rconn_command(c, cb, priv, "AUTH %s", pw);
}

/* The connection to node i, made when needed; NULL while it is down. */
static struct rconn *node_conn(struct rlink *l, int i)
{
	struct lnode *n = &l->nodes[i];
	char err[256];

	if (n->c)
		return n->c;
	if (n->down[0] && l->now < n->retry_at)
		return NULL;
	const char *path = i == 0 && !l->cluster && !l->t->n_sentinels ? l->t->path : NULL;
	n->c = rconn_new(n->host, n->port, path, l->tls, err, sizeof err);
	if (!n->c) {
		snprintf(n->down, sizeof n->down, "%.199s", err);
		n->retry_at = l->now + NODE_RETRY_MS;
		return NULL;
	}
	n->down[0] = '\0';
	n->replies = 0;
	n->progress_at = l->now;
	if (i != 0)
		node_auth(l, n->c, n, on_node_auth, l->o.password);
	return n->c;
}

/* A connection failed: in a cluster only its node is down, else the link. */
static void node_failed(struct rlink *l, int i, const char *why)
{
	struct lnode *n = &l->nodes[i];
	char reason[sizeof n->down];

	snprintf(reason, sizeof reason, "%s", why);
	if (!l->cluster || l->state != L_UP) {
		link_fail(l, "%s", reason);
		return;
	}
	snprintf(n->down, sizeof n->down, "%s", reason);
	n->retry_at = l->now + NODE_RETRY_MS;
	l->map_stale = true;          /* a replica may take its slots over */
	struct rconn *c = n->c;
	n->c = NULL;
	rconn_free(c);                /* its commands are told NULL */
}

/* ---------------------------------------------------------------- routing */

static void on_cmd(struct rconn *c, redisReply *rep, void *priv);
static void lcmd_send(struct rlink *l, struct lcmd *cmd);

static int first_master_up(struct rlink *l)
{
	for (int s = 0; s < RCLUSTER_SLOTS; s++) {
		int i = l->node_of[s];
		if (i != RCLUSTER_NO_NODE && !l->nodes[i].down[0])
			return i;
	}
	return -1;
}

static int lcmd_route(struct rlink *l, const struct lcmd *cmd)
{
	if (cmd->node >= 0)
		return cmd->node;
	if (!l->cluster)
		return 0;
	if (cmd->slot >= 0)
		return l->node_of[cmd->slot] == RCLUSTER_NO_NODE ? -1 : l->node_of[cmd->slot];
	return first_master_up(l);
}

static void on_ignore(struct rconn *c, redisReply *rep, void *priv)
{
	(void)c;
	(void)priv;
	freeReplyObject(rep);
}

static void lcmd_send_to(struct rlink *l, struct lcmd *cmd, int node, bool asking)
{
	struct rconn *c = node >= 0 ? node_conn(l, node) : NULL;

	if (c && asking)
		rconn_command(c, on_ignore, NULL, "ASKING");
	if (!c || rconn_command_raw(c, on_cmd, cmd, cmd->buf, cmd->len) < 0)
		q_push(&l->dead, cmd);
}

static void lcmd_send(struct rlink *l, struct lcmd *cmd)
{
	lcmd_send_to(l, cmd, lcmd_route(l, cmd), false);
}

/* MOVED: the slot is elsewhere now (the map is learnt again); ASK: this
 * command only, after ASKING. */
static bool follow_redirect(struct rlink *l, struct lcmd *cmd, const redisReply *rep, const char *asked)
{
	struct rcluster_redirect rd;

	if (!l->cluster || rep->type != REDIS_REPLY_ERROR || cmd->hops >= MAX_HOPS ||
	    !rcluster_redirect_parse(rep->str, rep->len, asked, &rd))
		return false;
	int node = node_add(l, rd.host, rd.port);
	if (node < 0)
		return false;
	cmd->hops++;
	if (!rd.ask) {
		l->node_of[rd.slot] = (uint16_t)node;
		l->map_stale = true;
	}
	lcmd_send_to(l, cmd, node, rd.ask);
	return true;
}

static void on_cmd(struct rconn *c, redisReply *rep, void *priv)
{
	struct lcmd *cmd = priv;
	struct rlink *l = cmd->l;

	if (rep && !l->resetting) {
		const char *name = rconn_name(c);
		char host[256];
		const char *colon = strrchr(name, ':');
		snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - name) : 0, name);
		if (follow_redirect(l, cmd, rep, host)) {
			freeReplyObject(rep);
			return;
		}
		if (l->t->n_sentinels && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "READONLY", 8) == 0)
			link_fail(l, "%s is a replica now (READONLY): asking the sentinels again", name);
	}
	lcmd_finish(cmd, rep);
}

static bool named(const char *name, size_t len, const char *what)
{
	return strlen(what) == len && strncasecmp(name, what, len) == 0;
}

/* A transaction (WATCH key, MULTI, commands on keys of its slot, EXEC) must
 * stay on one node of a cluster: the keyless MULTI, EXEC, DISCARD and
 * UNWATCH go where the WATCH went. */
static void tx_route(struct rlink *l, struct lcmd *cmd, const char *name, size_t len)
{
	if (named(name, len, "WATCH")) {
		l->tx_slot = cmd->slot;
		return;
	}
	bool ends = named(name, len, "EXEC") || named(name, len, "DISCARD") || named(name, len, "UNWATCH");
	if (cmd->slot < 0 && (ends || named(name, len, "MULTI")))
		cmd->slot = l->tx_slot;
	if (ends)
		l->tx_slot = -1;
}

static struct lcmd *lcmd_new(struct rlink *l, rlink_cb cb, void *priv, size_t tag, int node,
                             const char *fmt, va_list ap)
{
	struct lcmd *cmd = calloc(1, sizeof *cmd);
	char *buf = NULL;
	int len = cmd ? redisvFormatCommand(&buf, fmt, ap) : -1;

	if (len < 0) {
		free(cmd);
		return NULL;
	}
	/* hiredis allocates with malloc: ours to keep and free */
	*cmd = (struct lcmd){ .l = l, .cb = cb, .priv = priv, .tag = tag, .buf = buf, .len = (size_t)len,
	                      .slot = -1, .node = node };
	const char *key, *name;
	size_t klen, nlen;
	if (rcluster_command_key(buf, (size_t)len, &key, &klen))
		cmd->slot = rcluster_key_slot(key, klen);
	if (rcluster_command_name(buf, (size_t)len, &name, &nlen))
		tx_route(l, cmd, name, nlen);
	return cmd;
}

static int submit(struct rlink *l, struct lcmd *cmd)
{
	if (!cmd)
		return -1;
	if (l->state == L_UP)
		lcmd_send(l, cmd);
	else
		q_push(&l->waiting, cmd);
	return 0;
}

int rlink_vcommand(struct rlink *l, rlink_cb cb, void *priv, size_t tag, const char *fmt, va_list ap)
{
	return submit(l, lcmd_new(l, cb, priv, tag, -1, fmt, ap));
}

int rlink_vcommand_node(struct rlink *l, int node, rlink_cb cb, void *priv, size_t tag,
                        const char *fmt, va_list ap)
{
	if (node < 0 || (size_t)node >= (l->n_nodes ? l->n_nodes : 1))
		node = 0;
	return submit(l, lcmd_new(l, cb, priv, tag, node, fmt, ap));
}

/* ---------------------------------------------------------------- the map */

/* The map as a node answered CLUSTER SLOTS, in our node numbers. */
static bool map_apply(struct rlink *l, const redisReply *rep, const char *asked)
{
	struct rcluster_map *m = malloc(sizeof *m);
	int index[RCLUSTER_MAX_NODES];

	if (!m || rcluster_map_from_slots(m, rep, asked) < 0) {
		free(m);
		return false;
	}
	for (size_t i = 0; i < m->n_nodes; i++)
		index[i] = node_add(l, m->nodes[i].host, m->nodes[i].port);
	for (int s = 0; s < RCLUSTER_SLOTS; s++) {
		int i = m->node_of[s];
		l->node_of[s] = i == RCLUSTER_NO_NODE || index[i] < 0 ? RCLUSTER_NO_NODE : (uint16_t)index[i];
	}
	free(m);
	return true;
}

static void on_map(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;
	char host[256];
	const char *name = rconn_name(c);
	const char *colon = strrchr(name, ':');

	l->map_inflight = false;
	snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - name) : 0, name);
	if (rep && !l->resetting && map_apply(l, rep, host))
		l->map_stale = false;
	freeReplyObject(rep);
}

static void map_refresh(struct rlink *l)
{
	if (!l->cluster || !l->map_stale || l->map_inflight || l->now < l->map_next)
		return;
	l->map_next = l->now + MAP_REFRESH_MS;
	for (size_t i = 0; i < l->n_nodes; i++) {
		if (l->nodes[i].down[0] || !l->nodes[i].c)
			continue;
		if (rconn_command(l->nodes[i].c, on_map, l, "CLUSTER SLOTS") == 0)
			l->map_inflight = true;
		return;
	}
}

/* ---------------------------------------------------------------- the hello */

static void hello_error(struct rlink *l, const char *what, const redisReply *rep)
{
	char buf[220];

	const char *hint = "";

	if (!l->o.password && rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOAUTH", 6) == 0)
		hint = " (no password given: put it in the URL or REDISCLI_AUTH)";
	if (!l->hello_err[0])
		snprintf(l->hello_err, sizeof l->hello_err, "%s: %s%s", what, reply_text(rep, buf, sizeof buf), hint);
}

static void on_hello_auth(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;

	(void)c;
	if (rep && rep->type == REDIS_REPLY_ERROR)
		hello_error(l, "AUTH", rep);
	l->hello_left -= rep != NULL;
	freeReplyObject(rep);
}

static void on_hello_select(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;

	(void)c;
	if (rep && rep->type == REDIS_REPLY_ERROR)
		hello_error(l, "SELECT", rep);
	l->hello_left -= rep != NULL;
	freeReplyObject(rep);
}

/* Any error (cluster support disabled, or CLUSTER not allowed): one server. */
static void on_hello_slots(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;
	const char *colon = strrchr(rconn_name(c), ':');

	if (rep && rep->type == REDIS_REPLY_ARRAY && !l->resetting) {
		char host[256];
		snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - rconn_name(c)) : 0, rconn_name(c));
		l->cluster = map_apply(l, rep, host);
		if (!l->cluster)
			snprintf(l->hello_err, sizeof l->hello_err, "CLUSTER SLOTS: a reply that is not a slot map");
	}
	l->hello_left -= rep != NULL;
	freeReplyObject(rep);
}

static void on_hello_role(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;

	if (rep && (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	            rep->element[0]->type != REDIS_REPLY_STRING || strcmp(rep->element[0]->str, "master") != 0)) {
		if (rep->type == REDIS_REPLY_ERROR)
			hello_error(l, "ROLE", rep);
		else if (!l->hello_err[0])
			snprintf(l->hello_err, sizeof l->hello_err,
			         "%s, named master by the sentinels, is not a master (yet?)", rconn_name(c));
	}
	l->hello_left -= rep != NULL;
	freeReplyObject(rep);
}

static void hello_start(struct rlink *l, const char *host, int port)
{
	char db[16];

	l->n_nodes = 0;
	for (int s = 0; s < RCLUSTER_SLOTS; s++)
		l->node_of[s] = RCLUSTER_NO_NODE;
	node_add(l, host, port);
	struct rconn *c = node_conn(l, 0);
	if (!c) {
		link_fail(l, "%s", l->nodes[0].down);
		return;
	}
	l->state = L_HELLO;
	l->hello_err[0] = '\0';
	l->hello_left = 0;
	if (l->o.password && *l->o.password) {
		node_auth(l, c, l, on_hello_auth, l->o.password);
		l->hello_left++;
	}
	if (l->t->db) {
		snprintf(db, sizeof db, "%d", l->t->db);
		rconn_command(c, on_hello_select, l, "SELECT %s", db);
		l->hello_left++;
	}
	if (l->t->n_sentinels)
		rconn_command(c, on_hello_role, l, "ROLE");
	else if (!l->t->path[0])
		rconn_command(c, on_hello_slots, l, "CLUSTER SLOTS");
	l->hello_left += l->t->n_sentinels || !l->t->path[0];
}

static void link_now_up(struct rlink *l)
{
	struct lcmd *cmd;

	l->state = L_UP;
	/* every master at once: the walk visits them all */
	for (size_t i = 0; l->cluster && i < l->n_nodes; i++)
		node_conn(l, (int)i);
	while ((cmd = q_pop(&l->waiting)))
		lcmd_send(l, cmd);
}

/* ---------------------------------------------------------------- sentinels */

static void on_sentinel_auth(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;
	char buf[220];

	if (rep && rep->type == REDIS_REPLY_ERROR && !l->sentinel_failed) {
		l->why_answer = true;
		snprintf(l->sentinel_why, sizeof l->sentinel_why, "sentinel %s: AUTH: %s (the sentinels' "
		         "password: REDIS_SENTINEL_PASSWORD or redis-sentinel-password)", rconn_name(c),
		         reply_text(rep, buf, sizeof buf));
		l->sentinel_failed = true;
	}
	freeReplyObject(rep);
}

static void on_sentinel_master(struct rconn *c, redisReply *rep, void *priv)
{
	struct rlink *l = priv;
	char buf[220];

	if (!rep || l->sentinel_failed) {
		freeReplyObject(rep);
		return;
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_STRING && rep->element[1]->type == REDIS_REPLY_STRING &&
	    rep->element[0]->len < sizeof l->master_host) {
		snprintf(l->master_host, sizeof l->master_host, "%s", rep->element[0]->str);
		l->master_port = atoi(rep->element[1]->str);
		l->sentinel_answered = l->master_port > 0 && l->master_port < 65536;
	}
	if (!l->sentinel_answered) {
		l->sentinel_failed = true;
		l->why_answer = true;
		if (rep->type == REDIS_REPLY_NIL)
			snprintf(l->sentinel_why, sizeof l->sentinel_why, "sentinel %s does not know a master "
			         "named \"%s\"", rconn_name(c), l->t->master_name);
		else
			snprintf(l->sentinel_why, sizeof l->sentinel_why, "sentinel %s: %s", rconn_name(c),
			         reply_text(rep, buf, sizeof buf));
	}
	freeReplyObject(rep);
}

/* Ask the next sentinel; false when every one was asked in this round. */
static bool sentinel_ask_next(struct rlink *l)
{
	char err[256];

	while (l->sentinels_tried < l->t->n_sentinels) {
		const struct redis_addr *a = &l->t->sentinels[l->sentinel_next];
		l->sentinel_next = (l->sentinel_next + 1) % l->t->n_sentinels;
		l->sentinels_tried++;
		l->sentinel_answered = l->sentinel_failed = false;
		l->sc = rconn_new(a->host, a->port, NULL, l->tls, err, sizeof err);
		if (!l->sc) {
			if (!l->why_answer)
				snprintf(l->sentinel_why, sizeof l->sentinel_why, "sentinel %.60s:%d: %.160s", a->host, a->port, err);
			continue;
		}
		l->deadline = l->now + (l->o.timeout_ms > 1 ? l->o.timeout_ms / 2 : 1);
		const char *pw = l->o.sentinel_password;
		if (pw && *pw)
			rconn_command(l->sc, on_sentinel_auth, l, "AUTH %s", pw);
		rconn_command(l->sc, on_sentinel_master, l, "SENTINEL get-master-addr-by-name %s", l->t->master_name);
		return true;
	}
	return false;
}

static void sentinel_step(struct rlink *l)
{
	if (l->sc && !l->sentinel_answered && !l->sentinel_failed && l->now < l->deadline)
		return;
	if (l->sc && !l->sentinel_answered && !l->sentinel_failed && !l->why_answer)
		snprintf(l->sentinel_why, sizeof l->sentinel_why, "sentinel %s: no answer within %d ms",
		         rconn_name(l->sc), l->o.timeout_ms / 2);
	struct rconn *sc = l->sc;
	l->sc = NULL;
	rconn_free(sc);
	if (l->sentinel_answered) {
		hello_start(l, l->master_host, l->master_port);
		return;
	}
	if (!sentinel_ask_next(l))
		link_fail(l, "no sentinel named the master \"%s\" (%s)", l->t->master_name, l->sentinel_why);
}

/* ---------------------------------------------------------------- the steps */

static void link_step(struct rlink *l)
{
	struct lcmd *cmd;

	if (l->state == L_DISCOVER)
		sentinel_step(l);
	if (l->state == L_HELLO && l->hello_err[0])
		link_fail(l, "%s", l->hello_err);
	if (l->state == L_HELLO && l->hello_left == 0)
		link_now_up(l);
	if (l->state == L_UP)
		map_refresh(l);
	while ((cmd = q_pop(&l->dead)))
		lcmd_finish(cmd, NULL);
}

void rlink_start(struct rlink *l, int64_t now)
{
	l->now = now;
	l->err[0] = '\0';
	l->cluster = false;
	if (!l->t->n_sentinels) {
		hello_start(l, l->t->path[0] ? l->t->path : l->t->host, l->t->port);
		return;
	}
	l->state = L_DISCOVER;
	l->sentinels_tried = 0;
	l->why_answer = false;
	l->sentinel_why[0] = '\0';
	if (!sentinel_ask_next(l))
		link_fail(l, "no sentinel named the master \"%s\" (%s)", l->t->master_name, l->sentinel_why);
}

void rlink_reset(struct rlink *l)
{
	l->resetting = true;
	if (l->sc) {
		rconn_free(l->sc);
		l->sc = NULL;
	}
	for (size_t i = 0; i < l->n_nodes; i++) {
		struct rconn *c = l->nodes[i].c;
		l->nodes[i].c = NULL;
		rconn_free(c);
	}
	q_fail_all(&l->waiting);
	q_fail_all(&l->dead);
	l->resetting = false;
	l->n_nodes = 0;
	l->cluster = l->map_stale = l->map_inflight = false;
	l->state = L_DOWN;
	l->err[0] = '\0';
}

/* ---------------------------------------------------------------- polling */

int rlink_fds(struct rlink *l, struct pollfd *pfd, int max)
{
	int n = 0;

	if (l->sc && n < max)
		pfd[n++] = (struct pollfd){ .fd = rconn_fd(l->sc), .events = rconn_events(l->sc) };
	for (size_t i = 0; i < l->n_nodes && n < max; i++)
		if (l->nodes[i].c)
			pfd[n++] = (struct pollfd){ .fd = rconn_fd(l->nodes[i].c), .events = rconn_events(l->nodes[i].c) };
	return n;
}

static void handle_fd(struct rlink *l, const struct pollfd *p)
{
	if (l->sc && p->fd == rconn_fd(l->sc)) {
		if (rconn_handle(l->sc, p->revents) < 0 && !l->sentinel_answered && !l->sentinel_failed) {
			if (!l->why_answer)
				snprintf(l->sentinel_why, sizeof l->sentinel_why, "sentinel %s: %s", rconn_name(l->sc),
				         rconn_error(l->sc));
			l->sentinel_failed = true;
		}
		return;
	}
	for (size_t i = 0; i < l->n_nodes; i++) {
		struct rconn *c = l->nodes[i].c;
		if (c && p->fd == rconn_fd(c)) {
			if (rconn_handle(c, p->revents) < 0)
				node_failed(l, (int)i, rconn_error(c));
			return;
		}
	}
}

void rlink_ready(struct rlink *l, const struct pollfd *pfd, int n, int64_t now)
{
	l->now = now;
	for (int i = 0; i < n; i++)
		if (pfd[i].revents)
			handle_fd(l, &pfd[i]);
	link_step(l);
}

/* A cluster's master that stops answering (but keeps its connections) is
 * down once nothing came back for half the timeout: the batches above it,
 * whose deadline is the whole timeout, then lose only its part. */
static void nodes_watch(struct rlink *l)
{
	int limit = l->o.timeout_ms / 2 > 0 ? l->o.timeout_ms / 2 : 1;

	for (size_t i = 0; l->cluster && l->state == L_UP && i < l->n_nodes; i++) {
		struct lnode *n = &l->nodes[i];
		if (!n->c || rconn_waiting(n->c) == 0 || rconn_replies(n->c) != n->replies) {
			n->replies = n->c ? rconn_replies(n->c) : 0;
			n->progress_at = l->now;
		} else if (l->now - n->progress_at >= limit) {
			char why[64];
			snprintf(why, sizeof why, "no reply within %d ms", limit);
			node_failed(l, (int)i, why);
		}
	}
}

void rlink_tick(struct rlink *l, int64_t now)
{
	l->now = now;
	nodes_watch(l);
	link_step(l);
}

int64_t rlink_wake_at(const struct rlink *l)
{
	if (l->state == L_DISCOVER)
		return l->deadline;
	for (size_t i = 0; l->cluster && i < l->n_nodes; i++)
		if (l->nodes[i].c && rconn_waiting(l->nodes[i].c))
			return l->now + 50;      /* nodes_watch() looks again */
	if (l->dead.head || (l->cluster && l->map_stale && !l->map_inflight))
		return l->dead.head ? l->now : l->map_next;
	return INT64_MAX;
}

/* ---------------------------------------------------------------- queries */

size_t rlink_masters(const struct rlink *l, int *nodes, size_t max)
{
	bool seen[RCLUSTER_MAX_NODES] = { false };
	size_t n = 0;

	if (!l->cluster) {
		if (max)
			nodes[n++] = 0;
		return n;
	}
	for (int s = 0; s < RCLUSTER_SLOTS; s++) {
		int i = l->node_of[s];
		if (i != RCLUSTER_NO_NODE && !seen[i] && n < max) {
			seen[i] = true;
			nodes[n++] = i;
		}
	}
	return n;
}

const char *rlink_node_name(const struct rlink *l, int node)
{
	if (node < 0 || (size_t)node >= l->n_nodes)
		return "?";
	return l->nodes[node].c ? rconn_name(l->nodes[node].c) : l->nodes[node].host;
}

size_t rlink_nodes_down(const struct rlink *l, char *first, size_t firstsz)
{
	int masters[RCLUSTER_MAX_NODES];
	size_t n = rlink_masters(l, masters, RCLUSTER_MAX_NODES), down = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lnode *nd = &l->nodes[masters[i]];
		if (!nd->down[0])
			continue;
		if (down++ == 0 && first)
			snprintf(first, firstsz, "%s:%d: %s", nd->host, nd->port, nd->down);
	}
	return down;
}

bool rlink_up(const struct rlink *l)
{
	return l->state == L_UP;
}

bool rlink_is_cluster(const struct rlink *l)
{
	return l->cluster;
}

const char *rlink_error(const struct rlink *l)
{
	return l->state == L_FAILED ? l->err : "";
}

bool rlink_master(const struct rlink *l, const char **host, int *port, const char **path)
{
	if (l->state != L_UP || l->cluster || l->n_nodes == 0)
		return false;
	*path = !l->t->n_sentinels && l->t->path[0] ? l->t->path : "";
	*host = l->nodes[0].host;
	*port = l->nodes[0].port;
	return true;
}

struct rtls *rlink_tls(const struct rlink *l)
{
	return l->tls;
}

/* ---------------------------------------------------------------- life */

struct rlink *rlink_new(const struct redis_target *t, const struct rlink_opts *o, char *err, size_t errsz)
{
	struct rlink *l = calloc(1, sizeof *l);

	if (!l) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	l->tx_slot = -1;
	l->target = *t;
	l->target.password = NULL;
	l->t = &l->target;
	l->o = (struct rlink_opts){ .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 3000 };
	bool oom = (o->password && !(l->o.password = strdup(o->password))) ||
	           (o->sentinel_password && !(l->o.sentinel_password = strdup(o->sentinel_password)));
	if (oom)
		snprintf(err, errsz, "out of memory");
	if (oom || (t->tls && !(l->tls = rtls_new(o->ca_file, o->cert_file, o->key_file, err, errsz)))) {
		rlink_free(l);
		return NULL;
	}
	return l;
}

void rlink_free(struct rlink *l)
{
	if (!l)
		return;
	rlink_reset(l);
	rtls_free(l->tls);
	str_wipe_free((char *)l->o.password);
	str_wipe_free((char *)l->o.sentinel_password);
	free(l);
}

/* ---------------------------------------------------------------- blocking */

/* Turn the link's crank until done() or the deadline. */
static bool run_until(struct rlink *l, bool (*done)(const struct rlink *, const void *), const void *arg,
                      int64_t deadline)
{
	struct pollfd pfd[RCLUSTER_MAX_NODES + 1];

	for (;;) {
		int64_t now = clock_mono_ms();
		rlink_tick(l, now);
		if (done(l, arg))
			return true;
		if (l->state == L_FAILED || now >= deadline)
			return false;
		int n = rlink_fds(l, pfd, (int)(sizeof pfd / sizeof pfd[0]));
		int64_t wake = rlink_wake_at(l);
		int64_t until = wake < deadline ? wake : deadline;
		int wait = until > now ? (int)(until - now) : 0;
		if (poll(pfd, (nfds_t)n, wait > 50 ? 50 : wait) < 0)
			continue;
		rlink_ready(l, pfd, n, clock_mono_ms());
	}
}

static bool is_up(const struct rlink *l, const void *arg)
{
	(void)arg;
	return l->state == L_UP;
}

struct rlink *rlink_open(const struct redis_target *t, const struct rlink_opts *o, char *err, size_t errsz)
{
	struct rlink *l = rlink_new(t, o, err, errsz);
	int64_t t0 = clock_mono_ms();

	if (!l)
		return NULL;
	rlink_start(l, t0);
	if (run_until(l, is_up, NULL, t0 + (int64_t)o->timeout_ms * (t->n_sentinels ? 2 : 1)))
		return l;
	snprintf(err, errsz, "%s", l->state == L_FAILED ? l->err : "timed out connecting");
	rlink_free(l);
	return NULL;
}

struct stored {
	bool done;
	redisReply *rep;
};

static void on_stored(void *priv, size_t tag, redisReply *rep)
{
	struct stored *s = priv;

	(void)tag;
	s->done = true;
	s->rep = rep;
}

static bool is_stored(const struct rlink *l, const void *arg)
{
	(void)l;
	return ((const struct stored *)arg)->done;
}

static bool needs_rediscovery(const struct rlink *l, const redisReply *rep)
{
	return l->t->n_sentinels &&
	       (!rep || (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "READONLY", 8) == 0));
}

/* One try: the reply, or NULL with l->err. */
static redisReply *call_once(struct rlink *l, const char *fmt, va_list ap)
{
	struct stored s = { 0 };
	int64_t t0 = clock_mono_ms();

	if (l->state != L_UP) {
		rlink_reset(l);
		rlink_start(l, t0);
		if (!run_until(l, is_up, NULL, t0 + l->o.timeout_ms * 2)) {
			char why[sizeof l->err];
			snprintf(why, sizeof why, "%s", l->state == L_FAILED ? l->err : "timed out connecting");
			rlink_reset(l);
			link_fail(l, "%s", why);
			return NULL;
		}
		t0 = clock_mono_ms();
	}
	if (rlink_vcommand(l, on_stored, &s, 0, fmt, ap) < 0) {
		link_fail(l, "cannot format the command");
		return NULL;
	}
	if (!run_until(l, is_stored, &s, t0 + l->o.timeout_ms)) {
		char why[sizeof l->err];
		snprintf(why, sizeof why, "%s", l->state == L_FAILED ? l->err : "");
		rlink_reset(l);        /* s is told NULL before it goes */
		if (why[0])
			link_fail(l, "%s", why);
		else
			link_fail(l, "timed out after %d ms", l->o.timeout_ms);
		return NULL;
	}
	if (!s.rep && l->state != L_FAILED)
		link_fail(l, "%s", "no reply (the node is down)");
	return s.rep;
}

redisReply *rlink_call(struct rlink *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *rep = call_once(l, fmt, ap);
	va_end(ap);
	if (needs_rediscovery(l, rep)) {
		freeReplyObject(rep);
		rlink_reset(l);       /* the next try asks the sentinels again */
		va_start(ap, fmt);
		rep = call_once(l, fmt, ap);
		va_end(ap);
	}
	return rep;
}

const char *rlink_features(void)
{
	static char buf[160];

	if (!buf[0])
		snprintf(buf, sizeof buf, "one server, Sentinel (redis-sentinel://), Cluster, TLS (rediss://, %s)",
		         rconn_tls_version());
	return buf;
}
