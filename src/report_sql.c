/* report_sql.c: the report's and the rollup's SQL, as templates.
 *
 * A template names columns and tables by token ({ts}, {T}, {R_HOUR}) and
 * shares fragments the same way ({LIVE}, {FAIL}, {AGG_HOUR}); text between
 * [[ and ]] reads the rollup and is left out of the raw-table variant.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "pg_sql.h"
#include "report.h"
#include "report_sql.h"
#include "strutil.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

/* ------------------------------------------------------------- fragments */

/* The live rows of the period, in scope, from {L}: the audit table, or the
 * report's temporary copy of the periods' edges.  $1..$4, $5. */
#define F_LIVE "((a.{ts} >= $1 AND a.{ts} < $3) OR (a.{ts} >= $4 AND a.{ts} < $2))" \
	" AND ($5 IS NULL OR a.{tenant} = $5)"
#define F_FAIL "(a.{action} = ANY($6) OR a.{status} = ANY($7))"
/* as the console's tenant panel counts it */
#define F_UNAUTH "(a.{action} = ANY($8) OR a.{status} = 403)"
#define F_CROSS "a.{action} = ANY($9)"
#define F_OPS "a.{action} = ANY($10)"
/* rollup rows of the period, in scope */
#define F_RANGE "r.hour >= $3 AND r.hour < $4"
#define F_SCOPE "($5 IS NULL OR r.tenant = $5)"
/* rollup rows keyed by tenant: '*' all tenants, md5 of one, '-' no tenant */
#define F_TKEY "COALESCE(md5($5), '*')"
#define F_TKEY_OF "CASE WHEN GROUPING(a.{tenant}) = 1 THEN '*' ELSE COALESCE(md5(a.{tenant}), '-') END"
#define F_TENANT_OF "CASE WHEN GROUPING(a.{tenant}) = 0 THEN a.{tenant} END"

/*
 * The addresses seen, as bits: one row per address per two-week bucket,
 * bit i set when it was seen in the bucket's hour i.  Rows for all tenants
 * ({R_IPS}) are kept twice, in buckets starting every two weeks from the
 * epoch (A) and in buckets a week later (B): any span of up to a week lies
 * inside one bucket of A or of B, where each address has one row, so
 * counting the addresses of a week is counting rows, with nothing to
 * deduplicate.  Longer spans, and the rows of each tenant ({R_IPT}, in A
 * only), are deduplicated.
 */
#define BUCKET_S "1209600"
#define OFFSET_S "604800"
#define F_MASK_OF(name, base) name " AS (SELECT to_timestamp(base) AS bucket, {BITS} FROM (SELECT " base \
	" AS base, ((e - (" base ")) / 3600)::int AS i FROM hrs) x GROUP BY 1)"
#define BASE_A "e - e % " BUCKET_S
#define BASE_B "e - (e - " OFFSET_S ") % " BUCKET_S
/* the hours of the rollup's part, as bits per bucket: ma (A), and masks,
 * the one bucket of A or B that holds them all, else A's */
#define F_MASKS "hrs AS (SELECT extract(epoch FROM h)::bigint AS e" \
	" FROM generate_series($3, $4 - interval '1 hour', interval '1 hour') h), " \
	F_MASK_OF("ma", BASE_A) ", " F_MASK_OF("mb", BASE_B) ", " \
	"masks AS (SELECT * FROM ma WHERE $5 IS NOT NULL OR (SELECT count(*) FROM ma) = 1" \
	" OR (SELECT count(*) FROM mb) > 1 UNION ALL SELECT * FROM mb WHERE $5 IS NULL" \
	" AND (SELECT count(*) FROM ma) > 1 AND (SELECT count(*) FROM mb) = 1)"

/* Raw rows aggregated as the rollup keeps them.  The report reads them for
 * its live part; the rollup stores them for [a, b). */
#define F_AGG_HOUR "SELECT date_trunc('hour', a.{ts}) AS hour, a.{tenant} AS tenant," \
	" count(*) AS events, count(*) FILTER (WHERE {FAIL}) AS failures," \
	" count(*) FILTER (WHERE {UNAUTH}) AS unauthorized," \
	" count(*) FILTER (WHERE {CROSS}) AS cross_tenant," \
	" count(*) FILTER (WHERE a.{action} = 'ip_blocked') AS blocks," \
	" count(*) FILTER (WHERE {OPS}) AS actions" \
	" FROM {L} a WHERE {LIVE} GROUP BY 1, 2"
#define F_AGG_FAIL "SELECT date_trunc('hour', a.{ts}) AS hour, a.{ip} AS ip, a.{tenant} AS tenant," \
	" count(*) AS failures FROM {L} a WHERE {LIVE} AND {FAIL} AND a.{ip} IS NOT NULL GROUP BY 1, 2, 3"
#define F_AGG_USERS "SELECT date_trunc('hour', a.{ts}) AS hour, a.{tenant} AS tenant, a.{user} AS user_id," \
	" count(*) FILTER (WHERE {UNAUTH}) AS unauthorized, count(*) FILTER (WHERE {CROSS}) AS cross_tenant" \
	" FROM {L} a WHERE {LIVE} AND ({UNAUTH} OR {CROSS}) GROUP BY 1, 2, 3"
#define F_AGG_ACTIONS "SELECT a.{ts} AS ts, a.{user} AS user_id, a.{action} AS action," \
	" a.{rtype} AS resource_type, a.{rid} AS resource_id, a.{tenant} AS tenant, a.{ip} AS ip," \
	" a.{details} ->> 'reason' AS reason, a.{details} ->> 'secret' AS secret" \
	" FROM {L} a WHERE {LIVE} AND ({OPS} OR a.{action} = 'secret_rotated')"

/* --------------------------------------------------------------- report */

