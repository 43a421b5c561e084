#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "model.h"
#include "pg.h"
#include "pg_sql.h"

enum pg_state { PG_IDLE, PG_CONNECTING, PG_READY, PG_BUSY };

/* The steps of one refresh, in order.  SETUP runs once per connection. */
enum pg_step {
	STEP_SETUP, STEP_PROBE, STEP_PER_MINUTE, STEP_TOP_IPS, STEP_TENANTS, STEP_TAIL,
	/* the drill-down, when one is open: an address or a tenant */
	STEP_DETAIL_EVENTS, STEP_DETAIL_A, STEP_DETAIL_B, STEP_DETAIL_C, STEP_DONE,
	STEP_CONNECTED           /* SETUP answered: the first refresh starts at once */
};

struct pg {
	const struct config *cfg;
	struct model *m;
	struct pg_sql sql;
	char *fail_actions, *fail_statuses, *unauth_actions, *cross_actions;

	PGconn *conn;
	enum pg_state state;
	enum pg_step step;
	bool want_write;         /* connecting or flushing: wait for POLLOUT */
	int64_t deadline;        /* of the step in flight (mono ms) */
	int64_t next_refresh;    /* mono ms */
	int64_t retry_at;        /* mono ms, while PG_IDLE */
	bool force;
	struct backoff backoff;

	/* what the last complete refresh saw, to skip a refresh with no news */
	bool have_probe;
	long long probe_minute, probe_count, staged_minute, staged_count;

	/* this refresh's results, published together at the end */
	long fpm[MODEL_MINUTES];
	struct ip_stat *top;
	size_t n_top;
	struct tenant_stat *tenants;
	size_t n_tenants;
	unsigned scope_gen;      /* the model's scope this refresh was started for */
	bool publish_main;       /* this refresh re-read the dashboard figures */

	/* the drill-down being fetched */
	unsigned detail_asked;
	enum detail_kind detail_kind;
	char *detail_key;
	struct event *d_events;
	size_t n_d_events;
	struct name_count *d_groups[DETAIL_GROUPS];
	size_t n_d_groups[DETAIL_GROUPS];
	struct ip_stat *d_ips;
	size_t n_d_ips;

	unsigned long queries, quiet;
};

static void pg_discard_detail(struct pg *p)
{
	for (size_t i = 0; i < p->n_d_events; i++)
		event_free(&p->d_events[i]);
	free(p->d_events);
	p->d_events = NULL;
	p->n_d_events = 0;
	for (int g = 0; g < DETAIL_GROUPS; g++) {
		name_counts_free(p->d_groups[g], p->n_d_groups[g]);
		p->d_groups[g] = NULL;
		p->n_d_groups[g] = 0;
	}
	free(p->d_ips);
	p->d_ips = NULL;
	p->n_d_ips = 0;
	free(p->detail_key);
	p->detail_key = NULL;
}

static void pg_discard_staged(struct pg *p)
{
	pg_discard_detail(p);
	free(p->top);
	p->top = NULL;
	p->n_top = 0;
	for (size_t i = 0; i < p->n_tenants; i++)
		free(p->tenants[i].tenant_id);
	free(p->tenants);
	p->tenants = NULL;
	p->n_tenants = 0;
}

static void pg_drop(struct pg *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
	p->state = PG_IDLE;
}

/* libpq's messages end in a newline and may span lines: keep the first. */
static void first_line(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src && *src ? src : "unknown error");
	dst[strcspn(dst, "\n")] = '\0';
}

static void pg_fail(struct pg *p, int64_t now, const char *why)
{
	char msg[256];

	first_line(msg, sizeof msg, why);
	if (strcmp(msg, p->m->pg.error) != 0)
		log_msg(LOG_WARN, "postgres: %s", msg);
	source_status_fail(&p->m->pg, msg);
	pg_discard_staged(p);
	pg_drop(p);
	p->retry_at = now + backoff_next(&p->backoff);
}

static void pg_connect(struct pg *p, int64_t now)
{
	const char *keys[] = { "dbname", "fallback_application_name", "client_encoding", NULL };
	const char *vals[] = { p->cfg->db, "sectop", "UTF8", NULL };
	int first = p->cfg->db ? 0 : 1;   /* no conninfo: libpq's own defaults */

	p->conn = PQconnectStartParams(keys + first, vals + first, 1);
	if (!p->conn || PQstatus(p->conn) == CONNECTION_BAD) {
		pg_fail(p, now, p->conn ? PQerrorMessage(p->conn) : "out of memory");
		return;
	}
	p->state = PG_CONNECTING;
	p->want_write = true;
	p->deadline = now + p->cfg->timeout_ms;
}

