/* cmd_report.c: `sectop report`: the review of a period, written once.
 *
 * PostgreSQL gives the figures of the period (report_pg.c); meanwhile the
 * one loop drives the Redis and health sources, exactly as the console's,
 * for what is true now: the blocks and the endpoints' findings.  Every
 * wait of the database session turns that loop, and draws a progress line
 * on a terminal once the report has taken a second. */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "health.h"
#include "log.h"
#include "loop.h"
#include "redis.h"
#include "report.h"
#include "report_db.h"
#include "report_pg.h"
#include "report_sql.h"
#include "report_table.h"
#include "strutil.h"

enum { EXIT_OK = 0, EXIT_WRITE = 1, EXIT_USAGE = 2, EXIT_SOURCE = 3, EXIT_THRESHOLD = 4 };

/* ------------------------------------------------------------ progress */

struct progress {
	bool tty;
	bool shown;
	int64_t start_ms, drawn_ms;
	const char *what;            /* the command's name */
	const char *const *step;     /* the database session's current step */
	long done, total;            /* hours rolled up */
};

static void progress_init(struct progress *p, const char *what, const char *const *step)
{
	memset(p, 0, sizeof *p);
	p->tty = isatty(STDERR_FILENO);
	p->start_ms = clock_mono_ms();
	p->what = what;
	p->step = step;
}

/* A line of our own words only: nothing from outside reaches it. */
static void progress_draw(struct progress *p)
{
	int64_t now = clock_mono_ms();

	if (!p->tty || now - p->start_ms < 1000 || now - p->drawn_ms < 100)
		return;
	p->drawn_ms = now;
	p->shown = true;
	fprintf(stderr, "\r\033[2Ksectop %s: %s", p->what, *p->step ? *p->step : "waiting");
	if (p->total > 0)
		fprintf(stderr, " %ld/%ld hours", p->done, p->total);
	fprintf(stderr, " (%.0f s)", (double)(now - p->start_ms) / 1000.0);
	fflush(stderr);
}

static void progress_clear(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[2K", stderr);
	p->shown = false;
	fflush(stderr);
}

static void progress_hours(void *ctx, long done, long total)
{
	struct progress *p = ctx;

	p->done = done;
	p->total = done < total ? total : 0;
	progress_draw(p);
}

/* -------------------------------------------------------------- sources */

/* SCAN's COUNT for the report's walk, unless scan-count asks for more. */
#define REPORT_SCAN_COUNT 10000

/* The sources of what is true now: Redis and the health endpoints, on the
 * shared loop (no PostgreSQL source: the report has its own session). */
struct now_sources {
	struct model model;
	struct loop *loop;
	struct progress *progress;
	bool walk;                   /* every block key (all-blocks), else look-ups */
	bool lookups_set;            /* the addresses to look up are in model.top_ips */
};

static int sources_open(struct now_sources *s, struct config *cfg, char *err, size_t errsz)
{
	model_init(&s->model, cfg->window_s, NULL, cfg->refresh_ms);
	s->loop = loop_new();
	if (!s->loop) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	struct redis *r = redis_new(cfg, &s->model, err, errsz);
	if (!r)
		return -1;
	/* The report reads no counter.  By default it reads the block keys of
	 * the addresses the audit log names (report_lookup_list()): a pipeline
	 * whose cost follows those addresses.  A walk visits every key of the
	 * database, ~0.5 s of Redis for a million unrelated keys
	 * (BENCHMARKS.md); with all-blocks it walks the block prefix alone, in
	 * steps of REPORT_SCAN_COUNT keys. */
	s->walk = cfg->all_blocks;
	if (s->walk)
		redis_walk_blocks_only(r, REPORT_SCAN_COUNT);
	else
		redis_lookup_blocks_only(r);
	loop_add(s->loop, redis_source(r));
	struct health *h = health_new(cfg, &s->model, err, errsz);
	if (!h)
		return -1;
	loop_add(s->loop, health_source(h));
	return 0;
}

static void sources_close(struct now_sources *s)
{
	if (s->loop)
		loop_free(s->loop);
	model_free(&s->model);
}

/* Redis has answered what the report asks of it. */
static bool blocks_read(const struct now_sources *s)
{
	const struct model *m = &s->model;

	if (s->walk)
		return m->walk_complete;
	return s->lookups_set && m->ip_redis_gen == m->top_ips_gen;
}

static bool sources_done(const struct now_sources *s)
{
	const struct model *m = &s->model;

	for (size_t i = 0; i < m->n_health; i++)
		if (m->health[i].checks == 0)
			return false;
	if (m->redis.refreshes == 0)
		return m->redis.failures > 0;
	return blocks_read(s);
}

/* The database session waits here: the loop turns, the other sources
 * progress, and so does the line on the terminal. */
static void wait_turn(void *ctx, struct pollfd *fds, int n)
{
	struct now_sources *s = ctx;

	loop_turn(s->loop, 100, fds, n);
	/* one answer of each is what the report shows: no walk again of a
	 * large keyspace every refresh while a long query runs */
	if (!s->model.paused && sources_done(s))
		s->model.paused = true;
	progress_draw(s->progress);
}

static void sources_finish(struct now_sources *s, int timeout_s)
{
	int64_t deadline = clock_mono_ms() + (int64_t)timeout_s * 1000;

	while (!sources_done(s)) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0 || loop_turn(s->loop, left < 100 ? left : 100, NULL, 0) < 0)
			break;
		progress_draw(s->progress);
	}
}

