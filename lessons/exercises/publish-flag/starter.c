/* publish-flag: one thread leaves a message, another waits for it. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>

struct mailbox {
    int message;
    bool ready;         /* true once message holds the message */
};

void mailbox_init(struct mailbox *m)
{
    m->message = 0;
    m->ready = false;
}

/* Called once, by the sending thread. */
void mailbox_put(struct mailbox *m, int message)
{
    m->message = message;
    m->ready = true;
}

/* Called again and again by the receiving thread: false while the
 * mailbox is empty, else true with the message in *out. */
bool mailbox_take(struct mailbox *m, int *out)
{
    if (!m->ready)
        return false;
    *out = m->message;
    return true;
}
