#include "config.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <ctype.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <errno.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "actions_priv.h"
#include "conf.h"
#include "connect.h"
#include "redis_link.h"
#include "pg_sql.h"
#include "range_action.h"
#include "redis_url.h"
#include "rotation.h"
#include "sanitize.h"
#include "strutil.h"
#include "webhook.h"

const char *op_action_name(enum op_kind k)
{
	switch (k) {
	case OP_BLOCK: return "ip_blocked";
	case OP_UNBLOCK: return "ip_unblocked";
	case OP_EXTEND: return "ip_block_extended";
	case OP_REVOKE: return "api_key_revoked";
	case OP_ROTATE: return "secret_rotation_requested";
	case OP_STEP_DONE: return "runbook_step_done";
	case OP_DRILL_STARTED: return "drill_started";
	case OP_DRILL_ENDED: return "drill_ended";
	}
	return "?";
}

const char *op_status_name(enum op_status s)
{
	switch (s) {
	case OP_DONE: return "done";
	case OP_ALREADY: return "already";
	case OP_REFUSED: return "refused";
	case OP_FAILED: return "failed";
	case OP_UNKNOWN: return "unknown";
	}
	return "?";
}

const char *op_subject(const struct op *op)
{
	return op->kind == OP_ROTATE ? (op->secret ? op->secret : "") : op->target;
}

static enum op_kind op_kind_of(const char *action)
{
	for (int k = OP_BLOCK; k <= OP_DRILL_ENDED; k++)
		if (action && strcmp(action, op_action_name((enum op_kind)k)) == 0)
			return (enum op_kind)k;
	return OP_BLOCK;
}

const char *op_resource_type(enum op_kind k)
{
	switch (k) {
	case OP_REVOKE: return "api_key";
	case OP_ROTATE: return "secret";
	case OP_STEP_DONE: return "runbook";
	case OP_DRILL_STARTED: case OP_DRILL_ENDED: return "drill";
	default: return "ip";
	}
}

bool op_is_record(enum op_kind k)
{
	return k == OP_STEP_DONE || k == OP_DRILL_STARTED || k == OP_DRILL_ENDED;
}

enum op_status op_result_say(struct op_result *r, enum op_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	r->status = st;
	return st;
}

bool ops_confirm_usable(const char *expect)
{
	if (!expect || !*expect)
		return false;
	char *shown = sanitize_str(expect, 0);
	bool same = shown && strcmp(shown, expect) == 0;
	free(shown);
	return same;
}

bool ops_confirmed(const char *expect, const char *typed)
{
	return ops_confirm_usable(expect) && typed && strcmp(expect, typed) == 0;
}

/* "alice@198.51.100.4": who, and from where when over SSH. */
void ops_operator(char *out, size_t n)
{
	const char *who = getenv("SECTOP_OPERATOR");
	char from[IPADDR_LEN];
	struct passwd *pw;

	if (!who || !*who)
		who = getlogin();
	if ((!who || !*who) && (pw = getpwuid(geteuid())))
		who = pw->pw_name;
	if (!who || !*who)
		who = "unknown";
	if (ipaddr_ssh_client(from, sizeof from))
		snprintf(out, n, "%.100s@%s", who, from);
	else
		snprintf(out, n, "%.100s", who);
}

int ops_open(struct ops *o, const struct config *cfg, char *err, size_t errsz)
{
	memset(o, 0, sizeof *o);
	o->cfg = cfg;
	o->journal.fd = -1;
	ops_operator(o->operator_id, sizeof o->operator_id);
	snprintf(o->blocked_prefix, sizeof o->blocked_prefix, "%s", cfg->keys.blocked);
	if (pg_sql_names_init(&o->names, cfg) < 0) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (allowlist_init(&o->allow, cfg, err, errsz) < 0) {
		pg_sql_names_free(&o->names);
		return -1;
	}
	char *path = journal_path(cfg->journal);
	int rc = journal_open(&o->journal, path, err, errsz);
	free(path);
	if (rc < 0)
		ops_close(o);
	return rc;
}

void ops_close(struct ops *o)
{
	if (o->redis)
		rlink_free(o->redis);
	if (o->pg)
		PQfinish(o->pg);
	journal_close(&o->journal);
	allowlist_free(&o->allow);
	pg_sql_names_free(&o->names);
	o->redis = o->pg = NULL;
}

/* ------------------------------------------------------------------ Redis */

static struct rlink *ops_redis(struct ops *o, struct op_result *r)
{
	char err[300];

	if (!o->redis && !(o->redis = connect_redis(o->cfg, err, sizeof err)))
		op_result_say(r, OP_FAILED, "%s", err);
	return o->redis;
}

static void block_value_fields(const char *v, size_t len, struct op_plan *p)
{
	json_t *j = json_loadb(v, len, 0, NULL);
	const char *by = json_string_value(json_object_get(j, "by"));
	const char *why = json_string_value(json_object_get(j, "reason"));

	snprintf(p->by, sizeof p->by, "%s", by ? by : json_is_object(j) ? "?" : "the servers");
	snprintf(p->reason, sizeof p->reason, "%s", why ? why : "");
	json_decref(j);
}

/* The address's keys as they are now, one round trip each (a handful). */
static enum op_status read_state(struct ops *o, const struct op *op, struct op_plan *p,
                                 struct op_result *r)
{
	struct rlink *c = ops_redis(o, r);
	if (!c)
		return r->status;
	/* the plan is what the operator confirms: executed only if the key is
	 * still as read here (MULTI/EXEC after this WATCH) */
	freeReplyObject(rlink_call(c, "WATCH %s%s", o->blocked_prefix, op->target));
	redisReply *v = rlink_call(c, "GET %s%s", o->blocked_prefix, op->target);
	redisReply *t = v ? rlink_call(c, "TTL %s%s", o->blocked_prefix, op->target) : NULL;
	redisReply *f = t ? rlink_call(c, "GET %s%s", o->cfg->keys.failed_auth, op->target) : NULL;
	enum op_status st = OP_DONE;

	if (!v || !t || !f) {
		st = op_result_say(r, OP_FAILED, "redis: %s", rlink_error(c));
		rlink_free(c);
		o->redis = NULL;
	} else {
		p->blocked = v->type != REDIS_REPLY_NIL;
		if (v->type == REDIS_REPLY_STRING)
			block_value_fields(v->str, v->len, p);
		else if (v->type == REDIS_REPLY_ERROR)
			snprintf(p->by, sizeof p->by, "(a key of another type)");
		p->ttl_s = t->type == REDIS_REPLY_INTEGER ? (long)t->integer : -2;
		p->failed_auth = f->type == REDIS_REPLY_STRING ? strtol(f->str, NULL, 10) : -1;
	}
	freeReplyObject(v);
	freeReplyObject(t);
	freeReplyObject(f);
	return st;
}

/* The JSON value sectop writes: {"by","reason","at"}. */
static const char *op_mode(const struct ops *o, const struct op *op);

static char *block_value(const struct ops *o, const struct op *op)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "by", o->operator_id, "reason", op->reason,
	                      "at", (json_int_t)time(NULL), "via", "sectop");
	if (j && strcmp(op_mode(o, op), "drill") == 0)
		json_object_set_new(j, "drill", json_true());
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	return s;
}

/* ---------------------------------------------------------------- prepare */

static enum op_status check_rotate(const struct ops *o, const struct op *op, struct op_result *r)
{
	const struct conf_secret *s = conf_secret_find(o->cfg, op_subject(op));

