/* test-source.c - `source`: every demo's own file, the definitions the
 * lessons point at (source run watcher, source chan send, source race
 * worker), the matching rules, colours on and off, and completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "registry.h"
#include "util.h"

static int tutor(struct ct_proc *p, const char *a, const char *b)
{
    const char *args[] = { "source", a, b, NULL };
    return ct_tutor(p, args);
}

/* The line of `out` that starts with `prefix`, or NULL. */
static const char *line_starting(const char *out, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, n) == 0)
            return p;
    }
    return NULL;
}

static void test_every_demo(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        struct ct_proc p;
        assert_int_equal(tutor(&p, d->name, NULL), 0);
        if (p.status != 0)
            fail_msg("source %s: exit %d\n%s", d->name, p.status, p.err);
        char head[128], def[128];
        snprintf(head, sizeof head, "demos/%s.c\n", d->name);
        if (strncmp(p.out, head, strlen(head)) != 0)
            fail_msg("source %s starts with %.60s, not %s", d->name, p.out, head);
        /* numbered from 1, and the registry entry is in it */
        /* the first numbered line is line 1, however wide the numbers */
        const char *one = NULL;
        for (const char *l = p.out; l && !one; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
            const char *num = l + strspn(l, " ");
            if (num > l && strncmp(num, "1 | /*", 6) == 0)
                one = l;
        }
        if (!one)
            fail_msg("source %s: no line 1 numbered at the start:\n%.400s", d->name, p.out);
        snprintf(def, sizeof def, "const struct ct_demo ct_demo_");
        if (!strstr(p.out, def))
            fail_msg("source %s does not show its struct ct_demo", d->name);
        assert_null(strchr(p.out, '\033'));     /* NO_COLOR: no escapes */
        ct_proc_free(&p);
    }
}

static void test_lessons_references(void **state)
{
    (void)state;
    struct ct_proc p;
    /* lesson 9 names the runner's watcher */
    assert_int_equal(tutor(&p, "run", "watcher"), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(line_starting(p.out, "demos/runner/run.c, lines "));
    assert_non_null(strstr(p.out, ": watcher_main\n"));
    assert_non_null(strstr(p.out, "sigwait("));
    ct_proc_free(&p);

    /* a primitive's function: its contract in the header, then its code */
    assert_int_equal(tutor(&p, "chan", "send"), 0);
    assert_int_equal(p.status, 0);
    const char *decl = line_starting(p.out, "demos/lib/chan.h, lines ");
    const char *code = line_starting(p.out, "demos/lib/chan.c, lines ");
    assert_non_null(decl);
    assert_non_null(code);
    assert_true(decl < code);
    assert_non_null(strstr(decl, "ct_chan_send (declared)"));
    ct_proc_free(&p);

    /* a demo's function, by the short name: worker_main, not struct worker */
    assert_int_equal(tutor(&p, "race", "worker"), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, ": worker_main\n"));
    ct_proc_free(&p);

    /* a demo's search goes on into the primitives it includes */
    assert_int_equal(tutor(&p, "channels", "ct_chan_recv"), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(line_starting(p.out, "demos/lib/chan.c, lines "));
    ct_proc_free(&p);
}

static void test_names(void **state)
{
    (void)state;
    struct ct_proc p;
    /* both a demo and a primitive: the demo, unless lib/ is said */
    assert_int_equal(tutor(&p, "rwlock", NULL), 0);
    assert_int_equal(strncmp(p.out, "demos/rwlock.c\n", 15), 0);
    ct_proc_free(&p);
    assert_int_equal(tutor(&p, "lib/rwlock", NULL), 0);
    assert_int_equal(strncmp(p.out, "demos/lib/rwlock.h\n", 19), 0);
    assert_non_null(line_starting(p.out, "demos/lib/rwlock.c\n"));
    ct_proc_free(&p);
    /* a module with flavours brings them all */
    assert_int_equal(tutor(&p, "chan", NULL), 0);
    assert_non_null(line_starting(p.out, "demos/lib/chan-zero.c\n"));
    ct_proc_free(&p);
    /* a file name */
    assert_int_equal(tutor(&p, "chan-zero.c", NULL), 0);
    assert_int_equal(strncmp(p.out, "demos/lib/chan-zero.c\n", 22), 0);
    ct_proc_free(&p);

    /* mistakes: exit 2 and what to do */
    assert_int_equal(tutor(&p, "racee", NULL), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "did you mean 'race'?"));
    ct_proc_free(&p);
    assert_int_equal(tutor(&p, "race", "no_such_thing"), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "nothing called 'no_such_thing' in race"));
    ct_proc_free(&p);
    /* a name longer than any file, ending as one would (found by fuzzing) */
    char longname[128];
    memset(longname, '0', sizeof longname);
    strcpy(longname + sizeof longname - 10, "/retry.c");
    assert_int_equal(tutor(&p, longname, NULL), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "no demo"));
    ct_proc_free(&p);
    assert_int_equal(tutor(&p, "chan", "try"), 0);
    assert_int_equal(p.status, 2);
    char *err = ct_unwrap(p.err);
    assert_non_null(strstr(err, "say which"));
    free(err);
    ct_proc_free(&p);
}

static void test_colours(void **state)
{
    (void)state;
    char err[256], *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_int_equal(ct_source_render(m, "race", "increment", 80, true, true, err, sizeof err), 0);
    fclose(m);
    assert_non_null(strstr(text, "\033[1;34mstatic"));     /* a keyword */
    assert_non_null(strstr(text, "\033[2;37m/*"));         /* a comment */
    free(text);
    text = NULL;
    m = open_memstream(&text, &len);
    assert_int_equal(ct_source_render(m, "race", "increment", 80, false, false, err, sizeof err),
                     0);
    fclose(m);
    assert_null(strchr(text, '\033'));
    free(text);
}

static void collect(void *arg, const char *word)
{
    char *all = arg;
    if (strlen(all) + strlen(word) + 3 < 65536) {
        strcat(all, " ");
        strcat(all, word);
        strcat(all, " ");
    }
}

static void test_completion_words(void **state)
{
    (void)state;
    char *all = calloc(1, 65536);
    ct_source_words("chan", collect, all);
    assert_non_null(strstr(all, " send "));         /* ct_chan_send, as typed */
    all[0] = '\0';
    ct_source_words("run", collect, all);
    assert_non_null(strstr(all, " watcher "));      /* watcher_main */
    all[0] = '\0';
    ct_source_words(NULL, collect, all);
    assert_non_null(strstr(all, " chan "));
    assert_non_null(strstr(all, " lib/rwlock "));   /* a demo has the plain name */
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_demo),
        cmocka_unit_test(test_lessons_references),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_colours),
        cmocka_unit_test(test_completion_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
