#include "config.h"

#include <jansson.h>
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

#define HOUR_US (3600LL * 1000000)
/* Tenant names kept for each top address (the count is exact). */
#define TENANT_NAMES 5
/* Rows of the operator-action and key listings. */
#define LIST_ROWS 1000

struct fill {
	struct report *r;
	struct report_db *db;
	const struct report_sql *q;
	const struct config *cfg;
	struct report_params p;
	struct rollup_state st;
	bool usable;                 /* the rollup matches and may be read */
};

static int64_t floor_hour(int64_t us)
{
	return us / HOUR_US * HOUR_US - (us % HOUR_US < 0 ? HOUR_US : 0);
}

/* Set the period, and the rollup's part of it: the whole hours inside it
 * that the rollup covers.  Returns which variant of a query to run. */
static int set_period(struct fill *f, int64_t since, int64_t until, bool may_roll)
{
	int64_t ra = floor_hour(since + HOUR_US - 1), rb = floor_hour(until);

	if (ra < f->st.from_us)
		ra = f->st.from_us;
	if (rb > f->st.until_us)
		rb = f->st.until_us;
	if (!f->usable || !may_roll || ra >= rb) {
		report_params_period(&f->p, since, until, since, since);
		return 0;
	}
	report_params_period(&f->p, since, until, ra, rb);
	return 1;
}

/* One section's query; a failure is noted and the other sections go on. */
static struct pg_result *run(struct fill *f, const char *step, enum report_query qi, int variant)
{
	f->db->step = step;
	if (!report_db_ok(f->db))
		return NULL;
	int64_t t0 = clock_mono_ms();
	struct pg_result *res = report_db_query(f->db, f->q->query[qi][variant], f->p.v);
	log_msg(LOG_INFO, "report: %s: %lld ms%s", step, (long long)(clock_mono_ms() - t0),
	        variant ? " (rollup)" : "");
	if (!res) {
		f->r->pg_ok = false;
		if (!f->r->pg_error[0])
			snprintf(f->r->pg_error, sizeof f->r->pg_error, "%s", f->db->error);
		report_note(f->r, "%s: not read (%s)", step, f->db->error);
	}
	return res;
}

static int read_hours(struct fill *f, struct report_period *per, bool current)
{
	int v = set_period(f, per->since_us, per->until_us, true);
	struct pg_result *res = run(f, current ? "hours" : "previous period", RQ_HOURS, v);
	if (!res)
		return 0;
	int n = report_db_rows(res);
	struct report_hour *h = calloc((size_t)n + 1, sizeof *h);
	int rc = h ? 0 : -1;
	for (int i = 0; h && i < n; i++) {
		h[i].hour_s = report_db_num(res, i, 0) / 1000000;
		h[i].events = report_db_num(res, i, 1);
		h[i].failures = report_db_num(res, i, 2);
		h[i].unauthorized = report_db_num(res, i, 3);
		h[i].cross_tenant = report_db_num(res, i, 4);
		h[i].blocks = report_db_num(res, i, 5);
		h[i].actions = report_db_num(res, i, 6);
	}
	report_db_clear(res);
	if (h && report_take_hours(f->r, per, h, (size_t)n, current) < 0)
		rc = -1;
	free(h);
	if (rc == 0)
		per->known = true;
	return rc;
}

