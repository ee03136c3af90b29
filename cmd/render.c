/* render.c - see render.h.
 *
 * Text is turned into "words": runs of visible characters with their ANSI
 * styles baked in and reset at the end, so that a line break between two
 * words never leaves a style open across the indentation.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"

#define SGR_BOLD "\033[1m"
#define SGR_EM   "\033[3m"
#define SGR_CODE "\033[36m"
#define SGR_DIM  "\033[2m"
#define SGR_OFF  "\033[0m"

struct word {
    char *s;            /* bytes, styles included */
    size_t len;
    int width;          /* visible columns */
};

struct words {
    struct word *w;
    size_t n, cap;
};

struct buf {
    char *s;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void words_free(struct words *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        free(ws->w[i].s);
    free(ws->w);
    memset(ws, 0, sizeof *ws);
}

static void words_push(struct words *ws, struct buf *b, int width)
{
    if (b->len == 0)
        return;
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 32;
        struct word *p = realloc(ws->w, cap * sizeof *p);
        if (!p) {
            free(b->s);
            *b = (struct buf){ 0 };
            return;
        }
        ws->w = p;
        ws->cap = cap;
    }
    ws->w[ws->n++] = (struct word){ b->s, b->len, width };
    *b = (struct buf){ 0 };
}

/* Style state while scanning inline text. */
struct inline_state {
    bool bold, em, code;
    bool open;          /* the current word has emitted a style */
};

static void style_open(struct buf *b, const struct inline_state *st, bool color)
{
    if (!color)
        return;
    if (st->bold)
        buf_add(b, SGR_BOLD, strlen(SGR_BOLD));
    if (st->em)
        buf_add(b, SGR_EM, strlen(SGR_EM));
    if (st->code)
        buf_add(b, SGR_CODE, strlen(SGR_CODE));
}

/* Split inline text into styled words, appending to `ws`. */
static void inline_words(const char *s, size_t len, bool color, struct words *ws)
{
    struct inline_state st = { 0 };
    struct buf b = { 0 };
    int width = 0;
    bool styled = false;    /* b carries style codes that need a reset */

#define END_WORD()                                                      \
    do {                                                                \
        if (styled && color)                                            \
            buf_add(&b, SGR_OFF, strlen(SGR_OFF));                      \
        words_push(ws, &b, width);                                      \
        width = 0;                                                      \
        styled = false;                                                 \
    } while (0)
    /* restyle the word from here on after a style change */
#define RESTYLE()                                                       \
    do {                                                                \
        if (color) {                                                    \
            if (styled)                                                 \
                buf_add(&b, SGR_OFF, strlen(SGR_OFF));                  \
            style_open(&b, &st, color);                                 \
            styled = st.bold || st.em || st.code;                       \
        }                                                               \
    } while (0)

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        char next = i + 1 < len ? s[i + 1] : '\0';
        char prev = i > 0 ? s[i - 1] : ' ';
        if (st.code) {
            if (c == '`') {
                if (!color)
                    buf_add(&b, "`", 1), width++;
                st.code = false;
                RESTYLE();
            } else if (c == ' ' || c == '\n' || c == '\t') {
                END_WORD();
                RESTYLE();
            } else {
                buf_add(&b, &c, 1);
                width += ((unsigned char)c & 0xc0) != 0x80;
            }
            continue;
        }
        if (c == '\\' && (next == '*' || next == '`' || next == '\\')) {
            buf_add(&b, &next, 1);
            width++;
            i++;
            continue;
        }
        if (c == '`' && memchr(s + i + 1, '`', len - i - 1)) {
            st.code = true;
            if (!color)
                buf_add(&b, "`", 1), width++;
            RESTYLE();
            continue;
        }
        if (c == '*' && next == '*') {
            const char *rest = s + i + 2;
            size_t rest_len = len - i - 2;
            bool opens = !st.bold && rest_len > 0 && *rest != ' ' &&
                         memmem(rest, rest_len, "**", 2);
            bool closes = st.bold && prev != ' ';
            if (opens || closes) {
                st.bold = !st.bold;
                RESTYLE();
                i++;
                continue;
            }
        } else if (c == '*') {
            bool opens = !st.em && next && next != ' ' && memchr(s + i + 1, '*', len - i - 1);
            bool closes = st.em && prev != ' ';
            if (opens || closes) {
                st.em = !st.em;
                RESTYLE();
                continue;
            }
        }
        if (c == ' ' || c == '\n' || c == '\t') {
            END_WORD();
            RESTYLE();
            continue;
        }
        buf_add(&b, &c, 1);
        width += ((unsigned char)c & 0xc0) != 0x80;
    }
    END_WORD();
    free(b.s);
