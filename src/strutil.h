/* strutil.h: the small string helpers every module wanted its own copy of. */
#ifndef SECTOP_STRUTIL_H
#define SECTOP_STRUTIL_H

/* A malloc'd formatted string, or NULL when out of memory. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#include <stddef.h>

/* Secrets should not linger in freed memory: zero them first, in a way the
 * compiler keeps.  str_* take NUL-terminated strings (NULL is fine). */
void mem_wipe(void *p, size_t n);
void str_wipe(char *s);
void str_wipe_free(char *s);

/* A malloc'd copy of len bytes (any bytes, NUL included) with a NUL after
 * them, for binary-safe names such as Redis keys; NULL when out of memory. */
char *mem_dup(const void *p, size_t len);

/* "12,345": n with a comma every three digits, for counts people read. */
void str_thousands(char *buf, size_t n, unsigned long v);

/* "7d", "6h", "90m", "45s": a whole duration in its largest unit. */
void str_duration(char *buf, size_t n, long seconds);

/* A library's multi-line message (libpq: one line a host tried) as one
 * line: "first; second", cut to n. */
void str_one_line(char *out, size_t n, const char *msg);

#endif
