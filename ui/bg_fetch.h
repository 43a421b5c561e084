/* bg_fetch.h: a read that may wait on a server (the API keys), run in a
 * worker so that the screen never does; it reports through a pipe the
 * console polls with everything else. */
#ifndef SECTOP_BG_FETCH_H
#define SECTOP_BG_FETCH_H

#include <pthread.h>
#include <stdbool.h>

struct bg_fetch {
	void (*run)(void *arg);
	void *arg;
	int pipe[2];
	pthread_t thread;
	bool running;
};

/* Start run(arg) in a worker.  -1 if one is running or it cannot start. */
int bg_fetch_start(struct bg_fetch *b, void (*run)(void *arg), void *arg);
/* The fd to poll while running, or -1. */
int bg_fetch_fd(const struct bg_fetch *b);
/* After the fd became readable (or to wait for it): join the worker. */
void bg_fetch_finish(struct bg_fetch *b);

#endif
