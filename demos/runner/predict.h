/* predict.h - predict=true and runs=N, which the runner offers for every
 * demo (see struct ct_predict in demo.h).
 *
 * predict=true asks the demo's question before the run and reads one
 * answer; after the run the answer is set against the result the question
 * names.  runs=N runs the demo N times and collects that result (or, for a
 * demo with no question, its wall time) into a histogram, so that a class
 * sees a race as a distribution, not a number.  run.c drives both; this
 * module formats, asks, counts and prints.
 */
#ifndef CT_PREDICT_H
#define CT_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "demo.h"
#include "json.h"
#include "params.h"
#include "report.h"

#define CT_HIST_MAX_BINS 16

/* What the class answered. */
struct ct_answer {
    bool given;             /* false: skipped, or no input */
    bool number;            /* a number (else a choice word) */
    double value;           /* number */
    char word[64];          /* choice: the word, as listed in `choices` */
    char expect[64];        /* choice: the result text that word stands for */
};

/* The result over the runs, one entry per run. */
struct ct_repeats {
    const struct ct_predict *predict;   /* NULL: the figure is the wall time */
    char label[128];                    /* the result's label in the report */
    bool numeric;
    int n, cap;
    double *num;                        /* numeric figure per run (NaN: missing) */
    char **text;                        /* text figure per run (NULL: missing) */
    char **status;                      /* "ok", "failed", "cancelled", "error" */
    int checks_held;                    /* runs whose every check held */
};

/* A histogram of the figure: bins in order, with run counts. */
struct ct_hist {
    int nbins;
    char label[CT_HIST_MAX_BINS][64];
    int count[CT_HIST_MAX_BINS];
    int guess_bin;                      /* the bin the answer falls in, or -1 */
};

/* The question with "{name}" and "{a*b}" filled in from `params`. */
void ct_predict_question(const struct ct_predict *p, const struct ct_params *params,
                         char *buf, size_t n);

/* Print the question and a prompt on `out` and read the answer from `in`
 * (a terminal, or the next line of a script).  A bad answer is explained
 * and asked again; an empty line or the end of input skips the prediction.
 * Returns 0 (a->given says whether there is an answer), or -ECANCELED
 * when Ctrl-C was pressed at the question. */
int ct_predict_ask(const struct ct_predict *p, const char *question, FILE *in, FILE *out,
                   int width, bool color, struct ct_answer *a);

void ct_repeats_init(struct ct_repeats *r, const struct ct_predict *p);
void ct_repeats_free(struct ct_repeats *r);
/* Record one run: its report (for the figure), its status and wall time. */
void ct_repeats_add(struct ct_repeats *r, const struct ct_report *rep, const char *status,
                    double wall_ms);
/* One line about run `i` ("run 3 of 10: lost 1,234  checks held"). */
void ct_repeats_say(const struct ct_repeats *r, int i, int of, FILE *out, int width);

/* The histogram of the runs, marking the bin of the answer if any. */
void ct_repeats_hist(const struct ct_repeats *r, const struct ct_answer *a,
                     struct ct_hist *h);

/* The verdict on the answer: one paragraph, into buf.  Empty when there
 * was no answer or no run produced the result. */
void ct_predict_verdict(const struct ct_repeats *r, const struct ct_answer *a, char *buf,
                        size_t n);
/* What the spread says, one paragraph (runs > 1). */
void ct_repeats_summary(const struct ct_repeats *r, char *buf, size_t n);

/* Text: the "Over N runs" section (histogram, checks, what it says). */
void ct_repeats_print(const struct ct_repeats *r, const struct ct_hist *h, FILE *out,
                      int width, bool color);
/* Text: the "Your prediction" section. */
void ct_predict_print(const char *question, const char *verdict, FILE *out, int width,
                      bool color);

/* JSON: the members "prediction" (when asked) and "repeats" (runs > 1). */
void ct_predict_json(struct ct_json *j, const char *question, const struct ct_answer *a,
                     const char *verdict, const struct ct_repeats *r);
void ct_repeats_json(struct ct_json *j, const struct ct_repeats *r, const struct ct_hist *h);

#endif
