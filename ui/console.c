/* console.c: `sectop` with no command: the interactive console.  One loop:
 * the sources' fds, stdin and a one-second timer in a single poll().  Keys
 * only change what is shown or ask the model for something; they never
 * wait on a server. */
#include "config.h"

#include <arpa/inet.h>
#include <curses.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "act_job.h"
#include "apikeys.h"
#include "connect.h"
#include "rotation.h"
#include "bg_fetch.h"
#include "app.h"
#include "clock.h"
#include "conf.h"
#include "detail.h"
#include "draw.h"
#include "keys.h"
#include "lists.h"
#include "loop.h"
#include "runbook_pane.h"
#include "snapshot_out.h"
#include "termseq.h"
#include "timeline.h"
#include "theme.h"
#include "view.h"

enum scr { SCR_OVERVIEW, SCR_LIST, SCR_DETAIL, SCR_HELP };
enum prompt_kind { PROMPT_NONE, PROMPT_FILTER, PROMPT_TENANT, PROMPT_REASON, PROMPT_CONFIRM };

static volatile sig_atomic_t console_quit_signal;

static void console_on_signal(int sig)
{
	console_quit_signal = sig;
}

struct console {
	struct app *app;
	struct theme theme;
	struct draw draw;
	bool quit, curses_on, bell;

	enum scr screen;
	enum list_id list;                       /* the list shown, or the one left for a detail */
	enum scr back;                        /* where Esc returns from a detail or help */
	struct table_state lists[LIST_COUNT];
	struct table_state overview;             /* the selection in the overview's top addresses */
	struct rows rows;                        /* the current screen's rows, rebuilt per frame */
	size_t visible;                          /* rows a page holds */

	enum detail_view detail;
	char *detail_key;
	struct table_state scroll;               /* detail and help */
	unsigned help_where;

	enum prompt_kind prompt;
	char input[128];
	char filter_before[128];                 /* Esc in the filter prompt puts it back */

	char message[600];
	int64_t message_until;

	/* the action being asked for, confirmed or run */
	struct op op;
	char op_reason[256];
	bool op_extra;                           /* private / loopback / own address: "yes ADDRESS";
	                                          * allow-listed, with --bypass-allow: "bypass ADDRESS" */
	bool op_bypass;
	char op_expect[80];                      /* what must be typed to confirm */
	struct act_job job;
	size_t alerts;                           /* for the bell: ring when it grows */

	/* the lists read off the loop: the journal, the API keys */
	struct list_extra extra;
	struct timeline journal;
	struct stat journal_seen;                /* reread when its size or time changes */
	struct api_key *keys;
	size_t n_keys;
	struct bg_fetch fetch;
	struct keys_read { const struct config *cfg; struct api_key *keys; size_t n; int rc; char err[300]; } kr;
	struct bg_fetch rot_fetch;
	struct rot_read { const struct config *cfg; struct rotation_status *v; size_t n; char err[300]; } rr;
	struct rotation_status *rots;
	size_t n_rots;
	struct bg_fetch recon_fetch;             /* at start: interrupted actions reconciled */
	struct recon { const struct config *cfg; int n; unsigned audited; } recon;
	char op_secret[128];                     /* a rotation: the secret, fixed at O */
	char op_tenant[128];                     /* a revoke: the key's tenant, fixed at K */
	char op_key_name[128], op_key_prefix[64], op_key_last_used[32];

	struct termseq seq;                      /* a terminal sequence being swallowed */
	struct rb_pane rb;                       /* the runbook followed, if any */
	struct journal looks;                    /* a drill: the first look at each address */
	char looked[64][MODEL_IP_LEN];
	size_t n_looked;
	long step_of_action;                     /* the step whose action runs, or -1 */
	char step_note[400];
};

static void console_message(struct console *c, const char *msg)
{
	snprintf(c->message, sizeof c->message, "%s", msg);
	c->message_until = clock_mono_ms() + 4000;
}

static void theme_warn(void *ctx, const char *msg)
{
	console_message(ctx, msg);
}

/* ---------------------------------------------------------------- state */

static unsigned console_where(const struct console *c)
{
	if (c->rb.open && c->rb.focus)
		return IN_RUNBOOK;
	switch (c->screen) {
	case SCR_OVERVIEW: return IN_OVERVIEW;
	case SCR_LIST: return IN_LIST;
	case SCR_DETAIL: return IN_DETAIL;
	case SCR_HELP: return IN_HELP;
	}
	return IN_OVERVIEW;
}

static void keys_reload(struct console *c);
static void rotations_reload(struct console *c);

static void show_list(struct console *c, enum list_id id)
{
	c->screen = SCR_LIST;
	c->list = id;
	if (id == LIST_KEYS && !c->keys && !c->fetch.running)
		keys_reload(c);
	if (id == LIST_ROTATIONS && !c->rot_fetch.running)
		rotations_reload(c);                 /* the journal may hold new requests */
}

static void open_detail(struct console *c, enum detail_view what, const char *key)
{
	struct model *m = &c->app->model;
	unsigned char addr[16];

	if (what == DV_IP && inet_pton(AF_INET, key, addr) != 1 && inet_pton(AF_INET6, key, addr) != 1) {
		console_message(c, "not an address: nothing to drill into");
		return;
	}
	free(c->detail_key);
	c->detail_key = strdup(key);
	c->detail = what;
	c->back = c->screen;
	c->screen = SCR_DETAIL;
	memset(&c->scroll, 0, sizeof c->scroll);
	if (what == DV_IP)
		model_ask_detail(m, DETAIL_IP, key);
	else if (what == DV_TENANT)
		model_ask_detail(m, DETAIL_TENANT, key);
	loop_refresh_all(c->app->loop);
}

static void close_detail(struct console *c)
{
	model_ask_detail(&c->app->model, DETAIL_NONE, NULL);
	c->screen = c->back == SCR_DETAIL ? SCR_OVERVIEW : c->back;
}

static void go_back(struct console *c)
{
	if (c->screen == SCR_DETAIL)
		close_detail(c);
	else if (c->screen == SCR_HELP)
		c->screen = c->back;
	else
		c->screen = SCR_OVERVIEW;
}

/* Tab order: overview, then each list. */
static void cycle_view(struct console *c, int dir)
{
	int pos = c->screen == SCR_OVERVIEW ? 0 : (int)c->list + 1;
	pos = (pos + dir + LIST_COUNT + 1) % (LIST_COUNT + 1);
	if (pos == 0)
		c->screen = SCR_OVERVIEW;
	else
		show_list(c, (enum list_id)(pos - 1));
}

static void enter_row(struct console *c)
{
	const struct model *m = &c->app->model;

	if (c->screen == SCR_OVERVIEW) {
		if (c->overview.selected < m->n_top_ips)
			open_detail(c, DV_IP, m->top_ips[c->overview.selected].ip);
		return;
	}
	const struct row *r = table_current(&c->lists[c->list], &c->rows);
	if (!r)
		return;
	switch (r->kind) {
	case ROW_IP: open_detail(c, DV_IP, c->list == LIST_TAIL ? r->cells[1] : r->key); break;
	case ROW_TENANT: open_detail(c, DV_TENANT, r->key); break;
	case ROW_HEALTH: open_detail(c, DV_HEALTH, r->key); break;
	case ROW_RANGE: {
		/* its addresses: the top addresses, filtered by the network */
		char net[sizeof c->lists[0].filter];
		snprintf(net, sizeof net, "%s", r->key);
		show_list(c, LIST_IPS);
		snprintf(c->lists[LIST_IPS].filter, sizeof c->lists[LIST_IPS].filter, "%s", net);
		break;
	}
	default: console_message(c, "nothing to drill into here"); break;
	}
}

