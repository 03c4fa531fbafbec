/* The two clocks the service and the client library read: the wall clock
 * (what API key expiries and logs are written in) and the monotonic clock
 * (what timeouts, ages and latencies are measured with). */
#ifndef EXE_CLOCK_H
#define EXE_CLOCK_H

#include <stdint.h>

/* clock_wall_ms is the wall clock in milliseconds since the Unix epoch. */
int64_t clock_wall_ms(void);

/* clock_mono_ms and clock_mono_ns read the monotonic clock. */
int64_t clock_mono_ms(void);
uint64_t clock_mono_ns(void);

#endif
