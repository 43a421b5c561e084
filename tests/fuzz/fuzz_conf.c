/* fuzz_conf: a configuration file of any bytes, read and validated as
 * sectop reads ~/.config/sectop/sectop.conf, then freed. */
#include "config.h"

#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];

	conf_defaults(&cfg);
	if (conf_load_file(&cfg, fuzz_file(data, size), true, err, sizeof err) == 0)
		conf_validate(&cfg, err, sizeof err);
	FUZZ_CHECK(memchr(err, '\0', sizeof err));
	conf_free(&cfg);

	/* the same bytes as one command-line value of a duration */
	char *s = fuzz_cstr(data, size);
	conf_parse_duration_ms(s, 's');
	free(s);
	return 0;
}
