#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "allowlist.h"
#include "conf.h"
#include "redis_url.h"
#include "sanitize.h"
#include "strutil.h"
#include "webhook.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum conf_type {
	CT_STRING,      /* char * */
	CT_SECRET,      /* char *, marks the file as holding a secret */
	CT_CONNINFO,    /* char *, holds a secret when it carries a password */
	CT_INT,         /* int, plain number */
	CT_MS,          /* int, duration in milliseconds (unit default: s) */
	CT_SECONDS,     /* int, duration in seconds (unit default: s) */
	CT_BOOL,        /* bool */
	CT_LIST,        /* struct conf_list, comma-separated */
	CT_STATUSES,    /* int list, comma-separated HTTP statuses */
	CT_HEALTH,      /* NAME=URL [option=value ...] */
	CT_IDENT,       /* char *, an SQL identifier or key prefix: no control bytes */
	CT_WORD,        /* char *, a setting with a default: empty is refused, never NULL */
	CT_ROTATION,    /* NAME kind=KIND [max_age=DURATION]: a secret to rotate */
	CT_FILES,       /* struct conf_list of paths, one a line: repeatable */
	CT_REPEAT,      /* struct conf_list of values, one a line: repeatable */
	CT_NOTIFY,      /* URL [option=value ...]: where alerts are sent, repeatable */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;
	long long min, max;      /* bounds of numbers */
};

#define K(n, t, field, lo, hi) { n, t, offsetof(struct config, field), lo, hi }

