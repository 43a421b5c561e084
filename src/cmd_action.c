/* cmd_action.c: `sectop block|unblock|extend ADDRESS`, `sectop revoke KEY_ID`
 * and `sectop rotate SECRET` from the command line, through the same gate as
 * the console: prepare, show, confirm, execute.  `sectop rotate --status`
 * lists the declared secrets against their rotation policy. */
#include "config.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "app.h"
#include "clock.h"
#include "cmd_action.h"
#include "conf.h"
#include "connect.h"
#include "iprange.h"
#include "json_out.h"
#include "rotation.h"
#include "sanitize.h"
#include "strutil.h"

bool cmd_ask(const char *question, const char *expect)
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
	return ops_confirmed(expect, line);
}

static void show_key_plan(const struct op *op, const struct op_plan *p, bool ascii)
{
	int f = ascii ? SAN_ASCII : 0;
	char *name = sanitize_str(p->key_name, f), *tenant = sanitize_str(op->tenant, f);
	char *prefix = sanitize_str(p->key_prefix, f), *used = sanitize_str(p->key_last_used, f);
	char *command = sanitize_str(p->command, f), *backend = sanitize_str(p->backend, f);

	printf("%s %s\n  key: %s (prefix %s), tenant %s, last used %s%s\n  will run: %s\n",
	       op_action_name(op->kind), op->target, name, prefix, tenant, used,
	       p->key_revoked ? ", ALREADY REVOKED" : "", command);
	if (p->backend[0])
		printf("  then: %s\n", backend);
	if (!ops_confirm_usable(p->key_prefix))
		printf("  the prefix is empty or not printable: type the key's id to confirm\n");
	free(name);
	free(tenant);
	free(prefix);
	free(used);
	free(command);
	free(backend);
}

/* The request, indented; the token is never in it (a placeholder is). */
static void show_request(const char *request, bool ascii)
{
	for (const char *line = request; *line;) {
		size_t n = strcspn(line, "\n");
		char *safe = sanitize_dup(line, n, ascii ? SAN_ASCII : 0);
		printf("    %s\n", safe ? safe : "");
		free(safe);
		line += n + (line[n] == '\n');
	}
}

static void show_rotate_plan(const struct op *op, const struct op_plan *p, bool ascii)
{
	printf("%s %s\n", op_action_name(op->kind), op_subject(op));
	if (p->key_reused)
		printf("  the last request (journal %s, %s) ended in an unknown state:\n"
		       "  reusing its idempotency key %s\n", p->reused_from, p->reused_time, p->idempotency_key);
	printf("  will send:\n");
	show_request(p->request, ascii);
}

static void show_plan(const struct op *op, const struct op_plan *p, bool ascii)
{
	if (op->kind == OP_REVOKE) {
		show_key_plan(op, p, ascii);
		return;
	}
	if (op->kind == OP_ROTATE) {
		show_rotate_plan(op, p, ascii);
		return;
	}
	char *by = sanitize_str(p->by, ascii ? SAN_ASCII : 0), *why = sanitize_str(p->reason, ascii ? SAN_ASCII : 0);
	char *command = sanitize_str(p->command, ascii ? SAN_ASCII : 0);

	printf("%s %s\n", op_action_name(op->kind), op->target);
	if (p->blocked)
		printf("  now: blocked by %s, %ld s left%s%s\n", by, p->ttl_s, *why ? ", reason: " : "", why);
	else
		printf("  now: not blocked\n");
	if (p->failed_auth >= 0)
		printf("  failed_auth counter: %ld\n", p->failed_auth);
	printf("  will send: %s\n", command);
	if (p->ttl_step) {
		char ttl[16];
		str_duration(ttl, sizeof ttl, op->ttl_s);
		printf("  time to live: %s, the %s\n", ttl, p->ttl_why);
	}
	if (p->extra_confirm) {
		char *w = sanitize_str(p->extra_why, ascii ? SAN_ASCII : 0);   /* a note from the allow-file */
		printf("  WARNING: %s\n", w ? w : "");
		free(w);
	}
	free(command);
	free(by);
	free(why);
}

/* The target typed in full; a private, loopback or own address as
 * "yes ADDRESS", in one line, as in the console.  --yes skips the first
 * and never the second: no flag or file setting blocks one's own network
 * unseen. */
