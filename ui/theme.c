#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "theme.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/sectop"
#endif

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_NORMAL] = "normal", [ROLE_HEADER] = "header", [ROLE_TITLE] = "title",
	[ROLE_BORDER] = "border", [ROLE_LABEL] = "label", [ROLE_OK] = "ok",
	[ROLE_WARN] = "warn", [ROLE_ALERT] = "alert", [ROLE_STALE] = "stale",
	[ROLE_SELECTION] = "selection", [ROLE_DIM] = "dim", [ROLE_BADGE] = "badge",
	[ROLE_SPARK] = "spark", [ROLE_INERT] = "inert",
};

/* Written in the theme file syntax, so one parser reads both. */
static const char builtin_default[] =
	"normal    = default default\n"
	"header    = black cyan\n"
	"title     = cyan default bold\n"
	"border    = blue default\n"
	"label     = default default dim\n"
	"ok        = green default\n"
	"warn      = yellow default bold\n"
	"alert     = white red bold\n"
	"stale     = magenta default underline\n"
	"selection = black white reverse\n"
	"dim       = default default dim\n"
	"badge     = black yellow bold\n"
	"spark     = cyan default\n"
	"inert     = yellow default dim\n";

static const struct { const char *name; short n; } colour_names[] = {
	{ "default", -1 }, { "black", COLOR_BLACK }, { "red", COLOR_RED },
	{ "green", COLOR_GREEN }, { "yellow", COLOR_YELLOW }, { "blue", COLOR_BLUE },
	{ "magenta", COLOR_MAGENTA }, { "cyan", COLOR_CYAN }, { "white", COLOR_WHITE },
};

static const struct { const char *name; unsigned a; } attr_names[] = {
	{ "bold", A_BOLD }, { "reverse", A_REVERSE }, { "underline", A_UNDERLINE },
	{ "dim", A_DIM }, { "normal", 0 },
};

const char *theme_role_name(enum role r)
{
	return r < ROLE_COUNT ? role_names[r] : "?";
}

static int parse_colour(const char *w, short *out)
{
	for (size_t i = 0; i < sizeof colour_names / sizeof colour_names[0]; i++)
		if (strcasecmp(w, colour_names[i].name) == 0)
			return *out = colour_names[i].n, 0;
	/* colourN: one of the 256 */
	char *end;
	if (strncasecmp(w, "colour", 6) == 0 || strncasecmp(w, "color", 5) == 0) {
		const char *d = w + (w[5] == 'r' || w[5] == 'R' ? 6 : 5);
		long n = strtol(d, &end, 10);
		if (end != d && !*end && n >= 0 && n < 256)
			return *out = (short)n, 0;
	}
	return -1;
}

static int parse_attr(const char *w, unsigned *out)
{
	for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
		if (strcasecmp(w, attr_names[i].name) == 0)
			return *out |= attr_names[i].a, 0;
	return -1;
}

static int parse_role(const char *w)
{
	for (int r = 0; r < ROLE_COUNT; r++)
		if (strcmp(w, role_names[r]) == 0)
			return r;
	return -1;
}

/* "role = fg bg [attr ...]" into a copy, so a bad token changes nothing. */
static const char *theme_line(struct theme *t, char *line)
{
	char *save = NULL;
	char *eq = strchr(line, '=');
	if (!eq)
		return "expected 'role = foreground background [attributes]'";
	*eq = '\0';
	char *name = strtok_r(line, " \t", &save);
	int r = name ? parse_role(name) : -1;
	if (r < 0)
		return "unknown role";
	struct role_style s = { -1, -1, 0 };
	char *fg = strtok_r(eq + 1, " \t", &save), *bg = strtok_r(NULL, " \t", &save);
	if (!fg || !bg || parse_colour(fg, &s.fg) < 0 || parse_colour(bg, &s.bg) < 0)
		return "expected two colours (default, black, red, ..., white, colour0-255)";
	for (char *w; (w = strtok_r(NULL, " \t", &save));)
		if (parse_attr(w, &s.attrs) < 0)
			return "unknown attribute (bold, reverse, underline, dim)";
	t->role[r] = s;
	return NULL;
}

void theme_parse(struct theme *t, const char *text, const char *origin,
                 void (*warn)(void *ctx, const char *msg), void *ctx)
{
	char *copy = strdup(text ? text : ""), *save = NULL;
	unsigned lineno = 0;

	if (!copy)
		return;
	/* strtok_r would merge blank lines: count them by hand */
	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *s = line + strspn(line, " \t");
		if (!*s || *s == '#')
			continue;
		const char *why = theme_line(t, s);
		if (why && warn) {
			char msg[256];
			snprintf(msg, sizeof msg, "%s:%u: %s", origin, lineno, why);
			warn(ctx, msg);
		}
	}
	(void)save;
	free(copy);
}

void theme_builtin(struct theme *t)
{
	memset(t, 0, sizeof *t);
	for (int r = 0; r < ROLE_COUNT; r++)
		t->role[r] = (struct role_style){ -1, -1, 0 };
	theme_parse(t, builtin_default, "built-in", NULL, NULL);
	snprintf(t->name, sizeof t->name, "default");
}

static char *read_small_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	size_t n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static bool theme_name_ok(const char *name)
{
	if (!*name || strlen(name) > 48)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

int theme_load(struct theme *t, const char *name,
               void (*warn)(void *ctx, const char *msg), void *ctx)
{
	char path[1024];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	const char *srcdir = getenv("SECTOP_THEME_DIR");

	theme_builtin(t);
	if (!name || strcmp(name, "default") == 0)
		return 0;
	if (!theme_name_ok(name))
		return -1;
	const char *dirs[3] = { NULL };
	char user[768] = "";
	if (xdg && *xdg == '/')
		snprintf(user, sizeof user, "%s/sectop/themes", xdg);
	else if (home)
		snprintf(user, sizeof user, "%s/.config/sectop/themes", home);
	/* the user's own first, then SECTOP_THEME_DIR (an uninstalled tree),
	 * then the installed ones */
	dirs[0] = user;
	dirs[1] = srcdir;
	dirs[2] = PKGDATADIR "/themes";
	for (size_t i = 0; i < 3; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(path, sizeof path, "%s/%s.theme", dirs[i], name);
		char *text = read_small_file(path);
		if (!text)
			continue;
		theme_parse(t, text, path, warn, ctx);
		snprintf(t->name, sizeof t->name, "%s", name);
		free(text);
		return 0;
	}
	return -1;
}
