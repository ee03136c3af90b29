/* source.c - `source DEMO|MODULE [FUNCTION]`: the C the demos are made
 * of, embedded at build time (ct_embedded_sources), shown with line
 * numbers and colours and paged like `show`.
 *
 * Which files a name means, and which definition a FUNCTION picks, is
 * spelled out in the command's help (commands.c); resolve() and
 * pick_definition() below are those rules.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "embedded.h"
#include "exit.h"
#include "registry.h"
#include "term.h"
#include "text.h"

#define MAX_FILES 16
#define MAX_DEFS 4096

/* ---- files ------------------------------------------------------------ */

static const struct ct_embedded_file *find_file(const char *path)
{
    for (size_t i = 0; i < ct_embedded_sources_count; i++) {
        if (strcmp(ct_embedded_sources[i].name, path) == 0)
            return &ct_embedded_sources[i];
    }
    return NULL;
}

struct unit {
    char name[64];          /* as asked, without a "lib/" prefix */
    const struct ct_embedded_file *files[MAX_FILES];
    int nfiles;
};

static void unit_add(struct unit *u, const struct ct_embedded_file *f)
{
    for (int i = 0; i < u->nfiles; i++) {
        if (u->files[i] == f)
            return;
    }
    if (f && u->nfiles < MAX_FILES)
        u->files[u->nfiles++] = f;
}

/* A module in `dir`: NAME.h, NAME.c, then NAME-*.c and NAME-*.h (chan's
 * flavours). */
static void add_module(struct unit *u, const char *dir, const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s.h", dir, name);
    unit_add(u, find_file(path));
    snprintf(path, sizeof path, "%s/%s.c", dir, name);
    unit_add(u, find_file(path));
    size_t plen = (size_t)snprintf(path, sizeof path, "%s/%s-", dir, name);
    for (size_t i = 0; i < ct_embedded_sources_count; i++) {
        const char *n = ct_embedded_sources[i].name;
        if (strncmp(n, path, plen) == 0 && !strchr(n + plen, '/'))
            unit_add(u, &ct_embedded_sources[i]);
    }
}

/* The files `arg` names (see the command's help); false if none. */
static bool resolve(const char *arg, struct unit *u)
{
    memset(u, 0, sizeof *u);
    const char *name = arg;
    const char *dir = NULL;
    if (strncmp(arg, "lib/", 4) == 0)
        dir = "demos/lib", name = arg + 4;
    else if (strncmp(arg, "runner/", 7) == 0)
        dir = "demos/runner", name = arg + 7;
    size_t len = strlen(name);
    if (len >= sizeof u->name)     /* longer than any file we embed */
        return false;
    snprintf(u->name, sizeof u->name, "%s", name);
    if (len > 2 && name[len - 2] == '.' && (name[len - 1] == 'c' || name[len - 1] == 'h')) {
        /* a file name: "chan-zero.c", "lib/rwlock.h" */
        for (size_t i = 0; i < ct_embedded_sources_count; i++) {
            const char *n = ct_embedded_sources[i].name, *base = strrchr(n, '/');
            if (strcmp(base ? base + 1 : n, name) == 0 &&
                (!dir || strncmp(n, dir, strlen(dir)) == 0))
                unit_add(u, &ct_embedded_sources[i]);
        }
        u->name[len - 2] = '\0';
        return u->nfiles > 0;
    }
    char path[160];
    if (!dir) {
        snprintf(path, sizeof path, "demos/%s.c", name);
        unit_add(u, find_file(path));
        if (u->nfiles)
            return true;
    }
    if (!dir || strcmp(dir, "demos/lib") == 0)
        add_module(u, "demos/lib", name);
    if (u->nfiles == 0 && (!dir || strcmp(dir, "demos/runner") == 0))
        add_module(u, "demos/runner", name);
    return u->nfiles > 0;
}

/* A demo's search goes on into what it includes: "chan.h" brings in the
 * chan module, "demo.h" the runner's. */
static void add_includes(struct unit *u)
{
    int n = u->nfiles;
    for (int i = 0; i < n; i++) {
        const char *p = u->files[i]->text;
        while ((p = strstr(p, "#include \""))) {
            p += 10;
            const char *q = strchr(p, '"');
            if (!q || q - p < 3 || q - p > 60 || strncmp(q - 2, ".h", 2) != 0)
                continue;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(q - p - 2), p);
            add_module(u, "demos/lib", name);
            add_module(u, "demos/runner", name);
        }
    }
}

