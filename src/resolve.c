#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"
#include "strutil.h"

struct resolve {
	pthread_mutex_t lock;
	int refs;                    /* the thread's and the caller's */
	int pipe[2];
	char *host;
	int port;
	char *entry;                 /* the answer, set by the thread */
	char error[160];
};

static void resolve_unref(struct resolve *r)
{
	pthread_mutex_lock(&r->lock);
	int left = --r->refs;
	pthread_mutex_unlock(&r->lock);
	if (left)
		return;
	close(r->pipe[0]);
	close(r->pipe[1]);
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r->entry);
	free(r);
}

/* "host:port:a,b,c", IPv6 addresses in brackets, at most 8 of them. */
static char *entry_build(const char *host, int port, const struct addrinfo *ai)
{
	char *s = str_printf("%s:%d:", host, port);
	int n = 0;

	for (; s && ai && n < 8; ai = ai->ai_next) {
		char a[INET6_ADDRSTRLEN];
		const void *src = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
		                : ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
		                : NULL;
		if (!src || !inet_ntop(ai->ai_family, src, a, sizeof a) || strstr(s, a))
			continue;
		char *t = str_printf(ai->ai_family == AF_INET6 ? "%s%s[%s]" : "%s%s%s", s, n ? "," : "", a);
		free(s);
		s = t;
		n++;
	}
	if (s && !n) {
		free(s);
		s = NULL;
	}
	return s;
}

static void *resolve_main(void *arg)
{
	struct resolve *r = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(r->host, NULL, &hints, &ai);

	pthread_mutex_lock(&r->lock);
	if (rc != 0)
		snprintf(r->error, sizeof r->error, "%s", gai_strerror(rc));
	else if (!(r->entry = entry_build(r->host, r->port, ai)))
		snprintf(r->error, sizeof r->error, "no usable address");
	pthread_mutex_unlock(&r->lock);
	if (ai)
		freeaddrinfo(ai);
	ssize_t w = write(r->pipe[1], "x", 1);
	(void)w;
	resolve_unref(r);
	return NULL;
}

struct resolve *resolve_start(const char *host, int port)
{
	struct resolve *r = calloc(1, sizeof *r);
	pthread_attr_t attr;
	pthread_t t;

	if (!r)
		return NULL;
	r->refs = 2;
	r->port = port;
	pthread_mutex_init(&r->lock, NULL);
	if (!(r->host = strdup(host)) || pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(r->host);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* signals go to the loop's thread, which wakes on them: not here */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&t, &attr, resolve_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		r->refs = 1;
		resolve_unref(r);
		return NULL;
	}
	return r;
}

int resolve_fd(const struct resolve *r)
{
	return r->pipe[0];
}

int resolve_finish(struct resolve *r, char **entry, char *err, size_t errsz)
{
	pthread_mutex_lock(&r->lock);
	*entry = r->entry;
	r->entry = NULL;
	if (!*entry)
		snprintf(err, errsz, "%s", r->error[0] ? r->error : "no answer yet");
	pthread_mutex_unlock(&r->lock);
	resolve_unref(r);
	return *entry ? 0 : -1;
}

void resolve_abandon(struct resolve *r)
{
	if (r)
		resolve_unref(r);
}

bool resolve_is_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}
