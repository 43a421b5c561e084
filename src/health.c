#include "config.h"

#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "health.h"
#include "health_parse.h"
#include "log.h"
#include "resolve.h"
#include "strutil.h"

/* Name lookups: curl never makes one.  Debian 12's libcurl (7.88) has a
 * threaded resolver but joins its thread when a transfer ends, so a DNS
 * server that never answers held the loop for a minute and more.  Each hop's
 * host is looked up in a thread of ours (resolve.h), bounded by the connect
 * time, and handed to curl with CURLOPT_RESOLVE; redirects are followed here
 * for the same reason. */

#define HEALTH_MAX_REDIRECTS 3
#define HEALTH_CONNECT_MAX_MS 2000
#define HEALTH_HEADER_MAX 512        /* bytes of a captured header value */
#define HEALTH_BODY_DEFAULT (256 * 1024)
/* Checks started in one loop turn, at most: each costs a connect and a TLS
 * handshake (OpenSSL 3 makes a new SSL_CTX for each), and 32 endpoints all
 * due at start-up would otherwise land in the same turn.  The rest are still
 * due, so the loop comes back at once. */
#define HEALTH_STARTS_PER_TICK 8

enum captured { H_HSTS, H_XCTO, H_XFO, H_CSP, H_ACAO, H_RL_LIMIT, H_RL_REMAINING, H_N };

static const char *const captured_names[H_N] = {
	[H_HSTS] = "Strict-Transport-Security",
	[H_XCTO] = "X-Content-Type-Options",
	[H_XFO] = "X-Frame-Options",
	[H_CSP] = "Content-Security-Policy",
	[H_ACAO] = "Access-Control-Allow-Origin",
	[H_RL_LIMIT] = "X-RateLimit-Limit",
	[H_RL_REMAINING] = "X-RateLimit-Remaining",
};

/* One multi handle per CA source (a ca_file, or the system bundle): curl
 * caches the loaded CA store in the multi handle, one store per handle, and
 * loading the system bundle costs tens of milliseconds (OpenSSL 3 decoding
 * ~150 certificates).  Shared by endpoints with different CA files, one
 * handle would reload it on nearly every handshake, inside the loop. */
struct health_multi {
	struct health *h;
	CURLM *multi;
	const char *ca_file;             /* the config's; NULL: the system bundle */
	int64_t timer_due_ms;            /* curl's timer, monotonic; -1 none */
};

/* One check in flight. */
struct health_xfer {
	struct health *h;
	struct health_multi *hm;
	size_t idx;
	CURL *easy;
	struct curl_slist *req_headers;  /* may hold a secret: wiped before free */
	struct curl_slist *resolved;     /* CURLOPT_RESOLVE: the hosts looked up */
	struct resolve *lookup;          /* the current hop's host, being looked up */
	int64_t lookup_started_ms, lookup_due_ms;   /* monotonic: abandoned at due */
	bool in_multi;                   /* the easy handle is in hm->multi */
	char *url;                       /* the URL of the current hop */
	bool same_origin_only;           /* credentials attached: redirects within the origin only */
	int hops;
	int timeout_ms;
	int64_t started_ms;              /* monotonic */
	double latency_ms;               /* summed over our own hops */
	char *body;
	size_t body_len, body_cap;
	bool too_big;
	long last_status;                /* of the latest status line seen */
	char *hdr[H_N];                  /* raw, trimmed, capped; of the latest response */
	char errbuf[CURL_ERROR_SIZE];
};

struct health_endpoint {
	int64_t next_due_ms;             /* monotonic */
	bool forced;                     /* asked for now: runs even when paused */
	struct health_xfer *xfer;        /* NULL when idle */
	struct health_multi *hm;
};

struct health_sock {
	curl_socket_t fd;
	short events;
	struct health_multi *hm;         /* the handle that asked for it */
};

struct health {
	const struct config *cfg;
	struct model *m;
	struct health_endpoint *ep;
	size_t n;
	struct health_multi *multis;
	size_t n_multis;
	struct health_sock *socks;       /* every multi's, for the one poll() */
	size_t n_socks, cap_socks;
	bool drop_capath;                /* libcurl has a default CA bundle: see xfer_setup */
};

/* --- small helpers ------------------------------------------------------- */

