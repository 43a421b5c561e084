/* geoip.h: the country and autonomous system of an address, from MaxMind
 * DB files (GeoLite2 or DB-IP country, city and ASN databases) read with
 * libmaxminddb.  Several files may be given: each answers what it knows
 * (a country database the country, an ASN database the AS).  Lookups are
 * in memory (the files are mapped), a few microseconds each, so views and
 * reports look up what they show.  Built without libmaxminddb, opening a
 * database fails with a message saying so. */
#ifndef SECTOP_GEOIP_H
#define SECTOP_GEOIP_H

#include <stdbool.h>
#include <stddef.h>

enum geo_state {
	GEO_NO_DB,            /* no database configured: nothing to say */
	GEO_NOT_FOUND,        /* the databases hold no network of this address */
	GEO_FOUND,
};

struct geo_info {
	enum geo_state state;
	char country[3];      /* ISO 3166-1 alpha-2 ("" when no database says) */
	unsigned long asn;    /* 0 when no database says */
	char as_org[128];     /* raw, untrusted: through the sanitiser before shown */
};

struct geoip;

/* Open every file; NULL with err naming the first that failed.  n 0 gives
 * NULL without error: no database. */
struct geoip *geoip_open(char *const *files, size_t n, char *err, size_t errsz);
void geoip_close(struct geoip *g);

/* Look up a textual address (never a name: nothing is resolved).  g NULL:
 * GEO_NO_DB. */
void geoip_lookup(const struct geoip *g, const char *ip, struct geo_info *out);

/* For people: "NL  AS64500 Example Hosting B.V." (raw: the organisation is
 * untrusted, the caller sanitises), "not in the GeoIP databases", or "" for
 * no database. */
void geoip_describe(const struct geo_info *gi, char *buf, size_t n);
/* "AS64500 Example Hosting B.V.", "" when unknown. */
void geoip_network(const struct geo_info *gi, char *buf, size_t n);

/* Compiled with libmaxminddb?  Its version, NULL when not. */
bool geoip_supported(void);
const char *geoip_version(void);

#endif