#undef END_WORD
#undef RESTYLE
}

/* A word holding only style codes (a style change at a space) is empty. */
static bool word_visible(const struct word *w)
{
    return w->width > 0;
}

/* Write words wrapped to `width`; the first line starts with `first`, the
 * rest with `cont` (both already include their indentation). */
static void emit_wrapped(FILE *out, const struct words *ws, int width,
                         const char *first, const char *cont)
{
    int col = 0;
    bool line_has_word = false;
    const char *prefix = first;
    for (size_t i = 0; i < ws->n; i++) {
        const struct word *w = &ws->w[i];
        if (!word_visible(w))
            continue;
        if (line_has_word && col + 1 + w->width > width) {
            fputc('\n', out);
            line_has_word = false;
            prefix = cont;
        }
        if (!line_has_word) {
            col = ct_text_width(prefix, strlen(prefix));
            int cont_w = ct_text_width(cont, strlen(cont));
            if (prefix == first && col + w->width > width && cont_w < col) {
                /* the first word fits only under a narrower prefix: the
                 * first prefix (a label) gets its own line */
                size_t n = strlen(first);
                while (n > 0 && first[n - 1] == ' ')
                    n--;
                fprintf(out, "%.*s\n", (int)n, first);
                prefix = cont;
                col = cont_w;
            }
            fputs(prefix, out);
        } else {
            fputc(' ', out);
            col++;
        }
        fwrite(w->s, 1, w->len, out);
        col += w->width;
        line_has_word = true;
    }
    if (line_has_word)
        fputc('\n', out);
}

/* Lines of the input. */
struct line {
    const char *s;
    size_t len;
};

static size_t split_lines(const char *text, size_t len, struct line **out)
{
    size_t n = 0, cap = 64;
    struct line *ls = malloc(cap * sizeof *ls);
    const char *p = text, *end = text + len;
    while (ls && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n == cap) {
            struct line *q = realloc(ls, cap * 2 * sizeof *q);
            if (!q)
                break;
            ls = q;
            cap *= 2;
        }
        ls[n].s = p;
        ls[n].len = l && p[l - 1] == '\r' ? l - 1 : l;
        n++;
        p = nl ? nl + 1 : end;
    }
    *out = ls;
    return ls ? n : 0;
}

static bool blank(const struct line *l)
{
    for (size_t i = 0; i < l->len; i++) {
        if (l->s[i] != ' ' && l->s[i] != '\t')
            return false;
    }
    return true;
}

static bool starts(const struct line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

/* Length of a list marker ("- ", "* ", "12. ") at the start of l, or 0. */
static size_t list_marker(const struct line *l)
{
    if (l->len >= 2 && (l->s[0] == '-' || l->s[0] == '*') && l->s[1] == ' ')
        return 2;
    size_t i = 0;
    while (i < l->len && i < 3 && l->s[i] >= '0' && l->s[i] <= '9')
        i++;
    if (i > 0 && i + 1 < l->len && l->s[i] == '.' && l->s[i + 1] == ' ')
        return i + 2;
    return 0;
}

static bool block_start(const struct line *l)
{
    return starts(l, "```") || starts(l, "#") || starts(l, "|") || starts(l, "> ") ||
           starts(l, "<!--") ||
           list_marker(l) > 0;
}

/* ---- tables ----------------------------------------------------------- */

#define MAX_COLS 8

/* Split "| a | b |" into trimmed cells. */
static int table_cells(const struct line *l, struct line *cells)
{
    const char *p = l->s, *end = l->s + l->len;
    int n = 0;
    if (p < end && *p == '|')
        p++;
    while (p < end && n < MAX_COLS) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        const char *cend = bar ? bar : end;
        const char *a = p, *b = cend;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (bar || a < b)
            cells[n++] = (struct line){ a, (size_t)(b - a) };
        if (!bar)
            break;
        p = bar + 1;
    }
    return n;
}

static bool separator_row(const struct line *l)
{
    bool dash = false;
    for (size_t i = 0; i < l->len; i++) {
        char c = l->s[i];
        if (c == '-')
            dash = true;
        else if (c != '|' && c != ':' && c != ' ')
            return false;
    }
    return dash;
}

/* Wrap one cell's words into lines no wider than w; returns the lines as
 * word index ranges [starts[k], starts[k+1]). */
static int cell_lines(const struct words *ws, int w, size_t *starts, int max)
{
    int n = 0, col = 0;
    starts[n++] = 0;
    for (size_t i = 0; i < ws->n; i++) {
        if (!word_visible(&ws->w[i]))
            continue;
        if (col > 0 && col + 1 + ws->w[i].width > w && n < max) {
            starts[n++] = i;
            col = 0;
        }
        col += (col > 0) + ws->w[i].width;
    }
    starts[n] = ws->n;
    return n;
}

