#!/usr/bin/env bash
# uvmd with the shipped /etc/uvmd/uvmd.toml (dist/uvmd.toml), only its
# ports (0: free ones) and TLS file paths (a test PKI) changed: it comes up
# with mutual TLS and serves a client; /metrics (curl) counts a scenario's
# calls; SIGHUP reads log-level again from
# the file (a bad value is refused and logged, the level stays; "error"
# then silences the info lines of the stop).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
SRC=$(cd "$2/../.." && pwd)
make_pki
d=$WORK/pki
CONF=$WORK/uvmd.toml
sed -e 's|^listen = .*|listen = "127.0.0.1:0"|' -e 's|^metrics-listen = .*|metrics-listen = "127.0.0.1:0"|' \
  -e "s|^cert = .*|cert = \"$d/node.pem\"|" \
  -e "s|^key = .*|key = \"$d/node.key\"|" -e "s|^ca = .*|ca = \"$d/ca.pem\"|" \
  "$SRC/dist/uvmd.toml" > "$CONF"
# Only those lines differ from the shipped file.
[ "$(diff "$SRC/dist/uvmd.toml" "$CONF" | grep -c '^>')" = 5 ] || fail "the test config differs in more than 5 lines"
grep -q '^log-level = "info"$' "$CONF" || fail "the shipped config's log level is not info"

start_uvmd n --config "$CONF"
grep -q 'uvmd listening .*tls=true' "$WORK/n.log" || fail "not listening with TLS: $(cat "$WORK/n.log")"
# shellcheck disable=SC2086
"$UVMCTL" --node "$ADDR_n" $CLIENT_TLS list --json > "$WORK/list.json" 2> "$WORK/list.err" ||
  fail "list exited $?: $(cat "$WORK/list.err" "$WORK/n.log")"
[ "$(cat "$WORK/list.json")" = "[]" ] || fail "list: $(cat "$WORK/list.json")"
wait_log "$WORK/n.log" 'TLS peer accepted' || fail "no info line for the client's handshake"

# The shipped config serves metrics (on loopback): a scenario's calls move them.
wait_log "$WORK/n.out" '^metrics ' || fail "no metrics address printed: $(cat "$WORK/n.out")"
METRICS=$(sed -n 's/^metrics //p' "$WORK/n.out")
calls() { # OP RESULT: uvm_calls_total's sample in a scrape
  curl -sf "http://$METRICS/metrics" |
    awk -v k="uvm_calls_total{op=\"$1\",result=\"$2\"}" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }'
}
before=$(calls add_scsi ok)
make_host
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"config-a","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"a"}
{"op":"add_scsi","vm":"a","host_path":"/disks/a.vhdx","uvm_path":"/run/mounts/a"}
{"op":"add_scsi","vm":"a","host_path":"/disks/b.vhdx","uvm_path":"/run/mounts/b"}
{"op":"close","vm":"a"}
JSONL
# shellcheck disable=SC2086
"$UVMCTL" --node "$ADDR_n" $CLIENT_TLS run "$WORK/s.jsonl" > "$WORK/s.out" 2> "$WORK/s.err" ||
  fail "scenario exited $?: $(cat "$WORK/s.err")"
after=$(calls add_scsi ok)
[ "$before" = 0 ] && [ "$after" = 2 ] || fail "add_scsi ok calls: $before before, $after after the scenario"
[ "$(calls close ok)" = 1 ] || fail "close not counted"

# A level the logger does not know: refused with the file's name, kept.
sed -i 's|^log-level = .*|log-level = "loud"|' "$CONF"
kill -HUP "$PID_n"
wait_log "$WORK/n.log" "SIGHUP: log level unchanged.*log-level must be .*got 'loud'" || fail "a bad level was not refused"

sed -i 's|^log-level = .*|log-level = "error"|' "$CONF"
kill -HUP "$PID_n"
wait_log "$WORK/n.log" 'SIGHUP: log level reloaded .*log_level=error' || fail "no reload line"
# At "error" the next client's handshake is no longer logged (info).
accepted=$(grep -c 'TLS peer accepted' "$WORK/n.log")
# shellcheck disable=SC2086
"$UVMCTL" --node "$ADDR_n" $CLIENT_TLS list --json > /dev/null 2> "$WORK/list.err" ||
  fail "list after the reload exited $?: $(cat "$WORK/list.err" "$WORK/n.log")"
kill -TERM "$PID_n"
wait "$PID_n" || fail "uvmd exited $? on SIGTERM"
[ "$(grep -c 'TLS peer accepted' "$WORK/n.log")" = "$accepted" ] || fail "info lines after the reload to error"
! grep -q 'uvmd stopping' "$WORK/n.log" || fail "'uvmd stopping' (info) logged at level error"
echo "shipped config: served $ADDR_n with TLS, metrics at $METRICS counted the scenario; SIGHUP: bad level refused, error level applied"
