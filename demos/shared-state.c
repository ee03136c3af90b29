/* shared-state.c - demo `shared-state`: an in-memory user store behind a
 * reader-writer lock, five writers and ten readers, as in the guide.
 *
 * Shows: the guide's Arc<RwLock<HashMap<u64, User>>> as a C struct: a
 * table of users keyed by id and the lock that guards it, shared by
 * pointer.  Each writer adds its user, then renames it a few times; a
 * rename writes the name, pauses while still holding the write lock, then
 * writes the e-mail address, so a reader that could look in between would
 * see a torn record.  Each reader waits 50 ms (as in the guide), then
 * looks up user id % 5 and lists all users, a few rounds.  Every record a
 * reader copies out is checked against what a whole update writes, and
 * every list against the one before it.  lock=mutex puts a plain mutex in
 * the same place for comparison.
 * Watch for: the read locks overlapping on the timeline (r r r), the
 * writers' waits, and the torn-record count, which must stay 0.
 * Lesson: shared-state (chapter 8).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "check.h"
#include "clock.h"
#include "rwlock.h"
#include "wait.h"

#define MAX_USERS 16
#define MAX_READERS 32

struct user {
    bool present;
    unsigned long long id;
    int version;                /* 1 when added, +1 per rename */
    char name[32];
    char email[48];
};

/* The store: the data and its lock side by side, shared by pointer (what
 * Arc gives each Rust task). */
struct store {
    bool use_mutex;
    struct ct_rwlock rw;        /* lock=rwlock */
    pthread_mutex_t mu;         /* lock=mutex */
    struct user users[MAX_USERS];   /* guarded by the lock; index = id */
    int count;
    atomic_int readers_in, writers_in, max_readers_in, overlaps;
};

struct role_stats {
    int locks;
    double wait_ms, max_wait_ms, hold_ms;
};

struct actor {
    struct ct_thread thread;
    struct ct_run *run;
    struct store *st;
    int id, users, updates, rounds;
    double pause_ms, hold_ms, start_ms;    /* hold: read-ms or write-ms */
    struct role_stats stats;
    /* readers */
    int gets, found, records, torn, shrank, last_count;
};

/* What a whole update writes into user `id` at `version`. */
static void fill(struct user *u, unsigned long long id, int version, bool name, bool email)
{
    if (name)
        snprintf(u->name, sizeof u->name, "User %llu v%d", id, version);
    if (email)
        snprintf(u->email, sizeof u->email, "user%llu.v%d@example.com", id, version);
}

/* Is `u` exactly what one whole update writes? */
static bool whole(const struct user *u)
{
    struct user want = { 0 };
    fill(&want, u->id, u->version, true, true);
    return strcmp(u->name, want.name) == 0 && strcmp(u->email, want.email) == 0;
}

/* ---- the lock, either kind --------------------------------------------- */

/* Lock for reading or writing; the wait is timed and counted, and the
 * store's own counters catch a writer inside with anyone else. */
static int lock(struct actor *a, bool write)
{
    struct store *st = a->st;
    struct ct_event *cancel = ct_cancel_event(a->run);
    ct_mark(a->run, CT_WAIT);
    int64_t t0 = ct_clock_ns();
    int rc;
    if (st->use_mutex)
        rc = ct_mutex_lock_bounded(&st->mu, CT_FOREVER, cancel);
    else
        rc = write ? ct_rwlock_write_lock(&st->rw, cancel) : ct_rwlock_read_lock(&st->rw, cancel);
    if (rc) {
        ct_mark(a->run, CT_IDLE);
        return rc;
    }
    double w = (double)(ct_clock_ns() - t0) / 1e6;
    a->stats.locks++;
    a->stats.wait_ms += w;
    a->stats.max_wait_ms = w > a->stats.max_wait_ms ? w : a->stats.max_wait_ms;
    if (write) {
        int others = atomic_fetch_add(&st->writers_in, 1) + atomic_load(&st->readers_in);
        atomic_fetch_add(&st->overlaps, others > 0);
    } else {
        int in = atomic_fetch_add(&st->readers_in, 1) + 1;
        int seen = atomic_load(&st->max_readers_in);
        while (in > seen && !atomic_compare_exchange_weak(&st->max_readers_in, &seen, in))
            ;
        atomic_fetch_add(&st->overlaps, atomic_load(&st->writers_in) > 0);
    }
    ct_mark(a->run, write ? CT_HOLD : CT_SHARED);
    return 0;
}

static void unlock(struct actor *a, bool write, int64_t since)
{
    struct store *st = a->st;
    a->stats.hold_ms += (double)(ct_clock_ns() - since) / 1e6;
    atomic_fetch_sub(write ? &st->writers_in : &st->readers_in, 1);
    ct_mark(a->run, CT_IDLE);
    if (st->use_mutex)
        CT_PT(pthread_mutex_unlock(&st->mu));
    else if (write)
        ct_rwlock_write_unlock(&st->rw);
    else
        ct_rwlock_read_unlock(&st->rw);
}

