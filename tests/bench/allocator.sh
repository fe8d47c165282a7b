#!/usr/bin/env bash
# The malloc uvm-bench runs on is the one the build chose (UVM_MALLOC, none
# under a sanitizer): its in-process benches name it, and with jemalloc the
# heap they report in use is jemalloc's (glibc's mallinfo2 reads 0 there).
#   allocator.sh UVM_BENCH EXPECTED   (EXPECTED: jemalloc or glibc)
set -euo pipefail
bench=$1
expected=$2
out=$("$bench" density --vms 50 --json)
python3 - "$expected" "$out" <<'PY'
import json, sys
expected, d = sys.argv[1], json.loads(sys.argv[2])
name = d["allocator"]
assert name.split()[0] == expected, (name, expected)
assert d["errors"] == 0, d
print("density ran on", name)
PY
hp=$("$bench" hotplug --latency-us 0 --callers 1 --seconds 0.2 --json)
python3 - "$expected" "$hp" <<'PY'
import json, sys
expected, d = sys.argv[1], json.loads(sys.argv[2])
assert d["allocator"].split()[0] == expected, (d["allocator"], expected)
PY
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bench" soak --minutes 0.1 --sample-seconds 1 --warmup-minutes 0.05 --rate 50 \
  --out "$dir/out" --json > "$dir/stdout" 2> "$dir/stderr" || [ $? -eq 1 ]
python3 - "$expected" "$dir/stdout" "$dir/out/raw.jsonl" <<'PY'
import json, sys
expected = sys.argv[1]
v = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
assert v["allocator"].split()[0] == expected, (v["allocator"], expected)
# A fleet of VMs holds megabytes of heap, which jemalloc counts (a
# sanitizer's allocator is seen by neither reading).
if expected == "jemalloc":
    heap = [json.loads(l)["process"]["heap_in_use_bytes"] for l in open(sys.argv[3])]
    assert heap and min(heap) > 1 << 20, heap
    print("soak heap in use", min(heap) >> 20, "-", max(heap) >> 20, "MB")
PY
