/* theme.h: colours as semantic roles.  Drawing code asks for a role; the
 * theme says what it looks like in colour, and which attribute keeps it
 * distinguishable without colour. */
#ifndef SECTOP_THEME_H
#define SECTOP_THEME_H

#include <stdbool.h>
#include <stddef.h>

enum role {
	ROLE_NORMAL, ROLE_HEADER, ROLE_TITLE, ROLE_BORDER, ROLE_LABEL, ROLE_OK, ROLE_WARN,
	ROLE_ALERT, ROLE_STALE, ROLE_SELECTION, ROLE_DIM, ROLE_BADGE, ROLE_SPARK, ROLE_INERT,
	ROLE_COUNT
};

struct role_style {
	short fg, bg;            /* colour numbers; -1 is the terminal's default */
	unsigned attrs;          /* bold, reverse, underline, dim (A_* bits) */
};

struct theme {
	char name[64];
	struct role_style role[ROLE_COUNT];
};

/* The built-in default, parsed from the same syntax as the theme files. */
void theme_builtin(struct theme *t);

/* Apply theme text (file contents) over t.  A bad line is reported through
 * warn (one line, "name:line: why") and keeps the previous value. */
void theme_parse(struct theme *t, const char *text, const char *origin,
                 void (*warn)(void *ctx, const char *msg), void *ctx);

/* Load NAME (user's config dir, then the installed themes, then the
 * source tree's themes/) over the built-in default.  -1 if not found. */
int theme_load(struct theme *t, const char *name,
               void (*warn)(void *ctx, const char *msg), void *ctx);

const char *theme_role_name(enum role r);

#endif
