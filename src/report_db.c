/* report_db.c: the report's PostgreSQL session (report_db.h). */
#include "config.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "connect.h"
#include "conf.h"
#include "pg_sql.h"
#include "report_db.h"
#include "strutil.h"

/* Type OIDs of the parameter slots (pg_type.h is a server header). */
enum { OID_INT8 = 20, OID_INT4 = 23, OID_TEXT = 25, OID_INT4_ARRAY = 1007,
       OID_TEXT_ARRAY = 1009, OID_TIMESTAMPTZ = 1184 };

static const Oid param_types[RP_N] = {
	[RP_SINCE] = OID_TIMESTAMPTZ, [RP_UNTIL] = OID_TIMESTAMPTZ,
	[RP_RA] = OID_TIMESTAMPTZ, [RP_RB] = OID_TIMESTAMPTZ,
	[RP_TENANT] = OID_TEXT, [RP_FAIL_ACTIONS] = OID_TEXT_ARRAY,
	[RP_FAIL_STATUSES] = OID_INT4_ARRAY, [RP_UNAUTH_ACTIONS] = OID_TEXT_ARRAY,
	[RP_CROSS_ACTIONS] = OID_TEXT_ARRAY, [RP_OPERATOR_ACTIONS] = OID_TEXT_ARRAY,
	[RP_LIMIT] = OID_INT4, [RP_CUT] = OID_INT4, [RP_HOT] = OID_INT8, [RP_HOT_MIN] = OID_INT8,
	[RP_SECRETS] = OID_TEXT_ARRAY, [RP_KEY_DAYS] = OID_INT4, [RP_ROWS] = OID_INT4,
	[RP_DEFINITION] = OID_TEXT,
};

/* A server that stops answering is given this long past statement_timeout. */
#define CLIENT_GRACE_MS 5000

static void set_error(struct report_db *db, const char *msg, const char *state)
{
	snprintf(db->error, sizeof db->error, "%s", msg && *msg ? msg : "unknown error");
	db->error[strcspn(db->error, "\n")] = '\0';
	snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
}

bool report_db_ok(const struct report_db *db)
{
	return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

bool report_db_error_is(const struct report_db *db, const char *sqlstate)
{
	return strcmp(db->sqlstate, sqlstate) == 0;
}

/* A query past its deadline: ask the server to stop it (a cancel request
 * on its own connection, bounded by the connect timeout). */
static void cancel(struct report_db *db)
{
	PGcancel *c = PQgetCancel(db->conn);
	char buf[256];

	if (c) {
		PQcancel(c, buf, sizeof buf);
		PQfreeCancel(c);
	}
}

static int sent(struct report_db *db, int ok)
{
	if (!ok) {
		set_error(db, PQerrorMessage(db->conn), NULL);
		return -1;
	}
	db->busy = true;
	db->failed = false;
	db->last = NULL;
	db->deadline = clock_mono_ms() + db->timeout_ms + CLIENT_GRACE_MS;
	/* out whole now: a peer's socket is then watched for its answer only */
	int f;
	while ((f = PQflush(db->conn)) == 1 && clock_mono_ms() < db->deadline) {
		struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLOUT };
		poll(&pfd, 1, 100);
	}
	return 0;
}

int report_db_send(struct report_db *db, const char *sql, const char *const *params)
{
	return sent(db, PQsendQueryParams(db->conn, sql, RP_N, param_types, params, NULL, NULL, 0));
}

/* Transaction control and the rollup's DDL only: text built from quoted
 * identifiers, never a value (DDL can take no parameters, and the rollup's
 * CREATE is several statements, which only the simple protocol runs). */
int report_db_send_command(struct report_db *db, const char *sql)
{
	return sent(db, PQsendQuery(db->conn, sql));
}

/* The statement is over: its last result, or NULL with the first error. */
static int finish(struct report_db *db, struct pg_result **out)
{
	if (PQstatus(db->conn) != CONNECTION_OK || (!db->last && !db->failed)) {
		if (!db->failed)
			set_error(db, PQerrorMessage(db->conn), NULL);
		db->failed = true;
	}
	if (db->failed) {
		PQclear(db->last);
		db->last = NULL;
	} else {
		db->error[0] = db->sqlstate[0] = '\0';
	}
	*out = db->last;
	db->last = NULL;
	db->busy = false;
	return 1;
}

