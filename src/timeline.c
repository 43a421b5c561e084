/* timeline.c: the journal's records of one incident, as a table a person
 * pastes into the ticket.  An action is an intent followed by its result
 * and its audit; a step, a drill's start and end and a look (a drill's
 * "first look at the attacker") are records of their own. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "report_table.h"
#include "sanitize.h"
#include "strutil.h"
#include "team.h"
#include "timeline.h"

int64_t timeline_parse_time(const char *iso)
{
	struct tm tm = { 0 };
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!end || (*end != 'Z' && *end != '\0'))
		return -1;
	return (int64_t)timegm(&tm);
}

static const char *str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

static struct tl_entry *find(struct timeline *tl, json_t *ids, const char *id)
{
	json_t *at = id ? json_object_get(ids, id) : NULL;
	return at ? &tl->v[json_integer_value(at)] : NULL;
}

static int add(struct timeline *tl, json_t *ids, const json_t *rec, const char *id)
{
	struct tl_entry *v = realloc(tl->v, (tl->n + 1) * sizeof *v);
	if (!v)
		return -1;
	tl->v = v;
	struct tl_entry *e = &v[tl->n];
	memset(e, 0, sizeof *e);
	e->t = timeline_parse_time(str(rec, "time"));
	e->who = str(rec, "operator");
	e->what = str(rec, "action");
	e->target = str(rec, "target");
	e->tenant = str(rec, "tenant");
	e->note = str(rec, "note") ? str(rec, "note") : str(rec, "reason");
	e->mode = str(rec, "mode");
	e->incident = str(rec, "incident");
	e->id = id;
	e->audited = e->mode && (strcmp(e->mode, "live") == 0 || strcmp(e->mode, "drill") == 0) ? 0 : -1;
	if (id)
		json_object_set_new(ids, id, json_integer((json_int_t)tl->n));
	tl->n++;
	return 0;
}

int timeline_build(struct timeline *tl, json_t *records, const char *incident)
{
	json_t *ids = json_object(), *rec;
	size_t i;
	int rc = 0;

	memset(tl, 0, sizeof *tl);
	tl->incident = incident ? incident : "(all)";
	tl->records = json_incref(records);
	json_array_foreach(records, i, rec) {
		const char *phase = str(rec, "phase"), *id = str(rec, "id");
		struct tl_entry *e;
		if (!phase)
			continue;
		if (strcmp(phase, "intent") == 0 || strcmp(phase, "viewed") == 0) {
			const char *inc = str(rec, "incident");
			if ((!incident || (inc && strcmp(inc, incident) == 0)) && add(tl, ids, rec, id) < 0)
				rc = -1;
		} else if (strcmp(phase, "result") == 0 && (e = find(tl, ids, id))) {
			e->status = str(rec, "status");
			e->message = str(rec, "message");
		} else if (strcmp(phase, "audited") == 0 && (e = find(tl, ids, id))) {
			e->audited = 1;
		}
	}
	json_decref(ids);
	return rc;
}

void timeline_free(struct timeline *tl)
{
	free(tl->v);
	json_decref(tl->records);
	team_ops_free(tl->team, tl->n_team);
	memset(tl, 0, sizeof *tl);
}

/* The local entries by journal id: a journal may hold many thousands. */
static json_t *local_ids(const struct timeline *tl)
{
	json_t *ids = json_object();

	for (size_t i = 0; ids && i < tl->n; i++)
		if (!tl->v[i].remote && tl->v[i].id)
			json_object_set_new(ids, tl->v[i].id, json_integer((json_int_t)i));
	return ids;
}

static struct tl_entry *find_known(struct timeline *tl, json_t *ids, const char *journal_id)
{
	json_t *at = journal_id ? json_object_get(ids, journal_id) : NULL;
	return at ? &tl->v[json_integer_value(at)] : NULL;
}

/* A remote entry from an audit row (held by the timeline): its action
 * loses its "_noop", which the status says instead. */
static void remote_entry(struct tl_entry *e, struct team_op *op)
{
	char base[64];
	bool noop = team_op_base_action(op, base, sizeof base);

	if (noop)
		op->action[strlen(base)] = '\0';
	memset(e, 0, sizeof *e);
	e->t = op->ts_us >= 0 ? op->ts_us / 1000000 : -1;
	e->who = op->operator_id;
	e->what = op->action;
	e->target = op->target;
	e->tenant = op->tenant;
	e->note = op->note ? op->note : op->reason;
	e->mode = op->mode;
	e->incident = op->incident;
	e->status = noop ? "already" : op->outcome ? op->outcome : "done";
	e->audited = 1;
	e->id = op->journal_id;
	e->remote = true;
}