/* A table too wide for the terminal, one row at a time:
 *     Tool: ThreadSanitizer
 *       What it does: finds data races at run time ...
 * each cell under its column's heading (or a dash when there is none). */
static void render_stacked(FILE *out, struct words (*cells)[MAX_COLS], int nr, int ncols,
                           bool header, const struct ct_render_opts *o)
{
    for (int r = header ? 1 : 0; r < nr; r++) {
        if (r > (header ? 1 : 0))
            fputc('\n', out);
        for (int k = 0; k < ncols; k++) {
            char first[160], cont[16];
            size_t off = (size_t)snprintf(first, sizeof first, "%*s", k ? 4 : 2, "");
            if (header) {
                for (size_t i = 0; i < cells[0][k].n && off + 4 < sizeof first; i++) {
                    const struct word *wd = &cells[0][k].w[i];
                    if (!word_visible(wd) || wd->len + off + 4 >= sizeof first)
                        continue;
                    if (off > (size_t)(k ? 4 : 2))
                        first[off++] = ' ';
                    memcpy(first + off, wd->s, wd->len);
                    off += wd->len;
                }
                snprintf(first + off, sizeof first - off, ": ");
            } else {
                snprintf(first + off, sizeof first - off, "%s", k ? "" : "- ");
            }
            snprintf(cont, sizeof cont, "%*s", k ? 6 : 4, "");
            if (ct_text_width(first, strlen(first)) + 8 > o->width) {
                /* a heading too long for one line: wrapped on lines of its own */
                ct_wrap(out, first, o->width, k ? 4 : 2);
                emit_wrapped(out, &cells[r][k], o->width, cont, cont);
                continue;
            }
            emit_wrapped(out, &cells[r][k], o->width, first, cont);
        }
    }
}

/* Column widths for a side-by-side table: each column's natural width,
 * narrowed (widest first, never below its longest word) to fit.  Returns
 * the total width of the columns, which exceeds `avail` when even the
 * longest words do not fit side by side. */
static int table_widths(struct words (*cells)[MAX_COLS], int nr, int ncols, int avail,
                        int *w)
{
    int want[MAX_COLS] = { 0 }, least[MAX_COLS] = { 0 }, sum = 0;
    for (int r = 0; r < nr; r++) {
        for (int k = 0; k < ncols; k++) {
            int total = 0;
            for (size_t i = 0; i < cells[r][k].n; i++) {
                int ww = cells[r][k].w[i].width;
                if (!ww)
                    continue;
                total += (total > 0) + ww;
                if (ww > least[k])
                    least[k] = ww;
            }
            if (total > want[k])
                want[k] = total;
        }
    }
    for (int k = 0; k < ncols; k++)
        sum += (w[k] = want[k]);
    while (sum > avail) {
        int widest = -1;
        for (int k = 0; k < ncols; k++) {
            if (w[k] > least[k] && (widest < 0 || w[k] > w[widest]))
                widest = k;
        }
        if (widest < 0)
            break;
        w[widest]--;
        sum--;
    }
    return sum;
}

/* One row of a side-by-side table, its cells wrapped in their columns. */
static void table_row(FILE *out, struct words *row, int ncols, const int *w, bool bold,
                      const struct ct_render_opts *o)
{
    enum { GAP = 2, INDENT = 2, MAX_LINES = 64 };
    size_t starts[MAX_COLS][MAX_LINES + 1];
    int lines[MAX_COLS], height = 1;
    for (int k = 0; k < ncols; k++) {
        lines[k] = cell_lines(&row[k], w[k], starts[k], MAX_LINES);
        if (lines[k] > height)
            height = lines[k];
    }
    for (int ln = 0; ln < height; ln++) {
        fprintf(out, "%*s", INDENT, "");
        for (int k = 0; k < ncols; k++) {
            int col = 0;
            if (bold)
                fputs(SGR_BOLD, out);
            for (size_t i = ln < lines[k] ? starts[k][ln] : 0;
                 ln < lines[k] && i < starts[k][ln + 1]; i++) {
                const struct word *wd = &row[k].w[i];
                if (!word_visible(wd))
                    continue;
                if (col > 0) {
                    fputc(' ', out);
                    col++;
                }
                fwrite(wd->s, 1, wd->len, out);
                col += wd->width;
            }
            if (bold)
                fputs(SGR_OFF, out);
            /* pad only if a later column has text on this line */
            bool more = false;
            for (int j = k + 1; j < ncols; j++)
                more |= ln < lines[j] && starts[j][ln] < starts[j][ln + 1];
            if (more)
                fprintf(out, "%*s", w[k] - col + GAP, "");
        }
        fputc('\n', out);
    }
    (void)o;
}