static const struct conf_key conf_table[] = {
	K("db", CT_CONNINFO, db, 0, 0),
	K("db-write", CT_CONNINFO, db_write, 0, 0),
	K("redis", CT_CONNINFO, redis, 0, 0),
	K("redis-password", CT_SECRET, redis_password, 0, 0),
	K("redis-sentinel-password", CT_SECRET, redis_sentinel_password, 0, 0),
	K("redis-ca-file", CT_STRING, redis_ca_file, 0, 0),
	K("redis-cert-file", CT_STRING, redis_cert_file, 0, 0),
	K("redis-key-file", CT_STRING, redis_key_file, 0, 0),
	K("health", CT_HEALTH, health, 0, 0),
	K("geoip-db", CT_FILES, geoip_db, 0, 0),
	K("allow", CT_REPEAT, allow, 0, 0),
	K("allow-file", CT_STRING, allow_file, 0, 0),
	K("bypass-allow", CT_BOOL, bypass_allow, 0, 0),
	K("table", CT_IDENT, schema.table, 0, 0),
	K("column-id", CT_IDENT, schema.id, 0, 0),
	K("column-timestamp", CT_IDENT, schema.timestamp, 0, 0),
	K("column-tenant-id", CT_IDENT, schema.tenant_id, 0, 0),
	K("column-user-id", CT_IDENT, schema.user_id, 0, 0),
	K("column-action", CT_IDENT, schema.action, 0, 0),
	K("column-resource-type", CT_IDENT, schema.resource_type, 0, 0),
	K("column-resource-id", CT_IDENT, schema.resource_id, 0, 0),
	K("column-ip-address", CT_IDENT, schema.ip_address, 0, 0),
	K("column-method", CT_IDENT, schema.method, 0, 0),
	K("column-path", CT_IDENT, schema.path, 0, 0),
	K("column-status-code", CT_IDENT, schema.status_code, 0, 0),
	K("column-user-agent", CT_IDENT, schema.user_agent, 0, 0),
	K("column-details", CT_IDENT, schema.details, 0, 0),
	K("keys-table", CT_IDENT, schema.keys_table, 0, 0),
	K("prefix-blocked", CT_IDENT, keys.blocked, 0, 0),
	K("prefix-failed-auth", CT_IDENT, keys.failed_auth, 0, 0),
	K("prefix-ratelimit", CT_IDENT, keys.ratelimit, 0, 0),
	K("prefix-revoked-key", CT_IDENT, keys.revoked_key, 0, 0),
	K("failure-actions", CT_LIST, failure_actions, 0, 0),
	K("failure-statuses", CT_STATUSES, failure_statuses, 100, 599),
	K("unauthorized-actions", CT_LIST, unauthorized_actions, 0, 0),
	K("cross-tenant-actions", CT_LIST, cross_tenant_actions, 0, 0),
	K("ratelimit-actions", CT_LIST, ratelimit_actions, 0, 0),
	K("ratelimit-limit", CT_INT, ratelimit_limit, 1, 1000000000),
	K("ratelimit-window", CT_SECONDS, ratelimit_window_s, 1, 86400),
	K("tenant", CT_STRING, tenant, 0, 0),
	K("window", CT_SECONDS, window_s, 60, 7 * 86400),
	K("at", CT_STRING, at, 0, 0),
	K("refresh", CT_MS, refresh_ms, 200, 3600 * 1000),
	K("server-timeout", CT_MS, timeout_ms, 100, 600 * 1000),
	K("top", CT_INT, top_n, 1, 1000),
	K("tail", CT_INT, tail_n, 1, 5000),
	K("tail-overlap", CT_SECONDS, tail_overlap_s, 0, 3600),
	K("text-max", CT_INT, text_max, 16, 10000),
	K("scan-count", CT_INT, scan_count, 10, 100000),
	K("scan-budget", CT_MS, scan_budget_ms, 0, 10000),
	K("walk-interval", CT_SECONDS, walk_interval_s, 1, 86400),
	K("scan-rate", CT_INT, scan_rate, 0, 100000000),
	K("blocked-max", CT_INT, blocked_max, 1, 1000000),
	K("health-body-max", CT_INT, health_body_max, 1024, 64 << 20),
	K("alert-failures", CT_INT, alert_failures, 1, 1000000),
	K("alert-window", CT_SECONDS, alert_window_s, 10, 86400),
	K("cert-warn-days", CT_INT, cert_warn_days, 0, 3650),
	K("stale-alert", CT_SECONDS, stale_alert_s, 1, 86400),
	K("theme", CT_WORD, theme, 0, 0),
	K("no-color", CT_BOOL, no_color, 0, 0),
	K("ascii", CT_BOOL, ascii, 0, 0),
	K("bell", CT_BOOL, bell, 0, 0),
	K("read-only", CT_BOOL, read_only, 0, 0),
	K("dry-run", CT_BOOL, dry_run, 0, 0),
	K("journal", CT_STRING, journal, 0, 0),
	K("runbook-dir", CT_STRING, runbook_dir, 0, 0),
	K("runbook", CT_STRING, runbook, 0, 0),
	K("drill-prefix", CT_IDENT, drill_prefix, 0, 0),
	K("drill-duration", CT_SECONDS, drill_duration_s, 10, 86400),
	K("ttl", CT_SECONDS, block_ttl_s, 1, 365 * 86400),
	K("block-ttl-steps", CT_LIST, block_ttl_steps, 0, 0),
	K("block-memory", CT_SECONDS, block_memory_s, 0, 3650 * 86400),
	K("range-max", CT_INT, range_max, 1, 65536),
	K("reason", CT_STRING, reason, 0, 0),
	K("incident", CT_STRING, incident, 0, 0),
	K("yes", CT_BOOL, yes, 0, 0),
	K("format", CT_WORD, format, 0, 0),
	K("timeout", CT_SECONDS, snapshot_timeout_s, 1, 3600),
	K("log", CT_STRING, log_file, 0, 0),
	K("verbose", CT_INT, verbose, 0, 3),
	K("since", CT_WORD, since, 0, 0),
	K("until", CT_STRING, until, 0, 0),
	K("section", CT_STRING, section, 0, 0),
	K("output", CT_STRING, output, 0, 0),
	K("fail-on", CT_LIST, fail_on, 0, 0),
	K("hot-threshold", CT_INT, hot_threshold, 1, 1000000000),
	K("key-unused-days", CT_INT, key_unused_days, 1, 3650),
	K("rotation-warn-days", CT_INT, rotation_warn_days, 0, 3650),
	K("report-timeout", CT_SECONDS, report_timeout_s, 1, 86400),
	K("report-sessions", CT_INT, report_sessions, 1, 2),
	K("rollup-recheck", CT_SECONDS, rollup_recheck_s, 0, 7 * 86400),
	K("blocks-lookback", CT_SECONDS, blocks_lookback_s, 0, 90 * 86400),
	K("all-blocks", CT_BOOL, all_blocks, 0, 0),
	K("secret", CT_ROTATION, secrets, 0, 0),
	K("revoke-backend", CT_WORD, revoke_backend, 0, 0),
	K("revoke-webhook", CT_STRING, revoke_webhook, 0, 0),
	K("revoke-token-env", CT_STRING, revoke_token_env, 0, 0),
	K("revoke-ca-file", CT_STRING, revoke_ca_file, 0, 0),
	K("status", CT_BOOL, rotation_status, 0, 0),
	K("rollup", CT_BOOL, rollup, 0, 0),
	K("drop-rollup", CT_BOOL, drop_rollup, 0, 0),
	K("notify", CT_NOTIFY, notify, 0, 0),
};

#define CONF_NKEYS (sizeof conf_table / sizeof conf_table[0])

const char *conf_key_at(size_t i)
{
	return i < CONF_NKEYS ? conf_table[i].name : NULL;
}

bool conf_key_is_flag(const char *key)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_table[i].name, key) == 0)
			return conf_table[i].type == CT_BOOL;
	return false;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

static void list_set(struct conf_list *l, const char *const *v)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
	for (; *v && l->n < CONF_MAX_LIST; v++)
		l->v[l->n++] = xstrdup(*v);
}