/* Time order, and the order they came in within a second. */
static int entry_cmp(const void *a, const void *b)
{
	const struct tl_entry *x = *(const struct tl_entry *const *)a, *y = *(const struct tl_entry *const *)b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int sort_entries(struct timeline *tl)
{
	struct tl_entry **order = malloc((tl->n + 1) * sizeof *order), *sorted = malloc((tl->n + 1) * sizeof *sorted);

	if (!order || !sorted) {
		free(order);
		free(sorted);
		return -1;
	}
	for (size_t i = 0; i < tl->n; i++)
		order[i] = &tl->v[i];
	qsort(order, tl->n, sizeof *order, entry_cmp);
	for (size_t i = 0; i < tl->n; i++)
		sorted[i] = *order[i];
	free(order);
	free(tl->v);
	tl->v = sorted;
	return 0;
}

int timeline_add_team(struct timeline *tl, const struct team_op *ops, size_t n, const char *incident)
{
	struct team_op *copy = calloc(n + 1, sizeof *copy);
	struct tl_entry *v = realloc(tl->v, (tl->n + n + 1) * sizeof *v);
	size_t k = 0;

	if (v)
		tl->v = v;
	json_t *ids = local_ids(tl);
	if (!copy || !v || tl->team || !ids) {
		free(copy);
		json_decref(ids);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct team_op *op = &ops[i];
		struct tl_entry *local = find_known(tl, ids, op->journal_id);
		if (incident && (!op->incident || strcmp(op->incident, incident) != 0))
			continue;
		if (local) {
			local->audited = 1;
			continue;
		}
		if (!op->action || team_op_copy(&copy[k], op) < 0)
			continue;
		if (copy[k].journal_id)              /* an audit row written twice is one action */
			json_object_set_new(ids, copy[k].journal_id, json_integer((json_int_t)tl->n));
		remote_entry(&tl->v[tl->n++], &copy[k]);
		k++;
	}
	json_decref(ids);
	tl->team = copy;
	tl->n_team = k;
	tl->n_remote = k;
	tl->team_state = TL_TEAM_READ;
	return sort_entries(tl);
}

void timeline_team_failed(struct timeline *tl, const char *why)
{
	tl->team_state = TL_TEAM_FAILED;
	snprintf(tl->team_error, sizeof tl->team_error, "%s", why ? why : "no answer");
}

/* ---------------------------------------------------------------- output */

static void put(FILE *f, const char *s)
{
	char *safe = sanitize_str(s ? s : "", 0);
	char *esc = safe ? report_escape_md(safe) : NULL;

	fputs(esc ? esc : "", f);
	free(esc);
	free(safe);
}

/* The date too, or the time of day only. */
static void put_time(FILE *f, int64_t t, bool with_date)
{
	char buf[40];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm))
		fputs("?", f);
	else {
		strftime(buf, sizeof buf, with_date ? "%Y-%m-%d %H:%M:%S UTC" : "%H:%M:%S", &tm);
		fputs(buf, f);
	}
}

static const char *what_name(const struct tl_entry *e)
{
	return e->what ? e->what : "looked at";
}

static void put_result(FILE *f, const struct tl_entry *e)
{
	if (!e->what) {
		fputs("seen", f);
		return;
	}
	if (!e->status) {
		fputs("**no result recorded** (interrupted?)", f);
		return;
	}
	put(f, e->status);
	if (e->mode && strcmp(e->mode, "live") != 0) {
		fputs(" (", f);
		put(f, e->mode);
		fputc(')', f);
	}
	if (e->message && *e->message) {
		fputs(": ", f);
		put(f, e->message);
	}
	if (e->audited == 0 && strcmp(e->status, "done") == 0)
		fputs("; audit row pending", f);
}

static void put_summary(const struct timeline *tl, FILE *f)
{
	size_t done = 0, not_done = 0, steps = 0, looks = 0;
	json_t *who = json_object();

	for (size_t i = 0; i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		if (e->who)
			json_object_set_new(who, e->who, json_true());
		if (!e->what)
			looks++;
		else if (strcmp(e->what, "runbook_step_done") == 0)
			steps++;
		else if (strncmp(e->what, "drill_", 6) == 0)
			continue;
		else if (e->status && strcmp(e->status, "done") == 0)
			done++;
		else
			not_done++;
	}
	if (tl->n) {
		fputs("- From ", f);
		put_time(f, tl->v[0].t, true);
		fputs(" to ", f);
		put_time(f, tl->v[tl->n - 1].t, true);
		fputc('\n', f);
	}
	fputs("- Operators: ", f);
	const char *name;
	json_t *v;
	size_t k = 0;
	json_object_foreach(who, name, v) {
		fputs(k++ ? ", " : "", f);
		put(f, name);
	}
	fprintf(f, "%s\n- Actions: %zu done, %zu not done; runbook steps completed: %zu; looks: %zu\n",
	        k ? "" : "none", done, not_done, steps, looks);
	json_decref(who);
	if (tl->team_state == TL_TEAM_READ) {
		fprintf(f, "- Sources: the local journal and the audit log (every operator's actions;"
		        " %zu recorded elsewhere, marked remote)\n", tl->n_remote);
	} else if (tl->team_state == TL_TEAM_FAILED) {
		fputs("- Sources: the local journal alone: the audit log did not answer (", f);
		put(f, tl->team_error);
		fputs("), so other operators' actions are missing\n", f);
	}
}

