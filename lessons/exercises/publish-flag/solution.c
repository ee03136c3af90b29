/* publish-flag, solved: the flag is atomic.  The release store publishes
 * every write made before it; the acquire load that sees true also sees
 * them, so the plain message needs no lock of its own. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdbool.h>

struct mailbox {
    int message;
    atomic_bool ready;
};

void mailbox_init(struct mailbox *m)
{
    m->message = 0;
    atomic_init(&m->ready, false);
}

void mailbox_put(struct mailbox *m, int message)
{
    m->message = message;
    atomic_store_explicit(&m->ready, true, memory_order_release);
}

bool mailbox_take(struct mailbox *m, int *out)
{
    if (!atomic_load_explicit(&m->ready, memory_order_acquire))
        return false;
    *out = m->message;
    return true;
}
