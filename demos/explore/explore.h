/* explore.h - play the scheduler over small concurrent C programs, or let
 * the engine search every interleaving.
 *
 * A scenario is a handful of threads written as ordinary C against the
 * small shared-access API below (ex_load, ex_store, ex_lock, ex_wait,
 * ex_send, ...).  Every such call is a scheduling point: the engine, not
 * the operating system, decides which thread makes the next one.
 *
 * Threads are resumable functions in the protothread style, not pthreads:
 * a thread's locals live in its slot of the program state (`my->...`), and
 * each ex_* call records the access it wants to make, saves its resume
 * point (the source line) and returns to the engine.  So a whole program
 * state is one plain struct (struct ct_ex_state) that can be copied for
 * undo and backtracking, and a step is a function call: no stacks, no
 * syscalls, nothing for a sanitizer to object to.
 *
 * Rules for thread code (what makes the trick work):
 *   - keep every value that must survive an ex_* call in `my->` (plain C
 *     locals are lost when the thread returns to the engine);
 *   - at most one ex_* call per source line (the line is the resume point);
 *   - shared data is touched only through ex_* calls.
 *
 * Memory models.  CT_EX_SC: every access takes effect at once, in one
 * order.  CT_EX_TSO (x86): a plain store goes into the thread's store
 * buffer and reaches memory later, oldest first; the thread's own loads
 * see its buffer.  CT_EX_PSO: as TSO, but stores to different variables
 * may reach memory in either order (a weaker machine, or the compiler).
 * In both, each pending store is an extra actor the scheduler may pick
 * ("t0's x=1 lands"); locks, read-modify-writes, fences and release
 * stores wait until the thread's own buffer is empty.  Loads are never
 * reordered here, so an acquire load is an ordinary load in this model.
 */
#ifndef CT_EXPLORE_H
#define CT_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#define CT_EX_MAX_THREADS 4
#define CT_EX_MAX_BUF 2                 /* store-buffer slots per thread */
#define CT_EX_MAX_ACTORS (CT_EX_MAX_THREADS * (1 + CT_EX_MAX_BUF))
#define CT_EX_MAX_VARS 16
#define CT_EX_MAX_LOCKS 3
#define CT_EX_MAX_CONDS 2
#define CT_EX_MAX_CHANS 1
#define CT_EX_CHAN_CAP 4
#define CT_EX_LOCALS 32                 /* bytes of `my` per thread */
#define CT_EX_MAX_STEPS 96              /* longest schedule */
#define CT_EX_CLOSED (-1)               /* ex_recv on a closed, empty channel */

enum ct_ex_memory { CT_EX_SC, CT_EX_TSO, CT_EX_PSO };

enum ct_ex_op_kind {
    CT_EX_OP_END,           /* the thread has finished */
    CT_EX_OP_LOAD,
    CT_EX_OP_STORE,
    CT_EX_OP_STORE_REL,     /* release store: own buffer drained first */
    CT_EX_OP_LOAD_ACQ,
    CT_EX_OP_FETCH_ADD,
    CT_EX_OP_CAS,
    CT_EX_OP_FENCE,         /* seq_cst fence: own buffer drained */
    CT_EX_OP_FREE,          /* the variable is an allocation flag: 1 -> 0 */
    CT_EX_OP_LOCK,
    CT_EX_OP_UNLOCK,
    CT_EX_OP_WAIT,          /* release the mutex and sleep on the condvar */
    CT_EX_OP_WAKE,          /* second half of ex_wait: woken, relock */
    CT_EX_OP_SIGNAL,
    CT_EX_OP_BROADCAST,
    CT_EX_OP_SEND,
    CT_EX_OP_RECV,
    CT_EX_OP_DROP,          /* drop this thread's sender of a channel */
    CT_EX_OP_FLUSH,         /* a store-buffer actor: the store lands */
};

/* The access a thread will make when it is next picked.  No padding, so
 * that states compare and hash as bytes. */
struct ct_ex_op {
    uint8_t kind;           /* enum ct_ex_op_kind */
    uint8_t a;              /* variable, mutex, condvar or channel */
    uint8_t b;              /* the mutex of a wait */
    uint8_t pad;
    int32_t v, w;           /* value stored or added; CAS expected, desired */
};

