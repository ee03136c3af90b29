/* engine.c - one step of a scenario, and what people read about it.
 *
 * The engine owns the shared objects (memory, store buffers, mutexes,
 * condition variables, channels); thread code only says which access it
 * wants next (explore.h).  A step makes that access and runs the thread's
 * code on to its next one.
 */
#include "explore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---------------------------------------------------------- */

void ct_ex_list_name(const char *list, int i, char *buf, size_t n)
{
    const char *p = list;
    for (int k = 0; p && k < i; k++) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    if (!p || !*p) {
        snprintf(buf, n, "#%d", i);
        return;
    }
    size_t len = strcspn(p, ",");
    snprintf(buf, n, "%.*s", (int)len, p);
}

static int list_len(const char *list)
{
    if (!list || !*list)
        return 0;
    int k = 1;
    for (const char *p = list; *p; p++)
        k += *p == ',';
    return k;
}

static bool buffered(const struct ct_ex_world *w)
{
    return w->sc->memory != CT_EX_SC;
}

int ct_ex_actor_thread(const struct ct_ex_world *w, int a, int *slot)
{
    if (a < w->nthreads) {
        *slot = -1;
        return a;
    }
    int k = a - w->nthreads;
    *slot = k % w->sc->buf_slots;
    return k / w->sc->buf_slots;
}

void ct_ex_actor_name(const struct ct_ex_world *w, int a, char *buf, size_t n)
{
    int slot;
    int t = ct_ex_actor_thread(w, a, &slot);
    char name[32];
    if (t < list_len(w->sc->thread_names))
        ct_ex_list_name(w->sc->thread_names, t, name, sizeof name);
    else
        snprintf(name, sizeof name, "t%d", t);
    if (slot < 0)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%s.buf%d", name, slot);
}

/* ---- set-up ----------------------------------------------------------------- */

int ct_ex_world_init(struct ct_ex_world *w, const struct ct_ex_scenario *sc,
                     const struct ct_ex_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->sc = sc;
    w->cfg = *cfg;
    if (w->cfg.threads == 0)
        w->cfg.threads = sc->threads_def;
    if (w->cfg.iters == 0)
        w->cfg.iters = sc->iters_def;
    if (w->cfg.threads < sc->threads_min || w->cfg.threads > sc->threads_max ||
        w->cfg.iters < sc->iters_min || w->cfg.iters > sc->iters_max)
        return -EINVAL;
    w->nthreads = w->cfg.threads;
    w->nactors = w->nthreads * (1 + (buffered(w) ? sc->buf_slots : 0));
    const struct ct_ex_code *code = w->cfg.fixed ? sc->fixed : sc->broken;
    for (int t = 0; t < w->nthreads; t++) {
        int k = t;
        while (k > 0 && !code[k].fn)
            k--;
        w->code[t] = &code[k];
    }
    return 0;
}

static void run_thread(const struct ct_ex_world *w, struct ct_ex_state *s, int t)
{
    struct ct_ex_thread *th = &s->th[t];
    w->code[t]->fn(th, &w->cfg);
    if (th->fault && !s->fault) {
        s->fault = th->fault;
        s->fault_actor = t;
    }
}

void ct_ex_start(const struct ct_ex_world *w, struct ct_ex_state *s)
{
    memset(s, 0, sizeof *s);
    s->last_thread = -1;
    s->fault_actor = -1;
    for (int m = 0; m < CT_EX_MAX_LOCKS; m++)
        s->owner[m] = -1;
    for (int t = 0; t < w->nthreads; t++)
        s->th[t].id = (uint8_t)t;
    if (w->sc->init)
        w->sc->init(s, &w->cfg);
    for (int t = 0; t < w->nthreads && !s->fault; t++)
        run_thread(w, s, t);
}

/* ---- which actors can step ---------------------------------------------------- */

static bool flush_enabled(const struct ct_ex_world *w, const struct ct_ex_thread *th, int k)
{
    if (k >= th->nbuf)
        return false;
    if (w->sc->memory == CT_EX_TSO)
        return k == 0;
    /* PSO: stores to one variable still land in program order */
    for (int j = 0; j < k; j++) {
        if (th->buf[j].var == th->buf[k].var)
            return false;
    }
    return true;
}

/* Operations that wait for the thread's own store buffer to drain. */
static bool needs_drain(int kind)
{
    return kind != CT_EX_OP_LOAD && kind != CT_EX_OP_LOAD_ACQ && kind != CT_EX_OP_STORE;
}

