/* runbook_pane.h: the runbook being followed, in a pane beside the data
 * (below it on a narrow terminal), and the picker that chooses one. */
#ifndef SECTOP_RUNBOOK_PANE_H
#define SECTOP_RUNBOOK_PANE_H

#include <stdbool.h>
#include <stddef.h>

#include "runbook.h"
#include "view.h"

struct rb_pane {
	bool open, focus;
	struct runbook rb;
	bool *done;              /* per step: ticked off */
	size_t *unrecorded;      /* steps ticked, not yet journalled, in order */
	size_t n_unrecorded;
	size_t sel;              /* the selected step */
	char incident[96];

	/* the picker, while choosing */
	bool picking;
	struct runbook_entry *list;
	size_t n_list, pick;
};

/* Start following a runbook by name.  0, or -1 with err. */
int rb_pane_open(struct rb_pane *p, const struct config *cfg, const char *name, const char *incident,
                 char *err, size_t errsz);
void rb_pane_close(struct rb_pane *p);
const struct rb_step *rb_pane_step(const struct rb_pane *p);
size_t rb_pane_done_count(const struct rb_pane *p);
void rb_pane_move(struct rb_pane *p, long delta, bool to_end);

/* The picker: the runbooks found (sectop-runbook(5)). */
void rb_picker_start(struct rb_pane *p, const struct config *cfg);
void rb_picker_stop(struct rb_pane *p);
void rb_picker_draw(const struct rb_pane *p, const struct view_ctx *v, int rows, int cols);

/* How the screen is shared: the data gets *data_rows x *data_cols from the
 * top left; the pane the rest (beside on 110+ columns, else below). */
void rb_pane_layout(const struct rb_pane *p, int rows, int cols, int *data_rows, int *data_cols);
void rb_pane_draw(const struct rb_pane *p, const struct view_ctx *v, int rows, int cols);

#endif
