/* explore.c - the explore command: step through a scenario's
 * interleavings by hand (explore-hand.c), search them all, or replay one.
 *
 *     explore                               the scenarios
 *     explore NAME [fixed] [threads=N] ...  play the scheduler
 *     explore NAME search [preemptions=N]   every schedule within the bound
 *     explore NAME schedule=0,1,0,1         exactly that schedule
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exit.h"
#include "explore-cmd.h"
#include "explore.h"
#include "json.h"
#include "text.h"

#define DEFAULT_BOUND 2
#define DEFAULT_LIMIT 20000000ull

enum mode { MODE_HAND, MODE_SEARCH, MODE_REPLAY };

struct request {
    const struct ct_ex_scenario *sc;
    struct ct_ex_config cfg;
    enum mode mode;
    int bound;
    uint64_t limit;
    const char *schedule;       /* as typed */
    const char *keys;
};

/* ---- listing ------------------------------------------------------------------ */

static int list_scenarios(const struct ct_options *opt)
{
    if (opt->json) {
        struct ct_json j;
        ct_json_init(&j, stdout);
        ct_json_object_begin(&j);
        ct_json_key(&j, "scenarios");
        ct_json_array_begin(&j);
        for (size_t i = 0; i < ct_ex_scenario_count; i++) {
            const struct ct_ex_scenario *sc = ct_ex_scenarios[i];
            ct_json_object_begin(&j);
            ct_json_kv_str(&j, "name", sc->name);
            ct_json_kv_str(&j, "title", sc->title);
            ct_json_kv_str(&j, "lesson", sc->lesson);
            ct_json_kv_str(&j, "invariant", sc->invariant);
            ct_json_kv_str(&j, "fix", sc->fix);
            ct_json_object_end(&j);
        }
        ct_json_array_end(&j);
        ct_json_object_end(&j);
        ct_json_finish(&j);
        return CT_EXIT_OK;
    }
    printf("Scenarios: explore NAME plays the scheduler, explore NAME search\n"
           "searches every interleaving, add 'fixed' for the repaired version.\n\n");
    printf("  %-20s %-37s %s\n", "scenario", "what goes wrong", "lesson");
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        const struct ct_ex_scenario *sc = ct_ex_scenarios[i];
        printf("  %-20s %-37s %s\n", sc->name, sc->title, sc->lesson);
    }
    return CT_EXIT_OK;
}

static int unknown_scenario(const char *name)
{
    char q[80], names[512];
    size_t off = 0;
    struct ct_suggest s;
    ct_suggest_init(&s, name);
    names[0] = '\0';
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        ct_suggest_add(&s, ct_ex_scenarios[i]->name);
        off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                                ct_ex_scenarios[i]->name);
    }
    if (ct_suggest_result(&s))
        return ct_usage_error("explore: unknown scenario %s (did you mean '%s'?)",
                              ct_quote(name, q, sizeof q), ct_suggest_result(&s));
    return ct_usage_error("explore: unknown scenario %s; scenarios: %s",
                          ct_quote(name, q, sizeof q), names);
}

/* ---- arguments ------------------------------------------------------------------- */

static int parse_count(const char *key, const char *v, long long lo, long long hi,
                       long long *out, const char *scenario)
{
    char *end, q[80];
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        if (scenario && lo == hi)
            return ct_usage_error("explore %s: %s must be %lld, got %s", scenario, key, lo,
                                  ct_quote(v, q, sizeof q));
        if (scenario)
            return ct_usage_error("explore %s: %s must be %lld..%lld, got %s", scenario, key,
                                  lo, hi, ct_quote(v, q, sizeof q));
        return ct_usage_error("explore: %s must be %lld..%lld, got %s", key, lo, hi,
                              ct_quote(v, q, sizeof q));
    }
    *out = x;
    return 0;
}

static const char accepted[] =
    "search, fixed, broken, schedule=LIST, preemptions=N|none, threads=N, "
    "iters=N, keys=KEYS, limit=N";