void conf_defaults(struct config *cfg)
{
	static const char *const failures[] = { "failed_auth", "unauthorized_access",
		"authentication_failed", NULL };
	static const char *const unauthorized[] = { "unauthorized_access", NULL };
	static const char *const cross[] = { "cross_tenant_access", NULL };
	struct conf_schema *s = &cfg->schema;

	memset(cfg, 0, sizeof *cfg);
	set_str(&s->table, "audit_log");
	set_str(&s->id, "id");
	set_str(&s->timestamp, "timestamp");
	set_str(&s->tenant_id, "tenant_id");
	set_str(&s->user_id, "user_id");
	set_str(&s->action, "action");
	set_str(&s->resource_type, "resource_type");
	set_str(&s->resource_id, "resource_id");
	set_str(&s->ip_address, "ip_address");
	set_str(&s->method, "method");
	set_str(&s->path, "path");
	set_str(&s->status_code, "status_code");
	set_str(&s->user_agent, "user_agent");
	set_str(&s->details, "details");
	set_str(&s->keys_table, "api_keys");
	set_str(&cfg->keys.blocked, "blocked:");
	set_str(&cfg->keys.failed_auth, "failed_auth:");
	set_str(&cfg->keys.ratelimit, "ratelimit:");
	set_str(&cfg->keys.revoked_key, "revoked_key:");
	list_set(&cfg->failure_actions, failures);
	cfg->failure_statuses[0] = 401;
	cfg->failure_statuses[1] = 403;
	cfg->n_failure_statuses = 2;
	list_set(&cfg->unauthorized_actions, unauthorized);
	list_set(&cfg->cross_tenant_actions, cross);
	list_set(&cfg->ratelimit_actions, (const char *const[]){ "rate_limit_exceeded", NULL });
	cfg->ratelimit_limit = 100;             /* as the API servers count: 100 requests a minute */
	cfg->ratelimit_window_s = 60;
	cfg->window_s = 15 * 60;
	cfg->refresh_ms = 2000;
	cfg->timeout_ms = 3000;
	cfg->top_n = 20;
	cfg->tail_n = 100;
	cfg->tail_overlap_s = 10;
	cfg->text_max = 200;
	cfg->scan_count = 1000;
	cfg->scan_budget_ms = 20;
	cfg->walk_interval_s = 60;
	cfg->scan_rate = 1000;
	cfg->blocked_max = 1000;
	cfg->health_body_max = 256 * 1024;
	cfg->alert_failures = 10;
	cfg->alert_window_s = 300;
	cfg->cert_warn_days = 14;
	cfg->stale_alert_s = 60;
	set_str(&cfg->theme, "default");
	set_str(&cfg->format, "text");
	cfg->snapshot_timeout_s = 10;
	cfg->block_ttl_s = 0;                  /* not set: block-ttl-steps decide */
	list_set(&cfg->block_ttl_steps, (const char *const[]){ "1h", "6h", "24h", "7d", NULL });
	cfg->block_memory_s = 30 * 86400;
	cfg->range_max = 256;
	set_str(&cfg->since, "7d");
	set_str(&cfg->revoke_backend, "db");
	cfg->hot_threshold = 1000;
	cfg->key_unused_days = 90;
	cfg->rotation_warn_days = 14;
	cfg->report_timeout_s = 300;
	cfg->report_sessions = 2;
	cfg->rollup_recheck_s = 2 * 3600;
	cfg->blocks_lookback_s = 86400;
	set_str(&cfg->drill_prefix, "drill:");
	cfg->drill_duration_s = 600;
}

static void health_free(struct conf_health *h)
{
	free(h->name);
	free(h->url);
	free(h->api_key_env);
	free(h->bearer_env);
	free(h->ca_file);
	memset(h, 0, sizeof *h);
}

static void secret_free(struct conf_secret *s)
{
	free(s->name);
	free(s->kind);
	free(s->webhook);
	free(s->token_env);
	free(s->ca_file);
	memset(s, 0, sizeof *s);
}

static void notify_free(struct conf_notify *n)
{
	free(n->url);
	free(n->token_env);
	free(n->ca_file);
	memset(n, 0, sizeof *n);
}

void conf_free(struct config *cfg)
{
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_table[i];
		void *p = (char *)cfg + k->offset;
		switch (k->type) {
		case CT_STRING:
		case CT_IDENT:
		case CT_WORD:
			free(*(char **)p);
			break;
		case CT_SECRET:
		case CT_CONNINFO:
			str_wipe_free(*(char **)p);
			break;
		case CT_LIST:
		case CT_FILES:
		case CT_REPEAT: {
			struct conf_list *l = p;
			for (size_t j = 0; j < l->n; j++)
				free(l->v[j]);
			break;
		}
		default:
			break;
		}
	}
	for (size_t i = 0; i < cfg->n_health; i++)
		health_free(&cfg->health[i]);
	for (size_t i = 0; i < cfg->n_secrets; i++)
		secret_free(&cfg->secrets[i]);
	for (size_t i = 0; i < cfg->n_notify; i++)
		notify_free(&cfg->notify[i]);
	free(cfg->config_file);
	memset(cfg, 0, sizeof *cfg);
}

