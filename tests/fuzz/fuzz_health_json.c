/* fuzz_health_json: any bytes as a health endpoint's body, with the status
 * the first byte picks.  The reason and the components must come out whole
 * and bounded, whatever the nesting. */
#include "config.h"

#include "fuzz.h"
#include "health_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 503, 500, 429, 301, 0, 204, 404 };
	long status = size ? statuses[data[0] % 8] : 200;
	struct health_component *comps = NULL;
	size_t n = 0;
	char *reason = NULL;

	enum health_state st = health_parse_body(size ? (const char *)data + 1 : "",
	                                         size ? size - 1 : 0, status, &comps, &n, &reason);
	FUZZ_CHECK(st >= HEALTH_UNKNOWN && st <= HEALTH_DOWN);
	FUZZ_CHECK(n <= HEALTH_MAX_COMPONENTS && (n == 0 || comps));
	FUZZ_CHECK(st != HEALTH_HEALTHY || !reason);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(!comps[i].name || strlen(comps[i].name) <= HEALTH_NAME_MAX);
		FUZZ_CHECK(!comps[i].detail || strlen(comps[i].detail) <= HEALTH_DETAIL_MAX);
	}
	health_components_free(comps, n);
	free(reason);
	return 0;
}