static bool ascii_ieqn(const char *a, size_t alen, const char *b)
{
	if (alen != strlen(b))
		return false;
	for (size_t i = 0; i < alen; i++) {
		int x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

static int health_timeout_ms(const struct health *h, size_t i)
{
	int t = h->cfg->health[i].timeout_ms;
	return t > 0 ? t : h->cfg->timeout_ms > 0 ? h->cfg->timeout_ms : 3000;
}

static int64_t health_refresh_ms(const struct health *h)
{
	return h->m->refresh_ms > 0 ? h->m->refresh_ms : 2000;
}

/* Paused, only a check asked for by the operator starts. */
static bool health_may_start(const struct health *h, size_t i)
{
	return !h->ep[i].xfer && (!h->m->paused || h->ep[i].forced);
}

static size_t health_body_max(const struct health *h)
{
	return h->cfg->health_body_max > 0 ? (size_t)h->cfg->health_body_max : HEALTH_BODY_DEFAULT;
}

static void lower_timeout(int64_t *timeout, int64_t d)
{
	if (d < 0)
		d = 0;
	if (*timeout < 0 || d < *timeout)
		*timeout = d;
}

/* --- captured response headers ------------------------------------------ */

static void headers_reset(struct health_xfer *x)
{
	for (int i = 0; i < H_N; i++) {
		free(x->hdr[i]);
		x->hdr[i] = NULL;
	}
}

/* Keep a value trimmed and capped; a repeated header is joined with ", ",
 * which is what HTTP says a list header means. */
static void header_keep(char **slot, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	size_t old = *slot ? strlen(*slot) : 0;
	size_t sep = old ? 2 : 0;
	if (old + sep >= HEALTH_HEADER_MAX)
		return;
	if (n > HEALTH_HEADER_MAX - old - sep)
		n = HEALTH_HEADER_MAX - old - sep;
	char *s = realloc(*slot, old + sep + n + 1);
	if (!s)
		return;
	if (sep)
		memcpy(s + old, ", ", 2);
	memcpy(s + old + sep, v, n);
	s[old + sep + n] = '\0';
	*slot = s;
}

static long status_line_code(const char *buf, size_t len)
{
	char line[64];
	long code = 0;

	if (len >= sizeof line)
		len = sizeof line - 1;
	memcpy(line, buf, len);
	line[len] = '\0';
	if (sscanf(line, "HTTP/%*s %ld", &code) != 1)
		code = 0;
	return code;
}

/* Called once per header line, for every response of a redirect chain: a
 * status line starts a new response, whose headers replace the last's. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userp)
{
	struct health_xfer *x = userp;
	size_t len = size * nitems;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		headers_reset(x);
		x->body_len = 0;
		x->last_status = status_line_code(buf, len);
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	size_t name_len = (size_t)(colon - buf);
	for (int i = 0; i < H_N; i++)
		if (ascii_ieqn(buf, name_len, captured_names[i])) {
			header_keep(&x->hdr[i], colon + 1, len - name_len - 1);
			break;
		}
	return len;
}

/* Keep at most health_body_max bytes; one byte more aborts the transfer
 * (returning less than given is curl's "stop"), so a huge body costs us
 * no more than the cap. */
static size_t on_body(char *buf, size_t size, size_t nitems, void *userp)
{
	struct health_xfer *x = userp;
	size_t len = size * nitems, max = health_body_max(x->h);

	if (len > max - x->body_len) {
		x->too_big = true;
		return 0;
	}
	if (x->body_len + len > x->body_cap) {
		size_t cap = x->body_cap ? x->body_cap : 4096;
		while (cap < x->body_len + len)
			cap *= 2;
		if (cap > max)
			cap = max;
		char *b = realloc(x->body, cap);
		if (!b)
			return 0;
		x->body = b;
		x->body_cap = cap;
	}
	memcpy(x->body + x->body_len, buf, len);
	x->body_len += len;
	return len;
}

/* --- curl's sockets and timer -------------------------------------------- */

static struct health_sock *sock_find(struct health *h, curl_socket_t fd)
{
	for (size_t i = 0; i < h->n_socks; i++)
		if (h->socks[i].fd == fd)
			return &h->socks[i];
	return NULL;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct health_multi *hm = userp;
	struct health *h = hm->h;
	struct health_sock *s = sock_find(h, fd);

	if (what == CURL_POLL_REMOVE) {
		if (s)
			*s = h->socks[--h->n_socks];
		return 0;
	}
	if (!s) {
		if (h->n_socks == h->cap_socks) {
			size_t cap = h->cap_socks ? h->cap_socks * 2 : 8;
			struct health_sock *v = realloc(h->socks, cap * sizeof *v);
			if (!v)
				return -1;
			h->socks = v;
			h->cap_socks = cap;
		}
		s = &h->socks[h->n_socks++];
		s->fd = fd;
	}
	s->hm = hm;
	s->events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

/* curl may not be re-entered from here: the timer only records a deadline,
 * and tick() fires it. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct health_multi *hm = userp;

	hm->timer_due_ms = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	return 0;
}

/* --- transfers ----------------------------------------------------------- */

static void slist_wipe_free(struct curl_slist *list)
{
	for (struct curl_slist *s = list; s; s = s->next)
		str_wipe(s->data);
	curl_slist_free_all(list);
}

static void xfer_free(struct health_xfer *x)
{
	if (!x)
		return;
	if (x->in_multi)
		curl_multi_remove_handle(x->hm->multi, x->easy);
	resolve_abandon(x->lookup);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->resolved);
	slist_wipe_free(x->req_headers);
	headers_reset(x);
	free(x->body);
	free(x->url);
	free(x);
}

/* A header line "Name: secret", appended to the list; the formatted copy is
 * wiped at once (the list keeps its own copy, wiped in slist_wipe_free). */
static int auth_append(struct curl_slist **list, const char *prefix, const char *var,
                       char *reason, size_t rsz)
{
	const char *v = getenv(var);

	if (!v || !*v) {
		snprintf(reason, rsz, "environment variable %s is not set", var);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(reason, rsz, "environment variable %s holds control characters", var);
			return -1;
		}
	char *line = str_printf("%s%s", prefix, v);
	struct curl_slist *l = line ? curl_slist_append(*list, line) : NULL;
	str_wipe(line);
	free(line);
	if (!l) {
		snprintf(reason, rsz, "out of memory");
		return -1;
	}
	*list = l;
	return 0;
}

static int auth_headers(const struct conf_health *c, struct curl_slist **list,
                        char *reason, size_t rsz)
{
	if (c->api_key_env && auth_append(list, "X-API-Key: ", c->api_key_env, reason, rsz) < 0)
		return -1;
	if (c->bearer_env && auth_append(list, "Authorization: Bearer ", c->bearer_env, reason, rsz) < 0)
		return -1;
	return 0;
}

/* The options of one hop.  Connections are fresh and TLS sessions are not
 * resumed, so every check measures a real connect and handshake and always
 * sees the certificate (certinfo is empty on a reused connection). */
static int xfer_setup(struct health_xfer *x, const char *ca_file, int timeout_ms)
{
	CURL *e = x->easy;
	long connect_ms = timeout_ms < HEALTH_CONNECT_MAX_MS ? timeout_ms : HEALTH_CONNECT_MAX_MS;
	int rc = 0;

	x->errbuf[0] = '\0';
	rc |= curl_easy_setopt(e, CURLOPT_URL, x->url);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Redirects are followed here (xfer_follow): each hop's host is looked
	 * up off the loop, and with credentials only within the origin (curl
	 * would send a custom X-API-Key header to any host). */
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_RESOLVE, x->resolved);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
	/* Debian's libcurl also has a default CA path (the same certificates
	 * hashed); with one set, curl never caches the CA store. */
	if (ca_file || x->h->drop_capath)
		rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	rc |= curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "sectop/" PACKAGE_VERSION);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers);
	rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)health_body_max(x->h));
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	return rc ? -1 : 0;
}

