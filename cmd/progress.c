/* progress.c - the progress file (see progress.h for its format) and the
 * `progress` command. */
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "exit.h"
#include "files.h"
#include "json.h"
#include "registry.h"
#include "render.h"
#include "text.h"

#define HEADER "concur-tutor progress 1"
#define MAX_FILE (1u << 20)
#define ID_MAX 64
#define DIR_LEN 512
#define PATH_LEN (DIR_LEN + 64)

struct rec_read {
    char id[ID_MAX];
    long long at;
};

struct rec_ran {
    char id[ID_MAX];
    long long runs;
    char status[16];
    long long at;
};

struct rec_walk {
    int chapter;
    char lesson[ID_MAX];
    int step;
    long long at;
    struct ct_walk_place place;     /* kind "" in a 5-field record */
};

struct progress {
    struct rec_read *read;
    size_t nread;
    struct rec_ran *ran;
    size_t nran;
    struct rec_walk *walk;
    size_t nwalk;
    int damaged, first_damaged;     /* lines that did not parse */
};

static bool warned;      /* one warning per process */
static bool disabled;    /* the file cannot be kept: stop trying */

/* One warning per process: whatever goes wrong with the file, the tutor
 * goes on. */
static void warn_once(const char *fmt, const char *a, const char *b)
{
    if (warned)
        return;
    warned = true;
    char msg[2048];
    snprintf(msg, sizeof msg, fmt, a, b);
    ct_error("concur-tutor: progress: %s", msg);
}

static void progress_free(struct progress *p)
{
    free(p->read);
    free(p->ran);
    free(p->walk);
    memset(p, 0, sizeof *p);
}

/* Grow an array of `size`-byte records by one; the new slot, or NULL. */
static void *push(void *arr, size_t *n, size_t size)
{
    void **a = arr;
    void *q = realloc(*a, (*n + 1) * size);
    if (!q)
        return NULL;
    *a = q;
    memset((char *)q + *n * size, 0, size);
    return (char *)q + (*n)++ * size;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < ID_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static bool parse_ll(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *s && !*end && !errno && *v >= 0;
}

static const char *const place_kinds[] = {
    "introduction", "section", "demo", "takeaway", "end", NULL,
};

static bool small(const char *s, int *v)
{
    long long x;
    if (!parse_ll(s, &x) || x > 100000)
        return false;
    *v = (int)x;
    return true;
}

/* The 6 fields after a walk record's EPOCH: where it stopped. */
static bool parse_place(char **f, struct ct_walk_place *pl)
{
    bool kind = false;
    for (int i = 0; place_kinds[i]; i++)
        kind = kind || strcmp(f[0], place_kinds[i]) == 0;
    if (!kind || !small(f[1], &pl->section) || !small(f[2], &pl->sections) ||
        !small(f[3], &pl->page) || !small(f[4], &pl->pages) ||
        (strcmp(f[5], "-") != 0 && !valid_id(f[5])))
        return false;
    snprintf(pl->kind, sizeof pl->kind, "%s", f[0]);
    snprintf(pl->demo, sizeof pl->demo, "%s", strcmp(f[5], "-") ? f[5] : "");
    return true;
}

/* One record line, split at tabs; false if it is not a record. */
static bool parse_record(struct progress *p, char *line)
{
    char *f[12];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, "\t", &save); t && n < 12;
         t = strtok_r(NULL, "\t", &save))
        f[n++] = t;
    struct ct_walk_place place = { .kind = "" };
    long long a, b, c;
    if (n == 3 && strcmp(f[0], "read") == 0 && valid_id(f[1]) && parse_ll(f[2], &a)) {
        struct rec_read *r = push(&p->read, &p->nread, sizeof *r);
        if (r) {
            snprintf(r->id, sizeof r->id, "%s", f[1]);
            r->at = a;
        }
        return true;
    }
    if (n == 5 && strcmp(f[0], "ran") == 0 && valid_id(f[1]) && parse_ll(f[2], &a) &&
        valid_id(f[3]) && strlen(f[3]) < 16 && parse_ll(f[4], &b)) {
        struct rec_ran *r = push(&p->ran, &p->nran, sizeof *r);
        if (r) {
            snprintf(r->id, sizeof r->id, "%s", f[1]);
            r->runs = a;
            snprintf(r->status, sizeof r->status, "%s", f[3]);
            r->at = b;
        }
        return true;
    }
    if ((n == 5 || (n == 11 && parse_place(f + 5, &place))) && strcmp(f[0], "walk") == 0 &&
        parse_ll(f[1], &a) && a < 100 && valid_id(f[2]) && parse_ll(f[3], &b) && b < 100000 &&
        parse_ll(f[4], &c)) {
        struct rec_walk *r = push(&p->walk, &p->nwalk, sizeof *r);
        if (r) {
            r->chapter = (int)a;
            snprintf(r->lesson, sizeof r->lesson, "%s", f[2]);
            r->step = (int)b;
            r->at = c;
            r->place = place;
        }
        return true;
    }
    return false;
}

