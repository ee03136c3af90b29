/* refcount, solved: the count is atomic, and only the release that takes
 * it from 1 to 0 frees.  The acquire-release decrement orders every
 * thread's use of the object before the free. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdlib.h>

struct shared {
    atomic_int refs;
    int payload[4];
};

void shared_free(struct shared *s);

void shared_init(struct shared *s)
{
    atomic_init(&s->refs, 1);
}

void shared_retain(struct shared *s)
{
    /* a new reference comes from one already held: no ordering needed */
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void shared_release(struct shared *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        shared_free(s);
}