static struct health_xfer *xfer_new(struct health *h, size_t i, struct curl_slist *auth,
                                    int64_t now)
{
	const struct conf_health *c = &h->cfg->health[i];
	struct health_xfer *x = calloc(1, sizeof *x);

	if (!x) {
		slist_wipe_free(auth);
		return NULL;
	}
	x->h = h;
	x->hm = h->ep[i].hm;
	x->idx = i;
	x->req_headers = auth;
	x->same_origin_only = auth != NULL;
	x->timeout_ms = health_timeout_ms(h, i);
	x->started_ms = now;
	x->url = strdup(c->url);
	x->easy = curl_easy_init();
	if (!x->url || !x->easy || xfer_setup(x, c->ca_file, x->timeout_ms) < 0) {
		xfer_free(x);
		return NULL;
	}
	return x;
}

/* --- publishing ---------------------------------------------------------- */

/* Replace m->health[i] whole with r (whose strings it takes over). */
static void result_publish(struct health *h, size_t i, struct health_result *r)
{
	struct health_result *old = &h->m->health[i];

	r->name = old->name;
	r->url = old->url;
	old->name = old->url = NULL;
	r->checks = old->checks + 1;
	r->checked_at_ms = clock_wall_ms();
	health_findings(r, r->checked_at_ms / 1000, h->cfg->cert_warn_days);
	log_msg(LOG_DEBUG, "health %s: %s%s%s (HTTP %ld, %.0f ms)", r->name,
	        health_state_name(r->state), r->reason ? ": " : "", r->reason ? r->reason : "",
	        r->http_status, r->latency_ms);
	health_result_free(old);
	*old = *r;
}