static const char *const query_tmpl[RQ_N] = {
	[RQ_HOURS] =
	    "WITH s AS ([[SELECT r.hour, r.events, r.failures, r.unauthorized, r.cross_tenant, r.blocks,"
	    " r.actions FROM {R_HOUR} r WHERE {RANGE} AND {SCOPE} UNION ALL ]]"
	    "SELECT hour, events, failures, unauthorized, cross_tenant, blocks, actions FROM ({AGG_HOUR}) l)"
	    " SELECT " US("hour") ", sum(events)::bigint, sum(failures)::bigint, sum(unauthorized)::bigint,"
	    " sum(cross_tenant)::bigint, sum(blocks)::bigint, sum(actions)::bigint"
	    " FROM s GROUP BY hour ORDER BY hour",
	/* |R u L| = |R| + |L| - |R n L| when R has one row per address */
	[RQ_DISTINCT] =
	    "WITH [[{MASKS}, ]]l AS MATERIALIZED (SELECT DISTINCT a.{ip} AS ip FROM {L} a"
	    " WHERE {LIVE} AND a.{ip} IS NOT NULL)"
	    "[[, r AS NOT MATERIALIZED (SELECT r.ip FROM {R_IPS} r JOIN masks m ON r.bucket = m.bucket"
	    " WHERE $5 IS NULL AND r.bucket = ANY (ARRAY(SELECT bucket FROM masks)) AND {MASKHIT}"
	    " UNION ALL SELECT r.ip FROM {R_IPT} r JOIN masks m ON r.bucket = m.bucket"
	    " WHERE r.tkey = md5($5) AND r.bucket = ANY (ARRAY(SELECT bucket FROM masks)) AND {MASKHIT})]]"
	    " SELECT [[CASE WHEN (SELECT count(*) FROM masks) <= 1"
	    " THEN (SELECT count(*) - count(*) FILTER (WHERE r.ip IN (SELECT ip FROM l)) FROM r)"
	    " + (SELECT count(*) FROM l)"
	    " ELSE (SELECT count(*) FROM (SELECT ip FROM r UNION SELECT ip FROM l) u) END]]"
	    "[!(SELECT count(*) FROM l)!]",
	/*
	 * Top addresses by failures.  Summing a week of failures per address
	 * is the report's most expensive step, so with the rollup, for every
	 * tenant, when the period lies in one bucket: the K = 4N addresses
	 * with the most failures in the whole bucket are candidates, each
	 * counted exactly over the period (a few index probes).  An address
	 * that is not a candidate has at most the (K+1)-th bucket total plus
	 * the most any address failed in the live part; when the N-th
	 * candidate has more than that, the candidates' top N is the top N.
	 * Otherwise (or for one tenant) every address is summed.
	 *
	 * Tenants touched count every event of the address, not only its
	 * failures; a tenant's rows are in buckets A (ma).
	 */
	[RQ_TOP] =
	    "WITH [[{MASKS}, ]]lf AS MATERIALIZED (SELECT ip, sum(failures) AS n FROM ({AGG_FAIL}) l"
	    " GROUP BY ip),"
	    "[[ ub AS MATERIALIZED (SELECT r.ip, r.failures AS n FROM {R_FAILB} r WHERE $5 IS NULL"
	    " AND (SELECT count(*) FROM masks) = 1 AND r.bucket = (SELECT bucket FROM masks)"
	    " ORDER BY r.failures DESC, r.ip LIMIT $11 * 4 + 1),"
	    " ex AS MATERIALIZED (SELECT u.ip, (SELECT COALESCE(sum(h.failures), 0) FROM {R_FAILH} h"
	    " WHERE h.ip = u.ip AND h.hour >= $3 AND h.hour < $4) + COALESCE(lf.n, 0) AS n"
	    " FROM (SELECT ip FROM ub ORDER BY n DESC, ip LIMIT $11 * 4) u LEFT JOIN lf ON lf.ip = u.ip),"
	    " fast AS (SELECT COALESCE((SELECT count(*) FROM ub) = $11 * 4 + 1"
	    " AND (SELECT n FROM ex ORDER BY n DESC, ip OFFSET $11 - 1 LIMIT 1)"
	    " > (SELECT min(n) FROM ub) + COALESCE((SELECT max(n) FROM lf), 0), false) AS ok),]]"
	    " top AS ([[SELECT ip, n FROM (SELECT ip, n FROM ex ORDER BY n DESC, ip LIMIT $11) e"
	    " WHERE (SELECT ok FROM fast) UNION ALL ]]"
	    "(SELECT ip, sum(n) AS n FROM ([[SELECT r.ip, r.failures AS n FROM {R_FAIL} r"
	    " WHERE {RANGE} AND {SCOPE} UNION ALL ]]SELECT ip, n FROM lf) f"
	    "[[ WHERE NOT (SELECT ok FROM fast)]] GROUP BY ip ORDER BY n DESC, ip LIMIT $11)),"
	    " peak AS (SELECT DISTINCT ON (ip) ip, hour, n FROM (SELECT ip, hour, sum(failures) AS n FROM ("
	    "[[SELECT r.ip, r.hour, r.failures FROM top t JOIN {R_FAILH} r ON r.ip = t.ip"
	    " WHERE {RANGE} AND $5 IS NULL UNION ALL"
	    " SELECT r.ip, r.hour, r.failures FROM top t JOIN {R_FAIL} r ON r.ip = t.ip"
	    " WHERE {RANGE} AND r.tenant = $5 UNION ALL ]]"
	    "SELECT a.{ip} AS ip, date_trunc('hour', a.{ts}) AS hour, count(*) AS failures FROM {L} a"
	    " WHERE {LIVE} AND {FAIL} AND a.{ip} IN (SELECT ip FROM top) GROUP BY 1, 2) x GROUP BY 1, 2) y"
	    " ORDER BY ip, n DESC, hour),"
	    " tn AS ([[SELECT r.ip, r.tenant FROM top t JOIN {R_IPT} r ON r.ip = t.ip"
	    " JOIN ma m ON r.bucket = m.bucket WHERE r.bucket = ANY (ARRAY(SELECT bucket FROM ma))"
	    " AND r.tkey = COALESCE(md5($5), r.tkey) AND {MASKHIT} UNION ]]"
	    "SELECT DISTINCT a.{ip} AS ip, a.{tenant} AS tenant FROM {L} a WHERE {LIVE}"
	    " AND a.{ip} IN (SELECT ip FROM top)),"
	    " tt AS (SELECT ip, count(tenant) AS n, json_agg(left(tenant, $12) ORDER BY tenant)"
	    " FILTER (WHERE tenant IS NOT NULL) AS names FROM tn GROUP BY ip)"
	    " SELECT host(top.ip), top.n, " US("peak.hour") ", peak.n, COALESCE(tt.n, 0), tt.names"
	    " FROM top JOIN peak ON peak.ip = top.ip LEFT JOIN tt ON tt.ip = top.ip"
	    " ORDER BY top.n DESC, top.ip",
	[RQ_HOT] =
	    "WITH h AS ([[SELECT r.hour, r.ip, r.events FROM {R_HOT} r"
	    " WHERE {RANGE} AND r.tkey = {TKEY} AND r.events > $13 UNION ALL ]]"
	    "SELECT date_trunc('hour', a.{ts}) AS hour, a.{ip} AS ip, count(*) AS events FROM {L} a"
	    " WHERE {LIVE} AND a.{ip} IS NOT NULL GROUP BY 1, 2 HAVING count(*) > $13)"
	    " SELECT host(ip), count(*), max(events), " US("(array_agg(hour ORDER BY events DESC, hour))[1]")
	    ", sum(events), count(*) OVER () FROM h GROUP BY ip ORDER BY max(events) DESC, ip LIMIT $11",
	[RQ_ACCESS] =
	    "WITH u AS ([[SELECT r.tenant, r.user_id, r.unauthorized, r.cross_tenant FROM {R_USERS} r"
	    " WHERE {RANGE} AND {SCOPE} UNION ALL ]]"
	    "SELECT tenant, user_id, unauthorized, cross_tenant FROM ({AGG_USERS}) l)"
	    " SELECT left(tenant, $12), left(user_id, $12), sum(unauthorized)::bigint,"
	    " sum(cross_tenant)::bigint, count(*) OVER () FROM u GROUP BY tenant, user_id"
	    " ORDER BY sum(unauthorized) + sum(cross_tenant) DESC, sum(unauthorized) DESC,"
	    " tenant NULLS LAST, user_id NULLS LAST LIMIT $11",
	[RQ_ACTIONS] =
	    "WITH x AS ([[SELECT r.ts, r.user_id, r.action, r.resource_type, r.resource_id, r.tenant,"
	    " r.ip, r.reason FROM {R_ACTIONS} r WHERE r.ts >= $3 AND r.ts < $4 AND {SCOPE}"
	    " AND r.action = ANY($10) UNION ALL ]]"
	    "SELECT ts, user_id, action, resource_type, resource_id, tenant, ip, reason"
	    " FROM ({AGG_ACTIONS}) l WHERE l.action = ANY($10))"
	    " SELECT " US("ts") ", left(user_id, $12), left(action, $12), left(resource_type, $12),"
	    " left(resource_id, $12), left(tenant, $12), host(ip), left(reason, $12)"
	    " FROM x ORDER BY ts, action, resource_id LIMIT $17",
	/* all of history: the rollup's rows, raw rows outside it */
	[RQ_ROTATIONS] =
	    "WITH s AS (SELECT DISTINCT unnest($15) AS name),"
	    " rot AS ([[SELECT r.ts, r.resource_id, r.secret FROM {R_ACTIONS} r"
	    " WHERE r.action = 'secret_rotated' UNION ALL ]]"
	    "SELECT ts, resource_id, secret FROM ({AGG_ACTIONS}) l WHERE l.action = 'secret_rotated')"
	    " SELECT s.name, " US("max(rot.ts)") " FROM s"
	    " LEFT JOIN rot ON rot.resource_id = s.name OR rot.secret = s.name GROUP BY s.name",
	/* The addresses that failed since $1, most failures first: those whose
	 * block key the report looks up.  Always the audit table, served by the
	 * partial failure index (sectop --print-indexes): the span is recent,
	 * and a block outlives neither it nor the rollup's edge. */
	[RQ_RECENT] =
	    "SELECT host(a.{ip}) FROM {T} a WHERE a.{ts} >= $1 AND a.{ts} < $2 AND {FAIL}"
	    " AND a.{ip} IS NOT NULL AND ($5 IS NULL OR a.{tenant} = $5)"
	    " GROUP BY a.{ip} ORDER BY count(*) DESC, a.{ip} LIMIT $17",
	/* Every address an operator ever blocked (all of history, like the
	 * rotations): a block may have no expiry, or one longer than the
	 * period.  Whether it still holds is Redis's to say. */
	[RQ_BLOCKED] =
	    "WITH x AS ([[SELECT r.resource_id FROM {R_ACTIONS} r WHERE r.action = 'ip_blocked' UNION ALL ]]"
	    "SELECT resource_id FROM ({AGG_ACTIONS}) l WHERE l.action = 'ip_blocked')"
	    " SELECT DISTINCT left(resource_id, $12) FROM x WHERE resource_id IS NOT NULL LIMIT $17",
	/* Each failing address's failures in the period (the rollup's and the
	 * live part's), most first, for where they sit (report_geo.c). */
	[RQ_FAIL_IPS] =
	    "WITH lf AS (SELECT ip, sum(failures) AS n FROM ({AGG_FAIL}) l GROUP BY ip)"
	    " SELECT host(ip), sum(n) FROM ([[SELECT r.ip, r.failures AS n FROM {R_FAIL} r"
	    " WHERE {RANGE} AND {SCOPE} UNION ALL ]]SELECT ip, n FROM lf) f"
	    " WHERE ip IS NOT NULL GROUP BY ip ORDER BY 2 DESC, 1 LIMIT 100001",
	[RQ_KEYS] =
	    "SELECT left(k.tenant_id, $12), left(k.name, $12), left(k.key_prefix, $12),"
	    " " US("k.created_at") ", " US("k.last_used_at") ", " US("k.expires_at") ", count(*) OVER ()"
	    " FROM {KEYS} k WHERE k.revoked_at IS NULL AND ($5 IS NULL OR k.tenant_id = $5)"
	    " AND (k.expires_at <= now() OR k.last_used_at IS NULL"
	    " OR k.last_used_at < now() - make_interval(days => $16))"
	    " ORDER BY CASE WHEN k.expires_at <= now() THEN 0 WHEN k.last_used_at IS NULL THEN 1 ELSE 2 END,"
	    " k.last_used_at NULLS FIRST, k.tenant_id, k.name LIMIT $17",
};