/* Read the file at `path` into *p (empty when it does not exist).  0, or
 * -1 when it exists but must not be touched (not a regular file, too big,
 * unreadable): a warning has then been given. */
static int load(const char *path, struct progress *p)
{
    char why[256];
    size_t len;
    memset(p, 0, sizeof *p);
    int rc = ct_check_regular_file(path, MAX_FILE, why, sizeof why);
    if (rc == -ENOENT)
        return 0;
    char *text = rc == 0 ? ct_read_regular_file(path, MAX_FILE, &len, why, sizeof why) : NULL;
    if (!text) {
        warn_once("%s: %s; progress is not being kept", path, why);
        disabled = true;
        return -1;
    }
    int lineno = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (lineno == 1 && strcmp(line, HEADER) == 0)
            continue;
        if (!parse_record(p, line)) {
            if (!p->damaged)
                p->first_damaged = lineno;
            p->damaged++;
        }
    }
    free(text);
    if (p->damaged) {
        char what[64];
        snprintf(what, sizeof what, "%d damaged line%s (the first is line %d)", p->damaged,
                 p->damaged == 1 ? "" : "s", p->first_damaged);
        warn_once("%s: %s skipped; the rest is kept", path, what);
    }
    return 0;
}

/* Write *p to `path` through a temporary file in the same directory. */
static int save(const char *path, const struct progress *p)
{
    char tmp[PATH_LEN + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%s\n", HEADER);
    for (size_t i = 0; i < p->nread; i++)
        fprintf(f, "read\t%s\t%lld\n", p->read[i].id, p->read[i].at);
    for (size_t i = 0; i < p->nran; i++)
        fprintf(f, "ran\t%s\t%lld\t%s\t%lld\n", p->ran[i].id, p->ran[i].runs, p->ran[i].status,
                p->ran[i].at);
    for (size_t i = 0; i < p->nwalk; i++) {
        const struct rec_walk *w = &p->walk[i];
        fprintf(f, "walk\t%d\t%s\t%d\t%lld", w->chapter, w->lesson, w->step, w->at);
        if (*w->place.kind)
            fprintf(f, "\t%s\t%d\t%d\t%d\t%d\t%s", w->place.kind, w->place.section,
                    w->place.sections, w->place.page, w->place.pages,
                    *w->place.demo ? w->place.demo : "-");
        fputc('\n', f);
    }
    int err = ferror(f) ? EIO : 0;
    if (fflush(f) != 0 && !err)
        err = errno;
    if (!err && fsync(fileno(f)) != 0)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    return -err;
}

/* The progress file's path, the state directory created; false (with a
 * warning) when there is none to be had. */
static bool progress_path(char *path, size_t n, bool create)
{
    char dir[DIR_LEN], why[DIR_LEN + 128];
    if (ct_state_dir(dir, sizeof dir, create, why, sizeof why) != 0) {
        if (create) {
            warn_once("%s%s; progress is not being kept", why, "");
            disabled = true;
        }
        return false;
    }
    snprintf(path, n, "%s/progress", dir);
    return true;
}

/* Hold the lock file beside `path` (waiting up to about 2 s); its fd, or
 * -1 when it cannot be had (the update goes on without it: the rename
 * still keeps the file whole). */
static int lock(const char *path)
{
    char lpath[PATH_LEN + 8];
    snprintf(lpath, sizeof lpath, "%s.lock", path);
    int fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK)
            break;
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

typedef void change_fn(struct progress *p, const void *arg);

/* Lock, read, change, write, unlock. */
static void update(change_fn *change, const void *arg)
{
    char path[PATH_LEN];
    if (disabled || !progress_path(path, sizeof path, true))
        return;
    int fd = lock(path);
    struct progress p;
    if (load(path, &p) == 0) {
        change(&p, arg);
        int rc = save(path, &p);
        if (rc != 0) {
            warn_once("cannot write %s: %s; progress is not being kept", path, strerror(-rc));
            disabled = true;
        }
    }
    progress_free(&p);
    if (fd >= 0)
        close(fd);
}

static void change_read(struct progress *p, const void *arg)
{
    const char *id = arg;
    struct rec_read *r = NULL;
    for (size_t i = 0; i < p->nread && !r; i++) {
        if (strcmp(p->read[i].id, id) == 0)
            r = &p->read[i];
    }
    if (!r && (r = push(&p->read, &p->nread, sizeof *r)))
        snprintf(r->id, sizeof r->id, "%s", id);
    if (r)
        r->at = (long long)time(NULL);
}

void ct_progress_lesson_read(const char *lesson)
{
    if (valid_id(lesson))
        update(change_read, lesson);
}

struct ran_arg {
    const char *demo, *status;
    int runs;
};

static void change_ran(struct progress *p, const void *arg)
{
    const struct ran_arg *a = arg;
    struct rec_ran *r = NULL;
    for (size_t i = 0; i < p->nran && !r; i++) {
        if (strcmp(p->ran[i].id, a->demo) == 0)
            r = &p->ran[i];
    }
    if (!r && (r = push(&p->ran, &p->nran, sizeof *r)))
        snprintf(r->id, sizeof r->id, "%s", a->demo);
    if (r) {
        r->runs += a->runs;
        snprintf(r->status, sizeof r->status, "%s", a->status);
        r->at = (long long)time(NULL);
    }
}

void ct_progress_demo_ran(const char *demo, const char *status, int runs)
{
    struct ran_arg a = { demo, status, runs > 0 ? runs : 1 };
    if (valid_id(demo) && valid_id(status) && strlen(status) < 16)
        update(change_ran, &a);
}

static void change_walk(struct progress *p, const void *arg)
{
    const struct rec_walk *w = arg;
    struct rec_walk *r = NULL;
    for (size_t i = 0; i < p->nwalk && !r; i++) {
        if (p->walk[i].chapter == w->chapter)
            r = &p->walk[i];
    }
    if (!r)
        r = push(&p->walk, &p->nwalk, sizeof *r);
    if (r)
        *r = *w;
}

void ct_progress_walk_set(int chapter, const char *lesson, int step,
                          const struct ct_walk_place *place)
{
    struct rec_walk w = { .chapter = chapter, .step = step, .at = (long long)time(NULL),
                          .place = *place };
    if (!valid_id(lesson) || (*place->demo && !valid_id(place->demo)))
        return;
    snprintf(w.lesson, sizeof w.lesson, "%s", lesson);
    update(change_walk, &w);
}

bool ct_progress_walk_get(int chapter, char *lesson, size_t n, int *step,
                          struct ct_walk_place *place)
{
    char path[PATH_LEN];
    struct progress p;
    bool found = false;
    if (!progress_path(path, sizeof path, false) || load(path, &p) != 0)
        return false;
    for (size_t i = 0; i < p.nwalk; i++) {
        if (p.walk[i].chapter == chapter) {
            snprintf(lesson, n, "%s", p.walk[i].lesson);
            *step = p.walk[i].step;
            *place = p.walk[i].place;
            found = true;
        }
    }
    progress_free(&p);
    return found;
}

/* ---- the command ---------------------------------------------------------- */

static const struct rec_read *find_read(const struct progress *p, const char *id)
{
    for (size_t i = 0; i < p->nread; i++) {
        if (strcmp(p->read[i].id, id) == 0)
            return &p->read[i];
    }
    return NULL;
}

static const struct rec_ran *find_ran(const struct progress *p, const char *id)
{
    for (size_t i = 0; i < p->nran; i++) {
        if (strcmp(p->ran[i].id, id) == 0)
            return &p->ran[i];
    }
    return NULL;
}

/* "05-02 14:01" for a table cell. */
static void when(long long at, char *buf, size_t n)
{
    time_t t = (time_t)at;
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, n, "%m-%d %H:%M", &tm))
        snprintf(buf, n, "?");
}

