/* alert_track.h: which alerts are new and which have cleared, from one
 * evaluation to the next, so that a condition is told once when it starts
 * (and once when it ends), not at every refresh.
 *
 * A condition clears only after it has been absent for hold_ms: a panel
 * being refilled, or an address's Redis state read a moment after its
 * failures, does not make it end and start again.  Pure: no I/O.
 */
#ifndef SECTOP_ALERT_TRACK_H
#define SECTOP_ALERT_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"

struct alert_tracked {
	struct alert a;              /* as last seen */
	int64_t since_wall_ms;       /* when it started */
	int64_t seen_mono_ms;        /* when it was last true */
};

struct alert_track {
	struct alert_tracked *v;     /* sorted by key */
	size_t n;
	int64_t hold_ms;
	/* this evaluation's alerts, gathered by alert_track_add */
	struct alert *cur;
	size_t n_cur, cap_cur;
};

/* started: the condition is new; else it has cleared (a is as last seen). */
typedef void (*alert_change_fn)(void *ctx, const struct alert *a, bool started, int64_t since_wall_ms);

void alert_track_init(struct alert_track *t, int64_t hold_ms);
void alert_track_free(struct alert_track *t);

/* One evaluation: add every alert true now (an alert_fn: pass the track as
 * ctx to alerts_each), then alert_track_end to hear what changed.  Returns
 * false when out of memory (the evaluation is then dropped whole). */
void alert_track_add(void *track, const struct alert *a);
/* Count every tracked alert as seen now, without an evaluation: while the
 * model cannot say (its scope changed and is being read again). */
void alert_track_touch(struct alert_track *t, int64_t now_mono_ms);
bool alert_track_end(struct alert_track *t, int64_t now_mono_ms, int64_t now_wall_ms,
                     alert_change_fn fn, void *ctx);

#endif