static bool thread_enabled(const struct ct_ex_world *w, const struct ct_ex_state *s, int t)
{
    const struct ct_ex_thread *th = &s->th[t];
    const struct ct_ex_op *op = &th->op;
    if (th->done)
        return false;
    if (buffered(w) && th->nbuf > 0 && needs_drain(op->kind))
        return false;
    switch (op->kind) {
    case CT_EX_OP_STORE:
        return !buffered(w) || th->nbuf < w->sc->buf_slots;
    case CT_EX_OP_LOCK:
        return s->owner[op->a] < 0;
    case CT_EX_OP_WAKE:
        return th->waiting == 0 && s->owner[op->b] < 0;
    case CT_EX_OP_SEND:
        return s->chan[op->a].count < CT_EX_CHAN_CAP;
    case CT_EX_OP_RECV:
        return s->chan[op->a].count > 0 || s->chan[op->a].senders == 0;
    default:
        return true;
    }
}

uint32_t ct_ex_enabled(const struct ct_ex_world *w, const struct ct_ex_state *s)
{
    if (s->fault)
        return 0;
    uint32_t m = 0;
    for (int t = 0; t < w->nthreads; t++) {
        if (thread_enabled(w, s, t))
            m |= 1u << t;
    }
    if (buffered(w)) {
        for (int t = 0; t < w->nthreads; t++) {
            for (int k = 0; k < s->th[t].nbuf; k++) {
                if (flush_enabled(w, &s->th[t], k))
                    m |= 1u << (w->nthreads + t * w->sc->buf_slots + k);
            }
        }
    }
    return m;
}

bool ct_ex_is_preemption(const struct ct_ex_world *w, const struct ct_ex_state *s, int a)
{
    int last = s->last_thread;
    return a < w->nthreads && last >= 0 && last != a && thread_enabled(w, s, last);
}

/* ---- making an access ----------------------------------------------------------- */

static void fault(struct ct_ex_state *s, int t, const char *msg)
{
    if (!s->fault) {
        s->fault = msg;
        s->fault_actor = t;
    }
}

static int32_t load(const struct ct_ex_state *s, const struct ct_ex_thread *th, int var)
{
    for (int k = th->nbuf - 1; k >= 0; k--) {
        if (th->buf[k].var == var)
            return th->buf[k].val;  /* a thread sees its own pending store */
    }
    return s->mem[var];
}

static void flush(struct ct_ex_state *s, int t, int k)
{
    struct ct_ex_thread *th = &s->th[t];
    s->mem[th->buf[k].var] = th->buf[k].val;
    memmove(&th->buf[k], &th->buf[k + 1], (size_t)(th->nbuf - k - 1) * sizeof th->buf[0]);
    th->nbuf--;
    memset(&th->buf[th->nbuf], 0, sizeof th->buf[0]);
}

static void signal_one(struct ct_ex_state *s, int nthreads, int cv, bool all)
{
    int best = -1;
    for (int u = 0; u < nthreads; u++) {
        if (s->th[u].waiting != cv + 1)
            continue;
        if (all)
            s->th[u].waiting = 0;
        else if (best < 0 || s->th[u].ticket < s->th[best].ticket)
            best = u;
    }
    if (best >= 0)
        s->th[best].waiting = 0;
    else if (!all && s->lost_signals < 255)
        s->lost_signals++;
}

static void access_sync(const struct ct_ex_world *w, struct ct_ex_state *s, int t)
{
    struct ct_ex_thread *th = &s->th[t];
    const struct ct_ex_op *op = &th->op;
    struct ct_ex_chan *ch = &s->chan[op->a < CT_EX_MAX_CHANS ? op->a : 0];
    switch (op->kind) {
    case CT_EX_OP_LOCK:
        s->owner[op->a] = (int8_t)t;
        break;
    case CT_EX_OP_UNLOCK:
        if (s->owner[op->a] != t)
            fault(s, t, "unlocks a mutex it does not hold");
        s->owner[op->a] = -1;
        break;
    case CT_EX_OP_WAIT:
        if (s->owner[op->b] != t)
            fault(s, t, "waits on a condition variable without holding its mutex");
        s->owner[op->b] = -1;
        th->waiting = (uint8_t)(op->a + 1);
        th->ticket = ++s->tickets;
        break;
    case CT_EX_OP_WAKE:
        s->owner[op->b] = (int8_t)t;
        break;
    case CT_EX_OP_SIGNAL:
    case CT_EX_OP_BROADCAST:
        signal_one(s, w->nthreads, op->a, op->kind == CT_EX_OP_BROADCAST);
        break;
    case CT_EX_OP_SEND:
        ch->item[(ch->head + ch->count) % CT_EX_CHAN_CAP] = op->v;
        ch->count++;
        break;
    case CT_EX_OP_RECV:
        if (ch->count == 0) {
            th->ret = CT_EX_CLOSED;
        } else {
            th->ret = ch->item[ch->head];
            ch->item[ch->head] = 0;
            ch->head = (uint8_t)((ch->head + 1) % CT_EX_CHAN_CAP);
            ch->count--;
        }
        break;
    case CT_EX_OP_DROP:
        if (!(ch->senders & (1u << t)))
            fault(s, t, "drops a sender it does not hold");
        ch->senders &= (uint8_t)~(1u << t);
        break;
    default:
        break;
    }
}

