/* runbook_pane.c: the steps of the runbook being followed, ticked off as
 * they are done; the selected step's text and what it binds below them.
 * Runbook text is a person's file, shown through draw_text like any
 * outside string. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "runbook_pane.h"

#define PANE_SIDE_MIN_COLS 110   /* beside the data from here on */

int rb_pane_open(struct rb_pane *p, const struct config *cfg, const char *name, const char *incident,
                 char *err, size_t errsz)
{
	struct runbook rb;

	if (runbook_find(cfg, name, &rb, err, errsz) < 0) {
		runbook_free(&rb);
		return -1;
	}
	rb_pane_close(p);
	p->rb = rb;
	p->done = calloc(rb.n_steps, sizeof *p->done);
	p->unrecorded = calloc(rb.n_steps, sizeof *p->unrecorded);
	p->n_unrecorded = 0;
	p->open = p->focus = true;
	p->sel = 0;
	snprintf(p->incident, sizeof p->incident, "%s", incident);
	return 0;
}

void rb_pane_close(struct rb_pane *p)
{
	runbook_free(&p->rb);
	free(p->done);
	free(p->unrecorded);
	p->done = NULL;
	p->unrecorded = NULL;
	p->n_unrecorded = 0;
	p->open = p->focus = false;
}

const struct rb_step *rb_pane_step(const struct rb_pane *p)
{
	return p->open && p->sel < p->rb.n_steps ? &p->rb.steps[p->sel] : NULL;
}

size_t rb_pane_done_count(const struct rb_pane *p)
{
	size_t n = 0;

	for (size_t i = 0; p->open && i < p->rb.n_steps; i++)
		n += p->done[i];
	return n;
}

static void clamp_move(size_t *at, size_t n, long delta, bool to_end)
{
	if (!n)
		return;
	if (to_end)
		*at = delta < 0 ? 0 : n - 1;
	else if (delta < 0)
		*at = *at > (size_t)-delta ? *at - (size_t)-delta : 0;
	else
		*at = *at + (size_t)delta < n ? *at + (size_t)delta : n - 1;
}

void rb_pane_move(struct rb_pane *p, long delta, bool to_end)
{
	if (p->picking)
		clamp_move(&p->pick, p->n_list, delta, to_end);
	else
		clamp_move(&p->sel, p->rb.n_steps, delta, to_end);
}

/* ---------------------------------------------------------------- picker */

void rb_picker_start(struct rb_pane *p, const struct config *cfg)
{
	rb_picker_stop(p);
	p->n_list = runbook_list(cfg, &p->list);
	p->pick = 0;
	p->picking = true;
}

void rb_picker_stop(struct rb_pane *p)
{
	runbook_list_free(p->list, p->n_list);
	p->list = NULL;
	p->n_list = 0;
	p->picking = false;
}

void rb_picker_draw(const struct rb_pane *p, const struct view_ctx *v, int rows, int cols)
{
	int w = cols - 4 < 76 ? cols - 4 : 76;
	int h = (int)p->n_list + 4 < rows - 2 ? (int)p->n_list + 4 : rows - 2;
	int y = (rows - h) / 2, x = (cols - w) / 2;
	char line[300];

	if (h < 5)
		h = 5;
	for (int i = 0; i < h; i++)
		draw_fill(v->d, y + i, x, w, ROLE_SELECTION);
	draw_text(v->d, y, x + 1, w - 2, " Follow a runbook ", ROLE_BADGE);
	if (!p->n_list)
		draw_text(v->d, y + 2, x + 2, w - 4, "no runbooks found: see sectop-runbook(5)", ROLE_WARN);
	size_t first = p->pick >= (size_t)(h - 4) ? p->pick - (size_t)(h - 4) + 1 : 0;
	for (size_t i = first; i < p->n_list && (int)(i - first) < h - 4; i++) {
		const struct runbook_entry *e = &p->list[i];
		int row = y + 2 + (int)(i - first);
		enum role r = i == p->pick ? ROLE_BADGE : e->error ? ROLE_WARN : ROLE_SELECTION;
		snprintf(line, sizeof line, "%-20.20s %s", e->name, e->error ? e->error : e->title);
		if (i == p->pick)
			draw_fill(v->d, row, x + 1, w - 2, ROLE_BADGE);
		draw_text(v->d, row, x + 2, w - 4, line, r);
	}
	draw_text(v->d, y + h - 1, x + 2, w - 4, "Up/Down choose  Enter follow  Esc cancel", ROLE_SELECTION);
}

/* ---------------------------------------------------------------- layout */

static bool beside(int cols)
{
	return cols >= PANE_SIDE_MIN_COLS;
}

static int pane_width(int cols)
{
	int w = cols / 3;
	return w < 40 ? 40 : w > 60 ? 60 : w;
}

void rb_pane_layout(const struct rb_pane *p, int rows, int cols, int *data_rows, int *data_cols)
{
	*data_rows = rows;
	*data_cols = cols;
	if (!p->open)
		return;
	if (beside(cols))
		*data_cols = cols - pane_width(cols) - 1;
	else
		*data_rows = rows - rows * 2 / 5;
}

