/* fuzz_theme: any bytes as a theme file over the built-in theme.  A bad
 * line warns and keeps the old value; every colour stays one a terminal
 * can be asked for. */
#include "config.h"

#include "fuzz.h"
#include "theme.h"

static void count_warning(void *ctx, const char *msg)
{
	(*(int *)ctx)++;
	FUZZ_CHECK(msg && *msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	int warnings = 0;
	char *text = fuzz_cstr(data, size);

	theme_builtin(&t);
	theme_parse(&t, text, "fuzz.theme", count_warning, &warnings);
	FUZZ_CHECK(memchr(t.name, '\0', sizeof t.name));
	for (int r = 0; r < ROLE_COUNT; r++) {
		FUZZ_CHECK(t.role[r].fg >= -1 && t.role[r].fg <= 255);
		FUZZ_CHECK(t.role[r].bg >= -1 && t.role[r].bg <= 255);
	}
	free(text);
	return 0;
}
