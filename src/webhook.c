#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strutil.h"
#include "webhook.h"

#define URL_MAX 1000

const char *webhook_outcome_name(enum webhook_outcome o)
{
	switch (o) {
	case WH_ACCEPTED: return "accepted";
	case WH_REFUSED: return "refused";
	case WH_UNKNOWN: return "unknown";
	case WH_NOT_SENT: return "not_sent";
	}
	return "?";
}

bool webhook_env_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64 || isdigit((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

static bool host_is_loopback(const char *host)
{
	unsigned char a[16];

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	return false;
}

/* Split url into its scheme (tls), host and port, checking each.  0, or -1
 * with the reason. */
static int url_parts(const char *url, bool *tls, char *host, size_t hostsz, int *port,
                     char *err, size_t errsz)
{
	const char *p;

	if (!url || !*url || strlen(url) > URL_MAX) {
		snprintf(err, errsz, "a URL of 1 to %d characters is required", URL_MAX);
		return -1;
	}
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(err, errsz, "the URL holds a blank or a control character");
			return -1;
		}
	if (strncmp(url, "https://", 8) == 0)
		*tls = true;
	else if (strncmp(url, "http://", 7) == 0)
		*tls = false;
	else {
		snprintf(err, errsz, "'%.200s' is not an http:// or https:// URL", url);
		return -1;
	}
	const char *auth = url + (*tls ? 8 : 7);
	size_t alen = strcspn(auth, "/?#");
	if (memchr(auth, '@', alen)) {
		snprintf(err, errsz, "credentials in the URL would be shown and journalled; use token_env=");
		return -1;
	}
	size_t hlen;
	const char *rest;
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', alen);
		if (!close) {
			snprintf(err, errsz, "an IPv6 host needs its closing ']'");
			return -1;
		}
		hlen = (size_t)(close - auth - 1);
		rest = close + 1;
		if (hlen >= hostsz)
			hlen = 0;
		memcpy(host, auth + 1, hlen);
	} else {
		hlen = strcspn(auth, ":/?#");
		if (hlen > alen || hlen >= hostsz)
			hlen = 0;
		memcpy(host, auth, hlen);
		rest = auth + hlen;
	}
	host[hlen] = '\0';
	if (!hlen) {
		snprintf(err, errsz, "the URL has no host");
		return -1;
	}
	*port = *tls ? 443 : 80;
	if (rest < auth + alen) {
		char *end;
		long n = *rest == ':' && isdigit((unsigned char)rest[1]) ? strtol(rest + 1, &end, 10) : -1;
		if (n < 1 || n > 65535 || end != auth + alen) {
			snprintf(err, errsz, "the URL's port is not a number from 1 to 65535");
			return -1;
		}
		*port = (int)n;
	}
	return 0;
}

int webhook_url_check(const char *url, char *err, size_t errsz)
{
	char host[256];
	bool tls;
	int port;

	if (url_parts(url, &tls, host, sizeof host, &port, err, errsz) < 0)
		return -1;
	if (!tls && !host_is_loopback(host)) {
		snprintf(err, errsz, "plain http:// only to a loopback host: the token would cross the network"
		         " in clear (use https://)");
		return -1;
	}
	return 0;
}

int webhook_url_host(const char *url, char *host, size_t n, int *port)
{
	char err[200];
	bool tls;

	return url_parts(url, &tls, host, n, port, err, sizeof err);
}

char *webhook_preview(const struct webhook_request *rq)
{
	char idem[80] = "", auth[120] = "";

	if (rq->idempotency_key)
		snprintf(idem, sizeof idem, "Idempotency-Key: %.60s\n", rq->idempotency_key);
	if (rq->token_env)
		snprintf(auth, sizeof auth, "Authorization: Bearer <from $%.64s>\n", rq->token_env);
	return str_printf("POST %s\nContent-Type: application/json\n%s%s\n%s", rq->url, idem, auth,
	                  rq->body ? rq->body : "");
}

struct sink {
	char *buf;
	size_t len, cap;
};

static size_t sink_write(char *data, size_t size, size_t n, void *user)
{
	struct sink *s = user;
	size_t len = size * n, room = s->cap - 1 - s->len;
	size_t take = len < room ? len : room;

	memcpy(s->buf + s->len, data, take);
	s->len += take;
	s->buf[s->len] = '\0';
	return len;      /* the rest is read and dropped: the body is only shown */
}

/* One request, ready to send by curl_easy_perform or a multi handle. */
struct webhook_call {
	CURL *easy;
	struct curl_slist *hdr;          /* holds the token: wiped before free */
	struct curl_slist *resolved;     /* CURLOPT_RESOLVE */
	char *body;
	long timeout_ms;
	char answer[256];
	struct sink sink;
	char why[CURL_ERROR_SIZE];
};

static enum webhook_outcome done(struct webhook_result *res, enum webhook_outcome o)
{
	res->outcome = o;
	return o;
}

