#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikeys.h"
#include "conf.h"
#include "connect.h"
#include "pg_sql.h"
#include "strutil.h"

static int64_t epoch(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static char *text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

int apikeys_fetch(const struct config *cfg, const char *tenant, struct api_key **out, size_t *n,
                  char *err, size_t errsz)
{
	char *t = pg_sql_ident(cfg->schema.keys_table);
	char *sql = str_printf(
	    "SELECT id::text, tenant_id, name, key_prefix, array_to_string(scopes, ' '),"
	    " extract(epoch FROM created_at)::bigint, extract(epoch FROM last_used_at)::bigint,"
	    " extract(epoch FROM expires_at)::bigint, extract(epoch FROM revoked_at)::bigint, revoked_by"
	    " FROM %s WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY tenant_id, created_at DESC LIMIT %d",
	    t, APIKEYS_MAX);
	PGconn *c = connect_pg(cfg, PG_READ, "sectop-keys");
	PGresult *r = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (PQstatus(c) != CONNECTION_OK)
		snprintf(err, errsz, "postgres: %s", PQerrorMessage(c));
	else if (PQresultStatus(r = PQexecParams(c, sql, 1, NULL, &tenant, NULL, NULL, 0)) != PGRES_TUPLES_OK)
		snprintf(err, errsz, "postgres: %s", PQerrorMessage(c));
	else if (PQntuples(r) && !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		snprintf(err, errsz, "out of memory");
	else {
		for (int i = 0; i < PQntuples(r); i++) {
			struct api_key *k = &(*out)[i];
			k->id = text(r, i, 0);
			k->tenant = text(r, i, 1);
			k->name = text(r, i, 2);
			k->prefix = text(r, i, 3);
			k->scopes = text(r, i, 4);
			k->created = epoch(r, i, 5);
			k->last_used = epoch(r, i, 6);
			k->expires = epoch(r, i, 7);
			k->revoked = epoch(r, i, 8);
			k->revoked_by = text(r, i, 9);
		}
		*n = (size_t)PQntuples(r);
		rc = 0;
	}
	if (rc < 0)
		err[strcspn(err, "\n")] = '\0';
	PQclear(r);
	PQfinish(c);
	free(sql);
	free(t);
	return rc;
}

void apikeys_free(struct api_key *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].tenant);
		free(v[i].name);
		free(v[i].prefix);
		free(v[i].scopes);
		free(v[i].revoked_by);
	}
	free(v);
}
