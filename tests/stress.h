/* stress.h - sizing stress tests for the build they run in.
 *
 * ThreadSanitizer slows every memory access down by 5-15x and keeps a
 * shadow history per access: stress loops that take a second in a plain
 * build would take minutes under it.  CT_STRESS(n, tsan_n) picks the
 * smaller count there, so the same invariants are checked in every build.
 */
#ifndef CT_TEST_STRESS_H
#define CT_TEST_STRESS_H

#if defined(__SANITIZE_THREAD__)
#define CT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT_TSAN 1
#endif
#endif

#ifdef CT_TSAN
#define CT_STRESS(n, tsan_n) (tsan_n)
#else
#define CT_STRESS(n, tsan_n) (n)
#endif

#endif
