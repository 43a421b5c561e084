-- seed.sql: a week of realistic audit traffic for the demo and benchmarks.
--
--   psql -X -v ON_ERROR_STOP=1 -v rows=200000 -v days=7 -v seed=0.42 -f scripts/seed.sql
--
-- Variables (all optional): rows (events of ordinary traffic, default
-- 200000), days (span ending now, default 7), seed (setseed() value in
-- [-1,1], default 0.42), append (1: keep what the tables hold; default 0
-- empties audit_log and api_keys first).
--
-- What it makes, all set-based (generate_series): 200k rows in about 3 s,
-- 1M in about 12 s (2 cores).  The same seed gives the same rows; only their
-- times follow the clock.
--   * ordinary traffic with a diurnal and weekly rhythm; ~20 tenants with
--     Zipf-like activity plus a share with no tenant; tens of thousands of
--     client addresses with a power-law spread (a few very busy, a long
--     tail), ~15% IPv6; ~3% failures (failed_auth, auth_attempt with
--     success=false, unauthorized_access; 401/403); rate limiting; a few
--     cross-tenant accesses, config changes, data deletions;
--   * ~0.1% hostile strings: terminal escapes (CSI, OSC title, OSC 52
--     clipboard), bidi overrides, 10 KB values, an escape in a tenant id;
--   * a brute force in progress: three addresses (one IPv6) with hundreds of
--     failed_auth (401) each in the last 30 minutes against three tenants,
--     and a low-and-slow fourth that stays under the auto-block threshold;
--   * secret rotations weeks apart, sectop's own past operator actions;
--   * ~50 api_keys, some revoked, expired or never used.
-- It leaves behind the generator functions (sectop_demo_*) and their client
-- table (sectop_demo_clients, 60k rows): sectop_demo_tick() is what
-- scripts/feed.sh calls every second for live traffic.

\set ON_ERROR_STOP on
\if :{?rows}
\else
\set rows 200000
\endif
\if :{?days}
\else
\set days 7
\endif
\if :{?seed}
\else
\set seed 0.42
\endif
\if :{?append}
\else
\set append 0
\endif

SET client_min_messages = warning;
-- One backend evaluates random() in order, so setseed() makes runs repeat.
SET max_parallel_workers_per_gather = 0;
SET work_mem = '256MB';

BEGIN;

-- ------------------------------------------------------------------ lookups

