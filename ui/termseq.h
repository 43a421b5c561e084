/* termseq.h: the bytes of a terminal's own sequences, told from keys.
 *
 * A terminal answers queries (Device Attributes "ESC [ ? 1 ; 2 c", an OSC
 * colour reply "ESC ] 11 ; rgb:... BEL") and some send sequences curses
 * does not know.  curses then hands over ESC and the rest one character at
 * a time, and the rest would run as hotkeys ('2' switching views, 'c' ...).
 * After an ESC immediately followed by a sequence's introducer, everything
 * up to the sequence's end is swallowed: CSI to its final byte, OSC, DCS,
 * SOS, PM and APC to BEL or ST, SS2/SS3 one character; the 8-bit C1 forms
 * too.  A sequence that stalls (no byte for TERMSEQ_STALL_MS) or runs past
 * TERMSEQ_MAX characters ends there, so typing is never eaten for long.
 */
#ifndef SECTOP_TERMSEQ_H
#define SECTOP_TERMSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERMSEQ_STALL_MS 300
#define TERMSEQ_MAX 4096

enum termseq_state { TS_NONE, TS_CSI, TS_STRING, TS_STRING_ESC, TS_ONE };

struct termseq {
	enum termseq_state state;
	int64_t last_ms;
	size_t len;
};

/* Does intro (the character right after an ESC, or an 8-bit C1 character
 * on its own) start a sequence?  If so the state is set and true returned. */
bool termseq_start(struct termseq *t, unsigned intro, bool after_esc, int64_t now_ms);

/* Inside a sequence: is ch part of it (swallowed)?  False when no sequence
 * is open (or the open one stalled): ch is then an ordinary key. */
bool termseq_swallow(struct termseq *t, unsigned ch, int64_t now_ms);

#endif