static bool confirm(const struct ops *o, const struct op *op, const struct op_plan *p)
{
	char q[300], expect[200];

	if (o->cfg->dry_run)
		return true;
	if (!ops_confirm_usable(p->confirm))
		return false;                        /* nothing that can be typed and seen as it is */
	if (p->extra_confirm) {
		snprintf(expect, sizeof expect, "%s %s", p->extra_word, p->confirm);
		snprintf(q, sizeof q, "Type '%s' to act on it anyway: ", expect);
		return cmd_ask(q, expect);
	}
	if (o->cfg->yes)
		return true;
	snprintf(q, sizeof q, "Type the %s to confirm (%s): ", op->kind == OP_REVOKE ?
	         (strcmp(p->confirm, op->target) == 0 ? "key's id" : "key's prefix") :
	         op->kind == OP_ROTATE ? "secret's name" : "address", p->confirm);
	return cmd_ask(q, p->confirm);
}

static void print_json(const struct op *op, const struct op_plan *p, const struct op_result *r,
                       const struct ops *o)
{
	json_t *j = json_pack("{s:s, s:o, s:s, s:o, s:o, s:b, s:b, s:o, s:i}",
	    "action", op_action_name(op->kind), "target", json_out_string(op_subject(op)),
	    "status", op_status_name(r->status), "message", json_out_string(r->message),
	    "command", p->command[0] ? json_out_string(p->command) : json_null(),
	    "dry_run", o->cfg->dry_run, "audited", r->audited,
	    "journal_id", r->journal_id[0] ? json_string(r->journal_id) : json_null(),
	    "exit_status", (int)r->status);
	if (j && op->kind == OP_ROTATE) {
		const struct conf_secret *s = conf_secret_find(o->cfg, op_subject(op));
		json_object_set_new(j, "secret", json_out_string(op_subject(op)));
		json_object_set_new(j, "webhook", s && s->webhook ? json_out_string(s->webhook) : json_null());
		json_object_set_new(j, "request", p->request[0] ? json_out_string(p->request) : json_null());
		json_object_set_new(j, "http_status", r->http_status ? json_integer(r->http_status) : json_null());
		json_object_set_new(j, "idempotency_key", p->idempotency_key[0] ? json_string(p->idempotency_key) : json_null());
		json_object_set_new(j, "idempotency_key_reused", json_boolean(p->key_reused));
		json_object_set_new(j, "reuses_journal_id", p->key_reused ? json_string(p->reused_from) : json_null());
	}
	if (j && (op->kind == OP_BLOCK || op->kind == OP_EXTEND)) {
		json_object_set_new(j, "ttl_s", op->ttl_s ? json_integer(op->ttl_s) : json_null());
		json_object_set_new(j, "ttl_step", !p->ttl_step ? json_null() :
		    json_pack("{s:i, s:i, s:o, s:o}", "step", p->ttl_step, "steps", p->ttl_steps,
		              "earlier_blocks", p->earlier_blocks >= 0 ? json_integer(p->earlier_blocks) : json_null(),
		              "why", json_out_string(p->ttl_why)));
	}
	if (j && op->kind == OP_REVOKE) {
		json_object_set_new(j, "backend", json_string(o->cfg->revoke_backend ? o->cfg->revoke_backend : "db"));
		json_object_set_new(j, "backend_command", p->backend[0] ? json_out_string(p->backend) : json_null());
		json_object_set_new(j, "backend_status", r->backend_status[0] ? json_string(r->backend_status) : json_null());
		json_object_set_new(j, "http_status", r->http_status ? json_integer(r->http_status) : json_null());
	}
	json_out_write(j, stdout);
	json_decref(j);
}

/* Confirmed, the action runs to its end: a hang-up, a SIGTERM or a Ctrl-C
 * meanwhile waits until the result is journalled and audited, then acts
 * (the output is printed first when there is still somewhere to print it). */
static sigset_t held_signals;

void cmd_hold_signals(void)
{
	sigemptyset(&held_signals);
	sigaddset(&held_signals, SIGHUP);
	sigaddset(&held_signals, SIGTERM);
	sigaddset(&held_signals, SIGINT);
	sigaddset(&held_signals, SIGQUIT);
	sigprocmask(SIG_BLOCK, &held_signals, NULL);
}

