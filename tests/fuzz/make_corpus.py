#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from
the inputs the tests use: the scenario lines of tests/e2e, the hcsshim
payloads and a QMP session with QEMU 7.2 in tests/vectors, and bridge and
stdio-mux frames built from them. Files not named by a hash are inputs
long runs found failing, kept as they are. Run it again when those inputs change:

    python3 tests/fuzz/make_corpus.py
"""
import glob
import hashlib
import json
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def scenario_lines():
    """Every JSON line of the e2e scenarios, with their shell variables filled in."""
    lines = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", "*.sh"))):
        for raw in open(path):
            raw = raw.strip()
            if raw.startswith('{"op"'):
                line = re.sub(r"\$\{?(\w+)\}?", "/tmp/w", raw)
                try:
                    json.loads(line)
                except ValueError:
                    continue
                lines.append(line)
    return lines


def vectors(pattern):
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "vectors", pattern))):
        with open(path, "rb") as f:
            yield f.read()


def bridge_frame(msg_type, msg_id, body):
    return struct.pack("<IIQ", msg_type, 16 + len(body), msg_id) + body


def mux_frame(kind, port, payload=b""):
    return struct.pack("<HBBII", 0x4D58, kind, 0, port, len(payload)) + payload


def main():
    # Seeds are named by their hash; a file with another name is an input a
    # long run found failing, kept so that every run tries it again.
    for path in glob.glob(os.path.join(OUT, "*", "*")):
        if re.fullmatch(r"[0-9a-f]{16}", os.path.basename(path)):
            os.remove(path)

    lines = scenario_lines()
    # One file per op, and whole scenarios (several lines each).
    seen = set()
    for line in lines:
        op = json.loads(line)["op"]
        if op not in seen:
            seen.add(op)
            write("scenario_line", line + "\n")
    for i in range(0, len(lines), 12):
        write("scenario_line", "\n".join(lines[i:i + 12]) + "\n")

    for body in vectors("*.json"):
        write("json_reader", body.strip())
    for line in lines[:20]:
        write("json_reader", line)
    for text in ["[]", "{}", "-0.5e-3", '"\\ud83d\\ude00"', "18446744073709551616", "[1,[2,[3]]]"]:
        write("json_reader", text)

    session = b"".join(vectors("qmp-session.jsonl"))
    for chunk in (1, 7, 64):
        write("qmp_reader", bytes([chunk - 1]) + session)
    for line in session.splitlines():
        write("qmp_reader", b"\x10" + line + b"\n")

    # A GCS bridge conversation: the vectors' bodies as the frames that carry them.
    request, response, notify = 0x10100000 | 0xB01, 0x20100000 | 0xB01, 0x30100000 | 0x101
    negotiate = next(vectors("negotiate-protocol-request.body.json")).strip()
    reply = next(vectors("negotiate-protocol-response.guest-body.json")).strip()
    exit_note = next(vectors("container-exit-notification.guest-body.json")).strip()
    modify = next(vectors("scsi-add-lcow.bridge-body.json")).strip()
    stream = (bridge_frame(request, 1, negotiate) + bridge_frame(response, 1, reply) +
              bridge_frame(0x10100000 | 0xA01, 2, modify) + bridge_frame(notify, 0, exit_note))
    hexframe = "".join(next(vectors("negotiate-protocol-request.frame.hex")).decode().split())
    for chunk in (1, 5, 64):
        write("frame_decoder", bytes([chunk - 1]) + stream)
    write("frame_decoder", b"\x00" + bytes.fromhex(hexframe))

    # Every stdio-mux frame type, as a session opens, talks and closes.
    port = 0x40000001
    mux = (mux_frame(1, port) + mux_frame(2, port) + mux_frame(3, port, b"hello\n") +
           mux_frame(5, port, struct.pack("<I", 6)) + mux_frame(4, port) +
           mux_frame(6, port + 1, b"dial port-1073741826.sock: connection refused"))
    for chunk in (1, 12, 64):
        write("stdio_mux_frame", bytes([chunk - 1]) + mux)
    write("stdio_mux_frame", b"\x3f" + mux_frame(3, port, b"x" * 65536))


if __name__ == "__main__":
    main()
