#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "iprange.h"

bool iprange_is_range(const char *text)
{
	return text && strchr(text, '/') != NULL;
}

int iprange_parse(const char *text, struct ipnet *out, char *err, size_t errsz)
{
	char shown[IPNET_LEN];

	if (ipnet_parse(text, false, out, err, errsz) < 0)
		return -1;
	int widest = out->family == AF_INET ? IPRANGE_WIDEST4 : IPRANGE_WIDEST6;
	if (out->prefix < widest) {
		ipnet_format(out, shown, sizeof shown);
		snprintf(err, errsz, "%s is wider than a /%d: a range block acts on at most a /%d (IPv4) or a /%d (IPv6);"
		         " block narrower ranges", shown, widest, IPRANGE_WIDEST4, IPRANGE_WIDEST6);
		return -1;
	}
	return 0;
}

enum range_verdict iprange_member(const struct ipnet *range, const char *ip, const struct allowlist *allow,
                                  int64_t now_s, const char *own, char *why, size_t whysz)
{
	char normal[IPADDR_LEN], ignored[160];

	snprintf(why, whysz, "%s", "");
	if (ipaddr_normalize(ip, normal, sizeof normal, ignored, sizeof ignored) < 0 || strcmp(normal, ip) != 0 ||
	    !ipnet_contains(range, ip)) {
		snprintf(why, whysz, "not an address of the range");
		return RANGE_OUTSIDE;
	}
	enum ip_class cls = ipaddr_class(ip);
	if (!ipaddr_is_a_source(cls)) {
		snprintf(why, whysz, "%s %s address: no request comes from it", ipaddr_class_article(cls),
		         ipaddr_class_name(cls));
		return RANGE_NOT_SOURCE;
	}
	const struct allow_entry *e = allow ? allowlist_match(allow, ip, now_s) : NULL;
	if (e) {
		char entry[300];
		allow_entry_describe(e, entry, sizeof entry);
		snprintf(why, whysz, "allow-listed by %s", entry);
		return RANGE_ALLOWED;
	}
	if (own && *own && strcmp(own, ip) == 0) {
		snprintf(why, whysz, "your own SSH client address (block it alone to be asked)");
		return RANGE_OWN;
	}
	if (cls != IP_PUBLIC) {
		snprintf(why, whysz, "%s %s address (block it alone, typing 'yes %s', if you mean it)",
		         ipaddr_class_article(cls), ipaddr_class_name(cls), ip);
		return RANGE_LOCAL;
	}
	return RANGE_TAKE;
}
