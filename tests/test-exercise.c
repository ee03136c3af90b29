/* test-exercise.c - the exercises: the registry's content, every starter
 * failing `check` (several times) and every solution passing it, `check`
 * on programs that do not compile, hang, crash or print nothing, hints and
 * solutions in stages, the workspace and the progress file when they
 * cannot be written, and `watch` on a pty while the file is changed. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exercises.h"
#include "lessons.h"
#include "util.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define STARTER_RUNS 2      /* the tutor itself is slower: keep the suite short */
#else
#define STARTER_RUNS 3
#endif
#define PARALLEL 4          /* checks at once: most of their time is waiting */

static char *tmp;           /* scratch for this test binary */
static char ws[512], state[512], env_ws[600], env_state[600];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Run the tutor with the test's workspace and state. */
static void tutor(struct ct_proc *p, const char *const *args, const char *const *extra_env)
{
    const char *argv[32];
    const char *env[16];
    int n = 0, e = 0;
    argv[n++] = ct_test_binary();
    for (; *args; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    env[e++] = "NO_COLOR=1";
    env[e++] = "PAGER=cat";
    env[e++] = env_ws;
    env[e++] = env_state;
    for (; extra_env && *extra_env; extra_env++)
        env[e++] = *extra_env;
    env[e] = NULL;
    assert_int_equal(ct_proc_run(p, argv, NULL, env, 90, 0), 0);
}

static json_t *check_json(const char *name, int *status)
{
    struct ct_proc p;
    const char *args[] = { "check", name, "--json", NULL };
    tutor(&p, args, NULL);
    *status = p.status;
    json_t *j = ct_json_parse(p.out);
    if (!j)
        fprintf(stderr, "stderr: %s\n", p.err);
    ct_proc_free(&p);
    return j;
}

static const char *jstr(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    assert_non_null(s);
    return s;
}

static void put_file(const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.c", ws, name);
    write_text(path, text, strlen(text));
}

/* ---- the registry -------------------------------------------------------- */

/* Whether hint 1 of `ex` (a slice of hints.md, not NUL-ended) has `word`. */
static bool hint1_has(const struct ct_exercise *ex, const char *word)
{
    char text[4096];
    snprintf(text, sizeof text, "%.*s", (int)ex->hints[0].len, ex->hints[0].s);
    return strstr(text, word) != NULL;
}

static void test_registry(void **state_)
{
    (void)state_;
    size_t n;
    char err[256] = "";
    const struct ct_exercise *all = ct_exercises(&n, err, sizeof err);
    if (!all)
        fail_msg("%s", err);
    assert_int_equal(n, 24);
    struct ct_library lib;
    assert_int_equal(ct_library_load_embedded(&lib, err, sizeof err), 0);
    int per_chapter[12] = { 0 };
    for (size_t i = 0; i < n; i++) {
        const struct ct_exercise *ex = &all[i];
        assert_true(ex->chapter >= 1 && ex->chapter <= 11);
        if (i)
            assert_true(ex->chapter >= all[i - 1].chapter);     /* chapter order */
        per_chapter[ex->chapter]++;
        if (ex->lesson[0] && !ct_lesson_find(&lib, ex->lesson))
            fail_msg("exercise %s names lesson '%s', which does not exist", ex->name, ex->lesson);
        if (ex->lesson[0])
            assert_int_equal(ct_lesson_find(&lib, ex->lesson)->chapter > 0, 1);
        assert_true(ex->nhints >= 1 && ex->nhints <= 3);
        assert_true(ex->task.len > 100);
        assert_non_null(strstr(ex->harness.s, "#include EX_STUDENT"));
        assert_ptr_equal(ct_exercise_find(ex->name), ex);
        /* a first hint that points at a sanitizer's report needs check to
         * print one even when the plain run fails first */
        bool points_at_report = hint1_has(ex, "ThreadSanitizer") || hint1_has(ex, "report");
        if (points_at_report && !ex->race_report)
            fail_msg("hint 1 of %s points at a report; its task.md needs race-report: yes",
                     ex->name);
    }
    for (int c = 1; c <= 11; c++) {
        if (per_chapter[c] < 2)
            fail_msg("chapter %d has %d exercises; every chapter needs two", c, per_chapter[c]);
    }
    ct_library_free(&lib);
}

/* ---- every starter fails, every solution passes ------------------------- */

struct job {
    const struct ct_exercise *ex;
    bool solution;
    char dir[600];
    pid_t pid;
    char out[700];
};

static void start_job(struct job *j)
{
    snprintf(j->out, sizeof j->out, "%s/%s.json", j->dir, j->ex->name);
    j->pid = fork();
    assert_true(j->pid >= 0);
    if (j->pid == 0) {
        char e1[700], e2[700];
        snprintf(e1, sizeof e1, "CONCUR_TUTOR_WORKSPACE=%s", j->dir);
        snprintf(e2, sizeof e2, "XDG_STATE_HOME=%s", j->dir);
        putenv(e1);
        putenv(e2);
        int fd = open(j->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(null, 2);
        execl(ct_test_binary(), ct_test_binary(), "check", j->ex->name, "--json", (char *)NULL);
        _exit(127);
    }
}

/* The check's verdict, or a failed test with the reason. */
static void judge_job(struct job *j, int status)
{
    const char *text = read_text(j->out);
    json_t *r = text ? ct_json_parse(text) : NULL;
    if (!r)
        fail_msg("%s (%s): no JSON from check", j->ex->name, j->solution ? "solution" : "starter");
    bool passed = json_is_true(json_object_get(r, "passed"));
    const char *stage = jstr(r, "stage"), *reason = jstr(r, "reason");
    if (j->solution && (!passed || status != 0))
        fail_msg("solution of %s did not pass: %s: %s", j->ex->name, stage, reason);
    if (!j->solution && (passed || status != 1))
        fail_msg("starter of %s passed the check", j->ex->name);
    if (!j->solution && (strcmp(stage, "compile") == 0 || strcmp(stage, "setup") == 0))
        fail_msg("starter of %s fails too early (%s): %s", j->ex->name, stage, reason);
    json_decref(r);
}

static void test_starters_fail_solutions_pass(void **state_)
{
    (void)state_;
    size_t n;
    const struct ct_exercise *all = ct_exercises(&n, NULL, 0);
    size_t njobs = n * (STARTER_RUNS + 1);
    struct job *jobs = calloc(njobs, sizeof *jobs);
    assert_non_null(jobs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s <= STARTER_RUNS; s++) {
            struct job *j = &jobs[k++];
            j->ex = &all[i];
            j->solution = s == STARTER_RUNS;
            snprintf(j->dir, sizeof j->dir, "%s/%s-%d", tmp, all[i].name, s);
            assert_int_equal(mkdir(j->dir, 0755), 0);
            char path[700];
            snprintf(path, sizeof path, "%s/%s.c", j->dir, all[i].name);
            const struct ct_text *t = j->solution ? &all[i].solution : &all[i].starter;
            write_text(path, t->s, t->len);
        }
    }
    double t0 = now_ms();
    size_t next = 0, running = 0, done = 0;
    while (done < njobs) {
        while (running < PARALLEL && next < njobs) {
            start_job(&jobs[next++]);
            running++;
        }
        int status;
        pid_t pid = wait(&status);
        assert_true(pid > 0);
        for (size_t i = 0; i < next; i++) {
            if (jobs[i].pid == pid) {
                judge_job(&jobs[i], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                jobs[i].pid = 0;
            }
        }
        running--;
        done++;
    }
    fprintf(stderr, "# %zu exercises: starters failed %d/%d, solutions passed 1/1; %.1f s\n", n,
            STARTER_RUNS, STARTER_RUNS, (now_ms() - t0) / 1e3);
    free(jobs);
}

/* ---- check on broken programs --------------------------------------------- */

static void test_check_does_not_compile(void **state_)
{
    (void)state_;
    put_file("fix-race", "struct counter { long value; };\nvoid counter_add(struct counter *c)\n"
                         "{\n    c->value++\n}\n");
    int st;
    json_t *r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_false(json_is_true(json_object_get(r, "passed")));
    assert_string_equal(jstr(r, "stage"), "compile");
    json_t *d = json_object_get(r, "details");
    assert_true(json_array_size(d) > 0);
    /* the compiler's words, naming the student's file and line */
    bool found = false;
    for (size_t i = 0; i < json_array_size(d); i++)
        found |= strncmp(json_string_value(json_array_get(d, i)), "fix-race.c:4:", 13) == 0;
    assert_true(found);
    json_decref(r);

    /* a warning fails too */
    size_t n;
    const struct ct_exercise *ex = ct_exercise_find("fix-race");
    (void)n;
    char text[4096];
    snprintf(text, sizeof text, "%.*s\nstatic int unused_thing;\n", (int)ex->solution.len,
             ex->solution.s);
    put_file("fix-race", text);
    r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_string_equal(jstr(r, "stage"), "compile");
    assert_non_null(strstr(jstr(r, "reason"), "warned"));
    json_decref(r);
}

/* The details of a failed compile name the student's file, never the
 * hidden harness. */
static void assert_names_student(json_t *r, const char *file)
{
    assert_string_equal(jstr(r, "stage"), "compile");
    json_t *d = json_object_get(r, "details");
    bool mine = false;
    for (size_t i = 0; i < json_array_size(d); i++) {
        const char *line = json_string_value(json_array_get(d, i));
        mine |= strncmp(line, file, strlen(file)) == 0 && line[strlen(file)] == ':';
        if (strstr(line, "harness.c"))
            fail_msg("a detail names the harness: %s", line);
    }
    if (!mine)
        fail_msg("no detail starts with '%s:'", file);
}

/* An error at the end of the student's file (a missing '}', a declaration
 * cut short) spills into the harness that follows it when the two are
 * compiled together: the report still points into the student's file. */
static void test_check_error_at_end(void **state_)
{
    (void)state_;
    const struct ct_exercise *ex = ct_exercise_find("lock-order");
    char text[8192];
    int len = (int)ex->starter.len;
    while (len > 0 && ex->starter.s[len - 1] != '}')
        len--;
    assert_true(len > 0);
    snprintf(text, sizeof text, "%.*s\n", len - 1, ex->starter.s);     /* no final '}' */
    put_file("lock-order", text);
    int st;
    json_t *r = check_json("lock-order", &st);
    assert_int_equal(st, 1);
    assert_names_student(r, "lock-order.c");
    assert_non_null(strstr(jstr(r, "reason"), "'}'"));
    json_decref(r);

    snprintf(text, sizeof text, "%.*sint broken(\n", (int)ex->starter.len, ex->starter.s);
    put_file("lock-order", text);
    r = check_json("lock-order", &st);
    assert_int_equal(st, 1);
    assert_names_student(r, "lock-order.c");
    json_decref(r);

    /* a file that compiles alone but does not fit the harness: the report
     * says so, and the harness's lines are then the ones to read */
    const char *sig = strstr(ex->starter.s, "long amount)");
    assert_non_null(sig);
    snprintf(text, sizeof text, "%.*slong amount, int extra)%s", (int)(sig - ex->starter.s),
             ex->starter.s, sig + strlen("long amount)"));
    put_file("lock-order", text);
    r = check_json("lock-order", &st);
    assert_int_equal(st, 1);
    assert_string_equal(jstr(r, "stage"), "compile");
    assert_non_null(strstr(jstr(r, "reason"), "compiles on its own"));
    json_decref(r);
}

/* The 1-based line of `file` (in the text `text`) that holds `what`. */
static int line_of(const char *text, const char *what)
{
    const char *hit = strstr(text, what);
    assert_non_null(hit);
    int line = 1;
    for (const char *p = text; p < hit; p++)
        line += *p == '\n';
    return line;
}

/* Whether some detail of `r` names `file`:`line` as an exact token. */
static bool details_name(json_t *r, const char *file, int line)
{
    char want[128];
    snprintf(want, sizeof want, "%s:%d", file, line);
    json_t *d = json_object_get(r, "details");
    for (size_t i = 0; i < json_array_size(d); i++) {
        const char *s = json_string_value(json_array_get(d, i));
        for (const char *hit = s; (hit = strstr(hit, want)) != NULL; hit++) {
            char after = hit[strlen(want)];
            if ((hit == s || hit[-1] == ' ') && (after == '\0' || after == ':' || after == ' '))
                return true;
        }
    }
    return false;
}

/* Hint 1 of fix-race points at the ThreadSanitizer report that check
 * printed.  Even when the plain run fails first (here it always does: the
 * count is wrong by construction), check runs the TSan build too and shows
 * the race on the line of the increment. */
static void test_check_race_report(void **state_)
{
    (void)state_;
    const struct ct_exercise *ex = ct_exercise_find("fix-race");
    assert_true(ex->race_report);
    assert_true(hint1_has(ex, "ThreadSanitizer"));
    const char *racy = "struct counter { long value; };\n"
                       "void counter_init(struct counter *c) { c->value = 0; }\n"
                       "void counter_destroy(struct counter *c) { (void)c; }\n"
                       "void counter_add(struct counter *c)\n{\n    c->value++;\n}\n"
                       "long counter_get(struct counter *c) { (void)c; return -1; }\n";
    put_file("fix-race", racy);
    int st;
    json_t *r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_string_equal(jstr(r, "stage"), "plain");
    assert_non_null(strstr(jstr(r, "reason"), "ThreadSanitizer"));
    assert_true(details_name(r, "fix-race.c", line_of(racy, "c->value++")));
    json_decref(r);

    /* the untouched starter: whichever run catches it, the report is there */
    put_file("fix-race", ex->starter.s);
    r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(jstr(r, "reason"), "ThreadSanitizer"));
    assert_true(details_name(r, "fix-race.c", line_of(ex->starter.s, "c->value++")));
    json_decref(r);
}

static void test_check_hang(void **state_)
{
    (void)state_;
    /* hangs inside the checked code: the harness's watchdog says so */
    put_file("fix-race",
             "#define _POSIX_C_SOURCE 200809L\n#include <pthread.h>\n"
             "struct counter { pthread_mutex_t m; long v; };\n"
             "void counter_init(struct counter *c) { pthread_mutex_init(&c->m, NULL); c->v = 0; }\n"
             "void counter_destroy(struct counter *c) { (void)c; }\n"
             "void counter_add(struct counter *c) { pthread_mutex_lock(&c->m); c->v++; }\n"
             "long counter_get(struct counter *c) { return c->v; }\n");
    int st;
    double t0 = now_ms();
    json_t *r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_string_equal(jstr(r, "stage"), "plain");
    assert_non_null(strstr(jstr(r, "reason"), "never finished"));
    json_decref(r);
    assert_true(now_ms() - t0 < 30000);

    /* hangs before the harness even starts, and leaves a child holding its
     * output: the tutor's own limit kills the whole process group */
    char pidfile[700], text[2048];
    snprintf(pidfile, sizeof pidfile, "%s/grandchild.pid", tmp);
    unlink(pidfile);
    snprintf(text, sizeof text,
             "#define _POSIX_C_SOURCE 200809L\n#include <stdio.h>\n#include <unistd.h>\n"
             "struct counter { long v; };\n"
             "void counter_init(struct counter *c) { c->v = 0; }\n"
             "void counter_destroy(struct counter *c) { (void)c; }\n"
             "void counter_add(struct counter *c) { c->v++; }\n"
             "long counter_get(struct counter *c) { return c->v; }\n"
             "__attribute__((constructor)) static void stall(void)\n{\n"
             "    if (fork() == 0) {\n        FILE *f = fopen(\"%s\", \"w\");\n"
             "        if (f) { fprintf(f, \"%%d\\n\", (int)getpid()); fclose(f); }\n"
             "        for (;;) pause();\n    }\n    for (;;) pause();\n}\n", pidfile);
    put_file("fix-race", text);
    t0 = now_ms();
    r = check_json("fix-race", &st);
    double took = now_ms() - t0;
    assert_int_equal(st, 1);
    assert_string_equal(jstr(r, "stage"), "plain");
    assert_non_null(strstr(jstr(r, "reason"), "did not finish within"));
    json_decref(r);
    assert_true(took < 60000);
    /* the grandchild is gone (give init a moment to reap it) */
    const char *pid_text = read_text(pidfile);
    assert_non_null(pid_text);
    pid_t gc = (pid_t)atoi(pid_text);
    assert_true(gc > 0);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; i++) {
        char procpath[64];
        snprintf(procpath, sizeof procpath, "/proc/%d/stat", (int)gc);
        const char *stat = read_text(procpath);
        gone = !stat || strstr(stat, ") Z ") != NULL;
        if (!gone)
            usleep(10000);
    }
    assert_true(gone);
}