/* Cells of "| a | b |" beyond what fits in MAX_COLS. */
static int cells_cut(const struct line *l)
{
    int bars = 0;
    for (size_t i = 0; i < l->len; i++)
        bars += l->s[i] == '|';
    int cells = bars - (l->len && l->s[0] == '|') - (l->len && l->s[l->len - 1] == '|') + 1;
    return cells > MAX_COLS ? cells - MAX_COLS : 0;
}

static void render_table(FILE *out, const struct line *rows, size_t nrows,
                         const struct ct_render_opts *o)
{
    enum { GAP = 2, INDENT = 2 };
    struct words (*cells)[MAX_COLS] = calloc(nrows ? nrows : 1, sizeof *cells);
    if (!cells)
        return;
    int ncols = 0, nr = 0, cut = 0;
    bool header = nrows >= 2 && separator_row(&rows[1]);
    for (size_t r = 0; r < nrows; r++) {
        if (header && r == 1)
            continue;
        struct line c[MAX_COLS];
        int n = table_cells(&rows[r], c);
        ncols = n > ncols ? n : ncols;
        int k = cells_cut(&rows[r]);
        cut = k > cut ? k : cut;
        for (int i = 0; i < n; i++)
            inline_words(c[i].s, c[i].len, o->color && !(header && r == 0), &cells[nr][i]);
        nr++;
    }
    int w[MAX_COLS];
    int avail = o->width - INDENT - GAP * (ncols - 1);
    if (table_widths(cells, nr, ncols, avail, w) > avail) {
        /* even the longest words do not fit side by side */
        render_stacked(out, cells, nr, ncols, header, o);
    } else {
        for (int r = 0; r < nr; r++) {
            table_row(out, cells[r], ncols, w, header && r == 0 && o->color, o);
            if (header && r == 0) {
                fprintf(out, "%*s", INDENT, "");
                for (int k = 0; k < ncols; k++) {
                    for (int i = 0; i < w[k]; i++)
                        fputs(o->utf8 ? "\xe2\x94\x80" : "-", out);     /* U+2500 */
                    if (k + 1 < ncols)
                        fprintf(out, "%*s", GAP, "");
                }
                fputc('\n', out);
            }
        }
    }
    if (cut)
        fprintf(out, "%*s(%d more column%s not shown: a table has at most %d)\n", INDENT, "",
                cut, cut == 1 ? "" : "s", MAX_COLS);
    for (int r = 0; r < nr; r++) {
        for (int k = 0; k < ncols; k++)
            words_free(&cells[r][k]);
    }
    free(cells);
}

/* ---- blocks ----------------------------------------------------------- */

static void render_heading(FILE *out, const struct line *l,
                           const struct ct_render_opts *o)
{
    size_t level = 0;
    while (level < l->len && l->s[level] == '#')
        level++;
    const char *t = l->s + level;
    size_t n = l->len - level;
    while (n && *t == ' ') {
        t++;
        n--;
    }
    char *text = strndup(t, n);
    if (!text)
        return;
    int w = ct_text_width(t, n);
    if (o->color)
        fputs(level == 1 ? "\033[1;4m" : SGR_BOLD, out);
    ct_wrap(out, text, o->width, 0);    /* a long heading wraps like text */
    if (o->color) {
        fputs(SGR_OFF, out);
    } else if (level <= 2) {
        for (int i = 0; i < (w < o->width ? w : o->width); i++)
            fputc(level == 1 ? '=' : '-', out);
        fputc('\n', out);
    }
    free(text);
}

/* One line of a code block, indented.  A line too long for the width is
 * broken (after a blank where there is one) with a backslash at the end
 * of each piece: a backslash-newline is a line continuation in C and in
 * the shell, so what a student copies still means the same. */
static void render_code_line(FILE *out, const char *s, size_t len,
                             const struct ct_render_opts *o)
{
    enum { INDENT = 4 };
    int room = o->width - INDENT - 1;           /* keep a column for the '\\' */
    if (room < 10)
        room = 10;
    for (bool more = true; more;) {
        /* the longest prefix of at most `room` columns */
        size_t cut = 0, last_blank = 0;
        int cols = 0;
        while (cut < len) {
            size_t next = cut + 1;
            while (next < len && ((unsigned char)s[next] & 0xc0) == 0x80)
                next++;
            if (cols + 1 > room && cut > 0)
                break;
            if (s[cut] == ' ')
                last_blank = next;
            cols++;
            cut = next;
        }
        more = cut < len;
        if (more && last_blank > cut / 2)
            cut = last_blank;
        fprintf(out, o->color ? "%*s" SGR_CODE "%.*s" SGR_OFF "%s\n" : "%*s%.*s%s\n", INDENT, "",
                (int)cut, s, more ? "\\" : "");
        s += cut;
        len -= cut;
    }
}

