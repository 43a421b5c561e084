/* Themes: one syntax for the built-in default and the files; a bad line
 * warns and keeps the previous value; every shipped theme parses clean. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "theme.h"

static int warnings;
static char last_warning[256];

static void count_warning(void *ctx, const char *msg)
{
	(void)ctx;
	warnings++;
	snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void test_builtin_has_every_role(void **state)
{
	struct theme t;
	(void)state;
	theme_builtin(&t);
	assert_string_equal(t.name, "default");
	assert_int_equal(t.role[ROLE_ALERT].fg, COLOR_WHITE);
	assert_int_equal(t.role[ROLE_ALERT].bg, COLOR_RED);
	assert_true(t.role[ROLE_ALERT].attrs & A_BOLD);
	assert_int_equal(t.role[ROLE_NORMAL].fg, -1);
	for (int r = 0; r < ROLE_COUNT; r++)
		assert_string_not_equal(theme_role_name((enum role)r), "?");
}

static void test_bad_lines_warn_and_keep(void **state)
{
	struct theme t;
	(void)state;
	theme_builtin(&t);
	warnings = 0;
	theme_parse(&t, "alert = green black underline\n"
	                "warn = purple default\n"          /* unknown colour */
	                "nosuchrole = red red\n"
	                "ok = red\n"                      /* one colour only */
	                "ok green default blink\n"        /* no '=' */
	                "ok = green default blink\n"      /* unknown attribute */
	                "\n# comment\n"
	                "spark = colour208 colour0\n", "t.theme", count_warning, NULL);
	assert_int_equal(warnings, 5);
	assert_string_equal(last_warning, "t.theme:6: unknown attribute (bold, reverse, underline, dim)");
	assert_int_equal(t.role[ROLE_ALERT].fg, COLOR_GREEN);
	assert_int_equal(t.role[ROLE_ALERT].attrs, A_UNDERLINE);
	assert_int_equal(t.role[ROLE_WARN].fg, COLOR_YELLOW);     /* kept */
	assert_int_equal(t.role[ROLE_OK].fg, COLOR_GREEN);        /* kept */
	assert_int_equal(t.role[ROLE_SPARK].fg, 208);
	assert_int_equal(t.role[ROLE_SPARK].bg, 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_shipped_themes_parse_clean(void **state)
{
	static const char *const names[] = { "default", "dark", "light", "high-contrast", "monochrome" };
	const char *src = getenv("top_srcdir");
	char path[1024];
	(void)state;
	for (size_t i = 0; i < 5; i++) {
		struct theme t;
		snprintf(path, sizeof path, "%s/themes/%s.theme", src ? src : "..", names[i]);
		char *text = slurp(path);
		theme_builtin(&t);
		warnings = 0;
		theme_parse(&t, text, path, count_warning, NULL);
		assert_int_equal(warnings, 0);
		free(text);
	}
}

static void test_default_file_equals_builtin(void **state)
{
	struct theme a, b;
	const char *src = getenv("top_srcdir");
	char path[1024];
	(void)state;
	snprintf(path, sizeof path, "%s/themes/default.theme", src ? src : "..");
	char *text = slurp(path);
	theme_builtin(&a);
	memset(&b, 0, sizeof b);
	for (int r = 0; r < ROLE_COUNT; r++)
		b.role[r] = (struct role_style){ 99, 99, 0 };
	theme_parse(&b, text, path, NULL, NULL);
	for (int r = 0; r < ROLE_COUNT; r++) {
		assert_int_equal(a.role[r].fg, b.role[r].fg);
		assert_int_equal(a.role[r].bg, b.role[r].bg);
		assert_int_equal(a.role[r].attrs, b.role[r].attrs);
	}
	free(text);
}

static void test_load_refuses_odd_names(void **state)
{
	struct theme t;
	(void)state;
	assert_int_equal(theme_load(&t, "../../etc/passwd", NULL, NULL), -1);
	assert_int_equal(theme_load(&t, "no-such-theme", NULL, NULL), -1);
	assert_int_equal(theme_load(&t, "default", NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_has_every_role),
		cmocka_unit_test(test_bad_lines_warn_and_keep),
		cmocka_unit_test(test_shipped_themes_parse_clean),
		cmocka_unit_test(test_default_file_equals_builtin),
		cmocka_unit_test(test_load_refuses_odd_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
