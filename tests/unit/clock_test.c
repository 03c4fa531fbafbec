/* Unit tests of the clocks: a deadline ms from now on the monotonic clock,
 * normalised, and a timed wait on a monotonic condition that ends there. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/clock.h"
#include "unit.h"

static int64_t
ms_of(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
a_deadline_is_ms_from_now_and_normalised(void)
{
	for (long ms = 0; ms < 3000; ms += 137) {
		int64_t before = clock_mono_ms();
		struct timespec t = clock_mono_after(ms);
		int64_t after = clock_mono_ms();
		EXPECT(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
		EXPECT(ms_of(t) >= before + ms);
		EXPECT(ms_of(t) <= after + ms);
	}
}

static void
a_timed_wait_ends_at_its_monotonic_deadline(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond;
	EXPECT_INT(clock_cond_init(&cond), 0);
	int64_t start = clock_mono_ms();
	struct timespec until = clock_mono_after(30);
	pthread_mutex_lock(&lock);
	int rc = 0;
	while (rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cond, &lock, &until);
	pthread_mutex_unlock(&lock);
	/* Read on the wall clock, a monotonic deadline is decades past and
	 * the wait would end at once. */
	EXPECT(clock_mono_ms() - start >= 30);
	pthread_cond_destroy(&cond);
}

static const struct unit_case cases[] = {
	{"a deadline is ms from now and normalised",
	    a_deadline_is_ms_from_now_and_normalised},
	{"a timed wait ends at its monotonic deadline",
	    a_timed_wait_ends_at_its_monotonic_deadline},
};

UNIT_MAIN(cases)
