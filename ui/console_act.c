/* console_act.c: B, U, X, K and O, from the selection to the gate: the
 * target is fixed when the key is pressed, refused early when the gate
 * would refuse anyway, confirmed by typing, and run in a worker. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "allowlist.h"
#include "conf.h"
#include "clock.h"
#include "ipaddr.h"
#include "loop.h"

/* Before a reason is typed: would the gate refuse at once?  --read-only,
 * or a journal that cannot be written (the intent must be recorded first). */
static bool action_refused(struct console *c)
{
	struct journal j;
	char err[300], msg[400];

	if (c->app->cfg->read_only) {             /* before the journal: read-only creates nothing */
		console_message(c, "read-only: no action is taken (--read-only)");
		return true;
	}
	char *path = journal_path(c->app->cfg->journal);
	int rc = journal_open(&j, path, err, sizeof err);
	free(path);
	journal_close(&j);
	if (rc < 0) {
		snprintf(msg, sizeof msg, "refused: the journal cannot be written (%s)", err);
		console_message(c, msg);
		return true;
	}
	return false;
}

/* Is addr allow-listed?  Said in the footer: refused, or (--bypass-allow)
 * to be confirmed by typing "bypass ADDRESS" (*bypass true). */
static bool allow_listed(struct console *c, const char *addr, bool *bypass)
{
	char d[300], msg[512];

	allowlist_refresh(&c->app->allow);
	const struct allow_entry *e = allowlist_match(&c->app->allow, addr, (int64_t)time(NULL));
	*bypass = false;
	if (!e)
		return false;
	allow_entry_describe(e, d, sizeof d);
	*bypass = c->app->cfg->bypass_allow;
	snprintf(msg, sizeof msg, "%s is allow-listed by %s%s", addr, d,
	         *bypass ? "" : ": not blocked (start with --bypass-allow to do it anyway)");
	console_message(c, msg);
	return true;
}

/* B, U, X: the target is fixed now, whatever the list does meanwhile. */
void action_begin(struct console *c, enum op_kind kind)
{
	const char *addr = selected_address(c);
	char err[200];

	if (action_refused(c))
		return;
	memset(&c->op, 0, sizeof c->op);
	c->op_bypass = false;
	if (!addr || ipaddr_normalize(addr, c->op.target, sizeof c->op.target, err, sizeof err) < 0) {
		console_message(c, addr ? err : "select an address first");
		return;
	}
	const struct ip_redis *rd = model_ip_redis(&c->app->model, c->op.target);
	if (kind == OP_BLOCK && rd && rd->blocked)
		kind = OP_EXTEND;                      /* blocked already: offer to extend */
	/* the dialog shows the address's own keys, read now, even off the top list */
	model_watch(&c->app->model, c->op.target);
	loop_refresh_all(c->app->loop);
	c->op.kind = kind;
	c->op.ttl_s = c->app->cfg->block_ttl_s;
	char own[IPADDR_LEN];
	c->op_extra = kind == OP_BLOCK && (ipaddr_class(c->op.target) != IP_PUBLIC ||
	              (ipaddr_ssh_client(own, sizeof own) && strcmp(own, c->op.target) == 0));
	const char *word = c->op_extra ? "yes " : "";
	if (kind != OP_UNBLOCK && allow_listed(c, c->op.target, &c->op_bypass)) {
		if (!c->op_bypass)
			return;                         /* refused, and said why */
		c->op_extra = true;
		word = "bypass ";
	}
	snprintf(c->op_expect, sizeof c->op_expect, "%s%s", word, c->op.target);
	c->prompt = kind == OP_UNBLOCK ? PROMPT_CONFIRM : PROMPT_REASON;
	c->input[0] = '\0';
}

/* The selected row of list for K or O, or NULL with the reason said:
 * another screen, --read-only, or no row. */
static const struct row *action_row(struct console *c, enum list_id list, const char *elsewhere)
{
	const struct row *r;

	if (c->screen != SCR_LIST || c->list != list) {
		console_message(c, elsewhere);
		return NULL;
	}
	if (action_refused(c))
		return NULL;
	list_rows(c);
	if (!(r = table_current(&c->lists[c->list], &c->rows)))
		console_message(c, "select a row first");
	return r;
}

/* K: the selected key, fixed now; its prefix is what the operator types.
 * In a tenant's drill-down: that tenant's keys. */