static void result_publish_failure(struct health *h, size_t i, const char *reason)
{
	struct health_result r = { .state = HEALTH_DOWN, .reason = strdup(reason) };

	result_publish(h, i, &r);
}

/* Why a transfer failed, in words the operator can act on. */
static char *transport_reason(struct health_xfer *x, CURLcode rc)
{
	const char *eb = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	curl_off_t connect_us = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (connect_us == 0 && x->timeout_ms > HEALTH_CONNECT_MAX_MS)
			return str_printf("timed out after %d ms (connecting)", HEALTH_CONNECT_MAX_MS);
		return str_printf("timed out after %d ms", x->timeout_ms);
	case CURLE_WRITE_ERROR:              /* our write callback said stop */
		if (!x->too_big)
			break;
		return str_printf("body larger than %zu bytes", health_body_max(x->h));
	case CURLE_FILESIZE_EXCEEDED:        /* Content-Length said it first */
		return str_printf("body larger than %zu bytes", health_body_max(x->h));
	case CURLE_UNSUPPORTED_PROTOCOL:
		if (x->last_status >= 300 && x->last_status < 400)
			return strdup("redirect to a disallowed scheme");
		return strdup("URL scheme is not http or https");
	case CURLE_TOO_MANY_REDIRECTS:
		return str_printf("more than %d redirects", HEALTH_MAX_REDIRECTS);
	case CURLE_COULDNT_RESOLVE_HOST:
		return str_printf("could not resolve host: %s", eb);
	case CURLE_COULDNT_CONNECT:
		return str_printf("could not connect: %s", eb);
	case CURLE_PEER_FAILED_VERIFICATION:
		return str_printf("TLS certificate verification failed: %s", eb);
	case CURLE_SSL_CACERT_BADFILE:
		return str_printf("cannot use the CA file: %s", eb);
	case CURLE_SSL_CONNECT_ERROR:
		return str_printf("TLS handshake failed: %s", eb);
	case CURLE_GOT_NOTHING:
		return strdup("empty reply from server");
	default:
		break;
	}
	return strdup(eb);
}

static int64_t xfer_cert_expiry(struct health_xfer *x)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(x->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci ||
	    ci->num_of_certs < 1)
		return 0;
	/* The first certificate is the server's own (the leaf). */
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
		if (strncmp(s->data, "Expire date:", 12) == 0)
			return health_parse_cert_date(s->data + 12);
	return 0;
}

static void xfer_result(struct health_xfer *x, CURLcode rc, struct health_result *r)
{
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->http_status);
	r->latency_ms = x->latency_ms;
	if (rc != CURLE_OK) {
		r->state = HEALTH_DOWN;
		r->reason = transport_reason(x, rc);
	} else {
		r->state = health_parse_body(x->body, x->body_len, r->http_status,
		                             &r->components, &r->n_components, &r->reason);
	}
	r->cert_expires_at = xfer_cert_expiry(x);
	r->hsts = x->hdr[H_HSTS];
	r->content_type_options = x->hdr[H_XCTO];
	r->frame_options = x->hdr[H_XFO];
	r->csp = x->hdr[H_CSP];
	r->cors = x->hdr[H_ACAO];
	r->ratelimit_limit = x->hdr[H_RL_LIMIT];
	r->ratelimit_remaining = x->hdr[H_RL_REMAINING];
	memset(x->hdr, 0, sizeof x->hdr);
}

