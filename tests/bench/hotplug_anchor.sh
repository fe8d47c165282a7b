#!/usr/bin/env bash
# uvm-bench hotplug --anchor: the program runs first as `PROGRAM -seconds S`
# and its rate comes back beside the engine's, with their ratio; a program
# that fails or prints no rate fails the bench with exit 2 and says why.
#   hotplug_anchor.sh UVM_BENCH
set -euo pipefail
bench=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat > "$dir/anchor" <<'SH'
#!/bin/sh
[ "$1" = "-seconds" ] || exit 9
echo "warming up for $2 s"
echo '{"anchor":"fake","ops_per_s":1000,"seconds":'"$2"'}'
SH
printf '#!/bin/sh\necho "{\\"ops_per_s\\": 5}"\nexit 3\n' > "$dir/failing"
printf '#!/bin/sh\necho "no rate here"\n' > "$dir/silent"
chmod +x "$dir/anchor" "$dir/failing" "$dir/silent"

out=$("$bench" hotplug --latency-us 0 --callers 1 --seconds 0.2 --anchor "$dir/anchor" --json)
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["errors"] == 0, d
assert d["anchor"]["anchor"] == "fake" and d["anchor"]["ops_per_s"] == 1000, d
assert float(d["anchor"]["seconds"]) == 0.2, d
assert abs(d["of_anchor"] - d["ops_per_s"] / 1000) < 1e-9, d
print("engine", round(d["ops_per_s"]), "ops/s, of_anchor", round(d["of_anchor"], 1))
PY

# Without --anchor the report has neither field.
plain=$("$bench" hotplug --latency-us 0 --callers 1 --seconds 0.2 --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert "anchor" not in d and "of_anchor" not in d, d' "$plain"

expect_failure() {
  local program=$1 words=$2 rc=0
  "$bench" hotplug --latency-us 0 --callers 1 --seconds 0.2 --anchor "$program" --json \
    > "$dir/out" 2> "$dir/err" || rc=$?
  [ "$rc" -eq 2 ] || { echo "$program: exit $rc, expected 2" >&2; exit 1; }
  grep -q "hotplug: the anchor: .*$words" "$dir/err" || {
    echo "$program: stderr lacks '$words':" >&2
    cat "$dir/err" >&2
    exit 1
  }
  [ ! -s "$dir/out" ] || { echo "$program: a report was printed" >&2; exit 1; }
}
expect_failure "$dir/failing" "failed (wait status"
expect_failure "$dir/silent" "printed no JSON object with a positive ops_per_s"
expect_failure "$dir/missing" "cannot run .*No such file"
echo "hotplug --anchor: ok"