struct ct_ex_pending {      /* one store waiting in a store buffer */
    uint8_t var, pad[3];
    int32_t val;
};

struct ct_ex_thread {
    uint16_t pc;            /* resume point: source line * 4 + k; 0 at start */
    uint8_t id;
    uint8_t done;
    uint8_t waiting;        /* condvar + 1 while asleep in ex_wait */
    uint8_t ticket;         /* order of falling asleep: who a signal wakes */
    uint8_t nbuf;           /* stores in the buffer, oldest first */
    uint8_t pad;
    struct ct_ex_op op;     /* what it does when picked */
    int32_t ret;            /* the result of its last access */
    struct ct_ex_pending buf[CT_EX_MAX_BUF];
    const char *fault;      /* set by ex_fail_if */
    _Alignas(8) unsigned char locals[CT_EX_LOCALS];   /* `my` */
};

struct ct_ex_chan {
    uint8_t count, head;
    uint8_t senders;        /* bit t: thread t still holds a sender */
    uint8_t pad;
    int32_t item[CT_EX_CHAN_CAP];
};

/* A whole program state.  Everything from `mem` to the end is plain data
 * that decides the future; `fault` names a broken rule (a double free, an
 * ex_fail_if) and stops the schedule. */
struct ct_ex_state {
    struct ct_ex_thread th[CT_EX_MAX_THREADS];
    int32_t mem[CT_EX_MAX_VARS];
    int8_t owner[CT_EX_MAX_LOCKS];      /* thread holding the mutex, or -1 */
    uint8_t tickets;
    int8_t last_thread;                 /* for counting preemptions; -1 */
    uint8_t preemptions;
    uint8_t lost_signals;               /* signals nobody was waiting for */
    uint8_t pad;
    struct ct_ex_chan chan[CT_EX_MAX_CHANS];
    int32_t fault_actor;                /* -1: no fault */
    const char *fault;
};

/* The parameters of one run of a scenario. */
struct ct_ex_config {
    int threads;
    int iters;
    bool fixed;
};

typedef void ct_ex_thread_fn(struct ct_ex_thread *ex_t, const struct ct_ex_config *ex_cfg);

/* One thread's code, and the name of its function in the scenario's
 * source (found there to draw the code). */
struct ct_ex_code {
    ct_ex_thread_fn *fn;
    const char *fn_name;
    const char *locals;     /* names of the int members of `my`, "i,tmp" */
};
#define CT_EX_CODE(fn, locals) { fn, #fn, locals }

struct ct_ex_scenario {
    const char *name;
    const char *title;          /* a few words */
    const char *lesson;         /* the lesson that teaches it (`show` links it) */
    const char *story;          /* what the threads do, a sentence or two */
    const char *invariant;      /* what must hold */
    const char *goal;           /* for the student playing the scheduler */
    const char *fix;            /* what the fixed version changes */
    const char *source;         /* the file with the thread code */
    enum ct_ex_memory memory;
    int buf_slots;              /* store-buffer slots per thread (TSO/PSO) */
    int threads_min, threads_max, threads_def;
    int iters_min, iters_max, iters_def;
    const char *vars;           /* names of mem[0], mem[1], ... "x,y" */
    const char *locks;          /* names of the mutexes, or NULL */
    const char *conds;
    const char *chans;
    const char *thread_names;   /* "waiter,notifier"; more threads: "t2".. */
    /* the code of thread i is broken[i] (fixed[i] in the fixed version),
     * or the last entry for a thread past the listed ones */
    struct ct_ex_code broken[CT_EX_MAX_THREADS];
    struct ct_ex_code fixed[CT_EX_MAX_THREADS];
    void (*init)(struct ct_ex_state *s, const struct ct_ex_config *cfg);
    /* NULL if the state is fine.  `final`: every thread has finished.
     * May write the message into buf. */
    const char *(*check)(const struct ct_ex_state *s, const struct ct_ex_config *cfg,
                         bool final, char *buf, size_t n);
};

/* The scenario table (scenarios.c), in teaching order. */
extern const struct ct_ex_scenario *const ct_ex_scenarios[];
extern const size_t ct_ex_scenario_count;
const struct ct_ex_scenario *ct_ex_scenario_find(const char *name);

/* The scenarios' source files, embedded at build time: the text of
 * `name` ("sc-locks.c"), or NULL. */
