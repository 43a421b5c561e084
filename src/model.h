/* model.h: the snapshot every view and every output reads.  Plain data, no
 * I/O.  Strings here are raw, exactly as the servers sent them: whoever shows
 * one passes it through sanitize (screen, text) or a JSON encoder first.
 *
 * Each source publishes its part whole, at the end of a complete refresh, so
 * a reader never sees half of one refresh and half of another.
 */
#ifndef SECTOP_MODEL_H
#define SECTOP_MODEL_H

#include <stdbool.h>

struct allowlist;
struct geoip;
#include <stddef.h>
#include <stdint.h>

#define MODEL_MINUTES 60
#define MODEL_IP_LEN 46          /* INET6_ADDRSTRLEN */

enum source_state {
	SOURCE_CONNECTING,           /* never had data, still trying */
	SOURCE_OK,                   /* last refresh succeeded */
	SOURCE_STALE,                /* has data, but the latest refresh failed or is late */
	SOURCE_DOWN,                 /* no data and failing */
};

struct source_status {
	enum source_state state;
	int64_t last_ok_ms;          /* wall clock of the last complete refresh; 0 never */
	unsigned refreshes;          /* complete refreshes so far */
	unsigned failures;           /* failed attempts so far */
	char error[256];             /* last error, raw; empty when none */
};

/* --- PostgreSQL ---------------------------------------------------------- */

enum pg_role { PG_ROLE_UNKNOWN, PG_ROLE_PRIMARY, PG_ROLE_STANDBY };

/* Which figures of a row are estimates (shown with "~"): see live.h. */
enum {
	APPROX_FAILURES = 1 << 0,    /* address: failures, a lower bound */
	APPROX_REQUESTS = 1 << 1,    /* address: requests; tenant: its four counts */
	APPROX_USERS = 1 << 2,       /* distinct users */
	APPROX_TENANTS = 1 << 3,     /* address: distinct tenants */
	APPROX_IPS = 1 << 4,         /* tenant: distinct addresses */
};

/* Slices of the window in an address's sparkline of its failures. */
#define MODEL_SPARK 12

struct ip_stat {
	char ip[MODEL_IP_LEN];
	long failures, requests, users, tenants;
	unsigned approx;             /* APPROX_* */
	/* the top addresses only (live.h): the unix second of its newest row in
	 * the window (0 unknown), and its failures in each twelfth of the
	 * window, oldest first (a lower bound where a minute dropped it) */
	int64_t last_s;
	long spark[MODEL_SPARK];
};

/* How the ranges are grouped: not at all (nobody looks at them), by
 * network (IPv4 /24, IPv6 /64), or by autonomous system (geoip.h). */
enum range_group { RANGES_OFF, RANGES_PREFIX, RANGES_AS };

/* The failing addresses of one network (IPv4 /24, IPv6 /64), or of one AS. */
struct range_stat {
	char net[MODEL_IP_LEN + 4];  /* "203.0.113.0/24"; by AS "AS64500", "" for no AS known */
	unsigned long asn;           /* by AS: its number; 0 for the addresses of no known AS */
	char as_org[128];            /* by AS: its organisation, raw (untrusted) */
	long failures, requests;     /* of its failing addresses */
	long addresses, tenants;     /* failing addresses; tenants they touched */
	unsigned approx;             /* APPROX_FAILURES, APPROX_REQUESTS, APPROX_TENANTS */
};

struct tenant_stat {
	char *tenant_id;             /* NULL: events with no tenant */
	long requests, failures, unauthorized, cross_tenant, ips, users;
	unsigned approx;             /* APPROX_* */
};

struct event {
	char id[40];
	int64_t ts_us;               /* unix microseconds */
	char *ip;                    /* NULL when the row had none */
	char *tenant_id, *user_id, *action, *method, *path, *user_agent;
	int status_code;             /* 0 when NULL */
};

/* --- Redis --------------------------------------------------------------- */

/* What a key holds, which for a block key says where the block came from:
 * sectop's JSON (an operator), a drill's, another tool's JSON (its "by"),
 * or a plain value (the servers' own, automatic). */
