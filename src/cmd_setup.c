/* cmd_setup.c: `sectop setup --rollup` and `sectop setup --drop-rollup`:
 * the report's optional rollup (report_rollup.h).  With --dry-run the SQL
 * is printed instead of run. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "report_db.h"
#include "report_rollup.h"
#include "report_sql.h"
#include "sanitize.h"

struct setup_progress {
	bool tty, shown;
	int64_t start_ms, drawn_ms;
	long done, total;
};

/* On a terminal only, and only for a setup that takes a while. */
static void setup_draw(struct setup_progress *p)
{
	int64_t now = clock_mono_ms();

	if (!p->tty || now - p->start_ms < 1000 || now - p->drawn_ms < 200)
		return;
	p->drawn_ms = now;
	p->shown = true;
	fprintf(stderr, "\r\033[2Ksectop setup: rolling up");
	if (p->total > 0)
		fprintf(stderr, " %ld/%ld hours", p->done, p->total);
	fprintf(stderr, " (%.0f s)", (double)(now - p->start_ms) / 1000.0);
	fflush(stderr);
}

static void setup_hours(void *ctx, long done, long total)
{
	struct setup_progress *p = ctx;

	p->done = done;
	p->total = total;
	setup_draw(p);
}

static void setup_wait(void *ctx, struct pollfd *fds, int n)
{
	poll(fds, (nfds_t)n, 200);
	setup_draw(ctx);
}

static void print_sql(const struct report_sql *q, bool drop, const char *table)
{
	if (drop) {
		printf("%s;\n", q->drop);
		return;
	}
	printf("-- The report's rollup of %s: created, then filled hour by hour by\n"
	       "-- `sectop setup --rollup` and by every `sectop report`.\n%s", table, q->create);
}

int app_setup(struct app *app)
{
	struct config *cfg = app->cfg;
	struct report_sql q;
	struct report_params p;
	char err[512];

	if (app->n_operands > 0 || cfg->rollup == cfg->drop_rollup) {
		fprintf(stderr, "sectop: setup needs --rollup (create or bring up to date the report's "
		        "rollup) or --drop-rollup\n");
		return 2;
	}
	if (report_sql_build(&q, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		return 2;
	}
	if (cfg->dry_run) {
		print_sql(&q, cfg->drop_rollup, cfg->schema.table);
		report_sql_free(&q);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	struct setup_progress pr = { .tty = isatty(STDERR_FILENO), .start_ms = clock_mono_ms() };
	struct report_db db = { .wait = setup_wait, .wait_ctx = &pr };
	int rc = 1;
	if (report_params_init(&p, cfg, q.definition) < 0) {
		snprintf(err, sizeof err, "out of memory");
	} else if (report_db_open(&db, cfg, PG_WRITE, cfg->report_timeout_s * 1000, err, sizeof err) == 0) {
		rc = cfg->drop_rollup ? rollup_drop(&db, &q, stdout)
		                      : rollup_setup(&db, &q, &p, cfg, setup_hours, &pr, stdout);
		rc = rc < 0 ? 1 : 0;
		snprintf(err, sizeof err, "%s", db.error);
		report_db_close(&db);
		report_params_free(&p);
	} else {
		report_params_free(&p);
	}
	if (pr.shown)
		fputs("\r\033[2K", stderr);
	if (rc) {
		char *safe = sanitize_str(err, 0);   /* a server's message may quote anything */
		fprintf(stderr, "sectop: setup: %s\n", safe ? safe : err);
		free(safe);
	}
	report_sql_free(&q);
	return rc;
}
