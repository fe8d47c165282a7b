# Process stdio across the network: `uvmctl --node exec` streams stdin,
# stdout and stderr of a guest process both ways and exits with its code;
# a client that reads 100 MB of stdout slowly gets every byte in order
# while the node's memory stays bounded (credits stop the guest's writer),
# measured from the node's VmRSS.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
PROBE="$(dirname "$UVMCTL")/remote_probe"
make_pki
make_host
P="$WORK/pki"
# shellcheck disable=SC2086
start_uvmd node --listen 127.0.0.1:0 $NODE_TLS
# shellcheck disable=SC2206
CTL=("$UVMCTL" --node "$ADDR_node" $CLIENT_TLS)

# A VM that stays on the node after its scenario, for exec.
cat > "$WORK/vm.jsonl" <<JSONL
{"op":"create_lcow","vm":"x","options":{"ID":"exec-vm","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"x"}
JSONL
"${CTL[@]}" run --keep-vms "$WORK/vm.jsonl" > "$WORK/vm.out" || fail "run --keep-vms"
"${CTL[@]}" list --json > "$WORK/list.json" || fail "list"
"$PY" - "$WORK/list.json" "$ADDR_node" <<'PY' || fail "list: $(cat "$WORK/list.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert [(v["node"], v["id"], v["state"]) for v in l] == [(sys.argv[2], "exec-vm", "running")], l
PY
"${CTL[@]}" list | grep -q "^$ADDR_node *exec-vm *linux *running *0$" || fail "list table"

set +e
"${CTL[@]}" exec exec-vm -- sh -c 'echo out; echo err >&2; exit 7' > "$WORK/o" 2> "$WORK/e"
code=$?
set -e
[ "$code" = 7 ] || fail "exec exit code $code"
[ "$(cat "$WORK/o")" = out ] && [ "$(cat "$WORK/e")" = err ] || fail "exec output"
[ "$(printf 'a\nb\n' | "${CTL[@]}" exec -i exec-vm -- cat)" = "$(printf 'a\nb')" ] || fail "exec -i"
# 3 MB through stdin and back out, unchanged.
head -c 3000000 /dev/urandom > "$WORK/in.bin"
"${CTL[@]}" exec -i exec-vm -- cat < "$WORK/in.bin" > "$WORK/out.bin" || fail "exec -i 3 MB"
cmp "$WORK/in.bin" "$WORK/out.bin" || fail "3 MB changed on the way"
"${CTL[@]}" exec no-such-vm -- true 2> "$WORK/e" && fail "exec in an unknown VM"
grep -q "node $ADDR_node: " "$WORK/e" || fail "$(cat "$WORK/e")"

# The slow reader: 100 MB, 2 ms between 64 KiB reads.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID_node/status"; }
base=$(rss)
PROBE_BOOT="$WORK/boot" timeout 100 "$PROBE" slow-reader "$ADDR_node" "$P/client.pem" \
  "$P/client.key" "$P/ca.pem" 104857600 2 > "$WORK/slow.json" 2> "$WORK/slow.err" &
probe=$!
peak=$base
while kill -0 $probe 2> /dev/null; do
  r=$(rss)
  [ "$r" -gt "$peak" ] && peak=$r
  sleep 0.05
done
wait $probe || { cat "$WORK/slow.json" "$WORK/slow.err" >&2; fail "slow reader"; }
grep -q '"bytes":104857600' "$WORK/slow.json" && grep -q '"in_order":true' "$WORK/slow.json" ||
  fail "slow reader: $(cat "$WORK/slow.json")"
growth=$(((peak - base) / 1024))
echo "node RSS: base $((base / 1024)) MiB, peak $((peak / 1024)) MiB (+$growth MiB) for 100 MB read slowly"
[ "$growth" -lt 64 ] || fail "the node grew by $growth MiB"

kill -TERM "$PID_node"
wait "$PID_node" || fail "uvmd exited $? on SIGTERM"
