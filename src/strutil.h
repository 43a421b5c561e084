/* strutil.h: the small string helpers every module wanted its own copy of. */
#ifndef SECTOP_STRUTIL_H
#define SECTOP_STRUTIL_H

/* A malloc'd formatted string, or NULL when out of memory. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