/* Draw text word-wrapped in w columns from row y, at most h rows; returns
 * the rows used.  Words are cut by bytes here and fitted by draw_text. */
static int draw_wrapped(const struct view_ctx *v, int y, int x, int h, int w, const char *s, enum role r)
{
	char line[400];
	int used = 0;

	while (s && *s && used < h) {
		size_t n = strcspn(s, "\n"), cut = n;
		if (n > (size_t)w) {
			cut = (size_t)w;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = (size_t)w;
		}
		snprintf(line, sizeof line, "%.*s", (int)(cut < sizeof line ? cut : sizeof line - 1), s);
		draw_text(v->d, y + used++, x, w, line, r);
		s += cut;
		if (*s == '\n')
			s++;
		else
			while (*s == ' ')
				s++;
	}
	return used;
}

/* The selected step in full: title, what it shows and binds, its text. */
static void draw_step(const struct rb_pane *p, const struct view_ctx *v, int y, int x, int h, int w)
{
	const struct rb_step *st = rb_pane_step(p);
	char line[400];
	int used;

	if (!st || h <= 0)
		return;
	used = draw_wrapped(v, y, x, h, w, st->title, ROLE_NORMAL);
	if (st->show != RB_SHOW_NONE && used < h)
		draw_fmt(v->d, y + used++, x, w, ROLE_LABEL, "v shows: %s", rb_show_name(st->show));
	if (st->action != RB_ACT_NONE && used < h) {
		snprintf(line, sizeof line, "a does: %s%s%s%s%s", rb_action_name(st->action),
		         st->secret ? " " : "", st->secret ? st->secret : "",
		         st->reason ? ", reason: " : "", st->reason ? st->reason : "");
		draw_text(v->d, y + used++, x, w, line, ROLE_LABEL);
	}
	draw_wrapped(v, y + used, x, h - used, w, st->text, ROLE_DIM);
}

/* The steps under their phases, scrolled to keep the selection in view. */
static int draw_steps(const struct rb_pane *p, const struct view_ctx *v, int y, int x, int h, int w)
{
	char line[300];
	int rows_before_sel = 0;

	for (size_t i = 0; i <= p->sel && i < p->rb.n_steps; i++)
		rows_before_sel += 1 + (i == 0 || p->rb.steps[i].phase != p->rb.steps[i - 1].phase);
	int skip = rows_before_sel > h ? rows_before_sel - h : 0, row = 0;
	for (size_t i = 0; i < p->rb.n_steps && row - skip < h; i++) {
		const struct rb_step *st = &p->rb.steps[i];
		if ((i == 0 || st->phase != p->rb.steps[i - 1].phase) && row++ >= skip)
			draw_text(v->d, y + row - 1 - skip, x, w, rb_phase_name(st->phase), ROLE_LABEL);
		if (row++ < skip || row - 1 - skip >= h)
			continue;
		bool sel = i == p->sel;
		snprintf(line, sizeof line, " %s %s", p->done[i] ? (v->d->ascii ? "[x]" : "[\u2713]") : "[ ]", st->title);
		if (sel && p->focus)
			draw_fill(v->d, y + row - 1 - skip, x - 1, w + 2, ROLE_SELECTION);
		draw_text(v->d, y + row - 1 - skip, x, w, line, sel ? ROLE_SELECTION : p->done[i] ? ROLE_DIM : ROLE_NORMAL);
	}
	return row - skip < h ? row - skip : h;
}

void rb_pane_draw(const struct rb_pane *p, const struct view_ctx *v, int rows, int cols)
{
	int dr, dc;
	char line[300];

	if (!p->open)
		return;
	rb_pane_layout(p, rows, cols, &dr, &dc);
	int y = beside(cols) ? 0 : dr, x = beside(cols) ? dc + 1 : 0;
	int h = rows - y, w = cols - x;
	for (int i = 0; i < h; i++)
		draw_fill(v->d, y + i, x, w, ROLE_NORMAL);
	if (beside(cols))
		draw_vline(v->d, 0, dc, rows);
	snprintf(line, sizeof line, " Runbook %zu/%zu: %s ", rb_pane_done_count(p), p->rb.n_steps, p->rb.title);
	draw_box(v->d, y, x, 2, w, line, p->focus ? ROLE_BADGE : ROLE_TITLE);
	snprintf(line, sizeof line, "incident %s", p->incident);
	draw_text(v->d, y + 1, x + 1, w - 2, line, ROLE_DIM);
	/* the steps: up to about half the pane, the selected one in full below */
	int list_h = (h - 4) * 11 / 20 > 3 ? (h - 4) * 11 / 20 : h - 4;
	int row = y + 2 + draw_steps(p, v, y + 2, x + 1, list_h, w - 2);
	draw_box(v->d, row, x, 2, w, " step ", ROLE_TITLE);
	draw_step(p, v, row + 1, x + 1, rows - 2 - row, w - 2);
	draw_text(v->d, rows - 1, x + 1, w - 2,
	          p->focus ? "Enter tick  a act  v show  T export  ?" : "R: to the runbook",
	          ROLE_DIM);
}