/* As `sectop snapshot` counts it: an endpoint that gave no HTTP answer at
 * all is a source that did not answer. */
static bool endpoints_answered(const struct model *m)
{
	for (size_t i = 0; i < m->n_health; i++)
		if (m->health[i].http_status == 0)
			return false;
	return true;
}

/* The addresses the report names, to Redis: their block keys are read
 * next.  Without it (out of memory) Redis's part stays unknown. */
static void lookups_set(struct now_sources *s, const struct report *r)
{
	struct ip_stat *v;
	size_t n;

	if (s->walk || report_lookup_list(r, &v, &n) < 0)
		return;
	model_set_top_ips(&s->model, v, n);
	s->lookups_set = true;
}

/* A key holding a NUL becomes its printable name (the NUL made visible):
 * the report's tables and its look-ups then see every byte of it. */
static void printable_key(struct block_entry *b)
{
	char *name;

	if (!b->key_ip || block_entry_len(b) == strlen(b->key_ip) || !(name = block_entry_name(b)))
		return;
	free(b->key_ip);
	b->key_ip = name;
	b->key_len = 0;
}

/* The looked-up addresses that are blocked, as the walk would list them;
 * the model owns them. */
static void lookups_take(struct model *m)
{
	struct block_entry *v = calloc(m->n_ip_redis + 1, sizeof *v);
	size_t n = 0;

	for (size_t i = 0; v && i < m->n_ip_redis; i++) {
		const struct ip_redis *ip = &m->ip_redis[i];
		if (!ip->blocked)
			continue;
		struct block_entry *b = &v[n++];
		b->key_ip = strdup(ip->ip);
		b->ttl_s = ip->block_ttl_s;
		b->by = ip->block_by ? strdup(ip->block_by) : NULL;
		b->reason = ip->block_reason ? strdup(ip->block_reason) : NULL;
		b->at = ip->block_at;
		b->kind = ip->block_kind;
	}
	model_set_blocked(m, v, n);
}

/* What Redis and the endpoints said, into the report. */
static void take_now(struct report *r, struct now_sources *s, int timeout_s)
{
	struct model *m = &s->model;

	r->redis_ok = m->redis.refreshes > 0 && blocks_read(s);
	if (r->redis_ok && !s->walk) {
		lookups_take(m);
		r->n_looked_up = m->n_ip_redis;
	}
	if (!r->redis_ok) {
		snprintf(r->redis_error, sizeof r->redis_error, "%s", m->redis.error[0] ? m->redis.error
		         : "no complete answer in time");
		report_note(r, "redis: %s: current blocks unknown", r->redis_error);
	}
	for (size_t i = 0; i < m->n_blocked; i++)
		printable_key(&m->blocked[i]);
	r->blocks = m->blocked;
	r->n_blocks = m->n_blocked;
	r->blocks_known = r->redis_ok;
	r->health = m->health;
	r->n_health = m->n_health;
	for (size_t i = 0; i < m->n_health; i++)
		if (m->health[i].checks == 0)
			report_note(r, "health endpoint %s: no answer within %d s", m->health[i].name, timeout_s);
}

