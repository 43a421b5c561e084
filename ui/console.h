/* console.h: the console's state, shared by its parts (ui/console*.c).
 * Not an interface: one struct that the key loop, the dialogs, the
 * background reads and the drawing all work on. */
#ifndef SECTOP_CONSOLE_H
#define SECTOP_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <wchar.h>

#include "act_job.h"
#include "actions.h"
#include "apikeys.h"
#include "app.h"
#include "bg_fetch.h"
#include "detail.h"
#include "draw.h"
#include "journal.h"
#include "lists.h"
#include "rotation.h"
#include "runbook_pane.h"
#include "table.h"
#include "termseq.h"
#include "theme.h"
#include "timeline.h"
#include "view.h"

enum scr { SCR_OVERVIEW, SCR_LIST, SCR_DETAIL, SCR_HELP };
enum prompt_kind { PROMPT_NONE, PROMPT_FILTER, PROMPT_TENANT, PROMPT_AT, PROMPT_REASON, PROMPT_CONFIRM };

struct console {
	struct app *app;
	struct theme theme;
	struct draw draw;
	bool quit, curses_on, bell;

	enum scr screen;
	enum list_id list;                       /* the list shown, or the one left for a detail */
	bool ranges_by_as;                       /* the ranges view groups by AS (A), else by network */
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
	bool op_range;                           /* the action is on a range (the ranges view): its
	                                          * preview is read (job.range) before it is confirmed */
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

	/* teammates: the audit log's operator actions (console_team.c) */
	char me[160];                            /* this operator, as the audit rows name them */
	int64_t started_us;                      /* what happened before is history, not news */
	unsigned long team_seen;                 /* the model's team_gen already looked at */
	unsigned long team_merged;               /* ... and merged into the actions view */
	char team_error[256];                    /* the reading's failure last said */
	/* T: the timeline written in a worker (the audit log may be slow) */
	struct bg_fetch tl_fetch;
	struct tl_write { const struct config *cfg; char *journal, *out; FILE *f; char incident[96];
	                  char who[160], offline[200], err[400]; int rc; } tw;
};

/* console_nav.c: where the console is: screens, lists, the selection */
void console_message(struct console *c, const char *msg);
unsigned console_where(const struct console *c);
void show_list(struct console *c, enum list_id id);
void open_detail(struct console *c, enum detail_view what, const char *key);
void close_detail(struct console *c);
void go_back(struct console *c);
void cycle_view(struct console *c, int dir);
void enter_row(struct console *c);
void cycle_window(struct console *c);
void change_refresh(struct console *c, int dir);
void sort_list(struct console *c, bool reverse);
size_t list_rows(struct console *c);
void overview_follow(struct console *c);
const char *selected_address(struct console *c);
void move_selection(struct console *c, long delta, bool to_end);
/* A look back: the window ends at_s (unix s, on a minute); 0: live. */
void look_back(struct console *c, int64_t at_s);
void ranges_want_update(struct console *c);
void ranges_group_toggle(struct console *c);

/* console_fetch.c: what is read off the loop: the journal, API keys, rotations, interrupted actions */
void journal_reload(struct console *c);
void rotations_reload(struct console *c);
void rotations_arrived(struct console *c);
void recon_arrived(struct console *c);
void keys_reload(struct console *c);
void keys_arrived(struct console *c);
void recon_start(struct console *c);

/* console_act.c: the actions: B U X K O, from the selection to the gate (B U on a range too) */
void action_begin(struct console *c, enum op_kind kind);
void revoke_begin(struct console *c);
void rotate_begin(struct console *c);
void action_confirmed(struct console *c);
void range_preview(struct console *c);
void action_finished(struct console *c);

/* console_runbook.c: the runbook pane, the timeline and a drill's looks */
void step_records_flush(struct console *c);
void step_record(struct console *c, size_t i);
void runbook_open(struct console *c, const char *name);
void picker_key(struct console *c, int is_key, wint_t ch);
void step_act(struct console *c);
void step_show(struct console *c);
void timeline_key(struct console *c);
void drill_look(struct console *c);
void timeline_arrived(struct console *c);

/* console_team.c: other operators' actions: said on screen, merged in the actions view */
bool team_news(struct console *c);
void team_merge(struct console *c);

/* console_prompt.c: the footer prompt: filter, tenant, reason, confirmation */
void prompt_start(struct console *c, enum prompt_kind kind);
void prompt_key(struct console *c, int is_key, wint_t ch);

/* console_draw.c: one frame: the screen, the lists, the action dialog */
void console_draw(struct console *c);

#endif
