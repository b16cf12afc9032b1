"""Checks what vmagent sent to promscope against what it scraped and its own counters.

    python3 check_vmagent.py wait|report NAME TARGET_JSON PROMSCOPE_JSONL [VMAGENT_METRICS]

vmagent scrapes job `target` (tests/e2e/target.py, whose exposed page TARGET_JSON describes)
and job `self` (its own /metrics). `wait` exits 0 once three scrapes of each job arrived;
`report` prints PASS/FAIL lines: every target sample has the exposed value, every scrape
arrived whole (as many samples at its timestamp as vmagent's own `scrape_samples_scraped`
says it scraped; stale markers vmagent sends when it stops are left out), metadata arrived,
and vmagent's `vmagent_remotewrite_*` counters show no error, retry, drop or non-2xx answer.
"""
import collections
import json
import re
import sys

import records as rec

mode, name, target_path, got_path = sys.argv[1:5]
metrics_path = sys.argv[5] if len(sys.argv) > 5 else None
results = rec.Results()
with open(target_path, encoding="utf-8") as f:
    target = json.load(f)
exposed = rec.target_samples(target["families"])

got, bad = rec.load(got_path)
kinds = rec.by_kind(got)
samples = [(rec.labels_dict(s["labels"]), s["timestamp_ms"], rec.value(s["value"]), s["value"])
           for s in kinds.get("sample", [])]


def generated(metric):
    """Series vmagent adds to each scrape itself."""
    return metric == "up" or metric.startswith("scrape_")


scraped = collections.defaultdict(dict)  # job -> {timestamp: samples vmagent scraped}
arrived = collections.Counter()  # (job, timestamp) -> scraped samples printed
stale = 0
for labels, ts, v, text in samples:
    job, metric = labels.get("job"), labels.get("__name__", "")
    if text == "StaleNaN":
        stale += 1  # vmagent marks its series stale when it stops
    elif metric == "scrape_samples_scraped":
        scraped[job][ts] = v
    elif not generated(metric):
        arrived[(job, ts)] += 1

if mode == "wait":
    sys.exit(0 if all(len(scraped[j]) >= 3 for j in ("target", "self")) else 1)

for job in ("target", "self"):
    whole = [ts for ts, n in scraped[job].items() if arrived[(job, ts)] == n]
    broken = [f"@{ts}: scraped {n:g}, printed {arrived[(job, ts)]}"
              for ts, n in scraped[job].items() if arrived[(job, ts)] != n]
    results.expect(len(scraped[job]) >= 3 and not broken,
                   f"{name}: every scrape of job {job} arrives whole ({len(whole)} scrapes of"
                   f" {max(scraped[job].values(), default=0):g} samples"
                   + (f"; {stale} stale markers at shutdown" if job == "self" and stale else "")
                   + ")", broken[:3])

wrong, seen = [], set()
for labels, ts, v, text in samples:
    if labels.get("job") != "target" or generated(labels.get("__name__", "")) or text == "StaleNaN":
        continue
    metric = labels.pop("__name__")
    key = (metric, tuple(sorted((k, x) for k, x in labels.items() if k not in ("job", "instance"))))
    seen.add(key)
    if exposed.get(key) != v:
        wrong.append(f"{metric}{rec.selector(key[1])} @{ts} = {v!r}, exposed {exposed.get(key)!r}")
results.expect(seen == set(exposed) and not wrong,
               f"{name}: each of the target's {len(exposed)} series arrives with the value it"
               f" exposes ({len(seen)} series)",
               wrong[:3] or f"missing {sorted(set(exposed) - seen)[:3]}")

metadata = {m["metric"]: (m["type"], m["help"]) for m in kinds.get("metadata", [])}
want = {f["name"] + ("_total" if f["type"] == "counter" else ""): (f["type"], f["help"])
        for f in target["families"]}
results.expect(all(metadata.get(k) == v for k, v in want.items()),
               f"{name}: metadata of the target's metrics arrives ({len(metadata)} metrics)",
               {k: metadata.get(k) for k in want})

if metrics_path:
    with open(metrics_path, encoding="utf-8") as f:
        rows = [r for r in rec.exposition(f.read()) if r[0].startswith("vmagent_remotewrite_")]
    bad_counters = sorted(
        f"{n}{sorted(l.items())} = {v:g}" for n, l, v in rows if v != 0 and (
            re.search(r"(error|retries|retry|dropped|failure|rejected)", n)
            or (n == "vmagent_remotewrite_requests_total" and l.get("status_code") != "2XX")))
    checked = sorted({n for n, _, _ in rows if re.search(r"(error|retr|dropped|failure)", n)})
    results.expect(checked and not bad_counters,
                   f"{name}: vmagent counts no errors, retries, drops or non-2xx answers"
                   f" ({', '.join(c.removeprefix('vmagent_remotewrite_') for c in checked)})",
                   bad_counters[:4])
    sent = sum(v for n, l, v in rows if n == "vmagent_remotewrite_blocks_sent_total")
    results.expect(sent > 0, f"{name}: vmagent counts blocks sent ({sent:g})")

results.expect(not bad, f"{name}: every output line is JSON", bad[:3])
rejected = kinds.get("rejected", [])
results.expect(not rejected, f"{name}: no rejected requests",
               [(r.get("status"), r.get("message")) for r in rejected[:3]])
warnings = sorted({w.get("message") for w in kinds.get("warning", [])})
results.expect(not warnings, f"{name}: no warnings", warnings[:3])
# vmagent sends the target's labels first, then job and instance: not sorted by name.
serious = sorted({(p.get("rule"), p.get("message")) for p in kinds.get("problem", [])
                  if p.get("severity") in ("error", "warning") and p.get("rule") != "labels-unsorted"})
results.expect(not serious, f"{name}: no problems at error or warning but labels-unsorted",
               serious[:3])
results.print()