/* ---- writers and readers ------------------------------------------------ */

/* Add the user, then rename it `updates` times.  A rename writes the name,
 * pauses with the write lock held, then writes the e-mail: only the lock
 * keeps readers from seeing the record in between. */
static void *writer_main(void *arg)
{
    struct actor *a = arg;
    struct store *st = a->st;
    struct ct_run *run = a->run;
    for (int v = 1; v <= 1 + a->updates; v++) {
        if (v > 1) {
            ct_mark(run, CT_SLEEP);
            if (!ct_sleep_ms(run, a->pause_ms))
                break;
        }
        if (lock(a, true))
            break;
        int64_t t = ct_clock_ns();
        struct user *u = &st->users[a->id];
        if (v == 1) {
            *u = (struct user){ .present = true, .id = (unsigned long long)a->id };
            st->count++;
        }
        u->version = v;
        fill(u, u->id, v, true, false);
        bool slept = ct_sleep_ms(run, a->hold_ms);
        fill(u, u->id, v, false, true);
        int count = st->count;
        unlock(a, true, t);
        if (v == 1)
            ct_say(run, "user %d added, total users: %d", a->id, count);
        else
            ct_say(run, "user %d renamed: v%d", a->id, v);
        if (!slept)
            break;
    }
    ct_mark(run, CT_IDLE);
    return NULL;
}

/* One round: look one user up, then list them all, each under the read
 * lock, copying what it reads (the guide's .cloned()) and checking the
 * copies once the lock is released.  False when cancelled. */
static bool read_round(struct actor *a)
{
    struct store *st = a->st;
    struct user one, all[MAX_USERS];
    int n = 0, count;
    if (lock(a, false))
        return false;
    int64_t t = ct_clock_ns();
    one = st->users[a->id % a->users];
    bool ok = ct_sleep_ms(a->run, a->hold_ms);      /* reading takes a while */
    unlock(a, false, t);
    if (!ok || lock(a, false))
        return false;
    t = ct_clock_ns();
    for (int i = 0; i < MAX_USERS; i++)
        if (st->users[i].present)
            all[n++] = st->users[i];
    count = st->count;
    ok = ct_sleep_ms(a->run, a->hold_ms);
    unlock(a, false, t);

    a->gets++;
    if (one.present) {
        a->found++;
        a->records++;
        a->torn += !whole(&one);
    }
    for (int i = 0; i < n; i++)
        a->torn += !whole(&all[i]);
    a->records += n;
    a->shrank += count < a->last_count || n != count;
    a->last_count = count;
    if (one.present)
        ct_say(a->run, "found %s; list: %d users", one.name, count);
    else
        ct_say(a->run, "user %d not there yet; list: %d users", a->id % a->users, count);
    return ok;
}

static void *reader_main(void *arg)
{
    struct actor *a = arg;
    ct_mark(a->run, CT_SLEEP);
    bool go = ct_sleep_ms(a->run, a->start_ms);    /* the guide's 50 ms */
    for (int r = 0; go && r < a->rounds; r++) {
        if (r > 0) {
            ct_mark(a->run, CT_SLEEP);
            if (!ct_sleep_ms(a->run, a->pause_ms))
                break;
        }
        go = read_round(a);
    }
    ct_mark(a->run, CT_IDLE);
    return NULL;
}

/* ---- run and report ----------------------------------------------------- */

struct state_result {
    int writers, readers, updates, rounds;
    bool use_mutex;
    double hold_w_ms;           /* write-ms, as asked */
    struct role_stats w, r;     /* summed over each role */
    int gets, found, records, torn, shrank;
    int max_readers_in, overlaps;
    int final_users, final_whole;   /* checked by main after the joins */
};

static void add_stats(struct role_stats *sum, const struct role_stats *s)
{
    sum->locks += s->locks;
    sum->wait_ms += s->wait_ms;
    sum->hold_ms += s->hold_ms;
    sum->max_wait_ms = s->max_wait_ms > sum->max_wait_ms ? s->max_wait_ms : sum->max_wait_ms;
}

