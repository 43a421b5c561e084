#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "connect.h"
#include "redis_link.h"
#include "redis_url.h"
#include "strutil.h"

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

void pg_params_add(struct pg_params *pp, const char *key, const char *val)
{
	if (pp->n >= PG_PARAMS_MAX)
		return;
	pp->keys[pp->n] = key;
	pp->vals[pp->n] = val;
	pp->n++;
	pp->keys[pp->n] = pp->vals[pp->n] = NULL;
}

void pg_params_init(struct pg_params *pp, const struct config *cfg, enum pg_target target,
                    const char *application_name)
{
	const char *conninfo = target == PG_WRITE && cfg->db_write ? cfg->db_write : cfg->db;

	memset(pp, 0, sizeof *pp);
	if (conninfo)                  /* else libpq's defaults and PG* variables */
		pg_params_add(pp, "dbname", conninfo);
	pg_params_add(pp, "fallback_application_name", application_name);
	/* libpq counts whole seconds, per host, and takes less than 2 as 2 */
	snprintf(pp->timeout, sizeof pp->timeout, "%d", (cfg->timeout_ms + 999) / 1000);
	pg_params_add(pp, "connect_timeout", pp->timeout);
	if (target == PG_WRITE)
		pg_params_add(pp, "target_session_attrs", "read-write");
}

PGconn *connect_pg(const struct config *cfg, enum pg_target target, const char *application_name)
{
	struct pg_params pp;
	char options[64];

	pg_params_init(&pp, cfg, target, application_name);
	snprintf(options, sizeof options, "-c statement_timeout=%d", cfg->timeout_ms);
	pg_params_add(&pp, "options", options);
	return PQconnectdbParams(pp.keys, pp.vals, 1);
}

bool pg_is_read_only_error(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return state && strcmp(state, "25006") == 0;
}

void pg_write_error(const struct config *cfg, PGconn *c, char *out, size_t n)
{
	const char *msg = c ? PQerrorMessage(c) : "out of memory";

	if (strstr(msg, "session is read-only") || strstr(msg, "read-only transaction") ||
	    strstr(msg, "in hot standby mode")) {
		snprintf(out, n, cfg->db_write ? "no primary: --db-write names a standby or read-only server"
		                               : "no primary among the hosts of --db (a standby answered); "
		                                 "writes need the primary: set --db-write or name it in --db");
		return;
	}
	str_one_line(out, n, msg);
}