static int parse_setting(struct request *rq, const char *word)
{
    const char *eq = strchr(word, '=');
    const char *v = eq + 1;
    size_t klen = (size_t)(eq - word);
    long long x;
    int rc = 0;
    char q[80];
    const struct ct_ex_scenario *sc = rq->sc;
#define IS(k) (klen == strlen(k) && strncmp(word, k, klen) == 0)
    if (IS("schedule")) {
        rq->schedule = v;
        rq->mode = MODE_REPLAY;
    } else if (IS("keys")) {
        rq->keys = v;
    } else if (IS("preemptions")) {
        if (strcmp(v, "none") == 0)
            rq->bound = -1;
        else if ((rc = parse_count("preemptions", v, 0, 50, &x, NULL)) == 0)
            rq->bound = (int)x;
    } else if (IS("threads")) {
        if ((rc = parse_count("threads", v, sc->threads_min, sc->threads_max, &x, sc->name)) == 0)
            rq->cfg.threads = (int)x;
    } else if (IS("iters")) {
        if ((rc = parse_count("iters", v, sc->iters_min, sc->iters_max, &x, sc->name)) == 0)
            rq->cfg.iters = (int)x;
    } else if (IS("limit")) {
        if ((rc = parse_count("limit", v, 1, 1000000000000ll, &x, NULL)) == 0)
            rq->limit = (uint64_t)x;
    } else if (IS("version") && (strcmp(v, "fixed") == 0 || strcmp(v, "broken") == 0)) {
        rq->cfg.fixed = strcmp(v, "fixed") == 0;
    } else {
        rc = ct_usage_error("explore: unknown setting %s; accepted: %s",
                            ct_quote(word, q, sizeof q), accepted);
    }
#undef IS
    return rc;
}

/* What a word of the request decides: two words that decide the same thing
 * contradict each other (or repeat), and are refused rather than letting
 * the last one win. */
enum slot { SLOT_MODE, SLOT_VERSION, SLOT_KEYS, SLOT_PREEMPTIONS, SLOT_THREADS, SLOT_ITERS,
            SLOT_LIMIT, SLOT_OTHER, NSLOTS };

static enum slot slot_of(const char *word)
{
    static const struct { const char *word; enum slot slot; } slots[] = {
        { "search", SLOT_MODE }, { "hand", SLOT_MODE }, { "schedule=", SLOT_MODE },
        { "fixed", SLOT_VERSION }, { "broken", SLOT_VERSION }, { "version=", SLOT_VERSION },
        { "keys=", SLOT_KEYS }, { "preemptions=", SLOT_PREEMPTIONS },
        { "threads=", SLOT_THREADS }, { "iters=", SLOT_ITERS }, { "limit=", SLOT_LIMIT },
    };
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) + 1 : strlen(word);
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
        if (strlen(slots[i].word) == len && strncmp(word, slots[i].word, len) == 0)
            return slots[i].slot;
    }
    return SLOT_OTHER;
}

/* The word as named in a message: "search", or "threads=" for a setting. */
static void word_name(const char *word, char *buf, size_t n)
{
    const char *eq = strchr(word, '=');
    snprintf(buf, n, "%.*s", (int)(eq ? eq - word + 1 : (ptrdiff_t)strlen(word)), word);
}

static int check_conflict(const char **seen, const char *word)
{
    enum slot k = slot_of(word);
    if (k == SLOT_OTHER)
        return 0;
    if (!seen[k]) {
        seen[k] = word;
        return 0;
    }
    char a[64], b[64];
    word_name(seen[k], a, sizeof a);
    word_name(word, b, sizeof b);
    if (strcmp(a, b) == 0)
        return ct_usage_error("explore: '%s' given twice; give it once", a);
    return ct_usage_error("explore: '%s' and '%s' do not go together; use one", a, b);
}

static int parse_request(struct request *rq, int argc, char **argv)
{
    char q[80];
    const char *seen[NSLOTS] = { 0 };
    for (int i = 2; i < argc; i++) {
        const char *word = argv[i];
        int rc = check_conflict(seen, word);
        if (rc)
            return rc;
        if (strcmp(word, "search") == 0)
            rq->mode = MODE_SEARCH;
        else if (strcmp(word, "fixed") == 0 || strcmp(word, "broken") == 0)
            rq->cfg.fixed = word[0] == 'f';
        else if (strcmp(word, "hand") == 0)
            rq->mode = MODE_HAND;
        else if (strchr(word, '=') && word[0] != '=')
            rc = parse_setting(rq, word);
        else
            rc = ct_usage_error("explore: unknown word %s; accepted: %s",
                                ct_quote(word, q, sizeof q), accepted);
        if (rc)
            return rc;
    }
    if (rq->keys && rq->mode != MODE_HAND)
        return ct_usage_error("explore: 'keys=' is for the by-hand mode, not with %s",
                              rq->mode == MODE_SEARCH ? "'search'" : "'schedule='");
    return 0;
}

