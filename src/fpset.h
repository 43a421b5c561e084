/* fpset.h: a set of 64-bit fingerprints of byte strings.
 *
 * Streaming every block key of a walk (`sectop snapshot --all-blocks`) must
 * list each once, and SCAN may return a key twice when Redis resizes its
 * table during the pass.  Remembering 8 bytes per key instead of the key
 * and its value keeps memory at ~16-32 bytes a block; two keys share a
 * fingerprint with odds of about n^2 / 2^65 (2e-9 for a million keys). */
#ifndef SECTOP_FPSET_H
#define SECTOP_FPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fpset {
	uint64_t *slots;             /* 0: empty */
	size_t n, cap;
};

/* Add the key's fingerprint: true if it was not there (and was added);
 * false if it was, or when out of memory (*oom set). */
bool fpset_add(struct fpset *s, const char *key, size_t len, bool *oom);
/* Whether the key's fingerprint is there. */
bool fpset_has(const struct fpset *s, const char *key, size_t len);
void fpset_free(struct fpset *s);

#endif