static void test_check_crash_and_silence(void **state_)
{
    (void)state_;
    put_file("fix-race",
             "struct counter { long *v; };\n"
             "void counter_init(struct counter *c) { c->v = 0; }\n"
             "void counter_destroy(struct counter *c) { (void)c; }\n"
             "void counter_add(struct counter *c) { (*c->v)++; }\n"
             "long counter_get(struct counter *c) { return *c->v; }\n");
    int st;
    json_t *r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(jstr(r, "reason"), "crashed with signal 11"));
    json_decref(r);

    /* a program that ends without a word */
    put_file("fix-race",
             "#include <unistd.h>\n"
             "struct counter { long v; };\n"
             "void counter_init(struct counter *c) { (void)c; _exit(0); }\n"
             "void counter_destroy(struct counter *c) { (void)c; }\n"
             "void counter_add(struct counter *c) { c->v++; }\n"
             "long counter_get(struct counter *c) { return c->v; }\n");
    r = check_json("fix-race", &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(jstr(r, "reason"), "printed nothing"));
    json_decref(r);
}

/* ThreadSanitizer turned off: the check says what it used instead, and a
 * race whose count happens to come out right is then not caught. */
static void test_check_without_tsan(void **state_)
{
    (void)state_;
    const struct ct_exercise *ex = ct_exercise_find("fix-race");
    put_file("fix-race", ex->solution.s);
    struct ct_proc p;
    const char *args[] = { "check", "fix-race", "--json", NULL };
    const char *env[] = { "CONCUR_TUTOR_NO_TSAN=1", NULL };
    tutor(&p, args, env);
    assert_int_equal(p.status, 0);
    json_t *r = ct_json_parse(p.out);
    assert_non_null(r);
    assert_string_equal(jstr(r, "sanitizers"), "ASan+UBSan");
    assert_non_null(strstr(jstr(r, "note"), "ThreadSanitizer"));
    json_decref(r);
    ct_proc_free(&p);
}

