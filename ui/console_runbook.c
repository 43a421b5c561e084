/* console_runbook.c: following a runbook in its pane (ticking steps,
 * running a step's action, showing its data), writing the incident's
 * timeline, and a drill's first looks at each address. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "conf.h"
#include "console.h"
#include "clock.h"
#include "team.h"

/* What the step's data showed when it was ticked, for the timeline. */
static void seen_summary(const struct console *c, char *buf, size_t n)
{
	const struct model *m = &c->app->model;
	size_t k = (size_t)snprintf(buf, n, "seen:");
	size_t up = 0;

	for (size_t i = 0; i < m->n_top_ips && i < 3 && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, " %s %ld failures%s", m->top_ips[i].ip, m->top_ips[i].failures,
		                      i + 1 < m->n_top_ips && i < 2 ? "," : ";");
	for (size_t i = 0; i < m->n_health; i++)
		up += m->health[i].state == HEALTH_HEALTHY;
	if (k < n)
		snprintf(buf + k, n - k, " %lu blocked; health %zu/%zu up",
		         m->walk_complete ? m->blocked_count : (unsigned long)m->n_blocked, up, m->n_health);
}

/* Journal and audit the steps ticked, one job at a time (in the worker:
 * PostgreSQL may be slow), in the order they were ticked. */
void step_records_flush(struct console *c)
{
	const struct runbook *rb = &c->rb.rb;
	char seen[200];
	struct op op = { .kind = OP_STEP_DONE, .incident = c->rb.incident, .note = c->step_note };

	if (act_job_running(&c->job) || !c->rb.n_unrecorded)
		return;
	size_t i = c->rb.unrecorded[0];
	memmove(c->rb.unrecorded, c->rb.unrecorded + 1, --c->rb.n_unrecorded * sizeof *c->rb.unrecorded);
	seen_summary(c, seen, sizeof seen);
	snprintf(op.target, sizeof op.target, "%s", rb->name);
	snprintf(c->step_note, sizeof c->step_note, "step %zu/%zu %s: %s (%s)", i + 1, rb->n_steps,
	         rb_phase_name(rb->steps[i].phase), rb->steps[i].title, seen);
	if (act_job_start(&c->job, c->app->cfg, &op) < 0)
		console_message(c, "cannot record the step");
}

void step_record(struct console *c, size_t i)
{
	if (i >= c->rb.rb.n_steps || c->rb.done[i])
		return;
	c->rb.done[i] = true;
	if (c->app->cfg->read_only)               /* read-only records nothing */
		console_message(c, "read-only: the step is ticked on screen only, not recorded");
	else
		c->rb.unrecorded[c->rb.n_unrecorded++] = i;
	if (c->rb.sel == i && i + 1 < c->rb.rb.n_steps)
		c->rb.sel++;                         /* on to the next step */
	step_records_flush(c);
}

void runbook_open(struct console *c, const char *name)
{
	char err[600], id[64];
	const char *incident = c->app->cfg->incident;

	if (!incident || !*incident) {
		time_t t = time(NULL);
		struct tm tm;
		strftime(id, sizeof id, "INC-%Y%m%d-%H%M%S", gmtime_r(&t, &tm));
		incident = id;
	}
	if (rb_pane_open(&c->rb, c->app->cfg, name, incident, err, sizeof err) < 0)
		console_message(c, err);
	else
		console_message(c, "following the runbook: Enter ticks a step, a runs its action, R to the data");
}

void picker_key(struct console *c, int is_key, wint_t ch)
{
	if (is_key && ch == KEY_UP)
		rb_pane_move(&c->rb, -1, false);
	else if (is_key && ch == KEY_DOWN)
		rb_pane_move(&c->rb, 1, false);
	else if (!is_key && (ch == 'k' || ch == 'j'))
		rb_pane_move(&c->rb, ch == 'k' ? -1 : 1, false);
	else if (!is_key && ch == 27)
		rb_picker_stop(&c->rb);
	else if ((!is_key && (ch == '\r' || ch == '\n')) || (is_key && ch == KEY_ENTER)) {
		char name[128] = "";
		if (c->rb.pick < c->rb.n_list && !c->rb.list[c->rb.pick].error)
			snprintf(name, sizeof name, "%s", c->rb.list[c->rb.pick].name);
		else if (c->rb.pick < c->rb.n_list)
			console_message(c, c->rb.list[c->rb.pick].error);
		rb_picker_stop(&c->rb);
		if (name[0])
			runbook_open(c, name);
	}
}

void step_act(struct console *c)
{
	const struct rb_step *st = rb_pane_step(&c->rb);
	static const enum op_kind kinds[] = { [RB_ACT_BLOCK] = OP_BLOCK, [RB_ACT_UNBLOCK] = OP_UNBLOCK,
	                                      [RB_ACT_EXTEND] = OP_EXTEND };

	if (!st || st->action == RB_ACT_NONE) {
		console_message(c, "this step binds no action");
		return;
	}
	if (st->action == RB_ACT_ROTATE)
		rotate_begin(c);
	else if (st->action == RB_ACT_REVOKE)
		revoke_begin(c);
	else
		action_begin(c, kinds[st->action]);
	if (c->prompt == PROMPT_NONE)
		return;                              /* refused: the message says why */
	c->step_of_action = (long)c->rb.sel;
	if (st->ttl_s)
		c->op.ttl_s = st->ttl_s;
	if (c->prompt == PROMPT_REASON && st->reason)
		snprintf(c->input, sizeof c->input, "%s", st->reason);
}

