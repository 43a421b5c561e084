/* drill.h: incident-response drills.  A scenario injects synthetic events
 * (details.drill = true) into the configured audit log while the console
 * runs; every Redis key the drill reads or writes carries the drill prefix
 * ("drill:" by default), so actions taken during it never touch the real
 * block keys, and what has no prefix (a key revocation) is rehearsed.
 * At the end a scorecard: time to detect (the first look at an attacker's
 * row), time to contain (the first block of one), runbook steps done. */
#ifndef SECTOP_DRILL_H
#define SECTOP_DRILL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct config;

#define DRILL_MAX_ATTACKERS 48

struct drill_scenario {
	const char *name;        /* brute-force, ... */
	const char *title;
	const char *runbook;     /* the runbook it exercises */
};

struct drill {
	const struct drill_scenario *sc;
	char incident[96];
	int64_t started;         /* unix seconds */
	char attackers[DRILL_MAX_ATTACKERS][46];
	size_t n_attackers;
	pid_t injector;          /* the child writing events, or 0 */
};

struct drill_score {
	int64_t detect_s;        /* first look at an attacker after the start; -1 never */
	int64_t contain_s;       /* first block of an attacker done; -1 never */
	size_t contained;        /* attackers blocked */
	size_t steps_done;       /* distinct runbook steps ticked */
	size_t actions;          /* actions done during the drill */
};

extern const struct drill_scenario drill_scenarios[];
extern const size_t n_drill_scenarios;
const struct drill_scenario *drill_find(const char *name);

/* Set the drill up: its incident id, its attackers, and the configuration
 * switched to drill mode (prefixes, the runbook, the incident). */
void drill_prepare(struct drill *d, struct config *cfg, const struct drill_scenario *sc, int64_t now);

/* Fork the injector: it writes the scenario's events every second until
 * duration_s passes, the parent dies, or drill_stop.  0, or -1 with err. */
int drill_start_injector(struct drill *d, const struct config *cfg, char *err, size_t errsz);
void drill_stop_injector(struct drill *d);

/* The scorecard from the journal's records of the drill's incident. */
void drill_score(const struct drill *d, json_t *records, struct drill_score *s);
/* ... from a timeline of it, which may hold every operator's records
 * (timeline_add_team): a teammate's block contains an attacker too. */
struct timeline;
void drill_score_timeline(const struct drill *d, const struct timeline *tl, struct drill_score *s);
/* The scorecard as Markdown (before the timeline). */
void drill_write_score(const struct drill *d, const struct drill_score *s, size_t steps_total, FILE *f);

#endif
