/* cmd_watch.c: `sectop watch`: the sources and the alerts without a
 * terminal, as a service.  One line on stderr per alert that starts or
 * clears, per source that goes stale or comes back, per notification that
 * could not be delivered; the `notify` targets told as in the console.
 * Under systemd (stderr is the journal, $JOURNAL_STREAM) each line starts
 * with its sd-daemon priority ("<4>"), and the journal adds the time.
 * SIGTERM or SIGINT: the notifications on their way get a short grace,
 * then exit 0.  Read-only: watch takes no action.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "conf.h"
#include "loop.h"
#include "model.h"
#include "notify.h"
#include "sanitize.h"
#include "snapshot_out.h"

/* sd-daemon(3) priorities */
enum { PRI_ERR = 3, PRI_WARNING = 4, PRI_NOTICE = 5, PRI_INFO = 6 };

static int watch_pipe[2] = { -1, -1 };
static volatile sig_atomic_t watch_signal;

/* Signals only say so, through a pipe the loop polls. */
static void watch_on_signal(int sig)
{
	watch_signal = sig;
	ssize_t w = write(watch_pipe[1], "x", 1);
	(void)w;
}

struct watch {
	struct app *app;
	bool journal;
	enum source_state was[2];
};

/* Is stderr the stream systemd gave us ($JOURNAL_STREAM is "dev:ino")? */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void line(const struct watch *w, int pri, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void line(const struct watch *w, int pri, const char *fmt, ...)
{
	char text[700], stamp[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char *safe = sanitize_str(text, 0);      /* what servers said is in there: inert */
	if (w->journal)
		fprintf(stderr, "<%d>%s\n", pri, safe ? safe : "?");
	else {
		snapshot_iso_time(stamp, sizeof stamp, clock_wall_ms() / 1000);
		fprintf(stderr, "%s sectop: %s\n", stamp, safe ? safe : "?");
	}
	fflush(stderr);
	free(safe);
}

static void watch_alert(void *ctx, const struct alert *a, bool started, int64_t since_wall_ms)
{
	char what[400];

	(void)since_wall_ms;
	line(ctx, started ? PRI_WARNING : PRI_NOTICE, "%s %s: %s", started ? "ALERT" : "resolved",
	     alert_kind_name(a->kind), alert_describe(a, what, sizeof what));
}

static void watch_say(void *ctx, enum log_level level, const char *text)
{
	line(ctx, level == LOG_ERROR ? PRI_ERR : level == LOG_WARN ? PRI_WARNING : PRI_INFO, "%s", text);
}

/* A source going stale or down, and coming back. */
static void sources_check(struct watch *w)
{
	const struct model *m = &w->app->model;
	const struct source_status *s[2] = { &m->pg, &m->redis };
	static const char *const names[2] = { "postgres", "redis" };
	int64_t stale_ms = (int64_t)m->refresh_ms * 3 + w->app->cfg->timeout_ms;

	for (int i = 0; i < 2; i++) {
		enum source_state st = model_source_state(s[i], clock_wall_ms(), stale_ms);
		if (st == w->was[i])
			continue;
		char *why = sanitize_str(s[i]->error, 0);
		if (st == SOURCE_STALE || st == SOURCE_DOWN)
			line(w, PRI_WARNING, "%s %s%s%s", names[i], source_state_name(st), why && *why ? ": " : "",
			     why ? why : "");
		else if (st == SOURCE_OK && w->was[i] != SOURCE_CONNECTING)
			line(w, PRI_NOTICE, "%s back", names[i]);
		free(why);
		w->was[i] = st;
	}
}

static int signals_open(void)
{
	struct sigaction sa;

	if (pipe2(watch_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

int app_watch(struct app *app)
{
	struct watch w = { .app = app, .journal = stderr_is_journal(),
	                   .was = { SOURCE_CONNECTING, SOURCE_CONNECTING } };
	char err[512];

	if (app->n_operands > 0) {
		fprintf(stderr, "sectop: watch takes no arguments ('%s')\n", app->operands[0]);
		return 2;
	}
	app->cfg->read_only = true;
	if (signals_open() < 0 || app_open(app, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", watch_pipe[0] < 0 ? "cannot make a pipe" : err);
		return 2;
	}
	notify_on_change(app->notify, watch_alert, &w);
	notify_on_say(app->notify, watch_say, &w);
	line(&w, PRI_INFO, "watching (%zu notify target%s)", app->cfg->n_notify, app->cfg->n_notify == 1 ? "" : "s");
	struct pollfd pfd = { .fd = watch_pipe[0], .events = POLLIN };
	int64_t next_allow = 0;
	while (!watch_signal) {
		if (loop_turn(app->loop, 1000, &pfd, 1) < 0) {
			line(&w, PRI_ERR, "poll failed");
			return 1;
		}
		sources_check(&w);
		if (clock_mono_ms() >= next_allow) {
			allowlist_refresh(&app->allow);
			next_allow = clock_mono_ms() + 1000;
		}
	}
	size_t left = app_notify_finish(app, NOTIFY_GRACE_MS);
	if (left)
		line(&w, PRI_WARNING, "%zu notification%s not delivered", left, left == 1 ? "" : "s");
	line(&w, PRI_INFO, "stopped (%s)", watch_signal == SIGINT ? "SIGINT" : "SIGTERM");
	notify_on_change(app->notify, NULL, NULL);
	notify_on_say(app->notify, NULL, NULL);
	close(watch_pipe[0]);
	close(watch_pipe[1]);
	return 0;
}
