#!/usr/bin/env bash
# `uvmctl run --help` lists every op the scenario runner accepts, and only
# those: each op named in the help, in README's scenario table or in any
# scenario line of the tests is sent to the runner alone; the runner must
# answer `unknown op` exactly for the names the help does not list.
source "$(dirname "$0")/lib.bash"
SRC=$(cd "$2/../.." && pwd)

"$UVMCTL" run --help > "$WORK/help.txt" || fail "uvmctl run --help exited $?"
sed -n '/^Ops of a scenario line/,$p' "$WORK/help.txt" | tail -n +2 | awk 'NF {print $1}' | sort -u > "$WORK/help_ops"
[ "$(wc -l < "$WORK/help_ops")" -ge 50 ] || fail "the help lists $(wc -l < "$WORK/help_ops") ops"

# Candidates from elsewhere: README's table rows, the tests' scenario lines,
# and names no op has.
{
  cat "$WORK/help_ops"
  grep '^| `' "$SRC/README.md" | cut -d'|' -f2 | grep -o '`[a-z_0-9]*`' | tr -d '`'
  grep -rhoE '"op": ?"[a-z_0-9]+"' "$SRC/tests" | sed -E 's/.*"([a-z_0-9]+)"$/\1/'
  printf '%s\n' no_such_op create_lcow2 addscsi
} | sort -u > "$WORK/candidates"
grep -qx add_scsi "$WORK/candidates" && grep -qx sim_crash "$WORK/candidates" || fail "no candidates"

while read -r op; do
  printf '{"op":"%s"}\n' "$op"
done < "$WORK/candidates" > "$WORK/probe.jsonl"
"$UVMCTL" run "$WORK/probe.jsonl" > "$WORK/probe.out" || fail "uvmctl run exited $?"
"$PY" - "$WORK/probe.out" > "$WORK/accepted" << 'PYEOF'
import json, sys
for text in open(sys.argv[1]):
    r = json.loads(text)
    if r.get("error") != "unknown op '%s'" % r["op"]:
        print(r["op"])
PYEOF
sort -u -o "$WORK/accepted" "$WORK/accepted"
if ! diff -u "$WORK/accepted" "$WORK/help_ops"; then
  fail "the ops the runner accepts (-) and those the help lists (+) differ"
fi
for op in no_such_op create_lcow2 addscsi; do
  ! grep -qx "$op" "$WORK/accepted" || fail "the runner accepts '$op'"
done
# Each op's line names the members the README's table gives it.
grep -Eq '^  add_scsi +vm host_path \[uvm_path\] \[read_only\] \[vm_access\]$' "$WORK/help.txt" ||
  fail "add_scsi's members: $(grep '^  add_scsi ' "$WORK/help.txt")"
grep -Eq '^  create_process +vm \(args \| command_line\)' "$WORK/help.txt" || fail "create_process's members"
echo "run --help lists the $(wc -l < "$WORK/help_ops") ops the runner accepts"
