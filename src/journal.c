#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "strutil.h"

char *journal_default_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return str_printf("%s/sectop/journal.jsonl", xdg);
	if (home && *home)
		return str_printf("%s/.local/state/sectop/journal.jsonl", home);
	return NULL;
}

/* mkdir -p for the file's directory, new parts 0700. */
static int make_parents(const char *path)
{
	char *dir = strdup(path);
	int rc = 0;

	if (!dir)
		return -1;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(dir);
	return rc;
}

/* A file only its owner (us) can write: what the journal must be. */
static bool private_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 022) && st.st_uid == geteuid();
}

/* The directory's entry for a new file is durable too (fsync'd). */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int journal_open(struct journal *j, const char *path, char *err, size_t errsz)
{
	struct stat st;

	j->fd = -1;
	j->path = NULL;
	if (!path) {
		snprintf(err, errsz, "no journal path (set journal = FILE, or HOME)");
		return -1;
	}
	make_parents(path);
	j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->fd < 0) {
		snprintf(err, errsz, "journal %s: %s", path, strerror(errno));
		return -1;
	}
	if (!private_file(j->fd)) {
		snprintf(err, errsz, "journal %s: must be a regular file of yours that only you can write"
		         " (chmod 600)", path);
		close(j->fd);
		j->fd = -1;
		return -1;
	}
	if (fstat(j->fd, &st) == 0 && st.st_size == 0)
		sync_parent(path);                   /* new (or empty): its name must survive a crash too */
	j->path = strdup(path);
	return 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->path);
	j->path = NULL;
}

int journal_append(struct journal *j, json_t *record, char *err, size_t errsz)
{
	char *text = json_dumps(record, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
	int rc = -1;

	if (!text) {
		snprintf(err, errsz, "journal: cannot encode the record");
		return -1;
	}
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line) {
		free(text);
		snprintf(err, errsz, "journal: out of memory");
		return -1;
	}
	line[n] = '\n';
	/* one write: O_APPEND puts the whole line at the end, never interleaved */
	ssize_t w = j->fd >= 0 ? write(j->fd, line, n + 1) : -1;
	if (w != (ssize_t)(n + 1))
		snprintf(err, errsz, "journal %s: %s", j->path ? j->path : "", w < 0 ? strerror(errno) : "short write");
	else if (fsync(j->fd) < 0)
		snprintf(err, errsz, "journal %s: fsync: %s", j->path, strerror(errno));
	else
		rc = 0;
	free(line);
	return rc;
}

json_t *journal_read(const char *path, size_t *bad)
{
	/* the checks journal_open makes: a link, or a file others can write,
	 * could feed us records nobody journalled */
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	FILE *f = NULL;
	json_t *all;
	char *line = NULL;
	size_t cap = 0;

	*bad = 0;
	if (fd < 0)
		return path && errno == ENOENT ? json_array() : NULL;
	if (!private_file(fd) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	all = json_array();
	while (getline(&line, &cap, f) >= 0) {
		json_t *rec = json_loads(line, 0, NULL);
		if (json_is_object(rec))
			json_array_append_new(all, rec);
		else {
			json_decref(rec);
			(*bad)++;
		}
	}
	free(line);
	fclose(f);
	return all;
}

void journal_new_id(char out[33])
{
	unsigned char b[16];

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)rand();
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

char *journal_path(const char *configured)
{
	return configured ? strdup(configured) : journal_default_path();
}
