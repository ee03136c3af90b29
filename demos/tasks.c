/* tasks.c - see tasks.h. */
#include "tasks.h"

#include <errno.h>
#include <stdlib.h>

static int hook_start(void *ctx, void **handle, void *(*fn)(void *), void *arg,
                      const char *name)
{
    struct ct_thread *t = malloc(sizeof *t);
    if (!t)
        return -ENOMEM;
    int rc = ct_thread_start(ctx, t, fn, arg, "%s", name);
    if (rc) {
        free(t);
        return rc;
    }
    *handle = t;
    return 0;
}

static int hook_join(void *ctx, void *handle)
{
    (void)ctx;
    int rc = ct_thread_join(handle, NULL);
    free(handle);
    return rc;
}

int ct_demo_executor(struct ct_run *run, enum ct_exec_flavor flavor, int workers,
                 struct ct_exec **out)
{
    struct ct_exec_config cfg = {
        .flavor = flavor,
        .workers = workers,
        .cancel = ct_cancel_event(run),
        .hooks = { hook_start, hook_join, run },
    };
    return ct_exec_new(out, &cfg);
}

int64_t ct_demo_ns(const struct ct_run *run, double ms)
{
    return (int64_t)(ms * ct_scale(run) * 1e6);
}
