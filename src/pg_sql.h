/* pg_sql.h: the SQL sectop sends, built once from the configured names.
 *
 * Pure text building, no connection: identifiers are quoted here (the same
 * rule as PQescapeIdentifier: wrap in double quotes, double any inner quote)
 * so that --print-indexes works offline.  Every value travels as a
 * parameter ($1, $2, ...); nothing from outside is pasted into SQL text.
 */
#ifndef SECTOP_PG_SQL_H
#define SECTOP_PG_SQL_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* The configured table and column names, quoted; malloc'd. */
struct pg_sql_names {
	char *t, *id, *ts, *tenant, *user, *action, *method, *path, *status, *ua, *ip;
	char *rtype, *rid, *details;
};
/* 0, or -1 out of memory (nothing held). */
int pg_sql_names_init(struct pg_sql_names *n, const struct config *cfg);
void pg_sql_names_free(struct pg_sql_names *n);

/* The audit rows of one action, n of them in one INSERT (all or none):
 * $1 action, $2 user, $3 resource type, $4 tenant, $5 details (jsonb), $6
 * time (NULL: now), and $7 ... $(6+n) the resource ids, one a row.  VALUES,
 * so that each parameter takes its column's type.  malloc'd; NULL out of
 * memory. */
char *pg_sql_audit_insert(const struct pg_sql_names *q, size_t n);

/* The queries of one dashboard refresh.  Parameters of each are listed in
 * pg_sql.c beside its text. */
struct pg_sql {
	char *clock;        /* the server's minute; late rows?  new rows? */
	char *rows;         /* the rows past the cursor */
	char *late;         /* the rows of a range that were not counted: committed late */
	char *per_minute;   /* failures per minute, last 60 minutes (reading the window) */
	char *top_ips;      /* top addresses by failures (a tenant's drill-down) */
	char *tail;         /* newest failures (reading the window) */
	/* drill-down */
	char *ip_events;    /* one address's newest events */
	char *ip_by[3];     /* one address's events by tenant, user, user agent */
	char *tenant_users; /* one tenant's users */
	/* operators' actions in the audit log (team_pg.c), every operator's */
	char *team_rows;    /* past a cursor, or of one incident */
};

/* at: the queries of a look back, whose clock is the session's sectop.at
 * (a timestamptz, set before them) instead of now(). */
int pg_sql_build(struct pg_sql *q, const struct config *cfg, bool at);
void pg_sql_free(struct pg_sql *q);

/* "name" with inner quotes doubled; malloc'd. */
char *pg_sql_ident(const char *name);
/* 'text' with inner quotes doubled, for DDL printed for a person; malloc'd. */
char *pg_sql_literal(const char *text);
/* A text[] parameter in array syntax: {"a","b\"c"}; malloc'd. */
char *pg_sql_text_array(char *const *v, size_t n);
/* An int[] parameter: {401,403}; malloc'd. */
char *pg_sql_int_array(const int *v, size_t n);

/* One relation of a partitioned audit table's tree, root first. */
struct pg_partition {
	char *schema, *name;          /* raw names */
	int parent;                   /* index of its parent in the list; -1 for the root */
	bool leaf;
	bool has[3];                  /* already has its part of each index (by PG_INDEX_*) */
};

/* The indexes that make the refresh queries fast, as commented DDL: for a
 * plain table (parts NULL), or for the partitioned tree parts[0..n). */
char *pg_sql_indexes(const struct config *cfg, const struct pg_partition *parts, size_t n);
/* The name of index i (0..2) of a relation: relation name + its suffix. */
char *pg_sql_index_name(const char *relation, int i);

#endif