	if (!op_subject(op)[0])
		return op_result_say(r, OP_REFUSED, "no secret given");
	if (!s)
		return op_result_say(r, OP_REFUSED, "unknown secret '%s': not declared in the configuration"
		           " (secret = NAME kind=KIND webhook=URL)", op_subject(op));
	if (!s->webhook)
		return op_result_say(r, OP_REFUSED, "secret %s has no webhook=URL in the configuration: nothing to ask", s->name);
	if (!op->reason || !*op->reason)
		return op_result_say(r, OP_REFUSED, "a reason is required (--reason TEXT)");
	const char *token = s->token_env ? getenv(s->token_env) : NULL;
	if (s->token_env && (!token || !*token))
		return op_result_say(r, OP_REFUSED, "$%s (token_env of %s) is unset or empty: nothing sent", s->token_env, s->name);
	return OP_DONE;
}

static enum op_status check_op(const struct ops *o, struct op *op, struct op_result *r)
{
	char normal[IPADDR_LEN], err[200];

	if (op_is_record(op->kind))
		return op->target[0] ? OP_DONE : op_result_say(r, OP_REFUSED, "nothing named to record");
	if (o->cfg->read_only)
		return op_result_say(r, OP_REFUSED, "read-only: no action is taken (--read-only)");
	if (op->kind == OP_REVOKE) {
		if (!op->tenant || !*op->tenant)
			return op_result_say(r, OP_REFUSED, "the key's tenant is required (--tenant T)");
		if (!op->reason || !*op->reason)
			return op_result_say(r, OP_REFUSED, "a reason is required (--reason TEXT)");
		for (const char *p = op->target; *p; p++)
			if (!isxdigit((unsigned char)*p) && *p != '-')
				return op_result_say(r, OP_REFUSED, "a key id holds only hexadecimal digits and '-'");
		return op->target[0] ? OP_DONE : op_result_say(r, OP_REFUSED, "no key id given");
	}
	if (op->kind == OP_ROTATE)
		return check_rotate(o, op, r);
	if (ipaddr_normalize(op->target, normal, sizeof normal, err, sizeof err) < 0)
		return op_result_say(r, OP_REFUSED, "%s", err);
	memcpy(op->target, normal, sizeof normal);
	enum ip_class cls = ipaddr_class(op->target);
	if (op->kind == OP_BLOCK && !ipaddr_is_a_source(cls))
		return op_result_say(r, OP_REFUSED, "%s is %s %s address: no request comes from it, there is nothing to block",
		           op->target, ipaddr_class_article(cls), ipaddr_class_name(cls));
	if (op->kind != OP_UNBLOCK && (!op->reason || !*op->reason))
		return op_result_say(r, OP_REFUSED, "a reason is required (--reason TEXT)");
	/* 0: not given, block-ttl-steps decide (choose_ttl) */
	if (op->kind != OP_UNBLOCK && (op->ttl_s < 0 || op->ttl_s > 365L * 86400))
		return op_result_say(r, OP_REFUSED, "the time to live must be between 1 s and 365 days");
	return OP_DONE;
}

/* An allow-listed address is never blocked unseen: refused, or with
 * --bypass-allow kept for plan_extra to ask "bypass ADDRESS". */
static bool allow_refuses(struct ops *o, const struct op *op, struct op_plan *p, struct op_result *r)
{
	if (op->kind != OP_BLOCK && op->kind != OP_EXTEND)
		return false;
	allowlist_refresh(&o->allow);
	const struct allow_entry *e = allowlist_match(&o->allow, op->target, (int64_t)time(NULL));
	if (!e)
		return false;
	allow_entry_describe(e, p->allowed_by, sizeof p->allowed_by);
	if (o->cfg->bypass_allow)
		return false;
	op_result_say(r, OP_REFUSED, "%s is allow-listed by %s: not %s (--bypass-allow, then 'bypass %s' typed, to do it anyway)",
	    op->target, p->allowed_by, op->kind == OP_BLOCK ? "blocked" : "extended", op->target);
	return true;
}

static PGconn *ops_pg(struct ops *o);

/* Operator blocks of addr in the audit log within block-memory (drills
 * left out), or -1 with o->pg_error. */
static long earlier_blocks(struct ops *o, const char *addr)
{
	const struct pg_sql_names *q = &o->names;
	PGconn *c = ops_pg(o);
	if (!c)
		return -1;
	char *sql = str_printf("SELECT count(*) FROM %s WHERE %s = $1 AND %s = $2"
	                       " AND %s >= now() - make_interval(secs => $3::int)"
	                       " AND coalesce(%s->>'mode', 'live') <> 'drill'", q->t, q->action, q->rid, q->ts, q->details);
	return ops_count_blocks(o, c, sql, addr);
}

long ops_count_blocks(struct ops *o, PGconn *c, char *sql, const char *target)
{
	char memory[24];
	snprintf(memory, sizeof memory, "%d", o->cfg->block_memory_s);
	const char *v[] = { op_action_name(OP_BLOCK), target, memory };
	PGresult *res = sql ? PQexecParams(c, sql, 3, NULL, v, NULL, NULL, 0) : NULL;
	long n = PQresultStatus(res) == PGRES_TUPLES_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
	if (n < 0)
		pg_write_error(o->cfg, c, o->pg_error, sizeof o->pg_error);
	PQclear(res);
	free(sql);
	return n;
}