long long conf_parse_duration_ms(const char *s, char default_unit)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || n < 0)
		return -1;
	char unit[3] = { default_unit, 0, 0 };
	const char *u = *end ? end : unit;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(u, units[i].unit) != 0)
			continue;
		if (n > LLONG_MAX / units[i].ms)
			return -1;
		return n * units[i].ms;
	}
	return -1;
}

static int fail(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A message may quote what was read (an unknown key, a bad value): it is
 * made inert here, once for every message, before anyone prints it. */
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	char raw[1024];

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	char *safe = sanitize_str(raw, 0);
	snprintf(err, errsz, "%s", safe ? safe : "bad setting");
	free(safe);
	return -1;
}

static bool has_control(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
}

static int parse_number(const struct conf_key *k, const char *v, int *out, char *err, size_t errsz)
{
	long long n;
	char *end;

	switch (k->type) {
	case CT_MS:
		n = conf_parse_duration_ms(v, 's');
		break;
	case CT_SECONDS:
		n = conf_parse_duration_ms(v, 's');
		if (n >= 0 && n % 1000)
			return fail(err, errsz, "%s: '%s' is not a whole number of seconds", k->name, v);
		if (n >= 0)
			n /= 1000;
		break;
	default:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			n = -1;
		break;
	}
	if (n < 0)
		return fail(err, errsz, "%s: '%s' is not a %s", k->name, v,
		            k->type == CT_INT ? "number" : "duration (e.g. 90s, 15m, 1h)");
	if (n < k->min || n > k->max)
		return fail(err, errsz, "%s: '%s' is out of range", k->name, v);
	*out = (int)n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	for (int i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
	for (int i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	return -1;
}

/* Split a comma-separated list, trimming blanks; empty items are refused. */
static int split_list(const char *v, char items[][64], size_t max, size_t *n)
{
	*n = 0;
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == start || (size_t)(end - start) >= 64 || *n >= max)
			return -1;
		memcpy(items[*n], start, (size_t)(end - start));
		items[*n][end - start] = '\0';
		(*n)++;
		if (*p == ',')
			p++;
	}
	return *n ? 0 : -1;
}

static int parse_list(const struct conf_key *k, const char *v, void *slot, char *err, size_t errsz)
{
	char items[CONF_MAX_LIST][64];
	size_t n;

	if (split_list(v, items, CONF_MAX_LIST, &n) < 0)
		return fail(err, errsz, "%s: expected a comma-separated list of up to %d items",
		            k->name, CONF_MAX_LIST);
	if (k->type == CT_LIST) {
		const char *ptrs[CONF_MAX_LIST + 1];
		for (size_t i = 0; i < n; i++)
			ptrs[i] = items[i];
		ptrs[n] = NULL;
		list_set(slot, ptrs);
		return 0;
	}
	int codes[CONF_MAX_LIST];
	for (size_t i = 0; i < n; i++)
		if (parse_number(k, items[i], &codes[i], err, errsz) < 0)
			return -1;
	memcpy(slot, codes, n * sizeof codes[0]);
	/* n_failure_statuses follows the array in struct config */
	return (int)n;
}

static bool health_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int health_option(struct conf_health *h, const char *opt, char *err, size_t errsz)
{
	const char *eq = strchr(opt, '=');
	if (!eq || eq == opt || !eq[1])
		return fail(err, errsz, "health: option '%s' is not key=value", opt);
	size_t kn = (size_t)(eq - opt);
	const char *v = eq + 1;
	if (kn == 11 && strncmp(opt, "api_key_env", kn) == 0)
		set_str(&h->api_key_env, v);
	else if (kn == 10 && strncmp(opt, "bearer_env", kn) == 0)
		set_str(&h->bearer_env, v);
	else if (kn == 7 && strncmp(opt, "ca_file", kn) == 0)
		set_str(&h->ca_file, v);
	else if (kn == 7 && strncmp(opt, "timeout", kn) == 0) {
		long long ms = conf_parse_duration_ms(v, 's');
		if (ms < 100 || ms > 600000)
			return fail(err, errsz, "health: timeout '%s' must be between 100ms and 10m", v);
		h->timeout_ms = (int)ms;
	} else
		return fail(err, errsz, "health: unknown option '%.*s' (api_key_env, bearer_env, ca_file, timeout)",
		            (int)kn, opt);
	return 0;
}

