#!/usr/bin/env bash
# The bash completion files (dist/bash-completion/) complete what the
# binaries take: uvmctl's subcommands and their flags, choices of
# --backend and --log-level, uvmd's flags (all of `uvmd --help`).
source "$(dirname "$0")/lib.bash"
SRC=$(cd "$2/../.." && pwd)
UVMD="$(dirname "$UVMCTL")/uvmd"
set +u
source "$SRC/dist/bash-completion/uvmctl"
source "$SRC/dist/bash-completion/uvmd"
set -u

# complete FUNCTION WORD...: the candidates for the last word.
complete_words() {
  local fn=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  "$fn"
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect_words() {
  local want=$1
  shift
  local got
  got=$(complete_words "$@" | tr '\n' ' ')
  [ "$got" = "$want " ] || fail "completing '$*': '$got', want '$want'"
}
expect_words "run" _uvmctl "$UVMCTL" r
expect_words "demo" _uvmctl "$UVMCTL" --log-level warn d
expect_words "--keep-vms" _uvmctl "$UVMCTL" run --ke
expect_words "--hcs-log" _uvmctl "$UVMCTL" run --hc
expect_words "qemu sim" _uvmctl "$UVMCTL" run --backend ""
expect_words "--guest --help --interactive --work-dir -i" _uvmctl "$UVMCTL" exec -
expect_words "error" _uvmctl "$UVMCTL" --log-level e
expect_words "--json" _uvmctl "$UVMCTL" --node a:1 list --j
# Every flag of uvmd's --help completes.
for flag in $("$UVMD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  complete_words _uvmd "$UVMD" "$flag" | grep -qx -- "$flag" || fail "uvmd $flag does not complete"
done
expect_words "--log-format --log-level" _uvmd "$UVMD" --log-
expect_words "json" _uvmd "$UVMD" --log-format j
# A file where uvmctl run takes one.
touch "$WORK/scenario.jsonl"
expect_words "$WORK/scenario.jsonl" _uvmctl "$UVMCTL" run "$WORK/scen"
echo "bash completion: uvmctl and uvmd"