/* ---- definitions ------------------------------------------------------- */

struct def {
    char name[64];
    const struct ct_embedded_file *file;
    int from, to;           /* 1-based lines, the comment above included */
    bool body;              /* a definition with a body, not a declaration */
    bool function;          /* a function (else a struct, enum or object) */
};

struct defs {
    struct def *d;
    int n;
};

struct lines {
    const char **s;         /* start of each line */
    int *len;
    int n;
};

static void split(const char *text, struct lines *ls)
{
    int cap = 256;
    ls->s = malloc((size_t)cap * sizeof *ls->s);
    ls->len = malloc((size_t)cap * sizeof *ls->len);
    ls->n = 0;
    for (const char *p = text; ls->s && ls->len && *p;) {
        const char *nl = strchr(p, '\n');
        if (ls->n == cap) {
            cap *= 2;
            const char **s = realloc(ls->s, (size_t)cap * sizeof *s);
            int *len = realloc(ls->len, (size_t)cap * sizeof *len);
            if (s)
                ls->s = s;
            if (len)
                ls->len = len;
            if (!s || !len)
                break;
        }
        ls->s[ls->n] = p;
        ls->len[ls->n++] = nl ? (int)(nl - p) : (int)strlen(p);
        p = nl ? nl + 1 : p + strlen(p);
    }
}

static void lines_free(struct lines *ls)
{
    free(ls->s);
    free(ls->len);
}

/* The identifier just before the first '(' (a function) or before " = {"
 * or " {" (an object or a struct) on line l; false if there is none. */
