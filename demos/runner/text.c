/* text.c - see text.h. */
#include "text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_LEN 64

int ct_edit_distance(const char *a, const char *b, int limit)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAX_LEN || m > MAX_LEN)
        return limit + 1;
    if ((int)(n > m ? n - m : m - n) > limit)
        return limit + 1;

    /* three rows of the DP matrix: two back (for swaps), previous, current */
    int rows[3][MAX_LEN + 1];
    int *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        int row_min = cur[0];
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < row_min)
                row_min = v;
        }
        if (row_min > limit)
            return limit + 1;
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] > limit ? limit + 1 : prev[m];
}

void ct_suggest_init(struct ct_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->best_score = 1 << 30;
}

void ct_suggest_add(struct ct_suggest *s, const char *candidate)
{
    size_t len = strlen(s->word);
    if (len == 0 || !candidate)
        return;
    /* allow about one typo per three letters, at most three */
    int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    int score = ct_edit_distance(s->word, candidate, limit);
    if (score > limit) {
        /* a prefix of a longer name ("rw" for "rwlock") also counts, just
         * behind any real near miss */
        if (len < 2 || strncmp(candidate, s->word, len) != 0)
            return;
        score = limit + 1;
    }
    if (score < s->best_score) {
        s->best = candidate;
        s->best_score = score;
    }
}

const char *ct_suggest_result(const struct ct_suggest *s)
{
    return s->best;
}

int ct_text_width(const char *s, size_t len)
{
    int w = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b && i + 1 < len && s[i + 1] == '[') {
            /* CSI: ESC [ parameters final-byte */
            for (i += 2; i < len && !(s[i] >= 0x40 && s[i] <= 0x7e); i++)
                ;
            continue;
        }
        if ((c & 0xc0) != 0x80)     /* not a UTF-8 continuation byte */
            w++;
    }
    return w;
}

/* Word-wrap `text` from column `col` (where the cursor is now; 0 means at
 * the start of a line, nothing written) into lines whose words start at
 * `indent`. */
static void wrap_from(FILE *out, const char *text, int width, int indent, int col)
{
    bool started = col > 0;     /* this line has its indent already */
    if (started) {
        fprintf(out, "%*s", indent > col ? indent - col : 1, "");
        col = indent > col ? indent : col + 1;
    }
    bool word_on_line = false;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fputc('\n', out);
            col = 0;
            started = word_on_line = false;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        size_t len = strcspn(p, " \t\n");
        int w = ct_text_width(p, len);
        if (word_on_line && col + 1 + w > width) {
            fputc('\n', out);
            col = 0;
            started = word_on_line = false;
        }
        if (!started) {
            fprintf(out, "%*s", indent, "");
            col = indent;
            started = true;
        } else if (word_on_line) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, len, out);
        col += w;
        word_on_line = true;
        p += len;
    }
    if (col > 0)
        fputc('\n', out);
}

/* Columns of the widest blank-separated word of `text`. */
static int longest_word(const char *text)
{
    int best = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        int w = ct_text_width(p, len);
        best = w > best ? w : best;
        p += len;
    }
    return best;
}

void ct_wrap(FILE *out, const char *text, int width, int indent)
{
    wrap_from(out, text, width, indent, 0);
}

void ct_wrap_item(FILE *out, const char *head, int indent, int col, const char *text,
                  int width)
{
    int at = indent + ct_text_width(head, strlen(head));
    if (col + longest_word(text) > width && col > indent + 4) {
        /* a word of the text would not fit in its column: the text goes
         * under the head instead, less indented */
        col = indent + 4;
        if (at <= width) {
            fprintf(out, "%*s%s\n", indent, "", head);
            wrap_from(out, text, width, col, 0);
            return;
        }
    }
    if (at > width) {
        /* the head alone is too wide: it wraps too, and the text follows */
        ct_wrap(out, head, width, indent);
        wrap_from(out, text, width, col, 0);
        return;
    }
    fprintf(out, "%*s%s", indent, "", head);
    if (at >= col) {
        /* a head too wide for its column: the text goes on the next line */
        fputc('\n', out);
        at = 0;
    }
    wrap_from(out, text, width, col, at);
}

/* One line of `len` bytes: as it is if it fits, else wrapped with a
 * hanging indent. */
static void wrap_line_hanging(FILE *out, const char *s, size_t len, int width, int hang)
{
    if (ct_text_width(s, len) <= width) {
        fwrite(s, 1, len, out);
        fputc('\n', out);
        return;
    }
    int col = 0;
    bool word_on_line = false;
    for (size_t i = 0; i < len;) {
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        size_t n = 0;
        while (i + n < len && s[i + n] != ' ' && s[i + n] != '\t')
            n++;
        int w = ct_text_width(s + i, n);
        if (word_on_line && col + 1 + w > width) {
            fprintf(out, "\n%*s", hang, "");
            col = hang;
        } else if (word_on_line) {
            fputc(' ', out);
            col++;
        }
        fwrite(s + i, 1, n, out);
        col += w;
        word_on_line = true;
        i += n;
    }
    fputc('\n', out);
}

void ct_wrap_hanging(FILE *out, const char *text, int width, int hang)
{
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        wrap_line_hanging(out, p, len, width, hang);
        p += len;
        if (*p == '\n')
            p++;
    }
}

int ct_error_width(void)
{
    struct winsize ws;
    if (isatty(STDERR_FILENO) && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col < 40 ? 40 : ws.ws_col;
    return 80;
}

void ct_verror(const char *fmt, va_list ap)
{
    char small[1024];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    char *msg = small;
    if (n >= (int)sizeof small && (msg = malloc((size_t)n + 1)) != NULL)
        vsnprintf(msg, (size_t)n + 1, fmt, again);
    va_end(again);
    if (n < 0 || !msg)
        msg = small;    /* cut short rather than lost */
    ct_wrap_hanging(stderr, msg, ct_error_width(), CT_ERROR_HANG);
    fflush(stderr);
    if (msg != small)
        free(msg);
}

void ct_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ct_verror(fmt, ap);
    va_end(ap);
}

void ct_group_digits(long long v, char *buf, size_t n)
{
    char raw[32];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int len = snprintf(raw, sizeof raw, "%llu", u);
    size_t o = 0;
    if (v < 0 && o + 1 < n)
        buf[o++] = '-';
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < n)
            buf[o++] = ',';
        if (o + 1 < n)
            buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

const char *ct_quote(const char *s, char *buf, size_t n)
{
    enum { MAX_SHOWN = 60 };
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, shown = 0;
    if (n < 8) {
        if (n)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '\'';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        size_t len = 0;
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == '\033') {
            esc[len++] = '\\';
            esc[len++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : *p == '\r' ? 'r' : 'e';
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[len++] = '\\';
            esc[len++] = 'x';
            esc[len++] = hex[*p >> 4];
            esc[len++] = hex[*p & 15];
        } else {
            esc[len++] = (char)*p;
        }
        /* room for this, the ellipsis, the closing quote and the NUL */
        if (shown == MAX_SHOWN || o + len + 5 > n) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, esc, len);
        o += len;
        if ((*p & 0xc0) != 0x80)
            shown++;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}
