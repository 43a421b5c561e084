/* app.h: what a run of sectop holds: the configuration, the model, the
 * sources and the loop that drives them.  The commands share it. */
#ifndef SECTOP_APP_H
#define SECTOP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "model.h"

struct config;
struct loop;
struct pg;
struct redis;
struct health;
struct notify;

struct app {
	struct config *cfg;
	bool ascii;              /* the terminal is not UTF-8, or --ascii */
	char **operands;         /* the command's own arguments */
	int n_operands;

	struct model model;
	struct loop *loop;
	struct pg *pg;
	struct redis *redis;
	struct health *health;
	struct geoip *geo;       /* geoip-db, opened before the command runs; NULL: none */
	struct allowlist allow;  /* allow and allow-file, read before the command runs */
	bool alerting;           /* the console and watch: alerts notify (notify.h) */
	struct notify *notify;   /* with alerting: the source that sends them */
	bool open;
};

/* Create the model, the sources and the loop.  0, or -1 with err. */
int app_open(struct app *app, char *err, size_t errsz);
void app_close(struct app *app);

/* The program is ending: the notifications the rate limit held back are
 * queued, and the loop turns until those on their way are delivered, for
 * grace_ms at most.  The number not delivered (0 without notify). */
size_t app_notify_finish(struct app *app, int64_t grace_ms);
#define NOTIFY_GRACE_MS 2000     /* what watch and the console give it */

/* Has every source finished one complete refresh (or failed)? */
bool app_first_refresh_done(const struct app *app);

/* The commands: exit statuses. */
int app_snapshot(struct app *app);
int app_report(struct app *app);
int app_block(struct app *app);        /* cmd_action.c */
int app_unblock(struct app *app);
int app_extend(struct app *app);
int app_revoke(struct app *app);
int app_rotate(struct app *app);       /* cmd_action.c, also rotate --status */
int app_setup(struct app *app);        /* cmd_setup.c */
int app_print_indexes(const struct config *cfg);   /* cmd_indexes.c */
int app_timeline(struct app *app);     /* cmd_timeline.c */
int app_drill(struct app *app);        /* cmd_drill.c */
int app_console(struct app *app);      /* ui/console.c */
int app_watch(struct app *app);        /* cmd_watch.c */

#endif
