/* rwlock.c - demo `rwlock`: readers share the lock, a writer waits for
 * all of them, and the lock's policy decides who goes next.
 *
 * Shows: five readers take the read lock at once and hold it ~100 ms;
 * a writer arrives at ~50 ms and has to wait until the last reader has
 * left; then it appends to the shared list alone.  A late reader arrives
 * while the writer is waiting: a writer-preferring lock (the default, the
 * project's teaching rwlock; also brlock and rwlock-wp) queues it behind
 * the writer, glibc's default pthread_rwlock_t lets it in ahead of the
 * writer, which then waits for it too: the door to writer starvation.
 * Watch for: the readers' 'r' lanes overlapping, the writer's '.' lasting
 * until they end, and where the late reader's lane goes with lock=rwlock
 * versus lock=teach-rw.
 * Lesson: reader-writer-locks (chapter 4).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "check.h"
#include "locks.h"
#include "stats.h"

#define MAX_READERS 32
#define MAX_ACTORS (MAX_READERS + 2)
#define INITIAL 5               /* the list starts as 1..5; the writer adds 6 */
#define LIST_TEXT 64

struct config {
    const struct ct_lock_kind *kind;
    int readers;
    bool late;
    double hold_ms, write_ms, writer_at_ms;
    double late_at_ms;          /* halfway between the writer's arrival and the readers' end */
};

struct shared {
    struct ct_run *run;
    const struct config *cfg;
    void *lock;
    struct ct_event go;
    double gate_ms;             /* the start gate opened */
    /* guarded by the lock */
    int list[INITIAL + 1];
    int len;
    /* bookkeeping, outside the lock's protection on purpose */
    atomic_int readers_in, writers_in, max_readers;
    atomic_int writer_waiting;  /* the writer has asked and not yet got the lock */
    atomic_int violations;      /* a writer and a reader (or two writers) inside together */
    atomic_int order;           /* acquisition sequence */
};

enum role { READER, LATE_READER, WRITER };

struct actor {
    struct shared *sh;
    enum role role;
    struct ct_thread thread;
    double arrive_ms, got_ms, left_ms;  /* on the run's clock, as ct_say stamps */
    int seq;                    /* its place in the acquisition order */
    bool saw_writer_waiting;    /* the writer was waiting when this one arrived */
    int saw_readers;            /* readers inside when this one arrived */
    bool consistent;            /* readers: the list was 1..len */
    bool done;
};

/* What the run measured. */
struct rw_result {
    const struct config *cfg;
    int n;
    const struct actor *a;      /* the actors, in start order */
    const struct actor *writer, *late;
    int max_readers, violations, inconsistent, len;
    char list[LIST_TEXT];
    double last_reader_left;    /* last departure of a reader who got in before the writer */
};

/* Every time the demo keeps is on the run's clock, the one that stamps the
 * live lines; the timeline is drawn afterwards from these same times. */
static double since(const struct shared *sh)
{
    return ct_elapsed_ms(sh->run);
}

static void format_list(const struct shared *sh, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < sh->len && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%d", i ? ", " : "", sh->list[i]);
    if (off < n)
        snprintf(buf + off, n - off, "]");
}

/* The lock calls below block with no cancel event on purpose.  A
 * cancellable wait on a POSIX rwlock is a series of 10 ms timed waits, and
 * a writer whose timed wait ends leaves the queue for a moment: with
 * lock=rwlock-wp a waiting reader can slip in then, which is not the
 * lock's policy.  The waits are bounded all the same: every holder sleeps
 * through ct_sleep_ms, which ends at once on Ctrl-C, and then unlocks.
 *
 * Between arriving and asking for the lock an actor makes no timeline
 * mark: the timeline's mutex, shared by every thread, once made 32 readers
 * look as if they waited for the rwlock.  The lanes are drawn afterwards. */
static void read_side(struct actor *a)
{
    struct shared *sh = a->sh;
    a->arrive_ms = since(sh);
    a->saw_writer_waiting = atomic_load(&sh->writer_waiting) != 0;
    a->saw_readers = atomic_load(&sh->readers_in);
    if (a->role == LATE_READER)
        ct_say(sh->run, "arrives; %d %s inside, %s", a->saw_readers,
               a->saw_readers == 1 ? "reader" : "readers",
               a->saw_writer_waiting ? "the writer waiting" : "no writer waiting");
    if (sh->cfg->kind->read_lock(sh->lock, -1, NULL) != 0)
        return;
    a->got_ms = since(sh);
    a->seq = atomic_fetch_add(&sh->order, 1);
    int inside = atomic_fetch_add(&sh->readers_in, 1) + 1;
    ct_atomic_max(&sh->max_readers, inside);
    if (atomic_load(&sh->writers_in) != 0)
        atomic_fetch_add(&sh->violations, 1);
    a->consistent = true;
    for (int i = 0; i < sh->len; i++)
        a->consistent &= sh->list[i] == i + 1;
    char list[LIST_TEXT];
    format_list(sh, list, sizeof list);
    ct_say(sh->run, "reads after %.1f ms wait, %d in: %s", a->got_ms - a->arrive_ms, inside,
           list);
    ct_sleep_ms(sh->run, sh->cfg->hold_ms);
    atomic_fetch_sub(&sh->readers_in, 1);
    a->left_ms = since(sh);     /* before the unlock: the next holder comes after */
    sh->cfg->kind->read_unlock(sh->lock);
    a->done = true;
}

