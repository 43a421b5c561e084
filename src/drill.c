/* drill.c: the scenarios, the injector that plays the API servers' part
 * (audit rows, failure and rate-limit counters under the drill prefix),
 * and the scorecard.  The injector is a child process with connections of
 * its own, so the console's loop never waits on it; it stops sending an
 * attacker's events once the drill's block key for it exists, as the real
 * servers would refuse it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include <hiredis/hiredis.h>

#include "connect.h"
#include "redis_link.h"
#include "drill.h"
#include "geoip.h"
#include "pg_sql.h"
#include "strutil.h"
#include "timeline.h"

const struct drill_scenario drill_scenarios[] = {
	{ "brute-force", "Brute force from two addresses against one tenant", "brute-force" },
	{ "credential-stuffing", "Credential stuffing: forty addresses across tenants", "brute-force" },
	{ "new-country-key", "A tenant's API key used from addresses never seen", "compromised-key" },
	{ "health-outage", "A service outage: requests fail with 503", "health-degradation" },
};
const size_t n_drill_scenarios = sizeof drill_scenarios / sizeof drill_scenarios[0];

const struct drill_scenario *drill_find(const char *name)
{
	for (size_t i = 0; name && i < n_drill_scenarios; i++)
		if (strcmp(drill_scenarios[i].name, name) == 0)
			return &drill_scenarios[i];
	return NULL;
}

/* Documentation ranges only (RFC 5737): a drill never names a real host. */
static void add_range(struct drill *d, const char *net, int from, int n)
{
	for (int i = 0; i < n && d->n_attackers < DRILL_MAX_ATTACKERS; i++)
		snprintf(d->attackers[d->n_attackers++], sizeof d->attackers[0], "%s.%d", net, from + i);
}

/* Every key gets the prefix once (a second prepare adds nothing). */
static void prefix_key(char **key, const char *prefix)
{
	if (strncmp(*key, prefix, strlen(prefix)) == 0)
		return;
	char *k = str_printf("%s%s", prefix, *key);
	if (k) {
		free(*key);
		*key = k;
	}
}

void drill_prepare(struct drill *d, struct config *cfg, const struct drill_scenario *sc, int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	char stamp[32];

	memset(d, 0, sizeof *d);
	d->sc = sc;
	d->started = now;
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime_r(&t, &tm));
	if (cfg->incident && *cfg->incident)
		snprintf(d->incident, sizeof d->incident, "%s", cfg->incident);
	else
		snprintf(d->incident, sizeof d->incident, "DRILL-%s-%s", sc->name, stamp);
	if (strcmp(sc->name, "brute-force") == 0)
		add_range(d, "203.0.113", 66, 2);
	else if (strcmp(sc->name, "credential-stuffing") == 0)
		add_range(d, "198.51.100", 10, 40);
	else if (strcmp(sc->name, "new-country-key") == 0)
		add_range(d, "192.0.2", 20, 6);
	cfg->drill = true;
	prefix_key(&cfg->keys.blocked, cfg->drill_prefix);
	prefix_key(&cfg->keys.failed_auth, cfg->drill_prefix);
	prefix_key(&cfg->keys.ratelimit, cfg->drill_prefix);
	prefix_key(&cfg->keys.revoked_key, cfg->drill_prefix);
	free(cfg->incident);
	cfg->incident = strdup(d->incident);
	if (!cfg->runbook)
		cfg->runbook = strdup(sc->runbook);
}

/* --------------------------------------------------------------- injector */

struct injector {
	const struct config *cfg;
	const struct drill *d;
	PGconn *pg;
	struct rlink *redis;
	char *insert;                /* the parameterised INSERT */
	struct geoip *geo;           /* geoip-db: the new country's name */
	char tenant[128], other_tenant[128];
	bool contained[DRILL_MAX_ATTACKERS];
	unsigned seed;
};

static char *insert_sql(const struct config *cfg)
{
	const struct conf_schema *s = &cfg->schema;
	const char *cols[] = { s->timestamp, s->tenant_id, s->user_id, s->action, s->ip_address, s->method,
	                       s->path, s->status_code, s->user_agent, s->details };
	char *q[10];
	for (int i = 0; i < 10; i++)
		q[i] = pg_sql_ident(cols[i]);
	char *t = pg_sql_ident(s->table);
	char *sql = str_printf("INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) VALUES "
	                       "(now(), $1, $2, $3, $4::inet, $5, $6, $7::int, $8, $9::jsonb)",
	                       t, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9]);
	for (int i = 0; i < 10; i++)
		free(q[i]);
	free(t);
	return sql;
}