static void cycle_window(struct console *c)
{
	static const int windows[] = { 300, 900, 3600, 86400 };
	struct model *m = &c->app->model;
	size_t i = 0;

	while (i < 4 && windows[i] <= m->window_s)
		i++;
	model_set_scope(m, windows[i % 4], m->tenant);
	loop_refresh_all(c->app->loop);
}

static void change_refresh(struct console *c, int dir)
{
	static const int steps[] = { 500, 1000, 2000, 5000, 10000, 30000, 60000 };
	struct model *m = &c->app->model;
	int i = 0;
	char msg[64];

	while (i < 6 && steps[i] < m->refresh_ms)
		i++;
	i += dir;
	i = i < 0 ? 0 : i > 6 ? 6 : i;
	m->refresh_ms = steps[i];
	snprintf(msg, sizeof msg, "refresh every %.1f s", steps[i] / 1000.0);
	console_message(c, msg);
}

static void sort_list(struct console *c, bool reverse)
{
	struct table_state *st = &c->lists[c->list];
	const struct list_def *def = &list_defs[c->list];

	if (reverse) {
		st->sort_desc = !st->sort_desc;
		return;
	}
	st->sort_col = (st->sort_col + 1) % def->ncols;
	st->sort_desc = def->cols[st->sort_col].numeric;     /* biggest first */
}

/* The actions view reads the journal again when it changed. */
static void journal_reload(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	char *path = journal_path(cfg->journal);
	struct stat st;
	size_t bad;

	if (path && stat(path, &st) == 0 && (st.st_size != c->journal_seen.st_size ||
	    st.st_mtim.tv_sec != c->journal_seen.st_mtim.tv_sec || st.st_mtim.tv_nsec != c->journal_seen.st_mtim.tv_nsec)) {
		json_t *all = journal_read(path, &bad);
		if (all) {
			timeline_free(&c->journal);
			timeline_build(&c->journal, all, NULL);
			json_decref(all);
			c->journal_seen = st;
		}
	}
	free(path);
}

static void rot_read_run(void *arg)
{
	struct rot_read *k = arg;
	PGconn *db = connect_pg(k->cfg, PG_READ, "sectop-rotations");
	char *journal = journal_path(k->cfg->journal);

	if (PQstatus(db) != CONNECTION_OK) {
		snprintf(k->err, sizeof k->err, "postgres: %s", PQerrorMessage(db));
		k->err[strcspn(k->err, "\n")] = '\0';
	} else {
		k->v = rotation_collect(k->cfg, (struct pg_conn *)db, journal, (int64_t)time(NULL), &k->n,
		                        k->err, sizeof k->err);
	}
	PQfinish(db);
	free(journal);
}

/* A fetch under way owns its result buffers (c->kr, c->rr) until it has
 * reported: a reload then waits for it rather than reset them under it. */
static bool fetch_busy(struct console *c, const struct bg_fetch *f, const char *what)
{
	char msg[120];

	if (!f->running)
		return false;
	snprintf(msg, sizeof msg, "still reading the %s: r again once they are read", what);
	console_message(c, msg);
	return true;
}

static void rotations_reload(struct console *c)
{
	if (fetch_busy(c, &c->rot_fetch, "secrets' rotations"))
		return;
	memset(&c->rr, 0, sizeof c->rr);
	c->rr.cfg = c->app->cfg;
	if (bg_fetch_start(&c->rot_fetch, rot_read_run, &c->rr) == 0 && clock_mono_ms() >= c->message_until)
		console_message(c, "reading the secrets' rotations...");    /* never over an action's result */
}

static void rotations_arrived(struct console *c)
{
	char msg[400];

	bg_fetch_finish(&c->rot_fetch);
	if (!c->rr.v) {
		snprintf(msg, sizeof msg, "rotations not read: %s", c->rr.err);
		console_message(c, msg);
		return;
	}
	rotation_free(c->rots, c->n_rots);
	c->rots = c->rr.v;
	c->n_rots = c->rr.n;
	c->rr.v = NULL;
	c->rr.n = 0;
	if (!c->n_rots)
		console_message(c, "no secret declared: see secret = in sectop.conf(5)");
}

/* At start, off the loop: the actions a killed sectop left without a
 * result get theirs from the servers' state, and are audited. */
static void recon_run(void *arg)
{
	struct recon *k = arg;
	struct ops o;
	char err[300];

	if (ops_open(&o, k->cfg, err, sizeof err) < 0)
		return;
	k->n = ops_reconcile(&o);
	ops_retry_audits(&o);
	k->audited = o.retried;
	ops_close(&o);
}

static void recon_arrived(struct console *c)
{
	char msg[200];

	bg_fetch_finish(&c->recon_fetch);
	if (c->recon.n <= 0)
		return;
	snprintf(msg, sizeof msg, "%d interrupted action%s reconciled with the servers: see the journal (8)",
	         c->recon.n, c->recon.n == 1 ? "" : "s");
	console_message(c, msg);
	c->message_until = clock_mono_ms() + 8000;
}

static void keys_read_run(void *arg)
{
	struct keys_read *k = arg;
	k->rc = apikeys_fetch(k->cfg, NULL, &k->keys, &k->n, k->err, sizeof k->err);
}

/* The keys view reads the table in a worker: a slow server never holds the keys. */
static void keys_reload(struct console *c)
{
	if (fetch_busy(c, &c->fetch, "API keys"))
		return;
	memset(&c->kr, 0, sizeof c->kr);
	c->kr.cfg = c->app->cfg;
	if (bg_fetch_start(&c->fetch, keys_read_run, &c->kr) == 0)
		console_message(c, "reading the API keys...");
}

static void keys_arrived(struct console *c)
{
	bg_fetch_finish(&c->fetch);
	if (c->kr.rc < 0) {
		char msg[400];
		snprintf(msg, sizeof msg, "API keys not read: %s", c->kr.err);
		console_message(c, msg);
		return;
	}
	apikeys_free(c->keys, c->n_keys);
	c->keys = c->kr.keys;
	c->n_keys = c->kr.n;
	c->kr.keys = NULL;
	c->kr.n = 0;
	console_message(c, "API keys read");
}

/* The rows of the list on screen, filtered and sorted; returns how many
 * there were before the filter. */
static size_t list_rows(struct console *c)
{
	const struct list_def *def = &list_defs[c->list];

	if (c->list == LIST_ACTIONS)
		journal_reload(c);
	c->extra.keys = c->keys;
	c->extra.n_keys = c->n_keys;
	c->extra.journal = &c->journal;
	c->extra.rotations = c->rots;
	c->extra.n_rotations = c->n_rots;
	rows_clear(&c->rows);
	def->build(&c->rows, &c->app->model, c->app->cfg, clock_wall_ms(), &c->extra);
	size_t total = c->rows.n;
	table_apply(&c->lists[c->list], &c->rows, def->cols, def->ncols);
	return total;
}

/* The overview's selection stays on the address chosen while the list
 * reorders; when the address leaves the list, on the same row. */
static void overview_follow(struct console *c)
{
	const struct model *m = &c->app->model;

	for (size_t i = 0; c->overview.selected_key && i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, c->overview.selected_key) == 0)
			c->overview.selected = i;
	if (c->overview.selected >= m->n_top_ips && m->n_top_ips)
		c->overview.selected = m->n_top_ips - 1;
}

/* The address the selection stands on, or NULL. */
static const char *selected_address(struct console *c)
{
	const struct model *m = &c->app->model;

	if (c->screen == SCR_OVERVIEW) {
		overview_follow(c);
		return c->overview.selected < m->n_top_ips ? m->top_ips[c->overview.selected].ip : NULL;
	}
	if (c->screen == SCR_DETAIL)
		return c->detail == DV_IP ? c->detail_key : NULL;
	if (c->screen != SCR_LIST)
		return NULL;
	list_rows(c);
	const struct row *r = table_current(&c->lists[c->list], &c->rows);
	if (!r || r->kind != ROW_IP)
		return NULL;
	return c->list == LIST_TAIL ? r->cells[1] : r->key;
}

