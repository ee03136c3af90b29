/* completion.c - `__completion bash|zsh`: shell completion scripts written
 * from the command table, the option table, the demo registry and the
 * lessons, as the man page is (man.c).  meson installs both; the README
 * says how to turn them on.
 *
 * The scripts are static: they hold the lists as they are in this build
 * and never run the program while completing.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "embedded.h"
#include "exit.h"
#include "params.h"
#include "registry.h"
#include "text.h"

/* Words separated by blanks, for a shell variable. */
static void commands_list(FILE *out)
{
    const char *sep = "";
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (c->flags & (CT_CMD_HIDDEN | CT_CMD_REPL_ONLY))
            continue;
        fprintf(out, "%s%s", sep, c->name);
        sep = " ";
    }
}

static void options_list(FILE *out)
{
    const char *sep = "";
    for (const struct ct_option *o = ct_option_table; o->name; o++) {
        fprintf(out, "%s%s", sep, o->name);
        sep = " ";
    }
}

static void demos_list(FILE *out)
{
    for (size_t i = 0; i < ct_demo_count; i++)
        fprintf(out, "%s%s", i ? " " : "", ct_demos[i]->name);
}

static void lessons_list(FILE *out, const struct ct_library *lib)
{
    for (int i = 0; i < lib->nlessons; i++)
        fprintf(out, "%s%s", i ? " " : "", lib->lessons[i].id);
}

static void chapters_list(FILE *out, const struct ct_library *lib)
{
    for (int i = 0; i < lib->nchapters; i++)
        fprintf(out, "%s%d", i ? " " : "", lib->chapters[i].number);
}

/* The modules `source` knows besides the demos: "chan", "lib/rwlock" where
 * a demo has the name, "run", ... */
static void modules_list(FILE *out)
{
    char seen[256][64];
    int n = 0;
    for (size_t i = 0; i < ct_embedded_sources_count; i++) {
        const char *name = ct_embedded_sources[i].name;
        const char *dir = strncmp(name, "demos/lib/", 10) == 0      ? "lib/"
                          : strncmp(name, "demos/runner/", 13) == 0 ? "runner/"
                                                                    : NULL;
        if (!dir)
            continue;
        char stem[64];
        snprintf(stem, sizeof stem, "%s", strrchr(name, '/') + 1);
        stem[strcspn(stem, ".")] = '\0';
        char word[80];
        snprintf(word, sizeof word, "%s%s", ct_demo_find(stem) ? dir : "", stem);
        bool dup = false;
        for (int k = 0; k < n && !dup; k++)
            dup = strcmp(seen[k], word) == 0;
        if (dup || n == 256 || strlen(word) >= 64)
            continue;
        snprintf(seen[n++], 64, "%.63s", word);
        fprintf(out, " %s", word);
    }
}

/* `case` arms giving each demo's parameter names ("threads= iters=") and
 * the runner's. */
static void params_cases(FILE *out, const char *indent)
{
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        fprintf(out, "%s%s) echo \"", indent, d->name);
        for (const struct ct_param_spec *sp = d->params; sp && sp->name; sp++)
            fprintf(out, "%s= ", sp->name);
        for (const struct ct_param_spec *sp = ct_runner_params; sp->name; sp++)
            fprintf(out, "%s= ", sp->name);
        fprintf(out, "\" ;;\n");
    }
}

/* `case` arms giving the values of "DEMO KEY" (choices and booleans). */
static void values_cases(FILE *out, const char *indent)
{
    char w[64];
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        for (const struct ct_param_spec *sp = d->params; sp && sp->name; sp++) {
            if (sp->type != CT_PARAM_CHOICE && sp->type != CT_PARAM_SET &&
                sp->type != CT_PARAM_BOOL)
                continue;
            fprintf(out, "%s\"%s %s\") echo \"", indent, d->name, sp->name);
            if (sp->type == CT_PARAM_BOOL)
                fputs("true false", out);
            for (int k = 0; sp->choices && ct_choice_word(sp->choices, k, w, sizeof w); k++)
                fprintf(out, "%s%s", k ? " " : "", w);
            if (sp->type == CT_PARAM_SET)
                fputs(" all", out);
            fputs("\" ;;\n", out);
        }
    }
    fprintf(out, "%s*\" predict\") echo \"true false\" ;;\n", indent);
}

/* The word lists a command's arguments complete to, as a `case` on the
 * command name. */
static void args_cases(FILE *out, const char *indent)
{
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (c->flags & (CT_CMD_HIDDEN | CT_CMD_REPL_ONLY))
            continue;
        const char *list = c->complete == CT_COMPLETE_CHAPTER    ? "$chapters"
                           : c->complete == CT_COMPLETE_TOPIC    ? "$lessons $demos $chapters"
                           : c->complete == CT_COMPLETE_DEMO     ? "$demos"
                           : c->complete == CT_COMPLETE_HELP     ? "$commands $demos"
                           : c->complete == CT_COMPLETE_WALK     ? "$chapters $lessons"
                           : c->complete == CT_COMPLETE_SOURCE   ? "$demos $modules"
                           : c->complete == CT_COMPLETE_PROGRESS ? "reset"
                                                                 : "";
        fprintf(out, "%s%s) echo \"%s\" ;;\n", indent, c->name, list);
    }
}

