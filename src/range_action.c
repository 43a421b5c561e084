#include "config.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "actions_priv.h"
#include "conf.h"
#include "connect.h"
#include "iprange.h"
#include "pg_sql.h"
#include "range_action.h"
#include "redis_link.h"
#include "strutil.h"

/* Keys read one round trip each to find which members are blocked: a
 * range with more candidates than this is refused before Redis is asked. */
#define RANGE_READ_MAX 4096

const char *range_state_name(enum member_state s)
{
	switch (s) {
	case MEMBER_PLANNED: return "planned";
	case MEMBER_SKIPPED: return "skipped";
	case MEMBER_LEFT: return "left";
	case MEMBER_DONE: return "done";
	case MEMBER_CHANGED: return "changed";
	case MEMBER_FAILED: return "failed";
	}
	return "?";
}

size_t range_count(const struct range_plan *p, enum member_state s)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].state == s;
	return n;
}

void range_plan_free(struct range_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].value);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static struct range_member *add_member(struct range_plan *p, const char *ip, long failures)
{
	struct range_member *v = realloc(p->v, (p->n + 1) * sizeof *v);

	if (!v)
		return NULL;
	p->v = v;
	v = &p->v[p->n++];
	memset(v, 0, sizeof *v);
	snprintf(v->ip, sizeof v->ip, "%s", ip);
	v->failures = failures;
	return v;
}

/* ------------------------------------------------------------ PostgreSQL */

/* The addresses of the range that failed in the window, most failures
 * first: the window, the failure definition and the tenant the console
 * and the snapshot count with (the plan's window and tenant). */
static enum op_status find_failing(struct ops *o, struct range_plan *p, struct op_result *r)
{
	const struct config *cfg = o->cfg;
	const struct pg_sql_names *q = &o->names;
	PGconn *c = ops_pg_conn(o);
	if (!c)
		return op_result_say(r, OP_FAILED, "postgres: %s", o->pg_error);
	char *sql = str_printf("SELECT host(a.%s), count(*), count(*) OVER () FROM %s a"
	                       " WHERE a.%s >= date_trunc('minute', now()) - make_interval(secs => $4::int)"
	                       " AND a.%s <= now() + interval '1 second'"
	                       " AND (a.%s = ANY($1::text[]) OR a.%s = ANY($2::int[]))"
	                       " AND ($3::text IS NULL OR a.%s = $3::text) AND a.%s <<= $5::inet"
	                       " GROUP BY a.%s ORDER BY count(*) DESC, a.%s LIMIT $6::int",
	                       q->ip, q->t, q->ts, q->ts, q->action, q->status, q->tenant, q->ip, q->ip, q->ip);
	char *acts = pg_sql_text_array(cfg->failure_actions.v, cfg->failure_actions.n);
	char *codes = pg_sql_int_array(cfg->failure_statuses, cfg->n_failure_statuses);
	char window[16], limit[16];
	snprintf(window, sizeof window, "%d", p->window_s);
	snprintf(limit, sizeof limit, "%d", RANGE_FETCH_MAX);
	const char *v[] = { acts, codes, p->tenant, window, p->op.target, limit };
	PGresult *res = sql && acts && codes ? PQexecParams(c, sql, 6, NULL, v, NULL, NULL, 0) : NULL;
	enum op_status rc = OP_DONE;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_write_error(cfg, c, o->pg_error, sizeof o->pg_error);
		rc = op_result_say(r, OP_FAILED, "postgres: the range's failing addresses cannot be read: %s", o->pg_error);
	}
	if (rc == OP_DONE && PQntuples(res) > 0 && strtol(PQgetvalue(res, 0, 2), NULL, 10) > PQntuples(res))
		rc = op_result_say(r, OP_REFUSED, "%s addresses of %s failed in the window, more than %d: nothing done;"
		         " act on narrower ranges", PQgetvalue(res, 0, 2), p->op.target, RANGE_FETCH_MAX);
	for (int i = 0; rc == OP_DONE && i < PQntuples(res); i++) {
		char normal[IPADDR_LEN], err[160];
		p->failing = strtol(PQgetvalue(res, i, 2), NULL, 10);
		if (ipaddr_normalize(PQgetvalue(res, i, 0), normal, sizeof normal, err, sizeof err) < 0)
			continue;                     /* an IPv4-mapped or scoped form: not a key the servers write */
		if (!add_member(p, normal, strtol(PQgetvalue(res, i, 1), NULL, 10)))
			rc = op_result_say(r, OP_FAILED, "out of memory");
	}
	PQclear(res);
	free(sql);
	free(acts);
	free(codes);
	return rc;
}

