#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "loop.h"

#define LOOP_MAX_SOURCES 8
#define LOOP_MAX_FDS 128

struct loop {
	struct source sources[LOOP_MAX_SOURCES];
	int first_fd[LOOP_MAX_SOURCES];
	int n_fds[LOOP_MAX_SOURCES];
	int n_sources;
	struct pollfd pfd[LOOP_MAX_FDS];
};

struct loop *loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void loop_add(struct loop *l, struct source s)
{
	if (l->n_sources < LOOP_MAX_SOURCES)
		l->sources[l->n_sources++] = s;
}

/* Gather every source's fds after the caller's extras; returns the count. */
static int loop_gather(struct loop *l, int n_extra, int64_t now, int64_t *timeout)
{
	int n = n_extra;

	for (int i = 0; i < l->n_sources; i++) {
		struct source *s = &l->sources[i];
		l->first_fd[i] = n;
		l->n_fds[i] = s->ops->fds(s->self, l->pfd + n, LOOP_MAX_FDS - n, now, timeout);
		n += l->n_fds[i];
	}
	return n;
}

int loop_turn(struct loop *l, int64_t max_wait_ms, struct pollfd *extra, int n_extra)
{
	int64_t now = clock_mono_ms();
	int64_t timeout = max_wait_ms < 0 ? 0 : max_wait_ms;

	if (n_extra > LOOP_MAX_FDS / 2)
		n_extra = LOOP_MAX_FDS / 2;
	for (int i = 0; i < n_extra; i++)
		l->pfd[i] = extra[i];
	int n = loop_gather(l, n_extra, now, &timeout);
	if (timeout < 0)
		timeout = 0;

	int rc = poll(l->pfd, (nfds_t)n, (int)timeout);
	if (rc < 0 && errno != EINTR)
		return -1;
	if (rc < 0)
		for (int i = 0; i < n; i++)
			l->pfd[i].revents = 0;

	now = clock_mono_ms();
	for (int i = 0; i < n_extra; i++)
		extra[i].revents = l->pfd[i].revents;
	for (int i = 0; i < l->n_sources; i++) {
		struct source *s = &l->sources[i];
		if (l->n_fds[i] > 0)
			s->ops->ready(s->self, l->pfd + l->first_fd[i], l->n_fds[i], now);
		s->ops->tick(s->self, now);
	}
	return 0;
}

void loop_refresh_all(struct loop *l)
{
	for (int i = 0; i < l->n_sources; i++)
		l->sources[i].ops->refresh_now(l->sources[i].self);
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n_sources; i++)
		l->sources[i].ops->destroy(l->sources[i].self);
	free(l);
}
