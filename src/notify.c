#include "config.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "backoff.h"
#include "clock.h"
#include "conf.h"
#include "model.h"
#include "notify.h"
#include "notify_msg.h"
#include "resolve.h"
#include "webhook.h"

#define NOTIFY_QUEUE_MAX 64           /* messages waiting per target; the oldest go first */
#define NOTIFY_GIVE_UP_MS (15 * 60 * 1000)   /* a message retried this long is dropped */
#define NOTIFY_RETRY_BASE_MS 1000
#define NOTIFY_RETRY_CAP_MS 60000
#define NOTIFY_LOOKUP_MAX_MS 2000
#define NOTIFY_KEYS_KEPT 5            /* keys a "held back" message names */
#define RATE_SPAN_MS 60000
#define NOTIFY_SETTLE_MAX_MS 60000    /* a new scope read for longer: alerts evaluated anyway */

struct notify_item {
	char *body;
	char idem[32];
	int64_t queued_ms;               /* monotonic */
	int attempts;
};

struct notify_target {
	struct notify *n;
	const struct conf_notify *conf;
	char label[300];                 /* "notify 1 (hooks.example.com)": never the path */
	struct notify_item q[NOTIFY_QUEUE_MAX];
	size_t head, len;
	int64_t *stamps;                 /* when the last `rate` messages were queued: a ring */
	size_t n_stamps, next_stamp;
	unsigned long held;              /* kept back by the rate limit, not yet told */
	unsigned long held_by_kind[ALERT_KINDS];
	char *held_keys[NOTIFY_KEYS_KEPT];
	int n_held_keys;
	struct backoff bo;
	int64_t next_try_ms;             /* monotonic; 0: now */
	struct webhook_call *call;       /* the head item, on its way */
	bool in_multi;
	struct resolve *lookup;          /* its host, being looked up */
	int64_t lookup_due_ms;
};

struct notify_sock {
	curl_socket_t fd;
	short events;
};

struct notify {
	const struct config *cfg;
	const struct model *m;
	struct notify_target *t;
	size_t n_t;
	struct alert_track track;
	int64_t next_eval_ms;
	unsigned scope_gen;              /* the model's, when last evaluated */
	unsigned settle_pg;              /* its PostgreSQL refreshes when the scope changed */
	int64_t settle_until_ms;         /* monotonic; 0: not settling */
	bool stopped;
	char host[256];
	struct notify_origin origin;
	CURLM *multi;
	int64_t timer_due_ms;            /* curl's timer, monotonic; -1 none */
	struct notify_sock *socks;
	size_t n_socks, cap_socks;
	alert_change_fn on_change;
	void *on_change_ctx;
	notify_say_fn say;
	void *say_ctx;
};

/* --- telling ------------------------------------------------------------- */

static void say_log(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	log_msg(level, "%s", line);
}

static void say(struct notify *n, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct notify *n, enum log_level level, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->say(n->say_ctx, level, line);
}

void notify_on_change(struct notify *n, alert_change_fn fn, void *ctx)
{
	n->on_change = fn;
	n->on_change_ctx = ctx;
}

void notify_on_say(struct notify *n, notify_say_fn fn, void *ctx)
{
	n->say = fn ? fn : say_log;
	n->say_ctx = ctx;
}

/* --- the queue and the rate limit ---------------------------------------- */

static struct notify_item *queue_head(struct notify_target *t)
{
	return t->len ? &t->q[t->head] : NULL;
}

static void queue_pop(struct notify_target *t)
{
	free(t->q[t->head].body);
	t->q[t->head].body = NULL;
	t->head = (t->head + 1) % NOTIFY_QUEUE_MAX;
	t->len--;
}

static void queue_push(struct notify_target *t, char *body, const char *idem, int64_t now)
{
	if (!body)
		return;
	if (t->len == NOTIFY_QUEUE_MAX) {
		/* the receiver has been failing for a long while: the newest waits no more */
		say(t->n, LOG_ERROR, "%s: %d messages waiting already, a new one dropped", t->label, NOTIFY_QUEUE_MAX);
		free(body);
		return;
	}
	struct notify_item *it = &t->q[(t->head + t->len) % NOTIFY_QUEUE_MAX];
	*it = (struct notify_item){ .body = body, .queued_ms = now };
	snprintf(it->idem, sizeof it->idem, "%s", idem);
	t->len++;
}

