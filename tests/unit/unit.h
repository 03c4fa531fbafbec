/* A minimal unit-test harness: each test file is a table of named cases,
 * each case a function that uses EXPECT; the file's main is UNIT_MAIN.
 * A failed EXPECT prints where and why and fails its case; the program
 * exits non-zero if any case failed. */
#ifndef EXE_UNIT_H
#define EXE_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit_case {
	const char *name;
	void (*fn)(void);
};

extern int unit_case_failed;

#define EXPECT(cond)                                                          \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "  %s:%d: expected %s\n", __FILE__,   \
			    __LINE__, #cond);                                 \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

#define EXPECT_INT(a, b)                                                      \
	do {                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		if (a_ != b_) {                                               \
			fprintf(stderr, "  %s:%d: %s is %lld, expected %lld\n", \
			    __FILE__, __LINE__, #a, a_, b_);                  \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

#define EXPECT_STR(a, b)                                                      \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		if (a_ == NULL || strcmp(a_, b_) != 0) {                      \
			fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", \
			    __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_);  \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

/* EXPECT_CONTAINS: string `a` contains `b`. */
#define EXPECT_CONTAINS(a, b)                                                 \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		if (a_ == NULL || strstr(a_, b_) == NULL) {                   \
			fprintf(stderr, "  %s:%d: %s is \"%s\", expected it to " \
			    "contain \"%s\"\n", __FILE__, __LINE__, #a,       \
			    a_ ? a_ : "(null)", b_);                          \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

/* unit_run runs `n` cases, prints a line each and the closing
 * "N passed, N failed" line; returns the number that failed. */
static inline int
unit_run(const struct unit_case *cases, size_t n)
{
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		unit_case_failed = 0;
		cases[i].fn();
		printf("%s %s\n", unit_case_failed ? "FAIL" : "ok  ",
		    cases[i].name);
		fflush(stdout);
		if (unit_case_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed;
}

/* UNIT_STATE defines the harness's state; once per program. */
#define UNIT_STATE int unit_case_failed;

/* UNIT_MAIN is the whole main() of a test program without set-up. */
#define UNIT_MAIN(cases)                                                      \
	UNIT_STATE                                                            \
	int main(void)                                                        \
	{                                                                     \
		return unit_run(cases, sizeof(cases) / sizeof(cases[0])) == 0 \
		    ? 0 : 1;                                                  \
	}

#endif
