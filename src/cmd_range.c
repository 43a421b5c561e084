/* cmd_range.c: `sectop block RANGE --reason TEXT` and `sectop unblock
 * RANGE` from the command line: the preview lists how many addresses and
 * which (and which are skipped or left alone, and why), the range is typed
 * to confirm, then range_action.c does the rest through the gate. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd_action.h"
#include "conf.h"
#include "json_out.h"
#include "range_action.h"
#include "sanitize.h"
#include "strutil.h"

static void show_members(const struct range_plan *p, enum member_state s, const char *title, bool ascii)
{
	size_t n = range_count(p, s);

	if (!n)
		return;
	printf("  %s: %zu\n", title, n);
	for (size_t i = 0; i < p->n; i++) {
		const struct range_member *m = &p->v[i];
		if (m->state != s)
			continue;
		char *why = sanitize_str(m->why, ascii ? SAN_ASCII : 0);   /* a Redis value's "by", an allow note */
		if (m->failures)
			printf("    %-39s %6ld failure%s%s%s\n", m->ip, m->failures, m->failures == 1 ? " " : "s",
			       *why ? "  " : "", why ? why : "");
		else
			printf("    %-39s %s\n", m->ip, why ? why : "");
		free(why);
	}
}

static void show_plan(const struct ops *o, const struct range_plan *p, bool ascii)
{
	char window[16], ttl[16];
	char *command = sanitize_str(p->command, ascii ? SAN_ASCII : 0);

	str_duration(window, sizeof window, p->window_s);
	printf("%s %s (a range)\n", op_action_name(p->op.kind), p->op.target);
	printf("  failed in the window (%s): %ld address%s\n", window, p->failing, p->failing == 1 ? "" : "es");
	printf("  will send: %s\n", command ? command : "");
	if (p->op.kind == OP_BLOCK) {
		str_duration(ttl, sizeof ttl, p->op.ttl_s);
		printf("  time to live: %s%s%s\n", ttl, p->ttl_step ? ", the " : "", p->ttl_step ? p->ttl_why : "");
	}
	show_members(p, MEMBER_PLANNED, p->op.kind == OP_BLOCK ? "to block" : "to unblock (set by a block of this range)",
	             ascii);
	show_members(p, MEMBER_SKIPPED, "skipped", ascii);
	show_members(p, MEMBER_LEFT, "left alone", ascii);
	free(command);
}

/* After the action: the members that did not go as planned. */
static void show_outcome(const struct range_plan *p, bool ascii)
{
	show_members(p, MEMBER_CHANGED, "changed while you confirmed", ascii);
	show_members(p, MEMBER_FAILED, "FAILED", ascii);
}

static bool confirm(const struct ops *o, const struct range_plan *p)
{
	char q[200];

	if (o->cfg->dry_run || o->cfg->yes)
		return true;
	snprintf(q, sizeof q, "Type the range to confirm (%s): ", p->op.target);
	return cmd_ask(q, p->op.target);
}

/* The members in state s; MEMBER_PLANNED: all that were planned, whatever
 * became of them. */
static json_t *members_json(const struct range_plan *p, enum member_state s, bool reasons)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++) {
		const struct range_member *m = &p->v[i];
		bool planned = m->state == MEMBER_PLANNED || m->state == MEMBER_DONE || m->state == MEMBER_CHANGED ||
		               m->state == MEMBER_FAILED;
		if (s == MEMBER_PLANNED ? !planned : m->state != s)
			continue;
		if (reasons)
			json_array_append_new(a, json_pack("{s:s, s:I, s:o}", "ip", m->ip, "failures", (json_int_t)m->failures,
			                                   "reason", json_out_string(m->why)));
		else
			json_array_append_new(a, json_string(m->ip));
	}
	return a;
}

static void print_json(const struct ops *o, const struct range_plan *p, const struct op_result *r, bool prepared)
{
	json_t *j = json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:b, s:b, s:o, s:i}",
	    "action", op_action_name(p->op.kind), "target", json_out_string(p->op.target),
	    "range", prepared ? json_string(p->op.target) : json_null(),
	    "status", op_status_name(r->status), "message", json_out_string(r->message),
	    "command", p->command[0] ? json_out_string(p->command) : json_null(),
	    "dry_run", o->cfg->dry_run, "audited", r->audited,
	    "journal_id", r->journal_id[0] ? json_string(r->journal_id) : json_null(),
	    "exit_status", (int)r->status);
	bool block = p->op.kind == OP_BLOCK;

	json_object_set_new(j, "failing", prepared ? json_integer(p->failing) : json_null());
	json_object_set_new(j, "planned", members_json(p, MEMBER_PLANNED, false));
	json_object_set_new(j, block ? "blocked" : "unblocked", members_json(p, MEMBER_DONE, false));
	json_object_set_new(j, "skipped", members_json(p, MEMBER_SKIPPED, true));
	json_object_set_new(j, "left", members_json(p, MEMBER_LEFT, true));
	json_object_set_new(j, "changed", members_json(p, MEMBER_CHANGED, true));
	json_object_set_new(j, "failed", members_json(p, MEMBER_FAILED, true));
	if (block) {
		json_object_set_new(j, "ttl_s", p->op.ttl_s ? json_integer(p->op.ttl_s) : json_null());
		json_object_set_new(j, "ttl_step", !p->ttl_step ? json_null() :
		    json_pack("{s:i, s:i, s:o, s:o}", "step", p->ttl_step, "steps", p->ttl_steps,
		              "earlier_blocks", p->earlier_blocks >= 0 ? json_integer(p->earlier_blocks) : json_null(),
		              "why", json_out_string(p->ttl_why)));
	}
	json_out_write(j, stdout);
	json_decref(j);
}

int cmd_range(struct app *app, enum op_kind kind)
{
	const struct config *cfg = app->cfg;
	struct ops o;
	struct range_plan plan = { .op = { .kind = kind, .reason = cfg->reason, .ttl_s = cfg->block_ttl_s,
	                                   .incident = cfg->incident },
	                           .window_s = cfg->window_s, .tenant = cfg->tenant };
	struct op_result r = { 0 };
	char err[400];
	bool json = strcmp(cfg->format, "json") == 0, prepared = false;

	memset(&o, 0, sizeof o);
	o.cfg = cfg;
	snprintf(plan.op.target, sizeof plan.op.target, "%.45s", app->operands[0]);
	if (ops_open(&o, cfg, err, sizeof err) < 0) {
		snprintf(r.message, sizeof r.message, "refused: %s", err);
		r.status = OP_REFUSED;
	} else {
		ops_reconcile(&o);
		ops_retry_audits(&o);
		if (range_prepare(&o, &plan, app->operands[0], &r) == OP_DONE) {
			prepared = true;
			if (!json)
				show_plan(&o, &plan, app->ascii);
			if (!confirm(&o, &plan)) {
				r.status = OP_REFUSED;
				snprintf(r.message, sizeof r.message, "not confirmed: nothing done%s",
				         isatty(STDIN_FILENO) ? "" : " (use --yes in scripts)");
			} else {
				cmd_hold_signals();
				range_execute(&o, &plan, &r);
				if (!json)
					show_outcome(&plan, app->ascii);
			}
		}
		if (!json)
			cmd_say_housekeeping(&o);
		ops_close(&o);
	}
	if (json) {
		print_json(&o, &plan, &r, prepared);
	} else {
		cmd_say_result(&r, app->ascii);
	}
	cmd_release_signals();
	range_plan_free(&plan);
	return (int)r.status;
}