static void read_distinct(struct fill *f, struct report_period *per, bool current)
{
	int v = set_period(f, per->since_us, per->until_us, true);
	struct pg_result *res = run(f, current ? "distinct addresses" : "previous distinct addresses",
	                            RQ_DISTINCT, v);
	if (!res) {
		per->known = false;
		return;
	}
	per->v[RM_DISTINCT_IPS] = report_db_num(res, 0, 0);
	report_db_clear(res);
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

static int read_top(struct fill *f)
{
	const struct report *r = f->r;
	struct pg_result *res = run(f, "top addresses", RQ_TOP, set_period(f, r->cur.since_us, r->cur.until_us, true));
	if (!res)
		return 0;
	int n = report_db_rows(res);
	f->r->top = calloc((size_t)n + 1, sizeof *f->r->top);
	if (!f->r->top) {
		report_db_clear(res);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct report_ip *ip = &f->r->top[i];
		snprintf(ip->ip, sizeof ip->ip, "%s", report_db_str_peek(res, i, 0));
		ip->failures = report_db_num(res, i, 1);
		ip->peak_hour_s = report_db_num(res, i, 2) / 1000000;
		ip->peak_failures = report_db_num(res, i, 3);
		ip->tenants = (long)report_db_num(res, i, 4);
		const char *names = report_db_str_peek(res, i, 5);   /* "" when NULL */
		take_names(ip, *names ? names : NULL);
		ip->blocked_now = -1;
	}
	f->r->n_top = (size_t)n;
	report_db_clear(res);
	return 0;
}

static int read_hot(struct fill *f)
{
	struct report *r = f->r;
	/* the rollup keeps hours of REPORT_HOT_MIN requests or more */
	bool may_roll = r->hot_threshold >= REPORT_HOT_MIN;
	int v = set_period(f, r->cur.since_us, r->cur.until_us, may_roll);
	if (!may_roll && f->usable)
		report_note(r, "busy addresses: a threshold under %d is read from the table, not the rollup",
		            REPORT_HOT_MIN);
	struct pg_result *res = run(f, "busy addresses", RQ_HOT, v);
	if (!res)
		return 0;
	int n = report_db_rows(res);
	r->hot = calloc((size_t)n + 1, sizeof *r->hot);
	if (!r->hot) {
		report_db_clear(res);
		return -1;
	}
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
	report_db_clear(res);
	return 0;
}

static int read_access(struct fill *f)
{
	struct report *r = f->r;
	struct pg_result *res = run(f, "unauthorized access", RQ_ACCESS,
	                            set_period(f, r->cur.since_us, r->cur.until_us, true));
	if (!res)
		return 0;
	int n = report_db_rows(res);
	r->access = calloc((size_t)n + 1, sizeof *r->access);
	if (!r->access) {
		report_db_clear(res);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct report_access *a = &r->access[i];
		a->tenant = report_db_str(res, i, 0);
		a->user = report_db_str(res, i, 1);
		a->unauthorized = report_db_num(res, i, 2);
		a->cross_tenant = report_db_num(res, i, 3);
		r->access_total = (size_t)report_db_num(res, i, 4);
	}
	r->n_access = (size_t)n;
	report_db_clear(res);
	return 0;
}

static int read_actions(struct fill *f)
{
	struct report *r = f->r;
	int v = set_period(f, r->cur.since_us, r->cur.until_us, true);
	report_params_int(&f->p, RP_ROWS, LIST_ROWS + 1);     /* one more: was it cut? */
	struct pg_result *res = run(f, "operator actions", RQ_ACTIONS, v);
	if (!res)
		return 0;
	int n = report_db_rows(res);
	r->actions_cut = n > LIST_ROWS;
	if (r->actions_cut)
		n = LIST_ROWS;
	r->actions = calloc((size_t)n + 1, sizeof *r->actions);
	if (!r->actions) {
		report_db_clear(res);
		return -1;
	}
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
	report_db_clear(res);
	return 0;
}

/* Secrets are global: all of history, every tenant. */
static int read_rotations(struct fill *f)
{
	struct report *r = f->r;
	const struct config *cfg = f->cfg;

	r->secrets = calloc(cfg->n_secrets + 1, sizeof *r->secrets);
	if (!r->secrets)
		return -1;
	for (size_t i = 0; i < cfg->n_secrets; i++) {
		r->secrets[i].name = cfg->secrets[i].name;
		r->secrets[i].kind = cfg->secrets[i].kind;
		r->secrets[i].max_age_s = cfg->secrets[i].max_age_s;
	}
	r->n_secrets = cfg->n_secrets;
	if (!cfg->n_secrets)
		return 0;
	int v = 0;
	if (f->usable && f->st.until_us > f->st.from_us) {
		report_params_period(&f->p, INT64_MIN, INT64_MAX, f->st.from_us, f->st.until_us);
		v = 1;
	} else {
		report_params_period(&f->p, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MIN);
	}
	report_params_tenant(&f->p, NULL);
	struct pg_result *res = run(f, "secret rotations", RQ_ROTATIONS, v);
	report_params_tenant(&f->p, r->tenant);
	if (!res)
		return 0;
	for (int i = 0; i < report_db_rows(res); i++)
		for (size_t s = 0; s < r->n_secrets; s++)
			if (strcmp(r->secrets[s].name, report_db_str_peek(res, i, 0)) == 0)
				r->secrets[s].last_rotated_s = report_db_num(res, i, 1) / 1000000;
	report_db_clear(res);
	return 0;
}

static int read_keys(struct fill *f)
{
	struct report *r = f->r;
	report_params_int(&f->p, RP_ROWS, LIST_ROWS);
	struct pg_result *res = run(f, "API keys", RQ_KEYS, 0);
	if (!res)
		return 0;
	int n = report_db_rows(res);
	r->keys = calloc((size_t)n + 1, sizeof *r->keys);
	if (!r->keys) {
		report_db_clear(res);
		return -1;
	}
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
	report_db_clear(res);
	return 0;
}

/* Use the rollup if it is there and built for this configuration, after
 * bringing it up to date; say in the report how the figures were read. */
static void prepare_rollup(struct fill *f, rollup_progress_fn progress, void *ctx)
{
	struct report *r = f->r;
	char iso[32];

	f->db->step = "the rollup";
	if (rollup_state_read(f->db, f->q, &f->st) < 0) {
		report_note(r, "the rollup could not be read (%s): every figure is read from the table",
		            f->db->error);
		return;
	}
	if (!f->st.exists) {
		report_note(r, "no rollup: every figure is read from the table, which is slower on large "
		            "tables (sectop setup --rollup creates one)");
		return;
	}
	f->db->step = "rolling up";
	int64_t t0 = clock_mono_ms();
	if (f->st.matches && rollup_update(f->db, f->q, &f->p, f->cfg, &f->st, false, progress, ctx) < 0) {
		snapshot_iso_time(iso, sizeof iso, f->st.until_us / 1000000);
		report_note(r, "the rollup was not brought up to date (%s): what came after %s is read "
		            "from the table", f->db->error, iso);
	}
	log_msg(LOG_INFO, "report: rollup check and update: %lld ms", (long long)(clock_mono_ms() - t0));
	if (!f->st.matches) {
		report_note(r, "the rollup was built for other names or another failure definition and is "
		            "not used (sectop setup --rollup rebuilds it)");
		return;
	}
	f->usable = true;
	r->rollup_used = true;
	r->rolled_until_s = f->st.until_us / 1000000;
}

int report_pg_fill(struct report *r, struct report_db *db, const struct report_sql *q,
                   const struct config *cfg, int64_t since_us, int64_t until_us,
                   rollup_progress_fn progress, void *ctx)
{
	struct fill f = { .r = r, .db = db, .q = q, .cfg = cfg };
	int rc = 0;

	r->cur.since_us = since_us;
	r->cur.until_us = until_us;
	r->prev.since_us = since_us - (until_us - since_us);
	r->prev.until_us = since_us;
	if (report_params_init(&f.p, cfg, q->definition) < 0)
		return -1;
	r->pg_ok = true;
	prepare_rollup(&f, progress, ctx);
	report_params_tenant(&f.p, r->tenant);
	if (read_hours(&f, &r->cur, true) < 0 || read_hours(&f, &r->prev, false) < 0)
		rc = -1;
	if (rc == 0) {
		read_distinct(&f, &r->cur, true);
		read_distinct(&f, &r->prev, false);
		if (read_top(&f) < 0 || read_hot(&f) < 0 || read_access(&f) < 0 || read_actions(&f) < 0 ||
		    read_rotations(&f) < 0 || read_keys(&f) < 0)
			rc = -1;
	}
	if (!report_db_ok(db) && r->pg_ok) {
		r->pg_ok = false;
		snprintf(r->pg_error, sizeof r->pg_error, "%s", db->error);
	}
	report_params_free(&f.p);
	return rc;
}