/* --- our own redirects, for requests that carry credentials -------------- */

static char *url_part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *p = NULL;

	return curl_url_get(u, what, &p, flags) == CURLUE_OK ? p : NULL;
}

/* Same scheme, host and port: where the credentials were meant to go. */
static bool same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	bool same = false;

	if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK) {
		const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
		same = true;
		for (size_t i = 0; i < sizeof parts / sizeof *parts && same; i++) {
			char *pa = url_part(ua, parts[i], CURLU_DEFAULT_PORT);
			char *pb = url_part(ub, parts[i], CURLU_DEFAULT_PORT);
			same = pa && pb && ascii_ieqn(pa, strlen(pa), pb);
			curl_free(pa);
			curl_free(pb);
		}
	}
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

static bool scheme_allowed(const char *url)
{
	return (strlen(url) >= 7 && ascii_ieqn(url, 7, "http://")) ||
	       (strlen(url) >= 8 && ascii_ieqn(url, 8, "https://"));
}

/* The host and port of url ("[::1]" unbracketed); -1 if it has none. */
static int url_host_port(const char *url, char *host, size_t n, int *port)
{
	CURLU *u = curl_url();
	int rc = -1;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		char *hp = url_part(u, CURLUPART_HOST, 0), *pp = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
		if (hp && pp) {
			size_t len = strlen(hp);
			bool bracket = len > 1 && hp[0] == '[' && hp[len - 1] == ']';
			snprintf(host, n, "%.*s", (int)(bracket ? len - 2 : len), hp + bracket);
			*port = atoi(pp);
			rc = 0;
		}
		curl_free(hp);
		curl_free(pp);
	}
	curl_url_cleanup(u);
	return rc;
}

static int hop_add(struct health_xfer *x, char **reason)
{
	if (curl_multi_add_handle(x->hm->multi, x->easy) != CURLM_OK) {
		*reason = strdup("cannot start the request");
		return -1;
	}
	x->in_multi = true;
	return 0;
}

/* Is host in the CURLOPT_RESOLVE list already ("host:port:...")? */
static bool resolved_already(const struct health_xfer *x, const char *host, int port)
{
	char *prefix = str_printf("%s:%d:", host, port);
	bool found = false;

	for (const struct curl_slist *s = x->resolved; prefix && s && !found; s = s->next)
		found = strncmp(s->data, prefix, strlen(prefix)) == 0;
	free(prefix);
	return found;
}

/* Start the current hop: its host is looked up first, in a thread of ours,
 * unless it is an address or known already.  0, or -1 with *reason. */
static int hop_start(struct health_xfer *x, int64_t now, char **reason)
{
	char host[256];
	int port;

	if (url_host_port(x->url, host, sizeof host, &port) < 0 || resolve_is_literal(host) ||
	    resolved_already(x, host, port))
		return hop_add(x, reason);        /* curl says what is wrong with a bad URL */
	if (!(x->lookup = resolve_start(host, port))) {
		*reason = strdup("cannot start the name lookup");
		return -1;
	}
	int remaining = x->timeout_ms - (int)(now - x->started_ms);
	x->lookup_started_ms = now;
	x->lookup_due_ms = now + (remaining < HEALTH_CONNECT_MAX_MS ? remaining : HEALTH_CONNECT_MAX_MS);
	return 0;
}

/* After a 3xx: start the next hop, or say why
 * not.  0: the hop is under way; -1 with *reason set: publish as down; 1: no
 * Location to follow, publish the 3xx as it is. */
static int xfer_follow(struct health *h, struct health_xfer *x, int64_t now, char **reason)
{
	char *next = NULL;
	int remaining = x->timeout_ms - (int)(now - x->started_ms);

	curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &next);
	if (!next)
		return 1;
	if (!scheme_allowed(next))
		*reason = strdup("redirect to a disallowed scheme");
	else if (x->hops >= HEALTH_MAX_REDIRECTS)
		*reason = str_printf("more than %d redirects", HEALTH_MAX_REDIRECTS);
	else if (x->same_origin_only && !same_origin(h->cfg->health[x->idx].url, next))
		*reason = strdup("redirect to another origin not followed (credentials would go there)");
	else if (remaining <= 0)
		*reason = str_printf("timed out after %d ms", x->timeout_ms);
	if (*reason)
		return -1;
	char *url = strdup(next);
	if (!url)
		return 1;
	free(x->url);
	x->url = url;
	x->hops++;
	x->body_len = 0;
	x->too_big = false;
	if (xfer_setup(x, h->cfg->health[x->idx].ca_file, remaining) < 0) {
		*reason = strdup("cannot start the redirected request");
		return -1;
	}
	return hop_start(x, now, reason);
}