static void write_side(struct actor *a)
{
    struct shared *sh = a->sh;
    a->arrive_ms = since(sh);
    int inside = atomic_load(&sh->readers_in);
    ct_say(sh->run, "wants the write lock; %d %s inside", inside,
           inside == 1 ? "reader" : "readers");
    atomic_store(&sh->writer_waiting, 1);
    int rc = sh->cfg->kind->write_lock(sh->lock, -1, NULL);
    atomic_store(&sh->writer_waiting, 0);
    if (rc != 0)
        return;
    a->got_ms = since(sh);
    a->seq = atomic_fetch_add(&sh->order, 1);
    if (atomic_fetch_add(&sh->writers_in, 1) != 0 || atomic_load(&sh->readers_in) != 0)
        atomic_fetch_add(&sh->violations, 1);
    sh->list[sh->len] = sh->len + 1;
    sh->len++;
    ct_say(sh->run, "write lock after waiting %.1f ms; appended %d", a->got_ms - a->arrive_ms,
           sh->len);
    ct_sleep_ms(sh->run, sh->cfg->write_ms);
    atomic_fetch_sub(&sh->writers_in, 1);
    a->left_ms = since(sh);
    sh->cfg->kind->write_unlock(sh->lock);
    a->done = true;
}

static void *actor_main(void *arg)
{
    struct actor *a = arg;
    struct shared *sh = a->sh;
    if (!ct_wait(sh->run, &sh->go))
        return NULL;
    double delay = a->role == WRITER        ? sh->cfg->writer_at_ms
                   : a->role == LATE_READER ? sh->cfg->late_at_ms
                                            : 0;
    if (delay > 0 && !ct_sleep_ms(sh->run, delay))
        return NULL;
    if (a->role == WRITER)
        write_side(a);
    else
        read_side(a);
    return NULL;
}

static const char *role_name(enum role r)
{
    return r == WRITER ? "writer" : r == LATE_READER ? "late reader" : "reader";
}

/* Start the readers, the writer and the late reader, open the gate, join
 * them all.  Returns 0 or a negative errno; *n receives how many actors
 * there were. */
static int run_actors(struct ct_run *run, struct shared *sh, struct actor *a, int *n)
{
    const struct config *cfg = sh->cfg;
    int rc = 0, started = 0;
    *n = 0;
    for (int i = 0; i < cfg->readers; i++)
        a[(*n)++] = (struct actor){ .sh = sh, .role = READER };
    a[(*n)++] = (struct actor){ .sh = sh, .role = WRITER };
    if (cfg->late)
        a[(*n)++] = (struct actor){ .sh = sh, .role = LATE_READER };
    for (; started < *n; started++) {
        struct actor *x = &a[started];
        rc = x->role == READER
                 ? ct_thread_start(run, &x->thread, actor_main, x, "reader-%d", started + 1)
                 : ct_thread_start(run, &x->thread, actor_main, x, "%s",
                                   x->role == WRITER ? "writer" : "late-reader");
        if (rc)
            break;
    }
    sh->gate_ms = since(sh);
    ct_event_set(&sh->go);
    for (int i = 0; i < started; i++)
        ct_thread_join(&a[i].thread, NULL);
    return rc;
}

/* Draw each actor's lane from the times in the table: asleep from the gate
 * until it arrived (if it came late), waiting until it got the lock,
 * holding it until it left. */
static void mark_lanes(struct ct_run *run, const struct shared *sh, const struct actor *a,
                       int n)
{
    for (int i = 0; i < n; i++) {
        const struct actor *x = &a[i];
        int lane = x->thread.lane;
        if (x->role != READER)
            ct_mark_lane_at(run, lane, CT_SLEEP, sh->gate_ms);
        ct_mark_lane_at(run, lane, CT_WAIT, x->arrive_ms);
        ct_mark_lane_at(run, lane, x->role == WRITER ? CT_HOLD : CT_SHARED, x->got_ms);
        ct_mark_lane_at(run, lane, CT_IDLE, x->left_ms);
    }
}

