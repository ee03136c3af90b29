/* timeline.c - see timeline.h. */
#include "timeline.h"

#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const struct {
    char glyph;
    const char *name;
    const char *color;      /* ANSI SGR parameters */
} state_info[CT_STATE_COUNT] = {
    [CT_IDLE]   = { ' ', "idle",          "0"  },
    [CT_RUN]    = { '=', "running",       "32" },
    [CT_WAIT]   = { '.', "waiting",       "33" },
    [CT_HOLD]   = { '#', "holding",       "31" },
    [CT_SHARED] = { 'r', "holding shared", "36" },
    [CT_SLEEP]  = { '~', "sleeping",      "34" },
};

char ct_state_glyph(enum ct_state state)
{
    return state_info[state].glyph;
}

const char *ct_state_name(enum ct_state state)
{
    return state_info[state].name;
}

int ct_timeline_init(struct ct_timeline *tl, int64_t origin_ns)
{
    memset(tl, 0, sizeof *tl);
    tl->origin_ns = origin_ns;
    return -pthread_mutex_init(&tl->mu, NULL);
}

void ct_timeline_destroy(struct ct_timeline *tl)
{
    for (int i = 0; i < tl->nlanes; i++)
        free(tl->lanes[i].ev);
    CT_PT(pthread_mutex_destroy(&tl->mu));
}

int ct_timeline_lane(struct ct_timeline *tl, const char *name)
{
    int idx = -ENOSPC;
    CT_PT(pthread_mutex_lock(&tl->mu));
    if (tl->nlanes < CT_TL_MAX_LANES) {
        idx = tl->nlanes++;
        snprintf(tl->lanes[idx].name, sizeof tl->lanes[idx].name, "%s", name);
    }
    CT_PT(pthread_mutex_unlock(&tl->mu));
    return idx;
}

/* Append under the lock; keeps each lane's events in time order even when
 * two threads mark one lane with slightly out-of-order clock readings. */
static void record(struct ct_timeline *tl, int lane, struct ct_tl_event e)
{
    CT_PT(pthread_mutex_lock(&tl->mu));
    if (lane >= 0 && lane < tl->nlanes) {
        struct ct_tl_lane *l = &tl->lanes[lane];
        if (e.t_ns < 0)
            e.t_ns = 0;
        if (l->n > 0 && e.t_ns < l->ev[l->n - 1].t_ns)
            e.t_ns = l->ev[l->n - 1].t_ns;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 32;
            struct ct_tl_event *ev = realloc(l->ev, cap * sizeof *ev);
            if (!ev) {
                tl->oom = true;
                goto out;
            }
            l->ev = ev;
            l->cap = cap;
        }
        l->ev[l->n++] = e;
    }
out:
    CT_PT(pthread_mutex_unlock(&tl->mu));
}

void ct_timeline_state(struct ct_timeline *tl, int lane, enum ct_state state,
                       int64_t now_ns)
{
    record(tl, lane, (struct ct_tl_event){ .t_ns = now_ns - tl->origin_ns,
                                           .state = (unsigned char)state });
}

void ct_timeline_point(struct ct_timeline *tl, int lane, char glyph,
                       int64_t now_ns)
{
    record(tl, lane, (struct ct_tl_event){ .t_ns = now_ns - tl->origin_ns,
                                           .glyph = glyph });
}

void ct_timeline_label(struct ct_timeline *tl, enum ct_state state,
                       const char *text)
{
    tl->state_label[state] = text;
}

void ct_timeline_point_label(struct ct_timeline *tl, char glyph,
                             const char *text)
{
    for (int i = 0; i < tl->npoints; i++) {
        if (tl->point_glyph[i] == glyph) {
            tl->point_label[i] = text;
            return;
        }
    }
    if (tl->npoints < CT_TL_MAX_POINTS) {
        tl->point_glyph[tl->npoints] = glyph;
        tl->point_label[tl->npoints++] = text;
    }
}

/* Whether a state is something the thread did (ran, held) rather than an
 * absence (idle, waiting, asleep): one that was entered at all is drawn,
 * however short. */
static bool is_activity(int state)
{
    return state == CT_RUN || state == CT_HOLD || state == CT_SHARED;
}

/* Pick the glyph for each column of one lane.  A column shows the state that
 * covered most of its time span, counting idle time at half weight so that a
 * lock held for a third of a column still shows.  An activity too short to
 * win any column (a lock held for microseconds) still takes the column where
 * its longest stretch began.  Points are drawn on top. */