int report_db_step(struct report_db *db, struct pg_result **out)
{
	*out = NULL;
	if (!db->busy)
		return -1;
	int f = PQflush(db->conn);
	if (f < 0 || !PQconsumeInput(db->conn))
		return finish(db, out);
	while (f == 0 && !PQisBusy(db->conn)) {
		PGresult *r = PQgetResult(db->conn);
		if (!r)
			return finish(db, out);
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !db->failed) {
			set_error(db, PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
			          PQresultErrorField(r, PG_DIAG_SQLSTATE));
			db->failed = true;
		}
		PQclear(db->last);
		db->last = r;
	}
	if (clock_mono_ms() > db->deadline) {
		cancel(db);
		db->deadline += CLIENT_GRACE_MS;
	}
	return 0;
}

/* Wait a little for this connection, and for the peer's when it has a
 * statement in flight (it is then served). */
void report_db_wait(struct report_db *db)
{
	struct pollfd pfd[2] = { { .fd = PQsocket(db->conn), .events = POLLIN } };
	struct report_db *peer = db->peer && db->peer->busy ? db->peer : NULL;
	int n = 1;

	if (PQflush(db->conn) == 1)
		pfd[0].events |= POLLOUT;
	if (peer)
		pfd[n++] = (struct pollfd){ .fd = PQsocket(peer->conn), .events = POLLIN };
	if (db->wait)
		db->wait(db->wait_ctx, pfd, n);
	else
		poll(pfd, (nfds_t)n, 100);
	if (peer && pfd[1].revents && db->peer_ready)
		db->peer_ready(db->peer_ctx);
}

/* Wait for the statement sent; keep the last result, or the first error. */
static PGresult *collect(struct report_db *db)
{
	struct pg_result *res;

	while (report_db_step(db, &res) == 0)
		report_db_wait(db);
	return res;
}

struct pg_result *report_db_query(struct report_db *db, const char *sql, const char *const *params)
{
	return report_db_send(db, sql, params) < 0 ? NULL : collect(db);
}

struct pg_result *report_db_query_n(struct report_db *db, const char *sql, int n,
                                    const char *const *params)
{
	return sent(db, PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL, 0)) < 0 ? NULL
	       : collect(db);
}

int report_db_command(struct report_db *db, const char *sql)
{
	if (report_db_send_command(db, sql) < 0)
		return -1;
	PGresult *r = collect(db);
	PQclear(r);
	return r ? 0 : -1;
}

static void notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int report_db_open(struct report_db *db, const struct config *cfg, enum pg_target target, int timeout_ms,
                   char *err, size_t errsz)
{
	struct pg_params pp;
	char ms[24];

	db->timeout_ms = timeout_ms;
	pg_params_init(&pp, cfg, target, target == PG_WRITE ? "sectop-setup" : "sectop-report");
	pg_params_add(&pp, "client_encoding", "UTF8");
	db->conn = PQconnectdbParams(pp.keys, pp.vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		if (target == PG_WRITE)
			pg_write_error(cfg, db->conn, err, errsz);
		else
			str_one_line(err, errsz, db->conn ? PQerrorMessage(db->conn) : "out of memory");
		report_db_close(db);
		return -1;
	}
	/* the server's notices ("table does not exist, skipping") are not
	 * for stderr: nothing goes there but progress on a terminal */
	PQsetNoticeProcessor(db->conn, notice_ignore, NULL);
	if (PQsetnonblocking(db->conn, 1) != 0) {
		snprintf(err, errsz, "%s", PQerrorMessage(db->conn));
		report_db_close(db);
		return -1;
	}
	/* Hours and days are UTC; a week's hash tables fit in memory; the
	 * rollup's queries are short, and JIT compiling them would cost more
	 * than running them (the planner, counting on the audit table's size,
	 * asks for it). */
	const char *v[] = { ms };
	snprintf(ms, sizeof ms, "%d", timeout_ms);
	PGresult *r = report_db_query_n(db, "SELECT set_config('statement_timeout', $1, false),"
	                                " set_config('TimeZone', 'UTC', false),"
	                                " set_config('work_mem', '64MB', false),"
	                                " set_config('jit', 'off', false)", 1, v);
	if (!r) {
		snprintf(err, errsz, "%s", db->error);
		report_db_close(db);
		return -1;
	}
	PQclear(r);
	return 0;
}

