/* timeline.h: an incident's timeline, from the journal: what was seen,
 * what was done, by whom, when, with what result.  Written as Markdown
 * for the incident ticket by `sectop timeline --incident ID` and by the
 * runbook pane. */
#ifndef SECTOP_TIMELINE_H
#define SECTOP_TIMELINE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct tl_entry {
	int64_t t;               /* unix seconds */
	const char *who, *what, *target, *tenant, *note, *mode, *incident;
	const char *status;      /* done, already, refused, failed; NULL: no result recorded */
	const char *message;
	int audited;             /* 1 audited, 0 not (yet), -1 not meant to be */
};

struct timeline {
	const char *incident;
	struct tl_entry *v;      /* oldest first; strings point into records */
	size_t n;
	json_t *records;         /* held: the entries point into it */
};

/* The journal's records of one incident (an array as journal_read gives),
 * or of all when incident is NULL: one entry per action, step or look.
 * 0, or -1 out of memory. */
int timeline_build(struct timeline *tl, json_t *records, const char *incident);
void timeline_free(struct timeline *tl);

/* "2026-11-24T10:02:11Z" -> unix seconds, or -1. */
int64_t timeline_parse_time(const char *iso);

/* Markdown: a summary, then a table of the entries.  Outside strings are
 * sanitised and escaped (no markup, no cell borders).  exported_by: who
 * asks.  Returns 0, or -1 on a write error. */
int timeline_write_md(const struct timeline *tl, FILE *f, const char *exported_by, int64_t now);

/* The whole path: read the journal, build, write.  0, or -1 with err. */
int timeline_export(const char *journal_path, const char *incident, FILE *f, const char *who,
                    char *err, size_t errsz);

/* Where an incident's timeline is written: beside the journal at
 * journal_path, timeline-ID.md (malloc'd). */
char *timeline_default_path(const char *journal_path, const char *incident);

/* Create (or truncate) a timeline file for writing, as private as the
 * journal it is drawn from: mode 0600, a symbolic link in its place
 * refused, only a regular file written.  NULL with errno set. */
FILE *timeline_create(const char *path);

#endif
