/* publish_cost.c: what one publish of the window's figures costs in CPU
 * (src/live.c), without servers: a window (default 15 minutes, argument 1
 * in seconds) at 1000 events/s, 80% ordinary traffic from 50k addresses (3%
 * failing) and 20% credential stuffing from 4 addresses, then 30 publishes
 * (REPS=N) of the top addresses, and of the top addresses with the ranges
 * (RANGES=1 makes the first loop do that too).  Not part of run.sh:
 *
 *   cc -O2 -Ibuild -Isrc bench/publish_cost.c build/libsectop.a -lm -o /tmp/publish_cost
 *
 * -DOLD builds it against a tree from before 3edea03 (live_top_ranges
 * without a grouping, the ranges summed beside the top addresses). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "live.h"
#include "sketch.h"

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int reps = getenv("REPS") ? atoi(getenv("REPS")) : 30, window = argc > 1 ? atoi(argv[1]) : 900;
	struct live_limits lim = { 32768, 8192, 8u << 20 };
	struct live *l = live_new(window, &lim);
	int64_t now_min = 29000000;
	static const char *tenants[] = { "acme", "globex", "initech", "umbrella", "hooli" };
	static const char *attack[] = { "203.0.113.45", "198.51.100.23", "2001:db8:bad:1::17", "192.0.2.77" };
	char ip[64], user[32];

	srand(1);
	live_slide(l, now_min);
	long rows = 1000L * window;
	for (long i = 0; i < rows; i++) {
		struct live_row r = { .ts_us = ((now_min * 60 - window) + i / 1000) * 1000000LL + i % 1000 * 1000 };
		bool atk = rand() % 5 == 0;
		if (atk)
			r.ip = attack[rand() % 4];
		else {
			int a = rand() % 50000;
			snprintf(ip, sizeof ip, "10.%d.%d.%d", a >> 16, (a >> 8) & 255, a & 255);
			r.ip = ip;
		}
		r.tenant = tenants[rand() % 5];
		r.tenant_hash = hash64(r.tenant, strlen(r.tenant));
		snprintf(user, sizeof user, "u%d", rand() % 20000);
		r.has_user = true;
		r.user_hash = hash64(user, strlen(user));
		r.failed = atk || rand() % 100 < 3;
		live_add(l, &r);
	}
	size_t n;
	double t0 = cpu_ms();
	for (int i = 0; i < reps; i++) {
#ifdef OLD
		free(live_top_ips(l, 20, &n));
		free(live_top_ranges(l, 20, &n));
#else
		if (getenv("RANGES")) { struct live_grouping g0 = { .by = RANGES_PREFIX }; struct live_tops t0; live_tops(l, 20, &g0, &t0); free(t0.ips); free(t0.ranges); }
		else free(live_top_ips(l, 20, &n));
#endif
	}
	double t1 = cpu_ms();
#ifndef OLD
	struct live_grouping g = { .by = RANGES_PREFIX };
	for (int i = 0; i < reps; i++) {
		struct live_tops t;
		live_tops(l, 20, &g, &t);
		free(t.ips);
		free(t.ranges);
	}
#endif
	double t2 = cpu_ms();
	struct live_usage u;
	live_usage(l, &u);
	printf("%s: window %ds, %ld rows, %zu address entries; per publish: top addresses%s %.2f ms CPU",
#ifdef OLD
	       "before", window, rows, u.ip_entries, " + ranges", (t1 - t0) / reps);
	printf("\n");
#else
	       "after", window, rows, u.ip_entries, " alone (ranges view closed)", (t1 - t0) / reps);
	printf("; with the ranges (view open) %.2f ms CPU\n", (t2 - t1) / reps);
#endif
	live_free(l);
	return 0;
}