static bool pg_send(struct pg *p, int64_t now, const char *sql, int n, const char *const *params)
{
	if (!PQsendQueryParams(p->conn, sql, n, NULL, params, NULL, NULL, 0)) {
		pg_fail(p, now, PQerrorMessage(p->conn));
		return false;
	}
	p->queries++;
	p->state = PG_BUSY;
	p->deadline = now + p->cfg->timeout_ms;
	int f = PQflush(p->conn);
	if (f < 0) {
		pg_fail(p, now, PQerrorMessage(p->conn));
		return false;
	}
	p->want_write = f == 1;
	return true;
}

static void int_param(char *buf, size_t n, long long v)
{
	snprintf(buf, n, "%lld", v);
}

/* The drill-down of an address: its events, then by tenant, user and user
 * agent.  Of a tenant: its failures, top addresses and users, through the
 * dashboard's own queries scoped to it. */
static void pg_send_detail(struct pg *p, int64_t now, const char *tenant, const char *window,
                           const char *overlap, const char *cut)
{
	char limit[24];
	const char *key = p->detail_key;

	int_param(limit, sizeof limit, p->step == STEP_DETAIL_EVENTS ? 50 : 20);
	if (p->detail_kind == DETAIL_IP) {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, window, key, overlap, cut, limit };
		const char *sql = p->step == STEP_DETAIL_EVENTS ? p->sql.ip_events
		                : p->sql.ip_by[p->step - STEP_DETAIL_A];
		pg_send(p, now, sql, 8, v);
		return;
	}
	/* a tenant: the dashboard's queries with the tenant in place of the scope */
	const char *v[] = { p->fail_actions, p->fail_statuses, key, window, NULL, overlap, cut, limit };
	switch (p->step) {
	case STEP_DETAIL_EVENTS:
		pg_send(p, now, p->sql.tail, 8, v);
		break;
	case STEP_DETAIL_A: {
		const char *t[] = { p->fail_actions, p->fail_statuses, key, window, limit };
		pg_send(p, now, p->sql.top_ips, 5, t);
		break;
	}
	default: {
		const char *u[] = { p->fail_actions, p->fail_statuses, tenant, window, key, overlap, cut, limit };
		pg_send(p, now, p->sql.tenant_users, 8, u);
		break;
	}
	}
}

/* Send the query of the current step. */
static void pg_send_step(struct pg *p, int64_t now)
{
	const struct config *c = p->cfg;
	char window[24], limit[24], cut[24], overlap[24], minutes[24], ms[24], cursor[24];
	const char *tenant = p->m->tenant;

	int_param(window, sizeof window, p->m->window_s);
	int_param(cut, sizeof cut, c->text_max);
	int_param(overlap, sizeof overlap, c->tail_overlap_s);
	int_param(minutes, sizeof minutes, MODEL_MINUTES - 1);
	switch (p->step) {
	case STEP_SETUP: {
		const char *v[] = { ms };
		int_param(ms, sizeof ms, c->timeout_ms);
		pg_send(p, now, "SELECT set_config('statement_timeout', $1, false),"
		        " set_config('default_transaction_read_only', 'on', false)", 1, v);
		break;
	}
	case STEP_PROBE: {
		const char *v[] = { tenant, overlap };
		pg_send(p, now, p->sql.probe, 2, v);
		break;
	}
	case STEP_PER_MINUTE: {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, minutes };
		pg_send(p, now, p->sql.per_minute, 4, v);
		break;
	}
	case STEP_TOP_IPS: {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, window, limit };
		int_param(limit, sizeof limit, c->top_n);
		pg_send(p, now, p->sql.top_ips, 5, v);
		break;
	}
	case STEP_TENANTS: {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, window,
		                    p->unauth_actions, p->cross_actions, cut, limit };
		int_param(limit, sizeof limit, c->top_n);
		pg_send(p, now, p->sql.tenants, 8, v);
		break;
	}
	case STEP_TAIL: {
		const char *v[] = { p->fail_actions, p->fail_statuses, tenant, window,
		                    p->m->n_recent ? cursor : NULL, overlap, cut, limit };
		if (p->m->n_recent)
			int_param(cursor, sizeof cursor, p->m->recent[0].ts_us);
		int_param(limit, sizeof limit, c->tail_n);
		pg_send(p, now, p->sql.tail, 8, v);
		break;
	}
	case STEP_DETAIL_EVENTS:
	case STEP_DETAIL_A:
	case STEP_DETAIL_B:
	case STEP_DETAIL_C:
		pg_send_detail(p, now, tenant, window, overlap, cut);
		break;
	case STEP_DONE:
	case STEP_CONNECTED:
		break;
	}
}

