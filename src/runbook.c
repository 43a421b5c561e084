/* runbook.c: runbook files -> steps.  The format is line based, so that a
 * person can write one in any editor and a mistake is reported with its
 * line:
 *
 *   title: Brute force from one or a few addresses
 *   summary: one line saying when this runbook applies
 *   phase: detection
 *   step: Confirm the spike and find the addresses behind it.
 *     show: ips
 *     Indented lines are the step's text.
 *   phase: containment
 *   step: Block the address.
 *     action: block ttl=1h reason="brute force"
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "runbook.h"
#include "strutil.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/sectop"
#endif

#define RUNBOOK_MAX_BYTES (256 * 1024)
#define RUNBOOK_MAX_STEPS 200
#define RUNBOOK_SUFFIX ".runbook"

static const char *const phase_names[RB_PHASES] = {
	"detection", "containment", "investigation", "remediation", "post-incident",
};
static const char *const show_names[] = {
	[RB_SHOW_NONE] = "none", [RB_SHOW_OVERVIEW] = "overview", [RB_SHOW_IPS] = "ips",
	[RB_SHOW_TENANTS] = "tenants", [RB_SHOW_HEALTH] = "health", [RB_SHOW_BLOCKED] = "blocked",
	[RB_SHOW_TAIL] = "tail", [RB_SHOW_IP] = "ip", [RB_SHOW_TENANT] = "tenant",
	[RB_SHOW_KEYS] = "keys", [RB_SHOW_ROTATIONS] = "rotations", [RB_SHOW_ACTIONS] = "actions",
};
static const char *const action_names[] = {
	[RB_ACT_NONE] = "none", [RB_ACT_BLOCK] = "block", [RB_ACT_UNBLOCK] = "unblock",
	[RB_ACT_EXTEND] = "extend", [RB_ACT_REVOKE] = "revoke", [RB_ACT_ROTATE] = "rotate",
};

#define NAMES_N(a) (sizeof a / sizeof a[0])

const char *rb_phase_name(enum rb_phase p)
{
	return p < RB_PHASES ? phase_names[p] : "?";
}

const char *rb_show_name(enum rb_show s)
{
	return (size_t)s < NAMES_N(show_names) ? show_names[s] : "?";
}

const char *rb_action_name(enum rb_action a)
{
	return (size_t)a < NAMES_N(action_names) ? action_names[a] : "?";
}

static int lookup(const char *const *names, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------- parsing */

struct parser {
	struct runbook *rb;
	int line;
	enum rb_phase phase;
	bool have_phase;
	char *err;
	size_t errsz;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errsz, "line %d: ", p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errsz)
		vsnprintf(p->err + n, p->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trimmed(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *out = malloc(len + 1);
	if (out) {
		memcpy(out, s, len);
		out[len] = '\0';
	}
	return out;
}

static struct rb_step *current_step(struct parser *p)
{
	return p->rb->n_steps ? &p->rb->steps[p->rb->n_steps - 1] : NULL;
}

/* name=value or name="quoted value": the value's start and length. */
static int option_value(const char **s, const char **v, size_t *vlen)
{
	if (**s == '"') {
		const char *end = strchr(*s + 1, '"');
		if (!end)
			return -1;
		*v = *s + 1;
		*vlen = (size_t)(end - *v);
		*s = end + 1;
	} else {
		*v = *s;
		while (**s && !isspace((unsigned char)**s))
			(*s)++;
		*vlen = (size_t)(*s - *v);
	}
	return 0;
}

static int parse_action_option(struct parser *p, struct rb_step *st, const char *key, size_t klen,
                               const char *v, size_t vlen)
{
	char buf[64];

	if (klen == 3 && strncmp(key, "ttl", 3) == 0) {
		if (vlen >= sizeof buf)
			return fail(p, "ttl is too long");
		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		long long ms = conf_parse_duration_ms(buf, 's');
		if (ms < 1000 || ms > 365LL * 86400 * 1000)
			return fail(p, "ttl '%s' must be a duration between 1s and 365d", buf);
		st->ttl_s = (long)(ms / 1000);
	} else if (klen == 6 && strncmp(key, "reason", 6) == 0) {
		free(st->reason);
		st->reason = trimmed(v, vlen);
	} else if (klen == 6 && strncmp(key, "secret", 6) == 0) {
		free(st->secret);
		st->secret = trimmed(v, vlen);
	} else {
		return fail(p, "unknown action option '%.*s' (ttl, reason, secret)", (int)klen, key);
	}
	return 0;
}

/* "block ttl=1h reason=\"brute force\"" */
static int parse_action(struct parser *p, struct rb_step *st, const char *s)
{
	const char *w = s;

	while (*s && !isspace((unsigned char)*s))
		s++;
	int a = lookup(action_names, NAMES_N(action_names), w, (size_t)(s - w));
	if (a <= RB_ACT_NONE)
		return fail(p, "unknown action '%.*s' (block, unblock, extend, revoke, rotate)", (int)(s - w), w);
	st->action = (enum rb_action)a;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		const char *key = s, *v;
		size_t vlen;
		while (*s && *s != '=' && !isspace((unsigned char)*s))
			s++;
		if (*s != '=')
			return fail(p, "action option '%.*s' is not name=value", (int)(s - key), key);
		size_t klen = (size_t)(s - key);
		s++;
		if (option_value(&s, &v, &vlen) < 0)
			return fail(p, "unterminated quote");
		if (parse_action_option(p, st, key, klen, v, vlen) < 0)
			return -1;
	}
	return 0;
}