static void lane_cells(const struct ct_tl_lane *l, int64_t start, int cols, double col_ns,
                       unsigned char *state_out, char *point_out)
{
    double (*cov)[CT_STATE_COUNT] = calloc((size_t)cols, sizeof *cov);
    memset(point_out, 0, (size_t)cols);
    if (!cov) {
        memset(state_out, CT_IDLE, (size_t)cols);
        return;
    }

    /* times are taken relative to the window's start */
    double end = col_ns * cols;
    int cur = CT_IDLE;
    double from = 0;
    double longest[CT_STATE_COUNT];     /* each activity's longest stretch */
    int longest_col[CT_STATE_COUNT];    /* and the column where it began */
    for (int s = 0; s < CT_STATE_COUNT; s++) {
        longest[s] = -1;
        longest_col[s] = 0;
    }
    for (size_t i = 0; i <= l->n; i++) {
        double to = i < l->n ? (double)(l->ev[i].t_ns - start) : end, raw_to = to;
        if (to < 0)
            to = 0;
        if (to > end)
            to = end;
        if (is_activity(cur) && i > 0 && to - from > longest[cur] &&
            (double)(l->ev[i - 1].t_ns - start) <= end && raw_to >= 0) {
            int c = (int)(from / col_ns);
            longest[cur] = to - from;
            longest_col[cur] = c < cols ? c : cols - 1;
        }
        /* spread [from, to) in state `cur` over the columns it touches */
        for (int c = (int)(from / col_ns); c < cols && c * col_ns < to; c++) {
            double a = c * col_ns, b = a + col_ns;
            double x = from > a ? from : a, y = to < b ? to : b;
            if (y > x)
                cov[c][cur] += y - x;
        }
        if (i == l->n)
            break;
        const struct ct_tl_event *e = &l->ev[i];
        from = to;
        if (e->glyph) {
            int c = (int)((double)(e->t_ns - start) / col_ns);
            point_out[c < 0 ? 0 : c < cols ? c : cols - 1] = e->glyph;
        } else {
            cur = e->state;
        }
    }

    for (int c = 0; c < cols; c++) {
        int best = CT_IDLE;
        double best_w = cov[c][CT_IDLE] * 0.5;
        for (int s = 1; s < CT_STATE_COUNT; s++) {
            if (cov[c][s] > best_w) {
                best = s;
                best_w = cov[c][s];
            }
        }
        state_out[c] = (unsigned char)best;
    }
    for (int s = 0; s < CT_STATE_COUNT; s++) {
        if (longest[s] < 0 || memchr(state_out, s, (size_t)cols))
            continue;
        state_out[longest_col[s]] = (unsigned char)s;
    }
    free(cov);
}

static void fmt_ms(char *buf, size_t n, double ms)
{
    if (ms == 0)
        snprintf(buf, n, "0");
    else if (ms >= 100)
        snprintf(buf, n, "%.0f ms", ms);
    else if (ms >= 10)
        snprintf(buf, n, "%.1f ms", ms);
    else if (ms >= 0.1)
        snprintf(buf, n, "%.2f ms", ms);
    else
        snprintf(buf, n, "%.1f us", ms * 1000);
}

/* The window worth drawing: from the first event to the last one, or to
 * `end` (the run's end) when some lane is still busy after its last event.
 * A demo in several parts may record its timeline in only one of them.
 * The window is at least 1 ms wide where the run lasted that long, but
 * never reaches past the run's end or before its start. */
void ct_timeline_window(const struct ct_timeline *tl, int64_t end, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = 0;
    bool open = false;
    for (int i = 0; i < tl->nlanes; i++) {
        const struct ct_tl_lane *l = &tl->lanes[i];
        if (l->n == 0)
            continue;
        *lo = l->ev[0].t_ns < *lo ? l->ev[0].t_ns : *lo;
        *hi = l->ev[l->n - 1].t_ns > *hi ? l->ev[l->n - 1].t_ns : *hi;
        for (size_t e = l->n; e-- > 0;) {
            if (!l->ev[e].glyph) {
                open |= l->ev[e].state != CT_IDLE;
                break;
            }
        }
    }
    if (*lo == INT64_MAX)
        *lo = 0;
    if (open && end > *hi)
        *hi = end;
    if (*hi - *lo < 1000000) {
        int64_t last = end > *hi ? end : *hi;
        *hi = *lo + 1000000 < last ? *lo + 1000000 : last;
        *lo = *hi > 1000000 ? *hi - 1000000 : 0;
    }
    /* a window that starts near the beginning starts at the beginning */
    if (*lo < (*hi - *lo) / 20)
        *lo = 0;
    if (*hi <= *lo)
        *hi = *lo + 1;
}