CREATE OR REPLACE FUNCTION sectop_demo_tenant(k int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (ARRAY['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark',
                'wayne', 'wonka', 'tyrell', 'cyberdyne', 'soylent', 'oscorp',
                'aperture', 'vandelay', 'dunder-mifflin', 'pied-piper',
                'massive-dynamic', 'gringotts', 'monarch', 'prestige'])[k]
$$;

-- A Zipf-like pick in 1..n from u in [0,1): P(k) ~ ln((k+1)/k) ~ 1/k.
CREATE OR REPLACE FUNCTION sectop_demo_zipf(u float8, n int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT least(n, floor(exp(u * ln(n + 1)))::int)
$$;

-- The address of a client, from b = decode(md5('sectop-ip-' || rank), 'hex'):
-- a fixed, random-looking public address; ~15% IPv6.  Same rank, same
-- address, every run.  A single expression, STABLE like format(), so the
-- planner inlines it (a call per row would cost more than the row).
CREATE OR REPLACE FUNCTION sectop_demo_ip(b bytea) RETURNS inet
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN get_byte(b, 0) < 38 THEN
           (format('%s:%s:%s:%s::%s',
                   (ARRAY['2a01:4f8', '2a02:c207', '2001:470', '2604:a880',
                          '2406:da18', '2800:3f0', '2a03:2880', '2c0f:f248'])[1 + get_byte(b, 1) % 8],
                   encode(substr(b, 3, 2), 'hex'), encode(substr(b, 5, 2), 'hex'),
                   encode(substr(b, 7, 2), 'hex'), encode(substr(b, 9, 2), 'hex')))::inet
         ELSE
           (format('%s.%s.%s.%s',
                   (ARRAY[23, 31, 34, 35, 37, 45, 46, 51, 52, 54, 62, 66, 70, 73, 77, 78,
                          80, 81, 82, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 98, 99,
                          104, 108, 109, 141, 142, 151, 162, 176, 178, 185, 188, 193, 195,
                          203, 212, 217])[1 + get_byte(b, 1) % 48],
                   get_byte(b, 2), get_byte(b, 3), 1 + get_byte(b, 4) % 254))::inet
         END
$$;

-- The client population: rank (1 = busiest) -> address, home tenant and
-- usual user agent.  Computed once (60k rows, deterministic), then joined,
-- which is much cheaper than hashing per event.
CREATE UNLOGGED TABLE IF NOT EXISTS sectop_demo_clients (
  rank int PRIMARY KEY,
  ip   inet NOT NULL,
  home int NOT NULL,      -- sectop_demo_tenant() index
  ua   int NOT NULL       -- sectop_demo_user_agent() index
);
INSERT INTO sectop_demo_clients
SELECT g, sectop_demo_ip(b), sectop_demo_zipf(get_byte(h, 0) / 256.0, 20),
       sectop_demo_zipf(get_byte(h, 1) / 256.0, 16)
  FROM (SELECT g, decode(md5('sectop-ip-' || g), 'hex') AS b,
               decode(md5('sectop-client-' || g), 'hex') AS h
          FROM generate_series(1, 60000) g OFFSET 0) x
ON CONFLICT (rank) DO NOTHING;

-- Relative traffic at a moment: low at 03:00 UTC, high at 15:00; weekends
-- quieter.  STABLE like extract() on timestamptz, so it is inlined.
CREATE OR REPLACE FUNCTION sectop_demo_diurnal(t timestamptz) RETURNS float8
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT (0.25 + 0.75 * (0.5 - 0.5 * cos(2 * pi() *
            (extract(epoch FROM t)::float8 / 3600.0 - 3.0) / 24.0)))
       * CASE WHEN extract(isodow FROM t AT TIME ZONE 'UTC') >= 6 THEN 0.55 ELSE 1.0 END
$$;

CREATE OR REPLACE FUNCTION sectop_demo_user_agent(k int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (ARRAY[
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'python-requests/2.31.0',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'okhttp/4.12.0',
    'Go-http-client/2.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'axios/1.6.8',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'curl/8.5.0',
    'aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64',
    'Apache-HttpClient/4.5.14 (Java/17.0.10)',
    'PostmanRuntime/7.37.3',
    'Terraform/1.8.2 (+https://www.terraform.io) terraform-provider-sectopdemo/2.3.1',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'kube-probe/1.29'])[k]
$$;

-- Strings an attacker controls and a terminal must never interpret.
CREATE OR REPLACE FUNCTION sectop_demo_hostile(k int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (ARRAY[
    E'\x1b[2J\x1b[HMozilla/5.0 (compatible; clear-screen)',
    E'curl/8.0 \x1b]0;pwned\x07',
    E'\x1b]52;c;ZWNobyBwd25lZA==\x07Mozilla/5.0',
    E'Mozilla/5.0 \u202Egnp.exe',
    repeat('A', 10240),
    E'\x1b[31mred\x1b[0m agent',
    E'Mozilla/5.0\r\nX-Injected: 1',
    E'() { :; }; /bin/bash -c "cat /etc/passwd"',
    E'\u200b\u200b\u200bzero-width \uff21\uff22\uff23 wide \U0001F525 e\u0301',
    E'sqlmap/1.7.2#stable (https://sqlmap.org) \x1b[6n',
    E'\x1bP+q544e\x1b\\ DCS query',
    repeat(E'\u202E\u202D', 2000)])[k]
$$;

CREATE OR REPLACE FUNCTION sectop_demo_hostile_path(k int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (ARRAY[
    E'/api/v1/orders/\x1b[2J',
    E'/api/v1/\x1b]0;pwned\x07',
    '/api/v1/search?q=' || repeat('%41', 3414),
    '/../../../../etc/passwd',
    E'/api/v1/users/\u202Etxt.exe',
    '/api/v1/orders?id=1%27%20OR%201=1--',
    E'/api/v1/\x1b]52;c;ZWNobyBwd25lZA==\x07'])[k]
$$;

-- -------------------------------------------------------- ordinary traffic

-- n events of ordinary traffic between t_end - span and t_end.  With
-- diurnal, times follow sectop_demo_diurnal(): the span is cut into hour-long
-- bins, each as likely as its traffic weight, and a uniform draw is mapped
-- through that distribution.  Every row takes the same random() draws
-- whatever the clock says, so a seed reproduces the rows; only their times
-- move with now().
CREATE OR REPLACE FUNCTION sectop_demo_events(n int, t_end timestamptz, span interval,
                                              diurnal boolean DEFAULT false)
RETURNS TABLE (ts timestamptz, tenant_id text, user_id varchar, action varchar,
               resource_type varchar, resource_id varchar, ip_address inet,
               method text, path text, status_code int, user_agent text, details jsonb)
LANGUAGE sql VOLATILE AS $f$
WITH bins AS (
  SELECT i, nb, sectop_demo_diurnal(t_end - span + span * ((i + 0.5) / nb)) AS w
    FROM (SELECT CASE WHEN diurnal THEN greatest(1, ceil(extract(epoch FROM span) / 3600))::int
                      ELSE 1 END AS nb) p,
         generate_series(0, p.nb - 1) i
), cdf AS (
  -- cum[i + 1]: the share of traffic before bin i.
  SELECT array_agg(c ORDER BY i) AS cum, max(nb) AS nb
    FROM (SELECT i, nb, coalesce(sum(w) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING
                                                                  AND 1 PRECEDING), 0)
                        / sum(w) OVER () AS c
            FROM bins) x
), draw AS (
  -- OFFSET 0 keeps each row's random() values fixed for the expressions below.
  SELECT u, width_bucket(u, (SELECT cum FROM cdf)) AS b
    FROM (SELECT random() AS u FROM generate_series(1, n) OFFSET 0) d
  OFFSET 0
), r AS (
  SELECT t_end - span + span * ((b - 1 + (u - (SELECT cum FROM cdf)[b])
                                 / (coalesce((SELECT cum FROM cdf)[b + 1], 1.0) - (SELECT cum FROM cdf)[b]))
                                / (SELECT nb FROM cdf)) AS t,
         sectop_demo_zipf(random(), 60000) AS ip_rank,   -- power law over the 60k clients
         random() AS r_act, random() AS r_tenant, random() AS r_user,
         random() AS r_path, random() AS r_id, random() AS r_ua, random() AS r_lat,
         random() AS r_status, random() AS r_hostile, random() AS r_pick, random() AS r_verb
    FROM draw
  OFFSET 0
), c AS (
  SELECT r.*, cl.ip, cl.home, cl.ua,
         CASE WHEN r_act < 0.0150 THEN 'failed_auth'
              WHEN r_act < 0.0230 THEN 'auth_attempt_fail'
              WHEN r_act < 0.0300 THEN 'unauthorized_access'
              WHEN r_act < 0.0800 THEN 'auth_attempt_ok'
              WHEN r_act < 0.0950 THEN 'rate_limit_exceeded'
              WHEN r_act < 0.0952 THEN 'cross_tenant_access'
              WHEN r_act < 0.0957 THEN 'config_changed'
              WHEN r_act < 0.0960 THEN 'user_data_deleted'
              ELSE 'api_request' END AS kind,
         (ARRAY['orders', 'users', 'invoices', 'products', 'payments', 'customers',
                'reports', 'webhooks'])[sectop_demo_zipf(r_path, 8)] AS entity,
         sectop_demo_zipf(r_id, 250000) AS obj,
         CASE WHEN r_verb < 0.68 THEN 'GET'
              WHEN r_verb < 0.88 THEN 'POST'
              WHEN r_verb < 0.94 THEN 'PUT'
              WHEN r_verb < 0.97 THEN 'PATCH'
              ELSE 'DELETE' END AS verb
    FROM r JOIN sectop_demo_clients cl ON cl.rank = r.ip_rank
  OFFSET 0
), k AS (
  SELECT c.*,
         -- 80% of a client's events are for its home tenant; 4% have none.
         CASE WHEN r_tenant < 0.04 THEN NULL
              WHEN r_tenant < 0.84 THEN home
              ELSE sectop_demo_zipf((r_tenant - 0.84) / 0.16, 20) END AS tk,
         CASE WHEN r_ua < 0.9 THEN ua
              ELSE sectop_demo_zipf((r_ua - 0.9) * 10, 16) END AS uak
    FROM c
  OFFSET 0
)
SELECT
  t,
  CASE WHEN r_hostile < 0.0001 THEN E'evil\x1b[31mcorp\x1b]0;pwned\x07'
       ELSE sectop_demo_tenant(tk) END,
  CASE WHEN r_hostile >= 0.0015 AND r_hostile < 0.0017 THEN E'user_\x1b[2J\u202E1337'
       WHEN r_user < 0.08 THEN NULL
       ELSE 'user_' || (coalesce(tk, 0) * 1000 + sectop_demo_zipf((r_user - 0.08) / 0.92, 900)) END,
  CASE kind WHEN 'auth_attempt_fail' THEN 'auth_attempt' WHEN 'auth_attempt_ok' THEN 'auth_attempt'
            ELSE kind END,
  CASE kind WHEN 'api_request' THEN rtrim(entity, 's')
            WHEN 'rate_limit_exceeded' THEN 'endpoint'
            WHEN 'unauthorized_access' THEN 'endpoint'
            WHEN 'cross_tenant_access' THEN 'tenant'
            WHEN 'config_changed' THEN 'config'
            WHEN 'user_data_deleted' THEN 'user'
            WHEN 'failed_auth' THEN CASE WHEN r_status < 0.4 THEN 'api_key' ELSE 'user' END
            ELSE 'user' END,
  CASE kind WHEN 'api_request' THEN CASE WHEN verb = 'POST' THEN NULL ELSE obj::text END
            WHEN 'cross_tenant_access' THEN sectop_demo_tenant(sectop_demo_zipf(r_pick, 20))
            WHEN 'config_changed' THEN (ARRAY['sso', 'ip_allowlist', 'webhooks', 'mfa_policy',
                                              'password_policy', 'session_ttl'])[1 + floor(r_pick * 6)::int]
            WHEN 'user_data_deleted' THEN 'user_' || (coalesce(tk, 0) * 1000 + 1 + floor(r_pick * 900)::int)
            WHEN 'failed_auth' THEN CASE WHEN r_status < 0.4
                                         THEN 'sk_live_' || substr(md5(r_pick::text), 1, 4) END
            ELSE NULL END,
  ip,
  CASE kind WHEN 'api_request' THEN verb
            WHEN 'rate_limit_exceeded' THEN 'GET'
            WHEN 'unauthorized_access' THEN (ARRAY['GET', 'PUT', 'DELETE'])[1 + floor(r_pick * 3)::int]
            WHEN 'cross_tenant_access' THEN 'GET'
            WHEN 'config_changed' THEN 'PUT'
            WHEN 'user_data_deleted' THEN 'DELETE'
            ELSE 'POST' END,
  CASE WHEN r_hostile >= 0.001 AND r_hostile < 0.0015
         THEN sectop_demo_hostile_path(1 + floor(r_pick * 7)::int)
       ELSE CASE kind
         WHEN 'api_request' THEN
           CASE WHEN verb = 'POST' THEN '/api/v1/' || entity
                WHEN verb = 'GET' AND r_id < 0.25
                  THEN '/api/v1/' || entity || '?page=' || (1 + floor(r_pick * 40)::int) || '&limit=50'
                ELSE '/api/v1/' || entity || '/' || obj END
         WHEN 'rate_limit_exceeded' THEN '/api/v1/' || entity || '?page=' || (1 + floor(r_pick * 40)::int)
         WHEN 'unauthorized_access' THEN (ARRAY['/api/v1/admin/users', '/api/v1/admin/config',
                                                '/internal/metrics', '/api/v1/billing/export',
                                                '/api/v1/admin/tenants'])[sectop_demo_zipf(r_id, 5)]
         WHEN 'cross_tenant_access' THEN '/api/v1/orders/' || obj
         WHEN 'config_changed' THEN '/api/v1/settings'
         WHEN 'user_data_deleted' THEN '/api/v1/users/' || obj
         ELSE (ARRAY['/api/v1/auth/login', '/oauth/token', '/api/v1/auth/token',
                     '/api/v1/auth/refresh'])[sectop_demo_zipf(r_id, 4)] END
  END,
  CASE kind WHEN 'failed_auth' THEN 401
            WHEN 'auth_attempt_fail' THEN 401
            WHEN 'unauthorized_access' THEN 403
            WHEN 'auth_attempt_ok' THEN 200
            WHEN 'rate_limit_exceeded' THEN 429
            WHEN 'cross_tenant_access' THEN 403
            WHEN 'config_changed' THEN 200
            WHEN 'user_data_deleted' THEN 204
            ELSE CASE WHEN r_status < 0.80 THEN CASE verb WHEN 'POST' THEN 201 WHEN 'DELETE' THEN 204 ELSE 200 END
                      WHEN r_status < 0.86 THEN CASE verb WHEN 'GET' THEN 304 ELSE 200 END
                      WHEN r_status < 0.91 THEN 404
                      WHEN r_status < 0.94 THEN 400
                      WHEN r_status < 0.96 THEN 422
                      WHEN r_status < 0.975 THEN 409
                      WHEN r_status < 0.993 THEN 500
                      WHEN r_status < 0.997 THEN 502
                      ELSE 503 END END,
  CASE WHEN r_hostile < 0.001 THEN sectop_demo_hostile(1 + floor(r_pick * 12)::int)
       ELSE sectop_demo_user_agent(uak) END,
  CASE WHEN r_hostile < 0.0003
         THEN jsonb_build_object('note', sectop_demo_hostile(1 + floor(r_lat * 12)::int),
                                 E'\x1b]0;key\x07', 'hostile key')
       ELSE CASE kind
         WHEN 'failed_auth' THEN jsonb_build_object('reason',
                (ARRAY['invalid_password', 'unknown_user', 'invalid_api_key', 'expired_token',
                       'mfa_failed'])[sectop_demo_zipf(r_lat, 5)])
         WHEN 'auth_attempt_fail' THEN jsonb_build_object('success', false, 'method',
                CASE WHEN r_lat < 0.7 THEN 'password' ELSE 'api_key' END)
         WHEN 'auth_attempt_ok' THEN jsonb_build_object('success', true, 'method',
                CASE WHEN r_lat < 0.6 THEN 'password' WHEN r_lat < 0.9 THEN 'api_key' ELSE 'sso' END,
                'mfa', r_lat < 0.45)
         WHEN 'unauthorized_access' THEN jsonb_build_object('required_scope',
                (ARRAY['admin', 'admin:write', 'billing:read', 'metrics:read'])[1 + floor(r_lat * 4)::int])
         WHEN 'rate_limit_exceeded' THEN jsonb_build_object('limit', 100, 'window_s', 60)
         WHEN 'cross_tenant_access' THEN jsonb_build_object('allowed', false, 'target_tenant',
                sectop_demo_tenant(sectop_demo_zipf(r_pick, 20)))
         WHEN 'config_changed' THEN jsonb_build_object('changed_by_role', 'tenant_admin',
                'fields', (1 + floor(r_lat * 3)::int))
         WHEN 'user_data_deleted' THEN jsonb_build_object('gdpr_request', r_lat < 0.7,
                'records', (1 + floor(exp(r_lat * 8))::int))
         ELSE jsonb_build_object('latency_ms', floor(exp(r_lat * ln(2500)))::int)
       END
  END
FROM k
$f$;

-- ------------------------------------------------------------- the attack

-- Brute-force campaigns: three fast addresses (one IPv6) credential-stuffing
-- three tenants, and a low-and-slow one.  n_fast events between the fast
-- three (weighted), n_slow from the slow one.  The rate ramps up linearly
-- over the span, to twice its average at t_end.
CREATE OR REPLACE FUNCTION sectop_demo_attack(n_fast int, n_slow int, t_end timestamptz,
                                              span interval)
RETURNS TABLE (ts timestamptz, tenant_id text, user_id varchar, action varchar,
               resource_type varchar, resource_id varchar, ip_address inet,
               method text, path text, status_code int, user_agent text, details jsonb)
LANGUAGE sql VOLATILE AS $f$
WITH r AS (
  SELECT random() AS r_who, random() AS r_t, random() AS r_tenant, random() AS r_user,
         random() AS r_x, g > n_fast AS slow
    FROM generate_series(1, n_fast + n_slow) g
  OFFSET 0
), w AS (
  SELECT r.*,
         CASE WHEN slow THEN 4 WHEN r_who < 0.40 THEN 1 WHEN r_who < 0.70 THEN 2 ELSE 3 END AS who
    FROM r
)
SELECT
  t_end - span * (1 - sqrt(r_t)),
  CASE WHEN r_tenant < 0.8
       THEN (ARRAY['acme', 'globex', 'acme', 'initech'])[who]
       ELSE (ARRAY['globex', 'initech', 'initech', 'acme'])[who] END,
  CASE WHEN r_user < 0.3
       THEN (ARRAY['admin', 'root', 'test', 'support', 'info', 'administrator', 'demo',
                   'guest', 'ops', 'billing'])[1 + floor(r_x * 10)::int]
       ELSE 'user_' || (1000 + floor(r_user * 98000)::int) END,
  'failed_auth',
  'user',
  NULL,
  (ARRAY['203.0.113.45', '198.51.100.23', '2001:db8:bad:1::17', '192.0.2.77'])[who]::inet,
  'POST',
  CASE WHEN who = 2 THEN '/oauth/token' ELSE '/api/v1/auth/login' END,
  401,
  (ARRAY['python-requests/2.31.0',
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
         'Go-http-client/1.1',
         'curl/7.88.1'])[who],
  jsonb_build_object('reason', CASE WHEN r_x < 0.7 THEN 'invalid_password' ELSE 'unknown_user' END,
                     'method', 'password')
FROM w
$f$;

-- ------------------------------------------------------------- live ticks

-- One second of live traffic at now(): n_normal ordinary events, n_attack
-- events of the fast campaigns, and now and then one of the slow one (one
-- a minute, well under the 10-per-5-minutes auto-block).  Returns, per client
-- address, the requests and failed authentications it made, so the feeder
-- can mirror them into Redis as the API servers would.
CREATE OR REPLACE FUNCTION sectop_demo_tick(n_normal int, n_attack int)
RETURNS TABLE (ip text, requests int, failures int)
LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
  RETURN QUERY
  WITH ins AS (
    INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                           ip_address, method, path, status_code, user_agent, details)
    SELECT * FROM sectop_demo_events(n_normal, now(), interval '1 second')
    UNION ALL
    SELECT * FROM sectop_demo_attack(n_attack, CASE WHEN random() < 1.0 / 60 THEN 1 ELSE 0 END,
                                     now(), interval '1 second')
    RETURNING audit_log.ip_address AS a, audit_log.action AS act, audit_log.details AS d
  )
  SELECT host(ins.a), count(*)::int,
         (count(*) FILTER (WHERE ins.act = 'failed_auth'
                              OR (ins.act = 'auth_attempt' AND ins.d->>'success' = 'false')))::int
    FROM ins
   WHERE ins.a IS NOT NULL
   GROUP BY 1;
END
$f$;

COMMIT;

-- --------------------------------------------------------------- the data

SELECT setseed(:seed) AS seeded \gset

\if :append
\else
TRUNCATE audit_log, api_keys;
\endif

BEGIN;

-- Physical order follows time, as in an append-only log.
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                       ip_address, method, path, status_code, user_agent, details)
SELECT * FROM sectop_demo_events(:rows, now() - interval '30 seconds',
                                 make_interval(days => :days), true)
ORDER BY 1;

-- The attack in progress: the last 30 minutes.
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                       ip_address, method, path, status_code, user_agent, details)
SELECT * FROM sectop_demo_attack(1150, 30, now(), interval '30 minutes')
ORDER BY 1;

-- ... which started probing yesterday, at a trickle.
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                       ip_address, method, path, status_code, user_agent, details)
SELECT * FROM sectop_demo_attack(40, 10, now() - interval '2 hours', interval '22 hours')
ORDER BY 1;