static int append_text(struct rb_step *st, const char *s, size_t len)
{
	char *line = trimmed(s, len);
	char *joined = !line ? NULL : st->text ? str_printf("%s\n%s", st->text, line) : strdup(line);

	free(line);
	if (!joined)
		return -1;
	free(st->text);
	st->text = joined;
	return 0;
}

/* An indented line: a step's directive or text. */
static int parse_step_line(struct parser *p, const char *s, size_t len)
{
	struct rb_step *st = current_step(p);
	if (!st)
		return fail(p, "an indented line belongs to a step: write 'step:' first");
	while (len && isspace((unsigned char)*s))
		s++, len--;
	if (len >= 5 && strncmp(s, "show:", 5) == 0) {
		char *v = trimmed(s + 5, len - 5);
		int k = v ? lookup(show_names, NAMES_N(show_names), v, strlen(v)) : -1;
		if (k <= RB_SHOW_NONE)
			fail(p, "unknown view '%s' (overview, ips, tenants, health, blocked, tail, ip, tenant, keys, rotations, actions)",
			     v ? v : "");
		free(v);
		if (k <= RB_SHOW_NONE)
			return -1;
		st->show = (enum rb_show)k;
		return 0;
	}
	if (len >= 7 && strncmp(s, "action:", 7) == 0) {
		if (st->action != RB_ACT_NONE)
			return fail(p, "a step binds one action");
		char *v = trimmed(s + 7, len - 7);
		int rc = v ? parse_action(p, st, v) : -1;
		free(v);
		return rc;
	}
	return append_text(st, s, len) < 0 ? fail(p, "out of memory") : 0;
}

static int add_step(struct parser *p, const char *title, size_t len)
{
	struct runbook *rb = p->rb;

	if (!p->have_phase)
		return fail(p, "a step belongs to a phase: write 'phase: detection' first");
	if (rb->n_steps >= RUNBOOK_MAX_STEPS)
		return fail(p, "more than %d steps", RUNBOOK_MAX_STEPS);
	struct rb_step *v = realloc(rb->steps, (rb->n_steps + 1) * sizeof *v);
	if (!v)
		return fail(p, "out of memory");
	rb->steps = v;
	struct rb_step *st = &v[rb->n_steps++];
	memset(st, 0, sizeof *st);
	st->phase = p->phase;
	st->title = trimmed(title, len);
	if (!st->title || !st->title[0])
		return fail(p, "a step needs a title after 'step:'");
	return 0;
}

