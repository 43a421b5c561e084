/* report_sql.h: the SQL of `sectop report` and of its rollup, built once
 * from the configured names.  Pure text, no connection, like pg_sql.h:
 * identifiers quoted with pg_sql_ident, every value a parameter.
 *
 * Every report and rollup statement takes the same parameter vector (the
 * slots below, with fixed types), so the text that aggregates raw rows for
 * the report's live part is the very text that fills the rollup: the
 * rollup is the live part, run once per hour and kept.
 *
 * The live part of a period [since, until) is [since, ra) + [rb, until),
 * the rollup's part [ra, rb) (whole hours).  Without a rollup ra = rb and
 * everything is live.  Filling the rollup for [a, b) is the live part with
 * since = ra = rb = a, until = b and no tenant.
 */
#ifndef SECTOP_REPORT_SQL_H
#define SECTOP_REPORT_SQL_H

#include <stdbool.h>
#include <stddef.h>

struct config;

enum report_param {
	RP_SINCE, RP_UNTIL,          /* $1 $2 timestamptz: the period */
	RP_RA, RP_RB,                /* $3 $4 timestamptz: the rollup's part */
	RP_TENANT,                   /* $5 text, NULL for every tenant */
	RP_FAIL_ACTIONS,             /* $6 text[] */
	RP_FAIL_STATUSES,            /* $7 int[] */
	RP_UNAUTH_ACTIONS,           /* $8 text[] (and status 403, as the console counts) */
	RP_CROSS_ACTIONS,            /* $9 text[] */
	RP_OPERATOR_ACTIONS,         /* $10 text[]: sectop's own */
	RP_LIMIT,                    /* $11 int: rows of a top list */
	RP_CUT,                      /* $12 int: long strings cut on the server */
	RP_HOT,                      /* $13 bigint: requests within one hour, more than */
	RP_HOT_MIN,                  /* $14 bigint: the least the rollup keeps of an hour */
	RP_SECRETS,                  /* $15 text[]: declared secret names */
	RP_KEY_DAYS,                 /* $16 int: an API key unused this long */
	RP_ROWS,                     /* $17 int: rows of a listing */
	RP_DEFINITION,               /* $18 text: what the rollup was built for */
	RP_N
};

/* The least number of requests from one address within one hour that the
 * rollup keeps: --hot-threshold below it reads that section live. */
#define REPORT_HOT_MIN 100

enum report_query {
	RQ_HOURS,         /* per hour: events, failures, unauthorized, cross, blocks, actions */
	RQ_DISTINCT,      /* distinct addresses */
	RQ_TOP,           /* top addresses by failures, peak hour, tenants touched */
	RQ_HOT,           /* addresses above --hot-threshold within one hour */
	RQ_ACCESS,        /* unauthorized and cross-tenant by tenant and user */
	RQ_ACTIONS,       /* sectop's own action rows */
	RQ_ROTATIONS,     /* last rotation of each declared secret */
	RQ_KEYS,          /* API keys expired, never used or unused */
	RQ_RECENT,        /* addresses that failed lately: their blocks are looked up */
	RQ_BLOCKED,       /* addresses an operator ever blocked: looked up too */
	RQ_FAIL_IPS,      /* every failing address's failures: countries and networks */
	RQ_N
};

enum rollup_stmt {
	RS_FILL_HOUR, RS_FILL_FAIL, RS_FILL_FAILH, RS_FILL_USERS, RS_FILL_HOT, RS_FILL_ACTIONS, RS_FILL_IPS,
	RS_FILL_IPT,
	RS_N_FILL,
	RS_STATE = RS_N_FILL,  /* definition, rolled_from, rolled_until (unix us) */
	RS_STATE_LOCK,         /* the same, FOR UPDATE */
	RS_STATE_INIT,         /* create the state row: $18, rolled_from = rolled_until = $1 */
	RS_STATE_SET,          /* rolled_from = least(., $1), rolled_until = greatest(., $2), $18 */
	RS_STATE_RESET,        /* a new definition: $18, rolled_from = rolled_until = $1 */
	RS_RECHECK,            /* hours of [$1, $2) whose row count differs from the rollup's */
	RS_CLOCK,              /* this hour (unix us) */
	RS_FIRST,              /* the table's first hour (unix us), for a new roll-up */
	RS_LIVE_CREATE,        /* the report's temporary table of the live part (no parameters) */
	RS_LIVE_FILL,          /* copy the live part of a period into it */
	RS_LIVE_ANALYZE,       /* its statistics (several statements, no parameters) */
	RS_N
};

/* The variants of each report query. */
enum report_variant {
	RV_TABLE,          /* no rollup: every row from the audit table */
	RV_ROLLUP_COPY,    /* the rollup, and the live part from the report's temporary copy */
	RV_ROLLUP_TABLE,   /* the rollup, and the live part from the audit table */
	RV_N
};

struct report_sql {
	char *query[RQ_N][RV_N];
	char *rollup[RS_N];
	char *create;                /* the rollup's DDL: several statements, no parameters */
	char *truncate;              /* empty every rollup table */
	char *analyze;               /* ANALYZE every rollup table */
	char *drop;                  /* DROP the rollup */
	char *state_table;           /* the state table's quoted name, for to_regclass() */
	char *definition;            /* what the rollup is built for: names and definitions */
};

/* 0, or -1 with a reason in err (out of memory, a table name too long for
 * the rollup's names). */
int report_sql_build(struct report_sql *q, const struct config *cfg, char *err, size_t errsz);
void report_sql_free(struct report_sql *q);

/* sectop's operator actions as a text[] parameter; malloc'd. */
char *report_sql_operator_array(void);

/* Expand {name} tokens from a table of (name, value) pairs.  The first
 * n_names are names: their values are copied as they are; the others are
 * fragments, expanded in turn.  Text between [[ and ]] is kept only when
 * `keep` is set, text between [! and !] only when it is not.  For the
 * builder and its tests.  malloc'd, or NULL (out of memory, unknown token). */
char *report_sql_expand(const char *tmpl, const char *const (*tokens)[2], size_t n_tokens,
                        size_t n_names, bool keep);

#endif
