/* walkpos.c: see walkpos.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "walkpos.h"

static uint64_t reverse64(uint64_t v)
{
	uint64_t r = 0;

	for (int i = 0; i < 64; i++) {
		r = (r << 1) | (v & 1);
		v >>= 1;
	}
	return r;
}

double walk_fraction(const char *cursor)
{
	char *end;

	if (!cursor || *cursor < '0' || *cursor > '9')
		return 0;
	errno = 0;
	unsigned long long c = strtoull(cursor, &end, 10);
	if (errno || *end)
		return 0;
	/* 2^-64, as a product of exact powers of two */
	return (double)reverse64((uint64_t)c) / 18446744073709551616.0;
}
