/* cmd_indexes.c: `sectop --print-indexes`.  The DDL is worked out offline
 * (pg_sql.c); when the database answers, it is asked whether the audit
 * table is partitioned, since a partitioned table refuses CREATE INDEX
 * CONCURRENTLY and needs its indexes made partition by partition. */
#include "config.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "conf.h"
#include "connect.h"
#include "pg_sql.h"
#include "sanitize.h"
#include "strutil.h"

/* The tree root first, a level at a time; for each relation whether it
 * has its part of each index already (attached to its parent's). */
static const char tree_sql[] =
    "SELECT n.nspname, c.relname, t.relid::oid::text, t.parentrelid::oid::text, t.isleaf,"
    " ARRAY(SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid"
    "  WHERE x.indrelid = t.relid AND i.inhparent ="
    "   to_regclass(quote_ident(pn.nspname) || '.' || quote_ident(p.relname || s.suffix)))"
    "  FROM unnest($2::text[]) WITH ORDINALITY s(suffix, o) ORDER BY s.o)::text"
    " FROM pg_partition_tree(to_regclass($1)) t"
    " JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_class p ON p.oid = t.parentrelid LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace"
    " ORDER BY t.level, c.relname";

static void parts_free(struct pg_partition *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].schema);
		free(v[i].name);
	}
	free(v);
}

static int find_oid(const PGresult *r, int upto, const char *oid)
{
	for (int i = 0; i < upto; i++)
		if (strcmp(PQgetvalue(r, i, 2), oid) == 0)
			return i;
	return -1;
}

/* The partition tree of the audit table; NULL with *n 0 when it is a plain
 * table, and with err when the database could not say. */
static struct pg_partition *read_tree(PGconn *c, const struct config *cfg, size_t *n, char *err, size_t errsz)
{
	char *table = pg_sql_ident(cfg->schema.table);
	char *suffixes[3];
	for (int i = 0; i < 3; i++)
		suffixes[i] = pg_sql_index_name("", i);
	char *arr = pg_sql_text_array(suffixes, 3);
	const char *v[] = { table, arr };
	PGresult *r = table && arr ? PQexecParams(c, tree_sql, 2, NULL, v, NULL, NULL, 0) : NULL;
	struct pg_partition *parts = NULL;

	*n = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		str_one_line(err, errsz, PQerrorMessage(c));
	else if (PQntuples(r) > 1 && (parts = calloc((size_t)PQntuples(r), sizeof *parts))) {
		for (int i = 0; i < PQntuples(r); i++) {
			struct pg_partition *p = &parts[i];
			const char *has = PQgetvalue(r, i, 5);   /* "{t,f,t}" */
			p->schema = strdup(PQgetvalue(r, i, 0));
			p->name = strdup(PQgetvalue(r, i, 1));
			p->parent = PQgetisnull(r, i, 3) ? -1 : find_oid(r, i, PQgetvalue(r, i, 3));
			p->leaf = PQgetvalue(r, i, 4)[0] == 't';
			for (int k = 0; k < 3 && strlen(has) > (size_t)(1 + 2 * k); k++)
				p->has[k] = has[1 + 2 * k] == 't';
			if (i > 0 && p->parent < 0)
				p->parent = 0;
		}
		*n = (size_t)PQntuples(r);
	} else if (PQntuples(r) > 1) {
		snprintf(err, errsz, "out of memory");
	}
	PQclear(r);
	free(table);
	free(arr);
	for (int i = 0; i < 3; i++)
		free(suffixes[i]);
	return parts;
}

int app_print_indexes(const struct config *cfg)
{
	char err[512] = "";
	struct pg_partition *parts = NULL;
	size_t n = 0;
	PGconn *c = connect_pg(cfg, PG_READ, "sectop-indexes");

	if (PQstatus(c) == CONNECTION_OK)
		parts = read_tree(c, cfg, &n, err, sizeof err);
	else
		str_one_line(err, sizeof err, c ? PQerrorMessage(c) : "out of memory");
	PQfinish(c);
	if (err[0]) {
		char *safe = sanitize_str(err, 0);
		fprintf(stderr, "sectop: could not ask the database whether %s is partitioned (%s): "
		        "the indexes below are for a plain table\n", cfg->schema.table, safe ? safe : "");
		free(safe);
	}
	char *ddl = pg_sql_indexes(cfg, parts, n);
	int rc = ddl && fputs(ddl, stdout) >= 0 && fflush(stdout) == 0 ? 0 : 1;
	free(ddl);
	parts_free(parts, n);
	return rc;
}