static void execute_whole(struct ops *o, const struct op *op, const struct op_plan *p, struct op_result *r)
{
	cmd_hold_signals();
	ops_execute(o, op, p, r);
}

void cmd_say_housekeeping(const struct ops *o)
{
	if (o->reconciled)
		printf("  (%u interrupted action%s reconciled with the servers: see the journal, 8 in the console)\n",
		       o->reconciled, o->reconciled == 1 ? "" : "s");
	if (o->retried)
		printf("  (%u audit rows written from the journal)\n", o->retried);
}

void cmd_say_result(const struct op_result *r, bool ascii)
{
	char *safe = sanitize_str(r->message, ascii ? SAN_ASCII : 0);
	fprintf(r->status == OP_DONE ? stdout : stderr, "%s%s\n", r->status == OP_DONE ? "" : "sectop: ", safe);
	free(safe);
}

void cmd_release_signals(void)
{
	fflush(stdout);
	sigprocmask(SIG_UNBLOCK, &held_signals, NULL);
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
		fprintf(stderr, "sectop: give one %s (sectop %s)\n",
		        kind == OP_REVOKE ? "key id" : kind == OP_ROTATE ? "secret" : "address",
		        kind == OP_BLOCK ? "block ADDRESS|RANGE --reason TEXT" : kind == OP_UNBLOCK ? "unblock ADDRESS|RANGE" :
		        kind == OP_EXTEND ? "extend ADDRESS --reason TEXT" :
		        kind == OP_ROTATE ? "rotate SECRET --reason TEXT, or rotate --status" :
		        "revoke KEY_ID --tenant T --reason TEXT");
		return 2;
	}
	if ((kind == OP_BLOCK || kind == OP_UNBLOCK) && iprange_is_range(app->operands[0]))
		return cmd_range(app, kind);              /* a range where one is meant; nowhere else */
	if (kind == OP_ROTATE)
		op.secret = app->operands[0];
	else
		snprintf(op.target, sizeof op.target, "%.45s", app->operands[0]);
	if (kind != OP_ROTATE && strlen(app->operands[0]) >= sizeof op.target) {
		snprintf(r.message, sizeof r.message, "too long for an address or a key id");
		r.status = OP_REFUSED;
	} else if (ops_open(&o, app->cfg, err, sizeof err) < 0) {
		snprintf(r.message, sizeof r.message, "refused: %s", err);
		r.status = OP_REFUSED;
	} else {
		ops_reconcile(&o);
		ops_retry_audits(&o);
		if (ops_prepare(&o, &op, &plan, &r) == OP_DONE) {
			if (!json)
				show_plan(&op, &plan, app->ascii);
			if (!confirm(&o, &op, &plan)) {
				r.status = OP_REFUSED;
				snprintf(r.message, sizeof r.message, "not confirmed: nothing done%s",
				         plan.extra_confirm ? strcmp(plan.extra_word, "bypass") == 0 ?
				         " (an allow-listed address needs 'bypass ADDRESS' typed on a terminal, even with --yes)" :
				         " (this address needs 'yes ADDRESS' typed on a terminal, even with --yes)" :
				         isatty(STDIN_FILENO) ? "" : " (use --yes in scripts)");
			} else {
				execute_whole(&o, &op, &plan, &r);
			}
		}
		if (!json)
			cmd_say_housekeeping(&o);
		ops_close(&o);
	}
	if (json) {
		print_json(&op, &plan, &r, &o);
	} else {
		cmd_say_result(&r, app->ascii);
	}
	cmd_release_signals();
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

/* ------------------------------------------------------- rotate --status */

static void utc(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t)
		snprintf(out, n, "never");
	else
		strftime(out, n, "%Y-%m-%d %H:%M", gmtime_r(&tt, &tm));
}