/* ---- exercise, hint, solution, progress ------------------------------------ */

static void test_handout_hints_solution(void **state_)
{
    (void)state_;
    struct ct_proc p;
    char path[700];
    snprintf(path, sizeof path, "%s/join-threads.c", ws);
    unlink(path);
    const char *ex_args[] = { "exercise", "join-threads", NULL };
    tutor(&p, ex_args, NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "written now"));
    assert_non_null(strstr(p.out, "check join-threads"));
    ct_proc_free(&p);
    const struct ct_exercise *ex = ct_exercise_find("join-threads");
    assert_string_equal(read_text(path), ex->starter.s);

    /* a changed file is never overwritten */
    write_text(path, "/* mine */\n", 11);
    tutor(&p, ex_args, NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "kept with your changes"));
    ct_proc_free(&p);
    assert_string_equal(read_text(path), "/* mine */\n");

    /* no solution before a pass or the last hint */
    const char *sol_args[] = { "solution", "join-threads", NULL };
    tutor(&p, sol_args, NULL);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "not yet"));
    ct_proc_free(&p);
    const char *hint_args[] = { "hint", "join-threads", "--json", NULL };
    for (int k = 1; k <= ex->nhints + 1; k++) {
        tutor(&p, hint_args, NULL);
        assert_int_equal(p.status, 0);
        json_t *h = ct_json_parse(p.out);
        int want = k <= ex->nhints ? k : ex->nhints;
        assert_int_equal(json_integer_value(json_object_get(h, "hint")), want);
        assert_int_equal(json_integer_value(json_object_get(h, "of")), ex->nhints);
        json_decref(h);
        ct_proc_free(&p);
    }
    tutor(&p, sol_args, NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "pthread_join"));
    ct_proc_free(&p);

    /* the list shows it started, with the hints counted */
    const char *list_args[] = { "exercises", "--json", NULL };
    tutor(&p, list_args, NULL);
    json_t *l = ct_json_parse(p.out);
    json_t *arr = json_object_get(l, "exercises");
    assert_int_equal(json_array_size(arr), 24);
    bool seen = false;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        if (strcmp(jstr(e, "name"), "join-threads") == 0) {
            seen = true;
            assert_string_equal(jstr(e, "status"), "started");
            assert_int_equal(json_integer_value(json_object_get(e, "hints_shown")), ex->nhints);
        }
    }
    assert_true(seen);
    json_decref(l);
    ct_proc_free(&p);
}

