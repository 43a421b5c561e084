/* redis_cluster.c: see redis_cluster.h.  The hash tag rule and the CRC16
 * variant are Redis's own (the Cluster specification, keyHashSlot()). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "redis_cluster.h"

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection. */
uint16_t rcluster_crc16(const char *buf, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)((unsigned char)buf[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

int rcluster_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len);

	if (open) {
		size_t from = (size_t)(open - key) + 1;
		const char *close = memchr(open + 1, '}', len - from);
		if (close && close > open + 1)
			return rcluster_crc16(open + 1, (size_t)(close - open - 1)) & (RCLUSTER_SLOTS - 1);
	}
	return rcluster_crc16(key, len) & (RCLUSTER_SLOTS - 1);
}

int rcluster_map_node(struct rcluster_map *m, const char *host, int port)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].port == port && strcmp(m->nodes[i].host, host) == 0)
			return (int)i;
	if (m->n_nodes == RCLUSTER_MAX_NODES || strlen(host) >= sizeof m->nodes[0].host)
		return -1;
	struct rcluster_node *n = &m->nodes[m->n_nodes];
	snprintf(n->host, sizeof n->host, "%s", host);
	n->port = port;
	return (int)m->n_nodes++;
}

static bool is_int(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_INTEGER;
}

int rcluster_map_from_slots(struct rcluster_map *m, const redisReply *rep, const char *asked_host)
{
	memset(m, 0, sizeof *m);
	for (size_t s = 0; s < RCLUSTER_SLOTS; s++)
		m->node_of[s] = RCLUSTER_NO_NODE;
	if (!rep || rep->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || !is_int(e->element[0]) ||
		    !is_int(e->element[1]))
			return -1;
		long long from = e->element[0]->integer, to = e->element[1]->integer;
		const redisReply *master = e->element[2];
		if (from < 0 || to >= RCLUSTER_SLOTS || from > to || master->type != REDIS_REPLY_ARRAY ||
		    master->elements < 2 || master->element[0]->type != REDIS_REPLY_STRING ||
		    !is_int(master->element[1]))
			return -1;
		const char *host = master->element[0]->str;
		if (!host[0] || strcmp(host, "?") == 0)
			host = asked_host;
		int node = rcluster_map_node(m, host, (int)master->element[1]->integer);
		if (node < 0)
			return -1;
		for (long long s = from; s <= to; s++)
			m->node_of[s] = (uint16_t)node;
	}
	return m->n_nodes ? 0 : -1;
}

bool rcluster_redirect_parse(const char *err, size_t len, const char *asked_host,
                             struct rcluster_redirect *out)
{
	char buf[320];

	if (len >= sizeof buf)
		return false;
	memcpy(buf, err, len);
	buf[len] = '\0';
	memset(out, 0, sizeof *out);
	const char *p;
	if (strncmp(buf, "MOVED ", 6) == 0) {
		p = buf + 6;
	} else if (strncmp(buf, "ASK ", 4) == 0) {
		out->ask = true;
		p = buf + 4;
	} else {
		return false;
	}
	char *end;
	long slot = strtol(p, &end, 10);
	if (end == p || *end != ' ' || slot < 0 || slot >= RCLUSTER_SLOTS)
		return false;
	const char *addr = end + 1;
	const char *colon = strrchr(addr, ':');    /* the last: an IPv6 address holds some */
	if (!colon)
		return false;
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 1 || port > 65535)
		return false;
	size_t hlen = (size_t)(colon - addr);
	if (hlen >= sizeof out->host)
		return false;
	if (hlen == 0)
		snprintf(out->host, sizeof out->host, "%s", asked_host);
	else
		snprintf(out->host, sizeof out->host, "%.*s", (int)hlen, addr);
	out->slot = (int)slot;
	out->port = (int)port;
	return true;
}

/* One "$<len>\r\n<bytes>\r\n" at *p; false when it is not one. */
static bool bulk_next(const char **p, const char *end, const char **s, size_t *n)
{
	if (*p >= end || **p != '$')
		return false;
	char *e;
	long len = strtol(*p + 1, &e, 10);
	if (len < 0 || e + 2 > end || e[0] != '\r' || e[1] != '\n' || (size_t)(end - (e + 2)) < (size_t)len + 2)
		return false;
	*s = e + 2;
	*n = (size_t)len;
	*p = e + 2 + len + 2;
	return true;
}

static bool keyless(const char *name, size_t len)
{
	static const char *const names[] = {
		"PING", "SCAN", "AUTH", "SELECT", "INFO", "CONFIG", "ROLE", "CLUSTER", "SENTINEL",
		"PSUBSCRIBE", "SUBSCRIBE", "ASKING", "READONLY", "DBSIZE", "CLIENT", "HELLO", "COMMAND",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

bool rcluster_command_name(const char *cmd, size_t len, const char **name, size_t *name_len)
{
	const char *end = cmd + len;
	char *e;

	if (len < 4 || cmd[0] != '*')
		return false;
	long argc = strtol(cmd + 1, &e, 10);
	if (argc < 1 || e + 2 > end || e[0] != '\r')
		return false;
	const char *p = e + 2;
	return bulk_next(&p, end, name, name_len);
}

bool rcluster_command_key(const char *cmd, size_t len, const char **key, size_t *key_len)
{
	const char *p = cmd, *end = cmd + len, *name;
	size_t name_len;

	if (len < 4 || cmd[0] != '*')
		return false;
	char *e;
	long argc = strtol(cmd + 1, &e, 10);
	if (argc < 2 || e + 2 > end || e[0] != '\r')
		return false;
	p = e + 2;
	if (!bulk_next(&p, end, &name, &name_len) || keyless(name, name_len))
		return false;
	return bulk_next(&p, end, key, key_len);
}