/* ---- shared output helpers ------------------------------------------------------ */

void ct_ex_format_schedule(const uint8_t *sched, int len, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < len && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%d", i ? "," : "", sched[i]);
}

void ct_ex_json_step(struct ct_json *j, const struct ct_ex_world *w,
                     const struct ct_ex_state *before, const struct ct_ex_state *after,
                     int step, int actor)
{
    char buf[256];
    ct_json_object_begin(j);
    ct_json_kv_int(j, "step", step);
    ct_json_kv_int(j, "actor", actor);
    ct_ex_actor_name(w, actor, buf, sizeof buf);
    ct_json_kv_str(j, "who", buf);
    ct_ex_describe_done(w, before, after, actor, buf, sizeof buf);
    ct_json_kv_str(j, "did", buf);
    ct_ex_describe_shared(w, after, buf, sizeof buf);
    ct_json_kv_str(j, "shared", buf);
    ct_json_object_end(j);
}

/* Lanes side by side when they fit in 80 columns, else one line a step. */
void ct_ex_print_timeline(FILE *out, const struct ct_ex_world *w,
                          const struct ct_ex_state *states, const uint8_t *sched, int len)
{
    char did[96], shared[256], name[32];
    int sw = 0;
    for (int i = 0; i <= len; i++) {
        ct_ex_describe_shared(w, &states[i], shared, sizeof shared);
        int l = (int)strlen(shared);
        sw = l > sw ? l : sw;
    }
    /* "  step  " lanes "shared after": 80 columns at most */
    int lane = (80 - 8 - (sw > 30 ? 0 : sw < 12 ? 12 : sw)) / w->nthreads;
    lane = lane > 26 ? 26 : lane;
    bool lanes = lane >= 18;
    fprintf(out, "  step  ");
    for (int t = 0; lanes && t < w->nthreads; t++) {
        ct_ex_actor_name(w, t, name, sizeof name);
        fprintf(out, "%-*s", lane, name);
    }
    if (!lanes)
        fprintf(out, "%-9s %-30s ", "who", "did");
    fprintf(out, "%s\n", sw <= 30 || !lanes ? "shared after" : "shared: below");
    for (int i = 0; i < len; i++) {
        int a = sched[i], slot, t = ct_ex_actor_thread(w, a, &slot);
        ct_ex_describe_done(w, &states[i], &states[i + 1], a, did, sizeof did);
        ct_ex_describe_shared(w, &states[i + 1], shared, sizeof shared);
        if (!lanes) {
            ct_ex_actor_name(w, a, name, sizeof name);
            fprintf(out, "  %4d  %-9s %-30s %s\n", i + 1, name, did, shared);
            continue;
        }
        char shown[112];            /* a store landing goes in its thread's lane */
        snprintf(shown, sizeof shown, "%s%s", a >= w->nthreads ? "(buf) " : "", did);
        char row[320];
        snprintf(row, sizeof row, "  %4d  %*s%-*.*s%*s%s", i + 1, t * lane, "", lane - 2,
                 lane - 2, shown, (w->nthreads - 1 - t) * lane + 2, "", sw <= 30 ? shared : "");
        size_t end = strlen(row);
        while (end > 0 && row[end - 1] == ' ')
            row[--end] = '\0';
        fprintf(out, "%s\n", row);
        if (sw > 30)
            fprintf(out, "        = %.70s\n", shared);
    }
}

/* "  broken: MESSAGE", wrapped to 80 columns. */
static void say_wrapped(const char *head, const char *msg)
{
    char line[256];
    snprintf(line, sizeof line, "%s%s", head, msg);
    ct_wrap(stdout, line, 80, 2);
}