static const char *ordinal_suffix(long n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

/* Repeat offenders: without --ttl, a block lasts the step of
 * block-ttl-steps that the address's earlier blocks reach (the first step
 * when they cannot be counted, and the plan says so). */
static void choose_ttl(struct ops *o, struct op *op, struct op_plan *p)
{
	long steps[CONF_MAX_LIST];
	char err[200], memory[32];
	int n = conf_ttl_steps(o->cfg, steps, err, sizeof err);

	if (op->ttl_s || (op->kind != OP_BLOCK && op->kind != OP_EXTEND) || n <= 0)
		return;
	long earlier = earlier_blocks(o, op->target);
	int step = earlier < 0 ? 0 : earlier >= n ? n - 1 : (int)earlier;
	op->ttl_s = steps[step];
	p->ttl_step = step + 1;
	p->ttl_steps = n;
	p->earlier_blocks = earlier;
	int days = o->cfg->block_memory_s / 86400;
	if (days >= 1)
		snprintf(memory, sizeof memory, "%d day%s", days, days == 1 ? "" : "s");
	else
		snprintf(memory, sizeof memory, "%d s", o->cfg->block_memory_s);
	if (earlier < 0)
		snprintf(p->ttl_why, sizeof p->ttl_why, "step 1 of %d: its earlier blocks are unknown (PostgreSQL: %.100s)",
		         n, o->pg_error);
	else
		snprintf(p->ttl_why, sizeof p->ttl_why, "%ld%s block in %s: step %d of %d", earlier + 1,
		         ordinal_suffix(earlier + 1), memory, step + 1, n);
}

static void plan_extra(const struct op *op, struct op_plan *p)
{
	char own[IPADDR_LEN];
	enum ip_class cls = ipaddr_class(op->target);

	snprintf(p->extra_word, sizeof p->extra_word, "yes");
	if (p->allowed_by[0]) {
		p->extra_confirm = true;
		snprintf(p->extra_word, sizeof p->extra_word, "bypass");
		snprintf(p->extra_why, sizeof p->extra_why, "ALLOW-LISTED by %s", p->allowed_by);
		return;
	}
	if (op->kind != OP_BLOCK)
		return;
	if (ipaddr_ssh_client(own, sizeof own) && strcmp(own, op->target) == 0) {
		p->extra_confirm = true;
		snprintf(p->extra_why, sizeof p->extra_why, "this is YOUR OWN SSH client address");
	} else if (cls != IP_PUBLIC) {
		p->extra_confirm = true;
		snprintf(p->extra_why, sizeof p->extra_why, "%s %s address: blocking it may cut off your own services",
		         ipaddr_class_article(cls), ipaddr_class_name(cls));
	}
}


/* The key's row, as the keys table has it: name, prefix, last use. */
static enum op_status read_key(struct ops *o, const struct op *op, struct op_plan *p, struct op_result *r)
{
	const struct conf_schema *s = &o->cfg->schema;
	PGconn *c = ops_pg(o);
	if (!c)
		return op_result_say(r, OP_FAILED, "postgres: %s", o->pg_error);
	char *t = pg_sql_ident(s->keys_table);
	char *sql = str_printf("SELECT name, key_prefix, coalesce(last_used_at::text, 'never'), revoked_at IS NOT NULL"
	                       " FROM %s WHERE id::text = $1 AND tenant_id = $2", t);
	const char *v[] = { op->target, op->tenant };
	PGresult *res = sql ? PQexecParams(c, sql, 2, NULL, v, NULL, NULL, 0) : NULL;
	enum op_status st = OP_DONE;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		st = op_result_say(r, OP_FAILED, "postgres: %s", PQerrorMessage(c));
	else if (PQntuples(res) == 0)
		st = op_result_say(r, OP_REFUSED, "no key %s for tenant %s", op->target, op->tenant);
	else if (PQntuples(res) > 1)
		st = op_result_say(r, OP_REFUSED, "%d keys match %s for tenant %s: not one, nothing done",
		         PQntuples(res), op->target, op->tenant);
	else {
		p->key_found = true;
		snprintf(p->key_name, sizeof p->key_name, "%s", PQgetvalue(res, 0, 0));
		snprintf(p->key_prefix, sizeof p->key_prefix, "%s", PQgetvalue(res, 0, 1));
		snprintf(p->key_last_used, sizeof p->key_last_used, "%s", PQgetvalue(res, 0, 2));
		p->key_revoked = PQgetvalue(res, 0, 3)[0] == 't';
	}
	PQclear(res);
	free(sql);
	free(t);
	return st;
}

static char *revoke_sql(const struct ops *o)
{
	char *t = pg_sql_ident(o->cfg->schema.keys_table);
	char *sql = str_printf("UPDATE %s SET revoked_at = now(), revoked_by = $1, revoke_reason = $2"
	                       " WHERE id::text = $3 AND tenant_id = $4 AND revoked_at IS NULL", t);
	free(t);
	return sql;
}

/* The request a rotation sends, with the plan's idempotency key. */
static void rotate_request(const struct ops *o, const struct op *op, const struct op_plan *p,
                           struct webhook_request *rq, char **body)
{
	const struct conf_secret *s = conf_secret_find(o->cfg, op_subject(op));

	*body = rotation_request_body(s, o->operator_id, op->reason, op->incident, p->idempotency_key);
	*rq = (struct webhook_request){ .url = s->webhook, .token_env = s->token_env, .ca_file = s->ca_file,
	                                .timeout_ms = s->timeout_ms ? s->timeout_ms : o->cfg->timeout_ms,
	                                .body = *body, .idempotency_key = p->idempotency_key };
}

static enum op_status prepare_rotate(struct ops *o, const struct op *op, struct op_plan *p, struct op_result *r)
{
	struct rotation_request last;
	struct webhook_request rq;
	char *body;

	if (rotation_last_request(o->journal.path, op_subject(op), &last) < 0)
		return op_result_say(r, OP_REFUSED, "refused: the journal %s cannot be read", o->journal.path);
	if (last.found && last.idempotency_key[0] &&
	    (strcmp(last.status, "unknown") == 0 || strcmp(last.status, "pending") == 0)) {
		p->key_reused = true;
		snprintf(p->idempotency_key, sizeof p->idempotency_key, "%s", last.idempotency_key);
		snprintf(p->reused_from, sizeof p->reused_from, "%s", last.journal_id);
		snprintf(p->reused_time, sizeof p->reused_time, "%s", last.time);
	} else {
		journal_new_id(p->idempotency_key);
	}
	rotate_request(o, op, p, &rq, &body);
	char *preview = body ? webhook_preview(&rq) : NULL;
	if (!preview) {
		free(body);
		return op_result_say(r, OP_REFUSED, "the request cannot be encoded (is the reason valid UTF-8?)");
	}
	snprintf(p->request, sizeof p->request, "%s", preview);
	snprintf(p->command, sizeof p->command, "POST %s", rq.url);
	snprintf(p->confirm, sizeof p->confirm, "%s", op_subject(op));
	free(preview);
	free(body);
	return r->status = OP_DONE;
}

/* The value of revoked_key:<id>: {"by","reason","at","tenant"}. */
static char *revoked_value(const struct ops *o, const struct op *op)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "by", o->operator_id, "reason", op->reason,
	                      "at", (json_int_t)time(NULL), "tenant", op->tenant);
	char *v = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	return v;
}

static char *revoke_hook_body(const struct ops *o, const struct op *op, const char *key)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "key_id", op->target, "tenant", op->tenant,
	                      "operator", o->operator_id, "reason", op->reason,
	                      "incident", op->incident ? json_string(op->incident) : json_null(),
	                      "idempotency_key", key);
	char *v = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return v;
}

static bool backend_is(const struct ops *o, const char *name)
{
	return strcmp(o->cfg->revoke_backend ? o->cfg->revoke_backend : "db", name) == 0;
}

/* The extra back end's step of a revocation, for the plan. */
static void plan_revoke_backend(const struct ops *o, const struct op *op, struct op_plan *p)
{
	if (backend_is(o, "db+redis")) {
		char *v = revoked_value(o, op);
		snprintf(p->backend, sizeof p->backend, "SET %s%s '%s' (no expiry)", o->cfg->keys.revoked_key,
		         op->target, v ? v : "");
		free(v);
	} else if (backend_is(o, "db+webhook")) {
		char *body = revoke_hook_body(o, op, "<the journal id>");
		struct webhook_request rq = { .url = o->cfg->revoke_webhook, .token_env = o->cfg->revoke_token_env,
		                              .body = body, .idempotency_key = "<the journal id>" };
		char *preview = body ? webhook_preview(&rq) : NULL;
		snprintf(p->backend, sizeof p->backend, "POST %s", o->cfg->revoke_webhook);
		snprintf(p->request, sizeof p->request, "%s", preview ? preview : "");
		free(preview);
		free(body);
	}
}

static int journal_intent(struct ops *o, const struct op *op, const struct op_plan *p,
                          struct op_result *r);
static void journal_phase(struct ops *o, const struct op_result *r, const char *phase);

/* An attempt that failed before anything was sent (the server did not
 * answer while its state was read) is journalled too, as failed. */
static enum op_status journal_attempt(struct ops *o, const struct op *op, struct op_result *r)
{
	struct op_result failed = *r;

	journal_new_id(failed.journal_id);
	if (journal_intent(o, op, NULL, &failed) == 0)
		journal_phase(o, &failed, "result");
	memcpy(r->journal_id, failed.journal_id, sizeof r->journal_id);
	return r->status;
}