static char *dup_or_null(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return strdup(PQgetvalue(r, row, col));
}

static long long num(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void take_per_minute(struct pg *p, const PGresult *r)
{
	int64_t start = p->staged_minute - (MODEL_MINUTES - 1) * 60;

	memset(p->fpm, 0, sizeof p->fpm);
	for (int i = 0; i < PQntuples(r); i++) {
		long long slot = (num(r, i, 0) - start) / 60;
		if (slot >= 0 && slot < MODEL_MINUTES)
			p->fpm[slot] = (long)num(r, i, 1);
	}
}

static struct ip_stat *ip_stats_from(const PGresult *r, size_t *count)
{
	int n = PQntuples(r);
	struct ip_stat *v = calloc((size_t)n + 1, sizeof *v);

	*count = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < n; i++) {
		struct ip_stat *s = &v[i];
		snprintf(s->ip, sizeof s->ip, "%s", PQgetvalue(r, i, 0));
		s->failures = (long)num(r, i, 1);
		s->requests = (long)num(r, i, 2);
		s->users = (long)num(r, i, 3);
		s->tenants = (long)num(r, i, 4);
	}
	*count = (size_t)n;
	return v;
}

static struct name_count *name_counts_from(const PGresult *r, size_t *count)
{
	int n = PQntuples(r);
	struct name_count *v = calloc((size_t)n + 1, sizeof *v);

	*count = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < n; i++) {
		v[i].name = dup_or_null(r, i, 0);
		v[i].count = (long)num(r, i, 1);
		v[i].failures = (long)num(r, i, 2);
	}
	*count = (size_t)n;
	return v;
}

static void take_tenants(struct pg *p, const PGresult *r)
{
	int n = PQntuples(r);

	p->tenants = calloc((size_t)n + 1, sizeof *p->tenants);
	if (!p->tenants)
		return;
	for (int i = 0; i < n; i++) {
		struct tenant_stat *t = &p->tenants[i];
		t->tenant_id = dup_or_null(r, i, 0);
		t->requests = (long)num(r, i, 1);
		t->failures = (long)num(r, i, 2);
		t->unauthorized = (long)num(r, i, 3);
		t->cross_tenant = (long)num(r, i, 4);
		t->ips = (long)num(r, i, 5);
		t->users = (long)num(r, i, 6);
	}
	p->n_tenants = (size_t)n;
}

static void event_from_row(struct event *e, const PGresult *r, int i)
{
	snprintf(e->id, sizeof e->id, "%s", PQgetvalue(r, i, 0));
	e->ts_us = num(r, i, 1);
	e->ip = dup_or_null(r, i, 2);
	e->tenant_id = dup_or_null(r, i, 3);
	e->user_id = dup_or_null(r, i, 4);
	e->action = dup_or_null(r, i, 5);
	e->method = dup_or_null(r, i, 6);
	e->path = dup_or_null(r, i, 7);
	e->status_code = (int)num(r, i, 8);
	e->user_agent = dup_or_null(r, i, 9);
}

static struct event *events_from(const PGresult *r, size_t *count)
{
	int n = PQntuples(r);
	struct event *v = calloc((size_t)n + 1, sizeof *v);

	*count = 0;
	if (!v)
		return NULL;
	for (int i = 0; i < n; i++)
		event_from_row(&v[i], r, i);
	*count = (size_t)n;
	return v;
}

static bool have_event(const struct model *m, const char *id)
{
	for (size_t i = 0; i < m->n_recent; i++)
		if (strcmp(m->recent[i].id, id) == 0)
			return true;
	return false;
}

/* Newest first: by timestamp, then id, as the cursor orders them. */
static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? 1 : -1;
	return -strcmp(x->id, y->id);
}

/* Merge the new rows into the tail: ids already held are dropped (they came
 * again through the overlap), late rows take their place by time. */
