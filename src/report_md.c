/* report_md.c: the report as Markdown, to paste into a ticket.  Outside
 * strings are sanitised, then every ASCII punctuation character in them is
 * backslash-escaped: none becomes markup, a link, HTML or a cell border. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_table.h"
#include "sanitize.h"

static void put_escaped(FILE *f, const char *safe)
{
	char *esc = report_escape_md(safe ? safe : "");

	fputs(esc ? esc : "", f);
	free(esc);
}

/* An outside string (or our own text that may quote one). */
static void put_outside(FILE *f, const char *s)
{
	char *safe = sanitize_str(s, 0);

	put_escaped(f, safe);
	free(safe);
}

static void put_table(FILE *f, const struct rtable *t)
{
	fprintf(f, "\n## %s\n\n", t->title);
	if (t->note[0]) {
		fputc('_', f);
		put_escaped(f, t->note);
		fputs("_\n\n", f);
	}
	if (t->total > (long long)t->nrows)
		fprintf(f, "%lld in all, the first %zu shown.\n\n", t->total, t->nrows);
	if (!t->nrows) {
		fputs("None.\n", f);
		return;
	}
	fputc('|', f);
	for (size_t c = 0; c < t->ncols; c++)
		fprintf(f, " %s |", t->cols[c].title);
	fputs("\n|", f);
	for (size_t c = 0; c < t->ncols; c++)
		fputs(report_cell_numeric(rtable_cell(t, 0, c)) ? " ---: |" : " --- |", f);
	fputc('\n', f);
	for (size_t row = 0; row < t->nrows; row++) {
		fputc('|', f);
		for (size_t c = 0; c < t->ncols; c++) {
			const struct rcell *cell = rtable_cell(t, row, c);
			char *text = report_cell_text(cell, 0, "");
			bool outside = cell->kind == RC_UNTRUSTED || cell->kind == RC_LIST;
			fputc(' ', f);
			if (outside)
				put_escaped(f, text);
			else
				fputs(text ? text : "", f);
			fputs(" |", f);
			free(text);
		}
		fputc('\n', f);
	}
}

int report_write_md(const struct report *r, FILE *f)
{
	struct report_meta m;
	struct rtable *t;
	size_t n;

	if (report_tables(r, &t, &n) < 0)
		return -1;
	report_meta(r, &m);
	fputs("# sectop report\n\n", f);
	fprintf(f, "- **Period:** %s to %s\n- **Previous period:** %s to %s\n- **Tenant:** ",
	        m.since, m.until, m.prev_since, m.since);
	if (r->tenant)
		put_outside(f, r->tenant);
	else
		fputs("all", f);
	fprintf(f, "\n- **Generated:** %s\n- **Figures:** %s\n", m.generated, m.how);
	fprintf(f, "- **Sources:** postgres %s, redis %s\n", r->pg_ok ? "ok" : "incomplete",
	        r->redis_ok ? "ok" : "did not answer");
	for (size_t i = 0; i < r->n_notes; i++) {
		fputs(i ? "\n> " : "\n> **Note:** ", f);
		put_outside(f, r->notes[i]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < n; i++)
		put_table(f, &t[i]);
	report_tables_free(t, n);
	fflush(f);
	return ferror(f) ? -1 : 0;
}