/* Before a reason is typed: would the gate refuse at once?  --read-only,
 * or a journal that cannot be written (the intent must be recorded first). */
static bool action_refused(struct console *c)
{
	struct journal j;
	char err[300], msg[400];

	if (c->app->cfg->read_only) {             /* before the journal: read-only creates nothing */
		console_message(c, "read-only: no action is taken (--read-only)");
		return true;
	}
	char *path = journal_path(c->app->cfg->journal);
	int rc = journal_open(&j, path, err, sizeof err);
	free(path);
	journal_close(&j);
	if (rc < 0) {
		snprintf(msg, sizeof msg, "refused: the journal cannot be written (%s)", err);
		console_message(c, msg);
		return true;
	}
	return false;
}

/* Is addr allow-listed?  Said in the footer: refused, or (--bypass-allow)
 * to be confirmed by typing "bypass ADDRESS" (*bypass true). */
static bool allow_listed(struct console *c, const char *addr, bool *bypass)
{
	char d[300], msg[512];

	allowlist_refresh(&c->app->allow);
	const struct allow_entry *e = allowlist_match(&c->app->allow, addr, (int64_t)time(NULL));
	*bypass = false;
	if (!e)
		return false;
	allow_entry_describe(e, d, sizeof d);
	*bypass = c->app->cfg->bypass_allow;
	snprintf(msg, sizeof msg, "%s is allow-listed by %s%s", addr, d,
	         *bypass ? "" : ": not blocked (start with --bypass-allow to do it anyway)");
	console_message(c, msg);
	return true;
}

/* B, U, X: the target is fixed now, whatever the list does meanwhile. */
static void action_begin(struct console *c, enum op_kind kind)
{
	const char *addr = selected_address(c);
	char err[200];

	if (action_refused(c))
		return;
	memset(&c->op, 0, sizeof c->op);
	c->op_bypass = false;
	if (!addr || ipaddr_normalize(addr, c->op.target, sizeof c->op.target, err, sizeof err) < 0) {
		console_message(c, addr ? err : "select an address first");
		return;
	}
	const struct ip_redis *rd = model_ip_redis(&c->app->model, c->op.target);
	if (kind == OP_BLOCK && rd && rd->blocked)
		kind = OP_EXTEND;                      /* blocked already: offer to extend */
	/* the dialog shows the address's own keys, read now, even off the top list */
	model_watch(&c->app->model, c->op.target);
	loop_refresh_all(c->app->loop);
	c->op.kind = kind;
	c->op.ttl_s = c->app->cfg->block_ttl_s;
	char own[IPADDR_LEN];
	c->op_extra = kind == OP_BLOCK && (ipaddr_class(c->op.target) != IP_PUBLIC ||
	              (ipaddr_ssh_client(own, sizeof own) && strcmp(own, c->op.target) == 0));
	const char *word = c->op_extra ? "yes " : "";
	if (kind != OP_UNBLOCK && allow_listed(c, c->op.target, &c->op_bypass)) {
		if (!c->op_bypass)
			return;                         /* refused, and said why */
		c->op_extra = true;
		word = "bypass ";
	}
	snprintf(c->op_expect, sizeof c->op_expect, "%s%s", word, c->op.target);
	c->prompt = kind == OP_UNBLOCK ? PROMPT_CONFIRM : PROMPT_REASON;
	c->input[0] = '\0';
}

/* The selected row of list for K or O, or NULL with the reason said:
 * another screen, --read-only, or no row. */
static const struct row *action_row(struct console *c, enum list_id list, const char *elsewhere)
{
	const struct row *r;

	if (c->screen != SCR_LIST || c->list != list) {
		console_message(c, elsewhere);
		return NULL;
	}
	if (action_refused(c))
		return NULL;
	list_rows(c);
	if (!(r = table_current(&c->lists[c->list], &c->rows)))
		console_message(c, "select a row first");
	return r;
}

/* K: the selected key, fixed now; its prefix is what the operator types.
 * In a tenant's drill-down: that tenant's keys. */
static void revoke_begin(struct console *c)
{
	if (c->screen == SCR_DETAIL && c->detail == DV_TENANT) {
		char tenant[128];
		snprintf(tenant, sizeof tenant, "%s", c->detail_key);
		close_detail(c);
		show_list(c, LIST_KEYS);
		snprintf(c->lists[LIST_KEYS].filter, sizeof c->lists[LIST_KEYS].filter, "%s", tenant);
		console_message(c, "this tenant's keys: select one, then K");
		return;
	}
	const struct row *r = action_row(c, LIST_KEYS, "revoke: select a key in the keys view (7)");
	const struct api_key *k = NULL;
	for (size_t i = 0; r && i < c->n_keys; i++)
		if (strcmp(c->keys[i].id, r->key) == 0)
			k = &c->keys[i];
	if (!k) {
		if (r)
			console_message(c, "the key is not in the list any more: r reads it again");
		return;
	}
	if (k->revoked) {
		console_message(c, "this key is revoked already");
		return;
	}
	memset(&c->op, 0, sizeof c->op);
	c->op.kind = OP_REVOKE;
	snprintf(c->op.target, sizeof c->op.target, "%s", k->id);
	snprintf(c->op_tenant, sizeof c->op_tenant, "%s", k->tenant ? k->tenant : "");
	snprintf(c->op_key_name, sizeof c->op_key_name, "%s", k->name ? k->name : "");
	snprintf(c->op_key_prefix, sizeof c->op_key_prefix, "%s", k->prefix ? k->prefix : "");
	if (k->last_used)
		format_ttl(c->op_key_last_used, sizeof c->op_key_last_used, (long)(clock_wall_ms() / 1000 - k->last_used));
	else
		snprintf(c->op_key_last_used, sizeof c->op_key_last_used, "never");
	c->op.tenant = c->op_tenant;
	c->op_extra = false;
	/* an empty or unprintable prefix cannot be typed: the key's id is */
	snprintf(c->op_expect, sizeof c->op_expect, "%s", ops_confirm_usable(k->prefix) ? k->prefix : k->id);
	c->prompt = PROMPT_REASON;
	c->input[0] = '\0';
}

/* O: the selected secret, fixed now; its name is what the operator types. */
static void rotate_begin(struct console *c)
{
	const struct row *r = action_row(c, LIST_ROTATIONS, "rotate: select a secret in the rotations view (9)");
	if (!r)
		return;
	memset(&c->op, 0, sizeof c->op);
	c->op.kind = OP_ROTATE;
	snprintf(c->op_secret, sizeof c->op_secret, "%s", r->key);
	snprintf(c->op.target, sizeof c->op.target, "%.45s", r->key);
	c->op.secret = c->op_secret;
	c->op_extra = false;
	snprintf(c->op_expect, sizeof c->op_expect, "%s", r->key);
	c->prompt = PROMPT_REASON;
	c->input[0] = '\0';
}

static void action_confirmed(struct console *c)
{
	c->op.reason = c->op_reason[0] ? c->op_reason : NULL;
	c->op.incident = c->rb.incident[0] ? c->rb.incident : c->app->cfg->incident;
	if (!ops_confirmed(c->op_expect, c->input)) {
		console_message(c, c->op.kind == OP_REVOKE ? "not confirmed: nothing done (type the key's prefix exactly)" :
		                   c->op.kind == OP_ROTATE ? "not confirmed: nothing done (type the secret's name exactly)"
		                                           : "not confirmed: nothing done (type the address exactly)");
		c->step_of_action = -1;
		return;
	}
	if (act_job_running(&c->job))
		console_message(c, "another action is still running: nothing done, try again");
	else if (act_job_start(&c->job, c->app->cfg, &c->op) < 0)
		console_message(c, "cannot start the action");
	else
		console_message(c, "working...");
}

