/* lessons.c - see lessons.h. */
#include "lessons.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "embedded.h"
#include "files.h"
#include "registry.h"

#define FENCE ":::"
#define CT_LESSON_FILE_MAX (4u << 20)       /* 4 MiB: far more than a chapter */

CT_PRINTF(5, 6)
static int fail(char *err, size_t errlen, const char *file, int line,
                const char *fmt, ...)
{
    va_list ap;
    char reason[512];
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    /* "FILE:LINE: reason"; a path too long for that keeps its end only,
     * so that the reason always shows whole */
    size_t room = errlen > strlen(reason) + 32 ? errlen - strlen(reason) - 32 : 0;
    size_t flen = strlen(file);
    const char *shown = flen > room ? file + flen - room : file;
    const char *dots = shown != file ? "..." : "";
    if (line > 0)
        snprintf(err, errlen, "%s%s:%d: %s", dots, shown, line, reason);
    else
        snprintf(err, errlen, "%s%s: %s", dots, shown, reason);
    return -EINVAL;
}

static bool is_kebab(const char *s)
{
    if (!*s || *s == '-')
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  (*p == '-' && p[1] && p[1] != '-');
        if (!ok)
            return false;
    }
    return true;
}

/* One line of the file: [start, start + len), without the newline. */
struct cursor {
    const char *file;
    const char *p;          /* start of the next line */
    int lineno;             /* number of the line last returned */
};

static bool next_line(struct cursor *c, const char **start, size_t *len)
{
    if (!*c->p)
        return false;
    const char *nl = strchr(c->p, '\n');
    *start = c->p;
    *len = nl ? (size_t)(nl - c->p) : strlen(c->p);
    c->p = nl ? nl + 1 : c->p + *len;
    c->lineno++;
    if (*len && (*start)[*len - 1] == '\r')
        (*len)--;
    return true;
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    }
    return true;
}

static char *trimmed_dup(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return strndup(s, len);
}

struct header {
    char *kind;     /* "chapter" or "lesson" */
    char *arg;      /* chapter number or lesson id */
    char *title, *summary, *demos;
    int line;
};

static void header_free(struct header *h)
{
    free(h->kind);
    free(h->arg);
    free(h->title);
    free(h->summary);
    free(h->demos);
    memset(h, 0, sizeof *h);
}

/* Read a header whose opening fence line is [s, s+len); leaves the cursor
 * after the closing fence. */
static int read_header(struct cursor *c, const char *s, size_t len,
                       struct header *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->line = c->lineno;
    char *open = trimmed_dup(s + strlen(FENCE), len - strlen(FENCE));
    char *sp = open ? strchr(open, ' ') : NULL;
    if (!open || !sp) {
        free(open);
        return fail(err, errlen, c->file, c->lineno,
                    "expected '::: chapter NUMBER' or '::: lesson ID', got '%.*s'",
                    (int)len, s);
    }
    *sp = '\0';
    h->kind = strdup(open);
    h->arg = trimmed_dup(sp + 1, strlen(sp + 1));
    free(open);
    const char *accepted;
    if (strcmp(h->kind, "chapter") == 0) {
        accepted = "title, summary";
    } else if (strcmp(h->kind, "lesson") == 0) {
        accepted = "title, summary, demos";
    } else {
        int rc = fail(err, errlen, c->file, c->lineno,
                      "unknown header kind '%s' (accepted: chapter, lesson)", h->kind);
        header_free(h);
        return rc;
    }

    const char *line;
    size_t n;
    while (next_line(c, &line, &n)) {
        if (n >= strlen(FENCE) && memcmp(line, FENCE, strlen(FENCE)) == 0 &&
            is_blank(line + strlen(FENCE), n - strlen(FENCE)))
            return 0;       /* the closing fence, trailing blanks allowed */
        if (is_blank(line, n))
            continue;
        const char *colon = memchr(line, ':', n);
        if (!colon) {
            int rc = fail(err, errlen, c->file, c->lineno,
                          "expected 'key: value' in the %s header, got '%.*s'",
                          h->kind, (int)n, line);
            header_free(h);
            return rc;
        }
        char *key = trimmed_dup(line, (size_t)(colon - line));
        char *value = trimmed_dup(colon + 1, n - (size_t)(colon - line) - 1);
        char **slot = NULL;
        if (strcmp(key, "title") == 0)
            slot = &h->title;
        else if (strcmp(key, "summary") == 0)
            slot = &h->summary;
        else if (strcmp(key, "demos") == 0 && strcmp(h->kind, "lesson") == 0)
            slot = &h->demos;
        int rc = 0;
        if (!slot)
            rc = fail(err, errlen, c->file, c->lineno,
                      "unknown key '%s' in the %s header (accepted: %s)", key,
                      h->kind, accepted);
        else if (*slot)
            rc = fail(err, errlen, c->file, c->lineno, "'%s' given twice", key);
        else if (!*value)
            rc = fail(err, errlen, c->file, c->lineno, "'%s' has no value", key);
        free(key);
        if (rc) {
            free(value);
            header_free(h);
            return rc;
        }
        *slot = value;
    }
    int rc = fail(err, errlen, c->file, h->line,
                  "the %s header opened here has no closing ':::' line", h->kind);
    header_free(h);
    return rc;
}

