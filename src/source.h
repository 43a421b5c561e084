/* source.h: the one interface every data source implements, so the poll()
 * loop treats PostgreSQL, Redis and HTTP alike. */
#ifndef SECTOP_SOURCE_H
#define SECTOP_SOURCE_H

#include <stdint.h>

struct pollfd;

struct source_ops {
	const char *name;
	/* Fill up to max pollfds with what the source waits for; lower
	 * *timeout_ms (never raise it) if the source needs to wake sooner. */
	int  (*fds)(void *self, struct pollfd *pfd, int max, int64_t now_ms, int64_t *timeout_ms);
	/* After poll(): the same slice of pollfds, with revents set. */
	void (*ready)(void *self, const struct pollfd *pfd, int n, int64_t now_ms);
	/* Every loop turn: start a refresh when due, enforce deadlines, reconnect. */
	void (*tick)(void *self, int64_t now_ms);
	/* Ask for a refresh at the next tick, whatever the interval says. */
	void (*refresh_now)(void *self);
	void (*destroy)(void *self);
};

struct source {
	const struct source_ops *ops;
	void *self;
};

#endif
