/* threads.c - demo `threads`: start a thread, let it interleave with main,
 * join it; then the same program without the join, for real.
 *
 * Shows: (1) main starts a thread with pthread_create; the thread prints 9
 * numbered lines and main prints 4, each with a 1 ms sleep after every line,
 * so their lines interleave; then main waits in pthread_join, which hands
 * back the thread's return value.  (2) The same program run as a separate
 * child process whose main does not join: it prints its 4 lines and returns
 * from main(), exit() ends the process, and the spawned thread dies in the
 * middle of its count.  The parent reads the child's lines through a pipe and
 * counts how many of the thread's lines made it out.
 * Watch for: the order of the M and S lines (the scheduler's choice, new on
 * every run), main's wait in pthread_join on the timeline, and in the child
 * how many spawned lines were printed before the process ended.
 * Lesson: threads (chapter 2).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "check.h"
#include "clock.h"

#define MAX_LINES 100

struct config {
    int nspawned, nmain;
    double sleep_ms;
    bool join, no_join;
};

/* ---- part 1: spawn, interleave, join ---------------------------------- */

/* What main and the spawned thread share: one line is printed and its
 * owner recorded at a time, so `order` is the order on the screen. */
struct interleave {
    pthread_mutex_t mu;
    char order[2 * MAX_LINES + 1];      /* 'M' main, 'S' spawned */
    int n;
};

/* One thread's counting job. */
struct counter {
    struct ct_run *run;
    struct interleave *il;
    char tag;
    int lines;
    double sleep_ms;
    int printed;
};

/* Print lines 1..lines with a sleep after each, like the guide's two loops.
 * Returns how many were printed (fewer only if the run was cancelled). */
static int count_lines(struct counter *c)
{
    for (int i = 1; i <= c->lines; i++) {
        ct_mark(c->run, CT_RUN);
        ct_point(c->run, '*');
        CT_PT(pthread_mutex_lock(&c->il->mu));
        ct_say(c->run, "line %d of %d", i, c->lines);
        c->il->order[c->il->n++] = c->tag;
        CT_PT(pthread_mutex_unlock(&c->il->mu));
        c->printed = i;
        ct_mark(c->run, CT_SLEEP);
        if (!ct_sleep_ms(c->run, c->sleep_ms))
            break;
    }
    ct_mark(c->run, CT_IDLE);
    return c->printed;
}

/* The spawned thread's start routine.  Its return value is what
 * pthread_join hands to the joiner: here a small integer carried in the
 * pointer (the next demo returns a heap struct instead). */
static void *spawned_main(void *arg)
{
    return (void *)(intptr_t)count_lines(arg);
}

/* What the joined run measured. */
struct join_outcome {
    char order[2 * MAX_LINES + 1];      /* 'M' main, 'S' spawned, as printed */
    int spawned_printed, main_printed;
    int joined_value;                   /* what pthread_join handed back */
    double wait_ms;                     /* main's time in pthread_join */
};

/* Start the counting thread, count on main too, join.  0 or a negative
 * errno. */
