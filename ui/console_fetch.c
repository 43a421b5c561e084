/* console_fetch.c: what the console reads off the loop, in a worker or
 * from a file: the journal for the actions view, the API keys, the
 * secrets' rotations, and at start the actions a killed sectop left. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>

#include "conf.h"
#include "console.h"
#include "clock.h"
#include "connect.h"

/* The actions view reads the journal again when it changed, or when the
 * audit log brought other operators' actions to merge with it. */
void journal_reload(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	char *path = journal_path(cfg->journal);
	struct stat st;
	size_t bad;
	bool changed = path && stat(path, &st) == 0 && (st.st_size != c->journal_seen.st_size ||
	    st.st_mtim.tv_sec != c->journal_seen.st_mtim.tv_sec || st.st_mtim.tv_nsec != c->journal_seen.st_mtim.tv_nsec);

	if (changed || c->team_merged != c->app->model.team_gen) {
		json_t *all = path ? journal_read(path, &bad) : json_array();
		if (all) {
			timeline_free(&c->journal);
			timeline_build(&c->journal, all, NULL);
			json_decref(all);
			if (changed)
				c->journal_seen = st;
			team_merge(c);
		}
	}
	free(path);
}

static void rot_read_run(void *arg)
{
	struct rot_read *k = arg;
	PGconn *db = connect_pg(k->cfg, PG_READ, "sectop-rotations");
	char *journal = journal_path(k->cfg->journal);

	if (PQstatus(db) != CONNECTION_OK) {
		snprintf(k->err, sizeof k->err, "postgres: %s", PQerrorMessage(db));
		k->err[strcspn(k->err, "\n")] = '\0';
	} else {
		k->v = rotation_collect(k->cfg, (struct pg_conn *)db, journal, (int64_t)time(NULL), &k->n,
		                        k->err, sizeof k->err);
	}
	PQfinish(db);
	free(journal);
}

/* A fetch under way owns its result buffers (c->kr, c->rr) until it has
 * reported: a reload then waits for it rather than reset them under it. */
static bool fetch_busy(struct console *c, const struct bg_fetch *f, const char *what)
{
	char msg[120];

	if (!f->running)
		return false;
	snprintf(msg, sizeof msg, "still reading the %s: r again once they are read", what);
	console_message(c, msg);
	return true;
}

void rotations_reload(struct console *c)
{
	if (fetch_busy(c, &c->rot_fetch, "secrets' rotations"))
		return;
	memset(&c->rr, 0, sizeof c->rr);
	c->rr.cfg = c->app->cfg;
	if (bg_fetch_start(&c->rot_fetch, rot_read_run, &c->rr) == 0 && clock_mono_ms() >= c->message_until)
		console_message(c, "reading the secrets' rotations...");    /* never over an action's result */
}

void rotations_arrived(struct console *c)
{
	char msg[400];

	bg_fetch_finish(&c->rot_fetch);
	if (!c->rr.v) {
		snprintf(msg, sizeof msg, "rotations not read: %s", c->rr.err);
		console_message(c, msg);
		return;
	}
	rotation_free(c->rots, c->n_rots);
	c->rots = c->rr.v;
	c->n_rots = c->rr.n;
	c->rr.v = NULL;
	c->rr.n = 0;
	if (!c->n_rots)
		console_message(c, "no secret declared: see secret = in sectop.conf(5)");
}

/* At start, off the loop: the actions a killed sectop left without a
 * result get theirs from the servers' state, and are audited. */
static void recon_run(void *arg)
{
	struct recon *k = arg;
	struct ops o;
	char err[300];

	if (ops_open(&o, k->cfg, err, sizeof err) < 0)
		return;
	k->n = ops_reconcile(&o);
	ops_retry_audits(&o);
	k->audited = o.retried;
	ops_close(&o);
}

void recon_arrived(struct console *c)
{
	char msg[200];

	bg_fetch_finish(&c->recon_fetch);
	if (c->recon.n <= 0)
		return;
	snprintf(msg, sizeof msg, "%d interrupted action%s reconciled with the servers: see the journal (8)",
	         c->recon.n, c->recon.n == 1 ? "" : "s");
	console_message(c, msg);
	c->message_until = clock_mono_ms() + 8000;
}

static void keys_read_run(void *arg)
{
	struct keys_read *k = arg;
	k->rc = apikeys_fetch(k->cfg, NULL, &k->keys, &k->n, k->err, sizeof k->err);
}

/* The keys view reads the table in a worker: a slow server never holds the keys. */
void keys_reload(struct console *c)
{
	if (fetch_busy(c, &c->fetch, "API keys"))
		return;
	memset(&c->kr, 0, sizeof c->kr);
	c->kr.cfg = c->app->cfg;
	if (bg_fetch_start(&c->fetch, keys_read_run, &c->kr) == 0)
		console_message(c, "reading the API keys...");
}

void keys_arrived(struct console *c)
{
	bg_fetch_finish(&c->fetch);
	if (c->kr.rc < 0) {
		char msg[400];
		snprintf(msg, sizeof msg, "API keys not read: %s", c->kr.err);
		console_message(c, msg);
		return;
	}
	apikeys_free(c->keys, c->n_keys);
	c->keys = c->kr.keys;
	c->n_keys = c->kr.n;
	c->kr.keys = NULL;
	c->kr.n = 0;
	console_message(c, "API keys read");
}

void recon_start(struct console *c)
{
	c->recon.cfg = c->app->cfg;
	if (!c->app->cfg->read_only && !c->app->cfg->dry_run)
		bg_fetch_start(&c->recon_fetch, recon_run, &c->recon);
}
