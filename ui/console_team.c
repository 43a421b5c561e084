/* console_team.c: the other operators, as the audit log tells the console
 * (the PostgreSQL source reads their actions past a cursor: team_pg.h).
 * When another operator acts, a line says so ("alice@10.0.0.5 blocked
 * 203.0.113.45 40 s ago"); the actions view lists their actions beside the
 * journal's, marked remote.  One's own actions are news to no one. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "console.h"
#include "team.h"

/* A journal id of this machine's journal, as the actions view read it. */
static bool in_local_journal(const char *journal_id, void *ctx)
{
	const struct timeline *tl = ctx;

	for (size_t i = 0; i < tl->n; i++)
		if (!tl->v[i].remote && tl->v[i].id && strcmp(tl->v[i].id, journal_id) == 0)
			return true;
	return false;
}

/* A reading that failed (a statement timeout on a long window) is said
 * once: the actions before it are not in the actions view. */
static bool team_failure(struct console *c)
{
	const struct model *m = &c->app->model;
	char msg[400];

	if (strcmp(c->team_error, m->team_error) == 0)
		return false;
	snprintf(c->team_error, sizeof c->team_error, "%s", m->team_error);
	if (!m->team_error[0])
		return false;
	snprintf(msg, sizeof msg, "other operators' actions not read (%.200s): only those from now on", m->team_error);
	console_message(c, msg);
	return true;
}

/* The newest of the actions that arrived since the last look, by another
 * operator, done while this console runs; with how many more came.  True
 * when something was said. */
bool team_news(struct console *c)
{
	const struct model *m = &c->app->model;
	if (team_failure(c))
		return true;
	if (c->team_seen == m->team_gen)
		return false;
	size_t fresh = m->team_gen - c->team_seen < m->n_team_ops ? (size_t)(m->team_gen - c->team_seen)
	                                                          : m->n_team_ops;
	const struct team_op *newest = NULL;
	size_t others = 0;
	char msg[400];

	c->team_seen = m->team_gen;
	for (size_t i = m->n_team_ops - fresh; i < m->n_team_ops; i++) {
		const struct team_op *op = &m->team_ops[i];
		if (op->ts_us < c->started_us || team_op_is_own(op, c->me, in_local_journal, &c->journal))
			continue;
		others += newest != NULL;
		newest = op;
	}
	if (!newest)
		return false;
	team_op_message(newest, clock_wall_ms() * 1000, msg, sizeof msg);
	if (others) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, " (and %zu more: 8 lists them)", others);
	}
	console_message(c, msg);
	c->message_until = clock_mono_ms() + 8000;
	return true;
}

/* The actions view: the journal's records and the audit log's rows of
 * other operators (and other machines), each action once. */
void team_merge(struct console *c)
{
	const struct model *m = &c->app->model;

	timeline_add_team(&c->journal, m->team_ops, m->n_team_ops, NULL);
	c->team_merged = m->team_gen;
}