static void step_record(struct console *c, size_t i);
static void step_records_flush(struct console *c);

static void action_finished(struct console *c)
{
	char msg[600];
	long step = c->step_of_action;
	bool done = c->job.result.status == OP_DONE;

	act_job_finish(&c->job);
	bool quiet = c->job.op.kind == OP_STEP_DONE && done;
	if (!quiet || clock_mono_ms() >= c->message_until) {   /* a step's record never hides news */
		snprintf(msg, sizeof msg, "%s%s", done ? "" : "not done: ", c->job.result.message);
		console_message(c, msg);
		c->message_until = clock_mono_ms() + (quiet ? 3000 : 8000);
	}
	loop_refresh_all(c->app->loop);
	c->step_of_action = -1;
	if (done && step >= 0 && c->job.op.kind != OP_STEP_DONE)
		step_record(c, (size_t)step);          /* the step whose action this was is done */
	if (c->job.op.kind == OP_ROTATE && !c->rot_fetch.running)
		rotations_reload(c);
	step_records_flush(c);
}

/* ------------------------------------------------------------- runbooks */

/* What the step's data showed when it was ticked, for the timeline. */
static void seen_summary(const struct console *c, char *buf, size_t n)
{
	const struct model *m = &c->app->model;
	size_t k = (size_t)snprintf(buf, n, "seen:");
	size_t up = 0;

	for (size_t i = 0; i < m->n_top_ips && i < 3 && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, " %s %ld failures%s", m->top_ips[i].ip, m->top_ips[i].failures,
		                      i + 1 < m->n_top_ips && i < 2 ? "," : ";");
	for (size_t i = 0; i < m->n_health; i++)
		up += m->health[i].state == HEALTH_HEALTHY;
	if (k < n)
		snprintf(buf + k, n - k, " %lu blocked; health %zu/%zu up",
		         m->walk_complete ? m->blocked_count : (unsigned long)m->n_blocked, up, m->n_health);
}

/* Journal and audit the steps ticked, one job at a time (in the worker:
 * PostgreSQL may be slow), in the order they were ticked. */
static void step_records_flush(struct console *c)
{
	const struct runbook *rb = &c->rb.rb;
	char seen[200];
	struct op op = { .kind = OP_STEP_DONE, .incident = c->rb.incident, .note = c->step_note };

	if (act_job_running(&c->job) || !c->rb.n_unrecorded)
		return;
	size_t i = c->rb.unrecorded[0];
	memmove(c->rb.unrecorded, c->rb.unrecorded + 1, --c->rb.n_unrecorded * sizeof *c->rb.unrecorded);
	seen_summary(c, seen, sizeof seen);
	snprintf(op.target, sizeof op.target, "%s", rb->name);
	snprintf(c->step_note, sizeof c->step_note, "step %zu/%zu %s: %s (%s)", i + 1, rb->n_steps,
	         rb_phase_name(rb->steps[i].phase), rb->steps[i].title, seen);
	if (act_job_start(&c->job, c->app->cfg, &op) < 0)
		console_message(c, "cannot record the step");
}

static void step_record(struct console *c, size_t i)
{
	if (i >= c->rb.rb.n_steps || c->rb.done[i])
		return;
	c->rb.done[i] = true;
	if (c->app->cfg->read_only)               /* read-only records nothing */
		console_message(c, "read-only: the step is ticked on screen only, not recorded");
	else
		c->rb.unrecorded[c->rb.n_unrecorded++] = i;
	if (c->rb.sel == i && i + 1 < c->rb.rb.n_steps)
		c->rb.sel++;                         /* on to the next step */
	step_records_flush(c);
}

static void runbook_open(struct console *c, const char *name)
{
	char err[600], id[64];
	const char *incident = c->app->cfg->incident;

	if (!incident || !*incident) {
		time_t t = time(NULL);
		struct tm tm;
		strftime(id, sizeof id, "INC-%Y%m%d-%H%M%S", gmtime_r(&t, &tm));
		incident = id;
	}
	if (rb_pane_open(&c->rb, c->app->cfg, name, incident, err, sizeof err) < 0)
		console_message(c, err);
	else
		console_message(c, "following the runbook: Enter ticks a step, a runs its action, R to the data");
}

static void picker_key(struct console *c, int is_key, wint_t ch)
{
	if (is_key && ch == KEY_UP)
		rb_pane_move(&c->rb, -1, false);
	else if (is_key && ch == KEY_DOWN)
		rb_pane_move(&c->rb, 1, false);
	else if (!is_key && (ch == 'k' || ch == 'j'))
		rb_pane_move(&c->rb, ch == 'k' ? -1 : 1, false);
	else if (!is_key && ch == 27)
		rb_picker_stop(&c->rb);
	else if ((!is_key && (ch == '\r' || ch == '\n')) || (is_key && ch == KEY_ENTER)) {
		char name[128] = "";
		if (c->rb.pick < c->rb.n_list && !c->rb.list[c->rb.pick].error)
			snprintf(name, sizeof name, "%s", c->rb.list[c->rb.pick].name);
		else if (c->rb.pick < c->rb.n_list)
			console_message(c, c->rb.list[c->rb.pick].error);
		rb_picker_stop(&c->rb);
		if (name[0])
			runbook_open(c, name);
	}
}

static void revoke_begin(struct console *c);
static void rotate_begin(struct console *c);

static void step_act(struct console *c)
{
	const struct rb_step *st = rb_pane_step(&c->rb);
	static const enum op_kind kinds[] = { [RB_ACT_BLOCK] = OP_BLOCK, [RB_ACT_UNBLOCK] = OP_UNBLOCK,
	                                      [RB_ACT_EXTEND] = OP_EXTEND };

	if (!st || st->action == RB_ACT_NONE) {
		console_message(c, "this step binds no action");
		return;
	}
	if (st->action == RB_ACT_ROTATE)
		rotate_begin(c);
	else if (st->action == RB_ACT_REVOKE)
		revoke_begin(c);
	else
		action_begin(c, kinds[st->action]);
	if (c->prompt == PROMPT_NONE)
		return;                              /* refused: the message says why */
	c->step_of_action = (long)c->rb.sel;
	if (st->ttl_s)
		c->op.ttl_s = st->ttl_s;
	if (c->prompt == PROMPT_REASON && st->reason)
		snprintf(c->input, sizeof c->input, "%s", st->reason);
}

static void step_show(struct console *c)
{
	const struct rb_step *st = rb_pane_step(&c->rb);
	const struct model *m = &c->app->model;
	const char *addr;

	if (!st || st->show == RB_SHOW_NONE) {
		console_message(c, "this step shows no data");
		return;
	}
	if (c->screen == SCR_DETAIL && st->show != RB_SHOW_IP && st->show != RB_SHOW_TENANT)
		close_detail(c);
	switch (st->show) {
	case RB_SHOW_OVERVIEW: c->screen = SCR_OVERVIEW; break;
	case RB_SHOW_IPS: show_list(c, LIST_IPS); break;
	case RB_SHOW_TENANTS: show_list(c, LIST_TENANTS); break;
	case RB_SHOW_HEALTH: show_list(c, LIST_HEALTH); break;
	case RB_SHOW_BLOCKED: show_list(c, LIST_BLOCKED); break;
	case RB_SHOW_TAIL: show_list(c, LIST_TAIL); break;
	case RB_SHOW_KEYS: show_list(c, LIST_KEYS); break;
	case RB_SHOW_ACTIONS: show_list(c, LIST_ACTIONS); break;
	case RB_SHOW_ROTATIONS: show_list(c, LIST_ROTATIONS); break;
	case RB_SHOW_IP:
		addr = selected_address(c);
		if (!addr && m->n_top_ips)
			addr = m->top_ips[0].ip;
		if (addr) {
			char key[MODEL_IP_LEN];
			snprintf(key, sizeof key, "%s", addr);
			open_detail(c, DV_IP, key);
		} else
			console_message(c, "no address to show yet");
		break;
	case RB_SHOW_TENANT:
		if (m->tenant || m->n_tenants)
			open_detail(c, DV_TENANT, m->tenant ? m->tenant : m->tenants[0].tenant_id ? m->tenants[0].tenant_id : "");
		break;
	default:
		console_message(c, "that view is not in this console yet");
		break;
	}
}

