/* testenv.h: what the integration tests need from scripts/test.sh.
 *
 * The servers are real: scripts/test.sh starts PostgreSQL, Redis and the
 * HTTP fixture server on loopback and exports where they are.  Run without
 * them, a test skips (exit 77) with a message; with SECTOP_REQUIRE_SERVERS=1
 * (as scripts/test.sh sets) a missing server is a failure instead.
 */
#ifndef SECTOP_TESTENV_H
#define SECTOP_TESTENV_H

#include <stdio.h>
#include <stdlib.h>

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

#endif
