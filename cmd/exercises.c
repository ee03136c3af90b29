/* exercises.c - see exercises.h. */
#include "exercises.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embedded.h"
#include "files.h"

#define PROG "concur-tutor"

static struct ct_exercise registry[CT_EXERCISE_MAX];
static size_t registry_count;
static char registry_err[256];
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

/* ---- parsing the embedded files ------------------------------------------ */

/* The next line of [*p, end) without its newline; false at the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    *line = *p;
    *len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    *p = nl ? nl + 1 : end;
    return true;
}

static void copy_value(char *dst, size_t n, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'))
        len--;
    snprintf(dst, n, "%.*s", (int)len, v);
}

static int header_key(struct ct_exercise *ex, const char *key, const char *val)
{
    if (strcmp(key, "chapter") == 0) {
        char *end;
        long c = strtol(val, &end, 10);
        if (*val == '\0' || *end != '\0' || c < 1 || c > 99)
            return -EINVAL;
        ex->chapter = (int)c;
    } else if (strcmp(key, "title") == 0) {
        if (strlen(val) >= sizeof ex->title)
            return -E2BIG;
        memcpy(ex->title, val, strlen(val) + 1);
    } else if (strcmp(key, "lesson") == 0) {
        if (strlen(val) >= sizeof ex->lesson)
            return -E2BIG;
        memcpy(ex->lesson, val, strlen(val) + 1);
    } else if (strcmp(key, "sanitize") == 0) {
        ex->sanitize = (strstr(val, "thread") ? CT_SAN_THREAD : 0) |
                       (strstr(val, "address") ? CT_SAN_ADDRESS : 0);
        if (!ex->sanitize)
            return -EINVAL;
    } else if (strcmp(key, "race-report") == 0) {
        if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
            return -EINVAL;
        ex->race_report = strcmp(val, "yes") == 0;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* task.md: "::: exercise NAME", "key: value" lines, ":::", then the text. */
static int parse_task(struct ct_exercise *ex, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *line;
    size_t n;
    char head[96], key[32], val[128];
    if (!next_line(&p, end, &line, &n))
        return -EINVAL;
    snprintf(head, sizeof head, "::: exercise %s", ex->name);
    copy_value(val, sizeof val, line, n);
    if (strcmp(val, head) != 0)
        return -EINVAL;
    while (next_line(&p, end, &line, &n)) {
        copy_value(val, sizeof val, line, n);
        if (strcmp(val, ":::") == 0) {
            while (p < end && *p == '\n')
                p++;
            ex->task = (struct ct_text){ p, (size_t)(end - p) };
            return ex->chapter && ex->title[0] && ex->sanitize ? 0 : -EINVAL;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon)
            return -EINVAL;
        copy_value(key, sizeof key, line, (size_t)(colon - line));
        copy_value(val, sizeof val, colon + 1, n - (size_t)(colon + 1 - line));
        if (header_key(ex, key, val) != 0)
            return -EINVAL;
    }
    return -EINVAL;
}

/* hints.md: hints separated by lines holding only "---". */
static int parse_hints(struct ct_exercise *ex, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *line, *start = text;
    size_t n;
    ex->nhints = 0;
    for (;;) {
        const char *here = p;
        bool more = next_line(&p, end, &line, &n);
        if (!more || (n == 3 && memcmp(line, "---", 3) == 0)) {
            const char *stop = more ? here : end;
            while (start < stop && (*start == '\n' || *start == ' '))
                start++;
            if (stop > start) {
                if (ex->nhints == CT_EXERCISE_MAX_HINTS)
                    return -E2BIG;
                ex->hints[ex->nhints++] = (struct ct_text){ start, (size_t)(stop - start) };
            }
            start = p;
        }
        if (!more)
            return ex->nhints > 0 ? 0 : -EINVAL;
    }
}

static struct ct_exercise *find_or_add(const char *name, size_t len)
{
    for (size_t i = 0; i < registry_count; i++) {
        if (strlen(registry[i].name) == len && memcmp(registry[i].name, name, len) == 0)
            return &registry[i];
    }
    if (registry_count == CT_EXERCISE_MAX || len >= sizeof registry[0].name)
        return NULL;
    struct ct_exercise *ex = &registry[registry_count++];
    memcpy(ex->name, name, len);
    ex->name[len] = '\0';
    return ex;
}