/* Make room for element n of an array whose capacity runs 8, 16, 32, ...:
 * only a count of 0 or a power of two from 8 up needs a bigger block. */
static void *grow(void *arr, int n, size_t size)
{
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
        return arr;
    return realloc(arr, (size_t)(n ? n * 2 : 8) * size);
}

const struct ct_chapter *ct_chapter_find(const struct ct_library *lib, int number)
{
    for (int i = 0; i < lib->nchapters; i++) {
        if (lib->chapters[i].number == number)
            return &lib->chapters[i];
    }
    return NULL;
}

const struct ct_lesson *ct_lesson_find(const struct ct_library *lib, const char *id)
{
    for (int i = 0; i < lib->nlessons; i++) {
        if (strcmp(lib->lessons[i].id, id) == 0)
            return &lib->lessons[i];
    }
    return NULL;
}

const struct ct_lesson *ct_lesson_for_demo(const struct ct_library *lib,
                                           const char *demo)
{
    for (int i = 0; i < lib->nlessons; i++) {
        for (int d = 0; d < lib->lessons[i].ndemos; d++) {
            if (strcmp(lib->lessons[i].demos[d], demo) == 0)
                return &lib->lessons[i];
        }
    }
    return NULL;
}

static int add_chapter(struct ct_library *lib, struct header *h, const char *file,
                       char *err, size_t errlen)
{
    char *end;
    long num = strtol(h->arg, &end, 10);
    if (*end || end == h->arg || num < 1 || num > 99)
        return fail(err, errlen, file, h->line,
                    "chapter number must be 1..99, got '%s'", h->arg);
    if (!h->title)
        return fail(err, errlen, file, h->line, "chapter %ld has no 'title:'", num);
    if (ct_chapter_find(lib, (int)num))
        return fail(err, errlen, file, h->line, "chapter %ld is defined twice", num);
    struct ct_chapter *p = grow(lib->chapters, lib->nchapters, sizeof *p);
    if (!p)
        return fail(err, errlen, file, h->line, "out of memory");
    lib->chapters = p;
    p[lib->nchapters++] = (struct ct_chapter){
        .number = (int)num, .title = h->title, .summary = h->summary,
    };
    h->title = h->summary = NULL;
    return 0;
}