/* A copy of `text` in which control characters (tabs and newlines apart)
 * are shown in caret notation ("^["): a lesson file cannot send escape
 * sequences to the terminal. */
static char *visible_copy(const char *text, size_t len, size_t *out_len)
{
    char *v = malloc(2 * len + 1);
    size_t o = 0;
    for (size_t i = 0; v && i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            v[o++] = '^';
            v[o++] = (char)(c ^ 0x40);
        } else {
            v[o++] = (char)c;
        }
    }
    if (v)
        v[o] = '\0';
    *out_len = o;
    return v;
}

void ct_render(FILE *out, const char *raw, size_t raw_len,
               const struct ct_render_opts *o)
{
    size_t len;
    char *text = visible_copy(raw, raw_len, &len);
    if (!text)
        return;
    struct line *ls;
    size_t n = split_lines(text, len, &ls);
    bool need_gap = false;      /* a blank line before the next block */

    for (size_t i = 0; i < n;) {
        if (blank(&ls[i]) || starts(&ls[i], "<!--")) {
            /* an HTML comment line is a note for whoever edits the file */
            i++;
            continue;
        }
        if (need_gap)
            fputc('\n', out);
        need_gap = true;

        if (starts(&ls[i], "```")) {
            size_t j = i + 1;
            for (; j < n && !starts(&ls[j], "```"); j++)
                render_code_line(out, ls[j].s, ls[j].len, o);
            i = j < n ? j + 1 : j;
            continue;
        }
        if (starts(&ls[i], "#")) {
            render_heading(out, &ls[i], o);
            i++;
            continue;
        }
        if (starts(&ls[i], "|")) {
            size_t j = i;
            while (j < n && starts(&ls[j], "|"))
                j++;
            render_table(out, &ls[i], j - i, o);
            i = j;
            continue;
        }
        if (starts(&ls[i], "> ")) {
            /* a quote: consecutive "> " lines are one paragraph */
            struct words ws = { 0 };
            size_t j = i;
            for (; j < n && starts(&ls[j], ">"); j++) {
                size_t skip = ls[j].len > 1 ? 2 : 1;
                inline_words(ls[j].s + skip, ls[j].len - skip, o->color, &ws);
            }
            const char *bar = o->utf8 ? "  \xe2\x94\x82 " : "  | ";    /* U+2502 */
            emit_wrapped(out, &ws, o->width, bar, bar);
            words_free(&ws);
            i = j;
            continue;
        }
        size_t marker = list_marker(&ls[i]);
        if (marker) {
            /* a list: items run to the next marker or blank line; lines
             * indented under an item continue it */
            size_t j = i;
            while (j < n && !blank(&ls[j]) && list_marker(&ls[j])) {
                size_t item = j, m = list_marker(&ls[j]);
                struct words ws = { 0 };
                inline_words(ls[j].s + m, ls[j].len - m, o->color, &ws);
                for (j++; j < n && !blank(&ls[j]) && !list_marker(&ls[j]) &&
                          (ls[j].s[0] == ' ' || !block_start(&ls[j]));
                     j++)
                    inline_words(ls[j].s, ls[j].len, o->color, &ws);
                char first[32], cont[32];
                if (m == 2) {
                    snprintf(first, sizeof first, "  %s ", o->utf8 ? "\xe2\x80\xa2" : "-");
                    snprintf(cont, sizeof cont, "    ");
                } else {
                    snprintf(first, sizeof first, "  %.*s ", (int)(m - 1), ls[item].s);
                    snprintf(cont, sizeof cont, "%*s", (int)m + 2, "");
                }
                emit_wrapped(out, &ws, o->width, first, cont);
                words_free(&ws);
            }
            i = j;
            continue;
        }
        /* a paragraph: lines up to a blank line or the start of a block */
        struct words ws = { 0 };
        size_t j = i;
        for (; j < n && !blank(&ls[j]) && (j == i || !block_start(&ls[j])); j++)
            inline_words(ls[j].s, ls[j].len, o->color, &ws);
        emit_wrapped(out, &ws, o->width, "  ", "  ");
        words_free(&ws);
        i = j;
    }
    free(ls);
    free(text);
}