/* --------------------------------------------------------------- rollup */

/* Each fill replaces the hours of [$1, $2) (deleted and inserted in one
 * statement), except the address sets, which only ever gain bits.  Fills
 * read the audit table: {L} is {T} here. */
static const char *const rollup_tmpl[RS_N] = {
	[RS_FILL_HOUR] =
	    "WITH d AS (DELETE FROM {R_HOUR} WHERE hour >= $1 AND hour < $2)"
	    " INSERT INTO {R_HOUR} (hour, tenant, events, failures, unauthorized, cross_tenant, blocks,"
	    " actions) {AGG_HOUR}",
	[RS_FILL_FAIL] =
	    "WITH d AS (DELETE FROM {R_FAIL} WHERE hour >= $1 AND hour < $2)"
	    " INSERT INTO {R_FAIL} (hour, ip, tenant, failures) {AGG_FAIL}",
	/* from the rows just filled: per hour and address in all, and the
	 * bucket totals, A and B, moved by what changed (an hour redone
	 * replaces its part of the total, never adds it twice) */
	[RS_FILL_FAILH] =
	    "WITH old AS (DELETE FROM {R_FAILH} WHERE hour >= $1 AND hour < $2 RETURNING hour, ip, failures),"
	    " new AS (INSERT INTO {R_FAILH} (hour, ip, failures) SELECT hour, ip, sum(failures)"
	    " FROM {R_FAIL} WHERE hour >= $1 AND hour < $2 GROUP BY 1, 2 RETURNING hour, ip, failures),"
	    " d AS (SELECT extract(epoch FROM hour)::bigint AS e, ip, failures AS n FROM new"
	    " UNION ALL SELECT extract(epoch FROM hour)::bigint, ip, -failures FROM old)"
	    " INSERT INTO {R_FAILB} AS t (bucket, ip, failures)"
	    " SELECT to_timestamp(v.base), d.ip, sum(d.n) FROM d CROSS JOIN LATERAL"
	    " (VALUES (d.e - d.e % " BUCKET_S "), (d.e - (d.e - " OFFSET_S ") % " BUCKET_S ")) v(base)"
	    " GROUP BY 1, 2 HAVING sum(d.n) <> 0"
	    " ON CONFLICT (bucket, ip) DO UPDATE SET failures = t.failures + EXCLUDED.failures",
	[RS_FILL_USERS] =
	    "WITH d AS (DELETE FROM {R_USERS} WHERE hour >= $1 AND hour < $2)"
	    " INSERT INTO {R_USERS} (hour, tenant, user_id, unauthorized, cross_tenant) {AGG_USERS}",
	/* an hour of an address is kept when it reaches $14 requests, in all
	 * (tkey '*') or for one tenant */
	[RS_FILL_HOT] =
	    "WITH d AS (DELETE FROM {R_HOT} WHERE hour >= $1 AND hour < $2)"
	    " INSERT INTO {R_HOT} (hour, ip, tkey, tenant, events)"
	    " SELECT date_trunc('hour', a.{ts}), a.{ip}, {TKEY_OF}, {TENANT_OF}, count(*) FROM {T} a"
	    " WHERE {LIVE} AND a.{ip} IS NOT NULL GROUP BY GROUPING SETS"
	    " ((date_trunc('hour', a.{ts}), a.{ip}), (date_trunc('hour', a.{ts}), a.{ip}, a.{tenant}))"
	    " HAVING count(*) >= $14",
	[RS_FILL_ACTIONS] =
	    "WITH d AS (DELETE FROM {R_ACTIONS} WHERE ts >= $1 AND ts < $2)"
	    " INSERT INTO {R_ACTIONS} (ts, user_id, action, resource_type, resource_id, tenant, ip,"
	    " reason, secret) {AGG_ACTIONS}",
	/* an address's hours, in all: into buckets A and B */
	[RS_FILL_IPS] =
	    "INSERT INTO {R_IPS} AS t (bucket, ip, {IPS_COLS})"
	    " SELECT to_timestamp(base), ip, {BITS} FROM ("
	    "SELECT g.ip, v.base, ((g.e - v.base) / 3600)::int AS i FROM ("
	    "SELECT DISTINCT extract(epoch FROM date_trunc('hour', a.{ts}))::bigint AS e, a.{ip} AS ip"
	    " FROM {T} a WHERE {LIVE} AND a.{ip} IS NOT NULL) g"
	    " CROSS JOIN LATERAL (VALUES (g.e - g.e % " BUCKET_S "),"
	    " (g.e - (g.e - " OFFSET_S ") % " BUCKET_S ")) v(base)) x GROUP BY 1, 2"
	    " ON CONFLICT (bucket, ip) DO UPDATE SET {IPS_OR}",
	/* an address's hours with each tenant: into buckets A */
	[RS_FILL_IPT] =
	    "INSERT INTO {R_IPT} AS t (bucket, ip, tkey, tenant, {IPS_COLS})"
	    " SELECT to_timestamp(base), ip, tkey, min(tenant), {BITS} FROM ("
	    "SELECT g.ip, g.tkey, g.tenant, g.e - g.e % " BUCKET_S " AS base,"
	    " ((g.e % " BUCKET_S ") / 3600)::int AS i FROM ("
	    "SELECT extract(epoch FROM date_trunc('hour', a.{ts}))::bigint AS e, a.{ip} AS ip,"
	    " COALESCE(md5(a.{tenant}), '-') AS tkey, min(a.{tenant}) AS tenant"
	    " FROM {T} a WHERE {LIVE} AND a.{ip} IS NOT NULL GROUP BY 1, 2, 3) g) x GROUP BY 1, 2, 3"
	    " ON CONFLICT (bucket, ip, tkey) DO UPDATE SET {IPS_OR}",
	[RS_STATE] =
	    "SELECT definition, " US("rolled_from") ", " US("rolled_until") " FROM {R_STATE} WHERE id = 1",
	[RS_STATE_LOCK] =
	    "SELECT definition, " US("rolled_from") ", " US("rolled_until") " FROM {R_STATE} WHERE id = 1"
	    " FOR UPDATE",
	[RS_STATE_INIT] =
	    "INSERT INTO {R_STATE} (id, definition, rolled_from, rolled_until) VALUES (1, $18, $1, $1)"
	    " ON CONFLICT (id) DO NOTHING",
	[RS_STATE_SET] =
	    "UPDATE {R_STATE} SET rolled_from = least(rolled_from, $1),"
	    " rolled_until = greatest(rolled_until, $2), definition = $18, updated_at = now() WHERE id = 1",
	[RS_STATE_RESET] =
	    "UPDATE {R_STATE} SET rolled_from = $1, rolled_until = $1, definition = $18, updated_at = now()"
	    " WHERE id = 1",
	/* Rows commit late (the default timestamp is the transaction's start):
	 * an hour whose rows no longer add up to what was rolled up is redone. */
	[RS_RECHECK] =
	    "SELECT " US("h") " FROM (SELECT date_trunc('hour', a.{ts}) AS h, count(*) AS n FROM {T} a"
	    " WHERE a.{ts} >= $1 AND a.{ts} < $2 GROUP BY 1) x"
	    " FULL JOIN (SELECT r.hour AS h, sum(r.events) AS n FROM {R_HOUR} r"
	    " WHERE r.hour >= $1 AND r.hour < $2 GROUP BY 1) y USING (h)"
	    " WHERE x.n IS DISTINCT FROM y.n ORDER BY 1",
	[RS_CLOCK] = "SELECT " US("date_trunc('hour', now())"),
	/* all of history, so only when a roll-up starts afresh: on a
	 * partitioned table it reads the oldest partition */
	[RS_FIRST] = "SELECT " US("date_trunc('hour', min(a.{ts}))") " FROM {T} a",
	/* the report's copy of the periods' edges (the live part), in scope */
	[RS_LIVE_CREATE] =
	    "CREATE TEMP TABLE IF NOT EXISTS sectop_live AS SELECT a.{ts}, a.{tenant}, a.{user},"
	    " a.{action}, a.{status}, a.{ip}, a.{rtype}, a.{rid}, a.{details} FROM {T} a WITH NO DATA",
	/* the user, resource and details only where a section reads them:
	 * narrow rows, copied and scanned faster */
	[RS_LIVE_FILL] =
	    "INSERT INTO pg_temp.sectop_live SELECT a.{ts}, a.{tenant},"
	    " CASE WHEN {UNAUTH} OR {CROSS} OR {OPS} THEN a.{user} END, a.{action}, a.{status}, a.{ip},"
	    " CASE WHEN {OPS} THEN a.{rtype} END, CASE WHEN {OPS} THEN a.{rid} END,"
	    " CASE WHEN {OPS} THEN a.{details} END FROM {T} a WHERE {LIVE}",
	/* rough statistics, cheaply (a tenth of the default sample): enough
	 * for the planner to hash what it would otherwise sort */
	[RS_LIVE_ANALYZE] =
	    "SET default_statistics_target = 10;"
	    " ANALYZE pg_temp.sectop_live ({ts}, {tenant}, {ip}, {action}, {status});"
	    " RESET default_statistics_target",
};

