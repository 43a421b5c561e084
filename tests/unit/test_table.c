/* The list engine: filter (any case), sort by text and by number, the
 * selection following its row across refreshes, movement bounds. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static const struct column cols[] = {
	{ "name", 20, true, false }, { "count", 6, false, true },
};

static void build(struct rows *r)
{
	static const char *const names[] = { "acme", "Globex", "initech", "ACME-eu", "umbrella" };
	static const long counts[] = { 50, 7, 300, 2, 50 };
	rows_clear(r);
	for (int i = 0; i < 5; i++) {
		struct row *w = rows_add(r, names[i]);
		row_text(w, 0, names[i]);
		row_num(w, 1, counts[i]);
	}
}

static void test_filter_ignores_case(void **state)
{
	struct rows r = { 0 };
	struct table_state st = { .sort_col = -1 };
	(void)state;
	build(&r);
	strcpy(st.filter, "AcMe");
	table_apply(&st, &r, cols, 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].key, "acme");
	assert_string_equal(r.v[1].key, "ACME-eu");
	strcpy(st.filter, "zzz");
	build(&r);
	table_apply(&st, &r, cols, 2);
	assert_int_equal(r.n, 0);
	assert_null(table_current(&st, &r));
	rows_clear(&r);
	free(r.v);
}

static void test_sort_numbers_and_text(void **state)
{
	struct rows r = { 0 };
	struct table_state st = { .sort_col = 1, .sort_desc = true };
	(void)state;
	build(&r);
	table_apply(&st, &r, cols, 2);
	assert_string_equal(r.v[0].key, "initech");
	/* a tie is broken by key, so the order is stable across refreshes */
	assert_string_equal(r.v[1].key, "umbrella");
	assert_string_equal(r.v[2].key, "acme");
	assert_string_equal(r.v[4].key, "ACME-eu");
	st.sort_col = 0;
	st.sort_desc = false;
	build(&r);
	table_apply(&st, &r, cols, 2);
	assert_string_equal(r.v[0].key, "acme");
	assert_string_equal(r.v[1].key, "ACME-eu");
	assert_string_equal(r.v[2].key, "Globex");
	rows_clear(&r);
	free(r.v);
}

static void test_selection_follows_its_row(void **state)
{
	struct rows r = { 0 };
	struct table_state st = { .sort_col = -1 };
	(void)state;
	build(&r);
	table_apply(&st, &r, cols, 2);
	table_select(&st, &r, 2);
	assert_string_equal(table_current(&st, &r)->key, "initech");
	/* a refresh reorders the rows: the selection stays on initech */
	st.sort_col = 1;
	st.sort_desc = false;
	build(&r);
	table_apply(&st, &r, cols, 2);
	assert_string_equal(table_current(&st, &r)->key, "initech");
	assert_int_equal(st.selected, 4);
	/* its row goes: the place is kept, within bounds */
	strcpy(st.filter, "a");
	build(&r);
	table_apply(&st, &r, cols, 2);
	assert_true(st.selected < r.n);
	free(st.selected_key);
	rows_clear(&r);
	free(r.v);
}

/* An AS's addresses (Enter on an AS in the ranges view): the filter
 * "AS64500" matches a cell that names that AS, not AS645001. */
static void test_filter_by_as_is_a_word(void **state)
{
	static const struct column net_cols[] = { { "address", 20, true, false }, { "network", 30, false, false } };
	static const char *const rows[][2] = {
		{ "203.0.113.45", "AS64500 Example Hosting" }, { "203.0.113.46", "AS645001 Other" },
		{ "198.51.100.7", "AS64500" }, { "192.0.2.7", "?" },
	};
	struct rows r = { 0 };
	struct table_state st = { .sort_col = -1 };
	(void)state;
	for (int i = 0; i < 4; i++) {
		struct row *w = rows_add(&r, rows[i][0]);
		row_text(w, 0, rows[i][0]);
		row_text(w, 1, rows[i][1]);
	}
	strcpy(st.filter, "as64500");
	table_apply(&st, &r, net_cols, 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].key, "203.0.113.45");
	assert_string_equal(r.v[1].key, "198.51.100.7");
	rows_clear(&r);
	free(r.v);
}

static void test_moves_stay_in_bounds(void **state)
{
	struct rows r = { 0 };
	struct table_state st = { .sort_col = -1 };
	(void)state;
	build(&r);
	table_apply(&st, &r, cols, 2);
	table_move(&st, &r, -10);
	assert_int_equal(st.selected, 0);
	table_move(&st, &r, 100);
	assert_int_equal(st.selected, 4);
	strcpy(st.filter, "");
	table_next_match(&st, &r, 1);            /* wraps */
	assert_int_equal(st.selected, 0);
	table_next_match(&st, &r, -1);
	assert_int_equal(st.selected, 4);
	free(st.selected_key);
	rows_clear(&r);
	free(r.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_ignores_case),
		cmocka_unit_test(test_sort_numbers_and_text),
		cmocka_unit_test(test_selection_follows_its_row),
		cmocka_unit_test(test_moves_stay_in_bounds),
		cmocka_unit_test(test_filter_by_as_is_a_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
