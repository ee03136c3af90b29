/* select-cleanup checker: operations that become ready after a set number
 * of polls; each must be dropped exactly once, never polled after its
 * drop, and the winner's value returned.  Under ASan a leaked buffer is a
 * leak report too. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

struct counted {
    struct op op;       /* first: the student sees a struct op * */
    int ready_after;    /* polls before it is done */
    int polls, drops, value;
    bool polled_after_drop;
    char *buffer;       /* what the operation holds */
};

static bool counted_poll(struct op *op, int *out)
{
    struct counted *c = (struct counted *)op;
    if (c->drops)
        c->polled_after_drop = true;
    if (++c->polls < c->ready_after)
        return false;
    *out = c->value;
    return true;
}

static void counted_drop(struct op *op)
{
    struct counted *c = (struct counted *)op;
    if (c->drops++ == 0) {
        free(c->buffer);
        c->buffer = NULL;
    }
}

static void make(struct counted *c, int ready_after, int value)
{
    *c = (struct counted){ { counted_poll, counted_drop }, ready_after, 0, 0, value, false,
                           malloc(64) };
}

static void check_op(const struct counted *c, const char *name, bool won, int r)
{
    if (c->drops != 1)
        ex_fail("round %d: the %s (%s) was dropped %d times; exactly once is right: %s", r,
                won ? "winner" : "loser", name, c->drops,
                c->drops == 0 ? "its cleanup never ran and its buffer leaked"
                              : "dropping twice releases its resources twice");
    if (c->polled_after_drop)
        ex_fail("round %d: operation %s was polled after it had been dropped", r, name);
}

int main(void)
{
    for (int r = 1; r <= 200; r++) {
        struct counted a, b;
        int a_after = 1 + r % 5, b_after = 1 + (r / 5) % 5;
        make(&a, a_after, 100 + r);
        make(&b, b_after, 200 + r);
        int winner = -1;
        int v = select2(&a.op, &b.op, &winner);
        int want_winner = a_after <= b_after ? 0 : 1;
        if (winner != want_winner || v != (want_winner ? 200 : 100) + r)
            ex_fail("round %d: a was ready at poll %d, b at poll %d; select2 said winner %d "
                    "with value %d", r, a_after, b_after, winner, v);
        check_op(&a, "a", winner == 0, r);
        check_op(&b, "b", winner == 1, r);
        free(a.buffer);
        free(b.buffer);
    }
    ex_pass("200 races: the right winner each time, and both sides dropped exactly once");
}
