#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "when.h"

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "2h ago", "2 hours ago": seconds, or -1. */
static long long ago(const char *s)
{
	static const struct { const char *name; long long s; } units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
		{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
		{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
		{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
		{ "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
	};
	char *end;
	char unit[16];
	size_t k = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	long long n = strtoll(s, &end, 10);
	if (n < 0 || n > 100000)
		return -1;
	s = skip_space(end);
	while (isalpha((unsigned char)*s) && k + 1 < sizeof unit)
		unit[k++] = (char)tolower((unsigned char)*s++);
	unit[k] = '\0';
	s = skip_space(s);
	if (strcasecmp(s, "ago") != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(unit, units[i].name) == 0)
			return n * units[i].s;
	return -1;
}

/* "HH:MM" or "HH:MM:SS" and nothing after: 0, else -1. */
static int clock_of_day(const char *s, int *h, int *m, int *sec)
{
	int used = 0;

	*sec = 0;
	if (sscanf(s, "%2d:%2d%n", h, m, &used) != 2)
		return -1;
	s += used;
	if (*s == ':') {
		if (sscanf(s, ":%2d%n", sec, &used) != 1)
			return -1;
		s += used;
	}
	if (*skip_space(s) || *h < 0 || *h > 23 || *m < 0 || *m > 59 || *sec < 0 || *sec > 59)
		return -1;
	return 0;
}

/* Local midnight days_back days before now's day, at h:m:s. */
static time_t local_at(time_t now, int days_back, int h, int m, int s)
{
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_mday -= days_back;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	tm.tm_isdst = -1;                    /* mktime decides, across a change too */
	return mktime(&tm);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long long days_from_civil(long long y, int mo, int d)
{
	y -= mo <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* ISO 8601: DATE[(T| )HH:MM[:SS[.frac]]][Z|(+|-)HH[:]MM]. */
static int iso8601(const char *s, time_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
		return -1;
	s += used;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &used) != 2 || used != 5)
			return -1;
		s += 1 + used;
		if (*s == ':') {
			if (sscanf(s, ":%2d%n", &sec, &used) != 1 || used != 3)
				return -1;
			s += used;
			if (*s == '.' || *s == ',')
				for (s++; isdigit((unsigned char)*s); s++)
					;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (!*skip_space(s)) {                    /* no zone: local */
		struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		                 .tm_hour = h, .tm_min = mi, .tm_sec = sec, .tm_isdst = -1 };
		*out = mktime(&tm);
		return *out == (time_t)-1 ? -1 : 0;
	}
	long long off = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int oh, om = 0, sign = *s == '-' ? -1 : 1;
		if (sscanf(s + 1, "%2d%n", &oh, &used) != 1 || used != 2)
			return -1;
		s += 3;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char)*s)) {
			if (sscanf(s, "%2d%n", &om, &used) != 1 || used != 2)
				return -1;
			s += 2;
		}
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600LL + om * 60LL);
	} else {
		return -1;
	}
	if (*skip_space(s))
		return -1;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + sec - off);
	return 0;
}

int when_parse(const char *text, time_t now, time_t *out, char *err, size_t errsz)
{
	char buf[96];
	const char *s = skip_space(text ? text : "");
	int h, m, sec;
	long long back;
	size_t len = strlen(s);

	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= sizeof buf)
		len = 0;                           /* too long for any form: refused below */
	memcpy(buf, s, len);
	buf[len] = '\0';
	s = buf;

	if (strcasecmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if ((back = ago(s)) >= 0) {
		*out = now - (time_t)back;
		return 0;
	}
	if (clock_of_day(s, &h, &m, &sec) == 0) {
		*out = local_at(now, 0, h, m, sec);
		if (*out > now)
			*out = local_at(now, 1, h, m, sec);   /* 03:10 at 02:00: last night's */
		return 0;
	}
	if (strncasecmp(s, "yesterday", 9) == 0 && clock_of_day(skip_space(s + 9), &h, &m, &sec) == 0) {
		*out = local_at(now, 1, h, m, sec);
		return 0;
	}
	if (strncasecmp(s, "today", 5) == 0 && clock_of_day(skip_space(s + 5), &h, &m, &sec) == 0) {
		*out = local_at(now, 0, h, m, sec);
		return 0;
	}
	if (iso8601(s, out) == 0)
		return 0;
	snprintf(err, errsz, "not a time: try 2h ago, 03:10, yesterday 14:00 or 2026-12-06T02:15Z");
	return -1;
}

void when_period(char *buf, size_t n, time_t from, time_t to, time_t now, bool ascii)
{
	struct tm a, b, today;
	char day[16] = "", x[8], y[8];

	localtime_r(&from, &a);
	localtime_r(&to, &b);
	localtime_r(&now, &today);
	if (a.tm_yday != today.tm_yday || a.tm_year != today.tm_year)
		strftime(day, sizeof day, "%m-%d ", &a);
	strftime(x, sizeof x, "%H:%M", &a);
	strftime(y, sizeof y, "%H:%M", &b);
	snprintf(buf, n, "%s%s%s%s", day, x, ascii ? "-" : "\u2013", y);
}
