/* backoff.h: capped, jittered exponential backoff for reconnects. */
#ifndef SECTOP_BACKOFF_H
#define SECTOP_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t base_ms, cap_ms;
	int attempts;
	uint32_t seed;
};

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms, uint32_t seed);
/* The delay before the next attempt: base * 2^attempts, capped, with "equal
 * jitter" (half fixed, half random) so many clients do not retry in step. */
int64_t backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);

#endif