static void lists(FILE *out, const struct ct_library *lib, const char *local)
{
    fprintf(out, "    %scommands=\"", local);
    commands_list(out);
    fprintf(out, "\"\n    %soptions=\"", local);
    options_list(out);
    fprintf(out, "\"\n    %sdemos=\"", local);
    demos_list(out);
    fprintf(out, "\"\n    %slessons=\"", local);
    lessons_list(out, lib);
    fprintf(out, "\"\n    %schapters=\"", local);
    chapters_list(out, lib);
    fprintf(out, "\"\n    %smodules=\"", local);
    modules_list(out);
    fputs("\"\n", out);
}

/* The functions both shells share: the lists for a command's arguments,
 * a demo's parameters and a parameter's values. */
static void shared_functions(FILE *out, const struct ct_library *lib, const char *local)
{
    fputs("_concur_tutor_args() {\n", out);
    lists(out, lib, local);
    fputs("    case $1 in\n", out);
    args_cases(out, "    ");
    fputs("    esac\n}\n\n_concur_tutor_params() {\n    case $1 in\n", out);
    params_cases(out, "    ");
    fputs("    esac\n}\n\n_concur_tutor_values() {\n    case \"$1 $2\" in\n", out);
    values_cases(out, "    ");
    fputs("    esac\n}\n\n", out);
}

static void bash_script(FILE *out, const struct ct_library *lib)
{
    fputs("# bash completion for concur-tutor; written by `concur-tutor __completion bash`\n"
          "# from the program's own tables.  Installed by meson into\n"
          "# share/bash-completion/completions; or: source this file.\n\n", out);
    shared_functions(out, lib, "local ");
    fputs("_concur_tutor() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local i cmd='' first=0 words\n"
          "    case $prev in\n"
          "        --scale) return ;;\n"
          "        --lessons) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
          "        --html) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
          "    esac\n"
          "    # the command: the first word that is not an option or its value\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        case ${COMP_WORDS[i]} in\n"
          "            --scale|--lessons|--html) ((i++)) ;;\n"
          "            -*) ;;\n"
          "            *) cmd=${COMP_WORDS[i]}; first=$i; break ;;\n"
          "        esac\n"
          "    done\n"
          "    if [[ $cur == -* ]]; then\n", out);
    fputs("        words=\"", out);
    options_list(out);
    fputs(" --from-start\"\n"
          "    elif [[ -z $cmd ]]; then\n", out);
    fputs("        words=\"", out);
    commands_list(out);
    fputs("\"\n"
          "    elif ((COMP_CWORD == first + 1)); then\n"
          "        words=$(_concur_tutor_args \"$cmd\")\n"
          "    elif [[ $cmd == run ]]; then\n"
          "        if [[ $cur == *=* ]]; then\n"
          "            local key=${cur%%=*} val=${cur#*=}\n"
          "            COMPREPLY=($(compgen -P \"$key=\" -W \"$(_concur_tutor_values "
          "\"${COMP_WORDS[first+1]}\" \"$key\")\" -- \"$val\"))\n"
          "            return\n"
          "        fi\n"
          "        words=$(_concur_tutor_params \"${COMP_WORDS[first+1]}\")\n"
          "        compopt -o nospace 2>/dev/null\n"
          "    fi\n"
          "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
          "}\n"
          "complete -F _concur_tutor concur-tutor\n", out);
}

static void zsh_script(FILE *out, const struct ct_library *lib)
{
    fputs("#compdef concur-tutor\n"
          "# zsh completion for concur-tutor; written by `concur-tutor __completion zsh`\n"
          "# from the program's own tables.  Installed by meson into\n"
          "# share/zsh/site-functions (on $fpath; run compinit).\n\n", out);
    shared_functions(out, lib, "local ");
    fputs("_concur_tutor() {\n"
          "    local i cmd='' first=0\n"
          "    case ${words[CURRENT-1]} in\n"
          "        --scale) return ;;\n"
          "        --lessons) _files -/; return ;;\n"
          "        --html) _files; return ;;\n"
          "    esac\n"
          "    for ((i = 2; i < CURRENT; i++)); do\n"
          "        case ${words[i]} in\n"
          "            --scale|--lessons|--html) ((i++)) ;;\n"
          "            -*) ;;\n"
          "            *) cmd=${words[i]}; first=$i; break ;;\n"
          "        esac\n"
          "    done\n"
          "    if [[ ${words[CURRENT]} == -* ]]; then\n"
          "        compadd -- ", out);
    options_list(out);
    fputs(" --from-start\n"
          "    elif [[ -z $cmd ]]; then\n"
          "        compadd -- ", out);
    commands_list(out);
    fputs("\n"
          "    elif ((CURRENT == first + 1)); then\n"
          "        compadd -- ${=$(_concur_tutor_args $cmd)}\n"
          "    elif [[ $cmd == run ]]; then\n"
          "        if [[ ${words[CURRENT]} == *=* ]]; then\n"
          "            local key=${words[CURRENT]%%=*}\n"
          "            compset -P '*='\n"
          "            compadd -- ${=$(_concur_tutor_values ${words[first+1]} $key)}\n"
          "        else\n"
          "            compadd -S '' -- ${=$(_concur_tutor_params ${words[first+1]})}\n"
          "        fi\n"
          "    fi\n"
          "}\n\n"
          "_concur_tutor \"$@\"\n", out);
}

int ct_cmd_completion(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)opt, (void)argc;
    const struct ct_library *lib = ct_ctx_lessons(ctx, true);
    if (strcmp(argv[1], "bash") == 0)
        bash_script(stdout, lib);
    else if (strcmp(argv[1], "zsh") == 0)
        zsh_script(stdout, lib);
    else
        return ct_usage_error("__completion: no script for %s; shells: bash, zsh", CT_Q(argv[1]));
    return CT_EXIT_OK;
}
