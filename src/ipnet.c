#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipnet.h"

/* An address in any form inet_pton reads, IPv4-mapped IPv6 as IPv4. */
static int address_bytes(const char *ip, unsigned char out[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char v6[16];

	if (!ip)
		return -1;
	if (inet_pton(AF_INET, ip, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, ip, v6) != 1)
		return -1;
	if (memcmp(v6, mapped, sizeof mapped) == 0) {
		memcpy(out, v6 + 12, 4);
		return AF_INET;
	}
	memcpy(out, v6, 16);
	return AF_INET6;
}

static int bits_of(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Clear the bits past prefix; true when some were set. */
static bool clear_host_bits(unsigned char *a, int bits, int prefix)
{
	bool had = false;

	for (int i = prefix; i < bits; i++) {
		unsigned char mask = (unsigned char)(0x80 >> (i % 8));
		had |= (a[i / 8] & mask) != 0;
		a[i / 8] &= (unsigned char)~mask;
	}
	return had;
}

int ipnet_parse(const char *in, bool allow_host, struct ipnet *out, char *err, size_t errsz)
{
	char addr[IPADDR_LEN], normal[IPADDR_LEN], why[160];
	const char *slash = in ? strchr(in, '/') : NULL;

	memset(out, 0, sizeof *out);
	if (!in || !*in) {
		snprintf(err, errsz, "no network given");
		return -1;
	}
	size_t alen = slash ? (size_t)(slash - in) : strlen(in);
	if (alen >= sizeof addr) {
		snprintf(err, errsz, "too long for a network");
		return -1;
	}
	memcpy(addr, in, alen);
	addr[alen] = '\0';
	if (ipaddr_normalize(addr, normal, sizeof normal, why, sizeof why) < 0) {
		snprintf(err, errsz, "%s", why);
		return -1;
	}
	out->family = address_bytes(normal, out->addr);
	int bits = bits_of(out->family);
	if (!slash) {
		if (!allow_host) {
			snprintf(err, errsz, "'%s' is an address, not a network (write %s/%d for it alone)",
			         normal, normal, bits);
			return -1;
		}
		out->prefix = bits;
		return 0;
	}
	char *end;
	long p = strtol(slash + 1, &end, 10);        /* digits only: strtol would skip a space or take a sign */
	if (end == slash + 1 || *end || slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]) ||
	    p < 0 || p > bits) {
		snprintf(err, errsz, "'%s': the prefix length must be 0 to %d", in, bits);
		return -1;
	}
	out->prefix = (int)p;
	unsigned char net[16];
	memcpy(net, out->addr, sizeof net);
	if (clear_host_bits(net, bits, out->prefix)) {
		struct ipnet meant = *out;
		char m[IPNET_LEN];
		memcpy(meant.addr, net, sizeof net);
		ipnet_format(&meant, m, sizeof m);
		snprintf(err, errsz, "'%s' has bits set past the prefix: the network is %s", in, m);
		return -1;
	}
	return 0;
}

void ipnet_format(const struct ipnet *n, char *out, size_t outsz)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(n->family, n->addr, a, sizeof a))
		snprintf(a, sizeof a, "?");
	snprintf(out, outsz, "%s/%d", a, n->prefix);
}

bool ipnet_contains(const struct ipnet *n, const char *ip)
{
	unsigned char a[16];

	if (address_bytes(ip, a) != n->family)
		return false;
	clear_host_bits(a, bits_of(n->family), n->prefix);
	return memcmp(a, n->addr, (size_t)bits_of(n->family) / 8) == 0;
}

int ipnet_of(const char *ip, int prefix4, int prefix6, struct ipnet *out)
{
	memset(out, 0, sizeof *out);
	out->family = address_bytes(ip, out->addr);
	if (out->family < 0)
		return -1;
	out->prefix = out->family == AF_INET ? prefix4 : prefix6;
	clear_host_bits(out->addr, bits_of(out->family), out->prefix);
	return 0;
}

unsigned long long ipnet_size(const struct ipnet *n)
{
	int host = bits_of(n->family) - n->prefix;
	return host >= 63 ? 1ULL << 63 : 1ULL << host;
}
