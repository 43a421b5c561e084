/* rotation.h: where each declared secret stands against its rotation policy.
 *
 * The data side of the rotation view and of `sectop rotate --status`: no
 * ncurses, no drawing.  For every `secret` of the configuration it gives
 * the policy (max_age=, else the kind's default: api_key 90 days,
 * db_password 180, tls_cert and ssh_key 365), the newest `secret_rotated`
 * audit row naming it (in resource_id or details->>'secret'), the age, the
 * state, and the last rotation request sectop's journal holds for it.
 *
 * Two ways to use it:
 *   - synchronously (command line, a worker thread):
 *         struct rotation_status *v = rotation_collect(cfg, conn, journal, now, &n, err, sizeof err);
 *   - in steps, for a caller that runs the query itself (asynchronously):
 *         v = rotation_declared(cfg, &n);
 *         send rotation_sql(cfg) with $1 = rotation_names_param(cfg)   (text[])
 *         rotation_take_result(v, n, res);          for its PGRES_TUPLES_OK result
 *         rotation_take_journal(v, n, journal_path);
 *         rotation_finish(v, n, now_s, cfg->rotation_warn_days);
 * Free the array with rotation_free(v, n).  Strings in it are owned copies:
 * names and kinds come from the configuration (already restricted to
 * [A-Za-z0-9_.:/@-]); journal fields are raw and must be sanitised to show.
 */
#ifndef SECTOP_ROTATION_H
#define SECTOP_ROTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct conf_secret;
struct pg_conn;       /* libpq's PGconn */
struct pg_result;     /* libpq's PGresult */

enum rotation_state {
	ROT_OK,           /* younger than max age - rotation-warn-days */
	ROT_DUE,          /* within rotation-warn-days of its max age */
	ROT_OVERDUE,      /* older than its max age */
	ROT_NEVER,        /* no secret_rotated row names it */
};

/* "ok", "due", "overdue", "never" */
const char *rotation_state_name(enum rotation_state s);

/* The state of a secret last rotated at last_rotated_s (0: never), at now_s.
 * Due means age > max_age_s - warn_days days; overdue means age > max_age_s. */
enum rotation_state rotation_state_at(int64_t last_rotated_s, int max_age_s, int64_t now_s, int warn_days);

/* The last `sectop rotate` of a secret, as the journal records it. */
struct rotation_request {
	bool found;
	char journal_id[33];
	char time[32];               /* of the intent, ISO 8601 UTC */
	char operator_id[160];
	char status[16];             /* done, unknown, failed, refused; "pending": no result recorded */
	long http_status;            /* 0: no answer */
	char idempotency_key[65];
	bool dry_run;
};

struct rotation_status {
	char *name, *kind;
	int max_age_s;
	bool has_webhook;            /* sectop rotate can ask for it */
	int64_t last_rotated_s;      /* unix time; 0: never */
	int64_t age_s;               /* -1: never */
	enum rotation_state state;
	struct rotation_request last_request;   /* live requests only (not dry runs) */
};

/* One entry per declared secret, in configuration order, each "never". */
struct rotation_status *rotation_declared(const struct config *cfg, size_t *n);

/* The query: $1 is a text[] of secret names; rows are (name text,
 * last_rotated bigint unix seconds or NULL).  Table and column names are
 * the configuration's, quoted.  malloc'd. */
char *rotation_sql(const struct config *cfg);
/* $1 for rotation_sql: the declared names as a text[] literal.  malloc'd. */
char *rotation_names_param(const struct config *cfg);
/* Take last_rotated from a result of rotation_sql. */
void rotation_take_result(struct rotation_status *v, size_t n, const struct pg_result *res);

/* Take each secret's last live request from the journal at path (a
 * missing file is no request).  0, or -1 if it cannot be read. */
int rotation_take_journal(struct rotation_status *v, size_t n, const char *journal_path);

/* The last live request for one secret; found=false if none.  0 or -1. */
int rotation_last_request(const char *journal_path, const char *secret, struct rotation_request *out);

/* Ages and states at now_s. */
void rotation_finish(struct rotation_status *v, size_t n, int64_t now_s, int warn_days);

/* All of the above in one call, synchronously on db (the query bounded by
 * the connection's statement_timeout).  NULL with err when the query fails;
 * *n = 0 and a non-NULL empty array when no secret is declared. */
struct rotation_status *rotation_collect(const struct config *cfg, struct pg_conn *db,
                                         const char *journal_path, int64_t now_s, size_t *n,
                                         char *err, size_t errsz);

void rotation_free(struct rotation_status *v, size_t n);

/* The body POSTed to a secret's webhook (compact JSON, malloc'd):
 * {"secret","kind","operator","reason","incident","idempotency_key"}. */
char *rotation_request_body(const struct conf_secret *s, const char *operator_id, const char *reason,
                            const char *incident, const char *idempotency_key);

#endif