static bool def_name(const char *l, int len, char *name, size_t n)
{
    const char *end = memchr(l, '(', (size_t)len);
    if (!end) {
        end = memchr(l, '{', (size_t)len);
        if (!end)
            return false;
        const char *eq = memchr(l, '=', (size_t)(end - l));
        if (eq)
            end = eq;
    }
    while (end > l && end[-1] == ' ')
        end--;
    const char *start = end;
    while (start > l && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
        start--;
    if (start == end || isdigit((unsigned char)*start))
        return false;
    snprintf(name, n, "%.*s", (int)(end - start), start);
    return true;
}

/* The first line of the comment block that ends just above line i (0-based),
 * or i. */
static int comment_above(const struct lines *ls, int i)
{
    int k = i;
    if (k > 0 && ls->len[k - 1] >= 2 && strncmp(ls->s[k - 1] + ls->len[k - 1] - 2, "*/", 2) == 0) {
        k--;
        while (k > 0 && !(ls->len[k] >= 2 && strncmp(ls->s[k], "/*", 2) == 0))
            k--;
    }
    return k;
}

static void add_def(struct defs *ds, const char *name, const struct ct_embedded_file *f, int from,
                    int to, bool body, bool function)
{
    if (ds->n == MAX_DEFS)
        return;
    struct def *d = &ds->d[ds->n++];
    snprintf(d->name, sizeof d->name, "%.63s", name);
    d->file = f;
    d->from = from;
    d->to = to;
    d->body = body;
    d->function = function;
}

/* The definitions of one file: top-level constructs that start at column
 * 0 with a name, whose body runs to a "}" at column 0, and, in headers,
 * declarations that end with ");". */
static void scan_file(const struct ct_embedded_file *f, struct defs *ds)
{
    struct lines ls;
    split(f->text, &ls);
    bool in_comment = false;
    for (int i = 0; i < ls.n; i++) {
        const char *l = ls.s[i];
        int len = ls.len[i];
        if (in_comment) {
            in_comment = !memmem(l, (size_t)len, "*/", 2);
            continue;
        }
        if (len >= 2 && l[0] == '/' && l[1] == '*') {
            in_comment = !memmem(l, (size_t)len, "*/", 2);
            continue;
        }
        char name[64];
        if (len == 0 || !(isalpha((unsigned char)l[0]) || l[0] == '_') ||
            strncmp(l, "typedef", 7) == 0 || !def_name(l, len, name, sizeof name))
            continue;
        /* where its body or its declaration ends */
        int j = i;
        bool body = false;
        for (; j < ls.n && j < i + 12; j++) {
            int lj = ls.len[j];
            if (lj > 0 && ls.s[j][lj - 1] == '{') {
                body = true;
                break;
            }
            if (lj > 0 && ls.s[j][lj - 1] == ';')
                break;
        }
        if (j == ls.n || j == i + 12)
            continue;
        if (body) {
            int k = j + 1;
            while (k < ls.n && !(ls.len[k] > 0 && ls.s[k][0] == '}'))
                k++;
            if (k == ls.n)
                continue;
            j = k;
        } else if (!memchr(l, '(', (size_t)len)) {
            continue;       /* a variable's declaration: not worth a name */
        }
        const char *paren = memchr(l, '(', (size_t)len), *eq = memchr(l, '=', (size_t)len);
        add_def(ds, name, f, comment_above(&ls, i) + 1, j + 1, body,
                paren && (!eq || paren < eq));
        i = j;
    }
    lines_free(&ls);
}

/* ---- picking one -------------------------------------------------------- */

/* The definitions named `want`: the ones with a body, and the header's
 * declaration with its contract, in file order.  Returns how many. */
static int named(const struct defs *ds, const char *want, const struct def **out, int max)
{
    int n = 0;
    for (int i = 0; i < ds->n && n < max; i++) {
        if (strcmp(ds->d[i].name, want) == 0)
            out[n++] = &ds->d[i];
    }
    return n;
}

/* The name FUNCTION means among `ds` (see the command's help), into
 * `chosen`: returns 1.  Else 0 when nothing matches, or the number of
 * names that contain it (listed in `also`) when they are several. */
static int pick_definition(const struct defs *ds, const char *unit, const char *fn,
                           char *chosen, size_t n, char *also, size_t alen)
{
    char cand[4][128];
    char u[64];
    snprintf(u, sizeof u, "%s", unit);
    for (char *p = u; *p; p++)
        *p = *p == '-' ? '_' : *p;
    snprintf(cand[0], sizeof cand[0], "%s", fn);
    snprintf(cand[1], sizeof cand[1], "ct_%s_%s", u, fn);
    snprintf(cand[2], sizeof cand[2], "%s_main", fn);
    snprintf(cand[3], sizeof cand[3], "ct_%s", fn);
    /* functions first: "worker" means worker_main before struct worker */
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < ds->n; i++) {
                if ((pass == 0 && !ds->d[i].function) || strcmp(ds->d[i].name, cand[k]) != 0)
                    continue;
                snprintf(chosen, n, "%.63s", cand[k]);
                return 1;
            }
        }
    }
    /* a unique name that contains it */
    int found = 0;
    size_t off = 0;
    also[0] = '\0';
    for (int i = 0; i < ds->n; i++) {
        if (!strstr(ds->d[i].name, fn))
            continue;
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(ds->d[k].name, ds->d[i].name) == 0 && strstr(ds->d[k].name, fn);
        if (seen)
            continue;
        if (found++ == 0)
            snprintf(chosen, n, "%s", ds->d[i].name);
        if (off < alen)
            off += (size_t)snprintf(also + off, alen - off, "%s%s", off ? ", " : "",
                                    ds->d[i].name);
    }
    return found;
}

/* ---- drawing ---------------------------------------------------------- */

enum style { ST_PLAIN, ST_COMMENT, ST_STRING, ST_PREPROC, ST_KEYWORD, ST_TYPE, ST_NUMBER };
static const char *const sgr[] = {
    [ST_PLAIN] = "",         [ST_COMMENT] = "\033[2;37m", [ST_STRING] = "\033[32m",
    [ST_PREPROC] = "\033[35m", [ST_KEYWORD] = "\033[1;34m", [ST_TYPE] = "\033[36m",
    [ST_NUMBER] = "\033[33m",
};

static bool in_list(const char *word, size_t len, const char *const *list)
{
    for (; *list; list++) {
        if (strlen(*list) == len && strncmp(*list, word, len) == 0)
            return true;
    }
    return false;
}