/* ---- search ---------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void print_counts(const struct request *rq, const struct ct_ex_search_result *r)
{
    char a[32], b[32];
    ct_group_digits((long long)r->explored, a, sizeof a);
    if (r->naive_counted) {
        ct_group_digits(r->naive == UINT64_MAX ? -1 : (long long)r->naive, b, sizeof b);
        printf("  schedules explored     %14s   plain enumeration: %s (%.1fx)\n", a,
               r->naive == UINT64_MAX ? "over 1.8e19" : b,
               r->explored ? (double)r->naive / (double)r->explored : 0.0);
        ct_group_digits((long long)r->violating, a, sizeof a);
        ct_group_digits((long long)r->naive_violating, b, sizeof b);
        printf("  breaking the invariant %14s   plain enumeration: %s\n", a, b);
    } else {
        printf("  schedules explored     %14s   (plain enumeration: too many states to count)\n", a);
        ct_group_digits((long long)r->violating, a, sizeof a);
        printf("  breaking the invariant %14s\n", a);
    }
    if (r->deadlocks) {
        ct_group_digits((long long)r->deadlocks, a, sizeof a);
        printf("    of which deadlocks   %14s\n", a);
    }
    ct_group_digits((long long)r->pruned, a, sizeof a);
    printf("  cut short by sleep set %14s\n", a);
    if (rq->bound >= 0) {
        ct_group_digits((long long)r->bound_cut, a, sizeof a);
        printf("  steps over the bound   %14s\n", a);
    }
    if (r->cpu_seconds < 0.01) {   /* a rate from a few microseconds means nothing */
        printf("  time                   %11.1f ms   (too short to give a rate)\n",
               r->seconds * 1e3);
        return;
    }
    ct_group_digits((long long)((double)r->explored / r->seconds), a, sizeof a);
    ct_group_digits((long long)((double)r->explored / r->cpu_seconds), b, sizeof b);
    printf("  time                   %11.1f ms   %s schedules/s\n", r->seconds * 1e3, a);
    printf("  CPU time               %11.1f ms   %s schedules per CPU second\n",
           r->cpu_seconds * 1e3, b);
}

static void search_text(const struct request *rq, const struct ct_ex_world *w,
                        const struct ct_ex_search_result *r, const struct ct_ex_state *states)
{
    char bound[48], sched[3 * CT_EX_MAX_STEPS + 1];
    if (rq->bound < 0)
        snprintf(bound, sizeof bound, "no preemption bound");
    else
        snprintf(bound, sizeof bound, "at most %d preemption%s", rq->bound,
                 rq->bound == 1 ? "" : "s");
    printf("explore %s search (%s): %s\n", w->sc->name, w->cfg.fixed ? "fixed" : "broken",
           w->sc->title);
    printf("  %d threads x %d iteration%s; %s; reduction: sleep sets\n", w->nthreads,
           w->cfg.iters, w->cfg.iters == 1 ? "" : "s", bound);
    printf("  invariant: %s\n\n", w->sc->invariant);
    print_counts(rq, r);
    if (r->stopped) {
        printf("\n  Stopped after %" PRIu64 " schedules (%s): the figures cover part of the "
               "space only.\n", r->explored, interrupted ? "interrupted" : "limit=");
    }
    if (!r->shortest) {
        if (!r->stopped)
            printf("\nNo schedule %s breaks the invariant.\n",
                   rq->bound < 0 ? "at all" : "within the bound");
        return;
    }
    ct_ex_format_schedule(r->sched, r->shortest, sched, sizeof sched);
    printf("\nShortest breaking schedule: %d steps\n", r->shortest);
    ct_ex_print_timeline(stdout, w, states, r->sched, r->shortest);
    say_wrapped(r->how == CT_EX_DEADLOCK ? "" : "broken: ", r->message);
    if (r->how == CT_EX_DEADLOCK) {
        char lines[8][96];
        int n = ct_ex_wait_for(w, &states[r->shortest], lines, 8);
        for (int i = 0; i < n; i++)
            printf("    %s\n", lines[i]);
    }
    printf("\nReplay it: explore %s%s schedule=%s\n", w->sc->name,
           w->cfg.fixed ? " fixed" : "", sched);
}

