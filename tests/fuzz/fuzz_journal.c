/* fuzz_journal: any bytes as the journal file (torn, edited, hostile), read
 * back into an incident's timeline and written as Markdown.  Nothing from
 * the file may reach the Markdown as a control character. */
#include "config.h"

#include "fuzz.h"
#include "journal.h"
#include "timeline.h"

static void check_markdown(const char *md, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)md[i];
		FUZZ_CHECK(c >= 0x20 || c == '\n');
		FUZZ_CHECK(c != 0x7f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = 0;
	json_t *all = journal_read(fuzz_file(data, size), &bad);
	FUZZ_CHECK(all);

	/* the incident asked for: the first record's, else every record */
	const char *incident = json_string_value(json_object_get(json_array_get(all, 0), "incident"));
	struct timeline tl;
	if (timeline_build(&tl, all, incident) == 0) {
		char *md = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&md, &n);
		FUZZ_CHECK(f);
		timeline_write_md(&tl, f, "fuzz", 1796083200);
		fclose(f);
		check_markdown(md, n);
		free(md);
		timeline_free(&tl);
	}
	json_decref(all);
	return 0;
}