/* Earlier blocks of this range (one per journal id) within block-memory,
 * drills left out; -1 with o->pg_error. */
static long earlier_range_blocks(struct ops *o, const char *range)
{
	const struct pg_sql_names *q = &o->names;
	PGconn *c = ops_pg_conn(o);
	if (!c)
		return -1;
	char *sql = str_printf("SELECT count(DISTINCT %s->>'journal_id') FROM %s WHERE %s = $1 AND %s->>'range' = $2"
	                       " AND %s >= now() - make_interval(secs => $3::int)"
	                       " AND coalesce(%s->>'mode', 'live') <> 'drill'",
	                       q->details, q->t, q->action, q->details, q->ts, q->details);
	return ops_count_blocks(o, c, sql, range);
}

/* The addresses range blocks of this range were audited for (the keys
 * they set carry the range; they last at most 365 days). */
static enum op_status find_range_blocked(struct ops *o, struct range_plan *p, struct op_result *r)
{
	const struct pg_sql_names *q = &o->names;
	PGconn *c = ops_pg_conn(o);
	if (!c)
		return op_result_say(r, OP_FAILED, "postgres: %s", o->pg_error);
	char *sql = str_printf("SELECT DISTINCT %s FROM %s WHERE %s = $1 AND %s->>'range' = $2"
	                       " AND %s >= now() - interval '366 days' LIMIT $3::int",
	                       q->rid, q->t, q->action, q->details, q->ts);
	char limit[16];
	snprintf(limit, sizeof limit, "%d", RANGE_FETCH_MAX);
	const char *v[] = { op_action_name(OP_BLOCK), p->op.target, limit };
	PGresult *res = sql ? PQexecParams(c, sql, 3, NULL, v, NULL, NULL, 0) : NULL;
	enum op_status rc = OP_DONE;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_write_error(o->cfg, c, o->pg_error, sizeof o->pg_error);
		rc = op_result_say(r, OP_FAILED, "postgres: the range's earlier blocks cannot be read: %s", o->pg_error);
	}
	for (int i = 0; rc == OP_DONE && i < PQntuples(res); i++)
		if (ipnet_contains(&p->net, PQgetvalue(res, i, 0)) && !add_member(p, PQgetvalue(res, i, 0), 0))
			rc = op_result_say(r, OP_FAILED, "out of memory");
	PQclear(res);
	free(sql);
	return rc;
}

/* ----------------------------------------------------------------- Redis */

static char *member_key(const struct ops *o, const char *ip)
{
	return str_printf("%s%s", o->blocked_prefix, ip);
}

/* The value a range block writes: a single block's, with the range. */
static char *range_value(const struct ops *o, const struct op *op)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "by", o->operator_id, "reason", op->reason,
	                      "at", (json_int_t)time(NULL), "via", "sectop", "range", op->target);
	if (j && strcmp(ops_mode(o, op), "drill") == 0)
		json_object_set_new(j, "drill", json_true());
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	return s;
}

/* Who set a block key, for the preview: "the servers", "bob (a single
 * block)", "bob (range 203.0.113.0/24)", "fail2ban", or "(a key of another
 * type)" when it holds no string. */
static void key_owner(const redisReply *v, char *out, size_t n)
{
	if (v->type != REDIS_REPLY_STRING) {
		snprintf(out, n, "(a key of another type)");
		return;
	}
	json_t *j = json_loadb(v->str, v->len, 0, NULL);
	const char *by = json_string_value(json_object_get(j, "by"));
	const char *via = json_string_value(json_object_get(j, "via"));
	const char *range = json_string_value(json_object_get(j, "range"));

	if (!json_is_object(j))
		snprintf(out, n, "the servers");
	else if (via && strcmp(via, "sectop") == 0 && range)
		snprintf(out, n, "%.100s (a block of range %.60s)", by ? by : "?", range);
	else if (via && strcmp(via, "sectop") == 0)
		snprintf(out, n, "%.100s (a single block)", by ? by : "?");
	else
		snprintf(out, n, "%.100s (another tool)", by ? by : "?");
	json_decref(j);
}