static void search_json(const struct request *rq, const struct ct_ex_world *w,
                        const struct ct_ex_search_result *r, const struct ct_ex_state *states)
{
    struct ct_json j;
    char sched[3 * CT_EX_MAX_STEPS + 1];
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "scenario", w->sc->name);
    ct_json_kv_str(&j, "mode", "search");
    ct_json_kv_str(&j, "version", w->cfg.fixed ? "fixed" : "broken");
    ct_json_kv_int(&j, "threads", w->nthreads);
    ct_json_kv_int(&j, "iters", w->cfg.iters);
    ct_json_key(&j, "preemptions");
    if (rq->bound < 0)
        ct_json_null(&j);
    else
        ct_json_int(&j, rq->bound);
    ct_json_kv_str(&j, "reduction", "sleep sets");
    ct_json_kv_int(&j, "explored", (long long)r->explored);
    ct_json_kv_int(&j, "violating", (long long)r->violating);
    ct_json_kv_int(&j, "deadlocks", (long long)r->deadlocks);
    ct_json_kv_int(&j, "pruned", (long long)r->pruned);
    ct_json_kv_int(&j, "bound_cut", (long long)r->bound_cut);
    ct_json_kv_int(&j, "steps", (long long)r->steps);
    ct_json_key(&j, "naive");
    if (r->naive_counted && r->naive != UINT64_MAX)
        ct_json_int(&j, (long long)r->naive);
    else
        ct_json_null(&j);
    ct_json_key(&j, "naive_violating");
    if (r->naive_counted && r->naive_violating != UINT64_MAX)
        ct_json_int(&j, (long long)r->naive_violating);
    else
        ct_json_null(&j);
    ct_json_kv_int(&j, "naive_shortest", r->naive_shortest);
    ct_json_kv_int(&j, "distinct_states", (long long)r->naive_states);
    ct_json_kv_bool(&j, "complete", !r->stopped);
    ct_json_kv_num(&j, "seconds", r->seconds);
    ct_json_kv_num(&j, "schedules_per_second",
                   r->seconds > 0 ? (double)r->explored / r->seconds : 0);
    ct_json_kv_num(&j, "cpu_seconds", r->cpu_seconds);
    ct_json_key(&j, "shortest");
    if (!r->shortest) {
        ct_json_null(&j);
    } else {
        ct_json_object_begin(&j);
        ct_json_kv_int(&j, "length", r->shortest);
        ct_ex_format_schedule(r->sched, r->shortest, sched, sizeof sched);
        ct_json_kv_str(&j, "schedule", sched);
        ct_json_kv_str(&j, "kind", r->how == CT_EX_DEADLOCK ? "deadlock" : "broken");
        ct_json_kv_str(&j, "message", r->message);
        ct_json_key(&j, "steps");
        ct_json_array_begin(&j);
        for (int i = 0; i < r->shortest; i++)
            ct_ex_json_step(&j, w, &states[i], &states[i + 1], i + 1, r->sched[i]);
        ct_json_array_end(&j);
        ct_json_object_end(&j);
    }
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

static int do_search(const struct request *rq, const struct ct_ex_world *w, bool json)
{
    struct ct_ex_search_opts o = {
        .bound = rq->bound, .reduce = true, .count_naive = true,
        .limit = rq->limit, .cancel = &interrupted,
    };
    struct ct_ex_search_result *r = malloc(sizeof *r);
    struct ct_ex_state *states = malloc((CT_EX_MAX_STEPS + 1) * sizeof *states);
    struct sigaction sa = { .sa_handler = on_sigint }, old;
    int rc = CT_EX_RUNNING;
    if (!r || !states) {
        free(r);
        free(states);
        return CT_EXIT_FAILED;
    }
    interrupted = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    rc = ct_ex_search(w, &o, r);
    sigaction(SIGINT, &old, NULL);
    if (rc == 0) {
        char err[160];
        if (r->shortest)
            ct_ex_replay(w, r->sched, r->shortest, states, err, sizeof err);
        if (json)
            search_json(rq, w, r, states);
        else
            search_text(rq, w, r, states);
        rc = interrupted ? CT_EXIT_INTERRUPTED : r->violating ? CT_EXIT_FAILED : CT_EXIT_OK;
    } else {
        ct_error("concur-tutor: explore: out of memory");
        rc = CT_EXIT_FAILED;
    }
    free(r);
    free(states);
    return rc;
}

/* ---- replay ------------------------------------------------------------------------ */

