/* cmd_snapshot.c: `sectop snapshot`: one complete refresh, printed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "loop.h"
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
	int64_t deadline = clock_mono_ms() + (int64_t)app->cfg->snapshot_timeout_s * 1000;
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