/* Did a range block of this range set this value? */
static bool set_by_range(const char *v, size_t len, const char *range)
{
	json_t *j = json_loadb(v, len, 0, NULL);
	const char *via = json_string_value(json_object_get(j, "via"));
	const char *set = json_string_value(json_object_get(j, "range"));
	bool ours = via && set && strcmp(via, "sectop") == 0 && strcmp(set, range) == 0;

	json_decref(j);
	return ours;
}

/* Each planned member's key as it is now: a block of a blocked address, an
 * unblock of a key a range block did not set, is skipped or left. */
static enum op_status read_keys(struct ops *o, struct range_plan *p, struct op_result *r)
{
	struct rlink *c = ops_redis_link(o, r);
	if (!c)
		return r->status;
	for (size_t i = 0; i < p->n; i++) {
		struct range_member *m = &p->v[i];
		if (m->state != MEMBER_PLANNED)
			continue;
		char *key = member_key(o, m->ip), who[200];
		redisReply *v = key ? rlink_call(c, "GET %s", key) : NULL;
		free(key);
		if (!v || v->type == REDIS_REPLY_ERROR) {
			op_result_say(r, OP_FAILED, "redis: %s", v ? v->str : rlink_error(c));
			freeReplyObject(v);
			return r->status;
		}
		if (p->op.kind == OP_BLOCK && v->type != REDIS_REPLY_NIL) {
			m->state = MEMBER_SKIPPED;
			key_owner(v, who, sizeof who);
			snprintf(m->why, sizeof m->why, "already blocked by %s", who);
		} else if (p->op.kind == OP_UNBLOCK && v->type == REDIS_REPLY_NIL) {
			m->state = MEMBER_SKIPPED;
			snprintf(m->why, sizeof m->why, "not blocked");
		} else if (p->op.kind == OP_UNBLOCK && (v->type != REDIS_REPLY_STRING ||
		                                        !set_by_range(v->str, v->len, p->op.target))) {
			m->state = MEMBER_LEFT;
			key_owner(v, who, sizeof who);
			snprintf(m->why, sizeof m->why, "blocked by %s, not by a block of this range: left alone", who);
		} else if (p->op.kind == OP_UNBLOCK) {
			m->value = malloc(v->len + 1);
			if (!m->value) {
				freeReplyObject(v);
				return op_result_say(r, OP_FAILED, "out of memory");
			}
			memcpy(m->value, v->str, v->len);
			m->value[v->len] = '\0';
		}
		freeReplyObject(v);
	}
	return OP_DONE;
}

/* One member, compared and applied in a transaction of its own: WATCH the
 * key, read it, and only if it is still as planned (absent for a block,
 * the value read for an unblock) MULTI, SET NX or DEL, EXEC.  -1: Redis
 * failed (the link is not to be trusted for the rest). */
static int apply_member(struct ops *o, struct rlink *c, const struct range_plan *p, struct range_member *m,
                        const char *value)
{
	char *key = member_key(o, m->ip);
	redisReply *w = key ? rlink_call(c, "WATCH %s", key) : NULL;
	redisReply *now = w ? rlink_call(c, "GET %s", key) : NULL;
	int rc = 0;

	if (!now || now->type == REDIS_REPLY_ERROR) {
		m->state = MEMBER_FAILED;
		snprintf(m->why, sizeof m->why, "redis: %s", now ? now->str : rlink_error(c));
		rc = -1;
	} else if (p->op.kind == OP_BLOCK ? now->type != REDIS_REPLY_NIL :
	           now->type != REDIS_REPLY_STRING || !m->value || strlen(m->value) != now->len ||
	           memcmp(m->value, now->str, now->len) != 0) {
		freeReplyObject(rlink_call(c, "UNWATCH"));
		m->state = MEMBER_CHANGED;
		snprintf(m->why, sizeof m->why, "%s while you confirmed: nothing sent",
		         p->op.kind == OP_BLOCK ? "blocked by another" : "unblocked, expired or changed");
	} else {
		redisReply *multi = rlink_call(c, "MULTI");
		bool queued = multi && multi->type == REDIS_REPLY_STATUS;
		freeReplyObject(multi);
		if (queued && p->op.kind == OP_BLOCK)
			freeReplyObject(rlink_call(c, "SET %s %s EX %ld NX", key, value, p->op.ttl_s));
		else if (queued)
			freeReplyObject(rlink_call(c, "DEL %s", key));
		redisReply *exec = queued ? rlink_call(c, "EXEC") : NULL;
		if (exec && exec->type == REDIS_REPLY_ARRAY && exec->elements == 1 &&
		    exec->element[0]->type != REDIS_REPLY_NIL && exec->element[0]->type != REDIS_REPLY_ERROR &&
		    !(exec->element[0]->type == REDIS_REPLY_INTEGER && exec->element[0]->integer == 0)) {
			m->state = MEMBER_DONE;
		} else if (exec && exec->type != REDIS_REPLY_ERROR &&
		           (exec->type == REDIS_REPLY_NIL || exec->type == REDIS_REPLY_ARRAY)) {
			m->state = MEMBER_CHANGED;
			snprintf(m->why, sizeof m->why, "changed while you confirmed: nothing changed");
		} else {
			m->state = MEMBER_FAILED;
			snprintf(m->why, sizeof m->why, "redis: %s", exec && exec->type == REDIS_REPLY_ERROR ? exec->str :
			         rlink_error(c));
			rc = -1;
		}
		freeReplyObject(exec);
	}
	freeReplyObject(w);
	freeReplyObject(now);
	free(key);
	return rc;
}

