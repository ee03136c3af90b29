/* describe.c - the engine's state and steps in words: what a thread will
 * do next, what it just did, why it cannot move, and a deadlock's
 * wait-for cycle. */
#include "explore.h"

#include <stdio.h>
#include <string.h>

static void var_name(const struct ct_ex_world *w, int v, char *buf, size_t n)
{
    ct_ex_list_name(w->sc->vars, v, buf, n);
}

static void obj_name(const char *list, const char *kind, int i, char *buf, size_t n)
{
    if (list)
        ct_ex_list_name(list, i, buf, n);
    else
        snprintf(buf, n, "%s%d", kind, i);
}

void ct_ex_describe_next(const struct ct_ex_world *w, const struct ct_ex_state *s, int a,
                         char *buf, size_t n)
{
    int slot;
    int t = ct_ex_actor_thread(w, a, &slot);
    const struct ct_ex_thread *th = &s->th[t];
    char x[24], y[24];
    if (slot >= 0) {
        if (slot >= th->nbuf) {
            snprintf(buf, n, "(empty)");
            return;
        }
        var_name(w, th->buf[slot].var, x, sizeof x);
        snprintf(buf, n, "%s=%d lands", x, (int)th->buf[slot].val);
        return;
    }
    const struct ct_ex_op *op = &th->op;
    if (th->done) {
        snprintf(buf, n, "finished");
        return;
    }
    switch (op->kind) {
    case CT_EX_OP_LOAD:
    case CT_EX_OP_LOAD_ACQ:
    case CT_EX_OP_STORE:
    case CT_EX_OP_STORE_REL:
    case CT_EX_OP_FETCH_ADD:
    case CT_EX_OP_CAS:
    case CT_EX_OP_FREE:
        var_name(w, op->a, x, sizeof x);
        break;
    case CT_EX_OP_LOCK:
    case CT_EX_OP_UNLOCK:
        obj_name(w->sc->locks, "m", op->a, x, sizeof x);
        break;
    case CT_EX_OP_WAIT:
    case CT_EX_OP_WAKE:
    case CT_EX_OP_SIGNAL:
    case CT_EX_OP_BROADCAST:
        obj_name(w->sc->conds, "cv", op->a, x, sizeof x);
        obj_name(w->sc->locks, "m", op->b, y, sizeof y);
        break;
    default:
        obj_name(w->sc->chans, "ch", op->a, x, sizeof x);
        break;
    }
    switch (op->kind) {
    case CT_EX_OP_LOAD: snprintf(buf, n, "load %s", x); break;
    case CT_EX_OP_LOAD_ACQ: snprintf(buf, n, "load-acquire %s", x); break;
    case CT_EX_OP_STORE: snprintf(buf, n, "store %s=%d", x, (int)op->v); break;
    case CT_EX_OP_STORE_REL: snprintf(buf, n, "store-release %s=%d", x, (int)op->v); break;
    case CT_EX_OP_FETCH_ADD: snprintf(buf, n, "fetch_add %s %+d", x, (int)op->v); break;
    case CT_EX_OP_CAS:
        snprintf(buf, n, "cas %s %d->%d", x, (int)op->v, (int)op->w);
        break;
    case CT_EX_OP_FENCE: snprintf(buf, n, "fence (seq_cst)"); break;
    case CT_EX_OP_FREE: snprintf(buf, n, "free %s", x); break;
    case CT_EX_OP_LOCK: snprintf(buf, n, "lock %s", x); break;
    case CT_EX_OP_UNLOCK: snprintf(buf, n, "unlock %s", x); break;
    case CT_EX_OP_WAIT: snprintf(buf, n, "wait %s (unlocks %s)", x, y); break;
    case CT_EX_OP_WAKE: snprintf(buf, n, "wake from %s, relock %s", x, y); break;
    case CT_EX_OP_SIGNAL: snprintf(buf, n, "signal %s", x); break;
    case CT_EX_OP_BROADCAST: snprintf(buf, n, "broadcast %s", x); break;
    case CT_EX_OP_SEND: snprintf(buf, n, "send %d on %s", (int)op->v, x); break;
    case CT_EX_OP_RECV: snprintf(buf, n, "recv from %s", x); break;
    case CT_EX_OP_DROP: snprintf(buf, n, "drop its %s sender", x); break;
    default: snprintf(buf, n, "finished"); break;
    }
}

