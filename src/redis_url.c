#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redis_url.h"
#include "strutil.h"

#define URL_SYNTAX "expected redis[s]://[[user]:password@]host[:port][/db], " \
	"redis[s]-sentinel://host:port[,host:port...]/master[/db] or unix:/path/to.sock[?db=N]"

__attribute__((format(printf, 3, 4)))
static int url_fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err && errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int url_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..len) into a malloc'd string.  NULL on a bad escape or a
 * NUL byte (a password is sent as a C string), or when out of memory. */
static char *url_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < len ? url_hex((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < len ? url_hex((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				mem_wipe(out, len + 1);
				free(out);
				return NULL;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* A whole decimal number in [min, max], nothing else: no sign, no spaces. */
static bool url_number(const char *s, size_t len, long min, long max, long *out)
{
	char buf[24];

	if (len == 0 || len >= sizeof buf)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	long v = strtol(buf, NULL, 10);
	if (errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int url_copy_arg(char *dst, size_t dstsz, const char *s, size_t len)
{
	if (len >= dstsz)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* Show at most a short, printable excerpt of what was wrong (never the
 * userinfo, which the callers cut off before). */
static const char *url_excerpt(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < bufsz; i++)
		buf[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[o] = '\0';
	return buf;
}

/* "user:password" or "password" (redis-cli's reading of a lone word). */
static int url_userinfo(const char *s, size_t len, struct redis_target *t, char *err, size_t errsz)
{
	const char *colon = memchr(s, ':', len);
	const char *pw = s;
	size_t pwlen = len;

	if (colon) {
		char *user = url_decode(s, (size_t)(colon - s));
		if (!user)
			return url_fail(err, errsz, "bad percent-encoding in the user name");
		int rc = url_copy_arg(t->user, sizeof t->user, user, strlen(user));
		free(user);
		if (rc < 0)
			return url_fail(err, errsz, "user name too long");
		pw = colon + 1;
		pwlen = len - (size_t)(colon - s) - 1;
	}
	if (pwlen == 0)
		return 0;
	t->password = url_decode(pw, pwlen);
	if (!t->password)
		return url_fail(err, errsz, "bad percent-encoding in the password (%%XX, no %%00)");
	return 0;
}

static int url_port(const char *s, size_t len, struct redis_target *t, char *err, size_t errsz)
{
	char ex[40];
	long v;

	if (!url_number(s, len, 1, 65535, &v))
		return url_fail(err, errsz, "bad port \"%s\": expected a number from 1 to 65535",
		                url_excerpt(s, len, ex, sizeof ex));
	t->port = (int)v;
	return 0;
}

static int url_db(const char *s, size_t len, struct redis_target *t, char *err, size_t errsz)
{
	char ex[40];
	long v;

	if (!url_number(s, len, 0, INT_MAX, &v))
		return url_fail(err, errsz, "bad database number \"%s\": expected 0 or more",
		                url_excerpt(s, len, ex, sizeof ex));
	t->db = (int)v;
	return 0;
}

static bool url_hostname_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return true;
}

/* "[v6]" or a name / IPv4 literal; returns the length consumed or -1. */
static long url_host(const char *s, struct redis_target *t, char *err, size_t errsz)
{
	char ex[72];

	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return url_fail(err, errsz, "unterminated [IPv6 address]");
		size_t len = (size_t)(end - s - 1);
		char addr[sizeof t->host];
		struct in6_addr a6;
		if (len == 0 || url_copy_arg(addr, sizeof addr, s + 1, len) < 0)
			return url_fail(err, errsz, "bad IPv6 address \"%s\"", url_excerpt(s, len + 2, ex, sizeof ex));
		char *zone = strchr(addr, '%');
		if (zone)
			*zone = '\0';
		bool ok = inet_pton(AF_INET6, addr, &a6) == 1 && (!zone || url_hostname_ok(zone + 1, strlen(zone + 1)));
		if (!ok)
			return url_fail(err, errsz, "bad IPv6 address \"%s\"", url_excerpt(s, len + 2, ex, sizeof ex));
		url_copy_arg(t->host, sizeof t->host, s + 1, len);
		return (long)len + 2;
	}
	size_t len = strcspn(s, ":/?");
	if (len == 0)
		return url_fail(err, errsz, "empty host name");
	if (!url_hostname_ok(s, len))
		return url_fail(err, errsz, "bad host name \"%s\"", url_excerpt(s, len, ex, sizeof ex));
	if (url_copy_arg(t->host, sizeof t->host, s, len) < 0)
		return url_fail(err, errsz, "host name too long");
	return (long)len;
}

/* After the authority of redis://: [:port][/[db]] and nothing else. */
static int url_tcp_tail(const char *s, struct redis_target *t, char *err, size_t errsz)
{
	char ex[40];

	if (*s == ':') {
		size_t len = strcspn(s + 1, "/?#");
		if (url_port(s + 1, len, t, err, errsz) < 0)
			return -1;
		s += 1 + len;
	}
	if (*s == '/') {
		size_t len = strcspn(s + 1, "?#");
		if (len > 0 && url_db(s + 1, len, t, err, errsz) < 0)
			return -1;
		s += 1 + len;
	}
	if (*s)
		return url_fail(err, errsz, "unexpected \"%s\" at the end of the URL",
		                url_excerpt(s, strlen(s), ex, sizeof ex));
	return 0;
}

static int url_parse_tcp(const char *rest, struct redis_target *t, char *err, size_t errsz)
{
	/* The last '@' ends the userinfo: a password may hold an unencoded '@'
	 * or '/', but nothing after the host may hold an '@'. */
	const char *at = strrchr(rest, '@');

	if (at) {
		if (url_userinfo(rest, (size_t)(at - rest), t, err, errsz) < 0)
			return -1;
		rest = at + 1;
	}
	long n = url_host(rest, t, err, errsz);
	if (n < 0)
		return -1;
	return url_tcp_tail(rest + n, t, err, errsz);
}

/* ?db=N, the only parameter a unix socket URL takes. */
static int url_unix_query(const char *q, struct redis_target *t, char *err, size_t errsz)
{
	char ex[40];

	while (*q) {
		size_t len = strcspn(q, "&");
		if (len > 3 && strncmp(q, "db=", 3) == 0) {
			if (url_db(q + 3, len - 3, t, err, errsz) < 0)
				return -1;
		} else if (len > 0) {
			return url_fail(err, errsz, "unknown URL parameter \"%s\" (only db=N)",
			                url_excerpt(q, len, ex, sizeof ex));
		}
		q += len + (q[len] == '&');
	}
	return 0;
}

static int url_parse_unix(const char *rest, struct redis_target *t, char *err, size_t errsz)
{
	t->host[0] = '\0';
	t->port = 0;
	if (strncmp(rest, "//", 2) == 0) {
		rest += 2;
		/* unix://user:pw@/path: the userinfo ends at the '@' before the path. */
		const char *at = strstr(rest, "@/");
		if (at) {
			if (url_userinfo(rest, (size_t)(at - rest), t, err, errsz) < 0)
				return -1;
			rest = at + 1;
		}
	}
	size_t len = strcspn(rest, "?");
	if (len == 0 || rest[0] != '/')
		return url_fail(err, errsz, "a unix socket URL needs an absolute path: unix:/path/to.sock");
	char *path = url_decode(rest, len);
	if (!path)
		return url_fail(err, errsz, "bad percent-encoding in the socket path");
	int rc = url_copy_arg(t->path, sizeof t->path, path, strlen(path));
	free(path);
	if (rc < 0)
		return url_fail(err, errsz, "socket path longer than %zu bytes", sizeof t->path - 1);
	if (rest[len] == '?')
		return url_unix_query(rest + len + 1, t, err, errsz);
	return 0;
}

static void url_defaults(struct redis_target *t)
{
	memset(t, 0, sizeof *t);
	strcpy(t->host, "127.0.0.1");
	t->port = 6379;
}

static bool url_dispatch_more(const char *url, struct redis_target *t, char *err, size_t errsz, int *rc);

static int url_dispatch(const char *url, struct redis_target *t, char *err, size_t errsz)
{
	int rc;

	static const struct { const char *scheme; bool is_unix; } schemes[] = {
		{ "redis://", false },
		{ "redis+unix:", true },
		{ "unix:", true },
	};

	if (url_dispatch_more(url, t, err, errsz, &rc))
		return rc;
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncasecmp(url, schemes[i].scheme, n) != 0)
			continue;
		return schemes[i].is_unix ? url_parse_unix(url + n, t, err, errsz)
		                          : url_parse_tcp(url + n, t, err, errsz);
	}
	return url_fail(err, errsz, "not a Redis URL: %s", URL_SYNTAX);
}

int redis_url_parse(const char *url, struct redis_target *t, char *err, size_t errsz)
{
	url_defaults(t);
	if (!url || !*url)
		return 0;
	if (url_dispatch(url, t, err, errsz) < 0) {
		redis_target_free(t);
		url_defaults(t);
		return -1;
	}
	return 0;
}

void redis_target_free(struct redis_target *t)
{
	if (t->password) {
		mem_wipe(t->password, strlen(t->password));
		free(t->password);
		t->password = NULL;
	}
}

/* s as a URL holds it: the bytes in `special` (and '%') percent-encoded,
 * so that what is shown reads back the same (found by fuzz_redis_url). */
static void url_encode_into(const char *s, const char *special, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *s && o + 4 <= outsz; s++) {
		if (*s == '%' || strchr(special, *s))
			o += (size_t)snprintf(out + o, outsz - o, "%%%02X", (unsigned char)*s);
		else
			out[o++] = *s;
	}
	out[o] = '\0';
}
static int url_display_sentinels(const struct redis_target *t, char *out, size_t outsz);

int redis_target_display(const struct redis_target *t, char *out, size_t outsz)
{
	const char *at = t->user[0] ? "@" : "";
	char user[3 * sizeof t->user];

	url_encode_into(t->user, "@:/?#", user, sizeof user);
	if (t->path[0]) {
		char path[3 * sizeof t->path];
		url_encode_into(t->path, "?@", path, sizeof path);
		if (t->user[0])
			return snprintf(out, outsz, "unix://%s@%s?db=%d", user, path, t->db);
		/* "unix://x" would read x as an authority: a path that starts
		 * with "//" is written after "unix://" to read back the same */
		return snprintf(out, outsz, "unix:%s%s?db=%d", t->path[1] == '/' ? "//" : "",
		                path, t->db);
	}
	if (t->n_sentinels)
		return url_display_sentinels(t, out, outsz);
	bool v6 = strchr(t->host, ':') != NULL;
	return snprintf(out, outsz, "redis%s://%s%s%s%s%s:%d/%d", t->tls ? "s" : "", user, at,
	                v6 ? "[" : "", t->host, v6 ? "]" : "", t->port, t->db);
}

bool redis_url_has_userinfo(const char *url)
{
	const char *authority = url ? strstr(url, "://") : NULL;

	/* the parser ends the userinfo at the last '@': any '@' may be one */
	return authority && strchr(authority + 3, '@');
}

/* ---------------------------------------------------------------- TLS, sentinels */

/* host[:port] of one sentinel, up to the next ',' or '/'. */
static int url_sentinel(const char *s, size_t len, struct redis_addr *a, char *err, size_t errsz)
{
	struct redis_target h;
	char one[300], ex[40];

	if (url_copy_arg(one, sizeof one, s, len) < 0)
		return url_fail(err, errsz, "sentinel address too long");
	url_defaults(&h);
	long n = url_host(one, &h, err, errsz);
	if (n < 0)
		return -1;
	a->port = 26379;
	if (one[n] == ':') {
		if (url_port(one + n + 1, strlen(one + n + 1), &h, err, errsz) < 0)
			return -1;
		a->port = h.port;
	} else if (one[n]) {
		return url_fail(err, errsz, "bad sentinel address \"%s\"", url_excerpt(one, strlen(one), ex, sizeof ex));
	}
	snprintf(a->host, sizeof a->host, "%s", h.host);
	return 0;
}

/* /master_name[/db] after the sentinels. */
static int url_sentinel_path(const char *s, struct redis_target *t, char *err, size_t errsz)
{
	char ex[40];

	if (*s != '/' || !s[1] || s[1] == '/')
		return url_fail(err, errsz, "redis-sentinel:// needs the master's name: redis-sentinel://host:port/NAME[/db]");
	s++;
	size_t len = strcspn(s, "/?#");
	if (url_copy_arg(t->master_name, sizeof t->master_name, s, len) < 0)
		return url_fail(err, errsz, "master name too long");
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]))
			return url_fail(err, errsz, "bad master name \"%s\"", url_excerpt(s, len, ex, sizeof ex));
	s += len;
	if (*s == '/' && s[1] && url_db(s + 1, strlen(s + 1), t, err, errsz) < 0)
		return -1;
	if (*s && *s != '/')
		return url_fail(err, errsz, "unexpected \"%s\" at the end of the URL", url_excerpt(s, strlen(s), ex, sizeof ex));
	return 0;
}