static void test_pass_marks_done(void **state_)
{
    (void)state_;
    const struct ct_exercise *ex = ct_exercise_find("select-cleanup");
    put_file("select-cleanup", ex->solution.s);
    struct ct_proc p;
    const char *args[] = { "check", "select-cleanup", NULL };
    tutor(&p, args, NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "PASS"));
    assert_non_null(strstr(p.out, "Next: exercise spawn-blocking"));
    ct_proc_free(&p);
    char path[700];
    snprintf(path, sizeof path, "%s/concur-tutor/exercises", state);
    const char *text = read_text(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nselect-cleanup done "));
    const char *list_args[] = { "exercises", "6", NULL };
    tutor(&p, list_args, NULL);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "select-cleanup     done"));
    assert_null(strstr(p.out, "fix-race"));
    ct_proc_free(&p);
}

static void test_usage_errors(void **state_)
{
    (void)state_;
    struct ct_proc p;
    const char *a1[] = { "check", "fix-rase", NULL };
    tutor(&p, a1, NULL);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "unknown exercise 'fix-rase' (did you mean 'fix-race'?)"));
    ct_proc_free(&p);
    /* chapter 12 exists but has no exercises: say that, and which do */
    const char *a2[] = { "exercises", "12", NULL };
    tutor(&p, a2, NULL);
    assert_int_equal(p.status, 2);
    char flat[1024];
    size_t k = 0;
    for (const char *c = p.err; *c && k + 1 < sizeof flat; c++)  /* unwrap the lines */
        if (!isspace((unsigned char)*c) || (k && flat[k - 1] != ' '))
            flat[k++] = isspace((unsigned char)*c) ? ' ' : *c;
    flat[k] = '\0';
    assert_non_null(strstr(flat, "no exercises in chapter '12'"));
    assert_non_null(strstr(flat, "the chapters with exercises are 1, 2, 3,"));
    ct_proc_free(&p);
    const char *a3[] = { "hint", NULL };
    tutor(&p, a3, NULL);
    assert_int_equal(p.status, 2);
    ct_proc_free(&p);
}

