/* test-progress.c - the progress file: recorded by show, run and walk;
 * shown by `progress` and `progress --json`; cleared by `progress reset`;
 * never corrupted by tutors writing at once; and never a reason to stop
 * (a damaged file, a huge one, an unwritable directory: one warning). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static char *dir;
static char state_env[600], file[600];

/* Run the tutor with the test's state directory. */
static void tutor(struct ct_proc *p, const char *const *args)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = ct_test_binary();
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    const char *env[] = { "NO_COLOR=1", "PAGER=cat", state_env, NULL };
    assert_int_equal(ct_proc_run(p, argv, NULL, env, 120, 0), 0);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 22);
    size_t n = fread(buf, 1, (1 << 22) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Lines of stderr that are warnings about progress. */
static int progress_warnings(const char *err)
{
    int n = 0;
    for (const char *p = err; (p = strstr(p, "concur-tutor: progress: ")); p++)
        n++;
    return n;
}

/* How many record lines of the file are exactly `line`. */
static int count_line(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, line, len) == 0 && (p[len] == '\t' || p[len] == '\n'))
            n++;
    }
    return n;
}

static void reset(void)
{
    struct ct_proc p;
    tutor(&p, (const char *[]){ "progress", "reset", NULL });
    assert_int_equal(p.status, 0);
    ct_proc_free(&p);
}

static void test_recorded_and_shown(void **state)
{
    (void)state;
    reset();
    struct ct_proc p;
    tutor(&p, (const char *[]){ "show", "intro", NULL });
    assert_int_equal(p.status, 0);
    assert_int_equal(p.err_len, 0);
    ct_proc_free(&p);
    tutor(&p, (const char *[]){ "run", "select", NULL });
    assert_int_equal(p.status, 0);
    ct_proc_free(&p);
    tutor(&p, (const char *[]){ "run", "select", "runs=2", NULL });
    assert_int_equal(p.status, 0);
    ct_proc_free(&p);

    char *text = read_all(file);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "concur-tutor progress 1\n", 24), 0);
    assert_int_equal(count_line(text, "read\tintro"), 1);
    assert_non_null(strstr(text, "ran\tselect\t3\tok\t"));     /* 1 + 2 runs */
    free(text);

    tutor(&p, (const char *[]){ "progress", "--json", NULL });
    assert_int_equal(p.status, 0);
    json_t *j = ct_json_parse(p.out), *ch, *l, *d;
    assert_non_null(j);
    size_t i, k, m;
    bool saw_intro = false, saw_select = false;
    json_array_foreach(json_object_get(j, "chapters"), i, ch) {
        json_array_foreach(json_object_get(ch, "lessons"), k, l) {
            const char *id = json_string_value(json_object_get(l, "id"));
            bool read = json_is_true(json_object_get(l, "read"));
            assert_true(read == (strcmp(id, "intro") == 0));
            saw_intro |= read;
            json_array_foreach(json_object_get(l, "demos"), m, d) {
                if (strcmp(json_string_value(json_object_get(d, "name")), "select") == 0) {
                    assert_int_equal(json_integer_value(json_object_get(d, "runs")), 3);
                    saw_select = true;
                }
            }
        }
    }
    assert_true(saw_intro && saw_select);
    json_decref(j);
    ct_proc_free(&p);

    tutor(&p, (const char *[]){ "progress", NULL });
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "1 of 2 lessons read"));
    ct_proc_free(&p);

    tutor(&p, (const char *[]){ "progress", "reset", NULL });
    assert_non_null(strstr(p.out, "Progress cleared"));
    ct_proc_free(&p);
    assert_int_not_equal(access(file, F_OK), 0);
    tutor(&p, (const char *[]){ "progress", "bogus", NULL });
    assert_int_equal(p.status, 2);
    ct_proc_free(&p);
}

/* Tutors writing at once: each records its own lessons, many times over;
 * at the end every one is there exactly once and the file parses. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    enum { WRITERS = 6, TIMES = 8 };
    static const char *const ids[WRITERS] = {
        "intro", "using-the-tutor", "mutual-exclusion", "lock-ordering", "lock-poisoning",
        "condition-variables",
    };
    for (int round = 0; round < 2; round++) {
        reset();
        pid_t pids[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            pids[w] = fork();
            assert_true(pids[w] >= 0);
            if (pids[w] == 0) {
                char script[512];
                snprintf(script, sizeof script,
                         "i=0; while [ $i -lt %d ]; do \"%s\" show %s >/dev/null || exit 1; "
                         "i=$((i+1)); done", TIMES, ct_test_binary(), ids[w]);
                putenv(state_env);
                putenv((char *)"PAGER=cat");
                execl("/bin/sh", "sh", "-c", script, (char *)NULL);
                _exit(127);
            }
        }
        for (int w = 0; w < WRITERS; w++) {
            int st;
            assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
            assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        char *text = read_all(file);
        assert_non_null(text);
        assert_int_equal(strncmp(text, "concur-tutor progress 1\n", 24), 0);
        for (int w = 0; w < WRITERS; w++) {
            char want[64];
            snprintf(want, sizeof want, "read\t%s", ids[w]);
            if (count_line(text, want) != 1)
                fail_msg("round %d: %s recorded %d times:\n%s", round, ids[w],
                         count_line(text, want), text);
        }
        free(text);
        /* no temporary file left behind */
        char sdir[600];
        snprintf(sdir, sizeof sdir, "%s/state/concur-tutor", dir);
        DIR *dp = opendir(sdir);
        assert_non_null(dp);
        for (struct dirent *e; (e = readdir(dp));)
            assert_null(strstr(e->d_name, ".tmp"));
        closedir(dp);
    }
}