/* A transfer has finished (it is already out of the multi handle). */
static void xfer_end(struct health *h, struct health_xfer *x, struct health_result *r);

static void xfer_done(struct health *h, struct health_xfer *x, CURLcode rc)
{
	struct health_result r = { 0 };
	curl_off_t total_us = 0;
	long status = 0;
	char *reason = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	x->latency_ms += (double)total_us / 1000.0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->in_multi = false;                  /* health_drain took it out */
	if (rc == CURLE_OK && status >= 300 && status < 400) {
		int f = xfer_follow(h, x, clock_mono_ms(), &reason);
		if (f == 0)
			return;
		if (f < 0)
			rc = CURLE_ABORTED_BY_CALLBACK;
	}
	xfer_result(x, rc, &r);
	if (reason) {
		free(r.reason);
		r.reason = reason;
	}
	xfer_end(h, x, &r);
}

/* The check's result is r: published, and the endpoint rests. */
static void xfer_end(struct health *h, struct health_xfer *x, struct health_result *r)
{
	struct health_endpoint *ep = &h->ep[x->idx];
	ep->xfer = NULL;
	/* A check that ran past its interval (a hung server) is not restarted
	 * at once: half an interval of rest, so a dead endpoint is not hammered. */
	int64_t rest = clock_mono_ms() + health_refresh_ms(h) / 2;
	if (ep->next_due_ms < rest)
		ep->next_due_ms = rest;
	result_publish(h, x->idx, r);
	xfer_free(x);
}

/* A hop that never reached curl (its name lookup failed or took too long). */
static void xfer_fail(struct health *h, struct health_xfer *x, char *reason)
{
	struct health_result r = { .state = HEALTH_DOWN, .reason = reason,
	                           .latency_ms = (double)(clock_mono_ms() - x->started_ms) };
	xfer_end(h, x, &r);
}

/* The lookup answered: hand the addresses to curl and start the hop. */
static void lookup_done(struct health *h, struct health_xfer *x, int64_t now)
{
	char *entry = NULL, err[200], *reason = NULL;
	struct resolve *l = x->lookup;

	x->lookup = NULL;
	x->latency_ms += (double)(now - x->lookup_started_ms);   /* the lookup is part of the answer's time */
	if (resolve_finish(l, &entry, err, sizeof err) < 0) {
		xfer_fail(h, x, str_printf("could not resolve host: %s", err));
		return;
	}
	struct curl_slist *list = curl_slist_append(x->resolved, entry);
	free(entry);
	int remaining = x->timeout_ms - (int)(now - x->started_ms);
	if (list)
		x->resolved = list;
	if (!list || remaining <= 0 || xfer_setup(x, h->cfg->health[x->idx].ca_file, remaining) < 0 ||
	    hop_add(x, &reason) < 0) {
		xfer_fail(h, x, reason ? reason : remaining <= 0 ? str_printf("timed out after %d ms", x->timeout_ms)
		                                                 : strdup("cannot start the request"));
		return;
	}
}

/* Every finished transfer of one handle, after any call into curl. */
static void health_drain_multi(struct health *h, CURLM *multi)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *priv = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		struct health_xfer *x = (void *)priv;
		curl_multi_remove_handle(multi, e);   /* msg is gone after this */
		if (x)
			xfer_done(h, x, rc);
	}
}

static void health_drain(struct health *h)
{
	for (size_t i = 0; i < h->n_multis; i++)
		health_drain_multi(h, h->multis[i].multi);
}

