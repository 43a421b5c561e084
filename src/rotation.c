#include "config.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "journal.h"
#include "pg_sql.h"
#include "rotation.h"
#include "strutil.h"

#define ACTION_REQUESTED "secret_rotation_requested"

const char *rotation_state_name(enum rotation_state s)
{
	switch (s) {
	case ROT_OK: return "ok";
	case ROT_DUE: return "due";
	case ROT_OVERDUE: return "overdue";
	case ROT_NEVER: return "never";
	}
	return "?";
}

enum rotation_state rotation_state_at(int64_t last_rotated_s, int max_age_s, int64_t now_s, int warn_days)
{
	if (!last_rotated_s)
		return ROT_NEVER;
	int64_t age = now_s - last_rotated_s;
	if (age > max_age_s)
		return ROT_OVERDUE;
	if (age > (int64_t)max_age_s - (int64_t)warn_days * 86400)
		return ROT_DUE;
	return ROT_OK;
}

struct rotation_status *rotation_declared(const struct config *cfg, size_t *n)
{
	struct rotation_status *v = calloc(cfg->n_secrets + 1, sizeof *v);

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < cfg->n_secrets; i++) {
		const struct conf_secret *s = &cfg->secrets[i];
		v[i].name = strdup(s->name);
		v[i].kind = strdup(s->kind ? s->kind : "?");
		if (!v[i].name || !v[i].kind) {
			rotation_free(v, i + 1);
			return NULL;
		}
		v[i].max_age_s = s->max_age_s > 0 ? s->max_age_s : conf_secret_default_age_s(s->kind);
		v[i].has_webhook = s->webhook != NULL;
		v[i].age_s = -1;
		v[i].state = ROT_NEVER;
	}
	*n = cfg->n_secrets;
	return v;
}

void rotation_free(struct rotation_status *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].kind);
	}
	free(v);
}

char *rotation_sql(const struct config *cfg)
{
	const struct conf_schema *s = &cfg->schema;
	char *t = pg_sql_ident(s->table), *ts = pg_sql_ident(s->timestamp), *a = pg_sql_ident(s->action),
	     *ri = pg_sql_ident(s->resource_id), *d = pg_sql_ident(s->details);
	char *sql = t && ts && a && ri && d ? str_printf(
	    "SELECT s.name, floor(extract(epoch FROM max(r.ts)))::bigint"
	    " FROM unnest($1::text[]) AS s(name)"
	    " LEFT JOIN (SELECT x.%s AS ts, x.%s::text AS rid, x.%s ->> 'secret' AS sec FROM %s x"
	    " WHERE x.%s = 'secret_rotated') r ON r.rid = s.name OR r.sec = s.name"
	    " GROUP BY s.name", ts, ri, d, t, a) : NULL;
	free(t);
	free(ts);
	free(a);
	free(ri);
	free(d);
	return sql;
}

char *rotation_names_param(const struct config *cfg)
{
	char *names[CONF_MAX_LIST];

	for (size_t i = 0; i < cfg->n_secrets; i++)
		names[i] = cfg->secrets[i].name;
	return pg_sql_text_array(names, cfg->n_secrets);
}