static void emit(struct injector *in, const char *ip, const char *tenant, const char *user,
                 const char *action, int status, const char *path, const char *extra_json)
{
	char code[8], details[300];
	snprintf(code, sizeof code, "%d", status);
	snprintf(details, sizeof details, "{\"drill\": true, \"scenario\": \"%s\"%s%s}", in->d->sc->name,
	         extra_json ? ", " : "", extra_json ? extra_json : "");
	const char *v[] = { tenant, user, action, ip, status >= 400 && status != 503 ? "POST" : "GET", path, code,
	                    "drill-client/1.0", details };
	PGresult *r = PQexecParams(in->pg, in->insert, 9, NULL, v, NULL, NULL, 0);
	PQclear(r);
	const char *prefix = status == 401 ? in->cfg->keys.failed_auth : in->cfg->keys.ratelimit;
	freeReplyObject(rlink_call(in->redis, "INCR %s%s", prefix, ip));
	freeReplyObject(rlink_call(in->redis, "EXPIRE %s%s %d", prefix, ip, status == 401 ? 300 : 60));
}

/* Has the operator blocked this attacker (under the drill prefix)? */
static bool is_contained(struct injector *in, size_t i)
{
	if (!in->contained[i]) {
		redisReply *r = rlink_call(in->redis, "EXISTS %s%s", in->cfg->keys.blocked, in->d->attackers[i]);
		in->contained[i] = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
		freeReplyObject(r);
	}
	return in->contained[i];
}

static size_t pick(struct injector *in, size_t n)
{
	return n ? (size_t)rand_r(&in->seed) % n : 0;
}

static void tick_brute_force(struct injector *in, long tick)
{
	static const char *const users[] = { "admin", "root", "test", "alice", "bob", "support", "ops" };
	int per_tick[] = { 4, tick >= 20 ? 1 : 0 };

	for (size_t a = 0; a < 2; a++)
		for (int k = 0; k < per_tick[a] && !is_contained(in, a); k++)
			emit(in, in->d->attackers[a], in->tenant, users[pick(in, 7)], "failed_auth", 401, "/v1/login", NULL);
}

static void tick_credential_stuffing(struct injector *in, long tick)
{
	char user[64];
	const char *tenants[] = { in->tenant, in->other_tenant };

	(void)tick;
	for (int k = 0; k < 6; k++) {
		size_t a = pick(in, in->d->n_attackers);
		if (is_contained(in, a))
			continue;
		snprintf(user, sizeof user, "user%zu@example.com", pick(in, 100000));
		emit(in, in->d->attackers[a], tenants[pick(in, 2)], user, "failed_auth", 401, "/v1/login", NULL);
	}
}

/* The key's use from a new country: the country the GeoIP database gives
 * the address, when one is configured ("ZZ", unknown, without). */
static const char *country_key(struct injector *in, const char *ip, char *buf, size_t n)
{
	struct geo_info gi;

	geoip_lookup(in->geo, ip, &gi);
	snprintf(buf, n, "\"api_key_prefix\": \"sk_live_7f3a\", \"country\": \"%s\"",
	         gi.country[0] ? gi.country : "ZZ");
	return buf;
}

static void tick_new_country_key(struct injector *in, long tick)
{
	char key[96];

	for (int k = 0; k < 3; k++) {
		size_t a = pick(in, in->d->n_attackers);
		if (!is_contained(in, a))
			emit(in, in->d->attackers[a], in->tenant, "svc-export", "api_request", 200, "/v1/export",
			     country_key(in, in->d->attackers[a], key, sizeof key));
	}
	size_t a = pick(in, in->d->n_attackers);
	if (tick % 5 == 0 && !is_contained(in, a))
		emit(in, in->d->attackers[a], in->other_tenant, "svc-export", "cross_tenant_access", 403,
		     "/v1/export", country_key(in, in->d->attackers[a], key, sizeof key));
}

static void tick_health_outage(struct injector *in, long tick)
{
	char ip[46];
	const char *tenants[] = { in->tenant, in->other_tenant };

	if (tick == 0)
		emit(in, "100.64.0.1", NULL, "deploy-bot", "config_changed", 200, "/admin/config", NULL);
	for (int k = 0; k < 8; k++) {
		snprintf(ip, sizeof ip, "100.64.%zu.%zu", pick(in, 4), 1 + pick(in, 250));
		emit(in, ip, tenants[pick(in, 2)], "client", "api_request", 503, "/v1/items", NULL);
	}
}

/* The busiest tenants of the last hour play the victims; "acme" and
 * "globex" on an empty table. */
static void choose_tenants(struct injector *in)
{
	const struct conf_schema *s = &in->cfg->schema;
	char *t = pg_sql_ident(s->table), *tn = pg_sql_ident(s->tenant_id), *ts = pg_sql_ident(s->timestamp);
	char *sql = str_printf("SELECT %s FROM %s WHERE %s >= now() - interval '1 hour' AND %s IS NOT NULL"
	                       " GROUP BY 1 ORDER BY count(*) DESC LIMIT 2", tn, t, ts, tn);
	PGresult *r = sql ? PQexecParams(in->pg, sql, 0, NULL, NULL, NULL, NULL, 0) : NULL;
	int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;

	snprintf(in->tenant, sizeof in->tenant, "%s", n > 0 ? PQgetvalue(r, 0, 0) : "acme");
	snprintf(in->other_tenant, sizeof in->other_tenant, "%s", n > 1 ? PQgetvalue(r, 1, 0) : "globex");
	PQclear(r);
	free(sql);
	free(t);
	free(tn);
	free(ts);
}

