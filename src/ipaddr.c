#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"

static int refuse(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* Why a dotted IPv4-looking string is not a plain dotted quad. */
static int ipv4_why(const char *s, char *err, size_t errsz)
{
	int parts = 1;

	if (strncasecmp(s, "0x", 2) == 0 || strstr(s, ".0x") || strstr(s, ".0X"))
		return refuse(err, errsz, "hexadecimal parts are not accepted: write the four decimal parts");
	for (const char *p = s; *p; p++)
		parts += *p == '.';
	if (parts != 4)
		return refuse(err, errsz, "'%s' is shorthand: write all four parts (e.g. 10.0.0.1)", s);
	for (const char *p = s; *p;) {
		char *end;
		if (p[0] == '0' && isdigit((unsigned char)p[1]))
			return refuse(err, errsz, "a part with a leading zero can be read as octal: write it without");
		long v = strtol(p, &end, 10);
		if (end == p)
			return refuse(err, errsz, "'%s' is not an address", s);
		if (v > 255)
			return refuse(err, errsz, "a part is out of range (%ld > 255)", v);
		p = *end == '.' ? end + 1 : end;
		if (*end && *end != '.')
			return refuse(err, errsz, "'%s' is not an address", s);
	}
	return refuse(err, errsz, "'%s' is not an address", s);
}

int ipaddr_normalize(const char *in, char *out, size_t outsz, char *err, size_t errsz)
{
	unsigned char buf[16];

	if (!in || !*in)
		return refuse(err, errsz, "no address given");
	if (strlen(in) >= IPADDR_LEN)
		return refuse(err, errsz, "too long for an address");
	if (strchr(in, '/'))
		return refuse(err, errsz, "'%s' is a range (CIDR): one address is meant here (only block and unblock take a range)", in);
	if (strchr(in, '%'))
		return refuse(err, errsz, "a zone index (%%) is not part of the address a server sees");
	for (const char *p = in; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != '.' && *p != ':' && *p != '/' && *p != '%' &&
		    *p != 'x' && *p != 'X')
			return refuse(err, errsz, "an address holds only digits, '.', ':' and a-f");
	if (inet_pton(AF_INET, in, buf) == 1)
		return inet_ntop(AF_INET, buf, out, (socklen_t)outsz) ? 0 : refuse(err, errsz, "no room");
	if (inet_pton(AF_INET6, in, buf) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		/* an IPv4-mapped address is the IPv4 address: one form, one key */
		if (memcmp(buf, mapped, 12) == 0)
			return inet_ntop(AF_INET, buf + 12, out, (socklen_t)outsz) ? 0 : refuse(err, errsz, "no room");
		return inet_ntop(AF_INET6, buf, out, (socklen_t)outsz) ? 0 : refuse(err, errsz, "no room");
	}
	if (strchr(in, ':'))
		return refuse(err, errsz, "'%s' is not a valid IPv6 address", in);
	return ipv4_why(in, err, errsz);
}

static enum ip_class ipv4_class(const unsigned char *a)
{
	if (a[0] == 127)
		return IP_LOOPBACK;
	if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64))
		return IP_PRIVATE;
	if (a[0] == 169 && a[1] == 254)
		return IP_LINK_LOCAL;
	if (a[0] == 0)
		return IP_UNSPECIFIED;
	if ((a[0] & 0xf0) == 224)
		return IP_MULTICAST;
	if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
		return IP_BROADCAST;
	return IP_PUBLIC;
}

enum ip_class ipaddr_class(const char *normal)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[16] = { 0 };

	if (inet_pton(AF_INET, normal, a) == 1)
		return ipv4_class(a);
	if (inet_pton(AF_INET6, normal, a) != 1)
		return IP_PUBLIC;
	if (memcmp(a, mapped, 12) == 0)
		return ipv4_class(a + 12);
	if (memcmp(a, zero, 15) == 0)
		return a[15] == 1 ? IP_LOOPBACK : a[15] == 0 ? IP_UNSPECIFIED : IP_PUBLIC;
	if ((a[0] & 0xfe) == 0xfc)
		return IP_PRIVATE;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return IP_LINK_LOCAL;
	if (a[0] == 0xff)
		return IP_MULTICAST;
	return IP_PUBLIC;
}

const char *ipaddr_class_name(enum ip_class c)
{
	switch (c) {
	case IP_PUBLIC: return "public";
	case IP_LOOPBACK: return "loopback";
	case IP_PRIVATE: return "private";
	case IP_LINK_LOCAL: return "link-local";
	case IP_UNSPECIFIED: return "unspecified";
	case IP_MULTICAST: return "multicast";
	case IP_BROADCAST: return "broadcast";
	}
	return "?";
}

const char *ipaddr_class_article(enum ip_class c)
{
	return strchr("aeiou", ipaddr_class_name(c)[0]) ? "an" : "a";
}

bool ipaddr_is_a_source(enum ip_class c)
{
	return c != IP_UNSPECIFIED && c != IP_MULTICAST && c != IP_BROADCAST;
}

bool ipaddr_ssh_client(char *out, size_t outsz)
{
	const char *v = getenv("SSH_CONNECTION");
	char first[IPADDR_LEN + 1], err[128];

	if (!v || !*v)
		v = getenv("SSH_CLIENT");
	if (!v || !*v)
		return false;
	size_t n = strcspn(v, " ");
	if (n == 0 || n >= sizeof first)
		return false;
	memcpy(first, v, n);
	first[n] = '\0';
	return ipaddr_normalize(first, out, outsz, err, sizeof err) == 0;
}