static void timeline_key(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	char *journal = journal_path(cfg->journal);
	char *out = journal ? timeline_default_path(journal, c->rb.incident) : NULL;
	char who[160], err[400], msg[600];

	if (cfg->read_only) {
		console_message(c, "read-only: the timeline is not written (sectop timeline --incident ID prints it)");
		free(out);
		free(journal);
		return;
	}
	FILE *f = out ? timeline_create(out) : NULL;
	ops_operator(who, sizeof who);
	if (!f || !journal || timeline_export(journal, c->rb.incident, f, who, err, sizeof err) < 0)
		snprintf(msg, sizeof msg, "timeline not written: %s", !f ? strerror(errno) : err);
	else
		snprintf(msg, sizeof msg, "timeline written to %s", out);
	if (f && fclose(f) != 0)
		snprintf(msg, sizeof msg, "timeline not written: %s", out);
	console_message(c, msg);
	free(out);
	free(journal);
}

/* --------------------------------------------------------------- prompt */

static void prompt_start(struct console *c, enum prompt_kind kind)
{
	const char *init = "";

	c->prompt = kind;
	if (kind == PROMPT_FILTER) {
		init = c->lists[c->list].filter;
		snprintf(c->filter_before, sizeof c->filter_before, "%s", init);
	}
	else if (c->screen == SCR_LIST && c->list == LIST_TENANTS) {
		const struct row *r = table_current(&c->lists[c->list], &c->rows);
		init = r ? r->key : "";
	} else if (c->app->model.tenant)
		init = c->app->model.tenant;
	snprintf(c->input, sizeof c->input, "%s", init);
}

static void prompt_apply(struct console *c)
{
	if (c->prompt == PROMPT_FILTER) {
		struct table_state *st = &c->lists[c->list];
		snprintf(st->filter, sizeof st->filter, "%s", c->input);
		st->selected = 0;
		free(st->selected_key);
		st->selected_key = NULL;
	} else if (c->prompt == PROMPT_TENANT) {
		struct model *m = &c->app->model;
		model_set_scope(m, m->window_s, c->input[0] ? c->input : NULL);
		loop_refresh_all(c->app->loop);
	} else if (c->prompt == PROMPT_REASON) {
		if (!c->input[0]) {
			console_message(c, "a reason is required: nothing done");
			c->prompt = PROMPT_NONE;
			return;
		}
		snprintf(c->op_reason, sizeof c->op_reason, "%s", c->input);
		c->input[0] = '\0';
		c->prompt = PROMPT_CONFIRM;
		return;
	} else if (c->prompt == PROMPT_CONFIRM) {
		c->prompt = PROMPT_NONE;
		action_confirmed(c);
		return;
	}
	c->prompt = PROMPT_NONE;
}

/* Typing in the prompt: printable characters only; control bytes (what a
 * terminal may send back on its own) are ignored. */
static void prompt_key(struct console *c, int is_key, wint_t ch)
{
	size_t len = strlen(c->input);

	if (!is_key && (ch == '\r' || ch == '\n')) {
		prompt_apply(c);
	} else if (!is_key && ch == 27) {
		if (c->prompt == PROMPT_FILTER)
			snprintf(c->lists[c->list].filter, sizeof c->lists[c->list].filter, "%s", c->filter_before);
		c->prompt = PROMPT_NONE;
		return;
	} else if ((is_key && ch == KEY_BACKSPACE) || (!is_key && (ch == 127 || ch == 8))) {
		while (len > 0 && ((unsigned char)c->input[len - 1] & 0xc0) == 0x80)
			len--;                           /* a whole UTF-8 character */
		if (len > 0)
			len--;
		c->input[len] = '\0';
	} else if (is_key && ch == KEY_ENTER) {
		prompt_apply(c);
	} else if (!is_key && ch >= 0x20 && ch != 0x7f && !(ch >= 0x80 && ch < 0xa0)) {
		char mb[MB_LEN_MAX];
		mbstate_t ps = { 0 };
		size_t n = wcrtomb(mb, (wchar_t)ch, &ps);
		if (n != (size_t)-1 && len + n < sizeof c->input) {
			memcpy(c->input + len, mb, n);
			c->input[len + n] = '\0';
		}
	}
	if (c->prompt == PROMPT_FILTER)      /* the list follows as you type */
		snprintf(c->lists[c->list].filter, sizeof c->lists[c->list].filter, "%s", c->input);
}

/* ----------------------------------------------------------------- keys */

static void move_selection(struct console *c, long delta, bool to_end)
{
	struct table_state *st;
	const struct model *m = &c->app->model;

	if (c->rb.open && c->rb.focus) {
		rb_pane_move(&c->rb, delta, to_end);
		return;
	}
	switch (c->screen) {
	case SCR_OVERVIEW:
		if (to_end)
			c->overview.selected = delta < 0 ? 0 : (m->n_top_ips ? m->n_top_ips - 1 : 0);
		else if (delta < 0 && c->overview.selected > 0)
			c->overview.selected--;
		else if (delta > 0 && c->overview.selected + 1 < m->n_top_ips)
			c->overview.selected++;
		free(c->overview.selected_key);        /* the selection follows its address */
		c->overview.selected_key = c->overview.selected < m->n_top_ips ?
		                           strdup(m->top_ips[c->overview.selected].ip) : NULL;
		return;
	case SCR_LIST:
		st = &c->lists[c->list];
		if (to_end)
			table_select(st, &c->rows, delta < 0 ? 0 : c->rows.n);
		else
			table_move(st, &c->rows, delta);
		return;
	default:
		st = &c->scroll;
		if (to_end)
			st->top = delta < 0 ? 0 : (size_t)-1 / 2;
		else if (delta < 0)
			st->top = st->top > (size_t)-delta ? st->top - (size_t)-delta : 0;
		else
			st->top += (size_t)delta;
		return;
	}
}

