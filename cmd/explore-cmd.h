/* explore-cmd.h - what the two halves of the explore command share:
 * explore.c (arguments, search, replay, listing) and explore-hand.c (the
 * by-hand mode). */
#ifndef CT_EXPLORE_CMD_H
#define CT_EXPLORE_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "explore.h"

struct ct_ex_args {
    const struct ct_ex_world *w;
    bool json, color;
    const char *keys;           /* keys=...: a scripted by-hand session */
    const char *self_cmd;       /* "explore lost-update fixed" for hints */
};

/* The by-hand mode (explore-hand.c): on a terminal, keys one at a time
 * in raw mode; otherwise a scripted sequence from `keys` or stdin.
 * Returns an exit code. */
int ct_ex_by_hand(const struct ct_ex_args *a);

/* The steps of a schedule as lanes, one per thread, with the shared state
 * after each step; states[0..len]. */
void ct_ex_print_timeline(FILE *out, const struct ct_ex_world *w,
                          const struct ct_ex_state *states, const uint8_t *sched, int len);

/* One step as a JSON object member of an array: {step, actor, who, did,
 * shared}. */
struct ct_json;
void ct_ex_json_step(struct ct_json *j, const struct ct_ex_world *w,
                     const struct ct_ex_state *before, const struct ct_ex_state *after,
                     int step, int actor);

/* "0,1,0,1" */
void ct_ex_format_schedule(const uint8_t *sched, int len, char *buf, size_t n);

#endif
