#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "connect.h"
#include "redis_link.h"
#include "redis_url.h"

struct rlink *connect_redis(const struct config *cfg, char *err, size_t errsz)
{
	struct redis_target t;
	char why[256];

	if (redis_url_parse(cfg->redis, &t, why, sizeof why) < 0) {
		snprintf(err, errsz, "redis: %s", why);
		return NULL;
	}
	struct rlink_opts o = { .password = t.password ? t.password : cfg->redis_password,
	                        .sentinel_password = cfg->redis_sentinel_password, .ca_file = cfg->redis_ca_file,
	                        .cert_file = cfg->redis_cert_file, .key_file = cfg->redis_key_file,
	                        .timeout_ms = cfg->timeout_ms };
	struct rlink *l = rlink_open(&t, &o, why, sizeof why);
	if (!l)
		snprintf(err, errsz, "redis: %s", why);
	redis_target_free(&t);
	return l;
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
