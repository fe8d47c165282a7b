#!/usr/bin/env bash
# `systemd-analyze verify` accepts dist/systemd/uvmd.service without a
# single warning. systemd need not be PID 1 for verify; where it cannot
# run at all the test is skipped and says why. /usr/bin/uvmd is not
# installed here, so the verified copy runs the built uvmd (verify checks
# that ExecStart is executable); everything else is the shipped unit.
#   systemd_unit.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$1
BUILD=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v systemd-analyze > /dev/null || { echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"; exit 77; }
UNIT=$SRC/dist/systemd/uvmd.service
grep -qx 'ExecStart=/usr/bin/uvmd --config /etc/uvmd/uvmd.toml' "$UNIT" || fail "ExecStart is not the packaged uvmd with the packaged config"
grep -qx 'Type=notify' "$UNIT" || fail "not Type=notify"

verify() {
  systemd-analyze verify --man=no "$1" > "$WORK/verify.out" 2>&1
}
# Can verify work here at all? A unit without fault must pass silently.
printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n' > "$WORK/probe.service"
if ! verify "$WORK/probe.service" || [ -s "$WORK/verify.out" ]; then
  echo "SKIP: systemd-analyze verify cannot run here: $(cat "$WORK/verify.out")"
  exit 77
fi
# And it reads what it verifies: a misspelt key is reported.
sed 's/^WatchdogSec=/WatchdogSecs=/' "$UNIT" | sed "s|/usr/bin/uvmd|$BUILD/uvmd|" > "$WORK/bad.service"
verify "$WORK/bad.service" || true
grep -q "Unknown key 'WatchdogSecs'" "$WORK/verify.out" || fail "verify did not notice a misspelt key: $(cat "$WORK/verify.out")"

sed "s|/usr/bin/uvmd|$BUILD/uvmd|" "$UNIT" > "$WORK/uvmd.service"
verify "$WORK/uvmd.service" || fail "systemd-analyze verify exited $?: $(cat "$WORK/verify.out")"
[ ! -s "$WORK/verify.out" ] || fail "systemd-analyze verify warns: $(cat "$WORK/verify.out")"
echo "systemd-analyze verify: uvmd.service accepted ($(systemd-analyze --version | head -n 1))"
