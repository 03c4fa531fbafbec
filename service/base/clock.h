/* The two clocks the service and the client library read: the wall clock
 * (what API key expiries and logs are written in) and the monotonic clock
 * (what timeouts, ages and latencies are measured with). */
#ifndef EXE_CLOCK_H
#define EXE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* clock_wall_ms is the wall clock in milliseconds since the Unix epoch. */
int64_t clock_wall_ms(void);

/* clock_mono_ms and clock_mono_ns read the monotonic clock. */
int64_t clock_mono_ms(void);
uint64_t clock_mono_ns(void);

/* clock_cond_init makes a condition variable whose timed waits run on the
 * monotonic clock, so that a step of the wall clock neither stretches nor
 * cuts them. Returns pthread_cond_init's result. */
int clock_cond_init(pthread_cond_t *cond);

/* clock_mono_after is the monotonic time `ms` from now, as
 * pthread_cond_timedwait takes it on a clock_cond_init condition. */
struct timespec clock_mono_after(long ms);

#endif