static int join_part(struct ct_run *run, const struct config *cfg, struct join_outcome *o)
{
    struct interleave il = { .n = 0 };
    CT_PT(pthread_mutex_init(&il.mu, NULL));
    struct counter sp = { run, &il, 'S', cfg->nspawned, cfg->sleep_ms, 0 };
    struct counter mn = { run, &il, 'M', cfg->nmain, cfg->sleep_ms, 0 };
    struct ct_thread t;

    ct_legend(run, CT_RUN, "printing a line");
    ct_legend(run, CT_SLEEP, "sleeping after it");
    ct_legend(run, CT_WAIT, "blocked in pthread_join");
    ct_point_legend(run, '*', "printed a line");
    int rc = ct_thread_start(run, &t, spawned_main, &sp, "spawned");
    if (rc) {
        CT_PT(pthread_mutex_destroy(&il.mu));
        return rc;
    }
    count_lines(&mn);
    ct_say(run, "my %d line%s done; waiting in pthread_join", mn.printed,
           mn.printed == 1 ? " is" : "s are");
    ct_mark(run, CT_WAIT);
    int64_t w0 = ct_clock_ns();
    void *ret = NULL;
    rc = ct_thread_join(&t, &ret);
    o->wait_ms = (double)(ct_clock_ns() - w0) / 1e6;
    ct_mark(run, CT_IDLE);
    CT_PT(pthread_mutex_destroy(&il.mu));
    if (rc)
        return rc;
    o->joined_value = (int)(intptr_t)ret;
    o->spawned_printed = sp.printed;
    o->main_printed = mn.printed;
    memcpy(o->order, il.order, (size_t)il.n);
    o->order[il.n] = '\0';
    ct_say(run, "joined after %.2f ms; the thread returned %d", o->wait_ms, o->joined_value);
    return 0;
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* An order string in groups of ten, "SSMMSSMMSS MMSS", so that a long
 * one wraps to the screen's width and can be counted by eye. */
#define GROUPED_MAX (2 * MAX_LINES + 8 + (2 * MAX_LINES + 8) / 10 + 1)
static void group_tens(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 2 < n; i++) {
        if (i > 0 && i % 10 == 0)
            out[o++] = ' ';
        out[o++] = in[i];
    }
    out[o] = '\0';
}

static void report_join(struct ct_run *run, const struct config *cfg,
                        const struct join_outcome *o)
{
    const char *order = o->order;
    int switches = 0, after_main = 0, len = (int)strlen(order);
    for (int i = 1; i < len; i++)
        switches += order[i] != order[i - 1];
    for (int i = len - 1; i >= 0 && order[i] == 'S'; i--)
        after_main++;
    int s_count = count_char(order, 'S'), m_count = count_char(order, 'M');

    ct_result_int(run, "spawned_lines", "lines printed by the spawned thread", s_count, NULL);
    ct_result_int(run, "main_lines", "lines printed by main", m_count, NULL);
    char grouped[GROUPED_MAX];
    group_tens(order, grouped, sizeof grouped);
    ct_result_text(run, "order", "order on screen (M main, S spawned)", grouped);
    ct_result_int(run, "switches", "times the output switched thread", switches, NULL);
    ct_result_num(run, "join_wait_ms", "main's wait in pthread_join", o->wait_ms, 2, "ms");
    ct_result_int(run, "join_value", "value handed back by pthread_join", o->joined_value, NULL);

    ct_check(run, s_count == cfg->nspawned,
             "joined: spawned printed %d of %d line%s before the join returned",
             s_count, cfg->nspawned, cfg->nspawned == 1 ? "" : "s");
    ct_check(run, m_count == cfg->nmain, "joined: main printed %d of %d line%s", m_count,
             cfg->nmain, cfg->nmain == 1 ? "" : "s");
    ct_check(run, o->joined_value == o->spawned_printed,
             "joined: pthread_join returned the thread's count (%d of %d)",
             o->joined_value, o->spawned_printed);

    if (after_main > 0 && s_count == 1)
        ct_takeaway(run,
                    "With the join, nothing was lost: the spawned thread's one line appeared "
                    "after main's last line, and main sat %.2f ms in pthread_join waiting for "
                    "the thread to finish.",
                    o->wait_ms);
    else if (after_main > 0)
        ct_takeaway(run,
                    "With the join, nothing was lost: every line of the spawned thread "
                    "appeared (%d), %d after main's last line, and main sat %.2f ms in "
                    "pthread_join waiting for the thread to finish.",
                    s_count, after_main, o->wait_ms);
    else {
        char its[48] = "its one line";
        if (s_count != 1)
            snprintf(its, sizeof its, "every one of its lines (%d)", s_count);
        ct_takeaway(run,
                    "With the join, nothing was lost: the spawned thread had printed %s "
                    "before main's last one, so pthread_join returned after %.2f ms. The "
                    "call was still needed: it is what proves the thread is done, hands back its "
                    "value and releases it.",
                    its, o->wait_ms);
    }
    ct_takeaway(run,
                "The output switched between the two threads %d time%s, in an order the "
                "scheduler chose: nothing in the program fixes it, so another run may differ.",
                switches, switches == 1 ? "" : "s");
}

