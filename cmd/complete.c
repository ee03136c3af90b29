/* complete.c - see complete.h. */
#include "complete.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"
#include "exercises.h"
#include "params.h"
#include "registry.h"
#include "words.h"

struct cands {
    const char *prefix;
    size_t plen;
    char (*out)[CT_COMPLETE_LEN];
    int max, n;
};

static void offer(struct cands *c, const char *s);

static void offer_cb(void *arg, const char *s)
{
    offer(arg, s);
}

static void offer(struct cands *c, const char *s)
{
    if (strncmp(s, c->prefix, c->plen) != 0 || strlen(s) >= CT_COMPLETE_LEN)
        return;
    for (int i = 0; i < c->n && i < c->max; i++) {
        if (strcmp(c->out[i], s) == 0)
            return;
    }
    if (c->n < c->max)
        strcpy(c->out[c->n], s);
    c->n++;
}

/* Completion of the words after `run DEMO`: parameter names not given
 * yet (as "name="), then the values of choice and boolean parameters. */
static void complete_params(const struct ct_demo *d, char **words, int nwords,
                            const char *cur, struct cands *c)
{
    char buf[CT_COMPLETE_LEN], w[64];
    const char *eq = strchr(cur, '=');
    if (eq) {
        size_t klen = (size_t)(eq - cur);
        if (klen == 7 && strncmp(cur, "predict", 7) == 0) {
            offer(c, "predict=true");
            offer(c, "predict=false");
            return;
        }
        for (const struct ct_param_spec *sp = d->params; sp && sp->name; sp++) {
            if (strlen(sp->name) != klen || strncmp(sp->name, cur, klen) != 0)
                continue;
            const char *choices = sp->type == CT_PARAM_BOOL ? "true,false" : sp->choices;
            if (!choices)
                return;
            /* in a set, complete the item after the last comma */
            const char *comma = strrchr(cur, ',');
            size_t keep = comma && sp->type == CT_PARAM_SET ? (size_t)(comma - cur) + 1
                                                            : klen + 1;
            for (int k = 0; ct_choice_word(choices, k, w, sizeof w); k++) {
                if (snprintf(buf, sizeof buf, "%.*s%s", (int)keep, cur, w) < (int)sizeof buf)
                    offer(c, buf);
            }
            return;
        }
        return;
    }
    for (const struct ct_param_spec *sp = d->params; sp && sp->name; sp++) {
        size_t len = strlen(sp->name);
        bool given = false;
        for (int i = 0; i < nwords; i++)
            given |= strncmp(words[i], sp->name, len) == 0 && words[i][len] == '=';
        if (given)
            continue;
        snprintf(buf, sizeof buf, "%s=", sp->name);
        offer(c, buf);
    }
    for (const struct ct_param_spec *sp = ct_runner_params; sp->name; sp++) {
        bool given = false;
        size_t len = strlen(sp->name);
        for (int i = 0; i < nwords; i++)
            given |= strncmp(words[i], sp->name, len) == 0 && words[i][len] == '=';
        snprintf(buf, sizeof buf, "%s=", sp->name);
        if (!given)
            offer(c, buf);
    }
    for (const struct ct_option *o = ct_option_table; o->name; o++) {
        if (!(o->flags & (CT_OPT_STARTUP | CT_OPT_INFO)))
            offer(c, o->name);
    }
}

/* Completion of the words after `explore SCENARIO`. */
static void complete_explore(const char *cur, struct cands *c)
{
    static const char *const words[] = {
        "search", "fixed", "broken", "schedule=", "preemptions=", "preemptions=none",
        "threads=", "iters=", "keys=", "limit=", "--json", NULL,
    };
    if (strchr(cur, '=') && strncmp(cur, "preemptions=", 12) != 0)
        return;
    for (const char *const *w = words; *w; w++)
        offer(c, *w);
}

