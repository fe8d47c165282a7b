#!/usr/bin/env bash
# uvmd's sd_notify(3) protocol, with NOTIFY_SOCKET on a datagram socket of
# this test as systemd would set it: STATUS while it starts, READY=1 once
# it printed its listening line, STOPPING=1 on SIGTERM (exit 0); WATCHDOG=1
# pings at about half of WATCHDOG_USEC when that is set, none without it.
source "$(dirname "$0")/lib.bash"
UVMD="$(dirname "$UVMCTL")/uvmd"
[ -x "$UVMD" ] || fail "no uvmd next to $UVMCTL"
"$PY" - "$UVMD" "$WORK" << 'PYEOF'
import os, signal, socket, subprocess, sys, time

uvmd, work = sys.argv[1], sys.argv[2]

def fail(why):
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)

def run(watchdog_usec):
    path = os.path.join(work, "notify-%s.sock" % watchdog_usec)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    out_path = os.path.join(work, "uvmd-%s.out" % watchdog_usec)
    with open(out_path, "w") as out, open(out_path + ".log", "w") as log:
        proc = subprocess.Popen([uvmd, "--listen", "127.0.0.1:0", "--insecure-plaintext"],
                                stdout=out, stderr=log, env=env)
    try:
        messages = []  # (seconds since start, message, the listening line printed then)
        start = time.monotonic()
        sock.settimeout(0.1)
        stopped_at = None
        while time.monotonic() - start < 10:
            try:
                data = sock.recv(4096).decode()
            except socket.timeout:
                data = None
            if data is not None:
                printed = "listening " in open(out_path).read()
                messages.append((time.monotonic() - start, data, printed))
                if data.startswith("STOPPING=1"):
                    break
            ready_at = next((t for t, m, _ in messages if m.startswith("READY=1")), None)
            # A second of serving (and pings), then SIGTERM.
            if ready_at is not None and stopped_at is None and time.monotonic() - start > ready_at + 1:
                proc.send_signal(signal.SIGTERM)
                stopped_at = time.monotonic() - start
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    if code != 0:
        fail("uvmd exited %d" % code)
    return messages, stopped_at

messages, stopped_at = run(0)
kinds = [m.split("\n")[0].split("=")[0] for _, m, _ in messages]
if not messages or not messages[0][1].startswith("STATUS=starting"):
    fail("first message: %r" % (messages[:1],))
ready = [x for x in messages if x[1].startswith("READY=1")]
if len(ready) != 1 or not ready[0][2]:
    fail("READY=1 once, after the listening line: %r" % messages)
if "STATUS=serving on 127.0.0.1:" not in ready[0][1]:
    fail("READY=1 without the address: %r" % ready[0][1])
if "WATCHDOG" in kinds:
    fail("watchdog pings without WATCHDOG_USEC: %r" % messages)
last = messages[-1]
if not last[1].startswith("STOPPING=1") or last[0] < stopped_at or "STATUS=stopping: Terminated" not in last[1]:
    fail("no STOPPING=1 after SIGTERM: %r" % messages)

# 200 ms watchdog: pings every ~100 ms, each with the VM count from the engine.
messages, stopped_at = run(200000)
pings = [t for t, m, _ in messages if m.startswith("WATCHDOG=1")]
if len(pings) < 4:
    fail("%d watchdog pings in 1 s with WATCHDOG_USEC=200000: %r" % (len(pings), messages))
gaps = sorted(b - a for a, b in zip(pings, pings[1:]))
# The median (a loaded machine may delay one ping, not the rhythm).
if not 0.08 <= gaps[len(gaps) // 2] <= 0.15:
    fail("watchdog gaps %r: not at half of 200 ms" % gaps)
if not all("0 VMs" in m for _, m, _ in messages if m.startswith("WATCHDOG=1")):
    fail("pings without the engine's VM count: %r" % messages)
if not messages[-1][1].startswith("STOPPING=1"):
    fail("no STOPPING=1 with the watchdog on")
print("sd_notify: STATUS, READY=1 after listening, %d watchdog pings (gaps %.0f-%.0f ms), STOPPING=1"
      % (len(pings), min(gaps) * 1000, max(gaps) * 1000))
PYEOF
