# Helpers for the remote-node scripts (sourced after lib.bash): a test PKI
# made here with the openssl CLI, and uvmd processes on free loopback ports.
UVMD="$(dirname "$UVMCTL")/uvmd"
[ -x "$UVMD" ] || fail "no uvmd next to $UVMCTL"
command -v openssl > /dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
UVMD_PIDS=()
cleanup_uvmd() {
  local pid
  for pid in "${UVMD_PIDS[@]}"; do
    kill -9 "$pid" 2> /dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup_uvmd EXIT

# make_pki: $WORK/pki/{ca,other-ca}.pem, node, client (signed by ca) and
# stranger (signed by other-ca), each NAME.pem + NAME.key.
make_pki() {
  local d="$WORK/pki"
  mkdir -p "$d"
  local name
  for name in ca other-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=$name" -keyout "$d/$name.key" -out "$d/$name.pem" 2> /dev/null || fail "openssl CA"
  done
  for pair in node:ca client:ca stranger:other-ca; do
    name=${pair%%:*}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
      -keyout "$d/$name.key" -out "$d/$name.csr" 2> /dev/null || fail "openssl csr"
    openssl x509 -req -in "$d/$name.csr" -CA "$d/${pair##*:}.pem" -CAkey "$d/${pair##*:}.key" \
      -CAcreateserial -days 2 -out "$d/$name.pem" 2> /dev/null || fail "openssl sign"
  done
  NODE_TLS="--cert $d/node.pem --key $d/node.key --ca $d/ca.pem"
  CLIENT_TLS="--cert $d/client.pem --key $d/client.key --ca $d/ca.pem"
}

# start_uvmd NAME [uvmd args...]: starts uvmd (port 0 unless --listen says
# otherwise), waits for its "listening HOST:PORT" line; sets
# ADDR_<NAME>, PID_<NAME>; its log is $WORK/NAME.log.
start_uvmd() {
  local name=$1
  shift
  "$UVMD" "$@" > "$WORK/$name.out" 2> "$WORK/$name.log" &
  local pid=$!
  UVMD_PIDS+=("$pid")
  local i
  for i in $(seq 1 100); do
    if grep -q '^listening ' "$WORK/$name.out" 2> /dev/null; then
      printf -v "ADDR_$name" '%s' "$(sed -n 's/^listening //p' "$WORK/$name.out")"
      printf -v "PID_$name" '%s' "$pid"
      return 0
    fi
    kill -0 "$pid" 2> /dev/null || { cat "$WORK/$name.log" >&2; fail "uvmd $name exited"; }
    sleep 0.05
  done
  fail "uvmd $name did not listen within 5 s"
}

# wait_log FILE PATTERN: until a line of FILE matches (uvmd logs a refusal
# on its own thread, maybe after the client saw it), at most 5 s.
wait_log() {
  local i
  for i in $(seq 1 100); do
    grep -q "$2" "$1" 2> /dev/null && return 0
    sleep 0.05
  done
  cat "$1" >&2
  return 1
}