int ct_timeline_draw(const struct ct_timeline *tl, FILE *out, int width,
                     int64_t end_ns, bool color)
{
    int drawn = 0;
    for (int i = 0; i < tl->nlanes; i++)
        drawn += tl->lanes[i].n > 0;
    if (drawn == 0) {
        if (tl->nlanes > 0)
            fputs("Timeline: no thread recorded anything to draw.\n", out);
        return 0;
    }

    int64_t lo, hi;
    ct_timeline_window(tl, end_ns - tl->origin_ns, &lo, &hi);
    int64_t span = hi - lo;

    /* lane names take at most a third of the width (longer ones are cut) */
    int name_w = 4;
    for (int i = 0; i < tl->nlanes; i++) {
        if (tl->lanes[i].n == 0)
            continue;
        int w = (int)strlen(tl->lanes[i].name);
        if (w > name_w)
            name_w = w;
    }
    if (name_w > width / 3)
        name_w = width / 3;
    int cols = width - 2 - name_w - 2 - 1;
    if (cols < 10)
        cols = 10;
    double col_ns = (double)span / cols;

    unsigned char *states = malloc((size_t)cols);
    char *points = malloc((size_t)cols);
    if (!states || !points) {
        free(states);
        free(points);
        return -ENOMEM;
    }

    char unit[32];
    fmt_ms(unit, sizeof unit, col_ns / 1e6);
    char heading[96];
    snprintf(heading, sizeof heading, "Timeline (time runs left to right, 1 column = %s)", unit);
    ct_wrap(out, heading, width, 0);

    bool used[CT_STATE_COUNT] = { false };
    bool point_used[128] = { false };
    for (int i = 0; i < tl->nlanes; i++) {
        const struct ct_tl_lane *l = &tl->lanes[i];
        if (l->n == 0)
            continue;
        lane_cells(l, lo, cols, col_ns, states, points);
        fprintf(out, "  %-*.*s |", name_w, name_w, l->name);
        int prev = -1;
        for (int c = 0; c < cols; c++) {
            int s = states[c];
            char g = points[c] ? points[c] : state_info[s].glyph;
            used[s] = true;
            if (points[c])
                point_used[(unsigned char)points[c] & 127] = true;
            if (color) {
                int key = points[c] ? 100 : s;
                if (key != prev)
                    fprintf(out, "\033[%sm", points[c] ? "1;35" : state_info[s].color);
                prev = key;
            }
            fputc(g, out);
        }
        fputs(color ? "\033[0m|\n" : "|\n", out);
    }

    char left[32], right[32];
    fmt_ms(left, sizeof left, (double)lo / 1e6);
    fmt_ms(right, sizeof right, (double)hi / 1e6);
    fprintf(out, "  %*s  %s%*s\n", name_w, "", left,
            cols + 1 - (int)strlen(left), right);

    /* the legend, wrapped to the width */
    const char *items[CT_STATE_COUNT + CT_TL_MAX_POINTS];
    char glyphs[CT_STATE_COUNT + CT_TL_MAX_POINTS];
    int n = 0;
    for (int s = 1; s < CT_STATE_COUNT; s++) {
        if (used[s]) {
            glyphs[n] = state_info[s].glyph;
            items[n++] = tl->state_label[s] ? tl->state_label[s] : state_info[s].name;
        }
    }
    for (int i = 0; i < tl->npoints; i++) {
        if (point_used[(unsigned char)tl->point_glyph[i] & 127]) {
            glyphs[n] = tl->point_glyph[i];
            items[n++] = tl->point_label[i];
        }
    }
    /* the legend: items side by side while they fit; an item too long
     * for any line gets lines of its own, its words wrapped */
    int col = fprintf(out, "  legend:");
    for (int i = 0; i < n; i++) {
        int w = 2 + 2 + ct_text_width(items[i], strlen(items[i]));
        if (col > 0 && col + w > width && col > 10) {
            fputc('\n', out);
            col = 0;
        }
        if (9 + w > width) {
            char head[8];
            snprintf(head, sizeof head, "%c", glyphs[i]);
            if (col > 0)
                fputc('\n', out);
            ct_wrap_item(out, head, 4, 6, items[i], width);
            col = 0;
            continue;
        }
        if (col == 0)
            col = fprintf(out, "         ");
        col += fprintf(out, "  %c %s", glyphs[i], items[i]);
    }
    if (col > 0)
        fputc('\n', out);
    free(states);
    free(points);
    return drawn;
}
