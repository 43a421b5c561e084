/* keys.h: every key of the console in one table.  The same table
 * dispatches the keys and writes the help screen, so the two never drift. */
#ifndef SECTOP_KEYS_H
#define SECTOP_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum action {
	ACT_NONE, ACT_QUIT, ACT_HELP, ACT_BACK, ACT_ENTER,
	ACT_VIEW_OVERVIEW, ACT_VIEW_IPS, ACT_VIEW_TENANTS, ACT_VIEW_HEALTH, ACT_VIEW_BLOCKED,
	ACT_VIEW_TAIL, ACT_VIEW_KEYS, ACT_VIEW_ACTIONS, ACT_VIEW_ROTATIONS, ACT_VIEW_RATELIMITS, ACT_VIEW_RANGES, ACT_NEXT_VIEW, ACT_PREV_VIEW,
	ACT_UP, ACT_DOWN, ACT_PAGE_UP, ACT_PAGE_DOWN, ACT_TOP, ACT_BOTTOM,
	ACT_FILTER, ACT_NEXT_MATCH, ACT_PREV_MATCH, ACT_SORT, ACT_SORT_REVERSE,
	ACT_WINDOW, ACT_EARLIER, ACT_LATER, ACT_AT, ACT_LIVE, ACT_TENANT, ACT_PAUSE, ACT_FASTER, ACT_SLOWER, ACT_REFRESH, ACT_BELL,
	ACT_BLOCK, ACT_UNBLOCK, ACT_EXTEND, ACT_REVOKE, ACT_ROTATE,
	ACT_RUNBOOK, ACT_STEP_DONE, ACT_STEP_ACT, ACT_STEP_SHOW, ACT_TIMELINE, ACT_RUNBOOK_CLOSE,
	ACT_RANGES_BY,
};

/* Where a binding applies. */
enum {
	IN_OVERVIEW = 1 << 0,
	IN_LIST = 1 << 1,        /* the full-screen lists */
	IN_DETAIL = 1 << 2,      /* a drill-down */
	IN_HELP = 1 << 3,
	IN_RUNBOOK = 1 << 4,     /* the runbook pane has the keys */
	IN_DATA = IN_OVERVIEW | IN_LIST | IN_DETAIL,
	IN_ALL = IN_DATA | IN_HELP | IN_RUNBOOK,
};

struct key_binding {
	int key;                 /* a curses key code or character */
	const char *label;       /* as the help shows it; NULL: listed with the previous one */
	enum action action;
	unsigned where;
	const char *help;
};

extern const struct key_binding key_bindings[];
extern const size_t n_key_bindings;

/* The action of key in a context, or ACT_NONE.  is_key: get_wch said
 * KEY_CODE_YES (a function key), else key is a typed character. */
enum action keys_action(int key, bool is_key, unsigned where);

#endif
