/* send.c - demo `send`: what Rust's Send promises, kept by hand in C.
 *
 * Shows: main builds one heap parcel per thread and moves each into a new
 * thread at pthread_create: it clears its own handle first, so nothing on
 * its side can use or free the parcel again.  Each receiver checks that the
 * text is the one written for it, changes it in place (it is the only owner,
 * so no lock is needed) and frees it.  Afterwards main counts the handles it
 * still holds (none) and the parcels the receivers freed (all).
 * Watch for: the address main printed for each parcel coming back from the
 * thread that took it, and "handles still holding a parcel: 0".
 * Lesson: send-trait (chapter 3).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define MAX_THREADS 16
#define TEXT_MAX 32

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

struct parcel {
    char *text;                 /* heap string owned by the parcel's holder */
    size_t len;
};

/* The text main writes into parcel `id`; the receiver regenerates it to
 * check that it got the right parcel, whole. */
static int parcel_text(char *buf, size_t n, int id)
{
    return snprintf(buf, n, "parcel %d from main", id);
}

struct courier {
    struct ct_thread thread;
    struct ct_run *run;
    int id;                     /* 1-based: parcel `id` is for thread send-`id` */
    struct parcel *parcel;      /* moved in before the thread starts */
    atomic_int *freed;          /* parcels freed by their receivers */
    bool intact;                /* the text was the one written for us */
};

/* The receiving end of a move: the thread owns the parcel now, so it may
 * change it in place, and it must free it. */
static void *courier_main(void *arg)
{
    struct courier *c = arg;
    struct parcel *p = c->parcel;
    c->parcel = NULL;
    char want[TEXT_MAX];
    parcel_text(want, sizeof want, c->id);
    c->intact = strlen(p->text) == p->len && strcmp(p->text, want) == 0;
    ct_say(c->run, "took %p (%zu bytes): \"%s\"", (void *)p->text, p->len, p->text);
    for (char *s = p->text; *s; s++) {
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
    }
    ct_say(c->run, "uppercased in place, no lock: \"%s\"", p->text);
    free(p->text);
    free(p);
    atomic_fetch_add(c->freed, 1);
    ct_say(c->run, "freed it: only the receiver may");
    return NULL;
}

/* A heap parcel holding the text for `id`; NULL if out of memory. */
static struct parcel *parcel_new(int id)
{
    struct parcel *p = malloc(sizeof *p);
    char *text = malloc(TEXT_MAX);
    if (!p || !text) {
        free(p);
        free(text);
        return NULL;
    }
    p->len = (size_t)parcel_text(text, TEXT_MAX, id);
    p->text = text;
    return p;
}

struct result {
    int made, started, freed, handles_left, intact;
};

/* Make the parcels, move each into its thread, join them all, then count
 * what main still holds.  0 or a negative errno. */
static int run_send(struct ct_run *run, int n, struct result *out)
{
    struct parcel *handle[MAX_THREADS] = { 0 };
    struct courier c[MAX_THREADS] = { 0 };
    atomic_int freed;
    atomic_init(&freed, 0);
    int rc = 0, made = 0, started = 0;

    for (; made < n; made++) {
        if (!(handle[made] = parcel_new(made + 1))) {
            rc = -ENOMEM;
            break;
        }
        ct_say(run, "made parcel %d at %p; handle[%d] owns it", made + 1,
               (void *)handle[made]->text, made);
    }
    for (; rc == 0 && started < made; started++) {
        /* the move: take the pointer out of our handle before the thread
         * can run, so nothing on this side can use or free it again */
        struct parcel *moving = handle[started];
        handle[started] = NULL;
        c[started] = (struct courier){ .run = run, .id = started + 1, .parcel = moving,
                                       .freed = &freed };
        ct_say(run, "parcel %d: handle[%d] = NULL, then pthread_create", started + 1, started);
        rc = ct_thread_start(run, &c[started].thread, courier_main, &c[started], "send-%d",
                             started + 1);
        if (rc) {
            handle[started] = moving;   /* no thread took it: still ours */
            break;
        }
    }
    for (int i = 0; i < started; i++)
        ct_thread_join(&c[i].thread, NULL);

    *out = (struct result){ .made = made, .started = started, .freed = atomic_load(&freed) };
    for (int i = 0; i < made; i++) {
        if (handle[i]) {
            out->handles_left++;
            free(handle[i]->text);
            free(handle[i]);
        }
        out->intact += i < started && c[i].intact;
    }
    if (rc == 0)
        ct_say(run, "joined %d receiver%s; handles still holding a parcel: %d", started,
               plural(started), out->handles_left);
    return rc;
}

static void report(struct ct_run *run, const struct result *s)
{
    ct_result_int(run, "parcels", "parcels moved to threads", s->started, NULL);
    ct_result_int(run, "freed", "parcels freed by their receiver", s->freed, NULL);
    ct_result_int(run, "intact", "parcels that arrived whole, at the right thread", s->intact,
                  NULL);
    ct_result_int(run, "handles_left", "creator handles still set after the move",
                  s->handles_left, NULL);
    ct_check(run, s->freed == s->made, "every parcel freed exactly once, by its receiver "
             "(%d of %d)", s->freed, s->made);
    ct_check(run, s->handles_left == 0, "the creator kept no handle (%d left)", s->handles_left);
    ct_check(run, s->intact == s->made, "every receiver got its own parcel, whole (%d of %d)",
             s->intact, s->made);
    ct_takeaway(run,
                "%d heap parcel%s changed hands at pthread_create; %d arrived whole at the "
                "thread meant to have it, and %d were freed, each by the thread that received "
                "it. Main kept %d handle%s: in C the move is a convention, and clearing the "
                "handle is what turns a stray later use into a NULL dereference instead of a "
                "use of freed memory. Rust's compiler makes the same promise for you.",
                s->started, plural(s->started), s->intact, s->freed, s->handles_left,
                plural(s->handles_left));
}

static int send_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "threads");
    struct result res;
    ct_section(run, "moving %d heap parcel%s into %d thread%s", n, plural(n), n, plural(n));
    int rc = run_send(run, n, &res);
    if (rc || ct_cancelled(run))
        return rc;
    report(run, &res);
    return 0;
}

static const struct ct_param_spec send_params[] = {
    { "threads", CT_PARAM_INT, "4", 1, MAX_THREADS, NULL,
      "receiving threads, one parcel each" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_send = {
    .name = "send",
    .chapter = 3,
    .title = "Send: moving a value to another thread",
    .summary = "Heap parcels moved into threads that check, change and free them",
    .intro = "Main builds one heap parcel per thread, clears its own handle and passes the "
             "parcel to pthread_create. Each receiver owns its parcel from then on: it checks "
             "the text, changes it in place without a lock and frees it. Main then counts "
             "what it still holds.",
    .params = send_params,
    .smoke = "threads=2",
    .run = send_run,
};
