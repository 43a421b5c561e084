/* redis_url.h: where the Redis server is, parsed from a URL.  Pure: no I/O.
 *
 *   redis://[[user]:password@]host[:port][/db]     host may be [IPv6]
 *   unix:/path/redis.sock[?db=N]                    also unix:///path,
 *   redis+unix:/path[?db=N]                         unix://[user:pw@]/path
 *
 *   rediss://...                                    the same, over TLS
 *   redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
 *   rediss-sentinel://...                           sentinels and master over TLS
 *
 * Defaults: host 127.0.0.1, port 6379 (a sentinel's 26379), db 0.  The user
 * and the password are percent-decoded; with sentinels they are the
 * master's (the sentinels' own password is a setting).
 */
#ifndef SECTOP_REDIS_URL_H
#define SECTOP_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#define REDIS_URL_DEFAULT "redis://127.0.0.1:6379/0"
#define REDIS_MAX_SENTINELS 8

struct redis_addr {
	char host[256];
	int port;
};

struct redis_target {
	char host[256];       /* empty for a unix socket */
	int port;
	char path[108];       /* sizeof sun_path; empty for TCP */
	int db;
	char user[128];       /* empty: the default user */
	char *password;       /* malloc'd, NULL when none; wiped on free */
	bool tls;             /* rediss:// */
	char master_name[128]; /* redis-sentinel://: the master the sentinels name */
	struct redis_addr sentinels[REDIS_MAX_SENTINELS];
	int n_sentinels;
};

/* Parse url into t.  NULL or "" gives the defaults.  Returns 0, or -1 with a
 * reason in err (which never contains the password); t then holds nothing
 * that needs freeing. */
int redis_url_parse(const char *url, struct redis_target *t, char *err, size_t errsz);

/* Does url carry userinfo (user, password or both) after its "://"?  Any
 * of it is a secret: redis://PASSWORD@host authenticates with PASSWORD as
 * well as redis://:PASSWORD@host does, and so for unix:// and other schemes. */
bool redis_url_has_userinfo(const char *url);

/* Wipe and free the password. */
void redis_target_free(struct redis_target *t);

/* The target as a URL without the password, for the header and the logs:
 * "redis://127.0.0.1:6379/0", "redis://[::1]:6380/2", "unix:/run/r.sock?db=1".
 * Returns what snprintf returns. */
int redis_target_display(const struct redis_target *t, char *out, size_t outsz);

#endif