/* "NAME=URL [option=value ...]"; a name seen before is replaced. */
static int parse_health(struct config *cfg, const char *v, char *err, size_t errsz)
{
	struct conf_health h = { 0 };
	char *copy = xstrdup(v), *save = NULL;
	char *first = strtok_r(copy, " \t", &save);
	char *eq = first ? strchr(first, '=') : NULL;
	int rc = -1;

	if (!eq || !health_name_ok(first, (size_t)(eq - first))) {
		fail(err, errsz, "health: expected NAME=URL with a name of letters, digits, '_', '.' or '-'");
		goto out;
	}
	if (strncmp(eq + 1, "http://", 7) != 0 && strncmp(eq + 1, "https://", 8) != 0) {
		fail(err, errsz, "health: '%s' is not an http:// or https:// URL", eq + 1);
		goto out;
	}
	/* user:password@ in the URL would be drawn on screen with it */
	const char *auth = strstr(eq + 1, "://") + 3;
	size_t auth_len = strcspn(auth, "/?#");
	if (memchr(auth, '@', auth_len)) {
		fail(err, errsz, "health: credentials in the URL would be shown; use api_key_env= or bearer_env=");
		goto out;
	}
	h.name = strndup(first, (size_t)(eq - first));
	h.url = xstrdup(eq + 1);
	for (char *opt; (opt = strtok_r(NULL, " \t", &save));)
		if (health_option(&h, opt, err, errsz) < 0)
			goto out;
	/* a credential follows the webhooks' rule: plain http only to loopback */
	char why[300];
	if ((h.bearer_env || h.api_key_env) && webhook_url_check(h.url, why, sizeof why) < 0) {
		fail(err, errsz, "health %s: with bearer_env= or api_key_env=, %s", h.name, why);
		goto out;
	}
	size_t i = 0;
	while (i < cfg->n_health && strcmp(cfg->health[i].name, h.name) != 0)
		i++;
	if (i == CONF_MAX_LIST) {
		fail(err, errsz, "health: at most %d endpoints", CONF_MAX_LIST);
		goto out;
	}
	if (i < cfg->n_health)
		health_free(&cfg->health[i]);
	else
		cfg->n_health++;
	cfg->health[i] = h;
	memset(&h, 0, sizeof h);
	rc = 0;
out:
	health_free(&h);
	free(copy);
	return rc;
}

int conf_secret_default_age_s(const char *kind)
{
	static const struct { const char *kind; int days; } ages[] = {
		{ "api_key", 90 }, { "db_password", 180 }, { "tls_cert", 365 }, { "ssh_key", 365 },
	};

	for (size_t i = 0; kind && i < sizeof ages / sizeof ages[0]; i++)
		if (strcmp(kind, ages[i].kind) == 0)
			return ages[i].days * 86400;
	return -1;
}

/* A secret's name is what audit rows call it (resource_id is VARCHAR(100)). */
static bool secret_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 100)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.:/@-", s[i]))
			return false;
	return true;
}

static int secret_option(struct conf_secret *s, const char *opt, char *err, size_t errsz)
{
	const char *v = strchr(opt, '=');

	if (!v || !v[1])
		return fail(err, errsz, "secret: option '%s' is not key=value", opt);
	v++;
	if (strncmp(opt, "kind=", 5) == 0) {
		if (conf_secret_default_age_s(v) < 0)
			return fail(err, errsz, "secret: kind '%s' is not api_key, db_password, tls_cert or ssh_key", v);
		set_str(&s->kind, v);
	} else if (strncmp(opt, "max_age=", 8) == 0) {
		long long ms = conf_parse_duration_ms(v, 'd');
		if (ms < 3600 * 1000LL || ms > 3650 * 86400 * 1000LL || ms % 1000)
			return fail(err, errsz, "secret: max_age '%s' must be between 1h and 3650d", v);
		s->max_age_s = (int)(ms / 1000);
	} else if (strncmp(opt, "webhook=", 8) == 0) {
		char why[200];
		if (webhook_url_check(v, why, sizeof why) < 0)
			return fail(err, errsz, "secret: webhook: %s", why);
		set_str(&s->webhook, v);
	} else if (strncmp(opt, "token_env=", 10) == 0) {
		if (!webhook_env_name_ok(v))
			return fail(err, errsz, "secret: token_env '%s' is not a variable name", v);
		set_str(&s->token_env, v);
	} else if (strncmp(opt, "ca_file=", 8) == 0) {
		set_str(&s->ca_file, v);
	} else if (strncmp(opt, "timeout=", 8) == 0) {
		long long ms = conf_parse_duration_ms(v, 's');
		if (ms < 100 || ms > 600000)
			return fail(err, errsz, "secret: timeout '%s' must be between 100ms and 10m", v);
		s->timeout_ms = (int)ms;
	} else
		return fail(err, errsz, "secret: unknown option '%.*s' (kind, max_age, webhook, token_env, ca_file, timeout)",
		            (int)(v - 1 - opt), opt);
	return 0;
}