const char *ct_ex_source(const char *name);

/* ---- the engine ---------------------------------------------------------- */

/* A scenario with its parameters, ready to run. */
struct ct_ex_world {
    const struct ct_ex_scenario *sc;
    struct ct_ex_config cfg;
    int nthreads, nactors;
    const struct ct_ex_code *code[CT_EX_MAX_THREADS];
};

enum ct_ex_status {
    CT_EX_RUNNING,      /* some actor can step */
    CT_EX_FINISHED,     /* every thread finished and the invariant held */
    CT_EX_BROKEN,       /* the invariant broke, or a rule did */
    CT_EX_DEADLOCK,     /* nobody can step, yet not every thread finished */
};

/* Fill `w` for scenario `sc` (cfg's threads/iters 0: the defaults).
 * 0, or -EINVAL if a parameter is out of the scenario's range. */
int ct_ex_world_init(struct ct_ex_world *w, const struct ct_ex_scenario *sc,
                     const struct ct_ex_config *cfg);

/* The start state: every thread run up to its first access. */
void ct_ex_start(const struct ct_ex_world *w, struct ct_ex_state *s);

/* Actors: threads 0..nthreads-1, then for thread t the store-buffer slot k
 * as nthreads + t * buf_slots + k.  Which ones can step now (bit i for
 * actor i). */
uint32_t ct_ex_enabled(const struct ct_ex_world *w, const struct ct_ex_state *s);

/* The thread of actor a; *slot gets its store-buffer slot, or -1 when the
 * actor is the thread itself. */
int ct_ex_actor_thread(const struct ct_ex_world *w, int a, int *slot);

/* Let actor `a` (which must be enabled) make its access, then run its
 * code up to the next one. */
void ct_ex_step(const struct ct_ex_world *w, struct ct_ex_state *s, int a);

/* Where the state stands; a message for BROKEN goes into buf. */
enum ct_ex_status ct_ex_status(const struct ct_ex_world *w, const struct ct_ex_state *s,
                               char *buf, size_t n);

/* The same, given ct_ex_enabled(w, s). */
enum ct_ex_status ct_ex_status_en(const struct ct_ex_world *w, const struct ct_ex_state *s,
                                  uint32_t enabled, char *buf, size_t n);

/* Whether actors a and b, both enabled in s, touch a common object with
 * at least one writing (then their order matters). */
bool ct_ex_dependent(const struct ct_ex_world *w, const struct ct_ex_state *s, int a, int b);

/* Whether stepping actor a now would be a preemption: a switch away from
 * a thread that could have gone on (store-buffer actors never count). */
bool ct_ex_is_preemption(const struct ct_ex_world *w, const struct ct_ex_state *s, int a);

/* Descriptions for people.  The access actor `a` will make ("load
 * counter", "lock a", "x=1 lands"); after a step, what it did with its
 * result ("load counter -> 0"); why a thread cannot step; the name of an
 * actor ("t0", "waiter", "t0's buffer").  Each writes at most n bytes. */
void ct_ex_describe_next(const struct ct_ex_world *w, const struct ct_ex_state *s, int a,
                         char *buf, size_t n);
void ct_ex_describe_done(const struct ct_ex_world *w, const struct ct_ex_state *before,
                         const struct ct_ex_state *after, int a, char *buf, size_t n);
void ct_ex_describe_blocked(const struct ct_ex_world *w, const struct ct_ex_state *s, int t,
                            char *buf, size_t n);
void ct_ex_actor_name(const struct ct_ex_world *w, int a, char *buf, size_t n);
/* "counter=2", "a: t0", ... the shared state on one line */
void ct_ex_describe_shared(const struct ct_ex_world *w, const struct ct_ex_state *s,
                           char *buf, size_t n);
/* "i=1 tmp=0": the named locals of thread t (its pending stores are
 * actors of their own, described by ct_ex_describe_next) */
void ct_ex_describe_locals(const struct ct_ex_world *w, const struct ct_ex_state *s, int t,
                           char *buf, size_t n);
/* The name of item `i` in a comma-separated list ("x,y"), or "#i". */
void ct_ex_list_name(const char *list, int i, char *buf, size_t n);

