/* registry.c - the one table of demos, in chapter order.
 *
 * To add a demo: write demos/<name>.c defining `const struct ct_demo
 * ct_demo_<name>` (dashes become underscores), declare it and list it
 * below, add the file to demos/meson.build, and name it in its lesson's
 * `demos:` line.  Everything else (list, help, completion, the tests that
 * run every demo) picks it up from here.
 */
#include "registry.h"

#include <string.h>

extern const struct ct_demo ct_demo_race;
extern const struct ct_demo ct_demo_threads;
extern const struct ct_demo ct_demo_thread_return;
extern const struct ct_demo ct_demo_refcount;
extern const struct ct_demo ct_demo_send_sync;
extern const struct ct_demo ct_demo_mutex;
extern const struct ct_demo ct_demo_poisoning;
extern const struct ct_demo ct_demo_rwlock;
extern const struct ct_demo ct_demo_rwlock_bench;
extern const struct ct_demo ct_demo_threads_vs_tasks;
extern const struct ct_demo ct_demo_futures;
extern const struct ct_demo ct_demo_join;
extern const struct ct_demo ct_demo_select;
extern const struct ct_demo ct_demo_runtime;
extern const struct ct_demo ct_demo_timeout;
extern const struct ct_demo ct_demo_spawn_blocking;
extern const struct ct_demo ct_demo_channels;
extern const struct ct_demo ct_demo_producers;
extern const struct ct_demo ct_demo_sync_channel;
extern const struct ct_demo ct_demo_channel_results;
extern const struct ct_demo ct_demo_channel_bench;
extern const struct ct_demo ct_demo_shutdown;

const struct ct_demo *const ct_demos[] = {
    /* 1. Introduction */
    &ct_demo_race,
    /* 2. Threads and thread safety */
    &ct_demo_threads,
    &ct_demo_thread_return,
    &ct_demo_refcount,
    /* 3. Send and Sync */
    &ct_demo_send_sync,
    /* 4. Mutex and RwLock */
    &ct_demo_mutex,
    &ct_demo_poisoning,
    &ct_demo_rwlock,
    &ct_demo_rwlock_bench,
    /* 5. Channels */
    &ct_demo_channels,
    &ct_demo_producers,
    &ct_demo_sync_channel,
    &ct_demo_channel_results,
    &ct_demo_channel_bench,
    /* 6. Async/await fundamentals */
    &ct_demo_threads_vs_tasks,
    &ct_demo_futures,
    &ct_demo_join,
    &ct_demo_select,
    /* 7. Runtimes */
    &ct_demo_runtime,
    &ct_demo_timeout,
    &ct_demo_spawn_blocking,
    /* 9. Best practices and patterns */
    &ct_demo_shutdown,
};

const size_t ct_demo_count = sizeof ct_demos / sizeof ct_demos[0];

const struct ct_demo *ct_demo_find(const char *name)
{
    for (size_t i = 0; i < ct_demo_count; i++) {
        if (strcmp(ct_demos[i]->name, name) == 0)
            return ct_demos[i];
    }
    return NULL;
}