enum op_status ops_prepare(struct ops *o, struct op *op, struct op_plan *p, struct op_result *r)
{
	memset(p, 0, sizeof *p);
	memset(r, 0, sizeof *r);
	if (check_op(o, op, r) != OP_DONE || allow_refuses(o, op, p, r))
		return r->status;
	if (op_is_record(op->kind))
		return r->status = OP_DONE;
	if (op->kind == OP_ROTATE)
		return prepare_rotate(o, op, p, r);
	if (op->kind == OP_REVOKE) {
		if (read_key(o, op, p, r) != OP_DONE)
			return r->status == OP_FAILED ? journal_attempt(o, op, r) : r->status;
		char *sql = revoke_sql(o);
		snprintf(p->command, sizeof p->command, "BEGIN; %s; COMMIT only if exactly one row changed",
		         sql ? sql : "");
		free(sql);
		plan_revoke_backend(o, op, p);
		/* a prefix that is empty or not printable cannot be the text typed:
		 * the key's id (hexadecimal, checked) is asked for instead */
		snprintf(p->confirm, sizeof p->confirm, "%s",
		         ops_confirm_usable(p->key_prefix) ? p->key_prefix : op->target);
		return r->status = OP_DONE;
	}
	snprintf(p->confirm, sizeof p->confirm, "%s", op->target);
	if (read_state(o, op, p, r) != OP_DONE)
		return journal_attempt(o, op, r);
	choose_ttl(o, op, p);
	plan_extra(op, p);
	switch (op->kind) {
	case OP_BLOCK: {
		char *v = block_value(o, op);
		snprintf(p->command, sizeof p->command, "SET %s%s '%s' EX %ld", o->blocked_prefix,
		         op->target, v ? v : "", op->ttl_s);
		free(v);
		break;
	}
	case OP_UNBLOCK:
		snprintf(p->command, sizeof p->command, "DEL %s%s", o->blocked_prefix, op->target);
		break;
	case OP_EXTEND:
		snprintf(p->command, sizeof p->command, "EXPIRE %s%s %ld", o->blocked_prefix,
		         op->target, op->ttl_s);
		break;
	default:
		break;
	}
	return r->status = OP_DONE;
}

/* ---------------------------------------------------------------- journal */

static json_t *record(const struct ops *o, const char *id, const char *phase)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	return json_pack("{s:s, s:s, s:s, s:s}", "id", id, "time", when, "phase", phase,
	                 "operator", o->operator_id);
}

/* During a drill, block keys carry the drill prefix (the configuration's
 * prefixes were changed when the drill began); what has no prefix to
 * change, a key revocation, is rehearsed instead. */
static const char *op_mode(const struct ops *o, const struct op *op)
{
	if (o->cfg->read_only)
		return "read-only";
	if (o->cfg->dry_run || (o->cfg->drill && (op->kind == OP_REVOKE || op->kind == OP_ROTATE)))
		return "dry-run";
	return o->cfg->drill ? "drill" : "live";
}

static bool op_dry(const struct ops *o, const struct op *op)
{
	return strcmp(op_mode(o, op), "dry-run") == 0;
}

static int journal_intent(struct ops *o, const struct op *op, const struct op_plan *p,
                          struct op_result *r)
{
	char err[300];
	json_t *j = record(o, r->journal_id, "intent");

	json_object_set_new(j, "action", json_string(op_action_name(op->kind)));
	json_object_set_new(j, "target", json_string(op_subject(op)));
	json_object_set_new(j, "reason", op->reason ? json_string(op->reason) : json_null());
	json_object_set_new(j, "ttl_s", op->kind == OP_BLOCK || op->kind == OP_EXTEND ? json_integer(op->ttl_s) : json_null());
	json_object_set_new(j, "incident", op->incident ? json_string(op->incident) : json_null());
	json_object_set_new(j, "tenant", op->tenant ? json_string(op->tenant) : json_null());
	json_object_set_new(j, "note", op->note ? json_string(op->note) : json_null());
	json_object_set_new(j, "mode", json_string(op_mode(o, op)));
	json_object_set_new(j, "command", p ? json_string(p->command) : json_null());
	/* for reconciling it if this process dies before its result: who ran
	 * it, and the key it writes (a drill's carries the drill prefix) */
	json_object_set_new(j, "pid", json_integer((json_int_t)getpid()));
	if (op->kind == OP_BLOCK || op->kind == OP_UNBLOCK || op->kind == OP_EXTEND) {
		char *key = str_printf("%s%s", o->blocked_prefix, op->target);
		json_object_set_new(j, "key", key ? json_string(key) : json_null());
		free(key);
	}
	if (p && op->kind == OP_ROTATE) {
		json_object_set_new(j, "idempotency_key", json_string(p->idempotency_key));
		if (p->key_reused)
			json_object_set_new(j, "reuses", json_string(p->reused_from));
	}
	if (p && p->backend[0])
		json_object_set_new(j, "backend", json_string(p->backend));
	int rc = journal_append(&o->journal, j, err, sizeof err);
	json_decref(j);
	if (rc < 0)
		op_result_say(r, OP_REFUSED, "refused: the journal cannot be written (%s)", err);
	return rc;
}

static void journal_phase(struct ops *o, const struct op_result *r, const char *phase)
{
	char err[300];
	json_t *j = record(o, r->journal_id, phase);

	if (strcmp(phase, "result") == 0) {
		json_object_set_new(j, "status", json_string(op_status_name(r->status)));
		json_object_set_new(j, "message", json_string(r->message));
		json_object_set_new(j, "applied", json_boolean(r->applied));
		if (r->http_status)
			json_object_set_new(j, "http_status", json_integer(r->http_status));
		if (r->backend_status[0])
			json_object_set_new(j, "backend_status", json_string(r->backend_status));
	}
	journal_append(&o->journal, j, err, sizeof err);   /* the intent is on disk already */
	json_decref(j);
}

/* ------------------------------------------------------------------ audit */

/* The write connection: the primary, found again after a failover. */
static PGconn *ops_pg(struct ops *o)
{
	if (o->pg && PQstatus(o->pg) == CONNECTION_OK)
		return o->pg;
	if (o->pg)
		PQfinish(o->pg);
	o->pg = connect_pg(o->cfg, PG_WRITE, "sectop-actions");
	if (PQstatus(o->pg) == CONNECTION_OK)
		return o->pg;
	pg_write_error(o->cfg, o->pg, o->pg_error, sizeof o->pg_error);
	return NULL;
}

/* A write that failed because the connection was lost or its server is now
 * a standby (a failover) is worth one more try on a fresh connection. */
static bool ops_pg_lost(struct ops *o, const PGresult *res)
{
	if (PQstatus(o->pg) == CONNECTION_OK && !pg_is_read_only_error(res))
		return false;
	PQfinish(o->pg);
	o->pg = NULL;
	return true;
}

int ops_audit_rows(struct ops *o, const char *action, const char *type, char *const *targets, size_t n,
                   const char *tenant, const char *details, const char *who, const char *when)
{
	PGconn *c = ops_pg(o);
	if (!c)
		return -1;
	char *sql = pg_sql_audit_insert(&o->names, n);
	const char **v = calloc(n + 6, sizeof *v);
	int rc = -1;
	if (sql && v) {
		const char *fixed[] = { action, who ? who : o->operator_id, type, tenant, details, when };
		memcpy(v, fixed, sizeof fixed);
		memcpy(v + 6, targets, n * sizeof *v);
		int np = (int)n + 6;
		PGresult *res = PQexecParams(c, sql, np, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ops_pg_lost(o, res) && (c = ops_pg(o))) {
			PQclear(res);
			res = PQexecParams(c, sql, np, NULL, v, NULL, NULL, 0);
		}
		rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
		PQclear(res);
	}
	if (rc < 0 && c)
		pg_write_error(o->cfg, c, o->pg_error, sizeof o->pg_error);
	free(sql);
	free(v);
	return rc;
}

