# The main job: `uvmctl demo` runs, shows the supervisor's restart, and
# exits 0; with --json the summary is a JSON document.
source "$(dirname "$0")/lib.bash"
"$UVMCTL" demo > "$WORK/demo.txt" 2>&1 || { cat "$WORK/demo.txt"; fail "demo exited non-zero"; }
grep -q "exited unexpectedly" "$WORK/demo.txt" || fail "no unexpected exit shown"
grep -q "supervisor restarts" "$WORK/demo.txt" || fail "no restart shown"
grep -q "closed 5 VMs; 0 left in the registry" "$WORK/demo.txt" || fail "no teardown shown"
"$UVMCTL" demo --json --lcow 2 --wcow 1 > "$WORK/demo.json" 2> "$WORK/demo.err" || fail "demo --json exited non-zero"
"$PY" - "$WORK/demo.json" <<'PY' || fail "demo --json summary"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 3, rows
assert sorted(r["os"] for r in rows) == ["linux", "linux", "windows"]
assert all(r["state"] == "running" for r in rows)
assert sum(r["restarts"] for r in rows) == 1
PY
"$UVMCTL" --help > /dev/null
"$UVMCTL" run --help > /dev/null
if "$UVMCTL" run "$WORK/missing.jsonl" > /dev/null 2>&1; then fail "a missing file must fail"; fi
echo "demo: ok"