/* ------------------------------------------------------------- options */

struct options {
	int64_t since_us, until_us;
	struct report_threshold thresholds[CONF_MAX_LIST];
	size_t n_thresholds;
};

static bool section_known(const char *id)
{
	for (const char *const *s = report_section_ids(); *s; s++)
		if (strcmp(*s, id) == 0)
			return true;
	return false;
}

static int options_parse(const struct app *app, struct options *o, int64_t now_us)
{
	const struct config *cfg = app->cfg;
	char err[256];

	if (app->n_operands > 0) {
		fprintf(stderr, "sectop: report takes no arguments ('%s')\n", app->operands[0]);
		return -1;
	}
	o->since_us = report_parse_time(cfg->since, now_us);
	o->until_us = cfg->until ? report_parse_time(cfg->until, now_us) : now_us;
	if (o->since_us < 0 || o->until_us < 0) {
		fprintf(stderr, "sectop: --%s: '%s' is neither a duration (7d, 36h) nor an ISO 8601 time "
		        "(2026-11-16, 2026-11-16T08:00:00Z)\n", o->since_us < 0 ? "since" : "until",
		        o->since_us < 0 ? cfg->since : cfg->until);
		return -1;
	}
	if (o->since_us >= o->until_us) {
		fprintf(stderr, "sectop: --since must come before --until\n");
		return -1;
	}
	if (cfg->section && (strcmp(cfg->format, "csv") != 0 || !section_known(cfg->section))) {
		fprintf(stderr, "sectop: --section needs --format csv and one of:");
		for (const char *const *s = report_section_ids(); *s; s++)
			fprintf(stderr, " %s", *s);
		fputc('\n', stderr);
		return -1;
	}
	for (size_t i = 0; i < cfg->fail_on.n; i++) {
		if (report_threshold_parse(cfg->fail_on.v[i], &o->thresholds[i], err, sizeof err) < 0) {
			fprintf(stderr, "sectop: %s\n", err);
			return -1;
		}
		o->n_thresholds++;
	}
	return 0;
}

/* ------------------------------------------------------------- output */

static int render(const struct report *r, const struct config *cfg, bool ascii, FILE *f)
{
	const char *fmt = cfg->format;

	if (strcmp(fmt, "json") == 0)
		return report_write_json(r, f);
	if (strcmp(fmt, "csv") == 0)
		return report_write_csv(r, f, cfg->section);
	if (strcmp(fmt, "markdown") == 0)
		return report_write_md(r, f);
	if (strcmp(fmt, "html") == 0)
		return report_write_html(r, f);
	return report_write_text(r, f, ascii);
}

/* --output FILE is written whole or not at all: a temporary file beside
 * it, renamed over it once complete. */