enum redis_value_kind { RV_ABSENT, RV_COUNTER, RV_JSON_BLOCK, RV_PLAIN, RV_WRONG_TYPE,
                        RV_JSON_DRILL, RV_JSON_TOOL };

struct ip_redis {
	char ip[MODEL_IP_LEN];
	bool blocked;
	long block_ttl_s;            /* -1 no expiry, -2 absent */
	char *block_by, *block_reason;
	int64_t block_at;            /* unix seconds, 0 unknown */
	enum redis_value_kind block_kind;
	long failed_auth;            /* -1 absent */
	long ratelimit;              /* -1 absent */
	bool wrong_type;             /* one of its keys held the wrong type */
};

struct block_entry {
	char *key_ip;                /* the part of the key after the prefix: may be anything */
	size_t key_len;              /* its bytes (it may hold NUL); 0: use strlen */
	long ttl_s;
	char *by, *reason;
	int64_t at;
	enum redis_value_kind kind;
};

/* How far the keyspace walk has got.  Redis visits a SCAN cursor's hash
 * buckets in reverse-binary order, so the cursor with its bits reversed,
 * over 2^64, is the fraction of the buckets (of the keyspace) visited: exact
 * for a table that does not resize during the pass, and needing no DBSIZE. */
struct walk_progress {
	bool active;                 /* a pass is under way */
	double fraction;             /* 0..1 of the current pass */
	unsigned long blocked;       /* block keys the current pass found so far */
	unsigned long failed_auth, ratelimit;  /* counters likewise */
	unsigned passes;             /* complete passes */
};

struct redis_counter {
	char *key_ip;
	long value;
	long ttl_s;
};

/* --- Health -------------------------------------------------------------- */

enum health_state { HEALTH_UNKNOWN, HEALTH_HEALTHY, HEALTH_DEGRADED, HEALTH_DOWN };

struct health_component {
	char *name;
	enum health_state state;
	char *detail;                /* error text or raw status, may be NULL */
};

#define HEALTH_MAX_FINDINGS 12

struct health_result {
	char *name, *url;            /* from the configuration */
	enum health_state state;
	char *reason;                /* why it is not healthy; NULL when healthy */
	long http_status;            /* 0 when no response */
	double latency_ms;
	struct health_component *components;
	size_t n_components;
	int64_t cert_expires_at;     /* unix seconds; 0 unknown or not TLS */
	/* the security posture, raw header values or NULL */
	char *hsts, *content_type_options, *frame_options, *csp, *cors;
	char *ratelimit_limit, *ratelimit_remaining;
	char *findings[HEALTH_MAX_FINDINGS];
	size_t n_findings;
	int64_t checked_at_ms;       /* wall clock; 0 never */
	unsigned checks;
};

/* --- drill-down ---------------------------------------------------------- */

enum detail_kind { DETAIL_NONE, DETAIL_IP, DETAIL_TENANT };
enum { DETAIL_TENANTS, DETAIL_USERS, DETAIL_AGENTS, DETAIL_GROUPS };

struct name_count {
	char *name;                  /* NULL: the column was NULL */
	long count, failures;
};

/* One address or tenant looked at closely, fetched while it is on screen. */
struct detail {
	enum detail_kind kind;
	char *key;                   /* the address or tenant asked for */
	unsigned asked;              /* bumped by every new request */
	unsigned answered;           /* the request the data answers; 0: none yet */
	struct event *events;        /* newest first: the address's events, the tenant's failures */
	size_t n_events;
	struct name_count *groups[DETAIL_GROUPS]; /* address: tenants, users, agents; tenant: users */
	size_t n_groups[DETAIL_GROUPS];
	struct ip_stat *ips;         /* tenant: its top addresses */
	size_t n_ips;
	char error[160];             /* why the last reading failed, raw; empty when none */
};

/* --- the snapshot ------------------------------------------------------- */

struct team_op;

struct model {
	/* what the operator chose; the console changes it at run time */
	int window_s;
	char *tenant;                /* scope, NULL for all */
	unsigned scope_gen;          /* bumped when the window, tenant or period changes */
	/* A look back: the window ends here (unix s, on a minute), read once;
	 * 0: live, the window ends now. */
	int64_t at_s;
	int refresh_ms;
	bool paused;                 /* sources start no refresh unless asked */
	char *watch_key;             /* an address off the top list whose Redis state is wanted */
	struct detail detail;

