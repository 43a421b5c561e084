/* report_table.h: the report as a list of tables, one per section, so that
 * every format renders the same rows and columns and none of them walks the
 * report on its own.  Cells borrow the report's strings: a table lives no
 * longer than its report.
 *
 * Also the escapes the formats share: every outside string goes through
 * sanitize first (as on screen), then through the format's own escape. */
#ifndef SECTOP_REPORT_TABLE_H
#define SECTOP_REPORT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct report;

enum rcell_kind {
	RC_NULL,
	RC_INT,        /* i */
	RC_PCT,        /* d: a change in percent, signed */
	RC_WORD,       /* s: our own word (a metric, a state): never escaped away */
	RC_UNTRUSTED,  /* s: from outside (rows, keys, headers): sanitised, escaped */
	RC_TIME,       /* t: unix seconds, "2026-11-16T22:00:00Z" */
	RC_DAY,        /* t: unix seconds at midnight, "2026-11-16" */
	RC_BOOL,       /* b */
	RC_LIST,       /* list of outside strings, "a, b" in text, an array in JSON */
};

struct rcell {
	enum rcell_kind kind;
	long long i;
	double d;
	const char *s;
	int64_t t;
	bool b;
	char *const *list;
	size_t n_list;
};

struct rcol {
	const char *name;            /* JSON key, CSV header */
	const char *title;           /* text, markdown and HTML header */
	int width;                   /* columns in the text format */
};

struct rtable {
	const char *id;              /* --section name, JSON key */
	const char *title;
	const struct rcol *cols;
	size_t ncols;
	struct rcell *cells;         /* nrows * ncols, row after row */
	size_t nrows;
	long long total;             /* rows in all, when more than shown; -1 unknown */
	char note[160];              /* our own words about the table, or "" */
};

/* Every section in order.  0, or -1 when out of memory. */
int report_tables(const struct report *r, struct rtable **out, size_t *n);
void report_tables_free(struct rtable *t, size_t n);
/* The ids of the sections, NULL-terminated (for --section and --help). */
const char *const *report_section_ids(void);

static inline const struct rcell *rtable_cell(const struct rtable *t, size_t row, size_t col)
{
	return &t->cells[row * t->ncols + col];
}

/* A cell as safe text: outside strings sanitised (flags: SAN_ASCII),
 * numbers and times formatted; `null` for a NULL cell.  malloc'd. */
char *report_cell_text(const struct rcell *c, int flags, const char *null);
/* Is the cell a number (right-aligned in tables)? */
bool report_cell_numeric(const struct rcell *c);

/* The escapes, on already sanitised text.  Each returns a malloc'd string. */
char *report_escape_csv(const char *s, bool untrusted);   /* quoted when needed; a formula is defused */
char *report_escape_html(const char *s);                  /* & < > " ' */
char *report_escape_md(const char *s);                    /* table-safe, inline-safe */

/* "2026-11-16T22:00:00.123456Z" (snapshot_iso_time's, with the
 * microseconds when there are any) */
void report_iso_us(char *buf, size_t n, int64_t unix_us);

/* What every format says before the tables, as text of our own (the
 * tenant and the notes are outside strings: sanitise them). */
struct report_meta {
	char since[32], until[32], prev_since[32], generated[32];
	char how[160];               /* where the figures come from */
};
void report_meta(const struct report *r, struct report_meta *m);

/* The renderers.  0, or -1 on a write error. */
int report_write_text(const struct report *r, FILE *f, bool ascii);
int report_write_md(const struct report *r, FILE *f);
int report_write_json(const struct report *r, FILE *f);
/* section NULL: every table, each preceded by its name and followed by an
 * empty line. */
int report_write_csv(const struct report *r, FILE *f, const char *section);
int report_write_html(const struct report *r, FILE *f);

#endif
