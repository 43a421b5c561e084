/* report_csv.c: the report's tables as CSV (RFC 4180, CRLF-free: a record
 * ends in \n).  Outside strings are sanitised first, so no cell holds a
 * line break, and one that would start a spreadsheet formula is defused. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_table.h"

static void put_field(FILE *f, const char *text, bool untrusted, bool first)
{
	char *esc = report_escape_csv(text ? text : "", untrusted);

	if (!first)
		fputc(',', f);
	fputs(esc ? esc : "", f);
	free(esc);
}

static void put_table(FILE *f, const struct rtable *t)
{
	for (size_t c = 0; c < t->ncols; c++)
		put_field(f, t->cols[c].name, false, c == 0);
	fputc('\n', f);
	for (size_t row = 0; row < t->nrows; row++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const struct rcell *cell = rtable_cell(t, row, c);
			char *text = report_cell_text(cell, 0, "");
			put_field(f, text, cell->kind == RC_UNTRUSTED || cell->kind == RC_LIST, c == 0);
			free(text);
		}
		fputc('\n', f);
	}
}

int report_write_csv(const struct report *r, FILE *f, const char *section)
{
	struct rtable *t;
	size_t n;
	bool found = false;

	if (report_tables(r, &t, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (section && strcmp(section, t[i].id) != 0)
			continue;
		if (!section)
			fprintf(f, "%s%s\n", found ? "\n" : "", t[i].id);
		put_table(f, &t[i]);
		found = true;
	}
	report_tables_free(t, n);
	fflush(f);
	return ferror(f) || !found ? -1 : 0;
}