/* A slot in the last minute's `rate`, taken if there is one. */
static bool rate_take(struct notify_target *t, int64_t now)
{
	size_t cap = (size_t)t->conf->rate;

	if (t->n_stamps == cap && now - t->stamps[t->next_stamp] < RATE_SPAN_MS)
		return false;
	t->stamps[t->next_stamp] = now;
	t->next_stamp = (t->next_stamp + 1) % cap;
	if (t->n_stamps < cap)
		t->n_stamps++;
	return true;
}

static void held_add(struct notify_target *t, const struct alert *a)
{
	if (!t->held)
		say(t->n, LOG_WARN, "%s: rate limit reached (%d a minute): holding back, to be told in one message",
		    t->label, t->conf->rate);
	t->held++;
	t->held_by_kind[a->kind]++;
	if (t->n_held_keys < NOTIFY_KEYS_KEPT)
		t->held_keys[t->n_held_keys++] = strdup(a->key);
}

/* What the rate limit kept back, in one message, once it allows one (or
 * at once: the program is ending). */
static void held_tell(struct notify_target *t, int64_t now, bool now_or_never)
{
	struct notify *n = t->n;
	char idem[32];

	if (!t->held || (!rate_take(t, now) && !now_or_never))
		return;
	char *body = notify_msg_suppressed(t->conf->slack ? NOTIFY_SLACK : NOTIFY_JSON, &n->origin, t->held,
	                                   t->held_by_kind, (const char *const *)t->held_keys, t->n_held_keys,
	                                   clock_wall_ms());
	snprintf(idem, sizeof idem, "sectop-held-%llx", (unsigned long long)clock_wall_ms());
	say(n, LOG_WARN, "%s: %lu notification%s held back by the rate limit (%d a minute), told in one",
	    t->label, t->held, t->held == 1 ? "" : "s", t->conf->rate);
	queue_push(t, body, idem, now);
	for (int i = 0; i < t->n_held_keys; i++)
		free(t->held_keys[i]);
	t->n_held_keys = 0;
	t->held = 0;
	memset(t->held_by_kind, 0, sizeof t->held_by_kind);
}

/* --- alerts in ----------------------------------------------------------- */

static void alert_changed(void *ctx, const struct alert *a, bool started, int64_t since_wall_ms)
{
	struct notify *n = ctx;
	int64_t now = clock_mono_ms(), wall = clock_wall_ms();
	char idem[32];

	if (n->on_change)
		n->on_change(n->on_change_ctx, a, started, since_wall_ms);
	notify_msg_idempotency(idem, sizeof idem, a->key, started, since_wall_ms);
	for (size_t i = 0; i < n->n_t; i++) {
		struct notify_target *t = &n->t[i];
		if (!started && !t->conf->resolved)
			continue;
		if (!rate_take(t, now)) {
			held_add(t, a);
			continue;
		}
		queue_push(t, notify_msg_alert(t->conf->slack ? NOTIFY_SLACK : NOTIFY_JSON, &n->origin, a, started,
		                               since_wall_ms, wall), idem, now);
	}
}

/* The console changed its window or tenant: what it shows is read again,
 * and an alert missing meanwhile has not cleared.  Until PostgreSQL has
 * read the new scope whole (a minute at most), nothing is evaluated.  A
 * look back (model.h at_s) shows the past: nothing is evaluated until the
 * console is live again, and nothing clears meanwhile. */
static bool settling(struct notify *n, int64_t now)
{
	const struct model *m = n->m;

	if (m->at_s) {
		alert_track_touch(&n->track, now);
		return true;
	}
	if (m->scope_gen != n->scope_gen) {
		n->scope_gen = m->scope_gen;
		n->settle_pg = m->pg.refreshes;
		n->settle_until_ms = now + NOTIFY_SETTLE_MAX_MS;
	}
	if (n->settle_until_ms && (now >= n->settle_until_ms ||
	                           (m->pg.refreshes > n->settle_pg && m->pg_reading_pct < 0)))
		n->settle_until_ms = 0;
	if (n->settle_until_ms)
		alert_track_touch(&n->track, now);
	return n->settle_until_ms != 0;
}

static void evaluate(struct notify *n, int64_t now)
{
	int64_t wall = clock_wall_ms();

	if (settling(n, now))
		return;

	alerts_each(n->m, n->cfg, wall, alert_track_add, &n->track);
	if (!alert_track_end(&n->track, now, wall, alert_changed, n))
		say(n, LOG_ERROR, "alerts: out of memory, this evaluation skipped");
}

