-- report_plain.sql: the naive way to review a week, for bench/run.sh to
-- time against `sectop report --since 7d`: plain GROUP BYs over every row
-- of the period, with whatever indexes the table has.
--   per day: events, failures, unauthorized, cross-tenant, distinct addresses
--   the week's top failing addresses
\set failure '(action IN (''failed_auth'', ''unauthorized_access'', ''authentication_failed'') OR status_code IN (401, 403))'

SELECT date_trunc('day', "timestamp") AS day, count(*) AS events,
       count(*) FILTER (WHERE :failure) AS failures,
       count(*) FILTER (WHERE action = 'unauthorized_access' OR status_code = 403) AS unauthorized,
       count(*) FILTER (WHERE action = 'cross_tenant_access') AS cross_tenant,
       count(DISTINCT ip_address) AS addresses
  FROM audit_log
 WHERE "timestamp" >= now() - interval '7 days'
 GROUP BY 1 ORDER BY 1;

SELECT host(ip_address), count(*) AS failures, count(DISTINCT tenant_id) AS tenants
  FROM audit_log
 WHERE "timestamp" >= now() - interval '7 days' AND :failure AND ip_address IS NOT NULL
 GROUP BY ip_address ORDER BY 2 DESC, 1 LIMIT 20;
