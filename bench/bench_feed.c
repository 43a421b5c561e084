/* bench_feed.c: live audit traffic at a fixed rate, for the live section of
 * bench/run.sh.  It paces by the clock, inserts in many small transactions
 * over a few connections, holds some of them open before committing (so
 * rows commit out of timestamp order), commits marker rows at known times,
 * stops by itself after --seconds (or, sooner, on SIGTERM or SIGINT: it then
 * stops sending, lets what is in flight commit), and prints "key value" lines.
 *
 *   bench_feed --db CONNINFO --rate EVENTS_PER_S --seconds S
 *              [--conns 8] [--batch-max 20] [--attack-share 0.2]
 *              [--hold-share 0.05] [--hold-max-ms 2000]
 *              [--marker-every-ms 7000] [--marker-rows 400] [--marker-lead-ms 0]
 *              [--markers FILE] [--marker-base 0] [--seed N] [--table NAME]
 *
 * Rows: the traffic of scripts/seed.sql's generator (sectop_demo_events), made
 * here rather than by the server, over the same 60,000 clients (read once
 * from sectop_demo_clients: address, home tenant, usual user agent): a
 * power law over the clients, Zipf-like tenants, ~3% failures (failed_auth,
 * auth_attempt with success=false, unauthorized_access), rate limiting, a
 * few cross-tenant accesses; plus --attack-share of the rate from four
 * addresses failing authentication with many distinct user names (the
 * credential stuffing of sectop_demo_attack).  No hostile strings: the
 * seeded rows have those.
 *
 * "timestamp" is the column's default, now(): the start of the transaction.
 * --hold-share of the transactions run BEGIN, the INSERT, then wait up to
 * --hold-max-ms before COMMIT, so their rows appear up to that late; at most
 * half of the connections hold at once, so that the others keep the rate.
 *
 * Pacing: at every moment t since the start, floor(rate * t) events are
 * due; a connection that is free takes up to --batch-max of the due events
 * not yet sent.  If the connections fall behind, the backlog grows and the
 * achieved rate (printed) falls short of the target.
 *
 * Markers (not counted in the rate): every --marker-every-ms (jittered by up
 * to a second, so that they do not keep one phase against a 1 s refresh),
 * --marker-rows failed_auth rows at once from 198.18.K/250.K%250+1 (RFC
 * 2544's benchmark range, never used by the traffic), user
 * "bench-marker-K", K = --marker-base + 1, + 2, ... (a run gives each feeder
 * its own base), on a connection of its own, autocommitted, stamped now()
 * plus --marker-lead-ms (0 by default).  400 failures at once (20 more for
 * each marker after the first, so that the newest ranks first) put the
 * address among the top twenty addresses at the console's next refresh
 * (above all but the heaviest of the power law's clients), where it stays:
 * in the tail panel a single row would be pushed off by the hundreds of
 * newer failures a second before anyone could see it.  Its commit time
 * (CLOCK_REALTIME, when the server's answer arrived) goes to --markers FILE
 * as "K ADDRESS EPOCH_US", a line at a time.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONNS 32
#define N_CLIENTS 60000

static struct {
	const char *db, *table, *markers;
	double rate, seconds, attack_share, hold_share;
	int conns, batch_max, hold_max_ms, marker_every_ms, marker_rows, marker_lead_ms, marker_base;
	uint64_t seed;
} o = { .table = "audit_log", .conns = 8, .batch_max = 20, .attack_share = 0.2,
        .hold_share = 0.05, .hold_max_ms = 2000, .marker_every_ms = 7000,
        .marker_rows = 400, .marker_lead_ms = 0, .seed = 42 };

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_feed: %s: %s\n", what, why ? why : "failed");
	exit(1);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------- random */

static uint64_t rng_state;

static double rnd(void)           /* [0, 1): xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* sectop_demo_zipf: a pick in 1..n, P(k) ~ 1/k. */
static int zipf(double u, int n)
{
	int k = (int)floor(exp(u * log(n + 1.0)));
	return k < 1 ? 1 : k > n ? n : k;
}

/* ----------------------------------------------------- the population */

static const char *const tenants[20] = {
	"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
	"cyberdyne", "soylent", "oscorp", "aperture", "vandelay", "dunder-mifflin", "pied-piper",
	"massive-dynamic", "gringotts", "monarch", "prestige",
};