/* Start every writer and reader, join them all, and sum up. */
static int run_actors(struct ct_run *run, struct store *st, struct actor *a, int n,
                      struct state_result *r)
{
    int rc = 0, started = 0;
    for (; started < n && rc == 0; started++) {
        bool writer = started < r->writers;
        rc = ct_thread_start(run, &a[started].thread, writer ? writer_main : reader_main,
                             &a[started], writer ? "writer-%d" : "reader-%d",
                             writer ? a[started].id : a[started].id - r->writers);
        if (rc)
            break;
    }
    for (int i = 0; i < started; i++)
        ct_thread_join(&a[i].thread, NULL);
    for (int i = 0; i < n; i++) {
        add_stats(i < r->writers ? &r->w : &r->r, &a[i].stats);
        r->gets += a[i].gets;
        r->found += a[i].found;
        r->records += a[i].records;
        r->torn += a[i].torn;
        r->shrank += a[i].shrank;
    }
    r->max_readers_in = atomic_load(&st->max_readers_in);
    r->overlaps = atomic_load(&st->overlaps);
    /* every thread is joined: main may read the store without the lock */
    for (int i = 0; i < MAX_USERS; i++) {
        const struct user *u = &st->users[i];
        r->final_users += u->present;
        r->final_whole += u->present && u->version == 1 + r->updates && whole(u);
    }
    return rc;
}

static void report_state(struct ct_run *run, const struct state_result *r)
{
    static const char *const cols[] = { "role", "threads", "locks", "wait_ms|mean wait ms",
                                        "max_wait_ms|max wait ms", "hold_ms|mean hold ms",
                                        NULL };
    struct ct_table *t = ct_table_new(run, "roles", NULL, cols);
    const struct role_stats *s[2] = { &r->w, &r->r };
    for (int i = 0; i < 2; i++)
        ct_table_row(t, CT_TEXT(i ? "readers" : "writers"), CT_INT(i ? r->readers : r->writers),
                     CT_INT(s[i]->locks),
                     CT_NUM(s[i]->locks ? s[i]->wait_ms / s[i]->locks : 0, 1),
                     CT_NUM(s[i]->max_wait_ms, 1),
                     CT_NUM(s[i]->locks ? s[i]->hold_ms / s[i]->locks : 0, 1));
    ct_result_text(run, "lock", "lock", r->use_mutex ? "mutex" : "rwlock");
    ct_result_int(run, "users", "users at the end", r->final_users, NULL);
    ct_result_int(run, "records_read", "user records read and checked", r->records, NULL);
    ct_result_int(run, "torn", "torn records seen", r->torn, NULL);
    ct_result_int(run, "max_readers", "readers inside at once, at most", r->max_readers_in,
                  NULL);
    ct_result_int(run, "lookups_found", "lookups that found their user", r->found, NULL);
    ct_result_int(run, "lookups", "lookups", r->gets, NULL);

    ct_check(run, r->torn == 0, "no reader saw a torn record (%d of %d)", r->torn, r->records);
    ct_check(run, r->overlaps == 0, "a writer was never inside with anyone else (%d times)",
             r->overlaps);
    ct_check(run, r->shrank == 0, "no reader's list ever shrank or miscounted (%d)", r->shrank);
    ct_check(run, r->final_users == r->writers && r->final_whole == r->writers,
             "the store ends with %d users, each whole at v%d (%d users, %d whole)", r->writers,
             1 + r->updates, r->final_users, r->final_whole);
    if (r->use_mutex)
        ct_check(run, r->max_readers_in == 1, "with a mutex, readers went in one at a time "
                 "(most at once: %d)", r->max_readers_in);
    double w_wait = r->w.locks ? r->w.wait_ms / r->w.locks : 0;
    double r_wait = r->r.locks ? r->r.wait_ms / r->r.locks : 0;
    char waits[160];
    snprintf(waits, sizeof waits,
             "Writers waited %.1f ms on average (at most %.1f) and readers %.1f ms (at most "
             "%.1f).", w_wait, r->w.max_wait_ms, r_wait, r->r.max_wait_ms);
    if (r->use_mutex)
        ct_takeaway(run, "With a mutex, readers went in one at a time. %s Run lock=rwlock%s "
                    "to let readers share.", waits, r->readers == 1 ? " readers=10" : "");
    else if (r->max_readers_in >= 2)
        ct_takeaway(run, "Up to %d readers were inside together (a read lock is shared). %s "
                    "Run lock=mutex to see the readers queue instead.", r->max_readers_in,
                    waits);
    else if (r->readers == 1)
        ct_takeaway(run, "With one reader, no reader ever shared the read lock. %s Run "
                    "readers=10 to see readers inside together.", waits);
    else
        ct_takeaway(run, "No two readers were inside at once this time, so the read lock "
                    "was never shared. %s A longer read-ms gives their reads time to overlap.",
                    waits);

    int adds = r->writers, renames = r->w.locks - r->writers;
    char writes[96];
    if (renames > 0)
        snprintf(writes, sizeof writes, "every add and rename (%d and %d)", adds, renames);
    else
        snprintf(writes, sizeof writes, "every add (%d, and no renames)", adds);
    const char *lock = r->use_mutex ? "the mutex" : "the read lock";
    if (r->hold_w_ms > 0)
        ct_takeaway(run,
                    "%d records were copied out and checked, and %d were torn, although %s "
                    "wrote the name, paused %.0f ms with the lock held, then wrote the e-mail. "
                    "%s makes an update indivisible for readers; the copy taken under %s is a "
                    "consistent snapshot they can use after letting go.",
                    r->records, r->torn, writes, r->hold_w_ms * ct_scale(run),
                    r->use_mutex ? "The mutex" : "The write lock", lock);
    else
        ct_takeaway(run,
                    "%d records were copied out and checked, and %d were torn. With write-ms=0, "
                    "%s wrote the name and then the e-mail with no pause between them, so a "
                    "reader had almost no gap to fall into: run write-ms=4 to widen it. The copy "
                    "taken under %s is a consistent snapshot readers can use after letting go.",
                    r->records, r->torn, writes, lock);
}