static void apply_all(struct ops *o, struct range_plan *p, struct op_result *r)
{
	struct rlink *c = ops_redis_link(o, r);
	char *value = p->op.kind == OP_BLOCK ? range_value(o, &p->op) : NULL;
	bool broken = !c || (p->op.kind == OP_BLOCK && !value);

	for (size_t i = 0; i < p->n; i++) {
		struct range_member *m = &p->v[i];
		if (m->state != MEMBER_PLANNED)
			continue;
		if (broken) {
			m->state = MEMBER_FAILED;
			snprintf(m->why, sizeof m->why, "not sent: %.200s", c ? "an earlier command failed" : r->message);
		} else if (apply_member(o, c, p, m, value) < 0) {
			broken = true;
		}
	}
	free(value);
	if (c && broken) {                       /* not trusted again: a fresh link next time */
		rlink_free(c);
		o->redis = NULL;
	}
}

/* --------------------------------------------------------------- prepare */

static void choose_ttl(struct ops *o, struct range_plan *p)
{
	long steps[CONF_MAX_LIST];
	char err[200], memory[32];
	int n = conf_ttl_steps(o->cfg, steps, err, sizeof err);

	if (p->op.ttl_s || p->op.kind != OP_BLOCK || n <= 0)
		return;
	long earlier = earlier_range_blocks(o, p->op.target);
	int step = earlier < 0 ? 0 : earlier >= n ? n - 1 : (int)earlier;
	p->op.ttl_s = steps[step];
	p->ttl_step = step + 1;
	p->ttl_steps = n;
	p->earlier_blocks = earlier;
	int days = o->cfg->block_memory_s / 86400;
	if (days >= 1)
		snprintf(memory, sizeof memory, "%d day%s", days, days == 1 ? "" : "s");
	else
		snprintf(memory, sizeof memory, "%d s", o->cfg->block_memory_s);
	long nth = earlier + 1;
	const char *suffix = nth % 100 >= 11 && nth % 100 <= 13 ? "th" :
	                     nth % 10 == 1 ? "st" : nth % 10 == 2 ? "nd" : nth % 10 == 3 ? "rd" : "th";
	if (earlier < 0)
		snprintf(p->ttl_why, sizeof p->ttl_why, "step 1 of %d: the range's earlier blocks are unknown"
		         " (PostgreSQL: %.100s)", n, o->pg_error);
	else
		snprintf(p->ttl_why, sizeof p->ttl_why, "%ld%s block of this range in %s: step %d of %d", nth, suffix,
		         memory, step + 1, n);
}

/* Take or skip each address that failed; more to block than range-max
 * is refused, saying how many. */
static enum op_status choose_members(struct ops *o, struct range_plan *p, struct op_result *r)
{
	char own[IPADDR_LEN] = "";
	size_t take = 0;

	allowlist_refresh(&o->allow);
	if (!ipaddr_ssh_client(own, sizeof own))
		own[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		struct range_member *m = &p->v[i];
		enum range_verdict v = iprange_member(&p->net, m->ip, &o->allow, (int64_t)time(NULL), own,
		                                      m->why, sizeof m->why);
		m->state = v == RANGE_TAKE ? MEMBER_PLANNED : MEMBER_SKIPPED;
		take += v == RANGE_TAKE;
	}
	if (take > RANGE_READ_MAX)
		return op_result_say(r, OP_REFUSED, "%zu addresses of %s to block: more than can be checked one by one (%d);"
		           " nothing blocked: block narrower ranges", take, p->op.target, RANGE_READ_MAX);
	return OP_DONE;
}

