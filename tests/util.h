/* util.h - shared helpers for the test suites: running the program as a
 * process (with input, a timeout and captured output), running a demo
 * in-process, and parsing JSON. */
#ifndef CT_TEST_UTIL_H
#define CT_TEST_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ct_proc {
    int status;         /* exit code, 128 + signal, or -1 if it timed out */
    char *out, *err;    /* everything written to stdout and stderr */
    size_t out_len, err_len;
    double ms;          /* how long it ran */
};

/* The concur-tutor binary under test ($CT_BIN, set by meson). */
const char *ct_test_binary(void);

/* Run `argv` (argv[0] is the program) with `input` on stdin (may be NULL),
 * extra "NAME=value" environment entries in `env` (NULL-terminated, may be
 * NULL), and kill it after `timeout_s`.  Optionally send SIGINT after
 * `sigint_after_ms` (> 0).  Returns 0, or -1 if it could not be started. */
int ct_proc_run(struct ct_proc *p, const char *const *argv, const char *input,
                const char *const *env, double timeout_s, double sigint_after_ms);
/* The same, sending `sig` (instead of SIGINT) after `after_ms`. */
int ct_proc_run_signal(struct ct_proc *p, const char *const *argv, const char *input,
                       const char *const *env, double timeout_s, int sig, double after_ms);
void ct_proc_free(struct ct_proc *p);

/* An error message as printed (wrapped to 80 columns, continuation lines
 * indented by two spaces) with its wrapping undone, for matching a phrase
 * that may span a line break.  Free the result. */
char *ct_unwrap(const char *err);

/* Run the binary with the given arguments (NULL-terminated), no input,
 * NO_COLOR set and a 60 s timeout. */
int ct_tutor(struct ct_proc *p, const char *const *args);

/* Run a registered demo in this process with JSON output and parse it.
 * `args` is a NULL-terminated list of key=value strings.  Returns the
 * parsed object (caller json_decref's it) and the exit code in *code. */
json_t *ct_demo_json(const char *demo, const char *const *args, int *code);
/* ct_demo_json for a run that must succeed: fails the test unless it exits
 * 0 with at least one check and every check passed. */
json_t *ct_demo_ok(const char *demo, const char *const *args);
/* The run's takeaway text (fails the test if there is none). */
const char *dj_takeaway(json_t *j);

/* Run `concur-tutor run DEMO --json PARAMS...` as a process (NO_COLOR,
 * killed after `timeout_s`); fail the test unless it exits 0 with a
 * parseable report whose status is "ok".  Returns the report (caller
 * json_decref's it). */
json_t *ct_demo_proc_json(const char *demo, const char *const *params, double timeout_s);

/* Parse `text` as one JSON value; NULL (with a message on stderr) if it is
 * not valid JSON. */
json_t *ct_json_parse(const char *text);

/* Reading a demo's JSON report.  The result getters fail the test when
 * the key is missing or of the wrong type, so a renamed result cannot pass
 * unnoticed; the table and row getters return NULL when absent. */
long long dj_int(json_t *j, const char *key);           /* results.KEY */
double dj_num(json_t *j, const char *key);              /* integer or real */
const char *dj_text(json_t *j, const char *key);
json_t *dj_table(json_t *j, const char *name);          /* tables.NAME */
/* The first row of tables.NAME whose column COL is the string VALUE. */
json_t *dj_row(json_t *j, const char *name, const char *col, const char *value);
double dj_cell_num(json_t *row, const char *col);       /* fails if absent */
long long dj_cell_int(json_t *row, const char *col);    /* fails if absent */
const char *dj_cell_text(json_t *row, const char *col); /* fails if absent */
/* Every check passed (and there was at least one); prints the first
 * failure to stderr. */
bool dj_checks_ok(json_t *j);
/* A benchmark's hand-off probe (demo.h): both figures positive where this
 * process may use two CPUs, both absent where it may use one. */
void dj_assert_handoff(json_t *j);
/* Fail the test, naming the check, unless every check passed; returns how
 * many checks there were. */
size_t dj_assert_checks(json_t *j);

/* The intervals in which timeline lanes held something: from entering
 * "holding" (exclusive) or "holding shared" to the next state change.  At
 * most `max` go into `out` (the test fails if there are more); returns
 * how many there were. */
struct dj_span {
    double from, to;    /* ms */
    bool exclusive;
};
int dj_hold_spans(json_t *j, struct dj_span *out, int max);

/* A scratch directory, removed (with its files) by ct_tmpdir_remove. */
char *ct_tmpdir(void);
void ct_tmpdir_remove(char *dir);

#endif
