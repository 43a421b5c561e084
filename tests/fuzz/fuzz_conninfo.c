/* fuzz_conninfo: any string as --db / DATABASE_URL.  Whatever libpq would
 * read a password from, sectop must call a secret: it is scrubbed from argv
 * and refused in a file others can read. */
#include "config.h"

#include <libpq-fe.h>

#include "conf.h"
#include "fuzz.h"

/* Does libpq find a non-empty password in this conninfo or URI? */
static int libpq_sees_password(const char *s)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(s, &err);
	int found = 0;

	PQfreemem(err);
	if (!opts)
		return 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			found = 1;
	PQconninfoFree(opts);
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	bool secret = conf_value_is_secret("db", s);
	if (libpq_sees_password(s) && !secret) {
		fprintf(stderr, "libpq reads a password from '%s'; sectop does not call it a secret\n", s);
		abort();
	}
	free(s);
	return 0;
}