static int add_file(const struct ct_embedded_file *f)
{
    const char *slash = strchr(f->name, '/');
    if (!slash || strcmp(f->name, "exercise.h") == 0)
        return 0;
    struct ct_exercise *ex = find_or_add(f->name, (size_t)(slash - f->name));
    const char *file = slash + 1;
    struct ct_text t = { f->text, f->len };
    if (!ex)
        return -E2BIG;
    if (strcmp(file, "task.md") == 0)
        return parse_task(ex, f->text, f->len);
    if (strcmp(file, "hints.md") == 0)
        return parse_hints(ex, f->text, f->len);
    if (strcmp(file, "starter.c") == 0)
        ex->starter = t;
    else if (strcmp(file, "solution.c") == 0)
        ex->solution = t;
    else if (strcmp(file, "harness.c") == 0)
        ex->harness = t;
    else
        return -EINVAL;
    return 0;
}

static void load_registry(void)
{
    for (size_t i = 0; i < ct_embedded_exercises_count; i++) {
        const struct ct_embedded_file *f = &ct_embedded_exercises[i];
        if (add_file(f) != 0) {
            snprintf(registry_err, sizeof registry_err, "exercise file %s is malformed", f->name);
            return;
        }
    }
    for (size_t i = 0; i < registry_count; i++) {
        const struct ct_exercise *ex = &registry[i];
        if (!ex->task.s || !ex->starter.s || !ex->solution.s || !ex->harness.s || !ex->nhints) {
            snprintf(registry_err, sizeof registry_err, "exercise %s is missing a file", ex->name);
            return;
        }
    }
}

const struct ct_exercise *ct_exercises(size_t *count, char *err, size_t errlen)
{
    pthread_once(&registry_once, load_registry);
    if (registry_err[0]) {
        if (errlen)
            snprintf(err, errlen, "%s", registry_err);
        *count = 0;
        return NULL;
    }
    *count = registry_count;
    return registry;
}

const struct ct_exercise *ct_exercise_find(const char *name)
{
    size_t n;
    const struct ct_exercise *all = ct_exercises(&n, NULL, 0);
    for (size_t i = 0; all && i < n; i++) {
        if (strcmp(all[i].name, name) == 0)
            return &all[i];
    }
    return NULL;
}

const struct ct_exercise *ct_exercise_next(const struct ct_exercise *ex)
{
    size_t n;
    const struct ct_exercise *all = ct_exercises(&n, NULL, 0);
    size_t i = (size_t)(ex - all);
    return all && i + 1 < n ? &all[i + 1] : NULL;
}

struct ct_text ct_exercise_header(void)
{
    for (size_t i = 0; i < ct_embedded_exercises_count; i++) {
        const struct ct_embedded_file *f = &ct_embedded_exercises[i];
        if (strcmp(f->name, "exercise.h") == 0)
            return (struct ct_text){ f->text, f->len };
    }
    return (struct ct_text){ "", 0 };
}

/* ---- the workspace -------------------------------------------------------- */

bool ct_workspace_dir(char *buf, size_t n)
{
    const char *ws = getenv("CONCUR_TUTOR_WORKSPACE");
    const char *home = getenv("HOME");
    int w;
    if (ws && *ws)
        w = snprintf(buf, n, "%s", ws);
    else if (home && *home)
        w = snprintf(buf, n, "%s/concur-tutor-exercises", home);
    else
        return false;
    return w > 0 && (size_t)w < n;
}

bool ct_workspace_file(const struct ct_exercise *ex, char *buf, size_t n)
{
    char dir[PATH_MAX];
    if (!ct_workspace_dir(dir, sizeof dir))
        return false;
    int w = snprintf(buf, n, "%s/%s.c", dir, ex->name);
    return w > 0 && (size_t)w < n;
}

/* ---- progress --------------------------------------------------------- */

static bool warned;

static void warn_once(const char *what, const char *path, int err)
{
    if (warned)
        return;
    warned = true;
    fprintf(stderr, PROG ": warning: %s %s: %s (progress is not kept)\n", what,
            path ? path : "", strerror(err));
}

const char *ct_exercise_status_name(enum ct_exercise_status s)
{
    return s == CT_EXERCISE_DONE ? "done" : s == CT_EXERCISE_STARTED ? "started" : "not started";
}