static void summarise(const struct shared *sh, const struct actor *a, int n,
                      struct rw_result *r)
{
    *r = (struct rw_result){ .cfg = sh->cfg, .n = n, .a = a, .len = sh->len,
                             .max_readers = atomic_load(&sh->max_readers),
                             .violations = atomic_load(&sh->violations) };
    format_list(sh, r->list, sizeof r->list);
    for (int i = 0; i < n; i++) {
        if (a[i].role == WRITER)
            r->writer = &a[i];
        else if (a[i].role == LATE_READER)
            r->late = &a[i];
        if (a[i].role != WRITER && !a[i].consistent)
            r->inconsistent++;
    }
    for (int i = 0; i < n; i++) {
        if (a[i].role != WRITER && a[i].seq < r->writer->seq && a[i].left_ms > r->last_reader_left)
            r->last_reader_left = a[i].left_ms;
    }
}

static void report_table(struct ct_run *run, const struct rw_result *r)
{
    static const char *const cols[] = {
        "thread", "role", "arrived_ms|arrived ms", "waited_ms|waited ms", "locked_ms|got it ms",
        "left_ms|left ms", "order", NULL,
    };
    struct ct_table *t = ct_table_new(run, "threads", "who held the lock when (ms since start)",
                                      cols);
    for (int i = 0; i < r->n; i++) {
        const struct actor *x = &r->a[i];
        ct_table_row(t, CT_TEXT(x->thread.label), CT_TEXT(role_name(x->role)),
                     CT_NUM(x->arrive_ms, 1), CT_NUM(x->got_ms - x->arrive_ms, 1),
                     CT_NUM(x->got_ms, 1), CT_NUM(x->left_ms, 1), CT_INT(x->seq + 1));
    }
}

/* What the late reader's place in the order says about the lock. */
static void report_policy(struct ct_run *run, const struct rw_result *r)
{
    const struct actor *w = r->writer, *late = r->late;
    const char *name = r->cfg->kind->name;
    double late_wait = late->got_ms - late->arrive_ms, wait = w->got_ms - w->arrive_ms;
    ct_result_text(run, "late_saw_writer", "late reader saw writer wait",
                   late->saw_writer_waiting ? "yes" : "no");
    ct_result_int(run, "late_saw_readers", "readers in at late arrival", late->saw_readers,
                  NULL);
    ct_result_text(run, "late_before_writer", "late reader before writer",
                   late->seq < w->seq ? "yes" : "no");
    if (!late->saw_writer_waiting || late->saw_readers == 0)
        ct_takeaway(run,
                    "The late reader arrived at %.1f ms, when %s, so this run shows nothing "
                    "about the lock's policy; keep writer-at-ms well below hold-ms to see it.",
                    late->arrive_ms,
                    late->saw_writer_waiting ? "no reader was inside" : "no writer was waiting");
    else if (late->seq < w->seq)
        ct_takeaway(run,
                    "The late reader arrived at %.1f ms while the writer was waiting, and went "
                    "in ahead of it after %.1f ms: %s let a new reader pass a waiting writer "
                    "(reader preference). The writer's wait grew to %.1f ms; with readers "
                    "arriving steadily it could wait for ever (writer starvation).",
                    late->arrive_ms, late_wait, name, wait);
    else
        ct_takeaway(run,
                    "The late reader arrived at %.1f ms while the writer was waiting, and "
                    "queued behind it for %.1f ms: %s let the waiting writer go first "
                    "(writer preference), the policy that keeps a stream of readers from "
                    "starving a writer.",
                    late->arrive_ms, late_wait, name);
}

static void report(struct ct_run *run, const struct rw_result *r)
{
    const struct actor *w = r->writer;
    double wait = w->got_ms - w->arrive_ms;
    report_table(run, r);
    ct_result_text(run, "lock", "lock", r->cfg->kind->how);
    ct_result_int(run, "max_readers", "most readers inside at once", r->max_readers, NULL);
    ct_result_num(run, "writer_arrived_ms", "writer arrived at", w->arrive_ms, 1, "ms");
    ct_result_num(run, "writer_wait_ms", "writer waited", wait, 1, "ms");
    ct_result_text(run, "final", "final list", r->list);
    ct_check(run, r->violations == 0,
             "the writer never held the lock together with a reader (%d violation%s)",
             r->violations, r->violations == 1 ? "" : "s");
    ct_check(run, r->len == INITIAL + 1, "the write happened exactly once: %s", r->list);
    ct_check(run, r->inconsistent == 0, "every reader saw a whole list, before or after the "
             "write (%d did not)", r->inconsistent);

    char why[160];
    if (w->arrive_ms >= r->last_reader_left)
        snprintf(why, sizeof why, "no reader was inside when it came, so it went straight in.");
    else
        snprintf(why, sizeof why,
                 "it got the lock %.1f ms after the last reader ahead of it had left.",
                 w->got_ms - r->last_reader_left);
    char most[64];
    if (r->max_readers == 1)
        snprintf(most, sizeof most, "Only 1 reader held the read lock at a time.");
    else
        snprintf(most, sizeof most, "Up to %d readers held the read lock at the same time.",
                 r->max_readers);
    ct_takeaway(run, "%s The writer arrived at %.1f ms and waited %.1f ms: %s", most,
                w->arrive_ms, wait, why);
    if (r->late)
        report_policy(run, r);
}