/* A deadlock as its wait-for graph: one line per blocked thread ("t0
 * holds a, waits for b (held by t1)"), then the cycle if there is one
 * ("cycle: t0 -> t1 -> t0").  Returns the number of lines written into
 * lines[max][len]. */
int ct_ex_wait_for(const struct ct_ex_world *w, const struct ct_ex_state *s,
                   char (*lines)[96], int max);

/* Parse "0,1,1,0" into actors; checks nothing but syntax and range of
 * the numbers (0..99).  Returns the length, or -EINVAL with the bad item
 * at *bad_at (index into the string). */
int ct_ex_parse_schedule(const char *text, uint8_t *out, int max, size_t *bad_at);

/* Run `sched` from the start.  Returns how many steps ran; on a step that
 * cannot run (actor out of range, blocked or finished, or the run already
 * over) stops there and writes why into err.  `states` (if not NULL) gets
 * the state after each step (states[0] the start). */
int ct_ex_replay(const struct ct_ex_world *w, const uint8_t *sched, int len,
                 struct ct_ex_state *states, char *err, size_t n);

/* ---- search ---------------------------------------------------------------- */

struct ct_ex_search_opts {
    int bound;                  /* preemption bound; < 0: none */
    bool reduce;                /* sleep sets (true) or every interleaving */
    bool count_naive;           /* also count what plain enumeration needs */
    uint64_t limit;             /* stop after this many schedules; 0: none */
    volatile sig_atomic_t *cancel;       /* stop soon once *cancel is set; may be NULL */
};

struct ct_ex_search_result {
    uint64_t explored;          /* schedules run to the end (or to a break) */
    uint64_t violating;         /* of which broke the invariant or deadlocked */
    uint64_t deadlocks;         /* of the violating, how many deadlocked */
    uint64_t pruned;            /* partial schedules stopped by the sleep set */
    uint64_t bound_cut;         /* steps refused for the preemption bound */
    uint64_t too_long;          /* schedules cut at CT_EX_MAX_STEPS */
    uint64_t steps;             /* steps executed in all */
    /* plain enumeration (count_naive), same bound; saturates at UINT64_MAX */
    uint64_t naive, naive_violating;
    int naive_shortest;         /* shortest breaking schedule there; 0: none */
    uint64_t naive_states;      /* distinct states it needed to count */
    /* the shortest breaking schedule found, 0 if none */
    int shortest;
    uint8_t sched[CT_EX_MAX_STEPS];
    char message[160];          /* what broke */
    enum ct_ex_status how;      /* BROKEN or DEADLOCK */
    bool naive_counted;         /* false: too many states to count */
    bool stopped;               /* by the limit or *cancel: figures partial */
    double seconds;             /* of the reduced search alone */
    double cpu_seconds;         /* the CPU time it took (steadier on a busy machine) */
};

/* Search every schedule of `w` within the options.  0, or -ENOMEM. */
int ct_ex_search(const struct ct_ex_world *w, const struct ct_ex_search_opts *o,
                 struct ct_ex_search_result *r);

/* ---- the API of thread code ------------------------------------------------- */

/* A thread function's parameter list and first line:
 *
 *     static void adder(EX_THREAD)
 *     {
 *         EX_BEGIN(struct adder_locals);
 *         ... my->i ...
 *         EX_END;
 *     }
 */
#define EX_THREAD struct ct_ex_thread *ex_t, const struct ct_ex_config *ex_cfg

#define EX_BEGIN(type)                                                          \
    _Static_assert(sizeof(type) <= CT_EX_LOCALS, "locals too big");             \
    type *my = (type *)(void *)ex_t->locals;                                    \
    (void)my, (void)ex_cfg;                                                     \
    switch (ex_t->pc) {                                                         \
    case 0:

#define EX_END                                                                  \
    }                                                                           \
    ex_t->op.kind = CT_EX_OP_END;                                               \
    ex_t->done = 1

/* The scenario's parameters, readable in thread code. */
#define ex_iters (ex_cfg->iters)
#define ex_fixed (ex_cfg->fixed)
#define ex_self ((int)ex_t->id)
#define EX_CLOSED CT_EX_CLOSED

/* Record the access, save the resume point and go back to the engine; the
 * engine makes the access when it picks this thread and calls the function
 * again, which jumps back here.  k tells apart two points on one line. */
