/* threadhooks.h - how a primitive starts and joins the threads it owns.
 *
 * The executor (worker and reactor threads) and the blocking pool start
 * threads of their own.  In a demo those threads must go through the demo
 * runner (a label on every line they print, a timeline lane, SIGINT
 * blocked, the runner's count of live threads); in a test or another
 * program plain pthreads will do.  A `struct ct_thread_hooks` names the
 * two functions to use; all-zero hooks mean plain pthread_create and
 * pthread_join.
 */
#ifndef CT_THREADHOOKS_H
#define CT_THREADHOOKS_H

struct ct_thread_hooks {
    /* Start fn(arg) on a new thread called `name`; store what `join`
     * needs in *handle.  0 or a negative errno (nothing was started). */
    int (*start)(void *ctx, void **handle, void *(*fn)(void *), void *arg,
                 const char *name);
    /* Wait for the thread behind `handle` to finish and free the handle. */
    int (*join)(void *ctx, void *handle);
    void *ctx;
};

/* Start or join through `hooks` (or plain pthreads when hooks->start is
 * NULL).  Both return 0 or a negative errno. */
int ct_hooks_start(const struct ct_thread_hooks *hooks, void **handle,
                   void *(*fn)(void *), void *arg, const char *name);
int ct_hooks_join(const struct ct_thread_hooks *hooks, void *handle);

#endif
