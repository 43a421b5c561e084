/* resolve.h: a host name looked up off the loop's thread, with a deadline
 * the caller keeps.
 *
 * libcurl 7.88 (Debian 12) runs its threaded resolver in a helper thread but
 * joins that thread when a transfer ends or is removed, so a DNS server that
 * never answers held the one loop for as long as getaddrinfo waited (a
 * minute and more).  Here each lookup runs in a detached thread; the caller
 * polls a pipe, and at its deadline abandons the lookup, which then frees
 * itself whenever getaddrinfo returns.  The answer goes to curl as a
 * CURLOPT_RESOLVE entry, so curl never resolves the name itself.
 */
#ifndef SECTOP_RESOLVE_H
#define SECTOP_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

struct resolve;

/* Start looking up host (for port).  NULL if no thread can be started. */
struct resolve *resolve_start(const char *host, int port);

/* Readable once the lookup has finished. */
int resolve_fd(const struct resolve *r);

/* After resolve_fd became readable: 0 with *entry the CURLOPT_RESOLVE line
 * "host:port:addr[,addr...]" (malloc'd), or -1 with the reason in err.
 * The lookup is then freed. */
int resolve_finish(struct resolve *r, char **entry, char *err, size_t errsz);

/* Give up on it (its deadline passed, or the check ended): freed now or
 * when getaddrinfo returns, whichever is last. */
void resolve_abandon(struct resolve *r);

/* Is host an IP address literal ("192.0.2.1", "::1", without brackets)? */
bool resolve_is_literal(const char *host);

#endif
