/* when.h: a moment as an operator types it, for a look back in time:
 *
 *   2h ago, 90m ago, 1d ago, 30s ago (also "2 hours ago")
 *   03:10                 the last 03:10 (today's, or yesterday's if later than now)
 *   yesterday 14:00, today 09:30
 *   2026-12-06T02:15:00Z, 2026-12-06 02:15, 2026-12-06T02:15+01:00
 *   now
 *
 * Times without a zone are local (TZ).  Pure: now is given. */
#ifndef SECTOP_WHEN_H
#define SECTOP_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* 0 and *out, or -1 with why in err. */
int when_parse(const char *text, time_t now, time_t *out, char *err, size_t errsz);

/* "02:15–02:30" (local; the day too when the period is not today's:
 * "12-05 23:50–00:05"), for a header; ascii: a hyphen for the dash. */
void when_period(char *buf, size_t n, time_t from, time_t to, time_t now, bool ascii);

#endif
