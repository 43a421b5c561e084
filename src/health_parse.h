/* health_parse.h: what a health response means, without any I/O.
 *
 * The body and header values are untrusted and are kept raw here (the model
 * holds raw strings; sanitize is the display's job).  Findings are the one
 * exception: they are sentences built only from our own text and numbers, so
 * nothing a server sends ever ends up in one.
 */
#ifndef SECTOP_HEALTH_PARSE_H
#define SECTOP_HEALTH_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define HEALTH_MAX_COMPONENTS 32     /* components kept from one body */
#define HEALTH_MAX_DEPTH 64          /* deeper JSON is refused before parsing */
#define HEALTH_NAME_MAX 256          /* bytes of a component name kept */
#define HEALTH_DETAIL_MAX 512        /* bytes of a component detail kept */

/* "healthy", "ok", "pass", "up" -> HEALTHY; "degraded", "warn" -> DEGRADED
 * (ASCII case-insensitive); NULL -> UNKNOWN; any other word -> DOWN. */
enum health_state health_state_from_word(const char *word);

/* The state a response gives, per contract/health.md.  Always sets *comps
 * (malloc'd array or NULL), *n_comps and *reason (malloc'd, NULL when
 * healthy).  Components are read from the first of "components", "checks"
 * or "details" that is present; each may be a string, a boolean, an object
 * with "status" and an optional "error"/"message"/"output"/"description",
 * or an array of such objects (the IETF draft and MicroProfile shapes: the
 * worst one counts).  One level only: nested components are not followed.
 * Components are also read from a non-200 response, for what they tell. */
enum health_state health_parse_body(const char *body, size_t len, long http_status,
                                    struct health_component **comps, size_t *n_comps,
                                    char **reason);

/* Free an array of components as health_parse_body returns it. */
void health_components_free(struct health_component *c, size_t n);

/* Replace r->findings with the posture findings of r's captured headers
 * (only when there was a response) and certificate expiry.  HTTPS is judged
 * from r->url, the configured URL. */
void health_findings(struct health_result *r, int64_t now_s, int cert_warn_days);

/* A certificate date as curl's certinfo gives it ("Dec  2 12:00:00 2026 GMT",
 * OpenSSL's format; "2026-12-02 12:00:00 GMT" is accepted too).  Unix
 * seconds, or 0 if it cannot be read (0 is "unknown" in the model). */
int64_t health_parse_cert_date(const char *s);

#endif