static enum op_status check_cap(const struct ops *o, const struct range_plan *p, struct op_result *r)
{
	size_t take = range_count(p, MEMBER_PLANNED);

	if (take <= (size_t)o->cfg->range_max)
		return OP_DONE;
	return op_result_say(r, OP_REFUSED, "%zu addresses of %s would be blocked (of %ld that failed in the window),"
	           " more than range-max (%d): nothing blocked; block a narrower range, or raise range-max"
	           " (--range-max %zu) to block them all", take, p->op.target, p->failing, o->cfg->range_max, take);
}

static int member_order(const void *a, const void *b)
{
	const struct range_member *x = a, *y = b;
	int c = strcmp(x->ip, y->ip);
	return c ? c : (x->failures < y->failures) - (x->failures > y->failures);
}

/* One entry per address (the window's first: it has the failures). */
static void unique_members(struct range_plan *p)
{
	size_t k = 0;

	qsort(p->v, p->n, sizeof *p->v, member_order);
	for (size_t i = 0; i < p->n; i++)
		if (!k || strcmp(p->v[k - 1].ip, p->v[i].ip) != 0)
			p->v[k++] = p->v[i];
	p->n = k;
}

/* Members a range block of this range planned, from the local journal
 * (when its audit rows are still waiting there). */
static void journal_members(struct ops *o, struct range_plan *p)
{
	size_t bad, i, j;
	json_t *all = journal_read(o->journal.path, &bad), *rec, *ip;

	json_array_foreach(all, i, rec) {
		const char *range = json_string_value(json_object_get(rec, "range"));
		const char *action = json_string_value(json_object_get(rec, "action"));
		if (!range || !action || strcmp(range, p->op.target) != 0 || strcmp(action, op_action_name(OP_BLOCK)) != 0)
			continue;
		json_array_foreach(json_object_get(rec, "members"), j, ip)
			if (json_is_string(ip) && ipnet_contains(&p->net, json_string_value(ip)))
				add_member(p, json_string_value(ip), 0);
	}
	json_decref(all);
}

static void plan_command(const struct ops *o, struct range_plan *p)
{
	if (p->op.kind == OP_BLOCK) {
		char *v = range_value(o, &p->op);
		snprintf(p->command, sizeof p->command, "SET %s<address> '%s' EX %ld NX, for each address",
		         o->blocked_prefix, v ? v : "", p->op.ttl_s);
		free(v);
	} else {
		snprintf(p->command, sizeof p->command, "DEL %s<address>, for each key a block of %s set",
		         o->blocked_prefix, p->op.target);
	}
}

enum op_status range_prepare(struct ops *o, struct range_plan *p, const char *text, struct op_result *r)
{
	struct op keep = p->op;
	const char *tenant = p->tenant;
	int window_s = p->window_s ? p->window_s : o->cfg->window_s;
	char err[300];

	range_plan_free(p);
	memset(p, 0, sizeof *p);
	memset(r, 0, sizeof *r);
	p->op = keep;
	p->tenant = tenant;
	p->window_s = window_s;
	p->earlier_blocks = -1;
	if (o->cfg->read_only)
		return op_result_say(r, OP_REFUSED, "read-only: no action is taken (--read-only)");
	if (p->op.kind != OP_BLOCK && p->op.kind != OP_UNBLOCK)
		return op_result_say(r, OP_REFUSED, "only block and unblock act on a range");
	if (iprange_parse(text, &p->net, err, sizeof err) < 0)
		return op_result_say(r, OP_REFUSED, "%s", err);
	ipnet_format(&p->net, p->op.target, sizeof p->op.target);
	if (p->op.kind == OP_BLOCK && (!p->op.reason || !*p->op.reason))
		return op_result_say(r, OP_REFUSED, "a reason is required (--reason TEXT)");
	if (p->op.kind == OP_BLOCK && (p->op.ttl_s < 0 || p->op.ttl_s > 365L * 86400))
		return op_result_say(r, OP_REFUSED, "the time to live must be between 1 s and 365 days");
	if (p->op.kind == OP_BLOCK) {
		char *v = range_value(o, &p->op);
		free(v);
		if (!v)
			return op_result_say(r, OP_REFUSED, "the reason cannot be encoded (is it valid UTF-8?)");
	}
	if (find_failing(o, p, r) != OP_DONE)
		return r->status;
	if (p->op.kind == OP_BLOCK) {
		if (choose_members(o, p, r) != OP_DONE || read_keys(o, p, r) != OP_DONE || check_cap(o, p, r) != OP_DONE)
			return r->status;
		choose_ttl(o, p);
	} else {
		if (find_range_blocked(o, p, r) != OP_DONE)
			return r->status;
		journal_members(o, p);
		unique_members(p);
		if (p->n > RANGE_READ_MAX)
			return op_result_say(r, OP_REFUSED, "%zu addresses of %s to look at: more than can be checked one by one (%d);"
			           " nothing unblocked", p->n, p->op.target, RANGE_READ_MAX);
		if (read_keys(o, p, r) != OP_DONE)
			return r->status;
	}
	plan_command(o, p);
	return r->status = OP_DONE;
}