/* --- delivery ------------------------------------------------------------ */

static void call_end(struct notify_target *t)
{
	if (t->in_multi)
		curl_multi_remove_handle(t->n->multi, webhook_call_easy(t->call));
	t->in_multi = false;
	webhook_call_free(t->call);
	t->call = NULL;
	resolve_abandon(t->lookup);
	t->lookup = NULL;
}

/* The head item did not get through: again later, or given up. */
static void attempt_failed(struct notify_target *t, const char *why, bool retry, int64_t now)
{
	struct notify_item *it = queue_head(t);

	call_end(t);
	if (!retry || now - it->queued_ms >= NOTIFY_GIVE_UP_MS) {
		say(t->n, LOG_ERROR, "%s: %s: dropped after %d attempt%s", t->label, why, it->attempts,
		    it->attempts == 1 ? "" : "s");
		queue_pop(t);
		backoff_reset(&t->bo);
		t->next_try_ms = 0;
		return;
	}
	int64_t wait = backoff_next(&t->bo);
	t->next_try_ms = now + wait;
	say(t->n, LOG_WARN, "%s: %s: retrying in %.1f s", t->label, why, (double)wait / 1000.0);
}

static void attempt_done(struct notify_target *t, CURLcode rc, int64_t now)
{
	struct webhook_result res;
	struct notify_item *it = queue_head(t);

	switch (webhook_call_finish(t->call, rc, &res)) {
	case WH_ACCEPTED:
		if (it->attempts > 1)
			say(t->n, LOG_INFO, "%s: delivered (HTTP %ld) after %d attempts", t->label, res.http_status,
			    it->attempts);
		call_end(t);
		queue_pop(t);
		backoff_reset(&t->bo);
		t->next_try_ms = 0;
		return;
	case WH_REFUSED:
		attempt_failed(t, res.error, false, now);
		return;
	case WH_UNKNOWN:
	case WH_NOT_SENT:
		attempt_failed(t, res.error, true, now);
		return;
	}
}

static void call_add(struct notify_target *t, int64_t now)
{
	if (curl_multi_add_handle(t->n->multi, webhook_call_easy(t->call)) != CURLM_OK) {
		attempt_failed(t, "cannot start the request", true, now);
		return;
	}
	t->in_multi = true;
}

static void attempt_start(struct notify_target *t, int64_t now)
{
	struct notify_item *it = queue_head(t);
	const struct conf_notify *c = t->conf;
	struct webhook_request rq = { .url = c->url, .token_env = c->token_env, .ca_file = c->ca_file,
	                              .timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : t->n->cfg->timeout_ms,
	                              .body = it->body, .idempotency_key = it->idem };
	struct webhook_result res;
	char host[256];
	int port;

	it->attempts++;
	if (!(t->call = webhook_call_new(&rq, &res))) {
		attempt_failed(t, res.error, true, now);
		return;
	}
	curl_easy_setopt(webhook_call_easy(t->call), CURLOPT_PRIVATE, t);
	if (webhook_url_host(c->url, host, sizeof host, &port) < 0 || resolve_is_literal(host)) {
		call_add(t, now);
		return;
	}
	if (!(t->lookup = resolve_start(host, port))) {
		attempt_failed(t, "cannot start the name lookup", true, now);
		return;
	}
	int64_t limit = rq.timeout_ms < NOTIFY_LOOKUP_MAX_MS ? rq.timeout_ms : NOTIFY_LOOKUP_MAX_MS;
	t->lookup_due_ms = now + limit;
}

static void lookup_done(struct notify_target *t, int64_t now)
{
	char *entry = NULL, err[200], why[260];
	struct resolve *l = t->lookup;

	t->lookup = NULL;
	if (resolve_finish(l, &entry, err, sizeof err) < 0) {
		snprintf(why, sizeof why, "could not resolve the host: %s", err);
		attempt_failed(t, why, true, now);
		return;
	}
	int rc = webhook_call_resolve(t->call, entry);
	free(entry);
	if (rc < 0)
		attempt_failed(t, "out of memory", true, now);
	else
		call_add(t, now);
}

static void lookups_check(struct notify *n, const struct pollfd *pfd, int npfd, int64_t now)
{
	for (size_t i = 0; i < n->n_t; i++) {
		struct notify_target *t = &n->t[i];
		if (!t->lookup)
			continue;
		bool ready = false;
		for (int k = 0; k < npfd && !ready; k++)
			ready = pfd[k].fd == resolve_fd(t->lookup) && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR));
		if (ready)
			lookup_done(t, now);
		else if (now >= t->lookup_due_ms)
			attempt_failed(t, "no answer from the name lookup in time", true, now);
	}
}

