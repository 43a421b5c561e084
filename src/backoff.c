#include "config.h"

#include "backoff.h"

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms, uint32_t seed)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->cap_ms = cap_ms >= b->base_ms ? cap_ms : b->base_ms;
	b->attempts = 0;
	b->seed = seed ? seed : 0x9e3779b9u;
}

/* xorshift32: enough randomness for jitter, deterministic under test. */
static uint32_t backoff_rand(struct backoff *b)
{
	uint32_t x = b->seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	b->seed = x;
	return x;
}

int64_t backoff_next(struct backoff *b)
{
	int64_t d = b->base_ms;

	for (int i = 0; i < b->attempts && d < b->cap_ms; i++)
		d *= 2;
	if (d > b->cap_ms)
		d = b->cap_ms;
	if (b->attempts < 62)
		b->attempts++;
	int64_t half = d / 2;
	return half + (int64_t)(backoff_rand(b) % (uint32_t)(d - half + 1));
}

void backoff_reset(struct backoff *b)
{
	b->attempts = 0;
}