static void console_action(struct console *c, enum action a)
{
	struct model *m = &c->app->model;
	long page = c->visible > 1 ? (long)c->visible - 1 : 1;

	switch (a) {
	case ACT_QUIT: c->quit = true; break;
	case ACT_HELP:
		c->help_where = console_where(c);
		c->back = c->screen;
		c->screen = SCR_HELP;
		memset(&c->scroll, 0, sizeof c->scroll);
		break;
	case ACT_BACK:
		if (c->rb.focus)
			c->rb.focus = false;
		else
			go_back(c);
		break;
	case ACT_ENTER: enter_row(c); break;
	case ACT_VIEW_OVERVIEW:
		if (c->screen == SCR_DETAIL)
			close_detail(c);
		c->screen = SCR_OVERVIEW;
		break;
	case ACT_VIEW_IPS: case ACT_VIEW_TENANTS: case ACT_VIEW_HEALTH:
	case ACT_VIEW_BLOCKED: case ACT_VIEW_TAIL: case ACT_VIEW_KEYS: case ACT_VIEW_ACTIONS:
	case ACT_VIEW_ROTATIONS: case ACT_VIEW_RATELIMITS: case ACT_VIEW_RANGES:
		if (c->screen == SCR_DETAIL)
			model_ask_detail(m, DETAIL_NONE, NULL);
		show_list(c, (enum list_id)(a - ACT_VIEW_IPS));
		break;
	case ACT_NEXT_VIEW: cycle_view(c, 1); break;
	case ACT_PREV_VIEW: cycle_view(c, -1); break;
	case ACT_UP: move_selection(c, -1, false); break;
	case ACT_DOWN: move_selection(c, 1, false); break;
	case ACT_PAGE_UP: move_selection(c, -page, false); break;
	case ACT_PAGE_DOWN: move_selection(c, page, false); break;
	case ACT_TOP: move_selection(c, -1, true); break;
	case ACT_BOTTOM: move_selection(c, 1, true); break;
	case ACT_FILTER: prompt_start(c, PROMPT_FILTER); break;
	case ACT_NEXT_MATCH: table_next_match(&c->lists[c->list], &c->rows, 1); break;
	case ACT_PREV_MATCH: table_next_match(&c->lists[c->list], &c->rows, -1); break;
	case ACT_SORT: sort_list(c, false); break;
	case ACT_SORT_REVERSE: sort_list(c, true); break;
	case ACT_WINDOW: cycle_window(c); break;
	case ACT_TENANT: prompt_start(c, PROMPT_TENANT); break;
	case ACT_PAUSE:
		m->paused = !m->paused;
		console_message(c, m->paused ? "paused: figures frozen (r refreshes once, space resumes)" : "resumed");
		break;
	case ACT_FASTER: change_refresh(c, -1); break;
	case ACT_SLOWER: change_refresh(c, 1); break;
	case ACT_REFRESH:
		console_message(c, "refreshing");    /* a list's reload says more, after */
		if (c->screen == SCR_LIST && c->list == LIST_KEYS)
			keys_reload(c);
		if (c->screen == SCR_LIST && c->list == LIST_ROTATIONS)
			rotations_reload(c);
		loop_refresh_all(c->app->loop);
		break;
	case ACT_BELL:
		c->bell = !c->bell;
		console_message(c, c->bell ? "bell on new alerts: on" : "bell: off");
		break;
	case ACT_BLOCK: action_begin(c, OP_BLOCK); break;
	case ACT_UNBLOCK: action_begin(c, OP_UNBLOCK); break;
	case ACT_EXTEND: action_begin(c, OP_EXTEND); break;
	case ACT_REVOKE: revoke_begin(c); break;
	case ACT_ROTATE: rotate_begin(c); break;
	case ACT_RUNBOOK:
		if (c->rb.open)
			c->rb.focus = !c->rb.focus;
		else
			rb_picker_start(&c->rb, c->app->cfg);
		break;
	case ACT_STEP_DONE:
		if (c->rb.done[c->rb.sel])
			console_message(c, "this step is done already");
		else
			step_record(c, c->rb.sel);
		break;
	case ACT_STEP_ACT: step_act(c); break;
	case ACT_STEP_SHOW: step_show(c); break;
	case ACT_TIMELINE: timeline_key(c); break;
	case ACT_RUNBOOK_CLOSE:
		if (c->rb.n_unrecorded) {
			console_message(c, "steps are still being recorded: close it in a moment");
			break;
		}
		rb_pane_close(&c->rb);
		console_message(c, "runbook closed (the journal keeps its steps)");
		break;
	case ACT_NONE: break;
	}
}

/* During a drill, the first time the operator's selection or a drill-down
 * lands on an address is journalled: the scorecard's time to detect. */
static void drill_look(struct console *c)
{
	const char *addr = c->looks.fd >= 0 ? selected_address(c) : NULL;
	char err[300], when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!addr || c->n_looked == sizeof c->looked / sizeof c->looked[0])
		return;
	for (size_t i = 0; i < c->n_looked; i++)
		if (strcmp(c->looked[i], addr) == 0)
			return;
	snprintf(c->looked[c->n_looked++], sizeof c->looked[0], "%s", addr);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	char who[160];
	ops_operator(who, sizeof who);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "phase", "viewed", "operator", who,
	                      "target", addr, "incident", c->app->cfg->incident ? c->app->cfg->incident : "",
	                      "note", c->screen == SCR_DETAIL ? "opened the address" : "selected the address's row");
	if (j)
		journal_append(&c->looks, j, err, sizeof err);
	json_decref(j);
}

/* Returns whether anything came (a key, a resize): the screen is redrawn. */
static bool console_input(struct console *c)
{
	wint_t ch;
	int rc;
	bool any = false;

	while ((rc = get_wch(&ch)) != ERR) {
		any = true;
		bool is_key = rc == KEY_CODE_YES;
		int64_t now = clock_mono_ms();
		/* a terminal's own sequence is swallowed whole, never run as keys */
		if (!is_key && (termseq_swallow(&c->seq, (unsigned)ch, now) ||
		                (ch >= 0x80 && ch < 0xa0 && termseq_start(&c->seq, (unsigned)ch, false, now))))
			continue;
		if (!is_key && ch == 27) {
			wint_t next;
			int r2 = get_wch(&next);
			if (r2 == OK && termseq_start(&c->seq, (unsigned)next, true, now))
				continue;
			if (r2 == KEY_CODE_YES)
				ungetch((int)next);
			else if (r2 == OK)
				unget_wch((wchar_t)next);
		}
		if (is_key && ch == KEY_RESIZE) {
			clear();
			continue;
		}
		if (c->prompt != PROMPT_NONE) {
			prompt_key(c, is_key, ch);
			continue;
		}
		if (c->rb.picking) {
			picker_key(c, is_key, ch);
			continue;
		}
		/* keys typed ahead act on what the screen would show by then */
		if (c->screen == SCR_LIST)
			list_rows(c);
		console_action(c, keys_action((int)ch, is_key, console_where(c)));
		if (c->app->cfg->drill)
			drill_look(c);
	}
	return any;
}

/* -------------------------------------------------------------- drawing */

static void draw_list(struct console *c, const struct view_ctx *v, int rows, int cols)
{
	const struct list_def *def = &list_defs[c->list];
	struct table_state *st = &c->lists[c->list];
	char title[160], right[200];
	size_t total = list_rows(c);
	if (c->list == LIST_BLOCKED) {
		/* the list holds the most relevant blocks; the count is of them all */
		char count[64];
		model_blocked_text(v->m, count, sizeof count, false);
		snprintf(title, sizeof title, " %c %s (%zu listed of %s) ", def->key, def->title,
		         total, count);
	} else if (c->list == LIST_RATELIMITS) {
		long events = 0;
		for (int i = 0; i < MODEL_MINUTES; i++)
			events += v->m->fpm_start + i * 60 >= v->m->rlpm_from ? v->m->rlpm[i] : 0;
		snprintf(title, sizeof title, " %c %s (%zu; limit %d in %ds; %ld rate-limited events in the window) ",
		         def->key, def->title, total, v->cfg->ratelimit_limit, v->cfg->ratelimit_window_s, events);
	} else {
		snprintf(title, sizeof title, " %c %s (%zu) ", def->key, def->title, total);
	}
	if (st->filter[0])
		snprintf(right, sizeof right, " filter \"%.60s\": %zu ", st->filter, c->rows.n);
	else
		right[0] = '\0';
	view_header(v, cols);
	view_title(v, 1, cols, title, right[0] ? right : NULL);
	c->visible = (size_t)(rows - 4);
	table_draw(v->d, st, &c->rows, def->cols, def->ncols, 2, 0, rows - 3, cols);
	view_footer(v, rows, cols, def->hint);
}

