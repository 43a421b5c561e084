/* redis_conn.h: one connection to one Redis server, plain or TLS, never
 * blocking (but for the name lookup of a host *name*, as in hiredis).
 *
 * Debian 12's hiredis (0.14) reads and writes its own file descriptor and
 * has no TLS, so the bytes are carried here: over the socket, or over
 * OpenSSL with the certificate always verified (the host name or IP address
 * checked against it).  hiredis keeps what it does well: redisFormatCommand
 * builds each command (arguments only through %s and %b) and a redisReader
 * parses the replies.  Replies come back in the order the commands went,
 * each to its callback, which owns the reply (NULL: the connection was
 * dropped before the reply came).
 *
 * The owner polls rconn_fd() for rconn_events() and hands the result to
 * rconn_handle().  Commands queued before the connection is up go out when
 * it is (and the TLS handshake done).
 */
#ifndef SECTOP_REDIS_CONN_H
#define SECTOP_REDIS_CONN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct redisReply;
struct rconn;
struct rtls;

typedef void (*rconn_cb)(struct rconn *c, struct redisReply *rep, void *priv);

/* TLS settings shared by every connection: the CA bundle (NULL: the
 * system's), and a client certificate and key (both or neither).  NULL with
 * a reason in err when a file cannot be used. */
struct rtls *rtls_new(const char *ca_file, const char *cert_file, const char *key_file,
                      char *err, size_t errsz);
void rtls_free(struct rtls *t);

/* Start connecting to host:port, or to the unix socket path when path is
 * not empty; over TLS when tls is not NULL.  NULL with a reason in err. */
struct rconn *rconn_new(const char *host, int port, const char *path, struct rtls *tls,
                        char *err, size_t errsz);
/* Every callback still waiting runs with NULL, then the connection goes. */
void rconn_free(struct rconn *c);

/* Queue a command (formatted by hiredis) or one already formatted. */
int rconn_command(struct rconn *c, rconn_cb cb, void *priv, const char *fmt, ...);
int rconn_vcommand(struct rconn *c, rconn_cb cb, void *priv, const char *fmt, va_list ap);
int rconn_command_raw(struct rconn *c, rconn_cb cb, void *priv, const char *cmd, size_t len);

int rconn_fd(const struct rconn *c);
short rconn_events(const struct rconn *c);
/* Do what poll said can be done.  0, or -1 once the connection failed
 * (rconn_error() says why; the owner frees it). */
int rconn_handle(struct rconn *c, short revents);
const char *rconn_error(const struct rconn *c);
/* "host:port" or the socket path, as connected to. */
const char *rconn_name(const struct rconn *c);
size_t rconn_waiting(const struct rconn *c);
/* Replies delivered so far: whether it moves says whether the server does. */
unsigned long rconn_replies(const struct rconn *c);

/* Is this build able to speak TLS to Redis (always, with OpenSSL)? The
 * library's name and version, for `sectop --version`. */
const char *rconn_tls_version(void);

#endif
