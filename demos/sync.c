/* sync.c - demo `sync`: what Rust's Sync promises, kept by hand in C.
 *
 * Shows: main fills one object with bytes and computes their checksum,
 * then starts readers (pthread_create publishes what main wrote: it happens
 * before each reader starts).  From then on nobody writes the object, and
 * every reader checksums all of it again and again with no lock.  An
 * in-flight counter records how many readers were inside it at the same
 * moment; every pass is compared with main's checksum.
 * Watch for: the most readers inside at once, and every pass matching.
 * Lesson: sync-trait (chapter 3).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "crew.h"
#include "demo.h"
#include "stats.h"

#define MAX_THREADS 16

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

struct blob {
    size_t len;
    uint64_t sum;               /* computed before any reader exists */
    unsigned char bytes[];
};

/* FNV-1a, one byte at a time: slow on purpose, so passes overlap. */
static uint64_t checksum(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* A blob of `len` pseudo-random bytes (the same every run) and their
 * checksum; NULL if out of memory. */
static struct blob *blob_new(size_t len)
{
    struct blob *b = malloc(sizeof *b + len);
    if (!b)
        return NULL;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b->bytes[i] = (unsigned char)x;
    }
    b->len = len;
    b->sum = checksum(b->bytes, len);
    return b;
}

struct reader {
    struct ct_member m;         /* first */
    const struct blob *blob;    /* const: nobody writes it after publication */
    long long reads;            /* passes to make */
    atomic_int *in_flight, *max_in_flight;
    long long passes, passes_ok;
    uint64_t first_sum;
    bool steady;                /* every pass gave first_sum */
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    if (!ct_member_begin(&r->m))
        return NULL;
    r->steady = true;
    for (long long i = 0; i < r->reads && !ct_cancelled(r->m.run); i++) {
        int now = atomic_fetch_add(r->in_flight, 1) + 1;
        ct_atomic_max(r->max_in_flight, now);
        uint64_t s = checksum(r->blob->bytes, r->blob->len);
        atomic_fetch_sub(r->in_flight, 1);
        if (i == 0)
            r->first_sum = s;
        r->steady &= s == r->first_sum;
        r->passes_ok += s == r->blob->sum;
        r->passes++;
    }
    ct_member_end(&r->m);
    ct_say(r->m.run, "%lld read%s, checksum %016llx%s", r->passes, plural(r->passes),
           (unsigned long long)r->first_sum,
           !r->steady ? " -- NOT steady" : r->passes > 1 ? " every time" : "");
    return NULL;
}

struct result {
    int readers, max_in_flight, agree;
    size_t kib;
    long long passes, passes_ok;
    uint64_t sum;
    double ms, mb_per_s;
};

/* Build the object, run the readers, count what they saw.  0 or a negative
 * errno. */
static int run_readers(struct ct_run *run, int n, size_t kib, long long reads,
                       struct result *out)
{
    struct blob *b = blob_new(kib * 1024);
    if (!b)
        return -ENOMEM;
    ct_say(run, "filled %zu KiB, checksum %016llx", kib, (unsigned long long)b->sum);
    ct_say(run, "nobody writes it now; pthread_create publishes it");

    struct reader r[MAX_THREADS] = { 0 };
    atomic_int in_flight, max_in_flight;
    atomic_init(&in_flight, 0);
    atomic_init(&max_in_flight, 0);
    for (int i = 0; i < n; i++)
        r[i] = (struct reader){ .blob = b, .reads = reads, .in_flight = &in_flight,
                                .max_in_flight = &max_in_flight };
    double ms = 0;
    int rc = ct_crew_run(run, r, sizeof r[0], n, reader_main, "reader", &ms);
    *out = (struct result){ .readers = n, .kib = kib, .sum = b->sum, .ms = ms,
                            .max_in_flight = atomic_load(&max_in_flight) };
    for (int i = 0; i < n; i++) {
        out->passes += r[i].passes;
        out->passes_ok += r[i].passes_ok;
        out->agree += r[i].passes > 0 && r[i].steady && r[i].first_sum == r[0].first_sum;
    }
    if (out->ms > 0)
        out->mb_per_s = (double)out->passes * (double)b->len / 1e6 / (out->ms / 1e3);
    free(b);
    return rc;
}

static void report(struct ct_run *run, const struct result *s)
{
    char hex[20];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)s->sum);
    ct_result_int(run, "passes", "whole-object reads", s->passes, NULL);
    ct_result_int(run, "passes_ok", "reads with main's checksum", s->passes_ok, NULL);
    ct_result_int(run, "readers_agree", "readers whose every read agreed", s->agree, NULL);
    ct_result_text(run, "checksum", "checksum", hex);
    ct_result_int(run, "max_readers", "most readers inside at once", s->max_in_flight, NULL);
    ct_result_num(run, "mb_per_s", "read throughput, all readers", s->mb_per_s, 0, "MB/s");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_check(run, s->passes_ok == s->passes, "every read saw the published contents "
             "(%lld of %lld)", s->passes_ok, s->passes);
    ct_check(run, s->agree == s->readers, "every reader saw identical contents (%d of %d "
             "agree)", s->agree, s->readers);
    int cpus = ct_cpus();
    const char *why = s->max_in_flight <= 1
        ? "this run never caught two readers inside at once, so it shows no overlap; run it "
          "with more threads or reads"
        : s->max_in_flight > cpus
        ? "more than the CPUs, so some were preempted mid-read while still holding their "
          "pointer, which is just as shared"
        : "reading side by side with no lock between them";
    ct_takeaway(run,
                "%d reader%s read the same %zu KiB object %lld time%s with no lock, up to %d at "
                "the same moment (%s). %lld of %lld read%s had checksum %s: data that is "
                "written before the threads start and never after needs no lock to be read "
                "by all of them.",
                s->readers, plural(s->readers), s->kib, s->passes, plural(s->passes),
                s->max_in_flight, why, s->passes_ok, s->passes, plural(s->passes), hex);
}

static int sync_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "threads");
    size_t kib = (size_t)ct_param_int(run, "size-kb");
    long long reads = ct_param_int(run, "reads");
    struct result res;
    ct_section(run, "%d reader%s one read-only object, no lock", n,
               n == 1 ? " reads" : "s share");
    int rc = run_readers(run, n, kib, reads, &res);
    if (rc || ct_cancelled(run))
        return rc;
    report(run, &res);
    return 0;
}

static const struct ct_param_spec sync_params[] = {
    { "threads", CT_PARAM_INT, "4", 1, MAX_THREADS, NULL, "reader threads" },
    { "size-kb", CT_PARAM_INT, "256", 1, 65536, NULL, "size of the shared object, KiB" },
    { "reads", CT_PARAM_INT, "40", 1, 1000000, NULL, "whole-object reads per reader" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_sync = {
    .name = "sync",
    .chapter = 3,
    .title = "Sync: many threads reading one immutable object",
    .summary = "Readers checksum one shared read-only object at once, with no lock",
    .intro = "Main fills one object and computes its checksum before any reader exists; "
             "from then on nobody writes it. Several readers checksum the whole object over "
             "and over with no lock, and a counter records how many were inside it at once. "
             "Every read is compared with main's checksum.",
    .params = sync_params,
    .smoke = "threads=2 size-kb=16 reads=5",
    .run = sync_run,
};