static int url_parse_sentinel(const char *rest, struct redis_target *t, char *err, size_t errsz)
{
	const char *slash = strchr(rest, '/');
	const char *at = strrchr(rest, '@');

	if (at) {
		if (url_userinfo(rest, (size_t)(at - rest), t, err, errsz) < 0)
			return -1;
		rest = at + 1;
		slash = strchr(rest, '/');
	}
	if (!slash)
		slash = rest + strlen(rest);
	while (rest < slash) {
		size_t len = strcspn(rest, ",/");
		if (t->n_sentinels == REDIS_MAX_SENTINELS)
			return url_fail(err, errsz, "more than %d sentinels", REDIS_MAX_SENTINELS);
		if (len == 0 || url_sentinel(rest, len, &t->sentinels[t->n_sentinels++], err, errsz) < 0)
			return len == 0 ? url_fail(err, errsz, "empty sentinel address") : -1;
		rest += len + (rest[len] == ',');
	}
	if (t->n_sentinels == 0)
		return url_fail(err, errsz, "redis-sentinel:// names no sentinel");
	/* the master is not known until the sentinels are asked */
	t->host[0] = '\0';
	t->port = 0;
	return url_sentinel_path(slash, t, err, errsz);
}

static bool url_dispatch_more(const char *url, struct redis_target *t, char *err, size_t errsz, int *rc)
{
	if (strncasecmp(url, "rediss://", 9) == 0) {
		t->tls = true;
		*rc = url_parse_tcp(url + 9, t, err, errsz);
	} else if (strncasecmp(url, "redis-sentinel://", 17) == 0) {
		*rc = url_parse_sentinel(url + 17, t, err, errsz);
	} else if (strncasecmp(url, "rediss-sentinel://", 18) == 0) {
		t->tls = true;
		*rc = url_parse_sentinel(url + 18, t, err, errsz);
	} else {
		return false;
	}
	return true;
}

static int url_display_sentinels(const struct redis_target *t, char *out, size_t outsz)
{
	char user[3 * sizeof t->user];

	url_encode_into(t->user, "@:/?#", user, sizeof user);
	int n = snprintf(out, outsz, "redis%s-sentinel://%s%s", t->tls ? "s" : "", user, t->user[0] ? "@" : "");

	for (int i = 0; i < t->n_sentinels && n >= 0 && (size_t)n < outsz; i++) {
		const struct redis_addr *a = &t->sentinels[i];
		bool v6 = strchr(a->host, ':') != NULL;
		n += snprintf(out + n, outsz - (size_t)n, "%s%s%s%s:%d", i ? "," : "", v6 ? "[" : "", a->host,
		              v6 ? "]" : "", a->port);
	}
	if (n >= 0 && (size_t)n < outsz)
		n += snprintf(out + n, outsz - (size_t)n, "/%s/%d", t->master_name, t->db);
	return n;
}
