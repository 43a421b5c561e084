#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "allowlist.h"
#include "conf.h"
#include "model.h"
#include "sanitize.h"
#include "snapshot_out.h"
#include "strutil.h"

static const char *const kind_names[ALERT_KINDS] = {
	[ALERT_BRUTE_FORCE] = "brute_force",
	[ALERT_ALLOWLISTED_BLOCKED] = "allowlisted_blocked",
	[ALERT_ENDPOINT_DOWN] = "endpoint_down",
	[ALERT_CERT_EXPIRING] = "cert_expiring",
	[ALERT_SOURCE_STALE] = "source_stale",
};

const char *alert_kind_name(enum alert_kind k)
{
	return k < ALERT_KINDS ? kind_names[k] : "?";
}

static void alert_start(struct alert *a, enum alert_kind k, const char *subject, const char *detail)
{
	memset(a, 0, sizeof *a);
	a->kind = k;
	snprintf(a->subject, sizeof a->subject, "%s", subject ? subject : "");
	snprintf(a->key, sizeof a->key, "%s:%s", kind_names[k], a->subject);
	snprintf(a->detail, sizeof a->detail, "%s", detail ? detail : "");
}

static void fig(struct alert *a, const char *name, long long v)
{
	for (int i = 0; i < ALERT_FIGURES; i++)
		if (!a->fig[i].name) {
			a->fig[i] = (struct alert_figure){ name, v };
			return;
		}
}

long long alert_figure(const struct alert *a, const char *name, long long dflt)
{
	for (int i = 0; i < ALERT_FIGURES && a->fig[i].name; i++)
		if (strcmp(a->fig[i].name, name) == 0)
			return a->fig[i].value;
	return dflt;
}

/* --- the conditions ------------------------------------------------------ */

static bool in_top(const struct model *m, const char *ip)
{
	for (size_t i = 0; i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, ip) == 0)
			return true;
	return false;
}

static void allowlisted(struct alert *a, const struct model *m, const char *ip, long ttl_s)
{
	const struct allow_entry *e = model_allowed(m, ip);

	alert_start(a, ALERT_ALLOWLISTED_BLOCKED, ip, e ? (e->note[0] ? e->note : e->where) : "");
	fig(a, "ttl_s", ttl_s);
}

/* The top addresses: over the threshold, or blocked by the servers while
 * allow-listed (their own keys, read exactly). */
static void each_address(const struct model *m, const struct config *cfg, alert_fn fn, void *ctx)
{
	struct alert a;

	for (size_t i = 0; i < m->n_top_ips; i++) {
		const struct ip_stat *s = &m->top_ips[i];
		const struct ip_redis *r = model_ip_redis(m, s->ip);
		if (snapshot_ip_alert(m, cfg, s)) {
			alert_start(&a, ALERT_BRUTE_FORCE, s->ip, NULL);
			fig(&a, "failures", s->failures);
			fig(&a, "requests", s->requests);
			fig(&a, "window_s", m->window_s);
			fig(&a, "threshold", cfg->alert_failures);
			if (r && r->failed_auth >= 0)
				fig(&a, "failed_auth", r->failed_auth);
			fn(ctx, &a);
		}
		if (model_ip_block_alert(m, s->ip)) {
			allowlisted(&a, m, s->ip, r->block_ttl_s);
			fn(ctx, &a);
		}
	}
}

/* Blocks off the top list; a top address whose own keys were read was
 * decided above. */
static void each_block(const struct model *m, alert_fn fn, void *ctx)
{
	struct alert a;

	for (size_t i = 0; i < m->n_blocked; i++) {
		const struct block_entry *b = &m->blocked[i];
		if (!model_block_alert(m, b) || (in_top(m, b->key_ip) && model_ip_redis(m, b->key_ip)))
			continue;
		allowlisted(&a, m, b->key_ip, b->ttl_s);
		fn(ctx, &a);
	}
}

