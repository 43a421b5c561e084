/* conf.h: configuration file + environment + flags -> one validated struct.
 *
 * Precedence: command line > user file > system file > built-in defaults (the
 * contract's names).  One parser serves the files and the command line: every
 * file line "key = value" is the long option "--key value".
 */
#ifndef SECTOP_CONF_H
#define SECTOP_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_MAX_LIST 32

/* A list of strings, e.g. the actions that count as an auth failure. */
struct conf_list {
	char *v[CONF_MAX_LIST];
	size_t n;
};

/* A secret whose rotation the report watches: its last rotation is the
 * newest "secret_rotated" audit row naming it (resource_id or
 * details->>'secret'). */
struct conf_secret {
	char *name;
	char *kind;            /* api_key, db_password, tls_cert or ssh_key */
	int max_age_s;         /* rotate at least this often */
	/* sectop rotate: where a rotation is asked for (all optional) */
	char *webhook;         /* http(s) URL; plain http only to a loopback host */
	char *token_env;       /* name of the variable holding the bearer token */
	char *ca_file;         /* extra CA bundle for the webhook's certificate */
	int timeout_ms;        /* the whole request; 0: server-timeout */
};

/* Where alerts are sent (notify.h): one JSON POST per alert. */
struct conf_notify {
	char *url;             /* http(s) URL; plain http only to a loopback host */
	char *token_env;       /* name of the variable holding the bearer token */
	char *ca_file;         /* extra CA bundle for the receiver's certificate */
	int timeout_ms;        /* each request; 0: server-timeout */
	bool slack;            /* format=slack: {"text": ...} */
	int rate;              /* notifications a minute, at most; the rest summed up */
	bool resolved;         /* also say when an alert clears */
};

struct conf_health {
	char *name;
	char *url;
	char *api_key_env;     /* name of an environment variable, never the key */
	char *bearer_env;      /* likewise for an Authorization: Bearer token */
	char *ca_file;         /* extra CA bundle, for private PKIs */
	int timeout_ms;        /* total request time */
};

/* Column names of the audit log; quoted with PQescapeIdentifier when used. */
struct conf_schema {
	char *table;
	char *id, *timestamp, *tenant_id, *user_id, *action, *resource_type,
	     *resource_id, *ip_address, *method, *path, *status_code,
	     *user_agent, *details;
	char *keys_table;
};

struct conf_keys {
	char *blocked, *failed_auth, *ratelimit, *revoked_key;
};

struct config {
	char *config_file;      /* the file that was read last, for messages */

	char *db;               /* libpq conninfo or URI; may hold a password */
	char *db_write;         /* where writes go; NULL: db, at its read-write host */
	char *redis;            /* redis://[:password@]host:port/db or unix:/path */
	char *redis_password;   /* from the URL, the file or REDISCLI_AUTH */
	char *redis_sentinel_password; /* the sentinels' own: the file or REDIS_SENTINEL_PASSWORD */
	char *redis_ca_file;    /* rediss://: the CA to trust (else the system's) */
	char *redis_cert_file, *redis_key_file; /* rediss://: a client certificate */

	struct conf_health health[CONF_MAX_LIST];
	size_t n_health;
	struct conf_list geoip_db;  /* MaxMind DB files: country and AS of addresses */
	struct conf_list allow;     /* allow-list entries (allowlist.h), as written */
	char *allow_file;           /* more of them, one a line, read again when it changes */
	bool bypass_allow;          /* an allow-listed address may be blocked, "bypass ADDRESS" typed */

	struct conf_secret secrets[CONF_MAX_LIST];
	size_t n_secrets;
	struct conf_notify notify[CONF_MAX_LIST];
	size_t n_notify;

	struct conf_schema schema;
	struct conf_keys keys;

	struct conf_list failure_actions;
	int failure_statuses[CONF_MAX_LIST];
	size_t n_failure_statuses;
	struct conf_list unauthorized_actions;
	struct conf_list cross_tenant_actions;
	struct conf_list ratelimit_actions;  /* the servers' "rate limited" events */
	int ratelimit_limit;     /* what a ratelimit:<ip> counter may reach ... */
	int ratelimit_window_s;  /* ... in this long, as the API servers count */

	char *tenant;            /* NULL: every tenant */
	int window_s;            /* the aggregation window */
	char *at;                /* --at: a look back, the window ending then (when.h) */
	int refresh_ms;          /* how often sources refresh */
	int timeout_ms;          /* bound on any one query, command or connect */
	int top_n;               /* rows of top IPs and tenants */
	int tail_n;              /* recent failures kept */
	int tail_overlap_s;      /* re-read span that catches late-committed rows */
	int text_max;            /* cut long strings on the server to this many chars */
	int scan_count;          /* COUNT hint of each SCAN step */
	int scan_budget_ms;      /* Redis key discovery per refresh, at most */
	int walk_interval_s;     /* a full pass of the key walk at most this often */
	int scan_rate;           /* keys a second the walk may visit; 0: no limit */
	int blocked_max;         /* blocks listed (the most relevant), at most */
	int health_body_max;     /* bytes of a health body kept, at most */

