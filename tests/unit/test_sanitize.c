#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

#define ELLIPSIS "\xe2\x80\xa6"

/* Whether a UTF-8 locale exists: without one the module falls back to its
 * built-in width tables, which cannot know which code points are unassigned. */
static bool have_utf8_locale(void)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!l)
		l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
	if (!l)
		return false;
	freelocale(l);
	return true;
}

/* ------------------------------------------------------------ helpers */

/* Strict UTF-8 (Unicode table 3-7): no overlongs, surrogates or > U+10FFFF.
 * Returns the number of code points decoded into cps (up to max), -1 if invalid. */
static long utf8_decode_all(const char *str, uint32_t *cps, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	long n = 0;

	while (*s) {
		uint32_t c;
		int more;
		unsigned char lo = 0x80, hi = 0xbf;
		if (s[0] < 0x80) {
			c = s[0];
			more = 0;
		} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
			c = s[0] & 0x1f;
			more = 1;
		} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
			c = s[0] & 0x0f;
			more = 2;
			if (s[0] == 0xe0)
				lo = 0xa0;
			if (s[0] == 0xed)
				hi = 0x9f;
		} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
			c = s[0] & 0x07;
			more = 3;
			if (s[0] == 0xf0)
				lo = 0x90;
			if (s[0] == 0xf4)
				hi = 0x8f;
		} else {
			return -1;
		}
		for (int i = 1; i <= more; i++) {
			if (i == 1 && (s[1] < lo || s[1] > hi))
				return -1;
			if ((s[i] & 0xc0) != 0x80)
				return -1;
			c = c << 6 | (s[i] & 0x3f);
		}
		if ((size_t)n < max)
			cps[n] = c;
		n++;
		s += more + 1;
	}
	return n;
}

static bool utf8_valid(const char *s)
{
	uint32_t dummy;
	return utf8_decode_all(s, &dummy, 0) >= 0;
}