static void demo_json(struct ct_json *j, const struct progress *p, const char *name)
{
    const struct rec_ran *r = find_ran(p, name);
    ct_json_object_begin(j);
    ct_json_kv_str(j, "name", name);
    ct_json_kv_int(j, "runs", r ? r->runs : 0);
    ct_json_key(j, "last_status");
    if (r)
        ct_json_str(j, r->status);
    else
        ct_json_null(j);
    ct_json_key(j, "last_run_at");
    if (r)
        ct_json_int(j, r->at);
    else
        ct_json_null(j);
    ct_json_object_end(j);
}

static void json_int_or_null(struct ct_json *j, const char *key, int v, bool known)
{
    ct_json_key(j, key);
    if (known)
        ct_json_int(j, v);
    else
        ct_json_null(j);
}

static void json_str_or_null(struct ct_json *j, const char *key, const char *v)
{
    ct_json_key(j, key);
    if (v && *v)
        ct_json_str(j, v);
    else
        ct_json_null(j);
}

/* One walk, in the numbers its status line showed: "place" is
 * introduction, section, demo, takeaway or end (null from an older
 * record); "section" of "sections" and "page" of "pages" are 1-based,
 * null where they do not apply; "lesson" is null at the introduction and
 * the end. */
static void walk_json(struct ct_json *j, const struct rec_walk *w)
{
    const struct ct_walk_place *pl = &w->place;
    bool known = *pl->kind != '\0';
    bool in_lesson = !known || (strcmp(pl->kind, "introduction") && strcmp(pl->kind, "end"));
    bool section = strcmp(pl->kind, "section") == 0;
    ct_json_object_begin(j);
    ct_json_kv_int(j, "chapter", w->chapter);
    json_str_or_null(j, "lesson", in_lesson ? w->lesson : NULL);
    json_str_or_null(j, "place", pl->kind);
    json_int_or_null(j, "section", pl->section, section);
    json_int_or_null(j, "sections", pl->sections, section);
    json_int_or_null(j, "page", pl->page, known && pl->page > 0);
    json_int_or_null(j, "pages", pl->pages, known && pl->pages > 0);
    json_str_or_null(j, "demo", pl->demo);
    ct_json_kv_int(j, "at", w->at);
    ct_json_object_end(j);
}

