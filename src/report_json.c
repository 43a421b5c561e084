/* report_json.c: the report as one JSON document (schema in sectop(1)).
 * Strings carry the exact value, every control and non-ASCII character
 * escaped, as in `sectop snapshot --format json`. */
#include "config.h"

#include <jansson.h>

#include "json_out.h"
#include "report.h"
#include "report_table.h"
#include "snapshot_out.h"

#define REPORT_JSON_VERSION 1

static json_t *cell_json(const struct rcell *c)
{
	char buf[40];

	switch (c->kind) {
	case RC_NULL: return json_null();
	case RC_INT: return json_integer(c->i);
	case RC_PCT: return json_real(c->d);
	case RC_WORD:
	case RC_UNTRUSTED: return json_out_string(c->s);
	case RC_TIME:
		snapshot_iso_time(buf, sizeof buf, c->t);
		return json_string(buf);
	case RC_DAY:
		snapshot_iso_time(buf, sizeof buf, c->t);
		buf[10] = '\0';
		return json_string(buf);
	case RC_BOOL: return json_boolean(c->b);
	case RC_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < c->n_list; i++)
			json_array_append_new(a, json_out_string(c->list[i]));
		return a;
	}
	}
	return json_null();
}

static json_t *table_json(const struct rtable *t)
{
	json_t *rows = json_array();

	for (size_t r = 0; r < t->nrows; r++) {
		json_t *o = json_object();
		for (size_t c = 0; c < t->ncols; c++)
			json_object_set_new(o, t->cols[c].name, cell_json(rtable_cell(t, r, c)));
		json_array_append_new(rows, o);
	}
	return json_pack("{s:o, s:o, s:o}", "rows", rows,
	    "total", json_integer(t->total > (long long)t->nrows ? t->total : (long long)t->nrows),
	    "note", t->note[0] ? json_string(t->note) : json_null());
}

static json_t *source_json(bool ok, const char *error)
{
	return json_pack("{s:b, s:o}", "ok", ok, "error", ok ? json_null() : json_out_string(error));
}

int report_write_json(const struct report *r, FILE *f)
{
	struct report_meta m;
	struct rtable *t;
	size_t n;
	char until[32];

	if (report_tables(r, &t, &n) < 0)
		return -1;
	report_meta(r, &m);
	snapshot_iso_time(until, sizeof until, r->rolled_until_s);
	json_t *sections = json_object(), *notes = json_array();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(sections, t[i].id, table_json(&t[i]));
	for (size_t i = 0; i < r->n_notes; i++)
		json_array_append_new(notes, json_out_string(r->notes[i]));
	json_t *root = json_pack("{s:i, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:o, s:I, s:i,"
	                         " s:{s:o, s:o}, s:{s:b, s:o}, s:o, s:o}",
	    "sectop_report", REPORT_JSON_VERSION,
	    "generated_at", m.generated,
	    "period", "since", m.since, "until", m.until,
	    "previous_period", "since", m.prev_since, "until", m.since,
	    "tenant", json_out_string(r->tenant),
	    "hot_threshold", (json_int_t)r->hot_threshold,
	    "key_unused_days", r->key_unused_days,
	    "sources", "postgres", source_json(r->pg_ok, r->pg_error),
	               "redis", source_json(r->redis_ok, r->redis_error),
	    "rollup", "used", r->rollup_used,
	              "rolled_until", r->rollup_used ? json_string(until) : json_null(),
	    "notes", notes,
	    "sections", sections);
	report_tables_free(t, n);
	if (!root)
		return -1;
	int rc = json_out_write(root, f);
	json_decref(root);
	return rc;
}
