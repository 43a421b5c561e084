/* webhook.h: one JSON POST to a URL from the configuration, for the
 * actions that hand work to another system (a secret rotation, a key
 * revocation) and for the notifications of alerts.  webhook_post is
 * synchronous, one libcurl easy request bounded by a total timeout: call it
 * from the command line or from a worker thread, never from the screen's
 * loop.  The same request as a webhook_call goes into a curl multi handle
 * instead (notify.c), its host looked up beforehand (resolve.h).
 *
 * The bearer token is read from the environment at the moment of the
 * request; it is never stored, shown, journalled or logged.  Redirects are
 * not followed (a redirect would carry the token elsewhere), only http and
 * https are spoken, and certificates are always verified.
 */
#ifndef SECTOP_WEBHOOK_H
#define SECTOP_WEBHOOK_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

struct webhook_request {
	const char *url;
	const char *token_env;        /* the variable holding the token; NULL: no Authorization */
	const char *ca_file;          /* extra CA bundle; NULL: the system's */
	int timeout_ms;               /* the whole request, connect included */
	const char *body;             /* JSON text */
	const char *idempotency_key;  /* sent as Idempotency-Key; NULL: none */
};

enum webhook_outcome {
	WH_ACCEPTED,      /* an HTTP 2xx */
	WH_REFUSED,       /* another answer (3xx, 4xx): the receiver said no */
	WH_UNKNOWN,       /* a timeout, a 5xx, or the connection lost after the request went out */
	WH_NOT_SENT,      /* nothing left: no token, no name resolution, no connection, bad certificate */
};

struct webhook_result {
	enum webhook_outcome outcome;
	long http_status;             /* 0: no answer */
	char error[256];              /* why, when not accepted (never the token) */
	char answer[256];             /* the start of the response body, raw: sanitize to show */
};

/* Is url one sectop will send a token to: http:// or https://, a host, no
 * user:password@, no blanks; plain http only to a loopback host (127.0.0.0/8,
 * [::1], localhost).  0, or -1 with the reason. */
int webhook_url_check(const char *url, char *err, size_t errsz);

/* A shell variable name: [A-Za-z_][A-Za-z0-9_]*, at most 64 characters. */
bool webhook_env_name_ok(const char *name);

/* The request as it will be sent, for a confirmation or a dry run, with
 * "Authorization: Bearer <from $VAR>" in place of the token.  malloc'd. */
char *webhook_preview(const struct webhook_request *rq);

/* Send it.  res says what became of it; the return is res->outcome. */
enum webhook_outcome webhook_post(const struct webhook_request *rq, struct webhook_result *res);

/* The request prepared, not sent: NULL with res saying why (WH_NOT_SENT:
 * a bad URL, no token) when nothing can be.  The token is read from the
 * environment now and held only in the call, wiped when it is freed. */
struct webhook_call;
struct webhook_call *webhook_call_new(const struct webhook_request *rq, struct webhook_result *res);
/* Connect to these addresses rather than look the host up: a resolve.h
 * entry, "host:port:addr[,addr]".  0 or -1. */
int webhook_call_resolve(struct webhook_call *c, const char *entry);
/* The easy handle, for curl_multi_add_handle (and CURLOPT_PRIVATE). */
CURL *webhook_call_easy(struct webhook_call *c);
/* After the transfer ended with rc: what became of it (res), returned. */
enum webhook_outcome webhook_call_finish(struct webhook_call *c, CURLcode rc, struct webhook_result *res);
/* Frees it, the token wiped; take it out of a multi handle first. */
void webhook_call_free(struct webhook_call *c);

/* The host and port a URL names ("[::1]" without brackets; the scheme's
 * port when none is written).  0, or -1 when it has none. */
int webhook_url_host(const char *url, char *host, size_t n, int *port);

/* accepted, refused, unknown, not_sent */
const char *webhook_outcome_name(enum webhook_outcome o);

#endif
