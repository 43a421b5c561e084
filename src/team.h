/* team.h: what the other operators do, as the audit log tells it.
 *
 * Every sectop writes an audit row after each action (actions.c), with
 * the operator as its user and the journal id in its details.  Those rows,
 * read from any operator and machine, are the team's actions: merged with
 * the local journal in the actions view and the incident's timeline, and
 * said on screen when another operator acts.  Plain data, no I/O: the
 * reading is team_pg.c's. */
#ifndef SECTOP_TEAM_H
#define SECTOP_TEAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One operator action, from one audit row.  Strings are raw (untrusted:
 * sanitised where shown); any may be NULL. */
struct team_op {
	char id[64];             /* the row's id */
	int64_t ts_us;           /* unix microseconds */
	char *action;            /* ip_blocked, ip_blocked_noop, runbook_step_done, ... */
	char *operator_id;       /* "alice@10.0.0.5" */
	char *resource_type, *target, *tenant;
	char *journal_id;        /* the acting sectop's journal record */
	char *incident, *reason, *note, *mode, *outcome;
};

void team_op_free(struct team_op *op);
void team_ops_free(struct team_op *v, size_t n);
/* A deep copy into dst; -1 out of memory (dst then holds nothing). */
int team_op_copy(struct team_op *dst, const struct team_op *src);

/* The actions sectop audits for its operators, each also with "_noop"
 * (found nothing to do), as a text[] parameter: {"ip_blocked",...}.
 * Malloc'd. */
char *team_action_names(void);

/* The action without "_noop", into out; whether it had it. */
bool team_op_base_action(const struct team_op *op, char *out, size_t n);

/* Is it this operator's own?  The same operator, or a record of the local
 * journal (is_local tells whether a journal id is there: may be NULL). */
bool team_op_is_own(const struct team_op *op, const char *me,
                    bool (*is_local)(const char *journal_id, void *ctx), void *ctx);

/* "alice@10.0.0.5 blocked 203.0.113.45 40 s ago", sanitised, for the
 * console's message line.  now_us: unix microseconds. */
void team_op_message(const struct team_op *op, int64_t now_us, char *out, size_t n);

struct config;
/* (team_pg.c) An incident's timeline, the journal's records and every operator's from
 * the audit log (since --since, else timeline_team_since), as Markdown on
 * f.  When the audit log does not answer, the journal alone, said in the
 * Markdown and in *offline (the reason; "" when it answered).  0, or -1
 * with err (the journal cannot be read, or f written). */
int team_timeline_export(const struct config *cfg, const char *journal_path, const char *incident,
                         FILE *f, const char *who, char offline[200], char *err, size_t errsz);

#endif
