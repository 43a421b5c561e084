/* report_geo.c: the report's countries and networks: the failures of each
 * failing address of both periods, summed by where it sits (geoip.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "geoip.h"
#include "report.h"

struct keyed {
	char name[160];
	long long n;
	bool prev;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->name, ((const struct keyed *)b)->name);
}

static int by_failures(const void *a, const void *b)
{
	const struct report_origin *x = a, *y = b;
	if (x->cur != y->cur)
		return x->cur > y->cur ? -1 : 1;
	if (x->prev != y->prev)
		return x->prev > y->prev ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sum the keyed rows by name into a malloc'd list, most failures first. */
static struct report_origin *sum_by_name(struct keyed *k, size_t n, size_t *out_n)
{
	struct report_origin *o = calloc(n + 1, sizeof *o);
	size_t m = 0;

	*out_n = 0;
	if (!o)
		return NULL;
	qsort(k, n, sizeof *k, by_name);
	for (size_t i = 0; i < n; i++) {
		if (!m || strcmp(o[m - 1].name, k[i].name) != 0)
			memcpy(o[m++].name, k[i].name, sizeof o[0].name);
		if (k[i].prev) {
			o[m - 1].prev += k[i].n;
		} else {
			o[m - 1].cur += k[i].n;
			o[m - 1].addresses++;
		}
	}
	qsort(o, m, sizeof *o, by_failures);
	*out_n = m;
	return o;
}

int report_origins(struct report *r, const struct geoip *geo)
{
	struct keyed *cc = calloc(r->n_fail_ips + 1, sizeof *cc), *as = calloc(r->n_fail_ips + 1, sizeof *as);
	int rc = -1;

	r->geo_db = geo != NULL;
	if (!cc || !as)
		goto out;
	for (size_t i = 0; geo && i < r->n_fail_ips; i++) {
		const struct report_fail_ip *f = &r->fail_ips[i];
		struct geo_info gi;
		geoip_lookup(geo, f->ip, &gi);
		cc[i] = (struct keyed){ .n = f->failures, .prev = f->prev };
		as[i] = cc[i];
		memcpy(cc[i].name, gi.country[0] ? gi.country : "unknown", gi.country[0] ? 3 : 8);
		geoip_network(&gi, as[i].name, sizeof as[i].name);
		if (!as[i].name[0])
			memcpy(as[i].name, "unknown", 8);
	}
	size_t n = geo ? r->n_fail_ips : 0;
	r->countries = sum_by_name(cc, n, &r->n_countries);
	r->networks = sum_by_name(as, n, &r->n_networks);
	rc = r->countries && r->networks ? 0 : -1;
out:
	free(cc);
	free(as);
	return rc;
}
