#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alert_track.h"

void alert_track_init(struct alert_track *t, int64_t hold_ms)
{
	memset(t, 0, sizeof *t);
	t->hold_ms = hold_ms;
}

void alert_track_free(struct alert_track *t)
{
	free(t->v);
	free(t->cur);
	memset(t, 0, sizeof *t);
}

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	void *p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

void alert_track_add(void *track, const struct alert *a)
{
	struct alert_track *t = track;

	if (t->n_cur == SIZE_MAX)                 /* an earlier add failed: the evaluation is void */
		return;
	if (!grow((void **)&t->cur, &t->cap_cur, t->n_cur + 1, sizeof *t->cur)) {
		t->n_cur = SIZE_MAX;
		return;
	}
	t->cur[t->n_cur++] = *a;
}

void alert_track_touch(struct alert_track *t, int64_t now_mono_ms)
{
	for (size_t i = 0; i < t->n; i++)
		t->v[i].seen_mono_ms = now_mono_ms;
}

static int by_key(const void *x, const void *y)
{
	return strcmp(((const struct alert *)x)->key, ((const struct alert *)y)->key);
}

/* One key once: a later duplicate in the same evaluation replaces it. */
static size_t dedup_sorted(struct alert *v, size_t n)
{
	size_t k = 0;

	for (size_t j = 0; j < n; j++) {
		if (k && strcmp(v[k - 1].key, v[j].key) == 0)
			k--;
		v[k++] = v[j];
	}
	return k;
}

/* Merge the sorted evaluation into the sorted tracked list: new keys start,
 * keys seen again are refreshed, keys gone for hold_ms clear. */
bool alert_track_end(struct alert_track *t, int64_t now_mono_ms, int64_t now_wall_ms,
                     alert_change_fn fn, void *ctx)
{
	size_t n_cur = t->n_cur;
	struct alert_tracked *out = n_cur != SIZE_MAX ? malloc((t->n + n_cur + 1) * sizeof *out) : NULL;

	t->n_cur = 0;
	if (!out)
		return false;
	if (n_cur) {
		qsort(t->cur, n_cur, sizeof *t->cur, by_key);
		n_cur = dedup_sorted(t->cur, n_cur);
	}
	size_t i = 0, j = 0, k = 0;
	while (i < t->n || j < n_cur) {
		int c = i == t->n ? 1 : j == n_cur ? -1 : strcmp(t->v[i].a.key, t->cur[j].key);
		if (c == 0) {                         /* still true */
			out[k] = t->v[i++];
			out[k].a = t->cur[j++];
			out[k++].seen_mono_ms = now_mono_ms;
		} else if (c > 0) {                   /* new */
			out[k] = (struct alert_tracked){ .a = t->cur[j++], .since_wall_ms = now_wall_ms,
			                                 .seen_mono_ms = now_mono_ms };
			fn(ctx, &out[k].a, true, now_wall_ms);
			k++;
		} else if (now_mono_ms - t->v[i].seen_mono_ms >= t->hold_ms) {
			fn(ctx, &t->v[i].a, false, t->v[i].since_wall_ms);   /* cleared */
			i++;
		} else
			out[k++] = t->v[i++];             /* absent, within the hold */
	}
	free(t->v);
	t->v = out;
	t->n = k;
	return true;
}
