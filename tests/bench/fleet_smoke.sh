#!/usr/bin/env bash
# CI smoke: a 20-second fleet run of the hotplug-mix profile on the
# embedded engine, then the report folder's contents: summary fields, one
# raw line per interval, report.html with its plots embedded, the PNGs.
set -euo pipefail
bench=$1
profiles=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bench" fleet --profile "$profiles/hotplug-mix.json" --seconds 20 --rate 200 --vms 4 \
  --out "$dir/out" --json > "$dir/stdout" 2> "$dir/stderr" || { cat "$dir/stderr"; exit 1; }
# Not a terminal: no progress line.
if grep -q $'\r' "$dir/stderr"; then
  echo "progress line written to a non-terminal"; exit 1
fi
for f in summary.json raw.jsonl report.html plots/throughput.png plots/latency.png \
         plots/distribution.png plots/process.png plots/errors.png; do
  [ -s "$dir/out/$f" ] || { echo "missing or empty: $f"; exit 1; }
done
python3 - "$dir/out" <<'PY'
import json, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
for k in ["profile", "target_rate", "seconds", "run_seconds", "nodes", "issued", "completed",
          "unfinished", "achieved_rate", "all", "ops", "per_node", "process_peak", "intervals"]:
    assert k in s, k
assert s["profile"] == "hotplug-mix" and s["nodes"] == ["embedded"]
assert s["unfinished"] == 0 and s["all"]["errors"] == 0, s["all"]
# Poisson arrivals at 200/s for 20 s: 4000 +- 4 sd.
assert 3700 <= s["issued"] <= 4300, s["issued"]
assert s["completed"] == s["issued"]
for op in ["scsi", "vpmem", "plan9", "stats"]:
    o = s["ops"][op]
    assert o["count"] > 0 and o["histogram"]["count"] == o["count"], (op, o["count"], o["histogram"]["count"])
    assert 0 < o["p50_ms"] <= o["p90_ms"] <= o["p99_ms"] <= o["p999_ms"] <= o["max_ms"], (op, o)
lines = [json.loads(l) for l in open(out + "/raw.jsonl")]
assert 20 <= len(lines) == s["intervals"], len(lines)
assert sum(l["completed"] for l in lines) == s["completed"]
for l in lines:
    for k in ["t_s", "interval_s", "target_rate", "issued", "completed", "achieved_rate",
              "in_flight", "all", "ops", "process"]:
        assert k in l, k
    assert l["process"]["rss_bytes"] > 0 and l["process"]["threads"] > 0 and l["process"]["fds"] > 0
html = open(out + "/report.html").read()
assert html.count("data:image/png;base64,iVBORw0KGgo") == 5, "five embedded PNGs"
for op in ["scsi", "vpmem", "plan9", "stats"]:
    assert ">%s<" % op in html, op
print("%d requests, %d intervals, p99 %.2f ms" % (s["completed"], len(lines), s["all"]["p99_ms"]))
PY