static const char *const agents[16] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"python-requests/2.31.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"okhttp/4.12.0",
	"Go-http-client/2.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"axios/1.6.8",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"curl/8.5.0",
	"aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64",
	"Apache-HttpClient/4.5.14 (Java/17.0.10)",
	"PostmanRuntime/7.37.3",
	"Terraform/1.8.2 (+https://www.terraform.io) terraform-provider-sectopdemo/2.3.1",
	"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	"kube-probe/1.29",
};

static struct client {
	char ip[48];
	int home, ua;           /* 1-based, as in sectop_demo_clients */
} *clients;

static void clients_load(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT rank, host(ip), home, ua FROM sectop_demo_clients ORDER BY rank");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("sectop_demo_clients (scripts/seed.sql makes it)", PQerrorMessage(c));
	if (PQntuples(r) != N_CLIENTS)
		die("sectop_demo_clients", "not 60000 rows");
	clients = calloc(N_CLIENTS, sizeof *clients);
	if (!clients)
		die("clients", "out of memory");
	for (int i = 0; i < N_CLIENTS; i++) {
		snprintf(clients[i].ip, sizeof clients[i].ip, "%s", PQgetvalue(r, i, 1));
		clients[i].home = atoi(PQgetvalue(r, i, 2));
		clients[i].ua = atoi(PQgetvalue(r, i, 3));
		if (clients[i].home < 1 || clients[i].home > 20 || clients[i].ua < 1 || clients[i].ua > 16)
			die("sectop_demo_clients", "home or ua out of range");
	}
	PQclear(r);
}

/* ------------------------------------------------------------ the rows */

/* One column of a batch, as a PostgreSQL array literal. */
struct col {
	char *s;
	size_t len, cap;
};

static void col_put(struct col *c, const char *v)   /* v NULL: SQL NULL */
{
	size_t need = c->len + (v ? 2 * strlen(v) + 4 : 6) + 2;
	if (need > c->cap) {
		size_t cap = need * 2;
		char *p = realloc(c->s, cap);
		if (!p)
			die("batch", "out of memory");
		c->s = p;
		c->cap = cap;
	}
	c->s[c->len] = c->len == 0 ? '{' : ',';
	c->len++;
	if (!v) {
		memcpy(c->s + c->len, "NULL", 4);
		c->len += 4;
	} else {
		c->s[c->len++] = '"';
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				c->s[c->len++] = '\\';
			c->s[c->len++] = *v;
		}
		c->s[c->len++] = '"';
	}
	c->s[c->len] = '\0';
}

static void col_end(struct col *c)
{
	if (c->len == 0)
		col_put(c, NULL);   /* never used empty, but keep it valid */
	c->s[c->len++] = '}';
	c->s[c->len] = '\0';
}

enum { C_TENANT, C_USER, C_ACTION, C_RTYPE, C_RID, C_IP, C_METHOD, C_PATH, C_STATUS, C_UA,
       C_DETAILS, N_COLS };

struct batch {
	struct col col[N_COLS];
	int rows;
};

static void batch_reset(struct batch *b)
{
	for (int i = 0; i < N_COLS; i++)
		b->col[i].len = 0;
	b->rows = 0;
}

static void put_row(struct batch *b, const char *const v[N_COLS])
{
	for (int i = 0; i < N_COLS; i++)
		col_put(&b->col[i], v[i]);
	b->rows++;
}

static const char *const entities[8] = {
	"orders", "users", "invoices", "products", "payments", "customers", "reports", "webhooks",
};

