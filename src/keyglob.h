/* keyglob.h: Redis glob patterns built from configured key prefixes.
 *
 * Redis matches SCAN's MATCH and PSUBSCRIBE's patterns with the same glob
 * (stringmatchlen): `*`, `?`, `[...]` (with `^` negation and `a-z` ranges)
 * and `\` escapes.  A prefix is any bytes, so each of its bytes that the glob
 * would read as special is escaped; lengths are carried, never strlen(). */
#ifndef SECTOP_KEYGLOB_H
#define SECTOP_KEYGLOB_H

#include <stddef.h>

/* head + escaped prefix + "*": every key that starts with prefix (head is
 * copied as it is: "__keyspace@0__:" for a subscription, "" for SCAN).
 * malloc'd, NUL-terminated, its length in *out_len; NULL when out of memory. */
char *keyglob_prefix(const char *head, const char *prefix, size_t len, size_t *out_len);

/* One pattern that matches every key starting with any of the n prefixes,
 * so that one SCAN pass serves them all: position by position a class of
 * the bytes the prefixes hold there, up to the shortest one, then "*".  It
 * may match more than the prefixes (their crossings: "fa" and "bl" give
 * "[bf][al]*", which matches "ba"): the caller still checks each key.
 * NULL when out of memory or n == 0. */
char *keyglob_union(const char *const *prefix, const size_t *len, size_t n, size_t *out_len);

#endif
