# Security by default: a uvmd node refuses, at the TLS handshake, a client
# without a certificate, one whose certificate another CA signed, and a
# plaintext client; a TLS client cannot talk to a plaintext node. The
# node logs each refusal with the peer's address and serves the next good
# client. Plaintext needs --insecure-plaintext and loopback.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
make_pki
P="$WORK/pki"
# shellcheck disable=SC2086
start_uvmd tls --listen 127.0.0.1:0 $NODE_TLS
start_uvmd plain --listen 127.0.0.1:0 --insecure-plaintext

good() { # the node still serves a good client
  # shellcheck disable=SC2086
  [ "$("$UVMCTL" --node "$ADDR_tls" $CLIENT_TLS list --json)" = "[]" ] || fail "good client after $1"
}
refused() { # refused WHY CMD...: CMD fails, names the node, and the node still serves
  local why=$1
  shift
  if "$@" > "$WORK/refused.out" 2>&1; then
    fail "$why: accepted"
  fi
  grep -q "node 127.0.0.1:" "$WORK/refused.out" || fail "$why: $(cat "$WORK/refused.out")"
  good "$why"
}

good "start"
# No client certificate: openssl's own client, trusting the node.
timeout 10 openssl s_client -connect "$ADDR_tls" -CAfile "$P/ca.pem" < /dev/null > /dev/null 2>&1 || true
good "no certificate"
refused "another CA" "$UVMCTL" --node "$ADDR_tls" --cert "$P/stranger.pem" --key "$P/stranger.key" \
  --ca "$P/ca.pem" list
refused "plaintext to TLS" "$UVMCTL" --node "$ADDR_tls" --insecure-plaintext list
# shellcheck disable=SC2086
refused "TLS to plaintext" "$UVMCTL" --node "$ADDR_plain" $CLIENT_TLS list
[ "$("$UVMCTL" --node "$ADDR_plain" --insecure-plaintext list --json)" = "[]" ] ||
  fail "plaintext client of the plaintext node"

log="$WORK/tls.log"
wait_log "$log" "TLS handshake refused.*peer=127.0.0.1:[0-9]*.*peer did not return a certificate" ||
  fail "no refusal logged for the client without a certificate"
wait_log "$log" "TLS handshake refused.*peer=127.0.0.1:[0-9]*.*certificate verify failed" ||
  fail "no refusal logged for the other CA"
wait_log "$log" "TLS handshake refused.*peer=127.0.0.1:[0-9]*.*wrong version number" ||
  fail "no refusal logged for the plaintext client"

# JSON log lines carry the same.
# shellcheck disable=SC2086
start_uvmd json --listen 127.0.0.1:0 --log-format json $NODE_TLS
"$UVMCTL" --node "$ADDR_json" --insecure-plaintext list > /dev/null 2>&1 && fail "plaintext accepted"
wait_log "$WORK/json.log" '"msg":"TLS handshake refused"' || fail "no JSON refusal line"
"$PY" - "$WORK/json.log" <<'PY' || fail "JSON refusal line"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [l for l in lines if l.get("msg") == "TLS handshake refused"]
assert r and r[0]["peer"].startswith("127.0.0.1:") and "wrong version number" in r[0]["reason"], lines
PY

# Plaintext only by name and only on loopback; TLS needs all three files.
"$UVMD" --listen 0.0.0.0:0 --insecure-plaintext 2> "$WORK/e1" && fail "plaintext on 0.0.0.0"
grep -q "listens on 127.0.0.1 only" "$WORK/e1" || fail "$(cat "$WORK/e1")"
"$UVMD" --listen 127.0.0.1:0 2> "$WORK/e2" && fail "no TLS files"
grep -q "mutual TLS needs --cert, --key and --ca" "$WORK/e2" || fail "$(cat "$WORK/e2")"
"$UVMD" --listen 127.0.0.1:0 --cert "$WORK/none.pem" --key "$P/node.key" --ca "$P/ca.pem" \
  2> "$WORK/e3" && fail "missing certificate file"
grep -q -- "--cert $WORK/none.pem: not a readable file" "$WORK/e3" || fail "$(cat "$WORK/e3")"
"$UVMCTL" --node "$ADDR_tls" list 2> "$WORK/e4" && fail "client without TLS options"
grep -q -- "--node needs --cert, --key and --ca" "$WORK/e4" || fail "$(cat "$WORK/e4")"

# The config file: the same options in TOML.
cat > "$WORK/uvmd.toml" <<TOML
listen = "127.0.0.1:0"
cert = "$P/node.pem"
key = "$P/node.key"
ca = "$P/ca.pem"
log-format = "json"
TOML
start_uvmd toml --config "$WORK/uvmd.toml"
# shellcheck disable=SC2086
[ "$("$UVMCTL" --node "$ADDR_toml" $CLIENT_TLS list --json)" = "[]" ] || fail "node from the config file"
"$UVMD" --help | grep -q -- "--insecure-plaintext" || fail "--help lists the options"

for n in tls plain json toml; do
  pid_var="PID_$n"
  kill -TERM "${!pid_var}"
  wait "${!pid_var}" || fail "uvmd $n exited $? on SIGTERM"
done
