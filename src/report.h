/* report.h: `sectop report`: the review of a period, as plain data.
 *
 * report_pg.c fills it from PostgreSQL (with the rollup when there is one),
 * cmd_report.c adds what Redis and the health endpoints say now, and one
 * renderer per format writes it (report_text.c, report_md.c, report_json.c,
 * report_csv.c, report_html.c), all through the tables of report_table.h.
 * Strings are raw, exactly as the servers sent them: renderers sanitise.
 *
 * Times are unix microseconds (_us) or seconds (_s), always UTC.
 */
#ifndef SECTOP_REPORT_H
#define SECTOP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct config;

/* The summary figures of one period. */
enum report_metric {
	RM_EVENTS, RM_FAILURES, RM_UNAUTHORIZED, RM_CROSS_TENANT, RM_DISTINCT_IPS,
	RM_BLOCKS, RM_ACTIONS, RM_N
};

struct report_period {
	int64_t since_us, until_us;
	long long v[RM_N];
	bool known;                  /* the figures were read */
};

/* One hour of the period (or of the previous one), as read. */
struct report_hour {
	int64_t hour_s;
	long long events, failures, unauthorized, cross_tenant, blocks, actions;
};

struct report_day {
	int64_t day_s;               /* midnight UTC */
	long long events, failures;
};

struct report_ip {
	char ip[MODEL_IP_LEN];
	long long failures;
	int64_t peak_hour_s;         /* the hour with the most failures */
	long long peak_failures;
	long tenants;                /* distinct tenants in all its events */
	char **tenant_names;         /* the first few, by name */
	size_t n_tenant_names;
	int blocked_now;             /* 1 yes, 0 no, -1 unknown (Redis did not answer) */
	long blocks_in_period;       /* ip_blocked rows naming it */
};

/* An address's failures in one of the two periods. */
struct report_fail_ip {
	char ip[MODEL_IP_LEN];
	long long failures;
	bool prev;
};

/* A country ("NL", "unknown") or an AS ("AS64500 Example Hosting", raw). */
struct report_origin {
	char name[160];
	long long cur, prev;         /* failures in the period and the one before */
	long addresses;              /* failing addresses in the period */
};

/* The failing addresses read per period, at most; the countries and
 * networks listed. */
#define REPORT_ORIGIN_IPS 100000
#define REPORT_ORIGIN_ROWS 20

struct report_hot {
	char ip[MODEL_IP_LEN];
	long hours;                  /* clock hours above the threshold */
	int64_t peak_hour_s;
	long long peak_events, events;
	int blocked_now;
};

struct report_access {
	char *tenant, *user;         /* NULL: the column was NULL */
	long long unauthorized, cross_tenant;
};

struct report_action {
	int64_t ts_us;
	char *who, *action, *resource_type, *resource_id, *tenant, *ip, *reason;
};

enum report_key_issue { RK_EXPIRED, RK_NEVER_USED, RK_UNUSED };

struct report_key {
	char *tenant, *name, *prefix;
	int64_t created_s, last_used_s, expires_s;   /* 0: NULL */
	enum report_key_issue issue;
};

enum report_rotation { RR_OK, RR_DUE, RR_OVERDUE, RR_NEVER };

struct report_secret {
	const char *name, *kind;     /* the configuration's */
	int max_age_s;
	int64_t last_rotated_s;      /* 0: no rotation on record */
	enum report_rotation state;
};

#define REPORT_MAX_NOTES 16

struct report {
	int64_t generated_s;
	char *tenant;                /* scope, NULL for all */
	long long hot_threshold;
	int key_unused_days;
	struct report_period cur, prev;

	struct report_day *days;     /* the period's UTC days, oldest first */
	size_t n_days;
	long long hour_of_week[7][24]; /* failures by weekday (Monday first) and hour, UTC */

	struct report_ip *top;       /* by failures */
	size_t n_top;
	/* where the failing addresses sit (geoip-db), both periods: built by
	 * report_origins from the addresses' failures as read */
	struct report_fail_ip *fail_ips;
	size_t n_fail_ips;
	bool fail_ips_cut;           /* more failing addresses than REPORT_ORIGIN_IPS */
	bool geo_db;                 /* a GeoIP database was configured */
	struct report_origin *countries, *networks;   /* by failures now */
	size_t n_countries, n_networks;
	struct report_hot *hot;      /* busiest hour first */
	size_t n_hot, hot_total;
	struct report_access *access;
	size_t n_access, access_total;
	struct report_action *actions;
	size_t n_actions;
	bool actions_cut;            /* more rows than were kept */
	struct report_key *keys;
	size_t n_keys, keys_total;
	struct report_secret *secrets;
	size_t n_secrets;

