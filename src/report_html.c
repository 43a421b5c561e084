/* report_html.c: the report as one self-contained HTML file: inline CSS,
 * inline SVG charts, no script and nothing fetched (a Content-Security-
 * Policy says so too), laid out to print.  Every outside string is
 * sanitised as on screen, then HTML-escaped. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_table.h"
#include "sanitize.h"
#include "snapshot_out.h"

static const char style[] =
	"body{font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1d1d1f;"
	"margin:2em auto;max-width:1200px;padding:0 1em}\n"
	"h1{font-size:1.6em;margin:0 0 .2em}\n"
	"h2{font-size:1.15em;margin:1.8em 0 .4em;border-bottom:1px solid #ccc;padding-bottom:.2em}\n"
	"table{border-collapse:collapse;width:100%;font-size:.9em}\n"
	"th,td{padding:.25em .5em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}\n"
	"th{background:#f4f4f6}\n"
	"td{overflow-wrap:anywhere}\n"
	".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	".meta{color:#555;margin:.2em 0}\n"
	".note{color:#666;font-style:italic;margin:.2em 0 .5em}\n"
	".notes{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em 1em;margin:1em 0}\n"
	".cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}\n"
	".card{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;min-width:9em}\n"
	".card b{display:block;font-size:1.4em}\n"
	".card span{color:#555;font-size:.85em}\n"
	"svg{max-width:100%;height:auto;display:block;margin:.5em 0}\n"
	"@media print{body{margin:0;max-width:none;font-size:10px}h2{break-after:avoid}"
	"tr,svg,.card{break-inside:avoid}th{background:none}}\n";

/* Sanitised (as on screen) and escaped. */
static void put_outside(FILE *f, const char *s)
{
	char *safe = sanitize_str(s, 0);
	char *esc = report_escape_html(safe ? safe : "");

	fputs(esc ? esc : "", f);
	free(esc);
	free(safe);
}

static void put_cell(FILE *f, const struct rcell *c)
{
	char *text = report_cell_text(c, 0, "");
	char *esc = report_escape_html(text ? text : "");

	fprintf(f, "<td%s>%s</td>", report_cell_numeric(c) ? " class=\"n\"" : "", esc ? esc : "");
	free(esc);
	free(text);
}

static void put_table(FILE *f, const struct rtable *t)
{
	fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", t->id, t->title);
	if (t->note[0]) {
		fputs("<p class=\"note\">", f);
		put_outside(f, t->note);
		fputs("</p>\n", f);
	}
	if (t->total > (long long)t->nrows)
		fprintf(f, "<p class=\"note\">%lld in all, the first %zu shown.</p>\n", t->total, t->nrows);
	if (!t->nrows) {
		fputs("<p>None.</p>\n</section>\n", f);
		return;
	}
	fputs("<table>\n<thead><tr>", f);
	for (size_t c = 0; c < t->ncols; c++)
		fprintf(f, "<th%s>%s</th>", report_cell_numeric(rtable_cell(t, 0, c)) ? " class=\"n\"" : "",
		        t->cols[c].title);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t row = 0; row < t->nrows; row++) {
		fputs("<tr>", f);
		for (size_t c = 0; c < t->ncols; c++)
			put_cell(f, rtable_cell(t, row, c));
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

/* Failures per day as bars, the events' scale beside them. */
static void chart_days(FILE *f, const struct report *r)
{
	const int bw = 44, h = 150, top = 20, left = 10;
	long long max = 1;

	if (!r->n_days)
		return;
	for (size_t i = 0; i < r->n_days; i++)
		if (r->days[i].failures > max)
			max = r->days[i].failures;
	int w = left * 2 + bw * (int)r->n_days;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
	        " role=\"img\" aria-label=\"Failures per day\">\n", w, h + top + 24, w, h + top + 24);
	for (size_t i = 0; i < r->n_days; i++) {
		char day[32];
		int bh = (int)((double)r->days[i].failures * h / (double)max);
		int x = left + bw * (int)i;
		snapshot_iso_time(day, sizeof day, r->days[i].day_s);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#c0392b\">"
		        "<title>%.10s: %lld failures of %lld events</title></rect>\n",
		        x + 6, top + h - bh, bw - 12, bh, day, r->days[i].failures, r->days[i].events);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%lld</text>\n",
		        x + bw / 2, top + h - bh - 4, r->days[i].failures);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.5s</text>\n",
		        x + bw / 2, top + h + 14, day + 5);
	}
	fputs("</svg>\n", f);
}

