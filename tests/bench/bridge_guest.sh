#!/usr/bin/env bash
# uvm-bench bridge measures any agent: gcs started through exec: (its
# stdio as the bridge) and gcs listening on a unix socket it was given.
set -euo pipefail
bench=$1
gcs=$2
dir=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
"$bench" bridge --guest "exec:$gcs --stdio" --calls 2000 --window 16 --json > "$dir/exec.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["failures"]==0 and j["guest"].startswith("exec:"), j' "$dir/exec.json"
"$gcs" --listen "unix:$dir/g.sock" --stdio-dir "$dir" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -S "$dir/g.sock" ] && break; sleep 0.05; done
"$bench" bridge --guest "unix:$dir/g.sock" --calls 2000 --window 16 --json > "$dir/unix.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["failures"]==0 and j["guest"].startswith("unix:"), j' "$dir/unix.json"
if "$bench" bridge --guest "tcp:1.2.3.4" --calls 10 2> "$dir/err"; then exit 1; fi
grep -q "exec:CMD or unix:PATH" "$dir/err"