static void check_start(struct health *h, size_t i, int64_t now)
{
	struct curl_slist *auth = NULL;
	char reason[256];

	h->ep[i].next_due_ms = now + health_refresh_ms(h);
	if (auth_headers(&h->cfg->health[i], &auth, reason, sizeof reason) < 0) {
		slist_wipe_free(auth);
		result_publish_failure(h, i, reason);
		return;
	}
	struct health_xfer *x = xfer_new(h, i, auth, now);   /* owns auth from here */
	char *why = NULL;
	if (!x) {
		result_publish_failure(h, i, "cannot set up the request");
		return;
	}
	if (hop_start(x, now, &why) < 0) {
		xfer_free(x);
		result_publish_failure(h, i, why ? why : "cannot start the request");
		free(why);
		return;
	}
	h->ep[i].xfer = x;
}

/* The lookups under way: answered, or past their deadline. */
static void lookups_check(struct health *h, const struct pollfd *pfd, int n, int64_t now)
{
	for (size_t i = 0; i < h->n; i++) {
		struct health_xfer *x = h->ep[i].xfer;
		if (!x || !x->lookup)
			continue;
		bool ready = false;
		for (int k = 0; k < n && !ready; k++)
			ready = pfd[k].fd == resolve_fd(x->lookup) && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR));
		if (ready)
			lookup_done(h, x, now);
		else if (now >= x->lookup_due_ms)
			xfer_fail(h, x, str_printf("timed out after %d ms (looking up the host name)",
			                           (int)(x->lookup_due_ms - x->started_ms)));
	}
}

/* --- the source ---------------------------------------------------------- */

static int health_fds(void *self, struct pollfd *pfd, int max, int64_t now, int64_t *timeout)
{
	struct health *h = self;
	int n = 0;

	for (size_t i = 0; i < h->n_socks && n < max; i++, n++) {
		pfd[n].fd = h->socks[i].fd;
		pfd[n].events = h->socks[i].events;
		pfd[n].revents = 0;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct health_xfer *x = h->ep[i].xfer;
		if (!x || !x->lookup)
			continue;
		if (n < max)
			pfd[n++] = (struct pollfd){ .fd = resolve_fd(x->lookup), .events = POLLIN };
		lower_timeout(timeout, x->lookup_due_ms - now);
	}
	for (size_t i = 0; i < h->n_multis; i++)
		if (h->multis[i].timer_due_ms >= 0)
			lower_timeout(timeout, h->multis[i].timer_due_ms - now);
	for (size_t i = 0; i < h->n; i++)
		if (health_may_start(h, i))
			lower_timeout(timeout, h->ep[i].next_due_ms - now);
	return n;
}

