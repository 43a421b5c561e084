/* redis_cluster.h: what sectop knows of Redis Cluster, pure (no I/O), so
 * that it can be tested alone: which slot a key hashes to (CRC16-CCITT
 * (XMODEM) of the key, or of its {hash tag}, mod 16384), the slot map as
 * CLUSTER SLOTS tells it, the MOVED and ASK redirections, and which
 * argument of a formatted command is its key.  Debian 12's hiredis (0.14)
 * knows nothing of clusters; redis_link.c routes with this.
 */
#ifndef SECTOP_REDIS_CLUSTER_H
#define SECTOP_REDIS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RCLUSTER_SLOTS 16384
#define RCLUSTER_MAX_NODES 64
#define RCLUSTER_NO_NODE 0xffff

struct redisReply;

struct rcluster_node {
	char host[256];
	int port;
};

/* Which master serves each slot: an index into nodes, or RCLUSTER_NO_NODE. */
struct rcluster_map {
	uint16_t node_of[RCLUSTER_SLOTS];
	struct rcluster_node nodes[RCLUSTER_MAX_NODES];
	size_t n_nodes;
};

uint16_t rcluster_crc16(const char *buf, size_t len);

/* The slot of a key: only what is between the first '{' and the next '}'
 * is hashed when that is not empty (a hash tag), else the whole key. */
int rcluster_key_slot(const char *key, size_t len);

/* The map from a CLUSTER SLOTS reply: [[start, end, [host, port, ...],
 * replicas...], ...].  A master announced with an empty host (or "?") is on
 * the host that answered, asked_host.  0, or -1 when the reply is not one. */
int rcluster_map_from_slots(struct rcluster_map *m, const struct redisReply *rep, const char *asked_host);

/* The node index for host:port, added when new; -1 when the map is full. */
int rcluster_map_node(struct rcluster_map *m, const char *host, int port);

/* "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>" (an empty
 * host: the node that answered, asked_host).  true when err is one. */
struct rcluster_redirect {
	bool ask;
	int slot;
	char host[256];
	int port;
};
bool rcluster_redirect_parse(const char *err, size_t len, const char *asked_host, struct rcluster_redirect *out);

/* The key of a command as redisFormatCommand formatted it (RESP array of
 * bulk strings): its second argument, unless the command takes no key (PING,
 * SCAN, INFO...).  false when it has none. */
bool rcluster_command_key(const char *cmd, size_t len, const char **key, size_t *key_len);
/* The command's name (its first argument), as sent. */
bool rcluster_command_name(const char *cmd, size_t len, const char **name, size_t *name_len);

#endif
