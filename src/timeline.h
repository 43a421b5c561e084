/* timeline.h: an incident's timeline, from the journal: what was seen,
 * what was done, by whom, when, with what result.  Written as Markdown
 * for the incident ticket by `sectop timeline --incident ID` and by the
 * runbook pane. */
#ifndef SECTOP_TIMELINE_H
#define SECTOP_TIMELINE_H

#include <jansson.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

struct team_op;

struct tl_entry {
	int64_t t;               /* unix seconds */
	const char *who, *what, *target, *tenant, *note, *mode, *incident;
	const char *status;      /* done, already, refused, failed; NULL: no result recorded */
	const char *message;
	int audited;             /* 1 audited, 0 not (yet), -1 not meant to be */
	const char *id;          /* the journal record's id (a remote one's, as audited) */
	bool remote;             /* from the audit log: another operator's, or another machine's */
};

/* What the audit log added to a timeline. */
enum tl_team_state { TL_TEAM_NOT_ASKED, TL_TEAM_READ, TL_TEAM_FAILED };

struct timeline {
	const char *incident;
	struct tl_entry *v;      /* oldest first; strings point into records */
	size_t n;
	json_t *records;         /* held: the entries point into it */
	struct team_op *team;    /* held: the remote entries point into it */
	size_t n_team, n_remote;
	enum tl_team_state team_state;
	char team_error[200];    /* TL_TEAM_FAILED: why */
};

/* The journal's records of one incident (an array as journal_read gives),
 * or of all when incident is NULL: one entry per action, step or look.
 * 0, or -1 out of memory. */
int timeline_build(struct timeline *tl, json_t *records, const char *incident);
void timeline_free(struct timeline *tl);

/* Merge the audit log's operator actions (team.h; of one incident, or all
 * when incident is NULL): a row of a local record (its journal id) marks
 * that record audited and adds nothing; any other is a remote entry.  The
 * entries are kept in time order.  The rows are copied.  0, or -1 out of
 * memory. */
int timeline_add_team(struct timeline *tl, const struct team_op *ops, size_t n, const char *incident);
/* The audit log was asked and did not answer: the timeline says so. */
void timeline_team_failed(struct timeline *tl, const char *why);

/* "2026-11-24T10:02:11Z" -> unix seconds, or -1. */
int64_t timeline_parse_time(const char *iso);

/* Markdown: a summary, then a table of the entries.  Outside strings are
 * sanitised and escaped (no markup, no cell borders).  exported_by: who
 * asks.  Returns 0, or -1 on a write error. */
int timeline_write_md(const struct timeline *tl, FILE *f, const char *exported_by, int64_t now);

/* The whole path: read the journal, build, write.  0, or -1 with err. */
int timeline_export(const char *journal_path, const char *incident, FILE *f, const char *who,
                    char *err, size_t errsz);

/* The audit log's side of an export: its rows, or why it did not answer. */
struct tl_team {
	const struct team_op *v;
	size_t n;
	const char *error;       /* non-NULL: not read, the journal alone */
};
/* timeline_export with the team's rows merged (team NULL: not asked). */
int timeline_export_team(const char *journal_path, const char *incident, const struct tl_team *team,
                         FILE *f, const char *who, char *err, size_t errsz);

/* Where the audit log is read from for an incident's timeline: a day
 * before the incident's first record in the journal (or before now, when
 * it has none), so that a teammate who began first is in it.  Unix us. */
int64_t timeline_team_since(const char *journal_path, const char *incident, int64_t now_us);

/* Where an incident's timeline is written: beside the journal at
 * journal_path, timeline-ID.md (malloc'd). */
char *timeline_default_path(const char *journal_path, const char *incident);

/* Create (or truncate) a timeline file for writing, as private as the
 * journal it is drawn from: mode 0600, a symbolic link in its place
 * refused, only a regular file written.  NULL with errno set. */
FILE *timeline_create(const char *path);

#endif