static void progress_json(const struct ct_library *lib, const struct progress *p,
                          const char *path)
{
    struct ct_json j;
    const char *user = getenv("USER");
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "file", path);
    ct_json_kv_str(&j, "user", user ? user : "");
    ct_json_kv_str(&j, "host", host);
    ct_json_key(&j, "chapters");
    ct_json_array_begin(&j);
    for (int c = 0; c < lib->nchapters; c++) {
        const struct ct_chapter *ch = &lib->chapters[c];
        ct_json_object_begin(&j);
        ct_json_kv_int(&j, "number", ch->number);
        ct_json_kv_str(&j, "title", ch->title);
        ct_json_key(&j, "lessons");
        ct_json_array_begin(&j);
        for (int i = 0; i < lib->nlessons; i++) {
            const struct ct_lesson *l = &lib->lessons[i];
            if (l->chapter != ch->number)
                continue;
            const struct rec_read *r = find_read(p, l->id);
            ct_json_object_begin(&j);
            ct_json_kv_str(&j, "id", l->id);
            ct_json_kv_str(&j, "title", l->title);
            ct_json_kv_bool(&j, "read", r != NULL);
            ct_json_key(&j, "read_at");
            if (r)
                ct_json_int(&j, r->at);
            else
                ct_json_null(&j);
            ct_json_key(&j, "demos");
            ct_json_array_begin(&j);
            for (int d = 0; d < l->ndemos; d++)
                demo_json(&j, p, l->demos[d]);
            ct_json_array_end(&j);
            ct_json_object_end(&j);
        }
        ct_json_array_end(&j);
        ct_json_object_end(&j);
    }
    ct_json_array_end(&j);
    ct_json_key(&j, "walks");
    ct_json_array_begin(&j);
    for (size_t i = 0; i < p->nwalk; i++)
        walk_json(&j, &p->walk[i]);
    ct_json_array_end(&j);
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

/* Where a walk stopped, in the words its status line used. */
static void walk_line(FILE *m, const struct rec_walk *w)
{
    const struct ct_walk_place *pl = &w->place;
    char pages[48] = "";
    if (pl->pages > 1)
        snprintf(pages, sizeof pages, " (page %d of %d)", pl->page, pl->pages);
    fprintf(m, "\n`walk %d` ", w->chapter);
    if (strcmp(pl->kind, "end") == 0)
        fprintf(m, "reached the end; the next `walk %d` starts it again.\n", w->chapter);
    else if (strcmp(pl->kind, "introduction") == 0)
        fprintf(m, "stopped at the introduction%s.\n", pages);
    else if (strcmp(pl->kind, "section") == 0)
        fprintf(m, "stopped at `%s`, section %d of %d%s.\n", w->lesson, pl->section,
                pl->sections, pages);
    else if (strcmp(pl->kind, "demo") == 0)
        fprintf(m, "stopped at `%s`, the demo `%s`.\n", w->lesson, pl->demo);
    else if (strcmp(pl->kind, "takeaway") == 0)
        fprintf(m, "stopped at `%s`, the takeaway of `%s`.\n", w->lesson, pl->demo);
    else
        fprintf(m, "stopped in `%s`.\n", w->lesson);
}

