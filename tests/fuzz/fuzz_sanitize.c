/* fuzz_sanitize: any bytes through the sanitiser.  What comes out must be
 * valid UTF-8 holding nothing a terminal interprets, and a fitted copy must
 * stay inside its columns and its buffer. */
#include "config.h"

#include "fuzz.h"
#include "sanitize.h"

/* Next code point of valid UTF-8 at s, its length in *n; aborts otherwise. */
static uint32_t next_cp(const unsigned char *s, size_t *n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return *n = 1, s[0];
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		FUZZ_CHECK(!"a valid UTF-8 lead byte");
	for (size_t i = 1; i < len; i++) {
		FUZZ_CHECK((s[i] & 0xc0) == 0x80);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	FUZZ_CHECK(cp >= least[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
	*n = len;
	return cp;
}

/* Nothing in the output may act on a terminal or reorder what follows. */
static void check_inert(const char *out, int flags)
{
	const unsigned char *s = (const unsigned char *)out;
	for (size_t i = 0, n; s[i]; i += n) {
		uint32_t cp = next_cp(s + i, &n);
		FUZZ_CHECK(cp >= 0x20 && cp != 0x7f);
		FUZZ_CHECK(cp < 0x80 || cp >= 0xa0);                     /* C1 */
		FUZZ_CHECK(!(cp >= 0x200b && cp <= 0x200f));              /* zero width, marks */
		FUZZ_CHECK(!(cp >= 0x2028 && cp <= 0x202e));              /* separators, bidi */
		FUZZ_CHECK(!(cp >= 0x2066 && cp <= 0x2069));              /* bidi isolates */
		FUZZ_CHECK(cp != 0xfeff && cp != 0x061c && cp != 0x00ad);
		if (flags & SAN_ASCII)
			FUZZ_CHECK(cp < 0x80);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte chooses the flags and the columns of the fitted copy */
	int flags = size && (data[0] & 1) ? SAN_ASCII : 0;
	int cols = size ? data[0] >> 1 : 0;
	const char *s = (const char *)data + (size ? 1 : 0);
	size_t n = size ? size - 1 : 0;

	char *out = sanitize_dup(s, n, flags);
	FUZZ_CHECK(out);
	check_inert(out, flags);
	FUZZ_CHECK(sanitize_width(out) >= 0);
	free(out);

	char fit[256];
	size_t outsz = 1 + (size ? data[size - 1] % sizeof fit : 0);
	int used = sanitize_fit(s, n, cols, flags, fit, outsz);
	FUZZ_CHECK(strlen(fit) < outsz);
	FUZZ_CHECK(used >= 0 && used <= (cols > 0 ? cols : 0));
	check_inert(fit, flags);
	FUZZ_CHECK(sanitize_width(fit) <= (cols > 0 ? cols : 0));

	char *rep = sanitize_utf8_repair(s, n);
	FUZZ_CHECK(rep);
	for (size_t i = 0, k; rep[i]; i += k)
		next_cp((const unsigned char *)rep + i, &k);
	free(rep);
	return 0;
}
