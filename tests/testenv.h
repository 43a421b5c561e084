/* testenv.h: what the integration tests need from scripts/test.sh.
 *
 * The servers are real: scripts/test.sh starts PostgreSQL, Redis and the
 * HTTP fixture server on loopback and exports where they are.  Run without
 * them, a test skips (exit 77) with a message; with SECTOP_REQUIRE_SERVERS=1
 * (as scripts/test.sh sets) a missing server is a failure instead.
 */
#ifndef SECTOP_TESTENV_H
#define SECTOP_TESTENV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline const char *testenv_need(const char *var)
{
	const char *v = getenv(var);
	if (v && *v)
		return v;
	const char *req = getenv("SECTOP_REQUIRE_SERVERS");
	if (req && *req == '1') {
		fprintf(stderr, "%s is not set: the test servers are not running\n", var);
		exit(99);      /* automake: hard error */
	}
	fprintf(stderr, "skip: %s is not set (run scripts/test.sh to start the servers)\n", var);
	exit(77);
}

/* Remove a test's scratch directory (made with mkdtemp) and all in it. */
static inline int testenv_rmtree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A loop turn's time, less the time its thread stood ready on a run queue
 * while other processes had the CPU.  What the tests bound is blocking (a
 * call that waits on a server), which a busy machine's scheduling must not
 * look like: the second field of /proc/thread-self/schedstat is that wait,
 * in ns.  CPU time the turn spends is counted in full.  Where the kernel
 * keeps no schedstat, the wall time.
 */
struct turn_clock {
	int64_t wall_ns, queued_ns;
};

static inline int64_t testenv_queued_ns(void)
{
	unsigned long long on_cpu, queued = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &on_cpu, &queued) != 2)
			queued = 0;
		fclose(f);
	}
	return (int64_t)queued;
}

static inline struct turn_clock turn_clock_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (struct turn_clock){ (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, testenv_queued_ns() };
}

/* Milliseconds since start, less the run-queue wait since then. */
static inline int64_t turn_clock_ms(struct turn_clock start)
{
	struct turn_clock now = turn_clock_start();

	return ((now.wall_ns - start.wall_ns) - (now.queued_ns - start.queued_ns)) / 1000000;
}

#endif
