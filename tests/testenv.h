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
 * What a loop turn did with its time.  What the tests bound is blocking: a
 * turn that sleeps on a server (a connect, a read, a name lookup) beyond
 * the poll() wait it was given.  So a turn's sleep is its wall time less
 * the CPU it spent (CLOCK_THREAD_CPUTIME_ID) and less the time it stood
 * ready on a run queue while other processes had the CPU (the second field
 * of /proc/thread-self/schedstat, in ns; where the kernel keeps none, that
 * wait counts as sleep).  Neither a busy machine nor a sanitizer's slower
 * code then looks like blocking, while a 100 ms sleep still measures
 * 100 ms.  The bound is 150 ms: a call that waits on one of the tests'
 * stopped or hung servers waits at least their timeout (300 ms and up),
 * while on a machine running four lanes of tests, each with its own
 * servers writing to the same disk, a turn with no such call in it was
 * seen asleep for 89 ms (of 40 runs of the integration tests, once).  The
 * CPU a turn spends is bounded too, more loosely: a turn that computes for
 * long freezes the screen as surely as one that waits.
 */
#define TURN_SLEEP_MAX_MS 150     /* past its poll() wait */
#define TURN_CPU_MAX_MS 250       /* the sanitizers' builds included */

struct turn_clock {
	int64_t wall_ns, cpu_ns, queued_ns;
};

struct turn_worst {
	int64_t slept_ms, cpu_ms;
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

static inline int64_t testenv_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline struct turn_clock turn_clock_start(void)
{
	return (struct turn_clock){ testenv_ns(CLOCK_MONOTONIC), testenv_ns(CLOCK_THREAD_CPUTIME_ID),
	                            testenv_queued_ns() };
}

/* Note a turn that began at start and was allowed to wait wait_ms in poll(). */
static inline void turn_worst_note(struct turn_worst *w, struct turn_clock start, int wait_ms)
{
	struct turn_clock now = turn_clock_start();
	int64_t cpu = now.cpu_ns - start.cpu_ns;
	int64_t slept = (now.wall_ns - start.wall_ns) - cpu - (now.queued_ns - start.queued_ns);
	int64_t slept_over_ms = slept / 1000000 - wait_ms;

	if (slept_over_ms > w->slept_ms)
		w->slept_ms = slept_over_ms;
	if (cpu / 1000000 > w->cpu_ms)
		w->cpu_ms = cpu / 1000000;
}

/* SECTOP_TEST_ONLY=PATTERN runs only the tests whose names match it
 * (cmocka's filter: * and ?), to chase one test without the rest. */
#ifdef cmocka_unit_test
static inline void testenv_only(void)
{
	const char *only = getenv("SECTOP_TEST_ONLY");

	if (only && *only)
		cmocka_set_test_filter(only);
}

/* No turn slept past its poll() wait, nor computed for long. */
static inline void turn_worst_check(const struct turn_worst *w)
{
	print_message("worst loop turn: slept %lld ms past its wait, %lld ms of CPU\n",
	              (long long)w->slept_ms, (long long)w->cpu_ms);
	if (w->slept_ms >= TURN_SLEEP_MAX_MS)
		fail_msg("a loop turn slept %lld ms past its wait", (long long)w->slept_ms);
	if (w->cpu_ms >= TURN_CPU_MAX_MS)
		fail_msg("a loop turn took %lld ms of CPU", (long long)w->cpu_ms);
}
#endif

#endif