/* The workspace cannot be written; the state file is corrupt or cannot be
 * written: clear messages, and progress problems never stop the tutor. */
static void test_unwritable(void **state_)
{
    (void)state_;
    char file[700], bad_ws[800], bad_state[800];
    snprintf(file, sizeof file, "%s/a-file", tmp);
    write_text(file, "x", 1);
    snprintf(bad_ws, sizeof bad_ws, "CONCUR_TUTOR_WORKSPACE=%s/sub", file);
    struct ct_proc p;
    const char *ex_args[] = { "exercise", "fix-race", NULL };
    const char *env1[] = { bad_ws, NULL };
    tutor(&p, ex_args, env1);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "cannot write"));
    assert_non_null(strstr(p.err, "CONCUR_TUTOR_WORKSPACE"));
    ct_proc_free(&p);
    const char *check_args[] = { "check", "fix-race", NULL };
    tutor(&p, check_args, env1);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.out, "there is no file"));
    ct_proc_free(&p);

    /* state "directory" is a file: one warning, the hint is still shown */
    snprintf(bad_state, sizeof bad_state, "XDG_STATE_HOME=%s", file);
    const char *hint_args[] = { "hint", "fix-race", NULL };
    const char *env2[] = { bad_state, NULL };
    tutor(&p, hint_args, env2);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "Hint 1 of"));
    assert_non_null(strstr(p.err, "warning"));
    assert_null(strstr(strstr(p.err, "warning") + 1, "warning"));
    ct_proc_free(&p);

    /* a corrupt state file: one warning, the list still comes */
    char dir[700], path[800];
    snprintf(dir, sizeof dir, "%s/corrupt", tmp);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/concur-tutor", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/concur-tutor/exercises", dir);
    write_text(path, "\x01\x02 garbage\nfix-race done 2\nbogus line\n", 38);
    char env_corrupt[800];
    snprintf(env_corrupt, sizeof env_corrupt, "XDG_STATE_HOME=%s", dir);
    const char *env3[] = { env_corrupt, NULL };
    const char *list_args[] = { "exercises", "1", NULL };
    tutor(&p, list_args, env3);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "fix-race           done"));
    assert_non_null(strstr(p.err, "warning"));
    assert_null(strstr(strstr(p.err, "warning") + 1, "warning"));
    ct_proc_free(&p);
}