/* The state directory (created) and the file in it. */
static bool progress_path(char *buf, size_t n, bool create)
{
    char dir[PATH_MAX];
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (state && *state == '/')
        snprintf(dir, sizeof dir, "%s/concur-tutor", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/concur-tutor", home);
    else
        return false;
    if (create) {
        for (char *p = dir + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(dir, 0700);
                *p = '/';
            }
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            warn_once("cannot create", dir, errno);
            return false;
        }
    }
    int w = snprintf(buf, n, "%s/exercises", dir);
    return w > 0 && (size_t)w < n;
}

/* Parse the file's text into `out` (indexed like the registry). */
static void parse_progress(const char *text, size_t len, const char *path,
                           struct ct_progress_entry *out, size_t count)
{
    const char *p = text, *end = text + len, *line;
    size_t n;
    size_t nall;
    const struct ct_exercise *all = ct_exercises(&nall, NULL, 0);
    bool bad = false;
    while (next_line(&p, end, &line, &n)) {
        char copy[160], name[64], status[16];
        int hints;
        if (n == 0 || line[0] == '#')
            continue;
        snprintf(copy, sizeof copy, "%.*s", (int)n, line);
        if (n >= sizeof copy || sscanf(copy, "%63s %15s %d", name, status, &hints) != 3 ||
            hints < 0 || hints > CT_EXERCISE_MAX_HINTS ||
            (strcmp(status, "done") != 0 && strcmp(status, "started") != 0)) {
            bad = true;
            continue;
        }
        for (size_t i = 0; all && i < nall && i < count; i++) {
            if (strcmp(all[i].name, name) == 0) {
                out[i].status = status[0] == 'd' ? CT_EXERCISE_DONE : CT_EXERCISE_STARTED;
                out[i].hints = hints;
            }
        }
    }
    if (bad && !warned) {
        warned = true;
        fprintf(stderr, PROG ": warning: %s: lines that are not 'NAME done|started HINTS' "
                        "were ignored\n", path);
    }
}

static void load_from(const char *path, struct ct_progress_entry *out, size_t count)
{
    char why[128];
    size_t len;
    memset(out, 0, count * sizeof *out);
    char *text = ct_read_regular_file(path, 1 << 20, &len, why, sizeof why);
    if (!text) {
        if (access(path, F_OK) == 0 && !warned) {
            warned = true;
            fprintf(stderr, PROG ": warning: cannot read %s: %s (progress is not kept)\n",
                    path, why);
        }
        return;
    }
    parse_progress(text, len, path, out, count);
    free(text);
}

void ct_progress_load(struct ct_progress_entry *out, size_t count)
{
    char path[PATH_MAX];
    memset(out, 0, count * sizeof *out);
    if (progress_path(path, sizeof path, false))
        load_from(path, out, count);
}

static int write_progress(const char *path, const struct ct_progress_entry *e, size_t count)
{
    char tmp[PATH_MAX + 32];
    size_t nall;
    const struct ct_exercise *all = ct_exercises(&nall, NULL, 0);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int err = errno;
        close(fd);
        unlink(tmp);
        return -err;
    }
    fprintf(f, "# concur-tutor exercises v1\n# NAME done|started HINTS-SHOWN\n");
    for (size_t i = 0; all && i < nall && i < count; i++) {
        if (e[i].status != CT_EXERCISE_NEW || e[i].hints)
            fprintf(f, "%s %s %d\n", all[i].name, e[i].status == CT_EXERCISE_DONE ? "done" : "started",
                    e[i].hints);
    }
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    return -err;
}

int ct_progress_update(const struct ct_exercise *ex, enum ct_exercise_status status, int hints)
{
    char path[PATH_MAX];
    struct ct_progress_entry e[CT_EXERCISE_MAX];
    size_t nall;
    const struct ct_exercise *all = ct_exercises(&nall, NULL, 0);
    if (!all)
        return -EINVAL;
    if (!progress_path(path, sizeof path, true))
        return -ENOENT;
    load_from(path, e, nall);
    size_t i = (size_t)(ex - all);
    if (e[i].status >= status && e[i].hints >= hints)
        return 0;
    if (e[i].status < status)
        e[i].status = status;
    if (e[i].hints < hints)
        e[i].hints = hints;
    int rc = write_progress(path, e, nall);
    if (rc)
        warn_once("cannot write", path, -rc);
    return rc;
}