static enum style word_style(const char *w, size_t len)
{
    static const char *const keywords[] = {
        "if", "else", "for", "while", "do", "switch", "case", "default", "break", "continue",
        "return", "goto", "sizeof", "static", "const", "extern", "volatile", "inline",
        "typedef", "struct", "union", "enum", "_Thread_local", "_Atomic", "_Noreturn",
        "_Static_assert", "_Alignas", "_Alignof", "restrict", "register", "auto", NULL,
    };
    static const char *const types[] = {
        "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
        "bool", "size_t", "ssize_t", "true", "false", "NULL", NULL,
    };
    if (in_list(w, len, keywords))
        return ST_KEYWORD;
    if (in_list(w, len, types) || (len > 2 && strncmp(w + len - 2, "_t", 2) == 0))
        return ST_TYPE;
    return ST_PLAIN;
}

/* The style of every byte of one line; *in_comment carries a block comment
 * over to the next line. */
static void highlight(const char *l, int len, unsigned char *st, bool *in_comment)
{
    int i = 0;
    bool preproc = false;
    for (int k = 0; k < len && l[k] == ' '; k++)
        preproc = k + 1 < len && l[k + 1] == '#';
    preproc |= len > 0 && l[0] == '#';
    while (i < len) {
        if (*in_comment) {
            st[i] = ST_COMMENT;
            if (l[i] == '*' && i + 1 < len && l[i + 1] == '/') {
                st[++i] = ST_COMMENT;
                *in_comment = false;
            }
            i++;
        } else if (l[i] == '/' && i + 1 < len && (l[i + 1] == '*' || l[i + 1] == '/')) {
            bool line = l[i + 1] == '/';
            st[i++] = ST_COMMENT;
            st[i++] = ST_COMMENT;
            if (line) {
                while (i < len)
                    st[i++] = ST_COMMENT;
            } else {
                *in_comment = true;
            }
        } else if (l[i] == '"' || l[i] == '\'') {
            char q = l[i];
            st[i++] = ST_STRING;
            while (i < len && l[i] != q) {
                if (l[i] == '\\' && i + 1 < len)
                    st[i++] = ST_STRING;
                st[i++] = ST_STRING;
            }
            if (i < len)
                st[i++] = ST_STRING;
        } else if (isalpha((unsigned char)l[i]) || l[i] == '_') {
            int j = i;
            while (j < len && (isalnum((unsigned char)l[j]) || l[j] == '_'))
                j++;
            enum style s = preproc ? ST_PREPROC : word_style(l + i, (size_t)(j - i));
            while (i < j)
                st[i++] = (unsigned char)s;
        } else if (isdigit((unsigned char)l[i])) {
            while (i < len && (isalnum((unsigned char)l[i]) || l[i] == '.'))
                st[i++] = ST_NUMBER;
        } else {
            st[i++] = preproc ? ST_PREPROC : ST_PLAIN;
        }
    }
}

/* Lines [from, to] of `f`, numbered, wrapped to `width`. */
static void print_lines(FILE *out, const struct ct_embedded_file *f, int from, int to, int width,
                        bool color, bool utf8)
{
    struct lines ls;
    split(f->text, &ls);
    int digits = ls.n >= 1000 ? 4 : ls.n >= 100 ? 3 : 2;
    const char *bar = utf8 ? "\xe2\x94\x82" : "|", *cont = utf8 ? "\xe2\x94\x86" : ":";
    int room = width - digits - 3;
    if (room < 20)
        room = 20;
    bool in_comment = false;
    unsigned char *st = malloc(4096);
    for (int i = 0; st && i < ls.n && i < to; i++) {
        int len = ls.len[i] < 4096 ? ls.len[i] : 4096;
        highlight(ls.s[i], len, st, &in_comment);
        if (i + 1 < from)
            continue;
        enum style cur = ST_PLAIN;
        fprintf(out, color ? "\033[2m%*d %s\033[0m " : "%*d %s ", digits, i + 1, bar);
        for (int start = 0; start < len || start == 0;) {
            /* the piece that fits, broken after a blank where there is one */
            int end = start, cols = 0, last_blank = -1;
            while (end < len && cols < room) {
                if (ls.s[i][end] == ' ')
                    last_blank = end + 1;
                cols += ((unsigned char)ls.s[i][end] & 0xc0) != 0x80;
                end++;
            }
            while (end < len && ((unsigned char)ls.s[i][end] & 0xc0) == 0x80)
                end++;
            if (end < len && last_blank > start + room / 2)
                end = last_blank;
            if (start > 0) {
                /* a line too long for the width goes on under a dotted bar */
                fprintf(out, color ? "\033[0m\n\033[2m%*s %s\033[0m " : "\n%*s %s ", digits, "",
                        cont);
                cur = ST_PLAIN;
            }
            for (int k = start; k < end; k++) {
                if (color && st[k] != cur) {
                    fputs("\033[0m", out);
                    fputs(sgr[st[k]], out);
                    cur = st[k];
                }
                fputc(ls.s[i][k], out);
            }
            if (end == start)
                break;
            start = end;
        }
        fputs(color && cur != ST_PLAIN ? "\033[0m\n" : "\n", out);
    }
    free(st);
    lines_free(&ls);
}

