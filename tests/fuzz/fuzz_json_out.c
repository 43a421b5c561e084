/* fuzz_json_out: any bytes (a key name, a row, a header) as a string of the
 * JSON that snapshot and report print.  The JSON must be plain printable
 * ASCII, nothing a terminal acts on, and read back as the bytes given, each
 * invalid one as U+FFFD. */
#include "config.h"

#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "json_out.h"
#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = json_object();
	json_t *v = json_out_stringn((const char *)data, size);
	FUZZ_CHECK(obj && v);
	json_object_set_new(obj, "v", v);

	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	FUZZ_CHECK(f);
	FUZZ_CHECK(json_out_put(obj, f, size & 1) == 0);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((text[i] >= 0x20 && text[i] < 0x7f) || text[i] == '\n');

	json_error_t jerr;
	json_t *back = json_loadb(text, n, JSON_ALLOW_NUL, &jerr);
	FUZZ_CHECK(back);
	json_t *s = json_object_get(back, "v");
	/* each run between NULs repaired (invalid bytes as U+FFFD), the NULs kept */
	FUZZ_CHECK(json_is_string(s));
	const char *got = json_string_value(s);
	size_t got_len = json_string_length(s), at = 0, off = 0;
	while (at <= size) {
		const uint8_t *nul = memchr(data + at, 0, size - at);
		size_t run = nul ? (size_t)(nul - (data + at)) : size - at;
		char *want = sanitize_utf8_repair((const char *)data + at, run);
		FUZZ_CHECK(want && off + strlen(want) <= got_len);
		FUZZ_CHECK(memcmp(got + off, want, strlen(want)) == 0);
		off += strlen(want);
		free(want);
		if (!nul)
			break;
		FUZZ_CHECK(off < got_len && got[off] == '\0');
		off++;
		at += run + 1;
	}
	FUZZ_CHECK(off == got_len);
	json_decref(back);
	free(text);
	json_decref(obj);
	return 0;
}
