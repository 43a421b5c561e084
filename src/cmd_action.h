/* cmd_action.h: what the action commands share: a confirmation typed on
 * the terminal, and the signals held while a confirmed action runs to its
 * end (it is journalled and audited before a hang-up or Ctrl-C acts). */
#ifndef SECTOP_CMD_ACTION_H
#define SECTOP_CMD_ACTION_H

#include <stdbool.h>

#include "actions.h"

struct app;

/* A line typed on the terminal (not stdin: a pipe must not confirm) equal to expect. */
bool cmd_ask(const char *question, const char *expect);
void cmd_hold_signals(void);
/* stdout flushed, then the held signals act. */
void cmd_release_signals(void);

/* What the gate did besides the action (interrupted actions reconciled,
 * audit rows written from the journal), a line each, on stdout. */
void cmd_say_housekeeping(const struct ops *o);
/* The result's message, inert: on stdout when done, else on stderr. */
void cmd_say_result(const struct op_result *r, bool ascii);

/* `sectop block|unblock RANGE` (cmd_range.c). */
int cmd_range(struct app *app, enum op_kind kind);

#endif
