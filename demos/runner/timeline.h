/* timeline.h - per-thread lanes of states over time, drawn as ASCII.
 *
 * A demo gives each thread a lane and marks the lane's state as it changes
 * (running, waiting for a lock, holding it, ...), plus single-instant points
 * such as "sent" or "cancelled".  After the threads are joined the timeline
 * is drawn as one text row per lane, time running left to right:
 *
 *     reader-1  |rrrrrrrrrrrrrrrrrrrr                |
 *     writer    |     ...............#####           |
 *
 * Recording takes a short mutex, so any thread may mark any lane; demos
 * mark at state changes, never inside a timed inner loop.
 */
#ifndef CT_TIMELINE_H
#define CT_TIMELINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum ct_state {
    CT_IDLE,        /* ' '  not started, finished, or doing nothing of note */
    CT_RUN,         /* '='  running its own work */
    CT_WAIT,        /* '.'  waiting: for a lock, a message, a slot */
    CT_HOLD,        /* '#'  holding something exclusively */
    CT_SHARED,      /* 'r'  holding something shared, e.g. a read lock */
    CT_SLEEP,       /* '~'  sleeping on purpose */
    CT_STATE_COUNT
};

#define CT_TL_MAX_LANES  64
#define CT_TL_MAX_POINTS 8
#define CT_TL_NAME_MAX   24

struct ct_tl_event {
    int64_t t_ns;           /* since the timeline's origin */
    char glyph;             /* 0 for a state change, else a point's glyph */
    unsigned char state;    /* enum ct_state, for state changes */
};

struct ct_tl_lane {
    char name[CT_TL_NAME_MAX];
    struct ct_tl_event *ev;
    size_t n, cap;
};

struct ct_timeline {
    pthread_mutex_t mu;
    int64_t origin_ns;                          /* ct_clock_ns() at time 0 */
    int nlanes;
    struct ct_tl_lane lanes[CT_TL_MAX_LANES];
    const char *state_label[CT_STATE_COUNT];    /* legend text per state */
    int npoints;
    char point_glyph[CT_TL_MAX_POINTS];         /* legend for point glyphs */
    const char *point_label[CT_TL_MAX_POINTS];
    bool oom;                                   /* an event was dropped */
};

/* 0 or a negative errno.  `origin_ns` is time 0 (a ct_clock_ns() value). */
int ct_timeline_init(struct ct_timeline *tl, int64_t origin_ns);
void ct_timeline_destroy(struct ct_timeline *tl);

/* Add a lane; returns its index, or -ENOSPC when all lanes are taken. */
int ct_timeline_lane(struct ct_timeline *tl, const char *name);

/* Record that `lane` entered `state` at absolute time `now_ns`. */
void ct_timeline_state(struct ct_timeline *tl, int lane, enum ct_state state,
                       int64_t now_ns);

/* Record a point event drawn as `glyph` at absolute time `now_ns`. */
void ct_timeline_point(struct ct_timeline *tl, int lane, char glyph,
                       int64_t now_ns);

/* Legend text: what a state or a point glyph means in this demo.  The
 * strings must outlive the timeline (string literals). */
void ct_timeline_label(struct ct_timeline *tl, enum ct_state state,
                       const char *text);
void ct_timeline_point_label(struct ct_timeline *tl, char glyph,
                             const char *text);

/* The glyph and default name of a state ("waiting", ...). */
char ct_state_glyph(enum ct_state state);
const char *ct_state_name(enum ct_state state);

/* The span worth drawing, in ns since the origin: from the first event
 * (or 0 when that is near the start) to the last, or to `end` (since the
 * origin, the run's end) when a lane is still busy after its last event;
 * at least 1 ms where the run lasted that long, never past `end`. */
void ct_timeline_window(const struct ct_timeline *tl, int64_t end, int64_t *lo, int64_t *hi);

/* Draw every lane that has events into `out`, `width` columns wide in all,
 * over the window ct_timeline_window picks (`end_ns` absolute).  With lanes
 * but no events it says so in one line.  Call only when no thread is still
 * recording.  Returns the number of lanes drawn. */
int ct_timeline_draw(const struct ct_timeline *tl, FILE *out, int width,
                     int64_t end_ns, bool color);

#endif