/* --------------------------------------------------------------- journal */

static json_t *member_list(const struct range_plan *p, enum member_state s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].state == s)
			json_array_append_new(a, json_string(p->v[i].ip));
	return a;
}

static int journal_intent(struct ops *o, const struct range_plan *p, struct op_result *r)
{
	char err[300];
	const struct op *op = &p->op;
	json_t *j = ops_journal_record(o, r->journal_id, "intent");

	json_object_set_new(j, "action", json_string(op_action_name(op->kind)));
	json_object_set_new(j, "target", json_string(op->target));
	json_object_set_new(j, "range", json_string(op->target));
	json_object_set_new(j, "reason", op->reason ? json_string(op->reason) : json_null());
	json_object_set_new(j, "ttl_s", op->kind == OP_BLOCK ? json_integer(op->ttl_s) : json_null());
	json_object_set_new(j, "incident", op->incident ? json_string(op->incident) : json_null());
	json_object_set_new(j, "tenant", json_null());
	json_object_set_new(j, "note", json_null());
	json_object_set_new(j, "mode", json_string(ops_mode(o, op)));
	json_object_set_new(j, "command", json_string(p->command));
	json_object_set_new(j, "pid", json_integer((json_int_t)getpid()));
	json_object_set_new(j, "key_prefix", json_string(o->blocked_prefix));
	json_object_set_new(j, "members", member_list(p, MEMBER_PLANNED));
	int rc = journal_append(&o->journal, j, err, sizeof err);
	json_decref(j);
	if (rc < 0)
		op_result_say(r, OP_REFUSED, "refused: the journal cannot be written (%s)", err);
	return rc;
}

static void journal_phase(struct ops *o, const struct range_plan *p, const struct op_result *r, const char *phase)
{
	char err[300];
	json_t *j = ops_journal_record(o, r->journal_id, phase);

	if (strcmp(phase, "result") == 0) {
		json_object_set_new(j, "status", json_string(op_status_name(r->status)));
		json_object_set_new(j, "message", json_string(r->message));
		json_object_set_new(j, "applied", json_boolean(r->applied));
		json_object_set_new(j, "done", member_list(p, MEMBER_DONE));
	}
	journal_append(&o->journal, j, err, sizeof err);   /* the intent is on disk already */
	json_decref(j);
}

/* ----------------------------------------------------------------- audit */

/* The rows of a range action: one per address changed, each carrying the
 * range; one "_noop" row for the range when none was. */
static int audit_range(struct ops *o, const struct op *op, const char *id, const char *mode, const char *status,
                       json_t *done, const char *who, const char *when)
{
	size_t n = json_array_size(done), i;
	json_t *extra = json_pack("{s:s}", "range", op->target), *ip;
	if (extra && strcmp(status, "done") != 0)
		json_object_set_new(extra, "outcome", json_string(status));
	char *details = extra ? ops_audit_details(op, id, mode, extra) : NULL;
	char **targets = calloc(n + 1, sizeof *targets), action[64];
	int rc = -1;

	size_t k = 0;
	json_array_foreach(done, i, ip)
		if (targets && json_is_string(ip))
			targets[k++] = (char *)json_string_value(ip);
	n = k;
	ops_audit_action(action, sizeof action, op_action_name(op->kind), n ? "done" : "already", n > 0);
	if (details && targets && n)
		rc = ops_audit_rows(o, action, "ip", targets, n, NULL, details, who, when);
	else if (details && targets)
		rc = ops_audit_rows(o, action, "ip_range", (char *const[]){ (char *)op->target }, 1, NULL, details,
		                    who, when);
	free(targets);
	free(details);
	json_decref(extra);
	return rc;
}

