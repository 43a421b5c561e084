/* sanitize.h: the one gate every untrusted string passes before it is shown.
 *
 * Input is any bytes.  Output is valid UTF-8 in which nothing is interpreted
 * by a terminal: control characters (C0, DEL, C1), escape sequences, bidi
 * controls, zero-width characters, line/paragraph separators and invalid
 * UTF-8 are replaced by visible, inert notations:
 *   ESC -> \x1b   DEL -> \x7f   other C0 -> \xNN (\t, \n, \r for those three)
 *   invalid byte -> \xNN          U+202E and friends -> <U+202E>
 * Widths are terminal columns (wcwidth under a UTF-8 locale, whatever the
 * process locale is), never bytes.
 */
#ifndef SECTOP_SANITIZE_H
#define SECTOP_SANITIZE_H

#include <stddef.h>

enum sanitize_flags {
	SAN_ASCII = 1 << 0,      /* also escape all non-ASCII as <U+XXXX>: non-UTF-8 terminals */
};

/* A malloc'd, NUL-terminated safe copy of s[0..len).  s may be NULL (gives ""). */
char *sanitize_dup(const char *s, size_t len, int flags);

/* Same for a NUL-terminated string; NULL gives "". */
char *sanitize_str(const char *s, int flags);

/* Safe copy of s cut to at most max_cols terminal columns, written to out
 * (always NUL-terminated, never more than outsz bytes).  A cut value ends in
 * a marker ("…", or "~" with SAN_ASCII) within max_cols.  Returns the
 * columns used. */
int sanitize_fit(const char *s, size_t len, int max_cols, int flags, char *out, size_t outsz);

/* Terminal columns of an already safe string. */
int sanitize_width(const char *safe);

/* Valid UTF-8 copy of s with each invalid byte replaced by U+FFFD, nothing
 * else changed: for JSON output, where the encoder escapes controls. */
char *sanitize_utf8_repair(const char *s, size_t len);

#endif