static void take_tail(struct pg *p, const PGresult *r)
{
	struct model *m = p->m;
	size_t cap = m->n_recent + (size_t)PQntuples(r);
	struct event *all = calloc(cap + 1, sizeof *all);
	size_t n = 0;

	if (!all)
		return;
	for (int i = 0; i < PQntuples(r); i++)
		if (!have_event(m, PQgetvalue(r, i, 0)))
			event_from_row(&all[n++], r, i);
	if (m->n_recent)
		memcpy(all + n, m->recent, m->n_recent * sizeof *all);
	n += m->n_recent;
	free(m->recent);              /* its strings moved into all[] */
	m->recent = NULL;
	m->n_recent = 0;
	qsort(all, n, sizeof *all, event_cmp);
	size_t keep = n < (size_t)p->cfg->tail_n ? n : (size_t)p->cfg->tail_n;
	for (size_t i = keep; i < n; i++)
		event_free(&all[i]);
	model_set_recent(m, all, keep);
}

static void pg_publish(struct pg *p, int64_t now)
{
	struct model *m = p->m;

	memcpy(m->fpm, p->fpm, sizeof m->fpm);
	m->fpm_start = p->staged_minute - (MODEL_MINUTES - 1) * 60;
	model_set_top_ips(m, p->top, p->n_top);
	model_set_tenants(m, p->tenants, p->n_tenants);
	p->top = NULL;
	p->tenants = NULL;
	p->n_top = p->n_tenants = 0;
	p->have_probe = true;
	p->probe_minute = p->staged_minute;
	p->probe_count = p->staged_count;
}

static void pg_refresh_done(struct pg *p, int64_t now)
{
	if (p->m->pg.state != SOURCE_OK && p->m->pg.refreshes)
		log_msg(LOG_INFO, "postgres: refreshing again");
	source_status_ok(&p->m->pg, clock_wall_ms());
	backoff_reset(&p->backoff);
	p->state = PG_READY;
	p->next_refresh = now + p->m->refresh_ms;
}

/* After the dashboard's queries: the drill-down, if one is open. */
static enum pg_step detail_or_done(const struct pg *p)
{
	return p->detail_kind != DETAIL_NONE ? STEP_DETAIL_EVENTS : STEP_DONE;
}

/* A probe that shows the same minute and the same count as the last
 * complete refresh means nothing arrived: the figures stand as they are
 * (only a drill-down nobody has seen yet is fetched). */
static enum pg_step after_probe(struct pg *p, const PGresult *r)
{
	p->staged_minute = num(r, 0, 0);
	p->staged_count = num(r, 0, 1);
	if (p->have_probe && !p->force && p->staged_minute == p->probe_minute &&
	    p->staged_count == p->probe_count) {
		p->quiet++;
		return p->m->detail.answered != p->detail_asked ? detail_or_done(p) : STEP_DONE;
	}
	return STEP_PER_MINUTE;
}

static void take_detail(struct pg *p, const PGresult *r)
{
	switch (p->step) {
	case STEP_DETAIL_EVENTS:
		p->d_events = events_from(r, &p->n_d_events);
		break;
	case STEP_DETAIL_A:
		if (p->detail_kind == DETAIL_IP)
			p->d_groups[DETAIL_TENANTS] = name_counts_from(r, &p->n_d_groups[DETAIL_TENANTS]);
		else
			p->d_ips = ip_stats_from(r, &p->n_d_ips);
		break;
	case STEP_DETAIL_B:
		p->d_groups[DETAIL_USERS] = name_counts_from(r, &p->n_d_groups[DETAIL_USERS]);
		break;
	case STEP_DETAIL_C:
		p->d_groups[DETAIL_AGENTS] = name_counts_from(r, &p->n_d_groups[DETAIL_AGENTS]);
		break;
	default:
		break;
	}
}

/* The drill-down is complete: publish it, unless another was asked for
 * meanwhile (then it is thrown away and the next refresh fetches that one). */
static void publish_detail(struct pg *p)
{
	struct model *m = p->m;

	if (m->detail.asked != p->detail_asked)
		return;          /* pg_discard_detail frees it at the next refresh */
	model_set_detail(m, p->detail_asked, p->d_events, p->n_d_events, p->d_groups,
	                 p->n_d_groups, p->d_ips, p->n_d_ips);
	p->d_events = NULL;
	p->n_d_events = 0;
	memset(p->d_groups, 0, sizeof p->d_groups);
	memset(p->n_d_groups, 0, sizeof p->n_d_groups);
	p->d_ips = NULL;
	p->n_d_ips = 0;
}

