/* loop.h: the one poll() loop.  Every source's fds, the caller's extra fds
 * (stdin for the console) and the earliest timer, in a single poll(). */
#ifndef SECTOP_LOOP_H
#define SECTOP_LOOP_H

#include <poll.h>
#include <stdint.h>

#include "source.h"

struct loop;

struct loop *loop_new(void);
void loop_add(struct loop *l, struct source s);
/* One turn: poll for at most max_wait_ms (sooner if a source asks), then
 * hand each source its ready fds and a tick.  extra[] are polled too and
 * returned with revents set.  Returns 0, or -1 on a poll() failure other
 * than EINTR. */
int loop_turn(struct loop *l, int64_t max_wait_ms, struct pollfd *extra, int n_extra);
/* Ask every source for a refresh at its next tick. */
void loop_refresh_all(struct loop *l);
/* Destroys the sources too. */
void loop_free(struct loop *l);

#endif
