/* A terminal's own sequences are swallowed whole; keys stay keys. */
#include "config.h"

#include <curses.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "keys.h"
#include "termseq.h"

/* Feed what follows an ESC; return how many characters were left over as keys. */
static size_t left_over(const char *after_esc, char *keys)
{
	struct termseq t = { 0 };
	size_t n = 0;

	if (!termseq_start(&t, (unsigned char)after_esc[0], true, 0))
		return (size_t)-1;
	for (const char *p = after_esc + 1; *p; p++)
		if (!termseq_swallow(&t, (unsigned char)*p, 1))
			keys[n++] = *p;
	keys[n] = '\0';
	return n;
}

static void test_sequences_swallowed_whole(void **state)
{
	char keys[64];
	(void)state;

	assert_int_equal(left_over("[?1;2c", keys), 0);             /* Device Attributes reply */
	assert_int_equal(left_over("[?1;2cq", keys), 1);            /* and a key after it */
	assert_string_equal(keys, "q");
	assert_int_equal(left_over("]11;rgb:0000/0000/0000\a2", keys), 1);   /* OSC to BEL */
	assert_string_equal(keys, "2");
	assert_int_equal(left_over("]52;c;aGVsbG8=\x1b\\5", keys), 1);       /* OSC 52 to ST */
	assert_string_equal(keys, "5");
	assert_int_equal(left_over("]8;;http://x\x1b\\", keys), 0);          /* OSC 8 */
	assert_int_equal(left_over("P1$r0m\x1b\\", keys), 0);                /* DCS */
	assert_int_equal(left_over("_apc\x1b\\j", keys), 1);                 /* APC */
	assert_int_equal(left_over("[>0;276;0cK", keys), 1);                 /* secondary DA */
	assert_string_equal(keys, "K");
	assert_int_equal(left_over("OPx", keys), 1);                         /* SS3 F1 */
	assert_string_equal(keys, "x");
	/* Alt-key and a lone Esc are not sequences */
	struct termseq t = { 0 };
	assert_false(termseq_start(&t, 'q', true, 0));
	assert_false(termseq_swallow(&t, 'q', 0));
}

static void test_c1_and_limits(void **state)
{
	struct termseq t = { 0 };
	(void)state;

	assert_true(termseq_start(&t, 0x9b, false, 0));              /* 8-bit CSI */
	assert_true(termseq_swallow(&t, '6', 1));
	assert_true(termseq_swallow(&t, 'n', 2));
	assert_false(termseq_swallow(&t, 'j', 3));
	assert_true(termseq_start(&t, 0x9d, false, 0));              /* 8-bit OSC to 8-bit ST */
	assert_true(termseq_swallow(&t, '0', 1));
	assert_true(termseq_swallow(&t, 0x9c, 2));
	assert_false(termseq_swallow(&t, 'j', 3));
	/* a sequence that stalls ends: typing is not eaten */
	assert_true(termseq_start(&t, ']', true, 0));
	assert_true(termseq_swallow(&t, '0', 10));
	assert_false(termseq_swallow(&t, 'q', 10 + TERMSEQ_STALL_MS + 1));
	/* nor one that never ends */
	assert_true(termseq_start(&t, ']', true, 0));
	size_t eaten = 0;
	while (termseq_swallow(&t, 'a', 1))
		eaten++;
	assert_int_equal(eaten, TERMSEQ_MAX);
}

/* A typed character is never a function key: U+0157 is KEY_ENTER's number. */
static void test_typed_characters_are_not_key_codes(void **state)
{
	(void)state;
	assert_int_equal(0x157, KEY_ENTER);
	assert_int_equal(keys_action(KEY_ENTER, true, IN_OVERVIEW), ACT_ENTER);
	assert_int_equal(keys_action(0x157, false, IN_OVERVIEW), ACT_NONE);
	assert_int_equal(keys_action(KEY_UP, false, IN_OVERVIEW), ACT_NONE);
	assert_int_equal(keys_action('q', false, IN_OVERVIEW), ACT_QUIT);
	assert_int_equal(keys_action('q', true, IN_OVERVIEW), ACT_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequences_swallowed_whole),
		cmocka_unit_test(test_c1_and_limits),
		cmocka_unit_test(test_typed_characters_are_not_key_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
