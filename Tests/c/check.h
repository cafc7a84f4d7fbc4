/*
 * check.h — the assertion helpers every C test in Tests/c shares.
 *
 * A test file defines `static void test_xxx(void)` functions and a main() that runs them with
 * RUN(test_xxx) and ends with `return check_summary("file");`, which prints
 * "N passed, M failed" and returns non-zero on any failure.
 */
#ifndef PACKETDTLS_TESTS_CHECK_H
#define PACKETDTLS_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "packetdtls.h"

static int check_failures_in_test = 0;
static int check_tests_passed = 0;
static int check_tests_failed = 0;

#define CHECK(cond)                                                                                     \
    do {                                                                                                \
        if (!(cond)) {                                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond,     \
                    dtls_last_error_message());                                                         \
            check_failures_in_test++;                                                                   \
        }                                                                                               \
    } while (0)

/* Compares two dtls_error values and prints both names on a mismatch. */
#define CHECK_ERR(expr, expected)                                                                       \
    do {                                                                                                \
        dtls_error check_got_ = (expr);                                                                 \
        if (check_got_ != (expected)) {                                                                 \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__,  \
                    #expr, dtls_error_string(check_got_), dtls_error_string(expected),                  \
                    dtls_last_error_message());                                                         \
            check_failures_in_test++;                                                                   \
        }                                                                                               \
    } while (0)

#define RUN(test)                                                                                       \
    do {                                                                                                \
        check_failures_in_test = 0;                                                                     \
        test();                                                                                         \
        if (check_failures_in_test) {                                                                   \
            check_tests_failed++;                                                                       \
            fprintf(stderr, "FAIL %s\n", #test);                                                        \
        } else {                                                                                        \
            check_tests_passed++;                                                                       \
            printf("ok   %s\n", #test);                                                             \
        }                                                                                               \
    } while (0)

static inline int check_summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, check_tests_passed, check_tests_failed);
    return check_tests_failed ? 1 : 0;
}

/* Monotonic milliseconds, for bounded polling loops. */
static inline long long check_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls `cond` (re-evaluated each round, running `step` before it) until true or `ms` pass. */
#define POLL_UNTIL(cond, step, ms)                                                                      \
    do {                                                                                                \
        long long poll_deadline_ = check_now_ms() + (ms);                                               \
        while (!(cond) && check_now_ms() < poll_deadline_) {                                            \
            step;                                                                                       \
        }                                                                                               \
    } while (0)

#endif
