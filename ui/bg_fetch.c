#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "bg_fetch.h"

static void *bg_fetch_main(void *self)
{
	struct bg_fetch *b = self;

	b->run(b->arg);
	ssize_t w = write(b->pipe[1], "x", 1);
	(void)w;
	return NULL;
}

int bg_fetch_start(struct bg_fetch *b, void (*run)(void *arg), void *arg)
{
	if (b->running || pipe2(b->pipe, O_CLOEXEC) < 0)
		return -1;
	b->run = run;
	b->arg = arg;
	/* the worker takes no signal (it inherits this mask): SIGHUP, SIGTERM
	 * reach the loop's thread, which lets an action under way finish */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&b->thread, NULL, bg_fetch_main, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(b->pipe[0]);
		close(b->pipe[1]);
		return -1;
	}
	b->running = true;
	return 0;
}

int bg_fetch_fd(const struct bg_fetch *b)
{
	return b->running ? b->pipe[0] : -1;
}

void bg_fetch_finish(struct bg_fetch *b)
{
	char x;

	if (!b->running)
		return;
	pthread_join(b->thread, NULL);
	ssize_t r = read(b->pipe[0], &x, 1);
	(void)r;
	close(b->pipe[0]);
	close(b->pipe[1]);
	b->running = false;
}