static int add_lesson(struct ct_library *lib, struct header *h, int chapter,
                      const char *file, char *err, size_t errlen)
{
    if (!is_kebab(h->arg))
        return fail(err, errlen, file, h->line,
                    "lesson id '%s' must be kebab-case (a-z, 0-9, single dashes)", h->arg);
    if (chapter == 0)
        return fail(err, errlen, file, h->line,
                    "lesson '%s' comes before the file's '::: chapter' header", h->arg);
    if (!h->title || !h->summary)
        return fail(err, errlen, file, h->line, "lesson '%s' has no '%s:'", h->arg,
                    h->title ? "summary" : "title");
    if (ct_lesson_find(lib, h->arg))
        return fail(err, errlen, file, h->line, "lesson '%s' is defined twice", h->arg);

    struct ct_lesson l = { .chapter = chapter };
    for (char *save = NULL, *w = h->demos ? strtok_r(h->demos, " ,", &save) : NULL; w;
         w = strtok_r(NULL, " ,", &save)) {
        const struct ct_demo *d = ct_demo_find(w);
        const struct ct_lesson *other = ct_lesson_for_demo(lib, w);
        int rc = 0;
        if (!d)
            rc = fail(err, errlen, file, h->line, "lesson '%s' lists unknown demo '%s'",
                      h->arg, w);
        else if (other)
            rc = fail(err, errlen, file, h->line,
                      "demo '%s' is already explained by lesson '%s'", w, other->id);
        else if (d->chapter != chapter)
            rc = fail(err, errlen, file, h->line,
                      "demo '%s' belongs to chapter %d, not %d", w, d->chapter, chapter);
        else if (l.ndemos == CT_LESSON_MAX_DEMOS)
            rc = fail(err, errlen, file, h->line, "more than %d demos in one lesson",
                      CT_LESSON_MAX_DEMOS);
        for (int i = 0; rc == 0 && i < l.ndemos; i++) {
            if (strcmp(l.demos[i], w) == 0)
                rc = fail(err, errlen, file, h->line, "demo '%s' is listed twice", w);
        }
        if (rc) {
            for (int i = 0; i < l.ndemos; i++)
                free(l.demos[i]);
            return rc;
        }
        l.demos[l.ndemos++] = strdup(w);
    }
    struct ct_lesson *p = grow(lib->lessons, lib->nlessons, sizeof *p);
    if (!p) {
        for (int i = 0; i < l.ndemos; i++)
            free(l.demos[i]);
        return fail(err, errlen, file, h->line, "out of memory");
    }
    lib->lessons = p;
    l.id = h->arg;
    l.title = h->title;
    l.summary = h->summary;
    h->arg = h->title = h->summary = NULL;
    p[lib->nlessons++] = l;
    return 0;
}

int ct_library_parse(struct ct_library *lib, const char *name, const char *text,
                     char *err, size_t errlen)
{
    struct cursor c = { .file = name, .p = text };
    const char *line;
    size_t n;
    int chapter = 0;
    /* the body being collected; it belongs to a chapter or a lesson, found
     * by index because the arrays may move as they grow */
    const char *body_start = NULL;
    int body_chapter = -1, body_lesson = -1;

    for (;;) {
        const char *line_start = c.p;
        bool more = next_line(&c, &line, &n);
        bool fence = more && n >= strlen(FENCE) && memcmp(line, FENCE, strlen(FENCE)) == 0;
        if (!more || fence) {
            if (body_start) {
                if (body_chapter >= 0) {
                    lib->chapters[body_chapter].body = body_start;
                    lib->chapters[body_chapter].body_len = (size_t)(line_start - body_start);
                } else if (body_lesson >= 0) {
                    lib->lessons[body_lesson].body = body_start;
                    lib->lessons[body_lesson].body_len = (size_t)(line_start - body_start);
                }
            }
            if (!more)
                break;
            if (n == strlen(FENCE))
                return fail(err, errlen, name, c.lineno,
                            "':::' closes nothing (headers open with '::: chapter N' or '::: lesson ID')");
            struct header h;
            int rc = read_header(&c, line, n, &h, err, errlen);
            if (rc)
                return rc;
            body_chapter = body_lesson = -1;
            if (strcmp(h.kind, "chapter") == 0) {
                if (chapter)
                    rc = fail(err, errlen, name, h.line,
                              "a second chapter header (one chapter per file)");
                else if ((rc = add_chapter(lib, &h, name, err, errlen)) == 0) {
                    chapter = lib->chapters[lib->nchapters - 1].number;
                    body_chapter = lib->nchapters - 1;
                }
            } else if ((rc = add_lesson(lib, &h, chapter, name, err, errlen)) == 0) {
                body_lesson = lib->nlessons - 1;
            }
            header_free(&h);
            if (rc)
                return rc;
            body_start = c.p;
            continue;
        }
        if (!body_start && !is_blank(line, n))
            return fail(err, errlen, name, c.lineno,
                        "text before the first header (a file starts with '::: chapter N')");
    }
    if (!chapter)
        return fail(err, errlen, name, 0, "no '::: chapter N' header");
    return 0;
}