static void run_injector(const struct drill *d, const struct config *cfg)
{
	struct injector in = { .cfg = cfg, .d = d, .seed = (unsigned)getpid() };
	char err[300];
	void (*tick)(struct injector *, long) =
		strcmp(d->sc->name, "brute-force") == 0 ? tick_brute_force :
		strcmp(d->sc->name, "credential-stuffing") == 0 ? tick_credential_stuffing :
		strcmp(d->sc->name, "new-country-key") == 0 ? tick_new_country_key : tick_health_outage;
	pid_t parent = getppid();

	char why[256];
	in.geo = geoip_open(cfg->geoip_db.v, cfg->geoip_db.n, why, sizeof why);   /* NULL: "ZZ" */
	in.pg = connect_pg(cfg, PG_WRITE, "sectop-drill");
	in.redis = connect_redis(cfg, err, sizeof err);
	in.insert = insert_sql(cfg);
	if (PQstatus(in.pg) != CONNECTION_OK || !in.redis || !in.insert)
		_exit(1);
	choose_tenants(&in);
	for (long i = 0; i < cfg->drill_duration_s && getppid() == parent; i++) {
		tick(&in, i);
		sleep(1);
	}
	_exit(0);
}

int drill_start_injector(struct drill *d, const struct config *cfg, char *err, size_t errsz)
{
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(err, errsz, "cannot start the injector: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* the terminal is the console's: the injector says nothing on it */
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		run_injector(d, cfg);
	}
	d->injector = pid;
	return 0;
}

void drill_stop_injector(struct drill *d)
{
	if (d->injector <= 0)
		return;
	kill(d->injector, SIGTERM);
	waitpid(d->injector, NULL, 0);
	d->injector = 0;
}

/* -------------------------------------------------------------- scorecard */

static bool is_attacker(const struct drill *d, const char *ip)
{
	for (size_t i = 0; ip && i < d->n_attackers; i++)
		if (strcmp(d->attackers[i], ip) == 0)
			return true;
	return false;
}

void drill_score(const struct drill *d, json_t *records, struct drill_score *s)
{
	struct timeline tl;

	if (timeline_build(&tl, records, d->incident) < 0) {
		memset(s, 0, sizeof *s);
		s->detect_s = s->contain_s = -1;
		return;
	}
	drill_score_timeline(d, &tl, s);
	timeline_free(&tl);
}

void drill_score_timeline(const struct drill *d, const struct timeline *tl, struct drill_score *s)
{
	memset(s, 0, sizeof *s);
	s->detect_s = s->contain_s = -1;
	json_t *blocked = json_object();
	for (size_t i = 0; i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		int64_t at = e->t - d->started;
		bool done = e->status && strcmp(e->status, "done") == 0;
		if (!e->what && is_attacker(d, e->target) && s->detect_s < 0)
			s->detect_s = at;
		else if (e->what && strcmp(e->what, "runbook_step_done") == 0 && done)
			s->steps_done++;
		else if (e->what && done && strncmp(e->what, "drill_", 6) != 0)
			s->actions++;
		if (e->what && done && strcmp(e->what, "ip_blocked") == 0 && is_attacker(d, e->target)) {
			if (s->contain_s < 0)
				s->contain_s = at;
			json_object_set_new(blocked, e->target, json_true());
		}
	}
	s->contained = json_object_size(blocked);
	json_decref(blocked);
}

static void put_duration(FILE *f, int64_t s)
{
	if (s < 0)
		fputs("not reached", f);
	else if (s < 60)
		fprintf(f, "%llds", (long long)s);
	else
		fprintf(f, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
}

void drill_write_score(const struct drill *d, const struct drill_score *s, size_t steps_total, FILE *f)
{
	fprintf(f, "# Drill scorecard: %s\n\n- Scenario: %s (%s)\n- Incident: %s\n", d->sc->name, d->sc->title,
	        d->sc->name, d->incident);
	if (d->n_attackers) {
		fputs("- Time to detect (first look at an attacker's row): ", f);
		put_duration(f, s->detect_s);
		fputs("\n- Time to contain (the first block of an attacker): ", f);
		put_duration(f, s->contain_s);
		fprintf(f, "\n- Attackers contained: %zu of %zu\n", s->contained, d->n_attackers);
	} else {
		fputs("- Time to detect and to contain: no attacker in this scenario\n", f);
	}
	fprintf(f, "- Runbook steps completed: %zu of %zu (%s)\n- Actions taken: %zu\n\n", s->steps_done,
	        steps_total, d->sc->runbook, s->actions);
}
