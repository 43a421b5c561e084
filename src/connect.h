/* connect.h: blocking connections for what runs off the poll loop (an
 * action in its worker, the command line, a drill's injector), each bounded
 * by the configured server timeout. */
#ifndef SECTOP_CONNECT_H
#define SECTOP_CONNECT_H

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stddef.h>

struct config;

/* Connect, AUTH and SELECT as the configuration says.  NULL with err. */
redisContext *connect_redis(const struct config *cfg, char *err, size_t errsz);
/* What went wrong on c, in words: a timeout said as one (hiredis gives
 * EAGAIN's "Resource temporarily unavailable"). */
const char *connect_redis_error(const redisContext *c);

/* Connect with statement_timeout set to the server timeout; the result's
 * PQstatus tells whether it worked (NULL only when out of memory). */
PGconn *connect_pg(const struct config *cfg, const char *application_name);

#endif