-- Rotations weeks apart (some far older than the window: the age of the last
-- rotation of each secret is the point), and sectop's own past actions.
INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                       ip_address, method, path, status_code, user_agent, details)
SELECT now() - v.age, v.tenant, v.who, v.act, v.rtype, v.rid, v.ip::inet, NULL, NULL, NULL,
       NULL, v.details::jsonb
  FROM (VALUES
    (interval '212 days', NULL, 'vault', 'secret_rotated', 'secret', 'stripe_api_key',
     NULL, '{"secret":"stripe_api_key","rotated_by":"vault","version":3}'),
    (interval '97 days', NULL, 'vault', 'secret_rotated', 'secret', 'db_password',
     NULL, '{"secret":"db_password","rotated_by":"vault","version":11}'),
    (interval '6 days 4 hours', NULL, 'vault', 'secret_rotated', 'secret', 'db_password',
     NULL, '{"secret":"db_password","rotated_by":"vault","version":12}'),
    (interval '58 days', NULL, 'vault', 'secret_rotated', 'secret', 'jwt_signing_key',
     NULL, '{"secret":"jwt_signing_key","rotated_by":"vault","version":7}'),
    (interval '30 days', NULL, 'vault', 'secret_rotated', 'secret', 'jwt_signing_key',
     NULL, '{"secret":"jwt_signing_key","rotated_by":"vault","version":8}'),
    (interval '2 days 7 hours', NULL, 'vault', 'secret_rotated', 'secret', 'jwt_signing_key',
     NULL, '{"secret":"jwt_signing_key","rotated_by":"vault","version":9}'),
    (interval '121 days', NULL, 'ops-bot', 'secret_rotated', 'secret', 'redis_password',
     NULL, '{"secret":"redis_password","rotated_by":"ops-bot","version":2}'),
    (interval '45 days', 'acme', 'vault', 'secret_rotated', 'secret', 'webhook_hmac_secret',
     NULL, '{"secret":"webhook_hmac_secret","rotated_by":"vault","version":4}'),
    (interval '9 days', NULL, 'bob', 'ip_blocked', 'ip', '45.155.205.233', '45.155.205.233',
     '{"reason":"scanner, permanent","source":"sectop"}'),
    (interval '3 days 2 hours', NULL, 'alice', 'ip_blocked', 'ip', '185.220.101.4', '185.220.101.4',
     '{"reason":"Tor exit scanning /admin","ttl_s":3600,"source":"sectop"}'),
    (interval '3 days 1 hour', NULL, 'alice', 'ip_unblocked', 'ip', '185.220.101.4', '185.220.101.4',
     '{"reason":"block expired; quiet since","source":"sectop"}'),
    (interval '2 days 5 hours', 'globex', 'bob', 'api_key_revoked', 'api_key', 'sk_live_9f3a',
     NULL, '{"reason":"key posted in a public gist","source":"sectop"}'),
    (interval '2 days 4 hours', NULL, 'carol', 'secret_rotation_requested', 'secret', 'stripe_api_key',
     NULL, '{"reason":"212 days old, policy is 90","source":"sectop"}'),
    (interval '1 day 3 hours', NULL, 'alice', 'drill_started', 'runbook', 'credential-stuffing',
     NULL, '{"reason":"quarterly drill","source":"sectop"}'),
    (interval '1 day 2 hours', NULL, 'alice', 'runbook_step_done', 'runbook', 'credential-stuffing',
     NULL, '{"step":2,"reason":"top offenders blocked","source":"sectop"}'),
    (interval '1 day 1 hour', NULL, 'alice', 'drill_ended', 'runbook', 'credential-stuffing',
     NULL, '{"reason":"done in 41 min","source":"sectop"}')
  ) AS v(age, tenant, who, act, rtype, rid, ip, details)