void rotation_take_result(struct rotation_status *v, size_t n, const struct pg_result *res)
{
	PGresult *r = (PGresult *)res;

	for (int i = 0; i < PQntuples(r); i++) {
		if (PQgetisnull(r, i, 1))
			continue;
		for (size_t s = 0; s < n; s++)
			if (strcmp(v[s].name, PQgetvalue(r, i, 0)) == 0)
				v[s].last_rotated_s = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	}
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void request_from(struct rotation_request *q, const json_t *intent, const json_t *result)
{
	const char *st = result ? jstr(result, "status") : NULL;

	memset(q, 0, sizeof *q);
	q->found = true;
	snprintf(q->journal_id, sizeof q->journal_id, "%s", jstr(intent, "id") ?: "");
	snprintf(q->time, sizeof q->time, "%s", jstr(intent, "time") ?: "");
	snprintf(q->operator_id, sizeof q->operator_id, "%s", jstr(intent, "operator") ?: "");
	snprintf(q->idempotency_key, sizeof q->idempotency_key, "%s", jstr(intent, "idempotency_key") ?: "");
	snprintf(q->status, sizeof q->status, "%s", st ? st : "pending");
	q->http_status = result ? (long)json_integer_value(json_object_get(result, "http_status")) : 0;
	q->dry_run = strcmp(jstr(intent, "mode") ?: "", "live") != 0;
}

/* Each secret's newest live intent, with its result. */
static void take_records(struct rotation_status *v, size_t n, json_t *all)
{
	json_t *results = json_object(), *rec;
	size_t i;

	json_array_foreach(all, i, rec) {
		const char *id = jstr(rec, "id"), *phase = jstr(rec, "phase");
		if (id && phase && strcmp(phase, "result") == 0)
			json_object_set(results, id, rec);
	}
	json_array_foreach(all, i, rec) {
		const char *id = jstr(rec, "id"), *phase = jstr(rec, "phase"), *action = jstr(rec, "action");
		const char *target = jstr(rec, "target"), *mode = jstr(rec, "mode");
		if (!id || !phase || !action || !target || strcmp(phase, "intent") != 0 ||
		    strcmp(action, ACTION_REQUESTED) != 0 || !mode || strcmp(mode, "live") != 0)
			continue;
		for (size_t s = 0; s < n; s++)
			if (strcmp(v[s].name, target) == 0)
				request_from(&v[s].last_request, rec, json_object_get(results, id));
	}
	json_decref(results);
}

int rotation_take_journal(struct rotation_status *v, size_t n, const char *journal_path)
{
	size_t bad;
	json_t *all = journal_path ? journal_read(journal_path, &bad) : json_array();

	if (!all)
		return -1;
	take_records(v, n, all);
	json_decref(all);
	return 0;
}

int rotation_last_request(const char *journal_path, const char *secret, struct rotation_request *out)
{
	struct rotation_status one = { .name = (char *)secret };
	int rc = rotation_take_journal(&one, 1, journal_path);

	*out = one.last_request;
	return rc;
}

void rotation_finish(struct rotation_status *v, size_t n, int64_t now_s, int warn_days)
{
	for (size_t i = 0; i < n; i++) {
		v[i].state = rotation_state_at(v[i].last_rotated_s, v[i].max_age_s, now_s, warn_days);
		v[i].age_s = v[i].last_rotated_s ? now_s - v[i].last_rotated_s : -1;
	}
}

struct rotation_status *rotation_collect(const struct config *cfg, struct pg_conn *db,
                                         const char *journal_path, int64_t now_s, size_t *n,
                                         char *err, size_t errsz)
{
	struct rotation_status *v = rotation_declared(cfg, n);

	if (!v) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (*n) {
		char *sql = rotation_sql(cfg), *names = rotation_names_param(cfg);
		const char *params[] = { names };
		PGresult *res = sql && names && db ? PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0) : NULL;
		bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		if (ok)
			rotation_take_result(v, *n, res);
		else
			snprintf(err, errsz, "postgres: %s", db ? PQerrorMessage(db) : "no connection");
		PQclear(res);
		free(sql);
		free(names);
		if (!ok) {
			rotation_free(v, *n);
			*n = 0;
			return NULL;
		}
	}
	if (rotation_take_journal(v, *n, journal_path) < 0) {
		snprintf(err, errsz, "the journal %s cannot be read", journal_path);
		rotation_free(v, *n);
		*n = 0;
		return NULL;
	}
	rotation_finish(v, *n, now_s, cfg->rotation_warn_days);
	return v;
}

char *rotation_request_body(const struct conf_secret *s, const char *operator_id, const char *reason,
                            const char *incident, const char *idempotency_key)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "secret", s->name, "kind", s->kind ? s->kind : "",
	                      "operator", operator_id, "reason", reason ? json_string(reason) : json_null(),
	                      "incident", incident ? json_string(incident) : json_null(),
	                      "idempotency_key", idempotency_key);
	char *body = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	return body;
}
