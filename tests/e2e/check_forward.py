"""Checks of forward mode end to end (tests/e2e_forward.sh), each printing PASS/FAIL lines.

    check_forward.py compare SENDER_URL BACKEND_URL NAME JOB FROM_MS TO_MS
        every float and native-histogram sample of JOB that the sender's TSDB has in
        (FROM_MS, TO_MS] is in the backend's TSDB, with the same value (polls up to 30 s)
    check_forward.py written PROMSCOPE_URL
        an RW 2.0 request through promscope gets the backend's Written headers
    check_forward.py rejections PROMSCOPE_URL JSONL PROTO
        out-of-order, duplicate and too-old samples get the backend's 400 and message at
        the sender, and promscope's JSON has a request record of each with that message
    check_forward.py failed JSONL
        promscope's JSON has a request record that got no answer (502) from the backend

Requests are built here: protobuf by hand, snappy as one literal block (valid snappy that
any decoder reads), so no library is needed.
"""
import json
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import records as rec

R = rec.Results()


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def double(number, v):
    return field(number, 1, struct.pack("<d", v))


def int64(number, v):
    return field(number, 0, varint(v & 0xFFFFFFFFFFFFFFFF))


def snappy_literal(raw):
    """A snappy block holding `raw` as literals (no compression)."""
    out = bytearray(varint(len(raw)))
    for start in range(0, len(raw), 1 << 16):
        chunk = raw[start:start + (1 << 16)]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + n.to_bytes(2, "little")
        out += chunk
    return bytes(out)


def rw1_body(labels, samples):
    """prometheus.WriteRequest with one series of (timestamp_ms, value) samples."""
    series = b"".join(field(1, 2, field(1, 2, k.encode()) + field(2, 2, v.encode()))
                      for k, v in sorted(labels.items()))
    series += b"".join(field(2, 2, double(1, v) + int64(2, ts)) for ts, v in samples)
    return snappy_literal(field(1, 2, series))


def rw2_body(labels, samples):
    """io.prometheus.write.v2.Request with one series."""
    symbols = [""]
    refs = []
    for k, v in sorted(labels.items()):
        for s in (k, v):
            if s not in symbols:
                symbols.append(s)
            refs.append(symbols.index(s))
    series = field(1, 2, b"".join(varint(r) for r in refs))
    series += b"".join(field(2, 2, double(1, v) + int64(2, ts)) for ts, v in samples)
    body = b"".join(field(4, 2, s.encode()) for s in symbols) + field(5, 2, series)
    return snappy_literal(body)


HEADERS = {
    "rw1": {"Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0"},
    "rw2": {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            "X-Prometheus-Remote-Write-Version": "2.0.0"},
}


def post(url, proto, body):
    headers = dict(HEADERS[proto], **{"Content-Encoding": "snappy",
                                      "User-Agent": "promscope-e2e-forward-probe"})
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def body_of(proto, labels, samples):
    return (rw1_body if proto == "rw1" else rw2_body)(labels, samples)


# --- compare ----------------------------------------------------------------------------

