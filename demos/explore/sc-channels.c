/* sc-channels.c - forgotten-sender: a receive loop that ends when every
 * sender is gone, while the receiver itself still holds one. */
#include <stdio.h>

#include "explore.h"

enum { jobs };

struct receiver {
    int msg, sum;
};

/* main made the channel and gave the worker a clone of its sender */
static void receiver(EX_THREAD)
{
    EX_BEGIN(struct receiver);
    for (;;) {
        ex_recv(jobs, &my->msg);
        if (my->msg == EX_CLOSED)
            break;
        my->sum += my->msg;
    }
    EX_END;
}

static void receiver_fixed(EX_THREAD)
{
    EX_BEGIN(struct receiver);
    ex_drop_sender(jobs);       /* main sends nothing */
    for (;;) {
        ex_recv(jobs, &my->msg);
        if (my->msg == EX_CLOSED)
            break;
        my->sum += my->msg;
    }
    EX_END;
}

struct sender {
    int unused;
};

static void worker(EX_THREAD)
{
    EX_BEGIN(struct sender);
    ex_send(jobs, 1);
    ex_send(jobs, 2);
    ex_drop_sender(jobs);
    EX_END;
}

static void forgotten_init(struct ct_ex_state *s, const struct ct_ex_config *cfg)
{
    (void)cfg;
    s->chan[jobs].senders = 1u << 0 | 1u << 1;  /* main's and the worker's */
}

static const char *forgotten_check(const struct ct_ex_state *s,
                                   const struct ct_ex_config *cfg, bool final, char *buf,
                                   size_t n)
{
    (void)cfg;
    int sum = CT_EX_LOCALS_OF(s, 0, struct receiver)->sum;
    if (!final || sum == 3)
        return NULL;
    snprintf(buf, n, "main summed %d, not 1 + 2", sum);
    return buf;
}

const struct ct_ex_scenario ct_ex_sc_forgotten_sender = {
    .name = "forgotten-sender",
    .title = "A receiver that holds a sender itself",
    .lesson = "multiple-producers",
    .story = "main made a channel and gave the worker a clone of the sender. "
             "The worker sends 1 and 2 and drops its sender; main receives "
             "until the channel reports that every sender is gone.",
    .invariant = "every thread finishes, and main sums 3",
    .goal = "find any schedule where main finishes (there is none)",
    .fix = "main drops its own sender before the loop",
    .source = "sc-channels.c",
    .threads_min = 2, .threads_max = 2, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .chans = "jobs",
    .thread_names = "main,worker",
    .broken = { CT_EX_CODE(receiver, "msg,sum"), CT_EX_CODE(worker, "") },
    .fixed = { CT_EX_CODE(receiver_fixed, "msg,sum"), CT_EX_CODE(worker, "") },
    .init = forgotten_init,
    .check = forgotten_check,
};
