#!/usr/bin/env bash
# The shell completion scripts `concur-tutor __completion bash|zsh` writes
# (and meson installs): they parse, and bash's completes what the tables
# hold.  Usage: test-completion.sh CONCUR-TUTOR
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$bin" __completion bash >"$tmp/bash" || { echo "__completion bash failed"; exit 1; }
"$bin" __completion zsh >"$tmp/zsh" || { echo "__completion zsh failed"; exit 1; }
bash -n "$tmp/bash" || { echo "the bash script does not parse"; fail=1; }
if command -v zsh >/dev/null 2>&1; then
  zsh -n "$tmp/zsh" || { echo "the zsh script does not parse"; fail=1; }
else
  echo "zsh: not installed, its script is not parsed here"
fi

# complete WANT WORDS...: the candidates for the last word, as bash offers them
complete_to() {
  local want=$1
  shift
  local got
  got=$(bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
                 _concur_tutor; echo "${COMPREPLY[*]}"' _ "$tmp/bash" concur-tutor "$@")
  if [ "$got" != "$want" ]; then
    echo "completing '$*': got '$got', want '$want'"
    fail=1
  fi
}
complete_to "run" ru
complete_to "race" run rac
complete_to "threads=" run race thr
complete_to "variants=atomic" run race variants=at
complete_to "predict=true predict=false" run race predict=
complete_to "reset" progress ''
complete_to "--from-start" walk 4 --from
complete_to "lib/rwlock" source lib/rw
complete_to "mutual-exclusion" --scale 2 walk mutual-
[ "$fail" -eq 0 ] && echo "completion: ok"
exit $fail
