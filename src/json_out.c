#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "sanitize.h"

json_t *json_out_stringn(const char *s, size_t n)
{
	if (!s)
		return json_null();
	char *ok = sanitize_utf8_repair(s, n);
	json_t *j = ok ? json_string(ok) : NULL;
	free(ok);
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
