/* The journal: one line per record, durable, private; refuses what others
 * can write; reads back what was written and skips a torn line. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "testenv.h"

static char dir[] = "/tmp/sectop-journal-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return testenv_rmtree(dir);
}

static void test_append_and_read_back(void **state)
{
	struct journal j;
	char path[256], err[256];
	struct stat st;
	size_t bad;
	(void)state;
	snprintf(path, sizeof path, "%s/state/sectop/journal.jsonl", dir);
	assert_int_equal(journal_open(&j, path, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	json_t *rec = json_pack("{s:s, s:s}", "action", "block", "reason", "evil\x1b]0;x\x07\n");
	assert_int_equal(journal_append(&j, rec, err, sizeof err), 0);
	json_decref(rec);
	rec = json_pack("{s:s}", "action", "unblock");
	assert_int_equal(journal_append(&j, rec, err, sizeof err), 0);
	json_decref(rec);
	journal_close(&j);

	json_t *all = journal_read(path, &bad);
	assert_int_equal(json_array_size(all), 2);
	assert_int_equal(bad, 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "reason")),
	                    "evil\x1b]0;x\x07\n");
	json_decref(all);

	/* a torn last line (a crash mid-write) is skipped, the rest stands */
	FILE *f = fopen(path, "a");
	fputs("{\"action\":\"blo", f);
	fclose(f);
	all = journal_read(path, &bad);
	assert_int_equal(json_array_size(all), 2);
	assert_int_equal(bad, 1);
	json_decref(all);

	/* every record is exactly one line, with no raw control byte */
	f = fopen(path, "r");
	int c, lines = 0;
	while ((c = fgetc(f)) != EOF) {
		lines += c == '\n';
		assert_true(c == '\n' || (c >= 0x20 && c < 0x7f));
	}
	fclose(f);
	assert_int_equal(lines, 2);
}

static void test_refuses_a_journal_others_can_write(void **state)
{
	struct journal j;
	char path[256], err[256];
	(void)state;
	snprintf(path, sizeof path, "%s/shared.jsonl", dir);
	FILE *f = fopen(path, "w");
	fclose(f);
	chmod(path, 0666);
	assert_int_equal(journal_open(&j, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "only you can write"));
	assert_int_equal(journal_open(&j, NULL, err, sizeof err), -1);
	snprintf(path, sizeof path, "%s/nodir/\x01/x/journal", "/proc/self/nonexistent");
	assert_int_equal(journal_open(&j, path, err, sizeof err), -1);
}

/* journal_read makes journal_open's checks: a link or a file others could
 * have written is not read (its records would be nobody's). */
static void test_read_refuses_what_open_refuses(void **state)
{
	char path[256], link[256];
	size_t bad;
	(void)state;
	snprintf(path, sizeof path, "%s/foreign.jsonl", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"phase\":\"intent\"}\n", f);
	fclose(f);
	chmod(path, 0600);
	json_t *all = journal_read(path, &bad);
	assert_int_equal(json_array_size(all), 1);
	json_decref(all);
	chmod(path, 0620);
	assert_null(journal_read(path, &bad));
	chmod(path, 0600);
	snprintf(link, sizeof link, "%s/link.jsonl", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_null(journal_read(link, &bad));
	snprintf(path, sizeof path, "%s/absent.jsonl", dir);
	all = journal_read(path, &bad);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
}

static void test_append_fails_loudly(void **state)
{
	struct journal j = { .fd = -1, .path = NULL };
	char err[256] = "";
	(void)state;
	json_t *rec = json_pack("{s:s}", "a", "b");
	assert_int_equal(journal_append(&j, rec, err, sizeof err), -1);
	assert_true(err[0] != '\0');
	json_decref(rec);
}

static void test_ids_differ(void **state)
{
	char a[33], b[33];
	(void)state;
	journal_new_id(a);
	journal_new_id(b);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
}

static void test_default_path(void **state)
{
	(void)state;
	setenv("XDG_STATE_HOME", "/x/state", 1);
	char *p = journal_default_path();
	assert_string_equal(p, "/x/state/sectop/journal.jsonl");
	free(p);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/op", 1);
	p = journal_default_path();
	assert_string_equal(p, "/home/op/.local/state/sectop/journal.jsonl");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_read_back),
		cmocka_unit_test(test_refuses_a_journal_others_can_write),
		cmocka_unit_test(test_read_refuses_what_open_refuses),
		cmocka_unit_test(test_append_fails_loudly),
		cmocka_unit_test(test_ids_differ),
		cmocka_unit_test(test_default_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