/* "NAME kind=KIND [max_age=90d]"; a name seen before is replaced. */
static int parse_secret(struct config *cfg, const char *v, char *err, size_t errsz)
{
	struct conf_secret s = { 0 };
	char *copy = xstrdup(v), *save = NULL;
	char *name = strtok_r(copy, " \t", &save);
	int rc = -1;

	if (!name || !secret_name_ok(name)) {
		fail(err, errsz, "secret: expected NAME kind=KIND [max_age=DURATION], a name of up to 100 "
		     "letters, digits or _.:/@-");
		goto out;
	}
	s.name = xstrdup(name);
	for (char *opt; (opt = strtok_r(NULL, " \t", &save));)
		if (secret_option(&s, opt, err, errsz) < 0)
			goto out;
	if (!s.kind) {
		fail(err, errsz, "secret: %s needs kind=api_key, db_password, tls_cert or ssh_key", s.name);
		goto out;
	}
	if (!s.max_age_s)
		s.max_age_s = conf_secret_default_age_s(s.kind);
	if ((s.token_env || s.ca_file || s.timeout_ms) && !s.webhook) {
		fail(err, errsz, "secret: %s: token_env, ca_file and timeout need webhook=URL", s.name);
		goto out;
	}
	size_t i = 0;
	while (i < cfg->n_secrets && strcmp(cfg->secrets[i].name, s.name) != 0)
		i++;
	if (i == CONF_MAX_LIST) {
		fail(err, errsz, "secret: at most %d secrets", CONF_MAX_LIST);
		goto out;
	}
	if (i < cfg->n_secrets)
		secret_free(&cfg->secrets[i]);
	else
		cfg->n_secrets++;
	cfg->secrets[i] = s;
	memset(&s, 0, sizeof s);
	rc = 0;
out:
	secret_free(&s);
	free(copy);
	return rc;
}

const struct conf_secret *conf_secret_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->n_secrets; i++)
		if (strcmp(cfg->secrets[i].name, name) == 0)
			return &cfg->secrets[i];
	return NULL;
}

/* One option of a notify line; "token-env" is "token_env". */
static int notify_option(struct conf_notify *n, const char *opt, char *err, size_t errsz)
{
	const char *v = strchr(opt, '=');
	char name[16];
	size_t kn = v ? (size_t)(v - opt) : 0;

	if (!v || !v[1] || kn == 0 || kn >= sizeof name)
		return fail(err, errsz, "notify: option '%s' is not key=value", opt);
	for (size_t i = 0; i < kn; i++)
		name[i] = opt[i] == '-' ? '_' : opt[i];
	name[kn] = '\0';
	v++;
	bool yes;
	if (strcmp(name, "format") == 0) {
		if (strcmp(v, "json") != 0 && strcmp(v, "slack") != 0)
			return fail(err, errsz, "notify: format '%s' is not json or slack", v);
		n->slack = strcmp(v, "slack") == 0;
	} else if (strcmp(name, "token_env") == 0) {
		if (!webhook_env_name_ok(v))
			return fail(err, errsz, "notify: token_env '%s' is not a variable name", v);
		set_str(&n->token_env, v);
	} else if (strcmp(name, "ca_file") == 0) {
		set_str(&n->ca_file, v);
	} else if (strcmp(name, "timeout") == 0) {
		long long ms = conf_parse_duration_ms(v, 's');
		if (ms < 100 || ms > 600000)
			return fail(err, errsz, "notify: timeout '%s' must be between 100ms and 10m", v);
		n->timeout_ms = (int)ms;
	} else if (strcmp(name, "rate") == 0) {
		char *end;
		long r = strtol(v, &end, 10);
		if (*end || r < 1 || r > 1000)
			return fail(err, errsz, "notify: rate '%s' is not a number from 1 to 1000 (a minute)", v);
		n->rate = (int)r;
	} else if (strcmp(name, "resolved") == 0) {
		if (parse_bool(v, &yes) < 0)
			return fail(err, errsz, "notify: resolved '%s' is not yes or no", v);
		n->resolved = yes;
	} else
		return fail(err, errsz, "notify: unknown option '%s' (format, token_env, ca_file, timeout, rate, resolved)",
		            name);
	return 0;
}

/* "URL [option=value ...]"; a URL named again is replaced. */
static int parse_notify(struct config *cfg, const char *v, char *err, size_t errsz)
{
	struct conf_notify n = { .rate = 10, .resolved = true };
	char *copy = xstrdup(v), *save = NULL, why[300];
	char *url = strtok_r(copy, " \t", &save);
	int rc = -1;

	if (!url || webhook_url_check(url, why, sizeof why) < 0) {
		fail(err, errsz, "notify: %s", url ? why : "expected URL [format=slack] [token_env=VAR] ...");
		goto out;
	}
	n.url = xstrdup(url);
	for (char *opt; (opt = strtok_r(NULL, " \t", &save));)
		if (notify_option(&n, opt, err, errsz) < 0)
			goto out;
	size_t i = 0;
	while (i < cfg->n_notify && strcmp(cfg->notify[i].url, n.url) != 0)
		i++;
	if (i == CONF_MAX_LIST) {
		fail(err, errsz, "notify: at most %d of them", CONF_MAX_LIST);
		goto out;
	}
	if (i < cfg->n_notify)
		notify_free(&cfg->notify[i]);
	else
		cfg->n_notify++;
	cfg->notify[i] = n;
	memset(&n, 0, sizeof n);
	rc = 0;
out:
	notify_free(&n);
	free(copy);
	return rc;
}

static const struct conf_key *conf_find(const char *key)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_table[i].name, key) == 0)
			return &conf_table[i];
	return NULL;
}