/* One audit row: the action, the operator as user_id, the address. */
static int audit_insert(struct ops *o, const char *action, const char *type, const char *target,
                        const char *tenant, const char *details, const char *who, const char *when)
{
	return ops_audit_rows(o, action, type, (char *const[]){ (char *)target }, 1, tenant, details, who, when);
}

/* The details column: the journal id, the reason, the incident, the mode,
 * and what extra holds (rotate: the idempotency key and the answer). */
static char *audit_details(const struct op *op, const char *id, const char *mode, json_t *extra)
{
	if (!mode)
		mode = "live";
	json_t *j = json_pack("{s:s, s:o, s:o, s:s, s:o, s:o}", "journal_id", id,
	    "reason", op->reason ? json_string(op->reason) : json_null(),
	    "ttl_s", op->kind == OP_BLOCK || op->kind == OP_EXTEND ? json_integer(op->ttl_s) : json_null(),
	    "mode", mode, "incident", op->incident ? json_string(op->incident) : json_null(),
	    "note", op->note ? json_string(op->note) : json_null());
	if (j && strcmp(mode, "drill") == 0)
		json_object_set_new(j, "drill", json_true());
	if (j && op->kind == OP_ROTATE)
		json_object_set_new(j, "secret", json_string(op_subject(op)));
	if (j && extra)
		json_object_update(j, extra);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* ---------------------------------------------------------------- execute */

/* The command, queued in MULTI after the plan's WATCH: *changed is set when
 * EXEC found the key touched since the plan read it (nothing was run). */
static redisReply *redis_apply(struct rlink *c, const struct ops *o, const struct op *op, bool *changed)
{
	redisReply *rep = NULL, *multi = rlink_call(c, "MULTI");
	bool queued = multi && multi->type == REDIS_REPLY_STATUS;

	freeReplyObject(multi);
	if (!queued)
		return NULL;
	if (op->kind == OP_BLOCK) {
		char *v = block_value(o, op);
		freeReplyObject(v ? rlink_call(c, "SET %s%s %s EX %ld NX", o->blocked_prefix, op->target, v, op->ttl_s) : NULL);
		free(v);
	} else if (op->kind == OP_UNBLOCK) {
		freeReplyObject(rlink_call(c, "DEL %s%s", o->blocked_prefix, op->target));
	} else {
		freeReplyObject(rlink_call(c, "EXPIRE %s%s %ld", o->blocked_prefix, op->target, op->ttl_s));
	}
	redisReply *exec = rlink_call(c, "EXEC");
	if (exec && exec->type == REDIS_REPLY_NIL)
		*changed = true;
	else if (exec && exec->type == REDIS_REPLY_ARRAY && exec->elements == 1) {
		rep = exec->element[0];
		exec->element[0] = NULL;
		exec->elements = 0;
	} else if (exec && exec->type == REDIS_REPLY_ERROR) {
		rep = exec;
		exec = NULL;
	}
	freeReplyObject(exec);
	return rep;
}

static enum op_status run_redis(struct ops *o, const struct op *op, const struct op_plan *p,
                                struct op_result *r)
{
	struct rlink *c = ops_redis(o, r);
	bool changed = false;

	if (!c)
		return r->status;
	if (op->kind != OP_BLOCK && op->kind != OP_UNBLOCK && op->kind != OP_EXTEND)
		return op_result_say(r, OP_FAILED, "not a Redis action");
	redisReply *rep = redis_apply(c, o, op, &changed);
	if (changed) {
		op_result_say(r, OP_ALREADY, "%s changed while you confirmed (blocked, unblocked or extended by another,"
		    " or expired): nothing was sent; look at it again", op->target);
	} else if (!rep || rep->type == REDIS_REPLY_ERROR) {
		op_result_say(r, OP_FAILED, "redis: %s", rep ? rep->str : rlink_error(c));
	} else if (rep->type == REDIS_REPLY_NIL || (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0)) {
		op_result_say(r, OP_ALREADY, "%s changed while you confirmed (%s): nothing changed", op->target,
		    op->kind == OP_BLOCK ? "blocked meanwhile" : "no longer blocked");
	} else if (p->ttl_step) {
		char ttl[16];
		str_duration(ttl, sizeof ttl, op->ttl_s);
		op_result_say(r, OP_DONE, "%s %s for %s (%s)", op->target, op->kind == OP_BLOCK ? "blocked" : "block extended",
		    ttl, p->ttl_why);
		r->applied = true;
	} else {
		op_result_say(r, OP_DONE, "%s %s", op->target, op->kind == OP_BLOCK ? "blocked" :
		    op->kind == OP_UNBLOCK ? "unblocked" : "block extended");
		r->applied = true;
	}
	freeReplyObject(rep);
	return r->status;
}

static bool pg_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

/* In a transaction committed only when exactly one row changed; a dry run
 * always rolls back, and says how many rows it would have changed. */
static enum op_status run_revoke(struct ops *o, const struct op *op, struct op_result *r, bool dry)
{
	PGconn *c = ops_pg(o);
	char *sql = revoke_sql(o);
	const char *v[] = { o->operator_id, op->reason, op->target, op->tenant };

	if (!c || !sql || !pg_ok(c, "BEGIN")) {
		free(sql);
		return op_result_say(r, OP_FAILED, "postgres: %s", c ? PQerrorMessage(c) : o->pg_error);
	}
	PGresult *res = PQexecParams(c, sql, 4, NULL, v, NULL, NULL, 0);
	long rows = PQresultStatus(res) == PGRES_COMMAND_OK ? strtol(PQcmdTuples(res), NULL, 10) : -1;
	if (rows < 0)
		op_result_say(r, OP_FAILED, "postgres: %s", PQerrorMessage(c));
	PQclear(res);
	free(sql);
	if (rows == 1 && !dry && pg_ok(c, "COMMIT")) {
		r->applied = true;
		return op_result_say(r, OP_DONE, "key %s of %s revoked", op->target, op->tenant);
	}
	pg_ok(c, "ROLLBACK");
	if (dry && rows >= 0)
		return op_result_say(r, OP_DONE, "dry run: the UPDATE would change %ld row%s (rolled back)", rows, rows == 1 ? "" : "s");
	if (rows == 0)
		return op_result_say(r, OP_ALREADY, "key %s is already revoked (or gone): nothing changed", op->target);
	if (rows > 1)
		return op_result_say(r, OP_FAILED, "the UPDATE matched %ld rows, not one: rolled back", rows);
	return r->status;
}

void op_result_append(struct op_result *r, const char *fmt, ...)
{
	size_t n = strlen(r->message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->message + n, sizeof r->message - n, fmt, ap);
	va_end(ap);
}

/* After the database committed: revoked_key:<id> in Redis, or the webhook.
 * A failure leaves the key revoked in the database: the result says so and
 * becomes OP_FAILED, and the action is still audited. */
static void run_revoke_backend(struct ops *o, const struct op *op, struct op_result *r)
{
	if (backend_is(o, "db+redis")) {
		struct rlink *c = ops_redis(o, &(struct op_result){ 0 });
		char *v = revoked_value(o, op);
		redisReply *rep = c && v ? rlink_call(c, "SET %s%s %s", o->cfg->keys.revoked_key, op->target, v) : NULL;
		bool ok = rep && rep->type == REDIS_REPLY_STATUS;
		if (ok) {
			snprintf(r->backend_status, sizeof r->backend_status, "done");
			op_result_append(r, "; %s%s set in Redis", o->cfg->keys.revoked_key, op->target);
		} else {
			snprintf(r->backend_status, sizeof r->backend_status, "failed");
			r->status = OP_FAILED;
			op_result_append(r, " in the database, but NOT in Redis (%s): the servers accept it until they look it up;"
			       " set %s%s by hand, or revoke again once Redis is back",
			       rep && rep->type == REDIS_REPLY_ERROR ? rep->str : c ? rlink_error(c) : "cannot connect",
			       o->cfg->keys.revoked_key, op->target);
		}
		freeReplyObject(rep);
		free(v);
		if (!ok && c) {
			rlink_free(c);
			o->redis = NULL;
		}
	} else if (backend_is(o, "db+webhook")) {
		char *body = revoke_hook_body(o, op, r->journal_id);
		struct webhook_request rq = { .url = o->cfg->revoke_webhook, .token_env = o->cfg->revoke_token_env,
		                              .ca_file = o->cfg->revoke_ca_file, .timeout_ms = o->cfg->timeout_ms,
		                              .body = body, .idempotency_key = r->journal_id };
		struct webhook_result wr;
		if (body)
			webhook_post(&rq, &wr);
		else
			wr = (struct webhook_result){ .outcome = WH_NOT_SENT, .error = "cannot encode the body" };
		r->http_status = wr.http_status;
		if (wr.outcome == WH_ACCEPTED) {
			snprintf(r->backend_status, sizeof r->backend_status, "done");
			op_result_append(r, "; the revocation webhook answered HTTP %ld", wr.http_status);
		} else {
			snprintf(r->backend_status, sizeof r->backend_status, "failed");
			r->status = OP_FAILED;
			op_result_append(r, " in the database, but the revocation webhook %s (%s)",
			       wr.outcome == WH_UNKNOWN ? "gave no clear answer" :
			       wr.outcome == WH_REFUSED ? "refused it" : "was not reached", wr.error);
		}
		free(body);
	}
}

static enum op_status run_rotate(struct ops *o, const struct op *op, const struct op_plan *p,
                                 struct op_result *r)
{
	struct webhook_request rq;
	struct webhook_result wr;
	char *body;

	rotate_request(o, op, p, &rq, &body);
	if (!body)
		return op_result_say(r, OP_FAILED, "nothing sent: the request cannot be encoded");
	webhook_post(&rq, &wr);
	free(body);
	r->http_status = wr.http_status;
	switch (wr.outcome) {
	case WH_ACCEPTED:
		r->applied = true;
		return op_result_say(r, OP_DONE, "rotation of %s requested: HTTP %ld (idempotency key %s)", op_subject(op),
		           wr.http_status, p->idempotency_key);
	case WH_UNKNOWN:
		r->applied = true;     /* it may have been: audited, and retried with the same key */
		return op_result_say(r, OP_UNKNOWN, "the rotation of %s is in an unknown state: %s; `sectop rotate %s` again"
		           " sends the same idempotency key %s", op_subject(op), wr.error, op_subject(op), p->idempotency_key);
	case WH_REFUSED:
		return op_result_say(r, OP_FAILED, "the webhook refused the rotation of %s: %s%s%.160s", op_subject(op), wr.error,
		           wr.answer[0] ? ": " : "", wr.answer);
	case WH_NOT_SENT:
		break;
	}
	return op_result_say(r, OP_FAILED, "nothing sent: %s", wr.error);
}

/* The extra fields of the audit row's details and of the journal. */
static json_t *audit_extra(const struct op *op, const struct op_plan *p, const struct op_result *r)
{
	json_t *x = json_object();

	if (op->kind == OP_ROTATE && p) {
		json_object_set_new(x, "idempotency_key", json_string(p->idempotency_key));
		json_object_set_new(x, "outcome", json_string(op_status_name(r->status)));
		json_object_set_new(x, "http_status", r->http_status ? json_integer(r->http_status) : json_null());
	}
	if (op->kind == OP_REVOKE && r->backend_status[0])
		json_object_set_new(x, "backend_status", json_string(r->backend_status));
	if (op->kind != OP_ROTATE && r->status != OP_DONE)
		json_object_set_new(x, "outcome", json_string(op_status_name(r->status)));
	return x;
}

/* The audit row's action: the operation's, with "_noop" when it found
 * nothing to do, so that counts of blocks and revocations stay true. */
static void audit_action(char *out, size_t n, const char *action, const char *status, bool applied)
{
	bool noop = status && (strcmp(status, "already") == 0 || (strcmp(status, "interrupted") == 0 && !applied));
	snprintf(out, n, "%s%s", action, noop ? "_noop" : "");
}

static void audit(struct ops *o, const struct op *op, const struct op_plan *p, struct op_result *r)
{
	json_t *extra = audit_extra(op, p, r);
	char *details = audit_details(op, r->journal_id, op_mode(o, op), extra);

	char action[64];
	audit_action(action, sizeof action, op_action_name(op->kind), op_status_name(r->status), r->applied);
	r->audited = details && audit_insert(o, action, op_resource_type(op->kind),
	                                     op_subject(op), op->tenant, details, NULL, NULL) == 0;
	free(details);
	json_decref(extra);
	if (r->audited)
		journal_phase(o, r, "audited");
	else
		op_result_append(r, "; the audit row waits in the journal (PostgreSQL: %s)", o->pg_error);
}

/* A runbook step or a drill's start and end: journalled when live or
 * rehearsed (the journal is the operator's own record), audited only when
 * live or in a drill.  --read-only writes nothing at all, not even here. */
static enum op_status execute_record(struct ops *o, const struct op *op, struct op_result *r)
{
	if (o->cfg->read_only)
		return op_result_say(r, OP_REFUSED, "read-only: nothing is recorded (--read-only)");
	journal_new_id(r->journal_id);
	if (journal_intent(o, op, NULL, r) < 0)
		return r->status;
	op_result_say(r, OP_DONE, "recorded");
	r->applied = !o->cfg->read_only && !o->cfg->dry_run;
	journal_phase(o, r, "result");
	if (r->applied)
		audit(o, op, NULL, r);
	return r->status;
}

/* A test stops an action at one of its points (SECTOP_STOP_AT=intent,
 * executed or result) to kill it there, as a lost session would. */
static bool stop_armed(const char *name)
{
	const char *at = getenv("SECTOP_STOP_AT");
	return at && strcmp(at, name) == 0;
}

static void stop_point(const char *name)
{
	if (stop_armed(name))
		raise(SIGSTOP);
}

static bool audited_mode(const char *mode)
{
	return mode && (strcmp(mode, "live") == 0 || strcmp(mode, "drill") == 0);
}

/* The plan shows there is nothing to do: said in r (OP_ALREADY).  Such an
 * attempt is journalled and audited too, as what it was. */
static bool nothing_to_do(const struct op *op, const struct op_plan *p, struct op_result *r)
{
	if (op->kind == OP_REVOKE && p->key_revoked)
		op_result_say(r, OP_ALREADY, "key %s is already revoked: nothing changed", op->target);
	else if (op->kind == OP_BLOCK && p->blocked)
		op_result_say(r, OP_ALREADY, "%s is already blocked (%ld s left): nothing changed; extend it instead",
		    op->target, p->ttl_s);
	else if (op->kind == OP_UNBLOCK && !p->blocked)
		op_result_say(r, OP_ALREADY, "%s is not blocked: nothing changed", op->target);
	else if (op->kind == OP_EXTEND && (p->ttl_s == -1 || p->ttl_s >= op->ttl_s))
		op_result_say(r, OP_ALREADY, "the block on %s already lasts at least as long (%s%ld s left) as the %ld s asked:"
		    " an extension never shortens it; nothing changed", op->target, p->ttl_s == -1 ? "no expiry, " : "",
		    p->ttl_s == -1 ? 0 : p->ttl_s, op->ttl_s);
	else
		return false;
	return true;
}

/* The result, then the audit row, under the journal's lock: a retry in
 * another process that read the journal between the two would write the
 * row a second time (the soak saw it). */
static void result_and_audit(struct ops *o, const struct op *op, const struct op_plan *p,
                             struct op_result *r, bool audited)
{
	if (o->journal.fd >= 0)
		flock(o->journal.fd, LOCK_EX);
	journal_phase(o, r, "result");
	if (o->journal.fd >= 0 && stop_armed("result")) {
		flock(o->journal.fd, LOCK_UN);           /* a test's stop must not hold others up */
		stop_point("result");
		flock(o->journal.fd, LOCK_EX);
	} else {
		stop_point("result");
	}
	if (audited)
		audit(o, op, p, r);
	if (o->journal.fd >= 0)
		flock(o->journal.fd, LOCK_UN);
}

enum op_status ops_execute(struct ops *o, const struct op *op, const struct op_plan *p,
                           struct op_result *r)
{
	memset(r, 0, sizeof *r);
	if (op_is_record(op->kind))
		return execute_record(o, op, r);
	if (o->cfg->read_only)
		return op_result_say(r, OP_REFUSED, "read-only: no action is taken (--read-only)");
	if (op->kind == OP_EXTEND && !p->blocked)
		return op_result_say(r, OP_REFUSED, "%s is not blocked: there is nothing to extend (block it instead)", op->target);
	if (op->kind == OP_ROTATE) {
		snprintf(r->idempotency_key, sizeof r->idempotency_key, "%s", p->idempotency_key);
		r->key_reused = p->key_reused;
	}
	journal_new_id(r->journal_id);
	if (journal_intent(o, op, p, r) < 0)
		return r->status;
	stop_point("intent");
	if (nothing_to_do(op, p, r)) {
		result_and_audit(o, op, p, r, audited_mode(op_mode(o, op)));
		return r->status;
	}
	if (op_dry(o, op)) {
		if (op->kind == OP_REVOKE) {
			run_revoke(o, op, r, true);
			if (p->backend[0] && r->status == OP_DONE) {
				op_result_append(r, "; then %s", p->backend);
				snprintf(r->backend_status, sizeof r->backend_status, "dry-run");
			}
		} else if (op->kind == OP_ROTATE) {
			op_result_say(r, OP_DONE, "dry run: would POST the rotation of %s to %s (idempotency key %s%s); nothing sent",
			    op_subject(op), conf_secret_find(o->cfg, op_subject(op))->webhook, p->idempotency_key,
			    p->key_reused ? ", reused" : "");
		} else {
			op_result_say(r, OP_DONE, "dry run: would send %s", p->command);
		}
		journal_phase(o, r, "result");
		return r->status;
	}
	if (op->kind == OP_REVOKE) {
		run_revoke(o, op, r, false);
		if (r->applied)
			run_revoke_backend(o, op, r);
	} else if (op->kind == OP_ROTATE) {
		run_rotate(o, op, p, r);
	} else {
		run_redis(o, op, p, r);
	}
	stop_point("executed");
	result_and_audit(o, op, p, r, r->applied || r->status == OP_ALREADY);
	return r->status;
}

/* ------------------------------------------------------------------ retry */

/* The journal's done actions with no "audited" record after them. */
int ops_retry_audits(struct ops *o)
{
	size_t bad;
	if (o->cfg->read_only || o->cfg->dry_run)
		return 0;                    /* a refused or rehearsed command writes nothing */
	if (o->journal.fd >= 0)
		flock(o->journal.fd, LOCK_EX);   /* two retries would write a row twice */
	json_t *all = journal_read(o->journal.path, &bad), *rec;
	json_t *intents = json_object(), *done = json_object();
	size_t i;
	int missing = 0;

	if (!all) {
		flock(o->journal.fd, LOCK_UN);
		return -1;
	}
	json_array_foreach(all, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		const char *phase = json_string_value(json_object_get(rec, "phase"));
		const char *status = json_string_value(json_object_get(rec, "status"));
		if (!id || !phase)
			continue;
		json_t *applied = json_object_get(rec, "applied");
		if (strcmp(phase, "intent") == 0)
			json_object_set(intents, id, rec);
		else if (strcmp(phase, "result") == 0 &&
		         ((json_is_boolean(applied) ? json_is_true(applied) : status && strcmp(status, "done") == 0) ||
		          (status && (strcmp(status, "already") == 0 || strcmp(status, "interrupted") == 0))) &&
		         audited_mode(json_string_value(json_object_get(json_object_get(intents, id), "mode"))))
			json_object_set(done, id, rec);
		else if (strcmp(phase, "audited") == 0)
			json_object_del(done, id);
	}
	const char *id;
	json_t *v;
	json_object_foreach(done, id, v) {
		json_t *in = json_object_get(intents, id);
		if (json_object_get(in, "range")) {          /* a range's rows, one per address */
			struct op_result rr = { .status = OP_DONE };
			snprintf(rr.journal_id, sizeof rr.journal_id, "%s", id);
			if (range_retry_audit(o, in, v, id) == 0) {
				journal_phase(o, &rr, "audited");
				o->retried++;
			} else {
				missing++;
			}
			continue;
		}
		struct op op = { .reason = json_string_value(json_object_get(in, "reason")),
		                 .ttl_s = (long)json_integer_value(json_object_get(in, "ttl_s")),
		                 .incident = json_string_value(json_object_get(in, "incident")) };
		const char *action = json_string_value(json_object_get(in, "action"));
		const char *target = json_string_value(json_object_get(in, "target"));
		op.kind = op_kind_of(action);
		op.tenant = json_string_value(json_object_get(in, "tenant"));
		op.note = json_string_value(json_object_get(in, "note"));
		if (op.kind == OP_ROTATE)
			op.secret = target;
		else
			snprintf(op.target, sizeof op.target, "%s", target ? target : "");
		struct op_plan plan = { 0 };
		struct op_result r = { .status = OP_DONE };
		snprintf(plan.idempotency_key, sizeof plan.idempotency_key, "%s",
		         json_string_value(json_object_get(in, "idempotency_key")) ?: "");
		const char *st = json_string_value(json_object_get(v, "status")) ?: "done";
		r.status = strcmp(st, "unknown") == 0 ? OP_UNKNOWN : strcmp(st, "failed") == 0 ? OP_FAILED :
		           strcmp(st, "already") == 0 ? OP_ALREADY : OP_DONE;
		r.http_status = (long)json_integer_value(json_object_get(v, "http_status"));
		snprintf(r.backend_status, sizeof r.backend_status, "%s",
		         json_string_value(json_object_get(v, "backend_status")) ?: "");
		json_t *extra = audit_extra(&op, &plan, &r);
		json_t *outcome = json_object_get(v, "outcome");      /* "interrupted: applied", ... */
		if (json_is_string(outcome))
			json_object_set(extra, "outcome", outcome);
		char *details = audit_details(&op, id, json_string_value(json_object_get(in, "mode")), extra);
		json_decref(extra);
		snprintf(r.journal_id, sizeof r.journal_id, "%s", id);
		char audited_as[64];
		audit_action(audited_as, sizeof audited_as, action ? action : "", st,
		             json_is_true(json_object_get(v, "applied")));
		if (details && action && target &&
		    audit_insert(o, audited_as, op_resource_type(op.kind), target, op.tenant, details,
		                 json_string_value(json_object_get(in, "operator")),
		                 json_string_value(json_object_get(v, "time"))) == 0) {
			journal_phase(o, &r, "audited");
			o->retried++;
		} else {
			missing++;
		}
		free(details);
	}
	json_decref(all);
	json_decref(intents);
	json_decref(done);
	if (o->journal.fd >= 0)
		flock(o->journal.fd, LOCK_UN);
	return missing;
}

/* ----------------------------------------------------------- interrupted */

/* Could the process that journalled this intent still be running it?  Its
 * own (this process), or a live pid for a while (a pid is reused in time). */
static bool intent_may_be_running(json_t *in, time_t now)
{
	json_int_t pid = json_integer_value(json_object_get(in, "pid"));
	const char *when = json_string_value(json_object_get(in, "time"));
	struct tm tm = { 0 };

	if (pid <= 0)
		return false;
	if (pid == (json_int_t)getpid())
		return true;
	bool alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
	time_t at = when && strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm) ? timegm(&tm) : 0;
	return alive && now - at < 600;
}

