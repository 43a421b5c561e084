#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "allowlist.h"
#include "conf.h"
#include "report.h"

/* The next space-separated word of *p (NULL at the end). */
static const char *next_word(const char **p, size_t *len)
{
	const char *s = *p;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return NULL;
	const char *e = s;
	while (*e && !isspace((unsigned char)*e))
		e++;
	*len = (size_t)(e - s);
	*p = e;
	return s;
}

int allow_entry_parse(const char *text, struct allow_entry *e, char *err, size_t errsz)
{
	char word[128], why[200];
	const char *p = text;
	size_t len;

	memset(e, 0, sizeof *e);
	const char *w = next_word(&p, &len);
	if (!w || len >= sizeof word) {
		snprintf(err, errsz, "%s", w ? "too long for a network" : "an allow entry needs a network (CIDR)");
		return -1;
	}
	memcpy(word, w, len);
	word[len] = '\0';
	if (ipnet_parse(word, true, &e->net, why, sizeof why) < 0) {
		snprintf(err, errsz, "allow %.60s: %s", word, why);
		return -1;
	}
	while ((w = next_word(&p, &len))) {
		if (len > 5 && strncmp(w, "note=", 5) == 0) {
			/* the note is the rest of the line */
			snprintf(e->note, sizeof e->note, "%s", w + 5);
			size_t n = strlen(e->note);
			while (n && isspace((unsigned char)e->note[n - 1]))
				e->note[--n] = '\0';
			return 0;
		}
		if (len > 6 && strncmp(w, "until=", 6) == 0 && len - 6 < sizeof word) {
			memcpy(word, w + 6, len - 6);
			word[len - 6] = '\0';
			/* a date or time: a duration would mean "that long ago" */
			int64_t us = strchr(word, '-') ? report_parse_time(word, 0) : -1;
			if (us <= 0) {
				snprintf(err, errsz, "allow: until=%.40s is not an ISO 8601 date or time", word);
				return -1;
			}
			e->until_s = us / 1000000;
			continue;
		}
		snprintf(err, errsz, "allow: unexpected '%.*s' (after the network: until=TIME, note=TEXT)",
		         (int)(len > 40 ? 40 : len), w);
		return -1;
	}
	return 0;
}

static int add(struct allowlist *a, const struct allow_entry *e)
{
	struct allow_entry *v = realloc(a->v, (a->n + 1) * sizeof *v);
	if (!v)
		return -1;
	a->v = v;
	a->v[a->n++] = *e;
	return 0;
}

/* Read the file whole into fresh entries after the configuration's; on
 * any error the old ones stay. */
static int read_file(struct allowlist *a, char *err, size_t errsz)
{
	FILE *f = fopen(a->file, "re");
	char line[512];
	int lineno = 0;
	struct allowlist fresh = { 0 };

	if (!f) {
		snprintf(err, errsz, "allow-file %s: %s", a->file, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < a->n_conf; i++)
		add(&fresh, &a->v[i]);
	while (fgets(line, sizeof line, f)) {
		struct allow_entry e;
		char why[256];
		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		const char *p = line;
		size_t len;
		if (!next_word(&p, &len))
			continue;
		if (allow_entry_parse(line, &e, why, sizeof why) < 0) {
			snprintf(err, errsz, "%s:%d: %s", a->file, lineno, why);
			fclose(f);
			free(fresh.v);
			return -1;
		}
		snprintf(e.where, sizeof e.where, "%.80s:%d", a->file, lineno);
		if (add(&fresh, &e) < 0) {
			snprintf(err, errsz, "out of memory");
			fclose(f);
			free(fresh.v);
			return -1;
		}
	}
	fclose(f);
	free(a->v);
	a->v = fresh.v;
	a->n = fresh.n;
	return 0;
}

static bool file_changed(struct allowlist *a, struct stat *st)
{
	int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	return !a->file_read || st->st_dev != a->dev || st->st_ino != a->ino || ns != a->mtime_ns ||
	       st->st_size != a->size;
}

static int load_if_changed(struct allowlist *a, char *err, size_t errsz)
{
	struct stat st;

	if (stat(a->file, &st) < 0) {
		snprintf(err, errsz, "allow-file %s: %s", a->file, strerror(errno));
		return -1;
	}
	if (!file_changed(a, &st))
		return 0;
	if (read_file(a, err, errsz) < 0)
		return -1;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	a->size = st.st_size;
	a->file_read = true;
	return 0;
}

int allowlist_init(struct allowlist *a, const struct config *cfg, char *err, size_t errsz)
{
	memset(a, 0, sizeof *a);
	for (size_t i = 0; i < cfg->allow.n; i++) {
		struct allow_entry e;
		if (allow_entry_parse(cfg->allow.v[i], &e, err, errsz) < 0 || add(a, &e) < 0) {
			allowlist_free(a);
			return -1;
		}
		snprintf(a->v[a->n - 1].where, sizeof a->v[0].where, "allow setting %zu", i + 1);
	}
	a->n_conf = a->n;
	if (cfg->allow_file && !(a->file = strdup(cfg->allow_file))) {
		allowlist_free(a);
		return -1;
	}
	if (a->file && load_if_changed(a, err, errsz) < 0) {
		allowlist_free(a);
		return -1;
	}
	return 0;
}

void allowlist_free(struct allowlist *a)
{
	free(a->v);
	free(a->file);
	memset(a, 0, sizeof *a);
}

void allowlist_refresh(struct allowlist *a)
{
	if (!a->file)
		return;
	if (load_if_changed(a, a->error, sizeof a->error) == 0)
		a->error[0] = '\0';
}

const struct allow_entry *allowlist_match(const struct allowlist *a, const char *ip, int64_t now_s)
{
	for (size_t i = 0; a && i < a->n; i++)
		if ((!a->v[i].until_s || now_s < a->v[i].until_s) && ipnet_contains(&a->v[i].net, ip))
			return &a->v[i];
	return NULL;
}

void allow_entry_describe(const struct allow_entry *e, char *buf, size_t n)
{
	char net[IPNET_LEN], until[40] = "";

	ipnet_format(&e->net, net, sizeof net);
	if (e->until_s) {
		time_t t = (time_t)e->until_s;
		struct tm tm;
		strftime(until, sizeof until, ", until %Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	}
	snprintf(buf, n, "%s (%s%s%s%s)", net, e->where, e->note[0] ? ", note: " : "", e->note, until);
}
