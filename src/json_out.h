/* json_out.h: JSON for untrusted strings.  Every string is valid UTF-8 (an
 * invalid byte becomes U+FFFD) and the output escapes every control and
 * non-ASCII character (\u001b, \u007f, \u202e), so a consumer gets the
 * value and a terminal showing the raw JSON sees nothing it would act on. */
#ifndef SECTOP_JSON_OUT_H
#define SECTOP_JSON_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* A new JSON string (or null for NULL). */
json_t *json_out_string(const char *s);
json_t *json_out_stringn(const char *s, size_t n);

/* Dump v to f followed by a newline.  Returns 0, or -1 on a write error. */
int json_out_write(const json_t *v, FILE *f);
/* The same without the newline: indented (pretty) or on one line. */
int json_out_put(const json_t *v, FILE *f, bool pretty);

#endif