/* One event of ordinary traffic, as sectop_demo_events makes it. */
static void row_ordinary(struct batch *b)
{
	const struct client *cl = &clients[zipf(rnd(), N_CLIENTS) - 1];
	double r_act = rnd(), r_tenant = rnd(), r_user = rnd(), r_path = rnd(), r_id = rnd();
	double r_ua = rnd(), r_lat = rnd(), r_status = rnd(), r_pick = rnd(), r_verb = rnd();
	char user[32], rid[64], path[128], status[8], details[160], ent1[16];
	const char *v[N_COLS] = { 0 };
	const char *kind;

	if (r_act < 0.0150) kind = "failed_auth";
	else if (r_act < 0.0230) kind = "auth_attempt_fail";
	else if (r_act < 0.0300) kind = "unauthorized_access";
	else if (r_act < 0.0800) kind = "auth_attempt_ok";
	else if (r_act < 0.0950) kind = "rate_limit_exceeded";
	else if (r_act < 0.0952) kind = "cross_tenant_access";
	else if (r_act < 0.0957) kind = "config_changed";
	else if (r_act < 0.0960) kind = "user_data_deleted";
	else kind = "api_request";
	const char *entity = entities[zipf(r_path, 8) - 1];
	int obj = zipf(r_id, 250000);
	const char *verb = r_verb < 0.68 ? "GET" : r_verb < 0.88 ? "POST" : r_verb < 0.94 ? "PUT"
	                 : r_verb < 0.97 ? "PATCH" : "DELETE";
	int tk = r_tenant < 0.04 ? 0 : r_tenant < 0.84 ? cl->home : zipf((r_tenant - 0.84) / 0.16, 20);
	int uak = r_ua < 0.9 ? cl->ua : zipf((r_ua - 0.9) * 10, 16);

	v[C_TENANT] = tk ? tenants[tk - 1] : NULL;
	if (r_user >= 0.08) {
		snprintf(user, sizeof user, "user_%d", tk * 1000 + zipf((r_user - 0.08) / 0.92, 900));
		v[C_USER] = user;
	}
	v[C_IP] = cl->ip;
	v[C_UA] = agents[uak - 1];
	v[C_ACTION] = kind;
	int code = 200;
	if (strcmp(kind, "api_request") == 0) {
		snprintf(ent1, sizeof ent1, "%.*s", (int)strlen(entity) - 1, entity);
		v[C_RTYPE] = ent1;
		if (strcmp(verb, "POST") != 0) {
			snprintf(rid, sizeof rid, "%d", obj);
			v[C_RID] = rid;
		}
		v[C_METHOD] = verb;
		if (strcmp(verb, "POST") == 0)
			snprintf(path, sizeof path, "/api/v1/%s", entity);
		else if (strcmp(verb, "GET") == 0 && r_id < 0.25)
			snprintf(path, sizeof path, "/api/v1/%s?page=%d&limit=50", entity,
			         1 + (int)floor(r_pick * 40));
		else
			snprintf(path, sizeof path, "/api/v1/%s/%d", entity, obj);
		code = r_status < 0.80 ? (strcmp(verb, "POST") == 0 ? 201 : strcmp(verb, "DELETE") == 0 ? 204 : 200)
		     : r_status < 0.86 ? (strcmp(verb, "GET") == 0 ? 304 : 200)
		     : r_status < 0.91 ? 404 : r_status < 0.94 ? 400 : r_status < 0.96 ? 422
		     : r_status < 0.975 ? 409 : r_status < 0.993 ? 500 : r_status < 0.997 ? 502 : 503;
		snprintf(details, sizeof details, "{\"latency_ms\": %d}", (int)floor(exp(r_lat * log(2500))));
	} else if (strcmp(kind, "rate_limit_exceeded") == 0) {
		v[C_RTYPE] = "endpoint";
		v[C_METHOD] = "GET";
		snprintf(path, sizeof path, "/api/v1/%s?page=%d", entity, 1 + (int)floor(r_pick * 40));
		code = 429;
		snprintf(details, sizeof details, "{\"limit\": 100, \"window_s\": 60}");
	} else if (strcmp(kind, "unauthorized_access") == 0) {
		static const char *const m[3] = { "GET", "PUT", "DELETE" };
		static const char *const p[5] = { "/api/v1/admin/users", "/api/v1/admin/config",
			"/internal/metrics", "/api/v1/billing/export", "/api/v1/admin/tenants" };
		static const char *const scope[4] = { "admin", "admin:write", "billing:read", "metrics:read" };
		v[C_RTYPE] = "endpoint";
		v[C_METHOD] = m[(int)floor(r_pick * 3)];
		snprintf(path, sizeof path, "%s", p[zipf(r_id, 5) - 1]);
		code = 403;
		snprintf(details, sizeof details, "{\"required_scope\": \"%s\"}", scope[(int)floor(r_lat * 4)]);
	} else if (strcmp(kind, "cross_tenant_access") == 0) {
		const char *target = tenants[zipf(r_pick, 20) - 1];
		v[C_RTYPE] = "tenant";
		v[C_RID] = target;
		v[C_METHOD] = "GET";
		snprintf(path, sizeof path, "/api/v1/orders/%d", obj);
		code = 403;
		snprintf(details, sizeof details, "{\"allowed\": false, \"target_tenant\": \"%s\"}", target);
	} else if (strcmp(kind, "config_changed") == 0) {
		static const char *const what[6] = { "sso", "ip_allowlist", "webhooks", "mfa_policy",
			"password_policy", "session_ttl" };
		v[C_RTYPE] = "config";
		v[C_RID] = what[(int)floor(r_pick * 6)];
		v[C_METHOD] = "PUT";
		snprintf(path, sizeof path, "/api/v1/settings");
		snprintf(details, sizeof details,
		         "{\"changed_by_role\": \"tenant_admin\", \"fields\": %d}", 1 + (int)floor(r_lat * 3));
	} else if (strcmp(kind, "user_data_deleted") == 0) {
		snprintf(rid, sizeof rid, "user_%d", tk * 1000 + 1 + (int)floor(r_pick * 900));
		v[C_RTYPE] = "user";
		v[C_RID] = rid;
		v[C_METHOD] = "DELETE";
		snprintf(path, sizeof path, "/api/v1/users/%d", obj);
		code = 204;
		snprintf(details, sizeof details, "{\"gdpr_request\": %s, \"records\": %d}",
		         r_lat < 0.7 ? "true" : "false", 1 + (int)floor(exp(r_lat * 8)));
	} else {   /* the authentications */
		static const char *const login[4] = { "/api/v1/auth/login", "/oauth/token",
			"/api/v1/auth/token", "/api/v1/auth/refresh" };
		v[C_METHOD] = "POST";
		snprintf(path, sizeof path, "%s", login[zipf(r_id, 4) - 1]);
		if (strcmp(kind, "failed_auth") == 0) {
			static const char *const why[5] = { "invalid_password", "unknown_user",
				"invalid_api_key", "expired_token", "mfa_failed" };
			bool key = r_status < 0.4;
			v[C_RTYPE] = key ? "api_key" : "user";
			if (key) {
				snprintf(rid, sizeof rid, "sk_live_%04x", (unsigned)floor(r_pick * 65536));
				v[C_RID] = rid;
			}
			code = 401;
			snprintf(details, sizeof details, "{\"reason\": \"%s\"}", why[zipf(r_lat, 5) - 1]);
		} else if (strcmp(kind, "auth_attempt_fail") == 0) {
			v[C_ACTION] = "auth_attempt";
			v[C_RTYPE] = "user";
			code = 401;
			snprintf(details, sizeof details, "{\"success\": false, \"method\": \"%s\"}",
			         r_lat < 0.7 ? "password" : "api_key");
		} else {
			v[C_ACTION] = "auth_attempt";
			v[C_RTYPE] = "user";
			snprintf(details, sizeof details, "{\"success\": true, \"method\": \"%s\", \"mfa\": %s}",
			         r_lat < 0.6 ? "password" : r_lat < 0.9 ? "api_key" : "sso",
			         r_lat < 0.45 ? "true" : "false");
		}
	}
	v[C_PATH] = path;
	snprintf(status, sizeof status, "%d", code);
	v[C_STATUS] = status;
	v[C_DETAILS] = details;
	put_row(b, v);
}