static void file_heading(FILE *out, const char *text, int width, bool color)
{
    fputs(color ? "\033[1m" : "", out);
    ct_wrap(out, text, width, 0);
    fputs(color ? "\033[0m" : "", out);
}

/* The whole unit: each file, with the names it defines first. */
static void print_unit(FILE *out, const struct unit *u, const struct defs *ds, int width,
                       bool color, bool utf8)
{
    for (int i = 0; i < u->nfiles; i++) {
        const struct ct_embedded_file *f = u->files[i];
        char head[256], *names = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&names, &len);
        for (int k = 0; m && k < ds->n; k++) {
            if (ds->d[k].file == f && ds->d[k].body)
                fprintf(m, "%s%s", len || ftell(m) ? ", " : "", ds->d[k].name);
        }
        if (m)
            fclose(m);
        if (i)
            fputc('\n', out);
        snprintf(head, sizeof head, "%s", f->name);
        file_heading(out, head, width, color);
        if (names && *names) {
            char *line = malloc(strlen(names) + 16);
            if (line) {
                sprintf(line, "defines: %s", names);
                ct_wrap(out, line, width, 2);
                free(line);
            }
        }
        free(names);
        fputc('\n', out);
        print_lines(out, f, 1, 1 << 30, width, color, utf8);
    }
}

static void print_defs(FILE *out, const struct def **d, int n, int width, bool color, bool utf8)
{
    for (int i = 0; i < n; i++) {
        char head[256];
        snprintf(head, sizeof head, "%s, lines %d-%d: %s%s", d[i]->file->name, d[i]->from,
                 d[i]->to, d[i]->name, d[i]->body ? "" : " (declared)");
        if (i)
            fputc('\n', out);
        file_heading(out, head, width, color);
        print_lines(out, d[i]->file, d[i]->from, d[i]->to, width, color, utf8);
    }
}

static int unknown_unit(const char *arg)
{
    int rc = ct_retired_demo_error("source", arg);
    if (rc)
        return rc;
    struct ct_suggest s;
    char (*stems)[64] = calloc(ct_embedded_sources_count + 1, sizeof *stems);
    ct_suggest_init(&s, arg);
    for (size_t i = 0; stems && i < ct_embedded_sources_count; i++) {
        const char *n = ct_embedded_sources[i].name, *base = strrchr(n, '/');
        snprintf(stems[i], sizeof stems[i], "%s", base ? base + 1 : n);
        stems[i][strcspn(stems[i], ".")] = '\0';
        ct_suggest_add(&s, stems[i]);
    }
    if (ct_suggest_result(&s)) {
        rc = ct_usage_error("source: no demo or module %s (did you mean '%s'?)", CT_Q(arg),
                                ct_suggest_result(&s));
        free(stems);
        return rc;
    }
    free(stems);
    return ct_usage_error("source: no demo or module %s; try a demo id (race), a primitive "
                          "(chan) or a runner module (run)", CT_Q(arg));
}

/* Collect the definitions of u's files. */
static void scan_unit(const struct unit *u, struct defs *ds)
{
    for (int i = 0; i < u->nfiles; i++)
        scan_file(u->files[i], ds);
}

