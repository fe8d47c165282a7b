# Builds the frame-decoder fuzz target with clang's libFuzzer and runs it
# for a bounded time. Exit 77 (CTest: skipped) when clang or its fuzzer
# runtime is missing. $1 = source root, $2 = work dir, $3 = seconds.
set -euo pipefail
SRC=$1
WORK=$2
SECONDS_LIMIT=${3:-20}
CXX=$(command -v clang++ || true)
if [ -z "$CXX" ]; then
  echo "SKIP: clang++ not found (apt install clang libclang-rt-14-dev)"
  exit 77
fi
mkdir -p "$WORK/corpus"
if ! "$CXX" -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I"$SRC" \
  "$SRC/tests/fuzz/frame_decoder_fuzz.cpp" "$SRC/bridge/protocol.cpp" \
  -o "$WORK/frame_decoder_fuzz" 2> "$WORK/build.log"; then
  if grep -q 'fuzzer' "$WORK/build.log"; then
    cat "$WORK/build.log"
    echo "SKIP: clang has no libFuzzer runtime (apt install libclang-rt-14-dev)"
    exit 77
  fi
  cat "$WORK/build.log"
  exit 1
fi
# Seed: a valid frame, so that mutations start from the real format.
printf '\x01\x01\x0b\x10\x10\x12\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00{}' \
  > "$WORK/corpus/negotiate"
"$WORK/frame_decoder_fuzz" -max_total_time="$SECONDS_LIMIT" -rss_limit_mb=1024 \
  -max_len=70000 "$WORK/corpus" 2>&1 | tail -5
