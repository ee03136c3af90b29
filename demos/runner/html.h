/* html.h - a demo run as one self-contained HTML page (`run DEMO --html
 * FILE`), for a course page.
 *
 * The page is drawn from the same data as the JSON report, never from the
 * text output: the intro, the parameters, the live log, the results,
 * tables and bar charts (SVG), the checks, the takeaway and the timeline
 * (SVG: one lane per thread, a colour per state, an axis in ms).  It loads
 * nothing: no scripts, no fonts, no images, no links out; the styles are
 * inline.  It is also well-formed XML (every element closed, attributes
 * quoted, text escaped), so an XML checker can vouch for it.
 */
#ifndef CT_HTML_H
#define CT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "demo.h"
#include "params.h"
#include "predict.h"
#include "report.h"
#include "timeline.h"

/* A live line, as the runner keeps it for JSON and HTML. */
struct ct_logline {
    double t_ms;
    char label[CT_LABEL_MAX];   /* the thread, or "--" for a section heading */
    char *text;
};

/* Everything the page shows about one run. */
struct ct_run_view {
    const struct ct_demo *demo;
    const struct ct_params *params;
    const char *status;                 /* "ok", "failed", ... */
    double wall_ms, scale;
    int cpus;
    const struct ct_report *rep;
    const struct ct_timeline *tl;       /* lanes without events are left out */
    int64_t end_ns;                     /* absolute: the timeline's right edge */
    const struct ct_logline *log;
    size_t nlog, log_dropped;
    const char *question, *verdict;     /* predict=true, else NULL */
    const struct ct_repeats *repeats;   /* runs > 1, else NULL */
    const struct ct_hist *hist;
    const char *generator;              /* "concur-tutor" */
};

/* Write the page to `path` (through a temporary file renamed into place,
 * so a reader never sees half a page).  0, or a negative errno with the
 * reason in err. */
int ct_html_write(const char *path, const struct ct_run_view *v, char *err, size_t n);

/* The same page on a stream. */
void ct_html_page(FILE *out, const struct ct_run_view *v);

#endif
