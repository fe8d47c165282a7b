#!/usr/bin/env bash
# CI-sized soak: 18 s of the shipped soak profile (found without --profile)
# sampled every 2 s. The verdict is recomputed from the samples and must
# match what uvm-bench printed and its exit code; a 30-minute run is for
# the note, not for CI.
set -euo pipefail
bench=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
rc=0
"$bench" soak --minutes 0.3 --sample-seconds 2 --warmup-minutes 0.1 --rate 100 \
  --out "$dir/out" --json > "$dir/stdout" 2> "$dir/stderr" || rc=$?
[ "$rc" -le 1 ] || { cat "$dir/stderr"; echo "exit $rc"; exit 1; }
for f in summary.json raw.jsonl report.html; do
  [ -s "$dir/out/$f" ] || { echo "missing or empty: $f"; exit 1; }
done
python3 - "$dir/stdout" "$dir/out" "$rc" <<'PY'
import json, statistics, sys
lines = open(sys.argv[1]).read().strip().splitlines()
v = json.loads(lines[-1])
out, rc = sys.argv[2], int(sys.argv[3])
s = json.load(open(out + "/summary.json"))
assert s["profile"] == "soak", s["profile"]
assert s["all"]["errors"] == 0 and s["unfinished"] == 0, s["all"]
for op in ["vm_churn", "scsi", "vpmem", "plan9", "stats", "process"]:
    assert s["ops"][op]["count"] > 0, op
samples = v["samples"]
assert 8 <= len(samples) <= 10, len(samples)
raw = [json.loads(l) for l in open(out + "/raw.jsonl")]
assert len(raw) == len(samples)
for a, b in zip(samples, raw):
    assert abs(a["rss_mb"] - b["process"]["rss_bytes"] / 2**20) < 0.06, (a, b)
    assert a["threads"] == b["process"]["threads"] and a["fds"] == b["process"]["fds"]
warm = v["warmup_samples"]
assert warm == 3, warm
# From the raw samples: the printed ones are rounded to 0.1 MB.
rss = [b["process"]["rss_bytes"] / 2**20 for b in raw[warm:]]
mid = statistics.median(rss)
dev = max(abs(r - mid) / mid for r in rss)
assert abs(dev - v["rss_max_deviation"]) < 0.0002, (dev, v["rss_max_deviation"])
assert v["rss_flat"] == (v["rss_max_deviation"] <= 0.05)
first, last = samples[warm], samples[-1]
assert v["threads_steady"] == (last["threads"] <= first["threads"] + 2)
assert v["fds_steady"] == (last["fds"] <= first["fds"] + 8)
ok = v["rss_flat"] and v["threads_steady"] and v["fds_steady"] and v["fleet_rc"] == 0
assert rc == (0 if ok else 1), (rc, v)
print("soak smoke:", len(samples), "samples, rss", mid, "MB, max deviation", dev, "exit", rc)
PY
