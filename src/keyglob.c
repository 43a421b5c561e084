/* keyglob.c: see keyglob.h. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keyglob.h"

/* Outside a class, these would be glob syntax. */
static bool special(unsigned char c)
{
	return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
}

/* Inside a class, '^' (negation, first), '-' (a range) and ']' (the end)
 * are syntax too; a backslash makes any of them the byte itself. */
static bool class_special(unsigned char c)
{
	return special(c) || c == '^' || c == '-';
}

char *keyglob_prefix(const char *head, const char *prefix, size_t len, size_t *out_len)
{
	size_t hl = strlen(head);
	char *p = malloc(hl + 2 * len + 2), *o = p;

	if (!p)
		return NULL;
	memcpy(o, head, hl);
	o += hl;
	for (size_t i = 0; i < len; i++) {
		if (special((unsigned char)prefix[i]))
			*o++ = '\\';
		*o++ = prefix[i];
	}
	*o++ = '*';
	*o = '\0';
	*out_len = (size_t)(o - p);
	return p;
}

/* The distinct bytes at position i of the prefixes, escaped, as "x" or
 * "[xy]"; returns the end of what was written. */
static char *union_at(char *o, const char *const *prefix, size_t n, size_t i)
{
	bool seen[256] = { false };
	size_t distinct = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)prefix[k][i];
		distinct += !seen[c];
		seen[c] = true;
	}
	if (distinct == 1) {
		unsigned char c = (unsigned char)prefix[0][i];
		if (special(c))
			*o++ = '\\';
		*o++ = (char)c;
		return o;
	}
	*o++ = '[';
	for (int c = 0; c < 256; c++) {
		if (!seen[c])
			continue;
		if (class_special((unsigned char)c))
			*o++ = '\\';
		*o++ = (char)c;
	}
	*o++ = ']';
	return o;
}

char *keyglob_union(const char *const *prefix, const size_t *len, size_t n, size_t *out_len)
{
	if (n == 0)
		return NULL;
	size_t shortest = len[0];
	for (size_t k = 1; k < n; k++)
		if (len[k] < shortest)
			shortest = len[k];
	/* at most "[" + 2 bytes per prefix + "]" per position, then "*" */
	char *p = malloc(shortest * (2 * n + 2) + 2), *o = p;
	if (!p)
		return NULL;
	for (size_t i = 0; i < shortest; i++)
		o = union_at(o, prefix, n, i);
	*o++ = '*';
	*o = '\0';
	*out_len = (size_t)(o - p);
	return p;
}