static void result_and_audit(struct ops *o, const struct range_plan *p, struct op_result *r, bool audited)
{
	if (o->journal.fd >= 0)
		flock(o->journal.fd, LOCK_EX);
	journal_phase(o, p, r, "result");
	if (o->journal.fd >= 0 && ops_stop_armed("result")) {
		flock(o->journal.fd, LOCK_UN);           /* a test's stop must not hold others up */
		ops_stop_point("result");
		flock(o->journal.fd, LOCK_EX);
	} else {
		ops_stop_point("result");
	}
	if (audited) {
		json_t *done = member_list(p, MEMBER_DONE);
		r->audited = audit_range(o, &p->op, r->journal_id, ops_mode(o, &p->op), op_status_name(r->status),
		                         done, NULL, NULL) == 0;
		json_decref(done);
		if (r->audited)
			journal_phase(o, p, r, "audited");
		else
			op_result_append(r, "; the audit rows wait in the journal (PostgreSQL: %s)", o->pg_error);
	}
	if (o->journal.fd >= 0)
		flock(o->journal.fd, LOCK_UN);
}

/* --------------------------------------------------------------- execute */

/* "12 blocked ...; 3 skipped; 1 changed while you confirmed" */
static void summarise(const struct range_plan *p, struct op_result *r)
{
	size_t done = range_count(p, MEMBER_DONE), skipped = range_count(p, MEMBER_SKIPPED);
	size_t left = range_count(p, MEMBER_LEFT), changed = range_count(p, MEMBER_CHANGED);
	size_t failed = range_count(p, MEMBER_FAILED);
	char ttl[16];

	if (p->op.kind == OP_BLOCK) {
		str_duration(ttl, sizeof ttl, p->op.ttl_s);
		op_result_say(r, OP_DONE, "%s: %zu address%s blocked for %s%s%s%s", p->op.target, done, done == 1 ? "" : "es", ttl,
		    p->ttl_step ? " (" : "", p->ttl_step ? p->ttl_why : "", p->ttl_step ? ")" : "");
	} else {
		op_result_say(r, OP_DONE, "%s: %zu address%s unblocked", p->op.target, done, done == 1 ? "" : "es");
	}
	if (skipped)
		op_result_append(r, "; %zu skipped", skipped);
	if (left)
		op_result_append(r, "; %zu block%s in the range left alone (not set by a block of this range)", left,
		       left == 1 ? "" : "s");
	if (changed)
		op_result_append(r, "; %zu changed while you confirmed (nothing sent for %s)", changed, changed == 1 ? "it" : "them");
	if (failed)
		op_result_append(r, "; %zu FAILED (redis): look at them again", failed);
	r->applied = done > 0;
	if (failed)
		r->status = OP_FAILED;
	else if (!done)
		r->status = OP_ALREADY;
}

enum op_status range_execute(struct ops *o, struct range_plan *p, struct op_result *r)
{
	size_t planned = range_count(p, MEMBER_PLANNED);
	bool dry = strcmp(ops_mode(o, &p->op), "dry-run") == 0;

	memset(r, 0, sizeof *r);
	if (o->cfg->read_only)
		return op_result_say(r, OP_REFUSED, "read-only: no action is taken (--read-only)");
	journal_new_id(r->journal_id);
	if (journal_intent(o, p, r) < 0)
		return r->status;
	ops_stop_point("intent");
	if (!planned) {
		op_result_say(r, OP_ALREADY, "%s: nothing to %s: %zu address%s skipped%s", p->op.target,
		    p->op.kind == OP_BLOCK ? "block" : "unblock", range_count(p, MEMBER_SKIPPED),
		    range_count(p, MEMBER_SKIPPED) == 1 ? "" : "es",
		    range_count(p, MEMBER_LEFT) ? ", and blocks in it left alone (not set by a block of this range)" : "");
		result_and_audit(o, p, r, ops_mode_audited(ops_mode(o, &p->op)));
		return r->status;
	}
	if (dry) {
		op_result_say(r, OP_DONE, "dry run: would %s %zu address%s of %s; nothing sent",
		    p->op.kind == OP_BLOCK ? "block" : "unblock", planned, planned == 1 ? "" : "es", p->op.target);
		journal_phase(o, p, r, "result");
		return r->status;
	}
	apply_all(o, p, r);
	ops_stop_point("executed");
	summarise(p, r);
	result_and_audit(o, p, r, r->applied || r->status == OP_ALREADY);
	return r->status;
}