/* One event of the credential stuffing, as sectop_demo_attack makes it. */
static void row_attack(struct batch *b)
{
	static const char *const ip[4] = { "203.0.113.45", "198.51.100.23", "2001:db8:bad:1::17",
	                                   "192.0.2.77" };
	static const char *const t1[4] = { "acme", "globex", "acme", "initech" };
	static const char *const t2[4] = { "globex", "initech", "initech", "acme" };
	static const char *const ua[4] = { "python-requests/2.31.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Go-http-client/1.1", "curl/7.88.1" };
	static const char *const names[10] = { "admin", "root", "test", "support", "info",
		"administrator", "demo", "guest", "ops", "billing" };
	double r_who = rnd(), r_tenant = rnd(), r_user = rnd(), r_x = rnd();
	int who = r_who < 0.40 ? 0 : r_who < 0.70 ? 1 : r_who < 0.90 ? 2 : 3;
	char user[32], details[96];
	const char *v[N_COLS] = { 0 };

	if (r_user < 0.3)
		snprintf(user, sizeof user, "%s", names[(int)floor(r_x * 10)]);
	else
		snprintf(user, sizeof user, "user_%d", 1000 + (int)floor(r_user * 98000));
	snprintf(details, sizeof details, "{\"reason\": \"%s\", \"method\": \"password\"}",
	         r_x < 0.7 ? "invalid_password" : "unknown_user");
	v[C_TENANT] = r_tenant < 0.8 ? t1[who] : t2[who];
	v[C_USER] = user;
	v[C_ACTION] = "failed_auth";
	v[C_RTYPE] = "user";
	v[C_IP] = ip[who];
	v[C_METHOD] = "POST";
	v[C_PATH] = who == 1 ? "/oauth/token" : "/api/v1/auth/login";
	v[C_STATUS] = "401";
	v[C_UA] = ua[who];
	v[C_DETAILS] = details;
	put_row(b, v);
}

