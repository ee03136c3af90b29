/* refcount: an object freed by whoever drops the last reference. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

struct shared {
    int refs;               /* references held */
    int payload[4];
};

void shared_free(struct shared *s);     /* the checker's */

void shared_init(struct shared *s)
{
    s->refs = 1;            /* the creator's reference */
}

/* One more reference. */
void shared_retain(struct shared *s)
{
    s->refs++;
}

/* One reference fewer; the last one frees the object. */
void shared_release(struct shared *s)
{
    s->refs--;
    if (s->refs == 0)
        shared_free(s);
}
