/* report_db.h: the report's PostgreSQL session.  A plain connection for a
 * command that runs once (no screen to keep alive), but every query is
 * sent asynchronously and waited for through a hook, so that the caller
 * can drive its other sources (Redis, health endpoints) and a progress line
 * meanwhile.  statement_timeout bounds every query on the server; a client
 * deadline a little later cancels one whose server stopped answering.
 *
 * Every statement takes the parameter vector of report_sql.h, with fixed
 * types; struct report_params holds it. */
#ifndef SECTOP_REPORT_DB_H
#define SECTOP_REPORT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connect.h"
#include "report_sql.h"

struct config;
struct pg_conn;
struct pg_result;
struct pollfd;

/* Wait until one of the fds is ready (revents set) or a short while (100
 * ms at most) has passed; the caller turns its loop meanwhile. */
typedef void (*report_wait_fn)(void *ctx, struct pollfd *fds, int n);

struct report_db {
	struct pg_conn *conn;
	int timeout_ms;              /* statement_timeout */
	report_wait_fn wait;         /* NULL: a plain poll() */
	void *wait_ctx;
	const char *step;            /* what is being done now, for a progress line */
	char error[256];             /* the last error, first line */
	char sqlstate[6];            /* of the last error, "" when none or no server answer */

	/* A second session may run beside this one: while this one waits, the
	 * peer's socket is watched too and peer_ready called when it has input. */
	struct report_db *peer;
	void (*peer_ready)(void *ctx);
	void *peer_ctx;

	/* the statement in flight */
	bool busy, failed;
	struct pg_result *last;
	int64_t deadline;
};

/* Connect (blocking, bounded by server-timeout) to where the configuration
 * reads (PG_READ) or writes (PG_WRITE: the rollup's set-up), and set the
 * session up: statement_timeout, TimeZone UTC (hours and days are UTC),
 * work_mem. */
int report_db_open(struct report_db *db, const struct config *cfg, enum pg_target target, int timeout_ms,
                   char *err, size_t errsz);
void report_db_close(struct report_db *db);
bool report_db_ok(const struct report_db *db);

/* Run one statement with the parameter vector; the result (PQclear it), or
 * NULL with db->error and db->sqlstate set. */
struct pg_result *report_db_query(struct report_db *db, const char *sql, const char *const *params);
/* Run one statement with n text parameters of its own. */
struct pg_result *report_db_query_n(struct report_db *db, const char *sql, int n,
                                    const char *const *params);
/* Run statements without parameters (DDL, BEGIN, COMMIT); 0 or -1. */
int report_db_command(struct report_db *db, const char *sql);

/* The same, without waiting: send (0 or -1), then step until it says 1:
 * the statement is over and *out is its result, or NULL with the error
 * (0: not yet; -1: nothing in flight).  report_db_wait waits a little. */
int report_db_send(struct report_db *db, const char *sql, const char *const *params);
int report_db_send_command(struct report_db *db, const char *sql);
int report_db_step(struct report_db *db, struct pg_result **out);
void report_db_wait(struct report_db *db);
/* Is the last error this SQLSTATE? */
bool report_db_error_is(const struct report_db *db, const char *sqlstate);

struct report_params {
	const char *v[RP_N];
	char ts[4][48];              /* RP_SINCE .. RP_RB */
	char num[RP_N][24];
	char *owned[RP_N];           /* arrays and strings built here */
};

/* The vector for cfg: definitions, limits, no period yet, every tenant. */
int report_params_init(struct report_params *p, const struct config *cfg, const char *definition);
void report_params_free(struct report_params *p);
/* The period [since, until) and the rollup's part [ra, rb), unix us;
 * INT64_MIN and INT64_MAX stand for -infinity and infinity. */
void report_params_period(struct report_params *p, int64_t since, int64_t until, int64_t ra, int64_t rb);
void report_params_tenant(struct report_params *p, const char *tenant);
void report_params_int(struct report_params *p, enum report_param slot, long long v);

/* Column helpers for results. */
long long report_db_num(const struct pg_result *r, int row, int col);   /* NULL gives 0 */
char *report_db_str(const struct pg_result *r, int row, int col);      /* malloc'd; NULL stays NULL */
const char *report_db_str_peek(const struct pg_result *r, int row, int col); /* "" for NULL */
int report_db_rows(const struct pg_result *r);
void report_db_clear(struct pg_result *r);

#endif