static int cmp_chapter(const void *a, const void *b)
{
    return ((const struct ct_chapter *)a)->number - ((const struct ct_chapter *)b)->number;
}

static int cmp_lesson(const void *a, const void *b)
{
    const struct ct_lesson *x = a, *y = b;
    if (x->chapter != y->chapter)
        return x->chapter - y->chapter;
    /* within a chapter, keep file order: bodies point into one text */
    return x->body < y->body ? -1 : x->body > y->body;
}

void ct_library_finish(struct ct_library *lib)
{
    if (lib->nchapters > 1)
        qsort(lib->chapters, (size_t)lib->nchapters, sizeof *lib->chapters, cmp_chapter);
    if (lib->nlessons > 1)
        qsort(lib->lessons, (size_t)lib->nlessons, sizeof *lib->lessons, cmp_lesson);
}

void ct_library_free(struct ct_library *lib)
{
    for (int i = 0; i < lib->nchapters; i++) {
        free(lib->chapters[i].title);
        free(lib->chapters[i].summary);
    }
    for (int i = 0; i < lib->nlessons; i++) {
        struct ct_lesson *l = &lib->lessons[i];
        free(l->id);
        free(l->title);
        free(l->summary);
        for (int d = 0; d < l->ndemos; d++)
            free(l->demos[d]);
    }
    for (int i = 0; i < lib->ntexts; i++)
        free(lib->texts[i]);
    free(lib->chapters);
    free(lib->lessons);
    free(lib->texts);
    memset(lib, 0, sizeof *lib);
}

int ct_library_load_embedded(struct ct_library *lib, char *err, size_t errlen)
{
    memset(lib, 0, sizeof *lib);
    for (size_t i = 0; i < ct_embedded_lesson_count; i++) {
        int rc = ct_library_parse(lib, ct_embedded_lessons[i].name,
                                  ct_embedded_lessons[i].text, err, errlen);
        if (rc) {
            ct_library_free(lib);
            return rc;
        }
    }
    ct_library_finish(lib);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole lesson file into a new NUL-terminated buffer.  Only a
 * regular file of at most CT_LESSON_FILE_MAX bytes: a FIFO would block
 * the tutor, /dev/zero would never end. */
static char *slurp(const char *path, char *err, size_t errlen)
{
    size_t len;
    char why[256];
    char *buf = ct_read_regular_file(path, CT_LESSON_FILE_MAX, &len, why, sizeof why);
    if (!buf) {
        fail(err, errlen, path, 0, "%s", why);
        return NULL;
    }
    if (memchr(buf, '\0', len)) {
        free(buf);
        fail(err, errlen, path, 0, "not a text file (contains a NUL byte)");
        return NULL;
    }
    return buf;
}

int ct_library_load_dir(struct ct_library *lib, const char *dir, char *err,
                        size_t errlen)
{
    memset(lib, 0, sizeof *lib);
    DIR *d = opendir(dir);
    if (!d)
        return fail(err, errlen, dir, 0, "%s", strerror(errno));
    char **names = NULL;
    int n = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || e->d_name[0] == '.' || strcmp(e->d_name + len - 3, ".md") != 0)
            continue;
        char **p = grow(names, n, sizeof *names);
        if (!p) {
            rc = fail(err, errlen, dir, 0, "out of memory");
            break;
        }
        names = p;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (rc == 0 && n == 0)
        rc = fail(err, errlen, dir, 0, "no lesson files (*.md) in this directory");
    if (rc == 0)
        qsort(names, (size_t)n, sizeof *names, cmp_str);

    for (int i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *text = slurp(path, err, errlen);
        if (!text) {
            rc = -EINVAL;
            break;
        }
        char **p = grow(lib->texts, lib->ntexts, sizeof *lib->texts);
        if (!p) {
            free(text);
            rc = fail(err, errlen, path, 0, "out of memory");
            break;
        }
        lib->texts = p;
        lib->texts[lib->ntexts++] = text;
        rc = ct_library_parse(lib, path, text, err, errlen);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc) {
        ct_library_free(lib);
        return rc;
    }
    ct_library_finish(lib);
    return 0;
}
