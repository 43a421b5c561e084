/* actions_priv.h: the parts of the gate (actions.c) that range actions
 * (range_action.c) share, so that one journal record, its audit rows and
 * its mode are written the same way for an address and for a range.  Not
 * for views or commands: they call actions.h or range_action.h. */
#ifndef SECTOP_ACTIONS_PRIV_H
#define SECTOP_ACTIONS_PRIV_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "actions.h"

struct rlink;

/* The Redis link, connected on first use; NULL with r->message. */
struct rlink *ops_redis_link(struct ops *o, struct op_result *r);
/* The write connection (the primary); NULL with o->pg_error. */
PGconn *ops_pg_conn(struct ops *o);
/* A journal record's common fields: id, time, phase, operator. */
json_t *ops_journal_record(const struct ops *o, const char *id, const char *phase);
/* "live", "drill", "dry-run" or "read-only". */
const char *ops_mode(const struct ops *o, const struct op *op);
/* Are actions of this mode audited (live, drill)? */
bool ops_mode_audited(const char *mode);
/* The audit row's details: journal id, reason, ttl, mode, incident, note, extra. */
char *ops_audit_details(const struct op *op, const char *id, const char *mode, json_t *extra);
/* "ip_blocked", or "ip_blocked_noop" when it found nothing to do. */
void ops_audit_action(char *out, size_t n, const char *action, const char *status, bool applied);
/* The audit rows of one action, one for each of targets (a range's
 * addresses, or one), in one INSERT: all written or none.  who and when are
 * the journal's for rows written again later (NULL: this operator, now), so
 * a retried row keeps its own operator and time.  A write that finds its
 * connection lost or its server a standby is tried once more on a fresh
 * one.  0, or -1 with o->pg_error. */
int ops_audit_rows(struct ops *o, const char *action, const char *type, char *const *targets, size_t n,
                   const char *tenant, const char *details, const char *who, const char *when);
/* Run sql (taken and freed): a count of operator blocks of target within
 * block-memory, its parameters $1 the block action, $2 target, $3 the
 * memory in seconds; -1 with o->pg_error. */
long ops_count_blocks(struct ops *o, PGconn *c, char *sql, const char *target);
/* The result's message set (and its status), or added to. */
enum op_status op_result_say(struct op_result *r, enum op_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void op_result_append(struct op_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A test's stop (SECTOP_STOP_AT=intent, executed or result). */
bool ops_stop_armed(const char *name);
void ops_stop_point(const char *name);

#endif