static void health_ready(void *self, const struct pollfd *pfd, int n, int64_t now)
{
	struct health *h = self;
	int running;

	for (int i = 0; i < n; i++) {
		short re = pfd[i].revents;
		int ev = 0;
		if (!re)
			continue;
		if (re & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (re & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (re & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		/* Gone if an earlier action in this turn closed it. */
		struct health_sock *s = sock_find(h, pfd[i].fd);
		if (s)
			curl_multi_socket_action(s->hm->multi, pfd[i].fd, ev, &running);
	}
	health_drain(h);
	lookups_check(h, pfd, n, now);
}

static void health_tick(void *self, int64_t now)
{
	struct health *h = self;
	int running;

	lookups_check(h, NULL, 0, now);
	int started = 0;
	for (size_t i = 0; i < h->n && started < HEALTH_STARTS_PER_TICK; i++)
		if (health_may_start(h, i) && now >= h->ep[i].next_due_ms) {
			h->ep[i].forced = false;
			check_start(h, i, now);
			started++;
		}
	/* Adding a handle asks for an immediate timeout: honour it now rather
	 * than one poll() later. */
	for (size_t i = 0; i < h->n_multis; i++) {
		struct health_multi *hm = &h->multis[i];
		if (hm->timer_due_ms >= 0 && clock_mono_ms() >= hm->timer_due_ms) {
			hm->timer_due_ms = -1;
			curl_multi_socket_action(hm->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
	}
	health_drain(h);
}

static void health_refresh_now(void *self)
{
	struct health *h = self;

	for (size_t i = 0; i < h->n; i++) {
		h->ep[i].next_due_ms = 0;
		h->ep[i].forced = true;
	}
}

static void health_destroy(void *self)
{
	struct health *h = self;

	if (!h)
		return;
	for (size_t i = 0; h->ep && i < h->n; i++) {
		xfer_free(h->ep[i].xfer);           /* takes it out of its multi handle */
	}
	/* A multi handle may still report sockets going away: h lives until then. */
	for (size_t i = 0; i < h->n_multis; i++)
		if (h->multis[i].multi)
			curl_multi_cleanup(h->multis[i].multi);
	free(h->multis);
	free(h->socks);
	free(h->ep);
	free(h);
}

static const struct source_ops health_ops = {
	.name = "health",
	.fds = health_fds,
	.ready = health_ready,
	.tick = health_tick,
	.refresh_now = health_refresh_now,
	.destroy = health_destroy,
};

struct source health_source(struct health *h)
{
	return (struct source){ .ops = &health_ops, .self = h };
}

/* --- construction -------------------------------------------------------- */

static int model_health_init(const struct config *cfg, struct model *m)
{
	for (size_t i = 0; i < m->n_health; i++)
		health_result_free(&m->health[i]);
	free(m->health);
	m->health = NULL;
	m->n_health = 0;
	if (cfg->n_health == 0)
		return 0;
	struct health_result *v = calloc(cfg->n_health, sizeof *v);
	if (!v)
		return -1;
	m->health = v;
	m->n_health = cfg->n_health;
	for (size_t i = 0; i < cfg->n_health; i++) {
		v[i].state = HEALTH_UNKNOWN;
		v[i].name = strdup(cfg->health[i].name ? cfg->health[i].name : "");
		v[i].url = strdup(cfg->health[i].url ? cfg->health[i].url : "");
		if (!v[i].name || !v[i].url)
			return -1;
	}
	return 0;
}

static bool same_ca(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int multi_open(struct health *h, struct health_multi *hm, const char *ca_file)
{
	hm->h = h;
	hm->ca_file = ca_file;
	hm->timer_due_ms = -1;
	hm->multi = curl_multi_init();
	if (!hm->multi)
		return -1;
	int rc = 0;
	rc |= curl_multi_setopt(hm->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	rc |= curl_multi_setopt(hm->multi, CURLMOPT_SOCKETDATA, hm);
	rc |= curl_multi_setopt(hm->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	rc |= curl_multi_setopt(hm->multi, CURLMOPT_TIMERDATA, hm);
	return rc ? -1 : 0;
}

/* One multi handle per distinct CA source; each endpoint points at its own. */
static int health_multis_init(struct health *h)
{
	h->multis = calloc(h->n ? h->n : 1, sizeof *h->multis);
	if (!h->multis)
		return -1;
	for (size_t i = 0; i < h->n; i++) {
		const char *ca = h->cfg->health[i].ca_file;
		size_t k = 0;
		while (k < h->n_multis && !same_ca(h->multis[k].ca_file, ca))
			k++;
		if (k == h->n_multis && multi_open(h, &h->multis[h->n_multis++], ca) < 0)
			return -1;
		h->ep[i].hm = &h->multis[k];
	}
	return 0;
}

/* Whether libcurl was built with a default CA bundle (CURLINFO_CAINFO, 7.84). */
static bool curl_has_default_bundle(void)
{
	CURL *e = curl_easy_init();
	char *bundle = NULL;
	bool has = false;

	if (e && curl_easy_getinfo(e, CURLINFO_CAINFO, &bundle) == CURLE_OK)
		has = bundle && *bundle;
	curl_easy_cleanup(e);
	return has;
}

struct health *health_new(const struct config *cfg, struct model *m, char *err, size_t errsz)
{
	struct health *h = calloc(1, sizeof *h);

	if (!h) {
		snprintf(err, errsz, "health: out of memory");
		return NULL;
	}
	h->cfg = cfg;
	h->m = m;
	h->n = cfg->n_health;
	for (size_t i = 0; i < h->n; i++)
		if (!cfg->health[i].url || !cfg->health[i].name) {
			snprintf(err, errsz, "health: endpoint %zu has no name or URL", i + 1);
			free(h);
			return NULL;
		}
	if ((h->n && !(h->ep = calloc(h->n, sizeof *h->ep))) || model_health_init(cfg, m) < 0) {
		snprintf(err, errsz, "health: out of memory");
		health_destroy(h);
		return NULL;
	}
	if (health_multis_init(h) < 0) {
		snprintf(err, errsz, "health: cannot create a curl multi handle");
		health_destroy(h);
		return NULL;
	}
	h->drop_capath = curl_has_default_bundle();
	return h;
}