/* The tables the rollup is made of, and their indexes. */
static const char create_tmpl[] =
	"CREATE TABLE IF NOT EXISTS {R_STATE} (id int PRIMARY KEY CHECK (id = 1),"
	" definition text NOT NULL, rolled_from timestamptz NOT NULL,"
	" rolled_until timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());\n"
	"CREATE TABLE IF NOT EXISTS {R_HOUR} (hour timestamptz NOT NULL, tenant text,"
	" events bigint NOT NULL, failures bigint NOT NULL, unauthorized bigint NOT NULL,"
	" cross_tenant bigint NOT NULL, blocks bigint NOT NULL, actions bigint NOT NULL);\n"
	"CREATE INDEX IF NOT EXISTS {I_HOUR} ON {R_HOUR} (hour);\n"
	"CREATE TABLE IF NOT EXISTS {R_FAIL} (hour timestamptz NOT NULL, ip inet NOT NULL,"
	" tenant text, failures bigint NOT NULL);\n"
	"CREATE INDEX IF NOT EXISTS {I_FAIL} ON {R_FAIL} (hour);\n"
	"CREATE INDEX IF NOT EXISTS {I_FAIL_IP} ON {R_FAIL} (ip, hour);\n"
	"CREATE TABLE IF NOT EXISTS {R_FAILH} (hour timestamptz NOT NULL, ip inet NOT NULL,"
	" failures bigint NOT NULL);\n"
	"CREATE INDEX IF NOT EXISTS {I_FAILH} ON {R_FAILH} (ip, hour);\n"
	"CREATE INDEX IF NOT EXISTS {I_FAILH_H} ON {R_FAILH} (hour);\n"
	"CREATE TABLE IF NOT EXISTS {R_FAILB} (bucket timestamptz NOT NULL, ip inet NOT NULL,"
	" failures bigint NOT NULL) WITH (fillfactor = 70);\n"
	"CREATE UNIQUE INDEX IF NOT EXISTS {I_FAILB} ON {R_FAILB} (bucket, ip);\n"
	"CREATE INDEX IF NOT EXISTS {I_FAILB_N} ON {R_FAILB} (bucket, failures DESC, ip);\n"
	"CREATE TABLE IF NOT EXISTS {R_USERS} (hour timestamptz NOT NULL, tenant text, user_id text,"
	" unauthorized bigint NOT NULL, cross_tenant bigint NOT NULL);\n"
	"CREATE INDEX IF NOT EXISTS {I_USERS} ON {R_USERS} (hour);\n"
	"CREATE TABLE IF NOT EXISTS {R_HOT} (hour timestamptz NOT NULL, ip inet NOT NULL,"
	" tkey text NOT NULL, tenant text, events bigint NOT NULL);\n"
	"CREATE INDEX IF NOT EXISTS {I_HOT} ON {R_HOT} (hour);\n"
	/* updated in place every hour: room for HOT updates */
	"CREATE TABLE IF NOT EXISTS {R_IPS} (bucket timestamptz NOT NULL, ip inet NOT NULL,"
	" {IPS_DDL}) WITH (fillfactor = 70);\n"
	"CREATE UNIQUE INDEX IF NOT EXISTS {I_IPS} ON {R_IPS} (bucket, ip);\n"
	"CREATE TABLE IF NOT EXISTS {R_IPT} (bucket timestamptz NOT NULL, ip inet NOT NULL,"
	" tkey text NOT NULL, tenant text, {IPS_DDL}) WITH (fillfactor = 70);\n"
	"CREATE UNIQUE INDEX IF NOT EXISTS {I_IPT} ON {R_IPT} (bucket, ip, tkey);\n"
	"CREATE INDEX IF NOT EXISTS {I_IPT_T} ON {R_IPT} (bucket, tkey);\n"
	"CREATE TABLE IF NOT EXISTS {R_ACTIONS} (ts timestamptz NOT NULL, user_id text,"
	" action text NOT NULL, resource_type text, resource_id text, tenant text, ip inet,"
	" reason text, secret text);\n"
	"CREATE INDEX IF NOT EXISTS {I_ACTIONS} ON {R_ACTIONS} (ts);\n";