	int alert_failures;      /* more than this many failures ... */
	int alert_window_s;      /* ... in this many seconds is a brute force */
	int cert_warn_days;
	int stale_alert_s;

	char *theme;
	bool no_color, ascii, bell;
	bool read_only, dry_run;

	/* actions */
	char *journal;           /* NULL: $XDG_STATE_HOME/sectop/journal.jsonl */
	int block_ttl_s;         /* --ttl: how long a block lasts; 0 (not set): block-ttl-steps */
	struct conf_list block_ttl_steps; /* a block's TTL by the earlier blocks of the address */
	int block_memory_s;      /* ... found in the audit log within this long */
	int range_max;           /* a range block sets at most this many keys */
	char *reason, *incident; /* --reason, --incident of one action */
	bool yes;                /* --yes: no question asked (scripts) */

	/* runbooks and drills */
	char *runbook_dir;       /* looked in first (runbook(5)) */
	char *runbook;           /* the console opens this runbook at start */
	char *drill_prefix;      /* in front of every Redis key during a drill */
	int drill_duration_s;    /* how long a drill injects events */
	bool drill;              /* a drill is running: not a key, set by `sectop drill` */
	/* revoking an API key: the database, then optionally one more back end */
	char *revoke_backend;    /* db | db+redis | db+webhook */
	char *revoke_webhook;    /* db+webhook: POSTed to after the database */
	char *revoke_token_env;  /* its bearer token's variable */
	char *revoke_ca_file;
	bool rotation_status;    /* sectop rotate --status */

	/* non-interactive */
	char *format;            /* text | json; the report also markdown | csv | html */
	int snapshot_timeout_s;
	char *log_file;
	int verbose;

	/* sectop report, sectop setup */
	char *since, *until;     /* a duration back from now (7d, 36h) or an ISO 8601 time */
	char *section;           /* csv: the one table to write */
	char *output;            /* write the report here instead of stdout */
	struct conf_list fail_on; /* thresholds: "failures>1000", "overdue-rotations>0" */
	int hot_threshold;       /* requests from one address within one hour */
	int key_unused_days;     /* an API key unused this long is reported */
	int rotation_warn_days;  /* a secret this close to its maximum age is due */
	int report_timeout_s;    /* bound on each report query */
	int report_sessions;     /* 1, or 2: half the report's queries in a second session */
	int rollup_recheck_s;    /* rolled-up hours re-checked for late rows */
	int blocks_lookback_s;   /* addresses failing this recently are looked up in Redis */
	bool all_blocks;         /* walk the whole keyspace for the current blocks instead */
	bool rollup, drop_rollup;
};

enum conf_status { CONF_OK = 0, CONF_ERROR = 2 };

void conf_defaults(struct config *cfg);
void conf_free(struct config *cfg);

/* Apply one "key = value" setting.  Returns 0, or -1 with a reason in err. */
int conf_set(struct config *cfg, const char *key, const char *value, char *err, size_t errsz);

/* Read a configuration file.  Missing file: 0 if !must_exist.  Errors are
 * written as "file:line: what is wrong" into err. */
int conf_load_file(struct config *cfg, const char *path, bool must_exist, char *err, size_t errsz);

/* The default user and system file paths (malloc'd; NULL if not applicable). */
char *conf_user_path(void);
char *conf_system_path(void);
/* A file in the user's / the system's sectop directory (malloc'd; the
 * user's is NULL without HOME and XDG_CONFIG_HOME). */
char *conf_user_file(const char *name);
char *conf_system_file(const char *name);

/* Environment fallbacks: DATABASE_URL, REDIS_URL, REDISCLI_AUTH. */
void conf_apply_env(struct config *cfg);

/* Final checks across settings (e.g. window >= refresh).  0 or -1 + err. */
/* block-ttl-steps in seconds into out (CONF_MAX_LIST of them): how many,
 * or -1 with err. */
int conf_ttl_steps(const struct config *cfg, long *out, char *err, size_t errsz);
int conf_validate(const struct config *cfg, char *err, size_t errsz);

/* The default maximum age of a secret of this kind in seconds; -1 when the
 * kind is not one of api_key, db_password, tls_cert, ssh_key. */
int conf_secret_default_age_s(const char *kind);

/* A secret by its name, or NULL. */
const struct conf_secret *conf_secret_find(const struct config *cfg, const char *name);

/* Parse "15m", "1h", "90s", "7d", "250ms" (unit default given). -1 on error. */
long long conf_parse_duration_ms(const char *s, char default_unit);

/* The i-th key conf_set accepts, NULL past the last: --help and the man page. */
const char *conf_key_at(size_t i);
/* Would this value put a password where others can read it (a file, argv)? */
bool conf_value_is_secret(const char *key, const char *value);
/* Is this a yes/no setting (a command-line flag without an argument)? */
bool conf_key_is_flag(const char *key);

#endif
