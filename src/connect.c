#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "conf.h"
#include "connect.h"
#include "redis_url.h"

const char *connect_redis_error(const redisContext *c)
{
	if (!c)
		return "out of memory";
	/* hiredis says EAGAIN's text when a read or write timed out */
	if (strstr(c->errstr, "temporarily unavailable") || strstr(c->errstr, "timed out"))
		return "timed out: no answer within the server timeout (server-timeout)";
	return c->errstr;
}

redisContext *connect_redis(const struct config *cfg, char *err, size_t errsz)
{
	struct redis_target t;
	int ms = cfg->timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	char why[256];

	if (redis_url_parse(cfg->redis, &t, why, sizeof why) < 0) {
		snprintf(err, errsz, "redis: %s", why);
		return NULL;
	}
	redisContext *c = t.path[0] ? redisConnectUnixWithTimeout(t.path, tv)
	                            : redisConnectWithTimeout(t.host, t.port, tv);
	const char *pw = t.password ? t.password : cfg->redis_password;
	redisReply *rep = NULL;
	if (!c || c->err) {
		snprintf(err, errsz, "redis: %s", connect_redis_error(c));
		goto fail;
	}
	redisSetTimeout(c, tv);
	if (pw && *pw) {
		rep = t.user[0] ? redisCommand(c, "AUTH %s %s", t.user, pw) : redisCommand(c, "AUTH %s", pw);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			snprintf(err, errsz, "redis AUTH: %s", rep ? rep->str : connect_redis_error(c));
			goto fail;
		}
		freeReplyObject(rep);
		rep = NULL;
	}
	if (t.db) {
		rep = redisCommand(c, "SELECT %d", t.db);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			snprintf(err, errsz, "redis SELECT: %s", rep ? rep->str : connect_redis_error(c));
			goto fail;
		}
		freeReplyObject(rep);
	}
	redis_target_free(&t);
	return c;
fail:
	freeReplyObject(rep);
	if (c)
		redisFree(c);
	redis_target_free(&t);
	return NULL;
}

PGconn *connect_pg(const struct config *cfg, const char *application_name)
{
	char timeout[16], options[64];
	const char *keys[] = { "dbname", "fallback_application_name", "connect_timeout", "options", NULL };
	const char *vals[] = { cfg->db, application_name, timeout, options, NULL };
	int first = cfg->db ? 0 : 1;

	snprintf(timeout, sizeof timeout, "%d", (cfg->timeout_ms + 999) / 1000);
	snprintf(options, sizeof options, "-c statement_timeout=%d", cfg->timeout_ms);
	return PQconnectdbParams(keys + first, vals + first, 1);
}
