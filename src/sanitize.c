#include "config.h"

#include "sanitize.h"

#include <limits.h>
#include <locale.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The most bytes one input byte can become: a control or an invalid byte is
 * 1 -> 4 ("\x1b"), a two-byte C1 is 2 -> 8 ("<U+009B>"); longer sequences
 * grow less.  sanitize_dup sizes its buffer by this, so it never grows. */
#define SAN_GROWTH 4

/* A worst-case-sized result is only shrunk when this much of it is unused:
 * short cells are the common case, and a realloc per cell costs more than
 * the few bytes it would give back. */
#define SAN_SHRINK_SLACK 64

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* ------------------------------------------------------------ widths */

/* wcwidth() answers for the calling thread's LC_CTYPE, and the process may
 * run under "C" or a non-UTF-8 locale: widths are measured under a UTF-8
 * locale of our own.  It is created once and published by a compare-and-swap,
 * so a thread that loses a race frees its copy; it is never freed (one per
 * process).  san_loc_none remembers that no UTF-8 locale exists. */
static _Atomic(locale_t) san_loc;
static atomic_bool san_loc_none;

static locale_t san_locale(void)
{
	locale_t l = atomic_load_explicit(&san_loc, memory_order_acquire);

	if (l || atomic_load_explicit(&san_loc_none, memory_order_relaxed))
		return l;
	l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!l)
		l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
	if (!l) {
		atomic_store_explicit(&san_loc_none, true, memory_order_relaxed);
		return (locale_t)0;
	}
	locale_t prev = (locale_t)0;
	if (!atomic_compare_exchange_strong(&san_loc, &prev, l)) {
		freelocale(l);
		l = prev;
	}
	return l;
}

/* One sanitiser call switches the thread to the UTF-8 locale at the first
 * non-ASCII code point (never for pure ASCII) and back when it is done. */
struct wctx {
	locale_t saved;         /* the thread's own locale, to restore */
	bool ready;             /* the lookup below has been done */
	bool switched;          /* we are under san_loc: wcwidth is usable */
};

static void wctx_enter(struct wctx *w)
{
	w->ready = true;
#if defined(__STDC_ISO_10646__) && WCHAR_MAX >= 0x10ffff
	locale_t l = san_locale();
	if (l) {
		w->saved = uselocale(l);
		w->switched = w->saved != (locale_t)0;
	}
#endif
}

static void wctx_leave(struct wctx *w)
{
	if (w->switched)
		uselocale(w->saved);
	w->switched = false;
}

struct range {
	uint32_t lo, hi;
};

