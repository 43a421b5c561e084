/* connect.h: blocking connections for what runs off the poll loop (an
 * action in its worker, the command line, a drill's injector), each bounded
 * by the configured server timeout. */
#ifndef SECTOP_CONNECT_H
#define SECTOP_CONNECT_H

#include <libpq-fe.h>
#include <stddef.h>

struct config;
struct rlink;

/* Connect (through the sentinels, to every master of a cluster, over TLS:
 * whatever the URL says), AUTH and SELECT.  NULL with err.  Commands with
 * rlink_call(), closed with rlink_free() (redis_link.h). */
struct rlink *connect_redis(const struct config *cfg, char *err, size_t errsz);

/* Connect with statement_timeout set to the server timeout; the result's
 * PQstatus tells whether it worked (NULL only when out of memory). */
PGconn *connect_pg(const struct config *cfg, const char *application_name);

#endif