static void draw_lines(struct console *c, const struct view_ctx *v, int rows, int cols,
                       const char *title, const char *hint)
{
	view_header(v, cols);
	view_title(v, 1, cols, title, NULL);
	c->visible = (size_t)(rows - 3);
	lines_draw(v->d, &c->scroll, &c->rows, 2, rows - 3, cols);
	view_footer(v, rows, cols, hint);
}

/* What the action will do, from what the screen knows; the gate reads the
 * key again itself before acting. */
static void draw_revoke_dialog(struct console *c, const struct view_ctx *v, int y, int x, int w)
{
	char line[400];

	snprintf(line, sizeof line, "key %s of tenant %s", c->op.target, c->op_tenant);
	draw_text(v->d, y + 2, x + 2, w - 4, line, ROLE_SELECTION);
	snprintf(line, sizeof line, "name %s, prefix %s, last used %s%s", c->op_key_name, c->op_key_prefix,
	         c->op_key_last_used, strcmp(c->op_key_last_used, "never") ? " ago" : "");
	draw_text(v->d, y + 3, x + 2, w - 4, line, ROLE_SELECTION);
	snprintf(line, sizeof line, "will run: UPDATE %s SET revoked_at = now() ... (committed only if one row)",
	         v->cfg->schema.keys_table);
	draw_text(v->d, y + 5, x + 2, w - 4, line, ROLE_SELECTION);
	if (v->cfg->drill)
		draw_text(v->d, y + 6, x + 2, w - 4, "DRILL: rehearsed, the key is not revoked", ROLE_ALERT);
}

/* The address's own keys as last read, and how old that reading is: stale
 * when Redis has not answered lately (the gate reads them again anyway). */
static void draw_redis_state(const struct view_ctx *v, const struct ip_redis *rd, int y, int x, int w)
{
	const struct source_status *s = &v->m->redis;
	int64_t stale_ms = (int64_t)v->m->refresh_ms * 3 + v->cfg->timeout_ms;
	long age_s = s->last_ok_ms ? (long)((v->now_ms - s->last_ok_ms) / 1000) : -1;
	bool stale = model_source_state(s, v->now_ms, stale_ms) != SOURCE_OK;
	char ttl[32], line[300];

	if (!rd) {
		draw_text(v->d, y, x, w, "now: reading the address's keys from Redis...", ROLE_SELECTION);
		return;
	}
	format_ttl(ttl, sizeof ttl, rd->blocked ? rd->block_ttl_s : -2);
	snprintf(line, sizeof line, "now: %s%s%s, failed_auth counter %ld", rd->blocked ? "blocked, " : "not blocked",
	         rd->blocked ? ttl : "", rd->blocked ? " left" : "", rd->failed_auth > 0 ? rd->failed_auth : 0);
	draw_text(v->d, y, x, w, line, ROLE_SELECTION);
	if (stale) {
		snprintf(line, sizeof line, "STALE: Redis last answered %s%lds ago; the action reads it again",
		         age_s < 0 ? "never, " : "", age_s < 0 ? 0 : age_s);
		draw_text(v->d, y + 2, x, w, line, ROLE_ALERT);
	}
}

static void draw_action_dialog(struct console *c, const struct view_ctx *v, int rows, int cols)
{
	const struct model *m = v->m;
	const struct ip_redis *rd = model_ip_redis(m, c->op.target);
	int w = cols - 8 < 76 ? cols - 8 : 76, h = 10, y = (rows - h) / 2, x = (cols - w) / 2;
	char ttl[96], line[300];

	for (int i = 0; i < h; i++)
		draw_fill(v->d, y + i, x, w, ROLE_SELECTION);
	snprintf(line, sizeof line, " %s %s%s ", op_action_name(c->op.kind), c->op.target,
	         v->cfg->dry_run ? "  (DRY RUN: nothing is changed)" : "");
	draw_text(v->d, y, x + 1, w - 2, line, ROLE_BADGE);
	if (c->op.kind == OP_REVOKE) {
		draw_revoke_dialog(c, v, y, x, w);
		goto ask;
	}
	if (c->op.kind == OP_ROTATE) {
		const struct conf_secret *sec = conf_secret_find(v->cfg, c->op_secret);
		snprintf(line, sizeof line, "POST to the webhook of %s (%s), with an idempotency key;", c->op_secret,
		         sec && sec->kind ? sec->kind : "?");
		draw_text(v->d, y + 2, x + 2, w - 4, line, ROLE_SELECTION);
		draw_text(v->d, y + 3, x + 2, w - 4, "a timeout or a 5xx leaves it unknown: O again reuses the key",
		          ROLE_SELECTION);
		if (v->cfg->drill)
			draw_text(v->d, y + 5, x + 2, w - 4, "DRILL: rehearsed, nothing is sent", ROLE_ALERT);
		goto ask;
	}
	draw_redis_state(v, rd, y + 2, x + 2, w - 4);
	for (size_t i = 0; i < m->n_top_ips; i++)
		if (strcmp(m->top_ips[i].ip, c->op.target) == 0) {
			snprintf(line, sizeof line, "in the window: %ld failures, %ld requests, %ld users, %ld tenants",
			         m->top_ips[i].failures, m->top_ips[i].requests, m->top_ips[i].users, m->top_ips[i].tenants);
			draw_text(v->d, y + 3, x + 2, w - 4, line, ROLE_SELECTION);
		}
	format_ttl(ttl, sizeof ttl, c->op.ttl_s);
	if (!c->op.ttl_s) {
		/* the repeat rule: the gate counts the address's earlier blocks */
		size_t k = 0, n = v->cfg->block_ttl_steps.n;
		k += (size_t)snprintf(ttl, sizeof ttl, "its earlier blocks decide: ");
		for (size_t i = 0; i < n && k < sizeof ttl; i++)
			k += (size_t)snprintf(ttl + k, sizeof ttl - k, "%s%s", i ? i + 1 == n ? " or " : ", " : "",
			                      v->cfg->block_ttl_steps.v[i]);
	}
	if (c->op.kind == OP_UNBLOCK)
		snprintf(line, sizeof line, "will send: DEL %s%s", v->cfg->keys.blocked, c->op.target);
	else if (c->op.kind == OP_EXTEND)
		snprintf(line, sizeof line, "will send: EXPIRE %s%s %s%.0ld (%s)", v->cfg->keys.blocked, c->op.target,
		         c->op.ttl_s ? "" : "TTL", c->op.ttl_s, ttl);
	else
		snprintf(line, sizeof line, "will send: SET %s%s {by,reason,at} EX %s%.0ld (%s)", v->cfg->keys.blocked,
		         c->op.target, c->op.ttl_s ? "" : "TTL", c->op.ttl_s, ttl);
	draw_text(v->d, y + 5, x + 2, w - 4, line, ROLE_SELECTION);
	if (c->op_extra)
		draw_text(v->d, y + 6, x + 2, w - 4, c->op_bypass ? "WARNING: ALLOW-LISTED: blocking it bypasses the allow-list"
		          : "WARNING: a private, loopback or your own address", ROLE_ALERT);
ask:
	snprintf(line, sizeof line, c->prompt == PROMPT_REASON ? "Why? Type a reason, Enter (Esc cancels)"
	         : "To confirm, type: %s  then Enter (Esc cancels)", c->op_expect);
	draw_text(v->d, y + 8, x + 2, w - 4, line, ROLE_SELECTION);
}

