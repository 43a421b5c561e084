/* report_pg.c: the report's figures, section by section.
 *
 * Each section is a query and what to do with its answer.  They run in two
 * lanes: the first session runs its sections one after the other; a second
 * session, when there is one, runs the others meanwhile, served from the
 * first one's waits (report_db's peer), so that on a server with two cores
 * the report takes the time of the longer lane, not of both.
 */
#include "config.h"

#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "report.h"
#include "report_db.h"
#include "report_pg.h"
#include "report_sql.h"
#include "snapshot_out.h"

/* Tenant names kept for each top address (the count is exact). */
#define TENANT_NAMES 5
/* Rows of the operator-action and key listings. */
#define LIST_ROWS 1000
/* prepare() returns it for a section with nothing to ask */
#define SKIP RV_N

struct fill;
struct lane;

/* Which period's summary a section's failure leaves unknown. */
enum summary_part { SP_NONE, SP_CUR, SP_PREV };

struct section {
	const char *step;            /* our words: the progress line, notes, the log */
	enum report_query query;
	enum summary_part part;
	/* set the lane's parameters; the variant to run, or SKIP */
	enum report_variant (*prepare)(struct fill *f, struct lane *l);
	int (*take)(struct fill *f, const struct pg_result *res);   /* -1: out of memory */
};

struct lane {
	struct fill *f;
	struct report_db *db;
	struct report_params p;
	enum report_variant rolled;  /* the variant that reads the rollup in this session */
	const struct section *const *todo;   /* NULL-terminated */
	size_t next;
	const struct section *running;      /* sent, answer awaited (the second lane) */
	enum report_variant variant;        /* of the section running */
	int64_t started_ms;
};

struct fill {
	struct report *r;
	const struct report_sql *q;
	const struct config *cfg;
	struct rollup_state st;
	bool usable;                 /* the rollup matches and may be read */
	bool oom;
	struct lane lane[2];
};

/* Set the period, and the rollup's part of it: the whole hours inside it
 * that the rollup covers.  Returns which variant of a query to run. */
static enum report_variant set_period(struct fill *f, struct lane *l, const struct report_period *per,
                                      bool may_roll)
{
	int64_t since = per->since_us, until = per->until_us;
	int64_t ra = report_floor_hour(since + REPORT_HOUR_US - 1), rb = report_floor_hour(until);

	report_params_tenant(&l->p, f->r->tenant);
	if (ra < f->st.from_us)
		ra = f->st.from_us;
	if (rb > f->st.until_us)
		rb = f->st.until_us;
	if (!f->usable || !may_roll || ra >= rb) {
		report_params_period(&l->p, since, until, since, since);
		return RV_TABLE;
	}
	report_params_period(&l->p, since, until, ra, rb);
	return l->rolled;
}

/* ------------------------------------------------------------ prepare */

static enum report_variant prep_cur(struct fill *f, struct lane *l)
{
	return set_period(f, l, &f->r->cur, true);
}

static enum report_variant prep_prev(struct fill *f, struct lane *l)
{
	return set_period(f, l, &f->r->prev, true);
}

/* the rollup keeps hours of REPORT_HOT_MIN requests or more */
static enum report_variant prep_hot(struct fill *f, struct lane *l)
{
	bool may_roll = f->r->hot_threshold >= REPORT_HOT_MIN;

	if (!may_roll && f->usable)
		report_note(f->r, "busy addresses: a threshold under %d is read from the table, not the rollup",
		            REPORT_HOT_MIN);
	return set_period(f, l, &f->r->cur, may_roll);
}

static enum report_variant prep_actions(struct fill *f, struct lane *l)
{
	report_params_int(&l->p, RP_ROWS, LIST_ROWS + 1);     /* one more: was it cut? */
	return set_period(f, l, &f->r->cur, true);
}

/* All of history, every tenant: the rollup's part, and the live part that
 * lies outside the rollup, read from the table. */
static enum report_variant prep_all_history(struct fill *f, struct lane *l)
{
	report_params_tenant(&l->p, NULL);
	if (f->usable && f->st.until_us > f->st.from_us) {
		report_params_period(&l->p, INT64_MIN, INT64_MAX, f->st.from_us, f->st.until_us);
		return RV_ROLLUP_TABLE;
	}
	report_params_period(&l->p, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MIN);
	return RV_TABLE;
}