int conf_set(struct config *cfg, const char *key, const char *value, char *err, size_t errsz)
{
	const struct conf_key *k = conf_find(key);
	void *slot;

	if (!k)
		return fail(err, errsz, "unknown setting '%s'", key);
	slot = (char *)cfg + k->offset;
	if (has_control(value))
		return fail(err, errsz, "%s: the value holds a control character", key);
	switch (k->type) {
	case CT_IDENT:
	case CT_WORD:           /* read without a check for NULL: "format =" crashed */
		if (!*value)
			return fail(err, errsz, "%s: must not be empty", key);
		/* fall through */
	case CT_STRING:
	case CT_SECRET:
	case CT_CONNINFO:
		if (k->type == CT_SECRET || k->type == CT_CONNINFO)
			str_wipe_free(*(char **)slot), *(char **)slot = NULL;
		set_str(slot, *value ? value : NULL);
		return 0;
	case CT_INT:
	case CT_MS:
	case CT_SECONDS:
		return parse_number(k, value, slot, err, errsz);
	case CT_BOOL:
		if (parse_bool(value, slot) < 0)
			return fail(err, errsz, "%s: '%s' is not yes or no", key, value);
		return 0;
	case CT_LIST:
		return parse_list(k, value, slot, err, errsz) < 0 ? -1 : 0;
	case CT_STATUSES: {
		int n = parse_list(k, value, slot, err, errsz);
		if (n < 0)
			return -1;
		cfg->n_failure_statuses = (size_t)n;
		return 0;
	}
	case CT_HEALTH:
		return parse_health(cfg, value, err, errsz);
	case CT_FILES:
	case CT_REPEAT: {
		struct conf_list *l = slot;
		if (!*value)
			return fail(err, errsz, "%s: needs a value", key);
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->v[i], value) == 0)
				return 0;        /* named again (a file and the command line) */
		if (l->n == CONF_MAX_LIST)
			return fail(err, errsz, "%s: at most %d of them", key, CONF_MAX_LIST);
		if (!(l->v[l->n] = strdup(value)))
			return fail(err, errsz, "out of memory");
		l->n++;
		return 0;
	}
	case CT_ROTATION:
		return parse_secret(cfg, value, err, errsz);
	case CT_NOTIFY:
		return parse_notify(cfg, value, err, errsz);
	}
	return fail(err, errsz, "%s: unsupported", key);
}

/* Would libpq read a password from this conninfo or URI?  Its own parser
 * says, percent-encoding and all: "postgresql:///db?pass%77ord=x" holds
 * one (found by tests/fuzz/fuzz_conninfo). */
static bool conninfo_has_password(const char *value)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(value, &why);
	bool found = false;

	PQfreemem(why);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val) {
			str_wipe(o->val);
			found = true;
		}
	PQconninfoFree(opts);
	return found;
}

/* Does this setting put a secret into the file (or argv)? */
static bool conf_is_secret(const struct conf_key *k, const char *value)
{
	if (k->type == CT_SECRET)
		return *value != '\0';
	if (k->type == CT_NOTIFY)          /* a Slack webhook's URL is its credential */
		return strstr(value, "format=slack") != NULL;
	if (k->type != CT_CONNINFO)
		return false;
	if (strcmp(k->name, "redis") == 0)
		return redis_url_has_userinfo(value);
	if (strstr(value, "password") || conninfo_has_password(value))
		return true;
	/* a URI with user:password@ */
	const char *scheme = strstr(value, "://");
	if (!scheme)
		return false;
	const char *at = strchr(scheme + 3, '@');
	const char *colon = strchr(scheme + 3, ':');
	return at && colon && colon < at;
}

bool conf_value_is_secret(const char *key, const char *value)
{
	const struct conf_key *k = conf_find(key);
	return k && value && conf_is_secret(k, value);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One line: blank, comment, or "key = value" (value optionally in quotes). */
static int conf_line(struct config *cfg, char *line, bool *secret, char *err, size_t errsz)
{
	char *s = trim(line);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(err, errsz, "expected 'key = value'");
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	size_t vn = strlen(value);
	if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
		value[vn - 1] = '\0';
		value++;
	}
	const struct conf_key *k = conf_find(key);
	if (k && conf_is_secret(k, value))
		*secret = true;
	return conf_set(cfg, key, value, err, errsz);
}

static int conf_check_mode(const char *path, int fd, bool secret, char *err, size_t errsz)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(err, errsz, "%s: %s", path, strerror(errno));
	/* whoever can write it decides where the audit rows go and what runs */
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(err, errsz, "%s: can be written by %s (mode %04o); run: chmod go-w %s", path,
		            (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return fail(err, errsz, "%s: belongs to another user (uid %u): not read", path, (unsigned)st.st_uid);
	if (secret && (st.st_mode & (S_IRGRP | S_IROTH)))
		return fail(err, errsz, "%s: holds a password but can be read by %s (mode %04o); "
		            "run: chmod 600 %s", path, (st.st_mode & S_IROTH) ? "others" : "its group",
		            (unsigned)(st.st_mode & 07777), path);
	return 0;
}

int conf_load_file(struct config *cfg, const char *path, bool must_exist, char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return fail(err, errsz, "%s: %s", path, strerror(errno));
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return fail(err, errsz, "%s: %s", path, strerror(errno));
	}
	char *line = NULL, msg[512];
	size_t cap = 0;
	unsigned lineno = 0;
	bool secret = false;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (conf_line(cfg, line, &secret, msg, sizeof msg) < 0) {
			rc = fail(err, errsz, "%s:%u: %s", path, lineno, msg);
			break;
		}
	}
	if (line) {
		memset(line, 0, cap);
		free(line);
	}
	if (rc == 0)
		rc = conf_check_mode(path, fileno(f), secret, err, errsz);
	fclose(f);
	if (rc == 0)
		set_str(&cfg->config_file, path);
	return rc;
}