/* ----------------------------------------------------- after an interruption */

static struct op intent_op(json_t *in)
{
	struct op op = { .reason = json_string_value(json_object_get(in, "reason")),
	                 .ttl_s = (long)json_integer_value(json_object_get(in, "ttl_s")),
	                 .incident = json_string_value(json_object_get(in, "incident")) };
	const char *action = json_string_value(json_object_get(in, "action"));

	op.kind = action && strcmp(action, op_action_name(OP_UNBLOCK)) == 0 ? OP_UNBLOCK : OP_BLOCK;
	snprintf(op.target, sizeof op.target, "%s", json_string_value(json_object_get(in, "range")) ?: "");
	return op;
}

/* Did the intent reach this member's key?  1, 0, -1 cannot tell now. */
static int member_landed(struct rlink *c, json_t *in, const struct op *op, const char *ip)
{
	const char *prefix = json_string_value(json_object_get(in, "key_prefix")) ?: "";
	redisReply *v = rlink_call(c, "GET %s%s", prefix, ip);
	int landed = -1;

	if (v && v->type == REDIS_REPLY_NIL)
		landed = op->kind == OP_UNBLOCK;
	else if (v && v->type == REDIS_REPLY_STRING && op->kind == OP_UNBLOCK)
		landed = 0;
	else if (v && v->type == REDIS_REPLY_STRING) {
		json_t *j = json_loadb(v->str, v->len, 0, NULL);
		const char *by = json_string_value(json_object_get(j, "by"));
		const char *why = json_string_value(json_object_get(j, "reason"));
		const char *who = json_string_value(json_object_get(in, "operator"));
		landed = set_by_range(v->str, v->len, op->target) && by && why && who && op->reason &&
		         strcmp(by, who) == 0 && strcmp(why, op->reason) == 0;
		json_decref(j);
	} else if (v && v->type != REDIS_REPLY_ERROR) {
		landed = 0;
	}
	freeReplyObject(v);
	return landed;
}

int range_reconcile(struct ops *o, json_t *in, const char *id)
{
	struct op op = intent_op(in);
	struct op_result ignored = { 0 };
	struct rlink *c = ops_redis_link(o, &ignored);
	const char *mode = json_string_value(json_object_get(in, "mode"));
	json_t *done = json_array(), *ip;
	size_t i;
	char err[300];

	if (!c) {
		json_decref(done);
		return 0;
	}
	json_array_foreach(json_object_get(in, "members"), i, ip) {
		int landed = json_is_string(ip) ? member_landed(c, in, &op, json_string_value(ip)) : 0;
		if (landed < 0) {
			json_decref(done);
			return 0;                        /* the server cannot say now: the next command asks */
		}
		if (landed && !(mode && strcmp(mode, "dry-run") == 0))
			json_array_append(done, ip);
	}
	bool applied = json_array_size(done) > 0;
	json_t *j = ops_journal_record(o, id, "result");
	json_object_set_new(j, "status", json_string("interrupted"));
	json_object_set_new(j, "outcome", json_string(applied ? "interrupted: applied" : "interrupted: not applied"));
	json_object_set_new(j, "applied", json_boolean(applied));
	json_object_set_new(j, "message", json_string(applied ?
	    "interrupted: applied (the process ended before recording it; the servers show the change for the addresses in done)" :
	    "interrupted: not applied (the process ended before recording it; the servers do not show the change)"));
	json_object_set_new(j, "done", done);
	journal_append(&o->journal, j, err, sizeof err);
	json_decref(j);
	return 1;
}

int range_retry_audit(struct ops *o, json_t *in, json_t *result, const char *id)
{
	struct op op = intent_op(in);
	const char *status = json_string_value(json_object_get(result, "status")) ?: "done";
	json_t *done = json_object_get(result, "done");

	if (!json_is_array(done))
		done = NULL;
	json_t *none = done ? NULL : json_array();
	int rc = audit_range(o, &op, id, json_string_value(json_object_get(in, "mode")),
	                     status, done ? done : none,
	                     json_string_value(json_object_get(in, "operator")),
	                     json_string_value(json_object_get(result, "time")));
	json_decref(none);
	return rc;
}
