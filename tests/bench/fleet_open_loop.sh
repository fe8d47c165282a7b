#!/usr/bin/env bash
# Open-loop correctness: the embedded engine's dispatcher (every
# asynchronous call and answer passes through it) is stalled for 50 ms in
# the middle of a constant 1000/s load. Every request whose intended start
# fell inside the stall must show a latency reaching at least to the
# stall's end, counted from that intended start; the run's max and p99
# must show the stall.
set -euo pipefail
bench=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/stall.json" <<'JSON'
{"name": "stall", "arrival": "constant", "rate": 1000, "vms": 2,
 "ops": {"stats": 1}, "stalls": [{"at_s": 1.0, "ms": 50}]}
JSON
"$bench" fleet --profile "$dir/stall.json" --seconds 2.5 --out "$dir/out" --request-log --json \
  > "$dir/stdout" 2> "$dir/stderr" || { cat "$dir/stderr"; exit 1; }
python3 - "$dir/out" <<'PY'
import json, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
stall = s["stalls"][0]
start, end = stall["start_s"], stall["end_s"]
assert end - start >= 0.050, stall
reqs = [json.loads(l) for l in open(out + "/requests.jsonl")]
assert len(reqs) == s["completed"], (len(reqs), s["completed"])
during = [r for r in reqs if start <= r["intended_s"] < end]
# 1000/s for 50 ms.
assert len(during) >= 45, len(during)
for r in during:
    floor_ms = (end - r["intended_s"]) * 1000
    assert r["latency_ms"] >= floor_ms - 0.01, (r, floor_ms)
assert s["all"]["max_ms"] >= 45, s["all"]
# ~2500 requests: the top 1% (25) all fall in the stall's first half.
assert s["all"]["p99_ms"] >= 20, s["all"]
assert s["all"]["errors"] == 0, s["all"]
print("stall %.1f ms, %d requests during it, min floor met; p99 %.2f ms, max %.2f ms"
      % ((end - start) * 1000, len(during), s["all"]["p99_ms"], s["all"]["max_ms"]))
PY
