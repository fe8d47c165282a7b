# Our guest agent `gcs --stdio` driven over its stdin/stdout the way a host
# drives hcsshim's Linux GCS (gcs-interop.md): negotiation rules, error
# HRESULTs, real processes with stdio relays over port-<P>.sock sockets,
# wait timeout, container init exit notification with the Create's
# ActivityId, and a protocol error on a bad size.
source "$(dirname "$0")/lib.bash"
GCS="$(dirname "$UVMCTL")/gcs"
[ -x "$GCS" ] || fail "no gcs binary next to $UVMCTL"
"$PY" - "$GCS" "$WORK" <<'PY' || fail "gcs protocol"
import json, os, socket, struct, subprocess, sys, threading, time

gcs, work = sys.argv[1], sys.argv[2]
NULL = "00000000-0000-0000-0000-000000000000"
p = subprocess.Popen([gcs, "--stdio", "--stdio-dir", work], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
responses, notes, lock = {}, [], threading.Condition()

def reader():
    while True:
        head = p.stdout.read(16)
        if len(head) < 16:
            return
        typ, size, mid = struct.unpack("<IIQ", head)
        body = json.loads(p.stdout.read(size - 16))
        with lock:
            if typ == 0x30100101:
                notes.append(body)
            else:
                responses[mid] = (typ, body)
            lock.notify_all()

threading.Thread(target=reader, daemon=True).start()
next_id = [0]

def send(typ, body, raw=None):
    mid = next_id[0]
    next_id[0] += 1
    data = raw if raw is not None else (json.dumps(body, separators=(",", ":")) + "\n").encode()
    p.stdin.write(struct.pack("<IIQ", typ, 16 + len(data), mid) + data)
    p.stdin.flush()
    return mid

def wait(mid, timeout=10):
    deadline = time.time() + timeout
    with lock:
        while mid not in responses:
            assert time.time() < deadline, "no response to %d" % mid
            lock.wait(0.1)
        return responses.pop(mid)

def call(typ, body, raw=None):
    return wait(send(typ, body, raw))

def base(cid=NULL, act=NULL):
    return {"ContainerId": cid, "ActivityId": act}

def u32(x):
    return x & 0xFFFFFFFF

# 1. Before negotiation only NegotiateProtocol is known.
typ, r = call(0x10100a01, dict(base(), Request={"ResourceType": "VPMemDevice"}))
assert typ == 0x20100a01 and u32(r["Result"]) == 0x80004001, r
assert r["ErrorMessage"].startswith("HRESULT 0x80004001: bridge: function not supported"), r
# A range without 4 is refused.
typ, r = call(0x10100b01, {"ContainerId": "", "ActivityId": NULL, "MinimumVersion": 1, "MaximumVersion": 3})
assert u32(r["Result"]) == 0xC037010C, r
# 2. Negotiation answers version 4 and the Linux capabilities.
typ, r = call(0x10100b01, {"ContainerId": "", "ActivityId": NULL, "MinimumVersion": 4, "MaximumVersion": 4})
assert typ == 0x20100b01 and r["Result"] == 0 and r["Version"] == 4, r
caps = r["Capabilities"]
assert caps["RuntimeOsType"] == "Linux" and caps["SupportedSchemaVersions"] == [{"Major": 2, "Minor": 1}]
assert all(caps["GuestDefinedCapabilities"].values()) and len(caps["GuestDefinedCapabilities"]) == 4
# ... exactly once.
typ, r = call(0x10100b01, {"ContainerId": "", "ActivityId": NULL, "MinimumVersion": 4, "MaximumVersion": 4})
assert u32(r["Result"]) == 0x80004001, r
# Invalid JSON: 0xC037010D and no ActivityId.
typ, r = call(0x10100a01, None, raw=b"{not json")
assert u32(r["Result"]) == 0xC037010D and "ActivityId" not in r, r
assert r["ErrorRecords"][0]["ModuleName"] == "gcs" and r["ErrorRecords"][0]["Line"] == 4294967295, r
# Unknown type: answered with its response type, E_NOTIMPL.
typ, r = call(0x10100e01, base())
assert typ == 0x20100e01 and u32(r["Result"]) == 0x80004001, r
# ModifySettings: the guest's mount table; bad ResourceType / RequestType.
act = "11111111-2222-3333-4444-555555555555"
typ, r = call(0x10100a01, dict(base(act=act), Request={"RequestType": "Add", "ResourceType": "VPMemDevice", "Settings": {"MountPath": "/run/layers/p0"}}))
assert r["Result"] == 0 and r["ActivityId"] == act, r
typ, r = call(0x10100a01, dict(base(), Request={"RequestType": "Add", "ResourceType": "Bogus", "Settings": {}}))
assert u32(r["Result"]) == 0x80004005 and "invalid ResourceType 'Bogus'" in r["ErrorMessage"], r
typ, r = call(0x10100a01, dict(base(), Request={"RequestType": "Jump", "ResourceType": "VPMemDevice", "Settings": {"MountPath": "/x"}}))
assert 'the RequestType "Jump" is not supported' in r["ErrorMessage"], r
# GetProperties against the UVM itself.
typ, r = call(0x10100901, dict(base(), Query='{"PropertyTypes":["ProcessList"]}'))
assert u32(r["Result"]) == 0x80004005 and r["ErrorMessage"] == "getPropertiesV2 is not supported against the UVM", r

# 3. A real process in the UVM with stdout and stderr relays: the host
# listens on the ports before ExecuteProcess, reads to EOF, then closes.
def listen(port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(work, "port-%d.sock" % port))
    s.listen(1)
    return s
def drain(listener, out):
    c, _ = listener.accept()
    data = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.close()  # the clean close handshake: the guest waits for this
    out.append(data)
lo, le = listen(0x40000002), listen(0x40000003)
outs, errs = [], []
t1 = threading.Thread(target=drain, args=(lo, outs)); t1.start()
t2 = threading.Thread(target=drain, args=(le, errs)); t2.start()
params = {"CommandArgs": ["sh", "-c", "echo out; echo err >&2; exit 7"], "CreateStdOutPipe": True, "CreateStdErrPipe": True, "CreateInUtilityVM": True}
typ, r = call(0x10100501, dict(base(), Settings={"ProcessParameters": json.dumps(params), "VsockStdioRelaySettings": {"StdOut": 0x40000002, "StdErr": 0x40000003}}))
assert r["Result"] == 0 and r["ProcessId"] > 0, r
pid = r["ProcessId"]
typ, r = call(0x10100601, dict(base(), ProcessId=pid, TimeoutInMs=4294967295))
assert typ == 0x20100601 and r["Result"] == 0 and r["ExitCode"] == 7, r
t1.join(5); t2.join(5)
assert outs == [b"out\n"] and errs == [b"err\n"], (outs, errs)

# stdin piped to cat comes back; CommandLine split in words.
li, lo = listen(0x40000004), listen(0x40000005)
outs = []
t = threading.Thread(target=drain, args=(lo, outs)); t.start()
params = {"CommandLine": "cat -", "CreateStdInPipe": True, "CreateStdOutPipe": True}
mid = send(0x10100501, dict(base(), Settings={"ProcessParameters": json.dumps(params), "VsockStdioRelaySettings": {"StdIn": 0x40000004, "StdOut": 0x40000005}}))
cin, _ = li.accept()
typ, r = wait(mid)
assert r["Result"] == 0, r
cin.sendall(b"hello through stdin\n")
cin.shutdown(socket.SHUT_WR)
typ, r = call(0x10100601, dict(base(), ProcessId=r["ProcessId"], TimeoutInMs=4294967295))
assert r["ExitCode"] == 0, r
t.join(5)
cin.close()
assert outs == [b"hello through stdin\n"], outs

# Wait timeout, unknown pid, exec failure.
params = {"CommandArgs": ["sleep", "5"], "CreateInUtilityVM": True}
typ, r = call(0x10100501, dict(base(), Settings={"ProcessParameters": json.dumps(params), "VsockStdioRelaySettings": {}}))
sleeper = r["ProcessId"]
typ, r = call(0x10100601, dict(base(), ProcessId=sleeper, TimeoutInMs=50))
assert u32(r["Result"]) == 0xC0370109, r
typ, r = call(0x10100601, dict(base(), ProcessId=999999, TimeoutInMs=50))
assert u32(r["Result"]) == 0x80070490, r
# UVM processes cannot be signalled over the bridge.
typ, r = call(0x10100701, dict(base(), ProcessId=sleeper))
assert u32(r["Result"]) == 0xC037010E, r
typ, r = call(0x10100501, dict(base(), Settings={"ProcessParameters": json.dumps({"CommandArgs": ["/nonexistent/x"]}), "VsockStdioRelaySettings": {}}))
assert u32(r["Result"]) == 0x80004005 and "exec /nonexistent/x" in r["ErrorMessage"], r

# 4. A container: schema check, init started by the first ExecuteProcess,
# ShutdownForced, one ForcedExit notification with the Create's ActivityId.
create_act = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
cfg = {"SchemaVersion": {"Major": 2, "Minor": 0}, "OciBundlePath": "/run/gcs/c/c1", "OciSpecification": {"process": {"args": ["sleep", "30"]}}}
typ, r = call(0x10100101, dict(base("c1", create_act), ContainerConfig=json.dumps(cfg)))
assert u32(r["Result"]) == 0xC037010D and r["ErrorMessage"] == "invalid schema version: {2 0}", r
cfg["SchemaVersion"]["Minor"] = 1
typ, r = call(0x10100101, dict(base("c1", create_act), ContainerConfig=json.dumps(cfg)))
assert r["Result"] == 0 and r.get("SelectedProtocolVersion", 0) == 0, r
typ, r = call(0x10100201, base("c1"))
assert r["Result"] == 0, r
typ, r = call(0x10100501, dict(base("c1"), Settings={"ProcessParameters": "{}", "VsockStdioRelaySettings": {}}))
assert r["Result"] == 0, r
init = r["ProcessId"]
typ, r = call(0x10100901, dict(base("c1"), Query='{"PropertyTypes":["ProcessList"]}'))
assert json.loads(r["Properties"]) == {"ProcessList": [{"ProcessId": init}]}, r
wait_id = send(0x10100601, dict(base("c1"), ProcessId=init, TimeoutInMs=4294967295))
typ, r = call(0x10100401, base("c1"))
assert r["Result"] == 0, r
typ, r = wait(wait_id)
assert r["ExitCode"] == 137, r
deadline = time.time() + 5
with lock:
    while not notes and time.time() < deadline:
        lock.wait(0.1)
time.sleep(0.2)
with lock:
    assert notes == [{"ContainerId": "c1", "ActivityId": create_act, "Type": "ForcedExit", "Operation": "None", "Result": 0}], notes
typ, r = call(0x10100d01, base("c1"))
assert r["Result"] == 0, r
typ, r = call(0x10100d01, base("c1"))
assert u32(r["Result"]) == 0xC037010E, r
typ, r = call(0x10100c01, base())
assert r["Result"] == 0 and "thread" in r["GuestStacks"], r

# 5. A size below 16 is a protocol error: the agent says so and ends.
p.stdin.write(struct.pack("<IIQ", 0x10100a01, 3, 99))
p.stdin.flush()
rc = p.wait(5)
err = p.stderr.read().decode()
assert rc != 0 and "bridge read failed: invalid message size 3" in err, (rc, err)
print("gcs protocol: ok")
PY
