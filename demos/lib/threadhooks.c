/* threadhooks.c - see threadhooks.h. */
#include "threadhooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

int ct_hooks_start(const struct ct_thread_hooks *hooks, void **handle,
                   void *(*fn)(void *), void *arg, const char *name)
{
    if (hooks && hooks->start)
        return hooks->start(hooks->ctx, handle, fn, arg, name);
    pthread_t *t = malloc(sizeof *t);
    if (!t)
        return -ENOMEM;
    int rc = pthread_create(t, NULL, fn, arg);
    if (rc != 0) {
        free(t);
        return -rc;
    }
    /* a name shows up in debuggers and `top -H`; it is cut to 15 bytes */
    char shortname[16];
    int i = 0;
    for (; name && name[i] && i < 15; i++)
        shortname[i] = name[i];
    shortname[i] = '\0';
    pthread_setname_np(*t, shortname);
    *handle = t;
    return 0;
}

int ct_hooks_join(const struct ct_thread_hooks *hooks, void *handle)
{
    if (hooks && hooks->start)
        return hooks->join(hooks->ctx, handle);
    pthread_t *t = handle;
    int rc = pthread_join(*t, NULL);
    free(t);
    return -rc;
}