static void drain(struct notify *n)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		char *priv = NULL;
		CURLcode rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		struct notify_target *t = (void *)priv;
		curl_multi_remove_handle(n->multi, msg->easy_handle);   /* msg is gone after this */
		if (t) {
			t->in_multi = false;
			attempt_done(t, rc, clock_mono_ms());
		}
	}
}

/* --- curl's sockets and timer -------------------------------------------- */

static struct notify_sock *sock_find(struct notify *n, curl_socket_t fd)
{
	for (size_t i = 0; i < n->n_socks; i++)
		if (n->socks[i].fd == fd)
			return &n->socks[i];
	return NULL;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct notify *n = userp;
	struct notify_sock *s = sock_find(n, fd);

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s)
			*s = n->socks[--n->n_socks];
		return 0;
	}
	if (!s) {
		if (n->n_socks == n->cap_socks) {
			size_t cap = n->cap_socks ? n->cap_socks * 2 : 4;
			struct notify_sock *v = realloc(n->socks, cap * sizeof *v);
			if (!v)
				return -1;
			n->socks = v;
			n->cap_socks = cap;
		}
		s = &n->socks[n->n_socks++];
		s->fd = fd;
	}
	s->events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

/* curl may not be re-entered from here: tick() fires the timer. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct notify *n = userp;

	(void)multi;
	n->timer_due_ms = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	return 0;
}

/* --- the source ---------------------------------------------------------- */

static void lower(int64_t *timeout, int64_t d)
{
	if (d < 0)
		d = 0;
	if (*timeout < 0 || d < *timeout)
		*timeout = d;
}

static bool may_start(const struct notify_target *t, int64_t now)
{
	return t->len && !t->call && now >= t->next_try_ms;
}

static int notify_fds(void *self, struct pollfd *pfd, int max, int64_t now, int64_t *timeout)
{
	struct notify *n = self;
	int k = 0;

	for (size_t i = 0; i < n->n_socks && k < max; i++, k++)
		pfd[k] = (struct pollfd){ .fd = n->socks[i].fd, .events = n->socks[i].events };
	for (size_t i = 0; i < n->n_t; i++) {
		struct notify_target *t = &n->t[i];
		if (t->lookup) {
			if (k < max)
				pfd[k++] = (struct pollfd){ .fd = resolve_fd(t->lookup), .events = POLLIN };
			lower(timeout, t->lookup_due_ms - now);
		}
		if (t->len && !t->call)
			lower(timeout, t->next_try_ms - now);
		if (t->held)
			lower(timeout, 1000);
	}
	if (n->timer_due_ms >= 0)
		lower(timeout, n->timer_due_ms - now);
	if (!n->stopped)
		lower(timeout, n->next_eval_ms - now);
	return k;
}

