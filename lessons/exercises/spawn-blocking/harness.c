/* spawn-blocking checker: blocking_read() returns only after the ticker
 * has ticked 5 more times, so it can only finish if it does not hold up
 * the executor; if the ticker stands still for two seconds, that is the
 * failure.  A step that itself takes long is a failure too. */
#include "exercise.h"

static atomic_int ticks;
static atomic_int read_started;

int blocking_read(void);
int blocking_read(void)
{
    atomic_store(&read_started, 1);
    int from = atomic_load(&ticks);
    if (!ex_wait_for(&ticks, from + 5, 2000 * EX_N(1, 2)))
        ex_fail("blocking_read waited two seconds for the ticker to tick, and it never did: the "
                "blocking call ran on the executor's only thread and stopped every other task");
    return 42;
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    ex_watch(6, "the executor never finished the reader task");
    for (int r = 1; r <= 20; r++) {
        struct reader_task t;
        reader_init(&t);
        atomic_store(&read_started, 0);
        int done = 0, steps = 0;
        while (!done) {
            atomic_fetch_add(&ticks, 1);    /* the ticker's step */
            double t0 = ex_now_ms();
            done = reader_step(&t);
            double took = ex_now_ms() - t0;
            steps++;
            if (took > 900 * EX_N(1, 2))
                ex_fail("one reader_step took %.0f ms: a step must return at once and leave "
                        "the waiting to another thread", took);
            ex_sleep_ms(0.2);
        }
        if (t.result != 42)
            ex_fail("round %d: the reader task finished with result %d; blocking_read "
                    "returned 42", r, t.result);
        if (!atomic_load(&read_started))
            ex_fail("round %d: the reader task finished without calling blocking_read", r);
    }
    ex_watch_off();
    ex_pass("20 blocking reads finished while the ticker kept ticking");
}