static int write_output(const struct report *r, const struct config *cfg, bool ascii)
{
	if (!cfg->output) {
		int rc = render(r, cfg, ascii, stdout);
		return rc < 0 || fflush(stdout) != 0 ? -1 : 0;
	}
	char *dir_copy = strdup(cfg->output);
	char *tmp = dir_copy ? str_printf("%s/.sectop-report.XXXXXX", dirname(dir_copy)) : NULL;
	free(dir_copy);
	if (!tmp)
		return -1;
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = -1;
	/* mkstemp's mode, 0600, stays: the report is for the security team */
	if (f) {
		rc = render(r, cfg, ascii, f);
		if (fclose(f) != 0)
			rc = -1;
		if (rc == 0 && rename(tmp, cfg->output) < 0)
			rc = -1;
	} else if (fd >= 0) {
		close(fd);
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* The thresholds crossed become notes (in the report) and a line each on
 * stderr (for the job's log). */
static bool thresholds_check(struct report *r, const struct options *o, const struct config *cfg)
{
	const char *const *names = report_threshold_names();
	bool crossed = false;

	for (size_t i = 0; i < o->n_thresholds; i++) {
		long long v;
		if (!report_threshold_crossed(r, &o->thresholds[i], &v))
			continue;
		crossed = true;
		report_note(r, "fail-on %s: %s is %lld", cfg->fail_on.v[i], names[o->thresholds[i].metric], v);
	}
	return crossed;
}

static void thresholds_say(const struct report *r, const struct options *o, const struct config *cfg)
{
	const char *const *names = report_threshold_names();

	for (size_t i = 0; i < o->n_thresholds; i++) {
		long long v;
		if (report_threshold_crossed(r, &o->thresholds[i], &v))
			fprintf(stderr, "sectop: report: %s is %lld (fail-on %s)\n",
			        names[o->thresholds[i].metric], v, cfg->fail_on.v[i]);
	}
}

/* ---------------------------------------------------------------- run */

/* Two sessions when the server lets us open a second (the report then
 * takes about the time of the longer half), else one. */
static void fill_from_db(struct report *r, struct config *cfg, const struct options *o,
                         struct now_sources *src, struct progress *pr, const struct report_sql *q)
{
	struct report_db db = { .wait = wait_turn, .wait_ctx = src };
	struct report_db second = { .wait = wait_turn, .wait_ctx = src };
	int timeout_ms = cfg->report_timeout_s * 1000;
	char err[256];

	pr->step = &db.step;
	db.step = "connecting";
	if (report_db_open(&db, cfg, PG_READ, timeout_ms, err, sizeof err) < 0) {
		snprintf(r->pg_error, sizeof r->pg_error, "%s", err);
		report_note(r, "postgres: %s: no figures", err);
		r->cur.since_us = o->since_us;
		r->cur.until_us = o->until_us;
		r->prev.since_us = o->since_us - (o->until_us - o->since_us);
		r->prev.until_us = o->since_us;
	} else {
		bool two = cfg->report_sessions > 1 &&
		           report_db_open(&second, cfg, PG_READ, timeout_ms, err, sizeof err) == 0;
		if (!two && cfg->report_sessions > 1)
			log_msg(LOG_INFO, "report: one session only (%s)", err);
		if (report_pg_fill(r, &db, two ? &second : NULL, q, cfg, o->since_us, o->until_us,
		                   progress_hours, pr) < 0)
			report_note(r, "out of memory: the report is incomplete");
		report_db_close(&second);
		report_db_close(&db);
	}
	static const char *const waiting = "waiting for redis and the health endpoints";
	pr->step = &waiting;
}

int app_report(struct app *app)
{
	struct config *cfg = app->cfg;
	struct options o = { 0 };
	struct now_sources src = { 0 };
	struct report_sql q;
	struct progress pr;
	struct report r;
	char err[512];
	/* whole seconds: a period reads 2026-11-16T08:00:00Z, not ...:00.123Z */
	int64_t now_us = clock_wall_ms() / 1000 * 1000000;
	static const char *const starting = "starting";

	if (options_parse(app, &o, now_us) < 0)
		return EXIT_USAGE;
	if (report_sql_build(&q, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		return EXIT_USAGE;
	}
	/* no screen to keep responsive: walk the Redis keyspace in one go */
	cfg->scan_budget_ms = 0;
	cfg->scan_rate = 0;
	progress_init(&pr, "report", &starting);
	src.progress = &pr;
	if (sources_open(&src, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		sources_close(&src);
		report_sql_free(&q);
		return EXIT_USAGE;
	}
	report_init(&r, cfg, now_us / 1000000);
	r.geo_db = app->geo != NULL;
	fill_from_db(&r, cfg, &o, &src, &pr, &q);
	if (report_origins(&r, app->geo) < 0)
		report_note(&r, "out of memory: no countries and networks");
	lookups_set(&src, &r);
	sources_finish(&src, cfg->snapshot_timeout_s);
	progress_clear(&pr);
	take_now(&r, &src, cfg->snapshot_timeout_s);
	report_finish(&r, clock_wall_ms() / 1000, cfg->rotation_warn_days);
	bool crossed = thresholds_check(&r, &o, cfg);
	int rc = write_output(&r, cfg, app->ascii);
	if (rc < 0)
		fprintf(stderr, "sectop: writing the report%s%s: %s\n", cfg->output ? " to " : "",
		        cfg->output ? cfg->output : "", strerror(errno));
	else
		thresholds_say(&r, &o, cfg);
	int status = rc < 0 ? EXIT_WRITE : crossed ? EXIT_THRESHOLD
	           : !r.pg_ok || !r.redis_ok || !endpoints_answered(&src.model) ? EXIT_SOURCE : EXIT_OK;
	report_free(&r);
	sources_close(&src);
	report_sql_free(&q);
	return status;
}
