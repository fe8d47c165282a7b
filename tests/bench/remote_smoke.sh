#!/usr/bin/env bash
# uvm-bench remote at a small size, plaintext and mutual TLS (a test PKI
# made here with the openssl CLI, EC keys): every call answered, each
# window-64 row compared with its anchor (CAF's own rate, measured in the
# same run), the node's simulator inline, and no process left behind.
set -euo pipefail
bench=$1
command -v openssl > /dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=ca \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=node \
  -keyout "$dir/node.key" -out "$dir/node.csr" 2> /dev/null
openssl x509 -req -in "$dir/node.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 2 -out "$dir/node.pem" 2> /dev/null
"$bench" remote --calls 500 --cert "$dir/node.pem" --key "$dir/node.key" --ca "$dir/ca.pem" \
  --json > "$dir/report.json"
python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["bench"] == "remote" and r["calls"] == 500, r
assert r["node_sim_completions"] == "inline", r
for mode in ("plaintext", "tls"):
    m = r[mode]
    anchor = m["caf_echo"]["window_64"]["ops_per_s"]
    assert anchor > 0, (mode, m["caf_echo"])
    for op in ("stats", "scsi"):
        for window in ("window_1", "window_64"):
            row = m[op][window]
            assert row["errors"] == 0, (mode, op, window, row)
            assert row["ops_per_s"] > 0 and 0 < row["p50_us"] <= row["p99_us"], (mode, op, row)
        w64 = m[op]["window_64"]
        assert abs(w64["of_caf_echo"] - w64["ops_per_s"] / anchor) < 0.01, (mode, op, w64, anchor)
PY
# The echo nodes and uvmd nodes it started are gone.
if pgrep -f "$bench remote-echo" > /dev/null; then
  echo "a remote-echo node outlived the bench"; exit 1
fi
