/* util.c - see util.h. */
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "run.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *ct_test_binary(void)
{
    const char *bin = getenv("CT_BIN");
    if (!bin) {
        fprintf(stderr, "CT_BIN is not set: run the tests through meson test\n");
        abort();
    }
    return bin;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    char *p = realloc(*buf, *len + n + 1);
    if (!p)
        abort();
    memcpy(p + *len, data, n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
}

int ct_proc_run(struct ct_proc *p, const char *const *argv, const char *input,
                const char *const *env, double timeout_s, double sigint_after_ms)
{
    return ct_proc_run_signal(p, argv, input, env, timeout_s, SIGINT, sigint_after_ms);
}

int ct_proc_run_signal(struct ct_proc *p, const char *const *argv, const char *input,
                       const char *const *env, double timeout_s, int sig, double after_ms)
{
    int in[2], out[2], err[2];
    memset(p, 0, sizeof *p);
    p->out = calloc(1, 1);
    p->err = calloc(1, 1);
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return -1;
    double start = now_ms();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (input && *input) {
        /* scripts in tests are small: they fit the pipe buffer */
        ssize_t w = write(in[1], input, strlen(input));
        (void)w;
    }
    close(in[1]);

    struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
    int open_fds = 2, status = 0;
    bool sent_int = false, killed = false;
    char buf[8192];
    while (open_fds > 0) {
        double elapsed = now_ms() - start;
        if (!killed && elapsed > timeout_s * 1e3) {
            kill(pid, SIGKILL);
            killed = true;
        }
        if (after_ms > 0 && !sent_int && elapsed >= after_ms) {
            kill(pid, sig);
            sent_int = true;
        }
        int r = poll(fds, 2, 10);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                if (i == 0)
                    append(&p->out, &p->out_len, buf, (size_t)n);
                else
                    append(&p->err, &p->err_len, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->ms = now_ms() - start;
    if (killed)
        p->status = -1;
    else if (WIFEXITED(status))
        p->status = WEXITSTATUS(status);
    else
        p->status = 128 + WTERMSIG(status);
    return 0;
}

void ct_proc_free(struct ct_proc *p)
{
    free(p->out);
    free(p->err);
    memset(p, 0, sizeof *p);
}

int ct_tutor(struct ct_proc *p, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = ct_test_binary();
    for (; args && *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    static const char *const env[] = { "NO_COLOR=1", "PAGER=cat", NULL };
    return ct_proc_run(p, argv, NULL, env, 60, 0);
}

json_t *ct_json_parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fprintf(stderr, "invalid JSON at line %d: %s\n--- text ---\n%s\n", e.line, e.text, text);
    return j;
}

json_t *ct_demo_json(const char *demo, const char *const *args, int *code)
{
    const struct ct_demo *d = ct_demo_find(demo);
    if (!d) {
        fprintf(stderr, "no demo %s\n", demo);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    struct ct_run_opts o = {
        .out = out, .json = true, .scale = 1.0, .width = 80,
        .self = ct_test_binary(), .progname = "concur-tutor",
    };
    char *argv[32];
    int argc = 0;
    for (; args && args[argc] && argc < 31; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    *code = ct_demo_exec(d, argc, argv, &o);
    fclose(out);
    json_t *j = len ? ct_json_parse(text) : NULL;
    free(text);
    return j;
}

json_t *ct_demo_proc_json(const char *demo, const char *const *params, double timeout_s)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = ct_test_binary();
    argv[n++] = "run";
    argv[n++] = demo;
    argv[n++] = "--json";
    for (; params && *params && n < 63; params++)
        argv[n++] = *params;
    argv[n] = NULL;
    static const char *const env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    if (ct_proc_run(&p, argv, NULL, env, timeout_s, 0) != 0)
        fail_msg("could not start %s", demo);
    if (p.status != 0)
        fail_msg("%s exited %d\nstderr:\n%s\nstdout:\n%s", demo, p.status, p.err, p.out);
    json_t *j = ct_json_parse(p.out);
    ct_proc_free(&p);
    if (!j)
        fail_msg("%s printed no valid JSON", demo);
    const char *status = json_string_value(json_object_get(j, "status"));
    if (!status || strcmp(status, "ok") != 0)
        fail_msg("%s: status %s", demo, status ? status : "(none)");
    return j;
}

char *ct_tmpdir(void)
{
    char tmpl[] = "/tmp/ct-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void ct_tmpdir_remove(char *dir)
{
    if (dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* ---- reading demo reports --------------------------------------------- */

static json_t *result(json_t *j, const char *key)
{
    json_t *v = json_object_get(json_object_get(j, "results"), key);
    if (!v)
        fail_msg("the demo's report has no result '%s'", key);
    return v;
}

long long dj_int(json_t *j, const char *key)
{
    json_t *v = result(j, key);
    if (!json_is_integer(v))
        fail_msg("result '%s' is not an integer", key);
    return json_integer_value(v);
}

double dj_num(json_t *j, const char *key)
{
    json_t *v = result(j, key);
    if (!json_is_number(v))
        fail_msg("result '%s' is not a number", key);
    return json_number_value(v);
}

const char *dj_text(json_t *j, const char *key)
{
    json_t *v = result(j, key);
    if (!json_is_string(v))
        fail_msg("result '%s' is not a string", key);
    return json_string_value(v);
}

json_t *dj_table(json_t *j, const char *name)
{
    return json_object_get(json_object_get(j, "tables"), name);
}

json_t *dj_row(json_t *j, const char *name, const char *col, const char *value)
{
    json_t *row;
    size_t i;
    json_array_foreach(dj_table(j, name), i, row) {
        const char *s = json_string_value(json_object_get(row, col));
        if (s && strcmp(s, value) == 0)
            return row;
    }
    return NULL;
}

double dj_cell_num(json_t *row, const char *col)
{
    json_t *v = json_object_get(row, col);
    if (!json_is_number(v))
        fail_msg("table row has no number in column '%s'", col);
    return json_number_value(v);
}

long long dj_cell_int(json_t *row, const char *col)
{
    json_t *v = json_object_get(row, col);
    if (!json_is_integer(v))
        fail_msg("no integer in field '%s'", col);
    return json_integer_value(v);
}

const char *dj_cell_text(json_t *row, const char *col)
{
    json_t *v = json_object_get(row, col);
    if (!json_is_string(v))
        fail_msg("table row has no text in column '%s'", col);
    return json_string_value(v);
}

bool dj_checks_ok(json_t *j)
{
    json_t *checks = json_object_get(j, "checks"), *c;
    size_t i;
    if (json_array_size(checks) == 0)
        return false;
    json_array_foreach(checks, i, c) {
        if (!json_is_true(json_object_get(c, "ok"))) {
            fprintf(stderr, "check failed: %s\n", json_string_value(json_object_get(c, "what")));
            return false;
        }
    }
    return true;
}

size_t dj_assert_checks(json_t *j)
{
    json_t *checks = json_object_get(j, "checks"), *c;
    size_t i;
    json_array_foreach(checks, i, c) {
        if (!json_is_true(json_object_get(c, "ok")))
            fail_msg("check failed: %s", json_string_value(json_object_get(c, "what")));
    }
    return json_array_size(checks);
}

int dj_hold_spans(json_t *j, struct dj_span *out, int max)
{
    int n = 0;
    json_t *lane, *ev;
    size_t i, e;
    json_array_foreach(json_object_get(j, "timeline"), i, lane) {
        double start = -1;
        bool exclusive = false;
        json_array_foreach(json_object_get(lane, "events"), e, ev) {
            const char *st = json_string_value(json_object_get(ev, "state"));
            double t = json_number_value(json_object_get(ev, "t_ms"));
            if (!st)
                continue;       /* a point, not a state change */
            if (strcmp(st, "holding") == 0 || strcmp(st, "holding shared") == 0) {
                start = t;
                exclusive = strcmp(st, "holding") == 0;
            } else if (start >= 0) {
                if (n == max)
                    fail_msg("more than %d holding intervals in the timeline", max);
                out[n++] = (struct dj_span){ start, t, exclusive };
                start = -1;
            }
        }
    }
    return n;
}

char *ct_unwrap(const char *err)
{
    char *u = strdup(err), *o = u;
    assert_non_null(u);
    for (const char *c = err; *c; c++) {
        if (c[0] == '\n' && c[1] == ' ' && c[2] == ' ') {
            *o++ = ' ';
            c += 2;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return u;
}

void dj_assert_handoff(json_t *j)
{
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    json_t *results = json_object_get(j, "results");
    static const char *const keys[] = { "handoff_ns_start", "handoff_ns_end" };
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(results, keys[i]);
        if (CPU_COUNT(&set) < 2) {
            assert_null(v);
        } else {
            if (!json_is_number(v))
                fail_msg("results.%s missing with %d usable CPUs", keys[i], CPU_COUNT(&set));
            assert_true(json_number_value(v) > 0);
        }
    }
}

json_t *ct_demo_ok(const char *demo, const char *const *args)
{
    int code;
    json_t *j = ct_demo_json(demo, args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_true(dj_assert_checks(j) > 0);
    return j;
}

const char *dj_takeaway(json_t *j)
{
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_non_null(t);
    return t;
}