	struct source_status pg, redis;

	/* failures per minute, oldest first; fpm_start is the first minute (unix s) */
	long fpm[MODEL_MINUTES];
	int64_t fpm_start;
	/* the servers' rate-limited events per minute, the same minutes; known
	 * from rlpm_from on (unix s: the window's start), 0 before */
	long rlpm[MODEL_MINUTES];
	int64_t rlpm_from;
	struct ip_stat *top_ips;
	size_t n_top_ips;
	struct tenant_stat *tenants;
	size_t n_tenants;
	struct range_stat *ranges;   /* by failures */
	size_t n_ranges;
	/* Ranges cost a pass over the window: the sources compute them only
	 * while someone wants them (the ranges view, the snapshot), grouped as
	 * asked; ranges_by says how the ranges held are grouped. */
	enum range_group ranges_want, ranges_by;
	int pg_reading_pct;          /* reading the window: how far (by time); -1 done */
	enum pg_role pg_role;        /* what serves the reads */
	double pg_replay_lag_s;      /* a standby's replay lag; -1 unknown */
	struct event *recent;        /* newest first */
	size_t n_recent;
	unsigned top_ips_gen;        /* bumped each time top_ips is replaced */

	struct ip_redis *ip_redis;   /* exact state of the IPs on screen */
	size_t n_ip_redis;
	unsigned ip_redis_gen;       /* the top_ips_gen that ip_redis was fetched for */
	/* The most relevant blocks (blockset.h), at most blocked-max, most
	 * relevant first; until the first pass ends, those found so far. */
	struct block_entry *blocked;
	size_t n_blocked;
	unsigned long blocked_count; /* block keys in all: the last complete pass's
	                              * count, kept current by keyspace events */
	unsigned long failed_auth_count, ratelimit_count; /* counter keys, last pass */
	struct walk_progress walk;
	bool redis_events;           /* following keyspace notifications */
	struct redis_counter *counters; /* failed_auth counters from the walk, largest first */
	size_t n_counters;
	struct redis_counter *ratelimits; /* ratelimit counters from the walk, largest first */
	size_t n_ratelimits;
	bool walk_complete;          /* at least one full walk finished */

	struct health_result *health;
	size_t n_health;

	/* Where an address sits (geoip.h): a lookup table, not a source; NULL
	 * without geoip-db.  Not owned. */
	const struct geoip *geo;
	/* Addresses never to block (allowlist.h), marked in every view; the
	 * console reads its file again when it changes.  Not owned. */
	const struct allowlist *allow;

	/* Operators' actions from the audit log, every operator's (team.h),
	 * oldest first, the newest MODEL_TEAM_MAX; team_gen counts the rows
	 * ever added, so a reader knows which are new. */
	struct team_op *team_ops;
	size_t n_team_ops;
	unsigned long team_gen;
	char team_error[256];        /* why they were last not read; "" none */
};

#define MODEL_TEAM_MAX 500

void model_init(struct model *m, int window_s, const char *tenant, int refresh_ms);
/* Change the window and tenant scope (tenant NULL: all); the sources start over. */
void model_set_scope(struct model *m, int window_s, const char *tenant);
/* Look back: the window ends at_s (0: live again); the sources start over. */
void model_set_at(struct model *m, int64_t at_s);
/* Ask for the drill-down of an address or tenant (kind NONE: stop). */
void model_ask_detail(struct model *m, enum detail_kind kind, const char *key);
/* Publish the drill-down data for request `asked`; takes ownership. */
void model_set_detail(struct model *m, unsigned asked, struct event *events, size_t n_events,
                      struct name_count *groups[DETAIL_GROUPS], size_t n_groups[DETAIL_GROUPS],
                      struct ip_stat *ips, size_t n_ips);
void name_counts_free(struct name_count *v, size_t n);
void model_free(struct model *m);