static void console_draw(struct console *c)
{
	int64_t now = clock_wall_ms();
	char prompt[200];
	struct view_ctx v = { .m = &c->app->model, .cfg = c->app->cfg, .d = &c->draw, .now_ms = now };
	int rows, cols;

	if (c->prompt != PROMPT_NONE) {
		static const char *const asks[] = { [PROMPT_FILTER] = "filter: ",
			[PROMPT_TENANT] = "tenant (empty: all): ", [PROMPT_REASON] = "reason: ",
			[PROMPT_CONFIRM] = "type to confirm: " };
		snprintf(prompt, sizeof prompt, "%s%s_", asks[c->prompt], c->input);
		v.message = prompt;
		v.message_is_prompt = true;
	} else if (clock_mono_ms() < c->message_until) {
		v.message = c->message;
	}
	int all_rows, all_cols;
	getmaxyx(stdscr, all_rows, all_cols);
	erase();
	rb_pane_layout(&c->rb, all_rows, all_cols, &rows, &cols);
	if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS) {
		rows = all_rows;                      /* the runbook does not fit beside: data first */
		cols = all_cols;
	}
	if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS) {
		view_too_small(&v, rows, cols);
	} else if (c->screen == SCR_OVERVIEW) {
		overview_follow(c);
		view_overview(&v, rows, cols, c->overview.selected);
	} else if (c->screen == SCR_LIST) {
		draw_list(c, &v, rows, cols);
	} else if (c->screen == SCR_DETAIL) {
		rows_clear(&c->rows);
		detail_build(&c->rows, c->detail, c->detail_key, v.m, v.cfg, now);
		draw_lines(c, &v, rows, cols, c->detail == DV_IP ? " Address " : c->detail == DV_TENANT ? " Tenant " : " Endpoint ",
		           "Esc back  j/k scroll  w window  space pause  ? help");
	} else {
		rows_clear(&c->rows);
		help_build(&c->rows, c->help_where);
		draw_lines(c, &v, rows, cols, " Help ", "Esc back  j/k scroll  q quit");
	}
	if (rows != all_rows || cols != all_cols)
		rb_pane_draw(&c->rb, &v, all_rows, all_cols);
	if (c->rb.picking && all_rows >= 8 && all_cols >= 40)
		rb_picker_draw(&c->rb, &v, all_rows, all_cols);
	if ((c->prompt == PROMPT_REASON || c->prompt == PROMPT_CONFIRM) && all_rows >= 12 && all_cols >= 50)
		draw_action_dialog(c, &v, all_rows, all_cols);
	refresh();
	size_t alerts = view_alerts(&v);
	if (c->bell && alerts > c->alerts)
		beep();
	c->alerts = alerts;
}

/* -------------------------------------------------------------- the loop */

/* Something a source published, summed: it changes when the screen may.
 * A Redis key walk steps many times a second and publishes only at its
 * end, so redrawing per loop turn would cost CPU for nothing. */
static unsigned long model_signature(const struct model *m)
{
	unsigned long sig = m->pg.refreshes + m->pg.failures + m->redis.refreshes + m->redis.failures +
	                    m->top_ips_gen + m->ip_redis_gen + m->detail.answered + m->scope_gen +
	                    (unsigned long)m->n_blocked + m->walk_complete + (unsigned long)m->paused +
	                    m->blocked_count + m->walk.blocked + (unsigned long)(m->walk.fraction * 100);
	for (size_t i = 0; i < m->n_health; i++)
		sig += m->health[i].checks;
	return sig;
}

/* The terminal comes back as it was on every way out, signals included. */
static void console_end(struct console *c)
{
	if (!c->curses_on)
		return;
	endwin();
	c->curses_on = false;
}

static void console_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = console_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void console_start(struct console *c)
{
	const struct config *cfg = c->app->cfg;
	const char *no_colour = getenv("NO_COLOR");      /* set and not empty: see no-color.org */
	bool colour = !cfg->no_color && !(no_colour && *no_colour);

	set_escdelay(25);
	initscr();
	c->curses_on = true;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	draw_init(&c->draw, &c->theme, colour, c->app->ascii);
	for (int i = 0; i < LIST_COUNT; i++)
		c->lists[i].sort_col = list_defs[i].default_sort;
	c->bell = cfg->bell;
}

static void console_free(struct console *c)
{
	bg_fetch_finish(&c->recon_fetch);
	bg_fetch_finish(&c->fetch);
	bg_fetch_finish(&c->rot_fetch);
	rotation_free(c->rr.v, c->rr.n);
	rotation_free(c->rots, c->n_rots);
	apikeys_free(c->kr.keys, c->kr.n);
	apikeys_free(c->keys, c->n_keys);
	timeline_free(&c->journal);
	journal_close(&c->looks);
	rb_picker_stop(&c->rb);
	rb_pane_close(&c->rb);
	rows_clear(&c->rows);
	free(c->rows.v);
	for (int i = 0; i < LIST_COUNT; i++)
		free(c->lists[i].selected_key);
	free(c->overview.selected_key);
	free(c->detail_key);
}

int app_console(struct app *app)
{
	struct console c = { .app = app, .step_of_action = -1, .looks = { .fd = -1 } };
	char err[512];

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sectop: the console needs a terminal; for a report on stdout try: sectop snapshot\n");
		return 2;
	}
	if (theme_load(&c.theme, app->cfg->theme, theme_warn, &c) < 0) {
		fprintf(stderr, "sectop: theme '%s' not found\n", app->cfg->theme);
		return 2;
	}
	if (app_open(app, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		return 2;
	}
	if (app->cfg->drill) {
		char *path = journal_path(app->cfg->journal);
		if (!path || journal_open(&c.looks, path, err, sizeof err) < 0)
			c.looks.fd = -1;                 /* the scorecard then says "not reached" */
		free(path);
	}
	console_signals();
	console_start(&c);
	c.recon.cfg = app->cfg;
	if (!app->cfg->read_only && !app->cfg->dry_run)
		bg_fetch_start(&c.recon_fetch, recon_run, &c.recon);
	if (app->cfg->runbook)
		runbook_open(&c, app->cfg->runbook);
	unsigned long drawn_sig = 0;
	int64_t drawn_second = -1;
	bool dirty = true;
	while (!c.quit && !console_quit_signal) {
		/* redraw on input, on news from a source, and when the clock ticks */
		unsigned long sig = model_signature(&app->model);
		int64_t second = clock_wall_ms() / 1000;
		if (dirty || sig != drawn_sig || second != drawn_second) {
			console_draw(&c);
			drawn_sig = sig;
			drawn_second = second;
			dirty = false;
		}
		struct pollfd in[5] = { { .fd = STDIN_FILENO, .events = POLLIN },
		                        { .fd = act_job_fd(&c.job), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.fetch), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.rot_fetch), .events = POLLIN },
		                        { .fd = bg_fetch_fd(&c.recon_fetch), .events = POLLIN } };
		int64_t wait = 1000 - clock_wall_ms() % 1000;   /* tick with the clock */
		if (loop_turn(app->loop, wait, in, 5) < 0)
			break;
		if (c.recon_fetch.running && (in[4].revents & POLLIN)) {
			recon_arrived(&c);
			dirty = true;
		}
		if (c.rot_fetch.running && (in[3].revents & POLLIN)) {
			rotations_arrived(&c);
			dirty = true;
		}
		if (c.fetch.running && (in[2].revents & POLLIN)) {
			keys_arrived(&c);
			dirty = true;
		}
		if (in[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;                               /* the terminal went away */
		if (act_job_running(&c.job) && (in[1].revents & POLLIN)) {
			action_finished(&c);
			dirty = true;
		}
		if (console_input(&c))
			dirty = true;
	}
	console_end(&c);
	act_job_finish(&c.job);                      /* an action under way ends first */
	while (c.rb.n_unrecorded) {                  /* and every step ticked is recorded */
		step_records_flush(&c);
		if (!act_job_running(&c.job))
			break;
		act_job_finish(&c.job);
	}
	console_free(&c);
	return 0;
}
