/* connect.h: the connections to the servers.  PostgreSQL reads go where
 * `db` says (a standby is fine, and so is a multi-host conninfo); writes go
 * to `db-write`, else to `db` with target_session_attrs=read-write, so that
 * libpq finds the primary among its hosts and follows a failover.  The
 * blocking connects are for what runs off the poll loop (an action in its
 * worker, the command line, a drill's injector), each bounded by the
 * configured server timeout. */
#ifndef SECTOP_CONNECT_H
#define SECTOP_CONNECT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct rlink;

enum pg_target { PG_READ, PG_WRITE };

/* The keywords of one connection, for PQconnect*Params with expand_dbname:
 * the configured conninfo first, then sectop's own, which override it. */
#define PG_PARAMS_MAX 8
struct pg_params {
	const char *keys[PG_PARAMS_MAX + 1], *vals[PG_PARAMS_MAX + 1];
	int n;
	char timeout[16];
};

void pg_params_init(struct pg_params *pp, const struct config *cfg, enum pg_target target,
                    const char *application_name);
/* Another keyword; the value must live as long as the params. */
void pg_params_add(struct pg_params *pp, const char *key, const char *val);

/* Connect (through the sentinels, to every master of a cluster, over TLS:
 * whatever the URL says), AUTH and SELECT.  NULL with err.  Commands with
 * rlink_call(), closed with rlink_free() (redis_link.h). */
struct rlink *connect_redis(const struct config *cfg, char *err, size_t errsz);

/* Connect with statement_timeout set to the server timeout; the result's
 * PQstatus tells whether it worked (NULL only when out of memory). */
PGconn *connect_pg(const struct config *cfg, enum pg_target target, const char *application_name);

/* Why a write connection or statement failed, in the operator's words: a
 * standby where a primary was needed is said as such, never as an outage.
 * err is libpq's message (or NULL for c's). */
void pg_write_error(const struct config *cfg, PGconn *c, char *out, size_t n);

/* A write refused because the server is (now) a standby: SQLSTATE 25006,
 * as after a failover that demoted it.  Reconnecting finds the primary. */
bool pg_is_read_only_error(const PGresult *res);

#endif