/* ------------------------------------------------------- connections */

enum cstate { IDLE, BEGINNING, INSERTING, HOLDING, COMMITTING };

struct conn {
	PGconn *pg;
	enum cstate st;
	bool held;
	int rows;
	double hold_until;
	struct batch b;
};

static char insert_sql[1024];

static void conn_open(struct conn *c)
{
	c->pg = PQconnectdb(o.db);
	if (PQstatus(c->pg) != CONNECTION_OK)
		die("connect", PQerrorMessage(c->pg));
	PQclear(PQexec(c->pg, "SET synchronous_commit = off"));
}

static void send_or_die(struct conn *c, int ok)
{
	if (!ok)
		die("send", PQerrorMessage(c->pg));
}

static void send_insert(struct conn *c)
{
	const char *p[N_COLS];
	for (int i = 0; i < N_COLS; i++) {
		col_end(&c->b.col[i]);
		p[i] = c->b.col[i].s;
	}
	send_or_die(c, PQsendQueryParams(c->pg, insert_sql, N_COLS, NULL, p, NULL, NULL, 0));
	c->st = INSERTING;
}

/* Figures. */
static long long ev_sent, ev_sent_in_span, ev_committed, tx, tx_held;
static double max_hold_ms, backlog_max, t_start;

/* Read what arrived on c; advance its state when its command is done. */
static void conn_ready(struct conn *c)
{
	if (!PQconsumeInput(c->pg))
		die("read", PQerrorMessage(c->pg));
	if (PQisBusy(c->pg))
		return;
	PGresult *r;
	bool failed = false;
	while ((r = PQgetResult(c->pg))) {
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			fprintf(stderr, "bench_feed: %s", PQresultErrorMessage(r));
			failed = true;
		}
		PQclear(r);
	}
	if (failed)
		die("insert", "the server refused a statement");
	switch (c->st) {
	case BEGINNING:
		send_insert(c);
		break;
	case INSERTING:
		if (c->held) {
			c->st = HOLDING;
			break;
		}
		/* autocommitted */
		__attribute__((fallthrough));
	case COMMITTING:
		ev_committed += c->rows;
		tx++;
		c->st = IDLE;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ markers */

static FILE *marker_log;
static struct conn mk;
static int markers_sent, markers_done;
static double marker_next;

static void marker_send(void)
{
	char lead[32], rows[16], user[48], ip[48];
	int k = o.marker_base + markers_sent + 1;
	snprintf(lead, sizeof lead, "%d", o.marker_lead_ms);
	/* each a little heavier than the last: the newest is the highest */
	snprintf(rows, sizeof rows, "%d", o.marker_rows + 20 * markers_sent);
	snprintf(user, sizeof user, "bench-marker-%d", k);
	snprintf(ip, sizeof ip, "198.18.%d.%d", k / 250, k % 250 + 1);
	const char *p[4] = { lead, user, ip, rows };
	char sql[768];
	snprintf(sql, sizeof sql,
	    "INSERT INTO %s (\"timestamp\", tenant_id, user_id, action, resource_type, ip_address,"
	    " method, path, status_code, user_agent, details)"
	    " SELECT now() + make_interval(secs => $1::int / 1000.0), 'acme', $2, 'failed_auth',"
	    " 'user', $3::inet, 'POST', '/api/v1/auth/login', 401, 'bench-marker',"
	    " '{\"reason\": \"invalid_password\"}' FROM generate_series(1, $4::int)", o.table);
	send_or_die(&mk, PQsendQueryParams(mk.pg, sql, 4, NULL, p, NULL, NULL, 0));
	mk.st = INSERTING;
	markers_sent++;
}

static void marker_ready(double now)
{
	if (!PQconsumeInput(mk.pg))
		die("marker read", PQerrorMessage(mk.pg));
	if (PQisBusy(mk.pg))
		return;
	long long at = real_us();
	PGresult *r;
	while ((r = PQgetResult(mk.pg))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("marker", PQresultErrorMessage(r));
		PQclear(r);
	}
	mk.st = IDLE;
	markers_done++;
	if (marker_log) {
		int k = o.marker_base + markers_sent;
		fprintf(marker_log, "%d 198.18.%d.%d %lld\n", k, k / 250, k % 250 + 1, at);
		fflush(marker_log);
	}
	marker_next = now + o.marker_every_ms / 1000.0 + rnd();
}

/* --------------------------------------------------------------- main */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double num_arg(const char *k, const char *v, double lo, double hi)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || *end || !(d >= lo && d <= hi))
		die(k, "bad number");
	return d;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			die(a, "needs a value");
		i++;
		if (strcmp(a, "--db") == 0) o.db = v;
		else if (strcmp(a, "--table") == 0) o.table = v;
		else if (strcmp(a, "--markers") == 0) o.markers = v;
		else if (strcmp(a, "--rate") == 0) o.rate = num_arg(a, v, 0.1, 100000);
		else if (strcmp(a, "--seconds") == 0) o.seconds = num_arg(a, v, 0.1, 86400);
		else if (strcmp(a, "--attack-share") == 0) o.attack_share = num_arg(a, v, 0, 1);
		else if (strcmp(a, "--hold-share") == 0) o.hold_share = num_arg(a, v, 0, 1);
		else if (strcmp(a, "--conns") == 0) o.conns = (int)num_arg(a, v, 1, MAX_CONNS);
		else if (strcmp(a, "--batch-max") == 0) o.batch_max = (int)num_arg(a, v, 1, 10000);
		else if (strcmp(a, "--hold-max-ms") == 0) o.hold_max_ms = (int)num_arg(a, v, 0, 60000);
		else if (strcmp(a, "--marker-every-ms") == 0) o.marker_every_ms = (int)num_arg(a, v, 0, 3600000);
		else if (strcmp(a, "--marker-lead-ms") == 0) o.marker_lead_ms = (int)num_arg(a, v, 0, 60000);
		else if (strcmp(a, "--marker-rows") == 0) o.marker_rows = (int)num_arg(a, v, 1, 10000);
		else if (strcmp(a, "--marker-base") == 0) o.marker_base = (int)num_arg(a, v, 0, 60000);
		else if (strcmp(a, "--seed") == 0) o.seed = (uint64_t)num_arg(a, v, 0, 1e15);
		else die(a, "unknown option");
	}
	if (!o.db || o.rate <= 0 || o.seconds <= 0)
		die("usage", "--db CONNINFO --rate EVENTS_PER_S --seconds S [--conns N] [--batch-max N]"
		    " [--attack-share F] [--hold-share F] [--hold-max-ms MS] [--marker-every-ms MS]"
		    " [--marker-rows N] [--marker-lead-ms MS] [--markers FILE] [--marker-base N] [--seed N] [--table NAME]");
	if (o.marker_every_ms > 0 && o.marker_base + o.seconds * 1000 / o.marker_every_ms + 2 > 64000)
		die("--marker-base", "too many markers for 198.18.0.0/16");
	rng_state = o.seed * 2654435761ULL + 88172645463325252ULL;
	snprintf(insert_sql, sizeof insert_sql,
	    "INSERT INTO %s (tenant_id, user_id, action, resource_type, resource_id, ip_address,"
	    " method, path, status_code, user_agent, details)"
	    " SELECT * FROM unnest($1::text[], $2::varchar[], $3::varchar[], $4::varchar[],"
	    " $5::varchar[], $6::inet[], $7::text[], $8::text[], $9::int[], $10::text[], $11::jsonb[])",
	    o.table);

	struct conn conns[MAX_CONNS];
	memset(conns, 0, sizeof conns);
	for (int i = 0; i < o.conns; i++)
		conn_open(&conns[i]);
	clients_load(conns[0].pg);
	if (o.marker_every_ms > 0) {
		conn_open(&mk);
		if (o.markers && !(marker_log = fopen(o.markers, "a")))
			die(o.markers, strerror(errno));
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	long long total = (long long)llround(o.rate * o.seconds);
	t_start = mono_s();
	marker_next = t_start + o.marker_every_ms / 2000.0 + rnd();
	double deadline = t_start + o.seconds + o.hold_max_ms / 1000.0 + 30;

	for (;;) {
		double now = mono_s();
		if (now > deadline)
			die("feed", "connections still busy 30 s after the end");
		double t = now - t_start;
		if (stop && t < o.seconds) {     /* the end is now */
			o.seconds = t;
			total = ev_sent;
		}
		long long due = t >= o.seconds ? total : (long long)floor(o.rate * t);
		bool busy = false;
		int holding = 0;
		for (int i = 0; i < o.conns; i++)
			holding += conns[i].st != IDLE && conns[i].held;

		for (int i = 0; i < o.conns; i++) {
			struct conn *c = &conns[i];
			if (c->st == HOLDING && now >= c->hold_until) {
				send_or_die(c, PQsendQuery(c->pg, "COMMIT"));
				c->st = COMMITTING;
			}
			if (c->st == IDLE && due > ev_sent) {
				long long n = due - ev_sent;
				if (n > o.batch_max)
					n = o.batch_max;
				batch_reset(&c->b);
				for (long long k = 0; k < n; k++) {
					if (rnd() < o.attack_share)
						row_attack(&c->b);
					else
						row_ordinary(&c->b);
				}
				c->rows = (int)n;
				ev_sent += n;
				c->held = o.hold_max_ms > 0 && holding < o.conns / 2 && rnd() < o.hold_share;
				if (c->held) {
					double hold = (0.1 + 0.9 * rnd()) * o.hold_max_ms;
					c->hold_until = now + hold / 1000.0;
					if (hold > max_hold_ms)
						max_hold_ms = hold;
					tx_held++;
					holding++;
					send_or_die(c, PQsendQuery(c->pg, "BEGIN"));
					c->st = BEGINNING;
				} else {
					send_insert(c);
				}
			}
			if (c->st != IDLE)
				busy = true;
		}
		if (t < o.seconds)
			ev_sent_in_span = ev_sent;
		if (due - ev_sent > backlog_max)
			backlog_max = (double)(due - ev_sent);
		if (o.marker_every_ms > 0 && mk.st == IDLE && now >= marker_next && t < o.seconds)
			marker_send();
		if (ev_sent >= total && !busy && mk.st == IDLE)
			break;

		/* wait: for an answer, a hold's end, or the next due event */
		struct pollfd pf[MAX_CONNS + 1];
		struct conn *who[MAX_CONNS + 1];
		int n = 0;
		double wake = now + 0.005;
		for (int i = 0; i < o.conns; i++) {
			struct conn *c = &conns[i];
			if (c->st == HOLDING && c->hold_until < wake)
				wake = c->hold_until;
			if (c->st == IDLE || c->st == HOLDING)
				continue;
			pf[n].fd = PQsocket(c->pg);
			pf[n].events = POLLIN;
			who[n++] = c;
		}
		if (mk.pg && mk.st != IDLE) {
			pf[n].fd = PQsocket(mk.pg);
			pf[n].events = POLLIN;
			who[n++] = &mk;
		}
		int ms = (int)ceil((wake - now) * 1000);
		if (poll(pf, (nfds_t)n, ms < 0 ? 0 : ms) < 0 && errno != EINTR)
			die("poll", strerror(errno));
		now = mono_s();
		for (int i = 0; i < n; i++) {
			if (!(pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			if (who[i] == &mk)
				marker_ready(now);
			else
				conn_ready(who[i]);
		}
	}
	double span = mono_s() - t_start;
	printf("feed_rate_target %.3f\n", o.rate);
	printf("feed_rate_achieved %.3f\n", ev_sent_in_span / o.seconds);
	printf("feed_events %lld\n", ev_committed);
	printf("feed_seconds %.3f\n", span);
	printf("feed_transactions %lld\n", tx);
	printf("feed_held_transactions %lld\n", tx_held);
	printf("feed_hold_max_ms %.1f\n", max_hold_ms);
	printf("feed_backlog_max %.0f\n", backlog_max);
	printf("feed_markers %d\n", markers_done);
	for (int i = 0; i < o.conns; i++)
		PQfinish(conns[i].pg);
	if (mk.pg)
		PQfinish(mk.pg);
	if (marker_log)
		fclose(marker_log);
	for (int i = 0; i < o.conns; i++)
		for (int k = 0; k < N_COLS; k++)
			free(conns[i].b.col[k].s);
	free(clients);
	return 0;
}
