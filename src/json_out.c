#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "sanitize.h"

/* Each run between NUL bytes repaired on its own and the NULs kept: the
 * encoder writes them \u0000, so a binary-safe value keeps every byte. */
json_t *json_out_stringn(const char *s, size_t n)
{
	if (!s)
		return json_null();
	char *all = NULL;
	size_t len = 0;
	for (size_t at = 0; at <= n;) {
		const char *nul = memchr(s + at, '\0', n - at);
		size_t run = nul ? (size_t)(nul - (s + at)) : n - at;
		char *ok = sanitize_utf8_repair(s + at, run);
		size_t k = ok ? strlen(ok) : 0;
		char *grown = ok ? realloc(all, len + k + 1) : NULL;
		if (!grown) {
			free(ok);
			free(all);
			return json_null();
		}
		all = grown;
		memcpy(all + len, ok, k);
		len += k;
		all[len] = '\0';
		free(ok);
		if (!nul)
			break;
		len++;                       /* the NUL itself, kept */
		at += run + 1;
	}
	json_t *j = json_stringn(all, len);
	free(all);
	return j ? j : json_null();
}

json_t *json_out_string(const char *s)
{
	return s ? json_out_stringn(s, strlen(s)) : json_null();
}

/* jansson leaves DEL (0x7f) raw even with JSON_ENSURE_ASCII; in its output
 * a 0x7f byte can only stand inside a string, so it is safe to escape here. */
int json_out_write(const json_t *v, FILE *f)
{
	int rc = json_out_put(v, f, true);

	fputc('\n', f);
	return rc || ferror(f) ? -1 : 0;
}

int json_out_put(const json_t *v, FILE *f, bool pretty)
{
	char *text = json_dumps(v, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	int rc = 0;

	if (!text)
		return -1;
	for (const char *p = text; *p; p++) {
		const char *del = strchr(p, 0x7f);
		size_t run = del ? (size_t)(del - p) : strlen(p);
		if (fwrite(p, 1, run, f) != run)
			rc = -1;
		if (!del)
			break;
		fputs("\\u007f", f);
		p = del;
	}
	free(text);
	return rc || ferror(f) ? -1 : 0;
}