static int replay_report(const struct ct_ex_world *w, const uint8_t *sched, int len,
                         const struct ct_ex_state *states, bool json)
{
    char msg[160], buf[3 * CT_EX_MAX_STEPS + 1];
    enum ct_ex_status st = ct_ex_status(w, &states[len], msg, sizeof msg);
    static const char *const names[] = { "running", "finished", "broken", "deadlock" };
    ct_ex_format_schedule(sched, len, buf, sizeof buf);
    if (json) {
        struct ct_json j;
        ct_json_init(&j, stdout);
        ct_json_object_begin(&j);
        ct_json_kv_str(&j, "scenario", w->sc->name);
        ct_json_kv_str(&j, "mode", "replay");
        ct_json_kv_str(&j, "version", w->cfg.fixed ? "fixed" : "broken");
        ct_json_kv_str(&j, "schedule", buf);
        ct_json_key(&j, "steps");
        ct_json_array_begin(&j);
        for (int i = 0; i < len; i++)
            ct_ex_json_step(&j, w, &states[i], &states[i + 1], i + 1, sched[i]);
        ct_json_array_end(&j);
        ct_json_kv_str(&j, "status", names[st]);
        if (st == CT_EX_BROKEN || st == CT_EX_DEADLOCK)
            ct_json_kv_str(&j, "message", msg);
        ct_json_object_end(&j);
        ct_json_finish(&j);
    } else {
        printf("explore %s (%s): %s\nschedule=%s\n\n", w->sc->name,
               w->cfg.fixed ? "fixed" : "broken", w->sc->title, buf);
        ct_ex_print_timeline(stdout, w, states, sched, len);
        if (st == CT_EX_BROKEN || st == CT_EX_DEADLOCK)
            say_wrapped(st == CT_EX_BROKEN ? "broken: " : "", msg);
        else if (st == CT_EX_FINISHED)
            printf("  every thread finished; the invariant held\n");
        else
            printf("  the schedule ends here; the run could go on\n");
        if (st == CT_EX_DEADLOCK) {
            char lines[8][96];
            int n = ct_ex_wait_for(w, &states[len], lines, 8);
            for (int i = 0; i < n; i++)
                printf("    %s\n", lines[i]);
        }
    }
    return st == CT_EX_BROKEN || st == CT_EX_DEADLOCK ? CT_EXIT_FAILED : CT_EXIT_OK;
}

static int do_replay(const struct request *rq, const struct ct_ex_world *w, bool json)
{
    uint8_t sched[CT_EX_MAX_STEPS];
    size_t bad = 0;
    char q[80], err[200];
    int len = ct_ex_parse_schedule(rq->schedule, sched, CT_EX_MAX_STEPS, &bad);
    if (len < 0)
        return ct_usage_error("explore %s: schedule must be thread numbers separated by "
                              "commas (at most %d), like 0,1,0; bad at %s",
                              w->sc->name, CT_EX_MAX_STEPS,
                              ct_quote(rq->schedule + bad, q, sizeof q));
    if (len == 0)
        return ct_usage_error("explore %s: schedule is empty; give thread numbers like "
                              "schedule=0,1,0", w->sc->name);
    struct ct_ex_state *states = malloc((size_t)(len + 1) * sizeof *states);
    if (!states)
        return CT_EXIT_FAILED;
    int ran = ct_ex_replay(w, sched, len, states, err, sizeof err);
    int rc = ran < len ? ct_usage_error("explore %s: schedule %s", w->sc->name, err)
                       : replay_report(w, sched, len, states, json);
    free(states);
    return rc;
}

/* ---- the command ------------------------------------------------------------------ */

int ct_cmd_explore(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx;
    if (argc < 2)
        return list_scenarios(opt);
    struct request rq = {
        .sc = ct_ex_scenario_find(argv[1]),
        .bound = DEFAULT_BOUND,
        .limit = DEFAULT_LIMIT,
    };
    if (!rq.sc)
        return unknown_scenario(argv[1]);
    int rc = parse_request(&rq, argc, argv);
    if (rc)
        return rc;
    struct ct_ex_world w;
    if (ct_ex_world_init(&w, rq.sc, &rq.cfg) != 0)
        return ct_usage_error("explore %s: bad parameters", rq.sc->name);
    switch (rq.mode) {
    case MODE_SEARCH:
        return do_search(&rq, &w, opt->json);
    case MODE_REPLAY:
        return do_replay(&rq, &w, opt->json);
    default: {
        struct ct_ex_args a = {
            .w = &w, .json = opt->json, .color = ct_use_color(opt), .keys = rq.keys,
        };
        return ct_ex_by_hand(&a);
    }
    }
}