static enum pg_step pg_take_step(struct pg *p, const PGresult *r, int64_t now)
{
	switch (p->step) {
	case STEP_SETUP: return STEP_CONNECTED;
	case STEP_PROBE: return after_probe(p, r);
	case STEP_PER_MINUTE: take_per_minute(p, r); break;
	case STEP_TOP_IPS: p->top = ip_stats_from(r, &p->n_top); break;
	case STEP_TENANTS: take_tenants(p, r); break;
	case STEP_TAIL:
		take_tail(p, r);
		pg_publish(p, now);
		return detail_or_done(p);
	case STEP_DETAIL_EVENTS:
	case STEP_DETAIL_A:
	case STEP_DETAIL_B:
	case STEP_DETAIL_C:
		take_detail(p, r);
		/* a tenant's drill-down has two parts after its failures */
		if (p->step == STEP_DETAIL_C || (p->step == STEP_DETAIL_B && p->detail_kind == DETAIL_TENANT)) {
			publish_detail(p);
			return STEP_DONE;
		}
		break;
	case STEP_DONE:
	case STEP_CONNECTED:
		break;
	}
	return p->step + 1;
}

/* Results for a window or tenant the operator has just left are dropped,
 * and the refresh starts again for the new one. */
static void pg_take(struct pg *p, const PGresult *r, int64_t now)
{
	if (p->step > STEP_SETUP && p->step < STEP_DONE && p->scope_gen != p->m->scope_gen) {
		pg_discard_staged(p);
		p->force = true;
		p->step = STEP_DONE;
		return;
	}
	p->step = pg_take_step(p, r, now);
}

static void pg_result(struct pg *p, PGresult *r, int64_t now)
{
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK || (p->step == STEP_PROBE && PQntuples(r) != 1)) {
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		char why[256];
		snprintf(why, sizeof why, "%s", msg ? msg : PQresStatus(st));
		PQclear(r);
		pg_fail(p, now, why);
		return;
	}
	pg_take(p, r, now);
	PQclear(r);
}

/* Read whatever results are complete; move to the next step at the end of one. */
static void pg_drain(struct pg *p, int64_t now)
{
	while (p->conn && p->state == PG_BUSY && !PQisBusy(p->conn)) {
		PGresult *r = PQgetResult(p->conn);
		if (r) {
			pg_result(p, r, now);
			continue;
		}
		/* NULL: the query is complete */
		if (p->step == STEP_CONNECTED) {
			p->state = PG_READY;
			p->force = true;
		} else if (p->step == STEP_DONE) {
			p->force = false;
			pg_refresh_done(p, now);
		} else {
			pg_send_step(p, now);
		}
	}
}

static void pg_advance_connect(struct pg *p, int64_t now)
{
	switch (PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		p->want_write = false;
		break;
	case PGRES_POLLING_WRITING:
		p->want_write = true;
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(p->conn, 1) != 0) {
			pg_fail(p, now, PQerrorMessage(p->conn));
			return;
		}
		log_msg(LOG_INFO, "postgres: connected");
		p->step = STEP_SETUP;
		pg_send_step(p, now);
		break;
	default:
		pg_fail(p, now, PQerrorMessage(p->conn));
		break;
	}
}

static int pg_fds(void *self, struct pollfd *pfd, int max, int64_t now, int64_t *timeout)
{
	struct pg *p = self;
	int64_t wake;

	switch (p->state) {
	case PG_IDLE: wake = p->retry_at; break;
	case PG_READY:
		wake = p->force ? now : p->m->paused ? now + 60000 : p->next_refresh;
		break;
	default: wake = p->deadline; break;
	}
	if (wake - now < *timeout)
		*timeout = wake - now;
	if (max < 1 || (p->state != PG_CONNECTING && p->state != PG_BUSY) || PQsocket(p->conn) < 0)
		return 0;
	pfd->fd = PQsocket(p->conn);
	pfd->events = (short)(p->want_write ? POLLOUT : POLLIN);
	if (p->state == PG_BUSY)
		pfd->events |= POLLIN;
	pfd->revents = 0;
	return 1;
}

