#include "config.h"

#include "termseq.h"

bool termseq_start(struct termseq *t, unsigned intro, bool after_esc, int64_t now_ms)
{
	enum termseq_state s = TS_NONE;

	if (after_esc) {
		switch (intro) {
		case '[': s = TS_CSI; break;
		case ']': case 'P': case 'X': case '^': case '_': s = TS_STRING; break;
		case 'N': case 'O': s = TS_ONE; break;   /* SS2, SS3 */
		default: break;
		}
	} else {
		switch (intro) {
		case 0x9b: s = TS_CSI; break;
		case 0x9d: case 0x90: case 0x98: case 0x9e: case 0x9f: s = TS_STRING; break;
		case 0x8e: case 0x8f: s = TS_ONE; break;
		default: break;
		}
	}
	t->state = s;
	t->last_ms = now_ms;
	t->len = 0;
	return s != TS_NONE;
}

bool termseq_swallow(struct termseq *t, unsigned ch, int64_t now_ms)
{
	if (t->state == TS_NONE)
		return false;
	if (now_ms - t->last_ms > TERMSEQ_STALL_MS || ++t->len > TERMSEQ_MAX) {
		t->state = TS_NONE;                  /* stalled or endless: typing again */
		return false;
	}
	t->last_ms = now_ms;
	switch (t->state) {
	case TS_CSI:
		if (ch >= 0x40 && ch <= 0x7e)
			t->state = TS_NONE;              /* the final byte */
		else if (ch < 0x20 || ch > 0x3f)
			t->state = ch >= 0x20 && ch <= 0x2f ? TS_CSI : TS_NONE;   /* intermediates, or broken */
		return true;
	case TS_STRING:
		if (ch == 0x07 || ch == 0x9c)
			t->state = TS_NONE;              /* BEL, or the 8-bit ST */
		else if (ch == 0x1b)
			t->state = TS_STRING_ESC;
		return true;
	case TS_STRING_ESC:
		t->state = ch == '\\' ? TS_NONE : TS_STRING;
		return true;
	case TS_ONE:
		t->state = TS_NONE;
		return true;
	case TS_NONE:
		break;
	}
	return false;
}