static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void check_dup(const char *in, size_t len, int flags, const char *want)
{
	char *got = sanitize_dup(in, len, flags);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* String literals may hold NULs: their length comes from sizeof. */
#define CHECK(lit, want) check_dup((lit), sizeof(lit) - 1, 0, (want))
#define CHECK_ASCII(lit, want) check_dup((lit), sizeof(lit) - 1, SAN_ASCII, (want))

/* One code point alone must come out as <U+XXXX>. */
static void check_cp_escaped(uint32_t cp)
{
	char in[8] = { 0 }, want[16];
	utf8_put(cp, in);
	snprintf(want, sizeof(want), "<U+%04X>", (unsigned)cp);
	check_dup(in, strlen(in), 0, want);

	/* and between two letters, so nothing around it is lost */
	char in2[16], want2[24];
	snprintf(in2, sizeof(in2), "a%sb", in);
	snprintf(want2, sizeof(want2), "a%sb", want);
	check_dup(in2, strlen(in2), 0, want2);
}

static void check_fit(const char *in, int max_cols, int flags, size_t outsz,
		      const char *want, int want_cols)
{
	char out[256];
	assert_true(outsz <= sizeof(out));
	memset(out, 'Z', sizeof(out));
	int cols = sanitize_fit(in, in ? strlen(in) : 0, max_cols, flags, out, outsz);
	for (size_t i = outsz; i < sizeof(out); i++)
		assert_int_equal(out[i], 'Z');
	if (outsz == 0) {
		assert_int_equal(cols, 0);
		return;
	}
	assert_string_equal(out, want);
	assert_int_equal(cols, want_cols);
	assert_int_equal(sanitize_width(out), cols);
	assert_true(strlen(out) < outsz);
}

/* ------------------------------------------------------------ plain text */

static void test_plain_ascii(void **state)
{
	CHECK("hello, world ~ [ok] {x} \\ 100%", "hello, world ~ [ok] {x} \\ 100%");
	CHECK("", "");
	check_dup("abcdef", 3, 0, "abc");
}

static void test_null_input(void **state)
{
	char *p = sanitize_dup(NULL, 12, 0);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	p = sanitize_str(NULL, 0);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	p = sanitize_str("x\x1b", SAN_ASCII);
	assert_string_equal(p, "x\\x1b");
	free(p);
	p = sanitize_utf8_repair(NULL, 3);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	assert_int_equal(sanitize_width(NULL), 0);
}

static void test_printable_unicode_kept(void **state)
{
	CHECK("caf\xc3\xa9", "caf\xc3\xa9");
	CHECK("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	CHECK("\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok");
	CHECK("\xce\xa9mega \xe2\x82\xac \xef\xbf\xbd", "\xce\xa9mega \xe2\x82\xac \xef\xbf\xbd");
	CHECK("\xc2\xa0nbsp", "\xc2\xa0nbsp");
}

/* ------------------------------------------------------------ C0, DEL */

static void test_c0_controls(void **state)
{
	CHECK("a\tb\nc\rd", "a\\tb\\nc\\rd");
	CHECK("\x01\x02\x07\x08\x0b\x0c\x1f", "\\x01\\x02\\x07\\x08\\x0b\\x0c\\x1f");
	CHECK("\x1b", "\\x1b");
	CHECK("\x7f", "\\x7f");
	CHECK("rm\x08\x08\x08ls", "rm\\x08\\x08\\x08ls");

	for (int c = 0; c < 0x20; c++) {
		char in[1] = { (char)c }, want[8];
		if (c == '\t' || c == '\n' || c == '\r')
			snprintf(want, sizeof(want), "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
		else
			snprintf(want, sizeof(want), "\\x%02x", c);
		check_dup(in, 1, 0, want);
	}
}

static void test_nul_inside(void **state)
{
	CHECK("a\0b", "a\\x00b");
	CHECK("\0", "\\x00");
	CHECK("x\0\0", "x\\x00\\x00");
}

/* ------------------------------------------------------------ escape sequences */

static void test_csi(void **state)
{
	CHECK("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	CHECK("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H");
	CHECK("\x1b[1;1H\x1b[?1049h", "\\x1b[1;1H\\x1b[?1049h");
}

static void test_osc(void **state)
{
	CHECK("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07");
	CHECK("\x1b]52;c;cHduZWQ=\x07", "\\x1b]52;c;cHduZWQ=\\x07");
	CHECK("\x1b]52;c;cHduZWQ=\x1b\\", "\\x1b]52;c;cHduZWQ=\\x1b\\");
	/* OSC 8 hyperlink hiding a URL behind harmless text */
	CHECK("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",
	      "\\x1b]8;;http://evil/\\x1b\\click\\x1b]8;;\\x1b\\");
}

static void test_dcs(void **state)
{
	CHECK("\x1bP1$qm\x1b\\", "\\x1bP1$qm\\x1b\\");
	CHECK("\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\",
	      "\\x1bPtmux;\\x1b\\x1b]52;c;eA==\\x07\\x1b\\");
}

static void test_unterminated(void **state)
{
	CHECK("\x1b[", "\\x1b[");
	CHECK("text\x1b[38;5;", "text\\x1b[38;5;");
	CHECK("\x1b]0;title never ends", "\\x1b]0;title never ends");
	CHECK("\x1bP", "\\x1bP");
}

static void test_c1_raw_bytes(void **state)
{
	/* 8-bit CSI, OSC, DCS, ST as single bytes: invalid UTF-8 */
	CHECK("\x9b" "31m", "\\x9b31m");
	CHECK("\x9d" "0;t\x9c", "\\x9d0;t\\x9c");
	CHECK("\x90q\x9c", "\\x90q\\x9c");
	for (int c = 0x80; c < 0xa0; c++) {
		char in[1] = { (char)c }, want[8];
		snprintf(want, sizeof(want), "\\x%02x", c);
		check_dup(in, 1, 0, want);
	}
}

static void test_c1_utf8(void **state)
{
	CHECK("\xc2\x9b" "31m", "<U+009B>31m");
	CHECK("\xc2\x9d" "0;t\xc2\x9c", "<U+009D>0;t<U+009C>");
	CHECK("a\xc2\x85" "b", "a<U+0085>b");
	for (uint32_t cp = 0x80; cp < 0xa0; cp++)
		check_cp_escaped(cp);
}

/* ------------------------------------------------------------ invisible code points */

static void test_bidi(void **state)
{
	static const uint32_t bidi[] = {
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
		0x2066, 0x2067, 0x2068, 0x2069,
		0x061c, 0x200e, 0x200f,
	};
	for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++)
		check_cp_escaped(bidi[i]);
	/* the classic: a file name that reads "exe.txt" backwards */
	CHECK("invoice\xe2\x80\xaetxt.exe", "invoice<U+202E>txt.exe");
}

static void test_zero_width(void **state)
{
	static const uint32_t zw[] = { 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x180e };
	for (size_t i = 0; i < sizeof(zw) / sizeof(zw[0]); i++)
		check_cp_escaped(zw[i]);
	CHECK("ad\xe2\x80\x8bmin", "ad<U+200B>min");
}

static void test_separators(void **state)
{
	check_cp_escaped(0x2028);
	check_cp_escaped(0x2029);
	CHECK("line\xe2\x80\xa8two", "line<U+2028>two");
}

static void test_other_unprintable(void **state)
{
	check_cp_escaped(0xfffe);
	check_cp_escaped(0xffff);
	check_cp_escaped(0xfdd0);
	check_cp_escaped(0x1fffe);
	check_cp_escaped(0xe000);      /* private use */
	check_cp_escaped(0x00ad);      /* soft hyphen */
	check_cp_escaped(0x3164);      /* Hangul filler */
	check_cp_escaped(0xe0041);     /* tag LATIN CAPITAL A */
	CHECK("\xf3\xb0\x80\x80", "<U+F0000>");
	CHECK("\xf4\x8f\xbf\xbf", "<U+10FFFF>");
	CHECK("\xf4\x8f\xbf\xbd", "<U+10FFFD>");
	/* ASCII smuggled in tag characters */
	CHECK("ok\xf3\xa0\x81\x81\xf3\xa0\x81\x82", "ok<U+E0041><U+E0042>");
}

static void test_unassigned(void **state)
{
	if (!have_utf8_locale())
		skip();
	check_cp_escaped(0x0378);
	check_cp_escaped(0x2fffd - 1);  /* U+2FFFC: unassigned, in a wide plane */
}

/* ------------------------------------------------------------ invalid UTF-8 */

static void test_invalid_utf8(void **state)
{
	/* stray continuation bytes */
	CHECK("\x80", "\\x80");
	CHECK("a\xbf" "b", "a\\xbfb");
	CHECK("\x80\x80\x80", "\\x80\\x80\\x80");
	/* bytes that never start a sequence */
	CHECK("\xc0\xc1", "\\xc0\\xc1");
	for (int c = 0xf5; c <= 0xff; c++) {
		char in[1] = { (char)c }, want[8];
		snprintf(want, sizeof(want), "\\x%02x", c);
		check_dup(in, 1, 0, want);
	}
	/* a lead byte followed by something that is not a continuation */
	CHECK("\xc3" "A", "\\xc3A");
	CHECK("\xe2\x82" "A", "\\xe2\\x82A");
	/* resynchronising on a valid sequence */
	CHECK("\xe2\x82\xe2\x82\xac", "\\xe2\\x82\xe2\x82\xac");
	CHECK("\xf0\x9f\xf0\x9f\x98\x80", "\\xf0\\x9f\xf0\x9f\x98\x80");
}

static void test_overlong(void **state)
{
	CHECK("\xc0\xaf", "\\xc0\\xaf");
	CHECK("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	CHECK("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf");
	CHECK("\xc1\xbf", "\\xc1\\xbf");
	CHECK("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");
	CHECK("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf");
	/* an overlong ESC must not become an ESC */
	CHECK("\xc0\x9b", "\\xc0\\x9b");
}

static void test_surrogates(void **state)
{
	CHECK("\xed\xa0\x80", "\\xed\\xa0\\x80");
	CHECK("\xed\xbf\xbf", "\\xed\\xbf\\xbf");
	CHECK("\xed\xa0\xbd\xed\xb8\x80", "\\xed\\xa0\\xbd\\xed\\xb8\\x80");
	/* ED with a second byte below A0 is an ordinary code point (U+D7A3) */
	CHECK("\xed\x9e\xa3", "\xed\x9e\xa3");
}

static void test_above_max(void **state)
{
	CHECK("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	CHECK("\xf7\xbf\xbf\xbf", "\\xf7\\xbf\\xbf\\xbf");
	CHECK("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80");
}

static void test_truncated_at_end(void **state)
{
	CHECK("ab\xe2\x82", "ab\\xe2\\x82");
	CHECK("ab\xc3", "ab\\xc3");
	CHECK("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
	/* the sequence is complete in memory but len stops inside it */
	check_dup("x\xe2\x82\xac", 3, 0, "x\\xe2\\x82");
}

/* ------------------------------------------------------------ combining marks */

static void test_combining(void **state)
{
	/* e + U+0301, e + two marks: kept */
	CHECK("e\xcc\x81", "e\xcc\x81");
	CHECK("e\xcc\x81\xcc\x82", "e\xcc\x81\xcc\x82");
	/* the third and later marks on one base are shown */
	CHECK("e\xcc\x81\xcc\x82\xcc\x83", "e\xcc\x81\xcc\x82<U+0303>");
	CHECK("e\xcc\x81\xcc\x82\xcc\x83\xcc\x84x\xcc\x81",
	      "e\xcc\x81\xcc\x82<U+0303><U+0304>x\xcc\x81");
	/* no base: at the start, after a notation, after an escaped code point */
	CHECK("\xcc\x81" "a", "<U+0301>a");
	CHECK("\x1b\xcc\x81", "\\x1b<U+0301>");
	CHECK("\xff\xcc\x81", "\\xff<U+0301>");
	CHECK("\xe2\x80\xae\xcc\x81", "<U+202E><U+0301>");
	/* a space and a wide character are bases */
	CHECK(" \xcc\x81", " \xcc\x81");
	CHECK("\xe6\x97\xa5\xcc\x81", "\xe6\x97\xa5\xcc\x81");
	/* emoji presentation selector after a heart */
	CHECK("\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f");
}

static void test_zalgo(void **state)
{
	/* Z and ten U+030D: two stay on the Z, eight are shown */
	char in[64] = "Z", want[128] = "Z\xcc\x8d\xcc\x8d";
	for (int i = 0; i < 10; i++)
		strcat(in, "\xcc\x8d");
	for (int i = 2; i < 10; i++)
		strcat(want, "<U+030D>");
	check_dup(in, strlen(in), 0, want);
}

/* ------------------------------------------------------------ SAN_ASCII */

static void test_ascii_mode(void **state)
{
	CHECK_ASCII("plain text", "plain text");
	CHECK_ASCII("caf\xc3\xa9", "caf<U+00E9>");
	CHECK_ASCII("\xe6\x97\xa5", "<U+65E5>");
	CHECK_ASCII("\xf0\x9f\x98\x80", "<U+1F600>");
	CHECK_ASCII("e\xcc\x81", "e<U+0301>");
	CHECK_ASCII("\x1b[0m\t", "\\x1b[0m\\t");
	CHECK_ASCII("\xff\xc0\xaf", "\\xff\\xc0\\xaf");
	CHECK_ASCII("\xc2\x9b", "<U+009B>");
	CHECK_ASCII("\xe2\x80\xae", "<U+202E>");
	CHECK_ASCII("\xf4\x8f\xbf\xbd", "<U+10FFFD>");
}

/* ------------------------------------------------------------ widths */

static void test_width(void **state)
{
	assert_int_equal(sanitize_width(""), 0);
	assert_int_equal(sanitize_width("abc"), 3);
	assert_int_equal(sanitize_width("\\x1b"), 4);
	assert_int_equal(sanitize_width("<U+202E>"), 8);
	assert_int_equal(sanitize_width("caf\xc3\xa9"), 4);
	assert_int_equal(sanitize_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);       /* CJK */
	assert_int_equal(sanitize_width("\xed\x95\x9c"), 2);                   /* Hangul */
	assert_int_equal(sanitize_width("\xef\xbc\xa1"), 2);                   /* fullwidth A */
	assert_int_equal(sanitize_width("\xf0\x9f\x98\x80"), 2);               /* emoji */
	assert_int_equal(sanitize_width("e\xcc\x81"), 1);
	assert_int_equal(sanitize_width(ELLIPSIS), 1);
}

/* The width of a sanitised string is what the UI lays out: it must not
 * depend on the process locale, and the caller's locale must survive. */
static void test_locale_independent(void **state)
{
	const char *cjk = "\xe6\x97\xa5\xe6\x9c\xac";
	locale_t before = uselocale((locale_t)0);

	setlocale(LC_ALL, "C");
	assert_int_equal(sanitize_width(cjk), 4);
	char *p = sanitize_str("\xe6\x97\xa5\xcc\x81\xe2\x80\xae", 0);
	assert_string_equal(p, "\xe6\x97\xa5\xcc\x81<U+202E>");
	free(p);
	assert_true(uselocale((locale_t)0) == before);

	/* a thread-local locale is restored as it was */
	locale_t c = newlocale(LC_CTYPE_MASK, "C", (locale_t)0);
	assert_non_null(c);
	uselocale(c);
	char out[32];
	assert_int_equal(sanitize_fit(cjk, strlen(cjk), 3, 0, out, sizeof(out)), 3);
	assert_true(uselocale((locale_t)0) == c);
	uselocale(before);
	freelocale(c);
}

/* ------------------------------------------------------------ sanitize_fit */

static void test_fit_ascii(void **state)
{
	check_fit("hello", 10, 0, 64, "hello", 5);
	check_fit("hello", 5, 0, 64, "hello", 5);              /* exact: no marker */
	check_fit("hello", 4, 0, 64, "hel" ELLIPSIS, 4);
	check_fit("hello", 4, SAN_ASCII, 64, "hel~", 4);
	check_fit("hello", 2, 0, 64, "h" ELLIPSIS, 2);
	check_fit("hello", 1, 0, 64, ELLIPSIS, 1);
	check_fit("hello", 1, SAN_ASCII, 64, "~", 1);
	check_fit("h", 1, 0, 64, "h", 1);
	check_fit("hello", 0, 0, 64, "", 0);
	check_fit("hello", -5, 0, 64, "", 0);
	check_fit("", 10, 0, 64, "", 0);
	check_fit(NULL, 10, 0, 64, "", 0);
}

static void test_fit_wide(void **state)
{
	const char *jp = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";   /* 6 columns */

	check_fit(jp, 6, 0, 64, jp, 6);
	check_fit(jp, 5, 0, 64, "\xe6\x97\xa5\xe6\x9c\xac" ELLIPSIS, 5);
	/* 日本 would fill 4 columns and leave none for the marker */
	check_fit(jp, 4, 0, 64, "\xe6\x97\xa5" ELLIPSIS, 3);
	check_fit(jp, 3, 0, 64, "\xe6\x97\xa5" ELLIPSIS, 3);
	check_fit(jp, 2, 0, 64, ELLIPSIS, 1);
	check_fit(jp, 1, 0, 64, ELLIPSIS, 1);
	/* a wide character straddling the limit is left out whole */
	check_fit("ab\xe6\x97\xa5", 3, 0, 64, "ab" ELLIPSIS, 3);
	check_fit("ab\xe6\x97\xa5", 4, 0, 64, "ab\xe6\x97\xa5", 4);
	check_fit("a\xf0\x9f\x98\x80" "b", 3, 0, 64, "a" ELLIPSIS, 2);
	check_fit("a\xf0\x9f\x98\x80" "b", 4, 0, 64, "a\xf0\x9f\x98\x80" "b", 4);
	/* marks ride on their base */
	check_fit("e\xcc\x81" "x", 2, 0, 64, "e\xcc\x81" "x", 2);
	check_fit("e\xcc\x81" "xy", 2, 0, 64, "e\xcc\x81" ELLIPSIS, 2);
}

static void test_fit_notation(void **state)
{
	/* "ab\x1b[1m" is shown as ab\x1b[1m: 9 columns */
	const char *csi = "ab\x1b[1m";

	check_fit(csi, 9, 0, 64, "ab\\x1b[1m", 9);
	check_fit(csi, 8, 0, 64, "ab\\x1b[" ELLIPSIS, 8);
	check_fit(csi, 7, 0, 64, "ab\\x1b" ELLIPSIS, 7);
	/* the notation would fit, the marker after it would not: all or nothing */
	check_fit(csi, 6, 0, 64, "ab" ELLIPSIS, 3);
	check_fit(csi, 5, 0, 64, "ab" ELLIPSIS, 3);
	check_fit("\x1b", 4, 0, 64, "\\x1b", 4);
	check_fit("\x1b", 3, 0, 64, ELLIPSIS, 1);
	check_fit("a\xe2\x80\xae" "b", 10, 0, 64, "a<U+202E>b", 10);
	check_fit("a\xe2\x80\xae" "b", 9, 0, 64, "a" ELLIPSIS, 2);
	check_fit("a\xe2\x80\xae" "bc", 10, 0, 64, "a<U+202E>" ELLIPSIS, 10);
	check_fit("a\xe6\x97\xa5", 9, SAN_ASCII, 64, "a<U+65E5>", 9);
	check_fit("a\xe6\x97\xa5", 8, SAN_ASCII, 64, "a~", 2);
}

static void test_fit_tiny_buffer(void **state)
{
	check_fit("hello", 10, 0, 0, "", 0);     /* nothing may be written */
	check_fit("hello", 10, 0, 1, "", 0);
	check_fit("hello", 10, 0, 2, "~", 1);    /* no room for the 3-byte "…" */
	check_fit("hello", 10, 0, 3, "h~", 2);
	check_fit("hello", 10, 0, 4, ELLIPSIS, 1);
	check_fit("hello", 10, 0, 5, "h" ELLIPSIS, 2);
	check_fit("hello", 10, 0, 6, "hello", 5);
	check_fit("hello", 10, SAN_ASCII, 4, "he~", 3);
	/* multi-byte pieces are never split by the byte limit */
	check_fit("\xe6\x97\xa5\xe6\x9c\xac", 10, 0, 4, ELLIPSIS, 1);
	check_fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 10, 0, 7, "\xe6\x97\xa5" ELLIPSIS, 3);
	check_fit("\xe6\x97\xa5", 10, 0, 4, "\xe6\x97\xa5", 2);
	check_fit("\xe6\x97\xa5", 10, 0, 3, "~", 1);
	check_fit("\x1b", 10, 0, 4, ELLIPSIS, 1);
	check_fit("\x1b", 10, 0, 5, "\\x1b", 4);
	check_fit("e\xcc\x81\xcc\x82", 10, 0, 6, "e\xcc\x81\xcc\x82", 1);
	check_fit("e\xcc\x81\xcc\x82", 10, 0, 5, "e" ELLIPSIS, 2);
	check_fit("e\xcc\x81\xcc\x82xy", 10, 0, 7, "e\xcc\x81" ELLIPSIS, 2);
}

static void test_fit_null_out(void **state)
{
	assert_int_equal(sanitize_fit("abc", 3, 10, 0, NULL, 0), 0);
	assert_int_equal(sanitize_fit("abc", 3, 10, 0, NULL, 16), 0);
}

/* ------------------------------------------------------------ utf8_repair */

static void check_repair(const char *in, size_t len, const char *want)
{
	char *got = sanitize_utf8_repair(in, len);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define REPAIR(lit, want) check_repair((lit), sizeof(lit) - 1, (want))
#define FFFD "\xef\xbf\xbd"

static void test_utf8_repair(void **state)
{
	REPAIR("plain", "plain");
	REPAIR("", "");
	REPAIR("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
	REPAIR("a\xff" "b", "a" FFFD "b");
	REPAIR("\x80", FFFD);
	REPAIR("\xc0\xaf", FFFD FFFD);
	REPAIR("\xe0\x80\xaf", FFFD FFFD FFFD);
	REPAIR("\xed\xa0\x80", FFFD FFFD FFFD);
	REPAIR("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	REPAIR("ab\xe2\x82", "ab" FFFD FFFD);
	REPAIR("\xe2\x82\xe2\x82\xac", FFFD FFFD "\xe2\x82\xac");
	/* controls and invisible code points are left to the JSON encoder */
	REPAIR("\x1b[31m\t\r\n\x7f", "\x1b[31m\t\r\n\x7f");
	REPAIR("\xc2\x9b\xe2\x80\xae\xe2\x80\x8b", "\xc2\x9b\xe2\x80\xae\xe2\x80\x8b");
	/* except NUL, which would end the C string and hide the rest */
	REPAIR("a\0b", "a" FFFD "b");
}

/* ------------------------------------------------------------ growth */

static void test_worst_case_growth(void **state)
{
	enum { N = 10000 };
	char *in = malloc(2 * N), *want = malloc(8 * N + 1);
	assert_non_null(in);
	assert_non_null(want);

	memset(in, 0x01, N);
	for (size_t i = 0; i < N; i++)
		memcpy(want + 4 * i, "\\x01", 4);
	want[4 * N] = '\0';
	check_dup(in, N, 0, want);

	for (size_t i = 0; i < N; i++) {
		in[2 * i] = '\xc2';
		in[2 * i + 1] = '\x9b';
		memcpy(want + 8 * i, "<U+009B>", 8);
	}
	want[8 * N] = '\0';
	check_dup(in, 2 * N, 0, want);
	free(in);
	free(want);
}

/* ------------------------------------------------------------ fuzz */

static uint64_t rng_state = 0x5eed5a17c0ffee01ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/* Pieces that stress the interesting paths more often than random bytes would. */
static const char *const fragments[] = {
	"\x1b", "\x1b[", "\x1b]0;", "\x07", "\x1b\\", "\x9b", "\xc2\x9b", "\xc2\x85",
	"\xe2\x80\xae", "\xe2\x81\xa6", "\xd8\x9c", "\xe2\x80\x8b", "\xef\xbb\xbf",
	"\xe2\x80\xa8", "\xcc\x81", "\xcc\x81\xcc\x82\xcc\x83", "\xe6\x97\xa5",
	"\xf0\x9f\x98\x80", "\xef\xb8\x8f", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xc0\xaf", "\xe0\x80\xaf", "\xe2\x82", "\xf0\x9f", "\xc3\xa9", "\t", "\n",
	"\x7f", "\xef\xbf\xbe", "\xf3\xa0\x81\x81", "\xee\x80\x80", " ", "<U+", "\\x",
};

static size_t fuzz_input(char *buf, size_t cap)
{
	size_t n = 0, pieces = rng() % 24;

	for (size_t p = 0; p < pieces; p++) {
		uint64_t r = rng();
		if (r % 3 == 0) {
			const char *f = fragments[(r >> 8) % (sizeof(fragments) / sizeof(fragments[0]))];
			size_t fl = strlen(f);
			if (n + fl > cap)
				break;
			memcpy(buf + n, f, fl);
			n += fl;
		} else if (n < cap) {
			buf[n++] = (char)(r >> 16);
		}
	}
	return n;
}

static bool forbidden_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp < 0xa0)
	       || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)
	       || cp == 0x061c || cp == 0x200e || cp == 0x200f
	       || (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff
	       || cp == 0x180e || cp == 0x2028 || cp == 0x2029
	       || (cp & 0xfffe) == 0xfffe || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Every property the UI relies on, for one sanitised string. */
static void check_safe(const char *out, bool ascii)
{
	uint32_t cps[1024];
	long n = utf8_decode_all(out, cps, 1024);
	assert_true(n >= 0);
	assert_true(n <= 1024);

	int marks = -1;
	for (long i = 0; i < n; i++) {
		uint32_t cp = cps[i];
		assert_false(cp < 0x20 || cp == 0x7f);
		assert_false(forbidden_cp(cp));
		if (ascii)
			assert_true(cp < 0x80);
		if (cp < 0x80) {
			marks = 0;
			continue;
		}
		char one[5] = { 0 };
		utf8_put(cp, one);
		if (sanitize_width(one) == 0) {
			/* a mark follows a base, at most two of them */
			assert_true(marks >= 0 && marks < 2);
			marks++;
		} else {
			marks = 0;
		}
	}
}

static void test_fuzz(void **state)
{
	char in[256], out[80];

	for (int iter = 0; iter < 200000; iter++) {
		size_t len = fuzz_input(in, sizeof(in));
		int flags = (rng() & 7) == 0 ? SAN_ASCII : 0;

		char *dup = sanitize_dup(in, len, flags);
		assert_non_null(dup);
		assert_true(strlen(dup) <= 4 * len);
		check_safe(dup, flags & SAN_ASCII);
		int full = sanitize_width(dup);

		int max_cols = (int)(rng() % 40) - 2;
		size_t outsz = rng() % sizeof(out);
		memset(out, 'Z', sizeof(out));
		int cols = sanitize_fit(in, len, max_cols, flags, out, outsz);
		for (size_t i = outsz; i < sizeof(out); i++)
			assert_int_equal(out[i], 'Z');
		if (outsz == 0) {
			assert_int_equal(cols, 0);
		} else {
			assert_true(strlen(out) < outsz);
			check_safe(out, flags & SAN_ASCII);
			assert_int_equal(sanitize_width(out), cols);
			assert_true(cols <= (max_cols > 0 ? max_cols : 0));
			/* either the whole text, or a prefix of it and the marker */
			if (strcmp(out, dup) != 0) {
				size_t ol = strlen(out);
				const char *mk = (flags & SAN_ASCII) || outsz < 4 ? "~" : ELLIPSIS;
				if (max_cols > 0 && outsz > 1) {
					size_t ml = strlen(mk);
					assert_true(ol >= ml);
					assert_memory_equal(out + ol - ml, mk, ml);
					assert_memory_equal(out, dup, ol - ml);
				} else {
					assert_int_equal(ol, 0);
				}
			} else if (max_cols > 0) {
				assert_int_equal(cols, full);
			}
		}

		char *rep = sanitize_utf8_repair(in, len);
		assert_non_null(rep);
		assert_true(utf8_valid(rep));
		if (memchr(in, 0, len) == NULL && len < sizeof(in)) {
			in[len] = '\0';
			if (utf8_valid(in))
				assert_string_equal(rep, in);
		}
		free(rep);
		free(dup);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ascii),
		cmocka_unit_test(test_null_input),
		cmocka_unit_test(test_printable_unicode_kept),
		cmocka_unit_test(test_c0_controls),
		cmocka_unit_test(test_nul_inside),
		cmocka_unit_test(test_csi),
		cmocka_unit_test(test_osc),
		cmocka_unit_test(test_dcs),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_c1_raw_bytes),
		cmocka_unit_test(test_c1_utf8),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_zero_width),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_other_unprintable),
		cmocka_unit_test(test_unassigned),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_above_max),
		cmocka_unit_test(test_truncated_at_end),
		cmocka_unit_test(test_combining),
		cmocka_unit_test(test_zalgo),
		cmocka_unit_test(test_ascii_mode),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_locale_independent),
		cmocka_unit_test(test_fit_ascii),
		cmocka_unit_test(test_fit_wide),
		cmocka_unit_test(test_fit_notation),
		cmocka_unit_test(test_fit_tiny_buffer),
		cmocka_unit_test(test_fit_null_out),
		cmocka_unit_test(test_utf8_repair),
		cmocka_unit_test(test_worst_case_growth),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