/* Is what the block key holds sectop's value for this intent (its operator
 * and reason)? */
static bool block_value_is(const redisReply *v, json_t *in)
{
	json_t *j = v && v->type == REDIS_REPLY_STRING ? json_loadb(v->str, v->len, 0, NULL) : NULL;
	const char *by = json_string_value(json_object_get(j, "by")), *why = json_string_value(json_object_get(j, "reason"));
	const char *op = json_string_value(json_object_get(in, "operator")), *reason = json_string_value(json_object_get(in, "reason"));
	bool same = by && why && op && reason && strcmp(by, op) == 0 && strcmp(why, reason) == 0;

	json_decref(j);
	return same;
}

/* Did the intent reach the servers?  1 yes, 0 no, -1 cannot tell now. */
static int intent_landed(struct ops *o, json_t *in, time_t now)
{
	enum op_kind kind = op_kind_of(json_string_value(json_object_get(in, "action")));
	const char *key = json_string_value(json_object_get(in, "key"));
	struct op_result ignored = { 0 };

	if (op_is_record(kind))
		return 1;                            /* the journal is where a record lands */
	if (kind == OP_REVOKE) {
		PGconn *c = ops_pg(o);
		char *t = pg_sql_ident(o->cfg->schema.keys_table);
		char *sql = t ? str_printf("SELECT 1 FROM %s WHERE id::text = $1 AND tenant_id = $2 AND revoked_at IS NOT NULL"
		                           " AND revoked_by = $3 AND revoke_reason = $4", t) : NULL;
		const char *v[] = { json_string_value(json_object_get(in, "target")),
		                    json_string_value(json_object_get(in, "tenant")),
		                    json_string_value(json_object_get(in, "operator")),
		                    json_string_value(json_object_get(in, "reason")) };
		PGresult *res = c && sql ? PQexecParams(c, sql, 4, NULL, v, NULL, NULL, 0) : NULL;
		int landed = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) > 0 : -1;
		PQclear(res);
		free(sql);
		free(t);
		return landed;
	}
	struct rlink *c = key ? ops_redis(o, &ignored) : NULL;
	if (!c)
		return -1;
	redisReply *v = rlink_call(c, "GET %s", key), *t = v ? rlink_call(c, "TTL %s", key) : NULL;
	int landed = -1;
	if (v && t && v->type != REDIS_REPLY_ERROR && t->type == REDIS_REPLY_INTEGER) {
		const char *when = json_string_value(json_object_get(in, "time"));
		struct tm tm = { 0 };
		long elapsed = when && strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm) ? (long)(now - timegm(&tm)) : 0;
		long asked = (long)json_integer_value(json_object_get(in, "ttl_s"));
		if (kind == OP_BLOCK)
			landed = block_value_is(v, in);
		else if (kind == OP_UNBLOCK)
			landed = v->type == REDIS_REPLY_NIL;
		else                                  /* extend: the TTL is what was asked, less the time since */
			landed = t->integer >= 0 && t->integer >= asked - elapsed - 5 && t->integer <= asked;
	}
	freeReplyObject(v);
	freeReplyObject(t);
	return landed;
}

