"""Checks what vmagent sent to promscope against what it scraped and its own counters.

    python3 check_vmagent.py wait|report NAME TARGET_JSON PROMSCOPE_JSONL \
        [VMAGENT_METRICS [SUMMARY]]

vmagent scrapes job `target` (tests/e2e/target.py, whose exposed page TARGET_JSON describes)
and job `self` (its own /metrics). `wait` exits 0 once three scrapes of each job arrived;
`report` prints PASS/FAIL lines: every target sample has the exposed value, every scrape
arrived whole (as many samples at its timestamp as vmagent's own `scrape_samples_scraped`
says it scraped; the stale markers it sends when it stops scraping are left out), metadata
arrived, and vmagent's `vmagent_remotewrite_*` counters show no error, retry, drop or non-2xx
answer.
With SUMMARY (promscope's exit summary) and VMAGENT_METRICS fetched once vmagent had sent
all it would (tests/e2e_vmagent.sh stops its scraping first), what vmagent counts as sent
must equal what promscope decoded: blocks and requests, compressed bytes, series (one
sample each, as vmagent sends scrapes) and metadata.
"""
import collections
import json
import re
import sys

import records as rec

mode, name, target_path, got_path = sys.argv[1:5]
metrics_path = sys.argv[5] if len(sys.argv) > 5 else None
summary_path = sys.argv[6] if len(sys.argv) > 6 else None

if mode == "wait":
    # Polled every second while the file grows: only the lines that can matter are parsed.
    scrapes = collections.defaultdict(set)  # job -> timestamps of scrape_samples_scraped
    with open(got_path, encoding="utf-8") as f:
        for line in f:
            if '"scrape_samples_scraped"' not in line:
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue  # the line being written
            if r.get("kind") == "sample" and r.get("value") != "StaleNaN":
                scrapes[r["labels"].get("job")].add(r["timestamp_ms"])
    sys.exit(0 if all(len(scrapes[j]) >= 3 for j in ("target", "self")) else 1)

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

for job in ("target", "self"):
    whole = [ts for ts, n in scraped[job].items() if arrived[(job, ts)] == n]
    broken = [f"@{ts}: scraped {n:g}, printed {arrived[(job, ts)]}"
              for ts, n in scraped[job].items() if arrived[(job, ts)] != n]
    results.expect(len(scraped[job]) >= 3 and not broken,
                   f"{name}: every scrape of job {job} arrives whole ({len(whole)} scrapes of"
                   f" {max(scraped[job].values(), default=0):g} samples"
                   + (f"; {stale} stale markers as it stopped scraping"
                      if job == "self" and stale else "")
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


def byte_size(n):
    """A byte count as promscope's summary writes it (src/format.rs: bytes)."""
    units, unit = ["B", "KiB", "MiB", "GiB", "TiB"], 0
    while abs(n) >= 1024 and unit < len(units) - 1:
        n, unit = n / 1024, unit + 1
    return f"{n:.0f} B" if unit == 0 else f"{n:.1f} {units[unit]}"


def check_sent(rows, path):
    """vmagent's counts of what it sent against promscope's summary and printed records."""
    def total(metric, **want):
        return sum(v for n, l, v in rows
                   if n == metric and all(l.get(k) == x for k, x in want.items()))

    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = {key: re.search(pattern, text, re.M) for key, pattern in {
        "requests": r"^ *requests +(\d+) accepted",
        "received": r"^ *received +(\d+) samples, \d+ histograms, \d+ exemplars, (\d+) metadata",
        "bytes": r"^ *bytes +(.+?) compressed,",
    }.items()}
    if not all(found.values()):
        results.expect(False, f"{name}: promscope's summary has requests, received and bytes"
                       " lines", [k for k, m in found.items() if not m])
        return
    accepted = int(found["requests"][1])
    samples, metadata = int(found["received"][1]), int(found["received"][2])
    blocks = total("vmagent_remotewrite_blocks_sent_total")
    ok_requests = total("vmagent_remotewrite_requests_total", status_code="2XX")
    results.expect(accepted == blocks == ok_requests,
                   f"{name}: promscope accepted as many requests as vmagent sent blocks"
                   f" ({accepted}; vmagent: {blocks:g} blocks, {ok_requests:g} answered 2xx)")
    sent_bytes = total("vmagent_remotewrite_bytes_sent_total")
    results.expect(found["bytes"][1] == byte_size(sent_bytes),
                   f"{name}: promscope counts the compressed bytes vmagent sent, to the"
                   f" summary's rounding ({found['bytes'][1]}; vmagent: {sent_bytes:g} bytes)")
    blocks_filled = total("vmagent_remotewrite_block_size_rows_count")
    for kind, decoded, rows_in_blocks, what in (
            ("sample", samples, "block_size_rows_sum", "series vmagent put in a block arrives"
             " with its one sample"),
            ("metadata", metadata, "block_metadata_rows_sum", "metadata entry vmagent put in a"
             " block arrives")):
        printed = len(kinds.get(kind, []))
        sent_rows = total(f"vmagent_remotewrite_{rows_in_blocks}")
        results.expect(decoded == printed == sent_rows,
                       f"{name}: every {what} ({decoded} decoded, {printed} printed; vmagent:"
                       f" {sent_rows:g} in {blocks_filled:g} blocks)")


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
    if summary_path:
        check_sent(rows, summary_path)

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
