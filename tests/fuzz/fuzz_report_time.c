/* fuzz_report_time: any string as --since/--until, a journal record's time
 * and a --fail-on threshold. */
#include "config.h"

#include "conf.h"
#include "fuzz.h"
#include "report.h"
#include "timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	const int64_t now_us = 1796083200LL * 1000000;
	char err[256];

	int64_t t = report_parse_time(s, now_us);
	FUZZ_CHECK(t >= -1);
	timeline_parse_time(s);
	conf_parse_duration_ms(s, 's');
	conf_parse_duration_ms(s, 'm');

	struct report_threshold th;
	if (report_threshold_parse(s, &th, err, sizeof err) == 0)
		FUZZ_CHECK(th.metric >= 0 && report_threshold_names()[th.metric]);
	free(s);
	return 0;
}