char *conf_user_file(const char *name)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return str_printf("%s/sectop/%s", xdg, name);
	if (home && *home)
		return str_printf("%s/.config/sectop/%s", home, name);
	return NULL;
}

char *conf_user_path(void)
{
	return conf_user_file("sectop.conf");
}

char *conf_system_file(const char *name)
{
	return str_printf("%s/sectop/%s", SYSCONFDIR, name);
}

char *conf_system_path(void)
{
	return conf_system_file("sectop.conf");
}

void conf_apply_env(struct config *cfg)
{
	const char *v;

	if (!cfg->db && (v = getenv("DATABASE_URL")) && *v)
		set_str(&cfg->db, v);
	if (!cfg->redis && (v = getenv("REDIS_URL")) && *v)
		set_str(&cfg->redis, v);
	if (!cfg->redis)
		set_str(&cfg->redis, "redis://127.0.0.1:6379/0");
	if (!cfg->redis_password && (v = getenv("REDISCLI_AUTH")) && *v)
		set_str(&cfg->redis_password, v);
	if (!cfg->redis_sentinel_password && (v = getenv("REDIS_SENTINEL_PASSWORD")) && *v)
		set_str(&cfg->redis_sentinel_password, v);
}

/* revoke-backend and the webhook settings it needs. */
static int conf_validate_revoke(const struct config *cfg, char *err, size_t errsz)
{
	const char *b = cfg->revoke_backend ? cfg->revoke_backend : "db";
	char why[200];

	if (strcmp(b, "db") != 0 && strcmp(b, "db+redis") != 0 && strcmp(b, "db+webhook") != 0)
		return fail(err, errsz, "revoke-backend: '%s' is not db, db+redis or db+webhook", b);
	if (cfg->revoke_webhook && webhook_url_check(cfg->revoke_webhook, why, sizeof why) < 0)
		return fail(err, errsz, "revoke-webhook: %s", why);
	if (cfg->revoke_token_env && !webhook_env_name_ok(cfg->revoke_token_env))
		return fail(err, errsz, "revoke-token-env: '%s' is not a variable name", cfg->revoke_token_env);
	if (strcmp(b, "db+webhook") == 0 && !cfg->revoke_webhook)
		return fail(err, errsz, "revoke-backend = db+webhook needs revoke-webhook = URL");
	return 0;
}

int conf_ttl_steps(const struct config *cfg, long *out, char *err, size_t errsz)
{
	const struct conf_list *l = &cfg->block_ttl_steps;

	if (l->n == 0)
		return fail(err, errsz, "block-ttl-steps: give at least one time to live (1h,6h,24h,7d)");
	for (size_t i = 0; i < l->n; i++) {
		long long ms = conf_parse_duration_ms(l->v[i], 's');
		if (ms < 1000 || ms > 365LL * 86400 * 1000)
			return fail(err, errsz, "block-ttl-steps: '%s' is not a time to live of 1 s to 365 days", l->v[i]);
		out[i] = (long)(ms / 1000);
		if (i && out[i] < out[i - 1])
			return fail(err, errsz, "block-ttl-steps: each step at least as long as the one before");
	}
	return (int)l->n;
}

int conf_validate(const struct config *cfg, char *err, size_t errsz)
{
	if (cfg->failure_actions.n == 0 && cfg->n_failure_statuses == 0)
		return fail(err, errsz, "failure-actions and failure-statuses are both empty: nothing counts as a failure");
	static const char *const formats[] = { "text", "json", "markdown", "csv", "html", NULL };
	size_t f = 0;
	while (formats[f] && strcmp(cfg->format, formats[f]) != 0)
		f++;
	if (!formats[f])
		return fail(err, errsz, "format: '%s' is not text, json, markdown, csv or html", cfg->format);
	if (cfg->tenant && !*cfg->tenant)
		return fail(err, errsz, "tenant: must not be empty");
	long steps[CONF_MAX_LIST];
	if (conf_ttl_steps(cfg, steps, err, errsz) < 0)
		return -1;
	for (size_t i = 0; i < cfg->allow.n; i++) {
		struct allow_entry e;
		char why[256];
		if (allow_entry_parse(cfg->allow.v[i], &e, why, sizeof why) < 0)
			return fail(err, errsz, "%s", why);
	}
	return conf_validate_revoke(cfg, err, errsz);
}
