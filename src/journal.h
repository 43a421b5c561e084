/* journal.h: the local, append-only record of every operator action.
 *
 * One JSON object per line, in a file only its owner can read or write
 * ($XDG_STATE_HOME/sectop/journal.jsonl, else ~/.local/state/sectop/...).
 * Each record is written with a single write() on an O_APPEND descriptor
 * and fsync'd before the call returns, so a record is either whole on disk
 * or absent, and an action whose intent could not be recorded is refused.
 */
#ifndef SECTOP_JOURNAL_H
#define SECTOP_JOURNAL_H

#include <jansson.h>
#include <stddef.h>

struct journal {
	int fd;
	char *path;
};

/* The default path (malloc'd), or NULL without HOME and XDG_STATE_HOME. */
char *journal_default_path(void);
/* The configured path (--journal) copied, else the default. */
char *journal_path(const char *configured);

/* Open (creating the file 0600 and its directory 0700).  A journal that
 * others can write to is refused.  0, or -1 with err. */
int journal_open(struct journal *j, const char *path, char *err, size_t errsz);
void journal_close(struct journal *j);

/* Append one record (an object) as a line, durably.  0 or -1 with err. */
int journal_append(struct journal *j, json_t *record, char *err, size_t errsz);

/* Every record in the file, oldest first (a JSON array; a line that is not
 * an object is skipped and counted in *bad).  An absent file is empty.  NULL
 * if the file cannot be read, or is not what journal_open accepts (a
 * symbolic link, not a regular file, another's, writable by others). */
json_t *journal_read(const char *path, size_t *bad);

/* A fresh random id for an action or an idempotency key (32 hex digits). */
void journal_new_id(char out[33]);

#endif