static const char truncate_tmpl[] =
	"TRUNCATE {R_HOUR}, {R_FAIL}, {R_FAILH}, {R_FAILB}, {R_USERS}, {R_HOT}, {R_IPS}, {R_IPT},"
	" {R_ACTIONS}";
static const char analyze_tmpl[] =
	"ANALYZE {R_HOUR}, {R_FAIL}, {R_FAILH}, {R_FAILB}, {R_USERS}, {R_HOT}, {R_IPS}, {R_IPT},"
	" {R_ACTIONS}, {R_STATE}";
static const char drop_tmpl[] =
	"DROP TABLE IF EXISTS {R_HOUR}, {R_FAIL}, {R_FAILH}, {R_FAILB}, {R_USERS}, {R_HOT}, {R_IPS},"
	" {R_IPT}, {R_ACTIONS},"
	" {R_STATE}";

/* The bit words of an address's hours in a bucket, generated. */
#define WORDS 6     /* 336 hours: two weeks */

enum words { W_BITS, W_MASKHIT, W_COLS, W_DDL, W_OR, W_N };

static char *words_build(enum words kind)
{
	static const char *const sep[W_N] = { ", ", " OR ", ", ", ", ", ", " };
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	if (kind == W_MASKHIT)
		fputc('(', f);
	for (int w = 0; w < WORDS; w++) {
		fputs(w ? sep[kind] : "", f);
		switch (kind) {
		case W_BITS:
			fprintf(f, "bit_or(CASE WHEN i >= %d AND i < %d THEN 1::bigint << (i - %d) ELSE 0 END) AS b%d",
			        w * 64, w * 64 + 64, w * 64, w);
			break;
		case W_MASKHIT: fprintf(f, "(r.h%d & m.b%d) <> 0", w, w); break;
		case W_COLS: fprintf(f, "h%d", w); break;
		case W_DDL: fprintf(f, "h%d bigint NOT NULL", w); break;
		case W_OR: fprintf(f, "h%d = t.h%d | EXCLUDED.h%d", w, w, w); break;
		case W_N: break;
		}
	}
	if (kind == W_MASKHIT)
		fputc(')', f);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* ------------------------------------------------------------ expansion */

#define MAX_DEPTH 6

static size_t token_index(const char *const (*tokens)[2], size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(tokens[i][0]) == len && memcmp(tokens[i][0], name, len) == 0)
			return i;
	return n;
}

