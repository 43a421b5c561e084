/* fuzz_runbook: any bytes as a runbook file.  A runbook that parses has a
 * title and steps in the response plan's order. */
#include "config.h"

#include "fuzz.h"
#include "runbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runbook rb;
	char err[256];

	memset(&rb, 0, sizeof rb);
	if (runbook_parse(&rb, "fuzz", (const char *)data, size, err, sizeof err) == 0) {
		FUZZ_CHECK(rb.title);
		for (size_t i = 0; i < rb.n_steps; i++) {
			FUZZ_CHECK(rb.steps[i].title);
			FUZZ_CHECK(rb.steps[i].phase < RB_PHASES);
			FUZZ_CHECK(i == 0 || rb.steps[i - 1].phase <= rb.steps[i].phase);
		}
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0]);
	}
	runbook_free(&rb);      /* a refused runbook is freed too */
	return 0;
}