static void notify_ready(void *self, const struct pollfd *pfd, int npfd, int64_t now)
{
	struct notify *n = self;
	int running;

	for (int i = 0; i < npfd; i++) {
		short re = pfd[i].revents;
		if (!re || !sock_find(n, pfd[i].fd))
			continue;
		int ev = ((re & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) | ((re & POLLOUT) ? CURL_CSELECT_OUT : 0) |
		         ((re & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(n->multi, pfd[i].fd, ev, &running);
	}
	drain(n);
	lookups_check(n, pfd, npfd, now);
}

static int64_t eval_interval_ms(const struct notify *n)
{
	int r = n->m->refresh_ms > 0 ? n->m->refresh_ms : 1000;
	return r < 1000 ? r : 1000;
}

static void notify_tick(void *self, int64_t now)
{
	struct notify *n = self;
	int running;

	lookups_check(n, NULL, 0, now);
	if (!n->stopped && now >= n->next_eval_ms) {
		n->next_eval_ms = now + eval_interval_ms(n);
		evaluate(n, now);
	}
	for (size_t i = 0; i < n->n_t; i++) {
		held_tell(&n->t[i], now, false);
		if (may_start(&n->t[i], now))
			attempt_start(&n->t[i], now);
	}
	if (n->timer_due_ms >= 0 && clock_mono_ms() >= n->timer_due_ms) {
		n->timer_due_ms = -1;
		curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	drain(n);
}

static void notify_refresh_now(void *self)
{
	struct notify *n = self;

	n->next_eval_ms = 0;
}

static void notify_destroy(void *self)
{
	struct notify *n = self;

	if (!n)
		return;
	for (size_t i = 0; n->t && i < n->n_t; i++) {
		struct notify_target *t = &n->t[i];
		if (t->call)
			call_end(t);
		resolve_abandon(t->lookup);
		while (t->len)
			queue_pop(t);
		for (int k = 0; k < t->n_held_keys; k++)
			free(t->held_keys[k]);
		free(t->stamps);
	}
	if (n->multi)
		curl_multi_cleanup(n->multi);
	alert_track_free(&n->track);
	free(n->socks);
	free(n->t);
	free(n);
}

static const struct source_ops notify_ops = {
	.name = "notify",
	.fds = notify_fds,
	.ready = notify_ready,
	.tick = notify_tick,
	.refresh_now = notify_refresh_now,
	.destroy = notify_destroy,
};

struct source notify_source(struct notify *n)
{
	return (struct source){ .ops = &notify_ops, .self = n };
}

void notify_stop(struct notify *n)
{
	n->stopped = true;
	for (size_t i = 0; i < n->n_t; i++)
		held_tell(&n->t[i], clock_mono_ms(), true);
}

size_t notify_pending(const struct notify *n)
{
	int64_t now = clock_mono_ms();
	size_t k = 0;

	for (size_t i = 0; i < n->n_t; i++)
		if (n->t[i].call || now >= n->t[i].next_try_ms)
			k += n->t[i].len;
	return k;
}

size_t notify_queued(const struct notify *n)
{
	size_t k = 0;

	for (size_t i = 0; i < n->n_t; i++)
		k += n->t[i].len;
	return k;
}

/* --- construction -------------------------------------------------------- */

static int target_init(struct notify *n, struct notify_target *t, size_t i, char *err, size_t errsz)
{
	const struct conf_notify *c = &n->cfg->notify[i];
	char host[256] = "?";
	int port = 0;

	t->n = n;
	t->conf = c;
	webhook_url_host(c->url, host, sizeof host, &port);
	snprintf(t->label, sizeof t->label, "notify %zu (%s)", i + 1, host);
	const char *tok = c->token_env ? getenv(c->token_env) : NULL;
	if (c->token_env && (!tok || !*tok)) {
		snprintf(err, errsz, "notify %zu: the variable %s (token_env) is unset or empty", i + 1, c->token_env);
		return -1;
	}
	if (!(t->stamps = calloc((size_t)(c->rate > 0 ? c->rate : 1), sizeof *t->stamps))) {
		snprintf(err, errsz, "notify: out of memory");
		return -1;
	}
	backoff_init(&t->bo, NOTIFY_RETRY_BASE_MS, NOTIFY_RETRY_CAP_MS, (uint32_t)(getpid() + i * 7919));
	return 0;
}

struct notify *notify_new(const struct config *cfg, const struct model *m, char *err, size_t errsz)
{
	struct notify *n = calloc(1, sizeof *n);

	if (!n || (cfg->n_notify && !(n->t = calloc(cfg->n_notify, sizeof *n->t)))) {
		snprintf(err, errsz, "notify: out of memory");
		free(n);
		return NULL;
	}
	n->cfg = cfg;
	n->m = m;
	n->n_t = cfg->n_notify;
	n->say = say_log;
	n->timer_due_ms = -1;
	n->scope_gen = m->scope_gen;
	/* a condition must be gone for a few refreshes before it has cleared */
	int64_t hold = 3 * (int64_t)(cfg->refresh_ms > 0 ? cfg->refresh_ms : 2000);
	alert_track_init(&n->track, hold > 10000 ? hold : 10000);
	if (gethostname(n->host, sizeof n->host - 1) < 0)
		snprintf(n->host, sizeof n->host, "unknown");
	n->origin = (struct notify_origin){ .host = n->host, .incident = cfg->incident };
	for (size_t i = 0; i < n->n_t; i++)
		if (target_init(n, &n->t[i], i, err, errsz) < 0) {
			notify_destroy(n);
			return NULL;
		}
	n->multi = curl_multi_init();
	if (!n->multi || curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, on_socket) ||
	    curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n) ||
	    curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, on_timer) ||
	    curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n)) {
		snprintf(err, errsz, "notify: cannot create a curl multi handle");
		notify_destroy(n);
		return NULL;
	}
	return n;
}