static void each_endpoint(const struct model *m, const struct config *cfg, int64_t now_s,
                          alert_fn fn, void *ctx)
{
	struct alert a;

	for (size_t i = 0; i < m->n_health; i++) {
		const struct health_result *h = &m->health[i];
		if (h->state == HEALTH_DOWN) {
			alert_start(&a, ALERT_ENDPOINT_DOWN, h->name, h->reason);
			fig(&a, "http_status", h->http_status);
			fn(ctx, &a);
		}
		if (h->cert_expires_at && h->cert_expires_at - now_s < (int64_t)cfg->cert_warn_days * 86400) {
			alert_start(&a, ALERT_CERT_EXPIRING, h->name, NULL);
			fig(&a, "expires_at", h->cert_expires_at);
			int64_t left = h->cert_expires_at - now_s;
			fig(&a, "days_left", left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
			fn(ctx, &a);
		}
	}
}

/* A source that had data and has failed for longer than stale-alert. */
static void each_source(const struct model *m, const struct config *cfg, int64_t now_ms,
                        alert_fn fn, void *ctx)
{
	const struct source_status *s[] = { &m->pg, &m->redis };
	static const char *const names[] = { "postgres", "redis" };
	struct alert a;

	for (int i = 0; i < 2; i++) {
		int64_t age_ms = now_ms - s[i]->last_ok_ms;
		if (s[i]->state == SOURCE_OK || !s[i]->last_ok_ms || age_ms <= (int64_t)cfg->stale_alert_s * 1000)
			continue;
		alert_start(&a, ALERT_SOURCE_STALE, names[i], s[i]->error);
		fig(&a, "age_s", age_ms / 1000);
		fig(&a, "threshold_s", cfg->stale_alert_s);
		fn(ctx, &a);
	}
}

void alerts_each(const struct model *m, const struct config *cfg, int64_t now_wall_ms,
                 alert_fn fn, void *ctx)
{
	each_address(m, cfg, fn, ctx);
	each_block(m, fn, ctx);
	each_endpoint(m, cfg, now_wall_ms / 1000, fn, ctx);
	each_source(m, cfg, now_wall_ms, fn, ctx);
}

static void count_one(void *ctx, const struct alert *a)
{
	(void)a;
	(*(size_t *)ctx)++;
}

size_t alerts_count(const struct model *m, const struct config *cfg, int64_t now_wall_ms)
{
	size_t n = 0;

	alerts_each(m, cfg, now_wall_ms, count_one, &n);
	return n;
}

/* --- in words ------------------------------------------------------------ */

static void describe_brute(const struct alert *a, char *out, size_t n)
{
	char win[16], extra[64] = "";
	long long fa = alert_figure(a, "failed_auth", -1);

	str_duration(win, sizeof win, (long)alert_figure(a, "window_s", 0));
	if (fa >= 0)
		snprintf(extra, sizeof extra, ", failed_auth counter %lld", fa);
	snprintf(out, n, "%lld failures of %lld requests in %s%s (threshold: more than %lld)",
	         alert_figure(a, "failures", 0), alert_figure(a, "requests", 0), win, extra,
	         alert_figure(a, "threshold", 0));
}

static void describe_cert(const struct alert *a, char *out, size_t n)
{
	char day[16] = "?";
	time_t t = (time_t)alert_figure(a, "expires_at", 0);
	struct tm tm;
	long long left = alert_figure(a, "days_left", 0);

	if (gmtime_r(&t, &tm))
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
	if (left < 0)
		snprintf(out, n, "certificate expired on %s", day);
	else
		snprintf(out, n, "certificate expires in %lld day%s (%s)", left, left == 1 ? "" : "s", day);
}

char *alert_describe(const struct alert *a, char *buf, size_t n)
{
	char what[256];
	long long v;

	switch (a->kind) {
	case ALERT_BRUTE_FORCE:
		describe_brute(a, what, sizeof what);
		break;
	case ALERT_ALLOWLISTED_BLOCKED:
		snprintf(what, sizeof what, "allow-listed%s%.100s%s but blocked by the servers%s",
		         a->detail[0] ? " (" : "", a->detail, a->detail[0] ? ")" : "",
		         alert_figure(a, "ttl_s", -1) == -1 ? ", no expiry" : "");
		break;
	case ALERT_ENDPOINT_DOWN:
		v = alert_figure(a, "http_status", 0);
		if (v)
			snprintf(what, sizeof what, "down (HTTP %lld%s%.150s)", v, a->detail[0] ? ": " : "", a->detail);
		else
			snprintf(what, sizeof what, "down (%.150s)", a->detail[0] ? a->detail : "no answer");
		break;
	case ALERT_CERT_EXPIRING:
		describe_cert(a, what, sizeof what);
		break;
	case ALERT_SOURCE_STALE:
		snprintf(what, sizeof what, "stale for %llds (more than %llds)%s%.150s", alert_figure(a, "age_s", 0),
		         alert_figure(a, "threshold_s", 0), a->detail[0] ? ": " : "", a->detail);
		break;
	default:
		snprintf(what, sizeof what, "?");
	}
	char *line = str_printf("%s: %s", a->subject, what);
	char *safe = sanitize_str(line ? line : "", 0);
	snprintf(buf, n, "%s", safe ? safe : "");
	free(safe);
	free(line);
	return buf;
}
