/* walkpos.h: how far a SCAN pass has got, from its cursor alone.
 *
 * Redis walks its hash table in reverse-binary order of the bucket index
 * (dictScan: the cursor's high bits advance first), so that a pass survives
 * the table growing or shrinking.  Reversing the cursor's 64 bits therefore
 * gives the visited buckets as a fraction of 2^64, whatever the table's
 * size: 0 at the start, 0.5 halfway.  No DBSIZE is needed, and the figure
 * is exact for a table that keeps its size during the pass. */
#ifndef SECTOP_WALKPOS_H
#define SECTOP_WALKPOS_H

/* 0..1 (just under 1 on the last step; a cursor "0" is the start); 0 for
 * a cursor that is not a decimal number. */
double walk_fraction(const char *cursor);

#endif
