/* clock.h: the two clocks: monotonic for deadlines, wall for what is shown. */
#ifndef SECTOP_CLOCK_H
#define SECTOP_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);

#endif
