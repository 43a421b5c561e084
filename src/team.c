/* team.c: the team's actions as data: names, ownership, the message. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "pg_sql.h"
#include "sanitize.h"
#include "team.h"

void team_op_free(struct team_op *op)
{
	free(op->action);
	free(op->operator_id);
	free(op->resource_type);
	free(op->target);
	free(op->tenant);
	free(op->journal_id);
	free(op->incident);
	free(op->reason);
	free(op->note);
	free(op->mode);
	free(op->outcome);
	memset(op, 0, sizeof *op);
}

void team_ops_free(struct team_op *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		team_op_free(&v[i]);
	free(v);
}

static int dup_field(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -1 : 0;
}

int team_op_copy(struct team_op *dst, const struct team_op *src)
{
	memset(dst, 0, sizeof *dst);
	memcpy(dst->id, src->id, sizeof dst->id);
	dst->ts_us = src->ts_us;
	int rc = dup_field(&dst->action, src->action) | dup_field(&dst->operator_id, src->operator_id) |
	         dup_field(&dst->resource_type, src->resource_type) | dup_field(&dst->target, src->target) |
	         dup_field(&dst->tenant, src->tenant) | dup_field(&dst->journal_id, src->journal_id) |
	         dup_field(&dst->incident, src->incident) | dup_field(&dst->reason, src->reason) |
	         dup_field(&dst->note, src->note) | dup_field(&dst->mode, src->mode) |
	         dup_field(&dst->outcome, src->outcome);
	if (rc)
		team_op_free(dst);
	return rc ? -1 : 0;
}

/* The operation kinds run from 0 until op_action_name knows no more: a
 * kind added to actions.c is read here without a second list to keep. */
#define KINDS_MAX 64

char *team_action_names(void)
{
	char *names[KINDS_MAX * 2];
	char noop[KINDS_MAX][64];
	size_t n = 0;

	for (int k = 0; k < KINDS_MAX; k++) {
		const char *a = op_action_name((enum op_kind)k);
		if (strcmp(a, "?") == 0)
			break;
		snprintf(noop[k], sizeof noop[k], "%s_noop", a);
		names[n++] = (char *)a;
		names[n++] = noop[k];
	}
	return pg_sql_text_array(names, n);
}

bool team_op_base_action(const struct team_op *op, char *out, size_t n)
{
	const char *a = op->action ? op->action : "";
	size_t len = strlen(a);
	bool noop = len > 5 && strcmp(a + len - 5, "_noop") == 0;

	snprintf(out, n, "%.*s", (int)(noop ? len - 5 : len), a);
	return noop;
}

bool team_op_is_own(const struct team_op *op, const char *me,
                    bool (*is_local)(const char *journal_id, void *ctx), void *ctx)
{
	if (me && op->operator_id && strcmp(me, op->operator_id) == 0)
		return true;
	return is_local && op->journal_id && is_local(op->journal_id, ctx);
}

/* What the operator did, as a verb and what it acts on. */
static const char *verb(const char *action, bool noop)
{
	static const struct { const char *action, *done, *tried; } verbs[] = {
		{ "ip_blocked", "blocked", "tried to block (already blocked)" },
		{ "ip_unblocked", "unblocked", "tried to unblock (not blocked)" },
		{ "ip_block_extended", "extended the block on", "tried to extend the block on" },
		{ "api_key_revoked", "revoked the key", "tried to revoke the key (already revoked)" },
		{ "secret_rotation_requested", "asked to rotate", "tried to rotate" },
		{ "runbook_step_done", "ticked a step of", "ticked a step of" },
		{ "drill_started", "started a drill:", "started a drill:" },
		{ "drill_ended", "ended a drill:", "ended a drill:" },
	};
	for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
		if (strcmp(verbs[i].action, action) == 0)
			return noop ? verbs[i].tried : verbs[i].done;
	return NULL;
}

static void age_text(char *out, size_t n, int64_t age_s)
{
	if (age_s < 0)
		age_s = 0;
	if (age_s < 120)
		snprintf(out, n, "%lld s ago", (long long)age_s);
	else if (age_s < 7200)
		snprintf(out, n, "%lld min ago", (long long)(age_s / 60));
	else
		snprintf(out, n, "%lld h ago", (long long)(age_s / 3600));
}

void team_op_message(const struct team_op *op, int64_t now_us, char *out, size_t n)
{
	char base[64], age[32];
	bool noop = team_op_base_action(op, base, sizeof base);
	const char *v = verb(base, noop);
	char *who = sanitize_str(op->operator_id ? op->operator_id : "someone", 0);
	char *what = sanitize_str(v ? v : base, 0);
	const char *subject = op->note && strcmp(base, "runbook_step_done") == 0 ? op->note : op->target;
	char *target = sanitize_str(subject ? subject : "", 0);

	age_text(age, sizeof age, (now_us - op->ts_us) / 1000000);
	snprintf(out, n, "%.80s %s%s%.60s %s", who ? who : "?", what ? what : "?", target && *target ? " " : "",
	         target ? target : "", age);
	free(who);
	free(what);
	free(target);
}