int ct_source_render(FILE *out, const char *what, const char *fn, int width, bool color,
                     bool utf8, char *err, size_t errlen)
{
    struct unit u;
    struct defs ds = { calloc(MAX_DEFS, sizeof(struct def)), 0 };
    int rc = CT_EXIT_OK;
    if (!ds.d)
        return CT_EXIT_FAILED;
    if (!resolve(what, &u)) {
        snprintf(err, errlen, "no demo or module %s", CT_Q(what));
        rc = CT_EXIT_USAGE;
    } else if (!fn) {
        scan_unit(&u, &ds);
        print_unit(out, &u, &ds, width, color, utf8);
    } else {
        bool demo = u.nfiles == 1 && strncmp(u.files[0]->name, "demos/", 6) == 0 &&
                    !strchr(u.files[0]->name + 6, '/');
        scan_unit(&u, &ds);
        char chosen[64] = "", also[1024];
        int found = pick_definition(&ds, u.name, fn, chosen, sizeof chosen, also, sizeof also);
        if (found == 0 && demo) {
            /* a demo's search goes on into what it includes */
            add_includes(&u);
            ds.n = 0;
            scan_unit(&u, &ds);
            found = pick_definition(&ds, u.name, fn, chosen, sizeof chosen, also, sizeof also);
        }
        if (found > 1) {
            snprintf(err, errlen, "%s in %s matches %d names: %s; say which", CT_Q(fn), what,
                     found, also);
            rc = CT_EXIT_USAGE;
        } else if (found == 0) {
            snprintf(err, errlen, "nothing called %s in %s ('source %s' lists what it defines)",
                     CT_Q(fn), what, what);
            rc = CT_EXIT_USAGE;
        } else {
            const struct def *d[8];
            int n = named(&ds, chosen, d, 8);
            print_defs(out, d, n, width, color, utf8);
        }
    }
    free(ds.d);
    return rc;
}

int ct_cmd_source(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx;
    char err[1200];
    struct unit u;
    if (!resolve(argv[1], &u))
        return unknown_unit(argv[1]);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return CT_EXIT_FAILED;
    int rc = ct_source_render(m, argv[1], argc > 2 ? argv[2] : NULL, ct_term_width(),
                              ct_use_color(opt), ct_use_color(opt) && MB_CUR_MAX > 1, err, sizeof err);
    fclose(m);
    if (rc == CT_EXIT_OK && ct_term_page(text, len) != 0)
        rc = CT_EXIT_FAILED;
    else if (rc != CT_EXIT_OK)
        ct_usage_error("source: %s", err);
    free(text);
    return rc;
}

void ct_source_words(const char *what, void (*offer)(void *arg, const char *word), void *arg)
{
    if (!what) {
        /* the modules besides the demos ("chan", "lib/rwlock", "run") */
        for (size_t i = 0; i < ct_embedded_sources_count; i++) {
            const char *name = ct_embedded_sources[i].name;
            const char *dir = strncmp(name, "demos/lib/", 10) == 0      ? "lib/"
                              : strncmp(name, "demos/runner/", 13) == 0 ? "runner/"
                                                                        : NULL;
            if (!dir)
                continue;
            char stem[64], word[80];
            snprintf(stem, sizeof stem, "%s", strrchr(name, '/') + 1);
            stem[strcspn(stem, ".")] = '\0';
            snprintf(word, sizeof word, "%s%s", ct_demo_find(stem) ? dir : "", stem);
            offer(arg, word);
        }
        return;
    }
    struct unit u;
    struct defs ds = { calloc(MAX_DEFS, sizeof(struct def)), 0 };
    if (ds.d && resolve(what, &u)) {
        scan_unit(&u, &ds);
        char prefix[80];
        snprintf(prefix, sizeof prefix, "ct_%s_", u.name);
        for (char *p = prefix; *p; p++)
            *p = *p == '-' ? '_' : *p;
        size_t plen = strlen(prefix);
        for (int i = 0; i < ds.n; i++) {
            const char *n = ds.d[i].name;
            size_t len = strlen(n);
            char word[64];
            /* the short forms the matching rules accept */
            if (strncmp(n, prefix, plen) == 0 && n[plen])
                offer(arg, n + plen);
            else if (len > 5 && strcmp(n + len - 5, "_main") == 0 &&
                     snprintf(word, sizeof word, "%.*s", (int)(len - 5), n) > 0)
                offer(arg, word);
            else
                offer(arg, n);
        }
    }
    free(ds.d);
}
