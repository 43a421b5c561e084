/* iprange.h: the pure part of a range block or unblock.  A range is named
 * only where one is meant (the target of block and unblock): text with a
 * '/' there is a network (ipnet.h's strict form), anything else stays an
 * address and keeps ipaddr.h's strict parsing.  A range wider than /16
 * (IPv4) or /48 (IPv6) is refused: past that a range block is a guess at
 * a network, not a decision about the addresses seen failing in it.
 * Each address that failed in the range is then taken or skipped, and
 * the reason a member is skipped is said, never silently dropped. */
#ifndef SECTOP_IPRANGE_H
#define SECTOP_IPRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "ipnet.h"

#define IPRANGE_WIDEST4 16
#define IPRANGE_WIDEST6 48

/* Is this the text of a range (it holds a '/')? */
bool iprange_is_range(const char *text);

/* A range to act on: a network with a prefix, no host bits set, no wider
 * than IPRANGE_WIDEST4 / IPRANGE_WIDEST6.  0, or -1 with why in err. */
int iprange_parse(const char *text, struct ipnet *out, char *err, size_t errsz);

enum range_verdict {
	RANGE_TAKE,                  /* to be blocked */
	RANGE_OUTSIDE,               /* not an address of the range (or not an address) */
	RANGE_NOT_SOURCE,            /* unspecified, multicast, broadcast: no request comes from it */
	RANGE_ALLOWED,               /* allow-listed */
	RANGE_OWN,                   /* the operator's own SSH client address */
	RANGE_LOCAL,                 /* private, loopback, link-local: a single block asks "yes ADDRESS" */
};

/* Whether a member the audit log named (normal form) is taken into a
 * range block, and if not why, in words, in why (the allow entry named).
 * own: the operator's SSH client address, "" when not over SSH. */
enum range_verdict iprange_member(const struct ipnet *range, const char *ip, const struct allowlist *allow,
                                  int64_t now_s, const char *own, char *why, size_t whysz);

#endif