static int set_phase(struct parser *p, const char *s, size_t len)
{
	char *v = trimmed(s, len);
	int k = v ? lookup(phase_names, RB_PHASES, v, strlen(v)) : -1;

	if (k < 0)
		fail(p, "unknown phase '%s' (detection, containment, investigation, remediation, post-incident)",
		     v ? v : "");
	free(v);
	if (k < 0)
		return -1;
	if (p->have_phase && (enum rb_phase)k < p->phase)
		return fail(p, "phase '%s' comes before '%s' in the response plan", phase_names[k], phase_names[p->phase]);
	p->phase = (enum rb_phase)k;
	p->have_phase = true;
	return 0;
}

static int set_field(struct parser *p, char **field, const char *what, const char *s, size_t len)
{
	if (*field)
		return fail(p, "a second '%s:'", what);
	*field = trimmed(s, len);
	return *field ? 0 : fail(p, "out of memory");
}

static int parse_line(struct parser *p, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == '#')
		return 0;                            /* blank or comment */
	if (i > 0)
		return parse_step_line(p, s, len);
	const char *colon = memchr(s, ':', len);
	if (!colon)
		return fail(p, "expected 'title:', 'summary:', 'phase:' or 'step:', or an indented line of a step");
	size_t klen = (size_t)(colon - s), rest = len - klen - 1;
	const char *v = colon + 1;
	if (klen == 5 && strncmp(s, "title", 5) == 0)
		return set_field(p, &p->rb->title, "title", v, rest);
	if (klen == 7 && strncmp(s, "summary", 7) == 0)
		return set_field(p, &p->rb->summary, "summary", v, rest);
	if (klen == 5 && strncmp(s, "phase", 5) == 0)
		return set_phase(p, v, rest);
	if (klen == 4 && strncmp(s, "step", 4) == 0)
		return add_step(p, v, rest);
	return fail(p, "unknown field '%.*s' (title, summary, phase, step)", (int)klen, s);
}

int runbook_parse(struct runbook *rb, const char *name, const char *text, size_t len,
                  char *err, size_t errsz)
{
	struct parser p = { .rb = rb, .err = err, .errsz = errsz };

	memset(rb, 0, sizeof *rb);
	rb->name = strdup(name);
	if (memchr(text, '\0', len)) {
		snprintf(err, errsz, "line 1: not a text file (a NUL byte)");
		return -1;
	}
	for (const char *s = text, *end = text + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		p.line++;
		if (parse_line(&p, s, n && s[n - 1] == '\r' ? n - 1 : n) < 0)
			return -1;
		s += n + 1;
	}
	p.line++;
	if (!rb->title)
		return fail(&p, "no 'title:'");
	if (!rb->n_steps)
		return fail(&p, "no 'step:'");
	return 0;
}

int runbook_load(struct runbook *rb, const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(RUNBOOK_MAX_BYTES + 1), msg[400];

	memset(rb, 0, sizeof *rb);
	if (!f || !buf) {
		snprintf(err, errsz, "%s: %s", path, strerror(f ? ENOMEM : errno));
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	size_t n = fread(buf, 1, RUNBOOK_MAX_BYTES + 1, f);
	fclose(f);
	if (n > RUNBOOK_MAX_BYTES) {
		snprintf(err, errsz, "%s: longer than %d KiB", path, RUNBOOK_MAX_BYTES / 1024);
		free(buf);
		return -1;
	}
	const char *base = strrchr(path, '/');
	char *name = strdup(base ? base + 1 : path);
	if (name && strlen(name) > strlen(RUNBOOK_SUFFIX))
		name[strlen(name) - strlen(RUNBOOK_SUFFIX)] = '\0';
	int rc = runbook_parse(rb, name ? name : "?", buf, n, msg, sizeof msg);
	free(name);
	free(buf);
	rb->path = strdup(path);
	if (rc < 0)
		snprintf(err, errsz, "%s:%s", path, msg + strlen("line "));
	return rc;
}

void runbook_free(struct runbook *rb)
{
	for (size_t i = 0; i < rb->n_steps; i++) {
		free(rb->steps[i].title);
		free(rb->steps[i].text);
		free(rb->steps[i].reason);
		free(rb->steps[i].secret);
	}
	free(rb->steps);
	free(rb->name);
	free(rb->path);
	free(rb->title);
	free(rb->summary);
	memset(rb, 0, sizeof *rb);
}

/* --------------------------------------------------------------- the path */

#define RUNBOOK_DIRS 5

/* The directories, most specific first (malloc'd strings, NULL gaps). */
static void runbook_dirs(const struct config *cfg, char *dirs[RUNBOOK_DIRS])
{
	const char *src = getenv("SECTOP_RUNBOOK_DIR");

	dirs[0] = cfg->runbook_dir ? strdup(cfg->runbook_dir) : NULL;
	dirs[1] = conf_user_file("runbooks");
	dirs[2] = conf_system_file("runbooks");
	dirs[3] = src && *src ? strdup(src) : NULL;
	dirs[4] = strdup(PKGDATADIR "/runbooks");
}

static bool is_runbook_name(const char *f)
{
	size_t n = strlen(f), s = strlen(RUNBOOK_SUFFIX);
	return f[0] != '.' && n > s && strcmp(f + n - s, RUNBOOK_SUFFIX) == 0;
}

static bool listed(const struct runbook_entry *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct runbook_entry *)a)->name, ((const struct runbook_entry *)b)->name);
}

