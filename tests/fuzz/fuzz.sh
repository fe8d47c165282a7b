# Builds one libFuzzer target with clang (ASan + UBSan, every report fatal)
# and runs it on its seed corpus, for a bounded time or number of runs.
# Exit 77 (CTest: skipped) when clang or its fuzzer runtime is missing;
# a crash, a leak, a timeout or an out-of-memory fails (exit 1).
#
#   fuzz.sh SRC WORK TARGET SECONDS          # CI: a short run
#   FUZZ_RUNS=10000000 fuzz.sh SRC WORK TARGET 0   # a long run, by count
#
# FUZZ_SANITIZERS (default address,undefined) picks the sanitizers besides
# the fuzzer; "undefined" alone at -O2 runs the slow targets about twice as
# fast for long runs (the targets' own checks abort either way). Each set
# of sanitizers builds into a folder of its own.
#
# The committed seeds (tests/fuzz/corpus/TARGET) are read, never written:
# what the fuzzer finds goes to WORK/TARGET/corpus.
set -euo pipefail
SRC=$1
WORK=$2
TARGET=$3
SECONDS_LIMIT=${4:-20}
case "$TARGET" in
frame_decoder)
  SOURCES=(bridge/protocol.cpp) MAX_LEN=70000 DICT= ;;
stdio_mux_frame)
  SOURCES=(bridge/stdio_mux_frame.cpp) MAX_LEN=70000 DICT= ;;
json_reader)
  SOURCES=(gojson/json_reader.cpp gojson/json_view.cpp) MAX_LEN=4096 DICT=json.dict ;;
qmp_reader)
  SOURCES=(hcs/qemu/qmp_reader.cpp gojson/json_reader.cpp) MAX_LEN=8192 DICT=json.dict ;;
scenario_line)
  SOURCES=(tools/uvmctl/json_fields.cpp tools/uvmctl/options_json.cpp
           tools/uvmctl/scenario_args.cpp tools/uvmctl/scenario_line.cpp messages/options.cpp
           messages/errors.cpp messages/guest_types.cpp hcs/backend.cpp)
  MAX_LEN=8192 DICT=scenario.dict ;;
*)
  echo "unknown fuzz target $TARGET" >&2
  exit 2 ;;
esac
CXX=$(command -v clang++ || true)
if [ -z "$CXX" ]; then
  echo "SKIP: clang++ not found (apt install clang libclang-rt-14-dev)"
  exit 77
fi
SANITIZERS=${FUZZ_SANITIZERS:-address,undefined}
case "$SANITIZERS" in
address,undefined) OPT=-O1 OUT="$WORK/$TARGET" ;;
undefined) OPT=-O2 OUT="$WORK/$TARGET-ubsan" ;;
*)
  echo "FUZZ_SANITIZERS must be address,undefined or undefined" >&2
  exit 2 ;;
esac
mkdir -p "$OUT/corpus"
BIN="$OUT/${TARGET}_fuzz"
FILES=("$SRC/tests/fuzz/${TARGET}_fuzz.cpp")
for s in "${SOURCES[@]}"; do
  FILES+=("$SRC/$s")
done
# Rebuild only when a source or a header of the tree changed.
STAMP=$(cat "${FILES[@]}" $(find "$SRC/bridge" "$SRC/gojson" "$SRC/hcs" "$SRC/messages" "$SRC/tools" \
  -name '*.hpp' | sort) "$0" | sha256sum | cut -c1-16)
if [ ! -x "$BIN" ] || [ "$(cat "$OUT/stamp" 2> /dev/null)" != "$STAMP" ]; then
  if ! "$CXX" -std=c++17 "$OPT" -g -fsanitize=fuzzer,"$SANITIZERS" \
    -fno-sanitize-recover=all -I"$SRC" "${FILES[@]}" -o "$BIN" 2> "$OUT/build.log"; then
    cat "$OUT/build.log"
    if grep -q 'fuzzer' "$OUT/build.log"; then
      echo "SKIP: clang has no libFuzzer runtime (apt install libclang-rt-14-dev)"
      exit 77
    fi
    exit 1
  fi
  echo "$STAMP" > "$OUT/stamp"
fi
ARGS=(-rss_limit_mb=2048 -timeout=10 -max_len="$MAX_LEN" -error_exitcode=1
      -timeout_exitcode=1 -print_final_stats=1)
if [ -n "$DICT" ]; then
  ARGS+=(-dict="$SRC/tests/fuzz/$DICT")
fi
if [ -n "${FUZZ_RUNS:-}" ]; then
  ARGS+=(-runs="$FUZZ_RUNS")
else
  ARGS+=(-max_total_time="$SECONDS_LIMIT")
fi
cd "$OUT"
if ! "$BIN" "${ARGS[@]}" "$OUT/corpus" "$SRC/tests/fuzz/corpus/$TARGET" > "$OUT/run.log" 2>&1; then
  tail -60 "$OUT/run.log"
  echo "FAIL: $TARGET (artifacts in $OUT)"
  exit 1 # never 77, which CTest would count as skipped
fi
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::)' "$OUT/run.log" || tail -5 "$OUT/run.log"