void ct_ex_describe_done(const struct ct_ex_world *w, const struct ct_ex_state *before,
                         const struct ct_ex_state *after, int a, char *buf, size_t n)
{
    char what[64];
    ct_ex_describe_next(w, before, a, what, sizeof what);
    if (a >= w->nthreads) {
        snprintf(buf, n, "%s", what);
        return;
    }
    const struct ct_ex_thread *th = &after->th[a];
    switch (before->th[a].op.kind) {
    case CT_EX_OP_LOAD:
    case CT_EX_OP_LOAD_ACQ:
    case CT_EX_OP_FETCH_ADD:
        snprintf(buf, n, "%s -> %d", what, (int)th->ret);
        break;
    case CT_EX_OP_CAS:
        snprintf(buf, n, "%s %s", what, th->ret ? "ok" : "failed");
        break;
    case CT_EX_OP_RECV:
        if (th->ret == CT_EX_CLOSED)
            snprintf(buf, n, "%s -> closed", what);
        else
            snprintf(buf, n, "%s -> %d", what, (int)th->ret);
        break;
    case CT_EX_OP_SIGNAL:
        snprintf(buf, n, "%s%s", what,
                 after->lost_signals > before->lost_signals ? " (nobody waits: lost)" : "");
        break;
    default:
        snprintf(buf, n, "%s", what);
        break;
    }
}

/* Names of the threads holding a sender of channel c, "main, worker". */
static void sender_names(const struct ct_ex_world *w, const struct ct_ex_state *s, int c,
                         char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int u = 0; u < w->nthreads && off < n; u++) {
        if (!(s->chan[c].senders & (1u << u)))
            continue;
        char who[32];
        ct_ex_actor_name(w, u, who, sizeof who);
        off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "", who);
    }
}

void ct_ex_describe_blocked(const struct ct_ex_world *w, const struct ct_ex_state *s, int t,
                            char *buf, size_t n)
{
    const struct ct_ex_thread *th = &s->th[t];
    const struct ct_ex_op *op = &th->op;
    char x[24], who[32], names[96];
    if (th->done) {
        snprintf(buf, n, "it has finished");
        return;
    }
    if (w->sc->memory != CT_EX_SC && th->nbuf > 0 && op->kind != CT_EX_OP_LOAD &&
        op->kind != CT_EX_OP_LOAD_ACQ && op->kind != CT_EX_OP_STORE) {
        snprintf(buf, n, "waits for its store buffer to drain");
        return;
    }
    switch (op->kind) {
    case CT_EX_OP_STORE:
        snprintf(buf, n, "its store buffer is full");
        return;
    case CT_EX_OP_LOCK:
    case CT_EX_OP_WAKE:
        if (op->kind == CT_EX_OP_WAKE && th->waiting) {
            obj_name(w->sc->conds, "cv", op->a, x, sizeof x);
            snprintf(buf, n, "asleep on %s until signalled", x);
            return;
        }
        obj_name(w->sc->locks, "m", op->kind == CT_EX_OP_LOCK ? op->a : op->b, x, sizeof x);
        ct_ex_actor_name(w, s->owner[op->kind == CT_EX_OP_LOCK ? op->a : op->b], who,
                         sizeof who);
        snprintf(buf, n, "waits for %s (held by %s)", x, who);
        return;
    case CT_EX_OP_RECV:
        obj_name(w->sc->chans, "ch", op->a, x, sizeof x);
        sender_names(w, s, op->a, names, sizeof names);
        snprintf(buf, n, "waits on %s (senders: %s)", x, names);
        return;
    case CT_EX_OP_SEND:
        obj_name(w->sc->chans, "ch", op->a, x, sizeof x);
        snprintf(buf, n, "waits for room on %s", x);
        return;
    default:
        snprintf(buf, n, "can step");
        return;
    }
}

void ct_ex_describe_shared(const struct ct_ex_world *w, const struct ct_ex_state *s,
                           char *buf, size_t n)
{
    const struct ct_ex_scenario *sc = w->sc;
    char x[24], who[32];
    size_t off = 0;
    buf[0] = '\0';
#define ADD(...) \
    (off += off < n ? (size_t)snprintf(buf + off, n - off, __VA_ARGS__) : 0)
    for (int v = 0; sc->vars && v < CT_EX_MAX_VARS; v++) {
        ct_ex_list_name(sc->vars, v, x, sizeof x);
        if (x[0] == '#')
            break;
        if (x[0] != '-')        /* "-" marks a variable not worth showing */
            ADD("%s%s=%d", off ? " " : "", x, (int)s->mem[v]);
    }
    for (int m = 0; sc->locks && m < CT_EX_MAX_LOCKS; m++) {
        ct_ex_list_name(sc->locks, m, x, sizeof x);
        if (x[0] == '#')
            break;
        if (s->owner[m] >= 0)
            ct_ex_actor_name(w, s->owner[m], who, sizeof who);
        ADD("%s%s:%s", off ? " " : "", x, s->owner[m] >= 0 ? who : "free");
    }
    for (int c = 0; sc->conds && c < CT_EX_MAX_CONDS; c++) {
        ct_ex_list_name(sc->conds, c, x, sizeof x);
        if (x[0] == '#')
            break;
        int k = 0;
        ADD("%s%s:[", off ? " " : "", x);
        for (int t = 0; t < w->nthreads; t++) {
            if (s->th[t].waiting == c + 1) {
                ct_ex_actor_name(w, t, who, sizeof who);
                ADD("%s%s", k++ ? "," : "", who);
            }
        }
        ADD("]");
    }
    for (int c = 0; sc->chans && c < CT_EX_MAX_CHANS; c++) {
        const struct ct_ex_chan *ch = &s->chan[c];
        ct_ex_list_name(sc->chans, c, x, sizeof x);
        ADD("%s%s:[", off ? " " : "", x);
        for (int i = 0; i < ch->count; i++)
            ADD("%s%d", i ? "," : "", (int)ch->item[(ch->head + i) % CT_EX_CHAN_CAP]);
        int senders = 0;
        for (int t = 0; t < w->nthreads; t++)
            senders += (ch->senders >> t) & 1;
        ADD("] senders:%d", senders);
    }
#undef ADD
}