/* The result an interrupted action never wrote, from the servers' state. */
static void journal_interrupted(struct ops *o, json_t *in, const char *id, int landed)
{
	char err[300];
	const char *mode = json_string_value(json_object_get(in, "mode"));
	bool rehearsed = mode && strcmp(mode, "dry-run") == 0;
	bool applied = landed == 1 && !rehearsed;
	const char *outcome = applied ? "interrupted: applied" : "interrupted: not applied";
	json_t *j = record(o, id, "result");

	json_object_set_new(j, "status", json_string("interrupted"));
	json_object_set_new(j, "outcome", json_string(outcome));
	json_object_set_new(j, "applied", json_boolean(applied));
	json_object_set_new(j, "message", json_string(applied ?
	    "interrupted: applied (the process ended before recording it; the servers show the change)" :
	    "interrupted: not applied (the process ended before recording it; the servers do not show the change)"));
	journal_append(&o->journal, j, err, sizeof err);
	json_decref(j);
}

int ops_reconcile(struct ops *o)
{
	size_t bad, i;
	int n = 0;
	time_t now = time(NULL);

	if (o->cfg->read_only || o->cfg->dry_run || o->journal.fd < 0)
		return 0;
	flock(o->journal.fd, LOCK_EX);           /* one reconciler at a time */
	json_t *all = journal_read(o->journal.path, &bad), *rec, *open = json_object();
	json_array_foreach(all, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		const char *phase = json_string_value(json_object_get(rec, "phase"));
		if (id && phase && strcmp(phase, "intent") == 0)
			json_object_set(open, id, rec);
		else if (id && phase && strcmp(phase, "result") == 0)
			json_object_del(open, id);
	}
	const char *id;
	json_t *in;
	json_object_foreach(open, id, in) {
		enum op_kind kind = op_kind_of(json_string_value(json_object_get(in, "action")));
		if (kind == OP_ROTATE || intent_may_be_running(in, now))
			continue;                    /* a rotation stays pending: its key is reused */
		if (json_object_get(in, "range")) {
			n += range_reconcile(o, in, id);
			continue;
		}
		int landed = intent_landed(o, in, now);
		if (landed < 0)
			continue;                    /* the server cannot say now: the next command asks */
		journal_interrupted(o, in, id, landed);
		n++;
	}
	flock(o->journal.fd, LOCK_UN);
	json_decref(open);
	json_decref(all);
	o->reconciled += (unsigned)n;
	return n;
}

/* ------------------------------------------------ shared with range_action.c */

struct rlink *ops_redis_link(struct ops *o, struct op_result *r)
{
	return ops_redis(o, r);
}

PGconn *ops_pg_conn(struct ops *o)
{
	return ops_pg(o);
}

json_t *ops_journal_record(const struct ops *o, const char *id, const char *phase)
{
	return record(o, id, phase);
}

const char *ops_mode(const struct ops *o, const struct op *op)
{
	return op_mode(o, op);
}

bool ops_mode_audited(const char *mode)
{
	return audited_mode(mode);
}

char *ops_audit_details(const struct op *op, const char *id, const char *mode, json_t *extra)
{
	return audit_details(op, id, mode, extra);
}

void ops_audit_action(char *out, size_t n, const char *action, const char *status, bool applied)
{
	audit_action(out, n, action, status, applied);
}

bool ops_stop_armed(const char *name)
{
	return stop_armed(name);
}

void ops_stop_point(const char *name)
{
	stop_point(name);
}
