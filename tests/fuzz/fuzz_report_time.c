/* fuzz_report_time: any string as --since/--until, --at (and the
 * console's @), a journal record's time and a --fail-on threshold. */
#include "config.h"

#include "conf.h"
#include "fuzz.h"
#include "report.h"
#include "timeline.h"
#include "when.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	const int64_t now_us = 1796083200LL * 1000000;
	char err[256];

	int64_t t = report_parse_time(s, now_us);
	FUZZ_CHECK(t >= -1);
	timeline_parse_time(s);

	/* a look back ends on a minute, never after now; a refusal says so in print */
	time_t at;
	err[0] = '\0';
	if (when_look_back(s, (time_t)(now_us / 1000000), &at, err, sizeof err) == 0)
		FUZZ_CHECK(at <= now_us / 1000000 && at % 60 == 0);
	else
		for (const char *c = err; *c; c++)
			FUZZ_CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
	conf_parse_duration_ms(s, 's');
	conf_parse_duration_ms(s, 'm');

	struct report_threshold th;
	if (report_threshold_parse(s, &th, err, sizeof err) == 0)
		FUZZ_CHECK(th.metric >= 0 && report_threshold_names()[th.metric]);
	free(s);
	return 0;
}