/* The first n_names tokens are names (configured, quoted): their values are
 * copied as they are, never read for tokens, so a name holding "{FAIL}" or
 * "[[" stays a name.  The others are our own fragments, expanded in turn. */
static int expand_into(FILE *out, const char *t, const char *const (*tokens)[2], size_t n,
                       size_t n_names, bool keep, int depth)
{
	bool skipping = false;

	if (depth > MAX_DEPTH)
		return -1;
	for (const char *p = t; *p;) {
		if (p[0] == '[' && p[1] == '[') {
			skipping = !keep;
			p += 2;
			continue;
		}
		if (p[0] == '[' && p[1] == '!') {
			skipping = keep;
			p += 2;
			continue;
		}
		if ((p[0] == ']' && p[1] == ']') || (p[0] == '!' && p[1] == ']')) {
			skipping = false;
			p += 2;
			continue;
		}
		size_t len = 0;
		if (*p == '{')
			while (isalnum((unsigned char)p[1 + len]) || p[1 + len] == '_')
				len++;
		if (len && p[1 + len] == '}') {
			size_t at = token_index(tokens, n, p + 1, len);
			if (at == n)
				return -1;
			if (!skipping && at < n_names)
				fputs(tokens[at][1], out);
			else if (!skipping && expand_into(out, tokens[at][1], tokens, n, n_names, keep, depth + 1) < 0)
				return -1;
			p += len + 2;
			continue;
		}
		if (!skipping)
			fputc(*p, out);
		p++;
	}
	return 0;
}