ORDER BY 1;

-- ~50 API keys across tenants: some revoked, expired, or never used.  A key
-- is never used after it expired or was revoked.
INSERT INTO api_keys (tenant_id, name, key_prefix, scopes, created_at, last_used_at,
                      expires_at, revoked_at, revoked_by, revoke_reason)
SELECT sectop_demo_tenant(sectop_demo_zipf(r_t, 20)),
       CASE WHEN g = 50 THEN E'deploy\x1b]0;pwned\x07'
            ELSE (ARRAY['ci-deploy', 'billing-sync', 'mobile-app', 'partner-integration',
                        'terraform', 'zapier', 'data-export', 'support-tool', 'webhook-relay',
                        'analytics', 'backup-job', 'staging', 'local-dev'])[1 + floor(r_n * 13)::int]
                 || '-' || (1 + g % 3) END,
       CASE WHEN r_n < 0.8 THEN 'sk_live_' ELSE 'sk_test_' END || substr(md5(r_p::text), 1, 4),
       CASE floor(r_s * 7)::int
         WHEN 0 THEN ARRAY['orders:read']
         WHEN 1 THEN ARRAY['orders:read', 'orders:write']
         WHEN 2 THEN ARRAY['users:read']
         WHEN 3 THEN ARRAY['billing:read', 'reports:read']
         WHEN 4 THEN ARRAY['admin']
         WHEN 5 THEN ARRAY['webhooks:write']
         ELSE ARRAY['orders:read', 'users:read', 'reports:read'] END,
       created,
       CASE WHEN r_u >= 0.15
            THEN created + (least(now(), expires, revoked) - created) * (1 - power(r_u, 3)) END,
       expires, revoked,
       CASE WHEN revoked IS NOT NULL THEN (ARRAY['alice', 'bob', 'carol'])[1 + floor(r_s * 3)::int] END,
       CASE WHEN revoked IS NOT NULL THEN (ARRAY['employee left', 'leaked in CI logs', 'rotation',
                                                 'unused for 90 days'])[1 + floor(r_t * 4)::int] END
  FROM (SELECT a.*,
               CASE WHEN r_e >= 0.4
                    THEN created + (ARRAY[interval '90 days', interval '180 days',
                                          interval '365 days'])[1 + floor(r_e * 10)::int % 3] END AS expires,
               CASE WHEN r_rev < 0.12 THEN created + (now() - created) * r_p END AS revoked
          FROM (SELECT g, random() AS r_t, random() AS r_n, random() AS r_p, random() AS r_s,
                       random() AS r_rev, random() AS r_u, random() AS r_e,
                       now() - interval '400 days' * random() AS created
                  FROM generate_series(1, 50) g OFFSET 0) a
        OFFSET 0) b;

COMMIT;

ANALYZE audit_log;
ANALYZE api_keys;
