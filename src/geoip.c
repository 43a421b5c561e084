#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "geoip.h"

void geoip_network(const struct geo_info *gi, char *buf, size_t n)
{
	if (gi->asn && gi->as_org[0])
		snprintf(buf, n, "AS%lu %s", gi->asn, gi->as_org);
	else if (gi->asn)
		snprintf(buf, n, "AS%lu", gi->asn);
	else
		snprintf(buf, n, "%s", gi->as_org);
}

void geoip_describe(const struct geo_info *gi, char *buf, size_t n)
{
	char net[160];

	if (gi->state == GEO_NO_DB)
		snprintf(buf, n, "%s", "");
	else if (gi->state == GEO_NOT_FOUND)
		snprintf(buf, n, "not in the GeoIP databases");
	else {
		geoip_network(gi, net, sizeof net);
		snprintf(buf, n, "%s%s%s", gi->country[0] ? gi->country : "--", net[0] ? "  " : "", net);
	}
}

#ifdef HAVE_LIBMAXMINDDB
#include <maxminddb.h>

struct geoip {
	MMDB_s *db;
	size_t n;
};

bool geoip_supported(void)
{
	return true;
}

const char *geoip_version(void)
{
	return MMDB_lib_version();
}

struct geoip *geoip_open(char *const *files, size_t n, char *err, size_t errsz)
{
	if (n == 0)
		return NULL;
	struct geoip *g = calloc(1, sizeof *g);
	if (!g || !(g->db = calloc(n, sizeof *g->db))) {
		snprintf(err, errsz, "out of memory");
		free(g);
		return NULL;
	}
	for (; g->n < n; g->n++) {
		int rc = MMDB_open(files[g->n], MMDB_MODE_MMAP, &g->db[g->n]);
		if (rc != MMDB_SUCCESS) {
			snprintf(err, errsz, "geoip-db %s: %s", files[g->n], MMDB_strerror(rc));
			geoip_close(g);
			return NULL;
		}
	}
	return g;
}

void geoip_close(struct geoip *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		MMDB_close(&g->db[i]);
	free(g->db);
	free(g);
}

/* A text or number at path in a record, if it is there. */
static bool get_value(MMDB_entry_s *e, MMDB_entry_data_s *d, const char *const *path)
{
	return MMDB_aget_value(e, d, path) == MMDB_SUCCESS && d->has_data;
}

static void take_record(MMDB_entry_s *e, struct geo_info *out)
{
	static const char *const country[] = { "country", "iso_code", NULL };
	static const char *const registered[] = { "registered_country", "iso_code", NULL };
	static const char *const asn[] = { "autonomous_system_number", NULL };
	static const char *const org[] = { "autonomous_system_organization", NULL };
	MMDB_entry_data_s d;

	if (!out->country[0] && (get_value(e, &d, country) || get_value(e, &d, registered)) &&
	    d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2)
		memcpy(out->country, d.utf8_string, 2);
	if (!out->asn && get_value(e, &d, asn)) {
		if (d.type == MMDB_DATA_TYPE_UINT32)
			out->asn = d.uint32;
		else if (d.type == MMDB_DATA_TYPE_UINT16)
			out->asn = d.uint16;
	}
	if (!out->as_org[0] && get_value(e, &d, org) && d.type == MMDB_DATA_TYPE_UTF8_STRING) {
		size_t len = d.data_size < sizeof out->as_org - 1 ? d.data_size : sizeof out->as_org - 1;
		memcpy(out->as_org, d.utf8_string, len);   /* may hold a NUL: cut there, shown inert */
		out->as_org[len] = '\0';
	}
}

void geoip_lookup(const struct geoip *g, const char *ip, struct geo_info *out)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;

	memset(out, 0, sizeof *out);
	out->state = GEO_NO_DB;
	if (!g)
		return;
	out->state = GEO_NOT_FOUND;
	if (ip && inet_pton(AF_INET, ip, &v4->sin_addr) == 1)
		v4->sin_family = AF_INET;
	else if (ip && inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1)
		v6->sin6_family = AF_INET6;
	else
		return;
	for (size_t i = 0; i < g->n; i++) {
		int rc;
		MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&g->db[i], (struct sockaddr *)&ss, &rc);
		if (rc == MMDB_SUCCESS && res.found_entry)
			take_record(&res.entry, out);
	}
	if (out->country[0] || out->asn || out->as_org[0])
		out->state = GEO_FOUND;
}

#else /* !HAVE_LIBMAXMINDDB */

bool geoip_supported(void)
{
	return false;
}

const char *geoip_version(void)
{
	return NULL;
}

struct geoip *geoip_open(char *const *files, size_t n, char *err, size_t errsz)
{
	(void)files;
	if (n)
		snprintf(err, errsz, "geoip-db: this sectop was built without libmaxminddb "
		         "(Debian: libmaxminddb-dev, then configure again)");
	return NULL;
}

void geoip_close(struct geoip *g)
{
	(void)g;
}

void geoip_lookup(const struct geoip *g, const char *ip, struct geo_info *out)
{
	(void)g;
	(void)ip;
	memset(out, 0, sizeof *out);
	out->state = GEO_NO_DB;
}

#endif
