#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* explicit_bzero where there is one: a plain memset may be optimised away. */
void mem_wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
#endif
}

void str_wipe(char *s)
{
	if (s)
		mem_wipe(s, strlen(s));
}

void str_wipe_free(char *s)
{
	str_wipe(s);
	free(s);
}

void str_thousands(char *buf, size_t n, unsigned long v)
{
	char digits[32], out[48];
	int len = snprintf(digits, sizeof digits, "%lu", v), k = 0;

	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
	snprintf(buf, n, "%s", out);
}

char *mem_dup(const void *p, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

void str_one_line(char *out, size_t n, const char *msg)
{
	size_t o = 0;

	if (!n)
		return;
	for (const char *p = msg; *p && o + 1 < n; p++) {
		if (*p != '\n') {
			out[o++] = *p == '\t' ? ' ' : *p;
			continue;
		}
		while (p[1] == '\t' || p[1] == '\n')
			p++;
		if (p[1] && o + 3 < n) {
			out[o++] = ';';
			out[o++] = ' ';
		}
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

void str_duration(char *buf, size_t n, long seconds)
{
	if (seconds > 0 && seconds % 86400 == 0)
		snprintf(buf, n, "%ldd", seconds / 86400);
	else if (seconds > 0 && seconds % 3600 == 0)
		snprintf(buf, n, "%ldh", seconds / 3600);
	else if (seconds > 0 && seconds % 60 == 0)
		snprintf(buf, n, "%ldm", seconds / 60);
	else
		snprintf(buf, n, "%lds", seconds);
}