/* Replace parts whole; the model takes ownership of the arrays. */
void model_set_top_ips(struct model *m, struct ip_stat *v, size_t n);
void model_set_tenants(struct model *m, struct tenant_stat *v, size_t n);
void model_set_recent(struct model *m, struct event *v, size_t n);
void model_set_ip_redis(struct model *m, struct ip_redis *v, size_t n);
void model_set_blocked(struct model *m, struct block_entry *v, size_t n);
void model_set_counters(struct model *m, struct redis_counter *v, size_t n);
void model_set_ratelimits(struct model *m, struct redis_counter *v, size_t n);
void model_set_ranges(struct model *m, struct range_stat *v, size_t n);
/* Add operators' actions (oldest first); takes the rows, frees v. */
void model_add_team_ops(struct model *m, struct team_op *v, size_t n);

void event_free(struct event *e);
void ip_redis_free(struct ip_redis *r);
void block_entry_free(struct block_entry *b);
/* The key's bytes after the prefix, all of them (a NUL is no end), as one
 * printable string: what is shown, and what a row is known by, so that
 * "blocked:203.0.113.45\0x" is never taken for 203.0.113.45.  Malloc'd. */
char *block_entry_name(const struct block_entry *b);
/* Its length in bytes (key_len, or strlen when 0). */
size_t block_entry_len(const struct block_entry *b);
void health_result_free(struct health_result *h);

/* A figure as shown: "~1234" when it is an estimate (approx & flag). */
void format_figure(char *buf, size_t n, long v, unsigned approx, unsigned flag);

/* Is the address among the top addresses (whose Redis state is fetched)? */
bool model_ip_redis_wanted(const struct model *m, const char *ip);
/* Want the Redis state of ip read too, off the top list (an address an
 * action dialog is about). */
void model_watch(struct model *m, const char *ip);
/* The Redis state of an address, or NULL if none was fetched. */
const struct ip_redis *model_ip_redis(const struct model *m, const char *ip);

/* Status of a source as shown: stale when it failed after having data, or
 * when its data is older than stale_after_ms. */
enum source_state model_source_state(const struct source_status *s, int64_t now_wall_ms,
                                     int64_t stale_after_ms);
const char *source_state_name(enum source_state s);
const char *health_state_name(enum health_state s);
/* "absent", "counter", "sectop", "plain", "wrong_type" */
const char *redis_value_kind_name(enum redis_value_kind k);
/* Where a block came from: "operator", "servers", "drill", "tool",
 * "unknown" (a key of the wrong type). */
const char *block_origin_name(enum redis_value_kind k);
/* Does the value name who set it (its "by")? */
bool block_has_by(enum redis_value_kind k);

/* The block count in a few words, for titles: "200,000" once a pass of the
 * walk is complete, "12,345 so far, walk 40%" during the first one (brief,
 * for a narrow panel: "12,345+ 40%"). */
void model_blocked_text(const struct model *m, char *buf, size_t n, bool brief);

/* "standby, replay lag 1.2 s" (brief: "standby lag 1.2s"), "" for a
 * primary or before the server said. */
void model_pg_role_text(const struct model *m, char *buf, size_t n, bool brief);
const char *pg_role_name(enum pg_role r);   /* NULL when unknown */

/* Rate-limit pressure: an address's ratelimit:<ip> counter against the
 * limit.  Exact for the addresses on screen, else as the last walk of the
 * keyspace found it. */
struct rate_entry {
	const char *ip;              /* the model's string */
	long count;
	long ttl_s;                  /* -2 unknown (read exactly, without its TTL) */
	bool exact;
};
/* The counters nearest their limit first: a malloc'd array (NULL when
 * none) of *n. */
struct rate_entry *model_rate_limited(const struct model *m, size_t *n);

/* The allow-list entry that holds ip now, or NULL (none, or no allow-list). */
const struct allow_entry *model_allowed(const struct model *m, const char *ip);
/* A block the servers set (not an operator, not a drill) on an allow-listed
 * address: an alert. */
bool model_block_alert(const struct model *m, const struct block_entry *b);
/* The same for an address on screen, from its own keys. */
bool model_ip_block_alert(const struct model *m, const char *ip);

/* Mark a source's refresh as succeeded or failed (error is copied). */
void source_status_ok(struct source_status *s, int64_t now_wall_ms);
void source_status_fail(struct source_status *s, const char *error);

#endif