static void list_dir(const char *dir, struct runbook_entry **v, size_t *n, size_t *cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!is_runbook_name(e->d_name))
			continue;
		char *path = str_printf("%s/%s", dir, e->d_name), err[512];
		struct runbook rb;
		int rc = path ? runbook_load(&rb, path, err, sizeof err) : -1;
		if (!path || !rb.name || listed(*v, *n, rb.name) || (*n == *cap &&
		    !(*v = realloc(*v, (*cap = *cap ? *cap * 2 : 16) * sizeof **v)))) {
			free(path);
			runbook_free(&rb);
			continue;
		}
		struct runbook_entry *en = &(*v)[(*n)++];
		*en = (struct runbook_entry){ .name = strdup(rb.name), .path = path, .n_steps = rb.n_steps };
		if (rc == 0)
			en->title = strdup(rb.title);
		else                                  /* "name.runbook:2: ...": the directory is long */
			en->error = strdup(strncmp(err, dir, strlen(dir)) == 0 && err[strlen(dir)] == '/' ?
			                   err + strlen(dir) + 1 : err);
		runbook_free(&rb);
	}
	if (d)
		closedir(d);
}

size_t runbook_list(const struct config *cfg, struct runbook_entry **out)
{
	char *dirs[RUNBOOK_DIRS];
	size_t n = 0, cap = 0;

	*out = NULL;
	runbook_dirs(cfg, dirs);
	for (int i = 0; i < RUNBOOK_DIRS; i++) {
		if (dirs[i])
			list_dir(dirs[i], out, &n, &cap);
		free(dirs[i]);
	}
	if (n)
		qsort(*out, n, sizeof **out, by_name);
	return n;
}

void runbook_list_free(struct runbook_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].title);
		free(v[i].error);
	}
	free(v);
}

int runbook_find(const struct config *cfg, const char *name, struct runbook *rb,
                 char *err, size_t errsz)
{
	char *dirs[RUNBOOK_DIRS];
	int rc = -1;
	bool found = false;

	memset(rb, 0, sizeof *rb);
	if (!name || !*name || strchr(name, '/') || name[0] == '.') {
		snprintf(err, errsz, "runbook '%s': a name, not a path", name ? name : "");
		return -1;
	}
	runbook_dirs(cfg, dirs);
	for (int i = 0; i < RUNBOOK_DIRS; i++) {
		char *path = !found && dirs[i] ? str_printf("%s/%s%s", dirs[i], name, RUNBOOK_SUFFIX) : NULL;
		struct stat st;
		if (path && stat(path, &st) == 0) {
			found = true;
			rc = runbook_load(rb, path, err, errsz);
		}
		free(path);
		free(dirs[i]);
	}
	if (!found)
		snprintf(err, errsz, "no runbook '%s' (sectop-runbook(5) says where they are looked for)", name);
	return rc;
}