static void access_memory(const struct ct_ex_world *w, struct ct_ex_state *s, int t)
{
    struct ct_ex_thread *th = &s->th[t];
    const struct ct_ex_op *op = &th->op;
    switch (op->kind) {
    case CT_EX_OP_LOAD:
    case CT_EX_OP_LOAD_ACQ:
        th->ret = load(s, th, op->a);
        break;
    case CT_EX_OP_STORE:
        if (buffered(w)) {
            th->buf[th->nbuf].var = op->a;
            th->buf[th->nbuf].val = op->v;
            th->nbuf++;
        } else {
            s->mem[op->a] = op->v;
        }
        break;
    case CT_EX_OP_STORE_REL:    /* the buffer is empty by now */
        s->mem[op->a] = op->v;
        break;
    case CT_EX_OP_FETCH_ADD:
        th->ret = s->mem[op->a];
        s->mem[op->a] += op->v;
        break;
    case CT_EX_OP_CAS:
        th->ret = s->mem[op->a] == op->v;
        if (th->ret)
            s->mem[op->a] = op->w;
        break;
    case CT_EX_OP_FREE:
        if (s->mem[op->a] == 0)
            fault(s, t, "frees the object a second time (double free)");
        s->mem[op->a] = 0;
        break;
    default:
        access_sync(w, s, t);
        break;
    }
}

void ct_ex_step(const struct ct_ex_world *w, struct ct_ex_state *s, int a)
{
    int slot;
    int t = ct_ex_actor_thread(w, a, &slot);
    if (slot >= 0) {
        flush(s, t, slot);
        return;
    }
    if (ct_ex_is_preemption(w, s, a) && s->preemptions < 255)
        s->preemptions++;
    s->last_thread = (int8_t)t;
    access_memory(w, s, t);
    if (!s->fault)
        run_thread(w, s, t);
}

enum ct_ex_status ct_ex_status(const struct ct_ex_world *w, const struct ct_ex_state *s,
                               char *buf, size_t n)
{
    return ct_ex_status_en(w, s, ct_ex_enabled(w, s), buf, n);
}

enum ct_ex_status ct_ex_status_en(const struct ct_ex_world *w, const struct ct_ex_state *s,
                                  uint32_t enabled, char *buf, size_t n)
{
    if (s->fault) {
        char who[32];
        ct_ex_actor_name(w, s->fault_actor, who, sizeof who);
        snprintf(buf, n, "%s %s", who, s->fault);
        return CT_EX_BROKEN;
    }
    bool all_done = true;
    for (int t = 0; t < w->nthreads; t++)
        all_done &= s->th[t].done;
    bool stuck = enabled == 0;
    if (stuck && !all_done) {
        snprintf(buf, n, "deadlock: no thread can move, and not all have finished");
        return CT_EX_DEADLOCK;
    }
    const char *msg = w->sc->check ? w->sc->check(s, &w->cfg, stuck, buf, n) : NULL;
    if (msg) {
        if (msg != buf)
            snprintf(buf, n, "%s", msg);
        return CT_EX_BROKEN;
    }
    return stuck ? CT_EX_FINISHED : CT_EX_RUNNING;
}

/* ---- dependence ------------------------------------------------------------------- */

/* Objects as bits: variables 0..15, mutexes 16.., condvars 20.., channels
 * 24.., store buffers 28.. */
#define R_VAR(v) (1u << (v))
#define R_LOCK(m) (1u << (16 + (m)))
#define R_COND(c) (1u << (20 + (c)))
#define R_CHAN(c) (1u << (24 + (c)))
#define R_BUF(t) (1u << (28 + (t)))

