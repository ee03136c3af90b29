/* spawn-blocking: a task on a one-thread executor needs a blocking call. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>

int blocking_read(void);        /* the checker's: blocks for a while */

struct reader_task {
    int result;
};

void reader_init(struct reader_task *t)
{
    t->result = 0;
}

/* Called by the executor again and again, between the ticker's steps.
 * Must return at once: 1 when done (result in t->result), 0 to be called
 * again. */
int reader_step(struct reader_task *t)
{
    t->result = blocking_read();
    return 1;
}