void report_db_close(struct report_db *db)
{
	PQclear(db->last);
	db->last = NULL;
	db->busy = false;
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
}

long long report_db_num(const struct pg_result *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *report_db_str(const struct pg_result *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

const char *report_db_str_peek(const struct pg_result *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

int report_db_rows(const struct pg_result *r)
{
	return PQntuples(r);
}

void report_db_clear(struct pg_result *r)
{
	PQclear(r);
}

/* ------------------------------------------------------------ params */

static void format_ts(char *buf, size_t n, int64_t us)
{
	if (us == INT64_MIN || us == INT64_MAX) {
		snprintf(buf, n, "%s", us == INT64_MIN ? "-infinity" : "infinity");
		return;
	}
	int64_t s = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	time_t t = (time_t)s;
	struct tm tm;
	char day[32];
	if (!gmtime_r(&t, &tm) || !strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(day, sizeof day, "1970-01-01 00:00:00");
	snprintf(buf, n, "%s.%06" PRId64 "+00", day, frac);
}

void report_params_period(struct report_params *p, int64_t since, int64_t until, int64_t ra, int64_t rb)
{
	const int64_t t[4] = { since, until, ra, rb };

	for (int i = 0; i < 4; i++) {
		format_ts(p->ts[i], sizeof p->ts[i], t[i]);
		p->v[RP_SINCE + i] = p->ts[i];
	}
}

void report_params_tenant(struct report_params *p, const char *tenant)
{
	p->v[RP_TENANT] = tenant;
}

void report_params_int(struct report_params *p, enum report_param slot, long long v)
{
	snprintf(p->num[slot], sizeof p->num[slot], "%lld", v);
	p->v[slot] = p->num[slot];
}

static int own(struct report_params *p, enum report_param slot, char *s)
{
	p->owned[slot] = s;
	p->v[slot] = s;
	return s ? 0 : -1;
}

int report_params_init(struct report_params *p, const struct config *cfg, const char *definition)
{
	const char *secrets[CONF_MAX_LIST];
	int rc = 0;

	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < cfg->n_secrets; i++)
		secrets[i] = cfg->secrets[i].name;
	rc |= own(p, RP_FAIL_ACTIONS, pg_sql_text_array(cfg->failure_actions.v, cfg->failure_actions.n));
	rc |= own(p, RP_FAIL_STATUSES, pg_sql_int_array(cfg->failure_statuses, cfg->n_failure_statuses));
	rc |= own(p, RP_UNAUTH_ACTIONS,
	          pg_sql_text_array(cfg->unauthorized_actions.v, cfg->unauthorized_actions.n));
	rc |= own(p, RP_CROSS_ACTIONS,
	          pg_sql_text_array(cfg->cross_tenant_actions.v, cfg->cross_tenant_actions.n));
	rc |= own(p, RP_OPERATOR_ACTIONS, report_sql_operator_array());
	rc |= own(p, RP_SECRETS, pg_sql_text_array((char *const *)secrets, cfg->n_secrets));
	rc |= own(p, RP_DEFINITION, definition ? strdup(definition) : NULL);
	report_params_int(p, RP_LIMIT, cfg->top_n);
	report_params_int(p, RP_CUT, cfg->text_max);
	report_params_int(p, RP_HOT, cfg->hot_threshold);
	report_params_int(p, RP_HOT_MIN, REPORT_HOT_MIN);
	report_params_int(p, RP_KEY_DAYS, cfg->key_unused_days);
	report_params_int(p, RP_ROWS, 1000);
	report_params_period(p, 0, 0, 0, 0);
	report_params_tenant(p, NULL);
	if (rc)
		report_params_free(p);
	return rc ? -1 : 0;
}

void report_params_free(struct report_params *p)
{
	for (int i = 0; i < RP_N; i++)
		free(p->owned[i]);
	memset(p, 0, sizeof *p);
}