/* Failures by weekday and hour as a heat map. */
static void chart_hours(FILE *f, const struct report *r)
{
	static const char *const days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	const int cw = 26, ch = 20, left = 36, top = 16;
	long long max = 1;

	if (!r->cur.known)
		return;
	for (int d = 0; d < 7; d++)
		for (int hr = 0; hr < 24; hr++)
			if (r->hour_of_week[d][hr] > max)
				max = r->hour_of_week[d][hr];
	int w = left + cw * 24 + 4, hgt = top + ch * 7 + 4;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
	        " role=\"img\" aria-label=\"Failures per hour of the week\">\n", w, hgt, w, hgt);
	for (int hr = 0; hr < 24; hr += 3)
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%02d</text>\n", left + hr * cw + 4, top - 4, hr);
	for (int d = 0; d < 7; d++) {
		fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"11\">%s</text>\n", top + d * ch + 14, days[d]);
		for (int hr = 0; hr < 24; hr++) {
			long long v = r->hour_of_week[d][hr];
			double opacity = v ? 0.08 + 0.92 * (double)v / (double)max : 0.0;
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#c0392b\""
			        " fill-opacity=\"%.2f\" stroke=\"#eee\">"
			        "<title>%s %02d:00 UTC: %lld failures</title></rect>\n",
			        left + hr * cw, top + d * ch, cw, ch, opacity, days[d], hr, v);
		}
	}
	fputs("</svg>\n", f);
}

static void put_cards(FILE *f, const struct report *r)
{
	fputs("<div class=\"cards\">\n", f);
	for (int m = 0; m < RM_N; m++) {
		double pct;
		fprintf(f, "<div class=\"card\">%s<b>", report_metric_title((enum report_metric)m));
		if (r->cur.known)
			fprintf(f, "%lld", r->cur.v[m]);
		else
			fputs("?", f);
		fputs("</b><span>", f);
		if (r->cur.known && r->prev.known && report_change_pct(r->cur.v[m], r->prev.v[m], &pct))
			fprintf(f, "%+.1f%% against %lld", pct, r->prev.v[m]);
		else if (r->prev.known)
			fprintf(f, "previous %lld", r->prev.v[m]);
		fputs("</span></div>\n", f);
	}
	fputs("</div>\n", f);
}

static void put_header(FILE *f, const struct report *r)
{
	struct report_meta m;

	report_meta(r, &m);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\" />\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n", f);
	fprintf(f, "<title>sectop report %s to %s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
	        m.since, m.until, style);
	fprintf(f, "<header>\n<h1>sectop report</h1>\n<p class=\"meta\">%s to %s &#183; tenant ",
	        m.since, m.until);
	if (r->tenant)
		put_outside(f, r->tenant);
	else
		fputs("all", f);
	fprintf(f, "</p>\n<p class=\"meta\">previous period %s to %s &#183; generated %s</p>\n"
	        "<p class=\"meta\">figures %s &#183; postgres %s &#183; redis %s</p>\n</header>\n",
	        m.prev_since, m.since, m.generated, m.how, r->pg_ok ? "ok" : "incomplete",
	        r->redis_ok ? "ok" : "did not answer");
	if (r->n_notes) {
		fputs("<div class=\"notes\">\n", f);
		for (size_t i = 0; i < r->n_notes; i++) {
			fputs("<p>", f);
			put_outside(f, r->notes[i]);
			fputs("</p>\n", f);
		}
		fputs("</div>\n", f);
	}
}

int report_write_html(const struct report *r, FILE *f)
{
	struct rtable *t;
	size_t n;

	if (report_tables(r, &t, &n) < 0)
		return -1;
	put_header(f, r);
	put_cards(f, r);
	for (size_t i = 0; i < n; i++) {
		put_table(f, &t[i]);
		if (strcmp(t[i].id, "failures_per_day") == 0)
			chart_days(f, r);
		else if (strcmp(t[i].id, "failures_per_hour_of_week") == 0)
			chart_hours(f, r);
	}
	fputs("</body>\n</html>\n", f);
	report_tables_free(t, n);
	fflush(f);
	return ferror(f) ? -1 : 0;
}