	/* The addresses that failed within the blocks lookback, most failures
	 * first: with the top, busy and acted-on addresses, those whose block
	 * keys are read (unless all_blocks walks every key). */
	char **recent_ips;
	size_t n_recent_ips;
	bool recent_cut;             /* more than REPORT_LOOKUP_MAX */
	char **blocked_ips;          /* every address an operator ever blocked */
	size_t n_blocked_ips;
	int blocks_lookback_s;

	/* Now, from the other sources; the model owns them. */
	const struct block_entry *blocks;
	size_t n_blocks;
	bool blocks_known;           /* every block key looked up (or walked) was read */
	bool blocks_walked;          /* the whole keyspace, not the addresses looked up */
	size_t n_looked_up;          /* addresses whose block keys were read */
	const struct health_result *health;
	size_t n_health;

	/* How the figures were obtained, and what went wrong: shown with them. */
	bool pg_ok;
	char pg_error[256];
	bool redis_ok;
	char redis_error[256];
	bool rollup_used;
	int64_t rolled_until_s;      /* the rollup's end (0 none) */
	char *notes[REPORT_MAX_NOTES];
	size_t n_notes;
};

/* Most addresses whose block keys one report reads. */
#define REPORT_LOOKUP_MAX 50000

void report_init(struct report *r, const struct config *cfg, int64_t now_s);
void report_free(struct report *r);
/* Add a note (printf-style; our own words, never outside strings raw). */
void report_note(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add up the hours read for a period into its figures; for the current
 * period also into the days and the hours of the week.  0, or -1 when out
 * of memory. */
int report_take_hours(struct report *r, struct report_period *p, const struct report_hour *h,
                      size_t n, bool current);

/* The addresses whose block keys to read: the top, busy and acted-on
 * addresses and those failing lately, each once, in the servers' key form,
 * sorted.  *out is malloc'd.  0, or -1 out of memory. */
int report_lookup_list(const struct report *r, struct ip_stat **out, size_t *n_out);

/* Derived figures, once the hours and the other sources are in. */
void report_finish(struct report *r, int64_t now_s, int rotation_warn_days);

#define REPORT_HOUR_US (3600LL * 1000000)

/* The hour that holds t (unix microseconds), as unix microseconds. */
int64_t report_floor_hour(int64_t us);

struct geoip;
/* Countries and networks from r->fail_ips (geo NULL: none, the sections say
 * so).  -1 when out of memory. */
int report_origins(struct report *r, const struct geoip *geo);

/* --since/--until: a duration back from now ("7d", "36h", "90m") or an ISO
 * 8601 date or time ("2026-11-16", "2026-11-16T08:00", "...:00Z",
 * "...+02:00"; no zone is UTC).  Unix microseconds, or -1. */
int64_t report_parse_time(const char *s, int64_t now_us);

/* --fail-on: "METRIC OP NUMBER", OP one of > >= < <= = != */
enum report_cmp { RC_GT, RC_GE, RC_LT, RC_LE, RC_EQ, RC_NE };
struct report_threshold {
	int metric;                  /* index into report_threshold_names() */
	enum report_cmp cmp;
	long long value;
};
int report_threshold_parse(const char *s, struct report_threshold *t, char *err, size_t errsz);
/* The metric names --fail-on knows, NULL-terminated. */
const char *const *report_threshold_names(void);
/* The value of a metric in this report, or -1 when it could not be read. */
long long report_metric_value(const struct report *r, int metric);
bool report_threshold_crossed(const struct report *r, const struct report_threshold *t,
                              long long *value);

/* The change from prev to cur in percent; false when there is none to
 * give (no previous figure, or it was 0). */
bool report_change_pct(long long cur, long long prev, double *pct);

const char *report_metric_name(enum report_metric m);   /* "events", "cross_tenant", ... */
const char *report_metric_title(enum report_metric m);  /* "Events", "Cross-tenant", ... */
const char *report_key_issue_name(enum report_key_issue k);
const char *report_rotation_name(enum report_rotation s);

/* sectop's own operator actions (the contract's list), NULL-terminated. */
extern const char *const report_operator_actions[];

#endif