static void status_text(const struct rotation_status *v, size_t n, bool ascii, int warn_days)
{
	if (!n) {
		printf("no secret declared (secret = NAME kind=KIND [max_age=DURATION] [webhook=URL] in sectop.conf)\n");
		return;
	}
	printf("%-24s %-11s %7s  %-18s %6s  %-7s  %s\n", "SECRET", "KIND", "MAX AGE", "LAST ROTATED (UTC)",
	       "AGE", "STATE", "LAST REQUEST");
	for (size_t i = 0; i < n; i++) {
		const struct rotation_status *s = &v[i];
		char when[32], age[32], req[200] = "-";
		utc(s->last_rotated_s, when, sizeof when);
		if (s->age_s >= 0)
			snprintf(age, sizeof age, "%lldd", (long long)(s->age_s / 86400));
		else
			snprintf(age, sizeof age, "-");
		if (s->last_request.found) {
			char *st = sanitize_str(s->last_request.status, ascii ? SAN_ASCII : 0);
			char *at = sanitize_str(s->last_request.time, ascii ? SAN_ASCII : 0);
			if (s->last_request.http_status)
				snprintf(req, sizeof req, "%s, %s (HTTP %ld)", at, st, s->last_request.http_status);
			else
				snprintf(req, sizeof req, "%s, %s", at, st);
			free(st);
			free(at);
		} else if (!s->has_webhook) {
			snprintf(req, sizeof req, "- (no webhook)");
		}
		printf("%-24s %-11s %6dd  %-18s %6s  %-7s  %s\n", s->name, s->kind, s->max_age_s / 86400, when, age,
		       rotation_state_name(s->state), req);
	}
	printf("(due: within %d days of the maximum age, rotation-warn-days)\n", warn_days);
}

static void status_json(const struct rotation_status *v, size_t n, int64_t now)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct rotation_status *s = &v[i];
		const struct rotation_request *q = &s->last_request;
		json_t *req = q->found ? json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
		    "journal_id", json_out_string(q->journal_id), "time", json_out_string(q->time),
		    "operator", json_out_string(q->operator_id), "status", json_out_string(q->status),
		    "http_status", q->http_status ? json_integer(q->http_status) : json_null(),
		    "idempotency_key", json_out_string(q->idempotency_key)) : json_null();
		json_array_append_new(arr, json_pack("{s:o, s:o, s:i, s:i, s:o, s:o, s:o, s:s, s:b, s:o}",
		    "name", json_out_string(s->name), "kind", json_out_string(s->kind),
		    "max_age_s", s->max_age_s, "max_age_days", s->max_age_s / 86400,
		    "last_rotated", s->last_rotated_s ? json_integer(s->last_rotated_s) : json_null(),
		    "age_s", s->age_s >= 0 ? json_integer(s->age_s) : json_null(),
		    "age_days", s->age_s >= 0 ? json_integer(s->age_s / 86400) : json_null(),
		    "state", rotation_state_name(s->state), "webhook", s->has_webhook, "last_request", req));
	}
	json_t *j = json_pack("{s:I, s:o}", "generated", (json_int_t)now, "secrets", arr);
	json_out_write(j, stdout);
	json_decref(j);
}

/* Exit 0 when listed, 6 when PostgreSQL or the journal cannot be read. */
static int rotate_status(struct app *app)
{
	const struct config *cfg = app->cfg;
	char err[600] = "";
	char *journal = journal_path(cfg->journal);
	PGconn *db = cfg->n_secrets ? connect_pg(cfg, PG_READ, "sectop-rotate") : NULL;
	int64_t now = clock_wall_ms() / 1000;
	size_t n = 0;
	struct rotation_status *v = NULL;

	if (db && PQstatus(db) != CONNECTION_OK)
		snprintf(err, sizeof err, "postgres: %s", PQerrorMessage(db));
	else
		v = rotation_collect(cfg, db, journal, now, &n, err, sizeof err);
	if (v && strcmp(cfg->format, "json") == 0)
		status_json(v, n, now);
	else if (v)
		status_text(v, n, app->ascii, cfg->rotation_warn_days);
	else {
		char *safe = sanitize_str(err, app->ascii ? SAN_ASCII : 0);
		fprintf(stderr, "sectop: rotate --status: %s\n", safe);
		free(safe);
	}
	rotation_free(v, n);
	PQfinish(db);
	free(journal);
	return v ? 0 : (int)OP_FAILED;
}

int app_rotate(struct app *app)
{
	if (app->cfg->rotation_status) {
		if (app->n_operands) {
			fprintf(stderr, "sectop: rotate --status takes no secret\n");
			return 2;
		}
		return rotate_status(app);
	}
	return run(app, OP_ROTATE);
}