/* ---- watch on a pty ------------------------------------------------------- */

struct pty {
    int fd;
    pid_t pid;
    char seen[1 << 17];
    size_t len, mark;
};

static bool expect(struct pty *t, const char *what, double ms)
{
    double end = now_ms() + ms;
    while (now_ms() < end) {
        char *hit = strstr(t->seen + t->mark, what);
        if (hit) {
            t->mark = (size_t)(hit - t->seen) + strlen(what);
            return true;
        }
        struct pollfd pfd = { t->fd, POLLIN, 0 };
        if (poll(&pfd, 1, 50) > 0) {
            ssize_t n = read(t->fd, t->seen + t->len, sizeof t->seen - 1 - t->len);
            if (n <= 0)
                break;
            t->len += (size_t)n;
            t->seen[t->len] = '\0';
        }
    }
    fprintf(stderr, "expected '%s'; the screen so far:\n%s\n", what, t->seen + t->mark);
    return false;
}

static void test_watch_pty(void **state_)
{
    (void)state_;
    char wdir[700], wstate[700], e_ws[800], e_st[800];
    snprintf(wdir, sizeof wdir, "%s/watch-ws", tmp);
    snprintf(wstate, sizeof wstate, "%s/watch-state", tmp);
    mkdir(wdir, 0755);
    snprintf(e_ws, sizeof e_ws, "CONCUR_TUTOR_WORKSPACE=%s", wdir);
    snprintf(e_st, sizeof e_st, "XDG_STATE_HOME=%s", wstate);
    static struct pty t;
    memset(&t, 0, sizeof t);
    struct winsize wsz = { 40, 100, 0, 0 };
    t.pid = forkpty(&t.fd, NULL, NULL, &wsz);
    assert_true(t.pid >= 0);
    if (t.pid == 0) {
        putenv(e_ws);
        putenv(e_st);
        setenv("NO_COLOR", "1", 1);
        setenv("TERM", "xterm", 1);
        signal(SIGINT, SIG_DFL);
        execl(ct_test_binary(), ct_test_binary(), "watch", "fix-race", (char *)NULL);
        _exit(127);
    }
    assert_true(expect(&t, "Exercise fix-race", 20000));
    assert_true(expect(&t, "FAIL", 60000));
    assert_true(expect(&t, "Waiting for you to save fix-race.c", 20000));

    /* save the solution the way editors do: a new file renamed over it */
    const struct ct_exercise *ex = ct_exercise_find("fix-race");
    char path[800], tmpfile[800];
    snprintf(path, sizeof path, "%s/fix-race.c", wdir);
    snprintf(tmpfile, sizeof tmpfile, "%s/.fix-race.c.swp", wdir);
    write_text(tmpfile, ex->solution.s, ex->solution.len);
    assert_int_equal(rename(tmpfile, path), 0);
    assert_true(expect(&t, "fix-race.c changed", 20000));
    assert_true(expect(&t, "PASS", 60000));
    assert_true(expect(&t, "fix-race passed; on to publish-flag", 20000));
    assert_true(expect(&t, "Waiting for you to save publish-flag.c", 60000));

    /* Ctrl-C stops it */
    assert_int_equal(write(t.fd, "\003", 1), 1);
    assert_true(expect(&t, "watch: stopped", 20000));
    int st = 0;
    for (int i = 0; i < 500 && waitpid(t.pid, &st, WNOHANG) == 0; i++)
        usleep(10000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    close(t.fd);
}

static int setup(void **state_)
{
    (void)state_;
    tmp = ct_tmpdir();
    assert_non_null(tmp);
    snprintf(ws, sizeof ws, "%s/ws", tmp);
    snprintf(state, sizeof state, "%s/state", tmp);
    mkdir(ws, 0755);
    snprintf(env_ws, sizeof env_ws, "CONCUR_TUTOR_WORKSPACE=%s", ws);
    snprintf(env_state, sizeof env_state, "XDG_STATE_HOME=%s", state);
    return 0;
}

static int teardown(void **state_)
{
    (void)state_;
    ct_tmpdir_remove(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_handout_hints_solution),
        cmocka_unit_test(test_check_does_not_compile),
        cmocka_unit_test(test_check_error_at_end),
        cmocka_unit_test(test_check_race_report),
        cmocka_unit_test(test_check_crash_and_silence),
        cmocka_unit_test(test_check_hang),
        cmocka_unit_test(test_check_without_tsan),
        cmocka_unit_test(test_pass_marks_done),
        cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_watch_pty),
        cmocka_unit_test(test_starters_fail_solutions_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