void ct_ex_describe_locals(const struct ct_ex_world *w, const struct ct_ex_state *s, int t,
                           char *buf, size_t n)
{
    const char *names = w->code[t]->locals;
    const struct ct_ex_thread *th = &s->th[t];
    size_t off = 0;
    char x[24];
    buf[0] = '\0';
    for (int i = 0; names && *names && i < CT_EX_LOCALS / 4 && off < n; i++) {
        ct_ex_list_name(names, i, x, sizeof x);
        if (x[0] == '#')
            break;
        int v;
        memcpy(&v, th->locals + 4 * i, sizeof v);
        off += (size_t)snprintf(buf + off, n - off, "%s%s=%d", off ? " " : "", x, v);
    }
}

static void append(char *dst, size_t n, const char *src)
{
    size_t len = strlen(dst);
    while (*src && len + 1 < n)
        dst[len++] = *src++;
    dst[len] = '\0';
}

/* The threads thread t waits for, as a bit set. */
static uint32_t waits_for(const struct ct_ex_world *w, const struct ct_ex_state *s, int t)
{
    const struct ct_ex_op *op = &s->th[t].op;
    if (s->th[t].done)
        return 0;
    if (op->kind == CT_EX_OP_LOCK && s->owner[op->a] >= 0)
        return 1u << s->owner[op->a];
    if (op->kind == CT_EX_OP_WAKE && !s->th[t].waiting && s->owner[op->b] >= 0)
        return 1u << s->owner[op->b];
    if (op->kind == CT_EX_OP_RECV && s->chan[op->a].count == 0)
        return s->chan[op->a].senders & ((1u << w->nthreads) - 1);
    return 0;
}

/* Follow wait-for edges from t; a cycle's threads in order into cyc. */
static int find_cycle(const struct ct_ex_world *w, const struct ct_ex_state *s, int *cyc)
{
    for (int start = 0; start < w->nthreads; start++) {
        int path[CT_EX_MAX_THREADS + 1], len = 0, cur = start;
        bool seen[CT_EX_MAX_THREADS] = { false };
        while (cur >= 0 && !seen[cur]) {
            seen[cur] = true;
            path[len++] = cur;
            uint32_t e = waits_for(w, s, cur);
            cur = -1;
            for (int u = 0; u < w->nthreads; u++) {
                if (e & (1u << u)) {
                    cur = u;
                    break;
                }
            }
        }
        if (cur >= 0) {
            int k = 0, from = 0;
            while (path[from] != cur)
                from++;
            for (int i = from; i < len; i++)
                cyc[k++] = path[i];
            return k;
        }
    }
    return 0;
}

int ct_ex_wait_for(const struct ct_ex_world *w, const struct ct_ex_state *s,
                   char (*lines)[96], int max)
{
    int n = 0;
    char who[32], held[64], why[96], x[24];
    for (int t = 0; t < w->nthreads && n < max; t++) {
        if (s->th[t].done)
            continue;
        size_t off = 0;
        held[0] = '\0';
        for (int m = 0; m < CT_EX_MAX_LOCKS; m++) {
            if (s->owner[m] == t) {
                obj_name(w->sc->locks, "m", m, x, sizeof x);
                off += (size_t)snprintf(held + off, sizeof held - off, "%s%s",
                                        off ? " and " : "", x);
            }
        }
        ct_ex_actor_name(w, t, who, sizeof who);
        ct_ex_describe_blocked(w, s, t, why, sizeof why);
        /* "t0 holds a, waits for b (held by t1)", cut at 96 bytes */
        lines[n][0] = '\0';
        append(lines[n], 96, who);
        if (held[0]) {
            append(lines[n], 96, " holds ");
            append(lines[n], 96, held);
            append(lines[n], 96, ",");
        }
        append(lines[n], 96, " ");
        append(lines[n], 96, why);
        n++;
    }
    int cyc[CT_EX_MAX_THREADS];
    int k = find_cycle(w, s, cyc);
    if (k > 0 && n < max) {
        size_t off = (size_t)snprintf(lines[n], 96, "cycle:");
        for (int i = 0; i <= k && off < 96; i++) {
            ct_ex_actor_name(w, cyc[i % k], who, sizeof who);
            off += (size_t)snprintf(lines[n] + off, 96 - off, "%s%s", i ? " -> " : " ", who);
        }
        if (k == 1 && off < 96)
            snprintf(lines[n] + off, 96 - off, " (it waits for itself)");
        n++;
    }
    return n;
}
