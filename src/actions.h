/* actions.h: the one gate every write goes through.  It validates,
 * previews, journals, executes and audits; views and the command line only
 * call it.  --read-only refuses here, for every caller; --dry-run stops
 * here, after showing exactly what would be sent.
 *
 * These calls talk to the servers synchronously, each bounded by the
 * configured server timeout: the command line calls them directly.
 */
#ifndef SECTOP_ACTIONS_H
#define SECTOP_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "allowlist.h"
#include "ipaddr.h"
#include "journal.h"
#include "pg_sql.h"

struct config;

enum op_kind {
	OP_BLOCK, OP_UNBLOCK, OP_EXTEND, OP_REVOKE, OP_ROTATE,
	/* records that change nothing but the journal and the audit log */
	OP_STEP_DONE, OP_DRILL_STARTED, OP_DRILL_ENDED,
};

/* Also the command line's exit statuses. */
enum op_status {
	OP_DONE = 0,             /* done (or, in a dry run, shown) */
	OP_ALREADY = 4,          /* nothing to do: already blocked, not blocked */
	OP_REFUSED = 5,          /* refused: bad input, read-only, not confirmed, no journal */
	OP_FAILED = 6,           /* the server said no, or could not be reached; or, revoking,
	                            the database changed but the extra back end did not */
	OP_UNKNOWN = 7,          /* rotate: sent, but no clear answer (timeout, 5xx, connection
	                            lost); the next rotate of the secret reuses the idempotency key */
};

struct op {
	enum op_kind kind;
	char target[IPADDR_LEN];     /* the address (normalised by ops_prepare), or a key id */
	const char *secret;          /* rotate: the secret's name, as declared (target unused) */
	const char *tenant;          /* revoke: the key's tenant */
	const char *reason;
	long ttl_s;                  /* block and extend */
	const char *incident;
	const char *note;            /* a step's title, a drill's figures: journalled and audited */
};

/* What the address looks like now, and what the operation will send. */
struct op_plan {
	bool blocked;
	long ttl_s;                  /* -1 no expiry, -2 absent */
	char by[128], reason[256];   /* of the current block, raw */
	long failed_auth;            /* -1 absent */
	char command[512];           /* the Redis command, as it will be sent */
	bool extra_confirm;          /* private, loopback, or the operator's own address, or
	                                allow-listed (with --bypass-allow): "WORD ADDRESS" typed */
	char extra_word[8];          /* "yes", or "bypass" for an allow-listed address */
	char extra_why[400];
	char allowed_by[300];        /* the allow-list entry that holds the address, "" none */
	/* block and extend without --ttl: the step of block-ttl-steps taken */
	int ttl_step;                /* 1-based; 0 when --ttl was given */
	int ttl_steps;               /* how many steps there are */
	long earlier_blocks;         /* within block-memory; -1 unknown */
	char ttl_why[200];           /* "3rd block in 30 days: step 3 of 4" */
	/* revoke: the key as the table has it (never the key itself) */
	bool key_found, key_revoked;
	char key_name[128], key_prefix[64], key_last_used[40];
	char confirm[128];            /* what the operator types: the address, the key's prefix (its id when
	                                 the prefix is empty or not printable), the secret */
	/* rotate, and revoke with revoke-backend = db+webhook: the HTTP request,
	 * "Authorization: Bearer <from $VAR>" in place of the token */
	char request[2048];
	char idempotency_key[65];    /* rotate: sent with the request, journalled with the intent */
	bool key_reused;             /* ... taken from the last request, whose outcome is unknown */
	char reused_from[33];        /* ... that request's journal id */
	char reused_time[32];
	/* revoke: the extra back end's step, as it will be sent ("" for db alone) */
	char backend[600];
};

struct op_result {
	enum op_status status;
	char message[512];
	char journal_id[33];
	bool audited;
	bool applied;                /* the servers changed (or, if unknown, may have): audited */
	long http_status;            /* rotate, revoke to a webhook: the answer; 0 none */
	char idempotency_key[65];    /* rotate: the key sent */
	bool key_reused;
	char backend_status[16];     /* revoke: "", or done / failed / dry-run for the extra back end */
};

struct ops {
	const struct config *cfg;
	struct journal journal;
	char operator_id[160];       /* $SECTOP_OPERATOR or the login, @ the SSH client */
	char blocked_prefix[128];    /* the drill prefix in front during a drill */
	void *redis;                 /* struct rlink, connected on first use */
	void *pg;                    /* PGconn for the audit rows, on the primary */
	struct allowlist allow;      /* addresses never blocked unseen */
	struct pg_sql_names names;   /* the audit log's table and columns, quoted */
	char pg_error[256];          /* why the last write could not reach it */
	unsigned retried;            /* audit rows written again from the journal */
	unsigned reconciled;         /* interrupted actions given their result */
};

const char *op_action_name(enum op_kind k);     /* ip_blocked, ..., secret_rotation_requested */
const char *op_status_name(enum op_status s);   /* done, already, refused, failed, unknown */
/* What the operation acts on: the secret for rotate, else the target. */
const char *op_subject(const struct op *op);
const char *op_resource_type(enum op_kind k);   /* ip, api_key, runbook, drill */
/* A record rather than a change: journalled in every mode, audited when live. */
bool op_is_record(enum op_kind k);

/* Whether expect can be what the operator types to confirm: not empty, and
 * shown exactly as it is (no control, escape, bidi or invalid byte), so the
 * text asked for is the text on screen and an empty line never confirms. */
bool ops_confirm_usable(const char *expect);
/* typed equals expect, and expect is usable. */
bool ops_confirmed(const char *expect, const char *typed);

/* Who acts: $SECTOP_OPERATOR or the login, "@" the SSH client address. */
void ops_operator(char *out, size_t n);

/* Open the journal and learn who the operator is.  -1 with err. */
int ops_open(struct ops *o, const struct config *cfg, char *err, size_t errsz);
void ops_close(struct ops *o);

/* Validate op (normalising its address) and read the address's current
 * state into plan.  OP_DONE, or OP_REFUSED / OP_FAILED with r->message.
 * Rotate: the secret must be declared with a webhook= and its token_env
 * set; the plan holds the request and the idempotency key (reused when the
 * journal's last live request for this secret ended unknown or has no
 * result).  Nothing is sent by ops_prepare. */
enum op_status ops_prepare(struct ops *o, struct op *op, struct op_plan *plan, struct op_result *r);

/* Journal, execute (unless a dry run), journal the result, audit.
 * Rotate: one POST bounded by the secret's timeout= (else server-timeout). */
enum op_status ops_execute(struct ops *o, const struct op *op, const struct op_plan *plan,
                           struct op_result *r);

/* Actions the journal holds an intent of and no result (the process was
 * killed, or its terminal went away, in between): each is checked against
 * the servers (is the key there, with this operator's value?  did the row
 * change?) and journalled as "interrupted: applied" or "interrupted: not
 * applied"; ops_retry_audits then audits it as such.  An intent whose
 * process may still be running it is left alone, and so is a rotation (its
 * idempotency key is reused instead).  Nothing in --read-only or --dry-run.
 * Returns how many were reconciled. */
int ops_reconcile(struct ops *o);

/* Write the audit rows the journal says were never written (PostgreSQL was
 * down when the action ran).  Returns how many are still missing. */
int ops_retry_audits(struct ops *o);

#endif