/* Secrets are global. */
static enum report_variant prep_rotations(struct fill *f, struct lane *l)
{
	if (!f->r->n_secrets)
		return SKIP;
	return prep_all_history(f, l);
}

static enum report_variant prep_keys(struct fill *f, struct lane *l)
{
	report_params_tenant(&l->p, f->r->tenant);
	report_params_int(&l->p, RP_ROWS, LIST_ROWS);
	return RV_TABLE;
}

/* Blocks are global, and may outlive any period: all of history. */
static enum report_variant prep_blocked(struct fill *f, struct lane *l)
{
	if (f->cfg->all_blocks)
		return SKIP;
	enum report_variant v = prep_all_history(f, l);
	report_params_int(&l->p, RP_ROWS, REPORT_LOOKUP_MAX);
	return v;
}

/* The lookback ends now, whatever the period: blocks are a thing of now. */
static enum report_variant prep_recent(struct fill *f, struct lane *l)
{
	int64_t now = f->r->generated_s * 1000000;
	int64_t since = now - (int64_t)f->cfg->blocks_lookback_s * 1000000;

	if (f->cfg->all_blocks || f->cfg->blocks_lookback_s <= 0)
		return SKIP;
	report_params_tenant(&l->p, f->r->tenant);
	report_params_period(&l->p, since, now, since, since);
	report_params_int(&l->p, RP_ROWS, REPORT_LOOKUP_MAX + 1);    /* one more: was it cut? */
	return RV_TABLE;
}

/* --------------------------------------------------------------- take */

static int take_hours(struct fill *f, const struct pg_result *res, struct report_period *per,
                      bool current)
{
	int n = report_db_rows(res);
	struct report_hour *h = calloc((size_t)n + 1, sizeof *h);

	if (!h)
		return -1;
	for (int i = 0; i < n; i++) {
		h[i].hour_s = report_db_num(res, i, 0) / 1000000;
		h[i].events = report_db_num(res, i, 1);
		h[i].failures = report_db_num(res, i, 2);
		h[i].unauthorized = report_db_num(res, i, 3);
		h[i].cross_tenant = report_db_num(res, i, 4);
		h[i].blocks = report_db_num(res, i, 5);
		h[i].actions = report_db_num(res, i, 6);
	}
	int rc = report_take_hours(f->r, per, h, (size_t)n, current);
	free(h);
	return rc;
}

static int take_hours_cur(struct fill *f, const struct pg_result *res)
{
	return take_hours(f, res, &f->r->cur, true);
}

static int take_hours_prev(struct fill *f, const struct pg_result *res)
{
	return take_hours(f, res, &f->r->prev, false);
}

static int take_distinct_cur(struct fill *f, const struct pg_result *res)
{
	f->r->cur.v[RM_DISTINCT_IPS] = report_db_num(res, 0, 0);
	return 0;
}

static int take_distinct_prev(struct fill *f, const struct pg_result *res)
{
	f->r->prev.v[RM_DISTINCT_IPS] = report_db_num(res, 0, 0);
	return 0;
}

/* A JSON array of names (json_agg's), the first few kept. */
static void take_names(struct report_ip *ip, const char *text)
{
	json_t *a = text ? json_loads(text, 0, NULL) : NULL;
	size_t n = json_is_array(a) ? json_array_size(a) : 0;

	if (n > TENANT_NAMES)
		n = TENANT_NAMES;
	ip->tenant_names = n ? calloc(n, sizeof *ip->tenant_names) : NULL;
	for (size_t i = 0; ip->tenant_names && i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && (ip->tenant_names[ip->n_tenant_names] = strdup(s)))
			ip->n_tenant_names++;
	}
	json_decref(a);
}

