#!/usr/bin/env bash
# uvm-bench storm at a small size: 10 VMs, 8 callers, a crash every 300
# operations. It exits 0, its JSON report says clean, every crash it was
# asked for happened and was followed by a restart, and faults showed.
# The 1M-operation run is for the note, not for CI.
set -euo pipefail
bench=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bench" storm --ops 3203 --vms 10 --callers 8 --crash-every 300 --json \
  > "$dir/report.json" 2> "$dir/summary.txt" || { cat "$dir/summary.txt"; exit 1; }
grep -q "^mismatches=0 unexpected errors=0" "$dir/summary.txt"
python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["clean"] is True and r["failure"] == "", r
assert r["ops"] == 3203, r["ops"]
assert r["crashes"] == r["expected_crashes"] == 10, r["crashes"]
assert r["restarts"] >= 10, r["restarts"]
assert r["mismatches"] == 0 and r["unexpected_errors"] == 0, r
assert r["late_replies"]["kept"] == 0, r["late_replies"]
# Most calls succeed; the injected faults show among the errors.
assert r["ok"] > r["ops"] // 2, r["ok"]
assert r["errors"].get("hcs_failure", 0) > 0, r["errors"]
for what in ("threads", "fds", "actors"):
    assert r[what]["back"] is True, (what, r[what])
PY
# Bad arguments are refused before anything runs.
if "$bench" storm --vms 0 > /dev/null 2>&1; then
  echo "--vms 0 accepted"; exit 1
fi