void step_show(struct console *c)
{
	const struct rb_step *st = rb_pane_step(&c->rb);
	const struct model *m = &c->app->model;
	const char *addr;

	if (!st || st->show == RB_SHOW_NONE) {
		console_message(c, "this step shows no data");
		return;
	}
	if (c->screen == SCR_DETAIL && st->show != RB_SHOW_IP && st->show != RB_SHOW_TENANT)
		close_detail(c);
	switch (st->show) {
	case RB_SHOW_OVERVIEW: c->screen = SCR_OVERVIEW; break;
	case RB_SHOW_IPS: show_list(c, LIST_IPS); break;
	case RB_SHOW_TENANTS: show_list(c, LIST_TENANTS); break;
	case RB_SHOW_HEALTH: show_list(c, LIST_HEALTH); break;
	case RB_SHOW_BLOCKED: show_list(c, LIST_BLOCKED); break;
	case RB_SHOW_TAIL: show_list(c, LIST_TAIL); break;
	case RB_SHOW_KEYS: show_list(c, LIST_KEYS); break;
	case RB_SHOW_ACTIONS: show_list(c, LIST_ACTIONS); break;
	case RB_SHOW_ROTATIONS: show_list(c, LIST_ROTATIONS); break;
	case RB_SHOW_IP:
		addr = selected_address(c);
		if (!addr && m->n_top_ips)
			addr = m->top_ips[0].ip;
		if (addr) {
			char key[MODEL_IP_LEN];
			snprintf(key, sizeof key, "%s", addr);
			open_detail(c, DV_IP, key);
		} else
			console_message(c, "no address to show yet");
		break;
	case RB_SHOW_TENANT:
		if (m->tenant || m->n_tenants)
			open_detail(c, DV_TENANT, m->tenant ? m->tenant : m->tenants[0].tenant_id ? m->tenants[0].tenant_id : "");
		break;
	default:
		console_message(c, "that view is not in this console yet");
		break;
	}
}

/* In the worker: every operator's records of the incident from the audit
 * log, merged with the journal's (the journal alone if it does not answer). */
static void timeline_write_run(void *arg)
{
	struct tl_write *w = arg;

	w->rc = team_timeline_export(w->cfg, w->journal, w->incident, w->f, w->who, w->offline, w->err,
	                             sizeof w->err);
}

/* T: the file is made here (refused through a link, at once); it is
 * written off the loop, since the audit log is read for it. */
void timeline_key(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	struct tl_write *w = &c->tw;
	char msg[600];

	if (cfg->read_only) {
		console_message(c, "read-only: the timeline is not written (sectop timeline --incident ID prints it)");
		return;
	}
	if (c->tl_fetch.running) {
		console_message(c, "the timeline is still being written");
		return;
	}
	memset(w, 0, sizeof *w);
	w->cfg = cfg;
	snprintf(w->incident, sizeof w->incident, "%s", c->rb.incident);   /* the worker's own copy */
	w->journal = journal_path(cfg->journal);
	w->out = w->journal ? timeline_default_path(w->journal, c->rb.incident) : NULL;
	w->f = w->out ? timeline_create(w->out) : NULL;
	ops_operator(w->who, sizeof w->who);
	if (!w->f || bg_fetch_start(&c->tl_fetch, timeline_write_run, w) < 0) {
		snprintf(msg, sizeof msg, "timeline not written: %s", !w->f ? strerror(errno) : "cannot start");
		console_message(c, msg);
		if (w->f)
			fclose(w->f);
		free(w->out);
		free(w->journal);
		memset(w, 0, sizeof *w);
		return;
	}
	console_message(c, "writing the timeline (every operator's records, from the audit log)...");
}

void timeline_arrived(struct console *c)
{
	struct tl_write *w = &c->tw;
	char msg[600];

	bg_fetch_finish(&c->tl_fetch);
	bool closed = fclose(w->f) == 0;
	if (w->rc < 0 || !closed)
		snprintf(msg, sizeof msg, "timeline not written: %s", w->rc < 0 ? w->err : w->out);
	else if (w->offline[0])
		snprintf(msg, sizeof msg, "timeline written to %s (the local journal alone: the audit log did not answer)",
		         w->out);
	else
		snprintf(msg, sizeof msg, "timeline written to %s (with every operator's records)", w->out);
	console_message(c, msg);
	c->message_until = clock_mono_ms() + 8000;
	free(w->out);
	free(w->journal);
	memset(w, 0, sizeof *w);
}

/* During a drill, the first time the operator's selection or a drill-down
 * lands on an address is journalled: the scorecard's time to detect. */
void drill_look(struct console *c)
{
	const char *addr = c->looks.fd >= 0 ? selected_address(c) : NULL;
	char err[300], when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!addr || c->n_looked == sizeof c->looked / sizeof c->looked[0])
		return;
	for (size_t i = 0; i < c->n_looked; i++)
		if (strcmp(c->looked[i], addr) == 0)
			return;
	snprintf(c->looked[c->n_looked++], sizeof c->looked[0], "%s", addr);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	char who[160];
	ops_operator(who, sizeof who);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "phase", "viewed", "operator", who,
	                      "target", addr, "incident", c->app->cfg->incident ? c->app->cfg->incident : "",
	                      "note", c->screen == SCR_DETAIL ? "opened the address" : "selected the address's row");
	if (j)
		journal_append(&c->looks, j, err, sizeof err);
	json_decref(j);
}
