/* redis_link.h: one Redis, whatever its shape, for the sources above it.
 *
 * The URL says where to start: one server (redis://, rediss://), or the
 * sentinels that know the master (redis-sentinel://).  Below this interface
 * and nowhere else:
 *   - the transport, plain or TLS (redis_conn.h), to every server;
 *   - Sentinel: each sentinel in turn is asked for the master (one that is
 *     down or does not know it is skipped), the answer is checked with ROLE,
 *     and it is asked again whenever the link is remade (after a drop, or a
 *     write refused with READONLY);
 *   - Cluster: a redis:// URL naming any node of a cluster is seen as one
 *     (CLUSTER SLOTS answers); each command goes to its key's slot's master
 *     (the commands to one node are pipelined on its connection), MOVED and
 *     ASK are followed, and a node that is down fails only the commands
 *     meant for it (rlink_nodes_down()), while the others go on.
 *   - AUTH and SELECT on every connection.
 *
 * Async use (the poll loop): rlink_start(), then rlink_fds()/rlink_ready()/
 * rlink_tick(); commands may be queued at once and go out when the link is
 * up.  Each reply goes to its callback, which owns it; NULL: the command
 * was not answered (the link was reset, or its node is down).  Callbacks
 * never free or reset the link.  rlink_error() non-empty: the link failed
 * as a whole; the owner resets it (and starts it again after a backoff).
 *
 * Blocking use (an action, the command line): rlink_open(), rlink_call().
 */
#ifndef SECTOP_REDIS_LINK_H
#define SECTOP_REDIS_LINK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pollfd;
struct redisReply;
struct redis_target;
struct rtls;
struct rlink;

struct rlink_opts {
	const char *password;            /* the master's / the nodes' (NULL: none) */
	const char *sentinel_password;   /* the sentinels' own (NULL: none) */
	const char *ca_file, *cert_file, *key_file;  /* TLS; NULL: the system's CAs, no client cert */
	int timeout_ms;                  /* for each sentinel, and each blocking call */
};

typedef void (*rlink_cb)(void *priv, size_t tag, struct redisReply *rep);

/* The target and the options are copied.  NULL with err. */
struct rlink *rlink_new(const struct redis_target *t, const struct rlink_opts *o, char *err, size_t errsz);
void rlink_free(struct rlink *l);

void rlink_start(struct rlink *l, int64_t now_ms);
/* Drop every connection: the callbacks still waiting run with NULL. */
void rlink_reset(struct rlink *l);

/* Queue a command; routed by its key (its second argument) in a cluster. */
int rlink_vcommand(struct rlink *l, rlink_cb cb, void *priv, size_t tag, const char *fmt, va_list ap);
/* A keyless command to one master (SCAN visits each in turn). */
int rlink_vcommand_node(struct rlink *l, int node, rlink_cb cb, void *priv, size_t tag,
                        const char *fmt, va_list ap);

/* The masters (one unless a cluster), as node numbers, once up. */
size_t rlink_masters(const struct rlink *l, int *nodes, size_t max);
/* "host:port" of a node, for messages. */
const char *rlink_node_name(const struct rlink *l, int node);
/* How many masters of the cluster are down; the first, and why, in first. */
size_t rlink_nodes_down(const struct rlink *l, char *first, size_t firstsz);

bool rlink_up(const struct rlink *l);
bool rlink_is_cluster(const struct rlink *l);
const char *rlink_error(const struct rlink *l);
/* The master now in use (for a second connection such as the keyspace
 * events' subscriber): false until known, or in a cluster. */
bool rlink_master(const struct rlink *l, const char **host, int *port, const char **path);
struct rtls *rlink_tls(const struct rlink *l);

int rlink_fds(struct rlink *l, struct pollfd *pfd, int max);
/* Handles the pollfds that are the link's (the others are left alone). */
void rlink_ready(struct rlink *l, const struct pollfd *pfd, int n, int64_t now_ms);
void rlink_tick(struct rlink *l, int64_t now_ms);
int64_t rlink_wake_at(const struct rlink *l);

/* Blocking: connect (and discover) within the timeout; NULL with err. */
struct rlink *rlink_open(const struct redis_target *t, const struct rlink_opts *o, char *err, size_t errsz);
/* One command, its reply (the caller frees it), NULL with rlink_error().
 * Through sentinels, a write refused with READONLY or a dropped connection
 * asks the sentinels again and sends the command once more. */
struct redisReply *rlink_call(struct rlink *l, const char *fmt, ...);

/* What this build speaks, for `sectop --version`. */
const char *rlink_features(void);

#endif
