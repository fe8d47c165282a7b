# Node loss: 20 calls pending on a uvmd when it is killed (kill -9), or
# when it freezes without closing its connection (SIGSTOP: only heartbeats
# tell), all fail within 1 s with "node HOST:PORT lost: ...", a later call
# fails at once, and after uvmd is started again on the same port the same
# client's next calls succeed (tests/remote/remote_probe.cpp).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
PROBE="$(dirname "$UVMCTL")/remote_probe"
[ -x "$PROBE" ] || fail "no remote_probe next to $UVMCTL"
make_pki
make_host
P="$WORK/pki"
for mode in kill freeze; do
  # shellcheck disable=SC2086
  start_uvmd "$mode" --listen 127.0.0.1:0 $NODE_TLS
  addr_var="ADDR_$mode"
  pid_var="PID_$mode"
  freeze=()
  [ "$mode" = freeze ] && freeze=(PROBE_FREEZE=1)
  # shellcheck disable=SC2086
  env "${freeze[@]}" PROBE_BOOT="$WORK/boot" timeout 60 "$PROBE" failover "${!addr_var}" \
    "$P/client.pem" "$P/client.key" "$P/ca.pem" "${!pid_var}" -- \
    "$UVMD" --listen "${!addr_var}" $NODE_TLS > "$WORK/$mode.json" 2> "$WORK/$mode.err" ||
    { cat "$WORK/$mode.json" "$WORK/$mode.err" >&2; fail "$mode: the probe"; }
  "$PY" - "$WORK/$mode.json" "${!addr_var}" <<'PY' || fail "$mode: $(cat "$WORK/$mode.json")"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
lost = "node " + sys.argv[2] + " lost: "
assert r["failed"] == 20 and r["worst_ms"] < 1000, r
assert r["first_error"].startswith(lost) and r["late_error"].startswith(lost), r
assert r["late_call_ms"] < 100 and r["reconnected"] and r["create_after_reconnect"] == "ok", r
PY
  echo "$mode: $(cat "$WORK/$mode.json")"
done
