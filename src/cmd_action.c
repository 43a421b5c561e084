/* cmd_action.c: `sectop block|unblock|extend ADDRESS` from the command line,
 * through the same gate as the console: prepare, show, confirm, execute. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "app.h"
#include "conf.h"
#include "json_out.h"
#include "sanitize.h"

/* A line typed on the terminal (not stdin: a pipe must not confirm). */
static bool ask(const char *question, const char *expect)
{
	FILE *tty = fopen("/dev/tty", "r+");
	char line[256];

	if (!tty)
		return false;
	fprintf(tty, "%s", question);
	fflush(tty);
	bool ok = fgets(line, sizeof line, tty) != NULL;
	fclose(tty);
	if (!ok)
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, expect) == 0;
}

static void show_key_plan(const struct op *op, const struct op_plan *p, bool ascii)
{
	char *name = sanitize_str(p->key_name, ascii ? SAN_ASCII : 0);
	char *tenant = sanitize_str(op->tenant, ascii ? SAN_ASCII : 0);

	printf("%s %s\n  key: %s (prefix %s), tenant %s, last used %s%s\n  will run: %s\n",
	       op_action_name(op->kind), op->target, name, p->key_prefix, tenant, p->key_last_used,
	       p->key_revoked ? ", ALREADY REVOKED" : "", p->command);
	free(name);
	free(tenant);
}

static void show_plan(const struct op *op, const struct op_plan *p, bool ascii)
{
	if (op->kind == OP_REVOKE) {
		show_key_plan(op, p, ascii);
		return;
	}
	char *by = sanitize_str(p->by, ascii ? SAN_ASCII : 0), *why = sanitize_str(p->reason, ascii ? SAN_ASCII : 0);

	printf("%s %s\n", op_action_name(op->kind), op->target);
	if (p->blocked)
		printf("  now: blocked by %s, %ld s left%s%s\n", by, p->ttl_s, *why ? ", reason: " : "", why);
	else
		printf("  now: not blocked\n");
	if (p->failed_auth >= 0)
		printf("  failed_auth counter: %ld\n", p->failed_auth);
	printf("  will send: %s\n", p->command);
	if (p->extra_confirm)
		printf("  WARNING: %s\n", p->extra_why);
	free(by);
	free(why);
}

static bool confirm(const struct ops *o, const struct op *op, const struct op_plan *p)
{
	char q[200];

	if (o->cfg->yes || o->cfg->dry_run)
		return true;
	snprintf(q, sizeof q, "Type the %s to confirm (%s): ", op->kind == OP_REVOKE ? "key's prefix" : "address",
	         p->confirm);
	if (!p->confirm[0] || !ask(q, p->confirm))
		return false;
	return !p->extra_confirm || ask("Type 'yes' to act on it anyway: ", "yes");
}

static void print_json(const struct op *op, const struct op_plan *p, const struct op_result *r,
                       const struct ops *o)
{
	static const char *const names[] = { [OP_DONE] = "done", [OP_ALREADY] = "already",
	                                     [OP_REFUSED] = "refused", [OP_FAILED] = "failed" };
	json_t *j = json_pack("{s:s, s:o, s:s, s:o, s:o, s:b, s:b, s:o, s:i}",
	    "action", op_action_name(op->kind), "target", json_out_string(op->target),
	    "status", names[r->status], "message", json_out_string(r->message),
	    "command", p->command[0] ? json_out_string(p->command) : json_null(),
	    "dry_run", o->cfg->dry_run, "audited", r->audited,
	    "journal_id", r->journal_id[0] ? json_string(r->journal_id) : json_null(),
	    "exit_status", (int)r->status);
	json_out_write(j, stdout);
	json_decref(j);
}

static int run(struct app *app, enum op_kind kind)
{
	struct ops o;
	struct op op = { .kind = kind, .reason = app->cfg->reason, .ttl_s = app->cfg->block_ttl_s,
	                 .incident = app->cfg->incident, .tenant = app->cfg->tenant };
	struct op_plan plan = { 0 };
	struct op_result r = { 0 };
	char err[400];
	bool json = strcmp(app->cfg->format, "json") == 0;

	memset(&o, 0, sizeof o);
	o.cfg = app->cfg;
	if (app->n_operands != 1) {
		fprintf(stderr, "sectop: give one %s (sectop %s)\n", kind == OP_REVOKE ? "key id" : "address",
		        kind == OP_BLOCK ? "block ADDRESS --reason TEXT" : kind == OP_UNBLOCK ? "unblock ADDRESS" :
		        kind == OP_EXTEND ? "extend ADDRESS --reason TEXT" : "revoke KEY_ID --tenant T --reason TEXT");
		return 2;
	}
	snprintf(op.target, sizeof op.target, "%.45s", app->operands[0]);
	if (strlen(app->operands[0]) >= sizeof op.target) {
		snprintf(r.message, sizeof r.message, "too long for an address or a key id");
		r.status = OP_REFUSED;
	} else if (ops_open(&o, app->cfg, err, sizeof err) < 0) {
		snprintf(r.message, sizeof r.message, "refused: %s", err);
		r.status = OP_REFUSED;
	} else {
		ops_retry_audits(&o);
		if (ops_prepare(&o, &op, &plan, &r) == OP_DONE) {
			if (!json)
				show_plan(&op, &plan, app->ascii);
			if (!confirm(&o, &op, &plan)) {
				r.status = OP_REFUSED;
				snprintf(r.message, sizeof r.message, "not confirmed: nothing done%s",
				         isatty(STDIN_FILENO) ? "" : " (use --yes in scripts)");
			} else {
				ops_execute(&o, &op, &plan, &r);
			}
		}
		if (o.retried && !json)
			printf("  (%u audit rows written from the journal)\n", o.retried);
		ops_close(&o);
	}
	if (json) {
		print_json(&op, &plan, &r, &o);
	} else {
		char *safe = sanitize_str(r.message, app->ascii ? SAN_ASCII : 0);
		fprintf(r.status == OP_DONE ? stdout : stderr, "%s%s\n", r.status == OP_DONE ? "" : "sectop: ", safe);
		free(safe);
	}
	return (int)r.status;
}

int app_block(struct app *app)
{
	return run(app, OP_BLOCK);
}

int app_unblock(struct app *app)
{
	return run(app, OP_UNBLOCK);
}

int app_extend(struct app *app)
{
	return run(app, OP_EXTEND);
}

int app_revoke(struct app *app)
{
	return run(app, OP_REVOKE);
}
