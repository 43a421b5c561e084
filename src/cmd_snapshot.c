/* cmd_snapshot.c: `sectop snapshot`: one complete refresh, printed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "loop.h"
#include "model.h"
#include "redis.h"
#include "snapshot_out.h"

/* 0 when every source answered; 3 when some did not (down, or a health
 * endpoint that gave no HTTP answer at all). */
static int snapshot_status(const struct model *m)
{
	if (m->pg.state != SOURCE_OK || m->pg.refreshes == 0)
		return 3;
	if (m->redis.state != SOURCE_OK || m->redis.refreshes == 0)
		return 3;
	for (size_t i = 0; i < m->n_health; i++)
		if (m->health[i].http_status == 0)
			return 3;
	return 0;
}

/* A source still silent at the deadline is down, and says why. */
static void mark_silent(struct app *app)
{
	struct model *m = &app->model;
	char why[96];

	snprintf(why, sizeof why, "no complete answer within %d s", app->cfg->snapshot_timeout_s);
	if (m->pg.refreshes == 0 && m->pg.failures == 0)
		source_status_fail(&m->pg, why);
	if (m->redis.refreshes == 0 && m->redis.failures == 0)
		source_status_fail(&m->redis, why);
	for (size_t i = 0; i < m->n_health; i++) {
		struct health_result *h = &m->health[i];
		if (h->checks == 0 && !h->reason) {
			h->state = HEALTH_DOWN;
			h->reason = strdup(why);
		}
	}
}

/* Everything but the walk has answered: with --all-blocks the walk comes
 * after the head of the output, which needs the rest. */
static bool answered_but_walk(const struct model *m)
{
	for (size_t i = 0; i < m->n_health; i++)
		if (m->health[i].checks == 0)
			return false;
	if (m->pg.refreshes == 0 && m->pg.failures == 0)
		return false;
	if (m->redis.refreshes == 0)
		return m->redis.failures > 0;
	return m->pg.refreshes == 0 || m->ip_redis_gen == m->top_ips_gen;
}

static bool walk_over(const struct model *m)
{
	return m->walk_complete || (m->redis.failures > 0 && m->redis.refreshes == 0);
}

/* Turn the loop until done(m) or the deadline; -1 on a poll failure. */
static int turn_until(struct app *app, bool (*done)(const struct model *), int64_t deadline)
{
	while (!done(&app->model)) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		if (loop_turn(app->loop, left < 100 ? left : 100, NULL, 0) < 0) {
			perror("sectop: poll");
			return -1;
		}
	}
	return 0;
}

struct stream {
	FILE *f;
	bool json, ascii;
	unsigned long n;
	int rc;
};

static void stream_block(void *ctx, const struct block_entry *b)
{
	struct stream *s = ctx;

	if ((s->json ? snapshot_json_stream_block(b, s->f, s->n) : snapshot_text_stream_block(b, s->f, s->ascii)) < 0)
		s->rc = -1;
	s->n++;
}

/* --all-blocks: every block key, written as the walk finds it, so that
 * 200,000 of them cost the memory of one SCAN step, not of the list. */
static int snapshot_stream(struct app *app, int64_t deadline)
{
	struct stream s = { .f = stdout, .json = strcmp(app->cfg->format, "json") == 0, .ascii = app->ascii };

	if (turn_until(app, answered_but_walk, deadline) < 0)
		return 2;
	mark_silent(app);
	int64_t now = clock_wall_ms();
	if ((s.json ? snapshot_json_stream_head(&app->model, app->cfg, stdout, now)
	            : snapshot_text_stream_head(&app->model, app->cfg, stdout, now, app->ascii)) < 0)
		s.rc = -1;
	redis_stream_blocks(app->redis, stream_block, &s);
	redis_walk_hold(app->redis, false);
	if (turn_until(app, walk_over, deadline) < 0)
		return 2;
	if ((s.json ? snapshot_json_stream_tail(&app->model, stdout, s.n)
	            : snapshot_text_stream_tail(&app->model, stdout, s.n)) < 0 || s.rc < 0 || fflush(stdout) != 0) {
		perror("sectop: writing the snapshot");
		return 1;
	}
	int rc = snapshot_status(&app->model);
	return rc ? rc : (app->model.walk_complete ? 0 : 3);
}

int app_snapshot(struct app *app)
{
	char err[512];

	if (app->n_operands > 0) {
		fprintf(stderr, "sectop: snapshot takes no arguments ('%s')\n", app->operands[0]);
		return 2;
	}
	/* markdown, csv and html are the report's */
	if (strcmp(app->cfg->format, "text") != 0 && strcmp(app->cfg->format, "json") != 0) {
		fprintf(stderr, "sectop: snapshot: --format is text or json\n");
		return 2;
	}
	/* no screen to keep responsive: walk the Redis keyspace in one go */
	app->cfg->scan_budget_ms = 0;
	app->cfg->scan_rate = 0;
	if (app_open(app, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		return 2;
	}
	app->model.ranges_want = RANGES_PREFIX;     /* the snapshot has them */
	int64_t deadline = clock_mono_ms() + (int64_t)app->cfg->snapshot_timeout_s * 1000;
	if (app->cfg->all_blocks) {
		redis_walk_hold(app->redis, true);
		return snapshot_stream(app, deadline);
	}
	while (!app_first_refresh_done(app)) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		if (loop_turn(app->loop, left < 100 ? left : 100, NULL, 0) < 0) {
			perror("sectop: poll");
			return 2;
		}
	}
	mark_silent(app);
	const struct model *m = &app->model;
	int64_t now = clock_wall_ms();
	int wrc = strcmp(app->cfg->format, "json") == 0
	    ? snapshot_write_json(m, app->cfg, stdout, now)
	    : snapshot_write_text(m, app->cfg, stdout, now, app->ascii);
	if (wrc < 0 || fflush(stdout) != 0) {
		perror("sectop: writing the snapshot");
		return 1;
	}
	return snapshot_status(m);
}
