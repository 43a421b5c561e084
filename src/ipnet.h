/* ipnet.h: networks (CIDR ranges) of addresses, for the allow-list and for
 * range blocks.  A network is written the strict way an address is
 * (ipaddr.h: no shorthand, octal or hex parts) with a prefix length, and
 * its host bits must be zero: "203.0.113.7/24" is refused with the network
 * it probably means, never silently widened. */
#ifndef SECTOP_IPNET_H
#define SECTOP_IPNET_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"

#define IPNET_LEN (IPADDR_LEN + 4)

struct ipnet {
	int family;                  /* AF_INET or AF_INET6 */
	unsigned char addr[16];      /* network order; IPv4 in the first 4 */
	int prefix;                  /* 0..32 or 0..128 */
};

/* 0, or -1 with why in err.  A plain address is a network of one
 * (/32 or /128) only when allow_host. */
int ipnet_parse(const char *in, bool allow_host, struct ipnet *out, char *err, size_t errsz);
/* "203.0.113.0/24", "2001:db8:bad::/64" */
void ipnet_format(const struct ipnet *n, char *out, size_t outsz);
/* Does the network hold this address (any form inet_pton reads; an
 * IPv4-mapped IPv6 address counts as IPv4)? */
bool ipnet_contains(const struct ipnet *n, const char *ip);
/* The network of prefix bits that holds ip: its /24 or its /64.  -1 when
 * ip is not an address. */
int ipnet_of(const char *ip, int prefix4, int prefix6, struct ipnet *out);
/* How many addresses it holds, capped (a /64 is "more than any list"). */
unsigned long long ipnet_size(const struct ipnet *n);

#endif
