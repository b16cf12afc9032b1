"""Queries Prometheus at the exact timestamps of records promscope printed and compares values.

argv: PROMETHEUS_URL then PROTO=FILE pairs. Samples of up to 40 series and up to 8 native
histograms per protocol: float values must be equal; histograms must have the same count,
sum and non-empty buckets (bounds computed from schema and spans).
"""
import json
import math
import sys
import urllib.parse
import urllib.request

import records as rec

base, instances = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]


def selector(labels):
    return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def query(labels, ts_ms):
    q = urllib.parse.urlencode({"query": selector(labels), "time": f"{ts_ms / 1000:.3f}"})
    with urllib.request.urlopen(f"{base}/api/v1/query?{q}", timeout=10) as r:
        body = json.load(r)
    result = body["data"]["result"]
    return result[0] if len(result) == 1 else None


def f(s):
    return math.nan if s == "StaleNaN" else float(s)


def buckets_of(h):
    """Non-empty buckets as {(lower, upper): count}, as Prometheus's API lists them."""
    out = {}
    zt, zc = f(h["zero_threshold"]), f(h["zero_count"])
    if zc > 0:
        out[(-zt, zt)] = zc
    if h.get("custom_values"):
        return None  # custom bounds (schema -53): not compared
    base_ = 2.0 ** (2.0 ** -h["schema"])
    for sign in (1, -1):
        prefix = "positive" if sign > 0 else "negative"
        counts = iter(map(f, h[f"{prefix}_buckets"]))
        idx = 0
        for span in h[f"{prefix}_spans"]:
            idx += span["offset"]
            for _ in range(span["length"]):
                c = next(counts)
                if c > 0:
                    lo, hi = base_ ** (idx - 1), base_ ** idx
                    out[(lo, hi) if sign > 0 else (-hi, -lo)] = c
                idx += 1
    return out


def close(a, b):
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def same_buckets(mine, theirs):
    if mine is None:
        return True
    if len(mine) != len(theirs):
        return False
    for (lo, hi), c in mine.items():
        if not any(close(lo, l2) and close(hi, h2) and c == c2 for (l2, h2), c2 in theirs.items()):
            return False
    return True


for proto, path in instances:
    name = proto.upper()
    samples, histograms = {}, {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                r = json.loads(line)
                r["labels"] = rec.labels_dict(r.get("labels", {}))
            except ValueError:
                continue
            if r["labels"].get("job") == "target":
                # tests/e2e/target.py's fixed values are checked by check_prometheus.py;
                # Prometheus stores its histogram only as custom buckets, which RW 1.0 gets
                # as classic series it cannot be queried for.
                continue
            key = json.dumps(r.get("labels"), sort_keys=True)
            if r["kind"] == "sample" and not math.isnan(f(r["value"])):
                samples.setdefault(key, r)
            elif r["kind"] == "histogram":
                histograms[key] = r  # the latest, with the most buckets
    picked = sorted(samples.values(), key=lambda r: json.dumps(r["labels"], sort_keys=True))
    picked = picked[:: max(1, len(picked) // 40)][:40]
    wrong = []
    for r in picked:
        got = query(r["labels"], r["timestamp_ms"])
        theirs = got and got.get("value")
        if not theirs or int(round(theirs[0] * 1000)) != r["timestamp_ms"] \
                or f(theirs[1]) != f(r["value"]):
            wrong.append(f"{selector(r['labels'])}@{r['timestamp_ms']}: promscope {r['value']},"
                         f" Prometheus {theirs}")
    print(("FAIL" if wrong or not picked else "PASS")
          + f": {name}: sample values equal Prometheus's at the same timestamps"
          f" ({len(picked) - len(wrong)}/{len(picked)} series)" + (f": {wrong[:3]}" if wrong else ""))
    if name != "RW2" and not histograms:
        continue
    picked = list(histograms.values())[:8]
    wrong = []
    for h in picked:
        got = query(h["labels"], h["timestamp_ms"])
        theirs = got and got.get("histogram")
        if not theirs:
            wrong.append(f"{selector(h['labels'])}@{h['timestamp_ms']}: Prometheus has no histogram")
            continue
        ts, t = theirs
        tb = {(float(lo), float(hi)): float(c) for _, lo, hi, c in t.get("buckets", [])}
        if int(round(ts * 1000)) != h["timestamp_ms"] or f(h["count"]) != float(t["count"]) \
                or f(h["sum"]) != float(t["sum"]) or not same_buckets(buckets_of(h), tb):
            wrong.append(f"{selector(h['labels'])}@{h['timestamp_ms']}: promscope count {h['count']}"
                         f" sum {h['sum']} buckets {buckets_of(h)}; Prometheus {theirs}")
    print(("FAIL" if wrong or not picked else "PASS")
          + f": {name}: histograms equal Prometheus's (count, sum, bucket bounds and counts;"
          f" {len(picked) - len(wrong)}/{len(picked)} series)" + (f": {wrong[:2]}" if wrong else ""))
