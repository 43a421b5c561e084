/* range_action.h: block and unblock a range (203.0.113.0/24,
 * 2001:db8:bad::/64) through the same gate as one address.
 *
 * A range block blocks every address of the range that failed in the
 * window (the audit log, as the console and the snapshot count it), each
 * as its own blocked:<ip> key (the servers check exact addresses), at most
 * range-max of them: more than that is refused, saying how many, and
 * nothing is blocked (a partial block of a range would look like the
 * whole).  Allow-listed, private, loopback, link-local and the operator's
 * own addresses are skipped, each with why; so are addresses already
 * blocked.  The value written carries "range", so that unblocking the
 * range removes exactly the keys a range block of it set, and leaves the
 * others (the servers', another tool's, a single block) alone, saying so.
 *
 * One journal record (intent before, result after), an audit row per
 * address, each with "range" in its details.  Each key is compared and
 * applied in a transaction of its own (WATCH, GET, MULTI, EXEC): in a
 * Redis Cluster the keys lie on different slots. */
#ifndef SECTOP_RANGE_ACTION_H
#define SECTOP_RANGE_ACTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "actions.h"
#include "ipnet.h"

/* More members than any range-max: what the audit log is asked for at most. */
#define RANGE_FETCH_MAX 65536

enum member_state {
	MEMBER_PLANNED,              /* to be blocked (unblocked) */
	MEMBER_SKIPPED,              /* not acted on: why says */
	MEMBER_LEFT,                 /* unblock: a block in the range that a range block did not set */
	MEMBER_DONE,
	MEMBER_CHANGED,              /* changed while the operator confirmed: nothing sent */
	MEMBER_FAILED,               /* Redis failed (or was not reached after an earlier failure) */
};

struct range_member {
	char ip[IPADDR_LEN];
	long failures;               /* in the window; 0 when found by an earlier range block only */
	enum member_state state;
	char why[360];
	char *value;                 /* unblock: the key's value as read, compared before the DEL */
};

struct range_plan {
	struct op op;                /* OP_BLOCK or OP_UNBLOCK; target: the range, normal form */
	int window_s;                /* the window the members failed in (0: the configured one) */
	const char *tenant;          /* ... and the tenant scope (NULL: every tenant), as the
	                                console or the snapshot counting them has it */
	struct ipnet net;
	long failing;                /* addresses of the range that failed in the window, all of them */
	struct range_member *v;
	size_t n;
	int ttl_step, ttl_steps;     /* block without --ttl: the step of block-ttl-steps; 0 none */
	long earlier_blocks;         /* earlier blocks of this range within block-memory; -1 unknown */
	char ttl_why[200];
	char command[700];           /* what is sent for each address, for the preview and the journal */
};

const char *range_state_name(enum member_state s);
size_t range_count(const struct range_plan *p, enum member_state s);

/* Check the range, find its members and read their keys.  p->op holds
 * the kind, reason, ttl and incident, p->window_s and p->tenant the scope;
 * text is the range as typed.  OP_DONE
 * (nothing sent), or OP_REFUSED / OP_FAILED with r->message. */
enum op_status range_prepare(struct ops *o, struct range_plan *p, const char *text, struct op_result *r);
/* Journal, apply key by key (unless a dry run), journal the result, audit. */
enum op_status range_execute(struct ops *o, struct range_plan *p, struct op_result *r);
void range_plan_free(struct range_plan *p);

/* For actions.c.  An interrupted range action: the result from the keys
 * as they are (1 journalled, 0 cannot tell now).  A range action's audit
 * rows written again from the journal (0 written, -1 not now). */
int range_reconcile(struct ops *o, json_t *intent, const char *id);
int range_retry_audit(struct ops *o, json_t *intent, json_t *result, const char *id);

#endif