static int take_top(struct fill *f, const struct pg_result *res)
{
	struct report *r = f->r;
	int n = report_db_rows(res);

	if (!(r->top = calloc((size_t)n + 1, sizeof *r->top)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct report_ip *ip = &r->top[i];
		snprintf(ip->ip, sizeof ip->ip, "%s", report_db_str_peek(res, i, 0));
		ip->failures = report_db_num(res, i, 1);
		ip->peak_hour_s = report_db_num(res, i, 2) / 1000000;
		ip->peak_failures = report_db_num(res, i, 3);
		ip->tenants = (long)report_db_num(res, i, 4);
		const char *names = report_db_str_peek(res, i, 5);   /* "" when NULL */
		take_names(ip, *names ? names : NULL);
		ip->blocked_now = -1;
	}
	r->n_top = (size_t)n;
	return 0;
}

static int take_hot(struct fill *f, const struct pg_result *res)
{
	struct report *r = f->r;
	int n = report_db_rows(res);

	if (!(r->hot = calloc((size_t)n + 1, sizeof *r->hot)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct report_hot *h = &r->hot[i];
		snprintf(h->ip, sizeof h->ip, "%s", report_db_str_peek(res, i, 0));
		h->hours = (long)report_db_num(res, i, 1);
		h->peak_events = report_db_num(res, i, 2);
		h->peak_hour_s = report_db_num(res, i, 3) / 1000000;
		h->events = report_db_num(res, i, 4);
		h->blocked_now = -1;
		r->hot_total = (size_t)report_db_num(res, i, 5);
	}
	r->n_hot = (size_t)n;
	return 0;
}

static int take_access(struct fill *f, const struct pg_result *res)
{
	struct report *r = f->r;
	int n = report_db_rows(res);

	if (!(r->access = calloc((size_t)n + 1, sizeof *r->access)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct report_access *a = &r->access[i];
		a->tenant = report_db_str(res, i, 0);
		a->user = report_db_str(res, i, 1);
		a->unauthorized = report_db_num(res, i, 2);
		a->cross_tenant = report_db_num(res, i, 3);
		r->access_total = (size_t)report_db_num(res, i, 4);
	}
	r->n_access = (size_t)n;
	return 0;
}

static int take_actions(struct fill *f, const struct pg_result *res)
{
	struct report *r = f->r;
	int n = report_db_rows(res);

	r->actions_cut = n > LIST_ROWS;
	if (r->actions_cut)
		n = LIST_ROWS;
	if (!(r->actions = calloc((size_t)n + 1, sizeof *r->actions)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct report_action *a = &r->actions[i];
		a->ts_us = report_db_num(res, i, 0);
		a->who = report_db_str(res, i, 1);
		a->action = report_db_str(res, i, 2);
		a->resource_type = report_db_str(res, i, 3);
		a->resource_id = report_db_str(res, i, 4);
		a->tenant = report_db_str(res, i, 5);
		a->ip = report_db_str(res, i, 6);
		a->reason = report_db_str(res, i, 7);
	}
	r->n_actions = (size_t)n;
	return 0;
}

static int take_rotations(struct fill *f, const struct pg_result *res)
{
	struct report *r = f->r;

	for (int i = 0; i < report_db_rows(res); i++)
		for (size_t s = 0; s < r->n_secrets; s++)
			if (strcmp(r->secrets[s].name, report_db_str_peek(res, i, 0)) == 0)
				r->secrets[s].last_rotated_s = report_db_num(res, i, 1) / 1000000;
	return 0;
}

static int take_keys(struct fill *f, const struct pg_result *res)
{
	struct report *r = f->r;
	int n = report_db_rows(res);

	if (!(r->keys = calloc((size_t)n + 1, sizeof *r->keys)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct report_key *k = &r->keys[i];
		k->tenant = report_db_str(res, i, 0);
		k->name = report_db_str(res, i, 1);
		k->prefix = report_db_str(res, i, 2);
		k->created_s = report_db_num(res, i, 3) / 1000000;
		k->last_used_s = report_db_num(res, i, 4) / 1000000;
		k->expires_s = report_db_num(res, i, 5) / 1000000;
		r->keys_total = (size_t)report_db_num(res, i, 6);
		k->issue = k->expires_s && k->expires_s <= r->generated_s ? RK_EXPIRED
		         : !k->last_used_s ? RK_NEVER_USED : RK_UNUSED;
	}
	r->n_keys = (size_t)n;
	return 0;
}

/* The first column of at most max rows; *cut when there were more.  The
 * strings kept are counted as they come, so that a failure frees them. */
static int take_addresses(const struct pg_result *res, int max, char ***out, size_t *n, bool *cut)
{
	int rows = report_db_rows(res);

	*cut = rows > max;
	if (*cut)
		rows = max;
	if (!(*out = calloc((size_t)rows + 1, sizeof **out)))
		return -1;
	for (int i = 0; i < rows; i++) {
		if (!((*out)[i] = report_db_str(res, i, 0)))
			return -1;
		(*n)++;
	}
	return 0;
}

static int take_blocked(struct fill *f, const struct pg_result *res)
{
	bool cut;     /* the query's LIMIT is the most kept */

	return take_addresses(res, REPORT_LOOKUP_MAX, &f->r->blocked_ips, &f->r->n_blocked_ips, &cut);
}

static int take_recent(struct fill *f, const struct pg_result *res)
{
	return take_addresses(res, REPORT_LOOKUP_MAX, &f->r->recent_ips, &f->r->n_recent_ips,
	                      &f->r->recent_cut);
}

/* Every failing address of one period, for the countries and networks. */
static int take_fail_ips(struct fill *f, const struct pg_result *res, bool prev)
{
	struct report *r = f->r;
	int rows = report_db_rows(res);

	if (rows > REPORT_ORIGIN_IPS) {
		rows = REPORT_ORIGIN_IPS;
		r->fail_ips_cut = true;
	}
	struct report_fail_ip *v = realloc(r->fail_ips, (r->n_fail_ips + (size_t)rows + 1) * sizeof *v);
	if (!v)
		return -1;
	r->fail_ips = v;
	for (int i = 0; i < rows; i++) {
		struct report_fail_ip *x = &v[r->n_fail_ips++];
		snprintf(x->ip, sizeof x->ip, "%s", report_db_str_peek(res, i, 0));
		x->failures = report_db_num(res, i, 1);
		x->prev = prev;
	}
	return 0;
}

static int take_fail_ips_cur(struct fill *f, const struct pg_result *res)
{
	return take_fail_ips(f, res, false);
}

static int take_fail_ips_prev(struct fill *f, const struct pg_result *res)
{
	return take_fail_ips(f, res, true);
}

/* only with a GeoIP database to say where they sit */
static enum report_variant prep_fail_cur(struct fill *f, struct lane *l)
{
	return f->r->geo_db ? prep_cur(f, l) : SKIP;
}

static enum report_variant prep_fail_prev(struct fill *f, struct lane *l)
{
	return f->r->geo_db ? prep_prev(f, l) : SKIP;
}

/* ------------------------------------------------------------ sections */

static const struct section
	s_hours = { "hours", RQ_HOURS, SP_CUR, prep_cur, take_hours_cur },
	s_hours_prev = { "the previous period", RQ_HOURS, SP_PREV, prep_prev, take_hours_prev },
	s_distinct = { "distinct addresses", RQ_DISTINCT, SP_CUR, prep_cur, take_distinct_cur },
	s_distinct_prev = { "the previous period's addresses", RQ_DISTINCT, SP_PREV, prep_prev,
	                    take_distinct_prev },
	s_top = { "top addresses", RQ_TOP, SP_NONE, prep_cur, take_top },
	s_hot = { "busy addresses", RQ_HOT, SP_NONE, prep_hot, take_hot },
	s_access = { "unauthorized access", RQ_ACCESS, SP_NONE, prep_cur, take_access },
	s_actions = { "operator actions", RQ_ACTIONS, SP_NONE, prep_actions, take_actions },
	s_rotations = { "secret rotations", RQ_ROTATIONS, SP_NONE, prep_rotations, take_rotations },
	s_keys = { "API keys", RQ_KEYS, SP_NONE, prep_keys, take_keys },
	s_recent = { "addresses failing lately", RQ_RECENT, SP_NONE, prep_recent, take_recent },
	s_blocked = { "addresses ever blocked", RQ_BLOCKED, SP_NONE, prep_blocked, take_blocked },
	s_fail_ips = { "where the failing addresses sit", RQ_FAIL_IPS, SP_NONE, prep_fail_cur, take_fail_ips_cur },
	s_fail_ips_prev = { "where the previous period's sat", RQ_FAIL_IPS, SP_NONE, prep_fail_prev,
	                    take_fail_ips_prev };

/* The two lanes take about as long each (measured on ten million rows);
 * with one session the first runs both lists. */
static const struct section *const lane_first[] = {
	&s_hours, &s_distinct, &s_top, &s_hot, &s_fail_ips, NULL,
};
static const struct section *const lane_second[] = {
	&s_hours_prev, &s_distinct_prev, &s_access, &s_actions, &s_rotations, &s_keys, &s_recent, &s_blocked,
	&s_fail_ips_prev, NULL,
};

/* ---------------------------------------------------------------- run */

static void section_failed(struct fill *f, const struct section *s, const char *why)
{
	struct report *r = f->r;

	r->pg_ok = false;
	if (!r->pg_error[0])
		snprintf(r->pg_error, sizeof r->pg_error, "%s", why);
	report_note(r, "%s: not read (%s)", s->step, why);
	if (s->part == SP_CUR)
		r->cur.known = false;
	else if (s->part == SP_PREV)
		r->prev.known = false;
}

/* An answer (or NULL: the error is in the lane's db) for the section. */
static void section_done(struct fill *f, struct lane *l, const struct section *s,
                         struct pg_result *res, enum report_variant v)
{
	static const char *const how[RV_N] = { "table", "rollup and copy", "rollup and table" };

	log_msg(LOG_INFO, "report: %s: %lld ms (%s%s)", s->step, (long long)(clock_mono_ms() - l->started_ms),
	        how[v], l == &f->lane[1] ? ", second session" : "");
	if (!res)
		section_failed(f, s, l->db->error);
	else if (s->take(f, res) < 0)
		f->oom = true;
	report_db_clear(res);
}

/* The first lane: one section after the other, waiting (and so serving the
 * second lane meanwhile). */
static void run_section(struct fill *f, struct lane *l, const struct section *s)
{
	enum report_variant v = s->prepare(f, l);

	if (v == SKIP)
		return;
	l->db->step = s->step;
	l->started_ms = clock_mono_ms();
	if (!report_db_ok(l->db)) {
		section_failed(f, s, l->db->error[0] ? l->db->error : "no connection");
		return;
	}
	section_done(f, l, s, report_db_query(l->db, f->q->query[s->query][v], l->p.v), v);
}

/* The second lane: send its next section, if any. */
static void lane_send(struct lane *l)
{
	struct fill *f = l->f;

	while (!l->running && l->todo && l->todo[l->next]) {
		const struct section *s = l->todo[l->next++];
		enum report_variant v = s->prepare(f, l);
		if (v == SKIP)
			continue;
		l->db->step = s->step;
		l->started_ms = clock_mono_ms();
		if (report_db_send(l->db, f->q->query[s->query][v], l->p.v) < 0) {
			section_failed(f, s, l->db->error);
			continue;
		}
		l->running = s;
		l->variant = v;
	}
}

/* The second session has input: take an answer when complete, send on. */
static void lane_ready(void *ctx)
{
	struct lane *l = ctx;
	struct pg_result *res;

	if (!l->running || report_db_step(l->db, &res) == 0)
		return;
	const struct section *s = l->running;
	l->running = NULL;
	section_done(l->f, l, s, res, l->variant);
	lane_send(l);
}

static bool lane_busy(const struct lane *l)
{
	return l->running != NULL;
}

/* ------------------------------------------------------------- rollup */

/* One value of a query without parameters, into buf ("" on failure). */
static void query_value(struct report_db *db, const char *sql, char *buf, size_t n)
{
	struct pg_result *r = report_db_query_n(db, sql, 0, NULL);

	snprintf(buf, n, "%s", r && report_db_rows(r) == 1 ? report_db_str_peek(r, 0, 0) : "");
	report_db_clear(r);
}

/* Wait, at most the statement timeout, until the standby has replayed up
 * to lsn. */
static bool replayed(struct report_db *db, const char *lsn)
{
	const char *v[] = { lsn };
	int64_t until = clock_mono_ms() + db->timeout_ms;

	for (;;) {
		struct pg_result *r = report_db_query_n(db, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", 1, v);
		bool done = r && report_db_rows(r) == 1 && strcmp(report_db_str_peek(r, 0, 0), "t") == 0;
		report_db_clear(r);
		if (done || !r || clock_mono_ms() >= until)
			return done;
		poll(NULL, 0, 50);
	}
}

/* The report reads a standby, which cannot write: the rollup is brought up
 * to date on the primary, then read here once the standby has replayed it. */
static int update_on_primary(struct fill *f, struct report_db *db, rollup_progress_fn progress, void *ctx)
{
	struct report_db w = { .wait = db->wait, .wait_ctx = db->wait_ctx };
	struct rollup_state st;
	char err[256], lsn[64] = "";

	if (report_db_open(&w, f->cfg, PG_WRITE, db->timeout_ms, err, sizeof err) < 0) {
		snprintf(db->error, sizeof db->error, "it reads a standby, and the primary: %.200s", err);
		return -1;
	}
	int rc = rollup_state_read(&w, f->q, &st);
	if (rc == 0 && st.matches)
		rc = rollup_update(&w, f->q, &f->lane[0].p, f->cfg, &st, false, progress, ctx);
	if (rc == 0)
		query_value(&w, "SELECT pg_current_wal_lsn()", lsn, sizeof lsn);
	if (rc < 0)
		snprintf(db->error, sizeof db->error, "on the primary: %.220s", w.error);
	report_db_close(&w);
	if (rc < 0)
		return -1;
	if (!lsn[0] || !replayed(db, lsn))
		log_msg(LOG_INFO, "report: the standby had not replayed the rollup in time");
	return rollup_state_read(db, f->q, &f->st);
}

/* Use the rollup if it is there and built for this configuration, after
 * bringing it up to date; say in the report how the figures were read. */
static void prepare_rollup(struct fill *f, rollup_progress_fn progress, void *ctx)
{
	struct report *r = f->r;
	struct report_db *db = f->lane[0].db;
	char iso[32];

	db->step = "the rollup";
	if (rollup_state_read(db, f->q, &f->st) < 0) {
		report_note(r, "the rollup could not be read (%s): every figure is read from the table",
		            db->error);
		return;
	}
	if (!f->st.exists) {
		report_note(r, "no rollup: every figure is read from the table, which is slower on large "
		            "tables (sectop setup --rollup creates one)");
		return;
	}
	db->step = "rolling up";
	int64_t t0 = clock_mono_ms();
	/* --read-only and --dry-run write nothing, the rollup included: what it
	 * does not hold yet is read from the table */
	bool may_write = !f->cfg->read_only && !f->cfg->dry_run;
	char standby[8] = "";
	if (may_write)
		query_value(db, "SELECT pg_is_in_recovery()", standby, sizeof standby);
	if (f->st.matches && !may_write) {
		snapshot_iso_time(iso, sizeof iso, f->st.until_us / 1000000);
		report_note(r, "%s: the rollup is not brought up to date; what came after %s is read from the table",
		            f->cfg->read_only ? "--read-only" : "--dry-run", iso);
	} else if (f->st.matches && (strcmp(standby, "t") == 0 ? update_on_primary(f, db, progress, ctx)
	                             : rollup_update(db, f->q, &f->lane[0].p, f->cfg, &f->st, false, progress, ctx)) < 0) {
		snapshot_iso_time(iso, sizeof iso, f->st.until_us / 1000000);
		report_note(r, "the rollup was not brought up to date (%s): what came after %s is read "
		            "from the table", db->error, iso);
	}
	log_msg(LOG_INFO, "report: rollup check and update: %lld ms", (long long)(clock_mono_ms() - t0));
	if (!f->st.matches) {
		report_note(r, "the rollup was built for other names or another failure definition and is "
		            "not used (sectop setup --rollup rebuilds it)");
		return;
	}
	f->usable = true;
	f->lane[0].rolled = f->lane[1].rolled = RV_ROLLUP_TABLE;
	r->rollup_used = true;
	r->rolled_until_s = f->st.until_us / 1000000;
}

static bool copy_period(struct fill *f, struct lane *l, const struct report_period *per)
{
	if (set_period(f, l, per, true) == RV_TABLE)
		return true;         /* this period reads the table only */
	struct pg_result *res = report_db_query(l->db, f->q->rollup[RS_LIVE_FILL], l->p.v);
	report_db_clear(res);
	return res != NULL;
}

/* The edges of the periods this session reads are read by most of its
 * sections: copied once into a temporary table, each section scans a few
 * thousand rows instead of fetching them again from the audit table.
 * Without the copy (no TEMP privilege, a read-only server) the sections
 * read the table.  With a second session, that one reads the table for
 * its sections, and the copy holds the current period only. */
static void copy_live(struct fill *f, struct lane *l, bool both)
{
	int64_t t0 = clock_mono_ms();

	l->db->step = "copying the periods' edges";
	if (report_db_command(l->db, f->q->rollup[RS_LIVE_CREATE]) < 0 ||
	    !copy_period(f, l, &f->r->cur) || (both && !copy_period(f, l, &f->r->prev)) ||
	    report_db_command(l->db, f->q->rollup[RS_LIVE_ANALYZE]) < 0) {
		log_msg(LOG_INFO, "report: no copy of the edges (%s): read from the table", l->db->error);
		return;
	}
	l->rolled = RV_ROLLUP_COPY;
	log_msg(LOG_INFO, "report: copy of the edges: %lld ms", (long long)(clock_mono_ms() - t0));
}

/* --------------------------------------------------------------- fill */

static int declare_secrets(struct report *r, const struct config *cfg)
{
	if (!(r->secrets = calloc(cfg->n_secrets + 1, sizeof *r->secrets)))
		return -1;
	for (size_t i = 0; i < cfg->n_secrets; i++) {
		r->secrets[i].name = cfg->secrets[i].name;
		r->secrets[i].kind = cfg->secrets[i].kind;
		r->secrets[i].max_age_s = cfg->secrets[i].max_age_s;
	}
	r->n_secrets = cfg->n_secrets;
	return 0;
}

static void lanes_free(struct fill *f)
{
	for (int i = 0; i < 2; i++)
		report_params_free(&f->lane[i].p);
}

static int lanes_init(struct fill *f, struct report_db *first, struct report_db *second)
{
	for (int i = 0; i < 2; i++) {
		struct lane *l = &f->lane[i];
		l->f = f;
		l->db = i ? second : first;
		l->rolled = RV_TABLE;
		if (report_params_init(&l->p, f->cfg, f->q->definition) < 0) {
			lanes_free(f);
			return -1;
		}
	}
	f->lane[1].todo = second ? lane_second : NULL;
	if (second) {
		first->peer = second;
		first->peer_ready = lane_ready;
		first->peer_ctx = &f->lane[1];
	}
	return 0;
}

/* Once the first lane is through, the second's remaining sections. */
static void finish_second(struct fill *f)
{
	struct lane *l = &f->lane[1];

	while (lane_busy(l)) {
		f->lane[0].db->step = l->db->step;
		report_db_wait(l->db);
		lane_ready(l);
	}
}

int report_pg_fill(struct report *r, struct report_db *db, struct report_db *second,
                   const struct report_sql *q, const struct config *cfg, int64_t since_us,
                   int64_t until_us, rollup_progress_fn progress, void *ctx)
{
	/* on the heap: the first session points at it while the second runs */
	struct fill *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	*f = (struct fill){ .r = r, .q = q, .cfg = cfg };
	r->cur.since_us = since_us;
	r->cur.until_us = until_us;
	r->prev.since_us = since_us - (until_us - since_us);
	r->prev.until_us = since_us;
	r->cur.known = r->prev.known = true;
	r->pg_ok = true;
	if (declare_secrets(r, cfg) < 0 || lanes_init(f, db, second) < 0) {
		free(f);
		return -1;
	}
	prepare_rollup(f, progress, ctx);
	lane_send(&f->lane[1]);
	if (f->usable)
		copy_live(f, &f->lane[0], !second);
	for (size_t i = 0; lane_first[i]; i++)
		run_section(f, &f->lane[0], lane_first[i]);
	if (!second)
		for (size_t i = 0; lane_second[i]; i++)
			run_section(f, &f->lane[0], lane_second[i]);
	finish_second(f);
	db->peer = NULL;
	db->peer_ready = NULL;
	db->peer_ctx = NULL;
	if (!report_db_ok(db) && r->pg_ok) {
		r->pg_ok = false;
		snprintf(r->pg_error, sizeof r->pg_error, "%s", db->error);
	}
	int rc = f->oom ? -1 : 0;
	lanes_free(f);
	free(f);
	return rc;
}
