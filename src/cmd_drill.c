/* cmd_drill.c: `sectop drill SCENARIO`: the console in drill mode with the
 * scenario's injector running, then the scorecard and the timeline. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "app.h"
#include "conf.h"
#include "drill.h"
#include "runbook.h"
#include "team_pg.h"
#include "timeline.h"

static int usage(void)
{
	fputs("sectop: which drill? sectop drill SCENARIO [--incident ID] [--drill-duration 10m]\n", stderr);
	for (size_t i = 0; i < n_drill_scenarios; i++)
		fprintf(stderr, "  %-20s %s\n", drill_scenarios[i].name, drill_scenarios[i].title);
	return 2;
}

/* drill_started / drill_ended: journalled, and audited as drill rows. */
static int record(struct ops *o, enum op_kind kind, const struct drill *d, const char *note)
{
	struct op op = { .kind = kind, .incident = d->incident, .note = note };
	struct op_plan plan;
	struct op_result r;

	snprintf(op.target, sizeof op.target, "%s", d->sc->name);
	if (ops_prepare(o, &op, &plan, &r) == OP_DONE)
		ops_execute(o, &op, &plan, &r);
	if (r.status != OP_DONE)
		fprintf(stderr, "sectop: %s\n", r.message);
	return r.status == OP_DONE ? 0 : -1;
}

static size_t runbook_steps(const struct config *cfg)
{
	struct runbook rb;
	char err[300];
	size_t n = runbook_find(cfg, cfg->runbook, &rb, err, sizeof err) == 0 ? rb.n_steps : 0;

	runbook_free(&rb);
	return n;
}

/* The drill's records from the journal and, every operator's, from the
 * audit log (from a minute before the drill began), merged. */
static void drill_timeline(struct ops *o, const struct drill *d, struct timeline *tl, struct tl_team *team)
{
	size_t bad;
	json_t *all = journal_read(o->journal.path, &bad);
	static char offline[200];
	struct team_op *v = NULL;
	size_t n = 0;

	*team = (struct tl_team){ 0 };
	if (team_pg_incident(o->cfg, d->incident, (d->started - 60) * 1000000, &v, &n, offline, sizeof offline) < 0)
		team->error = offline;
	team->v = v;
	team->n = n;
	if (!all || timeline_build(tl, all, d->incident) < 0)
		memset(tl, 0, sizeof *tl);
	else if (team->error)
		timeline_team_failed(tl, team->error);
	else
		timeline_add_team(tl, v, n, d->incident);
	json_decref(all);
}

/* Score the drill from its records (the journal's and the team's), record
 * its end with the figures, then the scorecard and the timeline on stdout
 * and in a file beside the journal. */
static void finish(struct ops *o, const struct drill *d)
{
	struct drill_score s;
	struct timeline tl;
	struct tl_team team;
	char note[300], err[300];
	size_t steps = runbook_steps(o->cfg);

	drill_timeline(o, d, &tl, &team);
	drill_score_timeline(d, &tl, &s);
	timeline_free(&tl);
	snprintf(note, sizeof note, "detect %llds, contain %llds, %zu of %zu attackers contained, %zu of %zu steps,"
	         " %zu actions", (long long)s.detect_s, (long long)s.contain_s, s.contained, d->n_attackers,
	         s.steps_done, steps, s.actions);
	record(o, OP_DRILL_ENDED, d, note);
	char *path = timeline_default_path(o->journal.path, d->incident);
	FILE *f = path ? timeline_create(path) : NULL;
	/* the file opens with the scorecard; the terminal ends with it, in view */
	if (f)
		drill_write_score(d, &s, steps, f);
	FILE *outs[] = { f, stdout };
	for (int i = 0; i < 2; i++)
		if (outs[i] && timeline_export_team(o->journal.path, d->incident, &team, outs[i], o->operator_id,
		                                    err, sizeof err) < 0)
			fprintf(stderr, "sectop: %s\n", err);
	fputc('\n', stdout);
	drill_write_score(d, &s, steps, stdout);
	if (f && fclose(f) == 0)
		printf("\n(written to %s)\n", path);
	free(path);
	team_ops_free((struct team_op *)team.v, team.n);
}

int app_drill(struct app *app)
{
	struct config *cfg = app->cfg;
	const struct drill_scenario *sc = app->n_operands == 1 ? drill_find(app->operands[0]) : NULL;
	struct drill d;
	struct ops o;
	char err[400], note[600];

	if (!sc)
		return usage();
	if (cfg->read_only || cfg->dry_run) {
		fprintf(stderr, "sectop: a drill writes synthetic events to the audit log: refused with %s\n",
		        cfg->read_only ? "--read-only" : "--dry-run (a drill is the rehearsal)");
		return OP_REFUSED;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sectop: a drill runs in the console: it needs a terminal\n");
		return 2;
	}
	drill_prepare(&d, cfg, sc, (int64_t)time(NULL));
	if (ops_open(&o, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: refused: %s\n", err);
		return OP_REFUSED;
	}
	snprintf(note, sizeof note, "%s; %zu attacker address%s; events for %d s; keys under %s", sc->title,
	         d.n_attackers, d.n_attackers == 1 ? "" : "es", cfg->drill_duration_s, cfg->drill_prefix);
	if (record(&o, OP_DRILL_STARTED, &d, note) < 0 || drill_start_injector(&d, cfg, err, sizeof err) < 0) {
		ops_close(&o);
		return OP_FAILED;
	}
	int rc = app_console(app);
	drill_stop_injector(&d);
	finish(&o, &d);
	ops_close(&o);
	return rc;
}
