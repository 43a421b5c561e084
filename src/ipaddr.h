/* ipaddr.h: an address an operator types, checked and written the one way
 * the servers key it (inet_ntop's form: IPv4 dotted quad, IPv6 compressed
 * lower case; an IPv4-mapped IPv6 address as the IPv4 address).  Shorthand,
 * octal, hex, out-of-range and CIDR forms are refused with a message that
 * says which, never guessed at. */
#ifndef SECTOP_IPADDR_H
#define SECTOP_IPADDR_H

#include <stdbool.h>
#include <stddef.h>

#define IPADDR_LEN 46

enum ip_class {
	IP_PUBLIC,
	IP_LOOPBACK,             /* 127/8, ::1 */
	IP_PRIVATE,              /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 */
	IP_LINK_LOCAL,           /* 169.254/16, fe80::/10 */
	IP_UNSPECIFIED,          /* 0.0.0.0, :: */
	IP_MULTICAST,            /* 224/4, ff00::/8 */
	IP_BROADCAST,            /* 255.255.255.255 */
};

/* 0 and the normal form in out, or -1 and why in err. */
int ipaddr_normalize(const char *in, char *out, size_t outsz, char *err, size_t errsz);
/* The class of a normal-form address (IPv4-mapped IPv6 counts as IPv4). */
enum ip_class ipaddr_class(const char *normal);
const char *ipaddr_class_name(enum ip_class c);
/* "a" or "an", for "an unspecified address". */
const char *ipaddr_class_article(enum ip_class c);
/* Can a request come from such an address?  Not from an unspecified,
 * multicast or broadcast one: blocking it would only look like action. */
bool ipaddr_is_a_source(enum ip_class c);
/* The operator's own SSH client address, normalised, from SSH_CONNECTION
 * or SSH_CLIENT; false when not over SSH. */
bool ipaddr_ssh_client(char *out, size_t outsz);

#endif