def raw_samples(base, job, from_ms, to_ms):
    """{labels: {ts_ms: value}} of every series of `job` in (from_ms, to_ms]."""
    span = max(1, (to_ms - from_ms + 999) // 1000)
    q = urllib.parse.urlencode({"query": f'{{job="{job}"}}[{span}s]', "time": f"{to_ms / 1000:.3f}"})
    with urllib.request.urlopen(f"{base}/api/v1/query?{q}", timeout=30) as r:
        result = json.load(r)["data"]["result"]
    out = {}
    for series in result:
        key = tuple(sorted(series["metric"].items()))
        points = {}
        for ts, v in series.get("values", []):
            points[round(float(ts) * 1000)] = v
        for ts, h in series.get("histograms", []):
            points[round(float(ts) * 1000)] = json.dumps(h, sort_keys=True)
        points = {t: v for t, v in points.items() if from_ms < t <= to_ms}
        if points:
            out[key] = points
    return out


def compare(sender, backend, name, job, from_ms, to_ms):
    from_ms, to_ms = int(from_ms), int(to_ms)
    want = raw_samples(sender, job, from_ms, to_ms)
    deadline = time.time() + 30
    while True:
        got = raw_samples(backend, job, from_ms, to_ms)
        missing = [(k, t) for k, pts in want.items() for t, v in pts.items()
                   if got.get(k, {}).get(t) != v]
        if not missing or time.time() > deadline:
            break
        time.sleep(2)
    floats = sum(1 for pts in want.values() for v in pts.values() if not v.startswith("{"))
    histograms = sum(len(pts) for pts in want.values()) - floats
    R.expect(len(want) > 50 and floats > 500 and histograms > 10,
             f"{name}: the sender's TSDB has data to compare ({len(want)} series, {floats} float"
             f" samples, {histograms} native histograms in {(to_ms - from_ms) / 1000:.0f} s)")
    example = [f"{dict(k)}@{t}: sender {want[k][t]!r}, backend {got.get(k, {}).get(t)!r}"
               for k, t in missing[:3]]
    R.expect(not missing, f"{name}: the backend's TSDB has every series and value the"
             f" sender's has ({len(missing)} missing or different)", example)
    extra = [dict(k) for k in got if k not in want]
    R.expect(not extra, f"{name}: the backend has no series the sender lacks", extra[:3])


# --- written -------------------------------------------------------------------------------

def written(url):
    now = int(time.time() * 1000)
    labels = {"__name__": "promscope_e2e_written", "job": "probe"}
    status, headers, body = post(url, "rw2", rw2_body(labels, [(now - 1000, 1.0), (now, 2.0)]))
    headers = {k.lower(): v for k, v in headers.items()}
    counts = [headers.get(f"x-prometheus-remote-write-{k}-written") for k in
              ("samples", "histograms", "exemplars")]
    R.expect(status == 204 and counts == ["2", "0", "0"],
             f"RW2: the backend's Written headers reach the sender (status {status},"
             f" samples/histograms/exemplars written {counts})", body)


# --- rejections -----------------------------------------------------------------------------

def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.startswith('{"kind":"request"')]


def rejections(url, path, proto):
    now = int(time.time() * 1000)
    cases = [
        # name, first samples (taken), then samples the backend refuses, what it says
        ("out_of_order", [(now, 1.0)], [(now - 10_000, 2.0)], "out of order sample"),
        ("duplicate", [(now, 1.0)], [(now, 2.0)], "duplicate sample for timestamp"),
        ("too_old", [], [(now - 3 * 3600 * 1000, 1.0)], "out of bounds"),
    ]
    sent = []
    for case, first, refused, said in cases:
        labels = {"__name__": "promscope_e2e_rejected", "case": case, "proto": proto}
        if first:
            status, _, body = post(url, proto, body_of(proto, labels, first))
            R.expect(status == 204, f"{proto.upper()} {case}: the first sample is taken ({status})",
                     body)
        status, _, body = post(url, proto, body_of(proto, labels, refused))
        R.expect(status == 400 and said in body,
                 f"{proto.upper()} {case}: the sender gets the backend's 400 and message"
                 f" ({status} {body.strip()[:200]!r})")
        sent.append((case, said, body.strip()))
    time.sleep(1)
    got = [r for r in records(path) if r.get("user_agent") == "promscope-e2e-forward-probe"]
    for case, said, body in sent:
        match = [r for r in got if r["status"] == 400 and r["backend"].get("message") == body]
        R.expect(match and match[0]["backend"]["answered"] and match[0]["backend"]["status"] == 400,
                 f"{proto.upper()} {case}: a JSON request record has the backend's 400 and its"
                 f" message {said!r}", [r["backend"] for r in got][:4])
    if proto == "rw2":
        named = [r for r in got if 'case="out_of_order"' in r["backend"].get("message", "")]
        R.expect(named, "RW2: the backend's message names the refused series (what the"
                 " dashboard flags as rejected upstream)")


# --- failed ---------------------------------------------------------------------------------

def failed(path):
    got = [r for r in records(path) if not r["backend"]["answered"]]
    R.expect(got and all(r["status"] in (502, 504) for r in got),
             f"with the backend stopped, requests get 502 with a message naming it"
             f" ({len(got)} records)", got[:1])


def main():
    command, args = sys.argv[1], sys.argv[2:]
    {"compare": compare, "written": written, "rejections": rejections, "failed": failed}[command](*args)
    R.print()
    sys.exit(0)


if __name__ == "__main__":
    main()
