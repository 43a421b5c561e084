-- live_fill.sql: the window the live section of bench/run.sh starts from,
-- filled at the rate it then feeds at.  Needs scripts/seed.sql's generator
-- (sectop_demo_events); makes sectop_bench_fill():
--
--   SELECT sectop_bench_fill(rate, t_from, t_to, attack_share);
--
-- inserts rate * (t_to - t_from) events with times uniform over the span, in
-- five-minute chunks each in time order (physical order follows time, as in
-- an append-only log): ordinary traffic from sectop_demo_events (no diurnal
-- rhythm: the rate is the rate), and attack_share of them from the four
-- addresses of bench/bench_feed.c's credential stuffing (the same weights,
-- tenants, user names and agents).  Returns the rows inserted.
CREATE OR REPLACE FUNCTION sectop_bench_fill(rate float8, t_from timestamptz, t_to timestamptz,
                                             attack float8)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $f$
DECLARE
  a timestamptz := t_from;
  b timestamptz;
  n_all bigint;
  n_attack bigint;
  total bigint := 0;
BEGIN
  WHILE a < t_to LOOP
    b := least(a + interval '5 minutes', t_to);
    n_all := round(rate * extract(epoch FROM b - a));
    n_attack := round(n_all * attack);
    INSERT INTO audit_log ("timestamp", tenant_id, user_id, action, resource_type, resource_id,
                           ip_address, method, path, status_code, user_agent, details)
    SELECT * FROM (
      SELECT * FROM sectop_demo_events((n_all - n_attack)::int, b, b - a, false)
      UNION ALL
      SELECT a + (b - a) * random(),
             CASE WHEN r_tenant < 0.8 THEN (ARRAY['acme', 'globex', 'acme', 'initech'])[who]
                  ELSE (ARRAY['globex', 'initech', 'initech', 'acme'])[who] END,
             CASE WHEN r_user < 0.3
                  THEN (ARRAY['admin', 'root', 'test', 'support', 'info', 'administrator', 'demo',
                              'guest', 'ops', 'billing'])[1 + floor(r_x * 10)::int]
                  ELSE 'user_' || (1000 + floor(r_user * 98000)::int) END,
             'failed_auth', 'user', NULL,
             (ARRAY['203.0.113.45', '198.51.100.23', '2001:db8:bad:1::17', '192.0.2.77'])[who]::inet,
             'POST', CASE WHEN who = 2 THEN '/oauth/token' ELSE '/api/v1/auth/login' END, 401,
             (ARRAY['python-requests/2.31.0',
                    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
                    'Go-http-client/1.1', 'curl/7.88.1'])[who],
             jsonb_build_object('reason', CASE WHEN r_x < 0.7 THEN 'invalid_password' ELSE 'unknown_user' END,
                                'method', 'password')
        FROM (SELECT r_tenant, r_user, r_x,
                     CASE WHEN r_who < 0.40 THEN 1 WHEN r_who < 0.70 THEN 2
                          WHEN r_who < 0.90 THEN 3 ELSE 4 END AS who
                FROM (SELECT random() AS r_who, random() AS r_tenant, random() AS r_user,
                             random() AS r_x
                        FROM generate_series(1, n_attack) OFFSET 0) r
              OFFSET 0) w
    ) x ORDER BY 1;
    total := total + n_all;
    a := b;
  END LOOP;
  RETURN total;
END
$f$;
