/* runbook.h: incident runbooks, plain text files a person writes (the
 * format is in sectop-runbook(5)), read into steps that follow the
 * response plan and may show live data or bind an action.
 *
 * A runbook is looked for by name (its file name without ".runbook") in
 * the configured runbook-dir, then the user's directory
 * ($XDG_CONFIG_HOME/sectop/runbooks, else ~/.config/sectop/runbooks), the
 * system's ($sysconfdir/sectop/runbooks) and the shipped ones
 * ($pkgdatadir/runbooks); the first found wins.  SECTOP_RUNBOOK_DIR (an
 * uninstalled tree) comes before the shipped directory.
 */
#ifndef SECTOP_RUNBOOK_H
#define SECTOP_RUNBOOK_H

#include <stddef.h>

struct config;

/* The response plan's phases, in the order a runbook must follow. */
enum rb_phase { RB_DETECTION, RB_CONTAINMENT, RB_INVESTIGATION, RB_REMEDIATION, RB_POST_INCIDENT,
                RB_PHASES };

/* Live data a step points at: the console shows that view. */
enum rb_show { RB_SHOW_NONE, RB_SHOW_OVERVIEW, RB_SHOW_IPS, RB_SHOW_TENANTS, RB_SHOW_HEALTH,
               RB_SHOW_BLOCKED, RB_SHOW_TAIL, RB_SHOW_IP, RB_SHOW_TENANT, RB_SHOW_KEYS,
               RB_SHOW_ROTATIONS, RB_SHOW_ACTIONS };

/* An action a step binds; its target comes from the current selection. */
enum rb_action { RB_ACT_NONE, RB_ACT_BLOCK, RB_ACT_UNBLOCK, RB_ACT_EXTEND, RB_ACT_REVOKE,
                 RB_ACT_ROTATE };

struct rb_step {
	enum rb_phase phase;
	char *title;             /* the step's first line */
	char *text;              /* further lines, '\n'-joined, or NULL */
	enum rb_show show;
	enum rb_action action;
	long ttl_s;              /* block/extend: ttl=DURATION; 0: the configured default */
	char *reason;            /* reason=TEXT: the reason offered, or NULL */
	char *secret;            /* rotate: secret=NAME, or NULL */
};

struct runbook {
	char *name;              /* the file name without .runbook */
	char *path;
	char *title;
	char *summary;           /* or NULL */
	struct rb_step *steps;
	size_t n_steps;
};

/* One runbook found on disk, for the picker: parsed, or why not. */
struct runbook_entry {
	char *name, *path;
	char *title;             /* NULL when the file does not parse */
	char *error;             /* "file:line: ..." when it does not */
	size_t n_steps;
};

const char *rb_phase_name(enum rb_phase p);
const char *rb_show_name(enum rb_show s);
const char *rb_action_name(enum rb_action a);

/* Parse a runbook's text.  0, or -1 with "line N: ..." in err. */
int runbook_parse(struct runbook *rb, const char *name, const char *text, size_t len,
                  char *err, size_t errsz);
/* Read and parse a file (at most 256 KiB).  0, or -1 with "path:line: ..." */
int runbook_load(struct runbook *rb, const char *path, char *err, size_t errsz);
void runbook_free(struct runbook *rb);

/* Every runbook in the search path, by name, the first of each name only. */
size_t runbook_list(const struct config *cfg, struct runbook_entry **out);
void runbook_list_free(struct runbook_entry *v, size_t n);
/* Find and load a runbook by name.  0, or -1 with err. */
int runbook_find(const struct config *cfg, const char *name, struct runbook *rb,
                 char *err, size_t errsz);

#endif
