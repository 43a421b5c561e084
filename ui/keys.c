#include "config.h"

#include <curses.h>

#include "keys.h"

#define CTRL(c) ((c) & 0x1f)

const struct key_binding key_bindings[] = {
	{ 'q', "q", ACT_QUIT, IN_ALL, "quit (Ctrl-C too)" },
	{ '?', "?", ACT_HELP, IN_DATA | IN_RUNBOOK, "this help" },
	{ 27, "Esc", ACT_BACK, IN_LIST | IN_DETAIL | IN_HELP | IN_RUNBOOK, "back (from the runbook: to the data)" },
	{ KEY_BACKSPACE, NULL, ACT_BACK, IN_DETAIL | IN_HELP, NULL },
	{ 'h', NULL, ACT_BACK, IN_DETAIL | IN_HELP, NULL },
	{ '\r', "Enter", ACT_ENTER, IN_OVERVIEW | IN_LIST, "drill down into the selected row" },
	{ '\n', NULL, ACT_ENTER, IN_OVERVIEW | IN_LIST, NULL },
	{ KEY_ENTER, NULL, ACT_ENTER, IN_OVERVIEW | IN_LIST, NULL },
	{ '1', "1", ACT_VIEW_OVERVIEW, IN_ALL, "overview" },
	{ '2', "2", ACT_VIEW_IPS, IN_ALL, "top addresses" },
	{ '3', "3", ACT_VIEW_TENANTS, IN_ALL, "tenants" },
	{ '4', "4", ACT_VIEW_HEALTH, IN_ALL, "health endpoints" },
	{ '5', "5", ACT_VIEW_BLOCKED, IN_ALL, "blocked addresses" },
	{ '6', "6", ACT_VIEW_TAIL, IN_ALL, "recent failures" },
	{ '7', "7", ACT_VIEW_KEYS, IN_ALL, "API keys (read when shown; r reads again)" },
	{ '8', "8", ACT_VIEW_ACTIONS, IN_ALL, "actions: the journal, every operator action and step" },
	{ '9', "9", ACT_VIEW_ROTATIONS, IN_ALL, "secret rotations: policy, last rotation, due or overdue" },
	{ '0', "0", ACT_VIEW_RATELIMITS, IN_ALL, "rate limits: the addresses nearest their limit" },
	{ 'P', "P", ACT_VIEW_RANGES, IN_ALL, "ranges: the failing addresses by /24 and /64, or by AS" },
	{ 'A', "A", ACT_RANGES_BY, IN_LIST, "ranges: group by AS / by /24 and /64 (AS needs geoip-db)" },
	{ '\t', "Tab", ACT_NEXT_VIEW, IN_OVERVIEW | IN_LIST, "next view" },
	{ KEY_BTAB, "Shift-Tab", ACT_PREV_VIEW, IN_OVERVIEW | IN_LIST, "previous view" },
	{ KEY_UP, "Up k", ACT_UP, IN_ALL, "previous row" },
	{ 'k', NULL, ACT_UP, IN_ALL, NULL },
	{ KEY_DOWN, "Down j", ACT_DOWN, IN_ALL, "next row" },
	{ 'j', NULL, ACT_DOWN, IN_ALL, NULL },
	{ KEY_PPAGE, "PgUp Ctrl-b", ACT_PAGE_UP, IN_LIST | IN_DETAIL | IN_HELP, "page up" },
	{ CTRL('b'), NULL, ACT_PAGE_UP, IN_LIST | IN_DETAIL | IN_HELP, NULL },
	{ KEY_NPAGE, "PgDn Ctrl-f", ACT_PAGE_DOWN, IN_LIST | IN_DETAIL | IN_HELP, "page down" },
	{ CTRL('f'), NULL, ACT_PAGE_DOWN, IN_LIST | IN_DETAIL | IN_HELP, NULL },
	{ 'g', "g Home", ACT_TOP, IN_ALL, "first row" },
	{ KEY_HOME, NULL, ACT_TOP, IN_ALL, NULL },
	{ KEY_END, NULL, ACT_LIVE, IN_OVERVIEW | IN_DETAIL, NULL },    /* before End's other use */
	{ 'G', "G End", ACT_BOTTOM, IN_ALL, "last row (End: in the lists)" },
	{ KEY_END, NULL, ACT_BOTTOM, IN_ALL, NULL },
	{ '[', "[", ACT_EARLIER, IN_OVERVIEW | IN_LIST | IN_DETAIL, "look back: the window before this one" },
	{ ']', "]", ACT_LATER, IN_OVERVIEW | IN_LIST | IN_DETAIL, "the window after this one (live again at the end)" },
	{ '@', "@", ACT_AT, IN_OVERVIEW | IN_LIST | IN_DETAIL,
	  "look back to a time: 2h ago, 03:10, yesterday 14:00, 2026-12-06T02:15Z" },
	{ 'L', "L End", ACT_LIVE, IN_OVERVIEW | IN_LIST | IN_DETAIL, "live again (End: in the overview and drill-downs)" },
	{ '/', "/", ACT_FILTER, IN_LIST, "filter rows (substring, any case; empty clears)" },
	{ 'n', "n", ACT_NEXT_MATCH, IN_LIST, "next matching row" },
	{ 'N', "N", ACT_PREV_MATCH, IN_LIST, "previous matching row" },
	{ 's', "s", ACT_SORT, IN_LIST, "sort by the next column" },
	{ 'S', "S", ACT_SORT_REVERSE, IN_LIST, "reverse the sort" },
	{ 'w', "w", ACT_WINDOW, IN_OVERVIEW | IN_LIST | IN_DETAIL, "window: 5m, 15m, 1h, 24h" },
	{ 't', "t", ACT_TENANT, IN_OVERVIEW | IN_LIST | IN_DETAIL, "tenant scope (empty: all)" },
	{ ' ', "Space", ACT_PAUSE, IN_OVERVIEW | IN_LIST | IN_DETAIL, "pause / resume refreshing" },
	{ '+', "+", ACT_FASTER, IN_OVERVIEW | IN_LIST | IN_DETAIL, "refresh more often" },
	{ '-', "-", ACT_SLOWER, IN_OVERVIEW | IN_LIST | IN_DETAIL, "refresh less often" },
	{ 'r', "r", ACT_REFRESH, IN_OVERVIEW | IN_LIST | IN_DETAIL, "refresh now" },
	{ 'b', "b", ACT_BELL, IN_OVERVIEW | IN_LIST | IN_DETAIL, "bell on new alerts on/off" },
	{ 'B', "B", ACT_BLOCK, IN_OVERVIEW | IN_LIST | IN_DETAIL, "block the selected address or range (reason, then type it)" },
	{ 'U', "U", ACT_UNBLOCK, IN_OVERVIEW | IN_LIST | IN_DETAIL, "unblock the selected address, or what a range block set" },
	{ 'X', "X", ACT_EXTEND, IN_OVERVIEW | IN_LIST | IN_DETAIL, "extend the selected address's block" },
	{ 'K', "K", ACT_REVOKE, IN_LIST | IN_DETAIL, "revoke the selected API key (type its prefix); in a tenant: its keys" },
	{ 'O', "O", ACT_ROTATE, IN_LIST, "request the selected secret's rotation (type its name)" },
	{ 'R', "R", ACT_RUNBOOK, IN_DATA | IN_RUNBOOK, "follow a runbook; with one open: to its pane and back" },
	{ '\r', "Enter Space", ACT_STEP_DONE, IN_RUNBOOK, "tick the step off (journalled and audited)" },
	{ '\n', NULL, ACT_STEP_DONE, IN_RUNBOOK, NULL },
	{ KEY_ENTER, NULL, ACT_STEP_DONE, IN_RUNBOOK, NULL },
	{ ' ', NULL, ACT_STEP_DONE, IN_RUNBOOK, NULL },
	{ 'a', "a", ACT_STEP_ACT, IN_RUNBOOK, "run the step's action on the selection (confirmed as ever)" },
	{ 'v', "v", ACT_STEP_SHOW, IN_RUNBOOK, "show the step's live data" },
	{ 'T', "T", ACT_TIMELINE, IN_RUNBOOK, "export the incident's timeline (Markdown)" },
	{ 'C', "C", ACT_RUNBOOK_CLOSE, IN_RUNBOOK, "close the runbook" },
};

const size_t n_key_bindings = sizeof key_bindings / sizeof key_bindings[0];

enum action keys_action(int key, bool is_key, unsigned where)
{
	for (size_t i = 0; i < n_key_bindings; i++) {
		/* KEY_ENTER is 0527, U+0157 too: a typed character is never a key code */
		bool code = key_bindings[i].key >= KEY_MIN;
		if (code == is_key && key_bindings[i].key == key && (key_bindings[i].where & where))
			return key_bindings[i].action;
	}
	return ACT_NONE;
}