char *report_sql_expand(const char *tmpl, const char *const (*tokens)[2], size_t n_tokens,
                        size_t n_names, bool keep)
{
	char *s = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&s, &len);

	if (!out)
		return NULL;
	int rc = expand_into(out, tmpl, tokens, n_tokens, n_names, keep, 0);
	if (fclose(out) != 0 || rc < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* --------------------------------------------------------------- names */

enum name {
	N_T, N_KEYS, N_TS, N_TENANT, N_USER, N_ACTION, N_RTYPE, N_RID, N_IP, N_STATUS, N_DETAILS,
	N_R_STATE, N_R_HOUR, N_R_FAIL, N_R_FAILH, N_R_FAILB, N_R_USERS, N_R_HOT, N_R_IPS, N_R_IPT,
	N_R_ACTIONS,
	N_I_HOUR, N_I_FAIL, N_I_FAIL_IP, N_I_FAILH, N_I_FAILH_H, N_I_FAILB, N_I_FAILB_N, N_I_USERS,
	N_I_HOT, N_I_IPS, N_I_IPT, N_I_IPT_T, N_I_ACTIONS, N_COUNT
};

static const char *const token_names[N_COUNT] = {
	"T", "KEYS", "ts", "tenant", "user", "action", "rtype", "rid", "ip", "status", "details",
	"R_STATE", "R_HOUR", "R_FAIL", "R_FAILH", "R_FAILB", "R_USERS", "R_HOT", "R_IPS", "R_IPT",
	"R_ACTIONS",
	"I_HOUR", "I_FAIL", "I_FAIL_IP", "I_FAILH", "I_FAILH_H", "I_FAILB", "I_FAILB_N", "I_USERS",
	"I_HOT", "I_IPS", "I_IPT", "I_IPT_T", "I_ACTIONS",
};

/* The rollup's names: the audit table's name and a suffix, so that two
 * audit tables have two rollups.  The longest must fit in PostgreSQL's 63
 * bytes, or names would be cut and collide. */
static const char *const suffix[N_COUNT] = {
	[N_R_STATE] = "_rollup_state", [N_R_HOUR] = "_rollup_hour", [N_R_FAIL] = "_rollup_fail",
	[N_R_FAILH] = "_rollup_failh", [N_R_FAILB] = "_rollup_failb",
	[N_R_USERS] = "_rollup_users", [N_R_HOT] = "_rollup_hot", [N_R_IPS] = "_rollup_ips",
	[N_R_IPT] = "_rollup_ipt",
	[N_R_ACTIONS] = "_rollup_actions",
	[N_I_HOUR] = "_rollup_hour_i", [N_I_FAIL] = "_rollup_fail_i", [N_I_FAIL_IP] = "_rollup_fail_ip",
	[N_I_FAILH] = "_rollup_failh_ip", [N_I_FAILH_H] = "_rollup_failh_i",
	[N_I_FAILB] = "_rollup_failb_u", [N_I_FAILB_N] = "_rollup_failb_n",
	[N_I_USERS] = "_rollup_users_i",
	[N_I_HOT] = "_rollup_hot_i", [N_I_IPS] = "_rollup_ips_u", [N_I_IPT] = "_rollup_ipt_u",
	[N_I_IPT_T] = "_rollup_ipt_t",
	[N_I_ACTIONS] = "_rollup_actions_i",
};
#define LONGEST_SUFFIX 22           /* "_rollup_state_pkey" and friends, with room */
#define PG_NAME_MAX 63

static char *suffixed(const char *table, const char *suf)
{
	char *raw = str_printf("%s%s", table, suf);
	char *q = raw ? pg_sql_ident(raw) : NULL;

	free(raw);
	return q;
}

static int names_build(char *v[N_COUNT], const struct config *cfg)
{
	const struct conf_schema *s = &cfg->schema;
	const char *raw[N_COUNT] = {
		[N_T] = s->table, [N_KEYS] = s->keys_table, [N_TS] = s->timestamp,
		[N_TENANT] = s->tenant_id, [N_USER] = s->user_id, [N_ACTION] = s->action,
		[N_RTYPE] = s->resource_type, [N_RID] = s->resource_id, [N_IP] = s->ip_address,
		[N_STATUS] = s->status_code, [N_DETAILS] = s->details,
	};

	for (int i = 0; i < N_COUNT; i++) {
		v[i] = raw[i] ? pg_sql_ident(raw[i]) : suffixed(s->table, suffix[i]);
		if (!v[i])
			return -1;
	}
	return 0;
}

char *report_sql_operator_array(void)
{
	size_t n = 0;

	while (report_operator_actions[n])
		n++;
	return pg_sql_text_array((char *const *)report_operator_actions, n);
}

/* What the rollup's figures depend on.  A rollup built for another
 * definition is not used (and `sectop setup --rollup` rebuilds it). */
static char *definition_build(const struct config *cfg, char *const names[N_COUNT])
{
	char *s = NULL, *arr[5];

	arr[0] = pg_sql_text_array(cfg->failure_actions.v, cfg->failure_actions.n);
	arr[1] = pg_sql_int_array(cfg->failure_statuses, cfg->n_failure_statuses);
	arr[2] = pg_sql_text_array(cfg->unauthorized_actions.v, cfg->unauthorized_actions.n);
	arr[3] = pg_sql_text_array(cfg->cross_tenant_actions.v, cfg->cross_tenant_actions.n);
	arr[4] = report_sql_operator_array();
	if (arr[0] && arr[1] && arr[2] && arr[3] && arr[4])
		s = str_printf("sectop rollup 4; hot %d; failures %s %s; unauthorized %s +403;"
		               " cross-tenant %s; operator %s; columns %s %s %s %s %s %s %s %s %s",
		               REPORT_HOT_MIN, arr[0], arr[1], arr[2], arr[3], arr[4], names[N_TS],
		               names[N_TENANT], names[N_USER], names[N_ACTION], names[N_RTYPE],
		               names[N_RID], names[N_IP], names[N_STATUS], names[N_DETAILS]);
	for (int i = 0; i < 5; i++)
		free(arr[i]);
	return s;
}

/* ---------------------------------------------------------------- build */

/* The live part's source of each variant: the audit table, or the
 * report's temporary copy of the periods' edges. */
#define LIVE_COPY "pg_temp.sectop_live"

struct tokens {
	const char *v[N_COUNT + 32][2];
	size_t n, n_names;
	char *words[W_N];
};

static void tokens_add(struct tokens *t, const char *name, const char *value)
{
	t->v[t->n][0] = name;
	t->v[t->n++][1] = value;
}

static int tokens_build(struct tokens *t, char *const names[N_COUNT])
{
	static const char *const fragments[][2] = {
		{ "LIVE", F_LIVE }, { "FAIL", F_FAIL }, { "UNAUTH", F_UNAUTH }, { "CROSS", F_CROSS },
		{ "OPS", F_OPS }, { "RANGE", F_RANGE }, { "SCOPE", F_SCOPE }, { "TKEY", F_TKEY },
		{ "TKEY_OF", F_TKEY_OF }, { "TENANT_OF", F_TENANT_OF }, { "MASKS", F_MASKS },
		{ "AGG_HOUR", F_AGG_HOUR }, { "AGG_FAIL", F_AGG_FAIL }, { "AGG_USERS", F_AGG_USERS },
		{ "AGG_ACTIONS", F_AGG_ACTIONS },
	};
	static const char *const word_tokens[W_N] = { "BITS", "MASKHIT", "IPS_COLS", "IPS_DDL", "IPS_OR" };

	memset(t, 0, sizeof *t);
	tokens_add(t, "L", names[N_T]);          /* the first token: set per variant */
	for (int i = 0; i < N_COUNT; i++)
		tokens_add(t, token_names[i], names[i]);
	t->n_names = t->n;                      /* names first: never expanded */
	for (size_t i = 0; i < sizeof fragments / sizeof fragments[0]; i++)
		tokens_add(t, fragments[i][0], fragments[i][1]);
	for (int w = 0; w < W_N; w++) {
		if (!(t->words[w] = words_build((enum words)w)))
			return -1;
		tokens_add(t, word_tokens[w], t->words[w]);
	}
	return 0;
}

static void tokens_free(struct tokens *t)
{
	for (int w = 0; w < W_N; w++)
		free(t->words[w]);
}

static int build_all(struct report_sql *q, struct tokens *t, char *const names[N_COUNT])
{
	for (int v = 0; v < RV_N; v++) {
		t->v[0][1] = v == RV_ROLLUP_COPY ? LIVE_COPY : names[N_T];
		for (int i = 0; i < RQ_N; i++)
			if (!(q->query[i][v] = report_sql_expand(query_tmpl[i], t->v, t->n, t->n_names, v != RV_TABLE)))
				return -1;
	}
	t->v[0][1] = names[N_T];
	for (int i = 0; i < RS_N; i++)
		if (!(q->rollup[i] = report_sql_expand(rollup_tmpl[i], t->v, t->n, t->n_names, true)))
			return -1;
	q->create = report_sql_expand(create_tmpl, t->v, t->n, t->n_names, true);
	q->truncate = report_sql_expand(truncate_tmpl, t->v, t->n, t->n_names, true);
	q->drop = report_sql_expand(drop_tmpl, t->v, t->n, t->n_names, true);
	q->analyze = report_sql_expand(analyze_tmpl, t->v, t->n, t->n_names, true);
	q->state_table = strdup(names[N_R_STATE]);
	return q->create && q->truncate && q->drop && q->analyze && q->state_table ? 0 : -1;
}

/* The first configured name holding a character the templates use, or NULL. */
static const char *template_character(const struct config *cfg)
{
	const struct conf_schema *s = &cfg->schema;
	const char *v[] = { s->table, s->keys_table, s->timestamp, s->tenant_id, s->user_id, s->action,
	                    s->resource_type, s->resource_id, s->ip_address, s->status_code, s->details };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (v[i] && strpbrk(v[i], "{}[]"))
			return v[i];
	return NULL;
}

int report_sql_build(struct report_sql *q, const struct config *cfg, char *err, size_t errsz)
{
	char *names[N_COUNT] = { 0 };
	struct tokens t;
	int rc = -1;

	memset(q, 0, sizeof *q);
	memset(&t, 0, sizeof t);
	const char *bad = template_character(cfg);
	if (bad) {
		snprintf(err, errsz, "'%s': a table or column name may not hold { } [ or ] (the report's SQL"
		         " templates use them)", bad);
		return -1;
	}
	if (strlen(cfg->schema.table) + LONGEST_SUFFIX > PG_NAME_MAX) {
		snprintf(err, errsz, "table: '%s' is too long for the report's rollup names (at most %d bytes)",
		         cfg->schema.table, PG_NAME_MAX - LONGEST_SUFFIX);
		return -1;
	}
	if (names_build(names, cfg) == 0 && tokens_build(&t, names) == 0 && build_all(q, &t, names) == 0 &&
	    (q->definition = definition_build(cfg, names)))
		rc = 0;
	tokens_free(&t);
	for (int i = 0; i < N_COUNT; i++)
		free(names[i]);
	if (rc < 0) {
		report_sql_free(q);
		snprintf(err, errsz, "out of memory");
	}
	return rc;
}

void report_sql_free(struct report_sql *q)
{
	for (int i = 0; i < RQ_N; i++)
		for (int v = 0; v < RV_N; v++)
			free(q->query[i][v]);
	for (int i = 0; i < RS_N; i++)
		free(q->rollup[i]);
	free(q->create);
	free(q->truncate);
	free(q->drop);
	free(q->analyze);
	free(q->state_table);
	free(q->definition);
	memset(q, 0, sizeof *q);
}