int ct_complete(struct ct_ctx *ctx, const char *line, size_t *word_start,
                char (*out)[CT_COMPLETE_LEN], int max)
{
    size_t len = strlen(line);
    char *copy = strdup(line);
    char **words = calloc((size_t)ct_max_words(len) + 1, sizeof *words);
    char num[8];
    if (!copy || !words) {
        free(copy);
        free(words);
        return 0;
    }
    bool at_new_word = len == 0 || line[len - 1] == ' ' || line[len - 1] == '\t';
    int n = ct_split_line(copy, words, ct_max_words(len));
    if (n < 0)
        n = 0;
    const char *cur = at_new_word || n == 0 ? "" : words[n - 1];
    int done = at_new_word ? n : n - 1;     /* whole words before the cursor */
    *word_start = len - strlen(cur);

    struct cands c = { cur, strlen(cur), out, max, 0 };
    const struct ct_command *cmd = done > 0 ? ct_command_find(words[0]) : NULL;
    enum ct_complete kind = cmd ? cmd->complete : CT_COMPLETE_NONE;
    if (done == 0) {
        for (const struct ct_command *k = ct_commands; k->name; k++) {
            if (!(k->flags & CT_CMD_HIDDEN) && (ctx->repl || !(k->flags & CT_CMD_REPL_ONLY)))
                offer(&c, k->name);
        }
    } else if (kind == CT_COMPLETE_SCENARIO && done >= 2) {
        if (ct_ex_scenario_find(words[1]))
            complete_explore(cur, &c);
    } else if (kind == CT_COMPLETE_SCENARIO && done == 1) {
        for (size_t i = 0; i < ct_ex_scenario_count; i++)
            offer(&c, ct_ex_scenarios[i]->name);
    } else if (kind == CT_COMPLETE_DEMO && done >= 2) {
        const struct ct_demo *d = ct_demo_find(words[1]);
        if (d)
            complete_params(d, words + 2, done - 2, cur, &c);
    } else if (kind == CT_COMPLETE_SOURCE && done == 2) {
        ct_source_words(words[1], offer_cb, &c);
    } else if (kind == CT_COMPLETE_WALK && done == 2) {
        offer(&c, "--from-start");
    } else if (done == 1) {
        const struct ct_library *lib = kind == CT_COMPLETE_TOPIC ||
                                               kind == CT_COMPLETE_CHAPTER ||
                                               kind == CT_COMPLETE_WALK
                                           ? ct_ctx_lessons(ctx, false)
                                           : NULL;
        if (kind == CT_COMPLETE_PROGRESS)
            offer(&c, "reset");
        if (kind == CT_COMPLETE_SOURCE)
            ct_source_words(NULL, offer_cb, &c);
        if (kind == CT_COMPLETE_HELP) {
            for (const struct ct_command *k = ct_commands; k->name; k++) {
                if (!(k->flags & CT_CMD_HIDDEN))
                    offer(&c, k->name);
            }
        }
        if ((kind == CT_COMPLETE_TOPIC || kind == CT_COMPLETE_WALK) && lib) {
            for (int i = 0; i < lib->nlessons; i++)
                offer(&c, lib->lessons[i].id);
        }
        if (kind == CT_COMPLETE_TOPIC || kind == CT_COMPLETE_DEMO || kind == CT_COMPLETE_HELP ||
            kind == CT_COMPLETE_SOURCE) {
            for (size_t i = 0; i < ct_demo_count; i++)
                offer(&c, ct_demos[i]->name);
        }
        size_t nex = 0;
        const struct ct_exercise *ex = kind == CT_COMPLETE_EXERCISE || kind == CT_COMPLETE_EX_CHAPTER
                                           ? ct_exercises(&nex, NULL, 0)
                                           : NULL;
        for (size_t i = 0; ex && i < nex; i++) {
            snprintf(num, sizeof num, "%d", ex[i].chapter);
            offer(&c, kind == CT_COMPLETE_EXERCISE ? ex[i].name : num);
        }
        if ((kind == CT_COMPLETE_TOPIC || kind == CT_COMPLETE_CHAPTER ||
             kind == CT_COMPLETE_WALK) && lib) {
            for (int i = 0; i < lib->nchapters; i++) {
                snprintf(num, sizeof num, "%d", lib->chapters[i].number);
                offer(&c, num);
            }
        }
    }
    free(copy);
    free(words);
    return c.n;
}