/* ---- part 2: the child process that does not join --------------------- */

/* The child is `concur-tutor __child threads SPAWNED MAIN SLEEP_US`.  Every
 * line it prints is "WORD NUMBER MICROSECONDS", written with write(2): a
 * line is in the pipe the moment the call returns, so nothing can be left
 * behind in a stdio buffer when the process ends.  Write errors are ignored
 * on purpose: the parent counts what arrived. */

static int64_t child_t0;       /* set before the thread starts, read-only after */
static long child_sleep_us;

static void child_emit(const char *word, int number)
{
    char buf[80];
    int n = snprintf(buf, sizeof buf, "%s %d %lld\n", word, number,
                     (long long)((ct_clock_ns() - child_t0) / 1000));
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, (size_t)n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (int)w;
    }
}

static void child_nap(void)
{
    struct timespec ts = { child_sleep_us / 1000000, (child_sleep_us % 1000000) * 1000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The spawned thread.  Its argument is the line count carried in the
 * pointer itself: the thread outlives the function that started it, so it
 * must not be handed the address of one of that function's locals. */
static void *child_spawned(void *arg)
{
    int lines = (int)(intptr_t)arg;
    for (int i = 1; i <= lines; i++) {
        child_emit("spawned", i);
        child_nap();
    }
    child_emit("done", lines);
    return NULL;
}

/* Runs first among the exit handlers (the last registered runs first): it
 * marks the moment exit() got going.  The thread is still alive here. */
static void child_at_exit(void)
{
    child_emit("exit", 0);
}

#if defined(__SANITIZE_THREAD__)
#define CT_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT_UNDER_TSAN 1
#endif
#endif

#ifdef CT_UNDER_TSAN
/* ThreadSanitizer's exit handler sleeps atexit_sleep_ms (1000 ms by
 * default) whenever other threads are still running, precisely so that they
 * can finish: that would hide what this demo is about.  Set it to 0 and
 * re-execute this same child once, before any thread exists; the option only
 * shortens the exit, it silences no report. */
static void tsan_fast_exit(int argc, char **argv)
{
    const char *old = getenv("TSAN_OPTIONS");
    if (old && strstr(old, "atexit_sleep_ms=0"))
        return;
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%satexit_sleep_ms=0", old ? old : "", old && *old ? ":" : "");
    if (setenv("TSAN_OPTIONS", opts, 1) != 0)
        return;
    char *av[8] = { "/proc/self/exe", "__child", "threads" };
    for (int i = 0; i < argc && i < 4; i++)
        av[3 + i] = argv[i];
    execv(av[0], av);
    /* if that failed, carry on: the run then shows what TSan's sleep allowed */
}
#endif

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int threads_child(int argc, char **argv)
{
    long nspawned, nmain;
    if (argc != 3 || !parse_long(argv[0], 1, MAX_LINES, &nspawned) ||
        !parse_long(argv[1], 1, MAX_LINES, &nmain) ||
        !parse_long(argv[2], 0, 600L * 1000000, &child_sleep_us)) {
        fprintf(stderr, "usage: __child threads SPAWNED MAIN SLEEP_US\n");
        return 2;
    }
#ifdef CT_UNDER_TSAN
    tsan_fast_exit(argc, argv);
#endif
    child_t0 = ct_clock_ns();
    if (atexit(child_at_exit) != 0)
        fprintf(stderr, "atexit failed\n");

    /* Detached, which is what Rust does when a JoinHandle is dropped without
     * join().  It also keeps ThreadSanitizer honest in both orders: a
     * joinable thread that finishes before exit() and is never joined is a
     * "thread leak" report, a detached one is not. */
    pthread_attr_t attr;
    pthread_t tid;
    CT_PT(pthread_attr_init(&attr));
    CT_PT(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    int rc = pthread_create(&tid, &attr, child_spawned, (void *)(intptr_t)nspawned);
    CT_PT(pthread_attr_destroy(&attr));
    if (rc != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(rc));
        return 1;
    }
    for (int i = 1; i <= nmain; i++) {
        child_emit("main", i);
        child_nap();
    }
    child_emit("return", 0);
    /* No join.  This returns to the program's main(), which returns, and
     * exit() ends the process with the spawned thread in it. */
    return 0;
}

/* The child's words, what the parent shows for each, and its letter in the
 * child's order string. */
struct child_word {
    const char *word;
    char code;
    const char *who;
    const char *what;       /* NULL: a numbered line */
};

static const struct child_word child_words[] = {
    { "main", 'M', "main", NULL },
    { "spawned", 'S', "spawned", NULL },
    { "return", 'R', "main", "returns, no join" },
    { "exit", 'X', "exit()", "runs the exit handlers" },
    { "done", 'D', "spawned", "finished its loop" },
};

static const struct child_word *child_word_find(const char *w)
{
    for (size_t i = 0; i < sizeof child_words / sizeof child_words[0]; i++) {
        if (strcmp(child_words[i].word, w) == 0)
            return &child_words[i];
    }
    return NULL;
}

struct child_outcome {
    char order[2 * MAX_LINES + 8];
    int n;
    int spawned, main, unexpected;
    bool spawned_in_order;
    int spawned_after_return;
    double return_ms, exit_ms, last_spawned_ms;     /* child clock; < 0: never */
    int status;
    bool timed_out;
};

/* Show one line of the child's output and count it into *o. */
static void child_take_line(struct ct_run *run, const struct config *cfg, const char *line,
                            struct child_outcome *o)
{
    char word[16];
    int num;
    long long us;
    const struct child_word *w = NULL;
    if (sscanf(line, "%15s %d %lld", word, &num, &us) == 3)
        w = child_word_find(word);
    if (!w) {
        o->unexpected++;
        ct_say(run, "child: unexpected: %s", line);
        return;
    }
    double ms = (double)us / 1000.0;
    char what[40];
    if (w->what)
        snprintf(what, sizeof what, "%s", w->what);
    else
        snprintf(what, sizeof what, "line %d of %d", num,
                 w->code == 'S' ? cfg->nspawned : cfg->nmain);
    ct_say(run, "child %-7s %-22s %8.2f ms", w->who, what, ms);
    if (o->n < (int)sizeof o->order - 1)
        o->order[o->n++] = w->code;
    switch (w->code) {
    case 'M':
        o->main++;
        break;
    case 'S':
        o->spawned_in_order &= num == o->spawned + 1;
        o->spawned++;
        o->last_spawned_ms = ms;
        o->spawned_after_return += o->return_ms >= 0;
        break;
    case 'R':
        o->return_ms = ms;
        break;
    case 'X':
        o->exit_ms = ms;
        break;
    default:
        break;
    }
}

/* Run the child that does not join and read everything it prints.  0 or a
 * negative errno. */
static int no_join_part(struct ct_run *run, const struct config *cfg, struct child_outcome *o)
{
    double nap_ms = cfg->sleep_ms * ct_scale(run);
    char a_spawned[16], a_main[16], a_sleep[32];
    snprintf(a_spawned, sizeof a_spawned, "%d", cfg->nspawned);
    snprintf(a_main, sizeof a_main, "%d", cfg->nmain);
    snprintf(a_sleep, sizeof a_sleep, "%lld", (long long)(nap_ms * 1000));
    const char *args[] = { a_spawned, a_main, a_sleep, NULL };

    *o = (struct child_outcome){ .spawned_in_order = true, .return_ms = -1, .exit_ms = -1,
                                 .last_spawned_ms = -1 };
    struct ct_child c;
    int rc = ct_child_spawn(run, args, &c);
    if (rc)
        return rc;
    ct_say(run, "child %d started; times are the child's clock", c.pid);

    /* a generous per-line limit: it only matters if the child hangs, and a
     * sanitizer build on a crowded machine can take seconds to start */
    char line[256];
    while ((rc = ct_child_readline(run, &c, line, sizeof line, 30000 + 4 * nap_ms)) == 1)
        child_take_line(run, cfg, line, o);
    o->order[o->n] = '\0';
    o->timed_out = rc == -ETIMEDOUT;
    if (o->timed_out)
        ct_say(run, "child went silent without exiting; killing it");
    o->status = ct_child_wait(run, &c, 2000);
    if (rc < 0 && rc != -ETIMEDOUT && rc != -ECANCELED)
        return rc;
    if (o->status < 0)
        return o->status;
    if (!ct_cancelled(run))
        ct_say(run, "child %d ended with status %d", c.pid, o->status);
    return 0;
}

static void report_no_join(struct ct_run *run, const struct config *cfg,
                           const struct child_outcome *o)
{
    int nspawned = cfg->nspawned, nmain = cfg->nmain;
    ct_result_int(run, "child_spawned_lines", "child: lines printed by the spawned thread",
                  o->spawned, NULL);
    ct_result_int(run, "child_main_lines", "child: lines printed by main", o->main, NULL);
    char grouped[GROUPED_MAX];
    group_tens(o->order, grouped, sizeof grouped);
    ct_result_text(run, "child_order",
                   "child: order (R return, X exit, D done)", grouped);
    ct_result_int(run, "child_spawned_after_return",
                  "child: spawned lines after main returned", o->spawned_after_return, NULL);
    ct_result_num(run, "child_return_ms", "child: main returned at", o->return_ms, 2, "ms");
    ct_result_num(run, "child_exit_ms", "child: exit handlers began at", o->exit_ms, 2, "ms");
    ct_result_int(run, "child_status", "child: exit status", o->status, NULL);
    ct_result_int(run, "child_unexpected_lines", "child: unexpected output lines",
                  o->unexpected, NULL);

    ct_check(run, o->status == 0 && o->unexpected == 0 && !o->timed_out,
             "no join: child exit status 0, no unexpected output");
    ct_check(run, o->main == nmain && o->return_ms >= 0,
             "no join: the child's main printed %d of %d line%s, then returned", o->main,
             nmain, nmain == 1 ? "" : "s");
    ct_check(run, o->spawned_in_order,
             "no join: spawned lines arrived whole, in order: 1..%d of %d",
             o->spawned, nspawned);

    int lost = nspawned - o->spawned;
    char during_exit[160] = "";
    if (o->spawned_after_return > 0)
        snprintf(during_exit, sizeof during_exit,
                 " (%d of them after main had returned, while exit() was still at work)",
                 o->spawned_after_return);
    char all[32] = "its one line";
    if (nspawned != 1)
        snprintf(all, sizeof all, "all %d lines", nspawned);
    if (lost > 0)
        ct_takeaway(run,
                    "Without the join, the child's main printed its %d line%s and returned; "
                    "exit() then ended the whole process. The spawned thread got %d of its %d "
                    "line%s out%s and the other %d %s never printed. Nobody told the thread "
                    "to stop: it ceased to exist along with its process.",
                    nmain, nmain == 1 ? "" : "s", o->spawned, nspawned,
                    nspawned == 1 ? "" : "s", during_exit, lost, lost == 1 ? "was" : "were");
    else if (o->return_ms >= 0 && o->last_spawned_ms >= 0 && o->last_spawned_ms < o->return_ms)
        ct_takeaway(run,
                    "This time the child's spawned thread finished %s before its main "
                    "returned (main's %d line%s took longer than the thread's %d), so exit() "
                    "had nothing left to cut short. %s",
                    all, nmain, nmain == 1 ? "" : "s", nspawned,
                    nspawned > nmain
                        ? "The thread had more lines than main and still finished first: that "
                          "was timing, not a guarantee. Run it again, or with a longer "
                          "sleep-ms, to see it cut short."
                        : "Give the thread more lines than main to see it killed.");
    else
        ct_takeaway(run,
                    "This time the child's spawned thread got every one of its lines out "
                    "(%d): its last one came %.2f ms after main returned, before exit() had "
                    "ended the process. "
                    "That was timing, not a guarantee; only a join guarantees that a thread "
                    "finishes.",
                    nspawned, o->last_spawned_ms - o->return_ms);
}

/* What the run measured, part by part. */
struct result {
    bool joined, child;             /* which parts ran to the end */
    struct join_outcome join;
    struct child_outcome no_join;
};

static int run_phases(struct ct_run *run, const struct config *cfg, struct result *res)
{
    if (cfg->join) {
        ct_section(run, "with pthread_join");
        int rc = join_part(run, cfg, &res->join);
        if (rc || ct_cancelled(run))
            return rc;
        res->joined = true;
    }
    if (cfg->no_join) {
        ct_section(run, "without a join, in a child process: main returns, exit() ends it");
        int rc = no_join_part(run, cfg, &res->no_join);
        if (rc || ct_cancelled(run))
            return rc;
        res->child = true;
    }
    return 0;
}

static int threads_run(struct ct_run *run)
{
    const struct config cfg = {
        .nspawned = (int)ct_param_int(run, "spawned"),
        .nmain = (int)ct_param_int(run, "main"),
        .sleep_ms = ct_param_num(run, "sleep-ms"),
        .join = ct_param_has(run, "parts", "join"),
        .no_join = ct_param_has(run, "parts", "no-join"),
    };
    struct result res = { .joined = false };
    int rc = run_phases(run, &cfg, &res);
    if (rc || ct_cancelled(run))
        return rc;
    if (res.joined)
        report_join(run, &cfg, &res.join);
    if (res.child)
        report_no_join(run, &cfg, &res.no_join);
    return 0;
}

static const struct ct_param_spec threads_params[] = {
    { "spawned", CT_PARAM_INT, "9", 1, MAX_LINES, NULL, "lines the spawned thread prints" },
    { "main", CT_PARAM_INT, "4", 1, MAX_LINES, NULL, "lines main prints before it joins (or returns)" },
    { "sleep-ms", CT_PARAM_NUM, "1", 0, 100, NULL, "sleep after every line, in ms" },
    { "parts", CT_PARAM_SET, "all", 0, 0, "join,no-join", "with the join, and without it in a child process" },
    CT_PARAMS_END,
};

static const struct ct_predict threads_predict = {
    .question = "A spawned thread prints {spawned} lines while main prints {main}, each "
                "sleeping {sleep-ms} ms after a line. How many times will the output switch "
                "from one thread to the other?",
    .result = "switches",
    .unit = "switches",
};

const struct ct_demo ct_demo_threads = {
    .name = "threads",
    .chapter = 2,
    .title = "Spawning a thread, and what join is for",
    .summary = "A thread counts to 9 while main counts to 4; then the same without a join",
    .intro = "Main starts a thread with pthread_create; both print numbered lines with a short "
             "sleep after each, so their lines interleave, and main then waits in pthread_join. "
             "After that the same program runs in a child process whose main returns without "
             "joining: watch how many of the thread's lines survive the exit.",
    .params = threads_params,
    .smoke = "spawned=5 main=2",
    .run = threads_run,
    .child = threads_child,
    .predict = &threads_predict,
};
