# The lifecycle, devices and processes scenarios through `uvmctl --node` on
# uvmd nodes over mutual TLS: every scenario's output equals the embedded
# runner's (lib.bash's run_scenario and remote_diff), and each node stops
# cleanly on SIGTERM afterwards.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
make_pki
export UVM_E2E_UVMD="$UVMD $NODE_TLS"
export UVM_E2E_CLIENT_TLS="$CLIENT_TLS"
export UVM_E2E_DIFF_LOG="$WORK/diffs.log"
for script in lifecycle devices processes; do
  bash "$(dirname "$0")/$script.sh" "$UVMCTL" > "$WORK/$script.out" 2>&1 ||
    { cat "$WORK/$script.out" >&2; fail "$script.sh through the node"; }
done
# lifecycle 1, devices 1, processes 2 (the runs that choose their guest stay local).
n=$(wc -l < "$WORK/diffs.log")
[ "$n" -ge 4 ] || { cat "$WORK/diffs.log" >&2; fail "only $n scenarios ran on the node"; }