static int rwlock_run(struct ct_run *run)
{
    struct config cfg = {
        .kind = ct_lock_kind_find(ct_param_choice(run, "lock")),
        .readers = (int)ct_param_int(run, "readers"),
        .late = ct_param_bool(run, "late-reader"),
        .hold_ms = ct_param_num(run, "hold-ms"),
        .write_ms = ct_param_num(run, "write-ms"),
        .writer_at_ms = ct_param_num(run, "writer-at-ms"),
    };
    cfg.late_at_ms = (cfg.writer_at_ms + cfg.hold_ms) / 2;
    struct shared sh = { .run = run, .cfg = &cfg, .len = INITIAL };
    for (int i = 0; i < INITIAL; i++)
        sh.list[i] = i + 1;
    int rc = ct_lock_new(cfg.kind, &sh.lock);
    if (rc)
        return rc;
    if ((rc = ct_event_init(&sh.go)) != 0) {
        ct_lock_free(cfg.kind, sh.lock);
        return rc;
    }
    ct_legend(run, CT_SHARED, "holding the read lock");
    ct_legend(run, CT_HOLD, "holding the write lock");
    ct_legend(run, CT_WAIT, "waiting for the lock");
    ct_legend(run, CT_SLEEP, "not there yet");
    ct_say(run, "lock: %s", cfg.kind->name);

    struct actor a[MAX_ACTORS] = { 0 };
    int n = 0;
    rc = run_actors(run, &sh, a, &n);
    bool all_done = rc == 0;
    for (int i = 0; i < n; i++)
        all_done &= a[i].done;
    if (all_done && !ct_cancelled(run)) {
        struct rw_result r;
        mark_lanes(run, &sh, a, n);
        summarise(&sh, a, n, &r);
        report(run, &r);
    }
    ct_event_destroy(&sh.go);
    ct_lock_free(cfg.kind, sh.lock);
    if (rc == 0 && !all_done && !ct_cancelled(run))
        rc = -EIO;      /* a lock call failed without a cancel: should not happen */
    return rc;
}

static const struct ct_param_spec rwlock_params[] = {
    { "lock", CT_PARAM_CHOICE, "teach-rw", 0, 0, "teach-rw,brlock,rwlock,rwlock-wp",
      "which reader-writer lock (see rwlock-bench for what each is)" },
    { "readers", CT_PARAM_INT, "5", 1, MAX_READERS, NULL, "readers that start at once" },
    { "hold-ms", CT_PARAM_NUM, "100", 1, 5000, NULL, "how long each reader holds the lock" },
    { "writer-at-ms", CT_PARAM_NUM, "50", 0, 5000, NULL, "when the writer arrives" },
    { "write-ms", CT_PARAM_NUM, "20", 0, 5000, NULL, "how long the writer holds the lock" },
    { "late-reader", CT_PARAM_BOOL, "true", 0, 0, NULL,
      "one more reader arrives while the writer waits" },
    CT_PARAMS_END,
};

static const struct ct_predict rwlock_predict = {
    .question = "A writer waits for {readers} readers to leave the {lock} lock, and then one "
                "more reader arrives. Does that late reader get in before the waiting writer, "
                "or after it?",
    .result = "late_before_writer",
    .choices = "before=yes,after=no",
};

const struct ct_demo ct_demo_rwlock = {
    .name = "rwlock",
    .chapter = 4,
    .title = "Readers together, the writer alone",
    .summary = "Readers share a read lock; a writer waits for all of them to leave",
    .intro = "Readers take the read lock together and keep it a while (by default five, "
             "for 100 ms); a writer arrives while they are in (by default at 50 ms) and "
             "must wait for every one of them before it may append to the list. A late "
             "reader then shows the lock's policy: does it queue behind the waiting writer "
             "or slip in ahead of it? Try lock=rwlock to see glibc's answer.",
    .params = rwlock_params,
    .smoke = "readers=3 hold-ms=20 writer-at-ms=10 write-ms=5",
    .run = rwlock_run,
    .predict = &rwlock_predict,
};