/* A damaged file: one warning, the good records kept, the tutor goes on,
 * and the next write leaves a clean file. */
static void test_corrupt_file(void **state)
{
    (void)state;
    reset();
    struct ct_proc p;
    tutor(&p, (const char *[]){ "show", "intro", NULL });    /* creates the directory */
    ct_proc_free(&p);
    write_file(file, "concur-tutor progress 1\nread\tintro\t1700000000\n"
                     "\x01\x02garbage\xff\nread\tBAD ID\t12\nran\tselect\tlots\tok\t1\n"
                     "walk\t6\tfirst\t2\t1700000000\n");
    tutor(&p, (const char *[]){ "progress", NULL });
    assert_int_equal(p.status, 0);
    assert_int_equal(progress_warnings(p.err), 1);
    char *err = ct_unwrap(p.err);
    assert_non_null(strstr(err, "3 damaged lines"));
    free(err);
    assert_non_null(strstr(p.out, "1 of 2 lessons read"));
    ct_proc_free(&p);

    tutor(&p, (const char *[]){ "show", "using-the-tutor", NULL });
    assert_int_equal(p.status, 0);
    assert_int_equal(progress_warnings(p.err), 1);
    ct_proc_free(&p);
    char *text = read_all(file);
    assert_null(strstr(text, "garbage"));
    assert_int_equal(count_line(text, "read\tintro"), 1);
    assert_int_equal(count_line(text, "read\tusing-the-tutor"), 1);
    assert_int_equal(count_line(text, "walk\t6"), 1);
    free(text);
    tutor(&p, (const char *[]){ "progress", NULL });
    assert_int_equal(progress_warnings(p.err), 0);
    ct_proc_free(&p);

    /* far too big to be ours: not read, not overwritten */
    char *big = malloc(3 << 20);
    memset(big, 'x', (3 << 20) - 1);
    big[(3 << 20) - 1] = '\0';
    write_file(file, big);
    free(big);
    tutor(&p, (const char *[]){ "show", "intro", NULL });
    assert_int_equal(p.status, 0);
    assert_int_equal(progress_warnings(p.err), 1);
    ct_proc_free(&p);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, (3 << 20) - 1);
    unlink(file);
}

/* Nowhere to write: one warning per run, and the command still works. */
static void test_unwritable(void **state)
{
    (void)state;
    static const char *const homes[] = {
        "XDG_STATE_HOME=/dev/null/state",   /* below a file: no directory can be made */
        "XDG_STATE_HOME=/proc/self",        /* a read-only file system */
    };
    for (size_t i = 0; i < 2; i++) {
        const char *argv[] = { ct_test_binary(), "show", "intro", NULL };
        const char *env[] = { "NO_COLOR=1", "PAGER=cat", homes[i], NULL };
        struct ct_proc p;
        assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
        assert_int_equal(p.status, 0);
        assert_non_null(strstr(p.out, "Concurrency"));
        if (progress_warnings(p.err) != 1)
            fail_msg("%s: want one warning, got:\n%s", homes[i], p.err);
        ct_proc_free(&p);
        /* several records in one process: still one warning */
        const char *script = "show intro\nshow using-the-tutor\nrun select\nprogress\n";
        const char *sh[] = { ct_test_binary(), NULL };
        assert_int_equal(ct_proc_run(&p, sh, script, env, 60, 0), 0);
        assert_int_equal(p.status, 0);
        assert_int_equal(progress_warnings(p.err), 1);
        ct_proc_free(&p);
    }
    /* the file's place taken by a directory */
    reset();
    assert_int_equal(mkdir(file, 0700), 0);
    struct ct_proc p;
    tutor(&p, (const char *[]){ "show", "intro", NULL });
    assert_int_equal(p.status, 0);
    assert_int_equal(progress_warnings(p.err), 1);
    ct_proc_free(&p);
    rmdir(file);
}

static int setup(void **state)
{
    (void)state;
    dir = ct_tmpdir();
    if (!dir)
        return -1;
    snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s/state", dir);
    snprintf(file, sizeof file, "%s/state/concur-tutor/progress", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_and_shown),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_corrupt_file),
        cmocka_unit_test(test_unwritable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
