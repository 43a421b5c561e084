/* allowlist.h: addresses that must never be blocked (offices, monitors,
 * partners).  Entries come from `allow = CIDR [until=TIME] [note=TEXT]`
 * lines of the configuration and from `allow-file = PATH` (one entry a
 * line, # comments), which is read again whenever it changes.  An entry
 * past its `until` no longer holds.  A block or extend of an allow-listed
 * address is refused in the gate (actions.c) unless --bypass-allow is
 * given and "bypass ADDRESS" typed; views mark such addresses, and a block
 * the servers set on one is an alert. */
#ifndef SECTOP_ALLOWLIST_H
#define SECTOP_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipnet.h"

struct config;

struct allow_entry {
	struct ipnet net;
	int64_t until_s;             /* 0: no end */
	char note[128];
	char where[96];              /* "allow 2" (the second allow setting), "FILE:12" */
};

struct allowlist {
	struct allow_entry *v;
	size_t n, n_conf;            /* the first n_conf from the configuration */
	char *file;                  /* allow-file, NULL without */
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	off_t size;
	bool file_read;
	char error[256];             /* why the file could not be read now ("" when it could);
	                              * its last good entries are kept meanwhile */
};

/* One entry, as a configuration line's value or a file's line.  0, or -1
 * with why in err. */
int allow_entry_parse(const char *text, struct allow_entry *e, char *err, size_t errsz);

/* The configuration's entries and file.  -1 with err when an entry or the
 * file is bad: sectop stops (exit 2) rather than guard less than asked. */
int allowlist_init(struct allowlist *a, const struct config *cfg, char *err, size_t errsz);
void allowlist_free(struct allowlist *a);
/* Read the file again if it changed; a bad file keeps the last good entries
 * and sets a->error.  Cheap when nothing changed (one stat). */
void allowlist_refresh(struct allowlist *a);
/* The entry that holds ip now, or NULL. */
const struct allow_entry *allowlist_match(const struct allowlist *a, const char *ip, int64_t now_s);
/* "203.0.113.0/24 (allow-file /etc/sectop/allow:3, note: office, until 2026-12-31T00:00:00Z)" */
void allow_entry_describe(const struct allow_entry *e, char *buf, size_t n);

#endif
