/* console_prompt.c: the footer prompt: a filter that follows as it is
 * typed, a tenant, an action's reason and its confirmation. */
#include "config.h"

#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "console.h"
#include "loop.h"

void prompt_start(struct console *c, enum prompt_kind kind)
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
void prompt_key(struct console *c, int is_key, wint_t ch)
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