/* Errors that prove nothing left this host. */
static bool never_sent(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_OUT_OF_MEMORY:
		return true;
	default:
		return false;
	}
}

void webhook_call_free(struct webhook_call *c)
{
	if (!c)
		return;
	if (c->easy)
		curl_easy_cleanup(c->easy);
	for (struct curl_slist *s = c->hdr; s; s = s->next)
		str_wipe(s->data);                   /* the list's copy of the token, too */
	curl_slist_free_all(c->hdr);
	curl_slist_free_all(c->resolved);
	free(c->body);
	free(c);
}

/* The headers: the token read from the environment now, copied into the
 * list only (the formatted line is wiped at once). */
static struct curl_slist *call_headers(const struct webhook_request *rq, const char *token)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	hdr = hdr ? curl_slist_append(hdr, "Accept: application/json") : NULL;
	hdr = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
	if (hdr && rq->idempotency_key) {
		char *idem = str_printf("Idempotency-Key: %s", rq->idempotency_key);
		struct curl_slist *l = idem ? curl_slist_append(hdr, idem) : NULL;
		free(idem);
		hdr = l;
	}
	if (hdr && token) {
		char *auth = str_printf("Authorization: Bearer %s", token);
		struct curl_slist *l = auth ? curl_slist_append(hdr, auth) : NULL;
		str_wipe_free(auth);
		hdr = l;
	}
	return hdr;
}

static void call_options(struct webhook_call *c, const struct webhook_request *rq)
{
	CURL *h = c->easy;

	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, rq->ca_file);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sectop/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->sink);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->why);
}

struct webhook_call *webhook_call_new(const struct webhook_request *rq, struct webhook_result *res)
{
	memset(res, 0, sizeof *res);
	if (webhook_url_check(rq->url, res->error, sizeof res->error) < 0) {
		done(res, WH_NOT_SENT);
		return NULL;
	}
	const char *token = rq->token_env ? getenv(rq->token_env) : NULL;
	if (rq->token_env && (!token || !*token)) {
		snprintf(res->error, sizeof res->error, "$%s is unset or empty: no token to send", rq->token_env);
		done(res, WH_NOT_SENT);
		return NULL;
	}
	if (token && strpbrk(token, "\r\n")) {
		snprintf(res->error, sizeof res->error, "$%s holds a line break", rq->token_env);
		done(res, WH_NOT_SENT);
		return NULL;
	}
	struct webhook_call *c = calloc(1, sizeof *c);
	if (c) {
		c->sink = (struct sink){ c->answer, 0, sizeof c->answer };
		c->timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : 3000;
		c->easy = curl_easy_init();
		c->body = strdup(rq->body ? rq->body : "");
		c->hdr = call_headers(rq, token);
	}
	if (!c || !c->easy || !c->body || !c->hdr) {
		webhook_call_free(c);
		snprintf(res->error, sizeof res->error, "out of memory");
		done(res, WH_NOT_SENT);
		return NULL;
	}
	call_options(c, rq);
	return c;
}

CURL *webhook_call_easy(struct webhook_call *c)
{
	return c->easy;
}

int webhook_call_resolve(struct webhook_call *c, const char *entry)
{
	struct curl_slist *l = curl_slist_append(c->resolved, entry);

	if (!l)
		return -1;
	c->resolved = l;
	return curl_easy_setopt(c->easy, CURLOPT_RESOLVE, c->resolved) == CURLE_OK ? 0 : -1;
}

enum webhook_outcome webhook_call_finish(struct webhook_call *c, CURLcode rc, struct webhook_result *res)
{
	memset(res, 0, sizeof *res);
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &res->http_status);
	snprintf(res->answer, sizeof res->answer, "%s", c->answer);
	if (rc == CURLE_OK) {
		if (res->http_status >= 200 && res->http_status < 300)
			return done(res, WH_ACCEPTED);
		snprintf(res->error, sizeof res->error, "HTTP %ld", res->http_status);
		return done(res, res->http_status >= 500 ? WH_UNKNOWN : WH_REFUSED);
	}
	snprintf(res->error, sizeof res->error, "%s", c->why[0] ? c->why : curl_easy_strerror(rc));
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(res->error, sizeof res->error, "no answer within %ld ms (%.200s)", c->timeout_ms,
		         c->why[0] ? c->why : "timeout");
		return done(res, WH_UNKNOWN);
	}
	/* anything else may have happened after the request went out */
	return done(res, never_sent(rc) ? WH_NOT_SENT : WH_UNKNOWN);
}

enum webhook_outcome webhook_post(const struct webhook_request *rq, struct webhook_result *res)
{
	struct webhook_call *c = webhook_call_new(rq, res);

	if (!c)
		return res->outcome;
	CURLcode rc = curl_easy_perform(c->easy);
	webhook_call_finish(c, rc, res);
	webhook_call_free(c);
	return res->outcome;
}