#define EX_POINT_(k, kind_, a_, b_, v_, w_)                                     \
    do {                                                                        \
        ex_t->pc = (uint16_t)(__LINE__ * 4 + (k));                              \
        ex_t->op.kind = (uint8_t)(kind_);                                       \
        ex_t->op.a = (uint8_t)(a_);                                             \
        ex_t->op.b = (uint8_t)(b_);                                             \
        ex_t->op.v = (int32_t)(v_);                                             \
        ex_t->op.w = (int32_t)(w_);                                             \
        return;                                                                 \
    case __LINE__ * 4 + (k):;                                                   \
    } while (0)

/* *dst = var */
#define ex_load(var, dst)                                                       \
    do { EX_POINT_(0, CT_EX_OP_LOAD, var, 0, 0, 0); *(dst) = ex_t->ret; } while (0)
/* var = val */
#define ex_store(var, val) EX_POINT_(0, CT_EX_OP_STORE, var, 0, val, 0)
/* memory_order_release store / acquire load */
#define ex_store_release(var, val) EX_POINT_(0, CT_EX_OP_STORE_REL, var, 0, val, 0)
#define ex_load_acquire(var, dst)                                               \
    do { EX_POINT_(0, CT_EX_OP_LOAD_ACQ, var, 0, 0, 0); *(dst) = ex_t->ret; } while (0)
/* *old = var, var += add, in one step */
#define ex_fetch_add(var, add, old)                                             \
    do { EX_POINT_(0, CT_EX_OP_FETCH_ADD, var, 0, add, 0); *(old) = ex_t->ret; } while (0)
/* if var == expected: var = desired, *ok = 1; else *ok = 0 */
#define ex_cas(var, expected, desired, ok)                                      \
    do {                                                                        \
        EX_POINT_(0, CT_EX_OP_CAS, var, 0, expected, desired);                  \
        *(ok) = ex_t->ret;                                                      \
    } while (0)
#define ex_fence() EX_POINT_(0, CT_EX_OP_FENCE, 0, 0, 0, 0)
/* free the object whose allocation flag is `var` (freeing twice breaks) */
#define ex_free(var) EX_POINT_(0, CT_EX_OP_FREE, var, 0, 0, 0)
#define ex_lock(m) EX_POINT_(0, CT_EX_OP_LOCK, m, 0, 0, 0)
#define ex_unlock(m) EX_POINT_(0, CT_EX_OP_UNLOCK, m, 0, 0, 0)
/* pthread_cond_wait: two steps, going to sleep and waking up (relocking) */
#define ex_wait(cv, m)                                                          \
    do {                                                                        \
        EX_POINT_(0, CT_EX_OP_WAIT, cv, m, 0, 0);                               \
        EX_POINT_(1, CT_EX_OP_WAKE, cv, m, 0, 0);                               \
    } while (0)
#define ex_signal(cv) EX_POINT_(0, CT_EX_OP_SIGNAL, cv, 0, 0, 0)
#define ex_broadcast(cv) EX_POINT_(0, CT_EX_OP_BROADCAST, cv, 0, 0, 0)
#define ex_send(ch, val) EX_POINT_(0, CT_EX_OP_SEND, ch, 0, val, 0)
/* *dst = the next message, or CT_EX_CLOSED once every sender is gone */
#define ex_recv(ch, dst)                                                        \
    do { EX_POINT_(0, CT_EX_OP_RECV, ch, 0, 0, 0); *(dst) = ex_t->ret; } while (0)
#define ex_drop_sender(ch) EX_POINT_(0, CT_EX_OP_DROP, ch, 0, 0, 0)

/* Not a scheduling point: the thread notices something wrong and says so
 * (the schedule stops there as broken). */
#define ex_fail_if(cond, msg)                                                   \
    do {                                                                        \
        if (cond) {                                                             \
            ex_t->op.kind = CT_EX_OP_END;                                       \
            ex_t->done = 1;                                                     \
            ex_t->pc = (uint16_t)(__LINE__ * 4);                                \
            ex_t->fault = (msg);                                                \
            return;                                                             \
        }                                                                       \
    } while (0)

/* Locals of thread t, for a scenario's check function. */
#define CT_EX_LOCALS_OF(s, t, type) ((const type *)(const void *)(s)->th[t].locals)

#endif
