#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "health.h"
#include "loop.h"
#include "notify.h"
#include "pg.h"
#include "redis.h"
#include "when.h"

int app_open(struct app *app, char *err, size_t errsz)
{
	const struct config *cfg = app->cfg;
	time_t end = 0;
	char why[160];

	/* --at: a look back, the window ending then (when.h) */
	if (cfg->at && when_look_back(cfg->at, time(NULL), &end, why, sizeof why) < 0) {
		snprintf(err, errsz, "--at: %s", why);
		return -1;
	}
	model_init(&app->model, cfg->window_s, cfg->tenant, cfg->refresh_ms);
	app->model.at_s = end;
	app->model.geo = app->geo;
	app->model.allow = &app->allow;
	app->loop = loop_new();
	if (!app->loop) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	app->open = true;
	app->pg = pg_new(cfg, &app->model, err, errsz);
	if (!app->pg)
		return -1;
	loop_add(app->loop, pg_source(app->pg));
	app->redis = redis_new(cfg, &app->model, err, errsz);
	if (!app->redis)
		return -1;
	loop_add(app->loop, redis_source(app->redis));
	app->health = health_new(cfg, &app->model, err, errsz);
	if (!app->health)
		return -1;
	loop_add(app->loop, health_source(app->health));
	if (app->alerting) {
		app->notify = notify_new(cfg, &app->model, err, errsz);
		if (!app->notify)
			return -1;
		loop_add(app->loop, notify_source(app->notify));
	}
	return 0;
}

void app_close(struct app *app)
{
	if (!app->open)
		return;
	loop_free(app->loop);    /* destroys the sources */
	model_free(&app->model);
	app->open = false;
}

size_t app_notify_finish(struct app *app, int64_t grace_ms)
{
	if (!app->notify)
		return 0;
	int64_t until = clock_mono_ms() + grace_ms;
	notify_stop(app->notify);
	while (notify_pending(app->notify) && clock_mono_ms() < until)
		if (loop_turn(app->loop, 100, NULL, 0) < 0)
			break;
	return notify_queued(app->notify);
}

static bool pg_done(const struct model *m)
{
	return m->pg.refreshes > 0 || m->pg.failures > 0;
}

/* Redis is done when its walk finished and it has fetched the state of the
 * addresses PostgreSQL published, or when it failed. */
static bool redis_done(const struct model *m)
{
	if (m->redis.failures > 0 && m->redis.refreshes == 0)
		return true;
	if (!m->walk_complete || m->redis.refreshes == 0)
		return false;
	return m->pg.refreshes == 0 || m->ip_redis_gen == m->top_ips_gen;
}

bool app_first_refresh_done(const struct app *app)
{
	const struct model *m = &app->model;

	for (size_t i = 0; i < m->n_health; i++)
		if (m->health[i].checks == 0)
			return false;
	return pg_done(m) && redis_done(m);
}
