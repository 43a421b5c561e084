/* blockset: the bounded list of the most relevant blocks, and fpset, the
 * fingerprints that make a streamed list exact. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockset.h"
#include "fpset.h"
#include "model.h"

static struct block_entry entry(const char *key, size_t len, long ttl)
{
	struct block_entry e = { .ttl_s = ttl, .key_len = len };
	e.key_ip = malloc(len + 1);
	memcpy(e.key_ip, key, len);
	e.key_ip[len] = '\0';
	return e;
}

static enum blockset_result offer(struct blockset *s, const char *key, long ttl, bool pinned)
{
	struct block_entry e = entry(key, strlen(key), ttl);
	return blockset_offer(s, &e, pinned);
}

static void test_relevance_order(void **state)
{
	(void)state;
	char kb[] = "b", ka[] = "a", kz[] = "z", ky[] = "y", kc[] = "c";
	struct blockset_item a = { .e = { .key_ip = kb, .ttl_s = 10 } };
	struct blockset_item b = { .e = { .key_ip = ka, .ttl_s = 3000 } };
	struct blockset_item forever = { .e = { .key_ip = kz, .ttl_s = -1 } };
	struct blockset_item pinned = { .e = { .key_ip = ky, .ttl_s = 5 }, .pinned = true };
	struct blockset_item same = { .e = { .key_ip = kc, .ttl_s = 10 } };
	assert_true(blockset_more_relevant(&b, &a));          /* longer TTL: newer */
	assert_false(blockset_more_relevant(&a, &b));
	assert_true(blockset_more_relevant(&forever, &b));    /* no expiry */
	assert_true(blockset_more_relevant(&pinned, &forever)); /* on screen */
	assert_true(blockset_more_relevant(&a, &same));       /* key order breaks ties */
	assert_false(blockset_more_relevant(&a, &a));
}

static void test_bound_keeps_most_relevant(void **state)
{
	(void)state;
	struct blockset s;
	char key[32];
	blockset_init(&s, 10);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
		offer(&s, key, i, false);
	}
	assert_int_equal(s.n, 10);
	assert_int_equal(s.dropped, 990);
	offer(&s, "pinned", 1, true);
	offer(&s, "forever", -1, false);
	size_t n;
	bool oom;
	struct block_entry *v = blockset_list(&s, false, &n, &oom);
	assert_false(oom);
	assert_int_equal(n, 10);
	assert_string_equal(v[0].key_ip, "pinned");
	assert_string_equal(v[1].key_ip, "forever");
	for (size_t i = 2; i < n; i++)
		assert_int_equal(v[i].ttl_s, 999 - (long)(i - 2));
	for (size_t i = 0; i < n; i++)
		block_entry_free(&v[i]);
	free(v);
	/* the set still works after a list: it was rebuilt */
	assert_true(blockset_has(&s, "pinned", 6));
	assert_int_equal(offer(&s, "10.0.3.231", 5000, false), BLOCKSET_UPDATED);
	blockset_clear(&s);
}

static void test_duplicates_and_removal(void **state)
{
	(void)state;
	struct blockset s;
	blockset_init(&s, 100);
	assert_int_equal(offer(&s, "a", 10, false), BLOCKSET_KEPT);
	assert_int_equal(offer(&s, "a", 20, false), BLOCKSET_UPDATED);
	assert_int_equal(s.n, 1);
	/* binary keys: the same bytes up to a NUL are different keys */
	struct block_entry e1 = entry("k\0x", 3, 5), e2 = entry("k\0y", 3, 5);
	assert_int_equal(blockset_offer(&s, &e1, false), BLOCKSET_KEPT);
	assert_int_equal(blockset_offer(&s, &e2, false), BLOCKSET_KEPT);
	assert_true(blockset_has(&s, "k\0x", 3));
	assert_false(blockset_has(&s, "k", 1));
	assert_true(blockset_remove(&s, "k\0x", 3, NULL));
	assert_false(blockset_remove(&s, "k\0x", 3, NULL));
	/* marked from an event until the walk offers it again */
	bool ev = false;
	blockset_mark_event(&s, "a", 1);
	assert_int_equal(blockset_events_held(&s), 1);
	assert_int_equal(offer(&s, "a", 30, false), BLOCKSET_UPDATED);
	assert_int_equal(blockset_events_held(&s), 0);
	offer(&s, "e", 1, false);
	blockset_mark_event(&s, "e", 1);
	assert_true(blockset_remove(&s, "e", 1, &ev));
	assert_true(ev);
	assert_true(blockset_has(&s, "k\0y", 3));
	/* many removals and re-adds: the heap and the set stay consistent */
	char key[16];
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 90; i++) {
			snprintf(key, sizeof key, "r%d", i);
			offer(&s, key, (i * 37) % 91, false);
		}
		for (int i = 0; i < 90; i += 2) {
			snprintf(key, sizeof key, "r%d", i);
			assert_true(blockset_remove(&s, key, strlen(key), NULL));
		}
	}
	size_t n;
	bool oom;
	struct block_entry *v = blockset_list(&s, true, &n, &oom);
	assert_int_equal(n, 47);      /* a, k\0y and 45 odd r's */
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].ttl_s >= v[i].ttl_s);
	for (size_t i = 0; i < n; i++)
		block_entry_free(&v[i]);
	free(v);
	assert_int_equal(s.n, 0);
	blockset_clear(&s);
}

static void test_fpset(void **state)
{
	(void)state;
	struct fpset f = { 0 };
	bool oom;
	char key[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "10.%d.%d", i / 256, i % 256);
		assert_true(fpset_add(&f, key, strlen(key), &oom));
	}
	for (int i = 0; i < 100000; i += 7) {
		snprintf(key, sizeof key, "10.%d.%d", i / 256, i % 256);
		assert_false(fpset_add(&f, key, strlen(key), &oom));
		assert_false(oom);
	}
	assert_false(fpset_has(&f, "a\0b", 3));
	assert_true(fpset_add(&f, "a\0b", 3, &oom));
	assert_true(fpset_add(&f, "a\0c", 3, &oom));
	assert_true(fpset_has(&f, "a\0b", 3));
	assert_true(fpset_has(&f, "10.0.7", 6));
	assert_false(fpset_has(&f, "10.0.7.", 7));
	assert_int_equal(f.n, 100002);
	fpset_free(&f);
	assert_false(fpset_has(&f, "a\0b", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relevance_order),
		cmocka_unit_test(test_bound_keeps_most_relevant),
		cmocka_unit_test(test_duplicates_and_removal),
		cmocka_unit_test(test_fpset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
