/* report_text.c: the report as plain text, columns padded, for a terminal
 * or a mail.  Outside strings are sanitised and cut to their column. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_table.h"
#include "sanitize.h"

/* One cell in w columns; numbers on the right.  The last cell of a line is
 * not padded. */
static void put_cell(FILE *f, const struct rcell *c, int w, bool last, int flags)
{
	char *text = report_cell_text(c, flags, "-");
	char buf[1024];
	int used;

	if (!text)
		return;
	used = sanitize_fit(text, strlen(text), w, flags, buf, sizeof buf);
	if (report_cell_numeric(c))
		fprintf(f, "%*s%s", w > used ? w - used : 0, "", buf);
	else
		fprintf(f, "%s%*s", buf, last || w <= used ? 0 : w - used, "");
	free(text);
}

/* Our own text, or an outside string, on a line of its own. */
static void put_safe(FILE *f, const char *s, int flags)
{
	char *safe = sanitize_str(s, flags);

	fputs(safe ? safe : "", f);
	free(safe);
}

static void put_table(FILE *f, const struct rtable *t, int flags)
{
	fprintf(f, "\n%s", t->title);
	if (t->total > (long long)t->nrows)
		fprintf(f, " (%lld in all, the first %zu shown)", t->total, t->nrows);
	fputc('\n', f);
	if (t->note[0])
		fprintf(f, "  (%s)\n", t->note);
	if (!t->nrows) {
		fputs("  none\n", f);
		return;
	}
	fputs(" ", f);
	for (size_t c = 0; c < t->ncols; c++) {
		struct rcell title = { .kind = RC_WORD, .s = t->cols[c].title };
		fputc(' ', f);
		/* titles align with their column's values */
		if (report_cell_numeric(rtable_cell(t, 0, c)))
			fprintf(f, "%*s", t->cols[c].width, t->cols[c].title);
		else
			put_cell(f, &title, t->cols[c].width, c + 1 == t->ncols, flags);
	}
	fputc('\n', f);
	for (size_t row = 0; row < t->nrows; row++) {
		fputs(" ", f);
		for (size_t c = 0; c < t->ncols; c++) {
			fputc(' ', f);
			put_cell(f, rtable_cell(t, row, c), t->cols[c].width, c + 1 == t->ncols, flags);
		}
		fputc('\n', f);
	}
}

int report_write_text(const struct report *r, FILE *f, bool ascii)
{
	int flags = ascii ? SAN_ASCII : 0;
	struct report_meta m;
	struct rtable *t;
	size_t n;

	if (report_tables(r, &t, &n) < 0)
		return -1;
	report_meta(r, &m);
	fprintf(f, "sectop report  %s to %s  tenant ", m.since, m.until);
	put_safe(f, r->tenant ? r->tenant : "(all)", flags);
	fprintf(f, "\n  previous period %s to %s; generated %s\n  figures %s\n", m.prev_since,
	        m.since, m.generated, m.how);
	fprintf(f, "  postgres %s", r->pg_ok ? "ok" : "incomplete: ");
	if (!r->pg_ok)
		put_safe(f, r->pg_error, flags);
	fprintf(f, "; redis %s", r->redis_ok ? "ok" : "did not answer: ");
	if (!r->redis_ok)
		put_safe(f, r->redis_error, flags);
	fputc('\n', f);
	for (size_t i = 0; i < r->n_notes; i++) {
		fputs("  note: ", f);
		put_safe(f, r->notes[i], flags);
		fputc('\n', f);
	}
	for (size_t i = 0; i < n; i++)
		put_table(f, &t[i], flags);
	report_tables_free(t, n);
	fflush(f);
	return ferror(f) ? -1 : 0;
}
