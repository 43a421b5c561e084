#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "notify_msg.h"
#include "snapshot_out.h"
#include "strutil.h"

static json_t *iso(int64_t wall_ms)
{
	char buf[32];

	snapshot_iso_time(buf, sizeof buf, wall_ms / 1000);
	return json_string(buf);
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return s;
}

/* Slack reads <...> as a link or a mention and & as an entity: escaped,
 * so an address or a server's words are only ever text. */
static char *slack_escape(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p; p++)
		n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p; p++) {
		const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
		if (rep)
			o = stpcpy(o, rep);
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

static char *slack_body(const struct notify_origin *o, const char *what)
{
	char *line = str_printf("[sectop@%s] %s%s%s%s", o->host, what, o->incident ? " (incident " : "",
	                        o->incident ? o->incident : "", o->incident ? ")" : "");
	char *text = line ? slack_escape(line) : NULL;

	free(line);
	char *s = text ? dump(json_pack("{s:o}", "text", json_out_string(text))) : NULL;
	free(text);
	return s;
}

static json_t *base(const char *event, const struct notify_origin *o, int64_t now_wall_ms)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "source", "sectop", "event", event,
	                 "time", iso(now_wall_ms), "host", json_out_string(o->host),
	                 "incident", json_out_string(o->incident));
}

static json_t *figures(const struct alert *a)
{
	json_t *f = json_object();

	for (int i = 0; f && i < ALERT_FIGURES && a->fig[i].name; i++)
		json_object_set_new(f, a->fig[i].name, json_integer(a->fig[i].value));
	return f;
}

char *notify_msg_alert(enum notify_format f, const struct notify_origin *o, const struct alert *a,
                       bool started, int64_t since_wall_ms, int64_t now_wall_ms)
{
	char what[400], line[520];

	alert_describe(a, what, sizeof what);
	if (f == NOTIFY_SLACK) {
		snprintf(line, sizeof line, "%s %s: %s", started ? "ALERT" : "RESOLVED", alert_kind_name(a->kind), what);
		return slack_body(o, line);
	}
	json_t *j = base(started ? "alert" : "resolved", o, now_wall_ms);
	if (!j)
		return NULL;
	json_object_set_new(j, "kind", json_string(alert_kind_name(a->kind)));
	json_object_set_new(j, "key", json_out_string(a->key));
	json_object_set_new(j, "subject", json_out_string(a->subject));
	json_object_set_new(j, "summary", json_out_string(what));
	json_object_set_new(j, "detail", a->detail[0] ? json_out_string(a->detail) : json_null());
	json_object_set_new(j, "figures", figures(a));
	json_object_set_new(j, "since", iso(since_wall_ms));
	return dump(j);
}

char *notify_msg_suppressed(enum notify_format f, const struct notify_origin *o, unsigned long n,
                            const unsigned long by_kind[ALERT_KINDS], const char *const *keys,
                            int n_keys, int64_t now_wall_ms)
{
	if (f == NOTIFY_SLACK) {
		char line[600];
		int len = snprintf(line, sizeof line, "%lu more notification%s held back by the rate limit:", n,
		                   n == 1 ? "" : "s");
		for (int k = 0; k < ALERT_KINDS && len > 0 && (size_t)len < sizeof line; k++)
			if (by_kind[k])
				len += snprintf(line + len, sizeof line - (size_t)len, " %s %lu", alert_kind_name(k), by_kind[k]);
		return slack_body(o, line);
	}
	json_t *j = base("suppressed", o, now_wall_ms), *kinds = json_object(), *list = json_array();
	if (!j || !kinds || !list) {
		json_decref(j);
		json_decref(kinds);
		json_decref(list);
		return NULL;
	}
	for (int k = 0; k < ALERT_KINDS; k++)
		if (by_kind[k])
			json_object_set_new(kinds, alert_kind_name(k), json_integer((json_int_t)by_kind[k]));
	for (int i = 0; i < n_keys; i++)
		json_array_append_new(list, json_out_string(keys[i]));
	json_object_set_new(j, "count", json_integer((json_int_t)n));
	json_object_set_new(j, "kinds", kinds);
	json_object_set_new(j, "keys", list);
	return dump(j);
}

void notify_msg_idempotency(char *buf, size_t n, const char *key, bool started, int64_t since_wall_ms)
{
	uint64_t h = 0xcbf29ce484222325ULL;          /* FNV-1a */
	char tail[40];

	snprintf(tail, sizeof tail, "|%c|%lld", started ? 'a' : 'r', (long long)since_wall_ms);
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (const char *p = tail; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(buf, n, "sectop-%016llx", (unsigned long long)h);
}
