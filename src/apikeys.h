/* apikeys.h: the API keys table as the key list shows it: prefix, name,
 * scopes, age, last use, expiry and revoked state, never the key itself
 * (the table does not hold it).  A blocking read bounded by the server
 * timeout, for a worker thread. */
#ifndef SECTOP_APIKEYS_H
#define SECTOP_APIKEYS_H

#include <stddef.h>
#include <stdint.h>

struct config;

struct api_key {
	char *id, *tenant, *name, *prefix, *scopes;
	int64_t created, last_used, expires, revoked;   /* unix seconds; 0: none */
	char *revoked_by;
};

#define APIKEYS_MAX 5000

/* The keys of tenant (NULL: every tenant), tenant by tenant, newest first,
 * at most APIKEYS_MAX.  0, or -1 with err. */
int apikeys_fetch(const struct config *cfg, const char *tenant, struct api_key **out, size_t *n,
                  char *err, size_t errsz);
void apikeys_free(struct api_key *v, size_t n);

#endif
