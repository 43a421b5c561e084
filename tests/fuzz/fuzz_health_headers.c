/* fuzz_health_headers: any bytes as the header lines of a health response
 * (a redirect chain's too), as curl hands them over one line at a time;
 * then the posture findings drawn from them, a certificate's date, and the
 * last line as a redirect's target. */
#include "config.h"

#include "fuzz.h"

/* on_header and the capture it feeds are static: take them with the file */
#include "../../src/health.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct health_xfer x = { 0 };
	char *copy = fuzz_cstr(data, size);
	const char *last = copy;

	for (size_t i = 0, start = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		size_t len = i - start + (i < size);
		/* curl's line is exactly len bytes, not a C string: so is ours,
		 * so that reading past it is caught */
		char *line = malloc(len ? len : 1);
		FUZZ_CHECK(line);
		memcpy(line, data + start, len);
		if (len)
			FUZZ_CHECK(on_header(line, 1, len, &x) == len);
		free(line);
		last = copy + start;
		start = i + 1;
	}
	for (int i = 0; i < H_N; i++)
		FUZZ_CHECK(!x.hdr[i] || strlen(x.hdr[i]) <= HEALTH_HEADER_MAX);

	struct health_result r = { 0 };
	r.url = strdup(size && (data[0] & 1) ? "https://api.example/health" : "http://127.0.0.1/h");
	r.http_status = x.last_status;
	r.hsts = x.hdr[H_HSTS];
	r.content_type_options = x.hdr[H_XCTO];
	r.frame_options = x.hdr[H_XFO];
	r.csp = x.hdr[H_CSP];
	r.cors = x.hdr[H_ACAO];
	r.ratelimit_limit = x.hdr[H_RL_LIMIT];
	r.ratelimit_remaining = x.hdr[H_RL_REMAINING];
	r.cert_expires_at = health_parse_cert_date(last);
	/* the last line as a redirect's Location, judged against the URL
	 * the credentials were meant for */
	scheme_allowed(last);
	same_origin(r.url, last);
	health_findings(&r, 1796083200, 14);
	FUZZ_CHECK(r.n_findings <= HEALTH_MAX_FINDINGS);
	health_result_free(&r);
	free(copy);
	return 0;
}