int timeline_write_md(const struct timeline *tl, FILE *f, const char *exported_by, int64_t now)
{
	fputs("# Incident ", f);
	put(f, tl->incident);
	fputs(": timeline\n\n- Exported ", f);
	put_time(f, now, true);
	fputs(" by ", f);
	put(f, exported_by);
	fputc('\n', f);
	put_summary(tl, f);
	if (!tl->n) {
		fprintf(f, "\nNothing recorded for this incident in the journal%s.\n",
		        tl->team_state == TL_TEAM_READ ? " or the audit log" : "");
		return ferror(f) ? -1 : 0;
	}
	fputs("\n| Time (UTC) | Who | What | Target | Reason, step or figures | Result |\n"
	      "| --- | --- | --- | --- | --- | --- |\n", f);
	for (size_t i = 0; i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		fputs("| ", f);
		put_time(f, e->t, false);
		fputs(" | ", f);
		put(f, e->who);
		if (e->remote)
			fputs(" (remote)", f);
		fputs(" | ", f);
		put(f, what_name(e));
		fputs(" | ", f);
		put(f, e->target);
		if (e->tenant) {
			fputs(" (tenant ", f);
			put(f, e->tenant);
			fputc(')', f);
		}
		fputs(" | ", f);
		put(f, e->note);
		fputs(" | ", f);
		put_result(f, e);
		fputs(" |\n", f);
	}
	return ferror(f) ? -1 : 0;
}

int timeline_export(const char *journal_path, const char *incident, FILE *f, const char *who,
                    char *err, size_t errsz)
{
	return timeline_export_team(journal_path, incident, NULL, f, who, err, errsz);
}

int timeline_export_team(const char *journal_path, const char *incident, const struct tl_team *team,
                         FILE *f, const char *who, char *err, size_t errsz)
{
	size_t bad;
	json_t *all = journal_read(journal_path, &bad);
	struct timeline tl;

	if (!all) {
		snprintf(err, errsz, "journal %s cannot be read", journal_path);
		return -1;
	}
	int rc = timeline_build(&tl, all, incident);
	json_decref(all);
	if (rc == 0 && team && team->error)
		timeline_team_failed(&tl, team->error);
	else if (rc == 0 && team)
		rc = timeline_add_team(&tl, team->v, team->n, incident);
	if (rc == 0)
		rc = timeline_write_md(&tl, f, who, (int64_t)time(NULL));
	if (rc == 0 && bad)
		fprintf(f, "\n%zu journal line%s could not be read (torn or edited).\n", bad, bad == 1 ? "" : "s");
	timeline_free(&tl);
	if (rc < 0)
		snprintf(err, errsz, "cannot write the timeline");
	return rc;
}

int64_t timeline_team_since(const char *journal_path, const char *incident, int64_t now_us)
{
	size_t bad;
	json_t *all = journal_read(journal_path, &bad);
	struct timeline tl;
	int64_t first = now_us / 1000000;

	if (all && timeline_build(&tl, all, incident) == 0) {
		for (size_t i = 0; i < tl.n; i++)
			if (tl.v[i].t >= 0 && tl.v[i].t < first)
				first = tl.v[i].t;
		timeline_free(&tl);
	}
	json_decref(all);
	return (first - 86400) * 1000000;
}

char *timeline_default_path(const char *journal_path, const char *incident)
{
	const char *slash = strrchr(journal_path, '/');
	int dir_len = slash ? (int)(slash - journal_path) : 1;
	char name[96];
	size_t k = 0;

	/* the incident id as a file name: letters, digits, '-', '_' and '.' */
	for (const char *p = incident; *p && k < 64; p++, k++)
		name[k] = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || (*p == '.' && k) ? *p : '_';
	name[k] = '\0';
	return str_printf("%.*s/timeline-%s.md", dir_len, slash ? journal_path : ".", name);
}

FILE *timeline_create(const char *path)
{
	struct stat st = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || ftruncate(fd, 0) < 0 ||
	    ((st.st_mode & 077) && fchmod(fd, 0600) < 0)) {
		int e = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		errno = e;
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}