static void pg_ready(void *self, const struct pollfd *pfd, int n, int64_t now)
{
	struct pg *p = self;

	if (n < 1 || !pfd->revents)
		return;
	if (p->state == PG_CONNECTING) {
		pg_advance_connect(p, now);
		return;
	}
	if (p->state != PG_BUSY)
		return;
	if (p->want_write && (pfd->revents & POLLOUT)) {
		int f = PQflush(p->conn);
		if (f < 0) {
			pg_fail(p, now, PQerrorMessage(p->conn));
			return;
		}
		p->want_write = f == 1;
	}
	if ((pfd->revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(p->conn)) {
		pg_fail(p, now, PQerrorMessage(p->conn));
		return;
	}
	pg_drain(p, now);
}

/* Only an address that parses goes into an ::inet parameter: a key name
 * from Redis can be anything, and a failed cast would fail the refresh. */
static bool is_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* A refresh starts: note the scope and the drill-down it is for. */
static void pg_begin(struct pg *p, int64_t now)
{
	const struct detail *d = &p->m->detail;

	if (p->scope_gen != p->m->scope_gen) {
		p->scope_gen = p->m->scope_gen;
		p->have_probe = false;           /* a new scope: everything again */
	}
	pg_discard_detail(p);
	p->detail_asked = d->asked;
	p->detail_kind = d->kind;
	if (d->kind == DETAIL_IP && !is_address(d->key))
		p->detail_kind = DETAIL_NONE;
	p->detail_key = p->detail_kind != DETAIL_NONE ? strdup(d->key) : NULL;
	if (p->detail_kind != DETAIL_NONE && !p->detail_key)
		p->detail_kind = DETAIL_NONE;
	p->step = STEP_PROBE;
	pg_send_step(p, now);
}

static void pg_tick(void *self, int64_t now)
{
	struct pg *p = self;
	char why[96];

	switch (p->state) {
	case PG_IDLE:
		if (now >= p->retry_at)
			pg_connect(p, now);
		break;
	case PG_CONNECTING:
	case PG_BUSY:
		if (now >= p->deadline) {
			snprintf(why, sizeof why, "%s timed out after %d ms",
			         p->state == PG_CONNECTING ? "connection" : "query", p->cfg->timeout_ms);
			pg_fail(p, now, why);
		}
		break;
	case PG_READY:
		if (p->force || (!p->m->paused && now >= p->next_refresh))
			pg_begin(p, now);
		break;
	}
}

static void pg_refresh_now(void *self)
{
	((struct pg *)self)->force = true;
}

static void pg_destroy(void *self)
{
	struct pg *p = self;

	pg_discard_staged(p);
	pg_drop(p);
	pg_sql_free(&p->sql);
	free(p->fail_actions);
	free(p->fail_statuses);
	free(p->unauth_actions);
	free(p->cross_actions);
	free(p);
}

static const struct source_ops pg_ops = {
	.name = "postgres",
	.fds = pg_fds,
	.ready = pg_ready,
	.tick = pg_tick,
	.refresh_now = pg_refresh_now,
	.destroy = pg_destroy,
};

struct pg *pg_new(const struct config *cfg, struct model *m, char *err, size_t errsz)
{
	struct pg *p = calloc(1, sizeof *p);

	if (!p || pg_sql_build(&p->sql, cfg) < 0) {
		free(p);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	p->cfg = cfg;
	p->m = m;
	p->fail_actions = pg_sql_text_array(cfg->failure_actions.v, cfg->failure_actions.n);
	p->fail_statuses = pg_sql_int_array(cfg->failure_statuses, cfg->n_failure_statuses);
	p->unauth_actions = pg_sql_text_array(cfg->unauthorized_actions.v, cfg->unauthorized_actions.n);
	p->cross_actions = pg_sql_text_array(cfg->cross_tenant_actions.v, cfg->cross_tenant_actions.n);
	if (!p->fail_actions || !p->fail_statuses || !p->unauth_actions || !p->cross_actions) {
		pg_destroy(p);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	backoff_init(&p->backoff, 250, 30000, (uint32_t)clock_wall_ms());
	p->state = PG_IDLE;
	p->retry_at = 0;
	return p;
}

struct source pg_source(struct pg *p)
{
	return (struct source){ &pg_ops, p };
}

void pg_counters(const struct pg *p, unsigned long *queries, unsigned long *quiet_refreshes)
{
	*queries = p->queries;
	*quiet_refreshes = p->quiet;
}
