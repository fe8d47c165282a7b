#!/usr/bin/env bash
# Every binary prints "NAME VERSION" with --version (the CMake project's
# version, and git describe in a checkout), the same for all, exit 0.
source "$(dirname "$0")/lib.bash"
SRC=$(cd "$2/../.." && pwd)
DIR=$(dirname "$UVMCTL")
project=$(sed -nE 's/^project\(uvm_engine VERSION ([0-9.]+).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$project" ] || fail "no project version in CMakeLists.txt"
first=""
for tool in uvmctl uvmd uvm-bench gcs; do
  out=$("$DIR/$tool" --version) || fail "$tool --version exited $?"
  [[ $out =~ ^$tool\ ([0-9.]+)( \(git [0-9a-z.-]+\))?$ ]] || fail "$tool --version: '$out'"
  [ "${BASH_REMATCH[1]}" = "$project" ] || fail "$tool says ${BASH_REMATCH[1]}, the project is $project"
  rest=${out#"$tool "}
  [ -z "$first" ] || [ "$rest" = "$first" ] || fail "$tool says '$rest', uvmctl '$first'"
  first=$rest
done
# In a git checkout the commit is named.
if git -C "$SRC" rev-parse --git-dir > /dev/null 2>&1; then
  [[ $first == *"(git "*")" ]] || fail "a git checkout, but no git describe: '$first'"
fi
echo "version: $first"