void revoke_begin(struct console *c)
{
	if (c->screen == SCR_DETAIL && c->detail == DV_TENANT) {
		char tenant[128];
		snprintf(tenant, sizeof tenant, "%s", c->detail_key);
		close_detail(c);
		show_list(c, LIST_KEYS);
		snprintf(c->lists[LIST_KEYS].filter, sizeof c->lists[LIST_KEYS].filter, "%s", tenant);
		console_message(c, "this tenant's keys: select one, then K");
		return;
	}
	const struct row *r = action_row(c, LIST_KEYS, "revoke: select a key in the keys view (7)");
	const struct api_key *k = NULL;
	for (size_t i = 0; r && i < c->n_keys; i++)
		if (strcmp(c->keys[i].id, r->key) == 0)
			k = &c->keys[i];
	if (!k) {
		if (r)
			console_message(c, "the key is not in the list any more: r reads it again");
		return;
	}
	if (k->revoked) {
		console_message(c, "this key is revoked already");
		return;
	}
	memset(&c->op, 0, sizeof c->op);
	c->op.kind = OP_REVOKE;
	snprintf(c->op.target, sizeof c->op.target, "%s", k->id);
	snprintf(c->op_tenant, sizeof c->op_tenant, "%s", k->tenant ? k->tenant : "");
	snprintf(c->op_key_name, sizeof c->op_key_name, "%s", k->name ? k->name : "");
	snprintf(c->op_key_prefix, sizeof c->op_key_prefix, "%s", k->prefix ? k->prefix : "");
	if (k->last_used)
		format_ttl(c->op_key_last_used, sizeof c->op_key_last_used, (long)(clock_wall_ms() / 1000 - k->last_used));
	else
		snprintf(c->op_key_last_used, sizeof c->op_key_last_used, "never");
	c->op.tenant = c->op_tenant;
	c->op_extra = false;
	/* an empty or unprintable prefix cannot be typed: the key's id is */
	snprintf(c->op_expect, sizeof c->op_expect, "%s", ops_confirm_usable(k->prefix) ? k->prefix : k->id);
	c->prompt = PROMPT_REASON;
	c->input[0] = '\0';
}

/* O: the selected secret, fixed now; its name is what the operator types. */
void rotate_begin(struct console *c)
{
	const struct row *r = action_row(c, LIST_ROTATIONS, "rotate: select a secret in the rotations view (9)");
	if (!r)
		return;
	memset(&c->op, 0, sizeof c->op);
	c->op.kind = OP_ROTATE;
	snprintf(c->op_secret, sizeof c->op_secret, "%s", r->key);
	snprintf(c->op.target, sizeof c->op.target, "%.45s", r->key);
	c->op.secret = c->op_secret;
	c->op_extra = false;
	snprintf(c->op_expect, sizeof c->op_expect, "%s", r->key);
	c->prompt = PROMPT_REASON;
	c->input[0] = '\0';
}

void action_confirmed(struct console *c)
{
	c->op.reason = c->op_reason[0] ? c->op_reason : NULL;
	c->op.incident = c->rb.incident[0] ? c->rb.incident : c->app->cfg->incident;
	if (!ops_confirmed(c->op_expect, c->input)) {
		console_message(c, c->op.kind == OP_REVOKE ? "not confirmed: nothing done (type the key's prefix exactly)" :
		                   c->op.kind == OP_ROTATE ? "not confirmed: nothing done (type the secret's name exactly)"
		                                           : "not confirmed: nothing done (type the address exactly)");
		c->step_of_action = -1;
		return;
	}
	if (act_job_running(&c->job))
		console_message(c, "another action is still running: nothing done, try again");
	else if (act_job_start(&c->job, c->app->cfg, &c->op) < 0)
		console_message(c, "cannot start the action");
	else
		console_message(c, "working...");
}

void action_finished(struct console *c)
{
	char msg[600];
	long step = c->step_of_action;
	bool done = c->job.result.status == OP_DONE;

	act_job_finish(&c->job);
	bool quiet = c->job.op.kind == OP_STEP_DONE && done;
	if (!quiet || clock_mono_ms() >= c->message_until) {   /* a step's record never hides news */
		snprintf(msg, sizeof msg, "%s%s", done ? "" : "not done: ", c->job.result.message);
		console_message(c, msg);
		c->message_until = clock_mono_ms() + (quiet ? 3000 : 8000);
	}
	loop_refresh_all(c->app->loop);
	c->step_of_action = -1;
	if (done && step >= 0 && c->job.op.kind != OP_STEP_DONE)
		step_record(c, (size_t)step);          /* the step whose action this was is done */
	if (c->job.op.kind == OP_ROTATE && !c->rot_fetch.running)
		rotations_reload(c);
	step_records_flush(c);
}
