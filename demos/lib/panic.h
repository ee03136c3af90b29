/* panic.h - a Rust-style panic for a C thread.
 *
 * In Rust a panic unwinds the panicking thread: it runs the destructors of
 * everything on the stack (dropping a MutexGuard on the way, which unlocks
 * and poisons the mutex) and ends the thread; join() then returns Err.
 *
 * ct_panic() does the C equivalent.  It marks the thread as panicking and
 * calls pthread_exit(), which runs the thread's cleanup handlers
 * (pthread_cleanup_push) innermost first, like destructors, then ends the
 * thread with the value CT_PANICKED, which pthread_join() hands to whoever
 * joins it.  A cleanup handler can ask ct_panicking() whether it runs
 * because of a panic or because its scope ended normally; poison.h uses
 * this to poison a mutex only when the holder panicked.
 *
 * Only for threads started for the purpose: never call it on a demo's own
 * (main) thread, which would end the thread the runner is waiting on.
 */
#ifndef CT_PANIC_H
#define CT_PANIC_H

#include <stdbool.h>

/* The return value of a thread that panicked, as seen by pthread_join. */
extern const char ct_panic_token;
#define CT_PANICKED ((void *)&ct_panic_token)

/* Panic: end the calling thread through its cleanup handlers.  `what`
 * (a string that must outlive the thread, usually a literal) is kept for
 * the handlers: ct_panic_message(). */
_Noreturn void ct_panic(const char *what);

/* Is the calling thread unwinding because of ct_panic()? */
bool ct_panicking(void);

/* The panic's message, or NULL if the thread is not panicking. */
const char *ct_panic_message(void);

#endif
