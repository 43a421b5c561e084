/* fuzz_redis_url: any string as --redis / REDIS_URL.  A target that parses
 * is shown without its password, and what is shown parses again to the
 * same place. */
#include "config.h"

#include <stdbool.h>

#include "conf.h"
#include "fuzz.h"
#include "redis_url.h"

/* One file, however many slashes: "///run/r.sock" is "/run/r.sock". */
static bool same_path(const char *a, const char *b)
{
	for (;;) {
		while (a[0] == '/' && a[1] == '/')
			a++;
		while (b[0] == '/' && b[1] == '/')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++, b++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fuzz_cstr(data, size);
	struct redis_target t, again;
	char err[256], shown[512];

	conf_value_is_secret("redis", url);
	if (redis_url_parse(url, &t, err, sizeof err) == 0) {
		FUZZ_CHECK(t.host[0] || t.path[0] || t.n_sentinels);
		int n = redis_target_display(&t, shown, sizeof shown);
		FUZZ_CHECK(n >= 0 && (size_t)n < sizeof shown);
		if (redis_url_parse(shown, &again, err, sizeof err) == 0) {
			if (strcmp(t.host, again.host) != 0 || t.port != again.port ||
			    !same_path(t.path, again.path) || t.db != again.db) {
				fprintf(stderr, "shown '%s' is another place: host '%s'/'%s' port %d/%d "
				        "path '%s'/'%s' db %d/%d\n", shown, t.host, again.host, t.port,
				        again.port, t.path, again.path, t.db, again.db);
				abort();
			}
			redis_target_free(&again);
		} else {
			fprintf(stderr, "shown '%s' does not parse: %s\n", shown, err);
			abort();
		}
		redis_target_free(&t);
	}
	free(url);
	return 0;
}