static int state_run(struct ct_run *run)
{
    struct state_result r = {
        .writers = (int)ct_param_int(run, "writers"),
        .readers = (int)ct_param_int(run, "readers"),
        .updates = (int)ct_param_int(run, "updates"),
        .rounds = (int)ct_param_int(run, "rounds"),
        .use_mutex = ct_param_has(run, "lock", "mutex"),
        .hold_w_ms = (double)ct_param_int(run, "write-ms"),
    };
    int n = r.writers + r.readers;
    struct store *st = calloc(1, sizeof *st);
    struct actor *a = calloc((size_t)n, sizeof *a);
    int rc = !st || !a ? -ENOMEM : 0;
    if (rc == 0) {
        st->use_mutex = r.use_mutex;
        rc = r.use_mutex ? -pthread_mutex_init(&st->mu, NULL) : ct_rwlock_init(&st->rw);
    }
    if (rc) {
        free(st);
        free(a);
        return rc;
    }
    for (int i = 0; i < n; i++)
        a[i] = (struct actor){ .run = run, .st = st, .id = i, .users = r.writers,
                               .updates = r.updates, .rounds = r.rounds,
                               .hold_ms = (double)ct_param_int(run, i < r.writers ? "write-ms"
                                                                                  : "read-ms"),
                               .pause_ms = (double)ct_param_int(run, "pause-ms"),
                               .start_ms = (double)ct_param_int(run, "start-ms") };
    ct_legend(run, CT_SHARED, "reading (read lock)");
    ct_legend(run, CT_HOLD, "writing (write lock)");
    ct_legend(run, CT_WAIT, "waiting for the lock");
    ct_legend(run, CT_SLEEP, "pausing");
    ct_say(run, "%d writers, %d readers, one store behind a %s", r.writers, r.readers,
           r.use_mutex ? "mutex" : "rwlock");
    rc = run_actors(run, st, a, n, &r);
    if (r.use_mutex)
        CT_PT(pthread_mutex_destroy(&st->mu));
    else
        ct_rwlock_destroy(&st->rw);
    free(st);
    free(a);
    if (rc == 0 && !ct_cancelled(run))
        report_state(run, &r);
    return rc;
}

static const struct ct_param_spec state_params[] = {
    { "writers", CT_PARAM_INT, "5", 1, MAX_USERS, NULL, "writer threads, one user each" },
    { "readers", CT_PARAM_INT, "10", 1, MAX_READERS, NULL, "reader threads" },
    { "updates", CT_PARAM_INT, "2", 0, 20, NULL, "renames per writer after adding" },
    { "rounds", CT_PARAM_INT, "2", 1, 20, NULL, "lookup-and-list rounds per reader" },
    { "read-ms", CT_PARAM_INT, "10", 0, 1000, NULL, "ms a reader holds the read lock" },
    { "write-ms", CT_PARAM_INT, "4", 0, 1000, NULL, "ms a writer holds the write lock" },
    { "pause-ms", CT_PARAM_INT, "40", 0, 1000, NULL, "ms between a thread's operations" },
    { "start-ms", CT_PARAM_INT, "50", 0, 1000, NULL, "ms readers wait before the first" },
    { "lock", CT_PARAM_CHOICE, "rwlock", 0, 0, "rwlock,mutex", "what guards the store" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_shared_state = {
    .name = "shared-state",
    .chapter = 8,
    .title = "A user store behind a reader-writer lock",
    .summary = "Five writers, ten readers, one store: reads overlap, no record is ever torn",
    .intro = "Five writers add users and rename them; ten readers look users up and list "
             "them. Every rename writes the name, pauses, then writes the e-mail, all under "
             "the write lock: watch the readers share the lock, and count the torn records.",
    .params = state_params,
    .smoke = "writers=3 readers=4 updates=1 rounds=1 read-ms=2 write-ms=1 pause-ms=3 start-ms=5",
    .run = state_run,
};