/* One chapter as a Markdown table, for the renderer (which stacks it on a
 * narrow terminal). */
static void chapter_table(FILE *m, const struct ct_library *lib, const struct ct_chapter *ch,
                          const struct progress *p)
{
    int lessons = 0, read = 0, demos = 0, ran = 0;
    for (int i = 0; i < lib->nlessons; i++) {
        const struct ct_lesson *l = &lib->lessons[i];
        if (l->chapter != ch->number)
            continue;
        lessons++;
        read += find_read(p, l->id) != NULL;
        for (int d = 0; d < l->ndemos; d++) {
            demos++;
            ran += find_ran(p, l->demos[d]) != NULL;
        }
    }
    fprintf(m, "### %d %s\n\n%d of %d lesson%s read, %d of %d demo%s run.\n\n", ch->number,
            ch->title, read, lessons, lessons == 1 ? "" : "s", ran, demos, demos == 1 ? "" : "s");
    fprintf(m, "| lesson | read | demo | runs | last run |\n|---|---|---|---|---|\n");
    char at[32], last[64];
    for (int i = 0; i < lib->nlessons; i++) {
        const struct ct_lesson *l = &lib->lessons[i];
        if (l->chapter != ch->number)
            continue;
        const struct rec_read *r = find_read(p, l->id);
        if (r)
            when(r->at, at, sizeof at);
        for (int d = 0; d < (l->ndemos ? l->ndemos : 1); d++) {
            const struct rec_ran *x = l->ndemos ? find_ran(p, l->demos[d]) : NULL;
            if (x) {
                char t[32];
                when(x->at, t, sizeof t);
                snprintf(last, sizeof last, "%s %s", x->status, t);
            }
            fprintf(m, "| %s | %s | %s | %lld | %s |\n", d ? "" : l->id,
                    d ? "" : r ? at : "no", l->ndemos ? l->demos[d] : "-", x ? x->runs : 0LL,
                    x ? last : "-");
        }
    }
    for (size_t i = 0; i < p->nwalk; i++) {
        if (p->walk[i].chapter == ch->number)
            walk_line(m, &p->walk[i]);
    }
    fputc('\n', m);
}

static int progress_reset(void)
{
    char path[PATH_LEN];
    if (!progress_path(path, sizeof path, false)) {
        printf("No progress is kept, so there is nothing to clear.\n");
        return CT_EXIT_OK;
    }
    int fd = access(path, F_OK) == 0 ? lock(path) : -1;
    int rc = unlink(path);
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0 && e != ENOENT) {
        ct_error("concur-tutor: progress reset: cannot remove %s: %s", path,
                 strerror(e));
        return CT_EXIT_FAILED;
    }
    printf(rc == 0 ? "Progress cleared (%s).\n" : "Nothing to clear (%s does not exist).\n",
           path);
    return CT_EXIT_OK;
}

int ct_cmd_progress(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "reset") != 0)
            return ct_usage_error("progress: unknown argument %s (usage: progress [reset])",
                                  CT_Q(argv[1]));
        if (opt->json)      /* only the table has a JSON form */
            return ct_usage_error("progress reset: --json does not go with reset (it has no "
                                  "JSON form); 'progress --json' prints the progress");
        return progress_reset();
    }
    const struct ct_library *lib = ct_ctx_lessons(ctx, true);
    char path[PATH_LEN] = "(none)";
    struct progress p = { 0 };
    if (progress_path(path, sizeof path, false))
        load(path, &p);
    if (opt->json) {
        progress_json(lib, &p, path);
        progress_free(&p);
        return CT_EXIT_OK;
    }
    char *md = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&md, &len);
    if (!m) {
        progress_free(&p);
        return CT_EXIT_FAILED;
    }
    fprintf(m, "# Progress\n\nKept in `%s`; `progress --json` prints it for collecting, "
               "`progress reset` clears it.\n\n", path);
    for (int c = 0; c < lib->nchapters; c++)
        chapter_table(m, lib, &lib->chapters[c], &p);
    fclose(m);
    struct ct_render_opts ro = ct_render_opts_for(opt);
    ct_render(stdout, md, len, &ro);
    free(md);
    progress_free(&p);
    return CT_EXIT_OK;
}