static void footprint(const struct ct_ex_world *w, const struct ct_ex_state *s, int a,
                      uint32_t *rd, uint32_t *wr)
{
    int slot;
    int t = ct_ex_actor_thread(w, a, &slot);
    const struct ct_ex_thread *th = &s->th[t];
    *rd = *wr = 0;
    if (slot >= 0) {
        *wr = R_BUF(t) | R_VAR(th->buf[slot].var);
        return;
    }
    const struct ct_ex_op *op = &th->op;
    switch (op->kind) {
    case CT_EX_OP_LOAD:
    case CT_EX_OP_LOAD_ACQ:
        /* reads the same value before and after its own buffer drains,
         * so it is independent of its own store-buffer actors */
        *rd |= R_VAR(op->a);
        return;
    default:
        break;
    }
    if (buffered(w))
        *rd |= R_BUF(t);    /* waits for its own buffer to drain */
    switch (op->kind) {
    case CT_EX_OP_STORE:
        *wr |= buffered(w) ? R_BUF(t) : R_VAR(op->a);
        break;
    case CT_EX_OP_STORE_REL:
    case CT_EX_OP_FETCH_ADD:
    case CT_EX_OP_CAS:
    case CT_EX_OP_FREE:
        *wr |= R_VAR(op->a);
        break;
    case CT_EX_OP_LOCK:
    case CT_EX_OP_UNLOCK:
        *wr |= R_LOCK(op->a);
        break;
    case CT_EX_OP_WAIT:
    case CT_EX_OP_WAKE:
        *wr |= R_LOCK(op->b) | R_COND(op->a);
        break;
    case CT_EX_OP_SIGNAL:
    case CT_EX_OP_BROADCAST:
        *wr |= R_COND(op->a);
        break;
    case CT_EX_OP_SEND:
    case CT_EX_OP_RECV:
    case CT_EX_OP_DROP:
        *wr |= R_CHAN(op->a);
        break;
    default:
        break;
    }
}

bool ct_ex_dependent(const struct ct_ex_world *w, const struct ct_ex_state *s, int a, int b)
{
    if (a == b)
        return true;
    uint32_t ra, wa, rb, wb;
    footprint(w, s, a, &ra, &wa);
    footprint(w, s, b, &rb, &wb);
    return (wa & (rb | wb)) || (wb & ra);
}

/* ---- replay ------------------------------------------------------------------------- */

int ct_ex_parse_schedule(const char *text, uint8_t *out, int max, size_t *bad_at)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *start = p;
        int v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v = v * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || digits > 2 || (*p && *p != ',') || n >= max) {
            *bad_at = (size_t)(start - text);
            return -EINVAL;
        }
        out[n++] = (uint8_t)v;
        if (*p == ',') {
            p++;
            if (!*p) {
                *bad_at = (size_t)(p - text);
                return -EINVAL;
            }
        }
    }
    return n;
}

int ct_ex_replay(const struct ct_ex_world *w, const uint8_t *sched, int len,
                 struct ct_ex_state *states, char *err, size_t n)
{
    struct ct_ex_state cur;
    char msg[160], who[32];
    ct_ex_start(w, &cur);
    if (states)
        memcpy(&states[0], &cur, sizeof cur);
    err[0] = '\0';
    for (int i = 0; i < len; i++) {
        int a = sched[i];
        enum ct_ex_status st = ct_ex_status(w, &cur, msg, sizeof msg);
        if (st != CT_EX_RUNNING) {
            snprintf(err, n, "step %d: the run is already over (%s)", i + 1,
                     st == CT_EX_FINISHED ? "every thread finished" : msg);
            return i;
        }
        if (a >= w->nactors) {
            snprintf(err, n, "step %d: no thread %d (this scenario has %d, numbered 0..%d)",
                     i + 1, a, w->nactors, w->nactors - 1);
            return i;
        }
        if (!(ct_ex_enabled(w, &cur) & (1u << a))) {
            char why[96];
            int slot;
            int t = ct_ex_actor_thread(w, a, &slot);
            ct_ex_actor_name(w, a, who, sizeof who);
            if (slot >= 0)
                snprintf(why, sizeof why, "has no store to write back");
            else
                ct_ex_describe_blocked(w, &cur, t, why, sizeof why);
            snprintf(err, n, "step %d: thread %d (%s) cannot step: %s", i + 1, a, who, why);
            return i;
        }
        ct_ex_step(w, &cur, a);
        if (states)
            memcpy(&states[i + 1], &cur, sizeof cur);
    }
    return len;
}
