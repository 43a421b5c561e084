/* log.h: debug logging to a file (-v, --log FILE).  Never to stderr while the
 * screen is active; never a secret.  Messages are sanitised on the way out. */
#ifndef SECTOP_LOG_H
#define SECTOP_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* path NULL: logging off.  Returns 0, or -1 if the file cannot be opened. */
int log_open(const char *path, int verbose);
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