static bool in_ranges(uint32_t cp, const struct range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Without a UTF-8 locale: the East Asian wide blocks and emoji, and the
 * common combining blocks.  Everything else printable counts as 1. */
static const struct range wide_table[] = {
	{ 0x1100, 0x115f }, { 0x2329, 0x232a }, { 0x2e80, 0x303e },
	{ 0x3040, 0xa4cf }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
	{ 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f }, { 0xff00, 0xff60 },
	{ 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f }, { 0x1f680, 0x1f6ff },
	{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static const struct range mark_table[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
	{ 0x0610, 0x061a }, { 0x064b, 0x065f }, { 0x1ab0, 0x1aff },
	{ 0x1dc0, 0x1dff }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f },
	{ 0xfe20, 0xfe2f }, { 0xe0100, 0xe01ef },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int table_width(uint32_t cp)
{
	if (cp < 0xa0)
		return -1;
	if (in_ranges(cp, mark_table, NELEM(mark_table)))
		return 0;
	if (in_ranges(cp, wide_table, NELEM(wide_table)))
		return 2;
	return 1;
}

/* Columns of a non-ASCII code point: -1 unprintable, 0 combining, 1 or 2. */
static int cp_width(struct wctx *w, uint32_t cp)
{
	if (!w->ready)
		wctx_enter(w);
	if (w->switched)
		return wcwidth((wchar_t)cp);
	return table_width(cp);
}

/* ------------------------------------------------------------ classes */

/* Code points shown as <U+XXXX> although wcwidth() may call them printable:
 * invisible or reordering ones (bidi controls, zero-width and format
 * characters, fillers, tags), line separators, surrogates, private use
 * (no agreed glyph or width) and noncharacters U+FDD0..U+FDEF.  Variation
 * selectors are left to the combining-mark rule: emoji need them. */
static const struct range escape_table[] = {
	{ 0x00ad, 0x00ad },     /* soft hyphen */
	{ 0x034f, 0x034f },     /* combining grapheme joiner */
	{ 0x0600, 0x0605 },     /* Arabic prepended format characters */
	{ 0x061c, 0x061c },     /* Arabic letter mark */
	{ 0x06dd, 0x06dd },
	{ 0x070f, 0x070f },
	{ 0x0890, 0x0891 },
	{ 0x08e2, 0x08e2 },
	{ 0x115f, 0x1160 },     /* Hangul fillers */
	{ 0x17b4, 0x17b5 },
	{ 0x180e, 0x180e },     /* Mongolian vowel separator */
	{ 0x200b, 0x200f },     /* ZWSP, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x202e },     /* LS, PS, LRE, RLE, PDF, LRO, RLO */
	{ 0x2060, 0x206f },     /* WJ, invisible operators, LRI..PDI, deprecated */
	{ 0x3164, 0x3164 },
	{ 0xd800, 0xdfff },
	{ 0xe000, 0xf8ff },
	{ 0xfdd0, 0xfdef },
	{ 0xfeff, 0xfeff },     /* BOM, zero-width no-break space */
	{ 0xffa0, 0xffa0 },
	{ 0xfff0, 0xfffb },     /* interlinear annotation */
	{ 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a },
	{ 0xe0000, 0xe00ff },   /* tags: invisible text */
	{ 0xe01f0, 0xe0fff },
	{ 0xf0000, 0x10ffff },  /* supplementary private use planes */
};

enum cls {
	CLS_ESCAPE,             /* shown as <U+XXXX> */
	CLS_MARK,               /* zero columns: attaches to the previous character */
	CLS_PRINT,              /* shown as is, in *cols columns */
};

static enum cls classify(struct wctx *w, uint32_t cp, int *cols)
{
	if (cp < 0xa0 || (cp & 0xfffe) == 0xfffe
	    || in_ranges(cp, escape_table, NELEM(escape_table)))
		return CLS_ESCAPE;
	int wd = cp_width(w, cp);
	if (wd < 0)
		return CLS_ESCAPE;
	*cols = wd;
	return wd == 0 ? CLS_MARK : CLS_PRINT;
}

/* ------------------------------------------------------------ UTF-8 */

/* Length of the well-formed sequence at s[0..n) (Unicode table 3-7), or 0
 * if s[0] does not start one.  The narrowed second-byte ranges reject
 * overlongs (E0, F0), surrogates (ED) and values past U+10FFFF (F4). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	size_t need;
	uint32_t c;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b < 0xc2 || b > 0xf4)
		return 0;
	if (b < 0xe0) {
		need = 1;
		c = b & 0x1f;
	} else if (b < 0xf0) {
		need = 2;
		c = b & 0x0f;
		lo = b == 0xe0 ? 0xa0 : 0x80;
		hi = b == 0xed ? 0x9f : 0xbf;
	} else {
		need = 3;
		c = b & 0x07;
		lo = b == 0xf0 ? 0x90 : 0x80;
		hi = b == 0xf4 ? 0x8f : 0xbf;
	}
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	c = c << 6 | (s[1] & 0x3f);
	for (size_t i = 2; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return need + 1;
}

static bool is_print_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* ------------------------------------------------------------ the sink */

/* Where safe text goes: a buffer of cap bytes (NUL not counted) and a
 * column budget.  Each piece is written whole or not at all, so a UTF-8
 * sequence or a notation is never split.  For sanitize_fit it also keeps
 * the last point where the cut marker would still fit. */
struct sink {
	char *buf;
	size_t cap, len;
	size_t max_cols, cols;
	const char *marker;
	size_t marker_len, marker_cols;
	size_t cut_len, cut_cols;
	bool full;              /* a piece did not fit: the text is cut */
};

static void sink_init(struct sink *k, char *buf, size_t cap, size_t max_cols,
		      const char *marker, size_t marker_cols)
{
	memset(k, 0, sizeof(*k));
	k->buf = buf;
	k->cap = cap;
	k->max_cols = max_cols;
	k->marker = marker;
	k->marker_len = marker ? strlen(marker) : 0;
	k->marker_cols = marker_cols;
}

static void sink_note_cut(struct sink *k)
{
	if (k->marker_len <= k->cap - k->len && k->marker_cols <= k->max_cols - k->cols) {
		k->cut_len = k->len;
		k->cut_cols = k->cols;
	}
}

static void sink_put(struct sink *k, const void *p, size_t n, size_t cols)
{
	if (n > k->cap - k->len || cols > k->max_cols - k->cols) {
		k->full = true;
		return;
	}
	memcpy(k->buf + k->len, p, n);
	k->len += n;
	k->cols += cols;
	sink_note_cut(k);
}

/* A run of printable ASCII, one byte and one column each: copied in one
 * go, as much as fits, with the cut point moved as far into it as the
 * marker allows. */
static void sink_ascii(struct sink *k, const unsigned char *p, size_t n)
{
	size_t room_b = k->cap - k->len, room_c = k->max_cols - k->cols;
	size_t take = n < room_b ? n : room_b;

	if (take > room_c)
		take = room_c;
	if (k->marker_len <= room_b && k->marker_cols <= room_c) {
		size_t at = take;
		if (at > room_b - k->marker_len)
			at = room_b - k->marker_len;
		if (at > room_c - k->marker_cols)
			at = room_c - k->marker_cols;
		k->cut_len = k->len + at;
		k->cut_cols = k->cols + at;
	}
	memcpy(k->buf + k->len, p, take);
	k->len += take;
	k->cols += take;
	if (take < n)
		k->full = true;
}

/* ------------------------------------------------------------ notations */

static void put_byte_note(struct sink *k, unsigned char c)
{
	char note[4] = { '\\', 'x', hex_lower[c >> 4], hex_lower[c & 0xf] };

	switch (c) {
	case '\t':
		note[1] = 't';
		break;
	case '\n':
		note[1] = 'n';
		break;
	case '\r':
		note[1] = 'r';
		break;
	default:
		sink_put(k, note, 4, 4);
		return;
	}
	sink_put(k, note, 2, 2);
}

static void put_cp_note(struct sink *k, uint32_t cp)
{
	char note[16] = "<U+";
	size_t n = 3;
	int digits = cp > 0xfffff ? 6 : cp > 0xffff ? 5 : 4;

	for (int i = digits - 1; i >= 0; i--)
		note[n++] = hex_upper[cp >> (4 * i) & 0xf];
	note[n++] = '>';
	sink_put(k, note, n, n);
}

/* ------------------------------------------------------------ the core */

/* marks counts the combining marks on the last character written; -1 when
 * there is no base a mark may attach to (start of text, after a notation):
 * a mark there would sit on the UI's own characters or on ours. */
#define MAX_MARKS 2

static void put_cp(struct sink *k, struct wctx *w, const unsigned char *p, size_t n,
		   uint32_t cp, int flags, int *marks)
{
	int cols = 0;
	enum cls c = (flags & SAN_ASCII) ? CLS_ESCAPE : classify(w, cp, &cols);

	if (c == CLS_MARK && (*marks < 0 || *marks >= MAX_MARKS))
		c = CLS_ESCAPE;
	switch (c) {
	case CLS_ESCAPE:
		put_cp_note(k, cp);
		*marks = -1;
		break;
	case CLS_MARK:
		sink_put(k, p, n, 0);
		++*marks;
		break;
	case CLS_PRINT:
		sink_put(k, p, n, (size_t)cols);
		*marks = 0;
		break;
	}
}

static void sanitize_into(struct sink *k, const unsigned char *s, size_t n, int flags)
{
	struct wctx w = { .ready = false };
	int marks = -1;
	size_t i = 0;

	while (i < n && !k->full) {
		size_t j = i;
		while (j < n && is_print_ascii(s[j]))
			j++;
		if (j > i) {
			sink_ascii(k, s + i, j - i);
			marks = 0;
			i = j;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		if (len <= 1) {
			/* a control, DEL or a byte that starts no valid sequence */
			put_byte_note(k, s[i]);
			marks = -1;
			i++;
			continue;
		}
		put_cp(k, &w, s + i, len, cp, flags, &marks);
		i += len;
	}
	wctx_leave(&w);
}

/* Give back most of an over-sized buffer; keeping it on failure is fine. */
static char *shrink(char *buf, size_t cap, size_t used)
{
	if (cap - used < SAN_SHRINK_SLACK)
		return buf;
	char *p = realloc(buf, used);
	return p ? p : buf;
}

char *sanitize_dup(const char *s, size_t len, int flags)
{
	if (!s)
		len = 0;
	if (len > (SIZE_MAX - 1) / SAN_GROWTH)
		return NULL;
	size_t cap = len * SAN_GROWTH;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	struct sink k;
	sink_init(&k, buf, cap, SIZE_MAX, NULL, 0);
	if (len)
		sanitize_into(&k, (const unsigned char *)s, len, flags);
	buf[k.len] = '\0';
	return shrink(buf, cap + 1, k.len + 1);
}

char *sanitize_str(const char *s, int flags)
{
	return sanitize_dup(s, s ? strlen(s) : 0, flags);
}

int sanitize_fit(const char *s, size_t len, int max_cols, int flags, char *out, size_t outsz)
{
	if (!out || outsz == 0)
		return 0;
	out[0] = '\0';
	if (!s || max_cols <= 0 || outsz == 1)
		return 0;

	/* "…" needs 3 bytes; a buffer too small for it still gets "~" */
	bool ascii_marker = (flags & SAN_ASCII) || outsz - 1 < 3;
	struct sink k;
	sink_init(&k, out, outsz - 1, (size_t)max_cols,
		  ascii_marker ? "~" : "\xe2\x80\xa6", 1);
	sanitize_into(&k, (const unsigned char *)s, len, flags);
	if (k.full) {
		/* at 0 the 1-column marker always fits: max_cols, cap >= 1 */
		memcpy(out + k.cut_len, k.marker, k.marker_len);
		k.len = k.cut_len + k.marker_len;
		k.cols = k.cut_cols + k.marker_cols;
	}
	out[k.len] = '\0';
	return (int)k.cols;
}

int sanitize_width(const char *safe)
{
	if (!safe)
		return 0;
	const unsigned char *s = (const unsigned char *)safe;
	size_t n = strlen(safe), cols = 0;
	struct wctx w = { .ready = false };

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		if (len == 1) {
			cols += is_print_ascii(s[i]);
		} else if (len == 0) {
			cols++;         /* a terminal would show a replacement glyph */
			len = 1;
		} else {
			int wd = cp_width(&w, cp);
			/* unknown: count one column, too wide beats overflowing a cell */
			cols += wd < 0 ? 1 : (size_t)wd;
		}
		i += len;
	}
	wctx_leave(&w);
	return cols > INT_MAX ? INT_MAX : (int)cols;
}

/* An embedded NUL is replaced too: the result is a C string, and silently
 * ending it there would hide whatever followed. */
char *sanitize_utf8_repair(const char *s, size_t len)
{
	if (!s)
		len = 0;
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	size_t cap = len * 3 + 1;       /* an invalid byte becomes 3 bytes */
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(u + i, len - i, &cp);
		if (n == 0 || u[i] == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);  /* U+FFFD */
			o += 3;
			i++;
		} else {
			memcpy(buf + o, u + i, n);
			o += n;
			i += n;
		}
	}
	buf[o] = '\0';
	return shrink(buf, cap, o + 1);
}
